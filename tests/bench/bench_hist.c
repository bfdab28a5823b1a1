/* bench_hist.c -- recording latencies and reading quantiles back. */
#include "bench_hist.h"

#include <stddef.h>

static size_t hist_index(uint64_t v)
{
    int msb, shift;

    if (v < 2 * HIST_SUB)
        return (size_t)v;
    msb = 63 - __builtin_clzll(v);
    shift = msb - HIST_SUB_BITS;
    return 2 * HIST_SUB + (size_t)(shift - 1) * HIST_SUB
         + (size_t)((v >> shift) - HIST_SUB);
}

/* The middle of bucket i, in the unit that was recorded. */
static double hist_value(size_t i)
{
    size_t k;
    int shift;
    uint64_t sub;

    if (i < 2 * HIST_SUB)
        return (double)i;
    k = i - 2 * HIST_SUB;
    shift = (int)(k / HIST_SUB) + 1;
    sub = k % HIST_SUB + HIST_SUB;
    return (double)(sub << shift) + (double)(1ull << shift) / 2;
}

void bench_hist_add(struct bench_hist *h, uint64_t v)
{
    h->bucket[hist_index(v)]++;
    h->count++;
}

double bench_hist_quantile_us(const struct bench_hist *h, double q)
{
    uint64_t rank, seen = 0;
    size_t i;

    if (h->count == 0)
        return 0;
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;                 /* the ceiling: the rank-th smallest value */
    if (rank < 1)
        rank = 1;
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank)
            return hist_value(i) / 1000.0;
    }
    return hist_value(HIST_BUCKETS - 1) / 1000.0;
}
