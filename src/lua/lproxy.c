/* lproxy.c -- proxy mode: a relay between each client and the upstream,
 * both directions scriptable.
 *
 * Which clients are in a pair is decided per connection: on_connect may
 * choose an upstream (conn:connect, which calls lproxy_connect) or none;
 * without a choice, --upstream's is connected once on_connect returns.
 * A client in a pair gets the pair's callbacks (p->proxy_callbacks);
 * one that stays an echo keeps p->callbacks.
 *
 * The client's connection and the upstream's are owned by one lconn.
 * Without a data hook, bytes go from one to the other in C (no Lua call a
 * chunk). With one, its reply is what goes on: on_data's to the upstream,
 * on_upstream_data's to the client; conn:send still answers the client
 * from the proxy itself. Ends cross exactly, as the seed does them on one
 * socket: a FIN from one side goes to the other only after every byte
 * before it (conn_shutdown waits for the queue), and each side then reads
 * on until its own peer finishes; on_done and on_upstream_done may send a
 * last reply before it or hold it back ("wait"). A reset or error on
 * either side resets the other. A side that cannot take what the other
 * sends (its queue over --out-limit) holds reading from that other side
 * until it drains. */
#include "lproxy.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "addr.h"
#include "log.h"
#include "lupstream.h"

static int has(const policy *p, enum hook hook)
{
    return p->hook_ref[hook] != LUA_NOREF;
}

/* --- either side ---------------------------------------------------------- */

/* Bytes from one side of the pair: through that side's data hook, whose
 * reply goes to the other side (to), or straight across in C. */
static void pass_data(lconn *lc, enum hook hook, const char *data, size_t len,
                      conn *to)
{
    policy *p = lc->owner;
    if (has(p, hook))
        lhook_run(p, lc, hook, data, len, NULL, to);
    else
        conn_send(to, data, len);
}

/* One side's FIN (from): through that side's end hook, with what its
 * framing still held, or on to the other side (to) after its bytes. */
static void pass_fin(lconn *lc, enum hook hook, conn *from, conn *to)
{
    policy *p = lc->owner;
    if (has(p, hook)) {
        size_t rest_len;
        const char *rest = conn_take_rest(from, &rest_len);
        lhook_run(p, lc, hook, rest, rest_len, NULL, to);
    } else {
        conn_shutdown(to);
    }
}

/* --- the client's side ---------------------------------------------------- */

static void client_data(conn *c, const char *data, size_t len)
{
    lconn *lc = conn_owner(c);
    if (lc->up != NULL) /* else the upstream is gone: a reset follows */
        pass_data(lc, HOOK_DATA, data, len, lc->up);
}

static void client_done(conn *c)
{
    lconn *lc = conn_owner(c);
    if (lc->up != NULL)
        pass_fin(lc, HOOK_DONE, c, lc->up);
}

/* The client's queue is over (or back under) the limit: hold (or resume)
 * reading what the upstream sends it. */
static void client_pressure(conn *c, int over)
{
    lconn *lc = conn_owner(c);
    if (lc->up != NULL)
        conn_hold_reading(lc->up, over);
}

/* --- the upstream's side -------------------------------------------------- */

/* The upstream could not be had (err says why): one warning, then
 * on_upstream_error's answer to the client, or a reset of it. */
static void upstream_failed(policy *p, lconn *lc, conn *up, int err)
{
    lc->up_failed = 1; /* the client is dealt with here, not at the close */
    log_warn("conn %llu: upstream %s: %s", (unsigned long long)conn_id(lc->c),
             conn_peer(up), err_strerror(err));
    if (has(p, HOOK_UP_ERROR))
        lhook_run(p, lc, HOOK_UP_ERROR, NULL, 0, err_strerror(err), lc->c);
    else
        conn_reset(lc->c, CONN_REASON_ERROR);
}

static void up_connected(conn *up, int err)
{
    lconn *lc = conn_owner(up);
    if (err == 0 || lc->c == NULL)
        return;
    upstream_failed(lc->owner, lc, up, err);
}

static void up_data(conn *up, const char *data, size_t len)
{
    lconn *lc = conn_owner(up);
    if (lc->c != NULL)
        pass_data(lc, HOOK_UP_DATA, data, len, lc->c);
}

static void up_done(conn *up)
{
    lconn *lc = conn_owner(up);
    if (lc->c != NULL)
        pass_fin(lc, HOOK_UP_DONE, up, lc->c);
}

static void up_pressure(conn *up, int over)
{
    lconn *lc = conn_owner(up);
    if (lc->c != NULL)
        conn_hold_reading(lc->c, over);
}

static void release(lconn *lc)
{
    policy *p = lc->owner;
    if (--lc->refs > 0)
        return;
    free(lc);
    policy_release(p);
}

static void up_close(conn *up, enum conn_reason reason)
{
    lconn *lc = conn_owner(up);
    if (lc->c != NULL)
        lconn_keep_upstream(lc, up); /* for the client's summary */
    lc->up = NULL;
    if (lc->c == NULL || conn_state(lc->c) == CONN_CLOSED || lc->up_failed) {
        release(lc); /* gone, or a failed connect: dealt with before */
        return;
    }
    /* Reset by the upstream before its first byte (a server that takes
     * the connection and drops it, as one does when overloaded): it was
     * never had, whether the reset came before or after the connect was
     * seen through; the client is told as for a failed connect. */
    if (reason == CONN_REASON_RESET && conn_peer_reset(up) &&
        conn_bytes_in(up) == 0 && !conn_peer_done(up)) {
        upstream_failed(lc->owner, lc, up, ERR_ERESET);
        release(lc);
        return;
    }
    /* Any other end but a finished one (both FINs across) takes the
     * client with it. */
    if (reason != CONN_REASON_DONE) {
        log_debug("conn %llu: upstream %s ended (%s): resetting the client",
                  (unsigned long long)conn_id(lc->c), conn_peer(up),
                  conn_reason_name(reason));
        conn_reset(lc->c, reason == CONN_REASON_STOP ? CONN_REASON_STOP
                                                     : CONN_REASON_RESET);
    }
    release(lc);
}

void lproxy_client_closed(lconn *lc, enum conn_reason reason)
{
    lc->c = NULL;
    /* A finished client (both ends across) leaves the upstream to finish
     * its own way, bounded by --drain-timeout; any other end takes the
     * upstream with it. */
    if (lc->up != NULL && conn_state(lc->up) != CONN_CLOSED &&
        reason != CONN_REASON_DONE)
        conn_reset(lc->up, CONN_REASON_RESET);
    else if (lc->up != NULL && conn_writable(lc->up))
        conn_shutdown(lc->up); /* the script closed the client itself: the
                                  upstream's end follows, drain-bounded */
    release(lc);
}

void lproxy_setup(policy *p)
{
    p->proxy_callbacks = p->callbacks; /* close, timeout: as in echo */
    p->proxy_callbacks.data = client_data;
    p->proxy_callbacks.done = client_done;
    p->proxy_callbacks.late_done = client_done;
    p->proxy_callbacks.pressure = client_pressure;
    p->up_callbacks.data = up_data;
    p->up_callbacks.done = up_done;
    p->up_callbacks.late_done = up_done;
    p->up_callbacks.close = up_close;
    p->up_callbacks.connected = up_connected;
    p->up_callbacks.pressure = up_pressure;
}

int lproxy_connect(lconn *lc, const char *host, int port)
{
    policy *p = lc->owner;
    if (host == NULL) {
        if (p->opts->upstream_host == NULL)
            return ERR_EINVAL;
        host = p->opts->upstream_host;
        port = p->opts->upstream_port;
    }
    /* From now on the client is one side of a pair, whatever becomes of
     * the connect: its bytes go to the upstream, not back. */
    lc->proxied = 1;
    conn_set_callbacks(lc->c, &p->proxy_callbacks, lc);
    conn *up;
    int rc = conn_connect(conn_table_of(lc->c), host, port,
                          p->opts->connect_timeout_ms, &up);
    if (rc != 0) {
        char spec[ADDR_HOST_MAX + 8];
        lupstream_format(spec, sizeof spec, host, port);
        log_warn("conn %llu: upstream %s: %s",
                 (unsigned long long)conn_id(lc->c), spec, err_strerror(rc));
        lc->up_err = rc; /* dealt with once on_connect is over */
        return 0;
    }
    lc->up = up;
    lc->up_id = conn_id(up);
    lc->refs++;
    conn_set_callbacks(up, &p->up_callbacks, lc);
    if (p->hook_ref[HOOK_UP_DATA] != LUA_NOREF)
        conn_set_read_max(up, LHOOK_READ_MAX);
    char label[32]; /* --trace tells the pair's two sides apart */
    snprintf(label, sizeof label, "upstream of %llu",
             (unsigned long long)conn_id(lc->c));
    conn_set_label(up, label);
    return 0;
}

void lproxy_attach(policy *p, lconn *lc)
{
    /* The default upstream, unless on_connect chose (conn:connect) or
     * ended the connection. */
    if (!lc->chose && p->opts->upstream_host != NULL &&
        conn_state(lc->c) == CONN_OPEN)
        lproxy_connect(lc, NULL, 0);
    int err = lc->up_err;
    lc->up_err = 0;
    if (err == 0 || conn_state(lc->c) == CONN_CLOSED)
        return;
    lc->up_failed = 1;
    if (has(p, HOOK_UP_ERROR))
        lhook_run(p, lc, HOOK_UP_ERROR, NULL, 0, err_strerror(err), lc->c);
    else
        conn_reset(lc->c, CONN_REASON_ERROR);
}
