/* test_poller.c -- the poller interface, compiled once per backend
 * (RICOCHET_TEST_POLLER names it) so every backend passes the same cases.
 * Sockets come from net_wakeup_pair, so this runs on every platform. */
#include "net.h"
#include "poller.h"
#include "test.h"
#include "unit_main.h"

#ifndef RICOCHET_TEST_POLLER
#error "build with RICOCHET_TEST_POLLER set to the backend's name"
#endif

#define MAX_PAIRS 64
#define WAIT_MS 5000

typedef struct pair {
    net_socket r, w;
    poller_handle hr, hw;
    int got_r, got_w; /* events gathered for each end */
} pair;

static pair pairs[MAX_PAIRS];
static int pair_count;

static void open_pairs(int n)
{
    ASSERT_LE(n, MAX_PAIRS);
    for (int i = 0; i < n; i++) {
        pair *p = &pairs[i];
        memset(p, 0, sizeof *p);
        int err = net_wakeup_pair(&p->r, &p->w);
        if (err < 0)
            TEST_FAIL("net_wakeup_pair: %s", err_strerror(err));
        p->hr.sock = p->r;
        p->hw.sock = p->w;
        p->hr.slot = p->hw.slot = -1;
    }
    pair_count = n;
}

static void close_pairs(poller *p)
{
    for (int i = 0; i < pair_count; i++) {
        ASSERT_EQ(poller_set(p, &pairs[i].hr, 0), 0);
        ASSERT_EQ(poller_set(p, &pairs[i].hw, 0), 0);
        if (pairs[i].r != NET_INVALID)
            ASSERT_EQ(net_close(pairs[i].r), 0);
        if (pairs[i].w != NET_INVALID)
            ASSERT_EQ(net_close(pairs[i].w), 0);
    }
    pair_count = 0;
}

static void clear_gathered(void)
{
    for (int i = 0; i < pair_count; i++)
        pairs[i].got_r = pairs[i].got_w = 0;
}

/* One wait; every event must name a registered handle of ours, once. */
static int gather(poller *p, int max, int timeout_ms)
{
    poller_event ev[2 * MAX_PAIRS];
    int n = poller_wait(p, ev, max, timeout_ms);
    if (n < 0)
        TEST_FAIL("poller_wait: %s", err_strerror(n));
    ASSERT_LE(n, max);
    for (int k = 0; k < n; k++) {
        poller_handle *h = ev[k].handle;
        int found = 0;
        ASSERT_NE(ev[k].events, 0);
        ASSERT_EQ(ev[k].events & ~(POLLER_READ | POLLER_WRITE), 0);
        ASSERT_NE(h->events, 0);
        for (int i = 0; i < pair_count && !found; i++) {
            int *got = h == &pairs[i].hr ? &pairs[i].got_r
                     : h == &pairs[i].hw ? &pairs[i].got_w : NULL;
            if (got != NULL) {
                *got |= ev[k].events;
                found = 1;
            }
        }
        ASSERT(found);
        for (int j = 0; j < k; j++)
            ASSERT(ev[j].handle != h);
    }
    return n;
}

/* Wait (bounded) until the reader ends in want have all been reported.
 * Loopback TCP pairs (Windows) deliver asynchronously, hence the loop. */
static void gather_readers(poller *p, const int *want, int timeout_ms)
{
    for (int round = 0; round < 50; round++) {
        int missing = 0;
        for (int i = 0; i < pair_count; i++)
            if (want[i] && !(pairs[i].got_r & POLLER_READ))
                missing++;
        if (missing == 0)
            return;
        gather(p, 2 * MAX_PAIRS, timeout_ms);
    }
    TEST_FAIL("readers never reported readable");
}

static void send_byte(net_socket s)
{
    ASSERT_EQ(net_send(s, "x", 1), 1);
}

static void drain(net_socket s)
{
    char bytes[4096];
    long n;
    while ((n = net_recv(s, bytes, sizeof bytes)) > 0)
        ;
    ASSERT_EQ(n, ERR_EAGAIN);
}

static void test_name(void)
{
    ASSERT_STR_EQ(poller_name(), RICOCHET_TEST_POLLER);
}

static void test_read_readiness(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(1);
    ASSERT_EQ(poller_set(p, &pairs[0].hr, POLLER_READ), 0);
    ASSERT_EQ(pairs[0].hr.events, POLLER_READ);
    ASSERT_EQ(gather(p, 8, 0), 0);

    send_byte(pairs[0].w);
    int want[1] = { 1 };
    gather_readers(p, want, WAIT_MS);
    ASSERT_EQ(pairs[0].got_r, POLLER_READ);

    /* Level-triggered: still readable until read. */
    clear_gathered();
    ASSERT_EQ(gather(p, 8, 0), 1);
    ASSERT_EQ(pairs[0].got_r, POLLER_READ);
    drain(pairs[0].r);
    ASSERT_EQ(gather(p, 8, 0), 0);
    close_pairs(p);
    poller_free(p);
}

static void test_write_readiness(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(1);
    pair *q = &pairs[0];
    ASSERT_EQ(poller_set(p, &q->hw, POLLER_WRITE), 0);
    ASSERT_EQ(gather(p, 8, WAIT_MS), 1);
    ASSERT_EQ(q->got_w, POLLER_WRITE);

    /* Fill the pipe: no longer writable. */
    static char block[65536];
    long n;
    while ((n = net_send(q->w, block, sizeof block)) > 0)
        ;
    ASSERT_EQ(n, ERR_EAGAIN);
    clear_gathered();
    ASSERT_EQ(gather(p, 8, 0), 0);

    /* Drain it: writable again (the bytes in flight may need rounds). */
    for (int round = 0; round < 100 && !(q->got_w & POLLER_WRITE); round++) {
        drain(q->r);
        gather(p, 8, 100);
    }
    ASSERT_EQ(q->got_w, POLLER_WRITE);
    close_pairs(p);
    poller_free(p);
}

/* Changing the interest changes what is reported, at once. */
static void test_modify(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(1);
    pair *q = &pairs[0];
    ASSERT_EQ(poller_set(p, &q->hr, POLLER_READ | POLLER_WRITE), 0);
    ASSERT_EQ(gather(p, 8, WAIT_MS), 1);
    ASSERT_EQ(q->got_r, POLLER_WRITE); /* writable, nothing to read */

    ASSERT_EQ(poller_set(p, &q->hr, POLLER_READ), 0);
    ASSERT_EQ(q->hr.events, POLLER_READ);
    clear_gathered();
    ASSERT_EQ(gather(p, 8, 0), 0);

    send_byte(q->w);
    int want[1] = { 1 };
    gather_readers(p, want, WAIT_MS);
    ASSERT_EQ(q->got_r, POLLER_READ);

    ASSERT_EQ(poller_set(p, &q->hr, POLLER_WRITE), 0);
    clear_gathered();
    ASSERT_EQ(gather(p, 8, 0), 1);
    ASSERT_EQ(q->got_r, POLLER_WRITE);

    /* Setting the same interest again changes nothing. */
    ASSERT_EQ(poller_set(p, &q->hr, POLLER_WRITE), 0);
    clear_gathered();
    ASSERT_EQ(gather(p, 8, 0), 1);

    ASSERT_EQ(poller_set(p, &q->hr, 0), 0);
    ASSERT_EQ(q->hr.events, 0);
    ASSERT_EQ(gather(p, 8, 0), 0);
    ASSERT_EQ(poller_set(p, &q->hr, 0), 0); /* removing twice is harmless */
    close_pairs(p);
    poller_free(p);
}

static void expect_readers(const int *want)
{
    for (int i = 0; i < pair_count; i++) {
        if (want[i] && pairs[i].got_r != POLLER_READ)
            TEST_FAIL("pair %d: got %d, wanted READ", i, pairs[i].got_r);
        if (!want[i] && pairs[i].got_r != 0)
            TEST_FAIL("pair %d: got %d, wanted nothing", i, pairs[i].got_r);
    }
}

/* Many registrations, removals here and there, and re-registrations: each
 * event still names the right handle. */
static void test_many(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(MAX_PAIRS);
    int want[MAX_PAIRS];

    for (int i = 0; i < MAX_PAIRS; i++)
        ASSERT_EQ(poller_set(p, &pairs[i].hr, POLLER_READ), 0);
    for (int i = 0; i < MAX_PAIRS; i++) {
        want[i] = i % 3 == 0;
        if (want[i])
            send_byte(pairs[i].w);
    }
    gather_readers(p, want, WAIT_MS);
    clear_gathered();
    ASSERT_EQ(gather(p, 2 * MAX_PAIRS, 0), (MAX_PAIRS + 2) / 3);
    expect_readers(want);

    /* Drop the even ones (first, middle and last slots among them), then
     * make every pair readable: only the odd ones may be reported. */
    for (int i = 0; i < MAX_PAIRS; i += 2)
        ASSERT_EQ(poller_set(p, &pairs[i].hr, 0), 0);
    for (int i = 0; i < MAX_PAIRS; i++) {
        want[i] = i % 2 == 1;
        send_byte(pairs[i].w);
    }
    clear_gathered();
    gather_readers(p, want, WAIT_MS);
    clear_gathered();
    ASSERT_EQ(gather(p, 2 * MAX_PAIRS, 0), MAX_PAIRS / 2);
    expect_readers(want);

    /* The even ones come back watching their writers. */
    for (int i = 0; i < MAX_PAIRS; i += 2)
        ASSERT_EQ(poller_set(p, &pairs[i].hw, POLLER_WRITE), 0);
    clear_gathered();
    ASSERT_EQ(gather(p, 2 * MAX_PAIRS, WAIT_MS), MAX_PAIRS);
    for (int i = 0; i < MAX_PAIRS; i++) {
        ASSERT_EQ(pairs[i].got_r, i % 2 ? POLLER_READ : 0);
        ASSERT_EQ(pairs[i].got_w, i % 2 ? 0 : POLLER_WRITE);
    }

    /* Remove everything, from the back this time. */
    for (int i = MAX_PAIRS - 1; i >= 0; i--) {
        ASSERT_EQ(poller_set(p, &pairs[i].hr, 0), 0);
        ASSERT_EQ(poller_set(p, &pairs[i].hw, 0), 0);
    }
    ASSERT_EQ(gather(p, 2 * MAX_PAIRS, 0), 0);
    close_pairs(p);
    poller_free(p);
}

/* Removing the first, a middle and the last registration keeps the others
 * reporting under their own handles, and a handle can come back. */
static void test_remove_middle(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(5);
    int want[5] = { 1, 1, 1, 1, 1 };
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(poller_set(p, &pairs[i].hr, POLLER_READ), 0);
        send_byte(pairs[i].w);
    }
    gather_readers(p, want, WAIT_MS);

    ASSERT_EQ(poller_set(p, &pairs[2].hr, 0), 0);
    want[2] = 0;
    clear_gathered();
    ASSERT_EQ(gather(p, 16, 0), 4);
    expect_readers(want);

    ASSERT_EQ(poller_set(p, &pairs[0].hr, 0), 0);
    ASSERT_EQ(poller_set(p, &pairs[4].hr, 0), 0);
    want[0] = want[4] = 0;
    clear_gathered();
    ASSERT_EQ(gather(p, 16, 0), 2);
    expect_readers(want);

    ASSERT_EQ(poller_set(p, &pairs[2].hr, POLLER_READ), 0);
    want[2] = 1;
    clear_gathered();
    ASSERT_EQ(gather(p, 16, 0), 3);
    expect_readers(want);

    /* Draining one of them leaves the others alone. */
    drain(pairs[1].r);
    want[1] = 0;
    clear_gathered();
    ASSERT_EQ(gather(p, 16, 0), 2);
    expect_readers(want);
    close_pairs(p);
    poller_free(p);
}

/* The peer closes: the reader is told, and its recv sees the end. */
static void test_hangup(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(1);
    pair *q = &pairs[0];
    ASSERT_EQ(poller_set(p, &q->hr, POLLER_READ), 0);
    ASSERT_EQ(net_close(q->w), 0);
    q->w = NET_INVALID;
    int want[1] = { 1 };
    gather_readers(p, want, WAIT_MS);
    char byte;
    long n = net_recv(q->r, &byte, 1);
    ASSERT(n == 0 || n == ERR_ERESET);
    close_pairs(p);
    poller_free(p);
}

/* An abortive close by the peer is reported as both READ and WRITE, even
 * to a reader that asked only for READ. */
static void test_reset_reports_both(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(1);
    pair *q = &pairs[0];
    ASSERT_EQ(poller_set(p, &q->hr, POLLER_READ), 0);
    ASSERT_EQ(net_abort(q->w), 0);
    q->w = NET_INVALID;
    int want[1] = { 1 };
    gather_readers(p, want, WAIT_MS);
    ASSERT_EQ(q->got_r, POLLER_READ | POLLER_WRITE);
    close_pairs(p);
    poller_free(p);
}

/* With more ready than fit in one wait, later waits get to the rest (a
 * backend that hands out what one poll found before polling again gives
 * the last of it in a short batch). */
static void test_bounded_batch(void)
{
    poller *p = poller_create();
    ASSERT(p != NULL);
    open_pairs(10);
    int want[10];
    for (int i = 0; i < 10; i++) {
        want[i] = 1;
        ASSERT_EQ(poller_set(p, &pairs[i].hr, POLLER_READ), 0);
        send_byte(pairs[i].w);
    }
    gather_readers(p, want, WAIT_MS);
    clear_gathered();
    int waits = 0, seen = 0;
    while (seen < 10) {
        ASSERT_LT(waits++, 10);
        ASSERT_GE(gather(p, 3, 0), 1);
        seen = 0;
        for (int i = 0; i < 10; i++)
            seen += pairs[i].got_r != 0;
    }
    close_pairs(p);
    poller_free(p);
}

/* The pair whose reader h is. */
static int reader_index(const poller_handle *h)
{
    for (int i = 0; i < pair_count; i++)
        if (h == &pairs[i].hr)
            return i;
    TEST_FAIL("an event for a handle that is no reader of ours");
}

#define KEEP_READY 12 /* readers ready at the first wait */
#define KEEP_FIRST 5  /* how many the first wait may hand out */

/* More ready than fit: the next wait hands out exactly the rest, each
 * once, even when a reader handed out is removed in between (removal
 * moves entries). A reader that became ready only after the first wait
 * is not among them: the rest is what that wait found, not a new look in
 * which the new one could push one of the rest out. */
static void test_keeps_results(void)
{
    poller *p = poller_create(), *watch = poller_create();
    ASSERT(p != NULL && watch != NULL);
    open_pairs(KEEP_READY + 1);
    /* The late one sits right after the first batch's slots, where a
     * backend that looks again would find it before the rest. */
    const int late = KEEP_FIRST;
    int want[KEEP_READY + 1], from_first[KEEP_READY + 1] = { 0 };
    for (int i = 0; i <= KEEP_READY; i++) {
        want[i] = i != late;
        ASSERT_EQ(poller_set(p, &pairs[i].hr, POLLER_READ), 0);
        if (want[i])
            send_byte(pairs[i].w);
    }
    gather_readers(p, want, WAIT_MS);

    poller_event ev[KEEP_READY + 1];
    int n = poller_wait(p, ev, KEEP_FIRST, WAIT_MS);
    ASSERT_EQ(n, KEEP_FIRST);
    poller_handle *lowest = NULL;
    for (int k = 0; k < n; k++) {
        int i = reader_index(ev[k].handle);
        ASSERT(i >= 0 && i <= KEEP_READY && want[i]);
        ASSERT_EQ(from_first[i]++, 0);
        drain(pairs[i].r); /* as the owner would */
        if (lowest == NULL || ev[k].handle->slot < lowest->slot)
            lowest = ev[k].handle;
    }
    ASSERT_EQ(poller_set(p, lowest, 0), 0);

    /* The late one becomes ready; another poller makes sure of it. */
    poller_handle seen_late = { 0 };
    seen_late.sock = pairs[late].r;
    seen_late.slot = -1;
    ASSERT_EQ(poller_set(watch, &seen_late, POLLER_READ), 0);
    send_byte(pairs[late].w);
    poller_event w_ev[1];
    ASSERT_EQ(poller_wait(watch, w_ev, 1, WAIT_MS), 1);
    ASSERT_EQ(poller_set(watch, &seen_late, 0), 0);

    n = poller_wait(p, ev, KEEP_READY - KEEP_FIRST, WAIT_MS);
    ASSERT_EQ(n, KEEP_READY - KEEP_FIRST);
    int from_second[KEEP_READY + 1] = { 0 };
    for (int k = 0; k < n; k++) {
        int i = reader_index(ev[k].handle);
        ASSERT(i >= 0 && i <= KEEP_READY);
        ASSERT(i != late);
        ASSERT_EQ(ev[k].events, POLLER_READ);
        ASSERT_EQ(from_second[i]++, 0);
        drain(pairs[i].r);
    }
    for (int i = 0; i <= KEEP_READY; i++)
        ASSERT_EQ(from_first[i] + from_second[i], want[i]);

    /* Then a new look finds the late one, and only it. */
    clear_gathered();
    ASSERT_EQ(gather(p, KEEP_READY + 1, WAIT_MS), 1);
    ASSERT_EQ(pairs[late].got_r, POLLER_READ);
    close_pairs(p);
    poller_free(p);
    poller_free(watch);
}

#define CASE(name) { #name, test_##name }

static const test_case cases[] = {
    CASE(name),
    CASE(read_readiness),
    CASE(write_readiness),
    CASE(modify),
    CASE(many),
    CASE(remove_middle),
    CASE(hangup),
    CASE(reset_reports_both),
    CASE(bounded_batch),
    CASE(keeps_results),
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return unit_main(cases, argc, argv);
}
