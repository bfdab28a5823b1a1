/* t_rt_budget.c -- the script runtime seen from outside (issue 3): the
 * instruction budget. A runaway hook is stopped, its connection reset and
 * logged with file:line, while the other connections go on. */
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

/* ---- the instruction budget --------------------------------------------- */

/* Connect, learn the id, send cmd, expect the reset of a stopped hook. */
static void stopped_by(const it_server *s, const char *cmd, char *id,
                       size_t cap)
{
    int fd = it_cli_connect_to(s, 0);
    int64_t t0;
    it_rt_ask_id(fd, id, cap);
    t0 = it_clock_now_us();
    CLI_SEND(fd, cmd);
    it_rt_expect_reset(fd, cmd, STOP_WAIT_MS);
    fprintf(stderr, "%.*s: reset after %.1f ms\n", (int)strcspn(cmd, "\n"),
            cmd, (double)(it_clock_now_us() - t0) / 1000.0);
    close(fd);
}

/* The log entry of a stopped hook: "conn ID: HOOK stopped: over the budget
 * of N instructions (at rt_budget.lua:LINE)" with a traceback. */
static void expect_stop_entry(const char *log, const char *id,
                              const char *hook, const char *marker)
{
    char head[160], where[96];
    snprintf(head, sizeof head, "conn %s: %s stopped: over the budget of "
             SMALL_BUDGET " instructions (at ", id, hook);
    if (marker)
        snprintf(where, sizeof where, "rt_budget.lua:%d)",
                 it_rt_file_line(FIXTURE("rt_budget.lua"), marker));
    else
        snprintf(where, sizeof where, "rt_budget.lua:");
    it_rt_expect_entries(log, "error", head, where, 1);
    it_rt_expect_entries(log, "error", head, "stack traceback", 1);
}

void rt_budget_loop(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    it_rt_others o;
    char id[32];
    char *log;

    it_rt_others_start(&o, s, 0xb7);
    stopped_by(s, "LOOP\n", id, sizeof id);
    it_rt_others_finish(&o);
    ASSERT(it_server_alive(s));
    /* and a new connection is served as usual */
    it_job_assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);

    it_server_stop(s);
    log = it_log_read(s);
    expect_stop_entry(log, id, "on_data", "-- runaway: on_data");
    it_rt_expect_entries(log, "error", NULL, NULL, 1); /* the victim only */
    free(log);
}

void rt_budget_nested(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32];
    char *log;
    /* the loop runs in a function on_data calls: the log line keeps its
     * form and points at the loop */
    stopped_by(s, "NESTED\n", id, sizeof id);
    it_server_stop(s);
    log = it_log_read(s);
    expect_stop_entry(log, id, "on_data", "-- runaway: spin");
    free(log);
}

void rt_budget_pcall(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32];
    char *log;
    /* pcall around the loop does not swallow the stop: no "survived" */
    stopped_by(s, "PCALL\n", id, sizeof id);
    it_job_assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    it_server_stop(s);
    log = it_log_read(s);
    expect_stop_entry(log, id, "on_data", NULL);
    it_rt_expect_entries(log, "error", NULL, NULL, 1);
    free(log);
}

void rt_budget_timer(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    int fd = it_cli_connect_to(s, 0);
    char id[32];
    char *log;
    /* a conn:after callback is a hook call with its own budget */
    it_rt_ask_id(fd, id, sizeof id);
    it_rt_ask_expect(fd, "TIMER\n", "armed\n");
    it_rt_expect_reset(fd, "the looping timer", STOP_WAIT_MS);
    close(fd);
    it_job_assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    it_server_stop(s);
    log = it_log_read(s);
    expect_stop_entry(log, id, "timer", "-- runaway: timer");
    free(log);
}

/* WORK on a fresh server with --hook-budget budget (NULL: the default):
 * the sum comes back, or (expect_stop) the connection is reset. */
static void work_with(const char *budget, int expect_stop)
{
    it_server *s = budget
        ? SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget", budget)
        : SERVER_START(FIXTURE("rt_budget.lua"));
    int fd = it_cli_connect_to(s, 0);
    fprintf(stderr, "WORK with --hook-budget %s\n", budget ? budget :
            "(default)");
    if (expect_stop) {
        CLI_SEND(fd, "WORK\n");
        it_rt_expect_reset(fd, "WORK", STOP_WAIT_MS);
        close(fd);
        it_server_stop(s);
        return;
    }
    it_rt_ask_expect(fd, "WORK\n", "500000500000\n");
    close(fd);
    it_server_stop_clean(s);
}

void rt_budget_default(void)
{
    /* about 2,000,000 instructions: far below the default budget ... */
    work_with(NULL, 0);
    /* ... but over 1,000,000, which shows the work is real */
    work_with(SMALL_BUDGET, 1);
    /* and 0 means no budget at all */
    work_with("0", 0);
}

/* A server with a time limit counts no instructions unless told to: a
 * hook of about 60,000,000 instructions, over the budget --simulate and
 * --check keep by default, answers. The limit is generous: it is not
 * what is tested here. */
void rt_budget_server_default(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-timeout",
                                "60000");
    int fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "LONG\n", "450000015000000\n");
    close(fd);
    it_server_stop_clean(s);
    /* and told to, it does */
    s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-timeout", "60000",
                     "--hook-budget", "50000000");
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "LONG\n");
    it_rt_expect_reset(fd, "LONG", STOP_WAIT_MS);
    close(fd);
    it_server_stop(s);
}

void rt_budget_pattern(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32], head[64];
    char *log;
    /* ".-.-.-.-x" over 30000 "a"s backtracks for hours in C: the matcher
     * must count its steps against the budget */
    stopped_by(s, "PATTERN\n", id, sizeof id);
    it_job_assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    it_server_stop(s);
    log = it_log_read(s);
    snprintf(head, sizeof head, "conn %s: on_data ", id);
    it_rt_expect_entries(log, "error", head, "over the budget of " SMALL_BUDGET
                         " instructions", 1);
    free(log);
}

void rt_budget_coroutine_pcall(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32];
    /* 20 runaway coroutines, each under pcall: 20 times the budget in one
     * hook call; the stop must not be swallowed ("survived") */
    stopped_by(s, "CO_WRAP\n", id, sizeof id);
    it_server_stop(s);
}

/* A fresh server on rt_budget.lua: cmd's hook call must end in a reset of
 * its own connection, and the server must serve the next one. */
static void stopped_then_serves(const char *cmd)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32];
    stopped_by(s, cmd, id, sizeof id);
    it_job_assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    it_server_stop(s);
}

void rt_budget_coroutine_toplevel(void)
{
    /* a coroutine made by the top level (before any hook call) and resumed
     * by on_data runs under the hook call's budget too */
    stopped_then_serves("CO_TOP\n");
}

void rt_budget_coroutine_split(void)
{
    /* the budget is per hook call, not per coroutine: endless work cut
     * into coroutines that each stay under it is stopped too */
    stopped_then_serves("CO_SPLIT\n");
}

void rt_budget_xpcall_handler(void)
{
    /* the budget's stop is raised inside the count hook, where hooks are
     * off: xpcall's message handler is skipped once tripped, so one that
     * loops cannot hang the server */
    stopped_then_serves("XPCALL\n");
}

void rt_budget_gc_finalizer(void)
{
    /* a __gc finalizer would run outside any hook: the sandbox refuses the
     * metatable, that hook call fails, and the server goes on */
    stopped_then_serves("GC\n");
}
