/* timerq.c -- a binary min-heap of timers ordered by (deadline, seq).
 *
 * Every move of a timer inside the heap updates its slot, which is what
 * makes stopping an arbitrary timer O(log n). */
#include "timerq.h"
#include "err.h"

#include <stdlib.h>

#define TIMERQ_MIN_CAP 16

static int earlier(const timer *a, const timer *b)
{
    if (a->deadline_ms != b->deadline_ms)
        return a->deadline_ms < b->deadline_ms;
    return a->seq < b->seq;
}

static void place(timerq *q, timer *t, size_t slot)
{
    q->heap[slot] = t;
    t->slot = slot;
}

static void sift_up(timerq *q, size_t slot)
{
    timer *t = q->heap[slot];
    while (slot > 0) {
        size_t parent = (slot - 1) / 2;
        if (!earlier(t, q->heap[parent]))
            break;
        place(q, q->heap[parent], slot);
        slot = parent;
    }
    place(q, t, slot);
}

static void sift_down(timerq *q, size_t slot)
{
    timer *t = q->heap[slot];
    for (;;) {
        size_t child = 2 * slot + 1;
        if (child >= q->len)
            break;
        if (child + 1 < q->len && earlier(q->heap[child + 1], q->heap[child]))
            child++;
        if (!earlier(q->heap[child], t))
            break;
        place(q, q->heap[child], slot);
        slot = child;
    }
    place(q, t, slot);
}

/* Put t back in order after its key changed either way. */
static void reorder(timerq *q, size_t slot)
{
    if (slot > 0 && earlier(q->heap[slot], q->heap[(slot - 1) / 2]))
        sift_up(q, slot);
    else
        sift_down(q, slot);
}

void timerq_init(timerq *q)
{
    q->heap = NULL;
    q->len = q->cap = 0;
    q->next_seq = 0;
}

void timerq_free(timerq *q)
{
    free(q->heap);
    timerq_init(q);
}

void timer_init(timer *t, timer_fn fn, void *data)
{
    t->deadline_ms = 0;
    t->seq = 0;
    t->slot = TIMER_IDLE;
    t->fn = fn;
    t->data = data;
}

int timerq_start(timerq *q, timer *t, uint64_t deadline_ms)
{
    if (timer_active(t)) {
        t->deadline_ms = deadline_ms;
        t->seq = q->next_seq++;
        reorder(q, t->slot);
        return 0;
    }
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : TIMERQ_MIN_CAP;
        if (cap > (size_t)-1 / 2 / sizeof *q->heap)
            return ERR_ENOMEM;
        timer **grown = realloc(q->heap, cap * sizeof *grown);
        if (grown == NULL)
            return ERR_ENOMEM;
        q->heap = grown;
        q->cap = cap;
    }
    t->deadline_ms = deadline_ms;
    t->seq = q->next_seq++;
    place(q, t, q->len++);
    sift_up(q, t->slot);
    return 0;
}

void timerq_stop(timerq *q, timer *t)
{
    if (!timer_active(t))
        return;
    size_t slot = t->slot;
    timer *last = q->heap[--q->len];
    t->slot = TIMER_IDLE;
    if (last != t) {
        place(q, last, slot);
        reorder(q, slot);
    }
}

uint64_t timerq_next(const timerq *q)
{
    return q->len ? q->heap[0]->deadline_ms : UINT64_MAX;
}

size_t timerq_run(timerq *q, uint64_t now)
{
    /* Timers (re)started from a callback of this run have seq >= first_new
     * and must wait for the next run, or a timer restarting itself with a
     * past deadline would spin here forever. Such a timer may have a
     * deadline earlier than timers that are still due, so instead of
     * stopping at it, its deadline is raised to now: that sorts it after
     * every older due timer (whose deadline is <= now and whose seq is
     * smaller) without changing when it fires, since time only grows. */
    uint64_t first_new = q->next_seq;
    size_t fired = 0;

    while (q->len > 0) {
        timer *t = q->heap[0];
        if (t->deadline_ms > now)
            break;
        if (t->seq >= first_new) {
            if (t->deadline_ms == now)
                break; /* every older due timer sorts before it */
            t->deadline_ms = now;
            sift_down(q, 0);
            continue;
        }
        timerq_stop(q, t);
        fired++;
        t->fn(t);
    }
    return fired;
}
