/* Vectorizable exp for the model kernels (internal to core/).
 *
 * libm's exp is a call GCC cannot vectorize, and the S-MF step spends most of its time in twelve
 * exponentials per node. These inline versions use only +, *, compares and integer bit operations
 * so that loops calling them vectorize (on targets with FMA instructions); they are deterministic,
 * so every vector width gives bit-identical results.
 *
 * Accuracy: within 2 ulp of libm over the whole range (tests/unit/test_smf.c), results below the
 * normal range are correctly scaled subnormals, overflow gives +inf, exp(-inf) = 0 and NaN
 * propagates (the S-MF's NaN handling depends on it).
 *
 * Method: x = n·ln2 + r with |r| <= ln2/2 (Cody-Waite, two-part ln2), a Taylor polynomial for
 * e^r in Horner form with fused multiply-adds (correctly rounded, so every implementation -
 * FMA instructions or libm's fma - gives the same bits), then 2^n applied as two factors 2^n1·2^n2 so that both stay normal numbers
 * when e^x itself is subnormal or near overflow. n and its halves are obtained with the
 * 1.5·2^p "shifter" trick instead of float->int conversions (undefined for NaN); a NaN input
 * runs through the integer steps as arbitrary bits (unsigned arithmetic, no UB) and is
 * returned as is at the end. */
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
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    float t = AXM_FMAF(xc, 0x1.715476p+0f, shifter);
    float n = t - shifter;
    float r = AXM_FMAF(-n, 0x1.62e4p-1f, xc);
    r = AXM_FMAF(-n, 0x1.7f7d1cp-20f, r);
    float p = 1.0f / 5040.0f;
    p = AXM_FMAF(p, r, 1.0f / 720.0f);
    p = AXM_FMAF(p, r, 1.0f / 120.0f);
    p = AXM_FMAF(p, r, 1.0f / 24.0f);
    p = AXM_FMAF(p, r, 1.0f / 6.0f);
    p = AXM_FMAF(p, r, 0.5f);
    p = AXM_FMAF(p, r, 1.0f);
    p = AXM_FMAF(p, r, 1.0f);
    /* n1 = round(n/2) in t1's low bits (n*0.5 is exact, so the fma is one rounding like
     * mul+add); n2 = n - n1 from the integer bits of t and t1, which hold shifter + n and
     * shifter + n1 */
    float t1 = AXM_FMAF(n, 0.5f, shifter);
    uint32_t b, b1, b2;
    memcpy(&b, &t, 4);
    memcpy(&b1, &t1, 4);
    b2 = ((b - b1) + 127u) << 23;
    b1 = (b1 + (127u - 0x4B400000u)) << 23;
    float s1, s2;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    float y = (p * s1) * s2;
    return (x == x) ? y : x;
}

AXM_ALWAYS_INLINE double axm_vexp(double x)
{
    const double shifter = 0x1.8p52;
    double xc = x < -746.0 ? -746.0 : x;
    xc = xc > 710.0 ? 710.0 : xc;
    double t = AXM_FMA(xc, 0x1.71547652b82fep+0, shifter);
    double n = t - shifter;
    double r = AXM_FMA(-n, 0x1.62e42feep-1, xc);
    r = AXM_FMA(-n, 0x1.a39ef35793c76p-33, r);
    double p = 1.0 / 6227020800.0;         /* 1/13! */
    p = AXM_FMA(p, r, 1.0 / 479001600.0);
    p = AXM_FMA(p, r, 1.0 / 39916800.0);
    p = AXM_FMA(p, r, 1.0 / 3628800.0);
    p = AXM_FMA(p, r, 1.0 / 362880.0);
    p = AXM_FMA(p, r, 1.0 / 40320.0);
    p = AXM_FMA(p, r, 1.0 / 5040.0);
    p = AXM_FMA(p, r, 1.0 / 720.0);
    p = AXM_FMA(p, r, 1.0 / 120.0);
    p = AXM_FMA(p, r, 1.0 / 24.0);
    p = AXM_FMA(p, r, 1.0 / 6.0);
    p = AXM_FMA(p, r, 0.5);
    p = AXM_FMA(p, r, 1.0);
    p = AXM_FMA(p, r, 1.0);
    double t1 = AXM_FMA(n, 0.5, shifter);
    uint64_t b, b1, b2;
    memcpy(&b, &t, 8);
    memcpy(&b1, &t1, 8);
    b2 = ((b - b1) + 1023u) << 52;
    b1 = (b1 + (1023u - 0x4338000000000000u)) << 52;
    double s1, s2;
    memcpy(&s1, &b1, 8);
    memcpy(&s2, &b2, 8);
    double y = (p * s1) * s2;
    return (x == x) ? y : x;
}

#endif
