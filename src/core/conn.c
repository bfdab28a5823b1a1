/* conn.c -- one connection's life: the state machine, its deadlines, and
 * the table of one loop's connections.
 *
 * Half-close follows libuv: a shutdown request makes the connection
 * unwritable at once, but FIN goes out only when the output queue is
 * empty, so nothing the owner sent is ever lost; the peer's end of stream
 * is reported exactly once. The output queue is conn_out.c's, framing
 * conn_frame.c's, shaping conn_shape.c's. */
#include "conn_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"


static void on_io(loop *l, loop_io *io, int events);
static void on_deadline(timer *t);

const char *conn_state_name(enum conn_state s)
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

const char *conn_reason_name(enum conn_reason r)
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

const char *conn_connect_result_name(enum conn_connect_result r)
{
    switch (r) {
    case CONN_CONNECT_OK: return "ok";
    case CONN_CONNECT_REFUSED: return "refused";
    case CONN_CONNECT_TIMEOUT: return "timeout";
    case CONN_CONNECT_ERROR: break;
    case CONN_CONNECT_RESULTS: break;
    }
    return "error";
}

void conn_table_stats(const conn_table *t, conn_stats *out)
{
    const conn_counters *s = &t->stats;
    /* the closes first: a connection counts as accepted before it can
     * count as closed, so active (accepted - closed) is rarely negative */
    for (int r = 0; r < CONN_REASONS; r++)
        out->closed[r] = stat_get(&s->closed[r]);
    out->accepted = stat_get(&s->accepted);
    out->bytes_in = stat_get(&s->bytes_in);
    out->bytes_out = stat_get(&s->bytes_out);
    out->up_started = stat_get(&s->up_started);
    for (int r = 0; r < CONN_CONNECT_RESULTS; r++)
        out->up_connects[r] = stat_get(&s->up_connects[r]);
    out->up_closed = stat_get(&s->up_closed);
    out->up_bytes_in = stat_get(&s->up_bytes_in);
    out->up_bytes_out = stat_get(&s->up_bytes_out);
}

/* The one place the state changes: it checks the transition is legal. */
void conn__set_state(conn *c, enum conn_state to)
{
    enum conn_state from = c->state;
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
        log_msg(LOG_TRACE, "conn %llu%s: %s -> %s", CONN_ID(c),
                conn_state_name(from), conn_state_name(to));
    c->state = to;
}

void conn__trace_chunk(conn *c, const char *dir, uint64_t offset,
                       const char *data, size_t len)
{
    if (log_get_level() < LOG_TRACE)
        return;
    char title[160];
    snprintf(title, sizeof title, "conn %llu%s: %s %zu bytes at offset %llu",
             CONN_ID(c), dir, len,
             (unsigned long long)offset);
    if (log_hexdump_on())
        log_hexdump(title, data, len);
    else
        log_msg(LOG_TRACE, "%s", title);
}

int conn__fail_nomem(conn *c, const char *what)
{
    log_error("conn %llu%s: out of memory %s: resetting the connection",
              CONN_ID(c), what);
    conn__close_now(c, CONN_REASON_ERROR, 1);
    return ERR_ENOMEM;
}

/* The poller interest follows from the state: read unless the peer is
 * done or we are paused; write while output is queued. */
void conn__update_interest(conn *c)
{
    int events = 0;
    if (c->state == CONN_CLOSED || c->table->cfg.transport)
        return;
    if (c->connecting) /* writable once connected (or failed) */
        events = POLLER_WRITE;
    else if (!c->peer_eof && !c->read_paused && !c->stalled && !c->held &&
             c->state != CONN_CLOSING)
        events |= POLLER_READ;
    if (buf_len(&c->out) > 0 && (c->shaper == NULL || c->shaper->socket_full))
        events |= POLLER_WRITE; /* shaped: timers pace the rest */
    int rc = loop_io_set(conn__loop(c), &c->io, events);
    if (rc != 0) {
        log_error("conn %llu%s: cannot poll the socket: %s",
                  CONN_ID(c), err_strerror(rc));
        conn__close_now(c, CONN_REASON_ERROR, 1);
    }
}

/* The earliest of the deadlines that apply in this state. */
static void arm_deadline(conn *c)
{
    const conn_config *cfg = &c->table->cfg;
    uint64_t due = UINT64_MAX;
    if (c->state == CONN_HALF_CLOSED)
        due = c->half_closed_ms + cfg->drain_ms;
    else if (c->timed_out) /* what is queued has the drain timeout */
        due = c->timed_out_ms + cfg->drain_ms;
    else if (cfg->idle_ms > 0 && !c->outbound)
        due = c->last_active_ms + cfg->idle_ms;
    if (conn__connect_deadline(c) < due)
        due = conn__connect_deadline(c);
    if (c->stop_deadline_ms && c->stop_deadline_ms < due)
        due = c->stop_deadline_ms;
    if (due == UINT64_MAX) {
        loop_timer_stop(cfg->loop, &c->deadline);
        return;
    }
    uint64_t now = loop_now(cfg->loop);
    if (loop_timer_start(cfg->loop, &c->deadline, due > now ? due - now : 0))
        conn__fail_nomem(c, "arming its deadline");
}

/* --- the table ----------------------------------------------------------- */

conn_table *conn_table_create(const conn_config *cfg)
{
    conn_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.id_stride == 0)
        t->cfg.id_stride = 1;
    t->next_id = t->cfg.first_id ? t->cfg.first_id : 1;
    if (cfg->transport == NULL) {
        t->rbuf_size = CONN_READ_MAX;
        t->rbuf = malloc(t->rbuf_size);
        if (t->rbuf == NULL) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* Run the close callback of, and free, every connection closed since the
 * last call. */
static void reap(conn_table *t)
{
    while (t->reap) {
        conn *c = t->reap;
        if (c->later_listed) /* closed after the last write-later pass */
            conn__write_later_all(t);
        t->reap = c->reap_next;
        if (c->cb && c->cb->close)
            c->cb->close(c, c->reason);
        conn__tap(c, CONN_TAP_FREE, NULL, 0);
        t->live--;
        t->closed--;
        if (c->prev)
            c->prev->next = c->next;
        else
            t->all = c->next;
        if (c->next)
            c->next->prev = c->prev;
        conn__frame_free(c);
        conn__shaper_free(c);
        conn__connect_free(c);
        free(c);
    }
}

void conn_table_tick(conn_table *t)
{
    /* Close callbacks may send on other connections, and a write may
     * close one: go on until both lists are empty. Each round frees or
     * writes, so this ends. */
    while (t->later.first != NULL || t->reap != NULL) {
        conn__write_later_all(t);
        reap(t);
    }
}

void conn_table_free(conn_table *t)
{
    if (t == NULL)
        return;
    conn_table_reset_all(t, CONN_REASON_STOP);
    conn_table_tick(t);
    conn__later_free(t);
    conn__peers_free(t);
    free(t->rbuf);
    free(t);
}

size_t conn_table_live(const conn_table *t)
{
    return t->live;
}

size_t conn_table_open(const conn_table *t)
{
    return t->live - t->closed - t->outbound_open;
}

size_t conn_table_outbound(const conn_table *t)
{
    return t->outbound_open;
}

conn *conn_table_idlest(conn_table *t)
{
    return t->active_last;
}

conn *conn_table_find(conn_table *t, uint64_t id)
{
    for (conn *c = t->all; c; c = c->next)
        if (c->id == id)
            return c->state == CONN_CLOSED ? NULL : c;
    return NULL;
}

void conn_table_stop_by(conn_table *t, uint64_t deadline_ms)
{
    for (conn *c = t->all; c; c = c->next) {
        if (c->state == CONN_CLOSED)
            continue;
        c->stop_deadline_ms = deadline_ms ? deadline_ms : 1;
        arm_deadline(c);
    }
}

void conn_table_reset_all(conn_table *t, enum conn_reason reason)
{
    for (conn *c = t->all; c; c = c->next)
        conn__close_now(c, reason, 1);
}

/* --- creating ------------------------------------------------------------ */

void conn_set_read_max(conn *c, size_t n)
{
    c->read_max = n == 0 ? 1 : n > CONN_READ_MAX ? CONN_READ_MAX : n;
}

conn *conn__new(conn_table *t, net_socket sock, const char *peer)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->table = t;
    c->read_max = CONN_READ_MAX;
    c->state = CONN_OPEN;
    c->id = t->next_id;
    t->next_id += t->cfg.id_stride;
    c->opened_ms = c->last_active_ms = loop_now(t->cfg.loop);
    c->ordered_ms = c->opened_ms;
    size_t peer_len = strlen(peer);
    if (peer_len >= sizeof c->peer)
        peer_len = sizeof c->peer - 1;
    memcpy(c->peer, peer, peer_len); /* calloc'd: stays terminated */
    loop_io_init(&c->io, sock, on_io, c);
    timer_init(&c->deadline, on_deadline, c);
    return c;
}

/* Take c out of the table's activity order. */
static void unlink_active(conn_table *t, conn *c)
{
    if (c->more_active)
        c->more_active->less_active = c->less_active;
    else
        t->active_first = c->less_active;
    if (c->less_active)
        c->less_active->more_active = c->more_active;
    else
        t->active_last = c->more_active;
    c->more_active = c->less_active = NULL;
}

static void push_active(conn_table *t, conn *c)
{
    c->more_active = NULL;
    c->less_active = t->active_first;
    if (t->active_first)
        t->active_first->more_active = c;
    else
        t->active_last = c;
    t->active_first = c;
}

void conn__touch(conn *c)
{
    conn_table *t = c->table;
    uint64_t now = loop_now(t->cfg.loop);
    c->last_active_ms = now;
    if (c->outbound)
        return; /* in no order: never evicted */
    /* A busy connection is touched twice a message: moving it at most
     * once per grain keeps the pointer writes off the hot path, and the
     * order (by ordered_ms) within a grain of the true one. */
    if (now - c->ordered_ms < CONN_ORDER_GRAIN_MS ||
        c->state == CONN_CLOSED) /* a closed one is in no order */
        return;
    c->ordered_ms = now;
    if (t->active_first != c) {
        unlink_active(t, c);
        push_active(t, c);
    }
}

/* Count c as live (and, unless it is outbound, in the activity order and
 * under its peer's address) and start its clock. */
void conn__link(conn_table *t, conn *c)
{
    t->live++;
    stat_add(c->outbound ? &t->stats.up_started : &t->stats.accepted, 1);
    c->next = t->all;
    if (t->all)
        t->all->prev = c;
    t->all = c;
    conn__tap(c, CONN_TAP_OPEN, NULL, 0);
    if (c->outbound) {
        t->outbound_open++;
    } else {
        push_active(t, c);
    }
    if (!c->outbound && t->cfg.count_peers && conn__peers_add(t, c) != 0) {
        conn__fail_nomem(c, "counting its peer's connections");
        return;
    }
    arm_deadline(c);
}

conn *conn_accept(conn_table *t, net_socket sock, const char *peer)
{
    conn *c = conn__new(t, sock, peer);
    if (c == NULL || loop_io_set(t->cfg.loop, &c->io, POLLER_READ) != 0) {
        net_close(sock);
        free(c);
        return NULL;
    }
    conn__link(t, c);
    if (c->state == CONN_CLOSED)
        return NULL; /* out of memory: reset, freed at the tick */
    log_trace("conn %llu%s: accepted from %s", CONN_ID(c),
              peer);
    return c;
}

conn *conn_open_virtual(conn_table *t, const char *peer)
{
    assert(t->cfg.transport != NULL);
    conn *c = conn__new(t, NET_INVALID, peer);
    if (c == NULL)
        return NULL;
    conn__link(t, c);
    return c->state == CONN_CLOSED ? NULL : c;
}

void conn_set_callbacks(conn *c, const conn_callbacks *cb, void *owner)
{
    c->cb = cb;
    c->owner = owner;
}

void conn_set_label(conn *c, const char *label)
{
    if (label == NULL || *label == '\0')
        c->label[0] = '\0';
    else
        snprintf(c->label, sizeof c->label, " (%.*s)",
                 (int)sizeof c->label - 4, label);
}

void conn_hold_reading(conn *c, int hold)
{
    if (c->state == CONN_CLOSED || (int)c->held == (hold != 0))
        return;
    c->held = hold != 0;
    conn__update_interest(c);
}

int conn_writable(const conn *c)
{
    return c->state == CONN_OPEN || c->state == CONN_CLIENT_DONE;
}

/* --- ending -------------------------------------------------------------- */

void conn__close_now(conn *c, enum conn_reason reason, int abortive)
{
    if (c->state == CONN_CLOSED)
        return;
    conn_table *t = c->table;
    /* Sent before the close was asked (a reset after a reply, say): they
     * go first, as they would have if sent at once. */
    conn__write_later_at_close(c);
    if (t->cfg.transport == NULL)
        loop_io_forget(t->cfg.loop, &c->io);
    loop_timer_stop(t->cfg.loop, &c->deadline);
    conn__frame_stop(c);
    conn__shaper_stop(c);
    conn__connect_stop(c);
    if (c->outbound) {
        t->outbound_open--;
    } else {
        unlink_active(t, c);
        conn__peers_remove(t, c);
    }
    t->closed++;
    /* an end the idle timeout began is a timeout, however it finishes */
    if (reason == CONN_REASON_DONE && c->timed_out)
        reason = CONN_REASON_TIMEOUT;
    c->reason = reason;
    stat_add(c->outbound ? &t->stats.up_closed : &t->stats.closed[reason], 1);
    c->closed_ms = loop_now(t->cfg.loop);
    conn__tx_close(c, abortive);
    c->io.handle.sock = NET_INVALID;
    log_trace("conn %llu%s: %s, %s after %llu ms, %llu bytes in, %llu out",
              CONN_ID(c), abortive ? "RST sent" : "closed",
              conn_reason_name(reason),
              (unsigned long long)(loop_now(t->cfg.loop) - c->opened_ms),
              (unsigned long long)c->bytes_in,
              (unsigned long long)c->bytes_out);
    buf_free(&c->out);
    conn__set_state(c, CONN_CLOSED);
    c->reap_next = t->reap;
    t->reap = c;
}

void conn__fail(conn *c, int err, const char *what)
{
    if (err == ERR_ERESET) {
        log_trace("conn %llu%s: reset by peer during %s",
                  CONN_ID(c), what);
        c->peer_reset = c->state != CONN_CLOSED;
        if (c->peer_reset)
            conn__tap(c, CONN_TAP_PEER_RESET, NULL, 0);
        conn__close_now(c, CONN_REASON_RESET, 0);
        return;
    }
    log_warn("conn %llu%s: %s failed: %s", CONN_ID(c), what,
             err_strerror(err));
    conn__close_now(c, CONN_REASON_ERROR, 1);
}

void conn__send_fin(conn *c)
{
    assert(!conn__has_output(c) && "FIN before the queue is empty");
    int rc = conn__tx_shutdown_send(c);
    log_trace("conn %llu%s: FIN sent", CONN_ID(c));
    if (c->first_fin == CONN_FIN_NEITHER)
        c->first_fin = CONN_FIN_OURS;
    if (rc != 0 && rc != ERR_ENOTCONN) {
        conn__fail(c, rc, "shutdown");
        return;
    }
    conn__set_state(c, CONN_HALF_CLOSED);
    if (c->peer_eof || rc == ERR_ENOTCONN) {
        conn__close_now(c, CONN_REASON_DONE, 0);
        return;
    }
    c->half_closed_ms = loop_now(conn__loop(c));
    arm_deadline(c);
}

/* The output queue just emptied: finish what the state was waiting for. */
static void drained(conn *c)
{
    if (c->state == CONN_SHUTTING)
        conn__send_fin(c);
    else if (c->state == CONN_CLOSING)
        conn__close_now(c, CONN_REASON_DONE, 0);
}

void conn__after_write(conn *c)
{
    size_t half = c->table->cfg.out_limit / 2;
    if (c->read_paused && buf_len(&c->out) <= half) {
        c->read_paused = 0;
        log_debug("conn %llu%s: output drained, reading again",
                  CONN_ID(c));
    }
    if (c->over_limit && buf_len(&c->out) <= half) {
        c->over_limit = 0;
        if (c->cb && c->cb->pressure)
            c->cb->pressure(c, 0);
        if (c->state == CONN_CLOSED)
            return;
    }
    if (!conn__has_output(c))
        drained(c);
    if (c->state != CONN_CLOSED)
        conn__update_interest(c);
}

int conn_shutdown(conn *c)
{
    if (!conn_writable(c))
        return ERR_ENOTWRITABLE;
    conn__set_state(c, CONN_SHUTTING);
    if (!conn__has_output(c) && !c->connecting)
        conn__send_fin(c);
    return 0;
}

int conn_close(conn *c)
{
    if (c->state == CONN_HALF_CLOSED) {
        conn__close_now(c, CONN_REASON_DONE, 0);
        return 0;
    }
    if (!conn_writable(c) && c->state != CONN_SHUTTING)
        return ERR_ENOTWRITABLE;
    conn__set_state(c, CONN_CLOSING);
    if (!conn__has_output(c) && !c->connecting)
        conn__close_now(c, CONN_REASON_DONE, 0);
    else
        conn__update_interest(c);
    return 0;
}

void conn_reset(conn *c, enum conn_reason reason)
{
    conn__close_now(c, reason, 1);
}

/* Bytes of c not yet handed to the socket. */
static size_t unsent(const conn *c)
{
    return buf_len(&c->out) + c->later_len;
}

int conn_evict(conn *c, const char *why)
{
    if (c->state == CONN_CLOSED)
        return 0;
    /* dropping output is never a clean end: those peers get a reset */
    int abortive = conn__has_output(c);
    log_debug("conn %llu%s: %s after %llu ms idle (%s), %zu bytes unsent",
              CONN_ID(c), abortive ? "reset" : "closed",
              (unsigned long long)conn_idle_ms(c), why, unsent(c));
    conn__close_now(c, CONN_REASON_TIMEOUT, abortive);
    return abortive;
}

/* --- reading ------------------------------------------------------------- */

/* The peer sent FIN. */
static void peer_done(conn *c)
{
    log_trace("conn %llu%s: FIN received", CONN_ID(c));
    conn__tap(c, CONN_TAP_PEER_FIN, NULL, 0);
    c->peer_eof = 1;
    if (c->first_fin == CONN_FIN_NEITHER)
        c->first_fin = CONN_FIN_PEER;
    conn__frame_eof(c); /* whole frames held after a mode change go first */
    switch (c->state) {
    case CONN_OPEN:
        conn__set_state(c, CONN_CLIENT_DONE);
        if (c->cb && c->cb->done)
            c->cb->done(c);
        else
            conn_shutdown(c);
        conn__frame_end(c);
        break;
    case CONN_HALF_CLOSED:
        if (c->cb && c->cb->late_done)
            c->cb->late_done(c);
        conn__close_now(c, CONN_REASON_DONE, 0);
        return;
    default: /* SHUTTING/CLOSING: the flush decides what comes next */
        if (c->cb && c->cb->late_done)
            c->cb->late_done(c);
        break;
    }
    if (c->state != CONN_CLOSED)
        conn__update_interest(c);
}

void conn__deliver(conn *c, const char *data, size_t len)
{
    if (c->cb && c->cb->data) {
        c->cb->data(c, data, len);
        return;
    }
    if (conn_writable(c))
        conn__send_or_queue(c, data, len);
    /* Echo after our FIN: the bytes are read and dropped, as the reference
     * server does while it waits for the client's close. */
}

static void received(conn *c, const char *data, size_t len)
{
    conn__trace_chunk(c, "in", c->bytes_in, data, len);
    conn__tap(c, CONN_TAP_IN, data, len);
    conn__count_in(c, (uint64_t)len);
    conn__touch(c);
    if (c->framing)
        conn__frame_input(c, data, len);
    else
        conn__deliver(c, data, len);
}

static void do_read(conn *c)
{
    conn_table *t = c->table;
    size_t budget = CONN_MAX_IO_PER_EVENT;
    while (budget > 0 && !c->read_paused && !c->peer_eof && !c->stalled &&
           !c->held &&
           c->state != CONN_CLOSED && c->state != CONN_CLOSING) {
        long n = conn__tx_recv(c, t->rbuf, c->read_max);
        if (n == ERR_EINTR)
            continue;
        if (n == ERR_EAGAIN)
            break;
        if (n < 0) {
            conn__fail(c, (int)n, "recv");
            return;
        }
        if (n == 0) {
            peer_done(c);
            return;
        }
        received(c, t->rbuf, (size_t)n);
        if ((size_t)n < c->read_max)
            break; /* the socket is most likely empty: save a syscall */
        budget -= (size_t)n;
    }
    if (c->state != CONN_CLOSED)
        conn__update_interest(c);
}

static void on_io(loop *l, loop_io *io, int events)
{
    conn *c = io->data;
    (void)l;
    if (c->connecting) {
        conn__connect_io(c);
        return;
    }
    if ((events & POLLER_WRITE) && c->state != CONN_CLOSED)
        conn__flush(c);
    if ((events & POLLER_READ) && c->state != CONN_CLOSED)
        do_read(c);
}

/* No byte went in or out for the idle timeout: the owner (or the default,
 * the graceful close) decides; what is queued then has the drain timeout
 * to go out. */
static void idle_timeout(conn *c, uint64_t now)
{
    log_info("conn %llu%s: idle timeout (%s)", CONN_ID(c),
             conn_state_name(c->state));
    c->timed_out = 1;
    c->timed_out_ms = now;
    if (conn_writable(c)) {
        if (c->cb && c->cb->timeout)
            c->cb->timeout(c);
        else
            conn_shutdown(c);
        if (c->state == CONN_CLOSED)
            return;
        if (conn_writable(c)) { /* kept open: one more idle period */
            c->timed_out = 0;
            conn__touch(c);
        }
    }
    arm_deadline(c);
}

static void on_deadline(timer *t)
{
    conn *c = t->data;
    const conn_config *cfg = &c->table->cfg;
    uint64_t now = loop_now(cfg->loop);
    int stopping = c->stop_deadline_ms && now >= c->stop_deadline_ms;
    int draining = c->state == CONN_HALF_CLOSED &&
                   now >= c->half_closed_ms + cfg->drain_ms;
    int flushed_late = c->timed_out && c->state != CONN_HALF_CLOSED &&
                       now >= c->timed_out_ms + cfg->drain_ms;
    int idle = !c->timed_out && c->state != CONN_HALF_CLOSED &&
               !c->outbound && cfg->idle_ms > 0 &&
               now >= c->last_active_ms + cfg->idle_ms;
    int connect_late = now >= conn__connect_deadline(c);
    /* Whenever bytes meant for the peer are dropped, the peer gets a
     * reset: a plain close after them would pass a cut stream off as a
     * whole one. */
    if (stopping && conn__has_output(c)) {
        log_warn("conn %llu%s: the server's stop deadline passed with %zu "
                 "bytes unsent: resetting the connection", CONN_ID(c),
                 unsent(c));
        conn__close_now(c, CONN_REASON_STOP, 1);
    } else if (stopping) {
        log_info("conn %llu%s: closed by the server stop (%s)", CONN_ID(c),
                 conn_state_name(c->state));
        conn__close_now(c, CONN_REASON_STOP, 0);
    } else if (connect_late) {
        conn__connect_timed_out(c);
    } else if (draining) {
        assert(!conn__has_output(c) && "output after our FIN");
        log_info("conn %llu%s: the peer did not close within the drain "
                 "timeout", CONN_ID(c));
        conn__close_now(c, CONN_REASON_TIMEOUT, 0);
    } else if (flushed_late) {
        log_warn("conn %llu%s: %zu bytes still unsent %llu ms after the idle "
                 "timeout: resetting the connection", CONN_ID(c), unsent(c),
                 (unsigned long long)cfg->drain_ms);
        conn__close_now(c, CONN_REASON_TIMEOUT, conn__has_output(c));
    } else if (idle) {
        idle_timeout(c, now);
    } else {
        arm_deadline(c); /* activity moved the deadline: look again then */
    }
}

/* --- the peer played by a transport (conn_open_virtual) ------------------ */

void conn_feed(conn *c, const char *data, size_t len)
{
    if (len == 0 || c->state == CONN_CLOSED || c->state == CONN_CLOSING ||
        c->peer_eof || c->connecting) /* a connect reads once through */
        return;
    received(c, data, len);
}

void conn_feed_writable(conn *c)
{
    if (c->state != CONN_CLOSED && buf_len(&c->out) > 0)
        conn__flush(c);
}

void conn_feed_eof(conn *c)
{
    if (c->state != CONN_CLOSED && !c->peer_eof)
        peer_done(c);
}

void conn_feed_reset(conn *c)
{
    log_trace("conn %llu%s: reset by peer", CONN_ID(c));
    c->peer_reset = c->state != CONN_CLOSED;
    if (c->peer_reset)
        conn__tap(c, CONN_TAP_PEER_RESET, NULL, 0);
    conn__close_now(c, CONN_REASON_RESET, 0);
}

void conn_note(conn *c, const char *fmt, ...)
{
    const conn_transport *t = c->table->cfg.transport;
    if (t == NULL && log_get_level() < LOG_TRACE)
        return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (t != NULL && t->note != NULL)
        t->note(t->data, c, what);
    else
        log_msg(LOG_TRACE, "conn %llu%s: %s", CONN_ID(c), what);
}
