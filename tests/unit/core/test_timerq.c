/* test_timerq.c -- the timer heap: order, ties, stops, restarts. */
#include "cases.h"
#include "test.h"
#include "timerq.h"

static uint32_t rng_state = 2463534242u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Every timer knows its slot and no child fires before its parent. */
static void check_heap(const timerq *q)
{
    for (size_t i = 0; i < q->len; i++) {
        ASSERT_UEQ(q->heap[i]->slot, i);
        if (i > 0) {
            const timer *parent = q->heap[(i - 1) / 2], *t = q->heap[i];
            ASSERT(parent->deadline_ms < t->deadline_ms ||
                   (parent->deadline_ms == t->deadline_ms &&
                    parent->seq < t->seq));
        }
    }
}

/* Fired timers are recorded by their index in a test's array. */
typedef struct record {
    int order[20000];
    uint64_t deadline[20000];
    uint64_t seq[20000];
    size_t count;
} record;

static record fired;

static void note(timer *t)
{
    ASSERT(!timer_active(t));
    ASSERT_LT(fired.count, 20000);
    fired.order[fired.count] = (int)(intptr_t)t->data;
    fired.deadline[fired.count] = t->deadline_ms;
    fired.seq[fired.count] = t->seq;
    fired.count++;
}

void test_timerq_order(void)
{
    static const uint64_t deadlines[] = { 50, 10, 40, 20, 30 };
    timer t[5];
    timerq q;
    timerq_init(&q);
    fired.count = 0;
    ASSERT_UEQ(timerq_next(&q), UINT64_MAX);
    ASSERT_UEQ(timerq_run(&q, 1000), 0);
    for (int i = 0; i < 5; i++) {
        timer_init(&t[i], note, (void *)(intptr_t)i);
        ASSERT(!timer_active(&t[i]));
        ASSERT_EQ(timerq_start(&q, &t[i], deadlines[i]), 0);
        ASSERT(timer_active(&t[i]));
        check_heap(&q);
    }
    ASSERT_UEQ(timerq_next(&q), 10);
    ASSERT_UEQ(timerq_run(&q, 9), 0);
    ASSERT_UEQ(timerq_run(&q, 25), 2);
    ASSERT_UEQ(fired.count, 2);
    ASSERT_EQ(fired.order[0], 1);
    ASSERT_EQ(fired.order[1], 3);
    ASSERT_UEQ(timerq_next(&q), 30);
    ASSERT_UEQ(timerq_run(&q, 50), 3); /* due exactly at 50 fires */
    ASSERT_EQ(fired.order[2], 4);
    ASSERT_EQ(fired.order[3], 2);
    ASSERT_EQ(fired.order[4], 0);
    ASSERT_UEQ(q.len, 0);
    ASSERT_UEQ(timerq_next(&q), UINT64_MAX);
    timerq_free(&q);
}

void test_timerq_ties(void)
{
    timer t[10];
    timerq q;
    timerq_init(&q);
    fired.count = 0;
    for (int i = 0; i < 10; i++) {
        timer_init(&t[i], note, (void *)(intptr_t)i);
        ASSERT_EQ(timerq_start(&q, &t[i], 100), 0);
    }
    /* A restart counts as a new start: t[0] now goes last among equals. */
    ASSERT_EQ(timerq_start(&q, &t[0], 100), 0);
    check_heap(&q);
    ASSERT_UEQ(q.len, 10);
    ASSERT_UEQ(timerq_run(&q, 100), 10);
    for (int i = 0; i < 9; i++)
        ASSERT_EQ(fired.order[i], i + 1);
    ASSERT_EQ(fired.order[9], 0);
    timerq_free(&q);
}

void test_timerq_stop_middle(void)
{
    enum { N = 200 };
    static timer t[N];
    timerq q;
    timerq_init(&q);
    fired.count = 0;
    for (int i = 0; i < N; i++) {
        timer_init(&t[i], note, (void *)(intptr_t)i);
        ASSERT_EQ(timerq_start(&q, &t[i], (uint64_t)(i * 37 % 101)), 0);
    }
    check_heap(&q);
    for (int i = 0; i < N; i += 3) {
        timerq_stop(&q, &t[i]);
        ASSERT(!timer_active(&t[i]));
        check_heap(&q);
    }
    timerq_stop(&q, &t[0]); /* stopping an idle timer is harmless */
    check_heap(&q);
    ASSERT_UEQ(q.len, N - (N + 2) / 3);

    ASSERT_UEQ(timerq_run(&q, 1000), N - (N + 2) / 3);
    for (size_t k = 0; k < fired.count; k++) {
        ASSERT_NE(fired.order[k] % 3, 0);
        if (k > 0)
            ASSERT(fired.deadline[k - 1] < fired.deadline[k] ||
                   (fired.deadline[k - 1] == fired.deadline[k] &&
                    fired.seq[k - 1] < fired.seq[k]));
    }
    timerq_free(&q);
}

/* A timer restarted from its own callback fires at most once per run. */
static timerq *restart_q;
static uint64_t restart_deadline;
static int restart_count;

static void restart_self(timer *t)
{
    restart_count++;
    ASSERT_EQ(timerq_start(restart_q, t, restart_deadline), 0);
}

/* A callback that stops another due timer: that one must not fire. */
static timer *victim;

static void stop_victim(timer *t)
{
    note(t);
    timerq_stop(restart_q, victim);
}

void test_timerq_restart_from_callback(void)
{
    timerq q;
    timer t;
    timerq_init(&q);
    restart_q = &q;

    timer_init(&t, restart_self, NULL);
    restart_deadline = 0; /* already past: must wait for the next run */
    ASSERT_EQ(timerq_start(&q, &t, 5), 0);
    ASSERT_UEQ(timerq_run(&q, 10), 1);
    ASSERT_EQ(restart_count, 1);
    ASSERT(timer_active(&t));
    ASSERT_UEQ(timerq_run(&q, 10), 1);
    ASSERT_EQ(restart_count, 2);

    restart_deadline = 30; /* a future deadline fires when it is due */
    ASSERT_UEQ(timerq_run(&q, 10), 1);
    ASSERT_EQ(restart_count, 3);
    ASSERT_UEQ(timerq_next(&q), 30);
    ASSERT_UEQ(timerq_run(&q, 29), 0);
    ASSERT_UEQ(timerq_run(&q, 30), 1);
    ASSERT_EQ(restart_count, 4);
    timerq_stop(&q, &t);

    timer a, b;
    fired.count = 0;
    timer_init(&a, stop_victim, (void *)(intptr_t)1);
    timer_init(&b, note, (void *)(intptr_t)2);
    victim = &b;
    ASSERT_EQ(timerq_start(&q, &a, 1), 0);
    ASSERT_EQ(timerq_start(&q, &b, 2), 0);
    ASSERT_UEQ(timerq_run(&q, 5), 1);
    ASSERT_UEQ(fired.count, 1);
    ASSERT_EQ(fired.order[0], 1);
    ASSERT(!timer_active(&b));
    ASSERT_UEQ(q.len, 0);
    timerq_free(&q);
}

/* Started from a callback with a deadline earlier than timers that are
 * still due: it waits for the next run, and does not hold them back. */
static timer late;

static void start_late(timer *t)
{
    note(t);
    ASSERT_EQ(timerq_start(restart_q, &late, 1), 0);
}

void test_timerq_late_start_waits(void)
{
    timerq q;
    timer a, b, c;
    timerq_init(&q);
    restart_q = &q;
    fired.count = 0;
    timer_init(&a, start_late, (void *)(intptr_t)1);
    timer_init(&b, note, (void *)(intptr_t)2);
    timer_init(&c, note, (void *)(intptr_t)3);
    timer_init(&late, note, (void *)(intptr_t)4);
    ASSERT_EQ(timerq_start(&q, &a, 10), 0);
    ASSERT_EQ(timerq_start(&q, &b, 20), 0);
    ASSERT_EQ(timerq_start(&q, &c, 30), 0);
    ASSERT_UEQ(timerq_run(&q, 30), 3);
    ASSERT_EQ(fired.order[0], 1);
    ASSERT_EQ(fired.order[1], 2);
    ASSERT_EQ(fired.order[2], 3);
    ASSERT(timer_active(&late));
    check_heap(&q);
    ASSERT_UEQ(timerq_run(&q, 30), 1);
    ASSERT_EQ(fired.order[3], 4);
    timerq_free(&q);
}

void test_timerq_random_10k(void)
{
    enum { N = 10000 };
    static timer t[N];
    static int stopped[N];
    timerq q;
    timerq_init(&q);
    fired.count = 0;
    for (int i = 0; i < N; i++) {
        timer_init(&t[i], note, (void *)(intptr_t)i);
        stopped[i] = 0;
        ASSERT_EQ(timerq_start(&q, &t[i], rng() % 5000), 0);
    }
    check_heap(&q);
    /* Restart some, stop some: both must keep the heap right. */
    for (int k = 0; k < 1000; k++) {
        int i = (int)(rng() % N);
        ASSERT_EQ(timerq_start(&q, &t[i], rng() % 5000), 0);
    }
    size_t live = N;
    for (int k = 0; k < 1000; k++) {
        int i = (int)(rng() % N);
        if (!stopped[i]) {
            stopped[i] = 1;
            live--;
        }
        timerq_stop(&q, &t[i]);
    }
    check_heap(&q);
    ASSERT_UEQ(q.len, live);

    uint64_t now = 0;
    size_t total = 0;
    while (q.len > 0) {
        now += rng() % 50;
        size_t before = fired.count;
        total += timerq_run(&q, now);
        for (size_t k = before; k < fired.count; k++)
            ASSERT_LE(fired.deadline[k], now);
        ASSERT(q.len == 0 || timerq_next(&q) > now);
    }
    ASSERT_UEQ(total, live);
    ASSERT_UEQ(fired.count, live);
    for (size_t k = 0; k < fired.count; k++) {
        ASSERT_EQ(stopped[fired.order[k]], 0);
        if (k > 0)
            ASSERT(fired.deadline[k - 1] < fired.deadline[k] ||
                   (fired.deadline[k - 1] == fired.deadline[k] &&
                    fired.seq[k - 1] < fired.seq[k]));
    }
    timerq_free(&q);
}
