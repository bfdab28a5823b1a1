/* lcharge.c -- the library calls whose work grows with their arguments,
 * charged to the budget (see lcharge.h).
 *
 * A wrapper computes its charge from the arguments without raising (a
 * bad argument is left to the stock function, whose message the script
 * gets), charges, and calls the stock function, its upvalue 1. When that
 * is a light C function (upvalue 2 true) it is called in the wrapper's
 * own frame, where the arguments already are: no second call, and its
 * errors name the function the script called. */
#include "lcharge.h"

#include <lauxlib.h>
#include <limits.h>
#include <string.h>

#include "lbudget.h"

/* --- calling the stock function ----------------------------------------- */

static int call_stock(lua_State *L)
{
    if (lua_toboolean(L, lua_upvalueindex(2)))
        return lua_tocfunction(L, lua_upvalueindex(1))(L);
    lua_pushvalue(L, lua_upvalueindex(1));   /* args... stock */
    lua_insert(L, 1);                        /* stock args... */
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);                    /* results... */
}

/* Argument arg as an integer into *out, def when it is none or nil.
 * Returns 0, raising nothing, when it is not an integer. */
static int opt_integer(lua_State *L, int arg, lua_Integer def,
                       lua_Integer *out)
{
    int isnum = 1;
    *out = lua_isnoneornil(L, arg) ? def : lua_tointegerx(L, arg, &isnum);
    return isnum;
}

/* The length of the string argument arg, or 0 when it is no string. */
static size_t string_len(lua_State *L, int arg)
{
    return lua_type(L, arg) == LUA_TSTRING ? lua_rawlen(L, arg) : 0;
}

/* The number of integers from first to last (0 when empty), without
 * overflowing. */
static uint64_t span(lua_Integer first, lua_Integer last)
{
    return last < first ? 0 : (uint64_t)last - (uint64_t)first + 1;
}

/* --- base ---------------------------------------------------------------- */

/* The value of c as a digit of any base up to 36, or 36 when it is no
 * letter or digit (the C locale's isalnum, which the server never
 * changes). */
static int digit_of(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 36;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    return s;
}

/* lbaselib's b_str2int: s as an integer in base, wrapping around as it
 * does; the end of what was read, or NULL when no digit is there. */
static const char *str2int(const char *s, int base, lua_Integer *out)
{
    lua_Unsigned n = 0;
    int neg = 0, digit;
    s = skip_spaces(s);
    if (*s == '-') {
        s++;
        neg = 1;
    } else if (*s == '+') {
        s++;
    }
    if (digit_of((unsigned char)*s) == 36)
        return NULL;
    while ((digit = digit_of((unsigned char)*s)) < 36) {
        if (digit >= base)
            return NULL;
        n = n * (lua_Unsigned)base + (lua_Unsigned)digit;
        s++;
    }
    *out = (lua_Integer)(neg ? 0u - n : n);
    return skip_spaces(s);
}

/* tonumber(s [, base]) reads the whole string. */
static int l_tonumber(lua_State *L)
{
    if (lua_gettop(L) == 2 && lua_type(L, 1) == LUA_TSTRING &&
        lua_isinteger(L, 2)) {
        /* tonumber(s, base), which reads integers only (a request's
         * lengths): the stock one's way, without calling through */
        lua_Integer base = lua_tointeger(L, 2), n;
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        if (base >= 2 && base <= 36) {
            lbudget_charge(L, len);
            if (str2int(s, (int)base, &n) == s + len)
                lua_pushinteger(L, n);
            else
                luaL_pushfail(L);
            return 1;
        }
    }
    if (lua_gettop(L) == 1 && lua_type(L, 1) == LUA_TSTRING) {
        /* tonumber(s), the usual one, as the stock one does it, without
         * calling through to it */
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        lbudget_charge(L, len);
        size_t used = lua_stringtonumber(L, s);
        if (used == len + 1)
            return 1;
        if (used != 0)
            lua_pop(L, 1);       /* a number before a NUL: not one */
        lua_pushnil(L);
        return 1;
    }
    lbudget_charge(L, string_len(L, 1));
    return call_stock(L);
}

/* Functions that go over their arguments: string.char, select,
 * table.pack, math.max, math.min. */
static int l_by_arguments(lua_State *L)
{
    lbudget_charge(L, (uint64_t)lua_gettop(L));
    return call_stock(L);
}

/* utf8.char makes a string of each argument before it joins them. */
#define UTF8_CHAR_UNITS 8

static int l_utf8_char(lua_State *L)
{
    lbudget_charge(L, UTF8_CHAR_UNITS * (uint64_t)lua_gettop(L));
    return call_stock(L);
}

/* load's reader, wrapped: each piece it returns is charged (it is read
 * by the lexer, in C). */
static int l_load_piece(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));   /* reader */
    lua_call(L, 0, 1);                       /* piece */
    lbudget_charge(L, string_len(L, -1));
    return 1;
}

/* load(chunk, ...): the chunk's bytes, as the lexer reads them. */
static int l_load(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);                      /* reader ... reader */
        lua_pushcclosure(L, l_load_piece, 1);     /* reader ... charged */
        lua_replace(L, 1);                        /* charged ... */
    } else {
        lbudget_charge(L, string_len(L, 1));
    }
    return call_stock(L);
}

/* collectgarbage: a full collection, a step or a change of mode goes
 * over the whole heap. */
static int l_collectgarbage(lua_State *L)
{
    static const char *const whole_heap[] = {"collect", "step",
                                             "incremental", "generational",
                                             NULL};
    const char *opt = lua_isnoneornil(L, 1) ? "collect"
                                            : lua_tostring(L, 1);
    for (int i = 0; opt != NULL && whole_heap[i]; i++)
        if (strcmp(opt, whole_heap[i]) == 0) {
            lbudget_charge_bytes(L, lbudget_of(L)->alloc->used);
            break;
        }
    return call_stock(L);
}

/* --- string --------------------------------------------------------------- */

/* The positions of string.byte and string.unpack (lstrlib's rules). */
static uint64_t start_pos(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (uint64_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (uint64_t)pos + 1;
}

static lua_Integer end_pos(lua_Integer pos, size_t len)
{
    if (pos > (lua_Integer)len)
        return (lua_Integer)len;
    if (pos >= 0)
        return pos;
    if (pos < -(lua_Integer)len)
        return 0;
    return (lua_Integer)len + pos + 1;
}

/* string.byte(s [, i [, j]]): one value per byte. */
static int l_byte(lua_State *L)
{
    int top = lua_gettop(L);
    if (top <= 2 && lua_type(L, 1) == LUA_TSTRING &&
        (top == 1 || lua_isinteger(L, 2))) {
        /* s:byte() and s:byte(i), the usual ones, without calling
         * through to the stock function: in a small request's parsing the
         * call through cost more than the rest */
        size_t n;
        const char *s = lua_tolstring(L, 1, &n);
        lua_Integer i = top == 2 ? lua_tointeger(L, 2) : 1;
        uint64_t first = start_pos(i, n);
        if (first > (uint64_t)end_pos(i, n) || end_pos(i, n) == 0)
            return 0;
        lbudget_charge(L, 1);
        lua_pushinteger(L, (unsigned char)s[first - 1]);
        return 1;
    }
    size_t len = string_len(L, 1);
    lua_Integer i, j;
    if (opt_integer(L, 2, 1, &i) && opt_integer(L, 3, i, &j))
        lbudget_charge(L, span((lua_Integer)start_pos(i, len),
                               end_pos(j, len)));
    return call_stock(L);
}

/* string.pack, packsize and unpack read their format (its options that
 * make no bytes, "<", " ", "!", cost as much); the bytes they make or
 * copy are the allocator's, and every value is one option or more. */
static int l_by_format(lua_State *L)
{
    lbudget_charge(L, string_len(L, 1));
    return call_stock(L);
}

/* string.rep(s, n [, sep]), with the stock results and errors. The stock
 * one copies once per repetition (8 ns a byte for a one-byte s) and loops
 * n times when s and sep are empty, in one call; this one copies what is
 * done so far, doubling it. The result is charged by the allocator. */
static int l_rep(lua_State *L)
{
    size_t len, sep_len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &sep_len);
    size_t unit = len + sep_len;
    if (n <= 0 || unit == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    /* lstrlib's MAXSIZE: results fit in an int */
    if (unit < len || unit > (size_t)INT_MAX / (uint64_t)n)
        return luaL_error(L, "resulting string too large");
    size_t body = (size_t)(n - 1) * unit;   /* the copies followed by sep */
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, body + len);
    if (body > 0) {
        memcpy(out, s, len);
        memcpy(out + len, sep, sep_len);
        for (size_t done = unit; done < body;) {
            size_t more = done < body - done ? done : body - done;
            memcpy(out + done, out, more);
            done += more;
        }
    }
    memcpy(out + body, s, len);
    luaL_pushresultsize(&b, body + len);
    return 1;
}

/* --- table --------------------------------------------------------------- */

#define TAB_R 1 /* what an argument that is no table must mimic */
#define TAB_W 2
#define TAB_L 4

/* Elements moved between two charges in the loops below. */
#define SLICE 4096
/* What moving or joining one element costs, and one comparison of a
 * sort: about as much as the Lua instructions that would do it (a get,
 * a set and the loop's step; a call of an order function), measured. */
#define ELEMENT_UNITS 4
#define ORDER_UNITS 8

/* ltablib's rule: arg is a table, or has a metatable with the
 * metamethods the function needs; else "table expected". */
static void check_table(lua_State *L, int arg, int what)
{
    static const char *const fields[] = {"__index", "__newindex", "__len"};
    if (lua_type(L, arg) == LUA_TTABLE)
        return;
    int ok = lua_getmetatable(L, arg);               /* ... mt? */
    for (int k = 0; ok && k < 3; k++)
        if (what & (1 << k)) {
            lua_pushstring(L, fields[k]);            /* mt key */
            ok = lua_rawget(L, -2) != LUA_TNIL;      /* mt value */
            lua_pop(L, 1);                           /* mt */
        }
    if (!ok)
        luaL_checktype(L, arg, LUA_TTABLE);          /* raises */
    lua_pop(L, 1);                                   /* ... */
}

static lua_Integer get_length(lua_State *L, int arg, int what)
{
    check_table(L, arg, what | TAB_L);
    return luaL_len(L, arg);
}

/* Move t[from] to t[to], for table argument 1. */
static void move_element(lua_State *L, lua_Integer from, lua_Integer to)
{
    lua_geti(L, 1, from);
    lua_seti(L, 1, to);
}

/* table.insert(t, [pos,] v): the elements shifted up are charged. */
static int l_insert(lua_State *L)
{
    lua_Integer end = get_length(L, 1, TAB_R | TAB_W);
    lua_Integer pos;
    end = (lua_Integer)((lua_Unsigned)end + 1u); /* the first empty slot */
    switch (lua_gettop(L)) {
    case 2:
        pos = end;
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)end, 2,
                      "position out of bounds");
        for (lua_Integer i = end; i > pos; i--) {
            if ((end - i) % SLICE == 0)
                lbudget_charge(L, ELEMENT_UNITS *
                               (uint64_t)(i - pos < SLICE ? i - pos : SLICE));
            move_element(L, i - 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);                             /* t[pos] = v */
    return 0;
}

/* table.remove(t [, pos]): the elements shifted down are charged. */
static int l_remove(lua_State *L)
{
    lua_Integer size = get_length(L, 1, TAB_R | TAB_W);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) /* argument 1 in the message, as the stock one says */
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1,
                      "position out of bounds");
    lua_geti(L, 1, pos);                             /* t[pos] */
    for (lua_Integer first = pos; pos < size; pos++) {
        if ((pos - first) % SLICE == 0)
            lbudget_charge(L, ELEMENT_UNITS *
                           (uint64_t)(size - pos < SLICE ? size - pos
                                                         : SLICE));
        move_element(L, pos + 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);                             /* t[pos] = nil */
    return 1;
}

static void add_element(lua_State *L, luaL_Buffer *b, lua_Integer i)
{
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid value (%s) at index %I in table for "
                   "'concat'", luaL_typename(L, -1), (lua_Integer)i);
    luaL_addvalue(b);
}

/* table.concat(t [, sep [, i [, j]]]): the elements joined are charged
 * (the result is the allocator's). */
static int l_concat(lua_State *L)
{
    luaL_Buffer b;
    lua_Integer last = get_length(L, 1, TAB_R);
    size_t sep_len;
    const char *sep = luaL_optlstring(L, 2, "", &sep_len);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    last = luaL_optinteger(L, 4, last);
    luaL_buffinit(L, &b);
    for (lua_Integer first = i; i < last; i++) {
        if ((uint64_t)(i - first) % SLICE == 0)
            lbudget_charge(L, ELEMENT_UNITS * SLICE);
        add_element(L, &b, i);
        luaL_addlstring(&b, sep, sep_len);
    }
    if (i == last)
        add_element(L, &b, i);
    luaL_pushresult(&b);
    return 1;
}

/* table.unpack(t [, i [, j]]): one value per element. The length is
 * taken here, once, and handed on. */
static int l_unpack(lua_State *L)
{
    lua_Integer i, j;
    if (!opt_integer(L, 2, 1, &i))
        return call_stock(L);                  /* its error on argument 2 */
    if (lua_isnoneornil(L, 3)) {
        j = luaL_len(L, 1);
        lua_settop(L, 2);                      /* t i|nil */
        lua_pushinteger(L, j);                 /* t i|nil j */
    } else if (!opt_integer(L, 3, 0, &j)) {
        return call_stock(L);                  /* its error on argument 3 */
    }
    /* no more than a stack holds: past that the stock one refuses */
    uint64_t n = span(i, j);
    lbudget_charge(L, n < (1u << 20) ? n : (1u << 20));
    return call_stock(L);
}

/* table.move(a1, f, e, t [, a2]) in slices of SLICE elements, each
 * charged, in the order the stock one would copy: one call of the stock
 * function for a huge range never returned. */
static int l_move(lua_State *L)
{
    lua_Integer f, e, t;
    int dest = lua_isnoneornil(L, 5) ? 1 : 5;
    if (!opt_integer(L, 2, 0, &f) || !opt_integer(L, 3, 0, &e) ||
        !opt_integer(L, 4, 0, &t) || lua_isnone(L, 4) || e < f ||
        (f <= 0 && e >= LUA_MAXINTEGER + f) || span(f, e) <= SLICE ||
        t > LUA_MAXINTEGER - (lua_Integer)(span(f, e) - 1))
        return call_stock(L); /* small, empty, or the stock error */
    check_table(L, 1, TAB_R);
    check_table(L, dest, TAB_W);
    int upward = t > e || t <= f ||
                 (dest != 1 && !lua_compare(L, 1, dest, LUA_OPEQ));
    lua_settop(L, 5);
    lua_pushvalue(L, dest);                     /* a1 f e t a2 dest */
    for (lua_Integer done = 0, n = e - f + 1; done < n; done += SLICE) {
        lua_Integer count = n - done < SLICE ? n - done : SLICE;
        /* upward: the slices from f on; downward: from e back */
        lua_Integer from = upward ? f + done : e - done - count + 1;
        lbudget_charge(L, ELEMENT_UNITS * (uint64_t)count);
        lua_pushvalue(L, lua_upvalueindex(1)); /* ... move */
        lua_pushvalue(L, 1);
        lua_pushinteger(L, from);
        lua_pushinteger(L, from + count - 1);
        lua_pushinteger(L, t + (from - f));
        lua_pushvalue(L, 6);                   /* ... move a1 f e t dest */
        lua_call(L, 5, 0);                     /* ... */
    }
    return 1;                                  /* dest */
}

/* The order function table.sort gets when it was given none (upvalue 1
 * nil: "<") or a C function (upvalue 1): each comparison is charged,
 * with the bytes two strings compare, so a long sort stops mid-way. */
static int l_order(lua_State *L)
{
    int less;
    uint64_t shorter = string_len(L, 1) < string_len(L, 2)
                     ? string_len(L, 1) : string_len(L, 2);
    lbudget_charge(L, ORDER_UNITS + shorter / LBUDGET_BYTES_PER_INSTRUCTION);
    if (lua_isnil(L, lua_upvalueindex(1))) {
        less = lua_compare(L, 1, 2, LUA_OPLT);
    } else {
        lua_pushvalue(L, lua_upvalueindex(1)); /* a b f */
        lua_insert(L, 1);                      /* f a b */
        lua_call(L, 2, 1);                     /* result */
        less = lua_toboolean(L, -1);
    }
    lua_pushboolean(L, less);
    return 1;
}

/* Up to this many elements of a plain table (tens of milliseconds of
 * sorting), a sort without a Lua order function is charged n log2 n
 * comparisons up front and runs at full speed. */
#define SORT_UP_FRONT 65536

/* table.sort(t [, comp]). A Lua order function is budgeted as Lua is. */
static int l_sort(lua_State *L)
{
    int comp = lua_type(L, 2);
    if (comp == LUA_TFUNCTION && !lua_iscfunction(L, 2))
        return call_stock(L);
    if (comp != LUA_TFUNCTION && comp != LUA_TNIL && comp != LUA_TNONE)
        return call_stock(L);                  /* its error on argument 2 */
    if (lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1)) {
        size_t n = lua_rawlen(L, 1);
        if (n <= SORT_UP_FRONT) {
            uint64_t log2n = 1;
            while (((size_t)1 << log2n) < n)
                log2n++;
            lbudget_charge(L, ORDER_UNITS * n * log2n);
            return call_stock(L);
        }
    } else if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pop(L, 1);                         /* t comp? */
    }
    lua_settop(L, 2);                          /* t comp|nil */
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, l_order, 1);           /* t comp order */
    lua_replace(L, 2);                         /* t order */
    return call_stock(L);
}

/* table.create(nseq [, nrec]), Lua 5.5's, for a Lua without it: a table
 * with room for nseq elements in sequence and nrec other fields, so
 * filling it never rehashes (three rehashes made up a tenth of a small
 * request's parsing). The room is the allocator's to refuse; setting it
 * up is charged. */
static int l_create(lua_State *L)
{
    lua_Integer nseq = luaL_checkinteger(L, 1);
    lua_Integer nrec = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, nseq >= 0 && nseq <= INT_MAX, 1, "out of range");
    luaL_argcheck(L, nrec >= 0 && nrec <= INT_MAX, 2, "out of range");
    lbudget_charge(L, (uint64_t)nseq + (uint64_t)nrec);
    lua_createtable(L, (int)nseq, (int)nrec);
    return 1;
}

/* --- utf8 ---------------------------------------------------------------- */

/* lutf8lib's positions. */
static lua_Integer utf8_pos(lua_Integer pos, size_t len)
{
    if (pos >= 0)
        return pos;
    if (0u - (size_t)pos > len)
        return 0;
    return (lua_Integer)len + pos + 1;
}

/* The bytes from i to j (1-based, inclusive) of a string of len bytes
 * that a scan reads, at most len. */
static uint64_t scanned(lua_Integer i, lua_Integer j, size_t len)
{
    if (i < 1)
        i = 1;
    if (j > (lua_Integer)len)
        j = (lua_Integer)len;
    return span(i, j);
}

/* utf8.len(s [, i [, j [, lax]]]) reads the bytes from i to j. */
static int l_utf8_len(lua_State *L)
{
    size_t len = string_len(L, 1);
    lua_Integer i, j;
    if (opt_integer(L, 2, 1, &i) && opt_integer(L, 3, -1, &j))
        lbudget_charge(L, scanned(utf8_pos(i, len), utf8_pos(j, len),
                                  len));
    return call_stock(L);
}

/* utf8.codepoint(s [, i [, j [, lax]]]): a value per character. */
static int l_utf8_codepoint(lua_State *L)
{
    size_t len = string_len(L, 1);
    lua_Integer i, j;
    if (opt_integer(L, 2, 1, &i)) {
        i = utf8_pos(i, len);
        if (opt_integer(L, 3, i, &j))
            lbudget_charge(L, scanned(i, utf8_pos(j, len), len));
    }
    return call_stock(L);
}

/* utf8.offset(s, n [, i]): the bytes between i and the answer (a run of
 * continuation bytes is one step for it). */
static int l_utf8_offset(lua_State *L)
{
    size_t len = string_len(L, 1);
    lua_Integer n, i;
    int known = opt_integer(L, 2, 0, &n) && !lua_isnone(L, 2) &&
                opt_integer(L, 3, n >= 0 ? 1 : (lua_Integer)len + 1, &i);
    int results = call_stock(L);
    if (known) {
        lua_Integer at = lua_isinteger(L, -results)
                       ? lua_tointeger(L, -results) : 0;
        i = utf8_pos(i, len);
        lbudget_charge(L, at == 0 ? len : at > i ? (uint64_t)(at - i)
                                                 : (uint64_t)(i - at));
    }
    return results;
}

/* A step of utf8.codes' loop: the bytes it went over. */
static int l_utf8_codes_step(lua_State *L)
{
    size_t len = string_len(L, 1);
    lua_Integer from = lua_tointeger(L, 2);
    int results = lua_tocfunction(L, lua_upvalueindex(1))(L);
    lua_Integer to = results > 0 && lua_isinteger(L, -results)
                   ? lua_tointeger(L, -results) : (lua_Integer)len;
    if (to > from)
        lbudget_charge(L, (uint64_t)(to - from));
    return results;
}

/* utf8.codes(s [, lax]): the stock loop, its step charged. */
static int l_utf8_codes(lua_State *L)
{
    int results = call_stock(L);               /* step s 0 */
    if (results == 3 && lua_tocfunction(L, -3) != NULL) {
        lua_pushvalue(L, -3);                  /* step s 0 step */
        lua_pushcclosure(L, l_utf8_codes_step, 1);
        lua_replace(L, -4);                    /* charged s 0 */
    }
    return results;
}

/* --- installing ---------------------------------------------------------- */

typedef struct charged {
    const char *lib;   /* a global table; NULL: the global itself */
    const char *name;
    lua_CFunction fn;
    int wraps;         /* 1: fn calls the stock function (upvalues);
                        * -1: fn is new, added when there is none */
} charged;

static const charged functions[] = {
    {NULL, "tonumber", l_tonumber, 1},
    {NULL, "load", l_load, 1},
    {NULL, "collectgarbage", l_collectgarbage, 1},
    {NULL, "select", l_by_arguments, 1},
    {"string", "byte", l_byte, 1},
    {"string", "char", l_by_arguments, 1},
    {"string", "pack", l_by_format, 1},
    {"string", "packsize", l_by_format, 1},
    {"string", "unpack", l_by_format, 1},
    {"string", "rep", l_rep, 0},
    {"table", "concat", l_concat, 0},
    {"table", "insert", l_insert, 0},
    {"table", "remove", l_remove, 0},
    {"table", "unpack", l_unpack, 1},
    {"table", "move", l_move, 1},
    {"table", "sort", l_sort, 1},
    {"table", "pack", l_by_arguments, 1},
    {"table", "create", l_create, -1},
    {"math", "max", l_by_arguments, 1},
    {"math", "min", l_by_arguments, 1},
    {"utf8", "char", l_utf8_char, 1},
    {"utf8", "len", l_utf8_len, 1},
    {"utf8", "codepoint", l_utf8_codepoint, 1},
    {"utf8", "offset", l_utf8_offset, 1},
    {"utf8", "codes", l_utf8_codes, 1},
};

void lcharge_open(lua_State *L)
{
    size_t count = sizeof functions / sizeof functions[0];
    for (size_t k = 0; k < count; k++) {
        const charged *c = &functions[k];
        if (c->lib == NULL)
            lua_pushglobaltable(L);                   /* lib */
        else if (lua_getglobal(L, c->lib) != LUA_TTABLE) {
            lua_pop(L, 1);                            /* not opened */
            continue;
        }
        if (lua_getfield(L, -1, c->name) != LUA_TFUNCTION) { /* lib f */
            lua_pop(L, 1);                            /* lib */
            if (c->wraps < 0) {
                lua_pushcfunction(L, c->fn);          /* lib fn */
                lua_setfield(L, -2, c->name);         /* lib */
            }
            lua_pop(L, 1);                            /* */
            continue;
        }
        if (c->wraps < 0) {          /* the Lua has its own: kept */
            lua_pop(L, 2);                            /* */
            continue;
        }
        if (c->wraps > 0) {
            /* a light C function: no upvalue 1 (the sandbox's load has
             * one, the stock load has none) */
            int light = 0;
            if (lua_iscfunction(L, -1)) {
                light = lua_getupvalue(L, -1, 1) == NULL; /* lib f up? */
                if (!light)
                    lua_pop(L, 1);                    /* lib f */
            }
            lua_pushboolean(L, light);                /* lib f light */
            lua_pushcclosure(L, c->fn, 2);            /* lib wrapper */
        } else {
            lua_pop(L, 1);                            /* lib */
            lua_pushcfunction(L, c->fn);              /* lib fn */
        }
        lua_setfield(L, -2, c->name);                 /* lib */
        lua_pop(L, 1);                                /* */
    }
}
