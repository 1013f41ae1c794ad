/* S-MF forward kernel (smf-model.md §2-§7) and the per-fiber threshold step (§10, thresh.h).
 *
 * Launch layout: one warp per fiber, 4 warps per block. Node j of a fiber lives in lane j % 32, slot
 * j / 32 of NPL register slots (NPL = 1, 2, 4, 8, 16: W <= 32 NPL). The states (m, h, p, s, vm) stay
 * in registers for all the steps of a launch; vm of the whole fiber is also kept in one shared-memory
 * row per warp, which the stencil and the monitors read (lane-interleaved: conflict-free). Only
 * __syncwarp is needed: a fiber never talks to another warp, so a fiber that is decided (Active with
 * early exit, or a threshold test that activated) simply leaves the loop.
 *
 * The extracellular term of the stencil is linear in ve, so for the separable drive the ve-channel
 * stencil is applied once to phi on the host (phis); per step and node the drive then costs C
 * fused multiply-adds on cached loads: ve is never materialized. */
#ifndef AXM_SMF_KERNEL_CUH
#define AXM_SMF_KERNEL_CUH

#include <float.h>
#include <math.h>

#include "axm_cuda.h"
#include "diverged.h"
#include "halo.cuh"
#include "thresh_cond.h"

namespace axmcu {

constexpr int WPB = 4;          /* warps = fibers per block */
constexpr int NFIB = 7;         /* fiber constants: 1/Cn, 1/ra, gNa, gNaP, gK, gL, ve gain ([NFIB][B]) */
constexpr int MAXDET = 16;      /* checked nodes per detector (axm_detect.nodes) */
constexpr unsigned FULL_MASK = 0xffffffffu;

enum { DRIVE_SEP = 1, DRIVE_MAT = 2 }; /* bits: both may be on (their potentials add) */

struct DPulse {
    int fiber, node;            /* fiber -1: all; node resolved to 0..W-1 */
    long long k_on, k_off;      /* on for k_on <= k < k_off (absolute step index) */
    double amp;
};

/* The exponent factors (the 1/C of the rates, dt times the Q10 factors, and the products with them)
 * are stored times Num<T>::ELOG, so that fp32 takes its exponentials as ex2 without a multiply by
 * log2(e) each (smf_consts / cast_consts); asBv, bsBv are the s gate's offsets B - vtraub, as
 * core/smf.c. */
template <typename T> struct SmfC {
    T amA, amB, amCi, bmA, bmB, bmCi, ahA, ahB, ahCi, bhA, bhB, bhCi;
    T ampA, ampB, ampCi, bmpA, bmpB, bmpCi, asA, asBv, asCi, bsA, bsBv, bsCi;
    T lim_am, lim_bm, lim_ah, lim_ap, lim_bp; /* handle_nan limits A*C */
    T bsA_sc;                                 /* bsA * 2^-SGATE_SCALE (rate_terms) */
    T dtqm, dtqp, dtqh, dtqs;                 /* dt * Q10 factor */
    /* the one-reciprocal form's (rate_terms<G, true>): each rate's A times its gate's dt Q10 (bsA
     * also 2^-SGATE_SCALE) */
    T amAq, bmAq, ahAq, bhAq, ampAq, bmpAq, asAq, bsAq;
    /* the exponent offsets B / C of the rates without a removable point (beta_h, alpha_s, beta_s),
     * for fp32's exponents as one fma of vm (rate_terms) */
    T bhBC, asBC, bsBC;
    T ena, ek, el, dt;
    T wvm[AXM_MAX_TAPS], wve[AXM_MAX_TAPS];
    int taps, hw, handle_nan;
};

/* Active / APCount detector: settings plus persistent per-fiber state in device memory. */
struct DetDev {
    int on, n, at_least, mark;
    int arm;                    /* re-arm from the run's initial state (first run, reinit) */
    int nodes[MAXDET];
    double thr;
    long long k_first;          /* first absolute step k whose state time (k+1) dt is in the window */
    unsigned char *below;       /* [B][n] armed: the last sample was below threshold */
    unsigned char *seen;        /* [B][n] node spiked (Active) */
    int *count;                 /* [B][n] (APCount) */
    double *first;              /* [B][n] first crossing, ms (APCount) */
    unsigned char *active;      /* [B] (Active) */
};

struct RasDev {
    int on, n;                  /* n checked nodes (all nodes: n = W, nodes = NULL) */
    int arm;
    const int *nodes;
    double thr;
    long long k_first;
    unsigned char *below;       /* [B][n] */
    int *sp_fiber, *sp_node;
    double *sp_t;
    unsigned long long *count;
    long long cap;
};

template <typename T> struct RecDev {
    int on, ns, nn, every;
    int init;                   /* 1: this run's initial state is frame 0 */
    long long k0_div;           /* run_k0 / every */
    int st[5];                  /* recorded state indices */
    const int *rec_of_node;     /* [W]: output column of node j, -1 = not recorded */
    T *frames;                  /* [n_frames][B][ns][nn] for this run; frames on the absolute grid */
    int mx_on;
    const int *mx_of_node;      /* [W]: >= 0 = node counts in the max */
    T *mx;                      /* [B][5], running max over time and nodes (NaN sticks) */
};

/* Threshold search state per condition (core/thresh_cond.h's axm_thc, one fiber each, as arrays). */
struct ThDev {
    double *ub, *lb, *upper, *lower;
    int *status, *phase, *tries_fix, *tries, *streak, *zero_done;
    axm_thc_cfg cfg;
    int *next_list, *n_next;
    long long n_steps;
};

template <typename T> struct KArgs {
    SmfC<T> c;
    int B, W;
    T *state;
    const T *ic, *fib;          /* fib: [NFIB][B] */
    int mode, C;
    const T *phis, *waves, *ve;
    long long wlen, ve_len;
    const int *wave_of;
    const T *amp;
    int n_pulses;
    const DPulse *pulses;
    double dt;
    long long k0, n_steps;
    int first_launch;
    unsigned char *decided;
    int stop_when_decided;
    DetDev act, ap;
    RasDev ras;
    RecDev<T> rec;
    ThDev th;
    const int *list;
    int n_list;
};

/* fp32 takes the special-function unit's exp2 and division, flushing subnormals (the PTX
 * ex2.approx.ftz / div.approx.ftz that --use_fast_math would pick, for this kernel only): measured on
 * an H200 (B = 5e4, 101 nodes) the IEEE expf and division gave 3.9e10 node-steps/s, the
 * non-flushing intrinsics 5.7e10 and these 7.1e10 (each SFU result otherwise needs a subnormal
 * fix-up); the states' error against fp64 stays within 2-5x the CPU's own fp32 error
 * (test_parity_smf bounds it by 10x). Subnormal
 * values (gates below 1e-38) become 0, which changes no spike. AXM_SMF_FTZ=0: the non-flushing
 * intrinsics. fp64 keeps IEEE exp and division, the CPU's operations up to FMA contraction. */
#ifndef AXM_SMF_FTZ
#define AXM_SMF_FTZ 1
#endif
/* ex(x) is exp(x / ELOG): 2^x in fp32, exp(x) in fp64. */
template <typename T> struct Num;
template <> struct Num<float> {
    static constexpr double ELOG = 1.4426950408889634074; /* log2(e) */
#if AXM_SMF_FTZ && !defined(AXM_CUDA_EMU)
    static __device__ __forceinline__ float ex(float x)
    {
        float r;
        asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
        return r;
    }
    static __device__ __forceinline__ float dv(float a, float b)
    {
        float r;
        asm("div.approx.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
        return r;
    }
    static __device__ __forceinline__ float rcp(float a)
    {
        float r;
        asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(a));
        return r;
    }
#else
    static __device__ __forceinline__ float ex(float x) { return exp2f(x); }
    static __device__ __forceinline__ float dv(float a, float b) { return __fdividef(a, b); }
    static __device__ __forceinline__ float rcp(float a) { return __fdividef(1.0f, a); }
#endif
    static __device__ __forceinline__ float big() { return FLT_MAX; }
};
/* 2^x for x <= 0 on the FMA pipe (the gates' exp(-dt q (alpha + beta)), rates >= 0), to take
 * load off the special-function unit, which the fp32 step saturates: 24 MUFU per node-step at 4
 * lanes per clock and scheduler cost 192 cycles per warp-slot against ~146 issue cycles for the
 * rest (static SASS counts, gpu/NOTES.md). Round-to-nearest split x = n + f, |f| <= 1/2, Taylor
 * polynomial of degree 6 for 2^f, n added to the exponent bits: largest relative error 2.2e-7
 * over [-126, 20] in steps of 1.3e-5 against exp2 in double (ex2.approx: 2^-22 = 2.4e-7). x is
 * clamped to [-126, 126]: below, 2^-126 instead of 0, the same gate to the last bit of a value in
 * [0, 1]; a NaN x gives 2^-126 where the gate is NaN anyway (x is NaN only with a NaN rate sum,
 * and then x_inf = alpha / sum is NaN too). */
__device__ __forceinline__ float ex2_fma(float x)
{
    x = fminf(fmaxf(x, -126.0f), 126.0f);
    const float magic = 12582912.0f; /* 1.5 * 2^23: x + magic rounds x to an integer n in its low bits */
    float t = x + magic;
    float f = x - (t - magic);
    float p = 1.5403530393381609e-4f;
    p = fmaf(p, f, 1.3333558146428443e-3f);
    p = fmaf(p, f, 9.6181291076284772e-3f);
    p = fmaf(p, f, 5.5504108664821580e-2f);
    p = fmaf(p, f, 2.4022650695910071e-1f);
    p = fmaf(p, f, 6.9314718055994531e-1f);
    p = fmaf(p, f, 1.0f);
    return __int_as_float(__float_as_int(p) + (int)((unsigned)__float_as_int(t) << 23));
}

/* How many of the four gate exponentials (m, h, p, s in that order) fp32 takes on the FMA pipe.
 * By the static count 2 balanced the pipes (MUFU 768 -> 704 cycles per fiber-step of 4 slots,
 * issue 583 -> 659), but on the H200 it lost: B = 5e4, 101 nodes, one warp per fiber,
 * node-steps/s: 0 -> 1.10e11, 2 -> 1.02e11, 3 -> 9.85e10 (check.sh, 2026-11-27). At 0, ncu shows
 * the SFU pipe 78 % and the issue slots 70 % busy: both near what they reach, so the polynomials'
 * extra issue costs more than the MUFU time they save. */
#ifndef AXM_SMF_FMAEXP
#define AXM_SMF_FMAEXP 0
#endif
template <typename T, int G> __device__ __forceinline__ T gate_ex(T x)
{
    if constexpr (sizeof(T) == 4 && G < AXM_SMF_FMAEXP) return ex2_fma(x);
    else return Num<T>::ex(x);
}

template <> struct Num<double> {
    static constexpr double ELOG = 1;
    static __device__ __forceinline__ double ex(double x) { return exp(x); }
    static __device__ __forceinline__ double dv(double a, double b) { return a / b; }
    static __device__ __forceinline__ double rcp(double a) { return 1.0 / a; }
    static __device__ __forceinline__ double big() { return DBL_MAX; }
};

/* Sample k of a series (stride apart); past the end: linear extrapolation for one sample, then 0
 * (sim.h). */
template <typename T>
__device__ __forceinline__ T series_at(const T *w, long long len, long long k, long long stride = 1)
{
    if (k < len) return __ldg(w + k * stride);
    if (k == len && len >= 2) return (T)2 * __ldg(w + (len - 1) * stride) - __ldg(w + (len - 2) * stride);
    if (k == len && len == 1) return __ldg(w);
    return (T)0;
}

/* The recorder's max: a NaN state shows and stays (as the CPU recorder). */
template <typename T> __device__ __forceinline__ T nanmax(T m, T x)
{
    return (x > m || isnan(x)) ? x : m;
}

__device__ __forceinline__ int reflect(int q, int W)
{
    q = q < 0 ? -q : q;
    return q >= W ? 2 * (W - 1) - q : q;
}

/* A gate's two rates a = na / da and b = nb / db, as their sum s = a + b and x_inf = a / s, from
 * one reciprocal instead of three divisions: with n = na db + nb da and d = da db, s = n / d and
 * x_inf = na db / n, both from r = 1 / (n d). fp32 spends most of a node step on the special-function
 * unit (24 MUFU of ~126 instructions; gpu/NOTES.md), and this takes 8 of the 24 away; in fp64 each
 * division is a software sequence of ~10 instructions, and 8 of the 12 go. The terms of n
 * have one sign (a, b > 0), so nothing cancels; what differs from the divisions is rounding (a few
 * ulp). Returns a word (Rcp1<T>::word) out of [0, 2^30) where it may not hold, and the caller then
 * takes the divisions, with their NaN and zero handling, for the whole node: an exponent past the
 * range, the removable singularity (da = 0 gives NaN), rates that underflow. One test covers these:
 * s in a range within [2^-126, 2^126]. For n d out of the normal range r is 0 or inf and s = n (n r)
 * is 0, inf or NaN; for n d normal, 1 / d or 1 / n can only leave the normal range when n / d is
 * beyond 2^126 or below 2^-126 (|n d| < 2^126 and |n| > 2^126 need |d| < 1; |n| subnormal and n d
 * normal need |d| > 4), and x_inf = na db (1 / n) <= 1 as na db <= n.
 * test_parity_smf's test_rate_edges puts vm on these points. AXM_SMF_RCP1 / AXM_SMF_RCP1_64 = 0: the
 * divisions only (the kernels measured before, 2026-11-27). */
template <typename T> struct Rcp1;
#ifndef AXM_SMF_RCP1
#define AXM_SMF_RCP1 1
#endif
#ifndef AXM_SMF_RCP1_64
#define AXM_SMF_RCP1_64 1
#endif
/* The test as a word per gate, 0 <= w < 2^30 where s is in range, so that a node's four tests are
 * one: (w_m | w_h | w_p | w_s) < 2^30. fp32: s in [2^-64, 2^64), w = bits(s) - bits(2^-64) as
 * unsigned (a negative s or a NaN falls outside too): an integer add per gate and the or-ing of
 * the words take the place of two compares per gate and the predicate logic joining them. The
 * narrower range keeps the fast path wherever test_gate_rates_op asks it (vm in [-125, 100] mV, off
 * the removable points). fp64: s in [2^-1000, 2^1000]. */
constexpr unsigned RCP1_IN = 1u << 30;
template <> struct Rcp1<float> {
    static constexpr bool on = AXM_SMF_RCP1;
    static __device__ __forceinline__ unsigned word(float s)
    {
        return (unsigned)__float_as_int(s) - (unsigned)((127 - 64) << 23);
    }
};
template <> struct Rcp1<double> {
    static constexpr bool on = AXM_SMF_RCP1_64;
    static __device__ __forceinline__ unsigned word(double s)
    {
        return (s >= 0x1p-1000) & (s <= 0x1p1000) ? 0u : RCP1_IN;
    }
};
/* x, as a value the compiler cannot see through (no arithmetic is shared across it) */
__device__ __forceinline__ float opaque(float x)
{
#ifndef AXM_CUDA_EMU
    asm volatile("" : "+f"(x));
#endif
    return x;
}
__device__ __forceinline__ double opaque(double x)
{
#ifndef AXM_CUDA_EMU
    asm volatile("" : "+d"(x));
#endif
    return x;
}

template <typename T> __device__ __forceinline__ unsigned rates_rcp1(T na, T da, T nb, T db, T &s, T &xi)
{
    const T nd = na * db, n = fma(nb, da, nd), d = da * db, q = n * d;
    const T r = Num<T>::rcp(q);
    s = n * (n * r);
    xi = nd * (d * r);
    return Rcp1<T>::word(s);
}

/* A node's gates from vm: the rate sums times the gate's dt Q10 factor (the exponent of the gate's
 * step, in ex's unit) and x_inf. */
template <typename T> struct GateRates {
    T sm, sh, sp, ss, im, ih, ip, is;
};

/* Gate G's (m, h, p, s) two rates alpha = na / da and beta = nb / db at vm v, in the CPU's formulas.
 * Q (the one-reciprocal form, rates_rcp1):
 *  - both numerators times the gate's dt Q10 factor (the A constants times it), so that the rate sum
 *    comes out as the gate's exponent, a multiply less per gate (x_inf = na db / n does not change
 *    with the scale). The exponents stay the CPU's (v + B) / C: as one fma of vm, v / C + (-B / C),
 *    they would save an instruction each where no 0/0 needs (v + B) shared, but their rounding
 *    differs from the CPU's by up to ~|(v + B) / C| ulp in the exponential (test_gate_rates_op: over
 *    16 ulp at -320 mV in fp64);
 *  - the s gate's beta as (nb 2^-k) / (db 2^-k), k = SGATE_SCALE, both scaled exactly (db 2^-k =
 *    fma(e, 2^-k, 2^-k) replaces e + 1: no extra instruction). Its slope (C = -1 mV) makes db grow
 *    ~1.4 bits per mV below rest, and n d (~ s db^2 das^2) passes 2^120 near -127 mV in fp32; the
 *    scaling takes 2k bits off n d, which moves that to ~-151 mV, and s and x_inf come out as
 *    before. The scaled n d stays normal while s >= 2^-46 per ms (n d >= s, as d >= 1). */
constexpr int SGATE_SCALE = 40;
/* The exponent (v + B) / C of a rate without a removable point (beta_h, alpha_s, beta_s): fp32 as one
 * fma of vm with B / C precomputed, an add less per rate and three per node step (the FP32 pipe
 * issues most of the step: gpu/NOTES.md); nothing downstream cancels (the denominators are 1 + e),
 * and the exponent's absolute error stays about an ulp of the larger of v / C and B / C, as the
 * CPU's form's. fp64 keeps the CPU's form. */
#ifndef AXM_SMF_REASSOC32
#define AXM_SMF_REASSOC32 1
#endif
template <typename T> __device__ __forceinline__ T ex_arg(T v, T B, T Ci, T BCi)
{
    if constexpr (sizeof(T) == 4 && AXM_SMF_REASSOC32) return fma(v, Ci, BCi);
    else return (v + B) * Ci;
}
template <int G, bool Q = false, typename T>
__device__ __forceinline__ void rate_terms(const SmfC<T> &c, T v, T &na, T &da, T &nb, T &db)
{
    typedef Num<T> N;
    const T one = (T)1;
    if constexpr (G == 0) {
        const T x = v + c.amB, y = v + c.bmB;
        na = (Q ? c.amAq : c.amA) * x, da = one - N::ex(-x * c.amCi);
        nb = (Q ? c.bmAq : c.bmA) * (-y), db = one - N::ex(y * c.bmCi);
    } else if constexpr (G == 1) {
        const T x = v + c.ahB;
        na = (Q ? c.ahAq : c.ahA) * (-x), da = one - N::ex(x * c.ahCi);
        nb = Q ? c.bhAq : c.bhA, db = one + N::ex(-ex_arg(v, c.bhB, c.bhCi, c.bhBC));
    } else if constexpr (G == 2) {
        const T x = v + c.ampB, y = v + c.bmpB;
        na = (Q ? c.ampAq : c.ampA) * x, da = one - N::ex(-x * c.ampCi);
        nb = (Q ? c.bmpAq : c.bmpA) * (-y), db = one - N::ex(y * c.bmpCi);
    } else {
        na = Q ? c.asAq : c.asA, da = N::ex(ex_arg(v, c.asBv, c.asCi, c.asBC)) + one;
        const T e = N::ex(ex_arg(v, c.bsBv, c.bsCi, c.bsBC));
        if constexpr (Q) {
            constexpr T k = (T)(1.0 / (double)(1ull << SGATE_SCALE));
            nb = c.bsAq, db = fma(e, k, k);
        } else {
            nb = c.bsA, db = e + one;
        }
    }
}

/* rates_rcp1 of gate G */
template <int G, typename T> __device__ __forceinline__ unsigned gate_rcp1(const SmfC<T> &c, T v, T &s, T &xi)
{
    T na, da, nb, db;
    rate_terms<G, true>(c, v, na, da, nb, db);
    return rates_rcp1(na, da, nb, db, s, xi);
}

template <typename T> __device__ __forceinline__ bool gate_rates_rcp1(const SmfC<T> &c, T v, GateRates<T> &R)
{
    return (gate_rcp1<0>(c, v, R.sm, R.im) | gate_rcp1<1>(c, v, R.sh, R.ih) | gate_rcp1<2>(c, v, R.sp, R.ip) |
            gate_rcp1<3>(c, v, R.ss, R.is)) < RCP1_IN;
}

/* rate_terms of gate G as alpha and beta by the divisions */
template <int G, typename T> __device__ __forceinline__ void gate_div(const SmfC<T> &c, T v, T &a, T &b)
{
    T na, da, nb, db;
    rate_terms<G>(c, v, na, da, nb, db);
    a = Num<T>::dv(na, da);
    b = Num<T>::dv(nb, db);
}

/* The same by the divisions, each rate as the CPU's, with its NaN and zero handling, the four gates
 * unrolled (AXM_SMF_DIVLOOP32 1: fp32 loops over them). The loop needed the fewest registers (one
 * gate at a time: half the spill loads of the unrolled form at 6 blocks per SM), but with a loop
 * in the branch ptxas took every constant of the common path through a uniform register, loaded
 * by a ULDC of its own: ncu on an H200 counted 76 ULDC of the 719 instructions of a fiber-step (4
 * slots; 2026-11-27), and the static count of the step (tests/gpu/sass/count.sh) has none unrolled. */
#ifndef AXM_SMF_DIVLOOP32
#define AXM_SMF_DIVLOOP32 4
#endif
template <typename T, int U32 = AXM_SMF_DIVLOOP32>
__device__ __forceinline__ void gate_rates_div(const SmfC<T> &c, T v, GateRates<T> &R)
{
    typedef Num<T> N;
    const bool vnan = isnan(v);
    constexpr int UNROLL = sizeof(T) == 4 ? U32 : 4;
#pragma unroll(UNROLL)
    for (int g = 0; g < 4; g++) {
        T a, b;
        if (g == 0) gate_div<0>(c, v, a, b);
        else if (g == 1) gate_div<1>(c, v, a, b);
        else if (g == 2) gate_div<2>(c, v, a, b);
        else gate_div<3>(c, v, a, b);
        if (c.handle_nan) {
            /* the CPU's nan_to_num: alpha_m, beta_m, alpha_h, alpha_p and beta_p are 0/0 at their
             * removable points (the limit A C instead); beta_h, alpha_s and beta_s are A / (1 + e)
             * with e in [0, inf], finite (0 at e = inf) for every vm but NaN, so one test of vm
             * does them */
            const T la = g == 0 ? c.lim_am : g == 1 ? c.lim_ah : c.lim_ap, lb = g == 0 ? c.lim_bm : c.lim_bp;
            a = g == 3 ? (vnan ? (T)0 : a) : isnan(a) ? la : a;
            b = g == 1 || g == 3 ? (vnan ? (T)0 : b) : isnan(b) ? lb : b;
        }
        /* where both rates underflow (s at vm below about -500 mV in fp32) a gate keeps its value,
         * as the exact limit of cnexp, instead of becoming 0/0 */
        const T sg = a + b, ig = sg != (T)0 ? N::dv(a, sg) : (T)0;
        if (g == 0) R.sm = sg * c.dtqm, R.im = ig;
        else if (g == 1) R.sh = sg * c.dtqh, R.ih = ig;
        else if (g == 2) R.sp = sg * c.dtqp, R.ip = ig;
        else R.ss = sg * c.dtqs, R.is = ig;
    }
}

/* tests/gpu/sass/count.sh: with AXM_SMF_COUNT_FAST the kernels keep the path a common run takes
 * alone (the fast rates, 3 taps, the halo's fast stores, no non-finite fix, the waveform in range),
 * the others being constants, so that a static count of the step loop is what one step executes.
 * Never for a run. */
#ifdef AXM_SMF_COUNT_FAST
constexpr bool COUNT_FAST = true;
#else
constexpr bool COUNT_FAST = false;
#endif

/* A fiber's constants as the node step takes them (make_stepk; one per fiber and launch). fp64: the
 * CPU's, dt / Cn, 1 / ra and the four conductances. fp32: folded into the Euler step, so that the
 * ionic terms and the stencil accumulate the increment of vm directly, in four fmas, without the
 * current I: kr = dt / (Cn ra), kc = dt / Cn, the conductances times -dt / Cn, and the reversal
 * potentials of gK and gL inside their terms (gk (v - ek) = gk v + gkek), three instructions less
 * per node step than the CPU's order (AXM_SMF_REASSOC32 = 0: that order); vm still takes one
 * rounding per step (v + increment), and the folded constants one each (made in double). */
template <typename T> struct StepK;
template <> struct StepK<double> {
    double kc, inv_ra, gna, gnap, gk, gl;
};
template <> struct StepK<float> {
#if AXM_SMF_REASSOC32
    float kr, kc, gna, gnap, gk, gkek, gl, glel;
#else
    float kc, inv_ra, gna, gnap, gk, gl;
#endif
};
/* The six per-fiber inputs are a.fib's first rows ([NFIB][B]: 1/Cn, 1/ra, gNa, gNaP, gK, gL). */
template <typename T>
__device__ __forceinline__ StepK<T> make_stepk(const SmfC<T> &c, double dt, T inv_cn, T inv_ra, T gna, T gnap, T gk,
                                               T gl)
{
    StepK<T> k;
    const double kc = dt * (double)inv_cn;
    k.kc = (T)kc;
    if constexpr (sizeof(T) == 4 && AXM_SMF_REASSOC32) {
        k.kr = (T)(kc * (double)inv_ra);
        k.gna = (T)(-kc * (double)gna);
        k.gnap = (T)(-kc * (double)gnap);
        k.gk = (T)(-kc * (double)gk);
        k.gkek = (T)(kc * (double)gk * (double)c.ek);
        k.gl = (T)(-kc * (double)gl);
        k.glel = (T)(kc * (double)gl * (double)c.el);
    } else {
        k.inv_ra = inv_ra;
        k.gna = gna;
        k.gnap = gnap;
        k.gk = gk;
        k.gl = gl;
    }
    return k;
}

/* One S-MF node step (§5): gates with the old vm, ionic current with the new gates and the old vm,
 * forward Euler for vm. d2v already holds both stencil channels; INTRA: intra may be nonzero (the
 * bare kernels have no intracellular pulses). The gates' rates take one reciprocal per gate where
 * that holds, else the divisions, which start again from an opaque copy of vm: shared terms would
 * keep the fast path's 16 numerators and denominators in registers for a branch that is almost
 * never taken. */
template <typename T, int DIVU32 = AXM_SMF_DIVLOOP32, bool INTRA = true>
__device__ __forceinline__ void smf_node_step(const SmfC<T> &c, T &m, T &h, T &p, T &s, T &v, T d2v, T intra,
                                              const StepK<T> &k)
{
    GateRates<T> R;
    bool fast = false;
    if constexpr (Rcp1<T>::on) fast = gate_rates_rcp1(c, v, R);
#ifdef AXM_SMF_COUNT_FAST /* tests/gpu/sass/count.sh: the fast path; the test and one select stand for */
    if (!fast) R.sm = (T)0; /* the branch (the test, then a branch not taken) */
#else
    if (!fast) gate_rates_div<T, DIVU32>(c, Rcp1<T>::on ? opaque(v) : v, R);
#endif
    m = R.im - (R.im - m) * gate_ex<T, 0>(-R.sm);
    h = R.ih - (R.ih - h) * gate_ex<T, 1>(-R.sh);
    p = R.ip - (R.ip - p) * gate_ex<T, 2>(-R.sp);
    s = R.is - (R.is - s) * gate_ex<T, 3>(-R.ss);
    if constexpr (sizeof(T) == 4 && AXM_SMF_REASSOC32) {
        const T gs = fma(k.gna * m * m * m, h, k.gnap * p * p * p);
        T inc = fma(k.gl, v, k.glel);
        inc = fma(s, fma(k.gk, v, k.gkek), inc);
        inc = fma(k.kr, d2v, inc);
        inc = fma(gs, v - c.ena, inc);
        if constexpr (INTRA) inc = fma(k.kc, intra, inc);
        v = v + inc;
    } else {
        T I = k.gna * m * m * m * h * (v - c.ena) + k.gnap * p * p * p * (v - c.ena) + k.gk * s * (v - c.ek) +
              k.gl * (v - c.el);
        if constexpr (INTRA) I = I - intra;
        v = v + k.kc * (k.inv_ra * d2v - I);
    }
}

/* handle_nan's fix of a new vm that is not finite (NaN: 0, +-inf: +-1e5, as the CPU), for the NPL
 * slots of a step at once (on: the slots stepped, NULL: all), after smf_node_step: one test per slot
 * and a branch almost never taken, where the fix inside the node step was six predicated
 * instructions. */
template <typename T, int NPL>
__device__ __forceinline__ void fix_nonfinite(const SmfC<T> &c, T (&v)[NPL], const int *on = NULL)
{
    if (!c.handle_nan || COUNT_FAST) return;
    bool bad = false;
#pragma unroll
    for (int i = 0; i < NPL; i++) bad |= (!on || on[i]) && !(fabs(v[i]) <= Num<T>::big());
    if (bad) {
#pragma unroll
        for (int i = 0; i < NPL; i++)
            if ((!on || on[i]) && !(fabs(v[i]) <= Num<T>::big())) v[i] = isnan(v[i]) ? (T)0 : v[i] > 0 ? (T)1e5 : (T)-1e5;
    }
}

/* d[i] += the vm channel of the stencil at slot i's node (TAPS taps; 0: taps at run time), in the
 * CPU's order of terms. */
template <int TAPS, typename T, int NPL>
__device__ __forceinline__ void stencil_add(T (&d)[NPL], const T *row, const int (&jc)[NPL],
                                            const T (&w)[AXM_MAX_TAPS], int taps = TAPS)
{
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        const T *nb = row + jc[i] - (TAPS ? TAPS : taps) / 2;
#pragma unroll
        for (int t = 0; t < (TAPS ? TAPS : AXM_MAX_TAPS); t++)
            if (TAPS || t < taps) d[i] += w[t] * nb[t];
    }
}

template <typename T> __device__ __forceinline__ T pick(int q, T m, T h, T p, T s, T v)
{
    return q == 0 ? m : q == 1 ? h : q == 2 ? p : q == 3 ? s : v;
}

/* Crossing test of one checked node (monitor.h): a rise from below counts inside the window; the
 * armed flag follows every sample. */
__device__ __forceinline__ int cross(double vv, double thr, int in_window, unsigned char &below)
{
    int ge = vv >= thr;
    int spike = ge && below && in_window;
    below = !ge;
    return spike;
}

/* Crossing time by linear interpolation between the samples at k dt and (k+1) dt. */
__device__ __forceinline__ double cross_time(long long k, double dt, double thr, double vp, double v)
{
    double t = (double)(k + 1) * dt;
    double tc = (double)k * dt + dt * (thr - vp) / (v - vp);
    return (!isfinite(tc) || tc > t) ? t : tc;
}

/* One checked node of a fiber's Active or APCount monitor, as the lane that checks it holds it
 * across the steps of a launch (lane q of the fiber's warp, or of its group in the packed kernel);
 * between launches it lives in the monitor's [B][n] arrays. */
struct DetLane {
    unsigned char below = 1, seen = 0; /* armed; spiked (Active) */
    int node = 0, count = 0;           /* count, first, prev: APCount */
    double first = 0, prev = 0;
};

/* Lane q < d.n of fiber b, from the launch's first state in row (arm: from the run's initial
 * state, else the stored flags). kind: DET_TEST (the threshold test's Active: nothing stored),
 * DET_ACTIVE, DET_APCOUNT. */
enum { DET_TEST = 0, DET_ACTIVE = 1, DET_APCOUNT = 2 };
template <typename T>
__device__ __forceinline__ void det_load(DetLane &l, const DetDev &d, int b, int q, const T *row, int arm, int kind)
{
    l.node = d.nodes[q];
    l.prev = (double)row[l.node];
    l.below = arm ? !(l.prev >= d.thr) : d.below[b * d.n + q];
    if (kind == DET_ACTIVE) l.seen = d.seen[b * d.n + q];
    if (kind == DET_APCOUNT) {
        l.count = d.count[b * d.n + q];
        l.first = d.first[b * d.n + q];
    }
}

/* The sample at (k+1) dt: Active marks the node seen; APCount counts the spike and keeps the first
 * crossing time. */
template <typename T> __device__ __forceinline__ void act_step(DetLane &l, const DetDev &d, const T *row, long long k)
{
    if (cross((double)row[l.node], d.thr, k >= d.k_first, l.below)) l.seen = 1;
}
template <typename T>
__device__ __forceinline__ void ap_step(DetLane &l, const DetDev &d, const T *row, long long k, double dt)
{
    double vv = (double)row[l.node];
    if (cross(vv, d.thr, k >= d.k_first, l.below)) {
        if (l.count == 0) l.first = cross_time(k, dt, d.thr, l.prev, vv);
        l.count++;
    }
    l.prev = vv;
}

/* Back into the monitor's arrays at the end of a launch (q < n: the node's flags; q = 0: the
 * fiber's Active result and decided mark). */
__device__ __forceinline__ void act_store(const DetLane &l, const DetDev &d, int b, int q, int active,
                                          unsigned char *decided)
{
    if (q < d.n) {
        d.below[b * d.n + q] = l.below;
        d.seen[b * d.n + q] = l.seen;
    }
    if (q == 0) {
        d.active[b] = (unsigned char)active;
        if (active && d.mark) decided[b] = 1;
    }
}
__device__ __forceinline__ void ap_store(const DetLane &l, const DetDev &d, int b, int q)
{
    d.below[b * d.n + q] = l.below;
    d.count[b * d.n + q] = l.count;
    d.first[b * d.n + q] = l.first;
}

/* A node's five states between the registers and the (B,5,W) state array. */
template <typename T>
__device__ __forceinline__ void state_load(const T *st, int b, int W, int j, T &m, T &h, T &p, T &s, T &v)
{
    m = st[(b * 5 + 0) * W + j];
    h = st[(b * 5 + 1) * W + j];
    p = st[(b * 5 + 2) * W + j];
    s = st[(b * 5 + 3) * W + j];
    v = st[(b * 5 + 4) * W + j];
}
template <typename T> __device__ __forceinline__ void state_store(T *st, int b, int W, int j, T m, T h, T p, T s, T v)
{
    st[(b * 5 + 0) * W + j] = m;
    st[(b * 5 + 1) * W + j] = h;
    st[(b * 5 + 2) * W + j] = p;
    st[(b * 5 + 3) * W + j] = s;
    st[(b * 5 + 4) * W + j] = v;
}

/* One condition's update after its test (axm_thc_update, as the CPU search): bad = the final state
 * diverged (a state NaN/inf or |vm| >= AXM_VM_DIVERGED); mv = max of vm over time and nodes. */
__device__ inline void th_update(const ThDev &t, int b, int act, int bad, double mv)
{
    axm_thc c = {t.ub[b], t.lb[b], t.phase[b], t.tries_fix[b], t.tries[b], t.streak[b], t.zero_done[b]};
    int st = axm_thc_update(&c, &t.cfg, act, bad || isnan(mv), mv);
    t.ub[b] = c.ub;
    t.lb[b] = c.lb;
    t.phase[b] = c.phase;
    t.tries_fix[b] = c.tries_fix;
    t.tries[b] = c.tries;
    t.streak[b] = c.streak;
    t.zero_done[b] = c.zero_done;
    if (st >= 0) {
        t.status[b] = st;
        if (st == AXM_TH_OK) {
            t.upper[b] = c.ub;
            t.lower[b] = c.lb;
        }
    } else {
        t.next_list[atomicAdd(t.n_next, 1)] = b;
    }
}

enum { K_TH = 0, K_LITE = 1, K_FULL = 2, K_BARE = 3 };


/* K_TH: threshold test of fiber list[slot] at its current trial amplitude, then the bound update.
 * K_LITE / K_FULL: a plain run chunk of n_steps from the stored state with the fused monitors; only
 * K_FULL carries the Raster and the full Recorder (their registers would cost the common path
 * occupancy). K_BARE: a plain run without monitors, pulses, a materialized potential or a second
 * contact (the throughput case: a forward of many fibers), whose loop then holds the node step
 * alone: with the monitors' and other drives' state live across the loop, though never used, the
 * step ran at 127 registers and recomputed its lane's addresses each step. */
/* Resident blocks asked of ptxas per SM (register cap 65536 / (128 n)), a build knob so that
 * tests/gpu/check.sh can measure occupancy against spills on the card. Measured on an H200 (101
 * nodes: NPL 4), fp32 runs, node-steps/s at B = 1e4 / 5e4. The v2 step: n = 4 (128 registers, no
 * spills) 6.9e10 / 7.1e10, n = 6 (80, 364 B of spill loads) 6.5e10 / 7.1e10, n = 8 (64) 6.1e10 /
 * 6.7e10, unbounded (166 registers, 3 blocks; non-flushing build) 4.3e10 / 4.6e10. The v3 step
 * (2026-11-27): n = 4 (110 registers) 1.07e11 / 1.10e11, n = 5 (96, 4 B) 1.09e11 / 1.13e11, n = 6
 * (80, 60 B) 1.10e11 / 1.16e11. Threshold tests keep n = 4 (measured with v2 only).
 * fp64: 1.1e10 unbounded (178 registers, 2 blocks), 1.45e10 at n = 3 (166, no spills).
 * v4, the one-reciprocal gates (rates_rcp1), measured 2026-11-27 at B = 1e4 / 5e4: n = 5 (96
 * registers, 32 B of spill loads) 1.20e11 / 1.24e11, n = 4 (124, none) 1.14e11 / 1.17e11, n = 6
 * (80, 192 B) 1.14e11 / 1.20e11. v5, the division branch unrolled (AXM_SMF_DIVLOOP32) and the
 * step's tests joined: n = 4 (127 registers, no spills) 1.34e11 / 1.37e11, n = 5 (96, 200 B of
 * spill loads) 1.21e11 / 1.27e11 (gpu/NOTES.md, v4 and v5). */
#ifndef AXM_SMF_MINB32
#if AXM_SMF_RCP1
#define AXM_SMF_MINB32 4
#else
#define AXM_SMF_MINB32 6
#endif
#endif
#ifndef AXM_SMF_MINB32_TH
#define AXM_SMF_MINB32_TH 4
#endif
#ifndef AXM_SMF_MINB64
#define AXM_SMF_MINB64 3
#endif
/* K_BARE (not yet measured, 2026-11-27): the static SASS of its step (tests/gpu/sass/count.sh
 * LOOP=1 -DAXM_SMF_COUNT_FAST) is 492 instructions per fiber-step at 4 blocks (122 registers),
 * 495 at 6 (80 registers) and 8 (64), none spilled; the run kernel's whole build spills nothing
 * at 6 (79 registers) and 36 B at 8, and its extra instructions at 6 lie in the halo's path for
 * fibers of at most taps nodes (count.sh with that path removed: +14). fp64: 4 blocks, 124
 * registers, no spills (the lite kernel spills 784 B there). */
#ifndef AXM_SMF_MINB32_BARE
#define AXM_SMF_MINB32_BARE 6
#endif
#ifndef AXM_SMF_MINB64_BARE
#define AXM_SMF_MINB64_BARE 4
#endif
/* only where it was measured (NPL 4: 65-128 nodes; runs and threshold tests, not the
 * Raster/Recorder kernel, whose extra state would spill); elsewhere ptxas chooses */
template <typename T, int NPL, int MODE> struct MinBlocks {
    static constexpr int n = NPL != 4 || MODE == K_FULL      ? 1
                             : MODE == K_BARE                 ? (sizeof(T) == 8 ? AXM_SMF_MINB64_BARE : AXM_SMF_MINB32_BARE)
                             : sizeof(T) == 8                 ? AXM_SMF_MINB64
                             : MODE == K_TH                   ? AXM_SMF_MINB32_TH
                                                              : AXM_SMF_MINB32;
};

/* The drives of a warp-kernel step past the first contact's: the other contacts, a materialized
 * potential, intracellular pulses (e and intra: each slot's extracellular drive and current). */
template <typename T, int NPL>
__device__ __forceinline__ void other_drives(const KArgs<T> &a, int b, int lane, long long k, T ampv, int sep,
                                             const int (&jc)[NPL], T (&e)[NPL], T (&intra)[NPL])
{
    const int B = a.B, W = a.W, C = a.C, taps = a.c.taps, hw = a.c.hw;
    const SmfC<T> &c = a.c;
    if (sep) {
        for (int cc = 1; cc < C; cc++) {
            int wi = __ldg(a.wave_of + b * C + cc);
            if (wi < 0) continue;
            T co = ampv * series_at(a.waves + (long long)wi * a.wlen, a.wlen, k);
            const T *ph = a.phis + ((long long)b * C + cc) * W;
#pragma unroll
            for (int i = 0; i < NPL; i++) e[i] += co * __ldg(ph + jc[i]);
        }
    }
    if ((a.mode & DRIVE_MAT) && k <= a.ve_len) {
        const long long stride = (long long)B * W;
        const T *vb = a.ve + (long long)b * W;
        const T gve = a.fib[6 * B + b]; /* here only: a register less on the separable path */
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            T acc = (T)0;
#pragma unroll
            for (int t = 0; t < AXM_MAX_TAPS; t++)
                if (t < taps) acc += c.wve[t] * series_at(vb + reflect(jc[i] + t - hw, W), a.ve_len, k, stride);
            e[i] += ampv * (gve * acc);
        }
    }
    for (int q = 0; q < a.n_pulses; q++) {
        const DPulse &P = a.pulses[q];
        if ((P.fiber < 0 || P.fiber == b) && k >= P.k_on && k < P.k_off) {
#pragma unroll
            for (int i = 0; i < NPL; i++)
                if (i * 32 + lane == P.node) intra[i] += (T)P.amp;
        }
    }
}

template <typename T, int NPL, int MODE>
__global__ void __launch_bounds__(WPB * 32, MinBlocks<T, NPL, MODE>::n) smf_kernel(const KArgs<T> a)
{
    constexpr bool TH = MODE == K_TH, FULL = MODE == K_FULL, BARE = MODE == K_BARE;
    /* vm with a reflected halo of HALO nodes on each side, so the stencil reads need no index
     * arithmetic: row[-q] = vm[q], row[W - 1 + q] = vm[W - 1 - q] (the CPU's reflect for q <= hw) */
    constexpr int HALO = AXM_MAX_TAPS / 2;
    __shared__ T rows[WPB][32 * NPL + 2 * HALO + 1]; /* + a spare cell (hown, hmir) */
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const int slot = blockIdx.x * WPB + wid;
    const int B = a.B, W = a.W;
    int b;
    /* frozen: a decided fiber is not stepped, but the FULL monitors still see its state */
    int frozen = 0;
    if (TH) {
        if (slot >= a.n_list) return;
        b = a.list[slot];
    } else {
        if (slot >= B) return;
        b = slot;
        if (a.stop_when_decided && a.decided[b]) {
            if (!FULL) return;
            frozen = 1;
        }
    }
    T *row = rows[wid] + HALO;
    const SmfC<T> &c = a.c;

    const StepK<T> fk = make_stepk(a.c, a.dt, a.fib[b], a.fib[B + b], a.fib[2 * B + b], a.fib[3 * B + b],
                                   a.fib[4 * B + b], a.fib[5 * B + b]);
    double amp_d = 1.0;
    if (TH) {
        axm_thc q = {a.th.ub[b], a.th.lb[b], a.th.phase[b], 0, 0, 0, 0};
        amp_d = axm_thc_amp(&q);
    } else if (a.amp) {
        amp_d = (double)a.amp[b];
    }
    const T ampv = (T)amp_d;

    T m[NPL], h[NPL], p[NPL], s[NPL], v[NPL];
    const T *src = TH ? a.ic : a.state;
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * 32 + lane;
        if (j < W) {
            state_load(src, b, W, j, m[i], h[i], p[i], s[i], v[i]);
            halo_put(row, j, W, c.hw, v[i]);
        } else { /* idle slots compute harmless values and store nothing */
            m[i] = h[i] = p[i] = s[i] = (T)0.5;
            v[i] = (T)-80;
        }
    }
    __syncwarp();

    /* Active / APCount: lane i < n handles checked node i */
    const int act_on = TH ? 1 : BARE ? 0 : a.act.on;
    const int arm_act = TH || (a.first_launch && a.act.arm);
    DetLane act, ap;
    int active = 0;
    if (act_on && lane < a.act.n) det_load(act, a.act, b, lane, row, arm_act, TH ? DET_TEST : DET_ACTIVE);
    if (!TH && act_on) active = a.act.active[b];
    if (!TH && !BARE && a.ap.on && lane < a.ap.n) det_load(ap, a.ap, b, lane, row, a.first_launch && a.ap.arm, DET_APCOUNT);
    /* Raster: item q*32 + lane */
    unsigned char r_below[NPL];
    double r_prev[NPL];
    int r_node[NPL];
#pragma unroll
    for (int q = 0; q < NPL; q++) {
        int it = q * 32 + lane;
        r_below[q] = 1;
        r_prev[q] = 0;
        r_node[q] = -1;
        if (FULL && a.ras.on && it < a.ras.n) {
            r_node[q] = a.ras.nodes ? a.ras.nodes[it] : it;
            r_prev[q] = (double)row[r_node[q]];
            r_below[q] = (a.first_launch && a.ras.arm) ? !(r_prev[q] >= a.ras.thr)
                                                       : a.ras.below[(long long)b * a.ras.n + it];
        }
    }
    /* running maxima over time and nodes: the threshold test needs vm's; the max-only Recorder all */
    T mx[5];
    const int mx_on = TH || (!BARE && a.rec.mx_on);
    int mxn[NPL];
#pragma unroll
    for (int q = 0; q < 5; q++) mx[q] = -Num<T>::big();
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * 32 + lane;
        mxn[i] = j < W && (TH || (a.rec.mx_on && a.rec.mx_of_node[j] >= 0));
        if (mxn[i] && (TH || a.first_launch)) {
            mx[4] = nanmax(mx[4], v[i]);
            if (!TH) {
                mx[0] = nanmax(mx[0], m[i]); mx[1] = nanmax(mx[1], h[i]);
                mx[2] = nanmax(mx[2], p[i]); mx[3] = nanmax(mx[3], s[i]);
            }
        }
    }
    int rec_col[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * 32 + lane;
        rec_col[i] = (FULL && a.rec.on && j < W) ? a.rec.rec_of_node[j] : -1;
        if (FULL && a.rec.on && a.first_launch && a.rec.init && rec_col[i] >= 0) {
            for (int q = 0; q < a.rec.ns; q++)
                a.rec.frames[((long long)b * a.rec.ns + q) * a.rec.nn + rec_col[i]] =
                    pick(a.rec.st[q], m[i], h[i], p[i], s[i], v[i]);
        }
    }

    const long long n_steps = TH ? a.th.n_steps : a.n_steps;
    const long long k0 = TH ? 0 : a.k0;
    const int hw = c.hw, taps = c.taps, C = a.C;
    const double dt_d = a.dt;
    int jc[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) jc[i] = min(i * 32 + lane, W - 1);
    /* halo_put as two unconditional stores per slot: the node's cell and its one reflection, each
     * aimed at a spare cell past the row where there is none (an idle slot, a node away from the
     * ends); a node with two reflections (W <= 2 hw + 1) takes halo_put */
    const int spare = 32 * NPL + HALO, hfast = COUNT_FAST || W > 2 * hw + 1;
    int hown[NPL], hmir[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * 32 + lane;
        hown[i] = j < W ? j : spare;
        const int r = halo_mirror(j, W, hw);
        hmir[i] = j >= W || !r ? spare : r;
    }
    /* the first contact's phi stays in registers (most runs have one contact) */
    const int sep = (a.mode & DRIVE_SEP) && C > 0;
    const int w0 = sep ? __ldg(a.wave_of + b * C) : -1;
    T ph0[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) ph0[i] = w0 >= 0 ? __ldg(a.phis + (long long)b * C * W + jc[i]) : (T)0;
    const T *wave0 = w0 >= 0 ? a.waves + (long long)w0 * a.wlen : NULL;
    /* one test per step for the drives past the first contact and for the monitors, which a plain
     * run of one contact has none of */
    const int more_drive = !BARE && ((sep && C > 1) || (a.mode & DRIVE_MAT) || a.n_pulses > 0);
    const int monitors = !BARE && (mx_on || act_on || (!TH && a.ap.on) || (FULL && (a.ras.on || a.rec.on)));

    for (long long st = 0; st < n_steps; st++) {
        const long long k = k0 + st;
        if (!frozen) {
            T e[NPL], intra[NPL];
#pragma unroll
            for (int i = 0; i < NPL; i++) e[i] = intra[i] = (T)0;
            if (w0 >= 0) {
                T co = ampv * (COUNT_FAST || k < a.wlen ? __ldg(wave0 + k) : series_at(wave0, a.wlen, k));
#pragma unroll
                for (int i = 0; i < NPL; i++) e[i] = co * ph0[i];
            }
            if (more_drive) other_drives(a, b, lane, k, ampv, sep, jc, e, intra);
            /* the common widths with their taps known at compile time: a run-time tap count costs
             * every slot all AXM_MAX_TAPS predicated loads and FMAs */
            if (COUNT_FAST || taps == 3) stencil_add<3>(e, row, jc, c.wvm);
            else if (taps == 5) stencil_add<5>(e, row, jc, c.wvm);
            else stencil_add<0>(e, row, jc, c.wvm, taps);
#pragma unroll
            for (int i = 0; i < NPL; i++)
                smf_node_step<T, AXM_SMF_DIVLOOP32, !BARE>(c, m[i], h[i], p[i], s[i], v[i], e[i], intra[i], fk);
            fix_nonfinite(c, v);
            __syncwarp();
            if (hfast) {
                halo_store(row, hown, hmir, v);
            } else {
#pragma unroll
                for (int i = 0; i < NPL; i++)
                    if (i * 32 + lane < W) halo_put(row, i * 32 + lane, W, hw, v[i]);
            }
            __syncwarp();
        }

        if (!monitors) continue;
        /* monitors see the state at time (k+1) dt */
        if (mx_on) {
#pragma unroll
            for (int i = 0; i < NPL; i++)
                if (mxn[i]) {
                    mx[4] = nanmax(mx[4], v[i]);
                    if (!TH) {
                        mx[0] = nanmax(mx[0], m[i]); mx[1] = nanmax(mx[1], h[i]);
                        mx[2] = nanmax(mx[2], p[i]); mx[3] = nanmax(mx[3], s[i]);
                    }
                }
        }
        int stop = 0;
        if (act_on) {
            if (lane < a.act.n) act_step(act, a.act, row, k);
            if (!active && __popc(__ballot_sync(FULL_MASK, act.seen)) >= a.act.at_least) active = 1;
            if (active && (TH || (a.act.mark && a.stop_when_decided))) stop = 1;
        }
        if (!TH && !BARE && a.ap.on && lane < a.ap.n) ap_step(ap, a.ap, row, k, dt_d);
        if (FULL && a.ras.on) {
#pragma unroll
            for (int q = 0; q < NPL; q++) {
                if (r_node[q] < 0) continue;
                double vv = (double)row[r_node[q]];
                if (cross(vv, a.ras.thr, k >= a.ras.k_first, r_below[q])) {
                    unsigned long long at = atomicAdd(a.ras.count, 1ull);
                    if ((long long)at < a.ras.cap) {
                        a.ras.sp_fiber[at] = b;
                        a.ras.sp_node[at] = r_node[q];
                        a.ras.sp_t[at] = cross_time(k, dt_d, a.ras.thr, r_prev[q], vv);
                    }
                }
                r_prev[q] = vv;
            }
        }
        if (FULL && a.rec.on && ((k + 1) % a.rec.every) == 0) {
            long long f = a.rec.init + (k + 1) / a.rec.every - a.rec.k0_div - 1;
#pragma unroll
            for (int i = 0; i < NPL; i++) {
                if (rec_col[i] < 0) continue;
                for (int q = 0; q < a.rec.ns; q++)
                    a.rec.frames[((f * B + b) * a.rec.ns + q) * a.rec.nn + rec_col[i]] =
                        pick(a.rec.st[q], m[i], h[i], p[i], s[i], v[i]);
            }
        }
        if (stop) {
            if (!FULL) break;
            frozen = 1; /* the Recorder and Raster keep observing the frozen state */
        }
    }

    /* warp-wide maxima (NaN sticks) */
    if (mx_on) {
#pragma unroll
        for (int q = 0; q < 5; q++)
            for (int o = 16; o > 0; o >>= 1) mx[q] = nanmax(mx[q], __shfl_xor_sync(FULL_MASK, mx[q], o));
    }
    if constexpr (TH) {
        int bad = 0;
#pragma unroll
        for (int i = 0; i < NPL; i++) /* as the CPU search (diverged.h) */
            if (i * 32 + lane < W && (axm_state_out(v[i], 1) || axm_state_out(m[i], 0) || axm_state_out(h[i], 0) ||
                                      axm_state_out(p[i], 0) || axm_state_out(s[i], 0)))
                bad = 1;
        bad = __any_sync(FULL_MASK, bad);
        if (lane == 0) th_update(a.th, b, active, bad, (double)mx[4]);
    } else {
        /* plain run: store the state and the monitors' persistent state */
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            int j = i * 32 + lane;
            if (j < W) state_store(a.state, b, W, j, m[i], h[i], p[i], s[i], v[i]);
        }
        if (act_on) act_store(act, a.act, b, lane, active, a.decided);
        if (!BARE && a.ap.on && lane < a.ap.n) ap_store(ap, a.ap, b, lane);
        if (FULL && a.ras.on) {
#pragma unroll
            for (int q = 0; q < NPL; q++)
                if (r_node[q] >= 0) a.ras.below[(long long)b * a.ras.n + q * 32 + lane] = r_below[q];
        }
        if (mx_on && lane == 0) {
#pragma unroll
            for (int q = 0; q < 5; q++) a.rec.mx[b * 5 + q] = nanmax(a.rec.mx[b * 5 + q], mx[q]);
        }
    }
}

} // namespace axmcu

#endif
