/* server.c -- listeners, accept, the connection table, signals, reload and
 * the graceful stop. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "signals.h"
#include "watch.h"

#define RECV_BUFFER_SIZE (64 * 1024)
#define ACCEPTS_PER_EVENT 64
#define LISTEN_BACKLOG 1024
#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */

typedef struct listener {
    loop_io io;
    char name[80];
} listener;

typedef struct server {
    const server_config *cfg;
    loop *loop;
    policy *policy;
    conn_shared shared;
    listener listeners[SERVER_MAX_LISTEN];
    int nlisteners;
    int accepting;         /* listeners registered for reading */
    int full_warned;
    timer accept_retry;
    loop_io wake;          /* read end of the wake-up pair */
    net_socket wake_w;
    watch *watch;          /* --watch */
    int stops;             /* stop requests so far */
    int done;
} server;

static void set_accepting(server *s, int on)
{
    if (s->accepting == on)
        return;
    for (int i = 0; i < s->nlisteners; i++)
        loop_io_set(s->loop, &s->listeners[i].io, on ? POLLER_READ : 0);
    s->accepting = on;
}

static void on_accept(loop *l, loop_io *io, int events)
{
    server *s = io->data;
    (void)l;
    (void)events;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        if (s->shared.live >= s->cfg->max_conns) {
            if (!s->full_warned)
                log_warn("%zu connections open (--max-conns): not "
                         "accepting until one ends", s->shared.live);
            s->full_warned = 1;
            set_accepting(s, 0);
            return;
        }
        net_socket sock;
        char peer[64];
        int rc = net_accept(io->handle.sock, &sock, peer, sizeof peer);
        if (rc == NET_EAGAIN)
            return;
        if (rc == NET_EINTR)
            continue;
        if (rc == NET_EMFILE || rc == NET_ENOMEM) {
            log_warn("accept: %s; retrying in %d ms", net_strerror(rc),
                     ACCEPT_RETRY_MS);
            set_accepting(s, 0);
            loop_timer_start(s->loop, &s->accept_retry, ACCEPT_RETRY_MS);
            return;
        }
        if (rc < 0) {
            log_debug("accept: %s", net_strerror(rc));
            continue; /* the client gave up before we took it */
        }
        conn *c = conn_create(&s->shared, sock, peer);
        if (c == NULL) {
            log_error("out of memory accepting a connection from %s", peer);
            continue;
        }
        policy_attach(s->policy, c);
    }
}

static void on_accept_retry(timer *t)
{
    server *s = t->data;
    if (s->stops == 0)
        set_accepting(s, 1);
}

static void close_listeners(server *s)
{
    set_accepting(s, 0);
    for (int i = 0; i < s->nlisteners; i++)
        net_close(s->listeners[i].io.handle.sock);
    s->nlisteners = 0;
    loop_timer_stop(s->loop, &s->accept_retry);
}

/* Compile the script again into a new state; switch to it only if that
 * worked. Live connections keep the state they started with. */
static void reload(server *s, const char *why)
{
    char err[1024];
    policy *p = policy_load(policy_path(s->policy), s->cfg->policy_opts,
                            err, sizeof err);
    if (p == NULL) {
        for (char *nl = err; (nl = strchr(nl, '\n')) != NULL;)
            *nl = ' ';
        log_error("reload (%s) failed, keeping the running script: %s", why,
                  err);
        return;
    }
    char hooks[128];
    policy_describe(p, hooks, sizeof hooks);
    policy_bind_loop(p, s->loop);
    log_info("reload (%s): loaded %s, hooks: %s; %zu live connections "
             "finish on the previous script", why, policy_path(p), hooks,
             s->shared.live);
    policy_release(s->policy);
    s->policy = p;
}

static void on_script_changed(void *data)
{
    server *s = data;
    if (s->stops == 0)
        reload(s, "the file changed");
}

static void begin_stop(server *s)
{
    s->stops++;
    if (s->stops == 1) {
        close_listeners(s);
        log_info("stopping: %zu connections open, waiting up to %.1f s "
                 "for them to finish", s->shared.live,
                 (double)s->cfg->drain_ms / 1000.0);
        uint64_t deadline = loop_now(s->loop) + s->cfg->drain_ms;
        for (conn *c = s->shared.all; c; c = c->next)
            conn_stop_by(c, deadline);
        return;
    }
    log_warn("second stop request: closing %zu connections now",
             s->shared.live);
    for (conn *c = s->shared.all; c; c = c->next)
        conn_reset(c, CONN_REASON_STOP);
}

static void on_wake(loop *l, loop_io *io, int events)
{
    server *s = io->data;
    char drain[64];
    (void)l;
    (void)events;
    while (net_recv(io->handle.sock, drain, sizeof drain) > 0)
        ;
    int stops, reloads;
    signals_take(&stops, &reloads);
    if (reloads > 0 && s->stops == 0)
        reload(s, "SIGHUP");
    for (int i = 0; i < stops && i < 2; i++)
        begin_stop(s);
}

/* The top of every loop iteration: free what closed, resume accepting,
 * and see whether a stop has finished. */
static void before_sleep(loop *l, void *data)
{
    server *s = data;
    (void)l;
    conn_reap(&s->shared);
    if (s->stops == 0 && !s->accepting &&
        !timer_active(&s->accept_retry) &&
        s->shared.live < s->cfg->max_conns) {
        s->full_warned = 0;
        set_accepting(s, 1);
    }
    if (s->stops > 0 && s->shared.live == 0)
        s->done = 1;
}

static int open_listeners(server *s)
{
    const server_config *cfg = s->cfg;
    for (int i = 0; i < cfg->nlisten; i++) {
        const server_listen *ls = &cfg->listen[i];
        listener *li = &s->listeners[i];
        net_socket sock;
        int rc = net_listen(ls->host, ls->port, LISTEN_BACKLOG, 0, &sock);
        if (rc != 0) {
            fprintf(stderr, "ricochet: cannot listen on %s%s%s:%d: %s\n",
                    strchr(ls->host, ':') ? "[" : "", ls->host,
                    strchr(ls->host, ':') ? "]" : "", ls->port,
                    net_strerror(rc));
            return -1;
        }
        loop_io_init(&li->io, sock, on_accept, s);
        s->nlisteners++;
        if (net_local_name(sock, li->name, sizeof li->name) != 0)
            snprintf(li->name, sizeof li->name, "%s:%d", ls->host, ls->port);
    }
    return 0;
}

static void free_server(server *s)
{
    watch_stop(s->watch);
    close_listeners(s);
    for (conn *c = s->shared.all; c; c = c->next)
        conn_reset(c, CONN_REASON_STOP);
    conn_reap(&s->shared);
    if (s->wake.handle.sock != NET_INVALID) {
        loop_io_set(s->loop, &s->wake, 0);
        net_close(s->wake.handle.sock);
        net_close(s->wake_w);
    }
    signals_restore();
    if (s->loop)
        loop_free(s->loop);
    free(s->shared.rbuf);
    if (s->policy)
        policy_release(s->policy);
}

int server_run(const server_config *cfg, policy *p)
{
    server s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.policy = p;
    s.wake.handle.sock = NET_INVALID;
    timer_init(&s.accept_retry, on_accept_retry, &s);
    int rc = net_init();
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot start the socket library: %s\n",
                net_strerror(rc));
        policy_release(p);
        return EXIT_RUNTIME;
    }
    int code = EXIT_RUNTIME;
    s.loop = loop_create();
    s.shared.rbuf = malloc(RECV_BUFFER_SIZE);
    if (s.loop == NULL || s.shared.rbuf == NULL) {
        fprintf(stderr, "ricochet: cannot create the event loop\n");
        goto out;
    }
    s.shared.loop = s.loop;
    s.shared.rbuf_size = RECV_BUFFER_SIZE;
    s.shared.out_limit = cfg->out_limit;
    s.shared.idle_ms = cfg->idle_ms;
    s.shared.drain_ms = cfg->drain_ms;
    net_socket wake_r;
    rc = net_wakeup_pair(&wake_r, &s.wake_w);
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot create the wake-up pair: %s\n",
                net_strerror(rc));
        goto out;
    }
    loop_io_init(&s.wake, wake_r, on_wake, &s);
    if (loop_io_set(s.loop, &s.wake, POLLER_READ) != 0 ||
        signals_install(s.wake_w) != 0) {
        fprintf(stderr, "ricochet: cannot install the signal handlers\n");
        goto out;
    }
    if (open_listeners(&s) != 0) {
        code = EXIT_LISTEN;
        goto out;
    }
    policy_bind_loop(p, s.loop);
    if (cfg->watch) {
        char err[256];
        s.watch = watch_start(s.loop, policy_path(p), on_script_changed, &s,
                              err, sizeof err);
        if (s.watch == NULL) {
            fprintf(stderr, "ricochet: --watch: %s\n", err);
            goto out;
        }
        log_info("watching %s for changes (%s)", policy_path(p),
                 watch_backend());
    }
    set_accepting(&s, 1);
    for (int i = 0; i < s.nlisteners; i++)
        printf("listening on %s\n", s.listeners[i].name);
    fflush(stdout);
    loop_set_before_sleep(s.loop, before_sleep, &s);
    while (!s.done) {
        rc = loop_run_once(s.loop, -1);
        if (rc != 0) {
            log_error("the event loop failed: %s", net_strerror(rc));
            goto out;
        }
    }
    log_info("stopped");
    code = EXIT_OK;
out:
    free_server(&s);
    net_cleanup();
    return code;
}
