/* bench_pattern.h -- the bytes ricochet-bench sends and expects back.
 *
 * Every byte sent is taken from one pseudo-random pattern (all 256 byte
 * values) at an offset given by the connection's stream position, so the
 * byte expected back at any position is known without keeping what was
 * sent: the pattern itself for "echo", its ASCII upper-case for "upper". */
#ifndef RICOCHET_BENCH_PATTERN_H
#define RICOCHET_BENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "bench_opt.h"

/* Not a power of two, so that the pattern does not line up with the
 * server's buffer sizes; a window of up to PATTERN_LEN bytes at any
 * offset is contiguous because the buffers hold the pattern twice. */
#define PATTERN_LEN 262139u

struct bench_pattern {
    uint8_t *bytes;         /* 2 * PATTERN_LEN bytes to send */
    uint8_t *expected;      /* the same, transformed as --expect says */
};

/* Make the pattern and what comes back of it under expect. The buffers
 * live until the program exits. Exits 2 when out of memory. */
void bench_pattern_make(struct bench_pattern *p, enum bench_expect expect);
/* Compare the n received bytes at data with what is expected at stream
 * offset off of a connection whose byte 0 is pattern offset seed. 0 when
 * they match; -1 with the stream offset of the first wrong byte in
 * *bad_offset. */
int bench_pattern_verify(const struct bench_pattern *p, uint32_t seed,
                         uint64_t off, const uint8_t *data, size_t n,
                         uint64_t *bad_offset);

#endif
