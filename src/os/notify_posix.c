/* notify_posix.c -- notify.h on an AF_UNIX datagram socket. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"

struct notify {
    int fd;
    struct sockaddr_un addr;
    socklen_t addr_len;
};

/* $NOTIFY_SOCKET as a socket address: a path, or "@name" for Linux's
 * abstract namespace (a NUL first byte; the length, not a NUL, ends it). */
static int make_address(const char *value, struct notify *n)
{
    size_t len = strlen(value);
    memset(&n->addr, 0, sizeof n->addr);
    n->addr.sun_family = AF_UNIX;
    if (len >= sizeof n->addr.sun_path)
        return ERR_EINVAL;
    if (value[0] == '@') {
#ifdef __linux__
        memcpy(n->addr.sun_path + 1, value + 1, len - 1);
#else
        return ERR_EINVAL; /* abstract sockets are Linux's own */
#endif
    } else if (value[0] == '/') {
        memcpy(n->addr.sun_path, value, len + 1);
        len++; /* the path's NUL */
    } else {
        return ERR_EINVAL;
    }
    n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    return 0;
}

int notify_open(notify **out, char *addr, size_t cap)
{
    const char *value = getenv("NOTIFY_SOCKET");
    struct notify *n;
    int rc;

    *out = NULL;
    if (cap > 0)
        snprintf(addr, cap, "%s", value ? value : "");
    if (value == NULL || value[0] == '\0') {
        unsetenv("NOTIFY_SOCKET");
        return 0;
    }
    n = calloc(1, sizeof *n);
    if (n == NULL)
        return ERR_ENOMEM;
    rc = make_address(value, n);
    unsetenv("NOTIFY_SOCKET"); /* value is not read after this */
    if (rc != 0) {
        free(n);
        return rc;
    }
    n->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (n->fd < 0) {
        rc = err_from_os(errno);
        free(n);
        return rc;
    }
    /* never inherited by a child; a full queue loses a message rather
     * than stall the thread that tells */
    if (fcntl(n->fd, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(n->fd, F_SETFL, fcntl(n->fd, F_GETFL) | O_NONBLOCK) != 0) {
        rc = err_from_os(errno);
        close(n->fd);
        free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int notify_send(notify *n, const char *text, size_t len)
{
    for (int tries = 0; tries < 8; tries++) {
        ssize_t sent = sendto(n->fd, text, len, 0,
                              (const struct sockaddr *)&n->addr,
                              n->addr_len);
        if (sent >= 0)
            return 0;
        if (errno != EINTR)
            return err_from_os(errno);
    }
    return ERR_EINTR;
}

void notify_close(notify *n)
{
    if (n == NULL)
        return;
    close(n->fd);
    free(n);
}
