#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void test_fail_formats_and_returns_code(void **state)
{
    (void)state;
    axm_err e;
    axm_err_clear(&e);
    int rc = axm_fail(&e, AXM_ERR_INPUT, "%s: %s: expected %s", "x.json", "fiber.nodes", ">= 3");
    assert_int_equal(rc, AXM_ERR_INPUT);
    assert_int_equal(e.code, AXM_ERR_INPUT);
    assert_string_equal(e.msg, "x.json: fiber.nodes: expected >= 3");
    assert_int_equal(axm_fail(NULL, AXM_ERR_IO, "ignored"), AXM_ERR_IO);
}

static void test_exit_status(void **state)
{
    (void)state;
    assert_int_equal(axm_exit_status(AXM_OK), 0);
    assert_int_equal(axm_exit_status(AXM_ERR_INPUT), 2);
    assert_int_equal(axm_exit_status(AXM_ERR_RUNTIME), 1);
    assert_int_equal(axm_exit_status(AXM_ERR_IO), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_formats_and_returns_code),
        cmocka_unit_test(test_exit_status),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
