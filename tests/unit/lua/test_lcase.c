/* test_lcase.c -- the fast string.upper/lower against Lua's own, for every
 * byte value at every alignment and length around the word size. */
#include <lauxlib.h>
#include <lualib.h>

#include "cases.h"
#include "lcase.h"
#include "test.h"

/* Call string.NAME(s) in L and copy the result out. */
static size_t call_case(lua_State *L, const char *name, const char *s,
                        size_t len, char *out)
{
    lua_getglobal(L, "string");
    lua_getfield(L, -1, name);
    lua_pushlstring(L, s, len);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        TEST_FAIL("string.%s failed: %s", name, lua_tostring(L, -1));
    size_t n;
    const char *r = lua_tolstring(L, -1, &n);
    memcpy(out, r, n);
    lua_pop(L, 2);
    return n;
}

void test_lcase_matches_stock(void)
{
    lua_State *stock = luaL_newstate(), *fast = luaL_newstate();
    ASSERT(stock != NULL && fast != NULL);
    luaL_openlibs(stock);
    luaL_openlibs(fast);
    lua_getglobal(fast, "string");
    lcase_install(fast, -1);
    lua_pop(fast, 1);

    char in[256 + 40], want[sizeof in], got[sizeof in];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    for (int i = 256; i < (int)sizeof in; i++)
        in[i] = (char)("aZ@[`{"[i % 6]); /* the edges of both ranges */
    const char *names[] = {"upper", "lower"};
    for (int k = 0; k < 2; k++) {
        /* every offset (alignment) and many lengths, tails included */
        for (size_t off = 0; off < 9; off++) {
            for (size_t len = 0; off + len <= sizeof in; len += 1 + len / 8) {
                size_t wn = call_case(stock, names[k], in + off, len, want);
                size_t gn = call_case(fast, names[k], in + off, len, got);
                ASSERT_MEM_EQ(got, gn, want, wn);
            }
        }
    }
    /* a long string reuses and regrows the scratch buffer */
    size_t big = 100000;
    char *s = malloc(big), *w = malloc(big), *g = malloc(big);
    ASSERT(s && w && g);
    for (size_t i = 0; i < big; i++)
        s[i] = (char)(i * 7 + 3);
    for (int round = 0; round < 2; round++) {
        size_t wn = call_case(stock, "upper", s, big, w);
        size_t gn = call_case(fast, "upper", s, big, g);
        ASSERT_MEM_EQ(g, gn, w, wn);
    }
    free(s);
    free(w);
    free(g);
    lua_close(stock);
    lua_close(fast);
}
