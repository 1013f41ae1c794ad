/* Field tables (fields-and-stimuli.md §4): loading (.csv, .h5), truncation, interpolation
 * (interp1d linear, interp1d quadratic B-spline) and the point-source fill. */
#include "field.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void axm_field_table_destroy(axm_field_table *t)
{
    if (!t) return;
    free(t->y_um);
    free(t->v);
    free(t);
}

static axm_field_table *table_new(const char *path, int n_rows, int n_samples)
{
    axm_field_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->n_rows = n_rows;
    t->n_samples = n_samples;
    t->y_um = malloc(sizeof *t->y_um * (size_t)n_samples);
    t->v = malloc(sizeof *t->v * (size_t)n_rows * (size_t)n_samples);
    snprintf(t->path, sizeof t->path, "%s", path);
    if (!t->y_um || !t->v) {
        axm_field_table_destroy(t);
        return NULL;
    }
    return t;
}

/* Shared checks after loading: ascending y, no NaN; applies the scale. */
static int table_finish(axm_field_table *t, double scale, axm_err *err)
{
    if (t->n_samples < 2)
        return axm_fail(err, AXM_ERR_INPUT, "%s: needs at least 2 samples along y (got %d)", t->path, t->n_samples);
    for (int i = 0; i < t->n_samples; i++) {
        if (!isfinite(t->y_um[i]))
            return axm_fail(err, AXM_ERR_INPUT, "%s: y_um[%d] is not finite", t->path, i);
        if (i && !(t->y_um[i] > t->y_um[i - 1]))
            return axm_fail(err, AXM_ERR_INPUT, "%s: y_um must be strictly ascending (y_um[%d] = %g after %g)", t->path,
                            i, t->y_um[i], t->y_um[i - 1]);
    }
    for (int r = 0; r < t->n_rows; r++)
        for (int i = 0; i < t->n_samples; i++) {
            double *v = &t->v[(size_t)r * (size_t)t->n_samples + (size_t)i];
            if (!isfinite(*v))
                return axm_fail(err, AXM_ERR_INPUT, "%s: row %d sample %d (y = %g um) is not finite", t->path, r, i,
                                t->y_um[i]);
            *v *= scale;
        }
    return AXM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * CSV: one sample per line, "y_um,row0,row1,...", optional header line. */

static int split_numbers(char *line, double *vals, int max, int *count)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *end;
        while (*p == ' ' || *p == '\t') p++;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p) return -1;
        if (n < max) vals[n] = v;
        n++;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (*p == '\0') break;
        if (*p != ',') return -1;
        p++;
    }
    *count = n;
    return 0;
}

static axm_field_table *load_csv(const char *path, double scale, axm_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot open field table: %s", path, strerror(errno));
        return NULL;
    }
    char *line = NULL;
    size_t lcap = 0;
    long lineno = 0;
    int ncol = 0, nsamp = 0, cap = 0, header = 0, fail = 0;
    double *buf = NULL;  /* [cap][ncol] sample-major */
    double *vals = NULL; /* one line */
    while (getline(&line, &lcap, f) >= 0) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (*p == '\0' || *p == '#') continue;
        int cnt = 0;
        if (!ncol) {
            /* count the columns of the first (header or data) line */
            int commas = 0;
            for (char *c = p; *c; c++) commas += *c == ',';
            ncol = commas + 1;
            if (ncol < 2) {
                fail = axm_fail(err, AXM_ERR_INPUT, "%s:%ld: expected y_um and at least one row column", path, lineno);
                break;
            }
            vals = malloc(sizeof *vals * (size_t)ncol);
            if (!vals) {
                fail = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
        }
        if (split_numbers(p, vals, ncol, &cnt) < 0) {
            if (!nsamp && !header) {
                header = 1;
                continue;
            }
            fail = axm_fail(err, AXM_ERR_INPUT, "%s:%ld: expected %d comma-separated numbers", path, lineno, ncol);
            break;
        }
        if (cnt != ncol) {
            fail = axm_fail(err, AXM_ERR_INPUT, "%s:%ld: wrong shape: %d columns, expected %d", path, lineno, cnt, ncol);
            break;
        }
        if (nsamp == cap) {
            cap = cap ? 2 * cap : 256;
            double *nb = realloc(buf, sizeof *buf * (size_t)cap * (size_t)ncol);
            if (!nb) {
                fail = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
        }
        for (int c = 0; c < ncol; c++) {
            if (isnan(vals[c])) {
                fail = axm_fail(err, AXM_ERR_INPUT, "%s:%ld: column %d is NaN", path, lineno, c + 1);
                break;
            }
            buf[(size_t)nsamp * (size_t)ncol + (size_t)c] = vals[c];
        }
        if (fail) break;
        nsamp++;
    }
    free(line);
    free(vals);
    fclose(f);
    if (!fail && nsamp == 0) fail = axm_fail(err, AXM_ERR_INPUT, "%s: no samples in field table", path);
    axm_field_table *t = NULL;
    if (!fail && !(t = table_new(path, ncol - 1, nsamp))) fail = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
    if (!fail) {
        for (int i = 0; i < nsamp; i++) {
            t->y_um[i] = buf[(size_t)i * (size_t)ncol];
            for (int r = 0; r < ncol - 1; r++)
                t->v[(size_t)r * (size_t)nsamp + (size_t)i] = buf[(size_t)i * (size_t)ncol + 1 + (size_t)r];
        }
        fail = table_finish(t, scale, err);
    }
    free(buf);
    if (fail) {
        axm_field_table_destroy(t);
        return NULL;
    }
    return t;
}

/* ---------------------------------------------------------------------------------------------
 * HDF5: datasets "y_um" (n_samples) and "v" (n_rows, n_samples); v's attribute "units". */

static int read_units(hid_t ds, const char *path, double *factor, axm_err *err)
{
    *factor = 1.0;
    if (H5Aexists(ds, "units") <= 0) return AXM_OK;
    hid_t a = H5Aopen(ds, "units", H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char units[64] = "";
    int ok = 0;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (H5Tis_variable_str(ft) > 0) {
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(units, sizeof units, "%s", s);
                ok = 1;
            }
            if (s) H5free_memory(s);
        } else {
            H5Tset_size(mt, sizeof units);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            ok = H5Aread(a, mt, units) >= 0;
            units[sizeof units - 1] = '\0';
        }
        H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    if (!ok) return axm_fail(err, AXM_ERR_INPUT, "%s: attribute v.units must be a string (\"mV/mA\" or \"V/mA\")", path);
    /* fixed-length strings may be space padded */
    for (size_t n = strlen(units); n && units[n - 1] == ' '; n--) units[n - 1] = '\0';
    if (!strcmp(units, "mV/mA")) *factor = 1.0;
    else if (!strcmp(units, "V/mA")) *factor = 1000.0;
    else return axm_fail(err, AXM_ERR_INPUT, "%s: v.units is \"%s\", expected \"mV/mA\" or \"V/mA\"", path, units);
    return AXM_OK;
}

static axm_field_table *load_h5(const char *path, double scale, axm_err *err)
{
    if (access(path, R_OK) != 0) {
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot open field table: %s", path, strerror(errno));
        return NULL;
    }
    /* HDF5 prints its error stack by default; failures are reported here as one line instead */
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    axm_field_table *t = NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), dy = -1, dv = -1, sy = -1, sv = -1;
    int fail = 0;
    hsize_t ny = 0, dims[2] = {0, 0};
    int rank_v = 0;
    if (f < 0) {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: not a readable HDF5 file", path);
        goto done;
    }
    if (H5Lexists(f, "y_um", H5P_DEFAULT) <= 0 || (dy = H5Dopen2(f, "y_um", H5P_DEFAULT)) < 0) {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: dataset \"y_um\" missing", path);
        goto done;
    }
    if (H5Lexists(f, "v", H5P_DEFAULT) <= 0 || (dv = H5Dopen2(f, "v", H5P_DEFAULT)) < 0) {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: dataset \"v\" missing", path);
        goto done;
    }
    sy = H5Dget_space(dy);
    sv = H5Dget_space(dv);
    if (H5Sget_simple_extent_ndims(sy) != 1) {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: wrong shape: \"y_um\" must be 1-D (n_samples)", path);
        goto done;
    }
    H5Sget_simple_extent_dims(sy, &ny, NULL);
    rank_v = H5Sget_simple_extent_ndims(sv);
    if (rank_v == 1) {
        H5Sget_simple_extent_dims(sv, &dims[1], NULL);
        dims[0] = 1;
    } else if (rank_v == 2) {
        H5Sget_simple_extent_dims(sv, dims, NULL);
    } else {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: wrong shape: \"v\" must be 2-D (n_rows, n_samples)", path);
        goto done;
    }
    if (dims[1] != ny || ny > 100000000 || dims[0] < 1 || dims[0] > 100000000) {
        fail = axm_fail(err, AXM_ERR_INPUT,
                        "%s: wrong shape: \"v\" is (%llu, %llu), expected (n_rows, n_samples = %llu)", path,
                        (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)ny);
        goto done;
    }
    double factor;
    if ((fail = read_units(dv, path, &factor, err))) goto done;
    if (!(t = table_new(path, (int)dims[0], (int)ny))) {
        fail = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (H5Dread(dy, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->y_um) < 0 ||
        H5Dread(dv, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->v) < 0) {
        fail = axm_fail(err, AXM_ERR_INPUT, "%s: cannot read \"y_um\"/\"v\" as numbers", path);
        goto done;
    }
    fail = table_finish(t, scale * factor, err);
done:
    if (sy >= 0) H5Sclose(sy);
    if (sv >= 0) H5Sclose(sv);
    if (dy >= 0) H5Dclose(dy);
    if (dv >= 0) H5Dclose(dv);
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (fail) {
        axm_field_table_destroy(t);
        return NULL;
    }
    return t;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

axm_field_table *axm_field_table_load(const char *path, double scale, axm_err *err)
{
    if (!path) {
        axm_fail(err, AXM_ERR_INPUT, "field table: no path");
        return NULL;
    }
    if (!isfinite(scale)) {
        axm_fail(err, AXM_ERR_INPUT, "%s: scale must be finite (got %g)", path, scale);
        return NULL;
    }
    if (ends_with(path, ".csv")) return load_csv(path, scale, err);
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) return load_h5(path, scale, err);
    axm_fail(err, AXM_ERR_INPUT, "%s: unsupported field table format (expected .csv or .h5)", path);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Interpolation */

/* First index i with x[i] >= v (numpy searchsorted, side left). */
static int search_left(const double *x, int n, double v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* First index i with x[i] > v (side right). */
static int search_right(const double *x, int n, double v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] <= v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* interp1d(kind="linear") formula, extrapolating with the end segments. */
static double lin_eval(const double *x, const double *y, int m, double q)
{
    int hi = search_left(x, m, q);
    if (hi < 1) hi = 1;
    if (hi > m - 1) hi = m - 1;
    int lo = hi - 1;
    double slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
    return slope * (q - x[lo]) + y[lo];
}

/* Quadratic interpolating B-spline as scipy's make_interp_spline(x, y, k=2) (what interp1d's
 * "quadratic" builds): knots x0 x0 x0, the midpoints (x_i + x_{i+1})/2 for i = 1..m-3, x_{m-1}
 * three times; m coefficients from the collocation system. */
typedef struct qspline {
    int m;
    double *t; /* [m+3] */
    double *c; /* [m] */
} qspline;

/* Interval l in [2, m-1] with t[l] <= x < t[l+1], clamped at the ends (BSpline's extrapolation
 * uses the end pieces). */
static int qs_interval(const qspline *s, double x)
{
    int m = s->m;
    if (!(x >= s->t[2])) return 2;
    if (x >= s->t[m]) return m - 1;
    int l = search_right(s->t, m + 3, x) - 1;
    if (l < 2) l = 2;
    if (l > m - 1) l = m - 1;
    return l;
}

/* The three nonzero B-splines B_{l-2}, B_{l-1}, B_l at x (Cox-de Boor; also valid as polynomial
 * continuation outside [t_l, t_{l+1}]). */
static void qs_basis(const double *t, int l, double x, double N[3])
{
    double left[3], right[3];
    N[0] = 1.0;
    for (int j = 1; j <= 2; j++) {
        left[j] = x - t[l + 1 - j];
        right[j] = t[l + j] - x;
        double saved = 0.0;
        for (int r = 0; r < j; r++) {
            double tmp = N[r] / (right[r + 1] + left[j - r]);
            N[r] = saved + right[r + 1] * tmp;
            saved = left[j - r] * tmp;
        }
        N[j] = saved;
    }
}

static double qs_eval(const qspline *s, double x)
{
    int l = qs_interval(s, x);
    double N[3];
    qs_basis(s->t, l, x, N);
    return N[0] * s->c[l - 2] + N[1] * s->c[l - 1] + N[2] * s->c[l];
}

static void qs_free(qspline *s)
{
    free(s->t);
    free(s->c);
}

static int qs_build(qspline *s, const double *x, const double *y, int m, const char *path, axm_err *err)
{
    s->m = m;
    s->t = malloc(sizeof *s->t * (size_t)(m + 3));
    s->c = malloc(sizeof *s->c * (size_t)m);
    double *A = malloc(sizeof *A * (size_t)m * 5); /* band: A[i][j - i + 2], j in i-2..i+2 */
    if (!s->t || !s->c || !A) {
        free(A);
        qs_free(s);
        return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory for the quadratic spline", path);
    }
    s->t[0] = s->t[1] = s->t[2] = x[0];
    for (int i = 1; i <= m - 3; i++) s->t[2 + i] = (x[i + 1] + x[i]) / 2.0;
    s->t[m] = s->t[m + 1] = s->t[m + 2] = x[m - 1];
    memset(A, 0, sizeof *A * (size_t)m * 5);
    for (int i = 0; i < m; i++) {
        int l = qs_interval(s, x[i]);
        double N[3];
        qs_basis(s->t, l, x[i], N);
        for (int r = 0; r < 3; r++) {
            int j = l - 2 + r, off = j - i + 2;
            if (off >= 0 && off < 5) A[i * 5 + off] = N[r];
        }
        s->c[i] = y[i];
    }
    /* B-spline collocation matrices are totally positive: elimination without pivoting is stable
     * (de Boor) and keeps the band. */
    for (int p = 0; p < m; p++) {
        double piv = A[p * 5 + 2];
        if (!(fabs(piv) > 0)) {
            free(A);
            qs_free(s);
            return axm_fail(err, AXM_ERR_RUNTIME, "%s: quadratic spline collocation is singular", path);
        }
        for (int i = p + 1; i <= p + 2 && i < m; i++) {
            double f = A[i * 5 + (p - i + 2)] / piv;
            if (f == 0) continue;
            for (int j = p; j <= p + 2 && j < m; j++) A[i * 5 + (j - i + 2)] -= f * A[p * 5 + (j - p + 2)];
            s->c[i] -= f * s->c[p];
        }
    }
    for (int p = m - 1; p >= 0; p--) {
        double v = s->c[p];
        for (int j = p + 1; j <= p + 2 && j < m; j++) v -= A[p * 5 + (j - p + 2)] * s->c[j];
        s->c[p] = v / A[p * 5 + 2];
    }
    free(A);
    return AXM_OK;
}

/* §4 step 3 on the side that lies outside [x_lo, x_hi]: the on-axis profile of a virtual point
 * source through the peak and the last in-range point. */
static int ps_fill(const axm_field_table *t, int row, const double *q, int n, double *out, double x_lo, double x_hi,
                   axm_err *err)
{
    int pk = 0;
    for (int i = 1; i < n; i++)
        if (out[i] > out[pk]) pk = i;
    double peak_y = q[pk], peak_v = out[pk];
    int lo = search_left(q, n, x_lo);       /* first query inside */
    int hi = search_right(q, n, x_hi) - 1;  /* last query inside */
    if (lo >= n || hi < 0 || lo > hi)
        return axm_fail(err, AXM_ERR_INPUT,
                        "%s: row %d: point-source fill needs a query point inside the table range [%g, %g] um", t->path,
                        row, x_lo, x_hi);
    for (int side = 0; side < 2; side++) {
        int e = side ? hi : lo;
        int a = side ? hi + 1 : 0, b = side ? n : lo; /* the points to fill */
        if (a >= b) continue;
        double end_y = q[e], end_v = out[e];
        double d = fabs(end_y - peak_y) / sqrt(peak_v * peak_v / (end_v * end_v) - 1.0);
        for (int i = a; i < b; i++) {
            double dy = q[i] - peak_y;
            double v = peak_v * d / sqrt(d * d + dy * dy);
            if (!isfinite(v))
                return axm_fail(err, AXM_ERR_INPUT,
                                "%s: row %d: point-source fill undefined: the peak %g mV/mA at y = %g um is not above the "
                                "%s end value %g at y = %g um",
                                t->path, row, peak_v, peak_y, side ? "upper" : "lower", end_v, end_y);
            out[i] = v;
        }
    }
    return AXM_OK;
}

int axm_field_table_interp(const axm_field_table *t, int row, axm_interp interp, axm_fill fill,
                           double truncate, const double *q, int n, double *out, axm_err *err)
{
    if (!t) return axm_fail(err, AXM_ERR_INPUT, "field table: missing");
    if (row < 0 || row >= t->n_rows)
        return axm_fail(err, AXM_ERR_INPUT, "%s: row %d out of range (table has %d rows)", t->path, row, t->n_rows);
    if (!(truncate >= 0 && truncate <= 0.4))
        return axm_fail(err, AXM_ERR_INPUT, "%s: truncate must be in [0, 0.4] (got %g)", t->path, truncate);
    if (interp != AXM_INTERP_LINEAR && interp != AXM_INTERP_QUADRATIC)
        return axm_fail(err, AXM_ERR_INPUT, "%s: unknown interpolation %d", t->path, (int)interp);
    if (fill != AXM_FILL_POINT_SOURCE && fill != AXM_FILL_EXTRAPOLATE)
        return axm_fail(err, AXM_ERR_INPUT, "%s: unknown fill %d", t->path, (int)fill);
    if (n < 0 || (n > 0 && (!q || !out))) return axm_fail(err, AXM_ERR_INPUT, "%s: bad query (n = %d)", t->path, n);
    for (int i = 0; i < n; i++) {
        if (!isfinite(q[i])) return axm_fail(err, AXM_ERR_INPUT, "%s: query point %d is not finite", t->path, i);
        if (i && q[i] < q[i - 1])
            return axm_fail(err, AXM_ERR_INPUT, "%s: query points must be ascending (%g after %g)", t->path, q[i],
                            q[i - 1]);
    }
    int drop = (int)(t->n_samples * truncate);
    int m = t->n_samples - 2 * drop;
    int need = interp == AXM_INTERP_QUADRATIC ? 3 : 2;
    if (m < need)
        return axm_fail(err, AXM_ERR_INPUT, "%s: %d samples left after truncate %g, %s interpolation needs %d", t->path,
                        m, truncate, interp == AXM_INTERP_QUADRATIC ? "quadratic" : "linear", need);
    const double *x = t->y_um + drop, *y = t->v + (size_t)row * (size_t)t->n_samples + (size_t)drop;
    qspline qs = {0, NULL, NULL};
    if (interp == AXM_INTERP_QUADRATIC) {
        int rc = qs_build(&qs, x, y, m, t->path, err);
        if (rc) return rc;
    }
    for (int i = 0; i < n; i++) {
        if (fill == AXM_FILL_POINT_SOURCE && (q[i] < x[0] || q[i] > x[m - 1])) out[i] = 0.0;
        else out[i] = interp == AXM_INTERP_QUADRATIC ? qs_eval(&qs, q[i]) : lin_eval(x, y, m, q[i]);
    }
    qs_free(&qs);
    if (fill == AXM_FILL_POINT_SOURCE && n > 0) return ps_fill(t, row, q, n, out, x[0], x[m - 1], err);
    return AXM_OK;
}
