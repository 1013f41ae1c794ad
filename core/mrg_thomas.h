/* The block-Thomas steps of the MRG full step (passive end nodes, mrg-model.md §3): each
 * compartment's two unknowns [vi, vx] form a 2x2 block, linked to the next compartment by the
 * intracellular conductance and the extracellular one (0 where a node is shorted to the bath). One
 * definition for the CPU engine (core/mrg.c) and the CUDA kernel (gpu/mrg_kernel.cuh); their
 * scratch layouts differ (one fiber's 7 values per compartment in a row; fibers interleaved, stride
 * B), so the factors are addressed as base[(q + k) stride] (or, for the kernel's batched back
 * substitution, handed over already loaded). Each function keeps the order of operations the two
 * copies had: the CPU results are bit-identical. */
#ifndef AXM_MRG_THOMAS_H
#define AXM_MRG_THOMAS_H

#include <stddef.h>

#include "hostdev.h"

/* inv(D'_c), symmetric (s11, s12, s22), and y_c = inv(D'_c) r'_c */
typedef struct axm_mrg_blk {
    double s11, s12, s22, y1, y2;
} axm_mrg_blk;

/* Forward elimination at a compartment with block [D11 D12; D12 D22] and right side (r1, r2),
 * linked to the previous one by gip (intracellular) and gxe_p (extracellular, 0 where shorted):
 * b holds the previous compartment's factors (zeros before the first) and receives this one's. */
AXM_HD void axm_mrg_thomas_fwd(double D11, double D12, double D22, double r1, double r2, double gip, double gxe_p,
                               axm_mrg_blk *b)
{
    /* D' = D - diag(g) inv(D'_{c-1}) diag(g), r' = r + diag(g) y_{c-1} */
    D11 -= gip * gip * b->s11;
    D12 -= gip * gxe_p * b->s12;
    D22 -= gxe_p * gxe_p * b->s22;
    r1 += gip * b->y1;
    r2 += gxe_p * b->y2;
    double det = D11 * D22 - D12 * D12;
    b->s11 = D22 / det;
    b->s12 = -D12 / det;
    b->s22 = D11 / det;
    b->y1 = b->s11 * r1 + b->s12 * r2;
    b->y2 = b->s12 * r1 + b->s22 * r2;
}

/* Stores a compartment's 7 values for the back substitution at base[(q + k) stride], k = 0..6:
 * its factors b, then its links to the next compartment, gin and gxe_n. */
AXM_HD void axm_mrg_thomas_store(double *base, size_t q, size_t stride, const axm_mrg_blk *b, double gin,
                                 double gxe_n)
{
    base[q * stride] = b->s11;
    base[(q + 1) * stride] = b->s12;
    base[(q + 2) * stride] = b->s22;
    base[(q + 3) * stride] = b->y1;
    base[(q + 4) * stride] = b->y2;
    base[(q + 5) * stride] = gin;
    base[(q + 6) * stride] = gxe_n;
}

/* Back substitution at a compartment from its 7 values f (axm_mrg_thomas_store's order):
 * (x1, x2) holds the next compartment's solution (0, 0 after the last) and receives this one's
 * [vi, vx]. */
AXM_HD void axm_mrg_thomas_back_f(const double f[7], double *x1, double *x2)
{
    double t1 = f[5] * *x1, t2 = f[6] * *x2;
    *x1 = f[3] + f[0] * t1 + f[1] * t2;
    *x2 = f[4] + f[1] * t1 + f[2] * t2;
}

/* The same with the 7 values read from base[(q + k) stride] */
AXM_HD void axm_mrg_thomas_back(const double *base, size_t q, size_t stride, double *x1, double *x2)
{
    double f[7];
    for (int k = 0; k < 7; k++) f[k] = base[(q + (size_t)k) * stride];
    axm_mrg_thomas_back_f(f, x1, x2);
}

#endif
