/* Monitors driven directly through their ops with synthetic state sequences (no engine). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "monitor.h"

/* A synthetic run: state (B,S,W) whose vm at absolute state index j is vm_fn(b, node, j); the
 * other states are s*100 + node + j*0.5 + b*1000 so that the Recorder can be checked exactly. */
typedef double (*vm_fn)(int b, int node, long j);

typedef struct synth {
    int B, S, W;
    axm_prec prec;
    double dt;
    vm_fn vm;
    void *state;
    unsigned char decided[64];
} synth;

static double other_state(int b, int s, int node, long j)
{
    return s * 100.0 + node + (double)j * 0.5 + b * 1000.0;
}

static void synth_fill(synth *y, long j)
{
    for (int b = 0; b < y->B; b++)
        for (int s = 0; s < y->S; s++)
            for (int w = 0; w < y->W; w++) {
                double v = s == y->S - 1 ? y->vm(b, w, j) : other_state(b, s, w, j);
                size_t i = ((size_t)b * y->S + s) * y->W + w;
                if (y->prec == AXM_FP32) ((float *)y->state)[i] = (float)v;
                else ((double *)y->state)[i] = v;
            }
}

static void synth_init(synth *y, int B, int S, int W, axm_prec prec, double dt, vm_fn vm)
{
    memset(y, 0, sizeof *y);
    y->B = B;
    y->S = S;
    y->W = W;
    y->prec = prec;
    y->dt = dt;
    y->vm = vm;
    y->state = calloc((size_t)B * S * W, prec == AXM_FP32 ? sizeof(float) : sizeof(double));
}

/* Runs the monitors over absolute steps k0 .. k0+n-1 (the state after step k is index k+1). */
static int synth_run(synth *y, axm_monitor **mons, int n_mons, long k0, long n, int reinit, axm_err *err)
{
    axm_mon_run r = {y->B, y->W, y->S, y->prec, y->dt, k0, n, reinit, y->decided};
    synth_fill(y, k0);
    for (int i = 0; i < n_mons; i++) {
        int rc = mons[i]->ops->begin(mons[i], &r, y->state, err);
        if (rc) return rc;
    }
    for (long k = k0; k < k0 + n; k++) {
        synth_fill(y, k + 1);
        for (int i = 0; i < n_mons; i++) mons[i]->ops->observe(mons[i], k, 0, y->B, y->state);
    }
    for (int i = 0; i < n_mons; i++) mons[i]->ops->end(mons[i]);
    return AXM_OK;
}

/* Fiber 0: node 5 spikes twice (j 3..5 and j 10..11); node W-5 never.
 * Fiber 1: node 5 spikes at j 4..6, node W-5 at j 7..8. Ramp -30 -> +10 into each spike. */
static double vm_two_fibers(int b, int node, long j)
{
    int W = 12;
    if (b == 0 && node == 5) {
        if (j == 3) return 10.0;
        if (j == 4 || j == 5) return 30.0;
        if (j == 10 || j == 11) return 20.0;
        if (j == 2 || j == 9) return -30.0;
    }
    if (b == 1 && node == 5 && j >= 4 && j <= 6) return 25.0;
    if (b == 1 && node == W - 5 && j >= 7 && j <= 8) return 15.0;
    return -70.0;
}

static void check_counts(axm_prec prec)
{
    synth y;
    synth_init(&y, 2, 3, 12, prec, 0.01, vm_two_fibers);
    axm_err e;
    axm_detect d = axm_detect_default();
    axm_monitor *ap = axm_apcount_create(&d, &e);
    d.at_least = 2;
    axm_monitor *act = axm_active_create(&d, 1, &e);
    assert_non_null(ap);
    assert_non_null(act);
    axm_monitor *mons[2] = {ap, act};
    assert_int_equal(synth_run(&y, mons, 2, 0, 20, 1, &e), AXM_OK);
    const int *c = axm_apcount_counts(ap);
    assert_int_equal(c[0], 2); /* fiber 0 node 5 */
    assert_int_equal(c[1], 0); /* fiber 0 node -5 = 7 */
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 1);
    const double *f = axm_apcount_first_ms(ap);
    /* fiber 0 node 5: v -30 at t = 0.02 (j 2), 10 at 0.03 -> 0.02 + 0.01 * 30/40 */
    assert_true(fabs(f[0] - 0.0275) < 1e-12);
    assert_true(isnan(f[1]));
    /* fiber 1 node 5: -70 at j 3, 25 at j 4 -> 0.03 + 0.01 * 70/95 */
    assert_true(fabs(f[2] - (0.03 + 0.01 * 70.0 / 95.0)) < 1e-12);
    assert_true(fabs(f[3] - (0.06 + 0.01 * 70.0 / 85.0)) < 1e-12);
    const unsigned char *a = axm_active_result(act);
    assert_int_equal(a[0], 0); /* only one of two nodes spiked */
    assert_int_equal(a[1], 1);
    assert_int_equal(y.decided[0], 0);
    assert_int_equal(y.decided[1], 1);
    axm_monitor_destroy(ap);
    axm_monitor_destroy(act);
    free(y.state);
}

static void test_counts_fp64(void **st)
{
    (void)st;
    check_counts(AXM_FP64);
}

static void test_counts_fp32(void **st)
{
    (void)st;
    check_counts(AXM_FP32);
}

static void test_active_at_least_one(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 2, 2, 12, AXM_FP32, 0.01, vm_two_fibers);
    axm_err e;
    axm_detect d = axm_detect_default();
    axm_monitor *act = axm_active_create(&d, 0, &e);
    assert_int_equal(synth_run(&y, &act, 1, 0, 20, 1, &e), AXM_OK);
    assert_int_equal(axm_active_result(act)[0], 1);
    assert_int_equal(axm_active_result(act)[1], 1);
    assert_int_equal(y.decided[0], 0); /* mark_decided off */
    axm_monitor_reset(act);
    assert_null(axm_active_result(act));
    axm_monitor_destroy(act);
    free(y.state);
    d.at_least = 3;
    assert_null(axm_active_create(&d, 0, &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "at_least"));
}

/* A plateau across a chunk boundary: up at j 5..12. */
static double vm_plateau(int b, int node, long j)
{
    (void)b;
    (void)node;
    return (j >= 5 && j <= 12) ? 20.0 : -70.0;
}

static void test_chunk_boundary_counts_once(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 1, 2, 12, AXM_FP64, 0.01, vm_plateau);
    axm_err e;
    axm_detect d = axm_detect_default();
    axm_monitor *ap = axm_apcount_create(&d, &e);
    axm_monitor *ras = axm_raster_create(&d, 0, &e);
    axm_monitor *mons[2] = {ap, ras};
    /* chunks of 4 steps: boundaries at j 4, 8, 12, 16 (j 8 and 12 are on the plateau) */
    for (long k0 = 0; k0 < 20; k0 += 4) assert_int_equal(synth_run(&y, mons, 2, k0, 4, k0 == 0, &e), AXM_OK);
    assert_int_equal(axm_apcount_counts(ap)[0], 1);
    assert_int_equal(axm_apcount_counts(ap)[1], 1);
    long n;
    const axm_spike *s = axm_raster_spikes(ras, &n);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].node, 5);
    assert_int_equal(s[1].node, 7);
    /* reinit starting on the plateau: the initial state is above threshold, so no rise from below */
    assert_int_equal(synth_run(&y, mons, 2, 8, 4, 1, &e), AXM_OK);
    assert_int_equal(axm_apcount_counts(ap)[0], 1);
    /* reinit from rest: a new spike accumulates */
    assert_int_equal(synth_run(&y, mons, 2, 0, 8, 1, &e), AXM_OK);
    assert_int_equal(axm_apcount_counts(ap)[0], 2);
    s = axm_raster_spikes(ras, &n);
    assert_int_equal(n, 4);
    axm_monitor_reset(ap);
    assert_null(axm_apcount_counts(ap));
    assert_int_equal(synth_run(&y, mons, 1, 0, 8, 1, &e), AXM_OK);
    assert_int_equal(axm_apcount_counts(ap)[0], 1);
    axm_monitor_destroy(ap);
    axm_monitor_destroy(ras);
    free(y.state);
}

/* t_start = 0.05 ms is state index j = 5. Fiber 0 rises at j 2 (before) and j 6 (after); fiber 1
 * is up from j 3 to j 8 (above threshold at t_start); fiber 2 rises exactly at j 5. */
static double vm_tstart(int b, int node, long j)
{
    (void)node;
    if (b == 0) return ((j >= 2 && j <= 3) || (j >= 6 && j <= 9)) ? 10.0 : -70.0;
    if (b == 1) return (j >= 3 && j <= 8) ? 10.0 : -70.0;
    return j >= 5 ? 10.0 : -70.0;
}

static void test_t_start(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 3, 2, 12, AXM_FP64, 0.01, vm_tstart);
    axm_err e;
    axm_detect d = axm_detect_default();
    d.t_start_ms = 0.05; /* state index j = 5 */
    axm_monitor *ap = axm_apcount_create(&d, &e);
    assert_int_equal(synth_run(&y, &ap, 1, 0, 15, 1, &e), AXM_OK);
    const int *c = axm_apcount_counts(ap);
    assert_int_equal(c[0], 1); /* the spike before t_start is ignored */
    assert_int_equal(c[2], 0); /* above threshold at t_start: not a rise after t_start */
    assert_int_equal(c[4], 1); /* rises at the state time t_start itself */
    assert_true(fabs(axm_apcount_first_ms(ap)[0] - (0.05 + 0.01 * 70.0 / 80.0)) < 1e-12);
    axm_monitor_destroy(ap);
    free(y.state);
}

/* Recorder: vm = j + node/100 for every fiber. */
static double vm_linear(int b, int node, long j)
{
    return (double)j + node / 100.0 + b * 10.0;
}

static void check_frame(const axm_monitor *rec, const synth *y, long f, long j, const int *nodes, int nn,
                        const int *states, int ns)
{
    int ns_r, nn_r;
    const double *d = axm_recorder_data(rec, &ns_r, &nn_r);
    assert_int_equal(ns_r, ns);
    assert_int_equal(nn_r, nn);
    assert_true(fabs(axm_recorder_times(rec)[f] - j * y->dt) < 1e-12);
    for (int b = 0; b < y->B; b++)
        for (int s = 0; s < ns; s++)
            for (int q = 0; q < nn; q++) {
                int w = nodes[q];
                double want = states[s] == y->S - 1 ? y->vm(b, w, j) : other_state(b, states[s], w, j);
                double got = d[(((size_t)f * y->B + b) * ns + s) * nn + q];
                assert_true(fabs(got - want) < 1e-4 * (1 + fabs(want)));
            }
}

static void test_recorder_decimation(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 2, 3, 10, AXM_FP32, 0.02, vm_linear);
    axm_err e;
    int nodes[2] = {-1, 2};
    int want_nodes[2] = {9, 2};
    int states[2] = {0, 2};
    axm_monitor *rec = axm_recorder_create(0x5u, nodes, 2, 3, 0, &e);
    assert_non_null(rec);
    assert_int_equal(synth_run(&y, &rec, 1, 0, 10, 1, &e), AXM_OK);
    assert_int_equal(axm_recorder_frames(rec), 4); /* j = 0, 3, 6, 9 */
    for (int f = 0; f < 4; f++) check_frame(rec, &y, f, 3 * f, want_nodes, 2, states, 2);
    /* continued, k0 = 10 off the grid: no initial frame; j 12, 15 */
    assert_int_equal(synth_run(&y, &rec, 1, 10, 5, 0, &e), AXM_OK);
    assert_int_equal(axm_recorder_frames(rec), 6);
    check_frame(rec, &y, 4, 12, want_nodes, 2, states, 2);
    check_frame(rec, &y, 5, 15, want_nodes, 2, states, 2);
    /* continued, k0 = 15 on the grid and already recorded: no duplicate; j 18 */
    assert_int_equal(synth_run(&y, &rec, 1, 15, 4, 0, &e), AXM_OK);
    assert_int_equal(axm_recorder_frames(rec), 7);
    check_frame(rec, &y, 6, 18, want_nodes, 2, states, 2);
    /* reinit: the initial state at t = 0 starts a new time line */
    assert_int_equal(synth_run(&y, &rec, 1, 0, 3, 1, &e), AXM_OK);
    assert_int_equal(axm_recorder_frames(rec), 9);
    check_frame(rec, &y, 7, 0, want_nodes, 2, states, 2);
    check_frame(rec, &y, 8, 3, want_nodes, 2, states, 2);
    axm_monitor_reset(rec);
    assert_int_equal(axm_recorder_frames(rec), 0);
    axm_monitor_destroy(rec);
    free(y.state);
}

static void test_recorder_every_step_all_nodes(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 1, 2, 5, AXM_FP64, 0.005, vm_linear);
    axm_err e;
    axm_monitor *rec = axm_recorder_create(0x2u, NULL, 0, 1, 0, &e);
    assert_int_equal(synth_run(&y, &rec, 1, 0, 7, 1, &e), AXM_OK);
    assert_int_equal(axm_recorder_frames(rec), 8); /* T+1 */
    int nodes[5] = {0, 1, 2, 3, 4}, states[1] = {1};
    for (int f = 0; f < 8; f++) check_frame(rec, &y, f, f, nodes, 5, states, 1);
    axm_monitor_destroy(rec);
    free(y.state);
}

static double vm_bump(int b, int node, long j)
{
    return -70.0 + (j == 4 ? 50.0 + node + b : 0.0);
}

static void test_recorder_max_only(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 2, 3, 6, AXM_FP64, 0.01, vm_bump);
    axm_err e;
    axm_monitor *rec = axm_recorder_create(0x4u, NULL, 0, 5, 1, &e);
    assert_int_equal(synth_run(&y, &rec, 1, 0, 8, 1, &e), AXM_OK);
    const double *mx = axm_recorder_max(rec);
    assert_non_null(mx);
    assert_int_equal(axm_recorder_frames(rec), 0);
    for (int b = 0; b < 2; b++) {
        assert_true(fabs(mx[b * 3 + 2] - (-70.0 + 50.0 + 5 + b)) < 1e-12);
        for (int s = 0; s < 2; s++) assert_true(fabs(mx[b * 3 + s] - other_state(b, s, 5, 8)) < 1e-12);
    }
    axm_monitor_destroy(rec);
    free(y.state);
}

static void test_node_validation(void **st)
{
    (void)st;
    synth y;
    synth_init(&y, 1, 2, 12, AXM_FP64, 0.01, vm_plateau);
    axm_err e;
    axm_detect d = axm_detect_default();
    d.nodes[1] = -13;
    axm_monitor *ap = axm_apcount_create(&d, &e);
    assert_int_equal(synth_run(&y, &ap, 1, 0, 4, 1, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "node -13"));
    axm_monitor_destroy(ap);
    d.nodes[1] = 12;
    ap = axm_apcount_create(&d, &e);
    assert_int_equal(synth_run(&y, &ap, 1, 0, 4, 1, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "node 12"));
    axm_monitor_destroy(ap);
    d.nodes[1] = -12; /* = node 0 */
    ap = axm_apcount_create(&d, &e);
    assert_int_equal(synth_run(&y, &ap, 1, 0, 4, 1, &e), AXM_OK);
    axm_monitor_destroy(ap);
    int bad = 12;
    axm_monitor *rec = axm_recorder_create(0x2u, &bad, 1, 1, 0, &e);
    assert_int_equal(synth_run(&y, &rec, 1, 0, 4, 1, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "node 12"));
    axm_monitor_destroy(rec);
    rec = axm_recorder_create(0x4u, NULL, 0, 1, 0, &e); /* state 2 of S = 2 */
    assert_int_equal(synth_run(&y, &rec, 1, 0, 4, 1, &e), AXM_ERR_INPUT);
    axm_monitor_destroy(rec);
    assert_null(axm_recorder_create(0, NULL, 0, 1, 0, &e));
    assert_null(axm_recorder_create(1, NULL, 0, 0, 0, &e));
    d = axm_detect_default();
    d.threshold_mV = NAN;
    assert_null(axm_apcount_create(&d, &e));
    free(y.state);
}

/* Raster under concurrency: each thread runs its own fiber range through all steps (no per-step
 * barrier), as an engine may. Fiber b spikes at node w every 10 steps starting at j = 1 + (b+w)%7. */
static double vm_train(int b, int node, long j)
{
    long s = j - 1 - (b + node) % 7;
    return (s >= 0 && s % 10 < 2) ? 30.0 : -70.0;
}

typedef struct th_arg {
    axm_monitor *m;
    int B, S, W, b0, b1;
    long n;
} th_arg;

static void *th_main(void *p)
{
    th_arg *a = p;
    /* each thread keeps a private full-size state, filling only its fibers */
    double *state = calloc((size_t)a->B * a->S * a->W, sizeof *state);
    for (long k = 0; k < a->n; k++) {
        for (int b = a->b0; b < a->b1; b++)
            for (int w = 0; w < a->W; w++) state[((size_t)b * a->S + a->S - 1) * a->W + w] = vm_train(b, w, k + 1);
        a->m->ops->observe(a->m, k, a->b0, a->b1, state);
    }
    free(state);
    return NULL;
}

static void test_raster_threads(void **st)
{
    (void)st;
    enum { B = 16, S = 2, W = 9, NT = 4, N = 200 };
    axm_err e;
    axm_detect d = axm_detect_default();
    axm_monitor *ras = axm_raster_create(&d, 1, &e);
    assert_non_null(ras);
    double *state = calloc((size_t)B * S * W, sizeof *state);
    for (size_t i = 0; i < (size_t)B * S * W; i++) state[i] = -70.0;
    unsigned char dec[B] = {0};
    axm_mon_run r = {B, W, S, AXM_FP64, 0.01, 0, N, 1, dec};
    assert_int_equal(ras->ops->begin(ras, &r, state, &e), AXM_OK);
    pthread_t th[NT];
    th_arg args[NT];
    for (int t = 0; t < NT; t++) {
        args[t] = (th_arg){ras, B, S, W, t * B / NT, (t + 1) * B / NT, N};
        pthread_create(&th[t], NULL, th_main, &args[t]);
    }
    for (int t = 0; t < NT; t++) pthread_join(th[t], NULL);
    ras->ops->end(ras);
    long n, want = 0;
    for (int b = 0; b < B; b++)
        for (int w = 0; w < W; w++)
            for (long j = 1; j <= N; j++)
                if (vm_train(b, w, j) > 0 && vm_train(b, w, j - 1) < 0) want++;
    const axm_spike *s = axm_raster_spikes(ras, &n);
    assert_int_equal(n, want);
    for (long i = 0; i < n; i++) {
        /* every spike is a real rise, at the interpolated time between samples j-1 and j */
        long j = (long)ceil(s[i].t_ms / 0.01 - 1e-9);
        assert_true(vm_train(s[i].fiber, s[i].node, j) > 0 && vm_train(s[i].fiber, s[i].node, j - 1) < 0);
        assert_true(fabs(s[i].t_ms - ((j - 1) * 0.01 + 0.01 * 70.0 / 100.0)) < 1e-12);
        if (i) assert_true(s[i - 1].t_ms <= s[i].t_ms);
    }
    axm_monitor_destroy(ras);
    free(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_fp64),
        cmocka_unit_test(test_counts_fp32),
        cmocka_unit_test(test_active_at_least_one),
        cmocka_unit_test(test_chunk_boundary_counts_once),
        cmocka_unit_test(test_t_start),
        cmocka_unit_test(test_recorder_decimation),
        cmocka_unit_test(test_recorder_every_step_all_nodes),
        cmocka_unit_test(test_recorder_max_only),
        cmocka_unit_test(test_node_validation),
        cmocka_unit_test(test_raster_threads),
    };
    return cmocka_run_group_tests_name("monitor", tests, NULL, NULL);
}
