/* policy.c -- the Lua state, the hooks and every call into them.
 *
 * Every call into Lua goes through call_hook(): a protected call of a C
 * trampoline with a traceback message handler under it (as lua.c does).
 * The trampoline pushes the arguments, calls the hook and applies its
 * `reply, action` results, so no Lua API call that can raise ever runs
 * outside a protected call. */
#include "policy.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "lconn.h"
#include "log.h"

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
    int refs;
    int hook_ref[HOOK_TIMER];  /* LUA_NOREF when the script lacks it */
    conn_callbacks callbacks;  /* data is NULL without on_data: C echo */
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

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
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
    if (rc == CONN_ENOTWRITABLE && !c->warned_discard) {
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
    if (!lua_isnil(L, -2)) {
        if (!lua_isstring(L, -2))
            luaL_error(L, "%s returned a %s as its reply (a string or nil "
                       "was expected)", hook_names[hook],
                       luaL_typename(L, -2));
        size_t len;
        const char *s = lua_tolstring(L, -2, &len);
        send_reply(pc, s, len, hook);
    }
    const char *action = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
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

/* The protected part of a hook call: push, call, apply. */
static int trampoline(lua_State *L)
{
    hook_call *hc = lua_touserdata(L, 1);
    int nargs = 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, hc->fn_ref); /* hc fn */
    push_conn(L, hc->pc);                          /* hc fn conn */
    if (hc->hook == HOOK_DATA) {
        lua_pushlstring(L, hc->data, hc->len);     /* hc fn conn data */
        nargs++;
    } else if (hc->hook == HOOK_CLOSE) {
        lua_pushstring(L, hc->reason);             /* hc fn conn reason */
        nargs++;
    }
    lua_call(L, nargs, 2);                         /* hc reply action */
    apply_results(L, hc->pc, hc->hook);
    return 0;
}

/* Run one hook call. On error the message and traceback are logged with
 * the connection id and the connection is reset. */
static void call_hook(hook_call *hc)
{
    lua_State *L = hc->pc->p->L;
    conn *c = hc->pc->c;
    lua_pushcfunction(L, msghandler);   /* mh */
    lua_pushcfunction(L, trampoline);   /* mh tramp */
    lua_pushlightuserdata(L, hc);       /* mh tramp hc */
    int status = lua_pcall(L, 1, 0, -3);
    if (status == LUA_OK) {
        lua_pop(L, 1);                  /* */
        return;
    }
    const char *msg = lua_tostring(L, -1);        /* mh msg */
    if (status == LUA_ERRMEM)
        msg = "not enough memory";
    log_error("conn %llu: %s failed: %s", (unsigned long long)c->id,
              hook_names[hc->hook], msg ? msg : "(no message)");
    lua_pop(L, 2);                                /* */
    if (hc->hook != HOOK_CLOSE && c->state != CONN_CLOSED)
        conn_reset(c, CONN_REASON_ERROR);
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
    if (pc->p->hook_ref[HOOK_DONE] == LUA_NOREF)
        conn_shutdown(c);
    else
        run_hook(pc, HOOK_DONE);
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
    if (pc->c->state != CONN_CLOSED)
        call_hook(&hc);
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

/* Set up the state and run the script's top level. Runs protected;
 * raises the one-line error message. */
static int load_main(lua_State *L)
{
    policy *p = lua_touserdata(L, 1);
    luaL_openlibs(L);
    lconn_open(L, policy_methods);
    if (luaL_loadfilex(L, p->path, "t") != LUA_OK) /* p chunk|msg */
        return lua_error(L);
    lua_call(L, 0, 0);                             /* p */
    for (int h = 0; h < HOOK_TIMER; h++) {
        int type = lua_getglobal(L, hook_names[h]); /* p value */
        if (type == LUA_TFUNCTION) {
            p->hook_ref[h] = luaL_ref(L, LUA_REGISTRYINDEX); /* p */
            continue;
        }
        if (type != LUA_TNIL)
            return luaL_error(L, "%s: %s is a %s, not a function", p->path,
                              hook_names[h], luaL_typename(L, -1));
        lua_pop(L, 1);                              /* p */
    }
    return 0;
}

static const conn_callbacks *make_callbacks(policy *p)
{
    p->callbacks.data = p->hook_ref[HOOK_DATA] != LUA_NOREF ? cb_data : NULL;
    p->callbacks.done = cb_done;
    p->callbacks.close = cb_close;
    return &p->callbacks;
}

policy *policy_load(const char *path, char *err, size_t errlen)
{
    policy *p = calloc(1, sizeof *p);
    if (p == NULL || (p->path = malloc(strlen(path) + 1)) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory loading %s", path);
        return NULL;
    }
    strcpy(p->path, path);
    p->refs = 1;
    for (int h = 0; h < HOOK_TIMER; h++)
        p->hook_ref[h] = LUA_NOREF;
    p->L = lua_newstate(l_alloc, p);
    if (p->L == NULL) {
        snprintf(err, errlen, "out of memory creating the Lua state");
        policy_release(p);
        return NULL;
    }
    lua_atpanic(p->L, l_panic);
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
    if (p->L)
        lua_close(p->L);
    free(p->path);
    free(p);
}

const char *policy_path(const policy *p)
{
    return p->path;
}
