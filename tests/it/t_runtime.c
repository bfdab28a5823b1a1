/* t_runtime.c -- the script runtime seen from outside (issue 3): the
 * instruction budget, the memory cap, the sandbox, undefined globals, the
 * ricochet table, reload (SIGHUP and --watch), --trace and --simulate's
 * command line. The transcripts themselves are diffed by sim/check.sh. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define OTHERS 50
/* A stopped hook resets its connection within milliseconds; this bounds
 * the wait where a broken budget would leave the server stuck. */
#define STOP_WAIT_MS 5000
#define SMALL_BUDGET "1000000"

/* ---- small helpers ------------------------------------------------------ */

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

/* The 1-based number of the first line of path that contains text. */
static int file_line(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int number = 0;
    if (f == NULL)
        TEST_FAIL("cannot open %s: %s", path, strerror(errno));
    for (int i = 1; i < 10000 && fgets(line, sizeof line, f); i++)
        if (strstr(line, text) != NULL) {
            number = i;
            break;
        }
    fclose(f);
    if (number == 0)
        TEST_FAIL("no line with \"%s\" in %s", text, path);
    return number;
}

/* Send one command, receive one reply line (with its '\n') into line. */
static void ask(int fd, const char *cmd, char *line, size_t cap)
{
    size_t n;
    CLI_SEND(fd, cmd);
    n = cli_recv_line(fd, line, cap, IT_WAIT_MS);
    if (n == 0 || line[n - 1] != '\n')
        TEST_FAIL("no reply line to \"%.*s\": got \"%s\"",
                  (int)strcspn(cmd, "\n"), cmd, line);
}

/* ask() and compare the reply with expect. */
static void ask_expect(int fd, const char *cmd, const char *expect)
{
    char line[512];
    ask(fd, cmd, line, sizeof line);
    ASSERT_STR_EQ(line, expect);
}

/* The connection's id, from the fixtures' "ID?\n" command. */
static void ask_id(int fd, char *id, size_t cap)
{
    char line[64];
    size_t n;
    ask(fd, "ID?\n", line, sizeof line);
    n = strlen(line) - 1;
    ASSERT(n > 0 && n < cap && strspn(line, "0123456789") == n);
    memcpy(id, line, n);
    id[n] = '\0';
}

/* Connect, send cmd, half-close and receive everything up to the server's
 * EOF into out (NUL-terminated). For replies of several lines. */
static void exchange(const it_server *s, const char *cmd, char *out,
                     size_t cap)
{
    int fd = cli_connect_to(s, 0);
    unsigned char *in = NULL;
    size_t n = 0;
    int rc;
    CLI_SEND(fd, cmd);
    cli_shut_wr(fd);
    rc = cli_recv_eof(fd, &in, &n, cap - 1, IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("\"%.*s\": no EOF (%s) after %zu bytes",
                  (int)strcspn(cmd, "\n"), cmd, strerror(-rc), n);
    memcpy(out, in ? (char *)in : "", n);
    out[n] = '\0';
    free(in);
    close(fd);
}

/* The server resets fd (its hook was stopped or failed) within timeout_ms,
 * and nothing at all comes before the reset. A byte fails the case at
 * once, without waiting out the bound. */
static void expect_reset(int fd, const char *what, int timeout_ms)
{
    char buf[256];
    size_t n = 0;
    int64_t deadline = now_us() + (int64_t)timeout_ms * 1000;
    int rc = -ETIMEDOUT;
    for (int i = 0; i < 1000000; i++) {
        ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
        int64_t left_ms = (deadline - now_us()) / 1000;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (got > 0) {
            n = (size_t)got;
            break;
        }
        if (got == 0) {
            rc = 0;
            break;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (left_ms <= 0)
            break;
        poll(&pfd, 1, (int)left_ms);
    }
    buf[n] = '\0';
    if (n > 0)
        TEST_FAIL("%.*s: expected a reset and no bytes; got %zu bytes: "
                  "\"%s\"", (int)strcspn(what, "\n"), what, n, buf);
    if (rc != -ECONNRESET)
        TEST_FAIL("%.*s: expected a reset within %d ms; got %s",
                  (int)strcspn(what, "\n"), what, timeout_ms,
                  rc == 0 ? "EOF" : strerror(-rc));
}

/* Assert how many log entries of level contain both needles. */
static void expect_entries(const char *log, const char *level,
                           const char *needle1, const char *needle2,
                           int want)
{
    int got = log_count(log, level, needle1, needle2);
    if (got != want)
        TEST_FAIL("%d log entries of level %s with \"%s\"%s%s%s; expected "
                  "%d", got, level ? level : "(any)",
                  needle1 ? needle1 : "", needle2 ? " and \"" : "",
                  needle2 ? needle2 : "", needle2 ? "\"" : "", want);
}

/* ---- 50 bystanders ------------------------------------------------------ */

typedef struct others {
    it_job jobs[OTHERS];
    unsigned char *payloads[OTHERS];
} others;

static int half_echoed(const it_job *j)
{
    return j->out_sent >= j->send_limit && j->in_len >= j->send_limit;
}

/* 50 connections, each halfway through the echo of 32..64 KiB of bytes
 * >= 0x80 (never one of the fixtures' ASCII commands). */
static void others_start(others *o, const it_server *s, uint64_t seed)
{
    it_rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < OTHERS; i++) {
        size_t len = 32768 + (size_t)rng_below(&r, 32768);
        o->payloads[i] = rng_payload(seed * 1000 + (uint64_t)i, len);
        for (size_t k = 0; k < len; k++)
            o->payloads[i][k] |= 0x80;
        job_init(&o->jobs[i], cli_connect_to(s, 0), o->payloads[i], len, 1);
        o->jobs[i].send_limit = len / 2;
    }
    ASSERT_EQ(drive(o->jobs, OTHERS, IT_WAIT_MS, half_echoed), OTHERS);
}

/* The rest of each echo, then EOF: byte-exact, all 50. */
static void others_finish(others *o)
{
    for (int i = 0; i < OTHERS; i++)
        o->jobs[i].send_limit = o->jobs[i].out_len;
    ASSERT_EQ(drive(o->jobs, OTHERS, IT_WAIT_MS, NULL), OTHERS);
    for (int i = 0; i < OTHERS; i++) {
        assert_job_echo(&o->jobs[i], (size_t)i);
        job_free(&o->jobs[i]);
        free(o->payloads[i]);
    }
}

/* ---- the instruction budget --------------------------------------------- */

/* Connect, learn the id, send cmd, expect the reset of a stopped hook. */
static void stopped_by(const it_server *s, const char *cmd, char *id,
                       size_t cap)
{
    int fd = cli_connect_to(s, 0);
    int64_t t0;
    ask_id(fd, id, cap);
    t0 = now_us();
    CLI_SEND(fd, cmd);
    expect_reset(fd, cmd, STOP_WAIT_MS);
    fprintf(stderr, "%.*s: reset after %.1f ms\n", (int)strcspn(cmd, "\n"),
            cmd, (double)(now_us() - t0) / 1000.0);
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
                 file_line(FIXTURE("rt_budget.lua"), marker));
    else
        snprintf(where, sizeof where, "rt_budget.lua:");
    expect_entries(log, "error", head, where, 1);
    expect_entries(log, "error", head, "stack traceback", 1);
}

void rt_budget_loop(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    others o;
    char id[32];
    char *log;

    others_start(&o, s, 0xb7);
    stopped_by(s, "LOOP\n", id, sizeof id);
    others_finish(&o);
    ASSERT(server_alive(s));
    /* and a new connection is served as usual */
    assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);

    server_stop(s);
    log = server_log(s);
    expect_stop_entry(log, id, "on_data", "-- runaway: on_data");
    expect_entries(log, "error", NULL, NULL, 1); /* the victim only */
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
    server_stop(s);
    log = server_log(s);
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
    assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    server_stop(s);
    log = server_log(s);
    expect_stop_entry(log, id, "on_data", NULL);
    expect_entries(log, "error", NULL, NULL, 1);
    free(log);
}

void rt_budget_timer(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    int fd = cli_connect_to(s, 0);
    char id[32];
    char *log;
    /* a conn:after callback is a hook call with its own budget */
    ask_id(fd, id, sizeof id);
    ask_expect(fd, "TIMER\n", "armed\n");
    expect_reset(fd, "the looping timer", STOP_WAIT_MS);
    close(fd);
    assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    server_stop(s);
    log = server_log(s);
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
    int fd = cli_connect_to(s, 0);
    fprintf(stderr, "WORK with --hook-budget %s\n", budget ? budget :
            "(default)");
    if (expect_stop) {
        CLI_SEND(fd, "WORK\n");
        expect_reset(fd, "WORK", STOP_WAIT_MS);
        close(fd);
        server_stop(s);
        return;
    }
    ask_expect(fd, "WORK\n", "500000500000\n");
    close(fd);
    server_stop_clean(s);
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

void rt_budget_pattern(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32], head[64];
    char *log;
    /* ".-.-.-.-x" over 30000 "a"s backtracks for hours in C: the matcher
     * must count its steps against the budget */
    stopped_by(s, "PATTERN\n", id, sizeof id);
    assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    server_stop(s);
    log = server_log(s);
    snprintf(head, sizeof head, "conn %s: on_data ", id);
    expect_entries(log, "error", head, "over the budget of " SMALL_BUDGET
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
    server_stop(s);
}

/* A fresh server on rt_budget.lua: cmd's hook call must end in a reset of
 * its own connection, and the server must serve the next one. */
static void stopped_then_serves(const char *cmd)
{
    it_server *s = SERVER_START(FIXTURE("rt_budget.lua"), "--hook-budget",
                                SMALL_BUDGET);
    char id[32];
    stopped_by(s, cmd, id, sizeof id);
    assert_echo_via(s, 0, "after\n", 6, "after\n", 6, IT_WAIT_MS);
    server_stop(s);
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

/* ---- the memory cap ----------------------------------------------------- */

static long heap_kib(const it_server *s)
{
    char line[64];
    int fd = cli_connect_to(s, 0);
    char *end;
    long kib;
    ask(fd, "COUNT\n", line, sizeof line);
    close(fd);
    kib = strtol(line, &end, 10);
    ASSERT(end != line && *end == '\n');
    return kib;
}

static void bomb(const it_server *s, const char *cmd, char *id, size_t cap)
{
    int fd = cli_connect_to(s, 0);
    int64_t t0;
    ask_id(fd, id, cap);
    t0 = now_us();
    CLI_SEND(fd, cmd);
    expect_reset(fd, cmd, IT_WAIT_MS);
    fprintf(stderr, "%.*s: reset after %.1f ms\n", (int)strcspn(cmd, "\n"),
            cmd, (double)(now_us() - t0) / 1000.0);
    close(fd);
}

void rt_memory_bomb(void)
{
    static const char nomem[] = "on_data failed: not enough memory (the "
        "script's state is capped at 32 MiB by --lua-memory)";
    it_server *s = SERVER_START(FIXTURE("rt_memory.lua"), "--lua-memory",
                                "32");
    char id_table[32], id_rep[32], want[200];
    long before, after;
    others o;
    char *log;

    before = heap_kib(s);
    others_start(&o, s, 0x3e);
    bomb(s, "TABLE\n", id_table, sizeof id_table);
    others_finish(&o);
    bomb(s, "REP\n", id_rep, sizeof id_rep);
    ASSERT(server_alive(s));

    /* the bombs' memory was given back: the heap is near its start */
    after = heap_kib(s);
    fprintf(stderr, "Lua heap: %ld KiB before the bombs, %ld KiB after\n",
            before, after);
    ASSERT_LT(after, 2048);

    server_stop(s); /* exit 0: Lua's panic handler would have aborted */
    log = server_log(s);
    snprintf(want, sizeof want, "conn %s: %s", id_table, nomem);
    expect_entries(log, "error", want, NULL, 1);
    snprintf(want, sizeof want, "conn %s: %s", id_rep, nomem);
    expect_entries(log, "error", want, NULL, 1);
    expect_entries(log, "error", NULL, NULL, 2);
    expect_entries(log, NULL, "panic", NULL, 0);
    free(log);
}

/* ---- the sandbox -------------------------------------------------------- */

/* What the server wrote on stdout after its readiness lines, once it has
 * exited. */
static size_t stdout_rest(it_server *s, char *buf, size_t cap)
{
    size_t n = s->line_len < cap - 1 ? s->line_len : cap - 1;
    memcpy(buf, s->line, n);
    for (int i = 0; i < 1000 && n < cap - 1; i++) {
        ssize_t got = read(s->out_fd, buf + n, cap - 1 - n);
        if (got > 0)
            n += (size_t)got;
        else if (got == 0 || errno != EINTR)
            break; /* EOF: the server is gone, so is its stdout */
    }
    buf[n] = '\0';
    return n;
}

void rt_sandbox(void)
{
    static const char expect[] =
        "io=nil\n"
        "debug=nil\n"
        "loadfile=nil\n"
        "dofile=nil\n"
        "os.execute=nil\n"
        "os.exit=nil\n"
        "os.getenv=nil\n"
        "os.remove=nil\n"
        "os.rename=nil\n"
        "os.setlocale=nil\n"
        "os.tmpname=nil\n"
        "os.time=function\n"
        "os.clock=function\n"
        "os.date=function\n"
        "package.loadlib=nil\n"
        "package.cpath=empty\n"
        "require(C)=not found\n"
        "load(binary)=attempt to load a binary chunk (mode is 't')\n"
        "load(binary, b)=load: binary chunks are not allowed (run with "
        "--unsafe to allow them)\n"
        "load(binary, bt)=load: binary chunks are not allowed (run with "
        "--unsafe to allow them)\n"
        "load(text)=42\n"
        "load(text, env)=env\n";
    it_server *s = SERVER_START(FIXTURE("rt_sandbox.lua"));
    char out[4096];
    char *log;

    exchange(s, "REPORT\n", out, sizeof out);
    ASSERT_MEM_EQ(out, strlen(out), expect, strlen(expect));
    /* require of a Lua module beside the script, loaded as text */
    exchange(s, "REQUIRE\n", out, sizeof out);
    ASSERT_STR_EQ(out, "require(lua)=42\n");
    exchange(s, "PRINT\n", out, sizeof out);
    ASSERT_STR_EQ(out, "printed\n");

    server_stop_clean(s);
    /* print() went to the log, and nothing at all to stdout */
    log = server_log(s);
    expect_entries(log, "info", "rt-sandbox-print-marker\t42", NULL, 1);
    expect_entries(log, "trace", NULL, NULL, 0); /* no --trace, no trace */
    free(log);
    ASSERT_EQ(stdout_rest(s, out, sizeof out), 0);
}

void rt_sandbox_unsafe(void)
{
    static const char *const lines[] = {
        "io=table\n", "debug=table\n", "loadfile=function\n",
        "dofile=function\n", "os.execute=function\n", "os.exit=function\n",
        "os.getenv=function\n", "os.remove=function\n",
        "os.setlocale=function\n", "os.tmpname=function\n",
        "package.loadlib=function\n", "package.cpath=set\n",
        "require(C)=tried to load\n", "load(binary)=loaded\n",
        "load(binary, b)=loaded\n", "load(text)=42\n",
    };
    it_server *s = SERVER_START(FIXTURE("rt_sandbox.lua"), "--unsafe");
    char out[4096];
    exchange(s, "REPORT\n", out, sizeof out);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (strstr(out, lines[i]) == NULL)
            TEST_FAIL("--unsafe: no line \"%.*s\" in the report:\n%s",
                      (int)strlen(lines[i]) - 1, lines[i], out);
    server_stop_clean(s);
}

/* ---- globals and hook names --------------------------------------------- */

void rt_undefined_global(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_globals.lua"));
    int a = cli_connect_to(s, 0), b, fd;
    char where[64];
    char *log;
    it_run r;

    /* setting globals works, at the top level and in a hook; the state's
     * globals are shared by its connections */
    ask_expect(a, "GET\n", "hello from the top level; last_set=nil\n");
    ask_expect(a, "SET abc\n", "set\n");
    b = cli_connect_to(s, 0);
    ask_expect(b, "GET\n", "hello from the top level; last_set=abc\n");
    close(a);
    close(b);

    /* reading one that was never set raises, naming it */
    fd = cli_connect_to(s, 0);
    CLI_SEND(fd, "TYPO\n");
    expect_reset(fd, "TYPO", IT_WAIT_MS);
    close(fd);
    server_stop(s);
    log = server_log(s);
    snprintf(where, sizeof where, "rt_globals.lua:%d: ",
             file_line(FIXTURE("rt_globals.lua"), "undefined_thing)"));
    expect_entries(log, "error", "on_data failed: ", where, 1);
    expect_entries(log, "error", "undefined global 'undefined_thing'",
                   "stack traceback", 1);
    expect_entries(log, "error", NULL, NULL, 1);
    free(log);

    /* at the top level it stops the script from loading */
    RUN(&r, "--listen", "127.0.0.1:0", FIXTURE("rt_undefined_top.lua"));
    assert_run_error(&r, 3, "rt_undefined_top.lua:3: undefined global "
                     "'undefined_at_top'");
    run_free(&r);
}

void rt_hook_typo(void)
{
    it_server *s;
    char *log;
    it_run r;

    RUN(&r, "--check", FIXTURE("rt_typo.lua"));
    if (r.code != 0 || strcmp(r.out, "hooks: on_close\n") != 0 ||
        strstr(r.err, "global function on_dat is not a hook") == NULL)
        TEST_FAIL("--check rt_typo.lua: exit %d, stdout \"%s\", stderr:\n%s",
                  r.code, r.out, r.err);
    ASSERT(strstr(r.err, "warn") != NULL);
    ASSERT(strstr(r.err, "on_close is not") == NULL);
    run_free(&r);

    /* the server starts with it, warns once, and echoes in C */
    s = SERVER_START(FIXTURE("rt_typo.lua"));
    ASSERT_ECHO(s, "typo\n", 5);
    server_stop_clean(s);
    log = server_log(s);
    expect_entries(log, "warn", "on_dat is not a hook", NULL, 1);
    expect_entries(log, NULL, "is not a hook", NULL, 1);
    free(log);
}

/* ---- the ricochet table ------------------------------------------------- */

void rt_api_log(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"));
    int fd = cli_connect_to(s, 0);
    char id[32], want[96];
    char *log;
    ask_id(fd, id, sizeof id);
    ask_expect(fd, "LOG\n", "logged\n");
    close(fd);
    server_stop_clean(s);
    log = server_log(s);
    /* one line, at the level asked, tagged with the connection */
    snprintf(want, sizeof want, "conn %s: rt-api-log-marker\t1", id);
    expect_entries(log, "warn", want, NULL, 1);
    expect_entries(log, NULL, "rt-api-log-marker", NULL, 1);
    free(log);
}

void rt_api_now(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"));
    int fd = cli_connect_to(s, 0);
    char line[96], type0[16], type1[16];
    long elapsed;
    int64_t t0 = now_us(), real_ms;

    /* an integer of milliseconds, 100 of which pass for conn:after(100) */
    ask(fd, "NOW\n", line, sizeof line);
    real_ms = (now_us() - t0) / 1000;
    if (sscanf(line, "%15s %15s %ld", type0, type1, &elapsed) != 3)
        TEST_FAIL("unexpected NOW reply \"%s\"", line);
    fprintf(stderr, "ricochet.now() advanced %ld ms (%jd ms real)\n",
            elapsed, (intmax_t)real_ms);
    ASSERT_STR_EQ(type0, "integer");
    ASSERT_STR_EQ(type1, "integer");
    ASSERT_GE(elapsed, 100);
    ASSERT_LE(elapsed, real_ms + 2);
    close(fd);
    server_stop_clean(s);
}

/* Two RANDOM lines from a fresh server started with --seed seed. */
static void random_lines(const char *seed, char *first, char *second,
                         size_t cap)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"), "--seed", seed);
    int fd = cli_connect_to(s, 0);
    ask(fd, "RANDOM\n", first, cap);
    ask(fd, "RANDOM\n", second, cap);
    close(fd);
    server_stop_clean(s);
}

/* Check a RANDOM line's ranges; *math_part points at math.random's part. */
static void check_random_line(const char *line, const char **math_part)
{
    double v[9];
    const char *p = line;
    for (int i = 0; i < 9; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p)
            TEST_FAIL("unexpected RANDOM reply \"%s\"", line);
        if (i == 6)
            *math_part = p;
        p = end;
    }
    ASSERT_STR_EQ(p, "\n");
    for (int i = 0; i < 4; i++)
        ASSERT(v[i] >= 1 && v[i] <= 1e9 && v[i] == (double)(long)v[i]);
    ASSERT(v[4] >= 1 && v[4] <= 6 && v[4] == (double)(long)v[4]);
    ASSERT(v[5] >= 0 && v[5] < 1);
    for (int i = 6; i < 9; i++)
        ASSERT(v[i] >= 1 && v[i] <= 1e9 && v[i] == (double)(long)v[i]);
}

void rt_api_random(void)
{
    char a1[256], a2[256], b1[256], b2[256], c1[256], c2[256];
    const char *ma, *mb, *mc, *dummy;
    random_lines("42", a1, a2, sizeof a1);
    random_lines("42", b1, b2, sizeof b1);
    random_lines("43", c1, c2, sizeof c1);
    fprintf(stderr, "--seed 42: %s--seed 43: %s", a1, c1);
    check_random_line(a1, &ma);
    check_random_line(a2, &dummy);
    check_random_line(b1, &mb);
    check_random_line(c1, &mc);
    /* the same seed, the same draws (ricochet.random and math.random) */
    ASSERT_STR_EQ(a1, b1);
    ASSERT_STR_EQ(a2, b2);
    ASSERT(strcmp(a1, a2) != 0); /* and they do advance */
    /* another seed, other draws, math.random's included */
    ASSERT(strcmp(a1, c1) != 0);
    ASSERT(strcmp(ma, mc) != 0);
    (void)mb;
}

void rt_api_args(void)
{
    char script[4096], expect[4400], out[4400];
    const char *version;
    it_server *s;
    snprintf(script, sizeof script, "%s", FIXTURE("rt_api.lua"));
    s = SERVER_START(script, "--", "key=value", "flag", "empty=");
    exchange(s, "INFO\n", out, sizeof out);
    server_stop_clean(s);
    /* a flag reads "true"; an empty value is kept */
    snprintf(expect, sizeof expect, "args: empty= flag=true key=value\n"
             "script: %s\nversion: ", script);
    version = out + strlen(expect);
    ASSERT_MEM_EQ(out, strlen(expect) <= strlen(out) ? strlen(expect)
                  : strlen(out), expect, strlen(expect));
#ifdef RICOCHET_IT_VERSION
    ASSERT_STR_EQ(version, RICOCHET_IT_VERSION "\n");
#else
    ASSERT(strlen(version) > 1 && version[strlen(version) - 1] == '\n');
#endif
}

/* ---- reload ------------------------------------------------------------- */

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
    server_signal(s, SIGHUP);
    seen = server_wait_log_count(s, level, needle, nth, IT_WAIT_MS);
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
    a = cli_connect_to(s, 0);
    ask_expect(a, "a\n", "v1:a\n");

    /* a good edit: A finishes on v1, a new connection gets v2 */
    tagged_script(path, "v2", 0);
    hup_and_wait(s, "info", loaded, 1);
    ask_expect(a, "b\n", "v1:b\n");
    b = cli_connect_to(s, 0);
    ask_expect(b, "c\n", "v2:c\n");

    /* a broken edit (no "end") changes nothing; the log has file:line */
    write_file(path, "function on_data(conn, data)\n"
                     "    return \"v3:\" .. data\n");
    hup_and_wait(s, "error", failed, 1);
    c = cli_connect_to(s, 0);
    ask_expect(c, "d\n", "v2:d\n");
    ask_expect(a, "e\n", "v1:e\n");
    close(c);

    /* so does one whose top level fails */
    write_file(path, "error(\"broken top level\")\n");
    hup_and_wait(s, "error", failed, 2);
    c = cli_connect_to(s, 0);
    ask_expect(c, "f\n", "v2:f\n");
    ask_expect(b, "g\n", "v2:g\n");
    close(a);
    close(b);
    close(c);

    server_stop(s);
    log = server_log(s);
    expect_entries(log, "info", loaded, NULL, 1);
    expect_entries(log, "error", failed, "script.lua:3: 'end' expected", 1);
    expect_entries(log, "error", failed, "script.lua:1: broken top level",
                   1);
    expect_entries(log, "error", NULL, NULL, 2);
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
    exchange(s, "VERSION?\n", out, sizeof out);
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
            payloads[njobs] = rng_payload(0x4e10 + (uint64_t)v, payload_len);
            job_init(&jobs[njobs], cli_connect_to(s, 0), payloads[njobs],
                     payload_len, 1);
            jobs[njobs].send_limit = 0;
            njobs++;
        }
        for (int i = 0; i < njobs; i++) {
            size_t next = jobs[i].send_limit + payload_len / (RELOADS + 2);
            jobs[i].send_limit = next < payload_len ? next : payload_len - 1;
        }
        ASSERT_EQ(drive(jobs, (size_t)njobs, IT_WAIT_MS, half_echoed),
                  njobs);
    }

    /* every old state is closed but those of the long-lived connections;
     * then those end, byte-exact, and their states go too: 0 .. 19 */
    log = server_log(s);
    seen = log_count(log, "debug", state_closed, NULL);
    free(log);
    ASSERT_EQ(seen, RELOADS - LONG_LIVED);
    for (int i = 0; i < njobs; i++)
        jobs[i].send_limit = payload_len;
    ASSERT_EQ(drive(jobs, (size_t)njobs, IT_WAIT_MS, NULL), njobs);
    for (int i = 0; i < njobs; i++) {
        assert_job_echo(&jobs[i], (size_t)i);
        job_free(&jobs[i]);
        free(payloads[i]);
    }
    seen = server_wait_log_count(s, "debug", state_closed, RELOADS,
                                 IT_WAIT_MS);
    ASSERT_EQ(seen, RELOADS);

    /* Each state holds 1 MiB. The heap has grown to hold the most states
     * alive at once (6); 20 more reloads reuse it. Had the 20 states not
     * been freed, RSS would grow by 20 MiB and more. */
    rss_after_20 = server_status_kb(s, "VmRSS");
    for (int v = RELOADS + 1; v <= 2 * RELOADS; v++)
        reload_to(s, path, v);
    seen = server_wait_log_count(s, "debug", state_closed, 2 * RELOADS,
                                 IT_WAIT_MS);
    ASSERT_EQ(seen, 2 * RELOADS);
    rss_after_40 = server_status_kb(s, "VmRSS");
    fprintf(stderr, "RSS: %ld kB after %d reloads, %ld kB after %d\n",
            rss_after_20, RELOADS, rss_after_40, 2 * RELOADS);
#ifndef RICOCHET_IT_SANITIZED
    if (rss_after_20 > 0 && rss_after_40 > 0)
        ASSERT_LE(rss_after_40 - rss_after_20, 4 * 1024);
#endif

    server_stop_clean(s);
    /* and the running one at the stop */
    log = server_log(s);
    expect_entries(log, "debug", state_closed, NULL, 2 * RELOADS + 1);
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
    a = cli_connect_to(s, 0);
    ask_expect(a, "a\n", "v1:a\n");

    /* saved the way editors do: a new file renamed over the old one */
    tagged_script(path, "v2", 1);
    seen = server_wait_log_count(s, "info", loaded, 1, IT_WAIT_MS);
    ASSERT_EQ(seen, 1);
    b = cli_connect_to(s, 0);
    ask_expect(b, "b\n", "v2:b\n");
    ask_expect(a, "c\n", "v1:c\n");
    close(a);
    close(b);
    server_stop_clean(s);
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
    server_signal(s, SIGHUP);
    fd = cli_connect_to(s, 0);
    CLI_SEND(fd, "a\n");
    cli_recv_line(fd, line, sizeof line, STOP_WAIT_MS);
    if (strcmp(line, "v1:a\n") != 0)
        TEST_FAIL("the server did not answer within %d ms of a reload of a "
                  "script whose top level loops (got \"%s\")", STOP_WAIT_MS,
                  line);
    ASSERT(server_wait_log(s, "reload (SIGHUP) failed", IT_WAIT_MS));
    close(fd);
    server_stop(s);
    tmp_cleanup();
}

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
    expect_entries(log, "trace", needle, needle2, want);
}

/* Run a client against s: "hello", "world!", FIN; returns its address. */
static void trace_client(const it_server *s, char *local, size_t cap,
                         const char *bye)
{
    int fd = cli_connect_to(s, 0);
    unsigned char *in = NULL;
    char buf[16];
    size_t n = 0;
    cli_local_name(fd, local, cap);
    CLI_SEND(fd, "hello");
    ASSERT_EQ(cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
    ASSERT_MEM_EQ(buf, 5, "HELLO", 5);
    CLI_SEND(fd, "world!");
    ASSERT_EQ(cli_recv_n(fd, buf, 6, IT_WAIT_MS), 6);
    ASSERT_MEM_EQ(buf, 6, "WORLD!", 6);
    cli_shut_wr(fd);
    ASSERT_EQ(cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
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
    log = server_log(s);
    conn_id_from_log(log, local, id, sizeof id);
    free(log);
    snprintf(closed, sizeof closed, "conn %s: closed, done", id);
    ASSERT(server_wait_log(s, closed, IT_WAIT_MS));

    log = server_log(s);
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
    expect_entries(log, NULL, closed, local, 1);
    free(log);
    server_stop_clean(s);
}

void rt_trace_hexdump(void)
{
    it_server *s = SERVER_START(SCRIPT("upper.lua"), "--hexdump");
    int fd = cli_connect_to(s, 0);
    char local[128], id[32], buf[8];
    unsigned char *in = NULL;
    size_t n = 0;
    char *log;

    cli_local_name(fd, local, sizeof local);
    CLI_SEND(fd, "hello");
    ASSERT_EQ(cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
    cli_shut_wr(fd);
    ASSERT_EQ(cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    free(in);
    close(fd);
    server_stop_clean(s);

    log = server_log(s);
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
    int fd = cli_connect_to(s, 0);
    char local[128], id[32], want[64];
    char *log;

    cli_local_name(fd, local, sizeof local);
    CLI_SEND(fd, "RESET\n");
    expect_reset(fd, "RESET", IT_WAIT_MS);
    close(fd);
    log = server_log(s);
    conn_id_from_log(log, local, id, sizeof id);
    free(log);
    snprintf(want, sizeof want, "conn %s: RST sent, reset after ", id);
    ASSERT(server_wait_log(s, want, IT_WAIT_MS));
    server_stop_clean(s);
    log = server_log(s);
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
    run_free(&r);
    /* a transcript that does not exist is a usage error */
    RUN(&r, "--simulate", it_path("tests/it/sim/no_such.sim"),
        SCRIPT("echo.lua"));
    assert_run_error(&r, 2, "no_such.sim");
    run_free(&r);
}
