/* timerq.h -- a timer queue: a binary min-heap of deadlines.
 *
 * Timers are embedded in their owners (no allocation per timer) and know
 * their own heap slot, so stopping one is O(log n). Time is whatever the
 * caller says it is (milliseconds), which keeps the queue testable and lets
 * --simulate run it on a virtual clock. */
#ifndef RICOCHET_TIMERQ_H
#define RICOCHET_TIMERQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct timer timer;
typedef void (*timer_fn)(timer *t);

struct timer {
    uint64_t deadline_ms;
    uint64_t seq;      /* ties on deadline fire in start order */
    size_t slot;       /* index in the heap, or TIMER_IDLE */
    timer_fn fn;
    void *data;        /* the owner's */
};

#define TIMER_IDLE ((size_t)-1)

typedef struct timerq {
    timer **heap;
    size_t len, cap;
    uint64_t next_seq;
} timerq;

void timerq_init(timerq *q);
/* Frees the heap array only: the timers belong to their owners. */
void timerq_free(timerq *q);

/* Make t an idle timer that calls fn; call once before first use. */
void timer_init(timer *t, timer_fn fn, void *data);
static inline int timer_active(const timer *t) { return t->slot != TIMER_IDLE; }

/* (Re)start t to fire at deadline_ms. Returns 0, or ERR_ENOMEM when the
 * heap cannot grow (t stays as it was). */
int timerq_start(timerq *q, timer *t, uint64_t deadline_ms);
/* Stop t if it is active; harmless otherwise. */
void timerq_stop(timerq *q, timer *t);

/* The earliest deadline, or UINT64_MAX when the queue is empty. */
uint64_t timerq_next(const timerq *q);

/* Fire, in deadline order, every timer due at now. Each is stopped before
 * its fn runs, so fn may restart it, stop others or start new ones (a timer
 * restarted for a deadline <= now fires in the next call, never in a loop).
 * Returns how many fired. */
size_t timerq_run(timerq *q, uint64_t now);

#endif
