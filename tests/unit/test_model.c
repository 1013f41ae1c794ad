/* Model instances and weights files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "model"
#include "tmpdir.h"

#include "model.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_save_load_roundtrip(void **st)
{
    (void)st;
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    axm_model_set(m, "gl", 0.0123456789012345678, &e);
    axm_model_set(m, "cm", 1.0 / 3.0, &e);
    m->taps = 5;
    double w[5] = {0.1, 0.9, -2.2, 1.1, 0.05};
    memcpy(m->stencil[0], w, sizeof w);
    m->trained = 1;
    char path[512];
    snprintf(path, sizeof path, "%s/w.json", tmpdir);
    assert_int_equal(axm_model_save_weights(m, path, "{\"epochs\": 3, \"data\": \"x.h5\"}", &e), AXM_OK);
    axm_model *r = axm_model_create("smf", &e);
    assert_int_equal(axm_model_load_weights(r, path, &e), AXM_OK);
    for (int i = 0; i < m->kind->n_params; i++) assert_true(r->p[i] == m->p[i]); /* exact */
    assert_int_equal(r->taps, 5);
    for (int j = 0; j < 5; j++) {
        assert_true(r->stencil[0][j] == w[j]);
        assert_true(r->stencil[1][j] == m->stencil[1][j]);
    }
    assert_int_equal(r->trained, 1);
    assert_string_equal(r->weights_path, path);
    /* no temp file is left behind */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/w.json.tmp.%ld", tmpdir, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* a provenance that is not an object is refused */
    assert_int_equal(axm_model_save_weights(m, path, "[1,2]", &e), AXM_ERR_INPUT);
    axm_model_destroy(m);
    axm_model_destroy(r);
}

static void expect_load_error(const char *text, const char *needle)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", tmpdir);
    write_file(path, text);
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    double gl = axm_model_get(m, "gl");
    int rc = axm_model_load_weights(m, path, &e);
    if (rc != AXM_ERR_INPUT) fail_msg("loaded %s (rc %d)", text, rc);
    if (!strstr(e.msg, path) || !strstr(e.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
    assert_null(strchr(e.msg, '\n'));
    assert_true(axm_model_get(m, "gl") == gl); /* unchanged on error */
    axm_model_destroy(m);
}

static void test_load_errors(void **st)
{
    (void)st;
    expect_load_error("{\"model\":\"smf\",\"params\":{\"gl\":0.01,\"gxx\":1}}", "gxx");
    expect_load_error("{\"model\":\"mrg\",\"params\":{}}", "model: expected \"smf\", got \"mrg\"");
    expect_load_error("{\"model\":\"smf\",\"params\":{\"gl\":\"big\"}}", "params.gl: expected a finite number, got \"big\"");
    expect_load_error("{\"model\":\"smf\",\"params\":[1]}", "params: expected an object of name: number, got an array");
    expect_load_error("{\"model\":\"smf\",\"stencil\":{\"taps\":3,\"vm\":[1,2],\"ve\":[1,-2,1]}}", "stencil.vm: expected an array of 3");
    expect_load_error("{\"model\":\"smf\",\"stencil\":{\"taps\":3,\"vm\":[1,-2,1],\"ve\":[1,null,1]}}", "stencil.ve[1]: expected a finite number, got null");
    expect_load_error("{\"model\":\"smf\",\"stencil\":{\"taps\":4,\"vm\":[1,2,1,1],\"ve\":[1,-2,1,1]}}", "stencil.taps: expected an odd integer 1..9, got 4");
    expect_load_error("{\"model\":\"smf\",\"trained\":1}", "trained: expected true or false, got 1");
    expect_load_error("{\"model\":\"smf\",\"version\":2}", "version: expected 1, got 2");
    /* a key given twice: cJSON keeps both, and the later one must not win silently */
    expect_load_error("{\"model\":\"smf\",\"params\":{\"gl\":0.01,\"gl\":0.02}}", "params.gl: expected each key once");
    expect_load_error("{\"model\":\"smf\",\"trained\":true,\"trained\":false}", "trained: expected each key once");
    expect_load_error("{\"model\":\"smf\",\"stencil\":{\"taps\":3,\"taps\":5,\"vm\":[1,-2,1],\"ve\":[1,-2,1]}}",
                      "stencil.taps: expected each key once");
    expect_load_error("{\"model\":\"smf\",\"colour\":1}", "colour");
    expect_load_error("{\"params\":{}}", "model");
    expect_load_error("{\"model\":\"smf\",", "JSON");
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    assert_int_equal(axm_model_load_weights(m, "/nonexistent/w.json", &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "/nonexistent/w.json"));
    axm_model_destroy(m);
}

/* The shipped default weights are the untrained defaults. */
static void test_shipped_defaults(void **st)
{
    (void)st;
    axm_err e;
    axm_model *d = axm_model_create("smf", &e), *m = axm_model_create("smf", &e);
    m->trained = 1;
    if (axm_model_load_weights(m, "weights/smf-default.json", &e) != AXM_OK) fail_msg("%s", e.msg);
    for (int i = 0; i < m->kind->n_params; i++) assert_true(m->p[i] == d->p[i]);
    assert_int_equal(m->trained, 0);
    assert_int_equal(m->taps, 3);
    assert_true(m->stencil[0][0] == 1 && m->stencil[0][1] == -2 && m->stencil[1][2] == 1);
    axm_model_destroy(d);
    axm_model_destroy(m);
}

static void test_defaults(void **st)
{
    (void)st;
    axm_err e;
    int n;
    const axm_model_kind *const *ks = axm_model_kinds(&n);
    for (int i = 0; i < n; i++) {
        axm_model *m = axm_model_create(ks[i]->name, &e);
        assert_non_null(m);
        assert_true(m->temp_c == 37.0);
        assert_int_equal(m->handle_nan, 0);
        assert_int_equal(m->geometry, AXM_GEOM_METHOD1);
        assert_int_equal(m->taps, 3);
        assert_int_equal(ks[i]->state_names != NULL, 1);
        assert_string_equal(ks[i]->state_names[ks[i]->n_states - 1], "v");
        for (int j = 0; j < ks[i]->n_params; j++) {
            assert_true(isfinite(m->p[j]));
            for (int k = 0; k < j; k++) assert_string_not_equal(ks[i]->params[j].name, ks[i]->params[k].name);
        }
        axm_model_destroy(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_shipped_defaults),
    };
    return cmocka_run_group_tests_name("model", tests, setup_tmp, teardown_tmp);
}
