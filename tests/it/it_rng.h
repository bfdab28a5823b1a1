/* it_rng.h -- the cases' own random numbers: seeded, so a failing case
 * sends the same bytes when it runs again. */
#ifndef RICOCHET_IT_RNG_H
#define RICOCHET_IT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct it_rng { uint64_t state; } it_rng;

/* Start r at seed; the same seed gives the same sequence. */
void it_rng_seed(it_rng *r, uint64_t seed);
/* The next 64 bits (splitmix64). */
uint64_t it_rng_next(it_rng *r);
/* A number in 0 .. n-1 (0 when n is 0). */
uint64_t it_rng_below(it_rng *r, uint64_t n);
/* Fill buf with len bytes of r's sequence. */
void it_rng_fill(it_rng *r, void *buf, size_t len);
/* malloc'ed len bytes from seed (the same seed, the same bytes); the
 * caller frees them. Fails the case when out of memory. */
unsigned char *it_rng_payload(uint64_t seed, size_t len);

#endif
