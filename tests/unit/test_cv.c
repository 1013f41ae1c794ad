/* Conduction velocity (cv.h) on the MRG model: NEURON reference values, growth with diameter,
 * the node-count requirement, and NaN when nothing propagates. */
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

static axm_model *mrg(void)
{
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = axm_model_create("mrg", &err);
    if (!m) fail_msg("%s", err.msg);
    return m;
}

/* shared/reference/mrg_neuron/cv.csv: 25.7596, 44.3025, 68.1422 m/s for D = 6, 9, 13. */
static void test_reference(void **st)
{
    (void)st;
    const char *sh = getenv("AXM_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/mrg_neuron/cv.csv", sh && *sh ? sh : "../shared");
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
    axm_model *m = mrg();
    axm_cv_result r[8];
    axm_err err;
    axm_err_clear(&err);
    assert_int_equal(axm_cv(m, n, D, 51, AXM_FP64, NULL, r, &err), AXM_OK);
    for (int i = 0; i < n; i++) {
        double rel = r[i].cv_m_per_s / ref[i] - 1;
        print_message("D %g: CV %.4f m/s, NEURON %.4f (%+.2f %%)\n", D[i], r[i].cv_m_per_s, ref[i], 100 * rel);
        assert_true(fabs(rel) < 0.005);
        /* 30 internodes of the method-1 node spacing */
        assert_true(fabs(r[i].dx_um - 30 * axm_deltax_method1_um(D[i])) < 1e-6 * r[i].dx_um);
        assert_true(r[i].t_b_ms > r[i].t_a_ms && r[i].t_a_ms > 0.5);
        if (i) assert_true(r[i].cv_m_per_s > r[i - 1].cv_m_per_s);
    }
    axm_model_destroy(m);
}

static void test_errors(void **st)
{
    (void)st;
    axm_model *m = mrg();
    double D = 10;
    axm_cv_result r;
    axm_err err;
    axm_err_clear(&err);
    assert_int_equal(axm_cv(m, 1, &D, 40, AXM_FP64, NULL, &r, &err), AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "41"));
    /* no current: no spike, no CV */
    axm_cv_opts o = axm_cv_opts_default();
    o.amp_nA = 0;
    o.tstop_ms = 2;
    assert_int_equal(axm_cv(m, 1, &D, 41, AXM_FP32, &o, &r, &err), AXM_OK);
    assert_true(isnan(r.cv_m_per_s) && isnan(r.t_a_ms));
    axm_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_reference), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
