/* test_clock.c -- the monotonic clock never goes back and its two units
 * agree; the wall clock is past the project's birth and its ms in range. */
#include "cases.h"
#include "clock.h"
#include "test.h"

void test_clock_monotonic(void)
{
    uint64_t ms = clock_monotonic_ms(), us = clock_monotonic_us();
    for (int i = 0; i < 100000; i++) {
        uint64_t ms2 = clock_monotonic_ms(), us2 = clock_monotonic_us();
        ASSERT_UINT_OP(ms2, >=, ms);
        ASSERT_UINT_OP(us2, >=, us);
        ms = ms2;
        us = us2;
    }
#ifndef _WIN32
    /* POSIX reads one clock in two units: a ms reading taken between two
     * us readings lies between them. (Windows uses two clocks with their
     * own epochs for the two.) */
    uint64_t before = clock_monotonic_us();
    uint64_t mid = clock_monotonic_ms();
    uint64_t after = clock_monotonic_us();
    ASSERT_UINT_OP(mid, >=, before / 1000);
    ASSERT_UINT_OP(mid, <=, after / 1000);
#endif
}

void test_clock_wall(void)
{
    int64_t secs = 0;
    int ms = -1;
    clock_wall(&secs, &ms);
    ASSERT_GT(secs, 1577836800);   /* 2020-01-01 */
    ASSERT_LT(secs, 4102444800);   /* 2100-01-01 */
    ASSERT_GE(ms, 0);
    ASSERT_LE(ms, 999);
}
