/* test_lalloc.c -- the Lua state's allocator: the cap, shrinking, the
 * small-block cache, and a real state running on it. */
#include <lauxlib.h>
#include <lualib.h>

#include "cases.h"
#include "lalloc.h"
#include "test.h"

void test_lalloc_cap(void)
{
    lalloc a;
    lalloc_init(&a, 1000);
    void *p = lalloc_fn(&a, NULL, LUA_TSTRING, 600);
    ASSERT(p != NULL);
    ASSERT_UEQ(a.used, 600);
    /* growth past the cap is refused and leaves the block as it was */
    ASSERT(lalloc_fn(&a, p, 600, 1200) == NULL);
    ASSERT_UEQ(a.used, 600);
    ASSERT(lalloc_fn(&a, NULL, LUA_TTABLE, 500) == NULL);
    /* shrinking always works, freeing gives the bytes back */
    void *q = lalloc_fn(&a, p, 600, 10);
    ASSERT(q != NULL);
    ASSERT_UEQ(a.used, 10);
    ASSERT(lalloc_fn(&a, q, 10, 0) == NULL);
    ASSERT_UEQ(a.used, 0);
    lalloc_release(&a);
}

static size_t class_of_size(size_t n) { return (n - 1) / 16; }

void test_lalloc_cache(void)
{
    lalloc a;
    lalloc_init(&a, 0);
    /* a freed small block is handed out again for its size class */
    char *p = lalloc_fn(&a, NULL, LUA_TSTRING, 70);
    memset(p, 'x', 70);
    ASSERT(lalloc_fn(&a, p, 70, 0) == NULL);
    char *q = lalloc_fn(&a, NULL, LUA_TSTRING, 80);
    if (LALLOC_CACHE)
        ASSERT(q == p);
    else
        ASSERT_EQ(a.depth[class_of_size(70)], 0); /* nothing kept */
    /* growing within the class keeps the block; across classes moves it
     * with its bytes */
    memcpy(q, "abcdefgh", 8);
    ASSERT(lalloc_fn(&a, q, 80, 79) == q);
    char *r = lalloc_fn(&a, q, 79, 300);
    ASSERT(r != NULL);
    ASSERT_MEM_EQ(r, 8, "abcdefgh", 8);
    char *s = lalloc_fn(&a, r, 300, 20);
    ASSERT_MEM_EQ(s, 8, "abcdefgh", 8);
    lalloc_fn(&a, s, 20, 0);
    ASSERT_UEQ(a.used, 0);
    lalloc_release(&a);
}

void test_lalloc_state(void)
{
    /* a whole Lua state on it: work, a memory error caught, then close */
    lalloc a;
    lalloc_init(&a, 4 << 20);
    lua_State *L = lua_newstate(lalloc_fn, &a);
    ASSERT(L != NULL);
    luaL_openlibs(L);
    ASSERT_EQ(luaL_dostring(L, "local t = {} for i = 1, 10000 do "
                               "t[i] = ('x'):rep(i % 300) end"), LUA_OK);
    ASSERT_NE(luaL_dostring(L, "local t = {} while true do "
                               "t[#t + 1] = ('y'):rep(1000) .. #t end"),
              LUA_OK);
    ASSERT(strstr(lua_tostring(L, -1), "not enough memory") != NULL);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
    ASSERT_LT(a.used, 1 << 20);
    lua_close(L);
    ASSERT_UEQ(a.used, 0);
    lalloc_release(&a);
}

/* Fails every growth and every shrink it is asked for. */
static void *refusing_realloc(void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    return NULL;
}

void test_lalloc_shrink_refused(void)
{
    /* A shrink the C library refuses keeps the block, and the count
     * follows what Lua believes (it frees the block with the new size):
     * after the free, nothing is counted. */
    lalloc a;
    lalloc_init(&a, 0);
    void *p = lalloc_fn(&a, NULL, LUA_TSTRING, 5000);
    ASSERT(p != NULL);
    a.sys_realloc = refusing_realloc;
    ASSERT(lalloc_fn(&a, p, 5000, 3000) == p);  /* large to large */
    ASSERT_UEQ(a.used, 3000);
    ASSERT(lalloc_fn(&a, p, 3000, 100) == p);   /* large to small */
    ASSERT_UEQ(a.used, 100);
    ASSERT(lalloc_fn(&a, p, 100, 200) == NULL); /* growth is refused */
    ASSERT_UEQ(a.used, 100);
    a.sys_realloc = realloc;
    lalloc_fn(&a, p, 100, 0);
    ASSERT_UEQ(a.used, 0);
    lalloc_release(&a);
}

static void count_notify(void *ud)
{
    (*(int *)ud)++;
}

void test_lalloc_counts_big_blocks(void)
{
    lalloc a;
    int notified = 0;
    lalloc_init(&a, 0);
    a.notify = count_notify;
    a.notify_ud = &notified;
    a.notify_at = 3000;
    /* small blocks cost what their instruction costs: not counted */
    void *small = lalloc_fn(&a, NULL, LUA_TSTRING, LALLOC_SMALL_MAX);
    ASSERT_UEQ(a.grown, 0);
    /* a big block counts its size; growing it, what it grew by (a small
     * block growing past the limit too) */
    void *big = lalloc_fn(&a, NULL, LUA_TSTRING, 1000);
    ASSERT_UEQ(a.grown, 1000);
    big = lalloc_fn(&a, big, 1000, 1500);
    ASSERT_UEQ(a.grown, 1500);
    small = lalloc_fn(&a, small, LALLOC_SMALL_MAX, LALLOC_SMALL_MAX + 1);
    ASSERT_UEQ(a.grown, 1501);
    ASSERT_EQ(notified, 0);
    /* shrinking and freeing count nothing */
    big = lalloc_fn(&a, big, 1500, 400);
    ASSERT_UEQ(a.grown, 1501);
    /* reaching notify_at calls notify, once per allocation past it */
    void *third = lalloc_fn(&a, NULL, LUA_TTABLE, 2000);
    ASSERT_EQ(notified, 1);
    /* a refused block counts nothing */
    a.limit = a.used;
    ASSERT(lalloc_fn(&a, NULL, LUA_TSTRING, 5000) == NULL);
    ASSERT_UEQ(a.grown, 3501);
    ASSERT_EQ(notified, 1);
    lalloc_fn(&a, third, 2000, 0);
    lalloc_fn(&a, big, 400, 0);
    lalloc_fn(&a, small, LALLOC_SMALL_MAX + 1, 0);
    ASSERT_UEQ(a.used, 0);
    lalloc_release(&a);
}
