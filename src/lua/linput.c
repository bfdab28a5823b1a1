/* linput.c -- the input object of a buffer frame (see linput.h). */
#include "linput.h"

#include <lauxlib.h>
#include <string.h>

#include "lbudget.h"
#include "lsandbox.h"

#define INPUT_METATABLE "ricochet.input"

/* The userdata: which slot, and the call it was made for. */
typedef struct input_ref {
    linput_slot *slot;
    uint64_t call;
    struct input_ref *self; /* itself: tells it from any other userdata */
} input_ref;

/* The running call's input behind the object at 1; raises when 1 is not
 * an input, or when its call is over (an input kept past its call). An
 * input is told from other values by its size and the address it holds,
 * not by its metatable: these run several times a request, and a lookup
 * costs more than the rest of a take. */
static linput *check_input(lua_State *L)
{
    input_ref *ref = lua_touserdata(L, 1);
    if (ref == NULL || lua_rawlen(L, 1) != sizeof *ref || ref->self != ref)
        luaL_typeerror(L, 1, "input");
    linput *in = ref->slot->current;
    if (in == NULL || in->call != ref->call)
        luaL_error(L, "this input is gone: an input is valid only during "
                   "the call it was given to");
    return in;
}

/* input:line(): the next line without its LF (and a CR before it), or
 * nil when no whole line is there yet (nothing is taken then). */
static int l_line(lua_State *L)
{
    linput *in = check_input(L);
    const char *start = in->data + in->pos;
    size_t left = in->len - in->pos;
    const char *nl = left ? memchr(start, '\n', left) : NULL;
    if (nl == NULL) {
        lbudget_charge_bytes(L, left);
        lua_pushnil(L);
        return 1;
    }
    size_t n = (size_t)(nl - start);
    lbudget_charge_bytes(L, 2 * n);    /* scanned, then copied */
    in->pos += n + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    lua_pushlstring(L, start, n);
    return 1;
}

/* input:take([n]): the next n bytes, or nil when fewer are there (nothing
 * is taken then); without n, all that is left ("" when nothing is). */
static int l_take(lua_State *L)
{
    linput *in = check_input(L);
    size_t left = in->len - in->pos;
    size_t n = left;
    if (lua_gettop(L) >= 2 && !lua_isnil(L, 2)) {
        lua_Integer want = luaL_checkinteger(L, 2);
        luaL_argcheck(L, want >= 0, 2, "a byte count cannot be negative");
        if ((lua_Unsigned)want > left) {
            lua_pushnil(L);
            return 1;
        }
        n = (size_t)want;
    }
    lbudget_charge_bytes(L, n);
    lua_pushlstring(L, in->data + in->pos, n);
    in->pos += n;
    return 1;
}

/* input:commit(): what was taken so far is used; it will not come again. */
static int l_commit(lua_State *L)
{
    linput *in = check_input(L);
    in->committed = in->pos;
    return 0;
}

/* #input: the bytes not taken yet. */
static int l_len(lua_State *L)
{
    linput *in = check_input(L);
    lua_pushinteger(L, (lua_Integer)(in->len - in->pos));
    return 1;
}

static int l_tostring(lua_State *L)
{
    linput *in = check_input(L);
    lua_pushfstring(L, "input (%I bytes left)",
                    (lua_Integer)(in->len - in->pos));
    return 1;
}

void linput_push(lua_State *L, linput_slot *slot, linput *in,
                 const char *data, size_t len)
{
    in->data = data;
    in->len = len;
    in->pos = in->committed = 0;
    in->call = ++slot->calls;
    slot->current = in;
    input_ref *ref = lua_newuserdatauv(L, sizeof *ref, 0); /* input */
    ref->slot = slot;
    ref->call = in->call;
    ref->self = ref;
    luaL_setmetatable(L, INPUT_METATABLE);
}

void linput_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"line", l_line},
        {"take", l_take},
        {"commit", l_commit},
        {NULL, NULL}
    };
    luaL_newmetatable(L, INPUT_METATABLE);    /* mt */
    luaL_newlib(L, methods);                  /* mt methods */
    lua_setfield(L, -2, "__index");           /* mt */
    lua_pushcfunction(L, l_len);              /* mt __len */
    lua_setfield(L, -2, "__len");             /* mt */
    lua_pushcfunction(L, l_tostring);         /* mt __tostring */
    lua_setfield(L, -2, "__tostring");        /* mt */
    lua_pushliteral(L, "input");              /* mt name */
    lua_setfield(L, -2, "__name");            /* mt */
    lsandbox_protect(L, -1);                  /* no finalizer planted */
    lua_pop(L, 1);                            /* */
}
