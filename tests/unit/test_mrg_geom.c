/* MRG geometry and compartment parameters against mrg-model.md §8.1, §8.2, §9.2. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mrg.h"

/* relative closeness; the spec prints 7-10 significant digits */
static void near(double got, double want, double rel, const char *what)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-300);
    if (!(err <= rel)) {
        print_error("%s: got %.10g, want %.10g (rel err %.3g > %.3g)\n", what, got, want, err, rel);
        fail();
    }
}

static axm_mrg_geom geom(double D, int method, int gf, int lf)
{
    axm_mrg_geom g;
    axm_err e;
    axm_err_clear(&e);
    int rc = axm_mrg_geometry(D, method, gf, lf, &g, &e);
    if (rc) print_error("%s\n", e.msg);
    assert_int_equal(rc, AXM_OK);
    return g;
}

static void check_geom(const axm_mrg_geom *g, const double *ref, double rel)
{
    /* axonD nodeD paraD1 paraD2 deltax paralength2 nl interlength Rpn0 Rpn1 Rpn2 Rpx */
    const double got[12] = {g->axonD, g->nodeD, g->paraD1, g->paraD2, g->deltax, g->paralength2, g->nl,
                            g->interlength, g->Rpn0, g->Rpn1, g->Rpn2, g->Rpx};
    static const char *names[12] = {"axonD", "nodeD", "paraD1", "paraD2", "deltax", "paralength2", "nl",
                                    "interlength", "Rpn0", "Rpn1", "Rpn2", "Rpx"};
    for (int k = 0; k < 12; k++) near(got[k], ref[k], rel, names[k]);
}

/* §8.1, one column per method */
static void test_d10_all_methods(void **st)
{
    (void)st;
    const double m1[12] = {6.7840743, 3.2348227, 3.2348227, 6.7840743, 1122.4315, 45.608743, 119.607938,
                           170.7023357, 344190.8022, 344190.8022, 82061.90389, 82061.90389};
    const double cl[12] = {6.9, 3.3, 3.3, 6.9, 1150, 46, 120, 175.1666667, 337396.9115, 337396.9115,
                           80683.9949, 80683.9949};
    const double m2[12] = {6.089, 2.324569, 2.324569, 6.089, 1030, 46.765, 104, 154.9116667, 478853.0242,
                           478853.0242, 91423.32198, 91423.32198};
    const double m3[12] = {6.9796, 3.3006, 3.3466, 6.9796, 1087.295731, 45.401, 119.0674499, 164.9156218,
                           337335.6149, 332701.6071, 79764.34802, 79764.34802};
    axm_mrg_geom g;
    g = geom(10, AXM_GEOM_METHOD1, 0, 0);
    check_geom(&g, m1, 2e-8);
    g = geom(10, AXM_GEOM_CLASSIC, 0, 0);
    check_geom(&g, cl, 2e-8);
    g = geom(10, AXM_GEOM_METHOD2, 0, 0);
    check_geom(&g, m2, 2e-8);
    g = geom(10, AXM_GEOM_METHOD3, 0, 0);
    check_geom(&g, m3, 2e-8);
    /* geometry 0 (unset) means method 1 */
    g = geom(10, 0, 0, 0);
    check_geom(&g, m1, 2e-8);
}

/* §9.2 */
static void test_method1_other_diameters(void **st)
{
    (void)st;
    const double ref[3][7] = {
        {5.7, 3.458815, 1.918921, 505.638893, 33.982217, 81.890235, 71.779077},
        {8.7, 5.70559, 2.812407, 967.998924, 42.171355, 109.721893, 146.109369},
        {14.0, 10.500246, 4.668203, 1423.444636, 55.763454, 141.780386, 217.486288},
    };
    for (int k = 0; k < 3; k++) {
        axm_mrg_geom g = geom(ref[k][0], AXM_GEOM_METHOD1, 0, 0);
        near(g.axonD, ref[k][1], 1e-6, "axonD");
        near(g.nodeD, ref[k][2], 1e-6, "nodeD");
        near(g.deltax, ref[k][3], 1e-8, "deltax");
        near(g.paralength2, ref[k][4], 1e-7, "paralength2");
        near(g.nl, ref[k][5], 1e-8, "nl");
        near(g.interlength, ref[k][6], 1e-7, "interlength");
    }
    /* README table of the NEURON reference set */
    const double rd[3][9] = {
        {6.0, 3.6683, 2.0032, 558.5293, 34.8172, 84.9885, 80.3158},
        {9.0, 5.9488, 2.9080, 1006.1018, 42.9706, 112.1200, 152.1934},
        {13.0, 9.5149, 4.2909, 1372.8372, 53.2845, 137.4042, 209.8780},
    };
    for (int k = 0; k < 3; k++) {
        axm_mrg_geom g = geom(rd[k][0], AXM_GEOM_METHOD1, 0, 0);
        near(g.axonD, rd[k][1], 2e-5, "axonD");
        near(g.nodeD, rd[k][2], 2e-5, "nodeD");
        near(g.deltax, rd[k][3], 1e-7, "deltax");
        near(g.paralength2, rd[k][4], 2e-6, "paralength2");
        near(g.nl, rd[k][5], 1e-6, "nl");
        near(g.interlength, rd[k][6], 1e-6, "interlength");
    }
    /* below 5.26 µm the spacing is linear in D; below 1.5 µm the node uses the axon ratio */
    axm_mrg_geom g = geom(5.0, AXM_GEOM_METHOD1, 0, 0);
    near(g.deltax, 500.0 / 5.7 * 5.0, 1e-12, "deltax linear branch");
    g = geom(1.2, AXM_GEOM_METHOD1, 0, 0);
    near(g.nodeD, g.axonD * 1.9 / 3.4, 1e-12, "nodeD small D");
    near(g.paraD1, 6.303781e-03 * 1.44 + 2.070544e-01 * 1.2 + 5.339006e-01, 1e-12, "paraD1 small D");
}

static void test_method2_fits_and_piecewise(void **st)
{
    (void)st;
    const double D = 10;
    const double ax[5] = {0.621 * D - 0.121, 0.553 * D - 0.024, 0.688 * D - 0.337,
                          0.0156 * D * D + 0.392 * D + 0.188, 0.684 * D + 0.0821};
    for (int f = 0; f < 5; f++) {
        axm_mrg_geom g = geom(D, AXM_GEOM_METHOD2, f, 0);
        near(g.axonD, ax[f], 1e-12, "method 2 axonD");
        near(g.nodeD, 0.321 * ax[f] + 0.37, 1e-12, "method 2 nodeD");
        near(g.nl, floor(17.4 * ax[f] - 1.74), 0, "method 2 nl");
        g = geom(D, AXM_GEOM_METHOD2, f, 1);
        near(g.nl, floor(-1.17 * ax[f] * ax[f] + 24.9 * ax[f] + 17.7), 0, "method 2 nl, lemella_fit 1");
    }
    /* piecewise: method 1 above 5.7, method 2 at and below */
    axm_mrg_geom a = geom(8, AXM_GEOM_PIECEWISE, 2, 1), b = geom(8, AXM_GEOM_METHOD1, 0, 0);
    near(a.deltax, b.deltax, 0, "piecewise above 5.7");
    a = geom(5.7, AXM_GEOM_PIECEWISE, 2, 1);
    b = geom(5.7, AXM_GEOM_METHOD2, 2, 1);
    near(a.deltax, b.deltax, 0, "piecewise at 5.7");
    near(a.nl, b.nl, 0, "piecewise at 5.7 nl");
}

static void test_errors(void **st)
{
    (void)st;
    axm_mrg_geom g;
    axm_err e;
    axm_err_clear(&e);
    assert_int_equal(axm_mrg_geometry(9.0, AXM_GEOM_CLASSIC, 0, 0, &g, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "classic"));
    assert_int_equal(axm_mrg_geometry(-1, AXM_GEOM_METHOD1, 0, 0, &g, &e), AXM_ERR_INPUT);
    assert_int_equal(axm_mrg_geometry(10, 7, 0, 0, &g, &e), AXM_ERR_INPUT);
    assert_int_equal(axm_mrg_geometry(10, AXM_GEOM_METHOD2, 9, 0, &g, &e), AXM_ERR_INPUT);
    /* method 3 gives deltax < 0 for small D (969.3 ln D < 1144.6) */
    assert_int_equal(axm_mrg_geometry(2.0, AXM_GEOM_METHOD3, 0, 0, &g, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "deltax"));
    /* the classic table holds 1 and 2 µm too */
    assert_int_equal(axm_mrg_geometry(2.0, AXM_GEOM_CLASSIC, 0, 0, &g, &e), AXM_OK);
    near(g.deltax, 200, 0, "classic D=2 deltax");
}

/* §8.2 */
static void test_sections_d10(void **st)
{
    (void)st;
    axm_mrg_geom g = geom(10, AXM_GEOM_METHOD1, 0, 0);
    const double ref[4][8] = {
        /* L, diam, Ra, cm, g_pas, area µm², Ri half MΩ, Rx half MΩ */
        {1, 3.2348227, 70, 2, 0, 10.16249523, 0.04258701482, 17.20954011},
        {3, 10, 668.9552645, 0.64696454, 3.2348227e-4, 94.24777961, 0.1277610445, 51.62862033},
        {45.608743, 10, 152.0956694, 1.35681486, 6.7840743e-5, 1432.840919, 0.4416162795, 187.1370142},
        {170.7023357, 10, 152.0956694, 1.35681486, 6.7840743e-5, 5362.772037, 1.65286139, 700.4079332},
    };
    axm_mrg_sec s[4];
    for (int t = 0; t < 4; t++) {
        axm_mrg_section(&g, t, &s[t]);
        near(s[t].L, ref[t][0], 2e-8, "L");
        near(s[t].diam, ref[t][1], 2e-8, "diam");
        near(s[t].Ra, ref[t][2], 2e-8, "Ra");
        near(s[t].cm, ref[t][3], 2e-8, "cm");
        if (t) near(s[t].g_pas, ref[t][4], 2e-8, "g_pas");
        near(s[t].area * 1e8, ref[t][5], 2e-9, "area");
        near(s[t].Ri_half * 1e-6, ref[t][6], 2e-9, "Ri half");
        near(s[t].Rx_half * 1e-6, ref[t][7], 2e-9, "Rx half");
        if (t) {
            near(s[t].xg0, 4.180324553e-06, 1e-9, "xg0");
            near(s[t].xc0, 4.180324553e-04, 1e-9, "xc0");
        }
    }
    /* centre-to-centre conductances along one internode, nS */
    const int ty[12] = {0, 1, 2, 3, 3, 3, 3, 3, 3, 2, 1, 0};
    const double gi[11] = {5870.33397, 1756.30458, 477.446007, 302.505705, 302.505705, 302.505705,
                           302.505705, 302.505705, 477.446007, 1756.30458, 5870.33397};
    const double gx[11] = {14.5268263, 4.18820741, 1.12670350, 0.713869700, 0.713869700, 0.713869700,
                           0.713869700, 0.713869700, 1.12670350, 4.18820741, 14.5268263};
    double ri = 0, rx = 0;
    for (int j = 0; j < 11; j++) {
        const axm_mrg_sec *a = &s[ty[j]], *b = &s[ty[j + 1]];
        near(1e9 / (a->Ri_half + b->Ri_half), gi[j], 1e-8, "Gi");
        near(1e9 / (a->Rx_half + b->Rx_half), gx[j], 1e-8, "Gx");
        ri += a->Ri_half + b->Ri_half;
        rx += a->Rx_half + b->Rx_half;
    }
    near(ri * 1e-6, 22.19702, 1e-6, "node-to-node Ri");
    near(rx * 1e-6, 9394.377, 1e-6, "node-to-node Rx");
    /* passive end node option (§2.4) */
    axm_mrg_sec en;
    axm_mrg_section(&g, AXM_MRG_END_NODE, &en);
    near(en.g_pas, 0.0001, 0, "end node g_pas");
    near(en.xraxial0, 1e9, 0, "end node xraxial");
    near(en.xg0, 4.180324553e-06, 1e-9, "end node xg0");
}

/* §8.2 positions and the kind's compartment count */
static void test_positions(void **st)
{
    (void)st;
    double p[16];
    for (int k = 0; k < axm_kind_mrg.n_params; k++) p[k] = axm_kind_mrg.params[k].def;
    axm_model m;
    memset(&m, 0, sizeof m);
    m.kind = &axm_kind_mrg;
    m.p = p;
    m.temp_c = 37;
    m.geometry = AXM_GEOM_METHOD1;
    const int W = 21;
    int M = axm_kind_mrg.n_comp(&m, W);
    assert_int_equal(M, 221);
    double y[221];
    axm_err e;
    assert_int_equal(axm_kind_mrg.positions(&m, 10, W, y, &e), AXM_OK);
    const double ref[12] = {-11224.315, -11222.315, -11198.0106285, -11089.85508917, -10919.1527535,
                            -10748.45041783, -10577.74808217, -10407.0457465, -10236.34341083,
                            -10128.1878715, -10103.8835, -10101.8835};
    for (int c = 0; c < 12; c++) assert_true(fabs(y[c] - ref[c]) < 2e-4);
    axm_mrg_geom g = geom(10, 1, 0, 0);
    for (int i = 0; i < W; i++) assert_true(fabs(y[11 * i] - (i - 10) * g.deltax) < 1e-9);
    assert_true(y[110] == 0);
    for (int c = 1; c < M; c++) assert_true(y[c] > y[c - 1]);
    /* symmetric about the centre */
    for (int c = 0; c < M; c++) assert_true(fabs(y[c] + y[M - 1 - c]) < 1e-9);
    /* the NEURON reference node positions */
    assert_int_equal(axm_kind_mrg.positions(&m, 6, 51, (double[551]){0}, &e), AXM_OK);
    const char *sh = getenv("AXM_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/mrg_neuron/node_positions.csv", sh && *sh ? sh : "../shared");
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256];
        int n = 0;
        double yy[551];
        double Dl = -1;
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        while (fgets(line, sizeof line, f)) {
            double D, x;
            int node;
            if (sscanf(line, "%lf,%d,%lf", &D, &node, &x) != 3) continue;
            if (D != Dl) {
                assert_int_equal(axm_kind_mrg.positions(&m, D, 51, yy, &e), AXM_OK);
                Dl = D;
            }
            assert_true(fabs(yy[11 * node] - x) < 1e-3);
            n++;
        }
        fclose(f);
        assert_int_equal(n, 153);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_d10_all_methods),
        cmocka_unit_test(test_method1_other_diameters),
        cmocka_unit_test(test_method2_fits_and_piecewise),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_sections_d10),
        cmocka_unit_test(test_positions),
    };
    return cmocka_run_group_tests_name("mrg_geom", tests, NULL, NULL);
}
