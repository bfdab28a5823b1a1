/* worker.c -- one worker: its loop, accept, reload and graceful stop. */
#include "worker.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "rng.h"

/* "worker 2: " in front of a worker's own lines when there are several. */
static const char *worker_tag(const worker *w, char *out, size_t len)
{
    if (w->nworkers == 1)
        return "";
    snprintf(out, len, "worker %d: ", w->index);
    return out;
}

static void on_conn(void *owner, net_socket sock, const char *peer)
{
    worker *w = owner;
    conn *c = conn_accept(w->conns, sock, peer);
    if (c == NULL) {
        log_error("out of memory accepting a connection from %s", peer);
        return;
    }
    policy_attach(w->policy, c);
}

static size_t open_conns(void *owner)
{
    worker *w = owner;
    return conn_table_open(w->conns);
}

static size_t peer_conns(void *owner, const char *peer)
{
    worker *w = owner;
    return conn_table_peer_open(w->conns, peer);
}

static uint64_t idlest_ms(void *owner)
{
    worker *w = owner;
    conn *c = conn_table_idlest(w->conns);
    return c ? conn_idle_ms(c) : UINT64_MAX;
}

static void evict_idlest(void *owner, char *desc, size_t desclen)
{
    worker *w = owner;
    conn *c = conn_table_idlest(w->conns);
    uint64_t idle = conn_idle_ms(c);
    int reset = conn_evict(c, "--max-conns reached, a new client waits");
    /* c stays readable until the tick frees it */
    snprintf(desc, desclen, "%s conn %llu (%s, idle %llu ms%s)",
             reset ? "reset" : "closed", (unsigned long long)conn_id(c),
             conn_peer(c), (unsigned long long)idle,
             reset ? ", its output unsent" : "");
}

static const listener_ops worker_listener_ops = {
    on_conn, open_conns, peer_conns, idlest_ms, evict_idlest
};

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
        listener_close(&w->listen);
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
            if (cmds[i] == WORKER_RELOAD_HUP && w->stops == 0)
                reload(w, "SIGHUP");
            else if (cmds[i] == WORKER_RELOAD_WATCH && w->stops == 0)
                reload(w, "the file changed");
            else if (cmds[i] == WORKER_STOP && w->stops < 2)
                begin_stop(w);
        }
    }
}

/* The top of every loop iteration: write the batch's small sends, free
 * what closed, resume accepting, and see whether a stop has finished. */
static void before_sleep(loop *l, void *data)
{
    worker *w = data;
    (void)l;
    conn_table_tick(w->conns);
    listener_resume(&w->listen);
    if (w->stops > 0 && conn_table_live(w->conns) == 0)
        w->done = 1;
}

/* Everything but the policy; returns 0 or an err.h code. */
static int make_loop(worker *w)
{
    const server_config *cfg = w->cfg;
    w->loop = loop_create();
    if (w->loop == NULL)
        return ERR_ENOMEM;
    /* ids stay unique across workers: worker k of n hands out k, k+n, ... */
    conn_config cc = {
        .loop = w->loop, .out_limit = cfg->out_limit,
        .idle_ms = cfg->idle_ms, .drain_ms = cfg->drain_ms,
        .first_id = (uint64_t)w->index, .id_stride = (uint64_t)w->nworkers,
        .write_later = 1, .count_peers = cfg->max_conns_per_ip > 0,
    };
    w->conns = conn_table_create(&cc);
    if (w->conns == NULL)
        return ERR_ENOMEM;
    /* the limits are shared out among the workers, rounded up */
    size_t n = (size_t)w->nworkers;
    listener_limits limits = {
        .max_conns = (cfg->max_conns + n - 1) / n,
        .max_per_peer = (cfg->max_conns_per_ip + n - 1) / n,
        .evict_idle_ms = cfg->evict_idle_ms,
    };
    listener_init(&w->listen, w->loop, &limits, &worker_listener_ops, w);
    net_socket cmd_r;
    int rc = net_wakeup_pair(&cmd_r, &w->cmd_w);
    if (rc != 0)
        return rc;
    loop_io_init(&w->cmd, cmd_r, on_command, w);
    rc = loop_io_set(w->loop, &w->cmd, POLLER_READ);
    if (rc != 0)
        return rc;
    loop_set_before_sleep(w->loop, before_sleep, w);
    return 0;
}

int worker_init(worker *w, const server_config *cfg, int index, int n,
                policy *p, const char *path, net_socket done_w)
{
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->index = index;
    w->nworkers = n;
    w->opts = *cfg->policy_opts; /* a policy keeps a pointer to its opts */
    w->opts.worker = index;
    w->policy = p;
    w->done_w = done_w;
    w->cmd.handle.sock = NET_INVALID;
    w->cmd_w = NET_INVALID;
    if (w->policy == NULL) {
        char err[1024];
        w->policy = policy_load(path, &w->opts, err, sizeof err);
        if (w->policy == NULL) {
            fprintf(stderr, "ricochet: worker %d: %s\n", index, err);
            return ERR_EINVAL;
        }
    }
    int rc = make_loop(w);
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot create worker %d's event loop: "
                "%s\n", index, err_strerror(rc));
        return rc;
    }
    policy_bind_loop(w->policy, w->loop);
    return 0;
}

static void worker_main(void *arg)
{
    worker *w = arg;
    rng_fork((uint64_t)w->index);
    listener_resume(&w->listen);
    while (!w->done) {
        int rc = loop_run_once(w->loop, -1);
        if (rc != 0) {
            log_error("worker %d: the event loop failed: %s", w->index,
                      err_strerror(rc));
            w->code = EXIT_RUNTIME;
            break;
        }
    }
    /* Tell the controller; it joins this thread. */
    net_send(w->done_w, "d", 1);
}

int worker_start(worker *w)
{
    return thread_start(&w->thread, worker_main, w);
}

void worker_tell(worker *w, char cmd)
{
    net_send(w->cmd_w, &cmd, 1);
}

void worker_join(worker *w)
{
    if (w->thread != NULL)
        thread_join(w->thread);
    w->thread = NULL;
}

void worker_free(worker *w)
{
    if (w->cfg == NULL)
        return; /* never initialised */
    listener_close(&w->listen);
    conn_table_free(w->conns);
    if (w->cmd.handle.sock != NET_INVALID) {
        loop_io_set(w->loop, &w->cmd, 0);
        net_close(w->cmd.handle.sock);
    }
    if (w->cmd_w != NET_INVALID)
        net_close(w->cmd_w);
    loop_free(w->loop);
    if (w->policy)
        policy_release(w->policy);
    memset(w, 0, sizeof *w);
}
