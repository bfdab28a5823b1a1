/* t_rt_reload.c -- the script runtime seen from outside (issue 3):
 * reload, by SIGHUP and by --watch. Connections keep the state they
 * started on; a broken edit changes nothing; old states are freed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

/* ---- reload ------------------------------------------------------------- */

/* The Windows build runs under Wine (RICOCHET_IT_TARGET=windows): there is
 * no SIGHUP to send it, and its --watch (a stat poll) is not covered here;
 * the reload cases run on POSIX builds only. */
static int skipped_on_windows(const char *why)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    if (target == NULL || strcmp(target, "windows") != 0)
        return 0;
    fprintf(stderr, "skipped for the Windows build: %s\n", why);
    return 1;
}

static char tmp_dir[512];
static char tmp_script[600];
static char tmp_next[620];

static void tmp_cleanup(void)
{
    if (tmp_script[0])
        unlink(tmp_script);
    if (tmp_next[0])
        unlink(tmp_next);
    if (tmp_dir[0])
        rmdir(tmp_dir);
    tmp_dir[0] = tmp_script[0] = tmp_next[0] = '\0';
}

/* A fresh folder in $TMPDIR (or /tmp) for script.lua, removed at exit (or
 * by the next call). Returns the script's path. */
static const char *tmp_script_path(void)
{
    static int registered;
    const char *base = getenv("TMPDIR");
    tmp_cleanup();
    if (!registered) {
        atexit(tmp_cleanup);
        registered = 1;
    }
    if (base == NULL || *base == '\0')
        base = "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/ricochet-rt-XXXXXX", base);
    if (mkdtemp(tmp_dir) == NULL)
        TEST_FAIL("mkdtemp %s: %s", tmp_dir, strerror(errno));
    snprintf(tmp_script, sizeof tmp_script, "%s/script.lua", tmp_dir);
    snprintf(tmp_next, sizeof tmp_next, "%s/script.lua.new", tmp_dir);
    return tmp_script;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        TEST_FAIL("cannot write %s: %s", path, strerror(errno));
    if (fputs(text, f) == EOF || fclose(f) != 0)
        TEST_FAIL("cannot write %s: %s", path, strerror(errno));
}

/* As an editor saves: write a new file beside it, rename it over. */
static void replace_file(const char *path, const char *text)
{
    write_file(tmp_next, text);
    if (rename(tmp_next, path) != 0)
        TEST_FAIL("rename to %s: %s", path, strerror(errno));
}

/* "vN:" before every chunk. */
static void tagged_script(const char *path, const char *tag, int replace)
{
    char text[256];
    snprintf(text, sizeof text, "-- a reload test's script, version %s\n"
             "function on_data(conn, data)\n"
             "    return \"%s:\" .. data\n"
             "end\n", tag, tag);
    if (replace)
        replace_file(path, text);
    else
        write_file(path, text);
}

/* SIGHUP, then wait for the nth log entry that contains needle. */
static void hup_and_wait(it_server *s, const char *level, const char *needle,
                         int nth)
{
    int seen;
    it_server_signal(s, SIGHUP);
    seen = it_log_wait_count(s, level, needle, nth, IT_WAIT_MS);
    if (seen != nth)
        TEST_FAIL("after SIGHUP: %d log entries with \"%s\", expected %d",
                  seen, needle, nth);
}

void rt_reload_keeps_conns(void)
{
    static const char loaded[] = "reload (SIGHUP): loaded";
    static const char failed[] = "reload (SIGHUP) failed, keeping the "
                                 "running script: ";
    const char *path;
    it_server *s;
    int a, b, c;
    char *log;

    if (skipped_on_windows("no SIGHUP"))
        return;
    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    s = SERVER_START(path);
    a = it_cli_connect_to(s, 0);
    it_rt_ask_expect(a, "a\n", "v1:a\n");

    /* a good edit: A finishes on v1, a new connection gets v2 */
    tagged_script(path, "v2", 0);
    hup_and_wait(s, "info", loaded, 1);
    it_rt_ask_expect(a, "b\n", "v1:b\n");
    b = it_cli_connect_to(s, 0);
    it_rt_ask_expect(b, "c\n", "v2:c\n");

    /* a broken edit (no "end") changes nothing; the log has file:line */
    write_file(path, "function on_data(conn, data)\n"
                     "    return \"v3:\" .. data\n");
    hup_and_wait(s, "error", failed, 1);
    c = it_cli_connect_to(s, 0);
    it_rt_ask_expect(c, "d\n", "v2:d\n");
    it_rt_ask_expect(a, "e\n", "v1:e\n");
    close(c);

    /* so does one whose top level fails */
    write_file(path, "error(\"broken top level\")\n");
    hup_and_wait(s, "error", failed, 2);
    c = it_cli_connect_to(s, 0);
    it_rt_ask_expect(c, "f\n", "v2:f\n");
    it_rt_ask_expect(b, "g\n", "v2:g\n");
    close(a);
    close(b);
    close(c);

    it_server_stop(s);
    log = it_log_read(s);
    it_rt_expect_entries(log, "info", loaded, NULL, 1);
    it_rt_expect_entries(log, "error", failed,
                         "script.lua:3: 'end' expected", 1);
    it_rt_expect_entries(log, "error", failed, "script.lua:1: broken top level",
                         1);
    it_rt_expect_entries(log, "error", NULL, NULL, 2);
    free(log);
    tmp_cleanup();
}

#define RELOADS 20
#define LONG_LIVED 4

/* Version v of the 20-reloads script: a Lua echo that answers "VERSION?"
 * and holds 1 MiB, so that a state never freed shows in the RSS. */
static void version_script(const char *path, int v)
{
    char text[512];
    snprintf(text, sizeof text,
             "-- a reload test's script, version %d, with 1 MiB of ballast\n"
             "ballast = string.rep(\"%d\", 1 << 20)\n"
             "function on_data(conn, data)\n"
             "    if data == \"VERSION?\\n\" then\n"
             "        return \"%d\\n\"\n"
             "    end\n"
             "    return data\n"
             "end\n", v, v % 10, v);
    write_file(path, text);
}

/* A new connection gets version v; then it ends (EOF both ways). */
static void expect_version(const it_server *s, int v)
{
    char out[64], want[32];
    it_rt_exchange(s, "VERSION?\n", out, sizeof out);
    snprintf(want, sizeof want, "%d\n", v);
    ASSERT_STR_EQ(out, want);
}

/* SIGHUP with version v in the file; a new connection then gets it. */
static void reload_to(it_server *s, const char *path, int v)
{
    version_script(path, v);
    hup_and_wait(s, "info", "reload (SIGHUP): loaded", v);
    expect_version(s, v);
}

void rt_reload_20(void)
{
    static const char state_closed[] = "closed a Lua state";
    it_job jobs[LONG_LIVED];
    unsigned char *payloads[LONG_LIVED];
    const size_t payload_len = 128 * 1024;
    int njobs = 0, seen;
    long rss_after_20, rss_after_40;
    const char *path;
    it_server *s;
    char *log;

    if (skipped_on_windows("no SIGHUP"))
        return;
    path = tmp_script_path();
    version_script(path, 0);
    s = SERVER_START(path, "--log-level", "debug");
    expect_version(s, 0);

    /* 20 reloads while long-lived echoes, started on states 0, 5, 10 and
     * 15, go on through them */
    for (int v = 0; v <= RELOADS; v++) {
        if (v > 0)
            reload_to(s, path, v);
        if (v % 5 == 0 && njobs < LONG_LIVED) {
            payloads[njobs] = it_rng_payload(0x4e10 + (uint64_t)v, payload_len);
            it_job_init(&jobs[njobs], it_cli_connect_to(s, 0), payloads[njobs],
                        payload_len, 1);
            jobs[njobs].send_limit = 0;
            njobs++;
        }
        for (int i = 0; i < njobs; i++) {
            size_t next = jobs[i].send_limit + payload_len / (RELOADS + 2);
            jobs[i].send_limit = next < payload_len ? next : payload_len - 1;
        }
        ASSERT_EQ(it_job_drive(jobs, (size_t)njobs, IT_WAIT_MS,
                               it_rt_half_echoed), njobs);
    }

    /* every old state is closed but those of the long-lived connections;
     * then those end, byte-exact, and their states go too: 0 .. 19 */
    log = it_log_read(s);
    seen = it_log_count(log, "debug", state_closed, NULL);
    free(log);
    ASSERT_EQ(seen, RELOADS - LONG_LIVED);
    for (int i = 0; i < njobs; i++)
        jobs[i].send_limit = payload_len;
    ASSERT_EQ(it_job_drive(jobs, (size_t)njobs, IT_WAIT_MS, NULL), njobs);
    for (int i = 0; i < njobs; i++) {
        it_job_assert_echo(&jobs[i], (size_t)i);
        it_job_free(&jobs[i]);
        free(payloads[i]);
    }
    seen = it_log_wait_count(s, "debug", state_closed, RELOADS,
                             IT_WAIT_MS);
    ASSERT_EQ(seen, RELOADS);

    /* Each state holds 1 MiB. The heap has grown to hold the most states
     * alive at once (6); 20 more reloads reuse it. Had the 20 states not
     * been freed, RSS would grow by 20 MiB and more. */
    rss_after_20 = it_server_status_kb(s, "VmRSS");
    for (int v = RELOADS + 1; v <= 2 * RELOADS; v++)
        reload_to(s, path, v);
    seen = it_log_wait_count(s, "debug", state_closed, 2 * RELOADS,
                             IT_WAIT_MS);
    ASSERT_EQ(seen, 2 * RELOADS);
    rss_after_40 = it_server_status_kb(s, "VmRSS");
    fprintf(stderr, "RSS: %ld kB after %d reloads, %ld kB after %d\n",
            rss_after_20, RELOADS, rss_after_40, 2 * RELOADS);
#ifndef RICOCHET_IT_SANITIZED
    if (rss_after_20 > 0 && rss_after_40 > 0)
        ASSERT_LE(rss_after_40 - rss_after_20, 4 * 1024);
#endif

    it_server_stop_clean(s);
    /* and the running one at the stop */
    log = it_log_read(s);
    it_rt_expect_entries(log, "debug", state_closed, NULL, 2 * RELOADS + 1);
    free(log);
    tmp_cleanup();
}

void rt_reload_watch(void)
{
    static const char loaded[] = "reload (the file changed): loaded";
    const char *path;
    it_server *s;
    int a, b, seen;

    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    s = SERVER_START(path, "--watch");
    a = it_cli_connect_to(s, 0);
    it_rt_ask_expect(a, "a\n", "v1:a\n");

    /* saved the way editors do: a new file renamed over the old one */
    tagged_script(path, "v2", 1);
    seen = it_log_wait_count(s, "info", loaded, 1, IT_WAIT_MS);
    ASSERT_EQ(seen, 1);
    b = it_cli_connect_to(s, 0);
    it_rt_ask_expect(b, "b\n", "v2:b\n");
    it_rt_ask_expect(a, "c\n", "v1:c\n");
    close(a);
    close(b);
    it_server_stop_clean(s);
    tmp_cleanup();
}

void rt_reload_runaway_top(void)
{
    const char *path;
    it_server *s;
    char line[64];
    int fd;

    if (skipped_on_windows("no SIGHUP"))
        return;
    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    s = SERVER_START(path, "--hook-budget", SMALL_BUDGET);
    /* a reload whose top level never ends must not take the server down:
     * it fails like any other broken edit */
    write_file(path, "while true do end\n");
    it_server_signal(s, SIGHUP);
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "a\n");
    it_cli_recv_line(fd, line, sizeof line, STOP_WAIT_MS);
    if (strcmp(line, "v1:a\n") != 0)
        TEST_FAIL("the server did not answer within %d ms of a reload of a "
                  "script whose top level loops (got \"%s\")", STOP_WAIT_MS,
                  line);
    ASSERT(it_log_wait(s, "reload (SIGHUP) failed", IT_WAIT_MS));
    close(fd);
    it_server_stop(s);
    tmp_cleanup();
}

/* An editor that truncates the file, then writes it: the empty file in
 * between is never loaded (it would be a script with no hooks, so plain
 * echo); the whole file is, once it holds still. */
void rt_reload_watch_settle(void)
{
    static const char loaded[] = "reload (the file changed): loaded";
    static const char empty[] = "is empty, not reloaded";
    const char *path;
    it_server *s;
    int fd, seen;
    char *log;

    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    s = SERVER_START(path, "--watch");
    ASSERT(it_log_wait(s, "watching ", IT_WAIT_MS));
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "a\n", "v1:a\n");
    close(fd);

    write_file(path, "");
    it_log_wait_count(s, "warn", empty, 1, IT_WAIT_MS);
    log = it_log_read(s);
    it_rt_expect_entries(log, NULL, loaded, NULL, 0);
    it_rt_expect_entries(log, "warn", empty, NULL, 1);
    free(log);
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "b\n", "v1:b\n");
    close(fd);

    tagged_script(path, "v2", 0);
    seen = it_log_wait_count(s, "info", loaded, 1, IT_WAIT_MS);
    ASSERT_EQ(seen, 1);
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "c\n", "v2:c\n");
    close(fd);
    it_server_stop_clean(s);
    log = it_log_read(s);
    it_rt_expect_entries(log, "info", loaded, "hooks: on_data;", 1);
    it_rt_expect_entries(log, NULL, "hooks: (none)", NULL, 0);
    it_rt_expect_entries(log, "warn", empty, NULL, 1);
    free(log);
    tmp_cleanup();
}

#define SLOW_TOP_MS 500
#define ROUND_TRIP_BOUND_MS 200

/* v2, whose top level runs SLOW_TOP_MS before it defines its hook. */
static void slow_script(const char *path)
{
    char text[512];
    snprintf(text, sizeof text,
             "-- a reload test's script whose top level takes %d ms\n"
             "local started = ricochet.now()\n"
             "while ricochet.now() - started < %d do end\n"
             "function on_data(conn, data)\n"
             "    return \"v2:\" .. data\n"
             "end\n", SLOW_TOP_MS, SLOW_TOP_MS);
    write_file(path, text);
}

/* The new script's top level runs off the worker: a client that ping-
 * pongs while it runs is answered as fast as ever, and the reload still
 * happens. */
void rt_reload_off_worker(void)
{
    static const char loaded[] = "reload (SIGHUP): loaded";
    const char *path;
    it_server *s;
    int fd, pings = 0, done = 0;
    int64_t worst = 0, hup_us, deadline;

    if (skipped_on_windows("no SIGHUP"))
        return;
    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    /* the spin is far under this budget */
    s = SERVER_START(path, "--hook-budget", "100000000");
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "a\n", "v1:a\n");

    slow_script(path);
    hup_us = it_clock_now_us();
    it_server_signal(s, SIGHUP);
    deadline = it_clock_now_ms() + IT_WAIT_MS;
    while (!done) {
        int64_t t0 = it_clock_now_us(), rtt;
        char *log;
        it_rt_ask_expect(fd, "p\n", "v1:p\n");
        rtt = it_clock_ms_since(t0);
        pings++;
        if (rtt > worst)
            worst = rtt;
        if (rtt >= ROUND_TRIP_BOUND_MS)
            TEST_FAIL("round trip %d took %lld ms, %lld ms into a reload "
                      "(bound: %d ms)", pings, (long long)rtt,
                      (long long)it_clock_ms_since(hup_us),
                      ROUND_TRIP_BOUND_MS);
        log = it_log_read(s);
        done = it_log_count(log, "info", loaded, NULL) > 0;
        free(log);
        if (!done && it_clock_left_ms(deadline) == 0)
            TEST_FAIL("no reload within %d ms of SIGHUP", IT_WAIT_MS);
    }
    fprintf(stderr, "%d round trips during the reload (%lld ms), the "
            "slowest %lld ms\n", pings, (long long)it_clock_ms_since(hup_us),
            (long long)worst);
    /* the round trips overlapped the slow top level (whose spin counts
     * whole ms of ricochet.now(): it may end up to 1 ms short in real
     * time, and it_clock_ms_since rounds down too) */
    ASSERT_GE(it_clock_ms_since(hup_us), SLOW_TOP_MS - 1);
    ASSERT_GE(pings, 10);

    it_rt_ask_expect(fd, "b\n", "v1:b\n");
    close(fd);
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "c\n", "v2:c\n");
    close(fd);
    it_server_stop_clean(s);
    tmp_cleanup();
}

/* With several workers: a failed reload is logged once and changes no
 * worker; a good one reaches every worker, each logging its switch. */
void rt_reload_workers(void)
{
    static const char failed[] = "reload (SIGHUP) failed, keeping the "
                                 "running script: ";
    static const char loaded[] = "reload (SIGHUP): loaded";
    const char *path;
    char want[64];
    it_server *s;
    char *log;
    int fd;

    if (skipped_on_windows("no SIGHUP"))
        return;
    path = tmp_script_path();
    tagged_script(path, "v1", 0);
    s = SERVER_START(path, "--workers", "3");

    write_file(path, "error(\"broken top level\")\n");
    hup_and_wait(s, "error", failed, 1);
    for (int i = 0; i < 6; i++) {
        fd = it_cli_connect_to(s, 0);
        it_rt_ask_expect(fd, "a\n", "v1:a\n");
        close(fd);
    }

    tagged_script(path, "v2", 0);
    hup_and_wait(s, "info", loaded, 3);
    for (int i = 0; i < 6; i++) {
        fd = it_cli_connect_to(s, 0);
        it_rt_ask_expect(fd, "b\n", "v2:b\n");
        close(fd);
    }
    it_server_stop(s);
    log = it_log_read(s);
    it_rt_expect_entries(log, "error", failed,
                         "script.lua:1: broken top level", 1);
    it_rt_expect_entries(log, "error", NULL, NULL, 1);
    for (int k = 1; k <= 3; k++) {
        snprintf(want, sizeof want, "worker %d: %s", k, loaded);
        it_rt_expect_entries(log, "info", want, NULL, 1);
    }
    free(log);
    tmp_cleanup();
}
