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
        "setmetatable(conn)=error: bad argument #1 to 'setmetatable' "
        "(table expected, got conn)\n"
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
