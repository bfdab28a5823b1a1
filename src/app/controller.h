/* controller.h -- the main thread while the workers run: it owns the
 * signals and --watch, passes stops on to every worker as a command byte,
 * loads a reloaded script on a thread of its own (one state per worker,
 * so a slow top level holds up no client) and hands each worker its new
 * state (worker_offer), and waits until every worker has ended. */
#ifndef RICOCHET_CONTROLLER_H
#define RICOCHET_CONTROLLER_H

#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "policy.h"
#include "thread.h"
#include "watch.h"
#include "worker.h"

enum reload_phase {
    RELOAD_IDLE,
    RELOAD_LOADING   /* the loader thread runs */
};

/* One reload's load: inputs set before the loader thread starts, results
 * read after it is joined. */
typedef struct reload_job {
    thread *thread;        /* the loader; NULL when none runs */
    const char *why;       /* "SIGHUP", "the file changed" */
    const char *path;
    uint64_t rng_stream;   /* the loader's random stream (rng_fork) */
    policy **loaded;       /* one per worker */
    int failed;            /* 0, or 1 + the worker whose state failed */
    char err[1024];        /* then why */
} reload_job;

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
    enum reload_phase reload;
    const char *reload_again; /* a request that came meanwhile: its why */
    reload_job job;
    int loads;             /* loads started so far */
    loop_io loader_io;     /* a byte when the loader is done */
    net_socket loader_w;   /* the loader's end */
    watch *watch;          /* --watch */
    loop_io watch_io;      /* its handle, when the backend has one */
    timer watch_poll;      /* else: look every watch_poll_ms() */
    timer watch_settle;    /* a burst of writes ends before the reload */
    watch_stamp watch_last; /* the file at the last settle look */
    int watch_looked;      /* watch_last is set */
    timer log_repeats;     /* writes the counts of repeated log lines */
    uint64_t reloads_ok;   /* for the metrics: reloads handed to the */
    uint64_t reloads_failed; /* workers, and loads that failed */
    struct admin *admin;   /* --admin (admin.c); NULL: none */
    struct service *service; /* $NOTIFY_SOCKET (service.c); NULL: none */
    unsigned long version; /* the script's: 1, one more per reload */
    int64_t loaded_s;      /* when that was loaded: wall clock */
    int loaded_ms;
    char hooks[160];       /* its hooks (policy_describe) */
    char *const *args;     /* POST /args's: the next load's arguments */
    int nargs;             /* (args NULL: the command line's) */
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

/* Reload as SIGHUP does, saying why (a string that lives for ever); the
 * load that will serve it is number *load (admin_reloaded tells when it
 * ends). Returns 0, or an err.h code when no load will come. */
int controller_reload(controller *ctl, const char *why, int *load);

/* Ask every worker to stop at once (a second stop request). */
void controller_stop_now(controller *ctl);

/* Serve signals and the watch until every started worker (ctl->running of
 * them) has ended. Returns 0, or an err.h code when the controller's own
 * loop failed (the workers were told to stop, and have ended). */
int controller_run(controller *ctl);

void controller_free(controller *ctl);

#endif
