/* policy.h -- a script in its Lua state: loading it, and wiring its hooks
 * to connections.
 *
 * A policy is reference counted: its owner holds one reference to the
 * current policy and every connection attached to it holds one, so after a
 * reload live connections finish on the state they started with and an old
 * state is closed when its last connection ends.
 *
 * Every hook runs through lcall (lcall.h): an error, a memory cap or a
 * budget stop is logged with the connection id and resets that connection
 * only, and returns to the caller normally. */
#ifndef RICOCHET_POLICY_H
#define RICOCHET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"
#include "stat.h"

typedef struct policy policy;

/* How scripts run; owned by the caller and kept alive while any policy
 * loaded with it lives (reloads use it again). */
typedef struct policy_opts {
    size_t memory_limit;   /* bytes per Lua state; 0: none */
    uint64_t hook_budget;  /* instructions per hook call; 0: none */
    uint64_t hook_timeout_ms; /* wall-clock time per hook call; 0: none */
    int unsafe;            /* every standard library, unrestricted */
    char **args;           /* "key=value" script arguments */
    int nargs;
    int worker;            /* ricochet.worker: this state's worker, 1.. */
    const char *upstream_host; /* --upstream, a numeric address; NULL: */
    int upstream_port;         /* echo, unless the script's conn:connect */
    uint64_t connect_timeout_ms; /* the upstream's connect; 0: none */
} policy_opts;

#define POLICY_DEFAULT_MEMORY ((size_t)256 << 20)
#define POLICY_DEFAULT_BUDGET 50000000u
#define POLICY_MAX_BUDGET 2000000000u
#define POLICY_DEFAULT_TIMEOUT_MS 1000u
#define POLICY_MAX_TIMEOUT_MS 3600000u

/* Hook calls on this thread are watched (on) by the watchdog that
 * policy_interrupt serves, or no longer (off, before the thread ends).
 * A watched call with a time limit and no instruction budget runs with
 * no per-instruction check until the watchdog finds it still running. */
void policy_watch_thread(int on);

/* The watchdog's handler (interrupt.h): the call running on this thread
 * gets checked from now on. Safe in a signal handler. */
void policy_interrupt(void);

/* Compile the script at path (as text) into a new Lua state and run its top
 * level. Returns the policy with one reference held by the caller, or NULL
 * with a one-line message in err ("file:line: message" for Lua errors). */
policy *policy_load(const char *path, const policy_opts *opts, char *err,
                    size_t errlen);

/* The loop whose clock ricochet.now() reads (virtual under --simulate) and
 * on which conn:after's timers run. Bind before attaching connections. */
void policy_bind_loop(policy *p, loop *l);

/* Write the hooks the script defines, space separated, in the order
 * on_connect on_data on_done on_timeout on_close; "(none)" when it
 * defines none. */
void policy_describe(const policy *p, char *out, size_t outlen);

/* Wire a new connection to the policy: set its callbacks and run
 * on_connect, then connect its upstream (the one on_connect chose with
 * conn:connect, else --upstream's, if any). The connection takes a
 * reference to p, dropped after on_close. When memory runs out, c is
 * reset (with a log line). */
void policy_attach(policy *p, conn *c);

/* --- counters --------------------------------------------------------- */

#define POLICY_HOOKS 9       /* on_connect ... on_close, and "timer" */
#define POLICY_ERROR_KINDS 3 /* "error", "budget", "memory" */
#define POLICY_TIME_BOUNDS 6 /* the hook time histogram's finite buckets */

/* A worker's hook calls, counted by its thread alone (stat.h), whichever
 * of its states (the current one, or one its older connections finish
 * on) ran them; others read them with stat_get. Zero it before use. */
typedef struct policy_stats {
    stat_counter calls[POLICY_HOOKS];       /* by policy_hook_name */
    stat_counter errors[POLICY_ERROR_KINDS]; /* failed calls, by kind */
    /* Calls that took at most policy_time_bound_us[i] (and more than the
     * bound before); the last, longer than every bound. Not cumulative. */
    stat_counter time_counts[POLICY_TIME_BOUNDS + 1];
    stat_counter time_us;                   /* the calls' time, summed */
    /* Bytes held by the states bound to these counters, as their
     * allocator last saw them at the end of a hook call (a gauge). */
    stat_counter memory;
} policy_stats;

extern const uint64_t policy_time_bound_us[POLICY_TIME_BOUNDS];
/* "on_connect", ..., "on_close", "timer" (i < POLICY_HOOKS). */
const char *policy_hook_name(int i);
/* "error", "budget", "memory" (i < POLICY_ERROR_KINDS). */
const char *policy_error_kind_name(int i);

/* Count p's hook calls and memory in s from now on (NULL: none). Call on
 * the thread that runs p's hooks, or before that thread starts, as
 * policy_bind_loop; and only once for p. */
void policy_bind_stats(policy *p, policy_stats *s);

/* Drop the caller's reference; the Lua state is closed with the last. */
void policy_release(policy *p);

/* The script's path, as given to policy_load. */
const char *policy_path(const policy *p);

/* "Lua 5.4.4": the Lua release whose headers this build was compiled
 * with. */
const char *policy_lua_release(void);

/* The release of the Lua library running now ("Lua 5.4.6"): a shared
 * liblua may be newer than the headers were. policy_lua_release()'s when
 * the library does not say. The string is static; call it from one
 * thread (the command line's). */
const char *policy_lua_running(void);

#endif
