/* Pure plotting functions of the views: braille encoding, canvas, log axes, raster binning,
 * screen layout. Expected values come from the Unicode braille block and arithmetic. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "plot.h"

static void test_braille_encoding(void **state)
{
    (void)state;
    char b[4];
    /* U+2800 (blank braille) = E2 A0 80; U+28FF (all eight dots) = E2 A3 BF */
    assert_int_equal(axm_braille_utf8(0, b), 3);
    assert_memory_equal(b, "\xe2\xa0\x80", 4);
    axm_braille_utf8(0xff, b);
    assert_memory_equal(b, "\xe2\xa3\xbf", 4);
    /* dot numbering: left column 1,2,3,7 top to bottom; right column 4,5,6,8 */
    assert_int_equal(axm_braille_bit(0, 0), 0x01);
    assert_int_equal(axm_braille_bit(0, 2), 0x04);
    assert_int_equal(axm_braille_bit(0, 3), 0x40);
    assert_int_equal(axm_braille_bit(1, 0), 0x08);
    assert_int_equal(axm_braille_bit(1, 3), 0x80);
    assert_int_equal(axm_braille_bit(2, 0), 0);
    unsigned all = 0;
    for (int dx = 0; dx < 2; dx++)
        for (int dy = 0; dy < 4; dy++) all |= axm_braille_bit(dx, dy);
    assert_int_equal(all, 0xff);
}

static void test_canvas_braille_cells(void **state)
{
    (void)state;
    axm_canvas *c = axm_canvas_create(3, 2, AXM_CANVAS_BRAILLE);
    assert_non_null(c);
    assert_int_equal(c->px_w, 6);
    assert_int_equal(c->px_h, 8);
    char out[8];
    assert_string_equal(axm_canvas_cell(c, 0, 0, out), " ");
    /* pixel (0,0) is the bottom-left: cell row 1, dot 7 -> U+2840 */
    axm_canvas_set(c, 0, 0, 1);
    assert_string_equal(axm_canvas_cell(c, 0, 1, out), "\xe2\xa1\x80");
    assert_true(axm_canvas_get(c, 0, 0));
    assert_false(axm_canvas_get(c, 1, 0));
    /* top-right pixel (5,7): cell (2,0), dot 4 -> U+2808 */
    axm_canvas_set(c, 5, 7, 1);
    assert_string_equal(axm_canvas_cell(c, 2, 0, out), "\xe2\xa0\x88");
    /* out of range is ignored, not a crash */
    axm_canvas_set(c, 6, 0, 1);
    axm_canvas_set(c, -1, 0, 1);
    axm_canvas_set(c, 0, 8, 1);
    /* filling a whole cell gives the full pattern */
    for (int x = 2; x < 4; x++)
        for (int y = 4; y < 8; y++) axm_canvas_set(c, x, y, 2);
    assert_string_equal(axm_canvas_cell(c, 1, 0, out), "\xe2\xa3\xbf");
    axm_canvas_clear(c);
    assert_string_equal(axm_canvas_cell(c, 1, 0, out), " ");
    axm_canvas_destroy(c);
}

static void test_canvas_ascii_cells(void **state)
{
    (void)state;
    axm_canvas *c = axm_canvas_create(2, 1, AXM_CANVAS_ASCII);
    assert_int_equal(c->px_w, 2);
    assert_int_equal(c->px_h, 2);
    char out[8];
    axm_canvas_set(c, 0, 0, 1); /* lower half */
    assert_string_equal(axm_canvas_cell(c, 0, 0, out), ".");
    axm_canvas_set(c, 1, 1, 1); /* upper half */
    assert_string_equal(axm_canvas_cell(c, 1, 0, out), "'");
    axm_canvas_set(c, 0, 1, 1);
    assert_string_equal(axm_canvas_cell(c, 0, 0, out), ":");
    axm_canvas_destroy(c);
}

static void test_canvas_line_is_connected(void **state)
{
    (void)state;
    axm_canvas *c = axm_canvas_create(10, 5, AXM_CANVAS_BRAILLE); /* 20 x 20 px */
    axm_canvas_line(c, 0, 0, 19, 19, 1);
    for (int i = 0; i < 20; i++) assert_true(axm_canvas_get(c, i, i));
    assert_false(axm_canvas_get(c, 0, 19));
    axm_canvas_clear(c);
    /* a steep line sets exactly one pixel per row */
    axm_canvas_line(c, 2, 0, 5, 19, 1);
    for (int y = 0; y < 20; y++) {
        int n = 0;
        for (int x = 0; x < 20; x++) n += axm_canvas_get(c, x, y);
        assert_int_equal(n, 1);
    }
    axm_canvas_destroy(c);
}

static void test_linear_scale(void **state)
{
    (void)state;
    axm_scale s = {0, 10, 0};
    assert_int_equal(axm_scale_px(&s, 0, 10), 0);
    assert_int_equal(axm_scale_px(&s, 10, 10), 9);   /* top edge maps into the last pixel */
    assert_int_equal(axm_scale_px(&s, 4.99, 10), 4);
    assert_int_equal(axm_scale_px(&s, 5, 10), 5);
    assert_int_equal(axm_scale_px(&s, -0.1, 10), -1);
    assert_int_equal(axm_scale_px(&s, 10.1, 10), -1);
    assert_int_equal(axm_scale_px(&s, NAN, 10), -1);
    assert_float_equal(axm_scale_value(&s, 5, 10), 5.5, 1e-12);
    double v[] = {2, NAN, 4, INFINITY};
    assert_true(axm_scale_fit(&s, v, 4, 0));
    assert_float_equal(s.lo, 1.9, 1e-12); /* 5 % padding of the range 2..4 */
    assert_float_equal(s.hi, 4.1, 1e-12);
    double k[] = {3, 3};
    axm_scale_fit(&s, k, 2, 0);
    assert_float_equal(s.lo, 2, 0);
    assert_float_equal(s.hi, 4, 0);
}

static void test_log_scale(void **state)
{
    (void)state;
    axm_scale s = {1e-3, 1, 1};
    /* three decades over 30 pixels: each decade is 10 pixels */
    assert_int_equal(axm_scale_px(&s, 1e-3, 30), 0);
    assert_int_equal(axm_scale_px(&s, 1e-2 * 1.0001, 30), 10);
    assert_int_equal(axm_scale_px(&s, 1e-1 * 1.0001, 30), 20);
    assert_int_equal(axm_scale_px(&s, 1, 30), 29);
    assert_int_equal(axm_scale_px(&s, sqrt(10) * 1e-3, 30), 5); /* half a decade */
    assert_int_equal(axm_scale_px(&s, 0, 30), -1);
    assert_int_equal(axm_scale_px(&s, -1, 30), -1);
    assert_int_equal(axm_scale_px(&s, 2, 30), -1);
    /* the fit widens to whole decades and ignores non-positive values */
    double v[] = {0.003, 0.5, 0, -2, NAN};
    assert_true(axm_scale_fit(&s, v, 5, 1));
    assert_float_equal(s.lo, 1e-3, 1e-15);
    assert_float_equal(s.hi, 1, 1e-12);
    double one[] = {100};
    axm_scale_fit(&s, one, 1, 1);
    assert_float_equal(s.lo, 100, 1e-9);
    assert_float_equal(s.hi, 1000, 1e-9);
    double none[] = {0, -1};
    assert_false(axm_scale_fit(&s, none, 2, 1));
    /* value at a pixel inverts the mapping */
    s.lo = 1e-3;
    s.hi = 1;
    for (int p = 0; p < 30; p++) assert_int_equal(axm_scale_px(&s, axm_scale_value(&s, p, 30), 30), p);
}

static void test_plot_decreasing_loss_on_log_axis(void **state)
{
    (void)state;
    /* a loss falling by a decade per 10 samples is a straight line on a log axis */
    double y[31];
    for (int i = 0; i <= 30; i++) y[i] = pow(10, -i / 10.0);
    axm_canvas *c = axm_canvas_create(16, 8, AXM_CANVAS_BRAILLE); /* 32 x 32 px */
    axm_scale xs = {0, 30, 0}, ys;
    axm_scale_fit(&ys, y, 31, 1);
    assert_float_equal(ys.lo, 1e-3, 1e-15);
    axm_canvas_plot(c, NULL, y, 31, &xs, &ys, 1);
    assert_true(axm_canvas_get(c, 0, 31));  /* first sample at the top-left */
    assert_true(axm_canvas_get(c, 31, 0));  /* last at the bottom-right */
    /* one pixel of the diagonal in every column */
    for (int x = 0; x < 32; x++) {
        int n = 0;
        for (int yy = 0; yy < 32; yy++) n += axm_canvas_get(c, x, yy);
        assert_true(n >= 1);
    }
    axm_canvas_destroy(c);
}

static void test_raster_binning(void **state)
{
    (void)state;
    int counts[51 * 50];
    int node[] = {25, 25, 0, 50, -1, 51, 10, 10};
    double t[] = {2.5, 2.55, 0, 5.0, 1, 1, 6, -0.1};
    /* 51 nodes on 51 rows, 5 ms on 50 columns (0.1 ms each) */
    long n = axm_raster_bin(node, t, 8, 51, 5.0, 51, 50, counts);
    assert_int_equal(n, 4);
    assert_int_equal(counts[25 * 50 + 25], 2); /* 2.5 and 2.55 ms in the same 0.1 ms column */
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[50 * 50 + 49], 1); /* t == t_end goes into the last column */
    long tot = 0;
    for (int i = 0; i < 51 * 50; i++) tot += counts[i];
    assert_int_equal(tot, 4);
    /* more nodes than rows: nodes are pooled, node W-1 lands in the last row */
    int c2[10 * 5];
    int nn[] = {0, 6, 50}; /* row r holds nodes [5.1 r, 5.1 (r+1)) */
    double tt[] = {0.1, 0.1, 4.9};
    assert_int_equal(axm_raster_bin(nn, tt, 3, 51, 5.0, 10, 5, c2), 3);
    assert_int_equal(c2[0 * 5 + 0], 1);
    assert_int_equal(c2[1 * 5 + 0], 1);
    assert_int_equal(c2[9 * 5 + 4], 1);
}

static void check_layout(int cols, int lines)
{
    for (int v = 0; v < AXM_N_VIEWS; v++) {
        axm_layout L;
        axm_layout_compute(cols, lines, v, &L);
        assert_false(L.too_small);
        assert_true(L.n_panes >= 1);
        axm_rect fixed[3] = {L.header, L.msg, L.fkeys};
        for (int i = 0; i < L.n_panes; i++) {
            const axm_rect *p = &L.pane[i];
            assert_true(p->x >= 0 && p->y >= 0 && p->w > 0 && p->h > 0);
            assert_true(p->x + p->w <= cols);
            assert_true(p->y + p->h <= lines);
            for (int j = 0; j < 3; j++) assert_false(axm_rect_overlap(p, &fixed[j]));
            for (int j = 0; j < i; j++) assert_false(axm_rect_overlap(p, &L.pane[j]));
        }
        if (v == AXM_VIEW_EXPLORE) {
            assert_true(L.pane[0].w >= 32);          /* parameter labels and values fit */
            assert_true(L.pane[1].h >= 5);           /* waveform preview with a border */
            assert_true(L.pane[2].h >= 7);           /* raster: border + at least 5 rows */
            assert_true(L.pane[3].h >= 7);
            assert_true(L.pane[2].w >= 40);
        }
        if (v == AXM_VIEW_TRAIN) {
            assert_true(L.pane[1].h >= 10 && L.pane[1].w >= 48); /* the loss plot stays readable */
            assert_true(L.pane[2].w >= 28);
        }
    }
    axm_layout L;
    axm_layout_compute(cols, lines, AXM_VIEW_CONFIG, &L);
    assert_int_equal(L.fkeys.y, lines - 1);
    assert_int_equal(L.header.y, 0);
}

static void test_layout(void **state)
{
    (void)state;
    check_layout(80, 24);
    check_layout(100, 30);
    check_layout(237, 61);
    axm_layout L;
    axm_layout_compute(79, 24, AXM_VIEW_EXPLORE, &L);
    assert_true(L.too_small);
    assert_int_equal(L.n_panes, 0);
    axm_layout_compute(80, 23, AXM_VIEW_TRAIN, &L);
    assert_true(L.too_small);
    /* the explore panes tile the main area exactly: 80 x 21 cells */
    axm_layout_compute(80, 24, AXM_VIEW_EXPLORE, &L);
    long area = 0;
    for (int i = 0; i < L.n_panes; i++) area += (long)L.pane[i].w * L.pane[i].h;
    assert_int_equal(area, 80 * 21);
}

static void test_formatting(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(axm_fmt_duration(12.2, b, sizeof b), "12s");
    assert_string_equal(axm_fmt_duration(65, b, sizeof b), "1m05s");
    assert_string_equal(axm_fmt_duration(3720, b, sizeof b), "1h02m");
    assert_string_equal(axm_fmt_duration(2 * 86400 + 3 * 3600, b, sizeof b), "2d03h");
    assert_string_equal(axm_fmt_duration(NAN, b, sizeof b), "--");
    assert_string_equal(axm_fmt_num(1e-3, b, sizeof b), "1e-3");
    assert_string_equal(axm_fmt_num(1e4, b, sizeof b), "1e4");
    assert_string_equal(axm_fmt_num(2.5e-3, b, sizeof b), "2.5e-3");
    assert_string_equal(axm_fmt_num(0.25, b, sizeof b), "0.25");
    assert_string_equal(axm_fmt_num(120, b, sizeof b), "120");
    assert_string_equal(axm_fmt_num(0, b, sizeof b), "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_braille_encoding),
        cmocka_unit_test(test_canvas_braille_cells),
        cmocka_unit_test(test_canvas_ascii_cells),
        cmocka_unit_test(test_canvas_line_is_connected),
        cmocka_unit_test(test_linear_scale),
        cmocka_unit_test(test_log_scale),
        cmocka_unit_test(test_plot_decreasing_loss_on_log_axis),
        cmocka_unit_test(test_raster_binning),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_formatting),
    };
    return cmocka_run_group_tests_name("views_plot", tests, NULL, NULL);
}
