/* t_rt_sandbox.c -- the script runtime seen from outside (issue 3): what
 * confines a script. The memory cap, the sandbox (and --unsafe),
 * undefined globals and misspelt hook names. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

/* ---- the memory cap ----------------------------------------------------- */

static long heap_kib(const it_server *s)
{
    char line[64];
    int fd = it_cli_connect_to(s, 0);
    char *end;
    long kib;
    it_rt_ask(fd, "COUNT\n", line, sizeof line);
    close(fd);
    kib = strtol(line, &end, 10);
    ASSERT(end != line && *end == '\n');
    return kib;
}

static void bomb(const it_server *s, const char *cmd, char *id, size_t cap)
{
    int fd = it_cli_connect_to(s, 0);
    int64_t t0;
    it_rt_ask_id(fd, id, cap);
    t0 = it_clock_now_us();
    CLI_SEND(fd, cmd);
    it_rt_expect_reset(fd, cmd, IT_WAIT_MS);
    fprintf(stderr, "%.*s: reset after %.1f ms\n", (int)strcspn(cmd, "\n"),
            cmd, (double)(it_clock_now_us() - t0) / 1000.0);
    close(fd);
}

void rt_memory_bomb(void)
{
    static const char nomem[] = "on_data failed: not enough memory (the "
        "script's state is capped at 32 MiB by --lua-memory)";
    it_server *s = SERVER_START(FIXTURE("rt_memory.lua"), "--lua-memory",
                                "32");
    char id_table[32], id_rep[32], id_create[32], want[200];
    long before, after;
    it_rt_others o;
    char *log;

    before = heap_kib(s);
    it_rt_others_start(&o, s, 0x3e);
    bomb(s, "TABLE\n", id_table, sizeof id_table);
    it_rt_others_finish(&o);
    bomb(s, "REP\n", id_rep, sizeof id_rep);
    bomb(s, "CREATE\n", id_create, sizeof id_create);
    ASSERT(it_server_alive(s));

    /* the bombs' memory was given back: the heap is near its start */
    after = heap_kib(s);
    fprintf(stderr, "Lua heap: %ld KiB before the bombs, %ld KiB after\n",
            before, after);
    ASSERT_LT(after, 2048);

    it_server_stop(s); /* exit 0: Lua's panic handler would have aborted */
    log = it_log_read(s);
    snprintf(want, sizeof want, "conn %s: %s", id_table, nomem);
    it_rt_expect_entries(log, "error", want, NULL, 1);
    snprintf(want, sizeof want, "conn %s: %s", id_rep, nomem);
    it_rt_expect_entries(log, "error", want, NULL, 1);
    snprintf(want, sizeof want, "conn %s: %s", id_create, nomem);
    it_rt_expect_entries(log, "error", want, NULL, 1);
    it_rt_expect_entries(log, "error", NULL, NULL, 3);
    it_rt_expect_entries(log, NULL, "panic", NULL, 0);
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
        "package.searchpath=nil\n"
        "require(package.path elsewhere)=not found\n"
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

    it_rt_exchange(s, "REPORT\n", out, sizeof out);
    ASSERT_MEM_EQ(out, strlen(out), expect, strlen(expect));
    /* require of a Lua module beside the script, loaded as text */
    it_rt_exchange(s, "REQUIRE\n", out, sizeof out);
    ASSERT_STR_EQ(out, "require(lua)=42\n");
    it_rt_exchange(s, "PRINT\n", out, sizeof out);
    ASSERT_STR_EQ(out, "printed\n");

    it_server_stop_clean(s);
    /* print() went to the log, and nothing at all to stdout */
    log = it_log_read(s);
    it_rt_expect_entries(log, "info", "rt-sandbox-print-marker\t42", NULL, 1);
    /* no --trace, no trace */
    it_rt_expect_entries(log, "trace", NULL, NULL, 0);
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
    it_rt_exchange(s, "REPORT\n", out, sizeof out);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (strstr(out, lines[i]) == NULL)
            TEST_FAIL("--unsafe: no line \"%.*s\" in the report:\n%s",
                      (int)strlen(lines[i]) - 1, lines[i], out);
    it_server_stop_clean(s);
}

/* ---- globals and hook names --------------------------------------------- */

void rt_undefined_global(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_globals.lua"));
    int a = it_cli_connect_to(s, 0), b, fd;
    char where[64];
    char *log;
    it_run r;

    /* setting globals works, at the top level and in a hook; the state's
     * globals are shared by its connections */
    it_rt_ask_expect(a, "GET\n", "hello from the top level; last_set=nil\n");
    it_rt_ask_expect(a, "SET abc\n", "set\n");
    b = it_cli_connect_to(s, 0);
    it_rt_ask_expect(b, "GET\n", "hello from the top level; last_set=abc\n");
    close(a);
    close(b);

    /* reading one that was never set raises, naming it */
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "TYPO\n");
    it_rt_expect_reset(fd, "TYPO", IT_WAIT_MS);
    close(fd);
    it_server_stop(s);
    log = it_log_read(s);
    snprintf(where, sizeof where, "rt_globals.lua:%d: ",
             it_rt_file_line(FIXTURE("rt_globals.lua"), "undefined_thing)"));
    it_rt_expect_entries(log, "error", "on_data failed: ", where, 1);
    it_rt_expect_entries(log, "error", "undefined global 'undefined_thing'",
                         "stack traceback", 1);
    it_rt_expect_entries(log, "error", NULL, NULL, 1);
    free(log);

    /* at the top level it stops the script from loading */
    RUN(&r, "--listen", "127.0.0.1:0", FIXTURE("rt_undefined_top.lua"));
    it_run_assert_error(&r, 3, "rt_undefined_top.lua:3: undefined global "
                        "'undefined_at_top'");
    it_run_free(&r);
}

void rt_hook_typo(void)
{
    it_server *s;
    char *log;
    it_run r;
    char want[4200];

    snprintf(want, sizeof want, "hooks: on_close\nscript: %s\n",
             FIXTURE("rt_typo.lua"));
    RUN(&r, "--check", FIXTURE("rt_typo.lua"));
    if (r.code != 0 || strcmp(r.out, want) != 0 ||
        strstr(r.err, "global function on_dat is not a hook") == NULL)
        TEST_FAIL("--check rt_typo.lua: exit %d, stdout \"%s\", stderr:\n%s",
                  r.code, r.out, r.err);
    ASSERT(strstr(r.err, "warn") != NULL);
    ASSERT(strstr(r.err, "on_close is not") == NULL);
    it_run_free(&r);

    /* the server starts with it, warns once, and echoes in C */
    s = SERVER_START(FIXTURE("rt_typo.lua"));
    ASSERT_ECHO(s, "typo\n", 5);
    it_server_stop_clean(s);
    log = it_log_read(s);
    it_rt_expect_entries(log, "warn", "on_dat is not a hook", NULL, 1);
    it_rt_expect_entries(log, NULL, "is not a hook", NULL, 1);
    free(log);
}

/* require finds a module beside the script however the script's path is
 * written: on Windows (RICOCHET_IT_TARGET=windows, under Wine, whose Z:
 * drive is the Unix root) as a drive and backslashes, "Z:\...\x.lua". */
void rt_require_native_path(void)
{
    char native[4096];
    const char *path = FIXTURE("rt_sandbox.lua");
    const char *target = getenv("RICOCHET_IT_TARGET");
    if (target != NULL && strcmp(target, "windows") == 0) {
        size_t n = (size_t)snprintf(native, sizeof native, "Z:%s", path);
        ASSERT_LT(n, sizeof native);
        for (char *p = native; *p; p++)
            if (*p == '/')
                *p = '\\';
    } else {
        snprintf(native, sizeof native, "%s", path);
    }
    it_server *s = SERVER_START(native);
    char out[256];
    it_rt_exchange(s, "REQUIRE\n", out, sizeof out);
    ASSERT_STR_EQ(out, "require(lua)=42\n");
    it_server_stop_clean(s);
}
