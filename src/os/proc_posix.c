/* proc_posix.c -- proc.h on POSIX. */
#include "proc.h"

#include <unistd.h>

uint64_t proc_id(void)
{
    return (uint64_t)getpid();
}
