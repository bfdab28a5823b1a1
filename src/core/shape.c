/* shape.c -- when may a connection's queued output go out, and how much.
 *
 * Latency is a ring of marks (stream offset, release time), one per reply,
 * merged when two replies share a release time; release times never go
 * backwards, so jitter does not reorder bytes. Bandwidth is a token bucket
 * refilled from the clock; slicing caps each write and spaces the writes.
 * The three compose: a byte goes when it is released, its slice may start
 * and the bucket holds a token for it. */
#include "shape.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

void shape_init(shape *s, uint64_t now)
{
    memset(s, 0, sizeof *s);
    s->limit = SHAPE_NEVER;
    s->tokens_ms = now;
    s->slice_ready_ms = now;
}

void shape_free(shape *s)
{
    free(s->marks);
    s->marks = NULL;
    s->mark_cap = s->mark_count = s->mark_head = 0;
}

void shape_set_delay(shape *s, uint64_t delay_ms, uint64_t jitter_ms)
{
    s->delay_ms = delay_ms;
    s->jitter_ms = jitter_ms;
}

/* Writes go in batches of 10 ms of traffic (at least a byte); the bucket
 * holds two batches, so waking a little late (whole milliseconds) never
 * overflows it and loses tokens, while a pause buys at most 20 ms. */
static double batch_size(uint64_t rate)
{
    double batch = (double)rate / 100.0;
    return batch < 1.0 ? 1.0 : batch;
}

static double bucket_size(uint64_t rate)
{
    return 2.0 * batch_size(rate);
}

void shape_set_rate(shape *s, uint64_t bytes_per_second, uint64_t now)
{
    s->rate = bytes_per_second;
    s->tokens = bytes_per_second ? batch_size(bytes_per_second) : 0;
    s->tokens_ms = now;
}

void shape_set_slice(shape *s, size_t size, size_t variation,
                     uint64_t gap_ms)
{
    s->slice_size = size;
    s->slice_variation = size ? variation : 0;
    s->slice_gap_ms = gap_ms;
    s->slice_left = 0;
}

static shape_mark *last_mark(shape *s)
{
    return &s->marks[(s->mark_head + s->mark_count - 1) % s->mark_cap];
}

static int grow_marks(shape *s)
{
    size_t cap = s->mark_cap ? s->mark_cap * 2 : 8;
    shape_mark *marks = malloc(cap * sizeof *marks);
    if (marks == NULL)
        return ERR_ENOMEM;
    for (size_t i = 0; i < s->mark_count; i++)
        marks[i] = s->marks[(s->mark_head + i) % s->mark_cap];
    free(s->marks);
    s->marks = marks;
    s->mark_cap = cap;
    s->mark_head = 0;
    return 0;
}

int shape_push(shape *s, uint64_t start, uint64_t end, uint64_t now)
{
    if (end <= start)
        return 0;
    if (s->mark_count == 0 && s->released < start)
        s->released = start; /* nothing held back: all before is free */
    uint64_t delay = s->delay_ms;
    if (s->jitter_ms > 0) {
        uint64_t span = 2 * s->jitter_ms + 1;
        uint64_t draw = rng_next() % span; /* 0 .. 2 * jitter */
        delay = delay + draw > s->jitter_ms ? delay + draw - s->jitter_ms
                                             : 0;
    }
    uint64_t release = now + delay;
    if (s->mark_count > 0) {
        shape_mark *last = last_mark(s);
        if (release <= last->release_ms) {
            last->end = end; /* never before an earlier reply */
            return 0;
        }
    } else if (release <= now) {
        s->released = end;
        return 0;
    }
    if (s->mark_count == s->mark_cap && grow_marks(s) != 0)
        return ERR_ENOMEM;
    s->marks[(s->mark_head + s->mark_count) % s->mark_cap] =
        (shape_mark){end, release};
    s->mark_count++;
    return 0;
}

static size_t next_slice(const shape *s)
{
    size_t size = s->slice_size;
    if (s->slice_variation > 0) {
        uint64_t span = 2 * (uint64_t)s->slice_variation + 1;
        uint64_t draw = rng_next() % span;
        if (size + draw > s->slice_variation)
            size = size + (size_t)draw - s->slice_variation;
        else
            size = 1;
    }
    return size ? size : 1;
}

size_t shape_allowance(shape *s, uint64_t sent, uint64_t queued_end,
                       uint64_t now, uint64_t *wake_ms)
{
    *wake_ms = SHAPE_NEVER;
    if (s->stalled)
        return 0;
    while (s->mark_count > 0 && s->marks[s->mark_head].release_ms <= now) {
        s->released = s->marks[s->mark_head].end;
        s->mark_head = (s->mark_head + 1) % s->mark_cap;
        s->mark_count--;
    }
    uint64_t free_end = s->mark_count ? s->released : queued_end;
    uint64_t avail = free_end > sent ? free_end - sent : 0;
    if (s->limit != SHAPE_NEVER) {
        uint64_t room = s->limit > sent ? s->limit - sent : 0;
        if (avail > room)
            avail = room;
        if (room == 0)
            return 0;
    }
    if (avail == 0) {
        if (s->mark_count > 0)
            *wake_ms = s->marks[s->mark_head].release_ms;
        return 0;
    }
    if (s->slice_size > 0) {
        if (s->slice_left == 0) {
            if (now < s->slice_ready_ms) {
                *wake_ms = s->slice_ready_ms;
                return 0;
            }
            s->slice_left = next_slice(s);
        }
        if (avail > s->slice_left)
            avail = s->slice_left;
    }
    if (s->rate > 0) {
        double burst = bucket_size(s->rate);
        if (now > s->tokens_ms) {
            s->tokens += (double)(now - s->tokens_ms) * (double)s->rate /
                         1000.0;
            if (s->tokens > burst)
                s->tokens = burst;
            s->tokens_ms = now;
        }
        double batch = batch_size(s->rate);
        double want = (double)avail < batch ? (double)avail : batch;
        if (s->tokens < want) {
            double wait = (want - s->tokens) * 1000.0 / (double)s->rate;
            uint64_t wait_ms = (uint64_t)wait;
            if ((double)wait_ms < wait)
                wait_ms++;
            *wake_ms = now + (wait_ms ? wait_ms : 1);
            return 0;
        }
        if ((double)avail > s->tokens)
            avail = (uint64_t)s->tokens;
    }
    return avail > SIZE_MAX ? SIZE_MAX : (size_t)avail;
}

void shape_sent(shape *s, size_t n, uint64_t now)
{
    if (s->rate > 0)
        s->tokens -= (double)n;
    if (s->slice_size > 0) {
        s->slice_left = n < s->slice_left ? s->slice_left - n : 0;
        if (s->slice_left == 0)
            s->slice_ready_ms = now + s->slice_gap_ms;
    }
}

void shape_drop(shape *s, uint64_t queued_end)
{
    s->mark_count = 0;
    s->mark_head = 0;
    s->released = queued_end;
    s->slice_left = 0;
}
