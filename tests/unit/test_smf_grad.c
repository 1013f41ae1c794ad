/* Gradients of the S-MF step (core/smf_grad.c) against central finite differences in fp64, on
 * random states and parameters, for one step and for a loss over many steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "model.h"
#include "smf_grad.h"

typedef struct rng {
    uint64_t s;
} rng;
static double urand(rng *r) /* [0,1) */
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(r->s >> 11) * (1.0 / 9007199254740992.0);
}
static double uni(rng *r, double a, double b) { return a + (b - a) * urand(r); }

#define WMAX 16
#define KMAX 40

/* A problem: K steps of one fiber; loss = sum_k sum_i c[k][i] * s_k[i], k = 1..K. */
typedef struct prob {
    axm_smfg_theta th;
    double D, dt;
    int W, K;
    double s0[AXM_SMFG_NS * WMAX];
    double ve[KMAX][WMAX], intra[KMAX][WMAX];
    double c[KMAX + 1][AXM_SMFG_NS * WMAX];
} prob;

static double loss_abs(const prob *P, double *abs_sum)
{
    axm_smfg_lumped L;
    axm_smfg_lump(&P->th, P->D, &L);
    double s[AXM_SMFG_NS * WMAX], sn[AXM_SMFG_NS * WMAX], scr[4 * WMAX];
    int n = AXM_SMFG_NS * P->W;
    memcpy(s, P->s0, sizeof s);
    double f = 0;
    for (int k = 0; k < P->K; k++) {
        axm_smfg_fwd_step(&P->th, &L, P->W, s, P->ve[k], P->intra[k], P->dt, sn, scr);
        memcpy(s, sn, sizeof s);
        for (int i = 0; i < n; i++) {
            f += P->c[k + 1][i] * s[i];
            *abs_sum += fabs(P->c[k + 1][i] * s[i]);
        }
    }
    return f;
}

static double loss(const prob *P)
{
    double a = 0;
    return loss_abs(P, &a);
}

/* Analytic gradient by walking the stored trajectory backwards. */
static void grad(const prob *P, axm_smfg_grad *g, double *gs0, double gve[KMAX][WMAX],
                 double gin[KMAX][WMAX])
{
    axm_smfg_lumped L;
    axm_smfg_lump(&P->th, P->D, &L);
    int W = P->W, n = AXM_SMFG_NS * W;
    static double traj[KMAX + 1][AXM_SMFG_NS * WMAX];
    double scr[4 * WMAX], a[AXM_SMFG_NS * WMAX], ao[AXM_SMFG_NS * WMAX];
    memcpy(traj[0], P->s0, sizeof traj[0]);
    for (int k = 0; k < P->K; k++)
        axm_smfg_fwd_step(&P->th, &L, W, traj[k], P->ve[k], P->intra[k], P->dt, traj[k + 1], scr);
    axm_smfg_grad_zero(g);
    memset(a, 0, sizeof a);
    for (int k = P->K; k >= 1; k--) {
        for (int i = 0; i < n; i++) a[i] += P->c[k][i];
        memset(gve[k - 1], 0, sizeof gve[k - 1]);
        memset(gin[k - 1], 0, sizeof gin[k - 1]);
        axm_smfg_bwd_step(&P->th, &L, W, traj[k - 1], P->ve[k - 1], P->intra[k - 1], P->dt, a, ao,
                         gve[k - 1], gin[k - 1], g, scr);
        memcpy(a, ao, sizeof a);
    }
    axm_smfg_grad_flush_fiber(&P->th, P->D, g);
    memcpy(gs0, a, n * sizeof *a);
}

static void make_prob(prob *P, rng *r, int W, int K, int taps, double vlo, double vhi)
{
    memset(P, 0, sizeof *P);
    axm_smfg_theta_defaults(&P->th);
    for (int i = 0; i < AXM_SMFG_NP; i++) P->th.p[i] *= 1 + uni(r, -0.1, 0.1);
    P->th.p[AXM_SMFG_VEGAIN1] = uni(r, -1e-3, 1e-3); /* a gain that varies with D */
    P->th.p[AXM_SMFG_VEGAIN2] = uni(r, -1e-2, 1e-2);
    P->th.p[AXM_SMFG_CMGAIN1] = uni(r, -1e-3, 1e-3);
    P->th.p[AXM_SMFG_CMGAIN2] = uni(r, -1e-2, 1e-2);
    P->th.taps = taps;
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < taps; k++) P->th.w[c][k] = uni(r, 0.3, 1.0) * (k == taps / 2 ? -2 : 1);
    P->D = uni(r, 5.7, 14.0);
    P->dt = 0.005;
    P->W = W;
    P->K = K;
    for (int j = 0; j < W; j++) {
        for (int g = 0; g < 4; g++) P->s0[g * W + j] = uni(r, 0.05, 0.95);
        P->s0[4 * W + j] = uni(r, vlo, vhi);
    }
    for (int k = 0; k < K; k++)
        for (int j = 0; j < W; j++) {
            P->ve[k][j] = uni(r, -20, 20);
            P->intra[k][j] = uni(r, -1e-7, 1e-7);
        }
    for (int k = 1; k <= K; k++)
        for (int i = 0; i < AXM_SMFG_NS * W; i++)
            P->c[k][i] = (i >= 4 * W ? 1.0 : 100.0) * uni(r, -1, 1);
}

/* Fourth-order central difference of loss w.r.t. *x, with h relative to |x|. Returns the
 * estimate and the round-off floor of the estimate. */
static double fd(prob *P, double *x, double *floor_out)
{
    double x0 = *x;
    double h = fabs(x0) > 1e-12 ? 1e-3 * fabs(x0) : 1e-6;
    double f[4];
    const double o[4] = {-2, -1, 1, 2};
    for (int i = 0; i < 4; i++) {
        *x = x0 + o[i] * h;
        f[i] = loss(P);
    }
    *x = x0;
    double F = 0;
    loss_abs(P, &F);
    /* each evaluation carries a rounding error of a few ulps of the sum of |terms| (the states
     * themselves are rounded too); the difference quotient amplifies it by ~1.5/h */
    *floor_out = 1.5 * 1e-15 * F / h;
    return (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * h);
}

static double check(const char *what, double an, double num, double fl)
{
    double err = fabs(an - num);
    double rel = err / fmax(fmax(fabs(an), fabs(num)), 1e-300);
    if (err > 1e-6 * fmax(fabs(an), fabs(num)) && err > fl) {
        print_error("%s: analytic %.12e, finite difference %.12e (rel %.3e, floor %.3e)\n", what, an,
                    num, rel, fl);
        fail();
    }
    /* report the relative error where the round-off floor allows a 1e-6 verdict */
    return fl < 1e-6 * fmax(fabs(an), fabs(num)) ? rel : 0;
}

static void run_case(int W, int K, int taps, int hn, uint64_t seed, double vlo, double vhi)
{
    static prob P;
    rng r = {seed};
    make_prob(&P, &r, W, K, taps, vlo, vhi);
    P.th.handle_nan = hn;
    axm_smfg_grad g;
    double gs0[AXM_SMFG_NS * WMAX];
    static double gve[KMAX][WMAX], gin[KMAX][WMAX];
    grad(&P, &g, gs0, gve, gin);
    double worst = 0, fl;
    char what[96];
    int n_checked = 0;
    for (int i = 0; i < AXM_SMFG_NP; i++) {
        double num = fd(&P, &P.th.p[i], &fl);
        snprintf(what, sizeof what, "param %s", axm_smfg_param_name(i));
        worst = fmax(worst, check(what, g.p[i], num, fl));
        n_checked += fl < 1e-6 * fabs(g.p[i]);
    }
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < taps; k++) {
            double num = fd(&P, &P.th.w[c][k], &fl);
            snprintf(what, sizeof what, "stencil[%d][%d]", c, k);
            worst = fmax(worst, check(what, g.w[c][k], num, fl));
        }
    for (int i = 0; i < AXM_SMFG_NS * W; i++) {
        double num = fd(&P, &P.s0[i], &fl);
        snprintf(what, sizeof what, "state %d node %d", i / W, i % W);
        worst = fmax(worst, check(what, gs0[i], num, fl));
    }
    for (int k = 0; k < K; k += (K > 3 ? K / 3 : 1))
        for (int j = 0; j < W; j++) {
            double num = fd(&P, &P.ve[k][j], &fl);
            snprintf(what, sizeof what, "ve step %d node %d", k, j);
            worst = fmax(worst, check(what, gve[k][j], num, fl));
            num = fd(&P, &P.intra[k][j], &fl);
            snprintf(what, sizeof what, "intra step %d node %d", k, j);
            worst = fmax(worst, check(what, gin[k][j], num, fl));
        }
    /* most parameters must really have been checked, not waved through by the floor */
    assert_true(n_checked >= AXM_SMFG_NP - 10);
    print_message("W=%d K=%d taps=%d handle_nan=%d: worst relative error %.2e (%d params above floor)\n",
                  W, K, taps, hn, worst, n_checked);
}

static void test_one_step(void **st)
{
    (void)st;
    run_case(7, 1, 3, 0, 11, -90, 30);
    run_case(5, 1, 3, 1, 12, -90, 30);
}

static void test_one_step_wide_stencil(void **st)
{
    (void)st;
    run_case(9, 1, 5, 0, 13, -90, 30);
}

static void test_multi_step(void **st)
{
    (void)st;
    run_case(6, 30, 3, 1, 21, -85, -60);
    run_case(4, 12, 3, 0, 22, -70, 20);
}

/* Two nodes is the smallest fiber (reflect padding needs W > 1). */
static void test_two_nodes(void **st)
{
    (void)st;
    run_case(2, 5, 3, 0, 31, -90, 0);
}

/* handle_nan: at a 0/0 point (v = -amB) the rate takes the limit A*C, and the value is finite. */
static void test_nan_limit(void **st)
{
    (void)st;
    axm_smfg_theta th;
    axm_smfg_theta_defaults(&th);
    axm_smfg_lumped L;
    axm_smfg_lump(&th, 10.0, &L);
    double s[AXM_SMFG_NS * 3], sn[AXM_SMFG_NS * 3], ve[3] = {0, 0, 0}, scr[12];
    axm_smfg_ic(3, s);
    for (int j = 0; j < 3; j++) s[4 * 3 + j] = -th.p[AXM_SMFG_AMB];
    axm_smfg_fwd_step(&th, &L, 3, s, ve, NULL, 0.005, sn, scr);
    assert_true(isnan(sn[0]));
    th.handle_nan = 1;
    axm_smfg_fwd_step(&th, &L, 3, s, ve, NULL, 0.005, sn, scr);
    for (int i = 0; i < 15; i++) assert_true(isfinite(sn[i]));
    /* gradient there is finite too */
    double gn[15], go[15];
    for (int i = 0; i < 15; i++) gn[i] = 1;
    axm_smfg_grad g;
    axm_smfg_grad_zero(&g);
    axm_smfg_bwd_step(&th, &L, 3, s, ve, NULL, 0.005, gn, go, NULL, NULL, &g, scr);
    for (int i = 0; i < 15; i++) assert_true(isfinite(go[i]));
    assert_true(isfinite(g.p[AXM_SMFG_AMA]) && isfinite(g.p[AXM_SMFG_AMC]));
}

/* §14.2: D = 10, W = 5, ve = [0,-5,-10,-5,0], one step from ic with the defaults. */
static void test_spec_one_step(void **st)
{
    (void)st;
    axm_smfg_theta th;
    axm_smfg_theta_defaults(&th);
    /* §14 used float32-rounded defaults */
    for (int i = 0; i < AXM_SMFG_NP; i++) th.p[i] = (double)(float)th.p[i];
    axm_smfg_lumped L;
    axm_smfg_lump(&th, 10.0, &L);
    assert_float_equal(L.ra / 1e6, 21.7363336, 1e-6);
    assert_float_equal(L.Cn / 1.01624956e-09, 1.0, 1e-7);
    assert_float_equal(L.q[0], 3.82048566, 1e-7);
    assert_float_equal(L.q[1], 6.11049820, 1e-7);
    assert_float_equal(L.q[3], 1.11612317, 1e-7);
    double s[25], sn[25], scr[10], ve[5] = {0, -5, -10, -5, 0};
    axm_smfg_ic(5, s);
    axm_smfg_fwd_step(&th, &L, 5, s, ve, NULL, 0.005, sn, scr);
    const double want[5] = {-82.262829987, -79.999315164, -77.735800341, -79.999315164,
                            -82.262829987};
    for (int j = 0; j < 5; j++) assert_float_equal(sn[20 + j], want[j], 2e-8);
    for (int i = 0; i < 20; i++) assert_float_equal(sn[i], s[i], 1e-9);
}


/* The training forward equals the engine's S-MF step (core/smf.c, fp64) to 1e-12: one step on
 * random states, parameters and stencils, with and without handle_nan, then 200 steps from rest. */
static void test_matches_engine(void **st)
{
    (void)st;
    rng r = {77};
    for (int trial = 0; trial < 4; trial++) {
        axm_err e;
        axm_err_clear(&e);
        axm_model *m = axm_model_create("smf", &e);
        assert_non_null(m);
        for (int i = 0; i < AXM_SMFG_NP; i++) {
            const char *nm = axm_smfg_param_name(i);
            if (i == AXM_SMFG_PI) continue;
            assert_int_equal(axm_model_set(m, nm, axm_model_get(m, nm) * (1 + uni(&r, -0.05, 0.05)), &e), AXM_OK);
        }
        assert_int_equal(axm_model_set(m, "vegain1", uni(&r, -1e-3, 1e-3), &e), AXM_OK);
        assert_int_equal(axm_model_set(m, "vegain2", uni(&r, -1e-2, 1e-2), &e), AXM_OK);
        assert_int_equal(axm_model_set(m, "cmgain1", uni(&r, -1e-3, 1e-3), &e), AXM_OK);
        assert_int_equal(axm_model_set(m, "cmgain2", uni(&r, -1e-2, 1e-2), &e), AXM_OK);
        m->taps = trial == 3 ? 5 : 3;
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < m->taps; k++) m->stencil[c][k] = uni(&r, 0.3, 1.0) * (k == m->taps / 2 ? -2 : 1);
        m->handle_nan = trial & 1;
        axm_smfg_theta th;
        assert_int_equal(axm_smfg_theta_from_model(&th, m, &e), AXM_OK);
        /* W reaches the step's blocking paths (fp64 blocks of 8: padded, window, full + window) */
        enum { B = 3, WM = 19 };
        static const int Ws[4] = {3, 11, 19, 8};
        const int W = Ws[trial];
        double D[B] = {5.7, 9.3, 14.0};
        const axm_model_kind *k = m->kind;
        void *ws = k->ws_create(m, B, W, D, AXM_FP64, &e);
        assert_non_null(ws);
        void *scr = malloc(k->scratch_bytes(m, W) + 64);
        static double se[B * 5 * WM], sm[B * 5 * WM], sn[B * 5 * WM], ve[B * WM];
        k->init(ws, 0, B, se);
        for (int i = 0; i < B * 5 * W; i++) {
            int g = (i / W) % 5;
            se[i] = g < 4 ? uni(&r, 0.02, 0.98) : uni(&r, -95, 40);
        }
        for (int i = 0; i < B * W; i++) ve[i] = uni(&r, -30, 30);
        memcpy(sm, se, sizeof(double) * B * 5 * W);
        double sc[4 * WM];
        int nsteps = 1;
        for (int phase = 0; phase < 2; phase++) {
            for (int n = 0; n < nsteps; n++) {
                k->step(ws, 0, B, se, ve, NULL, 0.005, scr);
                for (int b = 0; b < B; b++) {
                    axm_smfg_lumped L;
                    axm_smfg_lump(&th, D[b], &L);
                    axm_smfg_fwd_step(&th, &L, W, sm + b * 5 * W, ve + b * W, NULL, 0.005, sn + b * 5 * W, sc);
                }
                memcpy(sm, sn, sizeof(double) * B * 5 * W);
            }
            double tol = phase == 0 ? 1e-12 : 1e-9, worst = 0;
            for (int i = 0; i < B * 5 * W; i++) {
                /* both NaN (no handle_nan) is agreement too */
                double d = isnan(se[i]) && isnan(sm[i]) ? 0 : fabs(se[i] - sm[i]) / fmax(1.0, fabs(se[i]));
                worst = fmax(worst, d);
                if (!(d <= tol)) fprintf(stderr, "trial %d phase %d: [%d] engine %.17g training %.17g\n", trial, phase, i, se[i], sm[i]);
                assert_true(d <= tol);
            }
            if (phase == 1) print_message("trial %d: %d steps from rest, worst relative difference %.2e\n", trial, nsteps, worst);
            /* phase 1: 200 steps from rest under the same ve */
            k->init(ws, 0, B, se);
            memcpy(sm, se, sizeof(double) * B * 5 * W);
            nsteps = 200;
            for (int i = 0; i < B * W; i++) ve[i] *= 0.2;
        }
        free(scr);
        k->ws_destroy(ws);
        axm_model_destroy(m);
    }
}

/* fp32 (the config's "fp32"): the new state is rounded to float32, close to the fp64 result. */
static void test_round_f32(void **st)
{
    (void)st;
    axm_smfg_theta th;
    axm_smfg_theta_defaults(&th);
    axm_smfg_lumped L;
    axm_smfg_lump(&th, 10.0, &L);
    double s[25], a[25], b[25], scr[10], ve[5] = {0, -5, -10, -5, 0};
    axm_smfg_ic(5, s);
    axm_smfg_fwd_step(&th, &L, 5, s, ve, NULL, 0.005, a, scr);
    th.round_f32 = 1;
    axm_smfg_fwd_step(&th, &L, 5, s, ve, NULL, 0.005, b, scr);
    for (int i = 0; i < 25; i++) {
        assert_true(b[i] == (double)(float)b[i]);
        assert_float_equal(a[i], b[i], 1e-6 * fmax(1, fabs(a[i])));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_one_step),
        cmocka_unit_test(test_one_step),
        cmocka_unit_test(test_one_step_wide_stencil),
        cmocka_unit_test(test_multi_step),
        cmocka_unit_test(test_two_nodes),
        cmocka_unit_test(test_nan_limit),
        cmocka_unit_test(test_matches_engine),
        cmocka_unit_test(test_round_f32),
    };
    return cmocka_run_group_tests_name("smf_grad", tests, NULL, NULL);
}
