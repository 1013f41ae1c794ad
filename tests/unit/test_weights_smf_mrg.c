/* The shipped S-MF weights (weights/smf-mrg.json, made by `sh weights/train-smf-mrg.sh`) against
 * NEURON (shared/reference/mrg_neuron, protocol of its README), through the real pipeline:
 * scenario -> setup -> batched threshold search, cv.h, and an unstimulated 50 ms run.
 * The bounds: thresholds mean |err| <= 2 %, every condition within 6 % (measured 0.89 % and
 * 2.17 %); CV within 3 % (measured 1.12 %). Rest: within 1.5 mV of -80 mV for 50 ms (each diameter
 * settles at its own rest, within 1.19 mV over 5.7-14 um).
 * Pulse trains: as many action potentials as our MRG (the teacher) at 250 and 500 Hz. The explicit
 * step's headroom at dt 0.005 ms, and no blow-up after a strong spike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"
#include "scenario.h"
#include "thresh.h"

#define WEIGHTS "weights/smf-mrg.json"

/* Percent; the measured values are printed by the tests. */
#define BOUND_THR_MEAN 2.0
#define BOUND_THR_MAX 6.0
#define BOUND_CV_MAX 3.0
/* Rest: vm of every node within this many mV of -80 over 50 ms (no spike: a spike exceeds 0 mV). */
#define BOUND_REST_MV 1.5

static const char *shared_dir(void)
{
    const char *sh = getenv("AXM_SHARED");
    return sh && *sh ? sh : "../shared";
}

static axm_scenario *scenario(const char *wave, const char *extra)
{
    char t[2048];
    snprintf(t, sizeof t,
             "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
             " \"fiber\": {\"nodes\": 51, \"diameter_um\": [6, 9, 13]},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 1.5},\n"
             " \"waveform\": {%s, \"delay_ms\": 0.5, \"amplitude_mA\": 0.2},\n"
             " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": %s},\n"
             " \"detect\": {\"threshold_mV\": 0, \"nodes\": [5, 45]},\n"
             " \"threshold\": {\"resolution\": 0.001}}",
             WEIGHTS, wave, extra);
    axm_err err;
    axm_err_clear(&err);
    axm_scenario *sc = axm_scenario_parse(t, "test_weights_smf_mrg", ".", &err);
    if (!sc) fail_msg("%s", err.msg);
    return sc;
}

/* The scenario of JSON text t, set up to simulate at its amplitudes (stored in *sc). */
static axm_setup *setup_text(const char *t, axm_scenario **sc)
{
    axm_err err;
    axm_err_clear(&err);
    *sc = axm_scenario_parse(t, "test_weights_smf_mrg", ".", &err);
    if (!*sc) fail_msg("%s", err.msg);
    axm_setup_opts o = {0, 2, 0};
    axm_setup *su = axm_setup_create(*sc, &o, &err);
    if (!su) fail_msg("%s", err.msg);
    return su;
}

/* Thresholds of one scenario's conditions, compared with the matching rows of thresholds.csv. */
static void compare(axm_scenario *sc, FILE *ref, double *sum, double *mx, int *n)
{
    axm_err err;
    axm_err_clear(&err);
    axm_setup_opts o = {1, 2, 0};
    axm_setup *su = axm_setup_create(sc, &o, &err);
    if (!su) fail_msg("%s", err.msg);
    assert_int_equal(su->model->trained, 1);
    axm_thresh_opts to = axm_setup_thresh_opts(su);
    axm_thresh_result r;
    assert_int_equal(axm_threshold(su->sim, &to, &r, &err), AXM_OK);
    const char *wname = axm_scenario_wave_name(sc);
    for (int i = 0; i < su->n_cond; i++) {
        const axm_condition *c = &su->cond[i];
        char line[256], w[32], pol[32];
        double D, d, pw, thr, lo;
        int ns;
        rewind(ref);
        if (!fgets(line, sizeof line, ref)) fail_msg("thresholds.csv: empty");
        while (fgets(line, sizeof line, ref)) {
            for (char *p = line; *p; p++)
                if (*p == ',') *p = ' ';
            if (sscanf(line, "%lf %lf %31s %lf %31s %lf %lf %d", &D, &d, w, &pw, pol, &thr, &lo, &ns) != 8)
                continue;
            if (fabs(D - c->diameter_um) > 1e-9 || fabs(pw - c->pw_ms) > 1e-9 || strcmp(w, wname) ||
                strcmp(pol, axm_polarity_name(c->polarity)))
                continue;
            assert_int_equal(r.status[i], AXM_TH_OK);
            double e = 100 * (r.upper[i] / thr - 1);
            print_message("  D %4.1f %-8s pw %.1f %-8s NEURON %.5f S-MF %.5f  %+6.2f %%\n", D, w, pw, pol,
                          thr, r.upper[i], e);
            *sum += fabs(e);
            if (fabs(e) > *mx) *mx = fabs(e);
            (*n)++;
        }
    }
    axm_thresh_result_free(&r);
    axm_setup_destroy(su);
}

static void test_thresholds(void **st)
{
    (void)st;
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/mrg_neuron/thresholds.csv", shared_dir());
    FILE *ref = fopen(path, "r");
    if (!ref) skip();
    double sum = 0, mx = 0;
    int n = 0;
    axm_scenario *a = scenario("\"kind\": \"mono\", \"pw_ms\": [0.1, 0.4], \"polarity\": [\"cathodic\", \"anodic\"]", "5");
    compare(a, ref, &sum, &mx, &n);
    axm_scenario_destroy(a);
    axm_scenario *b = scenario("\"kind\": \"biphasic\", \"pw_ms\": 0.2, \"polarity\": \"cathodic\"", "5");
    compare(b, ref, &sum, &mx, &n);
    axm_scenario_destroy(b);
    fclose(ref);
    assert_int_equal(n, 12);
    print_message("  thresholds vs NEURON: mean |err| %.2f %%, max %.2f %%\n", sum / n, mx);
    assert_true(sum / n <= BOUND_THR_MEAN);
    assert_true(mx <= BOUND_THR_MAX);
}

static void test_cv(void **st)
{
    (void)st;
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/mrg_neuron/cv.csv", shared_dir());
    FILE *f = fopen(path, "r");
    if (!f) skip();
    char line[256];
    double D[8], ref[8], nA;
    int n = 0;
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    while (n < 8 && fgets(line, sizeof line, f))
        if (sscanf(line, "%lf,%lf,%lf", &D[n], &ref[n], &nA) == 3) n++;
    fclose(f);
    assert_int_equal(n, 3);
    axm_scenario *sc = scenario("\"kind\": \"mono\", \"pw_ms\": 0.1", "5");
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = axm_scenario_model(sc, &err);
    if (!m) fail_msg("%s", err.msg);
    axm_cv_opts o = axm_cv_opts_default();
    o.n_threads = 2;
    axm_cv_result r[8];
    assert_int_equal(axm_cv(m, n, D, 51, AXM_FP64, &o, r, &err), AXM_OK);
    for (int i = 0; i < n; i++) {
        double e = 100 * (r[i].cv_m_per_s / ref[i] - 1);
        print_message("  D %4.1f CV NEURON %.2f S-MF %.2f m/s  %+6.2f %%\n", D[i], ref[i], r[i].cv_m_per_s, e);
        assert_true(fabs(e) <= BOUND_CV_MAX);
    }
    axm_model_destroy(m);
    axm_scenario_destroy(sc);
}

/* 50 ms without stimulus on 51 nodes: vm stays near rest everywhere and never spikes. Sampled
 * every 0.05 ms, shorter than any action potential. */
static void test_rest(void **st)
{
    (void)st;
    axm_scenario *sc = scenario("\"kind\": \"mono\", \"pw_ms\": 0.1", "50");
    axm_err err;
    axm_err_clear(&err);
    axm_setup_opts o = {0, 2, 1};
    axm_setup *su = axm_setup_create(sc, &o, &err);
    if (!su) fail_msg("%s", err.msg);
    double lo = 1e9, hi = -1e9;
    for (long k = 0; k < su->n_steps; k += 10) {
        axm_run_opts ro = {0};
        ro.dt_ms = sc->dt_ms;
        ro.n_steps = 10;
        ro.reinit = k == 0;
        assert_int_equal(axm_sim_run(su->sim, &ro, NULL, 0, &err), AXM_OK);
        for (int b = 0; b < su->n_cond; b++)
            for (int j = 0; j < 51; j++) {
                double v = axm_sim_state_at(su->sim, b, 4, j);
                if (!(v >= lo)) lo = v;
                if (!(v <= hi)) hi = v;
            }
    }
    print_message("  rest 50 ms: vm in [%.3f, %.3f] mV\n", lo, hi);
    assert_true(lo >= -80 - BOUND_REST_MV && hi <= -80 + BOUND_REST_MV);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
}

/* Action potentials at node 45 (upward crossings of -30 mV: the late spikes of a fast train may
 * peak below 0 mV) of 6, 9 and 13 um fibers under 0.1 ms cathodic pulses of 0.8 mA (about twice
 * the threshold) 1.5 mm away for 19 ms. */
static void count_aps(const char *model, double khz, int out[3])
{
    char t[2048];
    snprintf(t, sizeof t,
             "{\"model\": %s,\n"
             " \"fiber\": {\"nodes\": 51, \"diameter_um\": [6, 9, 13]},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 1.5},\n"
             " \"waveform\": {\"kind\": \"train\", \"pw_ms\": 0.1, \"freq_khz\": %g, \"dur_ms\": 19, "
             "\"polarity\": \"cathodic\", \"delay_ms\": 0.5, \"amplitude_mA\": 0.8},\n"
             " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 20}}",
             model, khz);
    axm_scenario *sc;
    axm_setup *su = setup_text(t, &sc);
    axm_err err;
    axm_err_clear(&err);
    axm_detect d = axm_detect_default();
    d.threshold_mV = -30;
    d.n_nodes = 1;
    d.nodes[0] = 45;
    d.at_least = 1;
    axm_monitor *ap = axm_apcount_create(&d, &err);
    assert_non_null(ap);
    axm_run_opts ro = axm_setup_run_opts(su, NULL);
    assert_int_equal(axm_sim_run(su->sim, &ro, &ap, 1, &err), AXM_OK);
    for (int b = 0; b < 3; b++) out[b] = axm_apcount_counts(ap)[b];
    axm_monitor_destroy(ap);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
}

/* The surrogate must follow 250 and 500 Hz pulse trains spike for spike as our MRG (the teacher,
 * NEURON's model) does; earlier weights, whose slow K gate decayed too fast, fired between the
 * pulses of a 250 Hz train. */
static void test_trains(void **st)
{
    (void)st;
    static const double khz[2] = {0.25, 0.5};
    char smf[600];
    snprintf(smf, sizeof smf, "{\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"}", WEIGHTS);
    for (int i = 0; i < 2; i++) {
        int a[3], b[3];
        count_aps(smf, khz[i], a);
        count_aps("{\"name\": \"mrg\", \"precision\": \"fp64\"}", khz[i], b);
        print_message("  %g kHz train, APs at node 45 (D 6 / 9 / 13 um): S-MF %d / %d / %d, MRG %d / %d / %d\n",
                      khz[i], a[0], a[1], a[2], b[0], b[1], b[2]);
        for (int j = 0; j < 3; j++) {
            assert_true(b[j] >= 4); /* the MRG itself follows the train */
            assert_int_equal(a[j], b[j]);
        }
    }
}

/* A 0.1 ms cathodic pulse of amp_mA 0.3 mm from fibers of diameters D (a JSON list), dt in ms. */
static axm_setup *strong_pulse(const char *D, double amp_mA, double dt, axm_scenario **sc)
{
    char t[2048];
    snprintf(t, sizeof t,
             "{\"model\": {\"name\": \"smf\", \"weights\": \"%s\", \"precision\": \"fp64\"},\n"
             " \"fiber\": {\"nodes\": 51, \"diameter_um\": %s},\n"
             " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": 0.3},\n"
             " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": 0.1, \"polarity\": \"cathodic\", \"delay_ms\": 0.5,"
             " \"amplitude_mA\": %g},\n"
             " \"sim\": {\"dt_ms\": %.17g, \"tstop_ms\": 5}}",
             WEIGHTS, D, amp_mA, dt);
    return setup_text(t, sc);
}

/* Headroom of the explicit step at dt 0.005 ms: within AXM_EXPLICIT_HEADROOM of the linear limit
 * over 5.7-14 um (the calibration keeps it there; the weights shipped before were at 0.797), and
 * fibers hit by a 4 mA pulse 0.3 mm away (far above threshold) are back near rest 4 ms later:
 * a fit calibrated without the stability term (cm lowered for accuracy, 0.86 of the limit) left a
 * node-to-node sawtooth of -630..+171 mV at 14 um after that spike. */
static void test_headroom(void **st)
{
    (void)st;
    axm_scenario *sc;
    axm_setup *su = strong_pulse("[5.7, 7, 8.5, 10, 11.5, 13, 14]", 4, 0.005, &sc);
    axm_err err;
    axm_err_clear(&err);
    double lim;
    int fb;
    assert_int_equal(axm_sim_max_dt(su->sim, &fb, &lim, &err), AXM_OK);
    print_message("  dt / explicit limit %.4f (at D %g um)\n", sc->dt_ms / lim, su->diameter_um[fb]);
    assert_true(sc->dt_ms <= AXM_EXPLICIT_HEADROOM * lim * (1 + 1e-3));
    axm_run_opts ro = axm_setup_run_opts(su, NULL);
    assert_int_equal(axm_sim_run(su->sim, &ro, NULL, 0, &err), AXM_OK);
    double lo = 1e9, hi = -1e9;
    for (int b = 0; b < su->n_cond; b++)
        for (int j = 0; j < 51; j++) {
            double v = axm_sim_state_at(su->sim, b, 4, j);
            if (!(v >= lo)) lo = v;
            if (!(v <= hi)) hi = v;
        }
    print_message("  4 ms after a 4 mA pulse 0.3 mm away: vm in [%.1f, %.1f] mV\n", lo, hi);
    assert_true(lo > -120 && hi < 40);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
}

/* Past the headroom the explicit step blows up after a strong spike; the engine says so (fiber,
 * time, the dt to use) instead of returning the sawtooth, and with allow_diverged marks only the
 * fiber that diverged: the unstimulated one, linearly stable at this dt, is not. */
static void test_divergence_reported(void **st)
{
    (void)st;
    axm_scenario *sc;
    axm_setup *su = strong_pulse("[14, 14]", 4, 0.005, &sc);
    axm_err err;
    axm_err_clear(&err);
    double lim;
    assert_int_equal(axm_sim_max_dt(su->sim, NULL, &lim, &err), AXM_OK);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    su = strong_pulse("[14, 14]", 4, 0.97 * lim, &sc);
    axm_sim_set_amp(su->sim, (const double[]){1, 0});
    axm_run_opts ro = axm_setup_run_opts(su, NULL);
    assert_int_equal(axm_sim_run(su->sim, &ro, NULL, 0, &err), AXM_ERR_RUNTIME);
    print_message("  dt %.3g ms = 0.97 of the limit: %s\n", 0.97 * lim, err.msg);
    assert_non_null(strstr(err.msg, "fiber 0 (D = 14 um) diverged"));
    assert_non_null(strstr(err.msg, "use dt <="));
    ro.allow_diverged = 1;
    assert_int_equal(axm_sim_run(su->sim, &ro, NULL, 0, &err), AXM_OK);
    long k;
    int node, state;
    double v;
    assert_true(axm_sim_diverged(su->sim, 0, &k, &node, &state, &v));
    assert_true(k * sc->dt_ms > 0.5); /* after the pulse began */
    assert_true(!isfinite(v) || (state == 4 && fabs(v) >= AXM_VM_DIVERGED));
    assert_false(axm_sim_diverged(su->sim, 1, NULL, NULL, NULL, NULL));
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_thresholds), cmocka_unit_test(test_cv),
                                       cmocka_unit_test(test_trains), cmocka_unit_test(test_rest),
                                       cmocka_unit_test(test_headroom), cmocka_unit_test(test_divergence_reported)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
