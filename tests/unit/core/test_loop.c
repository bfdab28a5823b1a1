/* test_loop.c -- the event loop over a wake-up pair: timers, I/O, the
 * before-sleep hook, and watchers stopped by other watchers. Only net.h is
 * used, so these run wherever the loop does. */

#include "cases.h"
#include "clock.h"
#include "loop.h"
#include "test.h"

/* Runs the loop until *flag is set, failing after max_iterations. */
static void run_until(loop *l, const int *flag, int max_wait_ms,
                      int max_iterations)
{
    for (int i = 0; i < max_iterations && !*flag; i++)
        ASSERT_EQ(loop_run_once(l, max_wait_ms), 0);
    ASSERT(*flag);
}

static void make_pair(net_socket *r, net_socket *w)
{
    int err = net_wakeup_pair(r, w);
    if (err < 0)
        TEST_FAIL("net_wakeup_pair: %s", err_strerror(err));
}

static void send_byte(net_socket s)
{
    ASSERT_EQ(net_send(s, "x", 1), 1);
}

static int count_fired;

static void count_timer(timer *t)
{
    (void)t;
    count_fired++;
}

void test_loop_timers(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    timer soon, later;
    timer_init(&soon, count_timer, NULL);
    timer_init(&later, count_timer, NULL);

    count_fired = 0;
    ASSERT_EQ(loop_timer_start(l, &soon, 0), 0);
    ASSERT_EQ(loop_run_once(l, -1), 0);
    ASSERT_EQ(count_fired, 1);
    ASSERT(!timer_active(&soon));

    /* The loop sleeps until the timer is due, then fires it. */
    uint64_t start = loop_now(l);
    ASSERT_EQ(loop_timer_start(l, &later, 30), 0);
    ASSERT_EQ(loop_timer_start(l, &soon, 10000), 0);
    count_fired = 0;
    while (count_fired == 0)
        ASSERT_EQ(loop_run_once(l, -1), 0);
    ASSERT_EQ(count_fired, 1);
    ASSERT(!timer_active(&later));
    ASSERT_GE(loop_now(l) - start, 30);
    ASSERT_LT(loop_now(l) - start, 5000);

    loop_timer_stop(l, &soon);
    loop_timer_stop(l, &soon);
    ASSERT(!timer_active(&soon));
    loop_free(l);
}

static loop *no_spin_loop;

static void restart_now(timer *t)
{
    count_fired++;
    ASSERT_EQ(loop_timer_start(no_spin_loop, t, 0), 0);
}

/* A timer restarting itself with no delay fires once per iteration: the
 * loop goes on to wait for I/O in between. */
void test_loop_timer_no_spin(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    no_spin_loop = l;
    timer t;
    timer_init(&t, restart_now, NULL);
    count_fired = 0;
    ASSERT_EQ(loop_timer_start(l, &t, 0), 0);
    for (int i = 1; i <= 5; i++) {
        ASSERT_EQ(loop_run_once(l, -1), 0);
        ASSERT_EQ(count_fired, i);
    }
    loop_timer_stop(l, &t);
    loop_free(l);
}

void test_loop_max_wait(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    timer t;
    timer_init(&t, count_timer, NULL);
    count_fired = 0;
    ASSERT_EQ(loop_timer_start(l, &t, 60000), 0);
    uint64_t start = loop_now(l);
    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(loop_run_once(l, 20), 0);
    ASSERT_EQ(count_fired, 0);
    ASSERT_LT(loop_now(l) - start, 5000);
    loop_timer_stop(l, &t);
    loop_free(l);
}

/* A watcher that drains its socket and notes what it was told. */
typedef struct watched {
    net_socket r, w;
    loop_io io;
    int calls;
    int last_events;
    int *sequence;     /* optional: appends 'i' to a shared log */
    size_t *sequence_len;
    loop_io *stop_also; /* optional: another watcher to stop */
} watched;

static void on_io(loop *l, loop_io *io, int events)
{
    watched *w = io->data;
    char bytes[64];
    w->calls++;
    w->last_events = events;
    if (w->sequence != NULL) {
        ASSERT_LT(*w->sequence_len, 64);
        w->sequence[(*w->sequence_len)++] = 'i';
    }
    if (events & POLLER_READ)
        while (net_recv(io->handle.sock, bytes, sizeof bytes) > 0)
            ;
    if (w->stop_also != NULL)
        ASSERT_EQ(loop_io_set(l, w->stop_also, 0), 0);
}

static void watched_open(watched *w)
{
    memset(w, 0, sizeof *w);
    make_pair(&w->r, &w->w);
    loop_io_init(&w->io, w->r, on_io, w);
}

static void watched_close(loop *l, watched *w)
{
    ASSERT_EQ(loop_io_set(l, &w->io, 0), 0);
    ASSERT_EQ(net_close(w->r), 0);
    ASSERT_EQ(net_close(w->w), 0);
}

void test_loop_io_wakeup(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    watched a;
    watched_open(&a);
    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0);
    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0); /* unchanged: no-op */

    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(a.calls, 0);

    send_byte(a.w);
    run_until(l, &a.calls, 5000, 10);
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(a.last_events, POLLER_READ);

    /* Drained: nothing more to report. */
    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(a.calls, 1);

    /* Stopped: data arrives but nobody is told. */
    ASSERT_EQ(loop_io_set(l, &a.io, 0), 0);
    send_byte(a.w);
    ASSERT_EQ(loop_run_once(l, 20), 0);
    ASSERT_EQ(a.calls, 1);

    /* Watched again: the pending byte is reported at once. */
    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0);
    ASSERT_EQ(loop_run_once(l, 5000), 0);
    ASSERT_EQ(a.calls, 2);
    watched_close(l, &a);
    loop_free(l);
}

/* Events outside the watcher's interest are never delivered. */
void test_loop_io_interest(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    watched a;
    watched_open(&a);
    loop_io_init(&a.io, a.w, on_io, &a); /* the writer: writable, silent */

    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ | POLLER_WRITE), 0);
    run_until(l, &a.calls, 5000, 10);
    ASSERT_EQ(a.last_events, POLLER_WRITE);

    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0);
    a.calls = 0;
    ASSERT_EQ(loop_run_once(l, 20), 0);
    ASSERT_EQ(a.calls, 0);
    watched_close(l, &a);
    loop_free(l);
}

static void hook_note(loop *l, void *data)
{
    watched *w = data;
    (void)l;
    ASSERT_LT(*w->sequence_len, 64);
    w->sequence[(*w->sequence_len)++] = 'h';
}

/* The hook runs first in an iteration, before the wait and the callbacks,
 * and again last, so the caller sees what it decided. */
void test_loop_hook_first(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    watched a;
    int sequence[64];
    size_t len = 0;
    watched_open(&a);
    a.sequence = sequence;
    a.sequence_len = &len;
    loop_set_before_sleep(l, hook_note, &a);
    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0);
    send_byte(a.w);
    run_until(l, &a.calls, 5000, 10);
    ASSERT_GE(len, 3);
    ASSERT_EQ(sequence[len - 3], 'h');
    ASSERT_EQ(sequence[len - 2], 'i');
    ASSERT_EQ(sequence[len - 1], 'h');

    /* An idle iteration: the hook before and after. */
    size_t before = len;
    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(len, before + 2);
    ASSERT_EQ(sequence[len - 1], 'h');
    loop_set_before_sleep(l, NULL, NULL);
    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(len, before + 2);
    watched_close(l, &a);
    loop_free(l);
}

/* Two watchers ready in the same batch; whichever runs first stops the
 * other, which then must not be called. */
void test_loop_io_stop_other(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    watched a, b;
    watched_open(&a);
    watched_open(&b);
    a.stop_also = &b.io;
    b.stop_also = &a.io;
    ASSERT_EQ(loop_io_set(l, &a.io, POLLER_READ), 0);
    ASSERT_EQ(loop_io_set(l, &b.io, POLLER_READ), 0);
    send_byte(a.w);
    send_byte(b.w);
    int total = 0;
    for (int i = 0; i < 10 && total == 0; i++) {
        ASSERT_EQ(loop_run_once(l, 5000), 0);
        total = a.calls + b.calls;
    }
    ASSERT_EQ(total, 1);
    watched *called = a.calls ? &a : &b, *stopped = a.calls ? &b : &a;
    ASSERT_EQ(called->io.handle.events, POLLER_READ);
    ASSERT_EQ(stopped->io.handle.events, 0);
    ASSERT_EQ(loop_run_once(l, 0), 0);
    ASSERT_EQ(a.calls + b.calls, 1);
    watched_close(l, &a);
    watched_close(l, &b);
    loop_free(l);
}

static void count_fire(timer *t)
{
    (*(int *)t->data)++;
}

/* The virtual clock advanced to the end of time: the due timers fire and
 * it returns (an empty queue's "never" is UINT64_MAX too, and used to
 * look due for ever). */
void test_loop_advance_to_the_end(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    loop_use_virtual_clock(l, 0);
    int fired = 0;
    timer t;
    timer_init(&t, count_fire, &fired);
    ASSERT_EQ(loop_timer_start(l, &t, 5), 0);
    loop_advance(l, UINT64_MAX);
    ASSERT_EQ(fired, 1);
    ASSERT_UEQ(loop_now(l), UINT64_MAX);
    loop_advance(l, UINT64_MAX); /* nothing left at all */
    ASSERT_EQ(fired, 1);
    loop_free(l);
}

/* A real-clock timer never fires early: the loop reads the clock in
 * whole ms, so without a margin a 1 ms timer fires at the next ms
 * boundary, often well under 1 ms after it was started. */
void test_loop_timer_never_early(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    for (int k = 0; k < 20; k++) {
        timer t;
        int fired = 0;
        timer_init(&t, count_timer, NULL);
        count_fired = 0;
        /* Start it late in a ms, and let that ms end before the loop
         * runs (as handling a batch of events may): the worst case. */
        uint64_t spins = 0;
        while (clock_monotonic_us() % 1000 < 800 && ++spins < 100000000)
            continue;
        loop_update_time(l);
        uint64_t t0 = clock_monotonic_us();
        ASSERT_EQ(loop_timer_start(l, &t, 1), 0);
        uint64_t ms = clock_monotonic_ms();
        while (clock_monotonic_ms() == ms && ++spins < 200000000)
            continue;
        for (int i = 0; i < 100 && count_fired == 0; i++)
            ASSERT_EQ(loop_run_once(l, 50), 0);
        fired = count_fired;
        ASSERT_EQ(fired, 1);
        ASSERT_GE(clock_monotonic_us() - t0, 1000);
    }
    loop_free(l);
}

/* The next deadline: none, the earliest of those armed, none again once
 * they ran; a real-clock timer's includes its 1 ms margin. */
void test_loop_next_deadline(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    loop_use_virtual_clock(l, 100);
    ASSERT_UEQ(loop_next_deadline(l), UINT64_MAX);
    int fired = 0;
    timer a, b;
    timer_init(&a, count_fire, &fired);
    timer_init(&b, count_fire, &fired);
    ASSERT_EQ(loop_timer_start(l, &a, 30), 0);
    ASSERT_EQ(loop_timer_start(l, &b, 7), 0);
    ASSERT_UEQ(loop_next_deadline(l), 107);
    loop_advance(l, 107);
    ASSERT_UEQ(loop_next_deadline(l), 130);
    loop_advance(l, 130);
    ASSERT_EQ(fired, 2);
    ASSERT_UEQ(loop_next_deadline(l), UINT64_MAX);
    loop_free(l);

    l = loop_create();
    ASSERT(l != NULL);
    ASSERT_EQ(loop_timer_start(l, &a, 30), 0);
    ASSERT_UEQ(loop_next_deadline(l), loop_now(l) + 31);
    loop_timer_stop(l, &a);
    loop_free(l);
}
