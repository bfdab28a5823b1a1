/* controller.c -- signals, --watch, reloads and the workers' ends, on
 * the main thread's loop (see controller.h). */
#include "controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "ladmin.h"
#include "log.h"
#include "metrics.h"
#include "rng.h"
#include "service.h"
#include "signals.h"

/* A changed file is looked at (size, mtime, a hash of its bytes) this
 * long after the last change seen, and again as long after that: it is
 * loaded once two looks in a row agree. */
#define WATCH_SETTLE_MS 100

static void tell_workers(controller *ctl, char cmd)
{
    for (int k = 0; k < ctl->nworkers; k++)
        worker_tell(&ctl->workers[k], cmd);
}

/* Read a wake-up socket empty. */
static void drain(net_socket sock)
{
    char bytes_read[64];
    while (net_recv(sock, bytes_read, sizeof bytes_read) > 0)
        continue;
}

/* --- reload --------------------------------------------------------------- */

/* The loader thread: one new policy per worker, with that worker's opts,
 * the new script's top level running here, not on a worker. The job's
 * inputs are written before thread_start and its results read after
 * thread_join, which order them; the byte on loader_w only wakes the
 * controller. All or nothing: on a failure the ones loaded are closed. */
static void load_policies(void *arg)
{
    controller *ctl = arg;
    reload_job *job = &ctl->job;
    rng_fork(job->rng_stream);
    for (int k = 0; k < ctl->nworkers && job->failed == 0; k++) {
        job->loaded[k] = policy_load(job->path, &ctl->workers[k].opts,
                                     job->err, sizeof job->err);
        if (job->loaded[k] == NULL)
            job->failed = k + 1;
    }
    for (int k = 0; job->failed != 0 && k < ctl->nworkers; k++) {
        if (job->loaded[k] != NULL)
            policy_release(job->loaded[k]);
        job->loaded[k] = NULL;
    }
    log_repeats_flush(1);
    net_send(ctl->loader_w, "l", 1);
}

static int start_load(controller *ctl, const char *why)
{
    reload_job *job = &ctl->job;
    job->why = why;
    job->path = ctl->workers[0].script;
    job->failed = 0;
    job->err[0] = '\0';
    /* streams 1..n are the workers': each load draws from its own */
    job->rng_stream = (uint64_t)ctl->nworkers + (uint64_t)++ctl->loads;
    for (int k = 0; ctl->args != NULL && k < ctl->nworkers; k++) {
        ctl->workers[k].opts.args = (char **)ctl->args; /* POST /args's */
        ctl->workers[k].opts.nargs = ctl->nargs;
    }
    service_reloading(ctl, why);
    int rc = thread_start(&job->thread, load_policies, ctl);
    if (rc != 0) {
        ctl->reloads_failed++;
        service_reloaded(ctl, why, "failed");
        log_error("reload (%s) failed, keeping the running script: cannot "
                  "start a thread to load it: %s", why, err_strerror(rc));
        admin_reloaded(ctl, ctl->loads, "reload failed, keeping the "
                       "running script: cannot start a thread to load it");
        return rc;
    }
    ctl->reload = RELOAD_LOADING;
    return 0;
}

/* Reload every worker, unless stopping. One load at a time: a request
 * that comes while one runs is kept, one, and starts when that one is
 * done, so the last edit is always loaded. */
static int request_reload(controller *ctl, const char *why)
{
    if (ctl->stops > 0)
        return ERR_EINVAL;
    if (ctl->reload != RELOAD_IDLE) {
        ctl->reload_again = why;
        return 0;
    }
    return start_load(ctl, why);
}

int controller_reload(controller *ctl, const char *why, int *load)
{
    *load = ctl->loads + 1; /* the next to start, now or after this one */
    return request_reload(ctl, why);
}

/* The load has ended: start what waited. */
static void reload_idle(controller *ctl)
{
    ctl->reload = RELOAD_IDLE;
    const char *again = ctl->reload_again;
    ctl->reload_again = NULL;
    if (again != NULL)
        request_reload(ctl, again);
}

/* Wait for the loader thread, if one runs: its results are ours then. */
static void join_loader(controller *ctl)
{
    reload_job *job = &ctl->job;
    if (job->thread == NULL)
        return;
    thread_join(job->thread);
    job->thread = NULL;
}

static void on_loaded(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    reload_job *job = &ctl->job;
    (void)l;
    (void)events;
    drain(io->handle.sock);
    if (job->thread == NULL)
        return;
    join_loader(ctl);
    if (job->failed != 0) {
        for (char *nl = job->err; (nl = strchr(nl, '\n')) != NULL;)
            *nl = ' ';
        char which[48] = "";
        if (ctl->nworkers > 1)
            snprintf(which, sizeof which, " (loading worker %d's state)",
                     job->failed);
        log_error("reload (%s) failed, keeping the running script: %s%s",
                  job->why, job->err, which);
        ctl->reloads_failed++;
        char said[1200];
        snprintf(said, sizeof said, "reload (%s) failed, keeping the "
                 "running script: %s%s", job->why, job->err, which);
        admin_reloaded(ctl, ctl->loads, said);
        service_reloaded(ctl, job->why, "failed");
        reload_idle(ctl);
        return;
    }
    if (ctl->stops > 0) {
        for (int k = 0; k < ctl->nworkers; k++)
            policy_release(job->loaded[k]);
        memset(job->loaded, 0, (size_t)ctl->nworkers * sizeof *job->loaded);
        admin_reloaded(ctl, ctl->loads, "stopping: the load was dropped");
        reload_idle(ctl);
        return;
    }
    ctl->version++;
    clock_wall(&ctl->loaded_s, &ctl->loaded_ms);
    policy_describe(job->loaded[0], ctl->hooks, sizeof ctl->hooks);
    for (int k = 0; k < ctl->nworkers; k++) {
        ladmin_set_version(job->loaded[k], ctl->version);
        worker_offer(&ctl->workers[k], job->loaded[k], job->why);
        job->loaded[k] = NULL;
    }
    ctl->reloads_ok++;
    admin_reloaded(ctl, ctl->loads, NULL);
    service_reloaded(ctl, job->why, NULL);
    reload_idle(ctl);
}

/* --- signals and the workers' ends ---------------------------------------- */

static void on_signal(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    (void)l;
    (void)events;
    drain(io->handle.sock);
    int stops, reloads;
    signals_take(&stops, &reloads);
    for (int i = 0; i < stops && ctl->stops < 2; i++) {
        if (ctl->stops == 0)
            service_stopping(ctl);
        ctl->stops++;
        tell_workers(ctl, WORKER_STOP);
    }
    if (reloads > 0)
        (void)request_reload(ctl, "SIGHUP"); /* not when stopping */
    if (signals_take_dumps() > 0)
        metrics_log(ctl);
}

static void on_log_repeats(timer *t)
{
    (void)t;
    log_repeats_flush(0);
}

/* Counts of repeated log lines owed by this thread (log.h) are written
 * when their window ends, even if the repeats have stopped. */
static void before_sleep(loop *l, void *data)
{
    controller *ctl = data;
    int64_t due = log_repeats_due_ms();
    if (due >= 0 && !timer_active(&ctl->log_repeats))
        loop_timer_start(l, &ctl->log_repeats, (uint64_t)due);
    admin_reap(ctl);
}

/* A byte from a worker: it ended, or it answered an admin request. */
static void on_worker_done(loop *l, loop_io *io, int events)
{
    controller *ctl = io->data;
    int k = (int)(io - ctl->done);
    char bytes[64];
    long n;
    (void)l;
    (void)events;
    while ((n = net_recv(io->handle.sock, bytes, sizeof bytes)) > 0) {
        for (long i = 0; i < n; i++) {
            if (bytes[i] == WORKER_ANSWERED)
                admin_answered(ctl, k);
            else
                ctl->running--;
        }
    }
}

int controller_init(controller *ctl, worker *workers, int n)
{
    memset(ctl, 0, sizeof *ctl);
    timer_init(&ctl->log_repeats, on_log_repeats, ctl);
    ctl->workers = workers;
    ctl->nworkers = n;
    ctl->version = 1;
    clock_wall(&ctl->loaded_s, &ctl->loaded_ms);
    ctl->wake.handle.sock = NET_INVALID;
    ctl->wake_w = NET_INVALID;
    ctl->loader_io.handle.sock = NET_INVALID;
    ctl->loader_w = NET_INVALID;
    ctl->done = calloc((size_t)n, sizeof *ctl->done);
    ctl->done_w = calloc((size_t)n, sizeof *ctl->done_w);
    ctl->job.loaded = calloc((size_t)n, sizeof *ctl->job.loaded);
    ctl->loop = loop_create();
    if (ctl->done == NULL || ctl->done_w == NULL ||
        ctl->job.loaded == NULL || ctl->loop == NULL)
        return ERR_ENOMEM;
    for (int k = 0; k < n; k++) {
        ctl->done[k].handle.sock = NET_INVALID;
        ctl->done_w[k] = NET_INVALID;
    }
    loop_set_before_sleep(ctl->loop, before_sleep, ctl);
    /* One done pair per worker: each socket has a single writer (Winsock
     * may refuse a send racing another thread's on the same socket). */
    for (int k = 0; k < n; k++) {
        net_socket done_r;
        int rc = net_wakeup_pair(&done_r, &ctl->done_w[k]);
        if (rc != 0)
            return rc;
        loop_io_init(&ctl->done[k], done_r, on_worker_done, ctl);
        rc = loop_io_set(ctl->loop, &ctl->done[k], POLLER_READ);
        if (rc != 0)
            return rc;
    }
    net_socket loader_r;
    int rc = net_wakeup_pair(&loader_r, &ctl->loader_w);
    if (rc != 0)
        return rc;
    loop_io_init(&ctl->loader_io, loader_r, on_loaded, ctl);
    return loop_io_set(ctl->loop, &ctl->loader_io, POLLER_READ);
}

int controller_catch_signals(controller *ctl)
{
    net_socket wake_r;
    int rc = net_wakeup_pair(&wake_r, &ctl->wake_w);
    if (rc != 0)
        return rc;
    loop_io_init(&ctl->wake, wake_r, on_signal, ctl);
    rc = loop_io_set(ctl->loop, &ctl->wake, POLLER_READ);
    if (rc != 0)
        return rc;
    return signals_install(ctl->wake_w);
}

/* --- --watch -------------------------------------------------------------- */

/* WATCH_SETTLE_MS after the last change seen: reload once the file has
 * held still from one look to the next, and only a file with something
 * in it (an editor that truncates, then writes, shows the empty file for
 * a moment; loaded, it would be a script with no hooks: plain echo). */
static void on_watch_settled(timer *t)
{
    controller *ctl = t->data;
    const char *path = ctl->workers[0].script;
    watch_stamp now;
    watch_stamp_file(path, &now);
    if (!ctl->watch_looked || !watch_stamp_equal(&now, &ctl->watch_last)) {
        ctl->watch_last = now;
        ctl->watch_looked = 1;
        loop_timer_start(ctl->loop, &ctl->watch_settle, WATCH_SETTLE_MS);
        return;
    }
    ctl->watch_looked = 0;
    if (ctl->stops > 0)
        return;
    if (!now.found)
        log_warn("%s cannot be read, not reloaded", path);
    else if (now.size == 0)
        log_warn("%s is empty, not reloaded", path);
    else
        request_reload(ctl, "the file changed");
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

int controller_watch(controller *ctl, const char *path)
{
    char err[256];
    ctl->watch = watch_open(path, err, sizeof err);
    if (ctl->watch == NULL) {
        fprintf(stderr, "ricochet: --watch: %s\n", err);
        return ERR_EINVAL;
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
        return rc;
    }
    log_info("watching %s for changes (%s)", path, watch_backend());
    return 0;
}

static void unwatch(controller *ctl)
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

/* --- running -------------------------------------------------------------- */

void controller_stop_now(controller *ctl)
{
    tell_workers(ctl, WORKER_STOP);
    tell_workers(ctl, WORKER_STOP);
}

/* No worker is left: a load still running has nobody to go to. Its top
 * level is bounded (--hook-budget, --lua-memory); wait for it, then
 * close what it loaded. */
static void abandon_load(controller *ctl)
{
    reload_job *job = &ctl->job;
    if (job->thread == NULL)
        return;
    log_info("waiting for the reload in progress to end");
    join_loader(ctl);
    for (int k = 0; k < ctl->nworkers; k++)
        if (job->loaded[k] != NULL)
            policy_release(job->loaded[k]);
    memset(job->loaded, 0, (size_t)ctl->nworkers * sizeof *job->loaded);
    ctl->reload = RELOAD_IDLE;
}

int controller_run(controller *ctl)
{
    int rc = 0;
    while (ctl->running > 0) {
        rc = loop_run_once(ctl->loop, -1);
        if (rc != 0) {
            log_error("the controller's loop failed: %s", err_strerror(rc));
            controller_stop_now(ctl);
            break;
        }
    }
    abandon_load(ctl);
    return rc;
}

static void close_io(loop *l, loop_io *io)
{
    if (io->handle.sock == NET_INVALID)
        return;
    loop_io_set(l, io, 0);
    net_close(io->handle.sock);
    io->handle.sock = NET_INVALID;
}

void controller_free(controller *ctl)
{
    if (ctl->job.loaded != NULL)
        abandon_load(ctl);
    unwatch(ctl);
    admin_close(ctl);
    service_close(ctl);
    signals_restore();
    log_repeats_flush(1);
    if (ctl->loop != NULL) {
        loop_timer_stop(ctl->loop, &ctl->log_repeats);
        close_io(ctl->loop, &ctl->wake);
        for (int k = 0; ctl->done != NULL && k < ctl->nworkers; k++)
            close_io(ctl->loop, &ctl->done[k]);
        close_io(ctl->loop, &ctl->loader_io);
    }
    if (ctl->loader_w != NET_INVALID)
        net_close(ctl->loader_w);
    for (int k = 0; ctl->done_w != NULL && k < ctl->nworkers; k++)
        if (ctl->done_w[k] != NET_INVALID)
            net_close(ctl->done_w[k]);
    if (ctl->wake_w != NET_INVALID)
        net_close(ctl->wake_w);
    loop_free(ctl->loop);
    free(ctl->done);
    free(ctl->done_w);
    free(ctl->job.loaded);
    memset(ctl, 0, sizeof *ctl);
}
