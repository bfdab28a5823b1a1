/* fuzz_pattern.c -- ricochet's pattern matcher (src/lua/lpattern.c) and
 * case functions (src/lua/lcase.c) against the stock Lua 5.4 library.
 *
 * Two Lua states: one with lpattern and lcase installed, one stock. Each
 * input is a subject, a pattern, a replacement string and an init; the
 * same calls (find, plain find, match, gmatch, gsub with a string, a
 * count, a table and a function, method calls, upper and lower) run in
 * both, each under pcall, and their results are serialized, error
 * messages included, and compared.
 *
 * Bounds. Our matcher counts its steps; a call that passes STEP_BUDGET is
 * stopped and that call is skipped in the stock state, whose matcher does
 * the same backtracking in C where nothing could stop it. A count hook in
 * both states stops the Lua side (a gmatch loop, a replacement function
 * called per match) at INSN_LIMIT instructions with the same error, so a
 * pathological case ends both the same way.
 *
 * Input layout: an init selector, the pattern's length, the replacement's
 * length, the pattern, the replacement, then the subject. */
#include "fuzz.h"

#include <lauxlib.h>
#include <lualib.h>

#include "lcase.h"
#include "lpattern.h"

#define PATTERN_MAX 48
#define REPL_MAX 16
#define STEP_BUDGET 20000UL      /* our matcher's steps per call */
#define HOOK_EVERY 100           /* instructions per count hook */
#define INSN_LIMIT 2000000L      /* Lua instructions per call */
#define BUDGET_MESSAGE "fuzz: step budget"
#define INSN_MESSAGE "fuzz: instruction limit"

/* The harness both states run: one(k, s, p, init, repl) makes call k and
 * returns its serialized pcall results. */
static const char harness[] =
    "local function ser(...)\n"
    "  local n = select('#', ...)\n"
    "  local out = {}\n"
    "  for i = 1, n do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then out[i] = string.format('%q', v)\n"
    "    elseif type(v) == 'number' then\n"
    "      out[i] = math.type(v) .. ':' .. tostring(v)\n"
    "    elseif type(v) == 'function' then out[i] = 'function'\n"
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
    "    if n == 300 then break end\n"
    "  end\n"
    "  return table.concat(out, ';')\n"
    "end\n"
    "local function gmatch_method(s, p)\n"
    "  local it = s:gmatch(p)\n"
    "  return ser(it()), ser(it()), ser(it())\n"
    "end\n"
    "local function cases(s)\n"
    "  return string.upper(s), string.lower(s), s:upper(), s:lower(),\n"
    "         string.upper(s:rep(3, '\\0')), string.lower(s:rep(20))\n"
    "end\n"
    "local calls = {\n"
    "  function(s, p, init) return string.find(s, p, init) end,\n"
    "  function(s, p, init) return string.find(s, p, init, true) end,\n"
    "  function(s, p, init) return string.match(s, p, init) end,\n"
    "  function(s, p, init) return gmatch_all(s, p, init) end,\n"
    "  function(s, p) return gmatch_method(s, p) end,\n"
    "  function(s, p) return s:find(p), s:match(p) end,\n"
    "  function(s, p, init, r) return string.gsub(s, p, r) end,\n"
    "  function(s, p, init, r) return string.gsub(s, p, r, init) end,\n"
    "  function(s, p) return string.gsub(s, p, '<%0>') end,\n"
    "  function(s, p) return string.gsub(s, p, '%1|%2') end,\n"
    "  function(s, p) return string.gsub(s, p, repl_table) end,\n"
    "  function(s, p) return string.gsub(s, p, repl_fn) end,\n"
    "  function(s, p, init, r) return s:gsub(p, r, 1) end,\n"
    "  function(s, p, init, r) return string.find(r, p, init) end,\n"
    "  function(s) return cases(s) end,\n"
    "  function(s, p, init, r) return cases(p), cases(r) end,\n"
    "}\n"
    "return #calls, function(k, s, p, init, r)\n"
    "  return ser(pcall(calls[k], s, p, init, r))\n"
    "end\n";

typedef struct side {
    lua_State *L;
    int ours;
    unsigned long steps_left;  /* ours: the step budget of this call */
    int budget_hit;
    long hooks;                /* count hook calls in this call */
} side;

static side stock_side, our_side;
static int ncalls;

/* The two states live as long as the process: making them for each input
 * costs ten times the calls. Their garbage then comes and goes between
 * inputs, which libFuzzer's leak check takes for leaks and answers with a
 * full scan of the heap every time; lpattern.c and lcase.c allocate only
 * through Lua (whose collector owns it all), so the check is off here. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

static side *side_of(lua_State *L)
{
    return L == our_side.L ? &our_side : &stock_side;
}

static void charge(lua_State *L, unsigned long steps, void *ud)
{
    side *sd = ud;
    if (sd->budget_hit || steps >= sd->steps_left) {
        sd->budget_hit = 1;
        sd->steps_left = 0;
        luaL_error(L, BUDGET_MESSAGE);
    }
    sd->steps_left -= steps;
}

/* Once over the limit it raises at every call, so a pcall in the harness
 * cannot swallow it for long. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    side *sd = side_of(L);
    (void)ar;
    if (++sd->hooks > INSN_LIMIT / HOOK_EVERY)
        luaL_error(L, INSN_MESSAGE);
}

static void open_side(side *sd, int ours)
{
    lua_State *L = luaL_newstate();
    FUZZ_ASSERT(L != NULL);
    sd->L = L;
    sd->ours = ours;
    luaL_openlibs(L);
    if (ours) {
        lua_getglobal(L, "string");              /* string */
        lpattern_install(L, -1, charge, sd);
        lcase_install(L, -1);
        lua_pop(L, 1);                           /* */
    }
    if (luaL_loadbuffer(L, harness, sizeof harness - 1, "=harness") !=
        LUA_OK || lua_pcall(L, 0, 2, 0) != LUA_OK)
        FUZZ_FAIL("harness: %s", lua_tostring(L, -1));
    ncalls = (int)lua_tointeger(L, -2);          /* n, one */
    lua_setglobal(L, "one");                     /* n */
    lua_pop(L, 1);                               /* */
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

typedef struct fuzz_case {
    const char *s, *p, *r;
    size_t ls, lp, lr;
    unsigned init_kind;
} fuzz_case;

/* init: nil, the integer edges, a float with and without an integer
 * value, numeric and other strings, or a small integer either side of 0
 * (beyond the subject's length too). */
static void push_init(lua_State *L, unsigned kind)
{
    switch (kind) {
    case 0: lua_pushnil(L); break;
    case 1: lua_pushinteger(L, LUA_MININTEGER); break;
    case 2: lua_pushinteger(L, LUA_MAXINTEGER); break;
    case 3: lua_pushnumber(L, 1.5); break;
    case 4: lua_pushnumber(L, 2.0); break;
    case 5: lua_pushliteral(L, "3"); break;
    case 6: lua_pushliteral(L, "x"); break;
    case 7: lua_pushboolean(L, 1); break;
    default: lua_pushinteger(L, (lua_Integer)kind - 136); break;
    }
}

/* Call k in one state; the result (a string) is left on its stack. */
static const char *run_call(side *sd, const fuzz_case *c, int k,
                            size_t *len)
{
    lua_State *L = sd->L;
    sd->steps_left = STEP_BUDGET;
    sd->budget_hit = 0;
    sd->hooks = 0;
    lua_getglobal(L, "one");                     /* one */
    lua_pushinteger(L, k);
    lua_pushlstring(L, c->s, c->ls);
    lua_pushlstring(L, c->p, c->lp);
    push_init(L, c->init_kind);
    lua_pushlstring(L, c->r, c->lr);             /* one, k, s, p, init, r */
    if (lua_pcall(L, 5, 1, 0) != LUA_OK) {       /* result or message */
        /* only the hook's error escapes the harness's own pcall */
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL || strstr(msg, INSN_MESSAGE) == NULL)
            FUZZ_FAIL("harness call %d failed: %s", k,
                      msg ? msg : "(not a string)");
        lua_pop(L, 1);
        lua_pushliteral(L, "escaped: " INSN_MESSAGE);
    }
    return lua_tolstring(L, -1, len);
}

static void report(const fuzz_case *c, int k)
{
    fuzz_print("subject", c->s, c->ls);
    fuzz_print("pattern", c->p, c->lp);
    fuzz_print("replacement", c->r, c->lr);
    fprintf(stderr, "init kind %u, call %d\n", c->init_kind, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    fuzz_case c;
    size_t got;
    if (our_side.L == NULL) {
        open_side(&our_side, 1);
        open_side(&stock_side, 0);
    }
    c.init_kind = fuzz_byte(&in);
    size_t want_p = fuzz_byte(&in) % (PATTERN_MAX + 1);
    size_t want_r = fuzz_byte(&in) % (REPL_MAX + 1);
    c.p = (const char *)fuzz_bytes(&in, want_p, &got);
    c.lp = got;
    c.r = (const char *)fuzz_bytes(&in, want_r, &got);
    c.lr = got;
    c.s = (const char *)in.p;
    c.ls = in.n;

    for (int k = 1; k <= ncalls; k++) {
        size_t our_len, stock_len;
        const char *ours = run_call(&our_side, &c, k, &our_len);
        if (our_side.budget_hit) {
            /* a runaway pattern: the stock matcher could not be stopped */
            lua_settop(our_side.L, 0);
            continue;
        }
        const char *stock = run_call(&stock_side, &c, k, &stock_len);
        if (our_len != stock_len || memcmp(ours, stock, our_len) != 0) {
            report(&c, k);
            fuzz_print("stock", stock, stock_len);
            fuzz_print("ours", ours, our_len);
            FUZZ_FAIL("lpattern/lcase differ from the stock library");
        }
        lua_settop(our_side.L, 0);
        lua_settop(stock_side.L, 0);
    }
    return 0;
}
