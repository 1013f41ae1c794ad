/* Random numbers for the dataset generator's draws and the trainer's shuffles: splitmix64 and
 * xoshiro256** (Blackman & Vigna 2018). Streams are addressed by (seed, stream), so a run's draws
 * do not depend on the runs before it or on threads. */
#ifndef AXM_RNG_H
#define AXM_RNG_H

#include <stdint.h>

typedef struct axm_rng {
    uint64_t s[4];
} axm_rng;

uint64_t axm_splitmix64(uint64_t *state);
/* Stream `stream` of generator `seed`: s = 4 successive splitmix64 outputs from the state
 * seed ^ splitmix64(stream + 0x9E3779B97F4A7C15). */
void axm_rng_seed(axm_rng *r, uint64_t seed, uint64_t stream);
uint64_t axm_rng_next(axm_rng *r);          /* xoshiro256** */
double axm_rng_uniform(axm_rng *r);         /* [0, 1): the top 53 bits */
double axm_rng_range(axm_rng *r, double lo, double hi); /* lo + U*(hi - lo) */

#endif
