/* controller.h -- the main thread while the workers run: it owns the
 * signals and --watch, passes stop and reload on to every worker as a
 * command byte, and waits until every worker has ended. */
#ifndef RICOCHET_CONTROLLER_H
#define RICOCHET_CONTROLLER_H

#include "loop.h"
#include "net.h"
#include "watch.h"
#include "worker.h"

typedef struct controller {
    loop *loop;
    worker *workers;
    int nworkers;
    int running;           /* workers started and not yet ended */
    int stops;             /* stop requests passed on */
    loop_io wake;          /* the signal handlers' wake-up pair */
    net_socket wake_w;
    loop_io *done;         /* one done pair per worker: its read end */
    net_socket *done_w;    /* and its write end, the worker's */
    watch *watch;          /* --watch */
    loop_io watch_io;      /* its handle, when the backend has one */
    timer watch_poll;      /* else: look every watch_poll_ms() */
    timer watch_settle;    /* a burst of writes ends before the reload */
    watch_stamp watch_last; /* the file at the last settle look */
    int watch_looked;      /* watch_last is set */
    timer log_repeats;     /* writes the counts of repeated log lines */
} controller;

/* Make the controller's loop and one done pair per worker (worker k's
 * end is ctl->done_w[k], to give to worker_init). Returns 0 or an err.h
 * code; call controller_free in both cases. */
int controller_init(controller *ctl, worker *workers, int n);

/* Install the signal handlers. Returns 0 or an err.h code. */
int controller_catch_signals(controller *ctl);

/* --watch: reload every worker when the file at path changes. Returns 0,
 * or an err.h code after printing why to stderr. */
int controller_watch(controller *ctl, const char *path);

/* Ask every worker to stop at once (a second stop request). */
void controller_stop_now(controller *ctl);

/* Serve signals and the watch until every started worker (ctl->running of
 * them) has ended. Returns 0, or an err.h code when the controller's own
 * loop failed (the workers were told to stop, and have ended). */
int controller_run(controller *ctl);

void controller_free(controller *ctl);

#endif
