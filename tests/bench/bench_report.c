/* bench_report.c -- the READY and RESULT lines. */
#include "bench_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

static double own_cpu_secs(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void bench_report_ready(const struct bench_load *l)
{
    printf("READY mode=idle conns=%ld established=%ld "
           "errors=%ld\n", l->opt->conns, l->established, l->errors);
    fflush(stdout);
}

void bench_report_result(const struct bench_load *l, uint64_t t_begin,
                         uint64_t t_end)
{
    const struct bench_opt *o = l->opt;

    printf("RESULT mode=%s expect=%s", bench_opt_mode_name(o->mode),
           o->expect == EXPECT_UPPER ? "upper" : "echo");
    switch (o->mode) {
    case MODE_PINGPONG: {
        /* the measured window, cut short by a deadline or a signal */
        uint64_t window_end = l->stop_ns < t_end ? l->stop_ns : t_end;
        double secs = l->stop_ns != UINT64_MAX
                    ? (double)(window_end - t_begin) / 1e9 : 0;

        printf(" conns=%ld size=%ld secs=%.2f msgs=%" PRIu64
               " msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f",
               o->conns, o->size, secs, l->messages,
               secs > 0 ? (double)l->messages / secs : 0,
               bench_hist_quantile_us(&l->latency, 0.50),
               bench_hist_quantile_us(&l->latency, 0.99));
        break;
    }
    case MODE_BULK: {
        double secs = (double)(t_end - t_begin) / 1e9;
        double total = (double)l->bytes_back;   /* all of it, unless errors */

        printf(" conns=%ld bytes=%" PRIu64 " secs=%.3f mb_per_s=%.1f",
               o->conns, o->bytes, secs,
               secs > 0 ? total / secs / 1e6 : 0);
        break;
    }
    case MODE_LIFECYCLE: {
        double secs = (double)(t_end - t_begin) / 1e9;
        uint64_t ok = l->latency.count;

        printf(" total=%ld inflight=%ld size=%ld secs=%.3f conns_ok=%" PRIu64
               " conns_per_s=%.0f p50_us=%.1f p99_us=%.1f",
               o->total, o->inflight, o->size, secs, ok,
               secs > 0 ? (double)ok / secs : 0,
               bench_hist_quantile_us(&l->latency, 0.50),
               bench_hist_quantile_us(&l->latency, 0.99));
        break;
    }
    case MODE_IDLE:
        printf(" conns=%ld size=%ld established=%ld secs=%.3f",
               o->conns, o->size, l->established,
               (double)(t_end - t_begin) / 1e9);
        break;
    }
    /* Our own CPU time tells whether the client, not the server, was the
     * bottleneck of the run. */
    printf(" client_cpu_s=%.3f errors=%ld\n", own_cpu_secs(), l->errors);
    fflush(stdout);
}
