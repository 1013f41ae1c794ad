/* Random numbers (rng.h): splitmix64 and xoshiro256** (Blackman & Vigna 2018). */
#include "rng.h"

uint64_t axm_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void axm_rng_seed(axm_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t t = stream + 0x9E3779B97F4A7C15ull;
    uint64_t st = seed ^ axm_splitmix64(&t);
    for (int i = 0; i < 4; i++) r->s[i] = axm_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t axm_rng_next(axm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double axm_rng_uniform(axm_rng *r) { return (double)(axm_rng_next(r) >> 11) * 0x1.0p-53; }

double axm_rng_range(axm_rng *r, double lo, double hi) { return lo + axm_rng_uniform(r) * (hi - lo); }
