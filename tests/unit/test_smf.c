/* S-MF kind: smf-model.md §14 checks, NaN handling, precisions, the vectorized exp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>

#include <cmocka.h>

#include "model.h"
#include "smf.h"
#include "smf_exp.h"

static axm_model *smf_f32_rounded(void)
{
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    assert_non_null(m);
    /* §14 values were computed with float32-rounded defaults (the original's parameters) */
    for (int i = 0; i < m->kind->n_params; i++) m->p[i] = (double)(float)m->p[i];
    return m;
}

static void assert_rel(double got, double want, double rel, const char *what)
{
    double d = fabs(got - want) / fabs(want);
    if (!(d <= rel)) fail_msg("%s: got %.12g, want %.12g (rel %.3g > %.3g)", what, got, want, d, rel);
}

static void test_lumped_table(void **st)
{
    (void)st;
    /* smf-model.md §14.1 */
    static const double tab[3][11] = {
        {5.7, 3.45881606, 1.91892059, 505.638921, 6.02846698e-08, 37.6698342, 6.02846685e-10, 1.80854009e-07,
         6.02846685e-10, 4.82277348e-09, 4.21992702e-10},
        {10.0, 6.78407837, 3.2348228, 1122.43153, 1.01624958e-07, 21.7363336, 1.01624956e-09, 3.04874875e-07,
         1.01624956e-09, 8.12999648e-09, 7.1137473e-10},
        {14.0, 10.500254, 4.66820342, 1423.44465, 1.4665594e-07, 11.5066558, 1.46655936e-09, 4.39967819e-07,
         1.46655936e-09, 1.17324749e-08, 1.02659161e-09},
    };
    axm_model *m = smf_f32_rounded();
    for (int r = 0; r < 3; r++) {
        axm_smf_lumped l;
        axm_err e;
        assert_int_equal(axm_smf_lumped_eval(m, tab[r][0], &l, &e), AXM_OK);
        double got[10] = {l.axon_d_um, l.node_d_um, l.deltax_um, l.area_cm2, l.ra_ohm / 1e6,
                          l.cn_mF, l.gna_S, l.gnap_S, l.gk_S, l.gl_S};
        static const char *names[10] = {"axonD", "nodeD", "deltax", "area", "ra", "Cn", "gNa", "gNaP", "gK", "gL"};
        for (int c = 0; c < 10; c++) {
            char what[64];
            snprintf(what, sizeof what, "D=%g %s", tab[r][0], names[c]);
            assert_rel(got[c], tab[r][c + 1], 1e-7, what);
        }
    }
    axm_model_destroy(m);
}

static void test_q10(void **st)
{
    (void)st;
    axm_model *m = smf_f32_rounded();
    double q[4];
    axm_smf_q10(m, q);
    assert_rel(q[0], 3.82048566, 1e-7, "q_m");
    assert_rel(q[1], 3.82048566, 1e-7, "q_p");
    assert_rel(q[2], 6.11049820, 1e-7, "q_h");
    assert_rel(q[3], 1.11612317, 1e-7, "q_s");
    axm_model_destroy(m);
}

/* Runs n steps of one fiber directly through the kind's operations; state (5,W) in/out as
 * double. */
static void run_direct(const axm_model *m, axm_prec prec, double D, int W, const double *ve, int n,
                       double dt, double *out)
{
    axm_err e;
    const axm_model_kind *k = m->kind;
    void *ws = k->ws_create(m, 1, W, &D, prec, &e);
    assert_non_null(ws);
    size_t es = prec == AXM_FP32 ? 4 : 8;
    void *state = calloc((size_t)5 * W, es);
    void *vb = calloc((size_t)W, es);
    void *scr = aligned_alloc(64, (k->scratch_bytes(m, W) + 63) / 64 * 64);
    assert_non_null(state);
    assert_non_null(scr);
    for (int j = 0; j < W; j++) {
        if (prec == AXM_FP32)
            ((float *)vb)[j] = (float)ve[j];
        else
            ((double *)vb)[j] = ve[j];
    }
    k->init(ws, 0, 1, state);
    for (int i = 0; i < n; i++) k->step(ws, 0, 1, state, vb, NULL, dt, scr);
    for (int i = 0; i < 5 * W; i++) out[i] = prec == AXM_FP32 ? ((float *)state)[i] : ((double *)state)[i];
    k->ws_destroy(ws);
    free(state);
    free(vb);
    free(scr);
}

static void test_one_step(void **st)
{
    (void)st;
    /* smf-model.md §14.2 */
    static const double ve[5] = {0, -5, -10, -5, 0};
    static const double want[5] = {-82.262829987, -79.999315164, -77.735800341, -79.999315164, -82.262829987};
    static const double ic[4] = {0.0732093, 0.62069505, 0.20260409, 0.04302994};
    axm_model *m = smf_f32_rounded();
    double out[25];
    run_direct(m, AXM_FP64, 10.0, 5, ve, 1, 0.005, out);
    for (int j = 0; j < 5; j++) {
        if (fabs(out[20 + j] - want[j]) > 1e-8) fail_msg("node %d: vm %.12f, want %.12f", j, out[20 + j], want[j]);
        for (int g = 0; g < 4; g++) assert_true(fabs(out[g * 5 + j] - ic[g]) < 1e-9);
    }
    axm_model_destroy(m);
}

/* §14.3: the untrained defaults fire spontaneously from ic with ve = 0. */
static void test_default_fires(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    double ve[21] = {0}, out[5 * 21];
    const axm_model_kind *k = m->kind;
    double D = 10.0;
    void *ws = k->ws_create(m, 1, 21, &D, AXM_FP64, &e);
    double *state = calloc(5 * 21, sizeof *state);
    void *scr = aligned_alloc(64, (k->scratch_bytes(m, 21) + 63) / 64 * 64);
    k->init(ws, 0, 1, state);
    double vmax = -1e9;
    for (int i = 0; i < 1000; i++) {
        k->step(ws, 0, 1, state, ve, NULL, 0.005, scr);
        for (int j = 0; j < 21; j++) vmax = fmax(vmax, state[4 * 21 + j]);
    }
    memcpy(out, state, sizeof out);
    assert_true(vmax > 40.0);
    assert_true(vmax < 60.0);
    k->ws_destroy(ws);
    free(state);
    free(scr);
    axm_model_destroy(m);
}

/* fp32 against fp64 for fiber lengths that reach every blocking path of the step (full blocks
 * in place; a last quarter, half or full block as a window over the last nodes; a fiber shorter
 * than one quarter block, padded): a node updated twice or from the wrong lane would be off by far
 * more than rounding. */
static void test_fp32_matches_fp64(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    static const int Ws[] = {3, 4, 5, 12, 20, 21, 24, 28, 37, 51};
    for (size_t t = 0; t < sizeof Ws / sizeof Ws[0]; t++) {
        int W = Ws[t], c = W / 2;
        double ve[51], o32[5 * 51], o64[5 * 51];
        for (int j = 0; j < W; j++) ve[j] = -3.0 * exp(-(j - c) * (j - c) / 8.0) + 0.1 * j;
        run_direct(m, AXM_FP32, 8.7, W, ve, 200, 0.005, o32);
        run_direct(m, AXM_FP64, 8.7, W, ve, 200, 0.005, o64);
        for (int i = 0; i < 5 * W; i++) assert_rel(o32[i], o64[i], 1e-4, "fp32 vs fp64");
    }
    axm_model_destroy(m);
}

/* A fiber's trajectory does not depend on the batch it runs in: the step gathers the last nodes
 * of several fibers into one block, each lane with its own fiber's values, so a lane mixed up
 * between fibers, or a node left out or written twice, shows as a difference. Bit-identical:
 * every lane does the same operations wherever it sits. */
static void test_batch_independent(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    enum { B = 7, WM = 51 };
    static const int Ws[] = {3, 11, 19, 51};
    const axm_model_kind *k = m->kind;
    for (int hn = 0; hn < 2; hn++)
        for (int prec = 0; prec < 2; prec++)
            for (size_t t = 0; t < sizeof Ws / sizeof Ws[0]; t++) {
                int W = Ws[t];
                size_t es = prec == AXM_FP32 ? 4 : 8;
                m->handle_nan = hn;
                double D[B];
                for (int b = 0; b < B; b++) D[b] = 5.7 + 1.3 * b;
                void *ws = k->ws_create(m, B, W, D, (axm_prec)prec, &e);
                assert_non_null(ws);
                void *scr = aligned_alloc(64, (k->scratch_bytes(m, W) + 63) / 64 * 64);
                static unsigned char all[B * 5 * WM * 8], one[5 * WM * 8], ve[B * WM * 8];
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < W; j++) {
                        double x = -25.0 * (1 + b) / (1 + (j - W / 2) * (j - W / 2) / 3.0);
                        if (prec == AXM_FP32)
                            ((float *)ve)[b * W + j] = (float)x;
                        else
                            ((double *)ve)[b * W + j] = x;
                    }
                k->init(ws, 0, B, all);
                for (int i = 0; i < 60; i++) k->step(ws, 0, B, all, ve, NULL, 0.005, scr);
                k->ws_destroy(ws);
                for (int b = 0; b < B; b++) {
                    void *w1 = k->ws_create(m, 1, W, &D[b], (axm_prec)prec, &e);
                    assert_non_null(w1);
                    k->init(w1, 0, 1, one);
                    for (int i = 0; i < 60; i++) k->step(w1, 0, 1, one, ve + (size_t)b * W * es, NULL, 0.005, scr);
                    if (memcmp(one, all + (size_t)b * 5 * W * es, 5 * W * es) != 0)
                        fail_msg("hn %d prec %d W %d: fiber %d differs alone and in the batch", hn, prec, W, b);
                    k->ws_destroy(w1);
                }
                free(scr);
            }
    axm_model_destroy(m);
}

/* A 5-tap stencil with zero outer weights is the 3-tap one (reflect padding generalized). */
static void test_wide_stencil(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m3 = axm_model_create("smf", &e), *m5 = axm_model_create("smf", &e);
    m5->taps = 5;
    for (int c = 0; c < 2; c++) {
        double w[5] = {0, 1, -2, 1, 0};
        memcpy(m5->stencil[c], w, sizeof w);
    }
    int W = 11;
    double ve[11], a[55], b[55];
    for (int j = 0; j < W; j++) ve[j] = -10.0 / (1 + (j - 3) * (j - 3));
    run_direct(m3, AXM_FP64, 10.0, W, ve, 50, 0.005, a);
    run_direct(m5, AXM_FP64, 10.0, W, ve, 50, 0.005, b);
    for (int i = 0; i < 55; i++) assert_true(fabs(a[i] - b[i]) < 1e-12);
    /* the symmetrized weights are used: an asymmetric stencil equals its symmetric average */
    m3->stencil[0][0] = 1.5;
    m3->stencil[0][2] = 0.5;
    run_direct(m3, AXM_FP64, 10.0, W, ve, 50, 0.005, b);
    for (int i = 0; i < 55; i++) assert_true(fabs(a[i] - b[i]) < 1e-12);
    axm_model_destroy(m3);
    axm_model_destroy(m5);
}

/* The ve gain (our extension) scales the extracellular drive alone: a fiber with gain g equals the
 * original with g * ve (both stencil channels are linear); it follows the diameter polynomial, and
 * a gain that is not positive is refused with the offending diameter. */
static void test_ve_gain(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e), *g = axm_model_create("smf", &e);
    assert_non_null(m);
    assert_non_null(g);
    assert_true(axm_model_get(m, "vegain1") == 0 && axm_model_get(m, "vegain2") == 0 && axm_model_get(m, "vegain3") == 1);
    /* gain(10) = 0.002 * 100 - 0.05 * 10 + 1.1 = 0.8 */
    assert_int_equal(axm_model_set(g, "vegain1", 0.002, &e), AXM_OK);
    assert_int_equal(axm_model_set(g, "vegain2", -0.05, &e), AXM_OK);
    assert_int_equal(axm_model_set(g, "vegain3", 1.1, &e), AXM_OK);
    axm_smf_lumped l;
    assert_int_equal(axm_smf_lumped_eval(g, 10.0, &l, &e), AXM_OK);
    assert_rel(l.ve_gain, 0.8, 1e-14, "gain(10)");
    assert_int_equal(axm_smf_lumped_eval(m, 10.0, &l, &e), AXM_OK);
    assert_true(l.ve_gain == 1);
    int W = 11;
    double ve[11], ves[11], a[55], b[55];
    for (int j = 0; j < W; j++) {
        ve[j] = -40.0 / (1 + (j - 4) * (j - 4));
        ves[j] = 0.8 * ve[j];
    }
    run_direct(g, AXM_FP64, 10.0, W, ve, 200, 0.005, a);
    run_direct(m, AXM_FP64, 10.0, W, ves, 200, 0.005, b);
    for (int i = 0; i < 55; i++) assert_true(fabs(a[i] - b[i]) <= 1e-9 * (1 + fabs(b[i])));
    run_direct(m, AXM_FP64, 10.0, W, ve, 200, 0.005, b);
    double d = 0;
    for (int i = 4 * W; i < 5 * W; i++) d = fmax(d, fabs(a[i] - b[i]));
    assert_true(d > 0.1); /* and the gain did change the response */
    /* gain(14) = 0.392 - 0.7 + 0.1 < 0 */
    assert_int_equal(axm_model_set(g, "vegain3", 0.1, &e), AXM_OK);
    assert_int_equal(axm_smf_lumped_eval(g, 14.0, &l, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "ve gain"));
    double D = 14.0;
    assert_null(g->kind->ws_create(g, 1, W, &D, AXM_FP64, &e));
    assert_non_null(strstr(e.msg, "diameter 14"));
    axm_model_destroy(m);
    axm_model_destroy(g);
}

/* Without handle_nan the 0/0 of alpha_p at v = -27 mV gives NaN; with it the step stays finite. */
static void test_handle_nan(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    const axm_model_kind *k = m->kind;
    int W = 4;
    double D = 10.0;
    for (int hn = 0; hn < 2; hn++) {
        m->handle_nan = hn;
        void *ws = k->ws_create(m, 1, W, &D, AXM_FP64, &e);
        double state[20], ve[4] = {0};
        void *scr = aligned_alloc(64, (k->scratch_bytes(m, W) + 63) / 64 * 64);
        k->init(ws, 0, 1, state);
        for (int j = 0; j < W; j++) state[16 + j] = -27.0; /* alpha_p: ampB = 27 */
        k->step(ws, 0, 1, state, ve, NULL, 0.005, scr);
        if (hn) {
            for (int i = 0; i < 20; i++) assert_true(isfinite(state[i]));
        } else {
            assert_true(isnan(state[8])); /* p */
        }
        k->ws_destroy(ws);
        free(scr);
    }
    axm_model_destroy(m);
}

/* Far past any spike (a strong anode next to the fiber) both rates of the s gate underflow; the
 * gate keeps its value (the limit of cnexp) instead of becoming 0/0, which with handle_nan pinned
 * vm at 0 mV for good. fp32 reaches it from about -500 mV, fp64 from about -3600 mV. */
static void test_gates_where_rates_underflow(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    const axm_model_kind *k = m->kind;
    enum { W = 4 };
    double D = 10.0;
    m->handle_nan = 1;
    for (int prec = 0; prec < 2; prec++) {
        void *ws = k->ws_create(m, 1, W, &D, prec ? AXM_FP32 : AXM_FP64, &e);
        assert_non_null(ws);
        void *scr = aligned_alloc(64, (k->scratch_bytes(m, W) + 63) / 64 * 64);
        double sd[5 * W], ved[W] = {0};
        float sf[5 * W], vef[W] = {0};
        void *state = prec ? (void *)sf : (void *)sd, *ve = prec ? (void *)vef : (void *)ved;
        k->init(ws, 0, 1, state);
        for (int j = 0; j < W; j++) {
            if (prec) sf[16 + j] = -5000.0f; else sd[16 + j] = -5000.0;
        }
        double s0 = prec ? sf[12] : sd[12];
        k->step(ws, 0, 1, state, ve, NULL, 0.005, scr);
        for (int i = 0; i < 5 * W; i++) {
            double x = prec ? sf[i] : sd[i];
            if (!isfinite(x)) fail_msg("%s: state %d of node %d is %g", prec ? "fp32" : "fp64", i / W, i % W, x);
        }
        assert_true((prec ? sf[12] : sd[12]) == (prec ? (float)s0 : s0)); /* s kept */
        assert_true((prec ? sf[16] : sd[16]) < -4000);                    /* vm not reset to 0 */
        k->ws_destroy(ws);
        free(scr);
    }
    axm_model_destroy(m);
}

static void test_too_few_nodes(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    double D = 10.0;
    assert_null(m->kind->ws_create(m, 1, 1, &D, AXM_FP64, &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "nodes"));
    double Dbad = 1.0; /* deltax polynomial < 0 */
    assert_null(m->kind->ws_create(m, 1, 5, &Dbad, AXM_FP64, &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    axm_model_destroy(m);
}

/* The AVX-512, AVX2+FMA and baseline versions of the step give the same bits. */
static void test_isa_versions_identical(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    m->handle_nan = 1;
    static const int Ws[] = {3, 11, 37, 51};
    for (size_t t = 0; t < sizeof Ws / sizeof Ws[0]; t++) {
    int W = Ws[t];
    double ve[51], ref[2][5 * 51], out[5 * 51];
    for (int j = 0; j < W; j++) ve[j] = -40.0 / (1 + (j - W / 3) * (j - W / 3) / 4.0);
    for (int isa = 2; isa >= 0; isa--) {
        char v[2] = {(char)('0' + isa), 0};
        setenv("AXM_SMF_ISA", v, 1);
        for (int prec = 0; prec < 2; prec++) {
            run_direct(m, (axm_prec)prec, 9.0, W, ve, 300, 0.005, isa == 2 ? ref[prec] : out);
            if (isa < 2)
                for (int i = 0; i < 5 * W; i++)
                    if (memcmp(&out[i], &ref[prec][i], sizeof(double)) != 0)
                        fail_msg("W %d isa %d prec %d: state %d differs: %.17g vs %.17g", W, isa, prec, i, out[i], ref[prec][i]);
        }
    }
    }
    unsetenv("AXM_SMF_ISA");
    axm_model_destroy(m);
}

static int64_t ulps_d(double a, double b)
{
    int64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    if (x < 0) x = INT64_MIN - x;
    if (y < 0) y = INT64_MIN - y;
    return x > y ? x - y : y - x;
}

static int32_t ulps_f(float a, float b)
{
    int32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    if (x < 0) x = INT32_MIN - x;
    if (y < 0) y = INT32_MIN - y;
    return x > y ? x - y : y - x;
}

/* Within 1 ulp of libm over the whole range, subnormal results and the overflow edge included
 * (core/smf_exp.h). */
static void test_vexp_accuracy(void **st)
{
    (void)st;
    int32_t worst_f = 0;
    for (long i = 0; i <= 4000000; i++) {
        float x = (float)(-110.0 + 210.0 * (double)i / 4000000.0);
        float got = axm_vexpf(x), want = expf(x);
        int32_t u = ulps_f(got, want);
        if (u > worst_f) worst_f = u;
        if (u > 1) fail_msg("expf(%a): got %a, libm %a (%d ulp)", (double)x, (double)got, (double)want, (int)u);
    }
    int64_t worst_d = 0;
    for (long i = 0; i <= 4000000; i++) {
        double x = -750.0 + 1470.0 * (double)i / 4000000.0;
        double got = axm_vexp(x), want = exp(x);
        int64_t u = ulps_d(got, want);
        if (u > worst_d) worst_d = u;
        if (u > 1) fail_msg("exp(%a): got %a, libm %a (%lld ulp)", x, got, want, (long long)u);
    }
    /* small arguments, where gating exponents live, and the edges in fine steps */
    for (long i = 0; i <= 1000000; i++) {
        double x = -3.0 + 6.0 * (double)i / 1000000.0;
        assert_true(ulps_d(axm_vexp(x), exp(x)) <= 1);
        assert_true(ulps_f(axm_vexpf((float)x), expf((float)x)) <= 1);
    }
    for (float x = 88.0f; x < 89.0f; x = nextafterf(x, 100.0f)) assert_true(ulps_f(axm_vexpf(x), expf(x)) <= 1);
    for (double x = 709.0; x < 710.0; x += 1e-6) assert_true(ulps_d(axm_vexp(x), exp(x)) <= 1);
    assert_true(axm_vexp(0.0) == 1.0 && axm_vexpf(0.0f) == 1.0f);
    assert_true(isnan(axm_vexp(NAN)) && isnan(axm_vexpf(NAN)));
    assert_true(isnan(axm_vexp(-NAN)) && isnan(axm_vexpf(-NAN)));
    assert_true(axm_vexp(INFINITY) == INFINITY && axm_vexpf(INFINITY) == INFINITY);
    assert_true(axm_vexp(-INFINITY) == 0.0 && axm_vexpf(-INFINITY) == 0.0f);
    assert_true(axm_vexp(1000.0) == INFINITY && axm_vexpf(100.0f) == INFINITY);
    assert_true(axm_vexp(-1000.0) == 0.0 && axm_vexpf(-120.0f) == 0.0f);
    print_message("vexp worst: float %d ulp, double %lld ulp\n", (int)worst_f, (long long)worst_d);
}

static void test_registry_and_params(void **st)
{
    (void)st;
    int n;
    const axm_model_kind *const *ks = axm_model_kinds(&n);
    assert_true(n >= 2);
    assert_ptr_equal(axm_model_kind_find("smf"), ks[0]);
    assert_non_null(axm_model_kind_find("sundt"));
    assert_null(axm_model_kind_find("nope"));
    axm_err e;
    assert_null(axm_model_create("nope", &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    axm_model *m = axm_model_create("smf", &e);
    assert_true(axm_model_get(m, "gnabar") == 3.0);
    assert_true(axm_model_get(m, "pi") == (double)(float)M_PI);
    assert_true(isnan(axm_model_get(m, "nope")));
    assert_int_equal(axm_model_set(m, "gl", 0.02, &e), AXM_OK);
    assert_true(axm_model_get(m, "gl") == 0.02);
    assert_int_equal(axm_model_set(m, "nope", 1, &e), AXM_ERR_INPUT);
    /* trainable = the default to_train groups */
    int gi = axm_model_param_index(m, "gkbar"), ri = axm_model_param_index(m, "amA");
    assert_true(m->kind->params[gi].trainable && !m->kind->params[ri].trainable);
    assert_true(m->kind->params[axm_model_param_index(m, "aq10_3")].trainable);
    assert_false(m->kind->params[axm_model_param_index(m, "bq10_3")].trainable);
    axm_model *c = axm_model_clone(m, &e);
    assert_true(axm_model_get(c, "gl") == 0.02);
    axm_model_set(c, "gl", 0.03, &e);
    assert_true(axm_model_get(m, "gl") == 0.02);
    m->stencil[0][0] = 3;
    m->stencil[0][2] = 1;
    double w[2][AXM_MAX_TAPS];
    axm_model_stencil_sym(m, w);
    assert_true(w[0][0] == 2 && w[0][1] == -2 && w[0][2] == 2 && w[1][0] == 1);
    assert_true(fabs(axm_deltax_method1_um(10.0) - 1122.4315) < 1e-4);
    assert_true(fabs(axm_deltax_method1_um(2.0) - 2.0 * 500 / 5.7) < 1e-12);
    axm_model_destroy(c);
    axm_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_and_params),
        cmocka_unit_test(test_lumped_table),
        cmocka_unit_test(test_q10),
        cmocka_unit_test(test_one_step),
        cmocka_unit_test(test_default_fires),
        cmocka_unit_test(test_fp32_matches_fp64),
        cmocka_unit_test(test_wide_stencil),
        cmocka_unit_test(test_ve_gain),
        cmocka_unit_test(test_handle_nan),
        cmocka_unit_test(test_gates_where_rates_underflow),
        cmocka_unit_test(test_too_few_nodes),
        cmocka_unit_test(test_vexp_accuracy),
        cmocka_unit_test(test_isa_versions_identical),
        cmocka_unit_test(test_batch_independent),
    };
    return cmocka_run_group_tests_name("smf", tests, NULL, NULL);
}
