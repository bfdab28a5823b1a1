/* watch_stat.c -- --watch where there is no inotify: a poll.
 *
 * At each watch_check (the owner calls it once a second) the file's size,
 * modification time and a hash of its bytes (a script is small; the hash
 * catches an edit that keeps the size within the same second of mtime)
 * are compared with the last ones seen; a change is reported once it has
 * held still for one more poll (and the owner's settle check follows). */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 1000

struct watch {
    char *path;
    watch_stamp seen;      /* as last seen */
    int changing;          /* seen to change at the last poll */
};

int watch_check(watch *w)
{
    watch_stamp now;
    watch_stamp_file(w->path, &now);
    if (!now.found)
        return 0;
    if (!watch_stamp_equal(&now, &w->seen)) {
        w->seen = now;
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
    watch_stamp_file(path, &w->seen);
    if (!w->seen.found) {
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
