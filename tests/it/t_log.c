/* t_log.c -- the server's log seen from outside (issue 11): a client
 * cannot forge an entry or reach the terminal through what a script
 * logs, and a flood of one warning is one line and a count. */
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

/* A newline, then what looks like an entry of its own; a CR and an ESC
 * sequence that would move the cursor and colour the terminal. */
#define FORGED "\n2026-01-01T00:00:00.000Z error forged"
#define TAIL "\r\x1b[31m"
#define FORGED_ESCAPED "\\n2026-01-01T00:00:00.000Z error forged\\r\\x1b[31m"

void log_injection(void)
{
    static const char printed[] = "P" FORGED TAIL;
    static const char logged[] = "L" FORGED TAIL;
    it_server *s = SERVER_START(FIXTURE("log_client.lua"));
    int fd = it_cli_connect_to(s, 0);
    char got[128];
    char *log;

    CLI_SEND(fd, printed);
    ASSERT_EQ(it_cli_recv_n(fd, got, sizeof printed - 1, IT_WAIT_MS),
              sizeof printed - 1);
    ASSERT_MEM_EQ(got, sizeof printed - 1, printed, sizeof printed - 1);
    CLI_SEND(fd, logged);
    ASSERT_EQ(it_cli_recv_n(fd, got, sizeof logged - 1, IT_WAIT_MS),
              sizeof logged - 1);
    close(fd);
    it_server_stop(s);

    /* one entry each, on one line, every control byte escaped */
    log = it_log_read(s);
    it_rt_expect_entries(log, "error", NULL, NULL, 0);
    it_rt_expect_entries(log, NULL, "forged", NULL, 2);
    it_rt_expect_entries(log, "info", "info  P" FORGED_ESCAPED, NULL, 1);
    it_rt_expect_entries(log, "warn", ": L" FORGED_ESCAPED, NULL, 1);
    ASSERT(strstr(log, "P" FORGED_ESCAPED "\n") != NULL);
    ASSERT(strstr(log, "L" FORGED_ESCAPED "\n") != NULL);
    ASSERT(strstr(log, "\n2026-01-01T") == NULL);
    ASSERT(strchr(log, '\x1b') == NULL);
    free(log);
}

#define FLOOD_CLIENTS 100
#define LOG_WINDOW_MS 5000 /* src/core/log.h: LOG_REPEAT_WINDOW_MS */
#define FULL "connections open (--max-conns)"

/* The count of every summary entry about FULL in log, added up; their
 * number in *entries. */
static long repeated_total(const char *log, int *entries)
{
    long total = 0;
    *entries = 0;
    for (const char *p = log; (p = strstr(p, FULL)) != NULL; p++) {
        const char *eol = strchr(p, '\n');
        const char *rep = strstr(p, "(repeated ");
        long n;
        if (rep == NULL || (eol != NULL && rep > eol))
            continue;
        if (sscanf(rep, "(repeated %ld times", &n) != 1)
            n = strncmp(rep, "(repeated once", 14) == 0 ? 1 : 0;
        ASSERT_GT(n, 0);
        total += n;
        (*entries)++;
    }
    return total;
}

/* 100 clients through one connection slot: every accept fills it again,
 * and each used to log the same warning. */
void log_flood_max_conns(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "1");
    static it_job jobs[FLOOD_CLIENTS];
    char *log;
    int summaries;
    long repeats;

    for (int i = 0; i < FLOOD_CLIENTS; i++)
        it_job_init(&jobs[i], it_cli_connect_to(s, 0), "x", 1, 1);
    ASSERT_EQ(it_job_drive(jobs, FLOOD_CLIENTS, IT_WAIT_MS, NULL),
              FLOOD_CLIENTS);
    for (int i = 0; i < FLOOD_CLIENTS; i++) {
        it_job_assert_echo(&jobs[i], (size_t)i);
        it_job_free(&jobs[i]);
    }
    /* the first warning only, so far */
    log = it_log_read(s);
    it_rt_expect_entries(log, "warn", FULL, NULL, 1);
    free(log);
    /* the count comes when the window ends, with no further warning */
    ASSERT(it_log_wait(s, "(repeated ", LOG_WINDOW_MS + IT_WAIT_MS));
    it_server_stop(s);

    log = it_log_read(s);
    it_rt_expect_entries(log, "warn", FULL, NULL, 1 + 1);
    repeats = repeated_total(log, &summaries);
    fprintf(stderr, "one warning, then %ld repeats in %d line(s)\n",
            repeats, summaries);
    ASSERT_EQ(summaries, 1);
    ASSERT_GE(repeats, FLOOD_CLIENTS / 2);
    ASSERT_LE(repeats, FLOOD_CLIENTS);
    free(log);
}

/* One thread and no event loop (--simulate): the count of a flood is
 * written as the program ends. */
void log_flood_simulate(void)
{
    it_run r;
    RUN(&r, "--simulate", it_path("tests/it/sim/log_flood.sim"),
        FIXTURE("log_client.lua"));
    if (r.code != 0)
        TEST_FAIL("--simulate log_flood.sim: exit %d, stderr:\n%s", r.code,
                  r.err);
    it_rt_expect_entries(r.err, "warn", "conn 1: flood", NULL, 2);
    it_rt_expect_entries(r.err, "warn", "conn 1: flood (repeated 49 times "
                         "in the last 1 s)", NULL, 1);
    it_run_free(&r);
}
