/* watch_inotify.c -- --watch on Linux: inotify on the script's folder.
 *
 * The folder, not the file, is watched: editors often write a new file and
 * rename it over the old one, which a watch on the old inode would miss. */
#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define SETTLE_MS 100 /* let a burst of writes finish before reloading */

struct watch {
    loop *loop;
    loop_io io;
    timer settle;
    int fd;
    char *name;       /* the file's name within its folder */
    watch_fn fn;
    void *data;
};

static void settled(timer *t)
{
    watch *w = t->data;
    w->fn(w->data);
}

static void on_events(loop *l, loop_io *io, int events)
{
    watch *w = io->data;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    (void)events;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->len > 0 && strcmp(ev->name, w->name) == 0)
                hit = 1;
            p += sizeof *ev + ev->len;
        }
    }
    if (hit)
        loop_timer_start(l, &w->settle, SETTLE_MS);
}

watch *watch_start(loop *l, const char *path, watch_fn fn, void *data,
                   char *err, size_t errlen)
{
    watch *w = calloc(1, sizeof *w);
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path + 1), path);
    w->name = strdup(slash ? slash + 1 : path);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->name == NULL || w->fd < 0 ||
        inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
                                          IN_CREATE | IN_MODIFY) < 0) {
        snprintf(err, errlen, "inotify on %s: %s", dir, strerror(errno));
        if (w->fd >= 0)
            close(w->fd);
        free(w->name);
        free(w);
        return NULL;
    }
    w->loop = l;
    w->fn = fn;
    w->data = data;
    timer_init(&w->settle, settled, w);
    loop_io_init(&w->io, (net_socket)w->fd, on_events, w);
    if (loop_io_set(l, &w->io, POLLER_READ) != 0) {
        snprintf(err, errlen, "cannot poll the inotify descriptor");
        close(w->fd);
        free(w->name);
        free(w);
        return NULL;
    }
    return w;
}

void watch_stop(watch *w)
{
    if (w == NULL)
        return;
    loop_io_set(w->loop, &w->io, 0);
    loop_timer_stop(w->loop, &w->settle);
    close(w->fd);
    free(w->name);
    free(w);
}

const char *watch_backend(void)
{
    return "inotify";
}
