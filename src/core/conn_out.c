/* conn_out.c -- a connection's output: the queue, and the small sends
 * that wait for the end of the loop iteration.
 *
 * Sending follows Redis and libuv: write straight away, and queue and poll
 * for writability only for what the socket did not take; pause reading
 * while the queue is above the out_limit.
 *
 * Writing before the loop sleeps is the Redis pattern too: a small send
 * is not made at once but copied to one buffer of the table's
 * (table->later), and conn_table_tick writes them all just before the
 * loop sleeps. A batch's system calls then run back to back instead of
 * between script calls (tests/bench/README.md has what that bought).
 * Each connection's waiting bytes are one range, at most CONN_LATER_MAX
 * long, and its output queue is empty while it has any, so bytes never
 * change order. */
#include "conn_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* All connections' waiting bytes together stay under this; past it, a
 * connection's sends go out at once, as without the buffer. The buffer
 * keeps its memory, at most this much, from one iteration to the next. */
#define LATER_TOTAL_MAX (256 * 1024)

void conn__pause_if_over_limit(conn *c)
{
    if (buf_len(&c->out) <= c->table->cfg.out_limit)
        return;
    if (c->cb && c->cb->pressure) { /* a relay: the owner holds the feed */
        if (!c->over_limit) {
            c->over_limit = 1;
            c->cb->pressure(c, 1);
        }
    } else if (!c->read_paused) {
        c->read_paused = 1;
        log_debug("conn %llu%s: %zu bytes unsent, pausing reads",
                  CONN_ID(c), buf_len(&c->out));
    }
}

long conn__send_now(conn *c, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        long n = conn__tx_send(c, data + sent, len - sent);
        if (n == ERR_EINTR)
            continue;
        if (n == ERR_EAGAIN)
            break;
        if (n < 0) {
            conn__fail(c, (int)n, "send");
            return n;
        }
        conn__trace_chunk(c, "out", c->bytes_out, data + sent, (size_t)n);
        sent += (size_t)n;
        conn__count_out(c, (uint64_t)n);
    }
    if (sent > 0)
        conn__touch(c);
    return (long)sent;
}

/* Queue the bytes the socket did not take. */
static int queue(conn *c, const char *data, size_t len)
{
    if (buf_append(&c->out, data, len) != 0)
        return conn__fail_nomem(c, "queueing output");
    conn__pause_if_over_limit(c);
    conn__update_interest(c);
    return 0;
}

long conn__send_queued(conn *c, size_t want)
{
    long n = conn__send_now(c, buf_head(&c->out), want);
    if (n > 0)
        buf_consume(&c->out, (size_t)n);
    return n;
}

void conn__flush(conn *c)
{
    if (c->shaper) {
        conn__shaped_flush(c);
        return;
    }
    size_t budget = CONN_MAX_IO_PER_EVENT;
    while (buf_len(&c->out) > 0 && budget > 0) {
        size_t want = buf_len(&c->out);
        if (want > budget)
            want = budget;
        long n = conn__send_queued(c, want);
        if (n < 0)
            return;
        budget -= (size_t)n;
        if ((size_t)n < want)
            break; /* send_now stops short only when the socket is full */
    }
    conn__after_write(c);
}

/* --- writing before the loop sleeps -------------------------------------- */

void conn__write_later_now(conn *c)
{
    size_t len = c->later_len;
    if (len == 0)
        return;
    const char *data = c->table->later.data + c->later_off;
    c->later_len = 0;
    long n = conn__send_now(c, data, len);
    if (n >= 0 && (size_t)n < len)
        queue(c, data + n, len - (size_t)n);
}

void conn__write_later_at_close(conn *c)
{
    if (c->later_len == 0)
        return;
    /* Best effort, and no second close when the socket refuses them. */
    const char *data = c->table->later.data + c->later_off;
    long n = conn__tx_send(c, data, c->later_len);
    if (n > 0) {
        conn__trace_chunk(c, "out", c->bytes_out, data, (size_t)n);
        conn__count_out(c, (uint64_t)n);
    }
    c->later_len = 0;
}

/* Copy a send aside for the tick. Returns 1, or 0 when it cannot be: c's
 * waiting bytes have then been written (or queued) to keep the order, and
 * the caller sends now. */
static int send_later(conn *c, const char *data, size_t len)
{
    conn_later *lt = &c->table->later;
    int contiguous = c->later_len == 0 ||
                     c->later_off + c->later_len == lt->len;
    if (!contiguous || c->later_len + len > CONN_LATER_MAX ||
        lt->len + len > LATER_TOTAL_MAX) {
        conn__write_later_now(c);
        return 0;
    }
    if (lt->len + len > lt->cap) {
        size_t cap = lt->cap ? lt->cap : CONN_LATER_MAX;
        while (cap < lt->len + len)
            cap *= 2;
        char *grown = realloc(lt->data, cap);
        if (grown == NULL) { /* no harm: send at once instead */
            conn__write_later_now(c);
            return 0;
        }
        lt->data = grown;
        lt->cap = cap;
    }
    if (c->later_len == 0)
        c->later_off = lt->len;
    memcpy(lt->data + lt->len, data, len);
    lt->len += len;
    c->later_len += len;
    if (!c->later_listed) {
        c->later_listed = 1;
        c->later_next = lt->first;
        lt->first = c;
    }
    return 1;
}

void conn__write_later_all(conn_table *t)
{
    conn_later *lt = &t->later;
    while (lt->first != NULL) {
        conn *c = lt->first;
        lt->first = c->later_next;
        c->later_listed = 0;
        if (c->later_len == 0 || c->state == CONN_CLOSED)
            continue;
        conn__write_later_now(c);
        /* The usual end, all written by an open connection: the queue
         * was empty before and is now, so nothing waits on it and the
         * poller interest stands. Anything else takes the long way. */
        if (conn_writable(c) && buf_len(&c->out) == 0 && !c->read_paused)
            continue;
        if (c->state != CONN_CLOSED)
            conn__after_write(c);
    }
    lt->len = 0;
}

void conn__later_free(conn_table *t)
{
    free(t->later.data);
    t->later.data = NULL;
    t->later.cap = t->later.len = 0;
}

/* --- sending ------------------------------------------------------------- */

int conn__send_or_queue(conn *c, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (c->shaper) /* shaped from now, connected or not */
        return conn__shaped_send(c, data, len);
    if (c->connecting)
        return queue(c, data, len); /* goes out once connected */
    if (c->table->cfg.write_later && buf_len(&c->out) == 0) {
        if (send_later(c, data, len))
            return 0;
        if (c->state == CONN_CLOSED)
            return 0; /* writing the waiting bytes failed */
    }
    if (buf_len(&c->out) == 0) {
        long n = conn__send_now(c, data, len);
        if (n < 0)
            return 0;
        data += n;
        len -= (size_t)n;
        if (len == 0)
            return 0;
    }
    return queue(c, data, len);
}

int conn_send(conn *c, const char *data, size_t len)
{
    if (!conn_writable(c))
        return ERR_ENOTWRITABLE;
    return conn__send_or_queue(c, data, len);
}
