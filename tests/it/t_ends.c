/* t_ends.c -- honest ends: a stop that must drop output resets instead of
 * passing a cut echo off as a whole one, and the idle timeout's graceful
 * close with the script's on_timeout. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define STOP_PAYLOAD (16u << 20)

/* A client sends 16 MiB and half-closes without reading a byte. The
 * out-limit is above that, so the server reads it all and queues the
 * echo; a stop then cannot send it within --drain-timeout. The client
 * must see a reset after the part that did go out, never an EOF. */
void stop_unsent_reset(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--out-limit", "64m",
                                "--drain-timeout", "0.5", "--trace");
    unsigned char *p = it_rng_payload(0x5e7d, STOP_PAYLOAD), *in = NULL;
    int fd = it_cli_connect_to(s, 0), rc;
    size_t n = 0;
    char *log;

    ASSERT_EQ(it_cli_send_all(fd, p, STOP_PAYLOAD, IT_WAIT_MS), 0);
    it_cli_shut_wr(fd);
    /* the server has read everything: what it has not sent is queued */
    if (!it_log_wait(s, "conn 1: FIN received", IT_WAIT_MS))
        TEST_FAIL("the server did not read the client's FIN");
    it_server_signal(s, SIGTERM);
    /* the client reads only once the deadline has ended the connection
     * (the trace's close line, "RST sent, stop after" or "closed, stop
     * after"): reading earlier would let the echo finish in time */
    if (!it_log_wait(s, ", stop after ", IT_WAIT_MS))
        TEST_FAIL("the stop deadline did not end the connection");
    rc = it_cli_recv_eof(fd, &in, &n, 2 * STOP_PAYLOAD, IT_WAIT_MS);
    fprintf(stderr, "the client read %zu of %u bytes, then %s\n", n,
            STOP_PAYLOAD, rc == 0 ? "EOF" : strerror(-rc));
    if (rc != -ECONNRESET)
        TEST_FAIL("a cut echo (%zu of %u bytes) ended with %s, not a "
                  "reset", n, STOP_PAYLOAD, rc == 0 ? "EOF" : strerror(-rc));
    ASSERT_LT(n, STOP_PAYLOAD);
    ASSERT_MEM_EQ(in, n, p, n); /* what came is the echo's start */
    if (!it_server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit after its stop");
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "warn", "conn 1: the server's stop "
                           "deadline passed with", NULL), 1);
    free(log);
    free(in);
    free(p);
    close(fd);
}

/* Read a line within timeout_ms; assert it is want, and that it came no
 * sooner than min_ms after t0 (the idle timeout cannot come early). */
static void expect_line_after(int fd, const char *want, int64_t t0,
                              int min_ms)
{
    char line[128];
    it_cli_recv_line(fd, line, sizeof line, IT_WAIT_MS);
    int64_t ms = (it_clock_now_us() - t0) / 1000;
    fprintf(stderr, "after %jd ms: %s", (intmax_t)ms,
            line[0] ? line : "(nothing)\n");
    ASSERT_STR_EQ(line, want);
    ASSERT_GE(ms, min_ms);
}

/* An idle client gets on_timeout's last line, then our FIN; we still
 * read (the drain) until it closes, and on_close hears "timeout". With
 * "keep", on_timeout first asks and waits one more idle period. */
void idle_hook(void)
{
    it_server *s = SERVER_START(FIXTURE("timeout.lua"), "--idle-timeout",
                                "0.3", "--drain-timeout", "5");
    unsigned char *in = NULL;
    size_t n = 0;
    char line[64];
    int fd = it_cli_connect_to(s, 0);
    int64_t t0;

    CLI_SEND(fd, "hi\n");
    it_cli_recv_line(fd, line, sizeof line, IT_WAIT_MS);
    ASSERT_STR_EQ(line, "hi\n");
    t0 = it_clock_now_us();
    expect_line_after(fd, "idle 1, bye\n", t0, 250);
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    ASSERT_MEM_EQ(in, n, "", 0);
    free(in);
    /* half-closed, not closed: more from the client is read quietly */
    CLI_SEND(fd, "still talking\n");
    ASSERT_EQ(it_cli_wait_error(fd, 200), 0);
    close(fd);
    if (!it_log_wait(s, "closed: timeout", IT_WAIT_MS))
        TEST_FAIL("on_close did not hear \"timeout\"");

    /* "wait": a question at the first timeout, the goodbye at the next */
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "keep\n");
    it_cli_recv_line(fd, line, sizeof line, IT_WAIT_MS);
    ASSERT_STR_EQ(line, "keep\n");
    t0 = it_clock_now_us();
    expect_line_after(fd, "still there?\n", t0, 250);
    expect_line_after(fd, "idle 2, bye\n", t0, 550);
    in = NULL;
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    ASSERT_MEM_EQ(in, n, "", 0);
    free(in);
    close(fd);
    ASSERT_EQ(it_log_wait_count(s, "info", "closed: timeout", 2,
                                IT_WAIT_MS), 2);
    it_server_stop_clean(s);
}

/* on_timeout asks for a reset: the client gets one, after its echo. */
void idle_hook_reset(void)
{
    it_server *s = SERVER_START(FIXTURE("timeout.lua"), "--idle-timeout",
                                "0.3");
    unsigned char *in = NULL;
    size_t n = 0;
    int fd = it_cli_connect_to(s, 0), rc;
    int64_t t0 = it_clock_now_us(), ms;

    CLI_SEND(fd, "reset\n");
    rc = it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS);
    ms = (it_clock_now_us() - t0) / 1000;
    fprintf(stderr, "after %jd ms: %s\n", (intmax_t)ms,
            rc == 0 ? "EOF" : strerror(-rc));
    if (rc != -ECONNRESET)
        TEST_FAIL("expected a reset, got %s after %zu bytes",
                  rc == 0 ? "EOF" : strerror(-rc), n);
    ASSERT_MEM_EQ(in, n, "reset\n", 6);
    ASSERT_GE(ms, 250);
    free(in);
    close(fd);
    if (!it_log_wait(s, "closed: timeout", IT_WAIT_MS))
        TEST_FAIL("on_close did not hear \"timeout\"");
    it_server_stop_clean(s);
}

/* --check lists on_timeout; a typo of it is named at load. */
void idle_hook_check(void)
{
    it_run r;
    char want[4200];
    RUN(&r, "--check", FIXTURE("timeout.lua"));
    snprintf(want, sizeof want, "hooks: on_data on_timeout on_close\n"
             "script: %s\n", FIXTURE("timeout.lua"));
    if (r.code != 0 || strcmp(r.out, want) != 0)
        TEST_FAIL("--check timeout.lua: exit %d, stdout \"%s\"", r.code,
                  r.out);
    it_run_free(&r);
    RUN(&r, "--check", FIXTURE("timeout_typo.lua"));
    snprintf(want, sizeof want, "hooks: (none)\nscript: %s\n",
             FIXTURE("timeout_typo.lua"));
    if (r.code != 0 || strcmp(r.out, want) != 0 ||
        strstr(r.err, "warn") == NULL ||
        strstr(r.err, "global function on_timout is not a hook (the hooks "
               "are on_connect, on_data, on_done, on_upstream_data, "
               "on_upstream_done, on_upstream_error, on_timeout, "
               "on_close, on_args)") == NULL)
        TEST_FAIL("--check timeout_typo.lua: exit %d, stdout \"%s\", "
                  "stderr:\n%s", r.code, r.out, r.err);
    it_run_free(&r);
}

/* A client that sends without reading until the server pauses it, then
 * goes quiet: the idle timeout's graceful close cannot send the queued
 * echo, so after --drain-timeout the client gets a reset, not an EOF. */
void idle_unsent_reset(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--idle-timeout", "0.3",
                                "--drain-timeout", "0.3", "--log-level",
                                "debug");
    unsigned char *p = it_rng_payload(0x1d1e, 1 << 20), *in = NULL;
    int fd = it_cli_connect_to(s, 0), rc;
    size_t sent = 0, n = 0;
    int64_t t0 = it_clock_now_us();

    /* send until the server says it stopped reading (bounded) */
    while (!it_log_wait(s, "bytes unsent, pausing reads", 0)) {
        if (it_clock_now_us() - t0 > (int64_t)IT_WAIT_MS * 1000)
            TEST_FAIL("the server never paused reading");
        ssize_t k = send(fd, p + sent % (1 << 20), (1 << 20) - sent %
                         (1 << 20), MSG_NOSIGNAL);
        if (k > 0)
            sent += (size_t)k;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            it_cli_wait_error(fd, 20); /* pacing while the server reads */
        else
            TEST_FAIL("send: %s", strerror(errno));
    }
    if (!it_log_wait(s, "bytes still unsent 300 ms after the idle timeout: "
                     "resetting the connection", IT_WAIT_MS))
        TEST_FAIL("the unsent echo was not reset after the idle timeout");
    rc = it_cli_recv_eof(fd, &in, &n, 64u << 20, IT_WAIT_MS);
    fprintf(stderr, "sent %zu bytes, read %zu back, then %s\n", sent, n,
            rc == 0 ? "EOF" : strerror(-rc));
    if (rc != -ECONNRESET)
        TEST_FAIL("a cut echo ended with %s, not a reset",
                  rc == 0 ? "EOF" : strerror(-rc));
    ASSERT_LT(n, sent);
    for (size_t off = 0; off < n; off += 1 << 20) {
        size_t len = n - off < (1u << 20) ? n - off : 1u << 20;
        ASSERT_MEM_EQ(in + off, len, p, len);
    }
    free(in);
    free(p);
    close(fd);
    it_server_stop_clean(s);
}
