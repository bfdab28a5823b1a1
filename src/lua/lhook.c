/* lhook.c -- calling a script's hooks: one lcall of trampoline() a call,
 * which pushes the hook and its arguments, calls it and applies its
 * `reply, action`, so no Lua API call that can raise runs outside a
 * protected call, and every error returns here, to be logged, before the
 * connection (core) sees the call end. */
#include "lhook.h"

#include <lauxlib.h>
#include <string.h>

#include "clock.h"
#include "lcall.h"
#include "log.h"

const char *const lhook_names[HOOK_COUNT] = {
    "on_connect", "on_data", "on_done", "on_upstream_data",
    "on_upstream_done", "on_upstream_error", "on_timeout", "on_close",
    "timer"
};

/* --- results ------------------------------------------------------------ */

/* The hooks whose default passes an end on, which "wait" holds back. */
static int may_wait(enum hook hook)
{
    return hook == HOOK_DONE || hook == HOOK_UP_DONE || hook == HOOK_TIMEOUT;
}

/* The action at index idx (nil or one of the names), checked before the
 * reply goes out, so a hook that returns a bad action sends nothing. */
static const char *check_action(lua_State *L, int idx, enum hook hook)
{
    static const char *const actions[] = {"shutdown", "close", "reset",
                                          "wait", NULL};
    const char *name = lhook_names[hook];
    int type = lua_type(L, idx);
    if (type == LUA_TNIL)
        return NULL;
    if (type != LUA_TSTRING)
        luaL_error(L, "%s returned a %s as its action (a string or nil "
                   "was expected)", name, luaL_typename(L, idx));
    const char *action = lua_tostring(L, idx);
    for (int i = 0; actions[i]; i++) {
        if (strcmp(action, actions[i]) != 0)
            continue;
        if (strcmp(action, "wait") == 0 && !may_wait(hook))
            luaL_error(L, "%s returned the action 'wait', which only "
                       "on_done, on_upstream_done and on_timeout may "
                       "return", name);
        return actions[i];
    }
    luaL_error(L, "%s returned the unknown action '%s' (expected "
               "shutdown, close, reset%s or nil)", name, action,
               may_wait(hook) ? ", wait" : "");
    return NULL;
}

/* Apply `reply, action` at the top of the stack to hc's destination.
 * Runs protected. */
static void apply_results(lua_State *L, const hook_call *hc)
{
    conn *to = hc->to ? hc->to : hc->lc->c;
    const char *name = lhook_names[hc->hook];
    if (hc->hook == HOOK_CLOSE)
        return; /* the connection is gone: nothing to send */
    int reply_type = lua_type(L, -2);
    lua_Integer replies = 1;
    if (reply_type == LUA_TTABLE) {
        replies = (lua_Integer)lua_rawlen(L, -2);
        for (lua_Integer i = 1; i <= replies; i++) {
            int type = lua_rawgeti(L, -2, i);        /* ... item */
            if (type != LUA_TSTRING && type != LUA_TNUMBER)
                luaL_error(L, "%s returned a table whose item %I is a %s "
                           "(strings were expected)", name, i,
                           luaL_typename(L, -1));
            lua_pop(L, 1);                           /* ... */
        }
    } else if (reply_type != LUA_TNIL && reply_type != LUA_TSTRING &&
               reply_type != LUA_TNUMBER) {
        luaL_error(L, "%s returned a %s as its reply (a string, a table of "
                   "strings or nil was expected)", name,
                   luaL_typename(L, -2));
    }
    const char *action = check_action(L, -1, hc->hook);
    if (reply_type == LUA_TTABLE) {      /* each as it is: no concatenation */
        for (lua_Integer i = 1; i <= replies; i++) {
            size_t len;
            lua_rawgeti(L, -2, i);                   /* ... item */
            const char *s = lua_tolstring(L, -1, &len);
            if (len > 0 && conn_send(to, s, len) == ERR_ENOTWRITABLE)
                lconn_warn_discard(hc->lc, name, len);
            lua_pop(L, 1);                           /* ... */
        }
    } else if (reply_type != LUA_TNIL) {
        size_t len;
        const char *s = lua_tolstring(L, -2, &len);
        if (len > 0 && conn_send(to, s, len) == ERR_ENOTWRITABLE)
            lconn_warn_discard(hc->lc, name, len);
    }
    if (conn_state(to) == CONN_CLOSED)
        return;
    if (action == NULL) {
        if (may_wait(hc->hook))
            conn_shutdown(to); /* their default: the end passes on */
        else if (hc->hook == HOOK_UP_ERROR)
            conn_close(to);    /* the client had its answer: close */
    } else if (action[0] == 's') {
        conn_shutdown(to);
    } else if (action[0] == 'c') {
        conn_close(to);
    } else if (action[0] == 'r') {
        conn_reset(to, hc->hook == HOOK_TIMEOUT ? CONN_REASON_TIMEOUT
                                                : CONN_REASON_RESET);
    } /* "wait": the end is held back (on_timeout: one more idle period) */
}

/* --- calls ---------------------------------------------------------------- */

/* The protected part of a hook call: push the hook and its arguments,
 * call it, apply its results. */
static int trampoline(lua_State *L)
{
    const hook_call *hc = lua_touserdata(L, 1);
    int nargs = 1;
    conn *from = NULL;     /* a buffer frame's connection */
    linput input;
    lua_rawgeti(L, LUA_REGISTRYINDEX, hc->fn_ref); /* hc fn */
    lconn_push(L, hc->lc);                         /* hc fn conn */
    if (hc->hook == HOOK_DATA || hc->hook == HOOK_UP_DATA) {
        from = hc->hook == HOOK_DATA ? hc->lc->c : hc->lc->up;
        if (conn_frame_mode(from) != FRAME_BUFFER)
            from = NULL;
    }
    if (hc->reason != NULL) {                      /* on_close, ... */
        lua_pushstring(L, hc->reason);             /* hc fn conn reason */
        nargs++;
    } else if (from != NULL) {                     /* hc fn conn input */
        policy *p = hc->lc->owner;
        linput_push(L, &p->input, &input, hc->data, hc->len);
        lua_pushvalue(L, -1);      /* hc fn conn input input */
        lua_insert(L, 2);          /* hc input fn conn input: kept for the
                                    * call, its address its own (linput.c) */
        nargs++;
    } else if (hc->hook == HOOK_DATA || hc->hook == HOOK_UP_DATA ||
               hc->data != NULL) {
        lua_pushlstring(L, hc->data, hc->len);     /* hc fn conn data */
        nargs++;                                   /* (or on_done's rest) */
    }
    lua_call(L, nargs, 2);                         /* hc reply action */
    apply_results(L, hc);
    if (from != NULL)      /* the rest comes again (or the max resets) */
        conn_frame_used(from, input.committed);
    return 0;
}

/* A hook call failed with status; its message is on top of the stack.
 * Log it with the connection id and reset the connection. */
static void hook_failed(policy *p, const hook_call *hc, lcall_status status)
{
    lua_State *L = p->L;
    conn *c = hc->lc->c;
    unsigned long long id = (unsigned long long)conn_id(c);
    const char *name = lhook_names[hc->hook];
    const char *msg = lua_tostring(L, -1);         /* msg */
    if (status == LCALL_MEMORY)
        log_error("conn %llu: %s failed: not enough memory (the script's "
                  "state is capped at %zu MiB by --lua-memory)", id, name,
                  p->opts->memory_limit >> 20);
    else if (status == LCALL_BUDGET)
        log_error("conn %llu: %s %s", id, name,
                  msg ? msg : "stopped (over budget)");
    else
        log_error("conn %llu: %s failed: %s", id, name,
                  msg ? msg : "(no message)");
    lua_pop(L, 1);                                 /* */
    if (hc->lc->failed_hook < 0) { /* the first failure is the summary's */
        hc->lc->failed_hook = (signed char)hc->hook;
        hc->lc->failure = (unsigned char)status;
    }
    if (status == LCALL_MEMORY)
        lua_gc(L, LUA_GCCOLLECT, 0);  /* give the bomb's memory back now */
    if (hc->hook != HOOK_CLOSE)
        conn_reset(c, CONN_REASON_ERROR); /* in proxy mode, the pair */
}

/* policy.h's counters, in seconds: 10 us ... 1 s. */
const uint64_t policy_time_bound_us[POLICY_TIME_BOUNDS] = {
    10, 100, 1000, 10000, 100000, 1000000
};

const char *policy_hook_name(int i)
{
    return i >= 0 && i < HOOK_COUNT ? lhook_names[i] : "?";
}

const char *policy_error_kind_name(int i)
{
    static const char *const kinds[POLICY_ERROR_KINDS] = {
        "error", "budget", "memory"
    };
    return i >= 0 && i < POLICY_ERROR_KINDS ? kinds[i] : "?";
}

void lhook_count_memory(policy *p)
{
    size_t used = p->alloc.used;
    if (used == p->memory_counted)
        return;
    /* a delta, wrapping when it shrinks: the worker's other states count
     * in the same gauge */
    stat_add(&p->stats->memory, (uint64_t)used - (uint64_t)p->memory_counted);
    p->memory_counted = used;
}

/* One call's counts: its hook, its time, how it failed. */
static void count_call(policy *p, enum hook hook, uint64_t took_us,
                       lcall_status status)
{
    policy_stats *s = p->stats;
    stat_add(&s->calls[hook], 1);
    int b = 0;
    while (b < POLICY_TIME_BOUNDS && took_us > policy_time_bound_us[b])
        b++;
    stat_add(&s->time_counts[b], 1);
    stat_add(&s->time_us, took_us);
    if (status == LCALL_ERROR)
        stat_add(&s->errors[0], 1);
    else if (status == LCALL_BUDGET)
        stat_add(&s->errors[1], 1);
    else if (status == LCALL_MEMORY)
        stat_add(&s->errors[2], 1);
}

void lhook_call(policy *p, const hook_call *hc)
{
    /* one clock read each side of the call, for the time histogram (and
     * --trace's line) */
    uint64_t started = clock_monotonic_us();
    uint64_t outer = p->lib.current_id;
    p->lib.current_id = conn_id(hc->lc->c);
    hc->lc->hooks++;
    linput *outer_input = p->input.current;
    lcall_status status = lcall(p->L, trampoline, (void *)hc);
    p->input.current = outer_input;  /* this call's input is gone */
    p->lib.current_id = outer;
    uint64_t took_us = clock_monotonic_us() - started;
    if (log_get_level() >= LOG_TRACE)
        log_msg(LOG_TRACE, "conn %llu: %s%s took %llu us",
                (unsigned long long)conn_id(hc->lc->c),
                lhook_names[hc->hook], hc->hook == HOOK_DATA ? " (data)" : "",
                (unsigned long long)took_us);
    if (p->stats != NULL)
        count_call(p, hc->hook, took_us, status);
    if (status != LCALL_OK)
        hook_failed(p, hc, status);
    if (p->stats != NULL)
        lhook_count_memory(p);
}

void lhook_run(policy *p, lconn *lc, enum hook hook, const char *data,
               size_t len, const char *reason, conn *to)
{
    hook_call hc = {lc, hook, p->hook_ref[hook], data, len, reason, to};
    lhook_call(p, &hc);
}

