/* loop.h -- the event loop: one poller backend plus a timer queue.
 *
 * An I/O watcher and a timer are embedded in their owner. Callbacks run
 * from loop_run_once; each iteration starts with the before-sleep hook,
 * before the wait (the place to reap closed connections and to batch
 * writes, as Redis does), and ends with it again, after the timers, so a
 * flag the hook sets is seen by the caller before the next wait. Free an
 * owner there, never inside an I/O callback: the events of the current
 * batch may still point at its watcher. Callbacks return normally:
 * nothing unwinds through the loop (a Lua error stays in src/lua). */
#ifndef RICOCHET_LOOP_H
#define RICOCHET_LOOP_H

#include <stdint.h>

#include "net.h"
#include "poller.h"
#include "timerq.h"

typedef struct loop loop;
typedef struct loop_io loop_io;

/* events: POLLER_READ | POLLER_WRITE, limited to the watcher's interest
 * (on error or hang-up: all of it). */
typedef void (*loop_io_fn)(loop *l, loop_io *io, int events);

struct loop_io {
    poller_handle handle; /* first: the backend hands it back to us */
    loop_io_fn fn;
    void *data;
};

/* Returns NULL when the poller cannot be created. */
loop *loop_create(void);
/* The caller stops every watcher and timer first. */
void loop_free(loop *l);

/* Milliseconds on a monotonic clock, re-read by loop_run_once before the
 * wait, after it and before the timers run. */
uint64_t loop_now(const loop *l);
/* Re-read the clock (after a slow callback, for example). */
void loop_update_time(loop *l);
/* The deadline of the next timer due (loop_now's ms), or UINT64_MAX when
 * none is armed. An observer (--record) tells from it which timers had
 * not run yet when an event came. */
uint64_t loop_next_deadline(const loop *l);

/* Virtual time, for --simulate: from now on the clock reads start_ms and
 * moves only by loop_advance, which fires every timer due on the way, in
 * deadline order, each at its own deadline. */
void loop_use_virtual_clock(loop *l, uint64_t start_ms);
void loop_advance(loop *l, uint64_t to_ms);

void loop_io_init(loop_io *io, net_socket sock, loop_io_fn fn, void *data);
/* Set the interest of io: POLLER_READ | POLLER_WRITE, or 0 to stop. Does
 * nothing when the interest is unchanged. Returns 0 or a NET_ code. */
int loop_io_set(loop *l, loop_io *io, int events);

/* io's socket is about to be closed: stop watching it, as cheaply as the
 * backend allows. */
void loop_io_forget(loop *l, loop_io *io);

/* timer_init() the timer first. Start (or restart) it delay_ms from now.
 * Returns 0 or -1 (out of memory). */
int loop_timer_start(loop *l, timer *t, uint64_t delay_ms);
void loop_timer_stop(loop *l, timer *t);

typedef void (*loop_hook_fn)(loop *l, void *data);
void loop_set_before_sleep(loop *l, loop_hook_fn fn, void *data);

/* One iteration: run the before-sleep hook, wait for I/O (at most
 * max_wait_ms, -1: until the next timer or forever), run the I/O
 * callbacks, the due timers, then the hook again. Returns 0 or a NET_
 * code when the poller fails. */
int loop_run_once(loop *l, int max_wait_ms);

#endif
