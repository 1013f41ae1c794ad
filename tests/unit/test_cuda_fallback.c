/* Asking for the CUDA backend on a machine without a GPU (or without the backend compiled in) reports
 * "not available" with a reason and never crashes; `axonml info` says so and exits 0.
 *
 * The unit tests may be linked without the GPU objects, so the backend's entry points are weak
 * references here: when they are absent only the CLI half runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "axm_cuda.h"

#pragma weak axm_cuda_compiled
#pragma weak axm_cuda_available
#pragma weak axm_cuda_devices
#pragma weak axm_cuda_sim_create
#pragma weak axm_cuda_active_create
#pragma weak axm_cuda_threshold

typedef struct paths {
    char build[512];
} paths;

static int linked(void) { return axm_cuda_available != NULL; }

static void test_available_reports_reason(void **state)
{
    (void)state;
    if (!linked()) skip();
    axm_err why;
    axm_err_clear(&why);
    if (axm_cuda_available(&why)) skip(); /* a GPU machine: nothing to fall back from */
    assert_int_not_equal(why.code, AXM_OK);
    assert_true(strlen(why.msg) > 0);
    assert_null(strchr(why.msg, '\n'));
    if (!axm_cuda_compiled()) assert_non_null(strstr(why.msg, "not compiled in"));
    /* NULL reason pointer is allowed */
    assert_int_equal(axm_cuda_available(NULL), 0);
    axm_cuda_device dev[2];
    axm_err e;
    axm_err_clear(&e);
    assert_int_equal(axm_cuda_devices(dev, 2, &e), 0);
    assert_int_not_equal(e.code, AXM_OK);
}

static void test_create_fails_cleanly(void **state)
{
    (void)state;
    if (!linked()) skip();
    if (axm_cuda_available(NULL)) skip();
    axm_err e;
    axm_err_clear(&e);
    /* the model is checked after availability would be; a NULL model must not crash either */
    double D[2] = {5.7, 10.0};
    axm_cuda_sim *s = axm_cuda_sim_create(NULL, 2, 21, D, AXM_FP32, -1, &e);
    assert_null(s);
    assert_int_not_equal(e.code, AXM_OK);
    axm_thresh_result r;
    memset(&r, 0xab, sizeof r);
    axm_err_clear(&e);
    if (!axm_cuda_compiled()) {
        assert_int_not_equal(axm_cuda_threshold(NULL, NULL, &r, &e), AXM_OK);
        assert_int_equal(r.n, 0);
        assert_null(r.upper);
        axm_detect d = {0};
        d.n_nodes = 1;
        d.at_least = 1;
        assert_null(axm_cuda_active_create(&d, 1, &e));
    }
}

static void test_info_says_unavailable(void **state)
{
    const paths *p = (const paths *)*state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "%s/axonml info 2>&1", p->build);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[1024];
    int cuda_lines = 0, gpu_lines = 0, unavailable = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "cuda: ", 6)) {
            cuda_lines++;
            if (strstr(line, "not compiled in") || strstr(line, "not available: ")) unavailable = 1;
        }
        if (!strncmp(line, "gpu ", 4)) gpu_lines++;
    }
    int rc = pclose(f);
    assert_int_equal(rc, 0);
    assert_int_equal(cuda_lines, 1);
    if (unavailable) assert_int_equal(gpu_lines, 0);
    else assert_true(gpu_lines > 0);

    snprintf(cmd, sizeof cmd, "%s/axonml info --json 2>&1", p->build);
    f = popen(cmd, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(buf, "\"cuda_available\":"));
    assert_non_null(strstr(buf, "\"gpus\":["));
    if (unavailable) {
        assert_non_null(strstr(buf, "\"cuda_available\":false"));
        assert_non_null(strstr(buf, "\"cuda_reason\":\""));
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    paths p;
    /* argv[0] is <build>/tests/test_cuda_fallback */
    snprintf(p.build, sizeof p.build, "%s", argv[0]);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(p.build, '/');
        if (slash) *slash = '\0';
        else snprintf(p.build, sizeof p.build, ".");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_available_reports_reason),
        cmocka_unit_test(test_create_fails_cleanly),
        cmocka_unit_test_prestate(test_info_says_unavailable, &p),
    };
    return cmocka_run_group_tests_name("cuda_fallback", tests, NULL, NULL);
}
