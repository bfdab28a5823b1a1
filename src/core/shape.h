/* shape.h -- traffic shaping arithmetic for one connection's output:
 * latency with jitter, bandwidth, slicing, stalls and a byte limit.
 *
 * Pure bookkeeping on a clock the caller gives (milliseconds) and on
 * offsets in the output stream (byte 0 is the first byte the connection
 * ever sent): it decides how many bytes may be written now and when to
 * look again; conn.c does the writing and owns the timers. Random jitter
 * and slice variation come from rng.c, so `--seed N` makes them
 * reproducible. */
#ifndef RICOCHET_SHAPE_H
#define RICOCHET_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#define SHAPE_NEVER UINT64_MAX

/* Bytes of the stream up to `end` may go out from release_ms on. */
typedef struct shape_mark {
    uint64_t end;
    uint64_t release_ms;
} shape_mark;

typedef struct shape {
    /* settings */
    uint64_t delay_ms, jitter_ms;  /* added to each reply */
    uint64_t rate;                 /* bytes per second; 0: unlimited */
    size_t slice_size;             /* 0: no slicing */
    size_t slice_variation;
    uint64_t slice_gap_ms;
    uint64_t limit;                /* stream offset where output ends */
    int stalled;
    /* state */
    shape_mark *marks;             /* a ring of pending releases */
    size_t mark_head, mark_count, mark_cap;
    uint64_t released;             /* bytes below this offset may go */
    double tokens;                 /* rate: bytes that may go now */
    uint64_t tokens_ms;
    size_t slice_left;             /* bytes left in the current slice */
    uint64_t slice_ready_ms;       /* the next slice may start then */
} shape;

/* An unshaped state (everything passes) at time now. */
void shape_init(shape *s, uint64_t now);
void shape_free(shape *s);

void shape_set_delay(shape *s, uint64_t delay_ms, uint64_t jitter_ms);
/* 0 turns the limit off. Bytes go in batches of 10 ms of traffic, and a
 * pause buys at most 20 ms of it, so there is no burst after idling. */
void shape_set_rate(shape *s, uint64_t bytes_per_second, uint64_t now);
/* size 0 turns slicing off; each slice is size +- variation (at least 1)
 * bytes, and gap_ms separates one slice's last byte from the next one. */
void shape_set_slice(shape *s, size_t size, size_t variation,
                     uint64_t gap_ms);

/* A reply occupying stream offsets [start, end) was queued at now: it is
 * released after the delay (plus jitter), never before an earlier reply.
 * Returns 0, or ERR_ENOMEM. */
int shape_push(shape *s, uint64_t start, uint64_t end, uint64_t now);

/* How many bytes from stream offset sent (with bytes up to queued_end
 * queued) may be written now. When 0, *wake_ms says when to ask again
 * (SHAPE_NEVER: not before the settings or the queue change). */
size_t shape_allowance(shape *s, uint64_t sent, uint64_t queued_end,
                       uint64_t now, uint64_t *wake_ms);
/* n bytes were written at now. */
void shape_sent(shape *s, size_t n, uint64_t now);
/* Forget every pending release: the queue was dropped. */
void shape_drop(shape *s, uint64_t queued_end);

#endif
