/* core/calib: the dense solver, Levenberg-Marquardt on problems with known minima, the knot
 * mapping of the diameter polynomials, config errors, and a calibration that must recover a
 * parameter the teacher (an S-MF with known weights) was given, the pulse-train term. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define AXM_TEST_TMP_NAME "calib"
#include "tmpdir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib.h"
#include "model.h"
#include "sim.h"

static void test_solve(void **st)
{
    (void)st;
    /* x = (1, -2, 3) */
    double a[9] = {0, 2, 1, 1, 1, 1, 4, -1, 2}, x[3] = {1, -2, 3}, b[3], a0[9];
    memcpy(a0, a, sizeof a);
    for (int i = 0; i < 3; i++) b[i] = a[i * 3] * x[0] + a[i * 3 + 1] * x[1] + a[i * 3 + 2] * x[2];
    axm_err err;
    axm_err_clear(&err);
    assert_int_equal(axm_solve_dense(3, a, b, &err), AXM_OK); /* a[0][0] = 0 needs pivoting */
    for (int i = 0; i < 3; i++) assert_true(fabs(b[i] - x[i]) < 1e-12);
    double s[4] = {1, 2, 2, 4}, c[2] = {1, 2};
    assert_int_equal(axm_solve_dense(2, s, c, &err), AXM_ERR_RUNTIME);
    assert_non_null(strstr(err.msg, "singular"));
    (void)a0;
}

/* r = A x - b with A 4x2: the least-squares solution solves the normal equations. */
static int linear(void *ud, const double *x, double *r, axm_err *err)
{
    (void)ud;
    (void)err;
    static const double A[4][2] = {{1, 0}, {1, 1}, {1, 2}, {1, 3}}, b[4] = {1, 2, 2, 4};
    for (int i = 0; i < 4; i++) r[i] = A[i][0] * x[0] + A[i][1] * x[1] - b[i];
    return AXM_OK;
}

static int rosenbrock(void *ud, const double *x, double *r, axm_err *err)
{
    (void)err;
    (*(int *)ud)++;
    r[0] = 10 * (x[1] - x[0] * x[0]);
    r[1] = 1 - x[0];
    return AXM_OK;
}

static void test_lm(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    axm_lm_opts o = axm_lm_opts_default();
    o.max_step = 10;
    o.iters = 5;
    o.lambda0 = 1e-6;
    double x[2] = {5, -5}, cost;
    int evals;
    assert_int_equal(axm_lm(2, 4, linear, NULL, x, &o, &cost, &evals, &err), AXM_OK);
    /* normal equations: [4 6; 6 14] x = [9 18] -> x = (0.9, 0.9) */
    assert_true(fabs(x[0] - 0.9) < 1e-6);
    assert_true(fabs(x[1] - 0.9) < 1e-6);
    double r[4];
    linear(NULL, x, r, &err);
    assert_true(fabs(cost - (r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3])) < 1e-12);

    /* a curved valley: many damped steps, the minimum (1, 1) */
    o = axm_lm_opts_default();
    o.h = 1e-6;
    o.iters = 200;
    o.max_tries = 30;
    double y[2] = {-1.2, 1};
    int calls = 0;
    assert_int_equal(axm_lm(2, 2, rosenbrock, &calls, y, &o, &cost, &evals, &err), AXM_OK);
    assert_int_equal(calls, evals);
    assert_true(fabs(y[0] - 1) < 1e-4 && fabs(y[1] - 1) < 1e-4);
    assert_true(cost < 1e-8);

    /* a raised cancel flag stops it and leaves the start */
    volatile int stop = 1;
    o.cancel = &stop;
    double z[2] = {-1.2, 1};
    assert_int_equal(axm_lm(2, 2, rosenbrock, &calls, z, &o, &cost, &evals, &err), AXM_ERR_CANCELLED);
    assert_true(z[0] == -1.2 && z[1] == 1);
}

static void test_knots(void **st)
{
    (void)st;
    /* the spec's default axonD polynomial (smf-model.md §1) is recovered from its knot values */
    const double c[3] = {0.0187623, 0.4787487, 0.1203613}, X[3] = {6, 10, 14};
    double y[3], k[3];
    for (int i = 0; i < 3; i++) y[i] = c[0] * X[i] * X[i] + c[1] * X[i] + c[2];
    axm_calib_quad_through_knots(y, k);
    for (int i = 0; i < 3; i++) assert_true(fabs(k[i] - c[i]) < 1e-12 * (1 + fabs(c[i])));
    /* a straight line stays one */
    double lin[3] = {1, 2, 3};
    axm_calib_quad_through_knots(lin, k);
    assert_true(fabs(k[0]) < 1e-15 && fabs(k[1] - 0.25) < 1e-14 && fabs(k[2] + 0.5) < 1e-14);
}

static void write_file(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static axm_model *smf_model(void)
{
    axm_err err;
    axm_model *m = axm_model_create("smf", &err);
    assert_non_null(m);
    return m;
}

/* Saves m as the weights file tmpdir/name; path gets its name. */
static void save_model(const axm_model *m, const char *name, char *path, size_t n)
{
    axm_err err;
    axm_err_clear(&err);
    snprintf(path, n, "%s/%s", tmpdir, name);
    assert_int_equal(axm_model_save_weights(m, path, NULL, &err), AXM_OK);
}

/* Loads the config text (written as tmpdir/name) into c from its defaults; the return code. */
static int cfg_text(const char *name, const char *text, axm_calib_cfg *c, axm_err *err)
{
    char p[512];
    write_file(name, text, p, sizeof p);
    axm_calib_cfg_default(c);
    return axm_calib_cfg_load(c, p, err);
}

/* Bad values fail naming the file and key; good ones load. */
static void test_cfg_errors(void **st)
{
    (void)st;
    axm_calib_cfg c;
    axm_err err;
    static const struct {
        const char *name, *text, *key;
    } bad[] = {
        {"bad1.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"iterz\": 3}", "iterz"},
        {"bad2.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm:0\"]}", "params"},
        {"bad3.json", "{\"params\": [\"cm\"]}", "grids"},
        {"bad4.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"method\": \"newton\"}", "method"},
        {"bad5.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"taps\": 4}", "taps"},
        /* "train": one file or an array of 1 to AXM_CALIB_MAX_TRAINS */
        {"bad6.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"train\": []}", "train"},
        {"bad7.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"train\": [\"t.json\", 3]}", "train[]"},
        /* a key twice: refused, not the later one taken */
        {"bad8.json", "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"iters\": 3, \"iters\": 4}",
         "iters: expected each key once"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cfg_text(bad[i].name, bad[i].text, &c, &err), AXM_ERR_INPUT);
        assert_non_null(strstr(err.msg, bad[i].name));
        assert_non_null(strstr(err.msg, bad[i].key));
    }
    assert_int_equal(cfg_text("ok.json",
                              "{\"grids\": [\"a.json\", \"b.json\"], \"params\": [\"axonD@6\", \"stencil.vm.mid:0.01\"], "
                              "\"w_cv\": 2, \"iters\": 3}",
                              &c, &err),
                     AXM_OK);
    assert_int_equal(c.n_grids, 2);
    assert_int_equal(c.n_params, 2);
    assert_string_equal(c.params[1], "stencil.vm.mid");
    assert_true(c.scale[1] == 0.01 && c.scale[0] == 1);
    assert_true(c.w_cv == 2 && c.lm.iters == 3);
    assert_int_equal(c.n_trains, 0);
    /* scenario names by axm_find_file's rule: one next to the config is found there, one found
     * nowhere stays as given (for the loader's error) */
    char next_to[512];
    write_file("t2-calib.json", "{}", next_to, sizeof next_to);
    assert_int_equal(cfg_text("trains.json",
                              "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], "
                              "\"train\": [\"axm-missing-t1.json\", \"t2-calib.json\"]}",
                              &c, &err),
                     AXM_OK);
    assert_int_equal(c.n_trains, 2);
    assert_string_equal(c.train[0], "axm-missing-t1.json");
    assert_string_equal(c.train[1], next_to);
    assert_int_equal(cfg_text("train1.json",
                              "{\"grids\": [\"a.json\"], \"params\": [\"cm\"], \"train\": \"axm-missing-t1.json\"}",
                              &c, &err),
                     AXM_OK);
    assert_int_equal(c.n_trains, 1);
    assert_string_equal(c.train[0], "axm-missing-t1.json");
}

/* A calibration of one threshold grid with parameters params[n] (each scaled by scale) on
 * n_threads threads; the rest of the configuration at its defaults. */
static void one_grid_cfg(axm_calib_cfg *cfg, const char *grid, int n, const char *const *params, double scale,
                         int n_threads)
{
    axm_calib_cfg_default(cfg);
    cfg->n_grids = 1;
    snprintf(cfg->grids[0], sizeof cfg->grids[0], "%s", grid);
    cfg->n_params = n;
    for (int i = 0; i < n; i++) {
        snprintf(cfg->params[i], sizeof cfg->params[i], "%s", params[i]);
        cfg->scale[i] = scale;
    }
    cfg->n_threads = n_threads;
}

/* The teacher is the S-MF with the default parameters; the start has cm and the axonD knot at
 * 10 um moved by 8 % and -6 %; the fit must bring both back (thresholds of two pulse widths at one
 * diameter and the CV at two diameters determine them). */
static void test_recovers_teacher(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = smf_model();
    char wt[512], ws[512], grid[512], cvg[512], text[2048];
    save_model(m, "teacher.json", wt, sizeof wt);
    double cm0 = axm_model_get(m, "cm"), a1 = axm_model_get(m, "axond1"), a2 = axm_model_get(m, "axond2"),
           a3 = axm_model_get(m, "axond3");
    double y[3] = {a1 * 36 + a2 * 6 + a3, (a1 * 100 + a2 * 10 + a3) * 0.94, a1 * 196 + a2 * 14 + a3}, k[3];
    axm_calib_quad_through_knots(y, k);
    assert_int_equal(axm_model_set(m, "cm", cm0 * 1.08, &err), AXM_OK);
    assert_int_equal(axm_model_set(m, "axond1", k[0], &err), AXM_OK);
    assert_int_equal(axm_model_set(m, "axond2", k[1], &err), AXM_OK);
    assert_int_equal(axm_model_set(m, "axond3", k[2], &err), AXM_OK);
    save_model(m, "start.json", ws, sizeof ws);
    axm_model_destroy(m);
    snprintf(text, sizeof text,
             "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
             " \"fiber\": {\"nodes\": 51, \"diameter_um\": [10]},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 1.0},\n"
             " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": [0.05, 0.5], \"delay_ms\": 0.5, \"polarity\": \"cathodic\","
             " \"amplitude_mA\": 0.2},\n"
             " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 3},\n"
             " \"detect\": {\"threshold_mV\": 0, \"nodes\": [5, 45]},\n"
             " \"threshold\": {\"resolution\": 0.0002}}",
             wt);
    write_file("grid.json", text, grid, sizeof grid);
    snprintf(text, sizeof text,
             "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
             " \"fiber\": {\"nodes\": 51, \"diameter_um\": [9, 11]},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 1.0},\n"
             " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": 0.1, \"delay_ms\": 0.5, \"amplitude_mA\": 0.2},\n"
             " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 5}}",
             wt);
    write_file("cv.json", text, cvg, sizeof cvg);

    axm_calib_cfg cfg;
    one_grid_cfg(&cfg, grid, 2, (const char *const[]){"cm", "axonD@10"}, 1, 2);
    snprintf(cfg.cv_grid, sizeof cfg.cv_grid, "%s", cvg);
    cfg.lm.iters = 6;
    axm_calib *c = axm_calib_create(&cfg, ws, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(axm_calib_n_residuals(c), 4);
    double x[2], v[2], zero[2] = {0, 0};
    axm_calib_stats s0, s1;
    assert_int_equal(axm_calib_stats_at(c, zero, &s0, &err), AXM_OK);
    int evals;
    assert_int_equal(axm_calib_search(c, x, &evals, &err), AXM_OK);
    assert_int_equal(axm_calib_stats_at(c, x, &s1, &err), AXM_OK);
    axm_calib_values(c, x, v);
    print_message("  start: thr %.2f %%, cv %.2f %%; end: thr %.3f %%, cv %.3f %%; cm x%.4f, axonD@10 x%.4f (%d evaluations)\n",
                  s0.thr_mean_pct, s0.cv_mean_pct, s1.thr_mean_pct, s1.cv_mean_pct, v[0] / cm0,
                  v[1] / (a1 * 100 + a2 * 10 + a3), evals);
    assert_true(s0.thr_mean_pct > 2);
    assert_true(s1.thr_mean_pct < 0.2 && s1.cv_mean_pct < 0.2);
    assert_true(fabs(v[0] / cm0 - 1) < 0.01);
    assert_true(fabs(v[1] / (a1 * 100 + a2 * 10 + a3) - 1) < 0.01);
    /* the fitted model carries the polynomial through the moved knot */
    const axm_model *fm = axm_calib_model_at(c, x, &err);
    assert_non_null(fm);
    double D = 10, ax = axm_model_get(fm, "axond1") * D * D + axm_model_get(fm, "axond2") * D + axm_model_get(fm, "axond3");
    assert_true(fabs(ax - v[1]) < 1e-9 * v[1]);
    axm_calib_destroy(c);

    /* an unknown parameter is an input error naming it */
    snprintf(cfg.params[1], sizeof cfg.params[1], "axonD@9");
    assert_null(axm_calib_create(&cfg, ws, NULL, &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "axonD@9"));

    /* a ve-gain knot moves the gain polynomial at its diameter only */
    cfg.n_params = 1;
    cfg.cv_grid[0] = 0;
    snprintf(cfg.params[0], sizeof cfg.params[0], "veGain@14");
    c = axm_calib_create(&cfg, ws, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    x[0] = log(1.1);
    fm = axm_calib_model_at(c, x, &err);
    assert_non_null(fm);
    double gk[3];
    for (int i = 0; i < 3; i++) {
        double Dk = 6 + 4 * i;
        gk[i] = axm_model_get(fm, "vegain1") * Dk * Dk + axm_model_get(fm, "vegain2") * Dk + axm_model_get(fm, "vegain3");
    }
    assert_true(fabs(gk[0] - 1) < 1e-12 && fabs(gk[1] - 1) < 1e-12 && fabs(gk[2] - 1.1) < 1e-12);
    axm_calib_destroy(c);
}

/* A one-condition threshold grid (10 um, 0.8 mm, 0.1 ms cathodic) with weights as its model. */
static void small_grid(const char *weights, char *grid, size_t n)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
             " \"fiber\": {\"nodes\": 31, \"diameter_um\": [10]},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 0.8},\n"
             " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": 0.1, \"delay_ms\": 0.5, \"polarity\": \"cathodic\","
             " \"amplitude_mA\": 0.2},\n"
             " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 2},\n"
             " \"detect\": {\"threshold_mV\": 0, \"nodes\": [5, 25]},\n"
             " \"threshold\": {\"resolution\": 0.0002}}",
             weights);
    write_file("shape-grid.json", text, grid, n);
}

/* Shape parameters of the stencils: "taps" widens a 3-tap model to 5 with zero taps (the same
 * thresholds as before), stencil.vm.d2 and stencil.ve.d1 move their pair of taps additively
 * (p0 + x * scale) and the centre tap by -2 times that, so the sums stay; K beyond the widened
 * stencil and an unknown channel are input errors naming the parameter. */
static void test_stencil_shape(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = smf_model();
    char wt[512], grid[512];
    save_model(m, "shape.json", wt, sizeof wt);
    axm_model_destroy(m);
    small_grid(wt, grid, sizeof grid);
    axm_calib_cfg cfg;
    one_grid_cfg(&cfg, grid, 2, (const char *const[]){"stencil.vm.d2", "stencil.ve.d1"}, 0.1, 2);
    cfg.taps = 5;
    axm_calib *c = axm_calib_create(&cfg, wt, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    double x[2] = {0, 0}, r[1];
    /* widened by zeros, the model is its own teacher */
    assert_int_equal(axm_calib_n_residuals(c), 1);
    assert_int_equal(axm_calib_residuals(c, x, r, &err), AXM_OK);
    assert_true(fabs(r[0]) < 1e-6);
    x[0] = 0.5;
    x[1] = -0.3;
    const axm_model *fm = axm_calib_model_at(c, x, &err);
    assert_non_null(fm);
    assert_int_equal(fm->taps, 5);
    const double vm[5] = {0.05, 1, -2.1, 1, 0.05}, ve[5] = {0, 0.97, -1.94, 0.97, 0};
    for (int j = 0; j < 5; j++) {
        assert_true(fabs(fm->stencil[0][j] - vm[j]) < 1e-12);
        assert_true(fabs(fm->stencil[1][j] - ve[j]) < 1e-12);
    }
    /* wider drive taps change the threshold */
    assert_int_equal(axm_calib_residuals(c, x, r, &err), AXM_OK);
    assert_true(fabs(r[0]) > 1e-3);
    axm_calib_destroy(c);

    snprintf(cfg.params[0], sizeof cfg.params[0], "stencil.vm.d3");
    assert_null(axm_calib_create(&cfg, wt, NULL, &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "stencil.vm.d3"));
    snprintf(cfg.params[0], sizeof cfg.params[0], "stencil.vx.d1");
    assert_null(axm_calib_create(&cfg, wt, NULL, &err));
    assert_non_null(strstr(err.msg, "stencil.vx.d1"));
}

/* The stability term: one residual sqrt(w) * max(0, ln(dt / (margin * limit))) at the
 * stability diameters, with the limit the sim's; cm scales the limit (it is Cn over the
 * conductances), so cm x 1.1 takes a fiber at its limit to dt/limit = 1/1.1, within the margin. */
static void test_stable_term(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = smf_model();
    char wt[512], grid[512];
    save_model(m, "stable.json", wt, sizeof wt);
    double D = 14, lim;
    axm_sim *s = axm_sim_create(m, 1, 51, &D, AXM_FP64, 1, &err);
    assert_non_null(s);
    assert_int_equal(axm_sim_max_dt(s, NULL, &lim, &err), AXM_OK);
    assert_true(lim > 0 && isfinite(lim));
    axm_sim_destroy(s);
    axm_model_destroy(m);
    small_grid(wt, grid, sizeof grid);
    axm_calib_cfg cfg;
    one_grid_cfg(&cfg, grid, 1, (const char *const[]){"cm"}, 1, 1);
    cfg.n_stable = 1;
    cfg.stable_D_um[0] = D;
    cfg.stable_dt_ms = lim;
    cfg.stable_margin = 0.8;
    cfg.w_stable = 4;
    axm_calib *c = axm_calib_create(&cfg, wt, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(axm_calib_n_residuals(c), 2);
    double x = 0, r[2];
    axm_calib_stats sx;
    assert_int_equal(axm_calib_residuals(c, &x, r, &err), AXM_OK);
    assert_true(fabs(r[1] - 2 * log(1 / 0.8)) < 1e-9);
    assert_int_equal(axm_calib_stats_at(c, &x, &sx, &err), AXM_OK);
    assert_int_equal(sx.n_stable, 1);
    assert_true(fabs(sx.stable_ratio - 1) < 1e-9);
    x = log(1.1);
    assert_int_equal(axm_calib_residuals(c, &x, r, &err), AXM_OK);
    assert_true(fabs(r[1] - 2 * log(1 / (1.1 * 0.8))) < 1e-6);
    assert_int_equal(axm_calib_stats_at(c, &x, &sx, &err), AXM_OK);
    assert_true(fabs(sx.stable_ratio - 1 / 1.1) < 1e-6);
    x = log(1.3); /* 1 / 1.3 < 0.8: no penalty */
    assert_int_equal(axm_calib_residuals(c, &x, r, &err), AXM_OK);
    assert_true(r[1] == 0);
    axm_calib_destroy(c);
}

/* The train term: a surrogate equal to its teacher counts the same action potentials; one whose
 * sodium conductance is cut to a fifth fires none, and each of its residuals is then -1 times
 * sqrt(w_train / N). */
static void test_train_term(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = smf_model();
    assert_int_equal(axm_model_set(m, "gl", 0.1, &err), AXM_OK); /* rests (the untrained S-MF does not) */
    char wt[512], grid[512], tr[512], text[2048];
    save_model(m, "train-teacher.json", wt, sizeof wt);
    axm_model_destroy(m);
    static const char *const fmt =
        "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
        " \"fiber\": {\"nodes\": 31, \"diameter_um\": [8, 12]},\n"
        " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 1.0},\n"
        " \"waveform\": {%s},\n"
        " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": %s},\n"
        " \"detect\": {\"threshold_mV\": -30, \"nodes\": [5, 25]}}";
    snprintf(text, sizeof text, fmt, wt, "\"kind\": \"mono\", \"pw_ms\": 0.1, \"delay_ms\": 0.5, \"amplitude_mA\": 0.2", "3");
    write_file("train-grid.json", text, grid, sizeof grid);
    snprintf(text, sizeof text, fmt, wt,
             "\"kind\": \"train\", \"pw_ms\": 0.1, \"freq_khz\": 0.25, \"dur_ms\": 9, \"delay_ms\": 0.5, "
             "\"polarity\": \"cathodic\", \"amplitude_mA\": 0.5",
             "10");
    write_file("train.json", text, tr, sizeof tr);
    axm_calib_cfg cfg;
    one_grid_cfg(&cfg, grid, 1, (const char *const[]){"gnabar"}, 1, 2);
    snprintf(cfg.train[0], sizeof cfg.train[0], "%s", tr);
    cfg.n_trains = 1;
    cfg.w_train = 4;
    axm_calib *c = axm_calib_create(&cfg, wt, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(axm_calib_n_residuals(c), 2 + 2 * 2); /* 2 thresholds, 2 fibers x 2 nodes */
    double x = 0, r[6];
    axm_calib_stats s;
    assert_int_equal(axm_calib_stats_at(c, &x, &s, &err), AXM_OK);
    assert_int_equal(s.n_train, 4);
    assert_int_equal(s.train_max_diff, 0);
    x = log(0.2);
    assert_int_equal(axm_calib_residuals(c, &x, r, &err), AXM_OK);
    for (int i = 2; i < 6; i++) assert_true(fabs(r[i] + 1) < 1e-12); /* sqrt(4 / 4) * (0 - n) / n */
    assert_int_equal(axm_calib_stats_at(c, &x, &s, &err), AXM_OK);
    assert_true(s.train_max_diff >= 2); /* the teacher fires on every pulse of the train */
    axm_calib_destroy(c);

    /* two trains (0.25 and 0.4 kHz): their residuals follow one another, weighted over both */
    char tr2[512];
    snprintf(text, sizeof text, fmt, wt,
             "\"kind\": \"train\", \"pw_ms\": 0.1, \"freq_khz\": 0.4, \"dur_ms\": 9, \"delay_ms\": 0.5, "
             "\"polarity\": \"cathodic\", \"amplitude_mA\": 0.5",
             "10");
    write_file("train2.json", text, tr2, sizeof tr2);
    snprintf(cfg.train[1], sizeof cfg.train[1], "%s", tr2);
    cfg.n_trains = 2;
    c = axm_calib_create(&cfg, wt, NULL, &err);
    if (!c) fail_msg("%s", err.msg);
    assert_int_equal(axm_calib_n_residuals(c), 2 + 2 * 4);
    x = 0;
    assert_int_equal(axm_calib_stats_at(c, &x, &s, &err), AXM_OK);
    assert_int_equal(s.n_train, 8);
    assert_int_equal(s.train_max_diff, 0);
    double r2[10];
    x = log(0.2);
    assert_int_equal(axm_calib_residuals(c, &x, r2, &err), AXM_OK);
    for (int i = 2; i < 10; i++) assert_true(fabs(r2[i] + sqrt(4.0 / 8)) < 1e-12);
    axm_calib_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solve),
        cmocka_unit_test(test_lm),
        cmocka_unit_test(test_knots),
        cmocka_unit_test(test_cfg_errors),
        cmocka_unit_test(test_recovers_teacher),
        cmocka_unit_test(test_train_term),
        cmocka_unit_test(test_stencil_shape),
        cmocka_unit_test(test_stable_term),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
