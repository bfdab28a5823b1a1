/* lbudget.c -- the instruction budget: the count hook, the pattern
 * matcher's charge, and the wrappers that keep coroutines and xpcall
 * handlers under it. */
#include "lbudget.h"

#include <lauxlib.h>
#include <lualib.h>

#include "lpattern.h"
#include "lsandbox.h"

/* The budget is counted in ticks: the count hook fires every BUDGET_TICK
 * instructions on every thread and adds them to one total per call. */
#define BUDGET_TICK 1000

lbudget *lbudget_of(lua_State *L)
{
    return *(lbudget **)lua_getextraspace(L);
}

static int tick(const lbudget *b)
{
    return b->limit < BUDGET_TICK ? (int)b->limit : BUDGET_TICK;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Over budget: from now on every instruction of this thread and of the
 * main one raises, until the call returns to C. */
static void trip(lbudget *b, lua_State *L)
{
    b->over = 1;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    if (L != b->main)
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, 1);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    lbudget *b = lbudget_of(L);
    if (!b->over) {
        b->spent += (uint64_t)tick(b);
        if (b->spent <= b->limit)
            return;
        trip(b, L);
    }
    lua_getinfo(L, "Sl", ar);
    lua_pushfstring(L, "stopped: over the budget of %I instructions (at "
                    "%s:%d)", (lua_Integer)b->limit, ar->short_src,
                    ar->currentline);
    lua_error(L);
}

void lbudget_install(lua_State *L, lbudget *b, uint64_t limit)
{
    b->main = L;
    b->limit = limit;
    b->spent = 0;
    b->over = 0;
    *(lbudget **)lua_getextraspace(L) = b;
    if (limit)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, tick(b));
}

/* The count hook stays set between calls (no Lua runs there), so a call
 * costs no lua_sethook unless the last one tripped; the count it carries
 * over is at most one tick. */
void lbudget_arm(lbudget *b)
{
    if (b->over)
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, tick(b));
    b->over = 0;
    b->spent = 0;
}

/* Pattern matching runs in C, where the count hook never fires: its steps
 * are counted against the same budget, and a runaway match is stopped the
 * same way. */
static void charge(lua_State *L, unsigned long steps, void *ud)
{
    lbudget *b = ud;
    b->spent += steps;
    if (b->limit == 0 || (b->spent <= b->limit && !b->over))
        return;
    if (!b->over)
        trip(b, L);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) &&
        ar.currentline > 0)
        lua_pushfstring(L, "stopped: over the budget of %I instructions "
                        "(in a pattern match at %s:%d)", (lua_Integer)b->limit,
                        ar.short_src, ar.currentline);
    else
        lua_pushfstring(L, "stopped: over the budget of %I instructions "
                        "(in a pattern match)", (lua_Integer)b->limit);
    lua_error(L);
}

/* A coroutine has its own hook: set it on every resume, so what runs in
 * coroutines counts against the same total, and refuse to resume once the
 * call is over budget. */
static int l_resume(lua_State *L)
{
    lbudget *b = lbudget_of(L);
    lua_State *co = lua_tothread(L, 1);
    if (b->over)
        return luaL_error(L, "stopped: over the budget of %I instructions",
                          (lua_Integer)b->limit);
    if (co != NULL && b->limit)
        lua_sethook(co, count_hook, LUA_MASKCOUNT, tick(b));
    lua_pushvalue(L, lua_upvalueindex(1));   /* args... resume */
    lua_insert(L, 1);                        /* resume args... */
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* The message handler given to xpcall runs where the error was raised; for
 * the budget's stop that is inside the count hook, where hooks are off, so
 * a handler that loops would never be stopped. Once over budget the
 * script's handler is skipped and the error passes through as it is. */
static int l_xpcall_handler(lua_State *L)
{
    if (lbudget_of(L)->over)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));   /* err... handler */
    lua_insert(L, 1);                        /* handler err... */
    lua_call(L, lua_gettop(L) - 1, 1);       /* result */
    return 1;
}

static int l_xpcall(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);                     /* f h args... h */
    lua_pushcclosure(L, l_xpcall_handler, 1);
    lua_replace(L, 2);                       /* f wrapped args... */
    lua_pushvalue(L, lua_upvalueindex(1));   /* f wrapped args... xpcall */
    lua_insert(L, 1);                        /* xpcall f wrapped args... */
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* coroutine.wrap over the budgeted coroutine.resume; errors propagate as
 * the stock wrap's do. */
static const char wrap_source[] =
    "local create, resume, pack, unpack, error = coroutine.create, "
    "coroutine.resume, table.pack, table.unpack, error\n"
    "coroutine.wrap = function(f)\n"
    "  local co = create(f)\n"
    "  return function(...)\n"
    "    local r = pack(resume(co, ...))\n"
    "    if r[1] then return unpack(r, 2, r.n) end\n"
    "    error(r[2], 0)\n"
    "  end\n"
    "end\n";

void lbudget_open(lua_State *L)
{
    lsandbox_wrap(L, "xpcall", l_xpcall);
    lua_getglobal(L, LUA_STRLIBNAME);                 /* string */
    lpattern_install(L, -1, charge, lbudget_of(L));
    lua_pop(L, 1);                                    /* */
    lua_getglobal(L, LUA_COLIBNAME);                  /* co */
    lua_getfield(L, -1, "resume");                    /* co resume */
    lua_pushcclosure(L, l_resume, 1);                 /* co l_resume */
    lua_setfield(L, -2, "resume");                    /* co */
    lua_pop(L, 1);                                    /* */
    /* wrap through that resume, so wrapped coroutines are budgeted too */
    if (luaL_loadstring(L, wrap_source) != LUA_OK)    /* chunk|msg */
        lua_error(L);
    lua_call(L, 0, 0);                                /* */
}
