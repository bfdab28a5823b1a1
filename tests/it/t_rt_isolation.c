/* t_rt_isolation.c -- the script runtime seen from outside (issue 11): a
 * script cannot reach or change the metatables the server made, so it
 * cannot plant a finalizer (which would run outside every limit and hang
 * the worker and its stop). */
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

void rt_isolation_metatables(void)
{
    static const char expect[] =
        "getmetatable(conn)=protected\n"
        "getmetatable('')=protected\n"
        "getmetatable(_G)=protected\n"
        "conn mt.__gc=error: attempt to index a string value (local "
        "'mt')\n"
        "rawset(conn mt)=error: bad argument #1 to 'rawset' (table "
        "expected, got string)\n"
        "setmetatable(conn mt)=error: bad argument #1 to 'setmetatable' "
        "(table expected, got string)\n"
        "setmetatable(conn)=error: cannot change a protected metatable\n"
        "conn mt.__index=error: attempt to index a string value (local "
        "'mt')\n"
        "string mt.__gc=error: attempt to index a string value (local "
        "'smt')\n"
        "rawset(string mt)=error: bad argument #1 to 'rawset' (table "
        "expected, got string)\n"
        "setmetatable(t, string mt)=error: bad argument #2 to "
        "'setmetatable' (nil or table expected, got string)\n"
        "_G mt.__gc=error: attempt to index a string value (local 'gmt')\n"
        "setmetatable(_G)=error: cannot change a protected metatable\n"
        "setmetatable(t, {__gc})=error: setmetatable: __gc is not allowed "
        "(a finalizer runs outside the hook budget; --unsafe allows it)\n";
    it_server *s = SERVER_START(FIXTURE("rt_isolation.lua"));
    char out[4096];
    int fd;

    it_rt_exchange(s, "ATTACK\n", out, sizeof out);
    ASSERT_MEM_EQ(out, strlen(out), expect, strlen(expect));

    /* Connections made after the attack get their `conn` (with the shared
     * metatable), close, and are collected: a finalizer planted there
     * would loop with no budget, and COLLECT would never answer. */
    for (int i = 0; i < 5; i++) {
        fd = it_cli_connect_to(s, 0);
        it_rt_ask_expect(fd, "after the attack\n", "after the attack\n");
        close(fd);
    }
    fd = it_cli_connect_to(s, 0);
    it_rt_ask_expect(fd, "COLLECT\n", "collected\n");
    close(fd);
    ASSERT_ECHO(s, "still served\n", 13);
    /* and the stop (lua_close runs every pending finalizer) ends at once */
    it_server_stop_clean(s);
}

void rt_traceback_many_globals(void)
{
    /* A failing hook's traceback names each level's function. Lua's own
     * searched every global for it, at every level: with a million
     * globals one failing hook held the worker for 18 s, outside every
     * limit (half a million: 9 s). The growing takes its time under a
     * sanitizer: the time limit is not what this case is about. */
    it_server *s = SERVER_START(FIXTURE("rt_traceback.lua"),
                                "--hook-timeout", "10000");
    char id[32], want[64], head[64];
    char *log;
    int64_t t0, ms;
    int fd = it_cli_connect_to(s, 0);
    for (int i = 1; i <= 10; i++) {
        snprintf(want, sizeof want, "globals %d\n", i * 50000);
        it_rt_ask_expect(fd, "GROW\n", want);
    }
    it_rt_ask_id(fd, id, sizeof id);
    t0 = it_clock_now_us();
    CLI_SEND(fd, "FAIL\n");
    /* well within a second (--hook-timeout's default: what no hook call
     * may hold the worker for); the search took seconds */
    it_rt_expect_reset(fd, "FAIL", 1000);
    ms = (it_clock_now_us() - t0) / 1000;
    fprintf(stderr, "the failing hook's connection was reset after %lld "
            "ms\n", (long long)ms);
    close(fd);
    ASSERT_ECHO(s, "still served\n", 13);
    it_server_stop(s);
    log = it_log_read(s);
    snprintf(head, sizeof head, "conn %s: on_data failed: ", id);
    it_rt_expect_entries(log, "error", head, "failed deep down", 1);
    it_rt_expect_entries(log, "error", head, "(skipping 12 levels)", 1);
    free(log);
}
