/* conn_connect.c -- outbound connections: a non-blocking connect, its
 * timeout, and the hand-over to the state machine once connected.
 *
 * The connection is OPEN from the start, so its owner can send, shut down
 * or close it at once; what it sends is queued, a FIN or a close waits
 * for the queue, and nothing is read, until the connect is through.
 * Besides write readiness, SO_ERROR is asked every CHECK_MS: WSAPoll on
 * Windows before 10 never reports a connect that failed. On a table with
 * a transport (--simulate) there is no socket: the transport's connector
 * plays the server and answers with conn_feed_connected. */
#include "conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CHECK_MS 100

struct conn_connecting {
    timer check;
    uint64_t deadline_ms;   /* UINT64_MAX: no timeout */
};

void conn__count_connect(conn_table *t, int err)
{
    enum conn_connect_result r = CONN_CONNECT_ERROR;
    if (err == 0)
        r = CONN_CONNECT_OK;
    else if (err == ERR_ECONNREFUSED)
        r = CONN_CONNECT_REFUSED;
    else if (err == ERR_ETIMEDOUT)
        r = CONN_CONNECT_TIMEOUT;
    stat_add(&t->stats.up_connects[r], 1);
}

static void finish(conn *c, int err)
{
    struct conn_connecting *cc = c->connecting;
    conn__count_connect(c->table, err);
    loop_timer_stop(conn__loop(c), &cc->check);
    free(cc);
    c->connecting = NULL;
    conn__tap(c, err == 0 ? CONN_TAP_CONNECTED
                 : err == ERR_ECONNREFUSED ? CONN_TAP_CONNECT_REFUSED
                 : err == ERR_ETIMEDOUT ? CONN_TAP_CONNECT_TIMEOUT
                 : CONN_TAP_CONNECT_FAILED, NULL, 0);
    if (err != 0) {
        /* a note: the trace line, or the transport's (--simulate) */
        conn_note(c, "connect to %s failed: %s", c->peer,
                  err_strerror(err));
        if (c->cb && c->cb->connected)
            c->cb->connected(c, err);
        /* nothing was sent: a plain close, no RST to nobody */
        buf_free(&c->out);
        conn__close_now(c, CONN_REASON_ERROR, 0);
        return;
    }
    conn_note(c, "connected to %s", c->peer);
    conn__touch(c);
    if (c->cb && c->cb->connected)
        c->cb->connected(c, 0);
    if (c->state == CONN_CLOSED)
        return;
    conn__flush(c); /* what waited; a FIN or close after it */
}

/* Ask the socket how the connect went; nothing happens while it goes on. */
static void look(conn *c)
{
    int rc = net_connect_result(c->io.handle.sock);
    if (rc != ERR_EAGAIN)
        finish(c, rc);
}

static void on_check(timer *t)
{
    conn *c = t->data;
    if (c->state == CONN_CLOSED || c->connecting == NULL)
        return;
    look(c);
    if (c->connecting != NULL &&
        loop_timer_start(conn__loop(c), &c->connecting->check, CHECK_MS))
        conn__fail_nomem(c, "arming its connect check");
}

void conn__connect_io(conn *c)
{
    if (c->state != CONN_CLOSED && c->connecting != NULL)
        look(c);
}

uint64_t conn__connect_deadline(const conn *c)
{
    return c->connecting ? c->connecting->deadline_ms : UINT64_MAX;
}

void conn__connect_timed_out(conn *c)
{
    if (c->connecting != NULL)
        finish(c, ERR_ETIMEDOUT);
}

void conn__connect_stop(conn *c)
{
    if (c->connecting != NULL)
        loop_timer_stop(conn__loop(c), &c->connecting->check);
}

void conn__connect_free(conn *c)
{
    free(c->connecting);
    c->connecting = NULL;
}

int conn_connecting(const conn *c)
{
    return c->connecting != NULL;
}

void conn_feed_connected(conn *c, int err)
{
    if (c->state != CONN_CLOSED && c->connecting != NULL)
        finish(c, err);
}

/* conn_connect on a table with a transport: a connection with no socket,
 * connecting until the transport's connector answers. */
static int connect_virtual(conn_table *t, const char *host, int port,
                           uint64_t timeout_ms, const char *peer, conn **out)
{
    const conn_transport *tr = t->cfg.transport;
    if (tr->connect == NULL)
        return ERR_EINVAL;
    conn *c = conn__new(t, NET_INVALID, peer);
    struct conn_connecting *cc = c ? calloc(1, sizeof *cc) : NULL;
    if (cc == NULL) {
        free(c);
        return ERR_ENOMEM;
    }
    c->outbound = 1;
    uint64_t now = loop_now(t->cfg.loop);
    cc->deadline_ms = timeout_ms ? now + timeout_ms : UINT64_MAX;
    timer_init(&cc->check, on_check, c); /* never started: no socket */
    c->connecting = cc;
    conn__link(t, c);
    if (c->state == CONN_CLOSED)
        return ERR_ENOMEM; /* freed at the tick */
    tr->connect(tr->data, c, host, port);
    *out = c;
    return 0;
}

int conn_connect(conn_table *t, const char *host, int port,
                 uint64_t timeout_ms, conn **out)
{
    char peer[64];
    int v6 = strchr(host, ':') != NULL;
    snprintf(peer, sizeof peer, "%s%s%s:%d", v6 ? "[" : "", host,
             v6 ? "]" : "", port);
    *out = NULL;
    if (t->cfg.transport != NULL)
        return connect_virtual(t, host, port, timeout_ms, peer, out);
    net_socket sock;
    int rc = net_connect(host, port, &sock);
    if (rc != 0 && rc != ERR_EAGAIN) {
        conn__count_connect(t, rc); /* refused at once, say */
        return rc;
    }
    struct conn_connecting *cc = NULL;
    conn *c = conn__new(t, sock, peer);
    if (c != NULL && rc == ERR_EAGAIN && (cc = calloc(1, sizeof *cc)) == NULL)
        free(c);
    if (c == NULL || (rc == ERR_EAGAIN && cc == NULL)) {
        net_close(sock);
        return ERR_ENOMEM;
    }
    c->outbound = 1;
    if (cc != NULL) {
        uint64_t now = loop_now(t->cfg.loop);
        cc->deadline_ms = timeout_ms ? now + timeout_ms : UINT64_MAX;
        timer_init(&cc->check, on_check, c);
        c->connecting = cc;
    }
    int events = cc ? POLLER_WRITE : POLLER_READ;
    if (loop_io_set(t->cfg.loop, &c->io, events) != 0) {
        net_close(sock);
        free(cc);
        free(c);
        return ERR_ENOMEM;
    }
    conn__link(t, c);
    if (c->state == CONN_CLOSED)
        return ERR_ENOMEM; /* freed at the tick */
    if (cc != NULL &&
        loop_timer_start(t->cfg.loop, &cc->check, CHECK_MS) != 0)
        return conn__fail_nomem(c, "arming its connect check");
    if (cc == NULL)
        conn__count_connect(t, 0); /* connected at once */
    log_trace("conn %llu%s: connecting to %s", CONN_ID(c),
              peer);
    *out = c;
    return 0;
}
