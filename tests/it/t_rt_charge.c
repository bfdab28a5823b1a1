/* t_rt_charge.c -- the script runtime seen from outside (issue 11): what
 * library calls cost. A call whose work grows with its arguments is
 * charged to the instruction budget (the bytes it builds or reads, the
 * values it moves), so a loop of them is stopped as a loop of
 * instructions is; and no hook call outlives --hook-timeout, whatever it
 * calls. The fixture, rt_charge.lua, marks each loop's line with
 * "-- charged: NAME". */
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

#define CHARGE_BUDGET "5000000"

/* The loops of rt_charge.lua that the budget must stop. */
static const char *const charged_loops[] = {
    "REP", "CONCAT_OP", "TABLE_CONCAT", "FORMAT", "PACKSIZE", "UNPACK",
    "BYTE", "CHAR", "TOSTRING", "UTF8_CHAR", "UTF8_LEN", "LOAD",
    "LOAD_READER", "TONUMBER", "SORT", "INSERT", "MOVE_HUGE", "SUB",
    "UPPER",
};
#define NLOOPS (sizeof charged_loops / sizeof charged_loops[0])

/* Run loop name on a fresh connection of s: its connection must be reset
 * within STOP_WAIT_MS. Its id goes to id; returns the milliseconds the
 * stop took. */
static int64_t stop_loop(const it_server *s, const char *name, char *id,
                         size_t cap)
{
    char cmd[64];
    int fd = it_cli_connect_to(s, 0);
    int64_t t0, ms;
    snprintf(cmd, sizeof cmd, "%s\n", name);
    it_rt_ask_id(fd, id, cap);
    t0 = it_clock_now_us();
    CLI_SEND(fd, cmd);
    it_rt_expect_reset(fd, cmd, STOP_WAIT_MS);
    ms = (it_clock_now_us() - t0) / 1000;
    fprintf(stderr, "%-13s reset after %lld ms\n", name, (long long)ms);
    close(fd);
    return ms;
}

/* The log of a stopped loop: "conn ID: on_data stopped: LIMIT (at
 * rt_charge.lua:LINE)", LINE the loop's. */
static void expect_stopped_at(const char *log, const char *id,
                              const char *name, const char *limit)
{
    char head[160], marker[64], where[64];
    snprintf(head, sizeof head, "conn %s: on_data stopped: %s (at ", id,
             limit);
    snprintf(marker, sizeof marker, "-- charged: %s\n", name);
    snprintf(where, sizeof where, "rt_charge.lua:%d)",
             it_rt_file_line(FIXTURE("rt_charge.lua"), marker));
    it_rt_expect_entries(log, "error", head, where, 1);
}

void rt_charge_budget(void)
{
    /* At most LOG_REPEAT_BURST loops a server: past that many error lines
     * from one place within the log's window, the log counts them instead
     * of writing each (see src/core/log.h), and each is looked for. */
    enum { BATCH = 10 };
    for (size_t first = 0; first < NLOOPS; first += BATCH) {
        size_t end = first + BATCH < NLOOPS ? first + BATCH : NLOOPS;
        /* the clock is off: only the budget can stop these */
        it_server *s = SERVER_START(FIXTURE("rt_charge.lua"),
                                    "--hook-budget", CHARGE_BUDGET,
                                    "--hook-timeout", "0");
        char ids[BATCH][32];
        char *log;
        for (size_t i = first; i < end; i++)
            stop_loop(s, charged_loops[i], ids[i - first],
                      sizeof ids[i - first]);
        ASSERT_ECHO(s, "still served\n", 13);
        it_server_stop(s);
        log = it_log_read(s);
        for (size_t i = first; i < end; i++)
            expect_stopped_at(log, ids[i - first], charged_loops[i],
                              "over the budget of " CHARGE_BUDGET
                              " instructions");
        it_rt_expect_entries(log, "error", NULL, NULL, (int)(end - first));
        free(log);
    }
}

void rt_charge_rep_default(void)
{
    /* The loop of the report: 3000 string.rep("x", 1e7) held every client
     * of the worker for a minute. With the default budget it is stopped
     * after about forty (80 MB a second is far from it), and everyone
     * else is served meanwhile. */
    it_server *s = SERVER_START(FIXTURE("rt_charge.lua"), "--hook-timeout",
                                "0");
    it_rt_others o;
    char id[32];
    char *log;
    it_rt_others_start(&o, s, 0x11);
    stop_loop(s, "REP", id, sizeof id);
    it_rt_others_finish(&o);
    it_server_stop(s);
    log = it_log_read(s);
    expect_stopped_at(log, id, "REP", "over the budget of 50000000 "
                      "instructions");
    free(log);
}

void rt_charge_rep_empty(void)
{
    /* the stock string.rep("", n) loops n times in one call */
    it_server *s = SERVER_START(FIXTURE("rt_charge.lua"));
    int fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "REP_EMPTY\n", "rep_empty=0\n");
    close(fd);
    it_server_stop_clean(s);
}

void rt_hook_timeout(void)
{
    /* No instruction budget: the wall-clock ceiling alone stops a loop of
     * instructions, of allocations, of a C function that reads (a load
     * reader), and one C call that would never return (table.move over
     * 2^63 elements) or runs long (a sort). */
    static const char *const endless[] = {"SPIN", "REP", "LOAD_READER",
                                          "MOVE_HUGE", "SORT", "INSERT"};
    enum { N = sizeof endless / sizeof endless[0] };
    it_server *s = SERVER_START(FIXTURE("rt_charge.lua"), "--hook-budget",
                                "0", "--hook-timeout", "300");
    char ids[N][32];
    char *log;
    for (int i = 0; i < N; i++) {
        int64_t ms = stop_loop(s, endless[i], ids[i], sizeof ids[i]);
        ASSERT_GE(ms, 300); /* never before the limit */
    }
    ASSERT_ECHO(s, "still served\n", 13);
    it_server_stop(s);
    log = it_log_read(s);
    for (int i = 0; i < N; i++)
        expect_stopped_at(log, ids[i], endless[i], "over the time limit of "
                          "300 ms (--hook-timeout)");
    free(log);
}

void rt_hook_timeout_option(void)
{
    it_run r;
    static const char *const bad[] = {"-1", "x", "1.5", "3600001", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "--hook-timeout: bad value '%s'", bad[i]);
        RUN(&r, "--hook-timeout", bad[i], "--check", SCRIPT("echo.lua"));
        it_run_assert_error(&r, 2, want);
        it_run_free(&r);
    }
    RUN(&r, "--hook-timeout", "3600000", "--check", SCRIPT("echo.lua"));
    ASSERT_EQ(r.code, 0);
    it_run_free(&r);
    RUN(&r, "--help");
    ASSERT(strstr(r.out, "--hook-timeout MS") != NULL);
    it_run_free(&r);
}
