/* bench.c -- ricochet-bench, the load generator of the benchmark (Linux):
 * set-up and the run's event loop, which drives each mode.
 *
 * One thread, one epoll set (the connections are bench_conn.c's). The
 * server under test is pinned to one core and this program to the other.
 * What is sent and checked is bench_pattern.c's; the options are
 * bench_opt.c's, the output bench_report.c's.
 *
 * Every run is bounded by a global deadline (--timeout); whatever is not
 * finished by then counts as an error. The program only talks to
 * 127.0.0.0/8 or ::1. It prints one RESULT line on stdout and exits 0, or
 * 1 if any error was counted, or 2 for bad usage. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bench_conn.h"
#include "bench_opt.h"
#include "bench_pattern.h"
#include "bench_report.h"
#include "bench_sys.h"

#define MAX_EVENTS 512

static struct bench_opt opt;
static struct bench_pattern pattern;
static struct bench_load load;
static struct bench_conn *slots;
static long slot_count;
static int sigfd = -1;
static int releasing;           /* idle: the hold is over */

static struct bench_conn sentinel_signal;
static struct bench_conn sentinel_stdin;

/* Each connection holds one descriptor; raise the soft limit to what is
 * needed (up to the hard limit) instead of asking the user to. */
static void raise_nofile(long need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        bench_sys_fatal("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY
                    || rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            bench_sys_fatal("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need)
        bench_sys_fatal("need %ld descriptors but the hard limit is %llu",
                        need, (unsigned long long)rl.rlim_max);
}

static void setup_signals(void)
{
    sigset_t set;
    struct epoll_event ev;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0)
        bench_sys_fatal("signalfd: %s", strerror(errno));
    ev.events = EPOLLIN;
    ev.data.ptr = &sentinel_signal;
    if (epoll_ctl(load.epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
        bench_sys_fatal("epoll_ctl(signalfd): %s", strerror(errno));
}

static int read_signal(void)
{
    struct signalfd_siginfo si;

    if (read(sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return 0;
    return (int)si.ssi_signo;
}

/* The idle hold is over: half-close every connection; each then ends
 * when the server's EOF arrives. */
static void release_all(void)
{
    long i;

    releasing = 1;
    for (i = 0; i < slot_count; i++) {
        struct bench_conn *c = &slots[i];

        if (c->fd < 0)
            continue;
        c->finishing = 1;
        if (bench_conn_send(&load, c) == 0)
            bench_conn_set_interest(&load, c);
    }
}

/* Watch stdin for EOF during the idle hold. A regular file or /dev/null
 * cannot be polled; for those the hold ends at once, as it would on a
 * pipe that is already closed. */
static void watch_stdin(void)
{
    struct epoll_event ev;

    ev.events = EPOLLIN;
    ev.data.ptr = &sentinel_stdin;
    if (epoll_ctl(load.epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
        release_all();
}

/* Pingpong's measured window is over: every connection finishes its
 * current message (not counted), half-closes and reads to EOF. */
static void stop_pingpong(void)
{
    long i;

    load.stopping = 1;
    for (i = 0; i < slot_count; i++) {
        struct bench_conn *c = &slots[i];

        if (c->fd < 0 || c->finishing)
            continue;
        if (c->rx == c->tx) {
            c->finishing = 1;
            if (bench_conn_send(&load, c) == 0)
                bench_conn_set_interest(&load, c);
        }
        /* otherwise bench_conn.c sets finishing when the echo is in */
    }
}

static void fail_unfinished(const char *why)
{
    long i;

    for (i = 0; i < slot_count; i++)
        if (slots[i].fd >= 0)
            bench_conn_error(&load, &slots[i], "%s", why);
}

int main(int argc, char **argv)
{
    struct epoll_event events[MAX_EVENTS];
    uint64_t t_begin, t_end, deadline, hold_end = 0;
    long target, i;
    int pingpong_running = 0, ready_printed = 0, signo = 0;

    bench_opt_parse(&opt, argc, argv);
    load.opt = &opt;
    bench_opt_server_addr(&opt, &load.server_addr, &load.server_addr_len);
    bench_pattern_make(&pattern, opt.expect);
    load.pattern = &pattern;
    load.recv_buf = malloc(RECV_BUF_LEN);
    if (load.recv_buf == NULL)
        bench_sys_fatal("out of memory");
    if (opt.mode == MODE_LIFECYCLE)
        slot_count = opt.total < opt.inflight ? opt.total : opt.inflight;
    else
        slot_count = opt.conns;
    raise_nofile(slot_count + 32);
    slots = calloc((size_t)slot_count, sizeof *slots);
    if (slots == NULL)
        bench_sys_fatal("out of memory");
    for (i = 0; i < slot_count; i++)
        slots[i].fd = -1;
    load.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (load.epfd < 0)
        bench_sys_fatal("epoll_create1: %s", strerror(errno));
    setup_signals();

    target = opt.mode == MODE_LIFECYCLE ? opt.total : opt.conns;
    t_begin = bench_sys_now_ns();
    deadline = t_begin + (uint64_t)(opt.timeout * 1e9);
    load.stop_ns = UINT64_MAX;

    /* Pingpong and bulk open everything at once; lifecycle and idle keep
     * --inflight connections in set-up, from the loop. */
    if (opt.mode == MODE_PINGPONG || opt.mode == MODE_BULK)
        for (i = 0; i < slot_count; i++)
            bench_conn_start(&load, &slots[i]);

    while (load.finished < target) {
        uint64_t now = bench_sys_now_ns();
        uint64_t wake = deadline;
        long timeout_ms, finished_before;
        int n, k;

        if (now >= deadline) {
            fail_unfinished("global deadline (--timeout) reached");
            break;
        }
        /* a signal ends the idle hold; anywhere else it aborts the run */
        if (signo != 0 && !(opt.mode == MODE_IDLE && ready_printed)) {
            fail_unfinished("interrupted by a signal");
            break;
        }

        if (opt.mode == MODE_PINGPONG && !pingpong_running) {
            long connecting = 0;

            for (i = 0; i < slot_count; i++)
                connecting += slots[i].fd >= 0 && slots[i].connecting;
            if (connecting == 0) {
                /* all connected: the measured window starts now */
                pingpong_running = 1;
                t_begin = bench_sys_now_ns();
                load.stop_ns = t_begin + (uint64_t)(opt.secs * 1e9);
                for (i = 0; i < slot_count; i++) {
                    struct bench_conn *c = &slots[i];

                    if (c->fd < 0)
                        continue;
                    c->tx_limit = (uint64_t)opt.size;
                    c->t_start_ns = t_begin;
                    if (bench_conn_send(&load, c) == 0)
                        bench_conn_set_interest(&load, c);
                }
            }
        }
        if (opt.mode == MODE_PINGPONG && pingpong_running && !load.stopping) {
            if (now >= load.stop_ns)
                stop_pingpong();
            else if (load.stop_ns < wake)
                wake = load.stop_ns;
        }

        finished_before = load.finished;
        if (opt.mode == MODE_LIFECYCLE) {
            /* a slot freed by a finished connection takes the next one */
            for (i = 0; i < slot_count && load.started < target; i++)
                if (slots[i].fd < 0)
                    bench_conn_start(&load, &slots[i]);
        }
        if (opt.mode == MODE_IDLE) {
            /* slots are opened in order, --inflight of them in set-up */
            while (load.started < target
                   && load.started - load.established - load.setup_failed
                      < opt.inflight)
                bench_conn_start(&load, &slots[load.started]);
            if (!ready_printed && load.started == target
                && load.established + load.setup_failed == target) {
                ready_printed = 1;
                bench_report_ready(&load);
                if (opt.hold > 0)
                    hold_end = now + (uint64_t)(opt.hold * 1e9);
                if (opt.hold_stdin)
                    watch_stdin();
            }
            if (ready_printed && !releasing) {
                if (signo != 0 || (hold_end != 0 && now >= hold_end))
                    release_all();
                else if (hold_end != 0 && hold_end < wake)
                    wake = hold_end;
            }
        }

        if (load.finished != finished_before)
            wake = now;         /* openings failed at once: refill now */
        timeout_ms = (long)((wake - now + 999999) / 1000000);
        if (timeout_ms > 1000)
            timeout_ms = 1000;  /* re-check the clock at least each second */
        n = epoll_wait(load.epfd, events, MAX_EVENTS, (int)timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            bench_sys_fatal("epoll_wait: %s", strerror(errno));
        }
        for (k = 0; k < n; k++) {
            struct bench_conn *c = events[k].data.ptr;

            if (c == &sentinel_signal) {
                int s = read_signal();

                if (s != 0)
                    signo = s;
                continue;
            }
            if (c == &sentinel_stdin) {
                char scratch[256];
                ssize_t r = read(STDIN_FILENO, scratch, sizeof scratch);

                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                    epoll_ctl(load.epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
                    if (!releasing)
                        release_all();
                }
                continue;
            }
            if (c->fd < 0)
                continue;       /* ended earlier in this batch */
            bench_conn_event(&load, c, events[k].events);
        }
    }
    t_end = bench_sys_now_ns();

    bench_report_result(&load, t_begin, t_end);
    return load.errors > 0 ? 1 : 0;
}
