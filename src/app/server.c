/* server.c -- the server's life: start the workers and the controller,
 * open the listeners, run until a stop, and end with an exit code.
 *
 * A worker (worker.c) is one event loop on its own thread, with its own
 * Lua state and its own connections; the controller (controller.c, the
 * main thread) owns the signals and --watch; the listening sockets
 * (listener.c) are opened here, once, for all the workers. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>

#include "admin.h"
#include "controller.h"
#include "err.h"
#include "interrupt.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "worker.h"

/* Start the threads; on a failure, the started ones are stopped. Returns
 * 0 or the err.h code of the failure. */
static int start_workers(controller *ctl, worker *workers, int n)
{
    for (int k = 0; k < n; k++) {
        int rc = worker_start(&workers[k]);
        if (rc != 0) {
            log_error("cannot start worker %d: %s", k + 1, err_strerror(rc));
            controller_stop_now(ctl);
            return rc;
        }
        ctl->running++;
    }
    return 0;
}

/* With a time limit and no instruction budget, the workers' hook calls
 * run without Lua's per-instruction hook check, and a watchdog looks in
 * on them every quarter of the limit (at most 100 ms): one still running
 * gets the check then (policy_watch_thread). Where there is no watchdog
 * (Windows), every call keeps the check. */
static void watch_hooks(const policy_opts *o)
{
    if (o == NULL || o->hook_budget != 0 || o->hook_timeout_ms == 0)
        return;
    uint64_t period = o->hook_timeout_ms / 4;
    period = period < 1 ? 1 : period > 100 ? 100 : period;
    int rc = interrupt_start((unsigned)period, policy_interrupt);
    if (rc != 0)
        log_debug("no hook watchdog (%s): every hook call counts its "
                  "instructions to check the time limit", err_strerror(rc));
}

int server_run(const server_config *cfg, policy *p)
{
    int n = cfg->workers > 0 ? cfg->workers : 1;
    controller ctl;
    worker *workers = calloc((size_t)n, sizeof *workers);
    int rc = net_init();
    if (rc != 0 || workers == NULL) {
        fprintf(stderr, "ricochet: cannot start the socket library: %s\n",
                rc ? err_strerror(rc) : "out of memory");
        free(workers);
        policy_release(p);
        return EXIT_RUNTIME;
    }
    int code = EXIT_RUNTIME;
    listener *sets[SERVER_MAX_WORKERS];
    rc = controller_init(&ctl, workers, n);
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot create the event loop: %s\n",
                err_strerror(rc));
        policy_release(p);
        goto out;
    }
    service_open(&ctl);
    /* Every worker's state first: a script that loads once loads again,
     * but memory may run out. p goes to worker 1; the others load the
     * same script into states of their own. */
    for (int k = 0; k < n; k++)
        if (worker_init(&workers[k], cfg, k + 1, n, k == 0 ? p : NULL,
                        policy_path(p), ctl.done_w[k]) != 0)
            goto out;
    rc = controller_catch_signals(&ctl);
    if (rc != 0) {
        fprintf(stderr, "ricochet: cannot install the signal handlers: "
                "%s\n", err_strerror(rc));
        goto out;
    }
    for (int k = 0; k < n; k++)
        sets[k] = &workers[k].listen;
    /* the admin socket first: when it cannot be had, no "listening on"
     * line was printed */
    if (cfg->has_admin &&
        admin_open(&ctl, cfg->admin.host, cfg->admin.port) != 0) {
        code = EXIT_LISTEN;
        goto out;
    }
    if (listener_open_all(cfg, sets, n) != 0) {
        code = EXIT_LISTEN;
        goto out;
    }
    admin_announce(&ctl);
    if (cfg->watch && controller_watch(&ctl, policy_path(p)) != 0)
        goto out;
    watch_hooks(cfg->policy_opts);
    int failed = start_workers(&ctl, workers, n) != 0;
    if (!failed)
        service_ready(&ctl); /* listening, and every worker serves */
    failed |= controller_run(&ctl) != 0;
    code = failed ? EXIT_RUNTIME : EXIT_OK;
    for (int k = 0; k < n; k++) {
        worker_join(&workers[k]);
        if (workers[k].code != EXIT_OK)
            code = workers[k].code;
    }
    if (code == EXIT_OK)
        log_info("stopped");
out:
    interrupt_stop();   /* every worker has ended */
    for (int k = n - 1; k >= 0; k--)
        worker_free(&workers[k]);
    controller_free(&ctl);
    free(workers);
    net_cleanup();
    return code;
}
