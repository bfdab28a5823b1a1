/* test_lpattern.c -- the budgeted patterns against the stock string
 * library, and the budget itself.
 *
 * The differential cases run the same calls in two Lua states, one with
 * the stock string library and one with lpattern installed, and compare
 * every returned value and error message: a hand-written list first, then
 * a seeded set of random patterns over small random subjects. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <time.h>

#include "cases.h"
#include "lpattern.h"
#include "test.h"

/* A small deterministic generator, so a failure replays exactly. */
static uint32_t rng_state = 20240607;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint32_t pick(uint32_t n)
{
    return rng() % n;
}

/* Counts the steps charged; raises once more than limit were (0: never). */
typedef struct meter {
    unsigned long total;
    unsigned long limit;
    unsigned long calls;
    unsigned long small_chunks;  /* calls with fewer than 1024 steps */
} meter;

#define BUDGET_MESSAGE "pattern budget exceeded"

static void charge_meter(lua_State *L, unsigned long steps, void *ud)
{
    meter *m = ud;
    m->total += steps;
    m->calls++;
    if (steps < 1024)
        m->small_chunks++;
    if (m->limit != 0 && m->total > m->limit) {
        lua_pushliteral(L, BUDGET_MESSAGE);  /* ..., message */
        lua_error(L);
    }
}

/* The harness both states run. run(s, p, init) applies every function to
 * one case and returns one line per call: the serialized results of a
 * pcall, so an error message is compared like any value. */
static const char harness[] =
    "local function ser(...)\n"
    "  local n = select('#', ...)\n"
    "  local out = {}\n"
    "  for i = 1, n do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then out[i] = string.format('%q', v)\n"
    "    elseif type(v) == 'number' then\n"
    "      out[i] = math.type(v) .. ':' .. tostring(v)\n"
    "    else out[i] = tostring(v) end\n"
    "  end\n"
    "  return n .. '[' .. table.concat(out, ',') .. ']'\n"
    "end\n"
    "local repl_table = setmetatable({ a = 'A', b = false, ab = 'AB!',\n"
    "  [''] = 'E', c = 12, d = {}, x = 1.5, [1] = 'one', [3] = 'three',\n"
    "  ['\\0'] = 'NUL' },\n"
    "  { __index = function(t, k) if k == 'z' then return 'Z' end end })\n"
    "local function repl_fn(...)\n"
    "  local a = ...\n"
    "  if a == 'b' then return nil elseif a == 'c' then return false\n"
    "  elseif a == 'd' then return {} elseif a == 'x' then return 7 end\n"
    "  return '<' .. ser(...) .. '>'\n"
    "end\n"
    "local function gmatch_all(s, p, init)\n"
    "  local out, n = {}, 0\n"
    "  for a, b, c, d in string.gmatch(s, p, init) do\n"
    "    n = n + 1\n"
    "    out[n] = ser(a, b, c, d)\n"
    "    if n == 200 then break end\n"
    "  end\n"
    "  return table.concat(out, ';')\n"
    "end\n"
    "local function gmatch_method(s, p)\n"
    "  local it = s:gmatch(p)\n"
    "  return ser(it()), ser(it()), ser(it())\n"
    "end\n"
    "return function(s, p, init)\n"
    "  return table.concat({\n"
    "    ser(pcall(string.find, s, p, init)),\n"
    "    ser(pcall(string.find, s, p, init, true)),\n"
    "    ser(pcall(string.match, s, p, init)),\n"
    "    ser(pcall(gmatch_all, s, p, init)),\n"
    "    ser(pcall(gmatch_method, s, p)),\n"
    "    ser(pcall(s.find, s, p)),\n"
    "    ser(pcall(s.match, s, p)),\n"
    "    ser(pcall(string.gsub, s, p, '<%0>')),\n"
    "    ser(pcall(string.gsub, s, p, '%1|%2')),\n"
    "    ser(pcall(string.gsub, s, p, '%%x%')),\n"
    "    ser(pcall(string.gsub, s, p, '[%1%%]')),\n"
    "    ser(pcall(string.gsub, s, p, 42)),\n"
    "    ser(pcall(string.gsub, s, p, repl_table)),\n"
    "    ser(pcall(string.gsub, s, p, repl_fn)),\n"
    "    ser(pcall(string.gsub, s, p, '-', init)),\n"
    "    ser(pcall(s.gsub, s, p, '#', 1)),\n"
    "  }, '\\n')\n"
    "end\n";

/* Snippets run as chunks in both states, for the argument checks. */
static const char *const snippets[] = {
    "return string.find(nil, 'a')",
    "return string.find('a')",
    "return string.find('abc', 'b', 1.5)",
    "return string.find('abc', 'b', '2')",
    "return string.find('abc', 'b', 'x')",
    "return string.find(12345, 3)",
    "return string.find(12345, 34, -2)",
    "return string.find(1.5, '.', 1, true)",
    "return string.find('abc', 'b', math.maxinteger)",
    "return string.find('abc', 'b', math.mininteger)",
    "return string.find('abc', '', 4)",
    "return string.find('abc', '', 5)",
    "return string.find('abc', '', 4, true)",
    "return string.find('abc', '', 5, true)",
    "return string.match('abc', '()', 10)",
    "return string.match('abc', '()', 4)",
    "return string.match(1e15, '%d+')",
    "return ('x'):gsub('x', nil)",
    "return ('x'):gsub('x', true)",
    "return string.gsub('x', 'x', 'y', 'z')",
    "return string.gsub('x', 'x', nil, 'z')",
    "return string.gsub('xxx', 'x', 'y', 1.0)",
    "return string.gsub('xxx', 'x', 'y', 1.5)",
    "return string.gsub('xxx', 'x', 'y', -1)",
    "return string.gsub('xxx', '', 'y', 2)",
    "return string.gsub('abc', '%w', '%1', 0)",
    "return string.gsub(123, 2, 9)",
    "return string.gsub('abc', '%w', function() error('boom') end)",
    "return string.gsub('abc', '%w', function() error({}) end)",
    "return string.gsub('abc', '%w', setmetatable({}, { __index ="
    " function(t, k) return k:upper() end }))",
    "return string.gsub('abc', '(%w)', '%1%1', 2)",
    "return string.gsub('hello world', '%w+', '%0 %0', 1)",
    "return string.gsub('hello', '', '-')",
    "return string.gsub('abc', '.-', '-')",
    "return string.gsub('abc', '()', '%1')",
    "return string.gsub('abc', '()', {})",
    "return string.gmatch('abc')",
    "return string.gmatch(nil, 'a')",
    "local t = {} for k in string.gmatch('abc', '', 10) do t[#t+1] = k end"
    " return #t",
    "local t = {} for k in string.gmatch('abc', '', 4) do t[#t+1] = k end"
    " return #t",
    "local t = {} for k in string.gmatch('abc', '', -1) do t[#t+1] = k end"
    " return #t, t[1]",
    "local t = {} for a, b in string.gmatch('k=v, x=y', '(%w+)=(%w+)') do"
    " t[#t+1] = a .. b end return table.concat(t, ' ')",
    "local it = string.gmatch('abab', 'ab') return it(), it(), it(), it()",
    "local it = string.gmatch('abc', '(') return pcall(it)",
    "local it = string.gmatch('a', '[') local ok, e = pcall(it)"
    " return ok, e, pcall(it)",
    "return coroutine.wrap(function() return string.gsub('abc', '%w',"
    " function(c) return c .. c end) end)()",
    "return pcall(coroutine.wrap(function() return string.gsub('abc', '%w',"
    " function(c) coroutine.yield(c) end) end))",
    "return string.find(string.rep('a', 300), string.rep('a?', 300))",
    "return string.find(string.rep('a', 199), string.rep('a?', 199))",
    "return string.find(string.rep('a', 200), string.rep('a?', 200))",
    "return string.find(string.rep('a', 201), string.rep('a?', 201))",
    /* a "(.*)" tail (taken in one step) at the edge of the levels */
    "return string.match(string.rep('a', 196) .. 'xy', string.rep('a?', 196) .. '(.*)')",
    "return string.match(string.rep('a', 197) .. 'xy', string.rep('a?', 197) .. '(.*)')",
    "return string.match(string.rep('a', 198) .. 'xy', string.rep('a?', 198) .. '(.*)')",
    "return string.match(string.rep('a', 199) .. 'xy', string.rep('a?', 199) .. '(.*)')",
    "return string.match(string.rep('a', 196) .. 'xy', string.rep('a?', 196) .. '(.*)$')",
    "return string.match(string.rep('a', 197) .. 'xy', string.rep('a?', 197) .. '(.*)$')",
    "return string.match(string.rep('a', 198) .. 'xy', string.rep('a?', 198) .. '(.*)$')",
    "return string.match('key: value', '^(%a+): (.*)$'), string.match('k:', 'k:(.*)'),"
    " string.match('ab', 'a(.*)b'), string.match('ab', '(.*)'), string.find('xab', 'a(.*)')",
    "return string.match(string.rep('a', 40), string.rep('(a)', 33))",
    "return string.match(string.rep('a', 40), string.rep('(a)', 32))",
    "return string.match(string.rep('a', 40), string.rep('()', 32))",
    "return string.find('abc', string.rep('(', 40))",
    "return string.gsub(string.rep('x', 10), 'x', string.rep('%0', 5))",
    "return string.match(string.rep('ab', 1000), '(.-)b$')",
    "return string.match(string.rep('ab', 1000), '^(.*)(b)$')",
    "return select('#', string.find('a', 'a', 1, false))",
    "return string.find('a.b', '.', 1, nil)",
    "return string.find('a.b', '.', 1, 0)",
};

typedef struct diff_case {
    const char *s;
    size_t ls;
    const char *p;
    size_t lp;
    lua_Integer init;
    int has_init;
} diff_case;

#define C(s, p) { s, sizeof(s) - 1, p, sizeof(p) - 1, 0, 0 }
#define CI(s, p, i) { s, sizeof(s) - 1, p, sizeof(p) - 1, i, 1 }

static const diff_case cases[] = {
    /* plain bytes, init and empty patterns */
    C("hello world", "o"), C("hello world", "o w"), C("hello", ""),
    C("", ""), C("", "a"), C("", "^"), C("", "$"), C("", "^$"),
    CI("hello", "l", 4), CI("hello", "l", -2), CI("hello", "l", -10),
    CI("hello", "l", 0), CI("hello", "", 6), CI("hello", "", 7),
    CI("hello", "", -1), CI("hello", "lo", 100), CI("hello", "h", 2),
    C("a+b", "a+b"), C("a+b", "a%+b"), C("a.b", "a.b"), C("axb", "a.b"),
    C("a)b", "a)b"), C("a]b", "a]b"), C("x", ")"), C("a^b", "a^b"),
    C("^a", "^^a"), C("a$b", "a$b"), C("a$", "a$"), C("a$", "a%$"),
    C("a$", "a$$"), C("$", "$"), C("$$", "$$"), C("$$", "^$"),
    C("a-b", "a-b"), C("a--b", "a%-%-b"),
    /* classes and their complements */
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%a+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%A+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%c+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%C+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%d+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%D+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%g+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%G+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%l+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%L+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%p+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%P+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9\v\f\r", "%s+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9\v\f\r", "%S+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%u+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%U+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%w+"),
    C("Hello World 123 !?\t\n\x01\x7f\xe9", "%W+"),
    C("0x1F 0xfg 0XaB", "%x+"), C("0x1F 0xfg 0XaB", "%X+"),
    C("a.b%c", "%."), C("a.b%c", "%%"), C("zZ", "%z"), C("zZ", "%Z"),
    C("bB", "%B"), C("a@b", "%@"), C("a\xff" "b", "%\xff"),
    /* sets */
    C("hello", "[aeiou]"), C("hello", "[aeiou]+"), C("hello", "[^aeiou]+"),
    C("a-z", "[a-]"), C("a-z", "[-a]"), C("a-z", "[a-z]+"),
    C("abc]", "[]]"), C("abc]", "[^]]+"), C("a]b", "[]a]+"),
    C("a^b", "[a^]+"), C("a^b", "[\\^]"), C("x%y", "[%%]"),
    C("a]b", "[%]]"), C("a1b2", "[%d]"), C("a1b2", "[%D%d]+"),
    C("a1b2", "[^%d]+"), C("a-b", "[%a-]+"), C("a-b", "[a%-b]+"),
    C("za", "[z-a]"), C("abc", "[a-c-e]+"), C("a-e", "[a-c-e]+"),
    C("ab", "[a"), C("ab", "[a%"), C("ab", "[a%]"), C("ab", "[^"),
    C("ab", "[]"), C("ab", "[^]"), C("x", "x["), C("abc", "x["),
    C("abc", "[%a"), C("\xe0\xff", "[\xe0-\xff]+"),
    C("a\0b\0c", "[%z]"), C("a\0b\0c", "[\0]"), C("a\0b\0c", "[^\0]+"),
    C("a\0b\0c", "[a-\xff]+"),
    /* quantifiers */
    C("aaab", "a*"), C("aaab", "a+"), C("aaab", "a-"), C("aaab", "a?"),
    C("aaab", "a*b"), C("aaab", "a-b"), C("aaab", "a?b"), C("b", "a+b"),
    C("aaab", "a*ab"), C("aaab", "a-ab"), C("xaaab", "a*"),
    C("<a><b>", "<.->"), C("<a><b>", "<.*>"), C("ab", "a**"),
    C("a*", "a**"), C("a?", "a??"), C("abc", ".-c"), C("abc", ".-$"),
    C("abc", ".*$"), C("aaa", "a-$"), C("", "a*"), C("", "a-"),
    C("", ".+"), C("abc", "^.-"), C("abc", "^(.-)$"),
    C(" x ", "^%s*(.-)%s*$"), C("  ", "^%s*(.-)%s*$"),
    C("key = value", "(%w+)%s*=%s*(%w+)"),
    C("GET /index.html HTTP/1.1", "^GET (%S+)"),
    C("aXb", "%u?"), C("abc", "b?c"),
    /* anchors */
    C("abc", "^abc$"), C("abc", "^b"), CI("abc", "^b", 2), C("abc", "c$"),
    C("abc", "^"), C("abc", "$"), C("abcabc", "^abc"), C("abc", "b$"),
    CI("abc", "^", 3), CI("abc", "^", 4), CI("abc", "$", -1),
    /* captures */
    C("hello world", "(h)(e)"), C("hello world", "((l)(l))"),
    C("hello", "()ll()"), C("hello", "()"), C("hello", "(l*)"),
    C("hello", "(h)(x?)(e)"), C("abc", "(a"), C("abc", "a)"),
    C("abc", "(a))"), C("abc", ")"), C("abc", "(()a)"), C("", "()"),
    C("abc", "(.)(.)(.)"), C("abc", "(%a+)()"), C("abc", "((()))"),
    C("a b c", "(%a) (%a) (%a)"),
    /* back-references */
    C("abcabc", "(abc)%1"), C("abab", "(a)(b)%1%2"), C("aa", "(a)%1"),
    C("ab", "(a)%1"), C("\"hi\" 'x'", "([\"'])(.-)%1"),
    C("abc", "%1"), C("abc", "(a)%2"), C("abc", "(a%1)"), C("abc", "%0"),
    C("aa", "()%1"), C("abab", "(a(b)%2)"), C("xx", "(x?)%1"),
    C("abcabc", "(.-)%1$"), C("aaaa", "(a+)%1"), C("abc", "(a)%9"),
    /* %b */
    C("f(a(b)c) d", "%b()"), C("f(a(b)c d", "%b()"), C("[[x]]", "%b[]"),
    C("\"a\" \"b\"", "%b\"\""), C("((", "%b()"), C("x)", "%b()"),
    C("abc", "%b"), C("abc", "%ba"), C("abc", "%bac"), C("a(b)", "%b()*"),
    C("a(b)*", "%b()*"), C("\0a\0", "%b\0\0"), C("(a)(b)", "(%b())+"),
    /* %f */
    C("THE (quick) fox", "%f[%a]%a+"), C("THE (quick) fox", "%f[%A]"),
    C("hello", "%f[%l]"), C("hello", "%f[%L]"), C("hello", "%f[^%z]"),
    C("a\0b", "%f[%z]"), C("a\0b", "%f[\0]"), C("ab", "%f[a]"),
    C("ab", "%f"), C("ab", "%fa"), C("ab", "%f[a"), C("ab", "%f[a]*"),
    C("ab*", "%f[b]b*"), C("a b", "%f[%w]%w+%f[%W]"),
    /* NUL bytes in subject and pattern */
    C("a\0b\0c", "\0"), C("a\0b\0c", "%z"), C("a\0b\0c", "b\0"),
    C("a\0b\0c", ".\0."), C("a\0b\0c", "(.)\0(.)"), C("\0\0\0", "\0+"),
    C("\0\0\0", "\0-$"), C("a\0", "a\0$"), C("a\0b", "%c"),
    C("a\0b", "%w+"), C("a\0b", "[^%w]"), C("\0", "^\0$"),
    /* malformed patterns */
    C("abc", "%"), C("abc", "a%"), C("", "%"), C("abc", "(%"),
    C("abc", "[a-"), C("abc", "(()"), C("abc", "(()))"),
    C("abc", "a(b"), C("abc", "(a)(b"), C("abc", "%b(x"),
    C("abc", "[%"), C("a", "a%f"), C("%", "%%"), C("x", "x%"),
    /* empty matches and the 5.4 rule after a previous match */
    C("abc", ""), C("abc", ".-"), C("abc", "x*"), C("a,b,,c", "[^,]*"),
    C("hello world", "%w*"), C("abc", "()"), C("aaa", "a-"),
    C("ab  cd", "%s*"), C("a1b22c", "%d*"), C("abc", "b*"),
    CI("abc", "x*", 2), CI("abc", "x*", 4), CI("abc", "x*", 5),
    /* anchored gsub and gmatch with '^' */
    C("aaa", "^a"), C("^a^a", "^a"), C("aaa", "^a*"), C("aaa", "^"),
    C("hello world from lua", "^(%w+)"), C("x", "^x*$"),
    /* longer subjects */
    C("the quick brown fox jumps over the lazy dog, THE QUICK BROWN FOX",
      "%f[%w](%w+)"),
    C("a=1, b=22, ccc=333, d=, =4", "(%w*)=(%w*)"),
    C("GET /a/b/c?x=1&y=2 HTTP/1.0\r\nHost: x\r\n\r\n", "([^\r\n]*)\r\n"),
    C("GET /a/b/c?x=1&y=2 HTTP/1.0\r\nHost: x\r\n\r\n", "(%w+): (%w+)"),
    C("<<<>>>< <> >", "%b<>"), C("if (a(b) && (c)) { x(); }", "%b()"),
};

/* Load the harness into a fresh state, lpattern installed when meter is
 * not NULL. The harness's run function is left as the global "run". */
static lua_State *new_state(int install, meter *m)
{
    lua_State *L = luaL_newstate();
    ASSERT(L != NULL);
    luaL_openlibs(L);
    if (install) {
        lua_getglobal(L, "string");  /* string */
        lpattern_install(L, -1, m != NULL ? charge_meter : NULL, m);
        lua_pop(L, 1);
    }
    ASSERT_EQ(luaL_loadbuffer(L, harness, sizeof harness - 1, "=harness"),
              LUA_OK);
    ASSERT_EQ(lua_pcall(L, 0, 1, 0), LUA_OK);  /* run */
    lua_setglobal(L, "run");
    return L;
}

/* Print bytes with C escapes, for failure messages. */
static void print_escaped(const char *what, const char *s, size_t len)
{
    fprintf(stderr, "%s \"", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

/* run(s, p, init) in L; the result string is left on L's stack. */
static const char *run_case(lua_State *L, const diff_case *c, size_t *len)
{
    lua_getglobal(L, "run");           /* run */
    lua_pushlstring(L, c->s, c->ls);   /* run, s */
    lua_pushlstring(L, c->p, c->lp);   /* run, s, p */
    if (c->has_init)
        lua_pushinteger(L, c->init);   /* run, s, p, init */
    else
        lua_pushnil(L);                /* run, s, p, nil */
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        TEST_FAIL("harness failed: %s", lua_tostring(L, -1));
    return lua_tolstring(L, -1, len);  /* result */
}

/* Run one case in both states and fail on any difference. */
static void compare_case(lua_State *stock, lua_State *mine,
                         const diff_case *c)
{
    size_t want_len, got_len;
    const char *want = run_case(stock, c, &want_len);
    const char *got = run_case(mine, c, &got_len);
    if (want_len != got_len || memcmp(want, got, want_len) != 0) {
        print_escaped("subject", c->s, c->ls);
        print_escaped("pattern", c->p, c->lp);
        if (c->has_init)
            fprintf(stderr, "init %lld\n", (long long)c->init);
        fprintf(stderr, "stock:\n%.*s\nlpattern:\n%.*s\n", (int)want_len,
                want, (int)got_len, got);
        TEST_FAIL("lpattern differs from the stock string library");
    }
    lua_pop(stock, 1);
    lua_pop(mine, 1);
}

static void compare_snippet(lua_State *stock, lua_State *mine,
                            const char *code)
{
    lua_State *states[2] = { stock, mine };
    const char *out[2];
    for (int i = 0; i < 2; i++) {
        lua_State *L = states[i];
        size_t len;
        const char *src;
        lua_settop(L, 0);
        /* The snippet runs under pcall in a wrapper that serializes what
         * it returns, as the harness's ser() does. */
        lua_pushfstring(L,
            "local ok, a, b, c, d = pcall(function() %s end)\n"
            "local function s(v)\n"
            "  if type(v) == 'string' then return string.format('%%q', v)\n"
            "  elseif type(v) == 'number' then\n"
            "    return math.type(v) .. ':' .. tostring(v)\n"
            "  elseif type(v) == 'function' or type(v) == 'table' then\n"
            "    return type(v) end\n"
            "  return tostring(v)\n"
            "end\n"
            "return table.concat({ s(ok), s(a), s(b), s(c), s(d) }, ',')",
            code);                                  /* source */
        src = lua_tolstring(L, -1, &len);
        if (luaL_loadbuffer(L, src, len, "=snippet") != LUA_OK ||
            lua_pcall(L, 0, 1, 0) != LUA_OK)
            TEST_FAIL("snippet failed: %s", lua_tostring(L, -1));
        out[i] = lua_tostring(L, -1);               /* source, result */
    }
    if (strcmp(out[0], out[1]) != 0)
        TEST_FAIL("%s\nstock:    %s\nlpattern: %s", code, out[0], out[1]);
    lua_settop(stock, 0);
    lua_settop(mine, 0);
}

void test_lpattern_differential(void)
{
    meter m = { 0, 0, 0, 0 };
    lua_State *stock = new_state(0, NULL);
    lua_State *mine = new_state(1, &m);
    size_t ncases = sizeof cases / sizeof cases[0];
    size_t nsnippets = sizeof snippets / sizeof snippets[0];
    for (size_t i = 0; i < ncases; i++)
        compare_case(stock, mine, &cases[i]);
    for (size_t i = 0; i < nsnippets; i++)
        compare_snippet(stock, mine, snippets[i]);
    fprintf(stderr, "%zu cases, %zu snippets, %lu steps charged\n",
            ncases, nsnippets, m.total);
    ASSERT_GT(m.total, 0);
    lua_close(stock);
    lua_close(mine);
}

/* --- generated cases ---------------------------------------------------- */

typedef struct text {
    char bytes[128];
    size_t len;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n <= sizeof t->bytes) {
        memcpy(t->bytes + t->len, s, n);
        t->len += n;
    }
}

static void put_char(text *t, char c)
{
    put(t, &c, 1);
}

static void put_any(text *t, const char *choices)
{
    put_char(t, choices[pick((uint32_t)strlen(choices))]);
}

/* A byte for a literal: mostly from the subjects' alphabet. */
static void put_literal(text *t)
{
    switch (pick(12)) {
    case 0: put_char(t, '\0'); break;
    case 1: put(t, "%", 1); put_any(t, ".%()[]-*+?^$"); break;
    default: put_any(t, "aaabbc x"); break;
    }
}

static void put_set(text *t)
{
    put_char(t, '[');
    if (pick(3) == 0)
        put_char(t, '^');
    for (uint32_t n = 1 + pick(3); n > 0; n--) {
        switch (pick(7)) {
        case 0: put(t, "a-b", 3); break;
        case 1: put(t, "%", 1); put_any(t, "aAdDsSwWlLpP]%"); break;
        case 2: put_char(t, ']'); break;
        case 3: put_char(t, '-'); break;
        case 4: put_char(t, '\0'); break;
        default: put_any(t, "abcx("); break;
        }
    }
    put_char(t, ']');
}

/* One single-character item, perhaps quantified (quantifiers counts the
 * budget of quantifiers left, to keep backtracking small). */
static void put_single(text *t, int *quantifiers)
{
    switch (pick(8)) {
    case 0: put_char(t, '.'); break;
    case 1: put(t, "%", 1); put_any(t, "aAcCdDgGlLpPsSuUwWxX"); break;
    case 2: put_set(t); break;
    default: put_literal(t); break;
    }
    if (*quantifiers > 0 && pick(2) == 0) {
        put_any(t, "*+-?");
        (*quantifiers)--;
    }
}

static void put_items(text *t, int depth, int *quantifiers, int *closed)
{
    for (uint32_t n = pick(4); n > 0; n--) {
        switch (pick(14)) {
        case 0:
            if (depth < 2) {
                put_char(t, '(');
                put_items(t, depth + 1, quantifiers, closed);
                put_char(t, ')');
                (*closed)++;
            }
            break;
        case 1: put(t, "()", 2); (*closed)++; break;
        case 2: put(t, pick(2) ? "%b()" : "%bab", 4); break;
        case 3:
            put(t, "%f", 2);
            put_set(t);
            break;
        case 4:
            /* mostly a capture that exists; sometimes one that does not */
            put_char(t, '%');
            put_char(t, (char)('0' + (*closed > 0 && pick(4) != 0
                                       ? 1 + pick((uint32_t)*closed)
                                       : pick(4))));
            break;
        default: put_single(t, quantifiers); break;
        }
    }
}

/* A random pattern: mostly well formed, sometimes with a defect. */
static void make_pattern(text *t)
{
    static const char *const defects[] = {
        "%", "[", "(", ")", "[a", "%f", "%bx", "%fa", "%0", "%9", "[%",
        "(()", "a)", "%b"
    };
    int quantifiers = 3, closed = 0;
    t->len = 0;
    if (pick(5) == 0)
        put_char(t, '^');
    put_items(t, 0, &quantifiers, &closed);
    if (pick(15) == 0) {
        const char *d = defects[pick(sizeof defects / sizeof defects[0])];
        put(t, d, strlen(d));
    }
    if (pick(5) == 0)
        put_char(t, '$');
}

/* A short string of pattern syntax with no grammar at all: finds the
 * malformed corners (and their lazy errors) that the grammar misses. */
static void make_raw_pattern(text *t)
{
    t->len = 0;
    for (uint32_t n = pick(9); n > 0; n--)
        put_any(t, "()[]%%^$*+-?.abfb1209]");
}

static void make_subject(text *t)
{
    t->len = 0;
    for (uint32_t n = pick(11); n > 0; n--) {
        switch (pick(10)) {
        case 0: put_any(t, "()[]%.-*"); break;
        case 1: put_char(t, '\0'); break;
        case 2: put_char(t, ' '); break;
        default: put_any(t, "aaabbcx"); break;
        }
    }
}

void test_lpattern_generated(void)
{
    enum { COUNT = 5000 };
    meter m = { 0, 0, 0, 0 };
    lua_State *stock = new_state(0, NULL);
    lua_State *mine = new_state(1, &m);
    for (int i = 0; i < COUNT; i++) {
        text subject, pattern;
        diff_case c;
        make_subject(&subject);
        if (pick(4) == 0)
            make_raw_pattern(&pattern);
        else
            make_pattern(&pattern);
        c.s = subject.bytes;
        c.ls = subject.len;
        c.p = pattern.bytes;
        c.lp = pattern.len;
        c.has_init = pick(3) == 0;
        c.init = (lua_Integer)pick(16) - 4;
        compare_case(stock, mine, &c);
    }
    fprintf(stderr, "%d generated cases, %lu steps charged\n", COUNT,
            m.total);
    lua_close(stock);
    lua_close(mine);
}

/* --- the budget -------------------------------------------------------- */

/* Processor time: the matcher only computes. */
static double now_seconds(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* Run code in L as a chunk under pcall; return the error message, or
 * NULL when it succeeded. The message stays on the stack. */
static const char *run_chunk(lua_State *L, const char *code)
{
    lua_settop(L, 0);
    ASSERT_EQ(luaL_loadstring(L, code), LUA_OK);  /* chunk */
    if (lua_pcall(L, 0, 1, 0) == LUA_OK)
        return NULL;
    return lua_tostring(L, -1);  /* message */
}

/* Every function, and the cost shapes that are not plain backtracking
 * (a back-reference, %b, a plain find), stops soon after the budget. */
void test_lpattern_budget_stops(void)
{
    static const char *const runaways[] = {
        "return string.rep('a', 100000):find('.-.-.-.-.-x')",
        "return string.rep('a', 100000):match('.-.-.-.-.-x')",
        "return string.rep('a', 100000):gsub('.-.-.-.-.-x', 'y')",
        "for x in string.rep('a', 100000):gmatch('.-.-.-.-.-x') do end",
        "return string.rep('a', 100000):find('a*a*a*a*a*b')",
        "return string.rep('a', 100000):find('(.-)(.-)(.-)(.-)$x')",
        "return string.rep('a', 50000):find('(.*)%1x')",
        "return string.rep('(', 100000):find('%b()')",
        "return string.rep('a', 1000000):find(string.rep('a', 500000) .."
        " 'b', 1, true)",
        "return string.rep('a', 1000):gsub('a', function()"
        " return (string.rep('a', 1000)):find('.-.-.-x') end)",
        "return string.rep('ab', 50000):find('%f[a].-%f[a].-%f[a].-x')",
    };
    meter m = { 0, 2000000, 0, 0 };
    lua_State *L = new_state(1, &m);
    for (size_t i = 0; i < sizeof runaways / sizeof runaways[0]; i++) {
        double start = now_seconds(), took;
        const char *err;
        m.total = 0;
        m.calls = 0;
        m.small_chunks = 0;
        err = run_chunk(L, runaways[i]);
        took = now_seconds() - start;
        fprintf(stderr, "%.3f s, %lu charges: %s\n", took, m.calls,
                runaways[i]);
        if (err == NULL)
            TEST_FAIL("no budget error from %s", runaways[i]);
        ASSERT_STR_EQ(err, BUDGET_MESSAGE);
        ASSERT_GT(m.total, m.limit);
        ASSERT_LT(m.total, m.limit + 1000000);  /* stopped promptly */
        ASSERT_LE(m.small_chunks, 1);  /* charged in batches, not per step */
        ASSERT(took < 5.0);
        /* The state is still sound after the raise. */
        m.total = 0;
        ASSERT(run_chunk(L, "assert(('k=v'):match('(%w+)=(%w+)') == 'k')")
               == NULL);
    }
    lua_close(L);
}

/* With room enough, the same patterns finish and agree with the stock
 * library; the steps charged are bounded by the work done. */
void test_lpattern_budget_generous(void)
{
    static const char *const checks[] = {
        "return string.rep('a', 40):find('.-.-.-.-.-x')",
        "return (string.rep('a', 20) .. 'x'):find('.-.-.-.-.-x')",
        "return (string.rep('a', 20) .. 'x'):match('(.-)(.-)x')",
        "return (string.rep('a', 30)):gsub('.-.-.-x', 'y')",
        "return select(2, (string.rep('ab', 30)):gsub('%f[a]a-b', '+'))",
        "return string.rep('a', 30):find('(.*)%1$')",
    };
    meter m = { 0, 1000000000ul, 0, 0 };
    lua_State *stock = luaL_newstate();
    lua_State *mine = new_state(1, &m);
    ASSERT(stock != NULL);
    luaL_openlibs(stock);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const char *want, *got;
        char code[256];
        m.total = 0;
        snprintf(code, sizeof code, "return table.concat({ (function() %s "
                 "end)() }, ',')", checks[i]);
        ASSERT(run_chunk(stock, code) == NULL);
        ASSERT(run_chunk(mine, code) == NULL);
        want = lua_tostring(stock, -1);
        got = lua_tostring(mine, -1);
        fprintf(stderr, "%lu steps: %s -> %s\n", m.total, checks[i], got);
        ASSERT_STR_EQ(got, want);
        ASSERT_GT(m.total, 0);
        ASSERT_LT(m.total, 50000000);
    }
    lua_close(stock);
    lua_close(mine);
}

/* Method calls reach the installed functions through the string
 * metatable, and a NULL callback means no budget at all. */
void test_lpattern_install(void)
{
    meter m = { 0, 0, 0, 0 };
    lua_State *L = new_state(1, &m);
    lua_State *free_run = new_state(1, NULL);
    ASSERT(run_chunk(L, "return ('abc'):find('b+')") == NULL);
    ASSERT_GT(m.total, 0);  /* the remainder is charged at the end */
    ASSERT_EQ(m.calls, 1);
    m.total = 0;
    ASSERT(run_chunk(L, "return ('abc'):gsub('%w', '%0%0')") == NULL);
    ASSERT_GT(m.total, 0);
    ASSERT(run_chunk(free_run, "local s = string.rep('a', 20) "
                     "assert(s:find('.-.-.-x') == nil) "
                     "assert(s:gsub('a', 'b') == string.rep('b', 20))")
           == NULL);
    /* The library table and the metatable's __index are the same. */
    ASSERT(run_chunk(L, "assert(getmetatable('').__index.find == "
                     "string.find)") == NULL);
    lua_close(L);
    lua_close(free_run);
}
