/* metrics.c -- the server's counters as Prometheus text (see metrics.h). */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "record.h"

/* --- collecting ----------------------------------------------------------- */

static void add_conns(conn_stats *sum, const conn_stats *w)
{
    sum->accepted += w->accepted;
    for (int r = 0; r < CONN_REASONS; r++)
        sum->closed[r] += w->closed[r];
    sum->bytes_in += w->bytes_in;
    sum->bytes_out += w->bytes_out;
    sum->up_started += w->up_started;
    for (int r = 0; r < CONN_CONNECT_RESULTS; r++)
        sum->up_connects[r] += w->up_connects[r];
    sum->up_closed += w->up_closed;
    sum->up_bytes_in += w->up_bytes_in;
    sum->up_bytes_out += w->up_bytes_out;
}

void metrics_collect(controller *ctl, metrics_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->workers = ctl->nworkers;
    for (int k = 0; k < ctl->nworkers; k++) {
        const worker *w = &ctl->workers[k];
        if (w->conns != NULL) {
            conn_stats one;
            conn_table_stats(w->conns, &one);
            add_conns(&out->conns, &one);
        }
        const policy_stats *ls = &w->lua_stats;
        for (int h = 0; h < POLICY_HOOKS; h++)
            out->hook_calls[h] += stat_get(&ls->calls[h]);
        for (int e = 0; e < POLICY_ERROR_KINDS; e++)
            out->hook_errors[e] += stat_get(&ls->errors[e]);
        for (int b = 0; b <= POLICY_TIME_BOUNDS; b++)
            out->hook_time_counts[b] += stat_get(&ls->time_counts[b]);
        out->hook_time_us += stat_get(&ls->time_us);
        out->lua_memory += stat_get(&ls->memory);
        if (w->rec != NULL) {
            out->recording = 1;
            out->recordings_written += recorder_written(w->rec);
            out->recordings_lost += recorder_lost(w->rec);
        }
    }
    out->reloads_ok = ctl->reloads_ok;
    out->reloads_failed = ctl->reloads_failed;
}

/* --- the text ------------------------------------------------------------- */

typedef struct text {
    char *data;
    size_t len, cap;
    int failed;          /* memory ran out: the rest is dropped */
} text;

#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

static void family(text *t, const char *name, const char *type,
                   const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(text *t, const char *name, uint64_t v)
{
    put(t, "%s %llu\n", name, (unsigned long long)v);
}

static void labelled(text *t, const char *name, const char *label,
                     const char *value, uint64_t v)
{
    char escaped[128];
    metrics_escape_label(value, escaped, sizeof escaped);
    put(t, "%s{%s=\"%s\"} %llu\n", name, label, escaped,
        (unsigned long long)v);
}

/* Microseconds as seconds, with no trailing zeros: 10 -> "0.00001". */
static void seconds(uint64_t us, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%llu.%06llu",
                     (unsigned long long)(us / 1000000u),
                     (unsigned long long)(us % 1000000u));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

size_t metrics_escape_label(const char *value, char *out, size_t cap)
{
    size_t n = 0;
    for (; *value != '\0'; value++) {
        const char *put_s = NULL;
        if (*value == '\\')
            put_s = "\\\\";
        else if (*value == '"')
            put_s = "\\\"";
        else if (*value == '\n')
            put_s = "\\n";
        size_t need = put_s ? 2 : 1;
        if (n + need >= cap)
            break;
        if (put_s) {
            memcpy(out + n, put_s, 2);
        } else {
            out[n] = *value;
        }
        n += need;
    }
    out[n] = '\0';
    return n;
}

static void format_conns(text *t, const conn_stats *c)
{
    uint64_t closed = 0;
    for (int r = 0; r < CONN_REASONS; r++)
        closed += c->closed[r];
    family(t, "ricochet_connections_accepted_total", "counter",
           "Client connections accepted.");
    sample(t, "ricochet_connections_accepted_total", c->accepted);
    family(t, "ricochet_connections_active", "gauge",
           "Client connections open now.");
    /* the counts are read one by one while they change: never below 0 */
    sample(t, "ricochet_connections_active",
           c->accepted > closed ? c->accepted - closed : 0);
    family(t, "ricochet_connections_closed_total", "counter",
           "Client connections closed, by the reason on_close gets.");
    for (int r = 0; r < CONN_REASONS; r++)
        labelled(t, "ricochet_connections_closed_total", "reason",
                 conn_reason_name((enum conn_reason)r), c->closed[r]);
    family(t, "ricochet_bytes_received_total", "counter",
           "Bytes received from clients.");
    sample(t, "ricochet_bytes_received_total", c->bytes_in);
    family(t, "ricochet_bytes_sent_total", "counter",
           "Bytes sent to clients.");
    sample(t, "ricochet_bytes_sent_total", c->bytes_out);
}

static void format_upstream(text *t, const conn_stats *c)
{
    family(t, "ricochet_upstream_connects_total", "counter",
           "Connects to upstreams (proxy mode), by how they ended.");
    for (int r = 0; r < CONN_CONNECT_RESULTS; r++)
        labelled(t, "ricochet_upstream_connects_total", "result",
                 conn_connect_result_name((enum conn_connect_result)r),
                 c->up_connects[r]);
    family(t, "ricochet_upstream_connections_active", "gauge",
           "Upstream connections open or connecting now.");
    sample(t, "ricochet_upstream_connections_active",
           c->up_started > c->up_closed ? c->up_started - c->up_closed : 0);
    family(t, "ricochet_upstream_bytes_received_total", "counter",
           "Bytes received from upstreams.");
    sample(t, "ricochet_upstream_bytes_received_total", c->up_bytes_in);
    family(t, "ricochet_upstream_bytes_sent_total", "counter",
           "Bytes sent to upstreams.");
    sample(t, "ricochet_upstream_bytes_sent_total", c->up_bytes_out);
}

static void format_hooks(text *t, const metrics_snapshot *s)
{
    family(t, "ricochet_hook_calls_total", "counter",
           "Script hook calls (timer: conn:after callbacks), by hook.");
    for (int h = 0; h < POLICY_HOOKS; h++)
        labelled(t, "ricochet_hook_calls_total", "hook",
                 policy_hook_name(h), s->hook_calls[h]);
    family(t, "ricochet_hook_errors_total", "counter",
           "Hook calls that failed: a Lua error, over the instruction "
           "budget, out of memory.");
    for (int e = 0; e < POLICY_ERROR_KINDS; e++)
        labelled(t, "ricochet_hook_errors_total", "kind",
                 policy_error_kind_name(e), s->hook_errors[e]);
    family(t, "ricochet_hook_duration_seconds", "histogram",
           "Time of each hook call.");
    uint64_t cumulative = 0;
    char le[32];
    for (int b = 0; b < POLICY_TIME_BOUNDS; b++) {
        cumulative += s->hook_time_counts[b];
        seconds(policy_time_bound_us[b], le, sizeof le);
        labelled(t, "ricochet_hook_duration_seconds_bucket", "le", le,
                 cumulative);
    }
    cumulative += s->hook_time_counts[POLICY_TIME_BOUNDS];
    labelled(t, "ricochet_hook_duration_seconds_bucket", "le", "+Inf",
             cumulative);
    char sum[32];
    seconds(s->hook_time_us, sum, sizeof sum);
    put(t, "ricochet_hook_duration_seconds_sum %s\n", sum);
    sample(t, "ricochet_hook_duration_seconds_count", cumulative);
    family(t, "ricochet_lua_memory_bytes", "gauge",
           "Bytes held by the workers' Lua states (at their last hook "
           "call).");
    sample(t, "ricochet_lua_memory_bytes", s->lua_memory);
}

int metrics_format(const metrics_snapshot *s, char **out, size_t *len)
{
    text t = {malloc(4096), 0, 4096, 0};
    if (t.data == NULL)
        return ERR_ENOMEM;
    t.data[0] = '\0';
    family(&t, "ricochet_workers", "gauge", "Worker threads running.");
    sample(&t, "ricochet_workers", (uint64_t)s->workers);
    format_conns(&t, &s->conns);
    format_hooks(&t, s);
    family(&t, "ricochet_script_reloads_total", "counter",
           "Script reloads (SIGHUP, --watch), by result.");
    labelled(&t, "ricochet_script_reloads_total", "result", "ok",
             s->reloads_ok);
    labelled(&t, "ricochet_script_reloads_total", "result", "error",
             s->reloads_failed);
    format_upstream(&t, &s->conns);
    if (s->recording) {
        family(&t, "ricochet_recordings_total", "counter",
               "Connections --record wrote, and recordings lost (not "
               "written: disk, memory).");
        labelled(&t, "ricochet_recordings_total", "result", "written",
                 s->recordings_written);
        labelled(&t, "ricochet_recordings_total", "result", "lost",
                 s->recordings_lost);
    }
    if (t.failed) {
        free(t.data);
        return ERR_ENOMEM;
    }
    *out = t.data;
    *len = t.len;
    return 0;
}

int metrics_render(controller *ctl, char **out, size_t *len)
{
    metrics_snapshot s;
    metrics_collect(ctl, &s);
    return metrics_format(&s, out, len);
}

void metrics_log(controller *ctl)
{
    char *all;
    size_t len;
    if (metrics_render(ctl, &all, &len) != 0) {
        log_error("SIGUSR1: out of memory writing the metrics");
        return;
    }
    for (char *line = all; line < all + len;) {
        char *nl = memchr(line, '\n', (size_t)(all + len - line));
        int n = nl ? (int)(nl - line) : (int)(all + len - line);
        log_info("metrics: %.*s", n, line);
        line += n + 1;
    }
    free(all);
}
