/* watch_stat.c -- --watch where there is no inotify: a stat() poll.
 *
 * Once a second the file's modification time and size are compared with
 * the last ones seen; a change is reported once it has held still for one
 * more poll, so a half-written file is not loaded. */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define POLL_MS 1000

struct watch {
    loop *loop;
    timer poll;
    char *path;
    watch_fn fn;
    void *data;
    long long mtime, size; /* as last seen */
    int changing;          /* seen to change at the last poll */
};

static int look(const char *path, long long *mtime, long long *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *mtime = (long long)st.st_mtime;
    *size = (long long)st.st_size;
    return 0;
}

static void on_poll(timer *t)
{
    watch *w = t->data;
    long long mtime, size;
    if (look(w->path, &mtime, &size) == 0) {
        if (mtime != w->mtime || size != w->size) {
            w->mtime = mtime;
            w->size = size;
            w->changing = 1;
        } else if (w->changing) {
            w->changing = 0;
            w->fn(w->data);
        }
    }
    loop_timer_start(w->loop, &w->poll, POLL_MS);
}

watch *watch_start(loop *l, const char *path, watch_fn fn, void *data,
                   char *err, size_t errlen)
{
    watch *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = malloc(strlen(path) + 1)) == NULL) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    strcpy(w->path, path);
    if (look(path, &w->mtime, &w->size) != 0) {
        snprintf(err, errlen, "cannot stat %s", path);
        free(w->path);
        free(w);
        return NULL;
    }
    w->loop = l;
    w->fn = fn;
    w->data = data;
    timer_init(&w->poll, on_poll, w);
    loop_timer_start(l, &w->poll, POLL_MS);
    return w;
}

void watch_stop(watch *w)
{
    if (w == NULL)
        return;
    loop_timer_stop(w->loop, &w->poll);
    free(w->path);
    free(w);
}

const char *watch_backend(void)
{
    return "stat poll";
}
