/* The simulation engine: drive (separable and materialized), time line across chunks, threads,
 * amplitudes, pulses, monitors, cancel. A "probe" kind that copies its inputs into its state
 * checks exactly what a kind receives at every step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "field.h"
#include "model.h"
#include "monitor.h"
#include "sim.h"

/* ---- probe kind: state 0 = ve received at the node, state 1 = intra received ------------------ */

typedef struct probe_ws {
    int W, nc;
    axm_prec prec;
} probe_ws;

static const char *const probe_states[] = {"ve", "v"};

static int probe_n_comp(const axm_model *m, int W) { return m->geometry == 2 ? 2 * W - 1 : W; }

static int probe_positions(const axm_model *m, double D, int W, double *y, axm_err *err)
{
    (void)D;
    (void)err;
    int nc = probe_n_comp(m, W);
    for (int i = 0; i < nc; i++) y[i] = (i - (nc - 1) / 2.0) * 100.0;
    return AXM_OK;
}

static void *probe_ws_create(const axm_model *m, int B, int W, const double *D, axm_prec prec, axm_err *err)
{
    (void)B;
    (void)D;
    (void)err;
    probe_ws *ws = malloc(sizeof *ws);
    ws->W = W;
    ws->nc = probe_n_comp(m, W);
    ws->prec = prec;
    return ws;
}

static void probe_ws_destroy(void *ws) { free(ws); }
static size_t probe_scratch(const axm_model *m, int W)
{
    (void)m;
    (void)W;
    return 0;
}

static void probe_init(void *p, int b0, int b1, void *state)
{
    probe_ws *ws = p;
    for (long i = (long)b0 * 2 * ws->W; i < (long)b1 * 2 * ws->W; i++) ((double *)state)[i] = -1.0;
}

static void probe_step(void *p, int b0, int b1, void *state, const void *ve, const void *intra, double dt,
                       void *scratch)
{
    (void)dt;
    (void)scratch;
    probe_ws *ws = p;
    for (int b = b0; b < b1; b++)
        for (int j = 0; j < ws->W; j++) {
            double *st = (double *)state + (size_t)b * 2 * ws->W;
            st[j] = ((const double *)ve)[(size_t)(b - b0) * ws->nc + j];
            st[ws->W + j] = intra ? ((const double *)intra)[(size_t)(b - b0) * ws->W + j] : 0.0;
        }
}

#define PROBE_KIND(NAME, TIMING)                                                                                \
    static const axm_model_kind NAME = {                                                                     \
        .name = #NAME, .summary = "test probe", .n_states = 2, .state_names = probe_states, .n_params = 0,    \
        .params = NULL, .has_stencil = 0, .ve_timing = TIMING, .min_nodes = 1, .n_comp = probe_n_comp,        \
        .positions = probe_positions, .ws_create = probe_ws_create, .ws_destroy = probe_ws_destroy,           \
        .scratch_bytes = probe_scratch, .init = probe_init, .step = probe_step,                               \
    }
PROBE_KIND(probe_sample, AXM_VE_SAMPLE);
PROBE_KIND(probe_mid, AXM_VE_MIDSTEP);

static axm_model probe_model(const axm_model_kind *k)
{
    axm_model m;
    memset(&m, 0, sizeof m);
    m.kind = k;
    m.taps = 3;
    m.temp_c = 37;
    m.geometry = 1;
    return m;
}

/* ---- a recording monitor ---------------------------------------------------------------------------- */

typedef struct rec_mon {
    axm_monitor base;
    int begins, ends, B, W;
    long k0, n_steps, last_k[64], calls[64];
    int reinit;
    double vm_at[64][400]; /* vm of node 0 after each absolute step */
    int decide_at_step;    /* marks fiber 0 decided after this absolute step (-1: never) */
    unsigned char *decided;
} rec_mon;

static int rec_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    (void)state;
    (void)err;
    rec_mon *q = (rec_mon *)m;
    q->begins++;
    q->k0 = r->k0;
    q->n_steps = r->n_steps;
    q->reinit = r->reinit;
    q->B = r->B;
    q->W = r->W;
    q->decided = r->decided;
    return AXM_OK;
}

static void rec_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    rec_mon *q = (rec_mon *)m;
    for (int b = b0; b < b1; b++) {
        q->calls[b]++;
        q->last_k[b] = k;
        if (k < 400) q->vm_at[b][k] = ((const double *)state)[((size_t)b * 5 + 4) * q->W];
        if (b == 0 && k == q->decide_at_step) q->decided[0] = 1;
    }
}

static void rec_end(axm_monitor *m) { ((rec_mon *)m)->ends++; }

static const axm_monitor_ops rec_ops = {"rec", rec_begin, rec_observe, rec_end, NULL, NULL};

static rec_mon *rec_new(void)
{
    rec_mon *q = calloc(1, sizeof *q);
    q->base.ops = &rec_ops;
    q->decide_at_step = -1;
    return q;
}

/* ---- helpers ------------------------------------------------------------------------------------------ */

static double node_y(double D, int W, int j) { return (j - (W - 1) / 2.0) * axm_deltax_method1_um(D); }

static double *mono_wave(long n, double dt, double delay, double pw, double amp)
{
    double *w = calloc((size_t)n, sizeof *w);
    for (long k = 0; k < n; k++) {
        double t = k * dt;
        w[k] = (t > delay && t <= delay + pw) ? amp : 0.0;
    }
    return w;
}

static void run_ok(axm_sim *s, double dt, long n, int reinit, axm_monitor *const *mons, int nm)
{
    axm_err e;
    axm_run_opts o = {0};
    o.dt_ms = dt;
    o.n_steps = n;
    o.reinit = reinit;
    int rc = axm_sim_run(s, &o, mons, nm, &e);
    if (rc != AXM_OK) fail_msg("run: %s", e.msg);
}

/* ---- tests -------------------------------------------------------------------------------------------- */

/* A point-source drive and the same potential materialized at the nodes give the same vm. */
static void test_drive_equals_materialized(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    m->handle_nan = 1;
    enum { B = 3, W = 11, T = 200 };
    double D[B] = {5.7, 10.0, 14.0}, dt = 0.005;
    axm_source src[B];
    for (int b = 0; b < B; b++) {
        memset(&src[b], 0, sizeof src[b]);
        src[b].kind = AXM_SRC_POINT;
        src[b].x_um = 500.0 + 100 * b;
        src[b].y_um = 200.0;
        src[b].rho_ohm_cm = 500.0;
    }
    double *w = mono_wave(T, dt, 0.1, 0.2, -0.3);
    const double *waves[1] = {w};
    int wave_of[B] = {0, 0, 0};
    axm_drive d = {0};
    d.n_contacts = 1;
    d.sources = src;
    d.n_waves = 1;
    d.waves = waves;
    d.wave_len = T;
    d.wave_of = wave_of;
    double *ven = malloc(sizeof(double) * T * B * W);
    for (int b = 0; b < B; b++) {
        double y[W], phi[W];
        for (int j = 0; j < W; j++) y[j] = node_y(D[b], W, j);
        assert_int_equal(axm_source_eval(&src[b], y, W, phi, &e), AXM_OK);
        for (int k = 0; k < T; k++)
            for (int j = 0; j < W; j++) ven[((size_t)k * B + b) * W + j] = w[k] * phi[j];
    }
    axm_drive dm = {0};
    dm.ve_nodes = ven;
    dm.ve_len = T;
    for (int prec = 0; prec < 2; prec++) {
        axm_sim *s1 = axm_sim_create(m, B, W, D, (axm_prec)prec, 1, &e);
        axm_sim *s2 = axm_sim_create(m, B, W, D, (axm_prec)prec, 1, &e);
        assert_int_equal(axm_sim_set_drive(s1, &d, &e), AXM_OK);
        assert_int_equal(axm_sim_set_drive(s2, &dm, &e), AXM_OK);
        run_ok(s1, dt, T, 1, NULL, 0);
        run_ok(s2, dt, T, 1, NULL, 0);
        double vmax = -1e9;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < W; j++) {
                assert_true(axm_sim_state_at(s1, b, 4, j) == axm_sim_state_at(s2, b, 4, j));
                vmax = fmax(vmax, axm_sim_state_at(s1, b, 4, j));
            }
        /* phi is what the source gives at the node positions */
        const double *phi = axm_sim_phi(s1, 1, 0);
        assert_non_null(phi);
        double y5 = node_y(10.0, W, 5), ph;
        assert_int_equal(axm_source_eval(&src[1], &y5, 1, &ph, &e), AXM_OK);
        assert_true(phi[5] == ph);
        assert_null(axm_sim_phi(s1, 1, 1));
        axm_sim_destroy(s1);
        axm_sim_destroy(s2);
    }
    free(ven);
    free(w);
    axm_model_destroy(m);
}

/* Build a 4-fiber S-MF sim with a drive and a pulse. */
typedef struct fixture {
    axm_model *m;
    axm_source src[8];
    double *w[2];
    const double *waves[2];
    int wave_of[8];
    axm_pulse pulse;
    axm_drive d;
    double D[4];
} fixture;

static void fixture_init(fixture *f)
{
    axm_err e;
    memset(f, 0, sizeof *f);
    f->m = axm_model_create("smf", &e);
    f->m->handle_nan = 1;
    for (int b = 0; b < 4; b++) {
        f->D[b] = 6.0 + 2 * b;
        for (int c = 0; c < 2; c++) {
            axm_source *s = &f->src[b * 2 + c];
            s->kind = AXM_SRC_POINT;
            s->x_um = 400.0;
            s->y_um = c ? 1500.0 : -300.0;
            s->rho_ohm_cm = 500.0;
            f->wave_of[b * 2 + c] = b == 3 && c == 1 ? -1 : c;
        }
    }
    f->w[0] = mono_wave(250, 0.005, 0.2, 0.1, -0.4);
    f->w[1] = mono_wave(250, 0.005, 0.6, 0.3, 0.2);
    f->waves[0] = f->w[0];
    f->waves[1] = f->w[1];
    f->pulse = (axm_pulse){.fiber = 2, .node = -3, .delay_ms = 1.0, .dur_ms = 0.1, .amp_mA = 2e-6};
    f->d.n_contacts = 2;
    f->d.sources = f->src;
    f->d.n_waves = 2;
    f->d.waves = f->waves;
    f->d.wave_len = 250;
    f->d.wave_of = f->wave_of;
    f->d.n_pulses = 1;
    f->d.pulses = &f->pulse;
}

static void fixture_free(fixture *f)
{
    free(f->w[0]);
    free(f->w[1]);
    axm_model_destroy(f->m);
}

static axm_sim *fixture_sim(fixture *f, axm_prec prec, int threads)
{
    axm_err e;
    axm_sim *s = axm_sim_create(f->m, 4, 21, f->D, prec, threads, &e);
    assert_non_null(s);
    if (axm_sim_set_drive(s, &f->d, &e) != AXM_OK) fail_msg("%s", e.msg);
    return s;
}

static void assert_same_state(const axm_sim *a, const axm_sim *b)
{
    size_t n = (size_t)axm_sim_batch(a) * axm_sim_n_states(a) * axm_sim_nodes(a);
    size_t es = axm_sim_prec(a) == AXM_FP32 ? 4 : 8;
    assert_memory_equal(axm_sim_state(a), axm_sim_state(b), n * es);
}

static void test_chunked_equals_long(void **st)
{
    (void)st;
    fixture f;
    fixture_init(&f);
    for (int prec = 0; prec < 2; prec++) {
        axm_sim *a = fixture_sim(&f, (axm_prec)prec, 2), *b = fixture_sim(&f, (axm_prec)prec, 2);
        run_ok(a, 0.005, 300, 1, NULL, 0);
        run_ok(b, 0.005, 37, 1, NULL, 0);
        run_ok(b, 0.005, 163, 0, NULL, 0);
        run_ok(b, 0.005, 100, 0, NULL, 0);
        assert_int_equal(axm_sim_step_index(b), 300);
        assert_same_state(a, b);
        /* reinit starts over */
        run_ok(b, 0.005, 300, 1, NULL, 0);
        assert_same_state(a, b);
        axm_sim_destroy(a);
        axm_sim_destroy(b);
    }
    fixture_free(&f);
}

static void test_threads_identical(void **st)
{
    (void)st;
    fixture f;
    fixture_init(&f);
    for (int prec = 0; prec < 2; prec++) {
        axm_sim *a = fixture_sim(&f, (axm_prec)prec, 1), *b = fixture_sim(&f, (axm_prec)prec, 2);
        axm_sim *c = fixture_sim(&f, (axm_prec)prec, 7); /* more threads than fibers */
        run_ok(a, 0.005, 260, 1, NULL, 0);
        run_ok(b, 0.005, 260, 1, NULL, 0);
        run_ok(c, 0.005, 260, 1, NULL, 0);
        assert_same_state(a, b);
        assert_same_state(a, c);
        axm_sim_destroy(a);
        axm_sim_destroy(b);
        axm_sim_destroy(c);
    }
    fixture_free(&f);
}

/* amp[b] scales the extracellular stimulus: amp 2 equals waves doubled. */
static void test_amp_scaling(void **st)
{
    (void)st;
    fixture f;
    fixture_init(&f);
    f.d.n_pulses = 0;
    axm_sim *a = fixture_sim(&f, AXM_FP64, 1);
    double amp[4] = {2, 2, 2, 2};
    axm_sim_set_amp(a, amp);
    run_ok(a, 0.005, 250, 1, NULL, 0);
    for (long k = 0; k < 250; k++) {
        f.w[0][k] *= 2;
        f.w[1][k] *= 2;
    }
    axm_sim *b = fixture_sim(&f, AXM_FP64, 1);
    run_ok(b, 0.005, 250, 1, NULL, 0);
    assert_same_state(a, b);
    /* amp 0 = no stimulus: the fibers evolve as unstimulated ones */
    double zero[4] = {0, 0, 0, 0};
    axm_sim_set_amp(a, zero);
    run_ok(a, 0.005, 250, 1, NULL, 0);
    axm_sim *c = fixture_sim(&f, AXM_FP64, 1);
    axm_sim_set_drive(c, NULL, NULL);
    run_ok(c, 0.005, 250, 1, NULL, 0);
    assert_same_state(a, c);
    axm_sim_destroy(a);
    axm_sim_destroy(b);
    axm_sim_destroy(c);
    fixture_free(&f);
}

/* What a kind receives at each step: wave samples (extrapolation past the end), midstep
 * averaging, amp, pulses with their edges. */
static void test_probe_timing(void **st)
{
    (void)st;
    axm_err e;
    enum { B = 2, W = 4, L = 10 };
    double D[B] = {10, 10}, w[L];
    for (int k = 0; k < L; k++) w[k] = 1.0 + k * k;
    const double *waves[1] = {w};
    int wave_of[B] = {0, 0};
    axm_source src[B];
    memset(src, 0, sizeof src);
    for (int b = 0; b < B; b++) {
        src[b].kind = AXM_SRC_POINT;
        src[b].x_um = 1000;
        src[b].rho_ohm_cm = 300;
    }
    for (int mid = 0; mid < 2; mid++) {
        axm_model m = probe_model(mid ? &probe_mid : &probe_sample);
        axm_pulse pu[2] = {{.fiber = 1, .node = -1, .delay_ms = 0.5, .dur_ms = 0.1, .amp_mA = 3e-6},
                           {.fiber = -1, .node = 0, .delay_ms = 0.501, .dur_ms = 0.1, .amp_mA = 1.0}};
        axm_drive d = {.n_contacts = 1, .sources = src, .n_waves = 1, .waves = waves, .wave_len = L,
                       .wave_of = wave_of, .n_pulses = 2, .pulses = pu};
        axm_sim *s = axm_sim_create(&m, B, W, D, AXM_FP64, 2, &e);
        assert_non_null(s);
        assert_int_equal(axm_sim_set_drive(s, &d, &e), AXM_OK);
        double amp[B] = {1.0, -0.5};
        axm_sim_set_amp(s, amp);
        const double *phi1 = axm_sim_phi(s, 1, 0);
        for (long k = 0; k < 140; k++) {
            run_ok(s, 0.005, 1, k == 0, NULL, 0);
            double wk;
            double ext[L + 3];
            for (int i = 0; i < L; i++) ext[i] = w[i];
            ext[L] = 2 * w[L - 1] - w[L - 2];
            ext[L + 1] = ext[L + 2] = 0;
            long kk = k < L + 2 ? k : L + 2;
            wk = mid ? 0.5 * (ext[kk] + ext[kk + 1 < L + 2 ? kk + 1 : L + 2]) : ext[kk];
            for (int j = 0; j < W; j++) {
                double got = axm_sim_state_at(s, 1, 0, j), want = -0.5 * (wk * phi1[j]);
                if (fabs(got - want) > 1e-12 * fabs(want) + 1e-300)
                    fail_msg("mid %d k %ld node %d: ve %.17g want %.17g", mid, k, j, got, want);
            }
            /* pulse 0: fiber 1, last node, on for t in [0.5, 0.6): steps 100..119 either way */
            double i0 = axm_sim_state_at(s, 1, 1, W - 1);
            int on0 = k >= 100 && k <= 119;
            assert_true(i0 == (on0 ? 3e-6 : 0.0));
            assert_true(axm_sim_state_at(s, 0, 1, W - 1) == 0.0);
            /* pulse 1: every fiber, node 0; t_k (101..120) or t_k + dt/2 (100..119) */
            int on1 = mid ? (k >= 100 && k <= 119) : (k >= 101 && k <= 120);
            for (int b = 0; b < B; b++)
                if (axm_sim_state_at(s, b, 1, 0) != (on1 ? 1.0 : 0.0))
                    fail_msg("mid %d k %ld fiber %d: intra %g, want %d", mid, k, b, axm_sim_state_at(s, b, 1, 0), on1);
        }
        axm_sim_destroy(s);
    }
}

static void test_monitor_calls(void **st)
{
    (void)st;
    fixture f;
    fixture_init(&f);
    axm_sim *s = fixture_sim(&f, AXM_FP64, 2);
    rec_mon *q = rec_new();
    axm_monitor *mons[1] = {&q->base};
    run_ok(s, 0.005, 50, 1, mons, 1);
    assert_int_equal(q->begins, 1);
    assert_int_equal(q->ends, 1);
    assert_int_equal(q->k0, 0);
    assert_int_equal(q->reinit, 1);
    run_ok(s, 0.005, 70, 0, mons, 1);
    assert_int_equal(q->begins, 2);
    assert_int_equal(q->k0, 50);
    assert_int_equal(q->reinit, 0);
    for (int b = 0; b < 4; b++) {
        assert_int_equal(q->calls[b], 120);
        assert_int_equal(q->last_k[b], 119);
    }
    /* the state observed after step k is the state at (k+1)*dt: equals a fresh 1-step-at-a-time run */
    assert_true(q->vm_at[2][119] == axm_sim_state_at(s, 2, 4, 0));
    /* stop_when_decided: fiber 0 freezes once decided */
    memset(q->calls, 0, sizeof q->calls);
    q->decide_at_step = 9;
    axm_run_opts o = {.dt_ms = 0.005, .n_steps = 40, .reinit = 1, .stop_when_decided = 1};
    axm_err e;
    assert_int_equal(axm_sim_run(s, &o, mons, 1, &e), AXM_OK);
    /* decided after the step observed at k = 9: steps 10.. are skipped */
    assert_true(q->vm_at[0][9] == q->vm_at[0][39]);
    assert_true(q->vm_at[0][8] != q->vm_at[0][9]);
    assert_int_equal(q->calls[0], 40);
    assert_true(q->vm_at[1][10] != q->vm_at[1][39]);
    free(q);
    axm_sim_destroy(s);
    fixture_free(&f);
}

static void cancel_on_progress(void *ud, long done, long total)
{
    (void)total;
    if (done >= 20) *(volatile int *)ud = 1;
}

static void test_cancel(void **st)
{
    (void)st;
    fixture f;
    fixture_init(&f);
    axm_sim *s = fixture_sim(&f, AXM_FP32, 2);
    volatile int flag = 1;
    axm_run_opts o = {.dt_ms = 0.005, .n_steps = 1000, .reinit = 1, .cancel = &flag};
    axm_err e;
    assert_int_equal(axm_sim_run(s, &o, NULL, 0, &e), AXM_ERR_CANCELLED);
    flag = 0;
    o.progress = cancel_on_progress;
    o.progress_ud = (void *)&flag;
    o.n_steps = 100000;
    assert_int_equal(axm_sim_run(s, &o, NULL, 0, &e), AXM_ERR_CANCELLED);
    /* the next run starts over even without reinit */
    flag = 0;
    o.progress = NULL;
    o.reinit = 0;
    o.n_steps = 10;
    assert_int_equal(axm_sim_run(s, &o, NULL, 0, &e), AXM_OK);
    assert_int_equal(axm_sim_step_index(s), 10);
    axm_sim_destroy(s);
    fixture_free(&f);
}

static void test_errors(void **st)
{
    (void)st;
    axm_err e;
    double D[2] = {10, 10};
    axm_model m = probe_model(&probe_mid);
    m.geometry = 2; /* n_comp = 2W - 1: not node-only */
    axm_sim *s = axm_sim_create(&m, 2, 5, D, AXM_FP64, 1, &e);
    assert_non_null(s);
    assert_int_equal(axm_sim_n_comp(s), 9);
    double ven[10] = {0};
    axm_drive d = {.ve_nodes = ven, .ve_len = 1};
    assert_int_equal(axm_sim_set_drive(s, &d, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "ve_nodes"));
    axm_pulse p = {.fiber = 0, .node = 7, .delay_ms = 0, .dur_ms = 1, .amp_mA = 1};
    axm_drive d2 = {.n_pulses = 1, .pulses = &p};
    assert_int_equal(axm_sim_set_drive(s, &d2, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "node"));
    p.node = -5;
    assert_int_equal(axm_sim_set_drive(s, &d2, &e), AXM_OK);
    p.fiber = 2;
    assert_int_equal(axm_sim_set_drive(s, &d2, &e), AXM_ERR_INPUT);
    axm_run_opts o = {.dt_ms = 0, .n_steps = 1};
    assert_int_equal(axm_sim_run(s, &o, NULL, 0, &e), AXM_ERR_INPUT);
    axm_sim_destroy(s);
    axm_model *sm = axm_model_create("smf", &e);
    assert_null(axm_sim_create(sm, 2, 1, D, AXM_FP64, 1, &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    double Dbad[2] = {10, -1};
    assert_null(axm_sim_create(sm, 2, 5, Dbad, AXM_FP64, 1, &e));
    assert_non_null(strstr(e.msg, "fiber 1"));
    axm_model_destroy(sm);
}

/* Sundt through the engine: positions spaced by dx, a pulse at node 3 fires an AP seen at -3. */
static void test_sundt_engine(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    axm_model_set(m, "dx", 50.0, &e);
    double D[2] = {1.0, 1.0};
    axm_sim *s = axm_sim_create(m, 2, 61, D, AXM_FP64, 2, &e);
    assert_non_null(s);
    axm_pulse p = {.fiber = 1, .node = 3, .delay_ms = 0.5, .dur_ms = 0.2, .amp_mA = 1e-6};
    axm_drive d = {.n_pulses = 1, .pulses = &p};
    assert_int_equal(axm_sim_set_drive(s, &d, &e), AXM_OK);
    double vmax[2] = {-1e9, -1e9};
    for (int c = 0; c < 40; c++) {
        run_ok(s, 0.005, 50, c == 0, NULL, 0);
        for (int b = 0; b < 2; b++) vmax[b] = fmax(vmax[b], axm_sim_state_at(s, b, 4, -3));
    }
    assert_true(vmax[1] > 0.0 && vmax[1] < 50.0);
    assert_true(fabs(vmax[0] + 65.0) < 0.1);
    axm_sim_destroy(s);
    axm_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drive_equals_materialized),
        cmocka_unit_test(test_chunked_equals_long),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_amp_scaling),
        cmocka_unit_test(test_probe_timing),
        cmocka_unit_test(test_monitor_calls),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_sundt_engine),
    };
    return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
