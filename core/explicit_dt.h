/* Stability limit of the explicit (forward Euler) vm update of the S-MF family (internal to
 * core/): dv/dt = (w * v / ra - g v - ...) / Cn with the symmetrized vm stencil w and reflect
 * padding.
 *
 * A symmetric stencil applied to a whole-sample reflected sequence is diagonal in the DCT-I
 * basis cos(pi k j / (W-1)), k = 0..W-1, with eigenvalues sigma_k = sum_t w_t cos((t-hw) pi k /
 * (W-1)); so the linear part's eigenvalues are exactly lambda_k = (sigma_k / ra - g) / Cn and
 * Euler's growth factor 1 + dt lambda_k stays >= -1 for dt <= 2 / max(-lambda_k). g is the leak
 * conductance (the smallest the membrane ever has, so the limit is not made stricter by
 * channels that open only during a spike). */
#ifndef AXM_EXPLICIT_DT_H
#define AXM_EXPLICIT_DT_H

#include <math.h>

#include "model.h"

/* max_k(-sigma_k): depends on the stencil and W only, so it is computed once per workspace. */
static inline double axm_stencil_neg_eig_max(const double w[AXM_MAX_TAPS], int taps, int W)
{
    int hw = taps / 2;
    double worst = -INFINITY;
    for (int k = 0; k < W; k++) {
        double th = M_PI * k / (W - 1), sig = 0;
        for (int t = 0; t < taps; t++) sig += w[t] * cos((t - hw) * th);
        if (-sig > worst) worst = -sig;
    }
    return worst;
}

/* The limit of one fiber (ms; +inf when no mode decays). */
static inline double axm_explicit_dt_limit(double neg_eig_max, double inv_ra, double g, double inv_cn)
{
    double worst = (neg_eig_max * inv_ra + g) * inv_cn;
    return worst > 0 ? 2 / worst : INFINITY;
}

#endif
