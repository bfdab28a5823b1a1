/* process_posix.c -- process.h on POSIX. */
#include "process.h"

#include <unistd.h>

uint64_t process_id(void)
{
    return (uint64_t)getpid();
}
