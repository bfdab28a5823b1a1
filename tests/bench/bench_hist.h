/* bench_hist.h -- the latency histogram: log-linear buckets of
 * nanoseconds, fixed size, so recording a value never allocates. */
#ifndef RICOCHET_BENCH_HIST_H
#define RICOCHET_BENCH_HIST_H

#include <stdint.h>

/* Exact below 256, then 128 buckets per power of two (under 1% error),
 * 64-bit range. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (2 * HIST_SUB + 56 * HIST_SUB)

struct bench_hist {
    uint64_t count;
    uint64_t bucket[HIST_BUCKETS];
};

/* Record v (nanoseconds) in h; h starts zeroed. */
void bench_hist_add(struct bench_hist *h, uint64_t v);
/* The value at quantile q (0..1) in microseconds, or 0 when empty. */
double bench_hist_quantile_us(const struct bench_hist *h, double q);

#endif
