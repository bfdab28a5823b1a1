/* server.c -- listeners, accept, the connection table, workers, signals,
 * reload and the graceful stop.
 *
 * A worker is one event loop on its own thread, with its own Lua state and
 * its own connections; nothing is shared between workers but the
 * listening ports (SO_REUSEPORT where the OS has it, else one listening
 * socket registered in every worker's poller). The controller (the main
 * thread) owns the signals and --watch, and passes stop and reload on to
 * every worker as a byte on the worker's command socket. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "rng.h"
#include "signals.h"
#include "thread.h"
#include "watch.h"

#define RECV_BUFFER_SIZE (64 * 1024)
#define ACCEPTS_PER_EVENT 64
#define LISTEN_BACKLOG 1024
#define ACCEPT_RETRY_MS 100 /* after running out of descriptors */
#define WATCH_SETTLE_MS 100 /* let a burst of writes end before a reload */

/* Commands from the controller to a worker, one byte each. */
#define CMD_STOP 'S'
#define CMD_RELOAD_HUP 'H'   /* reload: SIGHUP */
#define CMD_RELOAD_WATCH 'W' /* reload: --watch saw the file change */

typedef struct listener {
    loop_io io;
    int owned;             /* this worker closes it (not a shared socket) */
} listener;

typedef struct worker {
    const server_config *cfg;
    int index;             /* 1.. */
    int nworkers;
    policy_opts opts;      /* cfg's, with this worker's number */
    loop *loop;
    policy *policy;
    conn_table *conns;
    size_t max_conns;      /* this worker's share of --max-conns */
    listener listeners[SERVER_MAX_LISTEN];
    int nlisteners;
    int accepting;         /* listeners registered for reading */
    int full_warned;
    timer accept_retry;
    loop_io cmd;           /* commands from the controller */
    net_socket cmd_w;
    loop_io done_io;       /* the controller's end of the done pair */
    net_socket done_w;     /* this worker's end: a byte when it ended */
    thread *thread;
    int stops;             /* stop requests so far */
    int done;
    int code;              /* exit code */
} worker;

/* --- one worker ------------------------------------------------------- */

static void set_accepting(worker *w, int on)
{
    if (w->accepting == on)
        return;
    for (int i = 0; i < w->nlisteners; i++)
        loop_io_set(w->loop, &w->listeners[i].io, on ? POLLER_READ : 0);
    w->accepting = on;
}

static void on_accept(loop *l, loop_io *io, int events)
{
    worker *w = io->data;
    (void)l;
    (void)events;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        if (conn_table_live(w->conns) >= w->max_conns) {
            if (!w->full_warned)
                log_warn("%zu connections open (--max-conns): not "
                         "accepting until one ends", conn_table_live(w->conns));
            w->full_warned = 1;
            set_accepting(w, 0);
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
            set_accepting(w, 0);
            loop_timer_start(w->loop, &w->accept_retry, ACCEPT_RETRY_MS);
            return;
        }
        if (rc < 0) {
            log_debug("accept: %s", err_strerror(rc));
            continue; /* the client gave up before we took it */
        }
        conn *c = conn_accept(w->conns, sock, peer);
        if (c == NULL) {
            log_error("out of memory accepting a connection from %s", peer);
            continue;
        }
        policy_attach(w->policy, c);
    }
}

static void on_accept_retry(timer *t)
{
    worker *w = t->data;
    if (w->stops == 0)
        set_accepting(w, 1);
}

static void close_listeners(worker *w)
{
    set_accepting(w, 0);
    for (int i = 0; i < w->nlisteners; i++)
        if (w->listeners[i].owned)
            net_close(w->listeners[i].io.handle.sock);
    w->nlisteners = 0;
    loop_timer_stop(w->loop, &w->accept_retry);
}

/* "worker 2: " in front of a worker's own lines when there are several. */
static const char *worker_tag(const worker *w, char *out, size_t len)
{
    if (w->nworkers == 1)
        return "";
    snprintf(out, len, "worker %d: ", w->index);
    return out;
}

/* Compile the script again into a new state; switch to it only if that
 * worked. Live connections keep the state they started with. */
static void reload(worker *w, const char *why)
{
    char err[1024], tag[32];
    policy *p = policy_load(policy_path(w->policy), &w->opts, err,
                            sizeof err);
    if (p == NULL) {
        for (char *nl = err; (nl = strchr(nl, '\n')) != NULL;)
            *nl = ' ';
        log_error("%sreload (%s) failed, keeping the running script: %s",
                  worker_tag(w, tag, sizeof tag), why, err);
        return;
    }
    char hooks[128];
    policy_describe(p, hooks, sizeof hooks);
    policy_bind_loop(p, w->loop);
    log_info("%sreload (%s): loaded %s, hooks: %s; %zu live connections "
             "finish on the previous script", worker_tag(w, tag, sizeof tag),
             why, policy_path(p), hooks, conn_table_live(w->conns));
    policy_release(w->policy);
    w->policy = p;
}

static void begin_stop(worker *w)
{
    w->stops++;
    if (w->stops == 1) {
        close_listeners(w);
        log_info("stopping: %zu connections open, waiting up to %.1f s "
                 "for them to finish", conn_table_live(w->conns),
                 (double)w->cfg->drain_ms / 1000.0);
        conn_table_stop_by(w->conns, loop_now(w->loop) + w->cfg->drain_ms);
        return;
    }
    log_warn("second stop request: closing %zu connections now",
             conn_table_live(w->conns));
    conn_table_reset_all(w->conns, CONN_REASON_STOP);
}

static void on_command(loop *l, loop_io *io, int events)
{
    worker *w = io->data;
    char cmds[64];
    long n;
    (void)l;
    (void)events;
    while ((n = net_recv(io->handle.sock, cmds, sizeof cmds)) > 0) {
        for (long i = 0; i < n; i++) {
            if (cmds[i] == CMD_RELOAD_HUP && w->stops == 0)
                reload(w, "SIGHUP");
            else if (cmds[i] == CMD_RELOAD_WATCH && w->stops == 0)
                reload(w, "the file changed");
            else if (cmds[i] == CMD_STOP && w->stops < 2)
                begin_stop(w);
        }
    }
}

/* The top of every loop iteration: free what closed, resume accepting,
 * and see whether a stop has finished. */
static void before_sleep(loop *l, void *data)
{
    worker *w = data;
    (void)l;
    conn_table_tick(w->conns); /* the batch's small sends; free closed */
    if (w->stops == 0 && !w->accepting &&
        !timer_active(&w->accept_retry) &&
        conn_table_live(w->conns) < w->max_conns) {
        w->full_warned = 0;
        set_accepting(w, 1);
    }
    if (w->stops > 0 && conn_table_live(w->conns) == 0)
        w->done = 1;
}

/* Everything but the listeners, which the controller opened. */
static int worker_init(worker *w)
{
    timer_init(&w->accept_retry, on_accept_retry, w);
    w->loop = loop_create();
    if (w->loop == NULL)
        return -1;
    /* ids stay unique across workers: worker k of n hands out k, k+n, ... */
    conn_config cc = {
        .loop = w->loop, .out_limit = w->cfg->out_limit,
        .idle_ms = w->cfg->idle_ms, .drain_ms = w->cfg->drain_ms,
        .first_id = (uint64_t)w->index, .id_stride = (uint64_t)w->nworkers,
        .write_later = 1,
    };
    w->conns = conn_table_create(&cc);
    if (w->conns == NULL)
        return -1;
    net_socket cmd_r;
    if (net_wakeup_pair(&cmd_r, &w->cmd_w) != 0)
        return -1;
    loop_io_init(&w->cmd, cmd_r, on_command, w);
    if (loop_io_set(w->loop, &w->cmd, POLLER_READ) != 0)
        return -1;
    loop_set_before_sleep(w->loop, before_sleep, w);
    policy_bind_loop(w->policy, w->loop);
    return 0;
}

static void worker_free(worker *w)
{
    if (w->loop)
        close_listeners(w);
    conn_table_free(w->conns);
    if (w->cmd.handle.sock != NET_INVALID) {
        loop_io_set(w->loop, &w->cmd, 0);
        net_close(w->cmd.handle.sock);
    }
    if (w->cmd_w != NET_INVALID)
        net_close(w->cmd_w);
    if (w->loop)
        loop_free(w->loop);
    if (w->policy)
        policy_release(w->policy);
}

static void worker_main(void *arg)
{
    worker *w = arg;
    rng_fork((uint64_t)w->index);
    set_accepting(w, 1);
    while (!w->done) {
        int rc = loop_run_once(w->loop, -1);
        if (rc != 0) {
            log_error("the event loop failed: %s", err_strerror(rc));
            w->code = EXIT_RUNTIME;
            break;
        }
    }
    /* Tell the controller; it joins this thread. */
    net_send(w->done_w, "d", 1);
}

/* --- listeners ---------------------------------------------------------- */

static void format_name(const server_listen *ls, int port, char *out,
                        size_t len)
{
    int v6 = strchr(ls->host, ':') != NULL;
    snprintf(out, len, "%s%s%s:%d", v6 ? "[" : "", ls->host, v6 ? "]" : "",
             port);
}

/* Open every listener for every worker, port 0 resolved once so that all
 * workers share the port. Prints the readiness lines. */
static int open_listeners(const server_config *cfg, worker *workers, int n)
{
    int reuseport = n > 1;
    for (int i = 0; i < cfg->nlisten; i++) {
        const server_listen *ls = &cfg->listen[i];
        int port = ls->port;
        char name[80];
        for (int k = 0; k < n; k++) {
            net_socket sock;
            int rc = ERR_EINVAL;
            if (k == 0 || reuseport)
                rc = net_listen(ls->host, port, LISTEN_BACKLOG, reuseport,
                                &sock);
            if (rc == ERR_EINVAL && k == 0 && reuseport) {
                reuseport = 0; /* no SO_REUSEPORT: share one socket */
                rc = net_listen(ls->host, port, LISTEN_BACKLOG, 0, &sock);
            }
            listener *li = &workers[k].listeners[i];
            if (rc == 0) {
                li->owned = 1;
            } else if (k > 0 && !reuseport) {
                sock = workers[0].listeners[i].io.handle.sock;
                li->owned = 0;
            } else {
                format_name(ls, port, name, sizeof name);
                fprintf(stderr, "ricochet: cannot listen on %s: %s\n", name,
                        err_strerror(rc));
                return -1;
            }
            loop_io_init(&li->io, sock, on_accept, &workers[k]);
            workers[k].nlisteners++;
            if (k == 0 &&
                net_local_name(sock, name, sizeof name) == 0 && port == 0) {
                const char *colon = strrchr(name, ':');
                port = colon ? atoi(colon + 1) : 0;
            }
        }
    }
    /* Only once every listener is bound: a failure prints nothing here. */
    for (int i = 0; i < cfg->nlisten; i++) {
        char name[80];
        if (net_local_name(workers[0].listeners[i].io.handle.sock, name,
                           sizeof name) != 0)
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

/* --- the controller --------------------------------------------------------- */

typedef struct controller {
    loop *loop;
    worker *workers;
    int nworkers;
    int running;           /* workers not yet ended */
    int stops;
    loop_io wake;          /* signals */
    watch *watch;          /* --watch */
    loop_io watch_io;      /* its handle, when the backend has one */
    timer watch_poll;      /* else: look every watch_poll_ms() */
    timer watch_settle;    /* a burst of writes ends before the reload */
} controller;

static void tell_workers(controller *ctl, char cmd)
{
    for (int k = 0; k < ctl->nworkers; k++)
        net_send(ctl->workers[k].cmd_w, &cmd, 1);
}

static void on_signal(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    char drain[64];
    (void)l;
    (void)events;
    while (net_recv(io->handle.sock, drain, sizeof drain) > 0)
        ;
    int stops, reloads;
    signals_take(&stops, &reloads);
    if (reloads > 0 && ctl->stops == 0)
        tell_workers(ctl, CMD_RELOAD_HUP);
    for (int i = 0; i < stops && ctl->stops < 2; i++) {
        ctl->stops++;
        tell_workers(ctl, CMD_STOP);
    }
}

static void on_worker_done(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    char drain[64];
    long n;
    (void)l;
    (void)events;
    while ((n = net_recv(io->handle.sock, drain, sizeof drain)) > 0)
        ctl->running -= (int)n;
}

/* The script changed and held still for SETTLE_MS: reload. */
static void on_watch_settled(timer *t)
{
    controller *ctl = t->data;
    if (ctl->stops == 0)
        tell_workers(ctl, CMD_RELOAD_WATCH);
}

static void on_watch_event(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    (void)events;
    if (watch_check(ctl->watch))
        loop_timer_start(l, &ctl->watch_settle, WATCH_SETTLE_MS);
}

static void on_watch_poll(timer *t)
{
    controller *ctl = t->data;
    if (watch_check(ctl->watch))
        loop_timer_start(ctl->loop, &ctl->watch_settle, WATCH_SETTLE_MS);
    loop_timer_start(ctl->loop, &ctl->watch_poll, watch_poll_ms());
}

/* --watch: wait on the backend's handle, or poll it. */
static int watch_script(controller *ctl, const char *path)
{
    char err[256];
    ctl->watch = watch_open(path, err, sizeof err);
    if (ctl->watch == NULL) {
        fprintf(stderr, "ricochet: --watch: %s\n", err);
        return -1;
    }
    timer_init(&ctl->watch_settle, on_watch_settled, ctl);
    timer_init(&ctl->watch_poll, on_watch_poll, ctl);
    net_socket h = watch_handle(ctl->watch);
    int rc;
    if (h != NET_INVALID) {
        loop_io_init(&ctl->watch_io, h, on_watch_event, ctl);
        rc = loop_io_set(ctl->loop, &ctl->watch_io, POLLER_READ);
    } else {
        rc = loop_timer_start(ctl->loop, &ctl->watch_poll, watch_poll_ms());
    }
    if (rc != 0) {
        fprintf(stderr, "ricochet: --watch: %s\n", err_strerror(rc));
        return -1;
    }
    log_info("watching %s for changes (%s)", path, watch_backend());
    return 0;
}

static void unwatch_script(controller *ctl)
{
    if (ctl->watch == NULL)
        return;
    if (watch_handle(ctl->watch) != NET_INVALID)
        loop_io_set(ctl->loop, &ctl->watch_io, 0);
    loop_timer_stop(ctl->loop, &ctl->watch_poll);
    loop_timer_stop(ctl->loop, &ctl->watch_settle);
    watch_close(ctl->watch);
    ctl->watch = NULL;
}

int server_run(const server_config *cfg, policy *p)
{
    int n = cfg->workers > 0 ? cfg->workers : 1;
    int code = EXIT_RUNTIME;
    controller ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.wake.handle.sock = NET_INVALID;
    net_socket wake_w = NET_INVALID;
    worker *workers = calloc((size_t)n, sizeof *workers);
    int rc = net_init();
    if (rc != 0 || workers == NULL) {
        fprintf(stderr, "ricochet: cannot start the socket library: %s\n",
                rc ? err_strerror(rc) : "out of memory");
        free(workers);
        policy_release(p);
        return EXIT_RUNTIME;
    }
    ctl.workers = workers;
    ctl.nworkers = n;

    /* Every worker's state first: a script that loads once loads again,
     * but memory may run out. */
    for (int k = 0; k < n; k++) {
        workers[k].cmd.handle.sock = NET_INVALID;
        workers[k].cmd_w = NET_INVALID;
        workers[k].done_io.handle.sock = NET_INVALID;
        workers[k].done_w = NET_INVALID;
    }
    for (int k = 0; k < n; k++) {
        worker *w = &workers[k];
        w->cfg = cfg;
        w->index = k + 1;
        w->nworkers = n;
        w->opts = *cfg->policy_opts;
        w->opts.worker = k + 1;
        w->max_conns = (cfg->max_conns + (size_t)n - 1) / (size_t)n;
        if (k == 0) {
            w->policy = p;
        } else {
            char err[1024];
            w->policy = policy_load(policy_path(p), &w->opts, err,
                                    sizeof err);
            if (w->policy == NULL) {
                fprintf(stderr, "ricochet: worker %d: %s\n", k + 1, err);
                goto out;
            }
        }
        if (worker_init(w) != 0) {
            fprintf(stderr, "ricochet: cannot create worker %d's event "
                    "loop\n", k + 1);
            goto out;
        }
    }
    ctl.loop = loop_create();
    net_socket wake_r;
    if (ctl.loop == NULL || net_wakeup_pair(&wake_r, &wake_w) != 0) {
        fprintf(stderr, "ricochet: cannot create the event loop\n");
        goto out;
    }
    loop_io_init(&ctl.wake, wake_r, on_signal, &ctl);
    /* One done pair per worker: each socket has a single writer (Winsock
     * may refuse a send racing another thread's on the same socket). */
    for (int k = 0; k < n; k++) {
        net_socket done_r;
        if (net_wakeup_pair(&done_r, &workers[k].done_w) != 0) {
            fprintf(stderr, "ricochet: cannot create the event loop\n");
            goto out;
        }
        loop_io_init(&workers[k].done_io, done_r, on_worker_done, &ctl);
        if (loop_io_set(ctl.loop, &workers[k].done_io, POLLER_READ) != 0) {
            fprintf(stderr, "ricochet: cannot create the event loop\n");
            goto out;
        }
    }
    if (loop_io_set(ctl.loop, &ctl.wake, POLLER_READ) != 0 ||
        signals_install(wake_w) != 0) {
        fprintf(stderr, "ricochet: cannot install the signal handlers\n");
        goto out;
    }
    if (open_listeners(cfg, workers, n) != 0) {
        code = EXIT_LISTEN;
        goto out;
    }
    if (cfg->watch && watch_script(&ctl, policy_path(p)) != 0)
        goto out;
    for (int k = 0; k < n; k++) {
        workers[k].thread = thread_start(worker_main, &workers[k]);
        if (workers[k].thread == NULL) {
            log_error("cannot start worker %d", k + 1);
            tell_workers(&ctl, CMD_STOP);
            tell_workers(&ctl, CMD_STOP);
            break;
        }
        ctl.running++;
    }
    while (ctl.running > 0) {
        rc = loop_run_once(ctl.loop, -1);
        if (rc != 0) {
            log_error("the controller's loop failed: %s", err_strerror(rc));
            tell_workers(&ctl, CMD_STOP);
            tell_workers(&ctl, CMD_STOP);
            break;
        }
    }
    code = EXIT_OK;
    for (int k = 0; k < n; k++) {
        if (workers[k].thread)
            thread_join(workers[k].thread);
        if (workers[k].code != EXIT_OK)
            code = workers[k].code;
    }
    if (code == EXIT_OK)
        log_info("stopped");
out:
    unwatch_script(&ctl);
    signals_restore();
    for (int k = n - 1; k >= 0; k--)
        worker_free(&workers[k]);
    if (ctl.wake.handle.sock != NET_INVALID) {
        loop_io_set(ctl.loop, &ctl.wake, 0);
        net_close(ctl.wake.handle.sock);
    }
    for (int k = 0; k < n; k++) {
        if (workers[k].done_io.handle.sock != NET_INVALID) {
            loop_io_set(ctl.loop, &workers[k].done_io, 0);
            net_close(workers[k].done_io.handle.sock);
        }
        if (workers[k].done_w != NET_INVALID)
            net_close(workers[k].done_w);
    }
    if (wake_w != NET_INVALID)
        net_close(wake_w);
    loop_free(ctl.loop);
    free(workers);
    net_cleanup();
    return code;
}
