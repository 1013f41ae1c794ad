/* Vectorizable exp for the model kernels (internal to core/).
 *
 * libm's exp is a call GCC cannot vectorize, and the S-MF step spends most of its time in twelve
 * exponentials per node. These inline versions use only +, *, compares and integer bit operations
 * so that loops calling them vectorize (on targets with FMA instructions); they are deterministic,
 * so every vector width gives bit-identical results.
 *
 * Accuracy: within 1 ulp of libm over the whole range (tests/unit/test_smf.c), subnormal results
 * and the edge of overflow included; exp(-inf) = 0, exp(inf) = inf, NaN propagates (the S-MF's NaN
 * handling depends on it, and the GPU kernels' exp behaves the same, which the CPU/GPU parity tests
 * rely on when a fiber blows up).
 *
 * Method: x = n·ln2 + r with |r| <= ln2/2 (Cody-Waite, two-part ln2); e^r = 1 + r + r²q(r) with
 * q a near-minimax polynomial (degree 4 in float, 9 in double: Chebyshev interpolation of
 * (e^r - 1 - r)/r², computed in 60-digit decimal arithmetic), in Horner form with fused
 * multiply-adds (correctly rounded, so every implementation - FMA instructions or libm's fma -
 * gives the same bits); then 2^n, built from the integer bits of the "shifter" sum that rounded
 * x/ln2 (no float->int conversion), as two factors 2^floor(n/2) · 2^ceil(n/2) that are both
 * normal numbers. The clamps ([-104, 89] in float, [-746, 710] in double) are integer minima of
 * the argument's bits (one instruction each; a float clamp that keeps NaN costs three) and keep n
 * where both factors are normal. A NaN is returned as is. (Signed shifts and unsigned-to-signed
 * conversions here are GCC's: arithmetic and modulo.) */
#ifndef AXM_SMF_EXP_H
#define AXM_SMF_EXP_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define AXM_ALWAYS_INLINE static inline __attribute__((always_inline))
#define AXM_FMAF(a, b, c) __builtin_fmaf(a, b, c)
#define AXM_FMA(a, b, c) __builtin_fma(a, b, c)
#else
#include <math.h>
#define AXM_ALWAYS_INLINE static inline
#define AXM_FMAF(a, b, c) fmaf(a, b, c)
#define AXM_FMA(a, b, c) fma(a, b, c)
#endif

AXM_ALWAYS_INLINE float axm_vexpf(float x)
{
    const float shifter = 0x1.8p23f;
    /* xc = x clamped to [-104, 89] by integer minima of its bits: unsigned, every negative above
     * 104 in magnitude (and a negative NaN) is above the bits of -104; signed, every positive above
     * 89 (and a positive NaN) is above those of 89. A NaN x is returned as x at the end. */
    uint32_t u;
    memcpy(&u, &x, 4);
    u = u > 0xC2D00000u ? 0xC2D00000u : u;
    int32_t si = (int32_t)u;
    si = si > 0x42B20000 ? 0x42B20000 : si;
    float xc;
    memcpy(&xc, &si, 4);
    float t = AXM_FMAF(xc, 0x1.715476p+0f, shifter);
    float n = t - shifter;
    float r = AXM_FMAF(-n, 0x1.62e4p-1f, xc);
    r = AXM_FMAF(-n, 0x1.7f7d1cp-20f, r);
    float p = 0x1.6d10fcp-10f;
    p = AXM_FMAF(p, r, 0x1.120b62p-7f);
    p = AXM_FMAF(p, r, 0x1.55551ap-5f);
    p = AXM_FMAF(p, r, 0x1.5554dep-3f);
    p = AXM_FMAF(p, r, 0.5f);
    p = AXM_FMAF(p, r, 1.0f);
    p = AXM_FMAF(p, r, 1.0f);
    /* t = shifter + n exactly, so its bits are those of the shifter plus n; 2^n is applied as
     * 2^n1 · 2^n2 (n1 = floor(n/2)), both normal, so that a subnormal or nearly overflowing
     * result is rounded once, as libm's */
    uint32_t b;
    memcpy(&b, &t, 4);
    int32_t n0 = (int32_t)(b - 0x4B400000u), n1 = n0 >> 1, n2 = n0 - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    float y = (p * s1) * s2;
    return x == x ? y : x;
}

AXM_ALWAYS_INLINE double axm_vexp(double x)
{
    const double shifter = 0x1.8p52;
    /* x clamped to [-746, 710] as in axm_vexpf */
    uint64_t u;
    memcpy(&u, &x, 8);
    u = u > 0xC087500000000000u ? 0xC087500000000000u : u;
    int64_t si = (int64_t)u;
    si = si > 0x4086300000000000 ? 0x4086300000000000 : si;
    double xc;
    memcpy(&xc, &si, 8);
    double t = AXM_FMA(xc, 0x1.71547652b82fep+0, shifter);
    double n = t - shifter;
    double r = AXM_FMA(-n, 0x1.62e42feep-1, xc);
    r = AXM_FMA(-n, 0x1.a39ef35793c76p-33, r);
    double p = 0x1.af389ecfc4b9cp-26;
    p = AXM_FMA(p, r, 0x1.28917c89a43a7p-22);
    p = AXM_FMA(p, r, 0x1.71de0db2f6b19p-19);
    p = AXM_FMA(p, r, 0x1.a019b9149a41cp-16);
    p = AXM_FMA(p, r, 0x1.a01a01a7c2efep-13);
    p = AXM_FMA(p, r, 0x1.6c16c17889ef1p-10);
    p = AXM_FMA(p, r, 0x1.11111111109b5p-7);
    p = AXM_FMA(p, r, 0x1.5555555553d68p-5);
    p = AXM_FMA(p, r, 0x1.5555555555556p-3);
    p = AXM_FMA(p, r, 0x1.0000000000001p-1);
    p = AXM_FMA(p, r, 1.0);
    p = AXM_FMA(p, r, 1.0);
    uint64_t b;
    memcpy(&b, &t, 8);
    int64_t n0 = (int64_t)(b - 0x4338000000000000u), n1 = n0 >> 1, n2 = n0 - n1;
    uint64_t b1 = (uint64_t)(n1 + 1023) << 52, b2 = (uint64_t)(n2 + 1023) << 52;
    double s1, s2;
    memcpy(&s1, &b1, 8);
    memcpy(&s2, &b2, 8);
    double y = (p * s1) * s2;
    return x == x ? y : x;
}

#endif
