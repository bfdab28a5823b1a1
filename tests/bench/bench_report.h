/* bench_report.h -- what ricochet-bench prints on stdout: the READY line
 * of the idle mode and the one RESULT line of every run, which run.sh
 * parses (one key=value per figure). */
#ifndef RICOCHET_BENCH_REPORT_H
#define RICOCHET_BENCH_REPORT_H

#include <stdint.h>

#include "bench_conn.h"

/* "READY mode=idle ..." once every idle connection is set up (or failed),
 * flushed at once: run.sh waits for it before measuring the server. */
void bench_report_ready(const struct bench_load *l);
/* The RESULT line of the run that started at t_begin (for pingpong, the
 * start of the measured window) and ended at t_end, both of
 * bench_sys_now_ns(); flushed. */
void bench_report_result(const struct bench_load *l, uint64_t t_begin,
                         uint64_t t_end);

#endif
