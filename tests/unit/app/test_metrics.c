/* test_metrics.c -- metrics_format's text for known counts, exactly, and
 * the escaping of label values. */
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "metrics.h"
#include "test.h"

/* Every count different, so that a count in the wrong place shows. */
static void known(metrics_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->workers = 2;
    s->conns.accepted = 100;
    s->conns.closed[CONN_REASON_DONE] = 90;
    s->conns.closed[CONN_REASON_RESET] = 3;
    s->conns.closed[CONN_REASON_TIMEOUT] = 2;
    s->conns.closed[CONN_REASON_ERROR] = 1;
    s->conns.closed[CONN_REASON_STOP] = 0;
    s->conns.bytes_in = 123456789012ull;
    s->conns.bytes_out = 98765;
    s->conns.up_started = 40;
    s->conns.up_connects[CONN_CONNECT_OK] = 30;
    s->conns.up_connects[CONN_CONNECT_REFUSED] = 4;
    s->conns.up_connects[CONN_CONNECT_TIMEOUT] = 5;
    s->conns.up_connects[CONN_CONNECT_ERROR] = 1;
    s->conns.up_closed = 33;
    s->conns.up_bytes_in = 777;
    s->conns.up_bytes_out = 888;
    for (int h = 0; h < POLICY_HOOKS; h++)
        s->hook_calls[h] = (uint64_t)(10 + h);
    s->hook_errors[0] = 7;
    s->hook_errors[1] = 8;
    s->hook_errors[2] = 9;
    for (int b = 0; b <= POLICY_TIME_BOUNDS; b++)
        s->hook_time_counts[b] = (uint64_t)(b + 1); /* 1 .. 7: 28 */
    s->hook_time_us = 2500017; /* 2.500017 s */
    s->lua_memory = 65536;
    s->reloads_ok = 11;
    s->reloads_failed = 12;
}

static const char want_text[] =
    "# HELP ricochet_workers Worker threads running.\n"
    "# TYPE ricochet_workers gauge\n"
    "ricochet_workers 2\n"
    "# HELP ricochet_connections_accepted_total Client connections "
    "accepted.\n"
    "# TYPE ricochet_connections_accepted_total counter\n"
    "ricochet_connections_accepted_total 100\n"
    "# HELP ricochet_connections_active Client connections open now.\n"
    "# TYPE ricochet_connections_active gauge\n"
    "ricochet_connections_active 4\n"
    "# HELP ricochet_connections_closed_total Client connections closed, "
    "by the reason on_close gets.\n"
    "# TYPE ricochet_connections_closed_total counter\n"
    "ricochet_connections_closed_total{reason=\"done\"} 90\n"
    "ricochet_connections_closed_total{reason=\"reset\"} 3\n"
    "ricochet_connections_closed_total{reason=\"timeout\"} 2\n"
    "ricochet_connections_closed_total{reason=\"error\"} 1\n"
    "ricochet_connections_closed_total{reason=\"stop\"} 0\n"
    "# HELP ricochet_bytes_received_total Bytes received from clients.\n"
    "# TYPE ricochet_bytes_received_total counter\n"
    "ricochet_bytes_received_total 123456789012\n"
    "# HELP ricochet_bytes_sent_total Bytes sent to clients.\n"
    "# TYPE ricochet_bytes_sent_total counter\n"
    "ricochet_bytes_sent_total 98765\n"
    "# HELP ricochet_hook_calls_total Script hook calls (timer: conn:after "
    "callbacks), by hook.\n"
    "# TYPE ricochet_hook_calls_total counter\n"
    "ricochet_hook_calls_total{hook=\"on_connect\"} 10\n"
    "ricochet_hook_calls_total{hook=\"on_data\"} 11\n"
    "ricochet_hook_calls_total{hook=\"on_done\"} 12\n"
    "ricochet_hook_calls_total{hook=\"on_upstream_data\"} 13\n"
    "ricochet_hook_calls_total{hook=\"on_upstream_done\"} 14\n"
    "ricochet_hook_calls_total{hook=\"on_upstream_error\"} 15\n"
    "ricochet_hook_calls_total{hook=\"on_timeout\"} 16\n"
    "ricochet_hook_calls_total{hook=\"on_close\"} 17\n"
    "ricochet_hook_calls_total{hook=\"timer\"} 18\n"
    "# HELP ricochet_hook_errors_total Hook calls that failed: a Lua "
    "error, over the instruction budget, out of memory.\n"
    "# TYPE ricochet_hook_errors_total counter\n"
    "ricochet_hook_errors_total{kind=\"error\"} 7\n"
    "ricochet_hook_errors_total{kind=\"budget\"} 8\n"
    "ricochet_hook_errors_total{kind=\"memory\"} 9\n"
    "# HELP ricochet_hook_duration_seconds Time of each hook call.\n"
    "# TYPE ricochet_hook_duration_seconds histogram\n"
    "ricochet_hook_duration_seconds_bucket{le=\"0.00001\"} 1\n"
    "ricochet_hook_duration_seconds_bucket{le=\"0.0001\"} 3\n"
    "ricochet_hook_duration_seconds_bucket{le=\"0.001\"} 6\n"
    "ricochet_hook_duration_seconds_bucket{le=\"0.01\"} 10\n"
    "ricochet_hook_duration_seconds_bucket{le=\"0.1\"} 15\n"
    "ricochet_hook_duration_seconds_bucket{le=\"1\"} 21\n"
    "ricochet_hook_duration_seconds_bucket{le=\"+Inf\"} 28\n"
    "ricochet_hook_duration_seconds_sum 2.500017\n"
    "ricochet_hook_duration_seconds_count 28\n"
    "# HELP ricochet_lua_memory_bytes Bytes held by the workers' Lua "
    "states (at their last hook call).\n"
    "# TYPE ricochet_lua_memory_bytes gauge\n"
    "ricochet_lua_memory_bytes 65536\n"
    "# HELP ricochet_script_reloads_total Script reloads (SIGHUP, --watch), "
    "by result.\n"
    "# TYPE ricochet_script_reloads_total counter\n"
    "ricochet_script_reloads_total{result=\"ok\"} 11\n"
    "ricochet_script_reloads_total{result=\"error\"} 12\n"
    "# HELP ricochet_upstream_connects_total Connects to upstreams (proxy "
    "mode), by how they ended.\n"
    "# TYPE ricochet_upstream_connects_total counter\n"
    "ricochet_upstream_connects_total{result=\"ok\"} 30\n"
    "ricochet_upstream_connects_total{result=\"refused\"} 4\n"
    "ricochet_upstream_connects_total{result=\"timeout\"} 5\n"
    "ricochet_upstream_connects_total{result=\"error\"} 1\n"
    "# HELP ricochet_upstream_connections_active Upstream connections open "
    "or connecting now.\n"
    "# TYPE ricochet_upstream_connections_active gauge\n"
    "ricochet_upstream_connections_active 7\n"
    "# HELP ricochet_upstream_bytes_received_total Bytes received from "
    "upstreams.\n"
    "# TYPE ricochet_upstream_bytes_received_total counter\n"
    "ricochet_upstream_bytes_received_total 777\n"
    "# HELP ricochet_upstream_bytes_sent_total Bytes sent to upstreams.\n"
    "# TYPE ricochet_upstream_bytes_sent_total counter\n"
    "ricochet_upstream_bytes_sent_total 888\n";

void test_metrics_text(void)
{
    metrics_snapshot s;
    char *text;
    size_t len;
    known(&s);
    ASSERT_EQ(metrics_format(&s, &text, &len), 0);
    ASSERT_UEQ(len, strlen(text));
    ASSERT_STR_EQ(text, want_text);
    free(text);
}

/* All zero, and a gauge whose counts were read while they changed (more
 * closed than accepted seen): 0, never a huge unsigned number. */
void test_metrics_zero(void)
{
    metrics_snapshot s;
    char *text;
    size_t len;
    memset(&s, 0, sizeof s);
    s.conns.closed[CONN_REASON_DONE] = 1;
    s.conns.up_closed = 2;
    ASSERT_EQ(metrics_format(&s, &text, &len), 0);
    ASSERT(strstr(text, "\nricochet_connections_active 0\n") != NULL);
    ASSERT(strstr(text, "\nricochet_upstream_connections_active 0\n") !=
           NULL);
    ASSERT(strstr(text, "\nricochet_hook_duration_seconds_sum 0\n") != NULL);
    ASSERT(strstr(text, "{le=\"+Inf\"} 0\n") != NULL);
    free(text);
}

void test_metrics_escape(void)
{
    char out[32];
    ASSERT_UEQ(metrics_escape_label("on_data", out, sizeof out), 7);
    ASSERT_STR_EQ(out, "on_data");
    ASSERT_UEQ(metrics_escape_label("a\"b\\c\nd", out, sizeof out), 10);
    ASSERT_STR_EQ(out, "a\\\"b\\\\c\\nd");
    ASSERT_UEQ(metrics_escape_label("", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "");
    /* cut at a whole character: never half an escape */
    ASSERT_UEQ(metrics_escape_label("ab\"c", out, 4), 2);
    ASSERT_STR_EQ(out, "ab");
    ASSERT_UEQ(metrics_escape_label("ab\"c", out, 5), 4);
    ASSERT_STR_EQ(out, "ab\\\"");
    ASSERT_UEQ(metrics_escape_label("x", out, 1), 0);
    ASSERT_STR_EQ(out, "");
}

/* The recordings' counts, last, only when --record is on. */
void test_metrics_recordings(void)
{
    metrics_snapshot s;
    char *text;
    size_t len;
    memset(&s, 0, sizeof s);
    ASSERT_EQ(metrics_format(&s, &text, &len), 0);
    ASSERT(strstr(text, "recordings") == NULL);
    free(text);
    s.recording = 1;
    s.recordings_written = 12;
    s.recordings_lost = 3;
    ASSERT_EQ(metrics_format(&s, &text, &len), 0);
    static const char want[] =
        "# HELP ricochet_recordings_total Connections --record wrote, and "
        "recordings lost (not written: disk, memory).\n"
        "# TYPE ricochet_recordings_total counter\n"
        "ricochet_recordings_total{result=\"written\"} 12\n"
        "ricochet_recordings_total{result=\"lost\"} 3\n";
    ASSERT(len > strlen(want));
    ASSERT_STR_EQ(text + len - strlen(want), want);
    free(text);
}
