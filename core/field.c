/* Field sources (fields-and-stimuli.md §2-§4). */
#include "field.h"

#include <math.h>

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

int axm_source_eval(const axm_source *s, const double *y_um, int n, double *phi, axm_err *err)
{
    switch (s->kind) {
    case AXM_SRC_POINT: return eval_point(s, y_um, n, phi, err);
    case AXM_SRC_POINT_ANISO: return eval_point_aniso(s, y_um, n, phi, err);
    default: return axm_fail(err, AXM_ERR_INPUT, "field source kind %d is not supported yet", (int)s->kind);
    }
}
