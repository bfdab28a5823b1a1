/* worker.c -- one worker: its loop, accept, reload and graceful stop. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ladmin.h"
#include "log.h"
#include "record.h"
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

/* Switch to p, a reloaded policy loaded off this thread: bind it to this
 * worker's loop (ricochet.now and conn:after read it) and drop the
 * worker's reference to the old one. Live connections keep the state
 * they started with. Called between events: no hook is running. */
static void swap_in(worker *w, policy *p, const char *why)
{
    char hooks[128], tag[32];
    policy_describe(p, hooks, sizeof hooks);
    policy_bind_loop(p, w->loop);
    policy_bind_stats(p, &w->lua_stats);
    log_info("%sreload (%s): loaded %s, hooks: %s; %zu live connections "
             "finish on the previous script", worker_tag(w, tag, sizeof tag),
             why, policy_path(p), hooks, conn_table_live(w->conns));
    policy_release(w->policy);
    w->policy = p;
}

/* A reloaded policy and what triggered its reload, in w->offer. */
typedef struct reload_offer {
    policy *policy;
    const char *why;
} reload_offer;

/* WORKER_SWAP: take what the slot holds (nothing when a later byte's
 * offer was taken with an earlier byte). */
static void take_offer(worker *w)
{
    reload_offer *o = thread_exchange_ptr(&w->offer, NULL);
    if (o == NULL)
        return;
    policy *p = o->policy;
    const char *why = o->why;
    free(o);
    if (w->stops > 0) {
        policy_release(p); /* stopping: no new connection would use it */
        return;
    }
    swap_in(w, p, why);
}

/* --- admin requests ------------------------------------------------------ */

static void list_conns(worker *w, worker_ask *a)
{
    json_buf b = {0};
    int first = 1;
    for (conn *c = conn_table_next(w->conns, NULL); c != NULL;
         c = conn_table_next(w->conns, c)) {
        if (conn_outbound(c))
            continue; /* shown as its client's upstream */
        json_printf(&b, "%s{\"id\":%llu,\"worker\":%d,\"peer\":",
                    first ? "" : ",", (unsigned long long)conn_id(c),
                    w->index);
        json_str(&b, conn_peer(c));
        json_printf(&b, ",\"state\":\"%s\",\"age_ms\":%llu,"
                    "\"bytes_in\":%llu,\"bytes_out\":%llu,"
                    "\"script_version\":%lu",
                    conn_state_name(conn_state(c)),
                    (unsigned long long)conn_age_ms(c),
                    (unsigned long long)conn_bytes_in(c),
                    (unsigned long long)conn_bytes_out(c),
                    ladmin_conn_version(c));
        conn *up = ladmin_conn_upstream(c);
        if (up != NULL) {
            json_printf(&b, ",\"upstream\":{\"id\":%llu,\"peer\":",
                        (unsigned long long)conn_id(up));
            json_str(&b, conn_peer(up));
            json_printf(&b, ",\"state\":\"%s\",\"bytes_in\":%llu,"
                        "\"bytes_out\":%llu}",
                        conn_state_name(conn_state(up)),
                        (unsigned long long)conn_bytes_in(up),
                        (unsigned long long)conn_bytes_out(up));
        }
        json_raw(&b, "}", 1);
        first = 0;
    }
    a->result = b.oom ? -1 : 0;
    a->json = json_take(&b, &a->len);
}

/* The client connection id of this worker, not one closed already. */
static conn *find_client(worker *w, uint64_t id)
{
    conn *c = conn_table_find(w->conns, id);
    if (c == NULL || conn_outbound(c) || conn_state(c) == CONN_CLOSED)
        return NULL;
    return c;
}

static void answer_ask(worker *w, worker_ask *a)
{
    char tag[32];
    conn *c;
    switch (a->op) {
    case WORKER_ASK_LIST:
        list_conns(w, a);
        break;
    case WORKER_ASK_CLOSE:
    case WORKER_ASK_RESET:
        c = find_client(w, a->id);
        a->result = c != NULL;
        if (c == NULL)
            break;
        log_info("%sconn %llu: %s by the admin API",
                 worker_tag(w, tag, sizeof tag), (unsigned long long)a->id,
                 a->op == WORKER_ASK_CLOSE ? "closing" : "resetting");
        if (a->op == WORKER_ASK_CLOSE)
            conn_close(c);
        else
            conn_reset(c, CONN_REASON_RESET);
        break;
    case WORKER_ASK_ARGS:
        a->result = ladmin_set_args(w->policy, a->args, a->nargs, a->err,
                                    sizeof a->err);
        if (a->result != 0)
            log_error("%sPOST /args: %s", worker_tag(w, tag, sizeof tag),
                      a->err);
        break;
    case WORKER_ASK_SYNC:
        a->result = 0;
        break;
    }
}

/* WORKER_ASK: answer the request waiting, if any. */
static void take_ask(worker *w)
{
    worker_ask *a = thread_exchange_ptr(&w->ask_in, NULL);
    if (a == NULL)
        return;
    answer_ask(w, a);
    thread_exchange_ptr(&w->ask_out, a);
    net_send(w->done_w, (char[]){WORKER_ANSWERED}, 1);
}

static void begin_stop(worker *w)
{
    w->stops++;
    if (w->stops == 1) {
        listener_close(&w->listen);
        size_t up = conn_table_outbound(w->conns);
        char ups[48] = "";
        if (up > 0) /* proxy mode: a pair is one client and one upstream */
            snprintf(ups, sizeof ups, " (and %zu to upstreams)", up);
        log_info("stopping: %zu connections open%s, waiting up to %.1f s "
                 "for them to finish", conn_table_open(w->conns), ups,
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
            if (cmds[i] == WORKER_SWAP)
                take_offer(w);
            else if (cmds[i] == WORKER_ASK)
                take_ask(w);
            else if (cmds[i] == WORKER_STOP && w->stops < 2)
                begin_stop(w);
        }
    }
}

static void on_log_repeats(timer *t)
{
    (void)t;
    log_repeats_flush(0);
}

/* The top of every loop iteration: write the batch's small sends, free
 * what closed, resume accepting, and see whether a stop has finished.
 * A count of repeated log lines owed by this thread gets a timer, so it
 * is written when its window ends even if the repeats have stopped. */
static void before_sleep(loop *l, void *data)
{
    worker *w = data;
    conn_table_tick(w->conns);
    listener_resume(&w->listen);
    if (w->stops > 0 && conn_table_live(w->conns) == 0)
        w->done = 1;
    int64_t due = log_repeats_due_ms();
    if (due >= 0 && !timer_active(&w->log_repeats))
        loop_timer_start(l, &w->log_repeats, (uint64_t)due);
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
    if (cfg->record_dir != NULL) {
        w->rec = recorder_create(cfg->record_dir, cfg->record_max, w->loop,
                                 &w->lua_stats, &w->script);
        if (w->rec == NULL)
            return ERR_ENOMEM;
        cc.tap = recorder_tap(w->rec);
    }
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
    timer_init(&w->log_repeats, on_log_repeats, w);
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
    w->script = malloc(strlen(policy_path(w->policy)) + 1);
    if (w->script == NULL) {
        fprintf(stderr, "ricochet: out of memory starting worker %d\n",
                index);
        return ERR_ENOMEM;
    }
    strcpy(w->script, policy_path(w->policy));
    int rc = make_loop(w);
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot create worker %d's event loop: "
                "%s\n", index, err_strerror(rc));
        return rc;
    }
    policy_bind_loop(w->policy, w->loop);
    policy_bind_stats(w->policy, &w->lua_stats);
    ladmin_set_version(w->policy, 1);
    return 0;
}

static void worker_main(void *arg)
{
    worker *w = arg;
    rng_fork((uint64_t)w->index);
    policy_watch_thread(1);
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
    log_repeats_flush(1);
    policy_watch_thread(0);
    /* Tell the controller; it joins this thread. */
    net_send(w->done_w, (char[]){WORKER_ENDED}, 1);
}

int worker_start(worker *w)
{
    return thread_start(&w->thread, worker_main, w);
}

void worker_tell(worker *w, char cmd)
{
    net_send(w->cmd_w, &cmd, 1);
}

/* Close an offer nobody took. */
static void drop_offer(reload_offer *o)
{
    if (o == NULL)
        return;
    policy_release(o->policy);
    free(o);
}

void worker_offer(worker *w, policy *p, const char *why)
{
    char tag[32];
    reload_offer *o = malloc(sizeof *o);
    if (o == NULL) {
        log_error("%sreload (%s) failed, keeping the running script: out "
                  "of memory", worker_tag(w, tag, sizeof tag), why);
        policy_release(p);
        return;
    }
    o->policy = p;
    o->why = why;
    drop_offer(thread_exchange_ptr(&w->offer, o));
    worker_tell(w, WORKER_SWAP); /* after the slot: see worker.h */
}

void worker_ask_post(worker *w, worker_ask *a)
{
    thread_exchange_ptr(&w->ask_in, a);
    worker_tell(w, WORKER_ASK); /* after the slot, as with the offer */
}

worker_ask *worker_answer(worker *w)
{
    return thread_exchange_ptr(&w->ask_out, NULL);
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
    conn_table_free(w->conns); /* what is left is recorded now */
    recorder_free(w->rec);
    if (w->cmd.handle.sock != NET_INVALID) {
        loop_io_set(w->loop, &w->cmd, 0);
        net_close(w->cmd.handle.sock);
    }
    if (w->cmd_w != NET_INVALID)
        net_close(w->cmd_w);
    if (w->loop != NULL)
        loop_timer_stop(w->loop, &w->log_repeats);
    loop_free(w->loop);
    if (w->policy)
        policy_release(w->policy);
    drop_offer(thread_exchange_ptr(&w->offer, NULL)); /* came too late */
    free(w->script);
    memset(w, 0, sizeof *w);
}
