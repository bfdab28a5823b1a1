/* conn.c -- one connection's life: state machine, output queue, timeouts.
 *
 * Sending follows Redis and libuv: write straight away, and queue and poll
 * for writability only for what the socket did not take. A graceful
 * shutdown makes the connection unwritable at once, but FIN goes out only
 * when the queue is empty, so nothing the owner sent is ever lost. */
#include "conn.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shape.h"

/* At most this much is read or written for one connection per loop
 * iteration, so one busy client cannot starve the others. */
#define MAX_IO_PER_EVENT (1024 * 1024)

static void on_io(loop *l, loop_io *io, int events);
static void on_deadline(timer *t);
static void close_now(conn *c, conn_reason reason, int abortive);
static void shaped_flush(conn *c);
static void write_later_now(conn *c);
static long send_now(conn *c, const char *data, size_t len);

/* A connection's framer, for the connections that asked for one. */
struct conn_framing {
    framer fr;
    timer kick;       /* frames held after a mode change: cut them soon */
};

/* A connection's shaping state, for the connections that asked for it. */
struct conn_shaper {
    shape sh;
    timer wake;         /* the next release, token or slice */
    timer close_timer;  /* close_after{ms} */
    timer reset_timer;  /* reset_after */
    unsigned socket_full : 1;  /* the socket refused bytes: poll for write */
};

const char *conn_state_name(conn_state s)
{
    switch (s) {
    case CONN_OPEN: return "open";
    case CONN_CLIENT_DONE: return "client-done";
    case CONN_SHUTTING: return "shutting";
    case CONN_HALF_CLOSED: return "half-closed";
    case CONN_CLOSING: return "closing";
    case CONN_CLOSED: return "closed";
    }
    return "?";
}

const char *conn_reason_name(conn_reason r)
{
    switch (r) {
    case CONN_REASON_DONE: return "done";
    case CONN_REASON_RESET: return "reset";
    case CONN_REASON_TIMEOUT: return "timeout";
    case CONN_REASON_ERROR: return "error";
    case CONN_REASON_STOP: return "stop";
    }
    return "?";
}

/* The one place the state changes: it checks the transition is legal. */
static void set_state(conn *c, conn_state to)
{
    conn_state from = c->state;
    int legal = 0;
    switch (from) {
    case CONN_OPEN:
        legal = to != CONN_OPEN && to != CONN_HALF_CLOSED;
        break;
    case CONN_CLIENT_DONE:
        legal = to == CONN_SHUTTING || to == CONN_CLOSING ||
                to == CONN_CLOSED;
        break;
    case CONN_SHUTTING:
        legal = to == CONN_HALF_CLOSED || to == CONN_CLOSING ||
                to == CONN_CLOSED;
        break;
    case CONN_HALF_CLOSED:
    case CONN_CLOSING:
        legal = to == CONN_CLOSED;
        break;
    case CONN_CLOSED:
        break;
    }
    assert(legal && "illegal connection state transition");
    (void)legal;
    if (log_get_level() >= LOG_TRACE)
        log_msg(LOG_TRACE, "conn %llu: %s -> %s", (unsigned long long)c->id,
                conn_state_name(from), conn_state_name(to));
    c->state = to;
}

/* The socket calls, or the transport's when there is no socket. */
static long tx_send(conn *c, const char *data, size_t len)
{
    const conn_transport *t = c->shared->transport;
    if (t != NULL)
        return t->send(c, data, len);
    return net_send(c->io.handle.sock, data, len);
}

static int tx_shutdown_send(conn *c)
{
    const conn_transport *t = c->shared->transport;
    if (t == NULL)
        return net_shutdown_send(c->io.handle.sock);
    t->shutdown_send(c);
    return 0;
}

static void tx_close(conn *c, int abortive)
{
    const conn_transport *t = c->shared->transport;
    if (t != NULL)
        t->close(c, abortive);
    else if (abortive)
        net_abort(c->io.handle.sock);
    else
        net_close(c->io.handle.sock);
}

/* --trace: one line per chunk, with the bytes under --hexdump. */
static void trace_chunk(conn *c, const char *dir, uint64_t offset,
                        const char *data, size_t len)
{
    if (log_get_level() < LOG_TRACE)
        return;
    if (log_hexdump_on()) {
        char title[96];
        snprintf(title, sizeof title, "conn %llu: %s %zu bytes at offset %llu",
                 (unsigned long long)c->id, dir, len,
                 (unsigned long long)offset);
        log_hexdump(title, data, len);
    } else {
        log_msg(LOG_TRACE, "conn %llu: %s %zu bytes at offset %llu",
                (unsigned long long)c->id, dir, len,
                (unsigned long long)offset);
    }
}

/* The poller interest follows from the state: read unless the peer is
 * done or we are paused; write while output is queued. */
static void update_interest(conn *c)
{
    int events = 0;
    if (c->state == CONN_CLOSED || c->shared->transport)
        return;
    if (!c->peer_eof && !c->read_paused && !c->stalled &&
        c->state != CONN_CLOSING)
        events |= POLLER_READ;
    if (buf_len(&c->out) > 0 && (c->shaper == NULL || c->shaper->socket_full))
        events |= POLLER_WRITE; /* shaped: timers pace the rest */
    if (loop_io_set(c->shared->loop, &c->io, events) != 0)
        close_now(c, CONN_REASON_ERROR, 1);
}

/* The earliest of the deadlines that apply in this state. */
static void arm_deadline(conn *c)
{
    conn_shared *s = c->shared;
    uint64_t due = UINT64_MAX;
    if (c->state == CONN_HALF_CLOSED)
        due = c->half_closed_ms + s->drain_ms;
    else if (s->idle_ms > 0)
        due = c->last_active_ms + s->idle_ms;
    if (c->stop_deadline_ms && c->stop_deadline_ms < due)
        due = c->stop_deadline_ms;
    if (due == UINT64_MAX) {
        loop_timer_stop(s->loop, &c->deadline);
        return;
    }
    uint64_t now = loop_now(s->loop);
    loop_timer_start(s->loop, &c->deadline, due > now ? due - now : 0);
}

static conn *new_conn(conn_shared *shared, net_socket sock, const char *peer)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->shared = shared;
    c->state = CONN_OPEN;
    c->id = shared->next_id + 1;
    shared->next_id += shared->id_stride ? shared->id_stride : 1;
    c->opened_ms = c->last_active_ms = loop_now(shared->loop);
    size_t peer_len = strlen(peer);
    if (peer_len >= sizeof c->peer)
        peer_len = sizeof c->peer - 1;
    memcpy(c->peer, peer, peer_len); /* calloc'd: stays terminated */
    loop_io_init(&c->io, sock, on_io, c);
    timer_init(&c->deadline, on_deadline, c);
    return c;
}

/* Count c as live and start its clock. */
static void link_conn(conn_shared *shared, conn *c)
{
    shared->live++;
    c->next = shared->all;
    if (shared->all)
        shared->all->prev = c;
    shared->all = c;
    arm_deadline(c);
}

conn *conn_create(conn_shared *shared, net_socket sock, const char *peer)
{
    conn *c = new_conn(shared, sock, peer);
    if (c == NULL || loop_io_set(shared->loop, &c->io, POLLER_READ) != 0) {
        net_close(sock);
        free(c);
        return NULL;
    }
    link_conn(shared, c);
    log_trace("conn %llu: accepted from %s", (unsigned long long)c->id,
              peer);
    return c;
}

conn *conn_create_virtual(conn_shared *shared, const char *peer)
{
    conn *c = new_conn(shared, NET_INVALID, peer);
    if (c != NULL)
        link_conn(shared, c);
    return c;
}

void conn_set_callbacks(conn *c, const conn_callbacks *cb, void *data)
{
    c->cb = cb;
    c->data = data;
}

static void close_now(conn *c, conn_reason reason, int abortive)
{
    if (c->state == CONN_CLOSED)
        return;
    conn_shared *s = c->shared;
    if (c->later_len > 0) {
        /* Sent before the close was asked (a reset after a reply, say):
         * they go first, as they would have if sent at once. Best effort,
         * and no second close when the socket refuses them. */
        const char *data = s->later.data + c->later_off;
        long n = tx_send(c, data, c->later_len);
        if (n > 0) {
            trace_chunk(c, "out", c->bytes_out, data, (size_t)n);
            c->bytes_out += (uint64_t)n;
        }
        c->later_len = 0;
    }
    if (s->transport == NULL)
        loop_io_forget(s->loop, &c->io);
    loop_timer_stop(s->loop, &c->deadline);
    if (c->framing)
        loop_timer_stop(s->loop, &c->framing->kick);
    if (c->shaper) {
        loop_timer_stop(s->loop, &c->shaper->wake);
        loop_timer_stop(s->loop, &c->shaper->close_timer);
        loop_timer_stop(s->loop, &c->shaper->reset_timer);
    }
    c->reason = reason;
    tx_close(c, abortive);
    c->io.handle.sock = NET_INVALID;
    log_trace("conn %llu: %s, %s after %llu ms, %llu bytes in, %llu out",
              (unsigned long long)c->id, abortive ? "RST sent" : "closed",
              conn_reason_name(reason),
              (unsigned long long)(loop_now(s->loop) - c->opened_ms),
              (unsigned long long)c->bytes_in,
              (unsigned long long)c->bytes_out);
    buf_free(&c->out);
    set_state(c, CONN_CLOSED);
    c->reap_next = s->reap;
    s->reap = c;
}

/* A send or receive failed with err: the connection is over. */
static void fail(conn *c, int err, const char *what)
{
    if (err == ERR_ERESET) {
        log_trace("conn %llu: reset by peer during %s",
                  (unsigned long long)c->id, what);
        close_now(c, CONN_REASON_RESET, 0);
        return;
    }
    log_warn("conn %llu: %s failed: %s", (unsigned long long)c->id, what,
             err_strerror(err));
    close_now(c, CONN_REASON_ERROR, 1);
}

/* FIN goes out; then wait for the peer's own end (or the drain timeout). */
static void send_fin(conn *c)
{
    int rc = tx_shutdown_send(c);
    log_trace("conn %llu: FIN sent", (unsigned long long)c->id);
    if (rc != 0 && rc != ERR_ENOTCONN) {
        fail(c, rc, "shutdown");
        return;
    }
    if (c->peer_eof || rc == ERR_ENOTCONN) {
        set_state(c, CONN_HALF_CLOSED);
        close_now(c, CONN_REASON_DONE, 0);
        return;
    }
    set_state(c, CONN_HALF_CLOSED);
    c->half_closed_ms = loop_now(c->shared->loop);
    arm_deadline(c);
}

/* The output queue just emptied: finish what the state was waiting for. */
static void drained(conn *c)
{
    if (c->state == CONN_SHUTTING)
        send_fin(c);
    else if (c->state == CONN_CLOSING)
        close_now(c, CONN_REASON_DONE, 0);
}

/* After writing: read again below half the limit, finish what an empty
 * queue was waited for, follow the interest. */
static void after_write(conn *c)
{
    if (c->read_paused && buf_len(&c->out) <= c->shared->out_limit / 2) {
        c->read_paused = 0;
        log_debug("conn %llu: output drained, reading again",
                  (unsigned long long)c->id);
    }
    if (buf_len(&c->out) == 0 && c->later_len == 0)
        drained(c);
    if (c->state != CONN_CLOSED)
        update_interest(c);
}

/* Send up to want bytes from the head of the queue. Returns how many went
 * out, 0 when the socket is full, or -1 when the send failed (the
 * connection is then closed). */
static long send_queued(conn *c, size_t want)
{
    long n = send_now(c, buf_head(&c->out), want);
    if (n > 0)
        buf_consume(&c->out, (size_t)n);
    return n;
}

/* Write from the queue until it is empty, the socket is full or this
 * event's share is used. */
static void flush(conn *c)
{
    if (c->shaper) {
        shaped_flush(c);
        return;
    }
    size_t budget = MAX_IO_PER_EVENT;
    while (buf_len(&c->out) > 0 && budget > 0) {
        size_t want = buf_len(&c->out);
        long n = send_queued(c, want < budget ? want : budget);
        if (n < 0)
            return;
        if (n == 0)
            break;
        budget -= (size_t)n;
    }
    after_write(c);
}

/* --- shaping -------------------------------------------------------------- */

static void pause_if_over_limit(conn *c)
{
    if (buf_len(&c->out) > c->shared->out_limit && !c->read_paused) {
        c->read_paused = 1;
        log_debug("conn %llu: %zu bytes unsent, pausing reads",
                  (unsigned long long)c->id, buf_len(&c->out));
    }
}

/* close_after: drop what is unsent and half-close. */
static void cut_output(conn *c, const char *why)
{
    log_debug("conn %llu: %s: output ends after %llu bytes (%zu unsent "
              "dropped)", (unsigned long long)c->id, why,
              (unsigned long long)c->bytes_out, buf_len(&c->out));
    buf_free(&c->out);
    if (c->shaper) {
        shape_drop(&c->shaper->sh, c->bytes_out);
        c->shaper->sh.limit = SHAPE_NEVER;
        c->shaper->sh.stalled = 0;
        loop_timer_stop(c->shared->loop, &c->shaper->wake);
    }
    /* our sending is over: read again (a stall ends) to see the client
     * close, as after any half-close */
    c->stalled = 0;
    c->read_paused = 0;
    switch (c->state) {
    case CONN_OPEN:
    case CONN_CLIENT_DONE:
        set_state(c, CONN_SHUTTING);
        send_fin(c);
        break;
    case CONN_SHUTTING:
        send_fin(c);
        break;
    case CONN_CLOSING:
        close_now(c, CONN_REASON_DONE, 0);
        break;
    default:
        break;
    }
    if (c->state != CONN_CLOSED)
        update_interest(c);
}

static int limit_reached(const conn *c)
{
    return c->shaper->sh.limit != SHAPE_NEVER &&
           c->bytes_out >= c->shaper->sh.limit;
}

/* Write what the shaping allows now; a timer wakes us for the rest, or
 * the poller when the socket is full. */
static void shaped_flush(conn *c)
{
    conn_shaper *sp = c->shaper;
    loop *l = c->shared->loop;
    size_t budget = MAX_IO_PER_EVENT;
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
        long n = send_queued(c, want);
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
    if (buf_len(&c->out) > 0 && !sp->socket_full && wake != SHAPE_NEVER) {
        if (loop_timer_start(l, &sp->wake, wake > now ? wake - now : 0)) {
            log_error("conn %llu: out of memory arming a shaping timer",
                      (unsigned long long)c->id);
            close_now(c, CONN_REASON_ERROR, 1);
            return;
        }
    }
    after_write(c);
}

static int shaped_send(conn *c, const char *data, size_t len)
{
    conn_shaper *sp = c->shaper;
    uint64_t start = c->bytes_out + buf_len(&c->out);
    if (buf_append(&c->out, data, len) != 0 ||
        shape_push(&sp->sh, start, start + len,
                   loop_now(c->shared->loop)) != 0) {
        log_error("conn %llu: out of memory queueing %zu bytes",
                  (unsigned long long)c->id, len);
        close_now(c, CONN_REASON_ERROR, 1);
        return ERR_ENOMEM;
    }
    pause_if_over_limit(c);
    if (sp->socket_full)
        update_interest(c);
    else
        shaped_flush(c);
    return 0;
}

static void on_shape_wake(timer *t)
{
    conn *c = t->data;
    if (c->state != CONN_CLOSED)
        shaped_flush(c);
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
    log_debug("conn %llu: reset_after: resetting",
              (unsigned long long)c->id);
    conn_reset(c, CONN_REASON_RESET);
}

/* The shaping state, created on first use; NULL when memory runs out. */
/* c's shaper, made on first use. NULL when there is nothing to shape,
 * c being closed (*rc = 0, also when writing its waiting bytes closed
 * it), or when memory runs out (*rc = ERR_ENOMEM). */
static conn_shaper *shaper_of(conn *c, int *rc)
{
    *rc = 0;
    if (c->state == CONN_CLOSED)
        return NULL;
    if (c->shaper)
        return c->shaper;
    write_later_now(c); /* sent before the shaping began */
    if (c->state == CONN_CLOSED)
        return NULL;
    conn_shaper *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        *rc = ERR_ENOMEM;
        return NULL;
    }
    shape_init(&sp->sh, loop_now(c->shared->loop));
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
    shape_set_rate(&sp->sh, bytes_per_second, loop_now(c->shared->loop));
    shaped_flush(c);
    return 0;
}

int conn_slice(conn *c, size_t size, size_t variation, uint64_t gap_ms)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    shape_set_slice(&sp->sh, size, variation, gap_ms);
    shaped_flush(c);
    return 0;
}

int conn_stall(conn *c)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    sp->sh.stalled = 1;
    c->stalled = 1;
    loop_timer_stop(c->shared->loop, &sp->wake);
    update_interest(c);
    return 0;
}

void conn_resume(conn *c)
{
    if (c->state == CONN_CLOSED || !c->stalled)
        return;
    c->stalled = 0;
    c->shaper->sh.stalled = 0;
    shaped_flush(c);
}

int conn_close_after_bytes(conn *c, uint64_t n)
{
    int rc;
    conn_shaper *sp = shaper_of(c, &rc);
    if (sp == NULL)
        return rc;
    sp->sh.limit = c->bytes_out + n;
    shaped_flush(c);
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
    return loop_timer_start(c->shared->loop, t, ms) != 0 ? ERR_ENOMEM : 0;
}

int conn_close_after_ms(conn *c, uint64_t ms)
{
    return start_end_timer(c, 0, ms);
}

int conn_reset_after(conn *c, uint64_t ms)
{
    return start_end_timer(c, 1, ms);
}

/* Send what the socket takes now, straight from data. Returns how many
 * bytes went out, or -1 when the send failed (the connection is then
 * closed). */
static long send_now(conn *c, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        long n = tx_send(c, data + sent, len - sent);
        if (n == ERR_EINTR)
            continue;
        if (n == ERR_EAGAIN)
            break;
        if (n < 0) {
            fail(c, (int)n, "send");
            return -1;
        }
        trace_chunk(c, "out", c->bytes_out, data + sent, (size_t)n);
        sent += (size_t)n;
        c->bytes_out += (uint64_t)n;
    }
    if (sent > 0)
        c->last_active_ms = loop_now(c->shared->loop);
    return (long)sent;
}

/* Queue the bytes the socket did not take. */
static int queue(conn *c, const char *data, size_t len)
{
    if (buf_append(&c->out, data, len) != 0) {
        log_error("conn %llu: out of memory queueing %zu bytes",
                  (unsigned long long)c->id, len);
        close_now(c, CONN_REASON_ERROR, 1);
        return ERR_ENOMEM;
    }
    pause_if_over_limit(c);
    update_interest(c);
    return 0;
}

/* --- writing before the loop sleeps ---------------------------------------
 *
 * The Redis pattern: a small send is not made at once but copied to one
 * buffer of the loop's (shared->later), and conn_write_later writes them
 * all just before the loop sleeps. A batch's system calls then run back
 * to back instead of between script calls, which keeps the kernel's and
 * Lua's working sets warm in the caches: on the 64-byte pingpong benchmark
 * with upper.lua the server's CPU per message went from 1.07 to 1.02
 * times the reference server's. Each connection's waiting bytes are one
 * range, at most CONN_LATER_MAX long, and the output queue is empty while
 * it has any, so bytes never change order. */

/* All connections' waiting bytes together stay under this; past it, a
 * connection's sends go out at once, as without the buffer. The buffer
 * keeps its memory, at most this much, from one iteration to the next. */
#define LATER_TOTAL_MAX (256 * 1024)

/* Write c's waiting bytes now; the rest goes to its output queue. */
static void write_later_now(conn *c)
{
    size_t len = c->later_len;
    if (len == 0)
        return;
    const char *data = c->shared->later.data + c->later_off;
    c->later_len = 0;
    long n = send_now(c, data, len);
    if (n >= 0 && (size_t)n < len)
        queue(c, data + n, len - (size_t)n);
}

/* Copy a send aside for conn_write_later. Returns -1 when it cannot be:
 * c's waiting bytes have then been written (or queued) to keep the order,
 * and the caller sends now. */
static int send_later(conn *c, const char *data, size_t len)
{
    conn_later *lt = &c->shared->later;
    int contiguous = c->later_len == 0 ||
                     c->later_off + c->later_len == lt->len;
    if (!contiguous || c->later_len + len > CONN_LATER_MAX ||
        lt->len + len > LATER_TOTAL_MAX) {
        write_later_now(c);
        return -1;
    }
    if (lt->len + len > lt->cap) {
        size_t cap = lt->cap ? lt->cap : CONN_LATER_MAX;
        while (cap < lt->len + len)
            cap *= 2;
        char *grown = realloc(lt->data, cap);
        if (grown == NULL) {
            write_later_now(c);
            return -1;
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
    return 0;
}

void conn_write_later(conn_shared *shared)
{
    conn_later *lt = &shared->later;
    while (lt->first != NULL) {
        conn *c = lt->first;
        lt->first = c->later_next;
        c->later_listed = 0;
        if (c->later_len == 0 || c->state == CONN_CLOSED)
            continue;
        write_later_now(c);
        if (c->state != CONN_CLOSED)
            after_write(c);
    }
    lt->len = 0;
}

void conn_later_free(conn_shared *shared)
{
    free(shared->later.data);
    shared->later.data = NULL;
    shared->later.cap = shared->later.len = 0;
}

/* Send what we can now, queue the rest. Shared by the owner's sends and
 * the echo fast path, after the state was checked. */
static int send_or_queue(conn *c, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (c->shaper)
        return shaped_send(c, data, len);
    if (c->shared->write_later && buf_len(&c->out) == 0) {
        if (send_later(c, data, len) == 0)
            return 0;
        if (c->state == CONN_CLOSED)
            return 0; /* writing the waiting bytes failed */
    }
    if (buf_len(&c->out) == 0) {
        long n = send_now(c, data, len);
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
    return send_or_queue(c, data, len);
}

int conn_shutdown(conn *c)
{
    if (!conn_writable(c))
        return ERR_ENOTWRITABLE;
    set_state(c, CONN_SHUTTING);
    if (buf_len(&c->out) == 0 && c->later_len == 0)
        send_fin(c);
    return 0;
}

int conn_close(conn *c)
{
    if (c->state == CONN_HALF_CLOSED) {
        close_now(c, CONN_REASON_DONE, 0);
        return 0;
    }
    if (!conn_writable(c) && c->state != CONN_SHUTTING)
        return ERR_ENOTWRITABLE;
    set_state(c, CONN_CLOSING);
    if (buf_len(&c->out) == 0 && c->later_len == 0)
        close_now(c, CONN_REASON_DONE, 0);
    else
        update_interest(c);
    return 0;
}

void conn_reset(conn *c, conn_reason reason)
{
    close_now(c, reason, 1);
}

void conn_stop_by(conn *c, uint64_t deadline_ms)
{
    if (c->state == CONN_CLOSED)
        return;
    c->stop_deadline_ms = deadline_ms ? deadline_ms : 1;
    arm_deadline(c);
}

static void deliver_frames(conn *c, const char *data, size_t len);

/* The peer sent FIN. */
static void peer_done(conn *c)
{
    log_trace("conn %llu: FIN received", (unsigned long long)c->id);
    c->peer_eof = 1;
    if (c->framing) /* whole frames held after a mode change go first */
        deliver_frames(c, NULL, 0);
    switch (c->state) {
    case CONN_OPEN:
        set_state(c, CONN_CLIENT_DONE);
        if (c->cb && c->cb->done)
            c->cb->done(c);
        else
            conn_shutdown(c);
        if (c->framing && framer_has_rest(&c->framing->fr))
            log_debug("conn %llu: %s frame unfinished at the end of "
                      "stream: dropped", (unsigned long long)c->id,
                      frame_mode_name(c->framing->fr.spec.mode));
        if (c->framing)
            framer_clear(&c->framing->fr);
        break;
    case CONN_HALF_CLOSED:
        close_now(c, CONN_REASON_DONE, 0);
        return;
    default:
        break; /* SHUTTING/CLOSING: the flush decides what comes next */
    }
    if (c->state != CONN_CLOSED)
        update_interest(c);
}

/* Hand one received chunk to the owner, or echo it. */
static void deliver(conn *c, const char *data, size_t len)
{
    if (c->cb && c->cb->data) {
        c->cb->data(c, data, len);
        return;
    }
    if (conn_writable(c))
        send_or_queue(c, data, len);
    /* Echo after our FIN: the bytes are read and dropped, as the reference
     * server does while it waits for the client's close. */
}

/* A frame the mode cannot take: the connection ends. */
static void frame_error(conn *c, int rc)
{
    const frame_spec *spec = &c->framing->fr.spec;
    const char *mode = frame_mode_name(spec->mode);
    unsigned long long id = (unsigned long long)c->id;
    if (rc == ERR_ETOOBIG && spec->mode == FRAME_LENGTH)
        log_warn("conn %llu: length frame of %llu bytes is over max %zu: "
                 "resetting the connection", id,
                 (unsigned long long)c->framing->fr.bad_value, spec->max);
    else if (rc == ERR_ETOOBIG)
        log_warn("conn %llu: %s frame longer than max %zu bytes: resetting "
                 "the connection", id, mode, spec->max);
    else if (rc == ERR_EBADFRAME)
        log_warn("conn %llu: negative length prefix (mode %s, %zu-byte "
                 "signed prefix): resetting the connection", id, mode,
                 spec->size);
    else
        log_error("conn %llu: out of memory holding a %s frame", id, mode);
    conn_reset(c, CONN_REASON_ERROR);
}

/* Cut data into frames and hand them over one at a time, looking at the
 * mode again before each (the owner may change it in between). Every
 * frame takes at least one byte, so this ends. */
static void deliver_frames(conn *c, const char *data, size_t len)
{
    framer *f = &c->framing->fr;
    while (c->state != CONN_CLOSED && c->state != CONN_CLOSING) {
        const char *frame;
        size_t frame_len, used;
        int rc = framer_next(f, data, len, &used, &frame, &frame_len);
        data += used;
        len -= used;
        if (rc == FRAME_NEED)
            return;
        if (rc != FRAME_READY) {
            frame_error(c, rc);
            return;
        }
        deliver(c, frame, frame_len);
    }
}

static void received(conn *c, const char *data, size_t len)
{
    trace_chunk(c, "in", c->bytes_in, data, len);
    c->bytes_in += (uint64_t)len;
    c->last_active_ms = loop_now(c->shared->loop);
    if (c->framing)
        deliver_frames(c, data, len);
    else
        deliver(c, data, len);
}

static void on_frame_kick(timer *t)
{
    conn *c = t->data;
    if (c->state != CONN_CLOSED)
        deliver_frames(c, NULL, 0);
}

int conn_frame(conn *c, const frame_spec *spec)
{
    if (c->state == CONN_CLOSED)
        return 0;
    if (c->framing == NULL) {
        if (spec->mode == FRAME_RAW)
            return 0;
        c->framing = malloc(sizeof *c->framing);
        if (c->framing == NULL)
            return ERR_ENOMEM;
        framer_init(&c->framing->fr, spec);
        timer_init(&c->framing->kick, on_frame_kick, c);
        return 0;
    }
    framer_set(&c->framing->fr, spec);
    /* Held bytes may now make whole frames; outside the data callback
     * nothing would cut them before more input came, so look soon (never
     * from here: the owner may be inside a callback). */
    if (framer_has_rest(&c->framing->fr) && !c->peer_eof &&
        loop_timer_start(c->shared->loop, &c->framing->kick, 0) != 0)
        return ERR_ENOMEM;
    return 0;
}

const char *conn_take_rest(conn *c, size_t *len)
{
    *len = 0;
    if (c->framing == NULL)
        return NULL;
    return framer_take_rest(&c->framing->fr, len);
}

static void do_read(conn *c)
{
    conn_shared *s = c->shared;
    size_t budget = MAX_IO_PER_EVENT;
    while (budget > 0 && !c->read_paused && !c->peer_eof && !c->stalled &&
           c->state != CONN_CLOSED && c->state != CONN_CLOSING) {
        long n = net_recv(c->io.handle.sock, s->rbuf, s->rbuf_size);
        if (n == ERR_EINTR)
            continue;
        if (n == ERR_EAGAIN)
            break;
        if (n < 0) {
            fail(c, (int)n, "recv");
            return;
        }
        if (n == 0) {
            peer_done(c);
            return;
        }
        received(c, s->rbuf, (size_t)n);
        if ((size_t)n < s->rbuf_size)
            break; /* the socket is most likely empty: save a syscall */
        budget -= (size_t)n;
    }
    if (c->state != CONN_CLOSED)
        update_interest(c);
}

static void on_io(loop *l, loop_io *io, int events)
{
    conn *c = io->data;
    (void)l;
    if ((events & POLLER_WRITE) && c->state != CONN_CLOSED)
        flush(c);
    if ((events & POLLER_READ) && c->state != CONN_CLOSED)
        do_read(c);
}

static void on_deadline(timer *t)
{
    conn *c = t->data;
    uint64_t now = loop_now(c->shared->loop);
    int stopping = c->stop_deadline_ms && now >= c->stop_deadline_ms;
    int draining = c->state == CONN_HALF_CLOSED &&
                   now >= c->half_closed_ms + c->shared->drain_ms;
    int idle = c->state != CONN_HALF_CLOSED && c->shared->idle_ms > 0 &&
               now >= c->last_active_ms + c->shared->idle_ms;
    if (stopping) {
        log_info("conn %llu: closed by the server stop (%s)",
                 (unsigned long long)c->id, conn_state_name(c->state));
        close_now(c, CONN_REASON_STOP, 0);
    } else if (draining) {
        log_info("conn %llu: the peer did not close within the drain "
                 "timeout", (unsigned long long)c->id);
        close_now(c, CONN_REASON_TIMEOUT, 0);
    } else if (idle) {
        log_info("conn %llu: idle timeout (%s)", (unsigned long long)c->id,
                 conn_state_name(c->state));
        close_now(c, CONN_REASON_TIMEOUT, 1);
    } else {
        arm_deadline(c); /* activity moved the deadline: look again then */
    }
}

void conn_note(conn *c, const char *fmt, ...)
{
    const conn_transport *t = c->shared->transport;
    if (t == NULL && log_get_level() < LOG_TRACE)
        return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (t != NULL && t->note != NULL)
        t->note(c, what);
    else
        log_msg(LOG_TRACE, "conn %llu: %s", (unsigned long long)c->id, what);
}

void conn_feed(conn *c, const char *data, size_t len)
{
    if (c->state == CONN_CLOSED || c->state == CONN_CLOSING || c->peer_eof)
        return;
    received(c, data, len);
}

void conn_feed_eof(conn *c)
{
    if (c->state != CONN_CLOSED && !c->peer_eof)
        peer_done(c);
}

void conn_feed_reset(conn *c)
{
    log_trace("conn %llu: reset by peer", (unsigned long long)c->id);
    close_now(c, CONN_REASON_RESET, 0);
}

void conn_reap(conn_shared *shared)
{
    conn_write_later(shared); /* the list may hold connections freed here */
    while (shared->reap) {
        conn *c = shared->reap;
        shared->reap = c->reap_next;
        if (c->cb && c->cb->close)
            c->cb->close(c, c->reason);
        shared->live--;
        if (c->prev)
            c->prev->next = c->next;
        else
            shared->all = c->next;
        if (c->next)
            c->next->prev = c->prev;
        if (c->framing) {
            framer_clear(&c->framing->fr);
            free(c->framing);
        }
        if (c->shaper) {
            shape_free(&c->shaper->sh);
            free(c->shaper);
        }
        free(c);
    }
}
