/* GPU vs CPU parity of the BPTT training chunk: axm_cuda_train_chunk against axm_train_chunk
 * (core/train.c) on fresh random inputs (seed printed; AXM_SEED fixes it): random parameters
 * (every one perturbed), random raw (asymmetric) 3- and 5-tap stencils, handle_nan on (with a node
 * exactly on a 0/0 rate) and off, B = 5 fibers of different diameters, W = 11, 53, 101 and 150, L = 12, a
 * random ve that makes some fibers spike, a zero state weight; the same context reused across
 * sizes; the loss-only call and a repeated call agree bit for bit.
 *
 * Bounds. Both sides evaluate the same formulas (gpu/train_kernel.cuh is a copy of
 * core/smf_grad.c) in IEEE double; they differ in exp's last bit (CUDA's vs libm), FMA contraction
 * and the order of the sums (per lane over steps, then across the warp and over fibers, against
 * per step and node on the CPU), i.e. ~1e-16 relative per operation, amplified by 12 steps of
 * dynamics by far less than 1e3.
 *   loss and every parameter and stencil gradient: relative 1e-9,
 *       |gpu - cpu| <= 1e-9 * max(|cpu|, 1e-6 * max_i |cpu_i|)
 *     (the floor keeps a component that cancels to ~0 from a sum of large terms from demanding
 *     more than the terms' own rounding; 1e-6 of the largest component is far above that rounding
 *     and far below any component that matters for a step of Adam);
 *   final state: |gpu - cpu| <= 1e-12 * max(1, |cpu|).
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
#include <time.h>

#include "axm_cuda.h"
#include "parity_util.h"
#include "train.h"



static rng seeded(void)
{
    const char *env = getenv("AXM_SEED");
    uint64_t s = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    if (!s) s = 1;
    printf("seed %llu (AXM_SEED=%llu reproduces)\n", (unsigned long long)s, (unsigned long long)s);
    rng r = {s};
    for (int i = 0; i < 4; i++) urand(&r);
    return r;
}

enum { B = 5, L = 12 };

typedef struct prob {
    int W;
    axm_smfg_theta th;
    double D[B], w[5], norm, dt;
    double *ve, *tgt, *s0;
} prob;

static void prob_free(prob *p)
{
    free(p->ve);
    free(p->tgt);
    free(p->s0);
}

static void prob_make(prob *p, rng *r, int W, int taps, int hn)
{
    memset(p, 0, sizeof *p);
    p->W = W;
    axm_smfg_theta_defaults(&p->th);
    for (int i = 0; i < AXM_SMFG_NP; i++) p->th.p[i] *= uniform(r, 0.97, 1.03);
    p->th.p[AXM_SMFG_VEGAIN1] = uniform(r, -3e-4, 3e-4); /* a ve gain that varies with D */
    p->th.p[AXM_SMFG_VEGAIN2] = uniform(r, -3e-3, 3e-3);
    /* and a capacitance gain, >= 1: a smaller Cn would shorten the explicit step's limit, which
     * the random stencils already come close to */
    p->th.p[AXM_SMFG_CMGAIN2] = uniform(r, 0, 3e-3);
    p->th.taps = taps;
    static const double s3[3] = {1, -2, 1}, s5[5] = {-0.7 / 12, 0.7 * 4 / 3, -0.7 * 2.5, 0.7 * 4 / 3, -0.7 / 12},
                        s7[7] = {0.65 / 90, -0.65 * 3 / 20, 0.65 * 1.5, -0.65 * 49 / 18, 0.65 * 1.5, -0.65 * 3 / 20, 0.65 / 90};
    /* raw taps perturbed asymmetrically, the centre tap keeping the sum 0 (a second difference:
     * a nonzero sum would act as a leak of the order of 1/ra, and Euler would blow up; the 5- and
     * 7-tap ones scaled to the 3-tap one's largest eigenvalue, so that dt = 5 us stays stable) */
    assert_true(taps == 3 || taps == 5 || taps == 7);
    const double *base = taps == 3 ? s3 : taps == 5 ? s5 : s7;
    for (int c = 0; c < 2; c++) {
        double sum = 0;
        for (int k = 0; k < AXM_MAX_TAPS; k++) {
            p->th.w[c][k] = k < taps ? base[k] * uniform(r, 0.9, 1.1) : 0;
            if (k != taps / 2) sum += p->th.w[c][k];
        }
        p->th.w[c][taps / 2] = -sum;
    }
    p->th.handle_nan = hn;
    p->dt = 0.005;
    for (int b = 0; b < B; b++) p->D[b] = 4 + 3 * b + uniform(r, 0, 2);
    size_t n5 = 5 * (size_t)W;
    p->ve = malloc(sizeof(double) * L * B * W);
    p->tgt = malloc(sizeof(double) * (L + 1) * B * n5);
    p->s0 = malloc(sizeof(double) * B * n5);
    assert_non_null(p->ve);
    assert_non_null(p->tgt);
    assert_non_null(p->s0);
    for (int b = 0; b < B; b++) {
        axm_smfg_ic(W, p->s0 + b * n5);
        for (int k = 0; k < 5; k++)
            for (int j = 0; j < W; j++)
                p->s0[b * n5 + k * W + j] += k == 4 ? uniform(r, -5, 15) : uniform(r, -0.03, 0.03);
    }
    /* a smooth bump (cathodic: depolarizes; a few fibers spike within the 12 steps) plus noise;
     * mild enough that without handle_nan nothing overflows */
    for (int k = 0; k < L; k++)
        for (int b = 0; b < B; b++) {
            double a = uniform(r, -80, 10), c = uniform(r, 0.3, 0.7) * (W - 1);
            for (int j = 0; j < W; j++) {
                double x = (j - c) / (0.15 * W + 1);
                p->ve[((size_t)k * B + b) * W + j] = a * exp(-x * x) + uniform(r, -5, 5);
            }
        }
    for (int t = 0; t <= L; t++)
        for (int b = 0; b < B; b++)
            for (int k = 0; k < 5; k++)
                for (int j = 0; j < W; j++)
                    p->tgt[((size_t)t * B + b) * n5 + k * W + j] =
                        p->s0[b * n5 + k * W + j] + (k == 4 ? uniform(r, -10, 10) : uniform(r, -0.05, 0.05));
    if (hn) /* alpha_m's 0/0 at v = -amB: the analytic-limit branch on both sides */
        p->s0[4 * W + W / 2] = -p->th.p[AXM_SMFG_AMB];
    const double w[5] = {1, 0.7, 1.3, 1, 1e-4};
    memcpy(p->w, w, sizeof w);
    if (W < 20) p->w[2] = 0; /* a state out of the loss */
    p->norm = (double)(L + 1) * B * n5;
}

static double worst = 0; /* largest relative gradient error seen, for the log */

static void check_grad(const char *what, const axm_smfg_grad *gc, const axm_smfg_grad *gg)
{
    double gmax = 0;
    for (int i = 0; i < AXM_SMFG_NP; i++) gmax = fmax(gmax, fabs(gc->p[i]));
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < AXM_MAX_TAPS; k++) gmax = fmax(gmax, fabs(gc->w[c][k]));
    assert_true(gmax > 0 && isfinite(gmax));
    for (int i = 0; i < AXM_SMFG_NP + 2 * AXM_MAX_TAPS; i++) {
        double a, b;
        char name[64];
        if (i < AXM_SMFG_NP) {
            a = gc->p[i];
            b = gg->p[i];
            snprintf(name, sizeof name, "%s", axm_smfg_param_name(i));
        } else {
            int c = (i - AXM_SMFG_NP) / AXM_MAX_TAPS, k = (i - AXM_SMFG_NP) % AXM_MAX_TAPS;
            a = gc->w[c][k];
            b = gg->w[c][k];
            snprintf(name, sizeof name, "stencil[%d][%d]", c, k);
        }
        double scale = fmax(fabs(a), 1e-6 * gmax), e = fabs(a - b) / scale;
        if (e > worst) worst = e;
        if (!(e <= 1e-9)) {
            printf("%s: gradient %s: cpu %.17g gpu %.17g (rel %.3g)\n", what, name, a, b, e);
            fail();
        }
    }
}

static void one_case(axm_cuda_train *ctx, rng *r, int W, int taps, int hn)
{
    prob p;
    prob_make(&p, r, W, taps, hn);
    char what[96];
    snprintf(what, sizeof what, "W %d, %d taps, handle_nan %d", W, taps, hn);
    size_t ns = (size_t)B * 5 * W;
    double *sc = malloc(sizeof(double) * ns), *sg = malloc(sizeof(double) * ns), *sn = malloc(sizeof(double) * ns);
    assert_non_null(sc);
    assert_non_null(sg);
    assert_non_null(sn);
    memcpy(sc, p.s0, sizeof(double) * ns);
    memcpy(sg, p.s0, sizeof(double) * ns);
    memcpy(sn, p.s0, sizeof(double) * ns);
    axm_smfg_grad gc, gg;
    axm_smfg_grad_zero(&gc);
    axm_smfg_grad_zero(&gg);
    /* the gradient is added: start both from the same nonzero values */
    double gc0[AXM_SMFG_NP];
    for (int i = 0; i < AXM_SMFG_NP; i++) gc0[i] = gc.p[i] = gg.p[i] = uniform(r, -1, 1);
    double lc = axm_train_chunk(&p.th, p.D, B, W, L, p.ve, p.tgt, p.w, p.norm, p.dt, sc, &gc, 2);
    double lg = NAN, ln = NAN;
    axm_err e;
    axm_err_clear(&e);
    int rc = axm_cuda_train_chunk(ctx, &p.th, p.D, B, W, L, p.ve, p.tgt, p.w, p.norm, p.dt, sg, &gg, &lg, &e);
    if (rc) printf("%s: %s\n", what, e.msg);
    assert_int_equal(rc, AXM_OK);
    /* run to run: bit for bit (fixed-order sums, no atomics; a race would show here on a GPU) */
    axm_smfg_grad g2;
    axm_smfg_grad_zero(&g2);
    memcpy(g2.p, gc0, sizeof g2.p);
    double l2 = NAN;
    memcpy(sn, p.s0, sizeof(double) * ns);
    /* ... and from page-locked inputs, in a context of their own (it unlocks them when destroyed) */
    axm_cuda_train *pc = axm_cuda_train_create(-1, &e);
    assert_non_null(pc);
    assert_int_equal(axm_cuda_train_pin(pc, p.ve, sizeof(double) * (size_t)L * B * W, &e), AXM_OK);
    assert_int_equal(axm_cuda_train_pin(pc, p.tgt, sizeof(double) * (size_t)(L + 1) * ns, &e), AXM_OK);
    assert_int_equal(axm_cuda_train_chunk(pc, &p.th, p.D, B, W, L, p.ve, p.tgt, p.w, p.norm, p.dt, sn, &g2, &l2, &e),
                     AXM_OK);
    axm_cuda_train_destroy(pc);
    if (!(l2 == lg)) printf("%s: loss %.17g, again from pinned inputs %.17g\n", what, lg, l2);
    assert_true(l2 == lg);
    assert_memory_equal(g2.p, gg.p, sizeof g2.p);
    assert_memory_equal(g2.w, gg.w, sizeof g2.w);
    memcpy(sn, p.s0, sizeof(double) * ns);
    /* loss only (g NULL): the same loss and final state */
    rc = axm_cuda_train_chunk(ctx, &p.th, p.D, B, W, L, p.ve, p.tgt, p.w, p.norm, p.dt, sn, NULL, &ln, &e);
    assert_int_equal(rc, AXM_OK);
    printf("%s: loss cpu %.17g gpu %.17g\n", what, lc, lg);
    assert_true(isfinite(lc) && lc > 0);
    assert_true(fabs(lg - lc) <= 1e-9 * fabs(lc));
    assert_true(ln == lg);
    double smax = 0, vmin = 1e300, vmax = -1e300;
    for (size_t i = 0; i < ns; i++) {
        double d = fabs(sg[i] - sc[i]) / fmax(1, fabs(sc[i]));
        if (d > smax) smax = d;
        assert_true(sn[i] == sg[i]);
        if (i % (5 * W) >= 4 * (size_t)W) {
            vmin = fmin(vmin, sc[i]);
            vmax = fmax(vmax, sc[i]);
        }
    }
    printf("%s: final v in [%.1f, %.1f] mV, state max rel err %.3g\n", what, vmin, vmax, smax);
    assert_true(smax <= 1e-12);
    check_grad(what, &gc, &gg);
    free(sc);
    free(sg);
    free(sn);
    prob_free(&p);
}

static void test_chunk_parity(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    rng r = seeded();
    axm_err e;
    axm_cuda_train *ctx = axm_cuda_train_create(-1, &e);
    if (!ctx) printf("%s\n", e.msg);
    assert_non_null(ctx);
    static const int Ws[2] = {11, 53};
    for (int wi = 0; wi < 2; wi++)
        for (int taps = 3; taps <= 5; taps += 2)
            for (int hn = 0; hn <= 1; hn++) one_case(ctx, &r, Ws[wi], taps, hn);
    one_case(ctx, &r, 101, 3, 1); /* four warps per fiber */
    one_case(ctx, &r, 150, 5, 0); /* two nodes per thread */
    one_case(ctx, &r, 3, 5, 1);   /* a stencil as long as the fiber: h = W - 1, the halo's edge */
    one_case(ctx, &r, 2, 7, 0);   /* longer than the fiber: reflections of reflections */
    one_case(ctx, &r, 11, 3, 1);  /* smaller again after larger: the grown buffers are reused */
    printf("gradient max rel err %.3g (bound 1e-9)\n", worst);
    axm_cuda_train_destroy(ctx);
}

/* Bad input: one error naming the argument, nothing written. */
static void test_bad_input(void **st)
{
    (void)st;
    if (!gpu_ok()) skip();
    rng r = seeded();
    prob p;
    prob_make(&p, &r, 11, 3, 0);
    axm_err e;
    axm_cuda_train *ctx = axm_cuda_train_create(0, &e);
    assert_non_null(ctx);
    size_t ns = (size_t)B * 5 * 11;
    double *s = malloc(sizeof(double) * ns);
    assert_non_null(s);
    memcpy(s, p.s0, sizeof(double) * ns);
    double loss = 0;
    struct {
        int W;
        double norm, dt;
        int taps, null_tgt;
        const char *needle;
    } bad[] = {
        {0, p.norm, p.dt, 3, 0, "W = 0"},
        {AXM_CUDA_MAX_NODES + 1, p.norm, p.dt, 3, 0, "W = "},
        {11, 0, p.dt, 3, 0, "norm"},
        {11, p.norm, -1, 3, 0, "dt"},
        {11, p.norm, p.dt, 4, 0, "taps"},
        {11, p.norm, p.dt, 3, 1, "target"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        axm_smfg_theta th = p.th;
        th.taps = bad[i].taps;
        axm_err_clear(&e);
        int rc = axm_cuda_train_chunk(ctx, &th, p.D, B, bad[i].W, L, p.ve, bad[i].null_tgt ? NULL : p.tgt, p.w,
                                      bad[i].norm, bad[i].dt, s, NULL, &loss, &e);
        printf("bad input %zu: %s\n", i, e.msg);
        assert_int_equal(rc, AXM_ERR_INPUT);
        assert_non_null(strstr(e.msg, bad[i].needle));
        assert_null(strchr(e.msg, '\n'));
        assert_true(isnan(loss));
    }
    assert_memory_equal(s, p.s0, sizeof(double) * ns);
    double D0 = p.D[3];
    p.D[3] = -1;
    assert_int_equal(axm_cuda_train_chunk(ctx, &p.th, p.D, B, 11, L, p.ve, p.tgt, p.w, p.norm, p.dt, s, NULL,
                                          &loss, &e),
                     AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "D[3]"));
    p.D[3] = D0;
    assert_int_equal(axm_cuda_train_chunk(NULL, &p.th, p.D, B, 11, L, p.ve, p.tgt, p.w, p.norm, p.dt, s, NULL,
                                          &loss, &e),
                     AXM_ERR_INPUT);
    assert_int_equal(axm_cuda_train_pin(ctx, NULL, 8, &e), AXM_ERR_INPUT);
    assert_int_equal(axm_cuda_train_pin(ctx, s, 0, &e), AXM_ERR_INPUT);
    printf("bad pin: %s\n", e.msg);
    free(s);
    prob_free(&p);
    axm_cuda_train_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_parity),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
