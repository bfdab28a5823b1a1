/* loop.c -- the event loop: one poller backend plus a timer queue.
 *
 * An iteration is: before-sleep hook, wait, I/O callbacks, due timers,
 * before-sleep hook again. The hook runs first so that whatever was left
 * to do since the last one (reap closed connections, flush batched
 * writes), by callbacks or by the caller between iterations, is done
 * before we sleep, and so that memory is only ever freed there, never
 * while a batch of events still points at it. It runs again at the end so
 * that a caller looping on a flag the hook sets ("every connection is
 * gone: stop") sees it before the next wait, which might otherwise last
 * forever. The hook must therefore be cheap when there is nothing to do. */
#include "loop.h"

#include <limits.h>
#include <stdlib.h>

#include "clock.h"

/* Events handled per wait: enough to amortise the system call, few
 * enough that timers and the hook are not starved under load. */
#define LOOP_BATCH 256

struct loop {
    poller *poller;
    timerq timers;
    uint64_t now_ms;
    int virtual_clock;
    loop_hook_fn before_sleep;
    void *before_sleep_data;
    poller_event events[LOOP_BATCH];
};

loop *loop_create(void)
{
    loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->poller = poller_create();
    if (l->poller == NULL) {
        free(l);
        return NULL;
    }
    timerq_init(&l->timers);
    l->now_ms = clock_monotonic_ms();
    return l;
}

void loop_free(loop *l)
{
    if (l == NULL)
        return;
    poller_free(l->poller);
    timerq_free(&l->timers);
    free(l);
}

uint64_t loop_now(const loop *l) { return l->now_ms; }

uint64_t loop_next_deadline(const loop *l)
{
    return timerq_next(&l->timers);
}

void loop_update_time(loop *l)
{
    if (!l->virtual_clock)
        l->now_ms = clock_monotonic_ms();
}

void loop_use_virtual_clock(loop *l, uint64_t start_ms)
{
    l->virtual_clock = 1;
    l->now_ms = start_ms;
}

void loop_advance(loop *l, uint64_t to_ms)
{
    for (;;) {
        uint64_t next = timerq_next(&l->timers);
        if (next == UINT64_MAX || next > to_ms)
            break; /* no timer (UINT64_MAX), or none due by to_ms */
        if (next > l->now_ms)
            l->now_ms = next;
        timerq_run(&l->timers, l->now_ms);
        if (l->before_sleep != NULL)
            l->before_sleep(l, l->before_sleep_data);
    }
    if (to_ms > l->now_ms)
        l->now_ms = to_ms;
}

void loop_io_init(loop_io *io, net_socket sock, loop_io_fn fn, void *data)
{
    io->handle.sock = sock;
    io->handle.events = 0;
    io->handle.slot = -1;
    io->fn = fn;
    io->data = data;
}

int loop_io_set(loop *l, loop_io *io, int events)
{
    if (events == io->handle.events)
        return 0;
    return poller_set(l->poller, &io->handle, events);
}

void loop_io_forget(loop *l, loop_io *io)
{
    if (io->handle.events != 0)
        poller_forget(l->poller, &io->handle);
}

int loop_timer_start(loop *l, timer *t, uint64_t delay_ms)
{
    /* The real clock is read in whole ms, so now_ms is up to 1 ms behind
     * the true time: one ms more, and a timer never fires early (a 100 ms
     * delay is never 99.6). The virtual clock is exact. */
    uint64_t late = delay_ms > 0 && !l->virtual_clock;
    uint64_t deadline = l->now_ms + delay_ms + late;
    if (deadline < l->now_ms)
        deadline = UINT64_MAX; /* "never", in practice */
    return timerq_start(&l->timers, t, deadline);
}

void loop_timer_stop(loop *l, timer *t) { timerq_stop(&l->timers, t); }

void loop_set_before_sleep(loop *l, loop_hook_fn fn, void *data)
{
    l->before_sleep = fn;
    l->before_sleep_data = data;
}

/* Run the I/O callbacks of a batch of n events. */
static void dispatch(loop *l, int n)
{
    for (int i = 0; i < n; i++) {
        poller_event *ev = &l->events[i];
        /* An earlier callback of this batch may have stopped this watcher
         * or narrowed its interest; its owner's memory stays valid until
         * the next before-sleep hook, so the handle can still be read.
         * Only events the watcher still asks for are delivered. */
        loop_io *io = (loop_io *)ev->handle;
        int events = ev->events & io->handle.events;
        if (events != 0)
            io->fn(l, io, events);
    }
}

/* How long the poller may sleep: until the next timer, capped by
 * max_wait_ms (-1: no cap). */
static int wait_timeout(loop *l, int max_wait_ms)
{
    uint64_t next = timerq_next(&l->timers);
    if (next == UINT64_MAX)
        return max_wait_ms < 0 ? -1 : max_wait_ms;
    if (next <= l->now_ms)
        return 0;
    uint64_t until = next - l->now_ms;
    if (until > INT_MAX)
        until = INT_MAX;
    if (max_wait_ms >= 0 && (uint64_t)max_wait_ms < until)
        return max_wait_ms;
    return (int)until;
}

int loop_run_once(loop *l, int max_wait_ms)
{
    if (l->before_sleep != NULL)
        l->before_sleep(l, l->before_sleep_data);

    loop_update_time(l);
    int n = poller_wait(l->poller, l->events, LOOP_BATCH,
                        wait_timeout(l, max_wait_ms));
    if (n < 0)
        return n;

    /* Fresh after the sleep: callbacks compute deadlines from it. */
    loop_update_time(l);
    dispatch(l, n);

    loop_update_time(l);
    timerq_run(&l->timers, l->now_ms);

    if (l->before_sleep != NULL)
        l->before_sleep(l, l->before_sleep_data);
    return 0;
}
