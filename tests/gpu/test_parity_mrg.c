/* GPU vs CPU parity of the MRG forward simulation (axm_cuda_mrg_*): one batch of fibers of several
 * diameters (5.7..16 um) under a point source, half of them with a cathodic pulse that fires them and
 * half with an anodic one that does not, a second, distant contact on for every third fiber (off for
 * the others), one of them with an intracellular pulse too; 5 ms at
 * dt 0.005 ms in two chunked runs (continued time line); with and without passive end nodes.
 *
 * Error bounds:
 *   fp64  every node state of every step within 1e-9 (|gpu - cpu| <= 1e-9 (|cpu| + 1): gates are in
 *         [0, 1], vm in mV), and the same spike times (0 mV upward crossings, interpolated) within
 *         1e-6 ms. Both sides run the same operations in IEEE double; they differ only in FMA
 *         contraction and the exp implementation (~1e-16 per operation), which the spike dynamics
 *         amplify by far less than 1e7 over 1000 steps.
 *   fp32  only the node states are stored as float (on both backends): the GPU's relative L2 error
 *         against the CPU fp64 run must be within 10x the CPU fp32 run's own (plus 1e-6), and every
 *         fiber must fire or stay silent as on the CPU. A fixed bound would be arbitrary: float
 *         rounding of the states is amplified by spike timing alike on both backends.
 * Skips cleanly when no CUDA device (or no CUDA backend) is present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axm_cuda.h"
#include "parity_util.h"
#include "axonml.h"
#include "datagen.h"

enum { NB = 16, NW = 21, NSTEPS = 1000, NFIRST = 400 };
static const double DT = 0.005;


/* The problem: fibers 0..7 cathodic, 8..15 anodic, diameters 5.7..16 um in each half. */
typedef struct prob {
    double D[NB];
    axm_source src[NB * 2]; /* two contacts per fiber */
    int wave_of[NB * 2];
    double wave[2][NSTEPS + 1];
    const double *waves[2];
    axm_pulse pulse;
    axm_drive d;
} prob;

static void prob_init(prob *p)
{
    static const double diam[8] = {5.7, 7.3, 8.7, 10.0, 11.5, 12.8, 14.0, 16.0};
    memset(p, 0, sizeof *p);
    for (int b = 0; b < NB; b++) {
        p->D[b] = diam[b % 8];
        axm_source *s = &p->src[2 * b];
        s[0].kind = s[1].kind = AXM_SRC_POINT;
        s[0].x_um = 0;
        s[0].y_um = 250.0; /* off a node: between compartments of the centre internode */
        s[0].z_um = 1000.0;
        s[1].x_um = 3000.0; /* far: it adds to the potential without changing who fires */
        s[1].y_um = 0;
        s[1].z_um = 4000.0;
        s[0].rho_ohm_cm = s[1].rho_ohm_cm = 500.0;
        p->wave_of[2 * b] = b < 8 ? 0 : 1;
        p->wave_of[2 * b + 1] = b % 3 == 0 ? 1 : -1;
    }
    /* 0.1 ms monophasic pulses from 0.5 ms: -1 mA (cathodic) and +0.3 mA (anodic) */
    for (int k = 0; k <= NSTEPS; k++) {
        double t = k * DT;
        double on = t >= 0.5 - 1e-9 && t < 0.6 - 1e-9;
        p->wave[0][k] = on ? -1.0 : 0.0;
        p->wave[1][k] = on ? 0.3 : 0.0;
    }
    p->waves[0] = p->wave[0];
    p->waves[1] = p->wave[1];
    /* and fiber 15 an intracellular 5 nA for 0.2 ms at node 3 from 2 ms */
    p->pulse.fiber = 15;
    p->pulse.node = 3;
    p->pulse.delay_ms = 2.0;
    p->pulse.dur_ms = 0.2;
    p->pulse.amp_mA = 5e-6;
    p->d.n_contacts = 2;
    p->d.sources = p->src;
    p->d.n_waves = 2;
    p->d.waves = p->waves;
    p->d.wave_len = NSTEPS + 1;
    p->d.wave_of = p->wave_of;
    p->d.n_pulses = 1;
    p->d.pulses = &p->pulse;
}

static const size_t PER = (size_t)NB * 5 * NW;

/* CPU reference: the states after every step, (NSTEPS, B, 5, W) doubles. */
static double *cpu_run(const axm_model *m, const prob *p, axm_prec prec)
{
    axm_err err;
    axm_err_clear(&err);
    axm_sim *s = axm_sim_create(m, NB, NW, p->D, prec, 1, &err);
    assert_non_null(s);
    assert_int_equal(axm_sim_set_drive(s, &p->d, &err), AXM_OK);
    double *rec = malloc(NSTEPS * PER * sizeof(double));
    assert_non_null(rec);
    axm_run_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = DT;
    o.n_steps = 1;
    for (int k = 0; k < NSTEPS; k++) {
        o.reinit = k == 0;
        assert_int_equal(axm_sim_run(s, &o, NULL, 0, &err), AXM_OK);
        for (int b = 0; b < NB; b++)
            for (int q = 0; q < 5; q++)
                for (int i = 0; i < NW; i++)
                    rec[k * PER + ((size_t)b * 5 + q) * NW + i] = axm_sim_state_at(s, b, q, i);
    }
    axm_sim_destroy(s);
    return rec;
}

/* GPU: the same in two chunks (400 + 600 steps), with lanes per fiber (0: the automatic choice,
 * which for NB fibers is 4 on the condensed path, 1 with passive end nodes); *used (if not NULL):
 * the lanes the run took */
static double *gpu_run(const axm_model *m, const prob *p, axm_prec prec, int lanes, int *used)
{
    axm_err err;
    axm_err_clear(&err);
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, NB, NW, p->D, prec, -1, &err);
    if (!g) fail_msg("axm_cuda_mrg_create: %s", err.msg);
    assert_int_equal(axm_cuda_mrg_set_lanes(g, lanes, &err), AXM_OK);
    if (used) *used = axm_cuda_mrg_lanes(g);
    assert_int_equal(axm_cuda_mrg_set_drive(g, &p->d, &err), AXM_OK);
    double *rec = malloc(NSTEPS * PER * sizeof(double));
    assert_non_null(rec);
    axm_run_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = DT;
    o.reinit = 1;
    o.n_steps = NFIRST;
    if (axm_cuda_mrg_run(g, &o, AXM_FP64, rec, &err)) fail_msg("axm_cuda_mrg_run: %s", err.msg);
    o.reinit = 0;
    o.n_steps = NSTEPS - NFIRST;
    if (axm_cuda_mrg_run(g, &o, AXM_FP64, rec + NFIRST * PER, &err)) fail_msg("axm_cuda_mrg_run: %s", err.msg);
    assert_int_equal(axm_cuda_mrg_step_index(g), NSTEPS);
    /* the final state agrees with the last recorded frame, and the hidden state is finite */
    double *st = malloc(PER * sizeof(double));
    assert_int_equal(axm_cuda_mrg_state(g, st, &err), AXM_OK);
    for (size_t j = 0; j < PER; j++) assert_true(st[j] == rec[(NSTEPS - 1) * PER + j]);
    free(st);
    size_t nh = (size_t)NB * (11 * NW - 10);
    double *hv = malloc(nh * sizeof(double)), *hx = malloc(nh * sizeof(double));
    assert_int_equal(axm_cuda_mrg_hidden(g, hv, hx, &err), AXM_OK);
    for (size_t j = 0; j < nh; j++) assert_true(isfinite(hv[j]) && isfinite(hx[j]) && fabs(hv[j]) < 500);
    free(hv);
    free(hx);
    axm_cuda_mrg_destroy(g);
    return rec;
}

/* Times (ms) of the 0 mV upward crossings of fiber b, node i; returns how many (<= max). */
static int crossings(const double *rec, int b, int i, double *t, int max)
{
    int n = 0;
    double prev = -80.0;
    for (int k = 0; k < NSTEPS; k++) {
        double v = rec[k * PER + ((size_t)b * 5 + 4) * NW + i];
        if (prev < 0 && v >= 0) {
            if (n < max) t[n] = (k + (-prev) / (v - prev)) * DT; /* state k is at t = (k+1) dt */
            n++;
        }
        prev = v;
    }
    return n;
}

static int fired(const double *rec, int b)
{
    double t[4];
    return crossings(rec, b, NW / 2, t, 4) > 0 && crossings(rec, b, 2, t, 4) > 0;
}

static double rel_l2(const double *a, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t j = 0; j < n; j++) {
        num += (a[j] - ref[j]) * (a[j] - ref[j]);
        den += ref[j] * ref[j];
    }
    return sqrt(num / den);
}

static void parity_fp64(int passive_end)
{
    if (!gpu_ok()) skip();
    prob p;
    prob_init(&p);
    axm_model *m = mrg_model(passive_end);
    int used = 0;
    double *c = cpu_run(m, &p, AXM_FP64), *g = gpu_run(m, &p, AXM_FP64, 0, &used);
    /* the automatic lanes: 4 for this small batch, 1 with passive end nodes */
    assert_int_equal(used, passive_end ? 1 : 4);
    /* the physics the comparison covers: cathodic fires every diameter, anodic none */
    for (int b = 0; b < 8; b++) assert_true(fired(c, b));
    for (int b = 8; b < 15; b++) assert_false(fired(c, b));
    double worst = 0;
    size_t wj = 0;
    for (size_t j = 0; j < NSTEPS * PER; j++) {
        double e = fabs(g[j] - c[j]) / (fabs(c[j]) + 1);
        if (!(e <= worst)) {
            worst = e;
            wj = j;
        }
    }
    printf("  mrg fp64 passive_end=%d, %d lanes per fiber: max state rel err %.3g (step %zu)\n", passive_end, used,
           worst, wj / PER);
    assert_true(worst <= 1e-9);
    /* every element's operations are the same with 1, 2 or 4 lanes per fiber: the same bits */
    for (int lanes = 1; lanes <= 2 && !passive_end; lanes++) {
        int u = 0;
        double *gl = gpu_run(m, &p, AXM_FP64, lanes, &u);
        assert_int_equal(u, lanes);
        size_t diff = 0;
        for (size_t j = 0; j < NSTEPS * PER; j++) diff += memcmp(&gl[j], &g[j], sizeof(double)) != 0;
        printf("  mrg fp64, %d lane(s) per fiber against 4: %zu of %zu values differ\n", lanes, diff,
               (size_t)NSTEPS * PER);
        assert_true(diff == 0);
        free(gl);
    }
    for (int b = 0; b < NB; b++)
        for (int i = 0; i < NW; i++) {
            double tc[8], tg[8];
            int nc = crossings(c, b, i, tc, 8), ng = crossings(g, b, i, tg, 8);
            assert_int_equal(nc, ng);
            for (int q = 0; q < nc && q < 8; q++) assert_true(fabs(tc[q] - tg[q]) < 1e-6);
        }
    free(c);
    free(g);
    axm_model_destroy(m);
}

static void parity_fp32(int passive_end)
{
    if (!gpu_ok()) skip();
    prob p;
    prob_init(&p);
    axm_model *m = mrg_model(passive_end);
    double *c64 = cpu_run(m, &p, AXM_FP64), *c32 = cpu_run(m, &p, AXM_FP32), *g32 = gpu_run(m, &p, AXM_FP32, 0, NULL);
    double ec = rel_l2(c32, c64, NSTEPS * PER), eg = rel_l2(g32, c64, NSTEPS * PER), e2 = rel_l2(g32, c32, NSTEPS * PER);
    printf("  mrg fp32 passive_end=%d: state rel err vs CPU fp64: GPU %.3g, CPU fp32 %.3g (GPU vs CPU fp32 %.3g)\n",
           passive_end, eg, ec, e2);
    assert_true(eg <= 10 * ec + 1e-6);
    for (int b = 0; b < NB; b++) assert_int_equal(fired(g32, b), fired(c32, b));
    free(c64);
    free(c32);
    free(g32);
    axm_model_destroy(m);
}

static void test_fp64(void **st)
{
    (void)st;
    parity_fp64(0);
}

static void test_fp64_passive_end(void **st)
{
    (void)st;
    parity_fp64(1);
}

static void test_fp32(void **st)
{
    (void)st;
    parity_fp32(0);
}

static void test_fp32_passive_end(void **st)
{
    (void)st;
    parity_fp32(1);
}

static void test_bad_input(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    axm_err err;
    double D[2] = {10, 10};
    axm_model *m = mrg_model(0);
    axm_err_clear(&err);
    assert_null(axm_cuda_mrg_create(m, 1, AXM_CUDA_MAX_NODES + 1, D, AXM_FP64, -1, &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "nodes"));
    assert_null(strchr(err.msg, '\n'));
    axm_model *smf = axm_model_create("smf", &err);
    assert_non_null(smf);
    axm_err_clear(&err);
    assert_null(axm_cuda_mrg_create(smf, 2, 11, D, AXM_FP64, -1, &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "mrg"));
    axm_model_destroy(smf);
    D[1] = -1;
    axm_err_clear(&err);
    assert_null(axm_cuda_mrg_create(m, 2, 11, D, AXM_FP64, -1, &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "diameter"));
    D[1] = 10;
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, 2, 11, D, AXM_FP64, -1, &err);
    assert_non_null(g);
    axm_err_clear(&err);
    assert_int_equal(axm_cuda_mrg_set_lanes(g, 3, &err), AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "lanes: expected 0 (automatic), 1, 2 or 4, got 3"));
    axm_cuda_mrg_destroy(g);
    axm_model_destroy(m);
}

/* gendata's GPU engine against its CPU engine on one drawn run: the float traces agree to the last
 * float bit or two (fp64 simulation), e, node positions and activations exactly. */
static void test_gendata_engine(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    axm_err err;
    axm_err_clear(&err);
    axm_gendata_cfg c;
    axm_gendata_defaults(&c);
    c.nodes = 21;
    c.rows = 2;
    c.fibers = 3;
    c.tstop_ms = 2.0;
    c.prec = AXM_FP64;
    c.seed = 11;
    c.delay_ms[1] = 0.5;
    c.amp_mA[0] = -1.0;
    c.amp_mA[1] = 1.0;
    assert_int_equal(axm_gendata_check(&c, &err), AXM_OK);
    axm_model *m = mrg_model(0);
    axm_gendata_batch *a = axm_gendata_batch_create(&c, 5, &err), *g = axm_gendata_batch_create(&c, 5, &err);
    assert_non_null(a);
    assert_non_null(g);
    assert_int_equal(axm_gendata_draw(&c, m, 0, a, &err), AXM_OK);
    assert_int_equal(axm_gendata_draw(&c, m, 0, g, &err), AXM_OK);
    assert_int_equal(axm_gendata_simulate(&c, m, a, 1, NULL, NULL, NULL, &err), AXM_OK);
    if (axm_gendata_simulate_with(&c, m, g, axm_cuda_gendata_engine, NULL, 1, NULL, NULL, NULL, &err))
        fail_msg("gendata on the GPU: %s", err.msg);
    size_t n = (size_t)a->S * a->B * a->W * a->T, ne = (size_t)a->B * a->W * a->T;
    double worst = 0;
    for (size_t j = 0; j < n; j++) {
        double e = fabs((double)g->states[j] - a->states[j]) / (fabs(a->states[j]) + 1);
        if (!(e <= worst)) worst = e;
    }
    int fired = 0;
    for (int b = 0; b < a->B; b++) {
        assert_true(g->act[b] == a->act[b]);
        fired += a->act[b] > 0;
    }
    for (size_t j = 0; j < ne; j++) assert_true(g->e[j] == a->e[j]);
    printf("  gendata engine: %d of %d fibers fired, max trace rel err %.3g\n", fired, a->B, worst);
    assert_true(worst <= 1e-6);
    axm_gendata_batch_destroy(a);
    axm_gendata_batch_destroy(g);
    axm_model_destroy(m);
}

/* gendata's GPU engine with k runs per call (one GPU batch of all their fibers, recorded in chunks
 * of 37 steps with a partial last one, transposed on several threads) gives every run exactly the
 * traces of the run simulated alone; a raised cancel stops it with AXM_ERR_CANCELLED. */
static void test_gendata_engine_runs_per_call(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    axm_err err;
    axm_err_clear(&err);
    for (int pi = 0; pi < 2; pi++) {
        axm_gendata_cfg c;
        axm_gendata_defaults(&c);
        c.nodes = 21;
        c.rows = 2;
        c.fibers = 3;
        c.tstop_ms = 2.0;
        c.prec = pi ? AXM_FP32 : AXM_FP64;
        c.seed = 12;
        c.delay_ms[1] = 0.5;
        c.amp_mA[0] = -1.0;
        c.amp_mA[1] = 1.0;
        assert_int_equal(axm_gendata_check(&c, &err), AXM_OK);
        axm_model *m = mrg_model(0);
        enum { K = 3 };
        axm_gendata_batch *bs[K], *one = axm_gendata_batch_create(&c, 5, &err);
        assert_non_null(one);
        for (int j = 0; j < K; j++) {
            bs[j] = axm_gendata_batch_create(&c, 5, &err);
            assert_non_null(bs[j]);
            assert_int_equal(axm_gendata_draw(&c, m, j, bs[j], &err), AXM_OK);
        }
        axm_cuda_gendata_opts go = {-1, 37};
        if (axm_gendata_simulate_many(&c, m, bs, K, axm_cuda_gendata_engine, &go, 1, NULL, NULL, NULL, &err))
            fail_msg("gendata on the GPU, %d runs per call: %s", K, err.msg);
        size_t n = (size_t)5 * one->B * one->W * one->T, ne = (size_t)one->B * one->W * one->T;
        int fired = 0;
        for (int j = 0; j < K; j++) {
            assert_int_equal(axm_gendata_draw(&c, m, j, one, &err), AXM_OK);
            if (axm_gendata_simulate_with(&c, m, one, axm_cuda_gendata_engine, NULL, 1, NULL, NULL, NULL, &err))
                fail_msg("gendata on the GPU: %s", err.msg);
            assert_memory_equal(one->states, bs[j]->states, n * sizeof(float));
            assert_memory_equal(one->e, bs[j]->e, ne * sizeof(float));
            assert_memory_equal(one->act, bs[j]->act, (size_t)one->B * sizeof(float));
            for (int b = 0; b < one->B; b++) fired += one->act[b] > 0;
        }
        printf("  gendata engine, %d runs per call (%s): identical to one run per call, %d of %d fibers fired\n", K,
               pi ? "fp32" : "fp64", fired, K * one->B);
        volatile int cancel = 1;
        assert_int_equal(axm_gendata_simulate_many(&c, m, bs, K, axm_cuda_gendata_engine, &go, 1, &cancel, NULL, NULL,
                                                   &err),
                         AXM_ERR_CANCELLED);
        for (int j = 0; j < K; j++) axm_gendata_batch_destroy(bs[j]);
        axm_gendata_batch_destroy(one);
        axm_model_destroy(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp64), cmocka_unit_test(test_fp64_passive_end), cmocka_unit_test(test_fp32),
        cmocka_unit_test(test_fp32_passive_end), cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_gendata_engine), cmocka_unit_test(test_gendata_engine_runs_per_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
