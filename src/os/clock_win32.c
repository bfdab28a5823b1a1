/* clock_win32.c -- clock.h on the performance counter and the system
 * time. Not GetTickCount64 for the ms: it moves in 10-16 ms steps, and a
 * timer due "in 1 ms" could then fire up to a step early. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "clock.h"

uint64_t clock_monotonic_us(void)
{
    LARGE_INTEGER freq, count;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    uint64_t ticks = (uint64_t)count.QuadPart, hz = (uint64_t)freq.QuadPart;
    return ticks / hz * 1000000u + ticks % hz * 1000000u / hz;
}

uint64_t clock_monotonic_ms(void)
{
    return clock_monotonic_us() / 1000u;
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
