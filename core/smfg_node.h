/* The training model's per-node functions (smf-model.md §3, §5): the rate functions with their
 * partial derivatives and one node's forward step. One definition for the CPU's gradients
 * (core/smf_grad.c) and the CUDA training kernel (gpu/train_kernel.cuh), whose parity test expects
 * both to agree to 1e-9. */
#ifndef AXM_SMFG_NODE_H
#define AXM_SMFG_NODE_H

#include <float.h>
#include <math.h>

#include "hostdev.h"
#include "smf_grad.h"

/* A u / (1 - exp(-u / C)) with u = v + B (LIN_POS) or -(v + B) (LIN_NEG); A / (1 + exp(-(v + B) / C))
 * (SIG_NEG); A / (exp((v + B - vtraub) / C) + 1) (SIG_S) */
enum { AXM_SMFG_LIN_POS, AXM_SMFG_LIN_NEG, AXM_SMFG_SIG_NEG, AXM_SMFG_SIG_S };

/* A rate's value and its partial derivatives (dT: with respect to vtraub). */
typedef struct axm_smfg_rate {
    double val, dv, dA, dB, dC, dT;
} axm_smfg_rate;

/* The form of rate g (m, h, p, s), ab (0 alpha, 1 beta) */
AXM_HD int axm_smfg_rate_type(int g, int ab)
{
    switch (g * 2 + ab) {
    case 0: return AXM_SMFG_LIN_POS;
    case 1: return AXM_SMFG_LIN_NEG;
    case 2: return AXM_SMFG_LIN_NEG;
    case 3: return AXM_SMFG_SIG_NEG;
    case 4: return AXM_SMFG_LIN_POS;
    case 5: return AXM_SMFG_LIN_NEG;
    default: return AXM_SMFG_SIG_S;
    }
}

/* ... and the index of its A in the parameters (smf_grad.h; its B and C follow) */
AXM_HD int axm_smfg_rate_ia(int g, int ab)
{
    switch (g * 2 + ab) {
    case 0: return AXM_SMFG_AMA;
    case 1: return AXM_SMFG_BMA;
    case 2: return AXM_SMFG_AHA;
    case 3: return AXM_SMFG_BHA;
    case 4: return AXM_SMFG_AMPA;
    case 5: return AXM_SMFG_BMPA;
    case 6: return AXM_SMFG_ASA;
    default: return AXM_SMFG_BSA;
    }
}

AXM_HD double axm_smfg_nan_to_num(double x)
{
    if (isnan(x)) return 0.0;
    if (isinf(x)) return x > 0 ? DBL_MAX : -DBL_MAX;
    return x;
}

/* Rate of the given form with parameters p[ia], p[ia + 1], p[ia + 2] at v; hn: the model's NaN
 * handling (§5); want_d: also the partial derivatives (a constant at each call site, so that an
 * inlined copy drops the other branch). */
AXM_HD void axm_smfg_rate_eval(int type, const double *p, int ia, double v, int hn, int want_d, axm_smfg_rate *o)
{
    double A = p[ia], B = p[ia + 1], C = p[ia + 2];
    if (type == AXM_SMFG_LIN_POS || type == AXM_SMFG_LIN_NEG) {
        double u, su;
        if (type == AXM_SMFG_LIN_POS) {
            u = v + B;
            su = 1;
        } else {
            u = -(v + B);
            su = -1;
        }
        double e = exp(-u / C);
        o->val = A * u / (1 - e);
        o->dT = 0;
        if (hn && isnan(o->val)) {
            /* 0/0: the analytic limit A*C; derivatives of A*C*(1 + x/2 + ...) at x = 0 */
            o->val = A * C;
            if (want_d) {
                o->dA = C;
                o->dC = A;
                o->dv = o->dB = su * A * 0.5;
            }
            return;
        }
        if (!want_d) return;
        double x = u / C, f, fu, fC;
        if (fabs(x) < 1e-3) { /* series: the closed form cancels catastrophically here */
            f = C * (1 + x / 2 + x * x / 12);
            fu = 0.5 + x / 6 - x * x * x / 180;
            fC = 1 - x * x / 12;
        } else if (!isfinite(e)) {
            f = 0;
            fu = 0;
            fC = 0;
        } else {
            double den = 1 - e;
            f = u / den;
            fu = (den - u * e / C) / (den * den);
            fC = u * u * e / (C * C * den * den);
        }
        o->dA = f;
        o->dv = o->dB = su * A * fu;
        o->dC = A * fC;
        return;
    }
    double z, dzv, dzC, dzT;
    if (type == AXM_SMFG_SIG_NEG) {
        z = -(v + B) / C;
        dzv = -1 / C;
        dzC = (v + B) / (C * C);
        dzT = 0;
        o->val = A / (1 + exp(z));
    } else {
        double a = v + B - p[AXM_SMFG_VTRAUB];
        z = a / C;
        dzv = 1 / C;
        dzC = -a / (C * C);
        dzT = -1 / C;
        o->val = A / (exp(z) + 1);
    }
    if (hn && !isfinite(o->val)) {
        o->val = axm_smfg_nan_to_num(o->val);
        o->dv = o->dA = o->dB = o->dC = o->dT = 0;
        return;
    }
    if (!want_d) return;
    double s = 1 / (1 + exp(z));
    double dz = -A * s * (1 - s);
    o->dA = s;
    o->dv = o->dB = dz * dzv;
    o->dC = dz * dzC;
    o->dT = dz * dzT;
}

/* One node's forward step (§5, in the engine's order, core/smf.c): gates with the old vm, the ionic
 * current with the new gates, forward Euler for vm. xo, xn: m, h, p, s, vm. cn, ra, gna, gnap, gk,
 * gl and q[4]: the fiber's lumped quantities and Q10 factors; d2v: the stencil at the node; intra:
 * injected current (0: none); to_f32: round the new state through float (training against the
 * fp32 engine). */
AXM_HD void axm_smfg_node_fwd(const double *p, int hn, int to_f32, double dt, double cn, double ra, double gna,
                              double gnap, double gk, double gl, const double *q, double d2v, double intra,
                              const double xo[5], double xn[5])
{
    double v = xo[4], x[4];
    for (int g = 0; g < 4; g++) {
        axm_smfg_rate a, b;
        axm_smfg_rate_eval(axm_smfg_rate_type(g, 0), p, axm_smfg_rate_ia(g, 0), v, hn, 0, &a);
        axm_smfg_rate_eval(axm_smfg_rate_type(g, 1), p, axm_smfg_rate_ia(g, 1), v, hn, 0, &b);
        double S = a.val + b.val;
        double xinf = S != 0 ? a.val / S : 0; /* both rates 0: x stays (smf_step.inc) */
        x[g] = xinf - (xinf - xo[g]) * exp(-dt * (q[g] * S));
    }
    double m = x[0], hh = x[1], pp = x[2], s = x[3];
    double I = gna * m * m * m * hh * (v - p[AXM_SMFG_ENA]) + gnap * pp * pp * pp * (v - p[AXM_SMFG_ENA]) +
               gk * s * (v - p[AXM_SMFG_EK]) + gl * (v - p[AXM_SMFG_EL]);
    I -= intra; /* exact for intra = 0, whatever I is */
    double dv = dt * (1 / cn) * ((1 / ra) * d2v - I);
    if (to_f32) dv = (double)(float)dv;
    double vn = v + dv;
    if (hn && !isfinite(vn)) vn = isnan(vn) ? 0.0 : (vn > 0 ? 1e5 : -1e5);
    for (int g = 0; g < 4; g++) xn[g] = to_f32 ? (double)(float)x[g] : x[g];
    xn[4] = to_f32 ? (double)(float)vn : vn;
}

#endif
