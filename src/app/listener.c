/* listener.c -- the listening sockets and accept (see listener.h). */
#include "listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ACCEPTS_PER_EVENT 64
#define LISTEN_BACKLOG 1024
#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */

static void set_accepting(listener *ls, int on)
{
    if (ls->accepting == on)
        return;
    for (int i = 0; i < ls->n; i++)
        loop_io_set(ls->loop, &ls->io[i], on ? POLLER_READ : 0);
    ls->accepting = on;
}

static void on_accept(loop *l, loop_io *io, int events)
{
    listener *ls = io->data;
    (void)l;
    (void)events;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        size_t open = ls->open_conns(ls->owner);
        if (open >= ls->max_conns) {
            if (!ls->full_warned)
                log_warn("%zu connections open (--max-conns): not "
                         "accepting until one ends", open);
            ls->full_warned = 1;
            set_accepting(ls, 0);
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
        ls->accept(ls->owner, sock, peer);
    }
}

static void on_retry(timer *t)
{
    listener_resume(t->data);
}

void listener_init(listener *ls, loop *l, size_t max_conns,
                   listener_accept_fn accept, listener_count_fn open_conns,
                   void *owner)
{
    memset(ls, 0, sizeof *ls);
    ls->loop = l;
    ls->max_conns = max_conns;
    ls->accept = accept;
    ls->open_conns = open_conns;
    ls->owner = owner;
    timer_init(&ls->retry, on_retry, ls);
}

void listener_resume(listener *ls)
{
    if (ls->accepting || ls->closed || timer_active(&ls->retry) ||
        ls->open_conns(ls->owner) >= ls->max_conns)
        return;
    ls->full_warned = 0;
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
