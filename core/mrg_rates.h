/* The MRG node's unscaled gate rates (1/ms), p m h s, with the branch order and clamps exactly as
 * AXNODE_myel.mod (mrg-model.md §2): one definition for the CPU engine (core/mrg.c) and the CUDA
 * kernel (gpu/mrg_kernel.cuh), whose parity test expects the same doubles. */
#ifndef AXM_MRG_RATES_H
#define AXM_MRG_RATES_H

#include <math.h>

#include "hostdev.h"

/* The .mod's guarded exponential */
AXM_HD double axm_mrg_gexp(double x) { return x < -100 ? 0.0 : exp(x); }

AXM_HD void axm_mrg_rates_raw(double v, double a[4], double b[4])
{
    double x;
    x = (v + 27) / 10.2;
    a[0] = fabs(x) < 1e-6 ? 0.102 : v < -150 ? 0.00086725 : 0.01 * (v + 27) / (1 - axm_mrg_gexp(-x));
    x = (v + 34) / 10;
    b[0] = fabs(x) < 1e-6 ? 0.0025 : v > 150 ? 1.5855e-05 : 0.00025 * (-(v + 34)) / (1 - axm_mrg_gexp(x));
    x = (v + 21.4) / 10.3;
    a[1] = fabs(x) < 1e-6 ? 19.158 : v < -150 ? 0.15733 : 1.86 * (v + 21.4) / (1 - axm_mrg_gexp(-x));
    x = (v + 25.7) / 9.16;
    b[1] = fabs(x) < 1e-6 ? 0.78776 : v > 150 ? 0.0057268 : 0.086 * (-(v + 25.7)) / (1 - axm_mrg_gexp(x));
    x = (v + 114) / 11;
    a[2] = fabs(x) < 1e-6 ? 0.682 : v > 150 ? 0.0032594 : 0.062 * (-(v + 114)) / (1 - axm_mrg_gexp(x));
    b[2] = v < -150 ? 0.0014054 : 2.3 / (1 + axm_mrg_gexp(-(v + 31.8) / 13.4));
    a[3] = v < -150 ? 3.3484e-05 : 0.3 / (axm_mrg_gexp(-(v + 53) / 5) + 1);
    b[3] = v < -150 ? 3.3484e-06 : 0.03 / (axm_mrg_gexp(-(v + 90)) + 1);
}

#endif
