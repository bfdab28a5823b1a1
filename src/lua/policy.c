/* policy.c -- the Lua state of one script: loading it, and calling its
 * hooks for the connections attached to it.
 *
 * Each hook call is one lcall of trampoline(), which pushes the hook and
 * its arguments, calls it and applies its `reply, action` results, so no
 * Lua API call that can raise runs outside a protected call, and every
 * error returns here, to be logged, before the connection (core) sees the
 * call end. The server and --simulate call hooks the same way. */
#include "policy.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lalloc.h"
#include "lbudget.h"
#include "lcall.h"
#include "lcase.h"
#include "lcharge.h"
#include "lconn.h"
#include "lhook.h"
#include "linput.h"
#include "lproxy.h"
#include "log.h"
#include "lricochet.h"
#include "lsandbox.h"
#include "lsummary.h"
#include "rng.h"

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM != 504
#error "ricochet needs Lua 5.4 (5.5 changes lua_newstate)"
#endif

/* --- connection callbacks ------------------------------------------------ */

static void cb_data(conn *c, const char *data, size_t len)
{
    lconn *lc = conn_owner(c);
    lhook_run(lc->owner, lc, HOOK_DATA, data, len, NULL, NULL);
}

static void cb_done(conn *c)
{
    lconn *lc = conn_owner(c);
    policy *p = lc->owner;
    if (p->hook_ref[HOOK_DONE] == LUA_NOREF) {
        conn_shutdown(c);
        return;
    }
    size_t rest_len;
    const char *rest = conn_take_rest(c, &rest_len); /* unfinished frame */
    lhook_run(p, lc, HOOK_DONE, rest, rest_len, NULL, NULL);
}

static void cb_close(conn *c, enum conn_reason reason)
{
    lconn *lc = conn_owner(c);
    policy *p = lc->owner;
    if (p->hook_ref[HOOK_CLOSE] != LUA_NOREF)
        lhook_run(p, lc, HOOK_CLOSE, NULL, 0, conn_reason_name(reason),
                  NULL);
    lsummary_log(lc, c, reason); /* on_close may still tag it */
    lconn_detach(lc);
    if (lc->proxied) {
        lproxy_client_closed(lc, reason); /* the upstream goes too */
        return;
    }
    free(lc);
    policy_release(p);
}

/* The idle timeout passed (only set when the script has on_timeout). */
static void cb_timeout(conn *c)
{
    lconn *lc = conn_owner(c);
    lhook_run(lc->owner, lc, HOOK_TIMEOUT, NULL, 0, NULL, NULL);
}

/* A conn:after timer fired: its function runs as a hook does. */
static void on_timer(lconn *lc, int fn_ref)
{
    hook_call hc = {lc, HOOK_TIMER, fn_ref, NULL, 0, NULL, NULL};
    lhook_call(lc->owner, &hc);
}

/* --- loading ------------------------------------------------------------- */

static int is_known_hook(const char *name)
{
    if (strcmp(name, "on_args") == 0)
        return 1; /* called by policy_set_args (POST /args), not per conn */
    for (int h = 0; h < HOOK_TIMER; h++)
        if (strcmp(name, lhook_names[h]) == 0)
            return 1;
    return 0;
}

/* Pin the hooks the script defines; warn about on_* functions that are
 * not hooks (on_dat is a typo: say so now, not after a silent run).
 * Runs protected, with the global table on top. */
static void find_hooks(lua_State *L, policy *p)
{
    for (int h = 0; h < HOOK_TIMER; h++) {
        lua_pushstring(L, lhook_names[h]);             /* G name */
        int type = lua_rawget(L, -2);                 /* G value */
        if (type == LUA_TFUNCTION) {
            p->hook_ref[h] = luaL_ref(L, LUA_REGISTRYINDEX); /* G */
            continue;
        }
        if (type != LUA_TNIL)
            luaL_error(L, "%s: %s is a %s, not a function", p->path,
                       lhook_names[h], luaL_typename(L, -1));
        lua_pop(L, 1);                                /* G */
    }
    lua_pushnil(L);                                   /* G nil */
    while (lua_next(L, -2)) {                         /* G key value */
        if (lua_type(L, -2) == LUA_TSTRING &&
            lua_type(L, -1) == LUA_TFUNCTION) {
            const char *name = lua_tostring(L, -2);
            if (strncmp(name, "on_", 3) == 0 && !is_known_hook(name))
                log_warn("%s: global function %s is not a hook (the hooks "
                         "are on_connect, on_data, on_done, "
                         "on_upstream_data, on_upstream_done, "
                         "on_upstream_error, on_timeout, on_close, on_args)",
                         p->path, name);
        }
        lua_pop(L, 1);                                /* G key */
    }
}

/* Set up the state and run the script's top level (under the budget, as
 * every lcall is: a top level that never ends is stopped too). Runs
 * protected; raises the error message. */
static int load_main(lua_State *L)
{
    policy *p = lua_touserdata(L, 1);
    if (p->opts->unsafe)
        luaL_openlibs(L);
    else
        lsandbox_open(L, p->path);
    lbudget_open(L);
    lcharge_open(L);
    lua_getglobal(L, LUA_STRLIBNAME);                 /* p string */
    lcase_install(L, -1);
    lua_pop(L, 1);                                    /* p */
    lua_getglobal(L, LUA_MATHLIBNAME);                /* p math */
    lua_getfield(L, -1, "randomseed");                /* p math seed */
    lua_pushinteger(L, (lua_Integer)rng_next());      /* --seed reaches */
    lua_call(L, 1, 0);                                /* math.random too */
    lua_pop(L, 1);                                    /* p */
    lricochet_open(L, &p->lib);
    lconn_open(L, &p->env);
    linput_open(L, &p->input);
    lsandbox_strict_globals(L);
    lua_pushglobaltable(L);                           /* p G */
    int status = luaL_loadfilex(L, p->path, "t");     /* p G chunk|msg */
    if (status == LUA_ERRSYNTAX && strncmp(lua_tostring(L, -1),
                                           "attempt to load a ", 18) == 0)
        luaL_error(L, "%s: %s: scripts load as text only", p->path,
                   lua_tostring(L, -1));              /* a binary chunk */
    if (status != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 0);                                /* p G */
    find_hooks(L, p);
    lua_pop(L, 1);                                    /* p */
    return 0;
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
    p->lib.script = p->path;
    p->lib.args = opts->args;
    p->lib.nargs = opts->nargs;
    p->lib.worker = opts->worker;
    if (opts->upstream_host != NULL) {
        int v6 = strchr(opts->upstream_host, ':') != NULL;
        snprintf(p->upstream, sizeof p->upstream, "%s%s%s:%d",
                 v6 ? "[" : "", opts->upstream_host, v6 ? "]" : "",
                 opts->upstream_port);
        p->lib.upstream = p->upstream;
    }
    p->env.on_timer = on_timer;
    p->env.connect = lproxy_connect;
    lalloc_init(&p->alloc, opts->memory_limit);
    p->L = lua_newstate(lalloc_fn, &p->alloc);
    if (p->L == NULL) {
        snprintf(err, errlen, "out of memory creating the Lua state");
        policy_release(p);
        return NULL;
    }
    lcall_init(p->L);
    lbudget_install(p->L, &p->budget, opts->hook_budget,
                    opts->hook_timeout_ms, &p->alloc);
    p->lib.loading = 1; /* ricochet.resolve may block: only now */
    lcall_status status = lcall(p->L, load_main, p);
    p->lib.loading = 0;
    if (status != LCALL_OK) {
        const char *msg = lua_tostring(p->L, -1);
        if (status == LCALL_MEMORY && opts->memory_limit) {
            snprintf(err, errlen, "%s: not enough memory (the script's "
                     "state is capped at %zu MiB by --lua-memory)", path,
                     opts->memory_limit >> 20);
        } else if (status == LCALL_MEMORY || msg == NULL) {
            snprintf(err, errlen, "%s: not enough memory", path);
        } else {
            /* "file:line: message": the traceback says only "in main
             * chunk" */
            const char *trace = strstr(msg, "\nstack traceback:");
            int len = trace ? (int)(trace - msg) : (int)strlen(msg);
            snprintf(err, errlen, "%.*s", len, msg);
        }
        policy_release(p);
        return NULL;
    }
    lua_gc(p->L, LUA_GCGEN, 0, 0);
    p->callbacks.data = p->hook_ref[HOOK_DATA] != LUA_NOREF ? cb_data : NULL;
    p->callbacks.done = cb_done;
    p->callbacks.close = cb_close;
    p->callbacks.timeout = p->hook_ref[HOOK_TIMEOUT] != LUA_NOREF
                               ? cb_timeout : NULL; /* NULL: graceful */
    lproxy_setup(p); /* conn:connect makes a pair without --upstream */
    return p;
}

void policy_watch_thread(int on)
{
    lbudget_watch_thread(on);
}

void policy_interrupt(void)
{
    lbudget_interrupt();
}

void policy_bind_loop(policy *p, loop *l)
{
    p->lib.loop = l;
    p->env.loop = l;
}

void policy_bind_stats(policy *p, policy_stats *s)
{
    p->stats = s;
    if (s != NULL)
        lhook_count_memory(p);
}

void policy_describe(const policy *p, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int h = 0; h < HOOK_TIMER; h++) {
        if (p->hook_ref[h] == LUA_NOREF)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s",
                         used ? " " : "", lhook_names[h]);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(out, outlen, "(none)");
}

void policy_attach(policy *p, conn *c)
{
    lconn *lc = malloc(sizeof *lc);
    if (lc == NULL) {
        log_error("conn %llu: out of memory attaching the script",
                  (unsigned long long)conn_id(c));
        conn_reset(c, CONN_REASON_ERROR);
        return;
    }
    lconn_init(lc, c, p->L, p);
    p->refs++;
    conn_set_callbacks(c, &p->callbacks, lc);
    if (p->hook_ref[HOOK_DATA] != LUA_NOREF)
        conn_set_read_max(c, LHOOK_READ_MAX);
    if (p->hook_ref[HOOK_CONNECT] != LUA_NOREF) {
        lc->choosing = 1; /* conn:connect: this on_connect only */
        lhook_run(p, lc, HOOK_CONNECT, NULL, 0, NULL, NULL);
        lc->choosing = 0;
    }
    lproxy_attach(p, lc); /* after on_connect: the script may choose */
}

void policy_release(policy *p)
{
    if (--p->refs > 0)
        return;
    if (p->stats != NULL) { /* the state's bytes leave the gauge */
        stat_add(&p->stats->memory, (uint64_t)0 - p->memory_counted);
        p->memory_counted = 0;
    }
    if (p->L) {
        lua_close(p->L);
        lalloc_release(&p->alloc);
        log_debug("closed a Lua state of %s (its last connection ended)",
                  p->path);
    }
    free(p->path);
    free(p);
}

const char *policy_path(const policy *p)
{
    return p->path;
}

const char *policy_lua_release(void)
{
    return LUA_RELEASE;
}

/* lua_ident is "$LuaVersion: Lua 5.4.6  Copyright (C) ... $...": the
 * release is what follows the tag, up to the two spaces before
 * "Copyright". It is Lua's data symbol, not one of its API functions, so
 * a Lua built as a DLL may not export it (CMake checks that it links). */
const char *policy_lua_running(void)
{
#ifdef RICOCHET_LUA_IDENT
    static char release[32];
    static const char tag[] = "$LuaVersion: ";
    const char *ident = lua_ident;
    if (strncmp(ident, tag, sizeof tag - 1) != 0)
        return LUA_RELEASE;
    ident += sizeof tag - 1;
    size_t len = 0;
    while (len + 1 < sizeof release && ident[len] != '\0' &&
           ident[len] != '$' && !(ident[len] == ' ' && ident[len + 1] == ' '))
        len++;
    while (len > 0 && ident[len - 1] == ' ')
        len--;
    if (len == 0)
        return LUA_RELEASE;
    memcpy(release, ident, len);
    release[len] = '\0';
    return release;
#else
    return LUA_RELEASE;
#endif
}
