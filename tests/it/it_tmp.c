/* it_tmp.c -- a case's temporary folder and files (see it_tmp.h). */
#include "it_tmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#define MAX_MADE 64

static char root[512];
static char *made[MAX_MADE]; /* absolute paths, in the order made */
static int nmade;

/* Remove what was made, the last first (a folder after what it holds). */
static void cleanup(void)
{
    for (int i = nmade - 1; i >= 0; i--) {
        if (made[i] == NULL)
            continue;
        remove(made[i]); /* a file, or a folder emptied before */
        free(made[i]);
        made[i] = NULL;
    }
    if (root[0])
        rmdir(root);
    nmade = 0;
}

const char *it_tmp_root(void)
{
    if (root[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL || *base == '\0')
            base = "/tmp";
        snprintf(root, sizeof root, "%s/ricochet-it-XXXXXX", base);
        if (mkdtemp(root) == NULL)
            TEST_FAIL("mkdtemp %s: %s", root, strerror(errno));
        atexit(cleanup);
    }
    return root;
}

/* The absolute path of rel, remembered for the cleanup when new. */
static const char *remember(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", it_tmp_root(), rel);
    for (int i = 0; i < nmade; i++)
        if (made[i] != NULL && strcmp(made[i], path) == 0)
            return made[i];
    if (nmade == MAX_MADE)
        TEST_FAIL("more than %d temporary files", MAX_MADE);
    made[nmade] = strdup(path);
    ASSERT(made[nmade] != NULL);
    return made[nmade++];
}

const char *it_tmp_mkdir(const char *rel)
{
    const char *path = remember(rel);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        TEST_FAIL("mkdir %s: %s", path, strerror(errno));
    return path;
}

const char *it_tmp_write_bytes(const char *rel, const char *data,
                               size_t len)
{
    const char *path = remember(rel);
    char next[1100];
    snprintf(next, sizeof next, "%s.new", path);
    FILE *f = fopen(next, "wb");
    if (f == NULL)
        TEST_FAIL("cannot write %s: %s", next, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
        TEST_FAIL("cannot write %s: %s", next, strerror(errno));
    if (rename(next, path) != 0)
        TEST_FAIL("rename %s: %s", next, strerror(errno));
    return path;
}

const char *it_tmp_write(const char *rel, const char *text)
{
    return it_tmp_write_bytes(rel, text, strlen(text));
}

const char *it_tmp_path(const char *rel) { return remember(rel); }

void it_tmp_unlink(const char *rel)
{
    const char *path = remember(rel);
    if (unlink(path) != 0)
        TEST_FAIL("unlink %s: %s", path, strerror(errno));
}

void it_tmp_chdir(const char *rel)
{
    const char *path = rel ? remember(rel) : it_tmp_root();
    if (chdir(path) != 0)
        TEST_FAIL("chdir %s: %s", path, strerror(errno));
}
