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

#include "err.h"
#include "path.h"

struct watch {
    int fd;
    char *name;       /* the file's name within its folder */
};

watch *watch_open(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    watch *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    path_dirname(path, dir, sizeof dir);
    w->name = strdup(path_basename(path));
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->name == NULL || w->fd < 0 ||
        inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
                                          IN_CREATE | IN_MODIFY) < 0) {
        int rc = err_from_os(w->name == NULL ? ENOMEM : errno);
        snprintf(err, errlen, "inotify on %s: %s", dir, err_strerror(rc));
        if (w->fd >= 0)
            close(w->fd);
        free(w->name);
        free(w);
        return NULL;
    }
    return w;
}

void watch_close(watch *w)
{
    if (w == NULL)
        return;
    close(w->fd);
    free(w->name);
    free(w);
}

net_socket watch_handle(const watch *w)
{
    return (net_socket)w->fd;
}

unsigned watch_poll_ms(void)
{
    return 0;
}

int watch_check(watch *w)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
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
    return hit;
}

const char *watch_backend(void)
{
    return "inotify";
}
