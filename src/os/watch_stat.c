/* watch_stat.c -- --watch where there is no inotify: a poll.
 *
 * At each watch_check (the owner calls it once a second) the file's size,
 * modification time and a hash of its bytes (a script is small; the hash
 * catches an edit that keeps the size within the same second of mtime)
 * are compared with the last ones seen; a change is reported once it has
 * held still for one more poll, so a half-written file is not loaded. */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"

#define POLL_MS 1000

struct watch {
    char *path;
    long long mtime, size; /* as last seen */
    uint64_t hash;
    int changing;          /* seen to change at the last poll */
};

/* FNV-1a of the file's bytes; 0 when it cannot be read. */
static uint64_t hash_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)chunk[i]) * 0x100000001b3ULL;
    fclose(f);
    return h;
}

static int look(const char *path, long long *mtime, long long *size,
                uint64_t *hash)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ERR_EINVAL;
    *mtime = (long long)st.st_mtime;
    *size = (long long)st.st_size;
    *hash = hash_file(path);
    return 0;
}

int watch_check(watch *w)
{
    long long mtime, size;
    uint64_t hash;
    if (look(w->path, &mtime, &size, &hash) != 0)
        return 0;
    if (mtime != w->mtime || size != w->size || hash != w->hash) {
        w->mtime = mtime;
        w->size = size;
        w->hash = hash;
        w->changing = 1;
    } else if (w->changing) {
        w->changing = 0;
        return 1;
    }
    return 0;
}

watch *watch_open(const char *path, char *err, size_t errlen)
{
    watch *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = malloc(strlen(path) + 1)) == NULL) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    strcpy(w->path, path);
    if (look(path, &w->mtime, &w->size, &w->hash) != 0) {
        snprintf(err, errlen, "cannot stat %s", path);
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

void watch_close(watch *w)
{
    if (w == NULL)
        return;
    free(w->path);
    free(w);
}

net_socket watch_handle(const watch *w)
{
    (void)w;
    return NET_INVALID;
}

unsigned watch_poll_ms(void)
{
    return POLL_MS;
}

const char *watch_backend(void)
{
    return "stat poll";
}
