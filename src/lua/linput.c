/* linput.c -- the input object of a buffer frame (see linput.h). */
#include "linput.h"

#include <lauxlib.h>
#include <string.h>

#include "lbudget.h"
#include "lpattern.h"
#include "lsandbox.h"

#define INPUT_METATABLE "ricochet.input"

/* The private key under which an input, a table, holds its ref: only
 * this file has its address. The methods are the table's own fields,
 * closures over the ref and the table: input:line() is then one lookup
 * in the table and an upvalue, where a metatable's __index and a lookup
 * of the ref cost a fifth of a pipelined request. */
static const char ref_key;

/* The ref, a full userdata: which slot, and the call it was made for. */
typedef struct input_ref {
    linput_slot *slot;
    uint64_t call;
    struct input_ref *self; /* itself: tells it from any other userdata */
    const void *input;      /* the input table its methods belong to */
} input_ref;

static linput *input_of(lua_State *L, input_ref *ref)
{
    linput *in = ref->slot->current;
    if (in == NULL || in->call != ref->call)
        luaL_error(L, "this input is gone: an input is valid only during "
                   "the call it was given to");
    return in;
}

/* A method's running input: its upvalues are the ref and the input it
 * belongs to, which must be argument 1 (input:take(), not input.take());
 * upvalue 2 keeps that table alive, so no other table can have its
 * address while the method can be called. Raises when the input's call
 * is over (an input kept past its call). */
static linput *check_input(lua_State *L)
{
    input_ref *ref = lua_touserdata(L, lua_upvalueindex(1));
    /* the table's address, kept in the ref: one API call where
     * lua_rawequal on the upvalue took three times as long */
    if (lua_topointer(L, 1) != ref->input)
        luaL_typeerror(L, 1, "its input (call it as input:method())");
    return input_of(L, ref);
}

/* The input at 1 for a metamethod (it is a table; rarely called). */
static linput *check_input_mm(lua_State *L)
{
    input_ref *ref = NULL;
    if (lua_type(L, 1) == LUA_TTABLE) {
        if (lua_rawgetp(L, 1, &ref_key) == LUA_TUSERDATA &&
            lua_rawlen(L, -1) == sizeof *ref)
            ref = lua_touserdata(L, -1);
        lua_pop(L, 1);
    }
    if (ref == NULL || ref->self != ref)   /* a ref planted elsewhere */
        luaL_typeerror(L, 1, "input");
    return input_of(L, ref);
}

static void charge_steps(lua_State *L, unsigned long steps, void *ud)
{
    (void)ud;
    lbudget_charge(L, steps);
}

/* input:line([pattern]): the next line without its LF (and a CR before
 * it), or nil when no whole line is there yet (nothing is taken then).
 * With a pattern, the line is taken only when it matches, as
 * string.match(line, pattern) would, and the captures are returned;
 * when it does not, false, and nothing is taken. */
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
    size_t n = (size_t)(nl - start), len = n;
    if (len > 0 && start[len - 1] == '\r')
        len--;
    if (!lua_isnoneornil(L, 2)) {
        size_t lp;
        const char *p = luaL_checklstring(L, 2, &lp);
        lbudget_charge_bytes(L, n);     /* scanned */
        int results = lpattern_match(L, start, len, p, lp, charge_steps,
                                     NULL);
        if (results < 0) {
            lua_pushboolean(L, 0);
            return 1;
        }
        in->pos += n + 1;
        return results;
    }
    lbudget_charge_bytes(L, 2 * n);     /* scanned, then copied */
    in->pos += n + 1;
    lua_pushlstring(L, start, len);
    return 1;
}

/* The first copy of d[0..dl) in s[0..n), or NULL. */
static const char *find_bytes(const char *s, size_t n, const char *d,
                              size_t dl)
{
    for (const char *end = s + n; dl > 0 && (size_t)(end - s) >= dl; s++) {
        s = memchr(s, (unsigned char)d[0], (size_t)(end - s) - dl + 1);
        if (s == NULL || memcmp(s, d, dl) == 0)
            return s;
    }
    return NULL;
}

/* input:take([n [, delimiter]]): the next n bytes, or nil when fewer are
 * there (nothing is taken then); without n, all that is left ("" when
 * nothing is). With a delimiter, the n bytes must be followed by it, and
 * it is taken too: nil while it is not all there, false (nothing taken)
 * when other bytes follow; without n, the bytes up to the next copy of
 * the delimiter, nil while there is none. */
static int l_take(lua_State *L)
{
    linput *in = check_input(L);
    const char *at = in->data + in->pos;
    size_t left = in->len - in->pos;
    size_t n = left, dl = 0;
    const char *d = NULL;
    int counted = lua_gettop(L) >= 2 && !lua_isnil(L, 2);
    if (counted) {
        lua_Integer want = luaL_checkinteger(L, 2);
        luaL_argcheck(L, want >= 0, 2, "a byte count cannot be negative");
        n = (lua_Unsigned)want < left ? (size_t)want : left;
        if ((lua_Unsigned)want > left)
            counted = -1;                        /* not all there */
    }
    if (!lua_isnoneornil(L, 3)) {
        d = luaL_checklstring(L, 3, &dl);
        luaL_argcheck(L, dl > 0, 3, "a delimiter cannot be empty");
    }
    if (counted < 0 || (d != NULL && counted && dl > left - n)) {
        lua_pushnil(L);                          /* not all there yet */
        return 1;
    }
    if (d != NULL && counted) {
        lbudget_charge_bytes(L, dl);
        if (memcmp(at + n, d, dl) != 0) {
            lua_pushboolean(L, 0);               /* not the delimiter */
            return 1;
        }
    } else if (d != NULL) {
        const char *hit = find_bytes(at, left, d, dl);
        lbudget_charge_bytes(L, hit ? (size_t)(hit - at) + dl : left);
        if (hit == NULL) {
            lua_pushnil(L);
            return 1;
        }
        n = (size_t)(hit - at);
    }
    lbudget_charge_bytes(L, n);
    lua_pushlstring(L, at, n);
    in->pos += n + dl;
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
    linput *in = check_input_mm(L);
    lua_pushinteger(L, (lua_Integer)(in->len - in->pos));
    return 1;
}

static int l_tostring(lua_State *L)
{
    linput *in = check_input_mm(L);
    lua_pushfstring(L, "input (%I bytes left)",
                    (lua_Integer)(in->len - in->pos));
    return 1;
}

void linput_push(lua_State *L, linput_slot *slot, linput *in,
                 const char *data, size_t len)
{
    static const luaL_Reg methods[] = {
        {"line", l_line},
        {"take", l_take},
        {"commit", l_commit},
        {NULL, NULL}
    };
    in->data = data;
    in->len = len;
    in->pos = in->committed = 0;
    in->call = ++slot->calls;
    slot->current = in;
    /* a new table each call, so that one kept past its call is refused */
    lua_createtable(L, 0, 4);                              /* input */
    input_ref *ref = lua_newuserdatauv(L, sizeof *ref, 0); /* input ref */
    ref->slot = slot;
    ref->call = in->call;
    ref->self = ref;
    ref->input = lua_topointer(L, -2);
    for (const luaL_Reg *m = methods; m->name != NULL; m++) {
        lua_pushvalue(L, -1);
        lua_pushvalue(L, -3);                     /* input ref ref input */
        lua_pushcclosure(L, m->func, 2);          /* input ref method */
        lua_setfield(L, -3, m->name);             /* input ref */
    }
    lua_rawsetp(L, -2, &ref_key);                          /* input */
    luaL_setmetatable(L, INPUT_METATABLE);
}

void linput_open(lua_State *L)
{
    luaL_newmetatable(L, INPUT_METATABLE);    /* mt */
    lua_pushcfunction(L, l_len);              /* mt __len */
    lua_setfield(L, -2, "__len");             /* mt */
    lua_pushcfunction(L, l_tostring);         /* mt __tostring */
    lua_setfield(L, -2, "__tostring");        /* mt */
    lua_pushliteral(L, "input");              /* mt name */
    lua_setfield(L, -2, "__name");            /* mt */
    lsandbox_protect(L, -1);                  /* no finalizer planted */
    lua_pop(L, 1);                            /* */
}
