/* metrics.h -- the server's counters, summed over its workers: the
 * Prometheus text for GET /metrics, and the log lines of SIGUSR1.
 *
 * Each worker counts its own connections (core: conn_table_stats) and
 * hook calls (lua: policy_stats) on its own thread, with no lock and no
 * shared atomic (stat.h); the controller counts the reloads. Reading
 * them is a sum over the workers on the controller's thread. */
#ifndef RICOCHET_METRICS_H
#define RICOCHET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "controller.h"
#include "policy.h"

/* Every count metrics_format writes, as plain numbers. */
typedef struct metrics_snapshot {
    int workers;
    conn_stats conns;        /* summed over the workers */
    uint64_t hook_calls[POLICY_HOOKS];
    uint64_t hook_errors[POLICY_ERROR_KINDS];
    uint64_t hook_time_counts[POLICY_TIME_BOUNDS + 1]; /* not cumulative */
    uint64_t hook_time_us;
    uint64_t lua_memory;
    uint64_t reloads_ok, reloads_failed;
    int recording;           /* --record: the recordings' counts too */
    uint64_t recordings_written, recordings_lost;
} metrics_snapshot;

/* Sum ctl's workers' counters (and take the controller's) into *out.
 * On the controller's thread, while or after the workers run. */
void metrics_collect(controller *ctl, metrics_snapshot *out);

/* s in the Prometheus text exposition format 0.0.4 (HELP and TYPE lines,
 * then the samples), in a malloc'd string *out of *len bytes that the
 * caller frees. Returns 0 or ERR_ENOMEM. */
int metrics_format(const metrics_snapshot *s, char **out, size_t *len);

/* Every metric of ctl's workers (and its own: reloads) in the Prometheus
 * text exposition format 0.0.4, in a malloc'd string *out of *len bytes
 * (the caller frees it). Runs on the controller's thread and reads the
 * workers' counters without a lock. Returns 0 or ERR_ENOMEM. */
int metrics_render(controller *ctl, char **out, size_t *len);

/* SIGUSR1: metrics_render's text at info, each line as its own entry
 * "metrics: LINE". On the controller's thread. */
void metrics_log(controller *ctl);

/* A label value as the text format quotes it (a backslash, a double
 * quote and a newline escaped), NUL-terminated in out (cap bytes, at
 * least 1); cut short, at a whole character, when it does not fit.
 * Returns the length written. */
size_t metrics_escape_label(const char *value, char *out, size_t cap);

#endif
