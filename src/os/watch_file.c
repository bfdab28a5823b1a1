/* watch_file.c -- what the watched file looks like (see watch.h), shared
 * by every --watch backend. */
#include "watch.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* FNV-1a of the file's bytes; a script is small. 0 in *ok when it cannot
 * be read. */
static uint64_t hash_file(const char *path, int *ok)
{
    FILE *f = fopen(path, "rb");
    uint64_t h = 0xcbf29ce484222325ULL;
    *ok = f != NULL;
    if (f == NULL)
        return 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)chunk[i]) * 0x100000001b3ULL;
    if (ferror(f))
        *ok = 0;
    fclose(f);
    return h;
}

/* Nanoseconds where the platform keeps them, else whole seconds. */
static long long mtime_ns(const struct stat *st)
{
    long long ns = (long long)st->st_mtime * 1000000000LL;
#if defined(__APPLE__)
    ns += st->st_mtimespec.tv_nsec;
#elif defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__)
    ns += st->st_mtim.tv_nsec;
#endif
    return ns;
}

void watch_stamp_file(const char *path, watch_stamp *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(path, &st) != 0)
        return;
    out->size = (long long)st.st_size;
    out->mtime_ns = mtime_ns(&st);
    out->hash = hash_file(path, &out->found);
}

int watch_stamp_equal(const watch_stamp *a, const watch_stamp *b)
{
    return a->found == b->found && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->hash == b->hash;
}
