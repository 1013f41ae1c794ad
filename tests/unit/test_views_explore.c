/* The explore view's model (explore.h) on the MRG ground truth: a stimulus well above the
 * threshold the search finds fires the fiber, one well below does not; the action potential
 * starts under the electrode and propagates to both ends; the fiber rests at -80 mV. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "explore.h"
#include "model.h"
#include "scenario.h"
#include "thresh.h"

static double first_spike(const axm_ex_result *r, int node)
{
    double t = INFINITY;
    for (long i = 0; i < r->n_spikes; i++)
        if (r->spk_node[i] == node && r->spk_t[i] < t) t = r->spk_t[i];
    return t;
}

static void test_scenario_text_parses(void **state)
{
    (void)state;
    axm_ex_params p;
    axm_ex_params_default(&p);
    for (int w = 0; w < AXM_EX_N_WAVES; w++) {
        p.wave = w;
        char *j = axm_ex_scenario_json(&p);
        axm_err e;
        axm_err_clear(&e);
        axm_scenario *sc = axm_scenario_parse(j, "explore", ".", &e);
        if (!sc) fail_msg("%s: %s", axm_ex_wave_name(w), e.msg);
        assert_int_equal(sc->nodes, 51);
        axm_scenario_destroy(sc);
        free(j);
    }
}

static void test_threshold_separates_firing(void **state)
{
    (void)state;
    if (!axm_model_kind_find("mrg")) skip(); /* needs a model that rests */
    axm_ex_params p;
    axm_ex_params_default(&p);
    assert_string_equal(p.model, "mrg"); /* a model that rests is the default */
    axm_ex_result r;
    axm_err e;
    axm_err_clear(&e);
    assert_int_equal(axm_ex_run(&p, 1, NULL, &r, &e), AXM_OK);
    assert_int_equal(r.thresh_status, AXM_TH_OK);
    double thr = r.thresh_mA;
    assert_true(thr > 0 && isfinite(thr));
    assert_true(r.n_spikes > 0); /* the run shown is at threshold: it fires */
    assert_float_equal(r.amp_mA, thr, 0);
    axm_ex_result_free(&r);

    p.amp_mA = 0.5 * thr;
    assert_int_equal(axm_ex_run(&p, 0, NULL, &r, &e), AXM_OK);
    assert_int_equal(r.n_spikes, 0);
    assert_int_equal(r.W, 51);
    /* at rest before the stimulus: MRG rests at -80 mV */
    assert_true(r.n_trace == 3 && r.n_frames > 10);
    assert_float_equal(r.vm[0], -80, 0.5);
    axm_ex_result_free(&r);

    p.amp_mA = 2 * thr;
    assert_int_equal(axm_ex_run(&p, 0, NULL, &r, &e), AXM_OK);
    assert_true(r.n_spikes >= 51); /* every node fires once at least */
    /* initiation under the electrode (centre node), conduction to both ends */
    double tc = first_spike(&r, 25), t5 = first_spike(&r, 5), t45 = first_spike(&r, 45);
    assert_true(isfinite(tc) && isfinite(t5) && isfinite(t45));
    assert_true(tc < t5 && tc < t45);
    assert_true(tc > p.delay_ms);
    /* vm at the centre node peaks above 0 mV */
    double mx = -1e9;
    for (long k = 0; k < r.n_frames; k++) mx = fmax(mx, r.vm[k]);
    assert_true(mx > 0);
    axm_ex_result_free(&r);
}

static void test_bad_setup_is_an_error_not_a_crash(void **state)
{
    (void)state;
    axm_ex_params p;
    axm_ex_params_default(&p);
    p.nodes = 1;
    axm_ex_result r;
    axm_err e;
    axm_err_clear(&e);
    assert_int_not_equal(axm_ex_run(&p, 0, NULL, &r, &e), AXM_OK);
    assert_false(r.ok);
    assert_non_null(strstr(r.msg, "nodes"));
    axm_ex_result_free(&r);
}

static void test_worker_returns_the_latest_request(void **state)
{
    (void)state;
    axm_ex_worker *w = axm_ex_worker_create();
    axm_ex_params p;
    axm_ex_params_default(&p);
    p.tstop_ms = 1;
    p.amp_mA = 0.001;
    axm_ex_worker_submit(w, &p, 0);
    p.amp_mA = 0.002;
    long g = axm_ex_worker_submit(w, &p, 0);
    axm_ex_result r;
    memset(&r, 0, sizeof r);
    /* the last request's answer arrives; an earlier one may have been cancelled or replaced */
    for (;;) {
        while (!axm_ex_worker_poll(w, &r)) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        if (r.gen == g) break;
    }
    assert_true(r.ok);
    assert_float_equal(r.amp_mA, 0.002, 0);
    axm_ex_result_free(&r);
    axm_ex_worker_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_text_parses),
        cmocka_unit_test(test_threshold_separates_firing),
        cmocka_unit_test(test_bad_setup_is_an_error_not_a_crash),
        cmocka_unit_test(test_worker_returns_the_latest_request),
    };
    return cmocka_run_group_tests_name("views_explore", tests, NULL, NULL);
}
