/* t_metrics.c -- the counters (SIGUSR1 writes them to the log as
 * "metrics: LINE" entries, the Prometheus text): exact values after known
 * traffic, the server going on after the signal, and promtool's check of
 * the text. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"
#include "it_tmp.h"

/* a dump's last line: once it is in the log, the whole dump is */
#define DUMP_MARK "metrics: ricochet_upstream_bytes_sent_total "
#define PREFIX "metrics: "

/* Windows has no SIGUSR1 (the admin API serves the metrics there). */
static int skipped_on_windows(void)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    if (target == NULL || strcmp(target, "windows") != 0)
        return 0;
    fprintf(stderr, "skipped for the Windows build: no SIGUSR1\n");
    return 1;
}

/* The value of the sample named name (with its labels) in the last dump
 * of log; fails the case when there is none. */
static uint64_t metric(const char *log, const char *name)
{
    char needle[256];
    const char *at = NULL, *p = log;
    snprintf(needle, sizeof needle, PREFIX "%s ", name);
    while ((p = strstr(p, needle)) != NULL)
        at = p++;
    if (at == NULL)
        TEST_FAIL("no sample %s in the log", name);
    return strtoull(at + strlen(needle), NULL, 10);
}

/* SIGUSR1, then wait for its dump (the nth); returns the log. */
static char *dump(it_server *s, int nth)
{
    it_server_signal(s, SIGUSR1);
    int seen = it_log_wait_count(s, "info", DUMP_MARK, nth, IT_WAIT_MS);
    if (seen != nth)
        TEST_FAIL("after SIGUSR1: %d metric dumps in the log, expected %d",
                  seen, nth);
    return it_log_read(s);
}

/* Dump until the server has accepted that many connections and none
 * (nor an upstream) is open: it accepts a client, and sees its close, a
 * moment after the client made them. Bounded: 200 dumps, each waited
 * for. Returns the last dump's log; *dumps counts them. */
static char *dump_when_idle(it_server *s, uint64_t accepted, int *dumps)
{
    for (int i = 0; i < 200; i++) {
        char *log = dump(s, ++*dumps);
        if (metric(log, "ricochet_connections_accepted_total") == accepted &&
            metric(log, "ricochet_connections_active") == 0 &&
            metric(log, "ricochet_upstream_connections_active") == 0)
            return log;
        free(log);
    }
    TEST_FAIL("not %llu connections accepted and all closed after 200 "
              "dumps", (unsigned long long)accepted);
    return NULL;
}

#define ASSERT_METRIC(log, name, want) \
    ASSERT_UEQ(metric((log), (name)), (uint64_t)(want))

/* A copy of the fixture in the case's own folder (so a reload can be
 * made to fail), removed at exit. Returns its path. */
static const char *tmp_copy(const char *fixture)
{
    FILE *in = fopen(fixture, "r");
    char text[4096];
    size_t n = in ? fread(text, 1, sizeof text - 1, in) : 0;
    if (in == NULL || n == 0)
        TEST_FAIL("cannot read %s", fixture);
    fclose(in);
    text[n] = '\0';
    return it_tmp_write("metrics.lua", text);
}

/* One client: send what, half-close, read to the end; the bytes that
 * came back are expected to be exactly want. want NULL: the hook fails,
 * the server resets at once (maybe before a half-close could go out),
 * nothing comes back. */
static void exchange(it_server *s, const char *what, const char *want)
{
    int fd = it_cli_connect_to(s, 0);
    unsigned char *in = NULL;
    size_t n = 0;
    CLI_SEND(fd, what);
    if (want != NULL)
        it_cli_shut_wr(fd);
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    if (want != NULL) {
        ASSERT_EQ(rc, 0);
        ASSERT_MEM_EQ(in, n, want, strlen(want));
    } else {
        ASSERT(rc == -ECONNRESET || rc == 0);
        ASSERT_UEQ(n, 0);
    }
    free(in);
    close(fd);
}

/* Known traffic, then every count checked: 4 echoes, an error, a budget
 * stop, a memory stop, a reload that works and one that fails. */
void metrics_counts(void)
{
    if (skipped_on_windows())
        return;
    const char *path = tmp_copy(FIXTURE("metrics.lua"));
    it_server *s = SERVER_START(path, "--hook-budget", "1000000",
                                "--lua-memory", "1");
    int dumps = 0;

    /* nothing yet: every count 0, the state's memory counted */
    char *log = dump(s, ++dumps);
    ASSERT_METRIC(log, "ricochet_workers", 1);
    ASSERT_METRIC(log, "ricochet_connections_accepted_total", 0);
    ASSERT_METRIC(log, "ricochet_hook_duration_seconds_count", 0);
    uint64_t memory = metric(log, "ricochet_lua_memory_bytes");
    ASSERT(memory > 1000 && memory < (1u << 20));
    free(log);

    exchange(s, "hello", "hello");
    exchange(s, "0123456789", "0123456789");
    exchange(s, "abc", "abc");
    exchange(s, "x", "x");
    exchange(s, "boom", NULL);
    exchange(s, "spin", NULL);
    exchange(s, "grow", NULL);
    it_server_signal(s, SIGHUP);
    ASSERT_EQ(it_log_wait_count(s, "info", "reload (SIGHUP): loaded", 1,
                                IT_WAIT_MS), 1);
    it_tmp_write("metrics.lua",
                 "function on_data(conn, data)\n  return (\nend\n");
    it_server_signal(s, SIGHUP);
    ASSERT_EQ(it_log_wait_count(s, "error", "reload (SIGHUP) failed", 1,
                                IT_WAIT_MS), 1);

    log = dump_when_idle(s, 7, &dumps);
    ASSERT_METRIC(log, "ricochet_connections_accepted_total", 7);
    ASSERT_METRIC(log, "ricochet_connections_active", 0);
    ASSERT_METRIC(log, "ricochet_connections_closed_total{reason=\"done\"}",
                  4);
    ASSERT_METRIC(log,
                  "ricochet_connections_closed_total{reason=\"error\"}", 3);
    ASSERT_METRIC(log,
                  "ricochet_connections_closed_total{reason=\"reset\"}", 0);
    ASSERT_METRIC(log,
                  "ricochet_connections_closed_total{reason=\"timeout\"}",
                  0);
    ASSERT_METRIC(log, "ricochet_connections_closed_total{reason=\"stop\"}",
                  0);
    ASSERT_METRIC(log, "ricochet_bytes_received_total", 5 + 10 + 3 + 1 + 12);
    ASSERT_METRIC(log, "ricochet_bytes_sent_total", 5 + 10 + 3 + 1);
    ASSERT_METRIC(log, "ricochet_hook_calls_total{hook=\"on_data\"}", 7);
    ASSERT_METRIC(log, "ricochet_hook_calls_total{hook=\"on_connect\"}", 0);
    ASSERT_METRIC(log, "ricochet_hook_calls_total{hook=\"on_close\"}", 0);
    ASSERT_METRIC(log, "ricochet_hook_errors_total{kind=\"error\"}", 1);
    ASSERT_METRIC(log, "ricochet_hook_errors_total{kind=\"budget\"}", 1);
    ASSERT_METRIC(log, "ricochet_hook_errors_total{kind=\"memory\"}", 1);
    ASSERT_METRIC(log, "ricochet_hook_duration_seconds_count", 7);
    ASSERT_METRIC(log, "ricochet_hook_duration_seconds_bucket{le=\"+Inf\"}",
                  7);
    /* the budget stop ran a million instructions: not within 10 us */
    ASSERT(metric(log, "ricochet_hook_duration_seconds_bucket"
                       "{le=\"0.00001\"}") <= 6);
    ASSERT_METRIC(log, "ricochet_script_reloads_total{result=\"ok\"}", 1);
    ASSERT_METRIC(log, "ricochet_script_reloads_total{result=\"error\"}", 1);
    ASSERT_METRIC(log, "ricochet_upstream_connects_total{result=\"ok\"}", 0);
    ASSERT_METRIC(log, "ricochet_upstream_bytes_sent_total", 0);
    /* both states (the reloaded one, and the first until its last
     * connection ended) were counted and the first one left */
    memory = metric(log, "ricochet_lua_memory_bytes");
    ASSERT(memory > 1000 && memory < (1u << 20));
    free(log);

    /* the server goes on after SIGUSR1, on the first script */
    exchange(s, "still", "still");
    it_server_stop(s);
    ASSERT(WIFEXITED(s->status));
}

/* Three workers: each counts its own, the dump is their sum. */
void metrics_workers(void)
{
    if (skipped_on_windows())
        return;
    it_server *s = SERVER_START(FIXTURE("metrics.lua"), "--workers", "3");
    int dumps = 0;
    static const char *const sent[] = {
        "a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh",
        "iiiiiiiii", "jjjjjjjjjj", "kkkkkkkkkkk", "llllllllllll"
    };
    for (int i = 0; i < 12; i++)
        exchange(s, sent[i], sent[i]);
    exchange(s, "boom", NULL);
    char *log = dump_when_idle(s, 13, &dumps);
    ASSERT_METRIC(log, "ricochet_workers", 3);
    ASSERT_METRIC(log, "ricochet_connections_closed_total{reason=\"done\"}",
                  12);
    ASSERT_METRIC(log,
                  "ricochet_connections_closed_total{reason=\"error\"}", 1);
    ASSERT_METRIC(log, "ricochet_bytes_received_total", 78 + 4);
    ASSERT_METRIC(log, "ricochet_bytes_sent_total", 78);
    ASSERT_METRIC(log, "ricochet_hook_calls_total{hook=\"on_data\"}", 13);
    ASSERT_METRIC(log, "ricochet_hook_errors_total{kind=\"error\"}", 1);
    ASSERT_METRIC(log, "ricochet_hook_duration_seconds_count", 13);
    /* three states, each bigger than 1000 bytes */
    ASSERT(metric(log, "ricochet_lua_memory_bytes") > 3000);
    free(log);
    it_server_stop(s);
}

/* A proxied pair, byte counts each way, then a refused upstream. */
void metrics_proxy(void)
{
    if (skipped_on_windows())
        return;
    int port, cli, up, dumps = 0;
    int lfd = it_host_listen_local(&port);
    it_server *s = it_proxy_start(port, SCRIPT("proxy.lua"), NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    CLI_SEND(cli, "ping");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "ping", 4, "the upstream");
    CLI_SEND(up, "pong!");
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, "pong!", 5, "the client");
    close(cli);
    close(up);
    char *log = dump_when_idle(s, 1, &dumps);
    ASSERT_METRIC(log, "ricochet_connections_accepted_total", 1);
    ASSERT_METRIC(log, "ricochet_bytes_received_total", 4);
    ASSERT_METRIC(log, "ricochet_bytes_sent_total", 5);
    ASSERT_METRIC(log, "ricochet_upstream_connects_total{result=\"ok\"}", 1);
    ASSERT_METRIC(log, "ricochet_upstream_bytes_sent_total", 4);
    ASSERT_METRIC(log, "ricochet_upstream_bytes_received_total", 5);
    ASSERT_METRIC(log, "ricochet_upstream_connections_active", 0);
    ASSERT_METRIC(log,
                  "ricochet_upstream_connects_total{result=\"refused\"}", 0);
    free(log);

    /* nobody listens there any more: refused */
    close(lfd);
    /* the client is reset, perhaps before its connect was seen done */
    cli = it_cli_connect(s->host[0], s->port[0]);
    ASSERT(cli >= 0 || cli == -ECONNRESET);
    if (cli >= 0) {
        ASSERT(it_proxy_wait_readable(cli, IT_WAIT_MS));
        close(cli);
    }
    log = dump_when_idle(s, 2, &dumps);
    ASSERT_METRIC(log, "ricochet_connections_accepted_total", 2);
    ASSERT_METRIC(log,
                  "ricochet_upstream_connects_total{result=\"refused\"}", 1);
    ASSERT_METRIC(log, "ricochet_upstream_connects_total{result=\"ok\"}", 1);
    ASSERT_METRIC(log, "ricochet_upstream_connects_total{result=\"error\"}",
                  0);
    free(log);
    it_server_stop(s);
}

/* The text of a live server's dump, checked by promtool; skipped (exit
 * 77) when promtool is not installed, except under CI (CI set), where
 * .ci/run installs it. */
void metrics_promtool(void)
{
    if (skipped_on_windows())
        return;
    if (system("promtool --version >/dev/null 2>&1") != 0) {
        if (getenv("CI") != NULL)
            TEST_FAIL("promtool is missing (Debian package prometheus)");
        fprintf(stderr, "SKIP: no promtool (Debian package prometheus)\n");
        exit(77);
    }
    const char *path = tmp_copy(FIXTURE("metrics.lua"));
    it_server *s = SERVER_START(path, "--hook-budget", "1000000");
    exchange(s, "hello", "hello");
    exchange(s, "boom", NULL);
    char *log = dump(s, 1);
    it_server_stop(s);

    /* the dump's lines, their prefix cut, into a file */
    char text_path[640], cmd[1400];
    snprintf(text_path, sizeof text_path, "%s", it_tmp_path("metrics.txt"));
    FILE *f = fopen(text_path, "w");
    ASSERT(f != NULL);
    size_t lines = 0;
    for (const char *p = log; (p = strstr(p, PREFIX)) != NULL;) {
        p += strlen(PREFIX);
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "%.*s\n", (int)n, p);
        lines++;
    }
    ASSERT(fclose(f) == 0);
    ASSERT(lines > 50);
    free(log);
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' 2>&1",
             text_path);
    FILE *out = popen(cmd, "r");
    char said[4096];
    size_t n = out ? fread(said, 1, sizeof said - 1, out) : 0;
    said[n] = '\0';
    int status = out ? pclose(out) : -1;
    unlink(text_path);
    if (status != 0 || n != 0)
        TEST_FAIL("promtool check metrics (status %d): %s", status, said);
}
