/* lbudget.c -- the limits of a call: the count hook, the checks the
 * allocator forces, the charges of C code (the pattern matcher's among
 * them), the wall-clock ceiling, and the wrappers that keep coroutines
 * and xpcall handlers under them. */
#include "lbudget.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

#include "clock.h"
#include "interrupt.h"
#include "lpattern.h"
#include "lsandbox.h"

/* The budget is counted in ticks: the count hook fires every BUDGET_TICK
 * instructions on every thread and adds them to one total per call. With
 * a time limit every count hook reads the clock (a few nanoseconds next
 * to the thousand instructions, each of which runs Lua's hook check while
 * a count hook is set), and so does a forced check and every
 * LBUDGET_CLOCK_EVERY units charged from C (lbudget.h). */
#define BUDGET_TICK 1000
/* When the instructions between two readings took longer than this on
 * average (a thousand times what an instruction takes: comparing long
 * strings, moving huge vararg lists), the next check comes after as many
 * as should take CHECK_EVERY_US, down to every instruction. */
#define SLOW_INSTRUCTION_NS 2000
#define CHECK_EVERY_US 1000
/* Past this heap, the tick shrinks in proportion (down to 1000 * 4 MiB /
 * 256 MiB, 16 instructions): an instruction's worst case (those above)
 * grows with the heap, and a tick of them must stay well under a second
 * (a thousand compares of two 2 MiB strings take about a third). */
#define SMALL_HEAP ((uint64_t)4 << 20)
/* Bytes the allocator gives out between two forced checks. */
#define CHECK_BYTES ((uint64_t)1 << 20)

/* This thread's watch, when it has one, and the budget of the call it
 * runs (the signal handler's way to it). */
static _Thread_local interrupt_slot *thread_slot;
static _Thread_local lbudget *volatile thread_call;
static _Thread_local int thread_depth;

lbudget *lbudget_of(lua_State *L)
{
    return *(lbudget **)lua_getextraspace(L);
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Over a limit: from now on every instruction of this thread and of the
 * main one raises, until the call returns to C. */
static void trip(lbudget *b, lua_State *L, int why)
{
    b->over = why;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    if (L != b->main)
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, 1);
    b->hooked = 1;
}

/* Instructions and their equivalents spent by the running call. */
static uint64_t total(const lbudget *b)
{
    return b->spent + (b->alloc->grown - b->grown_at_arm) /
                      LBUDGET_BYTES_PER_INSTRUCTION;
}

/* Why the running call must stop now, or LBUDGET_RUNNING. Reads the clock
 * when clock_due. The time is counted from the call's first reading, so a
 * call too short to be checked never reads the clock at all. */
static int why_stop(lbudget *b, int clock_due)
{
    if (b->limit && total(b) > b->limit)
        return LBUDGET_INSTRUCTIONS;
    if (b->timeout_us && clock_due) {
        uint64_t now = clock_monotonic_us();
        b->unclocked = 0;
        b->last_interval_us = b->started_us ? now - b->clock_us : 0;
        b->clock_us = now;
        if (b->started_us == 0)
            b->started_us = now ? now : 1;
        else if (now - b->started_us > b->timeout_us)
            return LBUDGET_TIME;
    }
    return LBUDGET_RUNNING;
}

/* The count for L's next check, after ran instructions: the usual tick,
 * shorter for a big heap (SMALL_HEAP) and after slow instructions
 * (SLOW_INSTRUCTION_NS). Only the time limit needs these. */
static int next_count(const lbudget *b, int ran)
{
    if (!b->timeout_us)
        return b->tick;
    uint64_t count = (uint64_t)b->tick;
    uint64_t heap = b->alloc->used;
    if (heap > SMALL_HEAP)
        count = count * SMALL_HEAP / heap;
    uint64_t ns = b->last_interval_us * 1000;
    if (ns > (uint64_t)ran * SLOW_INSTRUCTION_NS) {
        uint64_t fit = (uint64_t)CHECK_EVERY_US * 1000 * (uint64_t)ran / ns;
        count = fit < count ? fit : count;
    }
    return count < 1 ? 1 : (int)count;
}

/* Raise the stop: its message names the limit and the place where the
 * call crossed it (kept from then on: a stop swallowed by pcall or load
 * is raised again further on, and the place is still the first one). */
static int raise_stop(lua_State *L, const lbudget *b)
{
    if (b->over == LBUDGET_TIME)
        lua_pushfstring(L, "stopped: over the time limit of %I ms "
                        "(--hook-timeout)%s",
                        (lua_Integer)(b->timeout_us / 1000), b->where);
    else
        lua_pushfstring(L, "stopped: over the budget of %I instructions%s",
                        (lua_Integer)b->limit, b->where);
    return lua_error(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    lbudget *b = lbudget_of(L);
    if (!b->over) {
        int ran = lua_gethookcount(L);  /* since the last count hook */
        b->spent += (uint64_t)ran;
        int why = why_stop(b, 1);
        if (why == LBUDGET_RUNNING) {
            /* after a forced check (count 1) or slow instructions, the
             * count changes */
            int next = next_count(b, ran);
            if (next != ran)
                lua_sethook(L, count_hook, LUA_MASKCOUNT, next);
            return;
        }
        lua_getinfo(L, "Sl", ar);
        snprintf(b->where, sizeof b->where, " (at %s:%d)", ar->short_src,
                 ar->currentline);
        trip(b, L, why);
    }
    raise_stop(L, b);
}

/* The allocator gave out CHECK_BYTES more: have the running thread (and
 * the main one, should an error have left running behind) check at its
 * next instruction, so an instruction that builds megabytes (a
 * concatenation, a library call) is not repeated a thousand times between
 * two checks. */
static void bytes_given(void *ud)
{
    lbudget *b = ud;
    b->alloc->notify_at = b->alloc->grown + CHECK_BYTES;
    lua_sethook(b->running, count_hook, LUA_MASKCOUNT, 1);
    if (b->running != b->main)
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, 1);
    b->hooked = 1;
}

void lbudget_install(lua_State *L, lbudget *b, uint64_t limit,
                     uint64_t timeout_ms, lalloc *alloc)
{
    b->main = b->running = L;
    b->alloc = alloc;
    b->limit = limit;
    b->timeout_us = timeout_ms * 1000;
    b->spent = 0;
    b->grown_at_arm = alloc->grown;
    b->started_us = 0;
    b->unclocked = 0;
    b->clock_us = 0;
    b->last_interval_us = 0;
    b->tick = limit && limit < BUDGET_TICK ? (int)limit : BUDGET_TICK;
    b->active = limit || timeout_ms;
    b->async = 0;
    b->over = LBUDGET_RUNNING;
    *(lbudget **)lua_getextraspace(L) = b;
    b->hooked = b->active;
    if (!b->active)
        return;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, b->tick);
    alloc->notify = bytes_given;
    alloc->notify_ud = b;
    alloc->notify_at = alloc->grown + CHECK_BYTES;
}

/* With the count hook, it stays set between calls (no Lua runs there),
 * so a call costs no lua_sethook unless the last one tripped; the count
 * it carries over is at most one tick. A watched call starts without it
 * and with the clock read, so the time counts from its start. */
void lbudget_arm(lbudget *b)
{
    if (thread_depth++ == 0 && thread_slot != NULL) {
        thread_call = b;
        interrupt_enter(thread_slot);
    }
    b->async = b->active && b->limit == 0 && thread_slot != NULL;
    if (b->async && b->hooked) {
        b->hooked = 0;
        lua_sethook(b->main, NULL, 0, 0);
    } else if (b->active && !b->async && (b->over || !b->hooked)) {
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, b->tick);
        b->hooked = 1;
    }
    b->over = LBUDGET_RUNNING;
    b->spent = 0;
    b->grown_at_arm = b->alloc->grown;
    b->started_us = 0;
    if (b->async) {
        b->clock_us = b->started_us = clock_monotonic_us();
        b->last_interval_us = 0;
        b->unclocked = 0;
    }
}

void lbudget_disarm(lbudget *b)
{
    (void)b;
    if (--thread_depth == 0 && thread_slot != NULL) {
        interrupt_leave(thread_slot);
        thread_call = NULL;
    }
}

void lbudget_watch_thread(int on)
{
    if (on && thread_slot == NULL) {
        thread_slot = interrupt_register();
    } else if (!on && thread_slot != NULL) {
        interrupt_unregister(thread_slot);
        thread_slot = NULL;
    }
}

void lbudget_interrupt(void)
{
    lbudget *b = thread_call;
    if (b == NULL || !b->async)
        return;
    /* lua_sethook is made to be called from a signal handler (lua.c
     * stops a script on SIGINT the same way) */
    lua_sethook(b->running, count_hook, LUA_MASKCOUNT, 1);
    if (b->running != b->main)
        lua_sethook(b->main, count_hook, LUA_MASKCOUNT, 1);
    b->hooked = 1;
}

void lbudget_exclude_us(lua_State *L, uint64_t us)
{
    lbudget *b = lbudget_of(L);
    if (b->started_us == 0)
        return; /* the clock starts at the first reading, after the wait */
    b->started_us += us;
    b->clock_us += us;
}

void lbudget_charged(lua_State *L, lbudget *b)
{
    if (!b->over) {
        int why = why_stop(b, b->unclocked >= LBUDGET_CLOCK_EVERY);
        if (why == LBUDGET_RUNNING)
            return;
        /* raised from C: the place is the nearest Lua function's */
        lua_Debug ar;
        b->where[0] = '\0';
        for (int level = 1; level < 100 && lua_getstack(L, level, &ar);
             level++) {
            if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
                snprintf(b->where, sizeof b->where, " (at %s:%d)",
                         ar.short_src, ar.currentline);
                break;
            }
        }
        trip(b, L, why);
    }
    raise_stop(L, b);
}

void lbudget_charge_steps(lua_State *L, unsigned long steps, void *ud)
{
    (void)ud;
    lbudget_charge(L, steps);
}

/* Make the thread at the top of L's stack b->running, and pop it. The
 * registry holds the running thread too, so b->running never points at
 * a collected coroutine, not even after an error unwound through
 * l_resume before it could set it back. The registry's slot exists from
 * lbudget_open on: storing into it allocates nothing and cannot raise. */
static void set_running(lua_State *L, lbudget *b)
{
    b->running = lua_tothread(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &b->running);
}

/* A coroutine has its own hook: set it on every resume, so what runs in
 * coroutines counts against the same total, and refuse to resume once the
 * call is over budget. The values moved in and out are charged (one
 * instruction each), and the coroutine is the running thread while it
 * runs (the allocator's forced checks go to it). */
static int l_resume(lua_State *L)
{
    lbudget *b = lbudget_of(L);
    lua_State *co = lua_tothread(L, 1);
    lbudget_charge(L, (uint64_t)lua_gettop(L)); /* raises once over */
    if (co != NULL && b->active) {
        if (b->async && !b->hooked)    /* as the main thread: none yet */
            lua_sethook(co, NULL, 0, 0);
        else
            lua_sethook(co, count_hook, LUA_MASKCOUNT, b->tick);
        lua_pushvalue(L, 1);                 /* co args... co */
        set_running(L, b);                   /* co args... */
    }
    lua_pushvalue(L, lua_upvalueindex(1));   /* co args... resume */
    lua_insert(L, 1);                        /* resume co args... */
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    if (co != NULL && b->active) {
        lua_pushthread(L);                   /* results... L */
        set_running(L, b);                   /* results... */
    }
    lbudget_charge(L, (uint64_t)lua_gettop(L));
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
    lua_pushthread(L);                                /* main */
    set_running(L, lbudget_of(L));                    /* */
    lsandbox_wrap(L, "xpcall", l_xpcall);
    lua_getglobal(L, LUA_STRLIBNAME);                 /* string */
    lpattern_install(L, -1, lbudget_charge_steps, NULL);
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
