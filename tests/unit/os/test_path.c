/* test_path.c -- a script's folder and name, with the platform's
 * separators (the folder is where require looks). */
#include "cases.h"
#include "err.h"
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

/* Only a bare name is searched for: a separator or a drive is a folder
 * part. */
void test_path_has_dir(void)
{
    ASSERT_EQ(path_has_dir("chaos.lua"), 0);
    ASSERT_EQ(path_has_dir(""), 0);
    ASSERT_EQ(path_has_dir("./chaos.lua"), 1);
    ASSERT_EQ(path_has_dir("scripts/chaos.lua"), 1);
    ASSERT_EQ(path_has_dir("/chaos.lua"), 1);
    ASSERT_EQ(path_has_dir("dir/"), 1);
#ifdef _WIN32
    ASSERT_EQ(path_has_dir("C:chaos.lua"), 1);
    ASSERT_EQ(path_has_dir("scripts\\chaos.lua"), 1);
    ASSERT_EQ(PATH_LIST_SEP, ';');
#else
    ASSERT_EQ(path_has_dir("C:chaos.lua"), 0);
    ASSERT_EQ(path_has_dir("scripts\\chaos.lua"), 0);
    ASSERT_EQ(PATH_LIST_SEP, ':');
#endif
}

void test_path_join(void)
{
    char out[16];
    ASSERT_EQ(path_join("dir", "s.lua", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "dir/s.lua");
    ASSERT_EQ(path_join("dir/", "s.lua", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "dir/s.lua");
    ASSERT_EQ(path_join("/", "s.lua", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "/s.lua");
#ifdef _WIN32
    ASSERT_EQ(path_join("C:\\", "s.lua", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "C:\\s.lua");
#endif
    /* 15 bytes fit in 16, 16 do not: nothing half-made is left */
    ASSERT_EQ(path_join("abcdefghi", "s.lua", out, sizeof out), 0);
    ASSERT_STR_EQ(out, "abcdefghi/s.lua");
    ASSERT_EQ(path_join("abcdefghij", "s.lua", out, sizeof out),
              ERR_EINVAL);
    ASSERT_STR_EQ(out, "");
}

/* A regular file is one; a folder or nothing is not. */
void test_path_is_file(void)
{
    static const char name[] = "unit_os_path_is_file.tmp";
    FILE *f = fopen(name, "w");
    ASSERT(f != NULL);
    ASSERT_EQ(fclose(f), 0);
    ASSERT_EQ(path_is_file(name), 1);
    ASSERT_EQ(remove(name), 0);
    ASSERT_EQ(path_is_file(name), 0);
    ASSERT_EQ(path_is_file("."), 0);
    ASSERT_EQ(path_is_file(""), 0);
}
