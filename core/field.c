/* Field sources (fields-and-stimuli.md §2-§4): point and line sources, and the dispatch to
 * tables (field_table.c). */
#include "field.h"

#include <math.h>
#include <stdlib.h>

/* 1 mA·Ω·cm/µm = 1e4 mV */
#define AXM_MV_PER_MA_OHMCM_PER_UM 1e4

static int eval_point(const axm_source *s, const double *y, int n, double *phi, axm_err *err)
{
    double den = s->semi_infinite ? 2.0 : 4.0;
    if (!(s->rho_ohm_cm > 0))
        return axm_fail(err, AXM_ERR_INPUT, "point source: rho_ohm_cm must be > 0 (got %g)", s->rho_ohm_cm);
    for (int i = 0; i < n; i++) {
        double dy = y[i] - s->y_um;
        double r = sqrt(s->x_um * s->x_um + dy * dy + s->z_um * s->z_um);
        if (!(r > 0))
            return axm_fail(err, AXM_ERR_INPUT, "point source: electrode lies on the fiber (r = 0 at y = %g um)", y[i]);
        phi[i] = AXM_MV_PER_MA_OHMCM_PER_UM * s->rho_ohm_cm / (den * M_PI * r);
    }
    return AXM_OK;
}

static int eval_point_aniso(const axm_source *s, const double *y, int n, double *phi, axm_err *err)
{
    double den = s->semi_infinite ? 2.0 : 4.0;
    const double *rho = s->rho3;
    if (!(rho[0] > 0 && rho[1] > 0 && rho[2] > 0))
        return axm_fail(err, AXM_ERR_INPUT, "anisotropic point source: rho_ohm_cm must be 3 values > 0");
    for (int i = 0; i < n; i++) {
        double dx = -s->x_um, dy = y[i] - s->y_um, dz = -s->z_um;
        double R = sqrt(dx * dx / (rho[1] * rho[2]) + dy * dy / (rho[0] * rho[2]) + dz * dz / (rho[0] * rho[1]));
        if (!(R > 0))
            return axm_fail(err, AXM_ERR_INPUT, "anisotropic point source: electrode lies on the fiber at y = %g um", y[i]);
        phi[i] = AXM_MV_PER_MA_OHMCM_PER_UM / (den * M_PI * R);
    }
    return AXM_OK;
}

/* Potential of a uniformly charged segment (Holt 1998) per unit line density, at a point whose
 * offset from the segment's end is d, for the segment's unit direction u and length ds: the log
 * term Phi_s of §3 with the correct r^2, in the form that avoids cancellation on each side. */
static double segment_log(const double d[3], const double u[3], double ds, int *on_segment)
{
    double h = d[0] * u[0] + d[1] * u[1] + d[2] * u[2];
    double l = h + ds;
    /* r^2 from the perpendicular component itself: |d|^2 - h^2 cancels far along the axis */
    double p0 = d[0] - h * u[0], p1 = d[1] - h * u[1], p2 = d[2] - h * u[2];
    double r2 = p0 * p0 + p1 * p1 + p2 * p2;
    double sh = sqrt(h * h + r2), sl = sqrt(l * l + r2);
    *on_segment = 0;
    if (h >= 0) return log((l + sl) / (sh + h));   /* beyond the end */
    if (l < 0) return log((sh - h) / (sl - l));    /* before the start */
    if (!(r2 > 0)) {                               /* level with the segment and on it */
        *on_segment = 1;
        return INFINITY;
    }
    return log((sh - h) * (l + sl) / r2);
}

static int eval_line(const axm_source *s, const double *y, int n, double *phi, axm_err *err)
{
    double den = s->semi_infinite ? 2.0 : 4.0;
    if (!(s->rho_ohm_cm > 0) || !isfinite(s->rho_ohm_cm))
        return axm_fail(err, AXM_ERR_INPUT, "line source: rho_ohm_cm must be > 0 (got %g)", s->rho_ohm_cm);
    if (s->n_pts < 2 || !s->pts)
        return axm_fail(err, AXM_ERR_INPUT, "line source: needs at least 2 points (got %d)", s->n_pts);
    const double *P = s->pts;
    double total = 0;
    for (int q = 0; q < 3 * s->n_pts; q++)
        if (!isfinite(P[q])) return axm_fail(err, AXM_ERR_INPUT, "line source: point %d is not finite", q / 3);
    for (int q = 0; q + 1 < s->n_pts; q++) {
        double a = P[3 * q + 3] - P[3 * q], b = P[3 * q + 4] - P[3 * q + 1], c = P[3 * q + 5] - P[3 * q + 2];
        total += sqrt(a * a + b * b + c * c);
    }
    if (!(total > 0)) return axm_fail(err, AXM_ERR_INPUT, "line source: the polyline has zero length");
    /* frac_s / ds_s = 1 / total for every segment: uniform current per unit length */
    double k = AXM_MV_PER_MA_OHMCM_PER_UM * s->rho_ohm_cm / (total * den * M_PI);
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int q = 0; q + 1 < s->n_pts; q++) {
            const double *a = P + 3 * q, *e = P + 3 * q + 3;
            double u[3] = {e[0] - a[0], e[1] - a[1], e[2] - a[2]};
            double ds = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
            if (ds == 0) continue; /* a repeated point carries no current */
            u[0] /= ds;
            u[1] /= ds;
            u[2] /= ds;
            double d[3] = {-e[0], y[i] - e[1], -e[2]};
            int on;
            double f = segment_log(d, u, ds, &on);
            sum += f;
            if (on || !isfinite(f))
                return axm_fail(err, AXM_ERR_INPUT, "line source: segment %d passes through the fiber at y = %g um", q,
                                y[i]);
        }
        phi[i] = k * sum;
    }
    return AXM_OK;
}

static int eval_table(const axm_source *s, const double *y, int n, double *phi, axm_err *err)
{
    if (!s->table) return axm_fail(err, AXM_ERR_INPUT, "table source: no table");
    if (!isfinite(s->y_center_um))
        return axm_fail(err, AXM_ERR_INPUT, "table source: y_center_um must be finite");
    double *q = malloc(sizeof *q * (size_t)(n > 0 ? n : 1));
    if (!q) return axm_fail(err, AXM_ERR_NOMEM, "table source: out of memory");
    for (int i = 0; i < n; i++) q[i] = y[i] + s->y_center_um;
    int rc = axm_field_table_interp(s->table, s->row, s->interp, s->fill, s->truncate, q, n, phi, err);
    free(q);
    return rc;
}

int axm_source_eval(const axm_source *s, const double *y_um, int n, double *phi, axm_err *err)
{
    if (!s) return axm_fail(err, AXM_ERR_INPUT, "field source: missing");
    if ((s->kind == AXM_SRC_POINT || s->kind == AXM_SRC_POINT_ANISO) &&
        !(isfinite(s->x_um) && isfinite(s->y_um) && isfinite(s->z_um)))
        return axm_fail(err, AXM_ERR_INPUT, "point source: position (%g, %g, %g) um must be finite", s->x_um, s->y_um,
                        s->z_um);
    if (n < 0 || (n > 0 && (!y_um || !phi)))
        return axm_fail(err, AXM_ERR_INPUT, "field source: bad query (n = %d)", n);
    switch (s->kind) {
    case AXM_SRC_POINT: return eval_point(s, y_um, n, phi, err);
    case AXM_SRC_POINT_ANISO: return eval_point_aniso(s, y_um, n, phi, err);
    case AXM_SRC_LINE: return eval_line(s, y_um, n, phi, err);
    case AXM_SRC_TABLE: return eval_table(s, y_um, n, phi, err);
    }
    return axm_fail(err, AXM_ERR_INPUT, "field source: unknown kind %d", (int)s->kind);
}

/* numpy.linspace: start + i*step, the last point exactly stop. */
static double linspace_at(double a, double b, int n, int i)
{
    if (n < 2) return a;
    if (i == n - 1) return b;
    return a + i * ((b - a) / (n - 1));
}

void axm_line_helix(double y_start, double y_end, double radius, double orbits, double phase_rad,
                    int samples, double *pts)
{
    for (int i = 0; i < samples; i++) {
        double th = linspace_at(0.0, 2.0 * M_PI * orbits, samples, i);
        pts[3 * i] = radius * cos(th + phase_rad);
        pts[3 * i + 1] = linspace_at(y_start, y_end, samples, i);
        pts[3 * i + 2] = radius * sin(th + phase_rad);
    }
}

void axm_line_arc(double y, double radius, double orbit, double phase_rad, int samples, double *pts)
{
    axm_line_helix(y, y, radius, orbit, phase_rad, samples, pts);
}

void axm_line_3d(const double start[3], const double end[3], int samples, double *pts)
{
    for (int i = 0; i < samples; i++)
        for (int c = 0; c < 3; c++) pts[3 * i + c] = linspace_at(start[c], end[c], samples, i);
}
