/* The static condensation of one MRG internode (10 compartments, 20 unknowns [vi, vx] per
 * compartment, mrg-model.md §3.3) for the shorted-node step: the internode matrix T depends only on
 * dt, so its block factorization is computed once per dt. One definition for the CPU engine
 * (core/mrg.c) and the CUDA backend's host-side set-up (gpu/mrg_cuda.cu), whose kernel must see the
 * same factors. Host code on both sides. */
#ifndef AXM_MRG_INTERNODE_H
#define AXM_MRG_INTERNODE_H

#include "mrg.h"

/* compartment types of an internode's compartments 1..10 */
static const unsigned char axm_mrg_internode_type[10] = {AXM_MRG_MYSA, AXM_MRG_FLUT, AXM_MRG_STIN, AXM_MRG_STIN,
                                                         AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN,
                                                         AXM_MRG_FLUT, AXM_MRG_MYSA};

/* x = T^-1 r with the factors S ([10][3]: inv(D'_k), symmetric 11, 12, 22) and the links gi, gx
 * ([11]: link k joins compartments k-1 and k); r and x: 20 values; x may alias r */
static inline void axm_mrg_internode_solve(const double *gi, const double *gx, const double *S, const double *r,
                                           double *x)
{
    double y1 = 0, y2 = 0;
    for (int k = 0; k < 10; k++) {
        double r1 = r[2 * k], r2 = r[2 * k + 1];
        if (k) {
            r1 += gi[k] * y1;
            r2 += gx[k] * y2;
        }
        const double *q = S + 3 * k;
        y1 = q[0] * r1 + q[1] * r2;
        y2 = q[1] * r1 + q[2] * r2;
        x[2 * k] = y1;
        x[2 * k + 1] = y2;
    }
    double x1 = x[18], x2 = x[19];
    for (int k = 8; k >= 0; k--) {
        const double *q = S + 3 * k;
        double t1 = gi[k + 1] * x1, t2 = gx[k + 1] * x2;
        x1 = x[2 * k] + q[0] * t1 + q[1] * t2;
        x2 = x[2 * k + 1] + q[1] * t1 + q[2] * t2;
        x[2 * k] = x1;
        x[2 * k + 1] = x2;
    }
}

/* The factors S of T for step dt from the per-type capacitances and conductances (C, Gpas, Cmy,
 * Gmy: [types]) and the links; z1, z2 (20 each): T^-1 applied to a unit vi at compartment 1 and at
 * compartment 10 */
static inline void axm_mrg_internode_factor(const double *C, const double *Gpas, const double *Cmy, const double *Gmy,
                                            const double *gi, const double *gx, double dt, double *S, double *z1,
                                            double *z2)
{
    double s11 = 0, s12 = 0, s22 = 0;
    for (int k = 0; k < 10; k++) {
        int t = axm_mrg_internode_type[k];
        double a = C[t] / dt + Gpas[t], b = Cmy[t] / dt + Gmy[t];
        /* compartment k sits between links k (left) and k+1 (right), node links included */
        double D11 = a + gi[k] + gi[k + 1], D12 = -a, D22 = a + b + gx[k] + gx[k + 1];
        if (k) {
            D11 -= gi[k] * gi[k] * s11;
            D12 -= gi[k] * gx[k] * s12;
            D22 -= gx[k] * gx[k] * s22;
        }
        double det = D11 * D22 - D12 * D12;
        s11 = D22 / det;
        s12 = -D12 / det;
        s22 = D11 / det;
        S[3 * k] = s11;
        S[3 * k + 1] = s12;
        S[3 * k + 2] = s22;
    }
    double e[20] = {0};
    e[0] = 1;
    axm_mrg_internode_solve(gi, gx, S, e, z1);
    e[0] = 0;
    e[18] = 1;
    axm_mrg_internode_solve(gi, gx, S, e, z2);
}

#endif
