/* lproxy.c -- proxy mode: a relay between each client and the upstream,
 * both directions scriptable.
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

#include "log.h"

static int has(const policy *p, enum hook hook)
{
    return p->hook_ref[hook] != LUA_NOREF;
}

/* --- the client's side ---------------------------------------------------- */

static void client_data(conn *c, const char *data, size_t len)
{
    lconn *lc = conn_owner(c);
    policy *p = lc->owner;
    if (lc->up == NULL)
        return; /* the upstream is gone: the client is being reset */
    if (has(p, HOOK_DATA))
        lhook_run(p, lc, HOOK_DATA, data, len, NULL, lc->up);
    else
        conn_send(lc->up, data, len);
}

static void client_done(conn *c)
{
    lconn *lc = conn_owner(c);
    policy *p = lc->owner;
    if (lc->up == NULL)
        return;
    if (has(p, HOOK_DONE)) {
        size_t rest_len;
        const char *rest = conn_take_rest(c, &rest_len);
        lhook_run(p, lc, HOOK_DONE, rest, rest_len, NULL, lc->up);
    } else {
        conn_shutdown(lc->up); /* the client's FIN, after its bytes */
    }
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
    policy *p = lc->owner;
    if (lc->c == NULL)
        return;
    if (has(p, HOOK_UP_DATA))
        lhook_run(p, lc, HOOK_UP_DATA, data, len, NULL, lc->c);
    else
        conn_send(lc->c, data, len);
}

static void up_done(conn *up)
{
    lconn *lc = conn_owner(up);
    policy *p = lc->owner;
    if (lc->c == NULL)
        return;
    if (has(p, HOOK_UP_DONE)) {
        size_t rest_len;
        const char *rest = conn_take_rest(up, &rest_len);
        lhook_run(p, lc, HOOK_UP_DONE, rest, rest_len, NULL, lc->c);
    } else {
        conn_shutdown(lc->c); /* the upstream's FIN, after its bytes */
    }
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
    release(lc);
}

void lproxy_setup(policy *p)
{
    p->callbacks.data = client_data;
    p->callbacks.done = client_done;
    p->callbacks.late_done = client_done;
    p->callbacks.pressure = client_pressure;
    p->up_callbacks.data = up_data;
    p->up_callbacks.done = up_done;
    p->up_callbacks.late_done = up_done;
    p->up_callbacks.close = up_close;
    p->up_callbacks.connected = up_connected;
    p->up_callbacks.pressure = up_pressure;
}

void lproxy_attach(policy *p, lconn *lc)
{
    conn *up;
    int rc = conn_connect(conn_table_of(lc->c), p->opts->upstream_host,
                          p->opts->upstream_port, p->opts->connect_timeout_ms,
                          &up);
    if (rc != 0) {
        log_warn("conn %llu: upstream %s:%d: %s",
                 (unsigned long long)conn_id(lc->c), p->opts->upstream_host,
                 p->opts->upstream_port, err_strerror(rc));
        if (has(p, HOOK_UP_ERROR))
            lhook_run(p, lc, HOOK_UP_ERROR, NULL, 0, err_strerror(rc),
                      lc->c);
        else
            conn_reset(lc->c, CONN_REASON_ERROR);
        return;
    }
    lc->up = up;
    lc->refs++;
    conn_set_callbacks(up, &p->up_callbacks, lc);
    char label[32]; /* --trace tells the pair's two sides apart */
    snprintf(label, sizeof label, "upstream of %llu",
             (unsigned long long)conn_id(lc->c));
    conn_set_label(up, label);
}
