/* The BPTT training chunk on the GPU (core/train.c axm_train_chunk, core/smf_grad.c's step and its
 * vector-Jacobian product), fp64.
 *
 * Layout: one block of NW warps per fiber (a small batch spreads over the SMs, and a fiber's nodes
 * over NW warps: the kernel is latency-bound, so a fiber's step takes about 1/NW of the time), node j
 * in thread j % (32 NW), register slot j / (32 NW) (NPL slots, W <= 32 NW NPL). The forward keeps the state in registers and writes the chunk's trajectory to global
 * memory ([fiber][step][state][node]: each lane reads back only its own nodes); the backward walks
 * it in reverse with the state adjoints in registers. Neighbours (v, ve for the stencil; the stencil
 * adjoint gd2v, which the CPU scatters) go through shared-memory rows; the scatter becomes a gather
 * (each node sums the (neighbour, tap) pairs whose reflected index is itself), so no atomics.
 * Parameter adjoints are accumulated per thread over all steps and reduced across the block once,
 * in a fixed order (warp butterflies, then the warps in turn); the host sums the per-fiber results in fiber order and applies the per-fiber lumped
 * chain rule (axm_smfg_grad_flush_fiber): the result is deterministic.
 *
 * The formulas are device copies of core/smf_grad.c, in the same order of operations (the tests hold
 * the two to 1e-9; they differ by exp's last bit, FMA contraction and summation order). */
#ifndef AXM_TRAIN_KERNEL_CUH
#define AXM_TRAIN_KERNEL_CUH

#include <float.h>
#include <math.h>

#include "axm_cuda.h"
#include "halo.cuh"
#include "smfg_node.h"

namespace axmtr {

constexpr unsigned FULL = 0xffffffffu;
constexpr int NFIB = 11;                 /* per fiber: Cn, ra, gna, gnap, gk, gl, q[4], ve gain */
constexpr int NG = 28;                   /* parameter adjoints: 24 rate constants, ena, ek, el, vtraub */
constexpr int G_ENA = 24, G_EK = 25, G_EL = 26, G_VT = 27;
constexpr int NL = 10;                   /* lumped adjoints: Cn, ra, gna, gnap, gk, gl, q[4] */
constexpr int NOUT = 1 + NG + NL + 2 * AXM_MAX_TAPS; /* per fiber: loss, then the adjoints */

struct TrainArgs {
    double p[AXM_SMFG_NP];
    double ws[2][AXM_MAX_TAPS]; /* symmetrized stencil (the same for every fiber) */
    double w[5], norm, dt;
    int taps, handle_nan, round_f32, want_grad;
    /* 0: the forward with the loss, then (want_grad) the backward, in one launch; 1: the forward
     * alone, without tgt (the trajectory and the final state); 2: the loss from the trajectory, then
     * the backward. 1 then 2 let tgt's upload overlap the forward (axm_cuda_train_chunk). */
    int phase;
    int B, W, L;
    const double *fib;          /* [B][NFIB] */
    const double *ve;           /* (L, B, W) */
    const double *tgt;          /* (L+1, B, 5, W) */
    double *s;                  /* (B, 5, W) in/out */
    double *traj;               /* [B][L+1][5][W] */
    double *out;                /* [B][NOUT] */
};

__device__ __forceinline__ int refl(int i, int W)
{
    while (i < 0 || i > W - 1) {
        if (i < 0) i = -i;
        if (i > W - 1) i = 2 * (W - 1) - i;
    }
    return i;
}

constexpr int HALO = AXM_MAX_TAPS / 2;


/* smf_grad.c stencil, node j, from the v and ve rows (the ve channel's weights times the fiber's
 * ve gain gve): direct reads when the halo holds the reflection (h <= W - 1), else the general
 * reflection (a fiber shorter than the stencil) */
__device__ __forceinline__ double stencil_at(const TrainArgs &a, double gve, const double *rv, const double *re, int j)
{
    const int W = a.W, taps = a.taps, h = taps / 2;
    double s = 0;
    if (h <= W - 1) {
#pragma unroll
        for (int k = 0; k < AXM_MAX_TAPS; k++)
            if (k < taps) s += a.ws[0][k] * rv[j - h + k];
#pragma unroll
        for (int k = 0; k < AXM_MAX_TAPS; k++)
            if (k < taps) s += (gve * a.ws[1][k]) * re[j - h + k];
        return s;
    }
#pragma unroll
    for (int k = 0; k < AXM_MAX_TAPS; k++)
        if (k < taps) s += a.ws[0][k] * rv[refl(j - h + k, W)];
#pragma unroll
    for (int k = 0; k < AXM_MAX_TAPS; k++)
        if (k < taps) s += (gve * a.ws[1][k]) * re[refl(j - h + k, W)];
    return s;
}

/* smf_grad.c axm_smfg_fwd_step, one node (fl: the fiber's Cn, ra, gna, gnap, gk, gl, q[4]) */
__device__ __forceinline__ void node_fwd(const TrainArgs &a, const double *fl, double d2v, const double xo[5],
                                         double xn[5])
{
    axm_smfg_node_fwd(a.p, a.handle_nan, a.round_f32, a.dt, fl[0], fl[1], fl[2], fl[3], fl[4], fl[5], fl + 6, d2v, 0.0,
                      xo, xn);
}

/* Per-thread adjoint accumulators. */
struct Acc {
    double gp[NG];
    double gl[NL];
    double gw[2][AXM_MAX_TAPS];
};

/* smf_grad.c axm_smfg_bwd_step, one node, up to the stencil adjoint: returns gd2v; ao[4] gets the
 * node's own part of the v adjoint (the neighbours' stencil terms are gathered afterwards). */
__device__ __forceinline__ double node_bwd(const TrainArgs &a, const double *fl, double d2v, const double xo[5],
                                           const double gn[5], double ao[5], Acc &acc)
{
    const double *p = a.p;
    const int hn = a.handle_nan;
    const double dt = a.dt;
    const double Cn = fl[0], ra_ = fl[1], gna = fl[2], gnap = fl[3], gk = fl[4], gl = fl[5];
    const double ena = p[AXM_SMFG_ENA], ek = p[AXM_SMFG_EK], el = p[AXM_SMFG_EL];
    double v = xo[4], x[4], E[4], xinf[4], S[4];
    axm_smfg_rate ra[4], rb[4];
#pragma unroll
    for (int g = 0; g < 4; g++) {
        axm_smfg_rate_eval(axm_smfg_rate_type(g, 0), p, axm_smfg_rate_ia(g, 0), v, hn, 1, &ra[g]);
        axm_smfg_rate_eval(axm_smfg_rate_type(g, 1), p, axm_smfg_rate_ia(g, 1), v, hn, 1, &rb[g]);
        S[g] = ra[g].val + rb[g].val;
        xinf[g] = S[g] != 0 ? ra[g].val / S[g] : 0;
        E[g] = exp(-dt * (fl[6 + g] * S[g]));
        x[g] = xinf[g] - (xinf[g] - xo[g]) * E[g];
    }
    double m = x[0], hh = x[1], pp = x[2], s = x[3];
    double m3 = m * m * m, p3 = pp * pp * pp;
    double I = gna * m3 * hh * (v - ena) + gnap * p3 * (v - ena) + gk * s * (v - ek) + gl * (v - el);
    double dv = dt * (1 / Cn) * ((1 / ra_) * d2v - I);
    double gv = gn[4];
    if (hn && !isfinite(v + dv)) gv = 0;
    double gvo = gv;
    double g_inner = gv * dt / Cn;
    acc.gl[0] += gv * (-dv / Cn);
    double gd2v = g_inner / ra_;
    acc.gl[1] += -g_inner * d2v / (ra_ * ra_);
    double gI = -g_inner;
    double G[4];
    G[0] = gn[0] + gI * gna * 3 * m * m * hh * (v - ena);
    G[1] = gn[1] + gI * gna * m3 * (v - ena);
    G[2] = gn[2] + gI * gnap * 3 * pp * pp * (v - ena);
    G[3] = gn[3] + gI * gk * (v - ek);
    gvo += gI * (gna * m3 * hh + gnap * p3 + gk * s + gl);
    acc.gl[2] += gI * m3 * hh * (v - ena);
    acc.gl[3] += gI * p3 * (v - ena);
    acc.gl[4] += gI * s * (v - ek);
    acc.gl[5] += gI * (v - el);
    acc.gp[G_ENA] += -gI * (gna * m3 * hh + gnap * p3);
    acc.gp[G_EK] += -gI * gk * s;
    acc.gp[G_EL] += -gI * gl;
#pragma unroll
    for (int g = 0; g < 4; g++) {
        double xog = xo[g];
        ao[g] = G[g] * E[g];
        double g_xinf = G[g] * (1 - E[g]);
        double g_r = G[g] * (xinf[g] - xog) * dt * E[g];
        double q = fl[6 + g];
        double g_S = g_r * q - g_xinf * ra[g].val / (S[g] * S[g]);
        double g_a = g_xinf / S[g] + g_S, g_b = g_S;
        if (S[g] == 0) { /* smf_grad.c: first order at a = b = 0 */
            g_a = G[g] * dt * q * (1 - xog);
            g_b = -G[g] * dt * q * xog;
        }
        acc.gl[6 + g] += g_r * S[g];
        gvo += g_a * ra[g].dv + g_b * rb[g].dv;
        double *ga = acc.gp + (g * 2 + 0) * 3, *gb = acc.gp + (g * 2 + 1) * 3;
        ga[0] += g_a * ra[g].dA;
        ga[1] += g_a * ra[g].dB;
        ga[2] += g_a * ra[g].dC;
        gb[0] += g_b * rb[g].dA;
        gb[1] += g_b * rb[g].dB;
        gb[2] += g_b * rb[g].dC;
        acc.gp[G_VT] += g_a * ra[g].dT + g_b * rb[g].dT;
    }
    ao[4] = gvo;
    return gd2v;
}

__device__ __forceinline__ double warp_sum(double x)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL, x, o);
    return x;
}

/* The fiber's threads meet: one warp needs only its own barrier. */
template <int NW> __device__ __forceinline__ void fiber_sync()
{
    if (NW == 1)
        __syncwarp();
    else
        __syncthreads();
}

/* Sum over the block, fixed order (lanes by butterfly, then warps 0..NW-1); valid in thread 0. */
template <int NW> __device__ __forceinline__ double block_sum(double x, double *red)
{
    x = warp_sum(x);
    if (NW == 1) return x;
    const int t = threadIdx.x;
    if ((t & 31) == 0) red[t >> 5] = x;
    __syncthreads();
    double s = 0;
    if (t == 0)
        for (int w = 0; w < NW; w++) s += red[w];
    __syncthreads(); /* red is reused by the next sum */
    return s;
}

template <int NPL, int NW> __global__ void __launch_bounds__(32 * NW) train_kernel(const TrainArgs a)
{
    constexpr int TPF = 32 * NW; /* threads per fiber */
    __shared__ double rv_[TPF * NPL + 2 * HALO], re_[TPF * NPL + 2 * HALO], rg_[TPF * NPL + 2 * HALO], red[NW];
    double *rv = rv_ + HALO, *re = re_ + HALO, *rg = rg_ + HALO; /* rows with halos: node j at [j] */
    const int lane = threadIdx.x, b = blockIdx.x; /* lane: the fiber's thread index */
    const int B = a.B, W = a.W, L = a.L, n5 = 5 * W;
    if (b >= B) return;
    for (int i = lane; i < TPF * NPL + 2 * HALO; i += TPF) rg_[i] = 0; /* the correlation's zero padding */
    double fl[NFIB];
#pragma unroll
    for (int i = 0; i < NFIB; i++) fl[i] = a.fib[b * NFIB + i];
    double *traj = a.want_grad ? a.traj + (size_t)b * (L + 1) * n5 : NULL; /* loss only: none kept */
    const bool fwd = a.phase != 2, fwd_loss = a.phase == 0;

    double x[NPL][5];
    double loss = 0;
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * TPF + lane;
#pragma unroll
        for (int s = 0; s < 5; s++) {
            /* phase 2 takes its states from the trajectory: no load of the state */
            x[i][s] = j < W && fwd ? a.s[((size_t)b * 5 + s) * W + j] : (s == 4 ? -80.0 : 0.5);
            if (j < W && fwd) {
                if (a.want_grad) traj[s * W + j] = x[i][s];
                if (fwd_loss && a.w[s] != 0) {
                    double d = x[i][s] - a.tgt[((size_t)b * 5 + s) * W + j];
                    loss += a.w[s] * (d * d);
                }
            }
        }
    }
    /* forward, storing the trajectory */
    for (int k = 0; fwd && k < L; k++) {
        const double *ve = a.ve + ((size_t)k * B + b) * W;
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W) {
                halo_put(rv, j, W, HALO, x[i][4]);
                halo_put(re, j, W, HALO, ve[j]);
            }
        }
        fiber_sync<NW>();
        double *tn = a.want_grad ? traj + (size_t)(k + 1) * n5 : NULL;
        const double *y = fwd_loss ? a.tgt + ((size_t)(k + 1) * B + b) * n5 : NULL;
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W) {
                double xn[5];
                node_fwd(a, fl, stencil_at(a, fl[10], rv, re, j), x[i], xn);
#pragma unroll
                for (int s = 0; s < 5; s++) {
                    x[i][s] = xn[s];
                    if (a.want_grad) tn[s * W + j] = xn[s];
                    if (fwd_loss && a.w[s] != 0) {
                        double d = xn[s] - y[s * W + j];
                        loss += a.w[s] * (d * d);
                    }
                }
            }
        }
        fiber_sync<NW>(); /* the rows are rewritten next step */
    }
#pragma unroll
    for (int i = 0; fwd && i < NPL; i++) {
        int j = i * TPF + lane;
        if (j < W)
#pragma unroll
            for (int s = 0; s < 5; s++) a.s[((size_t)b * 5 + s) * W + j] = x[i][s];
    }
    double *out = a.out + (size_t)b * NOUT;
    /* phase 2: the loss from the stored trajectory, its terms in the forward's order, so that it
     * is phase 0's to the bit */
    for (int k = 0; a.phase == 2 && k <= L; k++) {
        const double *xk = traj + (size_t)k * n5, *y = a.tgt + ((size_t)k * B + b) * n5;
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W)
#pragma unroll
                for (int s = 0; s < 5; s++)
                    if (a.w[s] != 0) {
                        double d = xk[s * W + j] - y[s * W + j];
                        loss += a.w[s] * (d * d);
                    }
        }
    }
    if (a.phase != 1) {
        loss = block_sum<NW>(loss, red);
        if (lane == 0) out[0] = loss;
    }
    if (!a.want_grad || a.phase == 1) return;

    /* backward: ad = dLoss/d(state at step k), walking k = L .. 1 */
    Acc acc;
#pragma unroll
    for (int i = 0; i < NG; i++) acc.gp[i] = 0;
#pragma unroll
    for (int i = 0; i < NL; i++) acc.gl[i] = 0;
#pragma unroll
    for (int c = 0; c < 2; c++)
#pragma unroll
        for (int k = 0; k < AXM_MAX_TAPS; k++) acc.gw[c][k] = 0;
    double ad[NPL][5];
#pragma unroll
    for (int i = 0; i < NPL; i++)
#pragma unroll
        for (int s = 0; s < 5; s++) ad[i][s] = 0;
    const int taps = a.taps, h = taps / 2;
    double cw[5];
#pragma unroll
    for (int s = 0; s < 5; s++) cw[s] = 2 * a.w[s] / a.norm;
    for (int k = L; k >= 1; k--) {
        const double *pk = traj + (size_t)k * n5, *y = a.tgt + ((size_t)k * B + b) * n5;
        const double *po = traj + (size_t)(k - 1) * n5;
        const double *ve = a.ve + ((size_t)(k - 1) * B + b) * W;
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W) {
#pragma unroll
                for (int s = 0; s < 5; s++) {
                    ad[i][s] += cw[s] * (pk[s * W + j] - y[s * W + j]);
                    x[i][s] = po[s * W + j];
                }
                halo_put(rv, j, W, HALO, x[i][4]);
                halo_put(re, j, W, HALO, ve[j]);
            }
        }
        fiber_sync<NW>();
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W) {
                double ao[5];
                rg[j] = node_bwd(a, fl, stencil_at(a, fl[10], rv, re, j), x[i], ad[i], ao, acc);
#pragma unroll
                for (int s = 0; s < 5; s++) ad[i][s] = ao[s];
            }
        }
        fiber_sync<NW>();
        /* the stencil's adjoint: node j collects gd2v[jj] * ws[kk] over every (jj, kk) whose
         * reflected neighbour index is j. With one reflection (h <= W - 1) that is the plain
         * correlation over the zero-padded rg row, jj = j + h - kk, plus for the nodes within h of an
         * end the pairs reflected onto them (jj - h + kk = -j, or = 2(W - 1) - j). */
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * TPF + lane;
            if (j < W) {
                double gv = 0;
                if (h <= W - 1) {
#pragma unroll
                    for (int kk = 0; kk < AXM_MAX_TAPS; kk++)
                        if (kk < taps) gv += rg[j + h - kk] * a.ws[0][kk];
                    if (j >= 1 && j <= h)
                        for (int kk = h + j; kk < taps; kk++) gv += rg[kk - h - j] * a.ws[0][kk];
                    if (j >= W - 1 - h && j < W - 1)
                        for (int kk = W - 1 - j + h; kk < taps; kk++) gv += rg[2 * (W - 1) - j + h - kk] * a.ws[0][kk];
                } else {
                    for (int jj = 0; jj < W; jj++)
#pragma unroll
                        for (int kk = 0; kk < AXM_MAX_TAPS; kk++)
                            if (kk < taps && refl(jj - h + kk, W) == j) gv += rg[jj] * a.ws[0][kk];
                }
                ad[i][4] += gv;
                double gd = rg[j];
#pragma unroll
                for (int kk = 0; kk < AXM_MAX_TAPS; kk++)
                    if (kk < taps) {
                        int n = h <= W - 1 ? j - h + kk : refl(j - h + kk, W);
                        acc.gw[0][kk] += gd * rv[n];
                        acc.gw[1][kk] += gd * re[n];
                    }
            }
        }
        fiber_sync<NW>();
    }
    /* one block reduction per adjoint, the same order on every run */
#pragma unroll
    for (int i = 0; i < NG; i++) {
        double t = block_sum<NW>(acc.gp[i], red);
        if (lane == 0) out[1 + i] = t;
    }
#pragma unroll
    for (int i = 0; i < NL; i++) {
        double t = block_sum<NW>(acc.gl[i], red);
        if (lane == 0) out[1 + NG + i] = t;
    }
#pragma unroll
    for (int c = 0; c < 2; c++)
#pragma unroll
        for (int k = 0; k < AXM_MAX_TAPS; k++) {
            double t = block_sum<NW>(acc.gw[c][k], red);
            if (lane == 0) out[1 + NG + NL + c * AXM_MAX_TAPS + k] = t;
        }
}

} // namespace axmtr

#endif
