/* stat.h -- a counter with one writer, read by other threads while it
 * changes: a worker's thread counts its own connections and hook calls,
 * the controller reads them for the metrics.
 *
 * One writer needs no read-modify-write: the writer loads its own last
 * value and stores the sum, both relaxed, which compiles to a plain add
 * on the machines we build for; no lock, no bus-locked instruction, and
 * no cache line shared with another writer. A reader sees some value the
 * counter had (never a torn one), not a snapshot of several counters
 * taken at one instant. */
#ifndef RICOCHET_STAT_H
#define RICOCHET_STAT_H

#include <stdint.h>

#if defined(__STDC_NO_ATOMICS__)
/* No C11 atomics (old MSVC): an aligned 64-bit load or store is whole on
 * the 64-bit targets such a compiler builds for. */
typedef volatile uint64_t stat_counter;
static inline void stat_add(stat_counter *s, uint64_t n) { *s += n; }
static inline uint64_t stat_get(const stat_counter *s) { return *s; }
#else
#include <stdatomic.h>
typedef _Atomic uint64_t stat_counter;

/* Only the counter's one writer calls stat_add. n may be a
 * negative delta cast to uint64_t (a gauge going down): it wraps back. */
static inline void stat_add(stat_counter *s, uint64_t n)
{
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    atomic_store_explicit(s, v + n, memory_order_relaxed);
}

/* Any thread. */
static inline uint64_t stat_get(const stat_counter *s)
{
    return atomic_load_explicit((stat_counter *)s, memory_order_relaxed);
}
#endif

#endif
