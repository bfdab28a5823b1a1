/* bench_sys.h -- what every part of ricochet-bench uses: the monotonic
 * clock in nanoseconds, and the exit for bad usage or a failed set-up. */
#ifndef RICOCHET_BENCH_SYS_H
#define RICOCHET_BENCH_SYS_H

#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_sys_now_ns(void);
/* Print "ricochet-bench: " and the message on stderr and exit 2: bad usage
 * or a set-up that failed, never an error of the server under test. */
void bench_sys_fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

#endif
