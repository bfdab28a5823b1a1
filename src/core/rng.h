/* rng.h -- the process-wide pseudo-random source: xoshiro256** seeded
 * through splitmix64.
 *
 * One seed for the whole process, so `--seed N` makes every random
 * choice reproducible: the script's ricochet.random(), shaping jitter and
 * slice variation. Not for anything secret. Without rng_seed() the first
 * draw seeds it from the clock and the process id. The generator state is
 * per thread (see rng_fork). */
#ifndef RICOCHET_RNG_H
#define RICOCHET_RNG_H

#include <stdint.h>

/* Seed the generator: the same seed gives the same sequence. */
void rng_seed(uint64_t seed);
/* Seed from the clock and the process id (what happens on first use when
 * rng_seed was never called). */
void rng_seed_default(void);
/* Seed the calling thread's generator for stream (a worker's number),
 * from the process seed: the same seed and stream give the same
 * sequence, and different streams do not repeat each other. Call at the
 * start of each worker thread. */
void rng_fork(uint64_t stream);
/* The next 64 random bits (the calling thread's generator). */
uint64_t rng_next(void);
/* A double uniformly in [0, 1), with 53 random bits. */
double rng_uniform(void);

#endif
