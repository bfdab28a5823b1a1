/* it_clock.c -- the monotonic clock every deadline of the runner uses. */
#include "it_clock.h"

#include <time.h>

int64_t it_clock_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t it_clock_now_ms(void) { return it_clock_now_us() / 1000; }

int it_clock_left_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - it_clock_now_ms();
    if (left < 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}
