/* worker.h -- one worker: an event loop on its own thread, with its own
 * Lua state, listening sockets and connections. Nothing is shared between
 * workers but the listening ports; the controller talks to a worker only
 * through one byte a command on the worker's command socket, and the
 * worker answers only with one byte on its done socket when it ends.
 *
 * A reload is loaded off the worker (the controller's loader thread runs
 * the new script's top level) and handed over in one slot, w->offer,
 * which both threads touch only with thread_exchange_ptr: the controller
 * puts the new state in (a state it finds still there was never taken:
 * it closes it, the newer wins), then sends WORKER_SWAP to wake the
 * worker, which takes it out. Each pointer has one owner at a time, and
 * what the loader wrote is visible to the worker (the join, then the
 * exchange's release and acquire), with no lock. */
#ifndef RICOCHET_WORKER_H
#define RICOCHET_WORKER_H

#include "conn.h"
#include "listener.h"
#include "loop.h"
#include "net.h"
#include "policy.h"
#include "server.h"
#include "thread.h"

/* Commands from the controller, one byte each. */
#define WORKER_STOP 'S'         /* first: graceful; second: at once */
#define WORKER_SWAP 'P'         /* a reloaded policy waits in the offer */
#define WORKER_ASK 'A'          /* an admin request waits in w->ask_in */

/* The admin API's requests to a worker, which owns its connections and
 * its Lua state: only its own thread may read or change them. The
 * controller posts a request in w->ask_in (thread_exchange_ptr) and sends
 * WORKER_ASK; the worker takes it, does it on its thread, puts it in
 * w->ask_out and writes WORKER_ANSWERED on its done socket. One request
 * per worker at a time; each has one owner at a time, as with the offer,
 * and the exchanges order what each side wrote. */
#define WORKER_ANSWERED 'a'     /* on the done socket: ask_out is full */
#define WORKER_ENDED 'd'        /* on the done socket: the worker ended */

enum worker_ask_op {
    WORKER_ASK_LIST,    /* its connections, as JSON objects */
    WORKER_ASK_CLOSE,   /* close connection id gracefully */
    WORKER_ASK_RESET,   /* reset it */
    WORKER_ASK_ARGS,    /* set script arguments (ladmin_set_args) */
    WORKER_ASK_SYNC     /* nothing: answered once the commands before it
                         * (a reload's offer) are done */
};

typedef struct worker_ask {
    enum worker_ask_op op;
    uint64_t id;             /* CLOSE, RESET */
    char *const *args;       /* ARGS: "key=value", read-only, shared */
    int nargs;
    /* the answer, written by the worker */
    char *json;              /* LIST: "{...},{...}" (malloc'd) or NULL */
    size_t len;
    int result;              /* CLOSE, RESET: 1 found; ARGS: 0 or -1;
                              * LIST: -1 out of memory */
    char err[512];           /* ARGS: on_args's error */
} worker_ask;

typedef struct worker {
    const server_config *cfg;
    int index;             /* 1.. */
    int nworkers;
    char *script;          /* the script's path; set before the thread
                            * starts, never changed: others may read it */
    policy_opts opts;      /* cfg's, with this worker's number */
    loop *loop;
    policy *policy;
    conn_table *conns;
    struct recorder *rec;  /* --record: its connections' transcripts */
    policy_stats lua_stats; /* its states' hook calls (metrics.c reads) */
    listener listen;
    loop_io cmd;           /* commands from the controller */
    timer log_repeats;     /* writes the counts of repeated log lines */
    net_socket cmd_w;      /* the controller's end */
    net_socket done_w;     /* a byte here when the worker ended */
    void *offer;           /* a reloaded policy for it (see above) */
    void *ask_in;          /* an admin request for it (see above) */
    void *ask_out;         /* and, answered, back */
    thread *thread;
    int stops;             /* stop requests so far */
    int done;
    int code;              /* exit code */
} worker;

/* Make w worker index (1..n): its loop, connection table, listener set
 * (opened later, by listener_open_all) and command socket. It runs p when
 * given (taking the caller's reference, also on failure), else the
 * script at path, loaded into a state of its own. It writes a byte to
 * done_w when it ends. Returns 0, or an err.h code after printing why to
 * stderr.
 * Call worker_free in both cases. */
int worker_init(worker *w, const server_config *cfg, int index, int n,
                policy *p, const char *path, net_socket done_w);

/* Run the worker on a new thread. Returns 0 or an err.h code. */
int worker_start(worker *w);

/* Send a command (WORKER_*). Only the controller's thread calls this. */
void worker_tell(worker *w, char cmd);

/* Hand w a policy loaded for it (with w->opts), taking the caller's
 * reference; why (a string that lives for ever) says what triggered the
 * reload. The worker binds it to its loop and switches to it at the next
 * turn of its loop (a stopping worker drops it); one offered before and
 * not yet taken is closed. Only the controller's thread calls this. */
void worker_offer(worker *w, policy *p, const char *why);

/* Post the admin request a to w (the worker owns it until it answers:
 * WORKER_ANSWERED on its done socket, then worker_answer gives it back).
 * Only the controller's thread calls this, one request at a time. */
void worker_ask_post(worker *w, worker_ask *a);

/* The answered request, or NULL when none waits. Controller only. */
worker_ask *worker_answer(worker *w);

/* Wait for a started worker's thread to end. */
void worker_join(worker *w);

/* Close everything the worker holds (its connections are reset first),
 * and an offer it never took. Harmless on a zeroed worker that was never
 * initialised. */
void worker_free(worker *w);

#endif
