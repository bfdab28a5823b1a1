/* test_dir.c -- listing a folder: the runner's own working folder (the
 * build's, on every platform), a file made in it, and paths that are
 * not folders. */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "dir.h"
#include "test.h"

/* one file per case: ctest may run the two at once in one folder */
#define PROBE "ricochet-dir-probe.sim"
#define FILE_PROBE "ricochet-dir-file.sim"

typedef struct seen {
    int probe, dots, total;
} seen;

static int note(const char *name, void *data)
{
    seen *s = data;
    s->total++;
    s->probe += strcmp(name, PROBE) == 0;
    s->dots += strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
    return 0;
}

static int stop_at_first(const char *name, void *data)
{
    (void)name;
    ++*(int *)data;
    return 7;
}

void test_dir_list(void)
{
    FILE *f = fopen(PROBE, "wb");
    ASSERT(f != NULL);
    fclose(f);
    ASSERT_EQ(dir_is_dir("."), 1);
    ASSERT_EQ(dir_is_dir(PROBE), 0);
    seen s = {0, 0, 0};
    ASSERT_EQ(dir_each(".", note, &s), 0);
    ASSERT_EQ(s.probe, 1);
    ASSERT_EQ(s.dots, 0);
    /* fn's non-zero ends the walk and is returned */
    int calls = 0;
    ASSERT_EQ(dir_each(".", stop_at_first, &calls), 7);
    ASSERT_EQ(calls, 1);
    remove(PROBE);
}

void test_dir_not_a_dir(void)
{
    const char *missing = "ricochet-no-such-folder";
    ASSERT_LT(dir_is_dir(missing), 0);
    seen s = {0, 0, 0};
    ASSERT_LT(dir_each(missing, note, &s), 0);
    ASSERT_EQ(s.total, 0);
    FILE *f = fopen(FILE_PROBE, "wb");
    ASSERT(f != NULL);
    fclose(f);
    ASSERT_LT(dir_each(FILE_PROBE, note, &s), 0);
    remove(FILE_PROBE);
}
