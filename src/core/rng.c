/* rng.c -- xoshiro256** (Blackman and Vigna), seeded through splitmix64 so
 * any 64-bit seed, 0 included, gives a good state. */
#include "rng.h"

#include "clock.h"
#include "proc.h"

/* Each worker thread draws from its own generator (no locking on the hot
 * path); all of them derive from one process seed, so --seed still makes
 * the whole run reproducible. */
static _Thread_local uint64_t state[4];
static _Thread_local int seeded;
static uint64_t process_seed;
static int process_seeded;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_seed(uint64_t seed)
{
    process_seed = seed;
    process_seeded = 1;
    for (int i = 0; i < 4; i++)
        state[i] = splitmix64(&seed);
    seeded = 1;
}

void rng_fork(uint64_t stream)
{
    if (!process_seeded)
        rng_seed_default();
    uint64_t seed = process_seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        state[i] = splitmix64(&seed);
    seeded = 1;
}

void rng_seed_default(void)
{
    int64_t secs;
    int ms;
    clock_wall(&secs, &ms);
    uint64_t seed = (uint64_t)secs * 1000u + (uint64_t)ms;
    seed ^= clock_monotonic_us() << 20;
    seed ^= proc_id() << 40;
    rng_seed(seed);
}

uint64_t rng_next(void)
{
    if (!seeded)
        rng_seed_default();
    uint64_t result = rotl(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
}

double rng_uniform(void)
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}
