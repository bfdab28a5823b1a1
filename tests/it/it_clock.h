/* it_clock.h -- the runner's monotonic clock and the deadlines built on it.
 *
 * Every wait of the harness is bounded by a deadline in milliseconds of
 * this clock; a deadline, not a sleep, is what ends a wait. */
#ifndef RICOCHET_IT_CLOCK_H
#define RICOCHET_IT_CLOCK_H

#include <stdint.h>

#include "test.h"

/* The bound of any single wait unless a case says otherwise. */
#define IT_WAIT_MS 10000

/* Microseconds of the monotonic clock. */
int64_t it_clock_now_us(void);
/* Milliseconds of the same clock: the unit deadlines are written in. */
int64_t it_clock_now_ms(void);
/* Milliseconds left until deadline_ms (an it_clock_now_ms() value plus a
 * bound): 0 once it has passed, at most INT32_MAX so it fits poll(). */
int it_clock_left_ms(int64_t deadline_ms);

/* Milliseconds since t0_us (an it_clock_now_us() value). */
static inline int64_t it_clock_ms_since(int64_t t0_us)
{
    return (it_clock_now_us() - t0_us) / 1000;
}

/* Fail unless ms lies within [lo, hi]. */
#define ASSERT_MS_WITHIN(ms, lo, hi)                                    \
    do {                                                                \
        int64_t ms_ = (ms);                                             \
        if (ms_ < (lo) || ms_ > (hi))                                   \
            TEST_FAIL("%s took %lld ms, expected %d to %d ms", #ms,     \
                      (long long)ms_, (int)(lo), (int)(hi));            \
    } while (0)

#endif
