/* Field sources against fields-and-stimuli.md §9, plus physics properties (subdivision
 * invariance of line sources, far field), table loading and interpolation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "field.h"

static double eval1(const axm_source *s, double y)
{
    double phi;
    axm_err e;
    int rc = axm_source_eval(s, &y, 1, &phi, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(rc, AXM_OK);
    return phi;
}

static void assert_rel(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fabs(want))) fprintf(stderr, "got %.12g, want %.12g\n", got, want);
    assert_true(fabs(got - want) <= tol * fabs(want));
}

static void test_point_isotropic(void **st)
{
    (void)st;
    axm_source s = {.kind = AXM_SRC_POINT, .x_um = 100.0, .rho_ohm_cm = 1000.0};
    assert_rel(eval1(&s, 0.0), 7957.747154594767, 1e-14);
    s.x_um = 0.0;
    s.z_um = 600.0;
    assert_rel(eval1(&s, 800.0), 795.7747154594767, 1e-14); /* r = 1000 */
    s.semi_infinite = 1;
    assert_rel(eval1(&s, -800.0), 1591.5494309189535, 1e-14);
    s.x_um = s.z_um = 0.0;
    double y = 0, phi;
    axm_err e;
    assert_int_equal(axm_source_eval(&s, &y, 1, &phi, &e), AXM_ERR_INPUT);
    s.x_um = 10;
    s.rho_ohm_cm = 0;
    assert_int_equal(axm_source_eval(&s, &y, 1, &phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "rho_ohm_cm"));
    s.rho_ohm_cm = 1000;
    s.z_um = NAN;
    assert_int_equal(axm_source_eval(&s, &y, 1, &phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "position"));
}

static void test_point_anisotropic(void **st)
{
    (void)st;
    /* the fiber point minus the source position is the §9 location (signs do not matter) */
    axm_source s = {.kind = AXM_SRC_POINT_ANISO, .x_um = -1000.0, .rho3 = {1000.0, 300.0, 1000.0}};
    assert_rel(eval1(&s, 0.0), 435.8637623494104, 1e-14);
    assert_rel(eval1(&s, 1000.0), 382.27780809388355, 1e-14);
    s.x_um = 0.0;
    assert_rel(eval1(&s, 1000.0), 795.7747154594767, 1e-14);
    /* equal resistivities reduce to the isotropic source */
    axm_source a = {.kind = AXM_SRC_POINT_ANISO, .x_um = 30, .y_um = 5, .z_um = -70, .rho3 = {500, 500, 500}};
    axm_source b = {.kind = AXM_SRC_POINT, .x_um = 30, .y_um = 5, .z_um = -70, .rho_ohm_cm = 500};
    assert_rel(eval1(&a, 123.0), eval1(&b, 123.0), 1e-14);
}

static void test_line_source(void **st)
{
    (void)st;
    double pts[2][3] = {{1000.0, -500.0, 0.0}, {1000.0, 500.0, 0.0}};
    axm_source s = {.kind = AXM_SRC_LINE, .rho_ohm_cm = 1000.0, .n_pts = 2, .pts = &pts[0][0]};
    assert_rel(eval1(&s, 0.0), 765.8724063, 1e-9);
    assert_rel(eval1(&s, 0.0), 2.0 * asinh(0.5) * 795.7747154594767, 1e-13);
    assert_rel(eval1(&s, 2000.0), 360.0625375, 1e-9);
    /* with the correct r^2 the potential does not depend on how the line is subdivided */
    for (int nseg = 10; nseg <= 1000; nseg *= 10) {
        double *p = malloc(sizeof *p * 3 * (size_t)(nseg + 1));
        double a[3] = {1000, -500, 0}, b[3] = {1000, 500, 0};
        axm_line_3d(a, b, nseg + 1, p);
        axm_source f = {.kind = AXM_SRC_LINE, .rho_ohm_cm = 1000.0, .n_pts = nseg + 1, .pts = p};
        assert_rel(eval1(&f, 2000.0), 360.0625375, 1e-9);
        assert_rel(eval1(&f, 0.0), 765.8724063, 1e-9);
        free(p);
    }
    /* the reversed polyline is the same source */
    double rev[2][3] = {{1000.0, 500.0, 0.0}, {1000.0, -500.0, 0.0}};
    axm_source r = {.kind = AXM_SRC_LINE, .rho_ohm_cm = 1000.0, .n_pts = 2, .pts = &rev[0][0]};
    assert_rel(eval1(&r, 2000.0), 360.0625375, 1e-9);
    /* far away a short line is a point source; on the line's axis the stable forms apply */
    double sh[2][3] = {{0.0, -1.0, 0.0}, {0.0, 1.0, 0.0}};
    axm_source l = {.kind = AXM_SRC_LINE, .rho_ohm_cm = 1000.0, .n_pts = 2, .pts = &sh[0][0]};
    axm_source pt = {.kind = AXM_SRC_POINT, .rho_ohm_cm = 1000.0};
    assert_rel(eval1(&l, 1e5), eval1(&pt, 1e5), 1e-9);
    assert_rel(eval1(&l, -1e5), eval1(&pt, -1e5), 1e-9);
    /* semi-infinite doubles */
    s.semi_infinite = 1;
    assert_rel(eval1(&s, 0.0), 2 * 765.8724063, 1e-9);
    /* a fiber through the segment is an error */
    double y = 0.0, phi;
    axm_err e;
    assert_int_equal(axm_source_eval(&l, &y, 1, &phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "line source"));
}

static void test_trajectories(void **st)
{
    (void)st;
    double p[5][3];
    axm_line_helix(-100, 100, 2.0, 1.0, 0.0, 5, &p[0][0]);
    assert_rel(p[0][0], 2.0, 1e-15);
    assert_rel(p[4][0], 2.0, 1e-15);
    assert_true(fabs(p[1][0]) < 1e-15 && fabs(p[1][2] - 2.0) < 1e-15); /* a quarter orbit */
    assert_true(p[0][1] == -100 && p[2][1] == 0 && p[4][1] == 100);
    axm_line_arc(7.0, 3.0, 0.5, M_PI / 2, 5, &p[0][0]);
    for (int i = 0; i < 5; i++) {
        assert_true(p[i][1] == 7.0);
        assert_rel(hypot(p[i][0], p[i][2]), 3.0, 1e-15);
    }
}

/* §9 point-source fill */
static axm_field_table *fill_table(void)
{
    axm_field_table *t = calloc(1, sizeof *t);
    t->n_rows = 1;
    t->n_samples = 201;
    t->y_um = malloc(sizeof(double) * 201);
    t->v = malloc(sizeof(double) * 201);
    strcpy(t->path, "synthetic");
    for (int i = 0; i < 201; i++) {
        double z = 20000.0 * i / 200.0;
        t->y_um[i] = z;
        t->v[i] = 1e4 * 1000 / (4 * M_PI * sqrt(500.0 * 500.0 + (z - 10000) * (z - 10000)));
    }
    return t;
}

static void test_point_source_fill(void **st)
{
    (void)st;
    static const double want[25] = {
        69.187419,  75.46019,   82.981649,  92.16499,   103.627751, 118.33546,  137.885548,
        166.62897,  210.380878, 284.791775, 437.525046, 884.294414, 1421.229463, 591.733673,
        345.40661,  242.060551, 185.983491, 150.906739, 125.972786, 108.089381, 94.642381,
        84.165737,  75.774413,  68.902828,  63.172785};
    axm_field_table *t = fill_table();
    /* through a table source: fiber coordinates y + y_center */
    axm_source s = {.kind = AXM_SRC_TABLE, .table = t, .row = 0, .y_center_um = 10000.0,
                    .interp = AXM_INTERP_LINEAR, .fill = AXM_FILL_POINT_SOURCE, .truncate = 0.2};
    double y[25], phi[25];
    for (int i = 0; i < 25; i++) y[i] = -1750.0 + 1000.0 * i - 10000.0;
    axm_err e;
    assert_int_equal(axm_source_eval(&s, y, 25, phi, &e), AXM_OK);
    for (int i = 0; i < 25; i++) {
        if (fabs(phi[i] - want[i]) > 1e-6) fprintf(stderr, "%d: %.9f vs %.6f\n", i, phi[i], want[i]);
        assert_true(fabs(phi[i] - want[i]) <= 1e-6);
    }
    /* without truncation the same queries inside the table are plain interpolation */
    s.truncate = 0;
    s.fill = AXM_FILL_EXTRAPOLATE;
    assert_int_equal(axm_source_eval(&s, y, 25, phi, &e), AXM_OK);
    assert_rel(phi[12], t->v[102] + (t->v[103] - t->v[102]) * 0.5, 1e-14);
    /* fill with the peak at the edge of the queries is undefined: an error, not NaN */
    for (int i = 0; i < 201; i++) t->v[i] = 1000.0 - t->y_um[i] / 100.0; /* decreasing */
    s.fill = AXM_FILL_POINT_SOURCE;
    s.truncate = 0.2;
    assert_int_equal(axm_source_eval(&s, y, 25, phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "point-source fill"));
    assert_null(strchr(e.msg, '\n'));
    /* bad settings */
    s.truncate = 0.5;
    assert_int_equal(axm_source_eval(&s, y, 25, phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "truncate"));
    s.truncate = 0;
    s.row = 1;
    assert_int_equal(axm_source_eval(&s, y, 25, phi, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "row 1"));
    axm_field_table_destroy(t);
}

static void test_linear_extrapolate(void **st)
{
    (void)st;
    double ys[4] = {0, 10, 30, 60}, vs[4] = {1, 3, 2, 8};
    axm_field_table t = {.n_rows = 1, .n_samples = 4, .y_um = ys, .v = vs, .path = "t"};
    double q[6] = {-10, 0, 5, 30, 45, 80}, out[6];
    double want[6] = {-1, 1, 2, 2, 5, 12};
    axm_err e;
    assert_int_equal(axm_field_table_interp(&t, 0, AXM_INTERP_LINEAR, AXM_FILL_EXTRAPOLATE, 0, q, 6, out, &e), AXM_OK);
    for (int i = 0; i < 6; i++) assert_rel(out[i], want[i], 1e-15);
    double bad[2] = {5, 4};
    assert_int_equal(axm_field_table_interp(&t, 0, AXM_INTERP_LINEAR, AXM_FILL_EXTRAPOLATE, 0, bad, 2, out, &e),
                     AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "ascending"));
}

/* The quadratic interpolant: through every sample, a polynomial of degree <= 2 between knots at
 * the midpoints (x_i + x_{i+1})/2 (i = 1..m-3), and C1 at the knots. That spline is unique, so
 * these properties pin down interp1d's quadratic B-spline. */
static void test_quadratic_spline(void **st)
{
    (void)st;
    enum { M = 9 };
    double xs[M] = {0, 1, 2.5, 3, 5, 6.5, 7, 9, 12}, vs[M];
    for (int i = 0; i < M; i++) vs[i] = sin(xs[i]) + 0.1 * xs[i] * xs[i];
    axm_field_table t = {.n_rows = 1, .n_samples = M, .y_um = xs, .v = vs, .path = "q"};
    axm_err e;
    double out[M];
    assert_int_equal(axm_field_table_interp(&t, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, xs, M, out, &e), AXM_OK);
    for (int i = 0; i < M; i++) assert_true(fabs(out[i] - vs[i]) < 1e-12);
    /* pieces: [x0, k_1], [k_1, k_2], ..., [k_{m-3}, x_{m-1}] with k_i = (x_i + x_{i+1})/2 */
    double br[M];
    int nb = 0;
    br[nb++] = xs[0];
    for (int i = 1; i <= M - 3; i++) br[nb++] = (xs[i] + xs[i + 1]) / 2;
    br[nb++] = xs[M - 1];
    for (int p = 0; p + 1 < nb; p++) {
        double a = br[p], b = br[p + 1], h = (b - a) / 4, q[5], v[5];
        for (int i = 0; i < 5; i++) q[i] = a + i * h;
        axm_field_table_interp(&t, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, q, 5, v, &e);
        /* equal second differences: one quadratic on the piece */
        double d2a = v[0] - 2 * v[1] + v[2], d2b = v[2] - 2 * v[3] + v[4];
        assert_true(fabs(d2a - d2b) < 1e-9);
        if (p + 2 < nb) {
            /* C1 at the knot b: one-sided slopes agree */
            double eps = 1e-5, qq[3] = {b - eps, b, b + eps}, vv[3];
            axm_field_table_interp(&t, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, qq, 3, vv, &e);
            double sl = (vv[1] - vv[0]) / eps, sr = (vv[2] - vv[1]) / eps;
            assert_true(fabs(sl - sr) < 1e-4);
            (void)d2b;
        }
    }
    /* degree <= 2 polynomials are reproduced everywhere, extrapolation included */
    for (int i = 0; i < M; i++) vs[i] = 3 - 2 * xs[i] + 0.25 * xs[i] * xs[i];
    double q[4] = {-3, 4.2, 11.9, 20}, o[4];
    assert_int_equal(axm_field_table_interp(&t, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, q, 4, o, &e), AXM_OK);
    for (int i = 0; i < 4; i++) assert_rel(o[i], 3 - 2 * q[i] + 0.25 * q[i] * q[i], 1e-12);
    /* three samples: the parabola through them */
    double x3[3] = {0, 1, 3}, v3[3] = {1, 0, 4};
    axm_field_table t3 = {.n_rows = 1, .n_samples = 3, .y_um = x3, .v = v3, .path = "q3"};
    double q3[1] = {2}, o3[1];
    assert_int_equal(axm_field_table_interp(&t3, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, q3, 1, o3, &e), AXM_OK);
    assert_rel(o3[0], 1.0, 1e-14); /* p(x) = 1 - 2x + x^2 */
    /* large smooth table: the quadratic spline converges at O(h^3) */
    enum { N = 2001 };
    double *xx = malloc(sizeof(double) * N), *vv = malloc(sizeof(double) * N);
    for (int i = 0; i < N; i++) {
        xx[i] = 20.0 * i / (N - 1);
        vv[i] = 100.0 / sqrt(1 + (xx[i] - 10) * (xx[i] - 10));
    }
    axm_field_table tl = {.n_rows = 1, .n_samples = N, .y_um = xx, .v = vv, .path = "big"};
    double qm[3] = {3.3333, 10.00517, 17.77}, om[3];
    assert_int_equal(axm_field_table_interp(&tl, 0, AXM_INTERP_QUADRATIC, AXM_FILL_EXTRAPOLATE, 0, qm, 3, om, &e), AXM_OK);
    for (int i = 0; i < 3; i++) assert_true(fabs(om[i] - 100.0 / sqrt(1 + (qm[i] - 10) * (qm[i] - 10))) < 1e-6);
    free(xx);
    free(vv);
}

static char *write_tmp(const char *suffix, const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/axm_field_XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    if (text) assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load_csv(void **st)
{
    (void)st;
    axm_err e;
    char *p = write_tmp(".csv", "y_um,row0,row1\n0,1,10\n100,2,20\n250,3,30\n");
    axm_field_table *t = axm_field_table_load(p, 2.0, &e);
    assert_non_null(t);
    assert_int_equal(t->n_rows, 2);
    assert_int_equal(t->n_samples, 3);
    assert_true(t->y_um[2] == 250 && t->v[0 * 3 + 1] == 4 && t->v[1 * 3 + 2] == 60);
    axm_field_table_destroy(t);
    unlink(p);
    p = write_tmp(".csv", "0,1\n1,2\n"); /* no header */
    t = axm_field_table_load(p, 1.0, &e);
    assert_non_null(t);
    assert_int_equal(t->n_rows, 1);
    axm_field_table_destroy(t);
    unlink(p);
    struct { const char *text, *needle; } bad[] = {
        {"y,a,b\n0,1,2\n1,2\n", "wrong shape"},
        {"y,a\n0,1\n0,2\n", "ascending"},
        {"y,a\n0,1\n1,nan\n", "NaN"},
        {"y,a\n0,1\n1,abc\n", ":3:"},
        {"y,a\n", "no samples"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = write_tmp(".csv", bad[i].text);
        assert_null(axm_field_table_load(p, 1.0, &e));
        assert_int_equal(e.code, AXM_ERR_INPUT);
        if (!strstr(e.msg, bad[i].needle)) fprintf(stderr, "%s\n", e.msg);
        assert_non_null(strstr(e.msg, bad[i].needle));
        assert_non_null(strstr(e.msg, p));
        assert_null(strchr(e.msg, '\n'));
        unlink(p);
    }
    assert_null(axm_field_table_load("/nonexistent/f.csv", 1.0, &e));
    assert_non_null(strstr(e.msg, "/nonexistent/f.csv"));
    assert_null(axm_field_table_load("/tmp/f.npy", 1.0, &e));
    assert_non_null(strstr(e.msg, ".csv or .h5"));
}

static void write_h5(const char *path, int ny, const double *y, int rank, const hsize_t *vdims, const float *v,
                     const char *units)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dy = (hsize_t)ny;
    hid_t sy = H5Screate_simple(1, &dy, NULL);
    hid_t d = H5Dcreate2(f, "y_um", H5T_IEEE_F64LE, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
    H5Dclose(d);
    H5Sclose(sy);
    hid_t sv = H5Screate_simple(rank, vdims, NULL);
    d = H5Dcreate2(f, "v", H5T_IEEE_F32LE, sv, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (units) {
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, strlen(units));
        hid_t sa = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(d, "units", st, sa, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, st, units);
        H5Aclose(a);
        H5Sclose(sa);
        H5Tclose(st);
    }
    H5Dclose(d);
    H5Sclose(sv);
    H5Fclose(f);
}

static void test_load_h5(void **st)
{
    (void)st;
    axm_err e;
    double y[3] = {-10, 0, 15};
    float v[2][3] = {{0.5f, 1.0f, 0.25f}, {2, 3, 4}};
    hsize_t dims[2] = {2, 3};
    char *p = write_tmp(".h5", NULL);
    write_h5(p, 3, y, 2, dims, &v[0][0], "V/mA");
    axm_field_table *t = axm_field_table_load(p, 1.0, &e);
    if (!t) fprintf(stderr, "%s\n", e.msg);
    assert_non_null(t);
    assert_int_equal(t->n_rows, 2);
    assert_int_equal(t->n_samples, 3);
    assert_true(t->y_um[0] == -10 && t->v[1] == 1000.0 && t->v[5] == 4000.0);
    axm_field_table_destroy(t);
    write_h5(p, 3, y, 2, dims, &v[0][0], NULL); /* mV/mA by default */
    t = axm_field_table_load(p, 3.0, &e);
    assert_non_null(t);
    assert_true(t->v[2] == 0.75);
    axm_field_table_destroy(t);
    write_h5(p, 3, y, 2, dims, &v[0][0], "A/m");
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "units"));
    hsize_t wrong[2] = {3, 2};
    write_h5(p, 3, y, 2, wrong, &v[0][0], "mV/mA");
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "wrong shape"));
    double ybad[3] = {0, 5, 5};
    write_h5(p, 3, ybad, 2, dims, &v[0][0], "mV/mA");
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "ascending"));
    v[1][1] = NAN;
    write_h5(p, 3, y, 2, dims, &v[0][0], "mV/mA");
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "row 1 sample 1"));
    FILE *f = fopen(p, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "HDF5"));
    assert_non_null(strstr(e.msg, p));
    unlink(p);
    assert_null(axm_field_table_load(p, 1.0, &e));
    assert_non_null(strstr(e.msg, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_isotropic),
        cmocka_unit_test(test_point_anisotropic),
        cmocka_unit_test(test_line_source),
        cmocka_unit_test(test_trajectories),
        cmocka_unit_test(test_point_source_fill),
        cmocka_unit_test(test_linear_extrapolate),
        cmocka_unit_test(test_quadratic_spline),
        cmocka_unit_test(test_load_csv),
        cmocka_unit_test(test_load_h5),
    };
    return cmocka_run_group_tests_name("field", tests, NULL, NULL);
}
