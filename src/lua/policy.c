/* policy.c -- the Lua state, the hooks and every call into them.
 *
 * Every call into Lua goes through call_hook(): a protected call of a C
 * trampoline with a traceback message handler under it (as lua.c does).
 * The trampoline pushes the arguments, calls the hook and applies its
 * `reply, action` results, so no Lua API call that can raise ever runs
 * outside a protected call.
 *
 * The one exception is the hot path: the loop hands each batch of I/O
 * events to policy_dispatch(), which runs the whole batch inside one
 * protected call, and an on_data call made from there runs directly
 * under it. An error unwinds only C frames that hold nothing (the loop's
 * dispatch and the connection's read path down to the hook); the
 * connection is reset and the batch goes on after its event. */
#include "policy.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lalloc.h"
#include "lcase.h"
#include "lconn.h"
#include "log.h"
#include "lpattern.h"
#include "lsandbox.h"
#include "rng.h"

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM != 504
#error "ricochet needs Lua 5.4 (5.5 changes lua_newstate)"
#endif

enum hook { HOOK_CONNECT, HOOK_DATA, HOOK_DONE, HOOK_CLOSE, HOOK_TIMER,
            HOOK_COUNT };

/* Script-visible names; HOOK_TIMER is a conn:after callback, not a global. */
static const char *const hook_names[HOOK_COUNT] = {
    "on_connect", "on_data", "on_done", "on_close", "timer"
};

struct policy {
    lua_State *L;
    char *path;
    const policy_opts *opts;
    int refs;
    int hook_ref[HOOK_TIMER];  /* LUA_NOREF when the script lacks it */
    conn_callbacks callbacks;  /* data is NULL without on_data: C echo */
    loop *loop;                /* ricochet.now()'s clock, once bound */
    lalloc alloc;              /* the state's memory: count, cap, cache */
    int over_budget;           /* the running call ran out of budget */
    int batch;                 /* inside policy_dispatch's protected call */
    uint64_t spent;            /* instructions and pattern steps so far */
    struct pconn *current;     /* the connection whose hook is running */
};

typedef struct ptimer ptimer;

/* The policy's side of one connection (conn->data). */
typedef struct pconn {
    policy *p;
    conn *c;
    int obj_ref;       /* the `conn` userdata; LUA_NOREF until needed */
    ptimer *timers;    /* conn:after timers still pending */
} pconn;

struct ptimer {
    timer t;
    pconn *pc;
    int fn_ref;
    ptimer *prev, *next;
};

/* What the trampoline needs for one hook call. */
typedef struct hook_call {
    pconn *pc;
    enum hook hook;
    int fn_ref;          /* the function to call (a hook or a timer's) */
    const char *data;    /* on_data */
    size_t len;
    const char *reason;  /* on_close */
} hook_call;

/* --- Lua state -------------------------------------------------------- */

/* The budget is counted in ticks: the count hook fires every BUDGET_TICK
 * instructions on every thread (coroutines too) and adds them to one
 * total for the whole hook call, with the pattern matcher's steps. */
#define BUDGET_TICK 1000

static int budget_tick(const policy *p)
{
    uint64_t budget = p->opts->hook_budget;
    return budget < BUDGET_TICK ? (int)budget : BUDGET_TICK;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* Over budget: from now on every instruction of this thread and of the
 * main one raises, until the hook call returns to C, so a pcall inside
 * the script cannot swallow the stop. */
static void trip(policy *p, lua_State *L)
{
    p->over_budget = 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    if (L != p->L)
        lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, 1);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    policy *p = *(policy **)lua_getextraspace(L);
    if (!p->over_budget) {
        p->spent += (uint64_t)budget_tick(p);
        if (p->spent <= p->opts->hook_budget)
            return;
        trip(p, L);
    }
    lua_getinfo(L, "Sl", ar);
    lua_pushfstring(L, "stopped: over the budget of %I instructions (at "
                    "%s:%d)", (lua_Integer)p->opts->hook_budget,
                    ar->short_src, ar->currentline);
    lua_error(L);
}

/* A new hook call starts with the whole budget. The count hook stays set
 * between calls (no Lua runs there), so a call costs no lua_sethook
 * unless the last one tripped; the count it carries over is at most one
 * tick. */
static void arm_budget(policy *p)
{
    if (p->over_budget)
        lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, budget_tick(p));
    p->over_budget = 0;
    p->spent = 0;
}

/* Pattern matching runs in C, where the count hook never fires: its steps
 * are counted against the same budget, and a runaway match is stopped the
 * same way. */
static void pattern_charge(lua_State *L, unsigned long steps, void *ud)
{
    policy *p = ud;
    uint64_t budget = p->opts->hook_budget;
    p->spent += steps;
    if (budget == 0 || (p->spent <= budget && !p->over_budget))
        return;
    if (!p->over_budget)
        trip(p, L);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) &&
        ar.currentline > 0)
        lua_pushfstring(L, "stopped: over the budget of %I instructions "
                        "(in a pattern match at %s:%d)", (lua_Integer)budget,
                        ar.short_src, ar.currentline);
    else
        lua_pushfstring(L, "stopped: over the budget of %I instructions "
                        "(in a pattern match)", (lua_Integer)budget);
    lua_error(L);
}

/* A coroutine has its own hook: set it on every resume, so what runs in
 * coroutines counts against the same total, and refuse to resume once the
 * call is over budget. */
static int l_resume(lua_State *L)
{
    policy *p = *(policy **)lua_getextraspace(L);
    lua_State *co = lua_tothread(L, 1);
    if (p->over_budget)
        return luaL_error(L, "stopped: over the budget of %I instructions",
                          (lua_Integer)p->opts->hook_budget);
    if (co != NULL && p->opts->hook_budget)
        lua_sethook(co, budget_hook, LUA_MASKCOUNT, budget_tick(p));
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
    policy *p = *(policy **)lua_getextraspace(L);
    if (p->over_budget)
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


/* A correct program never gets here: everything runs protected. */
static int l_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    log_error("lua panic: %s", msg ? msg : "(error object is not a string)");
    abort();
    return 0;
}

/* Add a traceback to the error message (lua.c's msghandler). */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") &&
            lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* --- results ---------------------------------------------------------- */

static void send_reply(pconn *pc, const char *s, size_t len, enum hook hook)
{
    conn *c = pc->c;
    if (c->state == CONN_CLOSED || len == 0)
        return;
    int rc = conn_send(c, s, len);
    if (rc == ERR_ENOTWRITABLE && !c->warned_discard) {
        c->warned_discard = 1;
        log_warn("conn %llu: %s reply of %zu bytes discarded: the sending "
                 "side is %s", (unsigned long long)c->id, hook_names[hook],
                 len, conn_state_name(c->state));
    }
}

/* Apply `reply, action` at the top of the stack. Runs protected. */
static void apply_results(lua_State *L, pconn *pc, enum hook hook)
{
    conn *c = pc->c;
    if (hook == HOOK_CLOSE)
        return; /* the connection is gone: nothing to send */
    int reply_type = lua_type(L, -2);
    if (reply_type != LUA_TNIL) {
        if (reply_type != LUA_TSTRING && reply_type != LUA_TNUMBER)
            luaL_error(L, "%s returned a %s as its reply (a string or nil "
                       "was expected)", hook_names[hook],
                       luaL_typename(L, -2));
        size_t len;
        const char *s = lua_tolstring(L, -2, &len);
        send_reply(pc, s, len, hook);
    }
    const char *action = NULL;
    int action_type = lua_type(L, -1);
    if (action_type != LUA_TNIL) {
        if (action_type != LUA_TSTRING)
            luaL_error(L, "%s returned a %s as its action (a string or nil "
                       "was expected)", hook_names[hook],
                       luaL_typename(L, -1));
        action = lua_tostring(L, -1);
    }
    if (c->state == CONN_CLOSED)
        return;
    if (action == NULL) {
        if (hook == HOOK_DONE)
            conn_shutdown(c);
    } else if (strcmp(action, "shutdown") == 0) {
        conn_shutdown(c);
    } else if (strcmp(action, "close") == 0) {
        conn_close(c);
    } else if (strcmp(action, "reset") == 0) {
        conn_reset(c, CONN_REASON_RESET);
    } else if (strcmp(action, "wait") == 0) {
        if (hook != HOOK_DONE)
            luaL_error(L, "%s returned the action 'wait', which only "
                       "on_done may return", hook_names[hook]);
    } else {
        luaL_error(L, "%s returned the unknown action '%s' (expected "
                   "shutdown, close, reset%s or nil)", hook_names[hook],
                   action, hook == HOOK_DONE ? ", wait" : "");
    }
}

/* --- calls ------------------------------------------------------------ */

/* Push the connection's `conn`, creating it on first use. */
static void push_conn(lua_State *L, pconn *pc)
{
    if (pc->obj_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, pc->obj_ref); /* conn */
        return;
    }
    lconn_push(L, pc->c);                                /* conn */
    lua_pushvalue(L, -1);                                /* conn conn */
    pc->obj_ref = luaL_ref(L, LUA_REGISTRYINDEX);        /* conn */
}

/* Push the hook and its arguments, call it and apply its results, which
 * are left on the stack. Raises on error: runs protected. */
static void call_and_apply(lua_State *L, const hook_call *hc)
{
    int nargs = 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, hc->fn_ref); /* fn */
    push_conn(L, hc->pc);                          /* fn conn */
    if (hc->hook == HOOK_DATA) {
        lua_pushlstring(L, hc->data, hc->len);     /* fn conn data */
        nargs++;
    } else if (hc->hook == HOOK_CLOSE) {
        lua_pushstring(L, hc->reason);             /* fn conn reason */
        nargs++;
    } else if (hc->hook == HOOK_DONE && hc->data != NULL) {
        lua_pushlstring(L, hc->data, hc->len);     /* fn conn rest */
        nargs++;
    }
    lua_call(L, nargs, 2);                         /* reply action */
    apply_results(L, hc->pc, hc->hook);
}

/* The protected part of a hook call. */
static int trampoline(lua_State *L)
{
    call_and_apply(L, lua_touserdata(L, 1));
    return 0;
}

/* A hook call failed with status; the message handler's result is on the
 * stack above the handler. Log it with the connection id and reset the
 * connection. */
static void hook_failed(pconn *pc, enum hook hook, int status)
{
    policy *p = pc->p;
    lua_State *L = p->L;
    conn *c = pc->c;
    const char *msg = lua_tostring(L, -1);        /* mh msg */
    if (status == LUA_ERRMEM)
        log_error("conn %llu: %s failed: not enough memory (the script's "
                  "state is capped at %zu MiB by --lua-memory)",
                  (unsigned long long)c->id, hook_names[hook],
                  p->opts->memory_limit >> 20);
    else if (p->over_budget)
        log_error("conn %llu: %s %s", (unsigned long long)c->id,
                  hook_names[hook], msg ? msg : "stopped (over budget)");
    else
        log_error("conn %llu: %s failed: %s", (unsigned long long)c->id,
                  hook_names[hook], msg ? msg : "(no message)");
    lua_pop(L, 2);                                /* */
    if (status == LUA_ERRMEM)
        lua_gc(L, LUA_GCCOLLECT, 0);  /* give the bomb's memory back now */
    if (hook != HOOK_CLOSE && c->state != CONN_CLOSED)
        conn_reset(c, CONN_REASON_ERROR);
}

static void trace_call(const hook_call *hc, uint64_t started)
{
    log_msg(LOG_TRACE, "conn %llu: %s%s took %llu us",
            (unsigned long long)hc->pc->c->id, hook_names[hc->hook],
            hc->hook == HOOK_DATA ? " (data)" : "",
            (unsigned long long)(clock_monotonic_us() - started));
}

/* on_data inside policy_dispatch's protected call: the trampoline's work
 * without a protected call of its own. p->current stays set if it raises,
 * which is how policy_dispatch knows whose call failed. */
static void call_in_batch(hook_call *hc)
{
    policy *p = hc->pc->p;
    lua_State *L = p->L;
    uint64_t started = log_get_level() >= LOG_TRACE ? clock_monotonic_us() : 0;
    p->current = hc->pc;
    arm_budget(p);
    call_and_apply(L, hc);                         /* reply action */
    lua_pop(L, 2);                                 /* */
    p->current = NULL;
    if (started)
        trace_call(hc, started);
}

/* Run one hook call under the budget. On error the message and traceback
 * are logged with the connection id and the connection is reset. */
static void call_hook(hook_call *hc)
{
    policy *p = hc->pc->p;
    if (hc->hook == HOOK_DATA && p->batch && p->current == NULL) {
        call_in_batch(hc);
        return;
    }
    lua_State *L = p->L;
    uint64_t started = log_get_level() >= LOG_TRACE ? clock_monotonic_us() : 0;
    pconn *outer = p->current;
    p->current = hc->pc;
    lua_pushcfunction(L, msghandler);   /* mh */
    lua_pushcfunction(L, trampoline);   /* mh tramp */
    lua_pushlightuserdata(L, hc);       /* mh tramp hc */
    arm_budget(p);
    int status = lua_pcall(L, 1, 0, -3);
    p->current = outer;
    if (started)
        trace_call(hc, started);
    if (status == LUA_OK)
        lua_pop(L, 1);                  /* */
    else
        hook_failed(hc->pc, hc->hook, status);
}

static void run_hook(pconn *pc, enum hook hook)
{
    hook_call hc = {pc, hook, pc->p->hook_ref[hook], NULL, 0, NULL};
    call_hook(&hc);
}

/* --- connection callbacks ---------------------------------------------- */

static void cb_data(conn *c, const char *data, size_t len)
{
    pconn *pc = c->data;
    hook_call hc = {pc, HOOK_DATA, pc->p->hook_ref[HOOK_DATA], data, len,
                    NULL};
    call_hook(&hc);
}

static void cb_done(conn *c)
{
    pconn *pc = c->data;
    size_t rest_len;
    const char *rest = conn_take_rest(c, &rest_len); /* unfinished frame */
    hook_call hc = {pc, HOOK_DONE, pc->p->hook_ref[HOOK_DONE], rest,
                    rest_len, NULL};
    if (pc->p->hook_ref[HOOK_DONE] == LUA_NOREF)
        conn_shutdown(c);
    else
        call_hook(&hc);
}

static void timer_unlink(pconn *pc, ptimer *pt)
{
    if (pt->prev)
        pt->prev->next = pt->next;
    else
        pc->timers = pt->next;
    if (pt->next)
        pt->next->prev = pt->prev;
}

static void cb_close(conn *c, conn_reason reason)
{
    pconn *pc = c->data;
    policy *p = pc->p;
    lua_State *L = p->L;
    if (p->hook_ref[HOOK_CLOSE] != LUA_NOREF) {
        hook_call hc = {pc, HOOK_CLOSE, p->hook_ref[HOOK_CLOSE], NULL, 0,
                        conn_reason_name(reason)};
        call_hook(&hc);
    }
    while (pc->timers) {
        ptimer *pt = pc->timers;
        timer_unlink(pc, pt);
        loop_timer_stop(c->shared->loop, &pt->t);
        luaL_unref(L, LUA_REGISTRYINDEX, pt->fn_ref);
        free(pt);
    }
    if (pc->obj_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, pc->obj_ref); /* conn */
        lconn_detach(L, -1);
        lua_pop(L, 1);                                  /* */
        luaL_unref(L, LUA_REGISTRYINDEX, pc->obj_ref);
    }
    free(pc);
    policy_release(p);
}

/* --- conn:after -------------------------------------------------------- */

static void timer_fired(timer *t)
{
    ptimer *pt = t->data;
    pconn *pc = pt->pc;
    timer_unlink(pc, pt);
    hook_call hc = {pc, HOOK_TIMER, pt->fn_ref, NULL, 0, NULL};
    if (pc->c->state != CONN_CLOSED) {
        conn_note(pc->c, "timer fired");
        call_hook(&hc);
    }
    luaL_unref(pc->p->L, LUA_REGISTRYINDEX, pt->fn_ref);
    free(pt);
}

/* conn:after(ms, fn): call fn(conn) in ms milliseconds; it returns
 * `reply, action` like a hook. Pending timers end with the connection. */
static int l_after(lua_State *L)
{
    conn *c = lconn_check(L, 1);
    lua_Number ms = luaL_checknumber(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    luaL_argcheck(L, ms >= 0 && ms <= 1e12, 2, "delay out of range");
    pconn *pc = c->data;
    lua_pushvalue(L, 3);                          /* ... fn */
    int fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* ... */
    ptimer *pt = malloc(sizeof *pt);
    if (pt == NULL) {
        luaL_unref(L, LUA_REGISTRYINDEX, fn_ref);
        return luaL_error(L, "not enough memory");
    }
    pt->fn_ref = fn_ref;
    pt->pc = pc;
    timer_init(&pt->t, timer_fired, pt);
    if (loop_timer_start(c->shared->loop, &pt->t, (uint64_t)ms) != 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, pt->fn_ref);
        free(pt);
        return luaL_error(L, "not enough memory");
    }
    pt->prev = NULL;
    pt->next = pc->timers;
    if (pc->timers)
        pc->timers->prev = pt;
    pc->timers = pt;
    return 0;
}

/* --- loading ------------------------------------------------------------ */

static const luaL_Reg policy_methods[] = {
    {"after", l_after},
    {NULL, NULL}
};

/* Push the arguments from index first on, as print would show them. */
static const char *join_args(lua_State *L, int first)
{
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = first; i <= n; i++) {
        if (i > first)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* print() goes to the log: stdout carries the readiness lines. */
static int l_print(lua_State *L)
{
    log_info("%s", join_args(L, 1));
    return 0;
}

/* ricochet.log(level, ...): one log line, tagged with the connection whose
 * hook is running. */
static int l_log(lua_State *L)
{
    policy *p = *(policy **)lua_getextraspace(L);
    log_level level;
    if (log_parse_level(luaL_checkstring(L, 1), &level) != 0)
        return luaL_argerror(L, 1, "error, warn, info, debug or trace "
                             "expected");
    if (level > log_get_level())
        return 0;
    const char *msg = join_args(L, 2);
    if (p->current)
        log_msg(level, "conn %llu: %s",
                (unsigned long long)p->current->c->id, msg);
    else
        log_msg(level, "%s", msg);
    return 0;
}

/* ricochet.now(): milliseconds on the server's monotonic (or, under
 * --simulate, virtual) clock. */
static int l_now(lua_State *L)
{
    policy *p = *(policy **)lua_getextraspace(L);
    uint64_t ms = p->loop ? loop_now(p->loop) : clock_monotonic_us() / 1000;
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

/* ricochet.random([m [, n]]): as math.random, from the --seed source. */
static int l_random(lua_State *L)
{
    lua_Integer low, up;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (lua_Number)rng_uniform());
        return 1;
    case 1:
        low = 1;
        up = luaL_checkinteger(L, 1);
        break;
    default:
        low = luaL_checkinteger(L, 1);
        up = luaL_checkinteger(L, 2);
        break;
    }
    luaL_argcheck(L, low <= up, lua_gettop(L), "interval is empty");
    uint64_t span = (uint64_t)up - (uint64_t)low;
    uint64_t draw = span == UINT64_MAX ? rng_next()
                                       : rng_next() % (span + 1);
    lua_pushinteger(L, (lua_Integer)((uint64_t)low + draw));
    return 1;
}

static void open_ricochet(lua_State *L, policy *p)
{
    static const luaL_Reg funcs[] = {
        {"log", l_log}, {"now", l_now}, {"random", l_random}, {NULL, NULL}
    };
    luaL_newlib(L, funcs);                            /* r */
    lua_createtable(L, 0, p->opts->nargs);            /* r args */
    for (int i = 0; i < p->opts->nargs; i++) {
        const char *kv = p->opts->args[i];
        const char *eq = strchr(kv, '=');
        if (eq == NULL) {
            lua_pushstring(L, kv);                    /* r args key */
            lua_pushliteral(L, "true");               /* flag: "true" */
        } else {
            lua_pushlstring(L, kv, (size_t)(eq - kv));
            lua_pushstring(L, eq + 1);                /* r args key value */
        }
        lua_rawset(L, -3);                            /* r args */
    }
    lua_setfield(L, -2, "args");                      /* r */
    lua_pushstring(L, p->path);
    lua_setfield(L, -2, "script");
    lua_pushliteral(L, RICOCHET_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushinteger(L, p->opts->worker > 0 ? p->opts->worker : 1);
    lua_setfield(L, -2, "worker");
    lua_setglobal(L, "ricochet");                     /* */
    lua_getglobal(L, "print");
    if (!lua_isnil(L, -1)) {
        lua_pushcfunction(L, l_print);
        lua_setglobal(L, "print");
    }
    lua_pop(L, 1);
}

static int is_known_hook(const char *name)
{
    for (int h = 0; h < HOOK_TIMER; h++)
        if (strcmp(name, hook_names[h]) == 0)
            return 1;
    return 0;
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

/* Set up the state and run the script's top level. Runs protected;
 * raises the one-line error message. */
static int load_main(lua_State *L)
{
    policy *p = lua_touserdata(L, 1);
    if (p->opts->unsafe)
        luaL_openlibs(L);
    else
        lsandbox_open(L, p->path);
    lsandbox_wrap(L, "xpcall", l_xpcall);
    lua_getglobal(L, LUA_STRLIBNAME);                 /* p string */
    lpattern_install(L, -1, pattern_charge, p);
    lcase_install(L, -1);
    lua_pop(L, 1);                                    /* p */
    lua_getglobal(L, LUA_COLIBNAME);                  /* p co */
    lua_getfield(L, -1, "resume");                    /* p co resume */
    lua_pushcclosure(L, l_resume, 1);                 /* p co l_resume */
    lua_setfield(L, -2, "resume");                    /* p co */
    lua_pop(L, 1);                                    /* p */
    /* wrap through that resume, so wrapped coroutines are budgeted too */
    if (luaL_loadstring(L, wrap_source) != LUA_OK)    /* p chunk|msg */
        return lua_error(L);
    lua_call(L, 0, 0);                                /* p */
    lua_getglobal(L, LUA_MATHLIBNAME);                /* p math */
    lua_getfield(L, -1, "randomseed");                /* p math seed */
    lua_pushinteger(L, (lua_Integer)rng_next());      /* --seed reaches */
    lua_call(L, 1, 0);                                /* math.random too */
    lua_pop(L, 1);                                    /* p */
    open_ricochet(L, p);
    lconn_open(L, policy_methods);
    lsandbox_strict_globals(L);
    lua_pushglobaltable(L);                           /* p G */
    if (luaL_loadfilex(L, p->path, "t") != LUA_OK)    /* p G chunk|msg */
        return lua_error(L);
    arm_budget(p);          /* a top level that never ends is stopped too */
    lua_call(L, 0, 0);                                /* p G */
    for (int h = 0; h < HOOK_TIMER; h++) {
        lua_pushstring(L, hook_names[h]);             /* p G name */
        int type = lua_rawget(L, -2);                 /* p G value */
        if (type == LUA_TFUNCTION) {
            p->hook_ref[h] = luaL_ref(L, LUA_REGISTRYINDEX); /* p G */
            continue;
        }
        if (type != LUA_TNIL)
            return luaL_error(L, "%s: %s is a %s, not a function", p->path,
                              hook_names[h], luaL_typename(L, -1));
        lua_pop(L, 1);                                /* p G */
    }
    /* on_dat is a typo, not a hook: say so now, not after a silent run */
    lua_pushnil(L);                                   /* p G nil */
    while (lua_next(L, -2)) {                         /* p G key value */
        if (lua_type(L, -2) == LUA_TSTRING &&
            lua_type(L, -1) == LUA_TFUNCTION) {
            const char *name = lua_tostring(L, -2);
            if (strncmp(name, "on_", 3) == 0 && !is_known_hook(name))
                log_warn("%s: global function %s is not a hook (the hooks "
                         "are on_connect, on_data, on_done, on_close)",
                         p->path, name);
        }
        lua_pop(L, 1);                                /* p G key */
    }
    lua_pop(L, 1);                                    /* p */
    return 0;
}

static const conn_callbacks *make_callbacks(policy *p)
{
    p->callbacks.data = p->hook_ref[HOOK_DATA] != LUA_NOREF ? cb_data : NULL;
    p->callbacks.done = cb_done;
    p->callbacks.close = cb_close;
    return &p->callbacks;
}

policy *policy_load(const char *path, const policy_opts *opts, char *err,
                    size_t errlen)
{
    policy *p = calloc(1, sizeof *p);
    if (p == NULL || (p->path = malloc(strlen(path) + 1)) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory loading %s", path);
        return NULL;
    }
    strcpy(p->path, path);
    p->opts = opts;
    p->refs = 1;
    for (int h = 0; h < HOOK_TIMER; h++)
        p->hook_ref[h] = LUA_NOREF;
    lalloc_init(&p->alloc, opts->memory_limit);
    p->L = lua_newstate(lalloc_fn, &p->alloc);
    if (p->L == NULL) {
        snprintf(err, errlen, "out of memory creating the Lua state");
        policy_release(p);
        return NULL;
    }
    lua_atpanic(p->L, l_panic);
    *(policy **)lua_getextraspace(p->L) = p;
    if (opts->hook_budget)
        lua_sethook(p->L, budget_hook, LUA_MASKCOUNT, budget_tick(p));
    lua_pushcfunction(p->L, load_main);     /* load */
    lua_pushlightuserdata(p->L, p);         /* load p */
    int status = lua_pcall(p->L, 1, 0, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(p->L, -1);
        if (status == LUA_ERRMEM || msg == NULL)
            msg = "not enough memory";
        snprintf(err, errlen, "%s", msg);
        policy_release(p);
        return NULL;
    }
    lua_gc(p->L, LUA_GCGEN, 0, 0);
    make_callbacks(p);
    return p;
}

void policy_describe(const policy *p, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int h = 0; h < HOOK_TIMER; h++) {
        if (p->hook_ref[h] == LUA_NOREF)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s",
                         used ? " " : "", hook_names[h]);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(out, outlen, "(none)");
}

void policy_attach(policy *p, conn *c)
{
    pconn *pc = malloc(sizeof *pc);
    if (pc == NULL) {
        log_error("conn %llu: out of memory attaching the script",
                  (unsigned long long)c->id);
        conn_reset(c, CONN_REASON_ERROR);
        return;
    }
    pc->p = p;
    pc->c = c;
    pc->obj_ref = LUA_NOREF;
    pc->timers = NULL;
    p->refs++;
    conn_set_callbacks(c, &p->callbacks, pc);
    if (p->hook_ref[HOOK_CONNECT] != LUA_NOREF)
        run_hook(pc, HOOK_CONNECT);
}

void policy_release(policy *p)
{
    if (--p->refs > 0)
        return;
    if (p->L) {
        lua_close(p->L);
        lalloc_release(&p->alloc);
        log_debug("closed a Lua state of %s (its last connection ended)",
                  p->path);
    }
    free(p->path);
    free(p);
}

const char *policy_lua_release(void)
{
    return LUA_RELEASE;
}

const char *policy_path(const policy *p)
{
    return p->path;
}

static int dispatch_protected(lua_State *L)
{
    loop_dispatch(lua_touserdata(L, 1));
    return 0;
}

void policy_dispatch(policy *p, loop *l)
{
    lua_State *L = p->L;
    if (p->hook_ref[HOOK_DATA] == LUA_NOREF) {
        loop_dispatch(l); /* no on_data: nothing to protect per message */
        return;
    }
    p->refs++; /* a reload in the batch must not close this state */
    while (loop_dispatch_pending(l)) {
        lua_pushcfunction(L, msghandler);          /* mh */
        lua_pushcfunction(L, dispatch_protected);  /* mh fn */
        lua_pushlightuserdata(L, l);               /* mh fn l */
        p->batch = 1;
        int status = lua_pcall(L, 1, 0, -3);
        p->batch = 0;
        if (status == LUA_OK) {
            lua_pop(L, 1);                         /* */
            continue;
        }
        pconn *pc = p->current;                    /* mh msg */
        p->current = NULL;
        if (pc != NULL) {
            hook_failed(pc, HOOK_DATA, status);
        } else {
            /* Not from a hook: out there only memory can run out. */
            log_error("Lua error outside a hook: %s",
                      status == LUA_ERRMEM ? "not enough memory"
                                           : lua_tostring(L, -1));
            lua_pop(L, 2);
        }
    }
    policy_release(p);
}

void policy_bind_loop(policy *p, loop *l)
{
    p->loop = l;
}
