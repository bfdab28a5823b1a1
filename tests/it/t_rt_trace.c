/* t_rt_trace.c -- the script runtime seen from outside (issue 3): what
 * the server shows of a connection with --trace and --hexdump, and the
 * command line of --simulate. The transcripts themselves are diffed by
 * sim/check.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_tmp.h"
#include "it_rt.h"

/* ---- --trace ------------------------------------------------------------ */

/* The id of the connection whose peer is local ("127.0.0.1:PORT"), from
 * its "accepted from" log line. */
static void conn_id_from_log(const char *log, const char *local, char *id,
                             size_t cap)
{
    char needle[128];
    const char *p = log;
    snprintf(needle, sizeof needle, ": accepted from %s", local);
    for (int i = 0; i < 100000 && (p = strstr(p, needle)) != NULL; i++) {
        const char *after = p + strlen(needle), *start = p;
        if (*after == '\n' || *after == '\0') {
            while (start > log && start[-1] != ' ')
                start--; /* back over the id to "conn " */
            size_t n = (size_t)(p - start);
            ASSERT(n > 0 && n < cap);
            memcpy(id, start, n);
            id[n] = '\0';
            return;
        }
        p = after;
    }
    TEST_FAIL("no \"accepted from %s\" in the log", local);
}

/* One entry at level trace with "conn ID: what" (and needle2). */
static void expect_trace(const char *log, const char *id, const char *what,
                         const char *needle2, int want)
{
    char needle[160];
    snprintf(needle, sizeof needle, "conn %s: %s", id, what);
    it_rt_expect_entries(log, "trace", needle, needle2, want);
}

/* Run a client against s: "hello", "world!", FIN; returns its address. */
static void trace_client(const it_server *s, char *local, size_t cap,
                         const char *bye)
{
    int fd = it_cli_connect_to(s, 0);
    unsigned char *in = NULL;
    char buf[16];
    size_t n = 0;
    it_cli_local_name(fd, local, cap);
    CLI_SEND(fd, "hello");
    ASSERT_EQ(it_cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
    ASSERT_MEM_EQ(buf, 5, "HELLO", 5);
    CLI_SEND(fd, "world!");
    ASSERT_EQ(it_cli_recv_n(fd, buf, 6, IT_WAIT_MS), 6);
    ASSERT_MEM_EQ(buf, 6, "WORLD!", 6);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    ASSERT_MEM_EQ(in, n, bye, strlen(bye));
    free(in);
    close(fd);
}

void rt_trace(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_trace.lua"), "--trace");
    char local[128], id[32], closed[64];
    char *log;

    trace_client(s, local, sizeof local, "bye\n");
    log = it_log_read(s);
    conn_id_from_log(log, local, id, sizeof id);
    free(log);
    snprintf(closed, sizeof closed, "conn %s: closed, done", id);
    ASSERT(it_log_wait(s, closed, IT_WAIT_MS));

    log = it_log_read(s);
    expect_trace(log, id, "accepted from ", local, 1);
    expect_trace(log, id, "in 5 bytes at offset 0", NULL, 1);
    expect_trace(log, id, "out 5 bytes at offset 0", NULL, 1);
    expect_trace(log, id, "in 6 bytes at offset 5", NULL, 1);
    expect_trace(log, id, "out 6 bytes at offset 5", NULL, 1);
    expect_trace(log, id, "on_data (data) took ", " us", 2);
    expect_trace(log, id, "FIN received", NULL, 1);
    expect_trace(log, id, "on_done took ", " us", 1);
    expect_trace(log, id, "timer fired", NULL, 1);
    expect_trace(log, id, "timer took ", " us", 1);
    expect_trace(log, id, "out 4 bytes at offset 11", NULL, 1);
    expect_trace(log, id, "FIN sent", NULL, 1);
    expect_trace(log, id, "closed, done after ", "11 bytes in, 15 out", 1);
    expect_trace(log, id, "RST", NULL, 0);
    /* each event once: the accept too */
    snprintf(closed, sizeof closed, "conn %s: accepted from ", id);
    it_rt_expect_entries(log, NULL, closed, local, 1);
    free(log);
    it_server_stop_clean(s);
}

void rt_trace_hexdump(void)
{
    it_server *s = SERVER_START(SCRIPT("upper.lua"), "--hexdump");
    int fd = it_cli_connect_to(s, 0);
    char local[128], id[32], buf[8];
    unsigned char *in = NULL;
    size_t n = 0;
    char *log;

    it_cli_local_name(fd, local, sizeof local);
    CLI_SEND(fd, "hello");
    ASSERT_EQ(it_cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    free(in);
    close(fd);
    it_server_stop_clean(s);

    log = it_log_read(s);
    conn_id_from_log(log, local, id, sizeof id);
    /* the rows belong to the chunk's entry */
    expect_trace(log, id, "in 5 bytes at offset 0",
                 "\n  00000000  68 65 6c 6c 6f ", 1);
    expect_trace(log, id, "in 5 bytes at offset 0", "  |hello|", 1);
    expect_trace(log, id, "out 5 bytes at offset 0",
                 "\n  00000000  48 45 4c 4c 4f ", 1);
    expect_trace(log, id, "out 5 bytes at offset 0", "  |HELLO|", 1);
    free(log);
}

void rt_trace_rst(void)
{
    it_server *s = SERVER_START(FIXTURE("actions.lua"), "--trace");
    int fd = it_cli_connect_to(s, 0);
    char local[128], id[32], want[64];
    char *log;

    it_cli_local_name(fd, local, sizeof local);
    CLI_SEND(fd, "RESET\n");
    it_rt_expect_reset(fd, "RESET", IT_WAIT_MS);
    close(fd);
    log = it_log_read(s);
    conn_id_from_log(log, local, id, sizeof id);
    free(log);
    snprintf(want, sizeof want, "conn %s: RST sent, reset after ", id);
    ASSERT(it_log_wait(s, want, IT_WAIT_MS));
    it_server_stop_clean(s);
    log = it_log_read(s);
    expect_trace(log, id, "RST sent, reset after ", "6 bytes in, 0 out", 1);
    expect_trace(log, id, "FIN sent", NULL, 0);
    free(log);
}

/* ---- --simulate's command line ------------------------------------------ */

void rt_simulate_errors(void)
{
    it_run r;
    /* a transcript error names file:line; what came before it ran */
    RUN(&r, "--simulate", it_path("tests/it/sim/parse_error.sim"),
        SCRIPT("echo.lua"));
    if (r.code != 2 ||
        strstr(r.err, "ricochet: ") == NULL ||
        strstr(r.err, "parse_error.sim:3: unknown command") == NULL ||
        strstr(r.err, "frobnicate") == NULL ||
        strstr(r.out, "client sends 2 bytes \"ok\"\n") == NULL)
        TEST_FAIL("--simulate parse_error.sim: exit %d, stdout:\n%s\n"
                  "stderr:\n%s", r.code, r.out, r.err);
    it_run_free(&r);
    /* a transcript that does not exist is a usage error */
    RUN(&r, "--simulate", it_path("tests/it/sim/no_such.sim"),
        SCRIPT("echo.lua"));
    it_run_assert_error(&r, 2, "no_such.sim");
    it_run_free(&r);
}

/* Every malformed transcript is refused with its file and line and exit
 * 2; a wait ends with a comment like any command. Upstream lines are
 * refused without proxy mode, and checked like the client's in it. */
void rt_simulate_malformed(void)
{
#define TEXT(s) s, sizeof s - 1 /* with its NULs */
    static const struct {
        const char *text;
        size_t len;
        const char *error; /* NULL: it runs, exit 0, and prints out */
        const char *out;
        int proxy;         /* scripts/proxy.lua with --upstream */
    } cases[] = {
        /* the timer queue's "never": it used to spin for ever */
        {TEXT("wait 18446744073709551615\n"), ":1: wait is too long", 0, 0},
        {TEXT("send \"a\"\nwait 1000000000001\n"), ":2: wait is too long",
         0, 0},
        {TEXT("wait 999999999999\nwait 2\n"), ":2: wait is too long", 0, 0},
        {TEXT("wait 99999999999999999999999\n"), ":1: wait needs", 0, 0},
        {TEXT("wait +5\n"), ":1: wait needs", 0, 0},
        {TEXT("wait -5\n"), ":1: wait needs", 0, 0},
        /* a NUL used to end the transcript there, silently */
        {TEXT("send \"a\"\nsend \"b\0c\"\nreset\n"), ":2: a NUL byte", 0, 0},
        {TEXT("send \"a\"\nwait 100  # a comment\nclose\n"), NULL,
         "   100 ms  client closes (FIN)\n", 0},
        /* the upstream's side: only in proxy mode */
        {TEXT("send \"a\"\nupstream send \"b\"\n"),
         ":2: an upstream line, but there is no upstream (give --upstream "
         "HOST:PORT, or a script that connects)", 0, 0},
        {TEXT("upstream\n"), ":1: upstream needs a command (send, shutdown, "
         "close, reset, accept, refuse, timeout)", 0, 0},
        {TEXT("upstream  # what?\n"), ":1: upstream needs a command", 0, 0},
        {TEXT("upstream frob\n"), ":1: unknown upstream command (send, "
         "shutdown, close, reset, accept, refuse, timeout): frob", 0, 0},
        {TEXT("upstream frob\n"), ":1: unknown upstream command", 0, 1},
        {TEXT("wait 1\nupstream send\n"),
         ":2: upstream send needs one or more quoted strings", 0, 1},
        {TEXT("upstream send \"a\n"), ":1: unfinished string", 0, 1},
        {TEXT("upstream send \"\\q\"\n"), ":1: unknown escape", 0, 1},
        {TEXT("upstream shutdown now\n"),
         ":1: unexpected text after the command: now", 0, 1},
        {TEXT("upstream send \"a\"  # fine\nupstream close # too\n"), NULL,
         "     0 ms  upstream sends 1 byte \"a\"\n"
         "     0 ms  server sends 1 byte \"a\"\n"
         "     0 ms  upstream closes (FIN)\n", 1},
    };
#undef TEXT
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        it_run r;
        snprintf(path, sizeof path, "%s",
                 it_tmp_write_bytes("transcript.sim", cases[i].text,
                                    cases[i].len));
        if (cases[i].proxy)
            RUN(&r, "--simulate", path, SCRIPT("proxy.lua"), "--upstream",
                "127.0.0.1:6379");
        else
            RUN(&r, "--simulate", path, SCRIPT("echo.lua"));
        if (cases[i].error == NULL) {
            if (r.code != 0 || strstr(r.out, cases[i].out) == NULL)
                TEST_FAIL("case %zu: exit %d, stdout:\n%s\nstderr:\n%s", i,
                          r.code, r.out, r.err);
        } else if (r.code != 2 || strstr(r.err, "ricochet: ") == NULL ||
                   strstr(r.err, path) == NULL ||
                   strstr(r.err, cases[i].error) == NULL) {
            TEST_FAIL("case %zu: want exit 2 and \"%s\"; exit %d, stderr:\n%s",
                      i, cases[i].error, r.code, r.err);
        }
        it_run_free(&r);
    }
}
