/* clock_posix.c -- clock.h on clock_gettime. */
#include "clock.h"

#include <time.h>

uint64_t clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void clock_wall(int64_t *secs, int *ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *secs = (int64_t)ts.tv_sec;
    *ms = (int)(ts.tv_nsec / 1000000);
}
