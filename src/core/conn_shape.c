/* conn_shape.c -- a connection's shaping: when and how its output goes
 * out (the arithmetic is shape.c's; this is the glue to the queue, the
 * timers and the socket). */
#include "conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* close_after: drop what is unsent and half-close. */
static void cut_output(conn *c, const char *why)
{
    log_debug("conn %llu%s: %s: output ends after %llu bytes (%zu unsent "
              "dropped)", CONN_ID(c), why,
              (unsigned long long)c->bytes_out, buf_len(&c->out));
    buf_free(&c->out);
    conn_shaper *sp = c->shaper;
    shape_drop(&sp->sh, c->bytes_out);
    sp->sh.limit = SHAPE_NEVER;
    sp->sh.stalled = 0;
    loop_timer_stop(conn__loop(c), &sp->wake);
    /* our sending is over: read again (a stall ends) to see the client
     * close, as after any half-close */
    c->stalled = 0;
    c->read_paused = 0;
    switch (c->state) {
    case CONN_OPEN:
    case CONN_CLIENT_DONE:
        conn__set_state(c, CONN_SHUTTING);
        conn__send_fin(c);
        break;
    case CONN_SHUTTING:
        conn__send_fin(c);
        break;
    case CONN_CLOSING:
        conn__close_now(c, CONN_REASON_DONE, 0);
        break;
    default:
        break;
    }
    if (c->state != CONN_CLOSED)
        conn__update_interest(c);
}

static int limit_reached(const conn *c)
{
    return c->shaper->sh.limit != SHAPE_NEVER &&
           c->bytes_out >= c->shaper->sh.limit;
}

/* Write what the shaping allows now; a timer wakes us for the rest, or
 * the poller when the socket is full. */
void conn__shaped_flush(conn *c)
{
    conn_shaper *sp = c->shaper;
    loop *l = conn__loop(c);
    size_t budget = CONN_MAX_IO_PER_EVENT;
    uint64_t wake = SHAPE_NEVER, now = loop_now(l);
    sp->socket_full = 0;
    loop_timer_stop(l, &sp->wake);
    while (buf_len(&c->out) > 0 && !limit_reached(c)) {
        if (budget == 0) {
            wake = now; /* this event's share is used: again next turn */
            break;
        }
        size_t allow = shape_allowance(&sp->sh, c->bytes_out,
                                       c->bytes_out + buf_len(&c->out), now,
                                       &wake);
        if (allow == 0)
            break;
        size_t want = buf_len(&c->out);
        if (want > allow)
            want = allow;
        if (want > budget)
            want = budget;
        long n = conn__send_queued(c, want);
        if (n < 0)
            return;
        if (n == 0) {
            sp->socket_full = 1;
            break;
        }
        budget -= (size_t)n;
        shape_sent(&sp->sh, (size_t)n, now);
    }
    if (limit_reached(c)) {
        cut_output(c, "close_after bytes");
        return;
    }
    if (buf_len(&c->out) > 0 && !sp->socket_full && wake != SHAPE_NEVER &&
        loop_timer_start(l, &sp->wake, wake > now ? wake - now : 0) != 0) {
        conn__fail_nomem(c, "arming a shaping timer");
        return;
    }
    conn__after_write(c);
}

int conn__shaped_send(conn *c, const char *data, size_t len)
{
    conn_shaper *sp = c->shaper;
    uint64_t start = c->bytes_out + buf_len(&c->out);
    if (buf_append(&c->out, data, len) != 0 ||
        shape_push(&sp->sh, start, start + len, loop_now(conn__loop(c))))
        return conn__fail_nomem(c, "queueing shaped output");
    conn__pause_if_over_limit(c);
    if (c->connecting)
        return 0; /* the connect's end flushes what is due by then */
    if (sp->socket_full)
        conn__update_interest(c);
    else
        conn__shaped_flush(c);
    return 0;
}

void conn__shaper_stop(conn *c)
{
    conn_shaper *sp = c->shaper;
    if (sp == NULL)
        return;
    loop *l = conn__loop(c);
    loop_timer_stop(l, &sp->wake);
    loop_timer_stop(l, &sp->close_timer);
    loop_timer_stop(l, &sp->reset_timer);
}

void conn__shaper_free(conn *c)
{
    if (c->shaper == NULL)
        return;
    shape_free(&c->shaper->sh);
    free(c->shaper);
    c->shaper = NULL;
}

static void on_shape_wake(timer *t)
{
    conn *c = t->data;
    if (c->state != CONN_CLOSED && !c->connecting)
        conn__shaped_flush(c);
}

static void on_close_timer(timer *t)
{
    conn *c = t->data;
    if (c->state != CONN_CLOSED)
        cut_output(c, "close_after ms");
}

static void on_reset_timer(timer *t)
{
    conn *c = t->data;
    log_debug("conn %llu%s: reset_after: resetting",
              CONN_ID(c));
    conn_reset(c, CONN_REASON_RESET);
}

/* c's shaper, made on first use. NULL when there is nothing to shape,
 * c being closed (*rc = 0, also when writing its waiting bytes closed
 * it), or when memory runs out (*rc = ERR_ENOMEM, c is reset). */
static conn_shaper *shaper_of(conn *c, int *rc)
{
    *rc = 0;
    if (c->state == CONN_CLOSED)
        return NULL;
    if (c->shaper)
        return c->shaper;
    conn__write_later_now(c); /* sent before the shaping began */
    if (c->state == CONN_CLOSED)
        return NULL;
    conn_shaper *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        *rc = conn__fail_nomem(c, "starting its shaping");
        return NULL;
    }
    shape_init(&sp->sh, loop_now(conn__loop(c)));
    timer_init(&sp->wake, on_shape_wake, c);
    timer_init(&sp->close_timer, on_close_timer, c);
    timer_init(&sp->reset_timer, on_reset_timer, c);
    c->shaper = sp;
    return sp;
}

int conn_delay(conn *c, uint64_t delay_ms, uint64_t jitter_ms)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    shape_set_delay(&sp->sh, delay_ms, jitter_ms);
    return 0;
}

int conn_rate(conn *c, uint64_t bytes_per_second)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    shape_set_rate(&sp->sh, bytes_per_second, loop_now(conn__loop(c)));
    conn__shaped_flush(c);
    return 0;
}

int conn_slice(conn *c, size_t size, size_t variation, uint64_t gap_ms)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    shape_set_slice(&sp->sh, size, variation, gap_ms);
    conn__shaped_flush(c);
    return 0;
}

int conn_stall(conn *c)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    sp->sh.stalled = 1;
    sp->stalled_once = 1;
    c->stalled = 1;
    loop_timer_stop(conn__loop(c), &sp->wake);
    conn__update_interest(c);
    return 0;
}

void conn_resume(conn *c)
{
    if (c->state == CONN_CLOSED || !c->stalled)
        return;
    c->stalled = 0;
    c->shaper->sh.stalled = 0;
    conn__shaped_flush(c);
}

int conn_close_after_bytes(conn *c, uint64_t n)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    sp->sh.limit = c->bytes_out + n;
    sp->close_after_bytes = n;
    conn__shaped_flush(c);
    return 0;
}

/* Start the shaper's close (or reset) timer ms from now. */
static int start_end_timer(conn *c, int reset, uint64_t ms)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    timer *t = reset ? &sp->reset_timer : &sp->close_timer;
    if (reset)
        sp->reset_after_ms = ms;
    else
        sp->close_after_ms = ms;
    if (loop_timer_start(conn__loop(c), t, ms) != 0)
        return conn__fail_nomem(c, "arming a shaping timer");
    return 0;
}

int conn_close_after_ms(conn *c, uint64_t ms)
{
    return start_end_timer(c, 0, ms);
}

int conn_reset_after(conn *c, uint64_t ms)
{
    return start_end_timer(c, 1, ms);
}

int conn_get_shaping(const conn *c, conn_shaping *out)
{
    memset(out, 0, sizeof *out);
    const conn_shaper *sp = c->shaper;
    if (sp == NULL)
        return 0;
    out->delay_ms = sp->sh.delay_ms;
    out->jitter_ms = sp->sh.jitter_ms;
    out->rate = sp->sh.rate;
    out->slice_size = sp->sh.slice_size;
    out->slice_variation = sp->sh.slice_variation;
    out->slice_gap_ms = sp->sh.slice_gap_ms;
    out->close_after_bytes = sp->close_after_bytes;
    out->close_after_ms = sp->close_after_ms;
    out->reset_after_ms = sp->reset_after_ms;
    out->stalled = sp->stalled_once;
    return 1;
}
