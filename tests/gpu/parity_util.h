/* What the GPU parity tests share: a small reproducible generator (xorshift64), the check that
 * skips a test, saying why, where no CUDA device is usable, and the MRG model they compare.
 * Include after cmocka.h. */
#ifndef AXM_TEST_PARITY_UTIL_H
#define AXM_TEST_PARITY_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "axm_cuda.h"
#include "model.h"

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

/* The MRG model, with passive end nodes or not. */
static inline axm_model *mrg_model(int passive_end)
{
    axm_err err;
    axm_err_clear(&err);
    axm_model *m = axm_model_create("mrg", &err);
    assert_non_null(m);
    m->passive_end_nodes = passive_end;
    return m;
}

#endif
