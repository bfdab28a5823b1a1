/* proc_win32.c -- proc.h on Windows. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "proc.h"

uint64_t proc_id(void)
{
    return (uint64_t)GetCurrentProcessId();
}
