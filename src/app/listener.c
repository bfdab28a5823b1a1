/* listener.c -- the listening sockets and accept (see listener.h). */
#include "listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ACCEPTS_PER_EVENT 64
#define LISTEN_BACKLOG 1024
#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */

/* --- accepting ----------------------------------------------------------- */

static void set_accepting(listener *ls, int on)
{
    if (ls->accepting == on)
        return;
    for (int i = 0; i < ls->n; i++)
        loop_io_set(ls->loop, &ls->io[i], on ? POLLER_READ : 0);
    ls->accepting = on;
}

static int is_full(const listener *ls)
{
    return ls->ops->open_conns(ls->owner) >= ls->limits.max_conns;
}

/* At the cap: 1 when the connection idle longest may give its place;
 * else 0, with *wait_ms the time until it may (UINT64_MAX: never). */
static int can_evict(const listener *ls, uint64_t *wait_ms)
{
    uint64_t need = ls->limits.evict_idle_ms;
    *wait_ms = UINT64_MAX;
    if (need == 0)
        return 0;
    uint64_t idle = ls->ops->idlest_ms(ls->owner);
    if (idle == UINT64_MAX)
        return 0;
    if (idle >= need)
        return 1;
    *wait_ms = need - idle;
    return 0;
}

/* Full, and no room to make: clients wait in the backlog; look again
 * when the connection idle longest would have been idle long enough. */
static void pause_full(listener *ls, uint64_t wait_ms)
{
    if (!ls->full_warned) {
        size_t open = ls->ops->open_conns(ls->owner);
        if (ls->limits.evict_idle_ms > 0)
            log_warn("%zu connections open (--max-conns) and none idle "
                     "for %.3g s (--evict-idle): new clients wait", open,
                     (double)ls->limits.evict_idle_ms / 1000.0);
        else
            log_warn("%zu connections open (--max-conns): not accepting "
                     "until one ends", open);
    }
    ls->full_warned = 1;
    set_accepting(ls, 0);
    if (wait_ms != UINT64_MAX && !timer_active(&ls->evict_wait))
        loop_timer_start(ls->loop, &ls->evict_wait, wait_ms);
}

/* Refuse (reset) a client whose address has its share of connections
 * open already. Returns 1 when it did. */
static int refuse_over_peer_limit(listener *ls, net_socket sock,
                                  const char *peer)
{
    size_t limit = ls->limits.max_per_peer;
    if (limit == 0)
        return 0;
    size_t open = ls->ops->peer_conns(ls->owner, peer);
    if (open < limit)
        return 0;
    net_abort(sock);
    /* the address without the port: a flood from one address is one
     * repeated line, which the log counts */
    const char *colon = strrchr(peer, ':');
    int addr_len = colon ? (int)(colon - peer) : (int)strlen(peer);
    log_warn("refused a connection from %.*s: %zu open from its address "
             "already (--max-conns-per-ip)", addr_len, peer, open);
    return 1;
}

static void on_accept(loop *l, loop_io *io, int events)
{
    listener *ls = io->data;
    (void)l;
    (void)events;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        uint64_t wait_ms;
        int full = is_full(ls);
        if (full && !can_evict(ls, &wait_ms)) {
            pause_full(ls, wait_ms);
            return;
        }
        net_socket sock;
        char peer[64];
        int rc = net_accept(io->handle.sock, &sock, peer, sizeof peer);
        if (rc == ERR_EAGAIN)
            return;
        if (rc == ERR_EINTR)
            continue;
        if (rc == ERR_EMFILE || rc == ERR_ENOMEM) {
            log_warn("accept: %s; retrying in %d ms", err_strerror(rc),
                     ACCEPT_RETRY_MS);
            set_accepting(ls, 0);
            loop_timer_start(ls->loop, &ls->retry, ACCEPT_RETRY_MS);
            return;
        }
        if (rc < 0) {
            log_debug("accept: %s", err_strerror(rc));
            continue; /* the client gave up before we took it */
        }
        if (refuse_over_peer_limit(ls, sock, peer))
            continue; /* before any eviction: it would make room for
                       * nobody */
        if (full) {
            char desc[192];
            ls->ops->evict_idlest(ls->owner, desc, sizeof desc);
            log_warn("%zu connections open (--max-conns): %s to make "
                     "room for %s", ls->limits.max_conns, desc, peer);
        }
        ls->ops->accept(ls->owner, sock, peer);
    }
}

static void on_retry(timer *t)
{
    listener_resume(t->data);
}

void listener_init(listener *ls, loop *l, const listener_limits *limits,
                   const listener_ops *ops, void *owner)
{
    memset(ls, 0, sizeof *ls);
    ls->loop = l;
    ls->limits = *limits;
    ls->ops = ops;
    ls->owner = owner;
    timer_init(&ls->retry, on_retry, ls);
    timer_init(&ls->evict_wait, on_retry, ls);
}

void listener_resume(listener *ls)
{
    if (ls->accepting || ls->closed || timer_active(&ls->retry))
        return;
    if (is_full(ls)) {
        uint64_t wait_ms;
        if (!can_evict(ls, &wait_ms)) {
            if (wait_ms != UINT64_MAX && !timer_active(&ls->evict_wait))
                loop_timer_start(ls->loop, &ls->evict_wait, wait_ms);
            return; /* look again then */
        }
    } else {
        ls->full_warned = 0;
    }
    /* a place is free (or can be made): no need to wait for the idlest */
    loop_timer_stop(ls->loop, &ls->evict_wait);
    set_accepting(ls, 1);
}

void listener_close(listener *ls)
{
    if (ls->loop == NULL)
        return;
    set_accepting(ls, 0);
    for (int i = 0; i < ls->n; i++)
        if (ls->owned[i])
            net_close(ls->io[i].handle.sock);
    ls->n = 0;
    ls->closed = 1;
    loop_timer_stop(ls->loop, &ls->retry);
    loop_timer_stop(ls->loop, &ls->evict_wait);
}

static void format_name(const server_listen *addr, int port, char *out,
                        size_t len)
{
    int v6 = strchr(addr->host, ':') != NULL;
    snprintf(out, len, "%s%s%s:%d", v6 ? "[" : "", addr->host,
             v6 ? "]" : "", port);
}

/* Open address i for worker k; *reuseport falls back to 0 (one shared
 * socket) the first time the OS refuses it. */
static int open_one(const server_listen *addr, int port,
                    listener *const *sets, int i, int k, int *reuseport)
{
    net_socket sock;
    int rc = ERR_EINVAL;
    if (k == 0 || *reuseport)
        rc = net_listen(addr->host, port, LISTEN_BACKLOG, *reuseport, &sock);
    if (rc == ERR_EINVAL && k == 0 && *reuseport) {
        *reuseport = 0; /* no SO_REUSEPORT: share one socket */
        rc = net_listen(addr->host, port, LISTEN_BACKLOG, 0, &sock);
    }
    if (rc == 0) {
        sets[k]->owned[i] = 1;
    } else if (k > 0 && !*reuseport) {
        sock = sets[0]->io[i].handle.sock;
        sets[k]->owned[i] = 0;
    } else {
        char name[80];
        format_name(addr, port, name, sizeof name);
        fprintf(stderr, "ricochet: cannot listen on %s: %s\n", name,
                err_strerror(rc));
        return rc;
    }
    loop_io_init(&sets[k]->io[i], sock, on_accept, sets[k]);
    sets[k]->n++;
    return 0;
}

int listener_open_all(const server_config *cfg, listener *const *sets,
                      int n)
{
    int reuseport = n > 1;
    for (int i = 0; i < cfg->nlisten; i++) {
        const server_listen *addr = &cfg->listen[i];
        int port = addr->port;
        for (int k = 0; k < n; k++) {
            int rc = open_one(addr, port, sets, i, k, &reuseport);
            if (rc != 0)
                return rc;
            char name[80];
            if (k == 0 && port == 0 &&
                net_local_name(sets[0]->io[i].handle.sock, name,
                               sizeof name) == 0) {
                const char *colon = strrchr(name, ':');
                port = colon ? atoi(colon + 1) : 0;
            }
        }
    }
    /* Only once every listener is bound: a failure prints nothing here. */
    for (int i = 0; i < cfg->nlisten; i++) {
        char name[80];
        if (net_local_name(sets[0]->io[i].handle.sock, name, sizeof name) != 0)
            format_name(&cfg->listen[i], cfg->listen[i].port, name,
                        sizeof name);
        printf("listening on %s\n", name);
    }
    fflush(stdout);
    if (n > 1)
        log_info("%d workers, %s", n, reuseport
                 ? "each with its own listening sockets (SO_REUSEPORT)"
                 : "sharing the listening sockets");
    return 0;
}
