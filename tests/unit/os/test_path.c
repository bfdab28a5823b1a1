/* test_path.c -- a script's folder and name, with the platform's
 * separators (the folder is where require looks). */
#include "cases.h"
#include "path.h"
#include "test.h"

typedef struct path_case {
    const char *path, *dir, *base;
} path_case;

static void check_paths(const path_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char dir[64];
        memset(dir, 'x', sizeof dir);
        path_dirname(cases[i].path, dir, sizeof dir);
        if (strcmp(dir, cases[i].dir) != 0)
            TEST_FAIL("path_dirname(\"%s\"): \"%s\", expected \"%s\"",
                      cases[i].path, dir, cases[i].dir);
        const char *base = path_basename(cases[i].path);
        if (strcmp(base, cases[i].base) != 0)
            TEST_FAIL("path_basename(\"%s\"): \"%s\", expected \"%s\"",
                      cases[i].path, base, cases[i].base);
        /* the name is a pointer into the path, not a copy */
        ASSERT(base >= cases[i].path &&
               base <= cases[i].path + strlen(cases[i].path));
    }
}

/* Paths with '/' only: the same on every platform. */
void test_path_slash(void)
{
    static const path_case cases[] = {
        { "s.lua", ".", "s.lua" },
        { "dir/s.lua", "dir", "s.lua" },
        { "/s.lua", "/", "s.lua" },
        { "a//b", "a", "b" },
        { "/usr/share/ricochet/echo.lua", "/usr/share/ricochet",
          "echo.lua" },
        { "./s.lua", ".", "s.lua" },
        { "//s.lua", "/", "s.lua" },
        { "dir/", "dir", "" },
    };
    check_paths(cases, sizeof cases / sizeof cases[0]);
}

void test_path_truncated(void)
{
    char out[4];
    path_dirname("abcdef/s.lua", out, sizeof out);
    ASSERT_STR_EQ(out, "abc");
    path_dirname("s.lua", out, 2);
    ASSERT_STR_EQ(out, ".");
}

void test_path_windows(void)
{
#ifdef _WIN32
    static const path_case cases[] = {
        { "C:\\dir\\s.lua", "C:\\dir", "s.lua" },
        { "C:\\s.lua", "C:\\", "s.lua" },
        { "C:s.lua", "C:.", "s.lua" },
        { "dir/sub\\s.lua", "dir/sub", "s.lua" },
        { "c:/dir/s.lua", "c:/dir", "s.lua" },
        { "\\s.lua", "\\", "s.lua" },
    };
    check_paths(cases, sizeof cases / sizeof cases[0]);
#else
    /* a backslash is a name character here, and "C:" no drive */
    static const path_case cases[] = {
        { "C:\\dir\\s.lua", ".", "C:\\dir\\s.lua" },
        { "C:s.lua", ".", "C:s.lua" },
        { "dir/sub\\s.lua", "dir", "sub\\s.lua" },
    };
    check_paths(cases, sizeof cases / sizeof cases[0]);
#endif
}
