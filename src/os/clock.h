/* clock.h -- the clocks: monotonic for timers and measuring, wall for log
 * stamps. */
#ifndef RICOCHET_CLOCK_H
#define RICOCHET_CLOCK_H

#include <stdint.h>

/* Milliseconds and microseconds on a monotonic clock (arbitrary epoch). */
uint64_t clock_monotonic_ms(void);
uint64_t clock_monotonic_us(void);

/* Wall-clock time since 1970-01-01 UTC: whole seconds and milliseconds. */
void clock_wall(int64_t *secs, int *ms);

#endif
