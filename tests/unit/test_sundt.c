/* Sundt C-fiber kind (smf-model.md §8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "model.h"
#include "sim.h"

typedef struct fib {
    const axm_model_kind *k;
    void *ws, *scr;
    double *state, *ve, *intra;
    int W;
} fib;

static fib fib_new(const axm_model *m, int W, double D)
{
    axm_err e;
    fib f = {m->kind, NULL, NULL, NULL, NULL, NULL, W};
    f.ws = f.k->ws_create(m, 1, W, &D, AXM_FP64, &e);
    if (!f.ws) fail_msg("%s", e.msg);
    f.scr = malloc(f.k->scratch_bytes(m, W) + 64);
    f.state = calloc((size_t)5 * W, sizeof(double));
    f.ve = calloc((size_t)W, sizeof(double));
    f.intra = calloc((size_t)W, sizeof(double));
    f.k->init(f.ws, 0, 1, f.state);
    return f;
}

static void fib_free(fib *f)
{
    f->k->ws_destroy(f->ws);
    free(f->scr);
    free(f->state);
    free(f->ve);
    free(f->intra);
}

#include "sundt_ref.h"

/* A spike from an intracellular pulse, 5 ms: engine (fp64, every instruction-set version, with
 * and without handle_nan, which changes nothing away from singular points) vs the literal step;
 * the versions bit-identical to each other. */
static void test_matches_literal(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    axm_model_set(m, "dx", 50.0, &e);
    enum { W = 37 };
    double first[5 * W];
    for (int isa = 2; isa >= 0; isa--)
        for (int hn = 0; hn < 2; hn++) {
            char cap[2] = {(char)('0' + isa), 0};
            setenv("AXM_SMF_ISA", cap, 1);
            m->handle_nan = hn;
            fib f = fib_new(m, W, 1.0);
            ref_sundt r;
            ref_setup(&r, m, W, 1.0);
            double rs[5 * W], ve[W];
            memcpy(rs, f.state, sizeof rs);
            for (int j = 0; j < W; j++) ve[j] = -2.0 / (1 + (j - 10) * (j - 10) / 9.0);
            memcpy(f.ve, ve, sizeof ve);
            double worst = 0, vmax = -1e9;
            for (int i = 0; i < 1000; i++) {
                f.intra[2] = i >= 20 && i < 60 ? 2e-6 : 0.0;
                f.k->step(f.ws, 0, 1, f.state, f.ve, f.intra, 0.005, f.scr);
                ref_step(&r, rs, ve, f.intra, 0.005);
                for (int x = 0; x < 5 * W; x++)
                    worst = fmax(worst, fabs(f.state[x] - rs[x]) / fmax(1.0, fabs(rs[x])));
                vmax = fmax(vmax, f.state[4 * W + 20]);
            }
            if (!(worst <= 1e-9)) fail_msg("isa %d hn %d: worst relative difference %.3g", isa, hn, worst);
            assert_true(vmax > 0); /* the spike travelled 0.75 mm */
            if (isa == 2 && hn == 0)
                memcpy(first, f.state, sizeof first);
            else if (memcmp(first, f.state, sizeof first) != 0)
                fail_msg("isa %d hn %d: not bit-identical to the AVX-512 version", isa, hn);
            fib_free(&f);
        }
    unsetenv("AXM_SMF_ISA");
    axm_model_destroy(m);
}

/* -65 mV is (nearly) an equilibrium: a fiber stays within 0.1 mV for 5 ms. */
static void test_rest(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    fib f = fib_new(m, 21, 1.0);
    double dev = 0;
    for (int i = 0; i < 1000; i++) {
        f.k->step(f.ws, 0, 1, f.state, f.ve, NULL, 0.005, f.scr);
        for (int j = 0; j < 21; j++) dev = fmax(dev, fabs(f.state[4 * 21 + j] + 65.0));
    }
    assert_true(dev < 0.1);
    /* the gates stay near their steady states (§8) */
    assert_true(fabs(f.state[0] - 0.004012907) < 2e-4);
    assert_true(fabs(f.state[21] - 0.98147990) < 2e-3);
    fib_free(&f);
    axm_model_destroy(m);
}

/* A strong intracellular pulse at one end fires an action potential that reaches the other end.
 * dx = 50 um (cajal's default compartment): the explicit step needs dt < 2·cm·rhoa·dx²/D, which
 * dx = 10 um at D = 1 um violates at dt = 0.005 ms. */
static void test_pulse_fires(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    axm_model_set(m, "dx", 50.0, &e);
    int W = 101;
    fib f = fib_new(m, W, 1.0);
    double vmax_far = -1e9, t_far = -1;
    for (int i = 0; i < 4000; i++) {
        int on = i >= 20 && i < 60; /* 0.1-0.3 ms */
        f.intra[2] = on ? 1e-6 : 0.0;
        f.k->step(f.ws, 0, 1, f.state, f.ve, f.intra, 0.005, f.scr);
        double v = f.state[4 * W + W - 3];
        if (v > vmax_far) vmax_far = v;
        if (t_far < 0 && v > 0) t_far = (i + 1) * 0.005;
    }
    assert_true(vmax_far > 0.0);
    double vel = (W - 5) * 50e-3 / (t_far - 0.2); /* mm/ms = m/s */
    print_message("sundt: peak %.1f mV at the far end, velocity %.2f m/s\n", vmax_far, vel);
    assert_true(vmax_far < 50.0); /* below ena: a real action potential, not an instability */
    assert_true(vel > 0.1 && vel < 5.0);
    fib_free(&f);
    axm_model_destroy(m);
}

static void test_params_and_positions(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    assert_true(axm_model_get(m, "dx") == 10.0);
    int i = axm_model_param_index(m, "dx");
    assert_string_equal(m->kind->params[i].group, "geometry");
    assert_false(m->kind->params[i].trainable);
    assert_true(axm_model_get(m, "el") == -65.0);
    assert_true(axm_model_get(m, "bh4") == 1.0);
    axm_model_set(m, "dx", 25.0, &e);
    double y[5];
    assert_int_equal(m->kind->positions(m, 1.0, 5, y, &e), AXM_OK);
    assert_true(y[0] == -50.0 && y[2] == 0.0 && y[4] == 50.0);
    assert_int_equal(m->kind->n_comp(m, 7), 7);
    axm_model_destroy(m);
}

static int run_1(const axm_model *m, double D, double dt, axm_err *e)
{
    axm_sim *s = axm_sim_create(m, 1, 21, &D, AXM_FP32, 1, e);
    if (!s) return e->code;
    int rc = axm_sim_run(s, &(axm_run_opts){.dt_ms = dt, .n_steps = 2, .reinit = 1}, NULL, 0, e);
    axm_sim_destroy(s);
    return rc;
}

/* The explicit step's stability limit: the default dx = 10 um at D = 1 um and dt = 0.005 ms is
 * refused with one line naming sim.dt_ms; dx = 50 um (25x the limit, which scales as dx^2) runs;
 * the S-MF at its fitted diameters and dt = 0.005 ms is never refused. */
static void test_dt_limit_refused(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    assert_int_equal(run_1(m, 1.0, 0.005, &e), AXM_ERR_INPUT);
    print_message("%s\n", e.msg);
    assert_non_null(strstr(e.msg, "sim.dt_ms"));
    assert_non_null(strstr(e.msg, "sundt"));
    assert_null(strchr(e.msg, '\n'));
    axm_model_set(m, "dx", 50.0, &e);
    assert_int_equal(run_1(m, 1.0, 0.005, &e), AXM_OK);
    axm_model_destroy(m);
    m = axm_model_create("smf", &e);
    static const double Ds[] = {5.7, 8.0, 10.0, 14.0, 16.0};
    for (int i = 0; i < 5; i++) assert_int_equal(run_1(m, Ds[i], 0.005, &e), AXM_OK);
    /* the trained S-MF too (its stencil leaks and its cm moved) */
    FILE *fw = fopen("weights/smf-mrg.json", "r");
    if (fw) {
        fclose(fw);
        assert_int_equal(axm_model_load_weights(m, "weights/smf-mrg.json", &e), AXM_OK);
        for (int i = 0; i < 5; i++) assert_int_equal(run_1(m, Ds[i], 0.005, &e), AXM_OK);
    }
    axm_model_destroy(m);
    m = axm_model_create("mrg", &e);
    assert_int_equal(run_1(m, 10.0, 0.005, &e), AXM_OK);
    axm_model_destroy(m);
}

/* The limit is the real one: on a passive cable (gnabar = gkbar = 0, so the step is exactly the
 * linear part) the fastest mode (-1)^j decays at 0.95x the limit and grows at 1.05x. */
static void test_dt_limit_sharp(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    axm_model_set(m, "gnabar", 0.0, &e);
    axm_model_set(m, "gkbar", 0.0, &e);
    int W = 21, fb = -1;
    for (int pass = 0; pass < 2; pass++) {
        fib f = fib_new(m, W, 1.0);
        double lim = f.k->max_dt_ms(f.ws, &fb);
        assert_int_equal(fb, 0);
        assert_true(lim > 0 && isfinite(lim));
        for (int j = 0; j < W; j++) f.state[4 * W + j] = -65.0 + (j % 2 ? 0.1 : -0.1);
        double dt = lim * (pass == 0 ? 0.95 : 1.05), dev = 0;
        for (int i = 0; i < 400; i++) f.k->step(f.ws, 0, 1, f.state, f.ve, NULL, dt, f.scr);
        /* a blown-up vm overflows the gates' exponentials into NaN: count that as growth */
        for (int j = 0; j < W; j++) dev = fmax(dev, isnan(f.state[4 * W + j]) ? INFINITY : fabs(f.state[4 * W + j] + 65.0));
        print_message("dt %g ms (limit %g): deviation %g mV\n", dt, lim, dev);
        if (pass == 0)
            assert_true(dev < 0.01); /* 0.9^400 */
        else
            assert_true(dev > 1e3);  /* 1.1^400 */
        fib_free(&f);
    }
    axm_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_positions),
        cmocka_unit_test(test_rest),
        cmocka_unit_test(test_pulse_fires),
        cmocka_unit_test(test_matches_literal),
        cmocka_unit_test(test_dt_limit_refused),
        cmocka_unit_test(test_dt_limit_sharp),
    };
    return cmocka_run_group_tests_name("sundt", tests, NULL, NULL);
}
