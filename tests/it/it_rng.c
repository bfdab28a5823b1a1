/* it_rng.c -- splitmix64: tiny, seedable, and good enough for payloads. */
#include "it_rng.h"

#include <string.h>

#include "test.h"

void it_rng_seed(it_rng *r, uint64_t seed) { r->state = seed; }

uint64_t it_rng_next(it_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t it_rng_below(it_rng *r, uint64_t n)
{
    return n ? it_rng_next(r) % n : 0;
}

void it_rng_fill(it_rng *r, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len >= 8) {
        uint64_t v = it_rng_next(r);
        memcpy(p, &v, 8);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t v = it_rng_next(r);
        memcpy(p, &v, len);
    }
}

unsigned char *it_rng_payload(uint64_t seed, size_t len)
{
    it_rng r;
    unsigned char *p = malloc(len ? len : 1);
    ASSERT(p != NULL);
    it_rng_seed(&r, seed);
    it_rng_fill(&r, p, len);
    return p;
}
