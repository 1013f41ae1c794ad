/* What the GPU parity tests share: a small reproducible generator (xorshift64) and the check
 * that skips a test, saying why, where no CUDA device is usable. */
#ifndef AXM_TEST_PARITY_UTIL_H
#define AXM_TEST_PARITY_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "axm_cuda.h"

typedef struct rng {
    uint64_t s;
} rng;

static inline double urand(rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (double)(r->s >> 11) * (1.0 / 9007199254740992.0);
}

static inline double uniform(rng *r, double a, double b) { return a + (b - a) * urand(r); }

static inline int gpu_ok(void)
{
    axm_err why;
    axm_err_clear(&why);
    if (axm_cuda_available(&why)) return 1;
    printf("skip: %s\n", why.msg);
    return 0;
}

#endif
