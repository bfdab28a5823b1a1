/* clock_win32.c -- clock.h on GetTickCount64, the performance counter and
 * the system time. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "clock.h"

uint64_t clock_monotonic_ms(void)
{
    return (uint64_t)GetTickCount64();
}

uint64_t clock_monotonic_us(void)
{
    LARGE_INTEGER freq, count;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    uint64_t ticks = (uint64_t)count.QuadPart, hz = (uint64_t)freq.QuadPart;
    return ticks / hz * 1000000u + ticks % hz * 1000000u / hz;
}

void clock_wall(int64_t *secs, int *ms)
{
    FILETIME ft; /* 100 ns ticks since 1601-01-01 */
    GetSystemTimeAsFileTime(&ft);
    uint64_t ticks = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    ticks -= UINT64_C(116444736000000000);
    *secs = (int64_t)(ticks / 10000000u);
    *ms = (int)(ticks / 10000u % 1000u);
}
