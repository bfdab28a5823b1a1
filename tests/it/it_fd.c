/* it_fd.c -- descriptor plumbing the harness files share. */
#include "it_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "it_clock.h"

void it_fd_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void it_fd_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int it_fd_poll(int fd, short events, int timeout_ms)
{
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    for (int i = 0; i < 1000000; i++) {
        struct pollfd pfd = {fd, events, 0};
        int rc = poll(&pfd, 1, it_clock_left_ms(deadline));
        if (rc > 0)
            return pfd.revents;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            TEST_FAIL("poll: %s", strerror(errno));
        if (it_clock_left_ms(deadline) == 0)
            return 0;
    }
    return 0;
}

void it_fd_read_all(int fd, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ASSERT(buf != NULL);
    for (int i = 0; i < 100000; i++) {
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ASSERT(buf != NULL);
        }
        ssize_t got = pread(fd, buf + len, cap - 1 - len, (off_t)len);
        if (got > 0)
            len += (size_t)got;
        else if (got == 0 || errno != EINTR)
            break;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
}
