/* linput.c -- the input object of a buffer frame (see linput.h). */
#include "linput.h"

#include <lauxlib.h>
#include <string.h>

#include "lbudget.h"
#include "lpattern.h"
#include "lsandbox.h"

/* Private registry keys: only this file has their addresses. */
static const char methods_key;   /* the state's methods (linput_open) */
#define METHODS 4                /* line, take, counted, commit */
static const char metatable_key; /* the inputs' metatable */

/* The methods and metamethods are made once per state, closures over
 * its slot (upvalue 1); each call's input is a new table holding them
 * as its own fields, told from every other value by its address, which
 * the running call's linput keeps. input:line() is then one lookup in
 * the table, where a metatable's __index cost a fifth of a pipelined
 * request, and making an input allocates one table. */

/* Raise for argument 1, which is not the running call's input: an input
 * kept past its call (or an outer call's, met in a nested one) is gone;
 * anything else is the wrong argument. */
static int not_current(lua_State *L)
{
    int input = 0;
    if (lua_getmetatable(L, 1)) {                        /* ... mt? */
        lua_rawgetp(L, LUA_REGISTRYINDEX, &metatable_key);
        input = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (input)
        return luaL_error(L, "this input is gone: an input is valid only "
                          "during the call it was given to");
    return luaL_typeerror(L, 1, "its input (call it as input:method())");
}

/* The running call's input, which must be argument 1 (input:take(), not
 * input.take()); raises otherwise. The caller of the hook keeps the
 * current input on its own stack, so no other table can have its
 * address meanwhile, whatever the script does with its argument. */
static linput *check_input(lua_State *L)
{
    const linput_slot *slot = lua_touserdata(L, lua_upvalueindex(1));
    linput *in = slot->current;
    if (in == NULL || lua_topointer(L, 1) != in->object)
        not_current(L);
    return in;
}

/* The next line's start: *n bytes up to its LF, *len of them without a
 * CR just before it. NULL when no whole line is there yet, after
 * charging the scan. */
static const char *next_line(lua_State *L, const linput *in, size_t *n,
                             size_t *len)
{
    const char *start = in->data + in->pos;
    size_t left = in->len - in->pos;
    const char *nl = left ? memchr(start, '\n', left) : NULL;
    if (nl == NULL) {
        lbudget_charge_bytes(L, left);
        return NULL;
    }
    *n = *len = (size_t)(nl - start);
    if (*len > 0 && start[*len - 1] == '\r')
        (*len)--;
    return start;
}

/* input:line([pattern]): the next line without its LF (and a CR before
 * it), or nil when no whole line is there yet (nothing is taken then).
 * With a pattern, the line is taken only when it matches, as
 * string.match(line, pattern) would, and the captures are returned;
 * when it does not, false, and nothing is taken. */
static int l_line(lua_State *L)
{
    linput *in = check_input(L);
    size_t n, len;
    const char *start = next_line(L, in, &n, &len);
    if (start == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (!lua_isnoneornil(L, 2)) {
        size_t lp;
        const char *p = luaL_checklstring(L, 2, &lp);
        lbudget_charge_bytes(L, n);     /* scanned */
        int results = lpattern_match(L, start, len, p, lp,
                                     lbudget_charge_steps, NULL, NULL);
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

/* The decimal digits s[0..len) as a count of at most max, or -1 when
 * they are not all digits, are none, or make more. */
static lua_Integer parse_count(const char *s, ptrdiff_t len, lua_Integer max)
{
    lua_Integer count = 0, most = max / 10;  /* before a digit is added */
    if (len <= 0)
        return -1;
    for (ptrdiff_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)((unsigned char)s[i] - '0');
        if (digit > 9 || count > most ||
            count * 10 > max - (lua_Integer)digit)
            return -1;
        count = count * 10 + (lua_Integer)digit;
    }
    return count;
}

/* A counted body that will never be there: false and why. */
static int refuse(lua_State *L, const char *why)
{
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
}

/* input:counted(pattern [, delimiter [, max]]): a body whose length a
 * header line gives. The next line must match pattern, and its last
 * capture (the whole match when pattern has none) be the body's length
 * in decimal digits, at most max; then come that many bytes, then the
 * delimiter when there is one. All of it is taken in one step, and the
 * body is returned, then the line's other captures. nil while it is not
 * all there; false and why when it never will be: "line" (no match),
 * "count" (not digits, or over max), "delimiter" (other bytes follow
 * the body). Nothing is taken unless the body is returned. One call in
 * place of line(pattern), tonumber and take(n, delimiter), and no
 * string made of the count. */
static int l_counted(lua_State *L)
{
    linput *in = check_input(L);
    size_t lp, dl = 0;
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *d = NULL;
    lua_Integer max = LUA_MAXINTEGER;
    if (lua_type(L, 3) > LUA_TNIL) {    /* luaL_opt*'s work, for less */
        d = luaL_checklstring(L, 3, &dl);
        luaL_argcheck(L, dl > 0, 3, "a delimiter cannot be empty");
    }
    if (lua_type(L, 4) > LUA_TNIL) {
        max = luaL_checkinteger(L, 4);
        luaL_argcheck(L, max >= 0, 4, "a byte count cannot be negative");
    }
    size_t n, len;
    const char *start = next_line(L, in, &n, &len);
    if (start == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lbudget_charge_bytes(L, n);         /* scanned */
    lpattern_span digits;
    int captures = lpattern_match(L, start, len, p, lp, lbudget_charge_steps,
                                  NULL, &digits);    /* ... captures */
    if (captures < 0)
        return refuse(L, "line");
    lua_Integer count = parse_count(digits.start, digits.len, max);
    if (count < 0)
        return refuse(L, "count");
    const char *body = start + n + 1;
    size_t left = in->len - in->pos - (n + 1);
    if ((lua_Unsigned)count > left || dl > left - (size_t)count) {
        lua_pushnil(L);                 /* not all there yet */
        return 1;
    }
    if (d != NULL) {
        lbudget_charge_bytes(L, dl);
        if (memcmp(body + count, d, dl) != 0)
            return refuse(L, "delimiter");
    }
    lbudget_charge_bytes(L, (size_t)count);
    lua_pushlstring(L, body, (size_t)count);    /* ... captures body */
    lua_insert(L, -(captures + 1));             /* ... body captures */
    in->pos += n + 1 + (size_t)count + dl;
    return captures + 1;
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
    slot->current = in;
    /* a new table each call, so that one kept past its call is refused */
    lua_createtable(L, 0, METHODS);                    /* input */
    in->object = lua_topointer(L, -1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);   /* input methods */
    for (int i = 1; i <= 2 * METHODS; i += 2) {
        lua_rawgeti(L, -1, i);                         /* input methods k */
        lua_rawgeti(L, -2, i + 1);                     /* input methods k f */
        lua_rawset(L, -4);                             /* input methods */
    }
    lua_pop(L, 1);                                     /* input */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &metatable_key); /* input mt */
    lua_setmetatable(L, -2);                           /* input */
}

void linput_open(lua_State *L, linput_slot *slot)
{
    static const luaL_Reg methods[METHODS + 1] = {
        {"line", l_line},
        {"take", l_take},
        {"counted", l_counted},
        {"commit", l_commit},
        {NULL, NULL}
    };
    static const luaL_Reg metamethods[] = {
        {"__len", l_len},
        {"__tostring", l_tostring},
        {NULL, NULL}
    };
    /* methods: name, closure, name, closure, ...: an array, which each
     * input is filled from without lua_next's search for the next key */
    lua_createtable(L, 2 * METHODS, 0);       /* methods */
    for (int i = 0; i < METHODS; i++) {
        lua_pushstring(L, methods[i].name);   /* methods name */
        lua_rawseti(L, -2, 2 * i + 1);        /* methods */
        lua_pushlightuserdata(L, slot);       /* methods slot */
        lua_pushcclosure(L, methods[i].func, 1);  /* methods fn */
        lua_rawseti(L, -2, 2 * i + 2);        /* methods */
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &methods_key);
    lua_newtable(L);                          /* mt */
    lua_pushlightuserdata(L, slot);           /* mt slot */
    luaL_setfuncs(L, metamethods, 1);         /* mt */
    lua_pushliteral(L, "input");              /* mt name */
    lua_setfield(L, -2, "__name");            /* mt */
    lsandbox_protect(L, -1);                  /* no finalizer planted */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &metatable_key);
}
