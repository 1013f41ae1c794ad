/* The one-line editor used for in-place edits (no terminal needed: keys are plain codes). */
#include <curses.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ui.h"

static void type(axm_lineedit *e, const char *s)
{
    for (; *s; s++) assert_int_equal(axm_lineedit_key(e, (unsigned char)*s), 0);
}

static void test_edit_keys(void **state)
{
    (void)state;
    axm_lineedit e;
    axm_lineedit_begin(&e, "0.1");
    assert_true(e.active);
    assert_int_equal(e.pos, 3); /* the cursor starts at the end */
    type(&e, "25");
    assert_string_equal(e.buf, "0.125");
    axm_lineedit_key(&e, KEY_BACKSPACE);
    assert_string_equal(e.buf, "0.12");
    axm_lineedit_key(&e, KEY_HOME);
    axm_lineedit_key(&e, KEY_DC);
    assert_string_equal(e.buf, ".12");
    type(&e, "5");
    assert_string_equal(e.buf, "5.12");
    axm_lineedit_key(&e, KEY_LEFT); /* at the start: stays */
    axm_lineedit_key(&e, KEY_END);
    axm_lineedit_key(&e, KEY_LEFT);
    type(&e, "x");
    assert_string_equal(e.buf, "5.1x2");
    axm_lineedit_key(&e, 127); /* DEL as backspace */
    assert_string_equal(e.buf, "5.12");
    axm_lineedit_key(&e, AXM_KEY_CTRL('u'));
    assert_string_equal(e.buf, "");
    axm_lineedit_key(&e, KEY_BACKSPACE); /* nothing to delete: no underflow */
    assert_int_equal(e.len, 0);
    type(&e, "7");
    assert_int_equal(axm_lineedit_key(&e, '\r'), 1);
    assert_false(e.active);
    assert_string_equal(e.buf, "7");
    axm_lineedit_begin(&e, "x");
    assert_int_equal(axm_lineedit_key(&e, AXM_KEY_ESC), -1);
    assert_false(e.active);
}

static void test_long_input_is_bounded(void **state)
{
    (void)state;
    axm_lineedit e;
    axm_lineedit_begin(&e, NULL);
    for (int i = 0; i < 1000; i++) axm_lineedit_key(&e, 'a');
    assert_int_equal(e.len, (int)sizeof e.buf - 1);
    assert_int_equal((int)strlen(e.buf), e.len);
    axm_lineedit_key(&e, KEY_F(5)); /* non-text keys are ignored */
    assert_int_equal(e.len, (int)sizeof e.buf - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_keys),
        cmocka_unit_test(test_long_input_is_bounded),
    };
    return cmocka_run_group_tests_name("views_lineedit", tests, NULL, NULL);
}
