/* GPU vs CPU parity of the MRG threshold search (axm_cuda_mrg_threshold against axm_threshold):
 * random small problems (6..12 fibers of 5.7..16 um, 21..31 nodes, 1..2 ms, point sources at random
 * distance and position along the fiber, monophasic pulses of random width and polarity, random
 * detection settings), with and without passive end nodes, plus a search cancelled from the
 * progress callback and bad input.
 *
 * Error bounds:
 *   fp64  the same status for every condition, the same number of fiber simulations and rounds, and
 *         upper/lower bounds within 1e-9 relative. Both backends try the same amplitude sequence
 *         (core/thresh.c's search drives both), so the bounds are the same numbers unless one
 *         activation decision flips, which needs a trial amplitude within the forward rounding
 *         difference (FMA contraction, CUDA's exp: test_parity_mrg.c bounds it by 1e-9 of the
 *         states) of a threshold. Under emulation (tests/gpu/emu.sh) both run the same double
 *         operations and agree exactly.
 *   fp32  only the stored node states are float on both sides: a decision may flip right at a
 *         threshold, so at most one condition in six may differ in status and thresholds agree
 *         within 2 resolutions.
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
#include "axonml.h"
#include "parity_util.h"

enum { MAXB = 12 };
static const double DT = 0.005;

typedef struct prob {
    int B, W, n_steps;
    double tstop;
    double D[MAXB], ub0[MAXB];
    axm_source src[MAXB];
    int wave_of[MAXB];
    double *wave[2];
    const double *waves[2];
    axm_drive d;
    axm_thresh_opts o;
    long launch_steps;
    int lanes; /* the GPU search's lanes per fiber (both) */
} prob;

/* A drawn problem (hard: with a late window and a low max_amp, so that some conditions give up):
 * fibers alternate between a cathodic (wave 0) and an anodic (wave 1) pulse of the
 * same width; each fiber has its own source distance (0.3..2 mm) and offset along the axis. */
static void prob_make(prob *p, rng *r, int hard)
{
    static const double diam[8] = {5.7, 7.3, 8.7, 10.0, 11.5, 12.8, 14.0, 16.0};
    memset(p, 0, sizeof *p);
    p->B = 6 + (int)(urand(r) * 7);
    p->W = 21 + 2 * (int)(urand(r) * 6);
    p->tstop = uniform(r, 1.0, 2.0);
    p->n_steps = (int)lround(p->tstop / DT);
    double pw = uniform(r, 0.05, 0.3), delay = 0.1;
    for (int q = 0; q < 2; q++) {
        p->wave[q] = malloc(sizeof(double) * (size_t)(p->n_steps + 1));
        assert_non_null(p->wave[q]);
        for (int k = 0; k <= p->n_steps; k++) {
            double t = k * DT;
            int on = t >= delay - 1e-9 && t < delay + pw - 1e-9;
            p->wave[q][k] = on ? (q == 0 ? -1.0 : 1.0) : 0.0;
        }
        p->waves[q] = p->wave[q];
    }
    for (int b = 0; b < p->B; b++) {
        p->D[b] = diam[(int)(urand(r) * 8)];
        p->src[b].kind = AXM_SRC_POINT;
        p->src[b].x_um = 0;
        p->src[b].y_um = uniform(r, -600, 600);
        p->src[b].z_um = uniform(r, 300, 2000);
        p->src[b].rho_ohm_cm = 500.0;
        p->wave_of[b] = urand(r) < 0.6 ? 0 : 1;
        p->ub0[b] = uniform(r, 0.02, 1.0);
    }
    p->d.n_contacts = 1;
    p->d.sources = p->src;
    p->d.n_waves = 2;
    p->d.waves = p->waves;
    p->d.wave_len = p->n_steps + 1;
    p->d.wave_of = p->wave_of;
    p->o = axm_thresh_opts_default();
    p->o.dt_ms = DT;
    p->o.tstop_ms = p->tstop;
    p->o.resolution = 0.01;
    p->o.ub_init = p->ub0;
    /* a small max_amp gives far anodic conditions no_activation after a few raises, a late window
     * (spikes pass the checked nodes before it opens) the bound fix's block branch */
    p->o.max_amp = uniform(r, 0.3, 30);
    p->o.max_tries_bound_fix = 3 + (int)(urand(r) * 8);
    p->o.detect.nodes[0] = 3 + (int)(urand(r) * 4);
    p->o.detect.nodes[1] = -(3 + (int)(urand(r) * 4));
    p->o.detect.nodes[2] = p->W / 2;
    p->o.detect.n_nodes = 3;
    p->o.detect.at_least = 1 + (int)(urand(r) * 2);
    double u = urand(r);
    p->o.detect.t_start_ms = u < 0.4 ? 0.0 : u < 0.75 ? 0.2 : 0.7 * p->tstop;
    if (hard) {
        p->o.detect.t_start_ms = 0.7 * p->tstop;
        p->o.max_amp = uniform(r, 0.3, 2);
    }
    /* every other problem in short launches, so that fibers cross launch boundaries (and activate in
     * a later launch than the one they started in) */
    p->launch_steps = urand(r) < 0.5 ? 0 : 17 + (int)(urand(r) * 40);
}

static void prob_free(prob *p)
{
    free(p->wave[0]);
    free(p->wave[1]);
}

typedef struct cancel_after {
    volatile int flag;
    int after;
} cancel_after;

static void cancel_cb(void *ud, int n_decided, int n_total, int iteration)
{
    cancel_after *c = ud;
    (void)n_decided;
    (void)n_total;
    if (iteration >= c->after) c->flag = 1;
}

/* Runs the CPU and the GPU search on p (lanes per fiber on the GPU: axm_cuda_mrg_set_lanes, 0 the
 * automatic choice); returns 0 when the GPU search could not start. */
static int both(const axm_model *m, prob *p, axm_prec prec, int cancel_at, int lanes, axm_thresh_result *rc,
                axm_thresh_result *rg, int *rcode_c, int *rcode_g)
{
    axm_err e;
    axm_err_clear(&e);
    axm_sim *s = axm_sim_create(m, p->B, p->W, p->D, prec, 2, &e);
    if (!s) fail_msg("axm_sim_create: %s", e.msg);
    assert_int_equal(axm_sim_set_drive(s, &p->d, &e), AXM_OK);
    cancel_after ca = {0, cancel_at};
    axm_thresh_opts o = p->o;
    if (cancel_at > 0) {
        o.cancel = &ca.flag;
        o.progress = cancel_cb;
        o.progress_ud = &ca;
    }
    *rcode_c = axm_threshold(s, &o, rc, &e);
    if (*rcode_c && *rcode_c != AXM_ERR_CANCELLED) fail_msg("cpu: %s", e.msg);
    axm_sim_destroy(s);
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, p->B, p->W, p->D, prec, -1, &e);
    if (!g) fail_msg("axm_cuda_mrg_create: %s", e.msg);
    assert_int_equal(axm_cuda_mrg_set_drive(g, &p->d, &e), AXM_OK);
    axm_cuda_mrg_set_launch_steps(g, p->launch_steps);
    assert_int_equal(axm_cuda_mrg_set_lanes(g, lanes, &e), AXM_OK);
    p->lanes = axm_cuda_mrg_lanes(g);
    ca.flag = 0;
    *rcode_g = axm_cuda_mrg_threshold(g, &o, rg, &e);
    if (*rcode_g && *rcode_g != AXM_ERR_CANCELLED) fail_msg("gpu: %s", e.msg);
    axm_cuda_mrg_destroy(g);
    return 1;
}

/* Relative difference of two bounds; both NaN counts as equal. */
static double rdiff(double a, double b)
{
    if (isnan(a) && isnan(b)) return 0;
    if (isnan(a) || isnan(b)) return INFINITY;
    if (a == b) return 0;
    return fabs(a - b) / fmax(fabs(a), fabs(b));
}

static void parity(const char *name, int passive_end, axm_prec prec, int n_probs)
{
    rng r = {0x9E3779B97F4A7C15ull ^ (uint64_t)(passive_end * 7 + (prec == AXM_FP32) * 13 + 1)};
    axm_model *m = mrg_model(passive_end);
    int hist[AXM_TH_CANCELLED + 1] = {0}, n_cond = 0, n_same = 0;
    double worst = 0;
    for (int t = 0; t < n_probs; t++) {
        prob p;
        prob_make(&p, &r, t == 1);
        axm_thresh_result rc, rg;
        int cc, cg;
        /* every lanes-per-fiber kernel in turn: automatic (4 for these small batches; 1 with passive
         * end nodes), 1, 2 */
        both(m, &p, prec, 0, t % 3, &rc, &rg, &cc, &cg);
        assert_int_equal(cc, AXM_OK);
        assert_int_equal(cg, AXM_OK);
        assert_int_equal(rg.n, p.B);
        int same = 0;
        for (int b = 0; b < p.B; b++) {
            hist[rc.status[b]]++;
            if (rc.status[b] != rg.status[b]) continue;
            same++;
            double d = fmax(rdiff(rc.upper[b], rg.upper[b]), rdiff(rc.lower[b], rg.lower[b]));
            if (d > worst) worst = d;
            if (rg.status[b] == AXM_TH_OK) assert_true(rg.lower[b] < rg.upper[b]);
        }
        printf("  %s problem %d: B=%d W=%d tstop=%.2f ms at_least=%d t_start=%.2f launch=%ld lanes=%d: %d/%d same "
               "status; sims cpu %ld gpu %ld, rounds cpu %d gpu %d\n",
               name, t, p.B, p.W, p.tstop, p.o.detect.at_least, p.o.detect.t_start_ms, p.launch_steps, p.lanes, same,
               p.B, rc.n_sims, rg.n_sims, rc.iterations, rg.iterations);
        assert_int_equal(p.lanes, passive_end ? 1 : t % 3 == 0 ? 4 : t % 3);
        if (prec == AXM_FP64) {
            assert_int_equal(same, p.B);
            assert_int_equal(rc.n_sims, rg.n_sims);
            assert_int_equal(rc.iterations, rg.iterations);
        } else {
            assert_true(6 * (p.B - same) <= p.B);
        }
        n_cond += p.B;
        n_same += same;
        axm_thresh_result_free(&rc);
        axm_thresh_result_free(&rg);
        prob_free(&p);
    }
    printf("  %s: %d conditions (ok %d, no_activation %d, block %d, nan %d, not_converged %d), %d same status, "
           "worst bound rel diff %.3g\n",
           name, n_cond, hist[AXM_TH_OK], hist[AXM_TH_NO_ACTIVATION], hist[AXM_TH_BLOCK], hist[AXM_TH_NAN],
           hist[AXM_TH_NOT_CONVERGED], n_same, worst);
    /* the problems must exercise real thresholds, not only give-ups */
    assert_true(hist[AXM_TH_OK] >= n_cond / 3);
    assert_true(hist[AXM_TH_OK] < n_cond);
    assert_true(worst <= (prec == AXM_FP64 ? 1e-9 : 2 * 0.01));
    axm_model_destroy(m);
}

static void test_fp64(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    parity("fp64", 0, AXM_FP64, 4);
}

static void test_fp64_passive_end(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    parity("fp64 passive_end", 1, AXM_FP64, 2);
}

static void test_fp32(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    parity("fp32", 0, AXM_FP32, 2);
}

/* Cancelled from the progress callback after round 3: both stop before round 4, with the conditions
 * decided so far as on the CPU and the rest cancelled. */
static void test_cancel(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    rng r = {0xC0FFEEull};
    prob p;
    prob_make(&p, &r, 0);
    axm_model *m = mrg_model(0);
    axm_thresh_result rc, rg;
    int cc, cg;
    both(m, &p, AXM_FP64, 3, 0, &rc, &rg, &cc, &cg);
    assert_int_equal(cc, AXM_ERR_CANCELLED);
    assert_int_equal(cg, AXM_ERR_CANCELLED);
    assert_int_equal(rc.iterations, 3);
    assert_int_equal(rg.iterations, 3);
    assert_int_equal(rc.n_sims, rg.n_sims);
    int n_cancelled = 0;
    for (int b = 0; b < p.B; b++) {
        assert_int_equal(rc.status[b], rg.status[b]);
        n_cancelled += rg.status[b] == AXM_TH_CANCELLED;
        assert_true(rdiff(rc.upper[b], rg.upper[b]) <= 1e-9);
    }
    assert_true(n_cancelled > 0);
    axm_thresh_result_free(&rc);
    axm_thresh_result_free(&rg);
    prob_free(&p);
    axm_model_destroy(m);
}

/* Bad input is one clear line naming the setting, never a crash, and leaves an empty result. */
static void test_bad_input(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    rng r = {42};
    prob p;
    prob_make(&p, &r, 0);
    axm_model *m = mrg_model(0);
    axm_err e;
    axm_err_clear(&e);
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, p.B, p.W, p.D, AXM_FP64, -1, &e);
    if (!g) fail_msg("axm_cuda_mrg_create: %s", e.msg);
    assert_int_equal(axm_cuda_mrg_set_drive(g, &p.d, &e), AXM_OK);
    axm_thresh_result res;
    axm_thresh_opts o = p.o;
    o.detect.nodes[0] = p.W + 3;
    assert_int_equal(axm_cuda_mrg_threshold(g, &o, &res, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "node"));
    assert_null(strchr(e.msg, '\n'));
    assert_null(res.upper);
    assert_int_equal(res.n, 0);
    o = p.o;
    o.resolution = 1.5;
    assert_int_equal(axm_cuda_mrg_threshold(g, &o, &res, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "resolution"));
    o = p.o;
    o.detect.at_least = 4;
    assert_int_equal(axm_cuda_mrg_threshold(g, &o, &res, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "at_least"));
    o = p.o;
    o.tstop_ms = 0;
    assert_int_equal(axm_cuda_mrg_threshold(g, &o, &res, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "tstop_ms"));
    assert_int_equal(axm_cuda_mrg_threshold(g, NULL, &res, &e), AXM_ERR_INPUT);
    /* after all that the search still works and the sim still runs forward from the initial state */
    o = p.o;
    o.max_tries = 2;
    assert_int_equal(axm_cuda_mrg_threshold(g, &o, &res, &e), AXM_OK);
    assert_int_equal(res.n, p.B);
    axm_thresh_result_free(&res);
    axm_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.dt_ms = DT;
    ro.n_steps = 10;
    assert_int_equal(axm_cuda_mrg_run(g, &ro, AXM_FP64, NULL, &e), AXM_OK);
    assert_int_equal(axm_cuda_mrg_step_index(g), 10);
    axm_cuda_mrg_destroy(g);
    prob_free(&p);
    axm_model_destroy(m);
}

int main(void)
{
    if (getenv("AXM_TEST")) cmocka_set_test_filter(getenv("AXM_TEST"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp64),   cmocka_unit_test(test_fp64_passive_end), cmocka_unit_test(test_fp32),
        cmocka_unit_test(test_cancel), cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("parity_mrg_th", tests, NULL, NULL);
}
