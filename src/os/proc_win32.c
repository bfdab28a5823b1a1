/* process_win32.c -- process.h on Windows. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "process.h"

uint64_t process_id(void)
{
    return (uint64_t)GetCurrentProcessId();
}
