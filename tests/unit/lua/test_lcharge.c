/* test_lcharge.c -- the charged library functions: the same results and
 * error messages as the stock ones (the rewritten string.rep,
 * table.concat, insert and remove, and the wrapped rest), and the stops
 * the charges bring: a call that does too much, or takes too long, is
 * stopped. */
#include <lauxlib.h>
#include <lualib.h>

#include "cases.h"
#include "clock.h"
#include "lalloc.h"
#include "lbudget.h"
#include "lcharge.h"
#include "test.h"

/* Both states define show(...): the values, typed, one string. Tables
 * show their array part (raw: a __len or __index does not run). */
static const char show_source[] =
    "function show(...)\n"
    "  local out = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'table' then\n"
    "      local parts = {}\n"
    "      for k = 1, rawlen(v) do parts[k] = tostring(rawget(v, k)) end\n"
    "      out[i] = '{' .. table.concat(parts, ',') .. '}'\n"
    "    else\n"
    "      out[i] = type(v) .. ':' .. tostring(v)\n"
    "    end\n"
    "  end\n"
    "  return table.concat(out, ' ')\n"
    "end\n";

typedef struct charged_state {
    lua_State *L;
    lalloc alloc;
    lbudget budget;
} charged_state;

static int open_charged(lua_State *L)
{
    lbudget_open(L);
    lcharge_open(L);
    return 0;
}

/* A state with the standard libraries, and (charged) the budget and the
 * charged functions, under limit instructions and timeout_ms. */
static void state_open(charged_state *cs, int charged, uint64_t limit,
                       uint64_t timeout_ms)
{
    lalloc_init(&cs->alloc, 0);
    cs->L = lua_newstate(lalloc_fn, &cs->alloc);
    ASSERT(cs->L != NULL);
    luaL_openlibs(cs->L);
    if (charged) {
        lbudget_install(cs->L, &cs->budget, limit, timeout_ms, &cs->alloc);
        lua_pushcfunction(cs->L, open_charged);
        ASSERT_EQ(lua_pcall(cs->L, 0, 0, 0), LUA_OK);
    }
    ASSERT_EQ(luaL_dostring(cs->L, show_source), LUA_OK);
}

static void state_close(charged_state *cs)
{
    lua_close(cs->L);
    lalloc_release(&cs->alloc);
}

/* Run chunk (whose results go through show) in L: "ok: ...", or
 * "error: message", into out. */
static void run(charged_state *cs, const char *chunk, char *out, size_t cap)
{
    lua_State *L = cs->L;
    char source[4096];
    snprintf(source, sizeof source, "return show((function() %s end)())",
             chunk);
    if (cs->budget.main == L)
        lbudget_arm(&cs->budget);
    int status = luaL_loadstring(L, source);
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 1, 0);
    snprintf(out, cap, "%s: %s", status == LUA_OK ? "ok" : "error",
             lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
    lua_pop(L, 1);
}

/* Each chunk (a function body that returns the values to compare) must
 * give the stock result in the charged state. */
static const char *const same_as_stock[] = {
    /* string.rep */
    "return string.rep('ab', 3), string.rep('ab', 3, '-')",
    "return string.rep('', 5), string.rep('', 5, ''), string.rep('x', 0)",
    "return string.rep('x', -1), string.rep('x', 1), string.rep('', 1, 'x')",
    "return string.rep('abc', 7, ', '), ('5'):rep('3')",
    "local t = {} for n = 0, 70 do for _, s in ipairs({'', 'a', 'xyz'}) do"
    "  for _, sep in ipairs({'', '-', '<=>'}) do"
    "   t[#t + 1] = string.rep(s, n, sep) end end end"
    " return table.concat(t, '|')",
    "return #string.rep('abcdefg', 100000, '12')",
    "return string.rep('x', 1 << 31)",
    "return string.rep('xy', 1 << 30)",
    "return string.rep('x', 1 << 40, 'yy')",
    "return string.rep(nil, 2)",
    "return string.rep('x', 2.5)",
    "return string.rep('x')",
    "return string.rep('x', 2, {})",
    /* table.concat */
    "return table.concat({1, 2, 3}), table.concat({'a', 'b'}, '-')",
    "return table.concat({'a', 'b', 'c'}, ',', 2, 3)",
    "return table.concat({}, ','), table.concat({'a'}, ',', 3, 1)",
    "return table.concat({1.5, 2, 'x'}, 0)",
    "return table.concat({1, {}, 3})",
    "return table.concat({1, 2}, ',', 1, 3)",
    "return table.concat(nil)",
    "return table.concat('x')",
    "return table.concat({}, {})",
    "return table.concat({'a'}, '', 'x')",
    "return table.concat(setmetatable({}, {__index = function(t, i)"
    " return 'v' .. i end, __len = function() return 3 end}), '+')",
    "local t = {} for i = 1, 10000 do t[i] = i % 7 end"
    " return #table.concat(t, ';'), table.concat(t, '', 9990)",
    "return table.concat(setmetatable({}, {__index = {}}))",
    /* table.insert */
    "local t = {1, 2, 3} table.insert(t, 4) table.insert(t, 1, 0)"
    " table.insert(t, 6, 9) return t",
    "local t = {1, 2, 3} table.insert(t, 6, 9) return t",
    "local t = {1, 2, 3} table.insert(t, 0, 9) return t",
    "return table.insert({})",
    "return table.insert({}, 1, 2, 3)",
    "return table.insert({}, 'x', 1)",
    "return table.insert(nil, 1)",
    "return table.insert(setmetatable({}, {__index = {}}), 1)",
    "local log = {} local p = setmetatable({}, {"
    " __len = function() return 2 end,"
    " __index = function(t, k) log[#log + 1] = 'get' .. k return k end,"
    " __newindex = function(t, k, v) log[#log + 1] = 'set' .. k .. '=' .. v"
    " end}) table.insert(p, 1, 'x') return log",
    "local t = {} for i = 1, 9000 do t[i] = i end table.insert(t, 2, 0)"
    " return #t, t[1], t[2], t[3], t[9001]",
    /* table.remove */
    "local t = {1, 2, 3} return table.remove(t), t",
    "local t = {1, 2, 3} return table.remove(t, 1), t",
    "local t = {1, 2, 3} return table.remove(t, 4), t",
    "local t = {1, 2, 3} return table.remove(t, 5), t",
    "return table.remove({}), table.remove({}, 0), table.remove({}, 1)",
    "return table.remove({}, 2)",
    "return table.remove({1}, 'x')",
    "return table.remove(nil)",
    "local t = {} for i = 1, 9000 do t[i] = i end"
    " return table.remove(t, 2), #t, t[2], t[8999]",
    /* table.unpack */
    "return table.unpack({1, 2, 3})",
    "return table.unpack({1, 2, 3}, 2), table.unpack({1, 2, 3}, 2, 3)",
    "return table.unpack({1, 2, 3}, 3, 2)",
    "return table.unpack({1, 2, 3}, -1, 1)",
    "return table.unpack({}, 1, 1e8)",
    "return table.unpack({}, math.mininteger, math.maxinteger)",
    "return table.unpack(nil)",
    "return table.unpack({1, 2, 3}, 'x')",
    "return table.unpack({1, 2, 3}, 1, {})",
    "return table.unpack(setmetatable({}, {__len = function() return 2 end,"
    " __index = function(t, i) return i * 10 end}))",
    "return select('#', table.unpack({}, 1, 20000))",
    /* table.move */
    "return table.move({1, 2, 3}, 1, 3, 2)",
    "return table.move({1, 2, 3}, 2, 3, 1)",
    "return table.move({1, 2, 3}, 1, 3, 1, {})",
    "return table.move({1, 2, 3}, 1, 0, 1, {9})",
    "return table.move({}, 1, math.maxinteger, 2)",
    "return table.move({}, -1, math.maxinteger, 1)",
    "return table.move({}, 1, 2)",
    "return table.move(nil, 1, 2, 3)",
    "return table.move({}, 1, 10000, 1, 5)",
    "local function sum(t, n) local s = 0 for i = 1, n do"
    "  s = s + (t[i] or 0) * i end return s end"
    " local function fresh() local t = {} for i = 1, 10000 do t[i] = i end"
    "  return t end"
    " local a = table.move(fresh(), 1, 10000, 3)"
    " local b = table.move(fresh(), 3, 10000, 1)"
    " local c = table.move(fresh(), 1, 9000, 1001)"
    " local d = table.move(fresh(), 1, 10000, 20001, {})"
    " local e = fresh() table.move(e, 2, 9999, 1, e)"
    " return sum(a, 10002), sum(b, 10000), sum(c, 10000), sum(d, 30000),"
    "  sum(e, 10000)",
    "local t = setmetatable({}, {__index = function(_, i) return i end})"
    " return table.move(t, 1, 5000, 2, {})[5001]",
    /* table.sort */
    "local t = {5, 2, 8, 1, 9, 3} table.sort(t) return t",
    "local t = {'b', 'a', 'c', 'ab'} table.sort(t) return t",
    "local t = {5, 2, 8, 1} table.sort(t, function(a, b) return a > b end)"
    " return t",
    "local t = {-1, 2, -3, 4} table.sort(t, math.ult) return t",
    "local t = {1, 'x', 3} table.sort(t) return t",
    "return table.sort({3, 2, 1}, 5)",
    "return table.sort(nil)",
    "local t, x = {}, 7 for i = 1, 70000 do x = (x * 48271) % 2147483647"
    "  t[i] = x % 1000 end table.sort(t)"
    " return t[1], t[1000], t[35000], t[70000]",
    "local t, x = {}, 7 for i = 1, 70000 do x = (x * 48271) % 2147483647"
    "  t[i] = tostring(x) end table.sort(t, math.ult and nil)"
    " return t[1], t[70000]",
    "local t, x = {}, 7 for i = 1, 70000 do x = (x * 48271) % 2147483647"
    "  t[i] = x end table.sort(t, math.ult) return t[1], t[70000]",
    "local t = {} for i = 1, 70000 do t[i] = i end t[500] = 'x'"
    " table.sort(t) return t",
    "local p = setmetatable({}, {__len = function() return 3 end,"
    " __index = {3, 1, 2}, __newindex = function() end})"
    " table.sort(p) return 'sorted'",
    /* string.byte, pack, unpack, packsize */
    "return string.byte('hello', 1, -1)",
    "return string.byte('hello'), string.byte('hello', 10), ('x'):byte(-9)",
    "return string.byte('hello', 2, 1), string.byte('', 1)",
    "return ('hello'):byte(0), ('hello'):byte(-1), ('hello'):byte(-5),"
    " ('hello'):byte(-6), (''):byte(), ('a\\0b'):byte(2),"
    " ('hello'):byte(2.0), ('hello'):byte(math.maxinteger),"
    " ('hello'):byte(math.mininteger), ('hello'):byte('3')",
    "return string.byte('hello', {})",
    "return select('#', string.byte(string.rep('x', 30000), 1, -1))",
    "return string.pack('<i4 z', 7, 'ab'), string.packsize('<i4 i8')",
    "return string.unpack('<i4', string.pack('<i4', -3))",
    "return string.unpack('z', 'abc', 5)",
    "return string.packsize('s')",
    "return string.pack({})",
    /* utf8 */
    "return utf8.len('h\\u{E9}llo'), utf8.len('h\\u{E9}llo', 3),"
    " utf8.len('\\xff')",
    "return utf8.len('abc', 5), utf8.len('abc', -10)",
    "return utf8.len('abc', 1, {})",
    "return utf8.codepoint('h\\u{E9}llo', 1, -1)",
    "return utf8.codepoint('abc', 4)",
    "return utf8.codepoint('\\xff')",
    "return utf8.offset('h\\u{E9}llo', 3), utf8.offset('h\\u{E9}llo', -1)",
    "return utf8.offset('abc', 10), utf8.offset('abc', 0, 2)",
    "return utf8.offset('\\x80\\x80', 1)",
    "return utf8.offset('abc')",
    "local r = {} for p, c in utf8.codes('h\\u{E9}llo') do"
    "  r[#r + 1] = p .. ':' .. c end return table.concat(r, ' ')",
    "for p, c in utf8.codes('a\\xffb') do end",
    "local r = {} for p, c in utf8.codes('a\\x80\\x80\\x80b', true) do"
    "  r[#r + 1] = p .. ':' .. c end return table.concat(r, ' ')",
    "return utf8.char(72, 0xE9, 0x10FFFF), utf8.char()",
    "return utf8.char(-1)",
    /* base */
    "return tonumber('  12  '), tonumber('0x10'), tonumber('z', 36),"
    " tonumber('12a'), tonumber(nil)",
    "return tonumber('10', 99)",
    "return tonumber('1\\0'), tonumber('0x'), tonumber(' 5 '),"
    " tonumber('1e3'), tonumber(''), tonumber('-0x7fffffffffffffff'),"
    " tonumber('9223372036854775808'), tonumber('\\0')",
    "return tonumber()",
    /* tonumber(s, base): the fast path's edges */
    "return tonumber('3', 10), tonumber(' -12 ', 10), tonumber('+7', 10),"
    " tonumber('1.5', 10), tonumber('', 10), tonumber('-', 10),"
    " tonumber('  ', 10), tonumber('12 3', 10), tonumber('1\\0', 10)",
    "return tonumber('ff', 16), tonumber('FF', 16), tonumber('zz', 36),"
    " tonumber('2', 2), tonumber('101', 2), tonumber('\\t9\\v', 10),"
    " tonumber('99999999999999999999', 10), tonumber('-9223372036854775808', 10)",
    "return tonumber('10', 1)",
    "return tonumber('10', 37)",
    "return tonumber(10, 10)",
    "return tonumber('10', 10.0), tonumber('10', '16')",
    "return tonumber('10', 10.5)",
    "return load('return 1 + 1')(), load('syntax error here')",
    "local parts = {'return ', '4', '2'} local i = 0"
    " return load(function() i = i + 1 return parts[i] end)()",
    "return load(function() return {} end)",
    "return load(nil)",
    "return type(collectgarbage('count')), collectgarbage('isrunning')",
    "return collectgarbage('step'), collectgarbage('nonsense')",
    "return select('#', 1, 2, 3), select(2, 'a', 'b', 'c'), select(-1, 1, 2)",
    "return select(0, 1)",
    "return string.char(104, 105), string.char(256)",
    "return math.max(3, 9, 2), math.min(3, 9, 2), math.max()",
    "local t = table.pack(1, nil, 3) return t.n, t[1], t[3]",
    "return coroutine.resume(coroutine.create(function(a, b)"
    " local c = coroutine.yield(a + b) return c * 2 end), 1, 2)",
};

void test_lcharge_matches_stock(void)
{
    charged_state stock, mine;
    char want[4096], got[4096];
    state_open(&stock, 0, 0, 0);
    /* a budget too big to stop anything: every charge still runs */
    state_open(&mine, 1, (uint64_t)1 << 50, 0);
    size_t count = sizeof same_as_stock / sizeof same_as_stock[0];
    for (size_t i = 0; i < count; i++) {
        run(&stock, same_as_stock[i], want, sizeof want);
        run(&mine, same_as_stock[i], got, sizeof got);
        if (strcmp(want, got) != 0)
            TEST_FAIL("%s\n  stock:   %s\n  charged: %s", same_as_stock[i],
                      want, got);
    }
    state_close(&stock);
    state_close(&mine);
}

/* Each chunk is one call (or a few) that does far more than the budget of
 * STOPS_BUDGET instructions allows, in a handful of instructions. */
#define STOPS_BUDGET 100000
static const char *const stopped[] = {
    "local s = string.rep('x', 1000000)",              /* built */
    "local s = ('x'):rep(500000) local t = s .. s",
    "return #string.byte(string.rep('x', 200000), 1, -1)",
    "return tonumber(string.rep(' ', 200000))",
    "return utf8.len(string.rep('a', 200000))",
    "return string.packsize(string.rep('<', 200000))",
    "return load('--' .. string.rep('x', 200000))",
    "local s = string.rep(' ', 20000) return load(function() return s end)",
    "local t = {} for i = 1, 30000 do t[i] = '' end return table.concat(t)",
    "return table.move({}, 1, 1 << 40, 2)",
    "local t = {} for i = 1, 30000 do t[i] = i end table.insert(t, 1, 0)",
    "local t = {} for i = 1, 30000 do t[i] = i end table.remove(t, 1)",
    "local t = {} for i = 1, 30000 do t[i] = -i end table.sort(t)",
    "local t = {} for i = 1, 70000 do t[i] = -i end table.sort(t)",
    "return select('#', table.unpack({}, 1, 200000))",
    "return table.create(200000)",
    "return table.create(0, 200000)",
    "return string.char(table.unpack({}, 1, 50000))",
    "local s = string.rep('x', 300000) collectgarbage() collectgarbage()",
};

void test_lcharge_stops(void)
{
    charged_state mine;
    char got[4096];
    char want[128];
    snprintf(want, sizeof want, "error: stopped: over the budget of %d "
             "instructions", STOPS_BUDGET);
    state_open(&mine, 1, STOPS_BUDGET, 0);
    size_t count = sizeof stopped / sizeof stopped[0];
    for (size_t i = 0; i < count; i++) {
        run(&mine, stopped[i], got, sizeof got);
        if (strncmp(got, want, strlen(want)) != 0)
            TEST_FAIL("%s\n  expected a stop, got: %s", stopped[i], got);
    }
    /* where the stock string.rep loops 2^63 times, doing nothing */
    run(&mine, "return string.rep('', math.maxinteger, '')", got,
        sizeof got);
    ASSERT_STR_EQ(got, "ok: string:");
    /* the same state serves a call within its budget afterwards */
    run(&mine, "return string.rep('ab', 3)", got, sizeof got);
    ASSERT_STR_EQ(got, "ok: string:ababab");
    state_close(&mine);
}

/* table.create(nseq [, nrec]), Lua 5.5's, added where the Lua has none:
 * an empty table with room; arguments out of range raise as 5.5's do;
 * room the allocator refuses is Lua's "not enough memory", and the state
 * serves the next call. */
void test_lcharge_table_create(void)
{
    static const char *const cases[][2] = {
        {"return type(table.create)", "ok: string:function"},
        {"local t = table.create(3) return t, #t, next(t)",
         "ok: {} number:0 nil:nil"},
        {"local t = table.create(2, 3) t[1] = 'a' t.x = 1 return t, t.x",
         "ok: {a} number:1"},
        {"return table.create(0, 0), table.create(0)", "ok: {} {}"},
        {"return pcall(table.create, -1)",
         "ok: boolean:false string:bad argument #1 to 'table.create' (out of "
         "range)"},
        {"return pcall(table.create, 1 << 31)",
         "ok: boolean:false string:bad argument #1 to 'table.create' (out of "
         "range)"},
        {"return pcall(table.create, 0, -1)",
         "ok: boolean:false string:bad argument #2 to 'table.create' (out of "
         "range)"},
        {"return pcall(table.create)",
         "ok: boolean:false string:bad argument #1 to 'table.create' (number "
         "expected, got no value)"},
        {"return pcall(table.create, 1.5)",
         "ok: boolean:false string:bad argument #1 to 'table.create' (number "
         "has no integer representation)"},
    };
    charged_state stock, mine;
    char got[4096];
    /* the stock 5.4 has none (a pcall names it 'table.create', as it
     * does any library function) */
    state_open(&stock, 0, 0, 0);
    run(&stock, "return table.create", got, sizeof got);
    ASSERT_STR_EQ(got, "ok: nil:nil");
    state_close(&stock);

    state_open(&mine, 1, (uint64_t)1 << 50, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&mine, cases[i][0], got, sizeof got);
        if (strcmp(got, cases[i][1]) != 0)
            TEST_FAIL("%s\n  want: %s\n  got:  %s", cases[i][0],
                      cases[i][1], got);
    }
    /* 16 GiB of room under a cap of 8 MiB more than the state holds */
    mine.alloc.limit = mine.alloc.used + ((size_t)8 << 20);
    run(&mine, "return table.create(1 << 30)", got, sizeof got);
    ASSERT_STR_EQ(got, "error: not enough memory");
    run(&mine, "return pcall(table.create, 0, 1 << 30)", got, sizeof got);
    ASSERT_STR_EQ(got, "ok: boolean:false string:not enough memory");
    run(&mine, "return #table.create(1000)", got, sizeof got);
    ASSERT_STR_EQ(got, "ok: number:0");
    state_close(&mine);
}

void test_lcharge_time_limit(void)
{
    charged_state mine;
    char got[4096];
    static const char want[] = "error: stopped: over the time limit of 50 "
                               "ms (--hook-timeout) (at ";
    /* no instruction budget: only the clock stops these */
    static const char *const endless[] = {
        "while true do end",
        "local t = {} for i = 1, 200000 do t[i] = -i end"
        " while true do table.sort(t, nil) end",
        "while true do local s = string.rep('x', 1 << 20) end",
        "local s = string.rep(' ', 1 << 20)"
        " return load(function() return s end)",
        "table.move({}, 1, 1 << 62, 2)",
    };
    state_open(&mine, 1, 0, 50);
    for (size_t i = 0; i < sizeof endless / sizeof endless[0]; i++) {
        run(&mine, endless[i], got, sizeof got);
        if (strncmp(got, want, strlen(want)) != 0)
            TEST_FAIL("%s\n  expected the time limit, got: %s", endless[i],
                      got);
    }
    run(&mine, "return 'served'", got, sizeof got);
    ASSERT_STR_EQ(got, "ok: string:served");
    state_close(&mine);
}

/* A C function that waits 60 ms outside Lua, then says so when the
 * upvalue is true (as ricochet.resolve does with the resolver's wait). */
static int wait_outside(lua_State *L)
{
    uint64_t from = clock_monotonic_us();
    while (clock_monotonic_us() - from < 60000)
        continue;
    if (lua_toboolean(L, lua_upvalueindex(1)))
        lbudget_exclude_us(L, clock_monotonic_us() - from);
    return 0;
}

void test_lcharge_time_excluded(void)
{
    charged_state mine;
    char got[4096];
    static const char chunk[] =
        "for i = 1, 3 do wait() for j = 1, 20000 do end end return 'done'";
    state_open(&mine, 1, 0, 50);
    for (int excluded = 0; excluded <= 1; excluded++) {
        lua_pushboolean(mine.L, excluded);
        lua_pushcclosure(mine.L, wait_outside, 1);
        lua_setglobal(mine.L, "wait");
        run(&mine, chunk, got, sizeof got);
        if (excluded)
            ASSERT_STR_EQ(got, "ok: string:done");
        else if (strncmp(got, "error: stopped: over the time limit", 35))
            TEST_FAIL("expected the time limit, got: %s", got);
    }
    state_close(&mine);
}
