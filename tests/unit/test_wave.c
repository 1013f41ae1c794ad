/* Waveforms: cajal's sample windows (fields-and-stimuli.md §6), charge balance, Repeat semantics,
 * interpolation, validation and the CSV loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wave.h"

static double *sample(const axm_wave *w, double dt, long n)
{
    double *out = malloc(sizeof *out * (size_t)n);
    axm_err e;
    int rc = axm_wave_sample(w, dt, n, out, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(rc, AXM_OK);
    return out;
}

/* Asserts out[k] == v for k in [a, b] and returns nothing; helper for window checks. */
static void expect_range(const double *out, long a, long b, double v)
{
    for (long k = a; k <= b; k++) {
        if (out[k] != v) fprintf(stderr, "sample %ld: %g, expected %g\n", k, out[k], v);
        assert_true(out[k] == v);
    }
}

static void test_mono_window(void **st)
{
    (void)st;
    axm_wave w = {.kind = AXM_WAVE_MONO, .amp_mA = -0.3, .pw_ms = 0.1, .delay_ms = 0.5};
    double *o = sample(&w, 0.005, 400);
    expect_range(o, 0, 100, 0.0);
    expect_range(o, 101, 120, -0.3);
    expect_range(o, 121, 399, 0.0);
    free(o);
}

static void test_symmetric_biphasic_windows(void **st)
{
    (void)st;
    /* SymmetricBiphasic(amp, pw 0.4, delay 0.4) on arange(0, 2.5, 0.005) */
    axm_wave w = {.kind = AXM_WAVE_BIPHASIC, .amp_mA = 1.0, .pw_ms = 0.4, .delay_ms = 0.4};
    double *o = sample(&w, 0.005, 500);
    expect_range(o, 0, 80, 0.0);
    expect_range(o, 81, 160, 1.0);
    expect_range(o, 161, 240, -1.0);
    expect_range(o, 241, 499, 0.0);
    free(o);
    /* (pw 0.4, delay 0.5) on arange(0, 5, 0.005), cathodic first */
    w.delay_ms = 0.5;
    w.amp_mA = -2.0;
    o = sample(&w, 0.005, 1000);
    expect_range(o, 0, 100, 0.0);
    expect_range(o, 101, 180, -2.0);
    expect_range(o, 181, 260, 2.0);
    expect_range(o, 261, 999, 0.0);
    free(o);
}

/* The NEURON reference's biphasic pulse (shared/reference/mrg_neuron/README.md §3): 0.2 ms phases
 * from 0.5 ms are samples 101..140 and 141..180, although 140*0.005 > 0.5 + 0.2 in doubles; and
 * every on-grid width keeps round(pw/dt) samples. */
static void test_on_grid_windows_hold_pw_over_dt_samples(void **st)
{
    (void)st;
    axm_wave w = {.kind = AXM_WAVE_BIPHASIC, .amp_mA = -1.0, .pw_ms = 0.2, .delay_ms = 0.5};
    double *o = sample(&w, 0.005, 1000);
    expect_range(o, 0, 100, 0.0);
    expect_range(o, 101, 140, -1.0);
    expect_range(o, 141, 180, 1.0);
    expect_range(o, 181, 999, 0.0);
    free(o);
    const double pws[] = {0.005, 0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.7, 1.0, 1.9};
    for (size_t i = 0; i < sizeof pws / sizeof pws[0]; i++) {
        axm_wave m = {.kind = AXM_WAVE_MONO, .amp_mA = 1.0, .pw_ms = pws[i], .delay_ms = 0.5};
        o = sample(&m, 0.005, 1000);
        long np = lround(pws[i] / 0.005);
        expect_range(o, 0, 100, 0.0);
        expect_range(o, 101, 100 + np, 1.0);
        expect_range(o, 101 + np, 999, 0.0);
        free(o);
    }
}

static void test_biphasic_gap_and_charge_balance(void **st)
{
    (void)st;
    /* binary-exact grid: phase 1 (1, 1.5], gap (1.5, 2], phase 2 (2, 3] at -amp*pw/pw2 */
    axm_wave w = {.kind = AXM_WAVE_BIPHASIC, .amp_mA = 0.8, .pw_ms = 0.5, .pw2_ms = 1.0, .gap_ms = 0.5, .delay_ms = 1.0};
    double *o = sample(&w, 0.25, 20);
    expect_range(o, 0, 4, 0.0);
    expect_range(o, 5, 6, 0.8);
    expect_range(o, 7, 8, 0.0);
    expect_range(o, 9, 12, -0.4);
    expect_range(o, 13, 19, 0.0);
    free(o);
    /* charge balance on a fine grid: sum(I)*dt ~ 0 within one sample of either phase */
    w.pw_ms = 0.1;
    w.pw2_ms = 0.35;
    w.gap_ms = 0.05;
    o = sample(&w, 0.001, 3000);
    double q = 0, q1 = 0;
    for (int k = 0; k < 3000; k++) {
        q += o[k] * 0.001;
        if (o[k] > 0) q1 += o[k] * 0.001;
    }
    assert_true(fabs(q1 - 0.08) < 0.8 * 0.0011);
    assert_true(fabs(q) < 0.8 * 0.0021);
    free(o);
}

static void test_sine(void **st)
{
    (void)st;
    axm_wave w = {.kind = AXM_WAVE_SINE, .amp_mA = 2.0, .freq_khz = 1.0, .delay_ms = 0.5,
                  .phase_rad = M_PI / 2, .offset_mA = 0.1};
    double *o = sample(&w, 0.125, 40);
    for (int k = 0; k < 40; k++) {
        double t = k * 0.125;
        double want = 0.1 + (t >= 0.5 ? 2.0 * cos(2 * M_PI * (t - 0.5)) : 0.0);
        assert_true(fabs(o[k] - want) < 1e-12);
    }
    free(o);
    w.dur_ms = 1.0; /* sinusoid on [0.5, 1.5], offset at all times */
    o = sample(&w, 0.125, 40);
    assert_true(fabs(o[12] - (0.1 + 2.0)) < 1e-12); /* t = 1.5 */
    assert_true(fabs(o[13] - 0.1) < 1e-15);
    assert_true(fabs(o[3] - 0.1) < 1e-15);
    free(o);
}

/* A train equals the sum of single pulses at delay + m/freq (cajal's Repeat), on an exact grid. */
static void test_train_is_repeat(void **st)
{
    (void)st;
    for (int bip = 0; bip <= 1; bip++) {
        axm_wave w = {.kind = AXM_WAVE_TRAIN, .amp_mA = -1.0, .pw_ms = 0.5, .gap_ms = 0.25, .pw2_ms = 0.5,
                      .delay_ms = 1.0, .freq_khz = 0.5, .train_biphasic = bip};
        double *o = sample(&w, 0.125, 200);
        double *ref = calloc(200, sizeof *ref);
        for (int m = 0; m < 20; m++) {
            axm_wave p = {.kind = bip ? AXM_WAVE_BIPHASIC : AXM_WAVE_MONO, .amp_mA = -1.0, .pw_ms = 0.5,
                          .gap_ms = 0.25, .pw2_ms = 0.5, .delay_ms = 1.0 + 2.0 * m};
            double *one = sample(&p, 0.125, 200);
            for (int k = 0; k < 200; k++) ref[k] += one[k];
            free(one);
        }
        for (int k = 0; k < 200; k++) assert_true(o[k] == ref[k]);
        /* mono: on (1 + 2m, 1.5 + 2m] -> k = 9..12 + 16m */
        if (!bip) {
            expect_range(o, 0, 8, 0.0);
            expect_range(o, 9, 12, -1.0);
            expect_range(o, 13, 24, 0.0);
            expect_range(o, 25, 28, -1.0);
        }
        free(ref);
        free(o);
    }
    axm_wave w = {.kind = AXM_WAVE_TRAIN, .amp_mA = 1.0, .pw_ms = 0.5, .delay_ms = 1.0, .freq_khz = 0.5, .dur_ms = 3.0};
    double *o = sample(&w, 0.125, 100);
    expect_range(o, 9, 12, 1.0);
    expect_range(o, 25, 28, 1.0);
    expect_range(o, 29, 99, 0.0); /* the third pulse would start after delay + dur = 4 */
    free(o);
}

static void test_samples_interp(void **st)
{
    (void)st;
    double t[3] = {0.5, 1.5, 2.5}, v[3] = {0.0, 2.0, -2.0};
    axm_wave w = {.kind = AXM_WAVE_SAMPLES, .n_samples = 3, .t_ms = t, .v_mA = v};
    double *o = sample(&w, 0.25, 14);
    /* t = 0, 0.25, ..., 3.25; inside [0.5, 2.5] inclusive, 0 outside */
    double want[14] = {0, 0, 0, 0.5, 1, 1.5, 2, 1, 0, -1, -2, 0, 0, 0};
    for (int k = 0; k < 14; k++) assert_true(fabs(o[k] - want[k]) < 1e-15);
    free(o);
}

static void test_check_rejects(void **st)
{
    (void)st;
    axm_err e;
    axm_wave w = {.kind = AXM_WAVE_MONO, .amp_mA = 1.0, .pw_ms = 0.0, .delay_ms = 0.5};
    assert_int_equal(axm_wave_check(&w, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "pw_ms"));
    assert_null(strchr(e.msg, '\n'));
    w.pw_ms = 0.1;
    w.amp_mA = NAN;
    assert_int_equal(axm_wave_check(&w, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "amp_mA"));
    w.amp_mA = 1;
    assert_int_equal(axm_wave_check(&w, &e), AXM_OK);
    axm_wave s = {.kind = AXM_WAVE_SINE, .amp_mA = 1.0, .freq_khz = 0.0};
    assert_int_equal(axm_wave_check(&s, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "freq_khz"));
    s.freq_khz = 1;
    s.phase_rad = INFINITY;
    assert_int_equal(axm_wave_check(&s, &e), AXM_ERR_INPUT);
    axm_wave b = {.kind = AXM_WAVE_BIPHASIC, .amp_mA = 1.0, .pw_ms = 0.1, .gap_ms = -0.1};
    assert_int_equal(axm_wave_check(&b, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "gap_ms"));
    axm_wave tr = {.kind = AXM_WAVE_TRAIN, .amp_mA = 1.0, .pw_ms = 0.6, .freq_khz = 2.0};
    assert_int_equal(axm_wave_check(&tr, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "period"));
    double t[3] = {0, 1, 1}, v[3] = {0, 1, 2};
    axm_wave sm = {.kind = AXM_WAVE_SAMPLES, .n_samples = 3, .t_ms = t, .v_mA = v};
    assert_int_equal(axm_wave_check(&sm, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "increase"));
    double out[4];
    assert_int_equal(axm_wave_sample(&w, 0.0, 4, out, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "dt_ms"));
    axm_wave bad = {.kind = (axm_wave_kind)42};
    assert_int_equal(axm_wave_check(&bad, &e), AXM_ERR_INPUT);
    assert_string_equal(axm_wave_kind_name(AXM_WAVE_TRAIN), "train");
}

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/axm_wave_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_csv(void **st)
{
    (void)st;
    axm_err e;
    double *t, *v;
    int n;
    char *p = write_tmp("# comment\nt_ms,value_mA\n0,0\n1, -0.5\n\n2.5,1e-1\n");
    assert_int_equal(axm_wave_load_csv(p, &t, &v, &n, &e), AXM_OK);
    assert_int_equal(n, 3);
    assert_true(t[1] == 1.0 && v[1] == -0.5 && t[2] == 2.5 && v[2] == 0.1);
    free(t);
    free(v);
    unlink(p);
    p = write_tmp("0,0\n1,x\n");
    assert_int_equal(axm_wave_load_csv(p, &t, &v, &n, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, ":2:"));
    unlink(p);
    p = write_tmp("0,0\n1,1,3\n");
    assert_int_equal(axm_wave_load_csv(p, &t, &v, &n, &e), AXM_ERR_INPUT);
    unlink(p);
    p = write_tmp("0,0\n2,1\n1,1\n");
    assert_int_equal(axm_wave_load_csv(p, &t, &v, &n, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "increase"));
    unlink(p);
    p = write_tmp("0,0\n1,nan\n");
    assert_int_equal(axm_wave_load_csv(p, &t, &v, &n, &e), AXM_ERR_INPUT);
    unlink(p);
    assert_int_equal(axm_wave_load_csv("/nonexistent/w.csv", &t, &v, &n, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "/nonexistent/w.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mono_window),
        cmocka_unit_test(test_symmetric_biphasic_windows),
        cmocka_unit_test(test_on_grid_windows_hold_pw_over_dt_samples),
        cmocka_unit_test(test_biphasic_gap_and_charge_balance),
        cmocka_unit_test(test_sine),
        cmocka_unit_test(test_train_is_repeat),
        cmocka_unit_test(test_samples_interp),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests_name("wave", tests, NULL, NULL);
}
