/* it_cli.c -- loopback TCP clients for the cases. */
#include "it_cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "it_fd.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static int make_addr(const char *host, int port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -1;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -1;
        *len = sizeof *a;
    }
    return 0;
}

int it_cli_connect(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, err = 0, revents;
    socklen_t el = sizeof err;

    if (make_addr(host, port, &ss, &sl) != 0)
        return -EINVAL;
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    it_fd_cloexec(fd);
    it_fd_nonblock(fd);
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        err = errno;
        close(fd);
        return -err;
    }
    revents = it_fd_poll(fd, POLLOUT, IT_WAIT_MS);
    if (revents == 0) {
        close(fd);
        return -ETIMEDOUT;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err != 0) {
        close(fd);
        return -err;
    }
    return fd;
}

int it_cli_connect_to(const it_server *s, int idx)
{
    int fd;
    ASSERT_LT(idx, s->nlisten);
    fd = it_cli_connect(s->host[idx], s->port[idx]);
    if (fd < 0)
        TEST_FAIL("connect to %s port %d: %s", s->host[idx], s->port[idx],
                  strerror(-fd));
    return fd;
}

int it_cli_send_all(int fd, const void *data, size_t len, int timeout_ms)
{
    const unsigned char *p = data;
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    for (int i = 0; len > 0 && i < 1000000; i++) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            return -errno;
        if (it_clock_left_ms(deadline) == 0)
            return -ETIMEDOUT;
        it_fd_poll(fd, POLLOUT, it_clock_left_ms(deadline));
    }
    return len == 0 ? 0 : -ETIMEDOUT;
}

size_t it_cli_recv_n(int fd, void *buf, size_t n, int timeout_ms)
{
    unsigned char *p = buf;
    size_t got = 0;
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    for (int i = 0; got < n && i < 1000000; i++) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            break;
        if (it_clock_left_ms(deadline) == 0)
            break;
        it_fd_poll(fd, POLLIN, it_clock_left_ms(deadline));
    }
    return got;
}

size_t it_cli_recv_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t got = 0;
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    ASSERT(cap > 1);
    /* one byte at a time: never swallow what follows the line */
    for (int i = 0; got < cap - 1 && i < 1000000; i++) {
        ssize_t r = recv(fd, buf + got, 1, 0);
        if (r > 0) {
            got++;
            if (buf[got - 1] == '\n')
                break;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            break;
        if (it_clock_left_ms(deadline) == 0)
            break;
        it_fd_poll(fd, POLLIN, it_clock_left_ms(deadline));
    }
    buf[got] = '\0';
    return got;
}

int it_cli_recv_eof(int fd, unsigned char **out, size_t *len, size_t cap,
                    int timeout_ms)
{
    size_t bcap = 0, got = 0;
    unsigned char *buf = NULL;
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    int rc = -ETIMEDOUT;
    for (int i = 0; i < 10000000; i++) {
        if (bcap - got < 65536) {
            bcap = bcap ? bcap * 2 : 65536;
            buf = realloc(buf, bcap);
            ASSERT(buf != NULL);
        }
        ssize_t r = recv(fd, buf + got, bcap - got, 0);
        if (r > 0) {
            got += (size_t)r;
            if (got > cap) {
                rc = -EMSGSIZE;
                break;
            }
            continue;
        }
        if (r == 0) {
            rc = 0;
            break;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (it_clock_left_ms(deadline) == 0)
            break;
        it_fd_poll(fd, POLLIN, it_clock_left_ms(deadline));
    }
    if (out)
        *out = buf;
    else
        free(buf);
    if (len)
        *len = got;
    return rc;
}

void it_cli_shut_wr(int fd)
{
    if (shutdown(fd, SHUT_WR) != 0)
        TEST_FAIL("shutdown(SHUT_WR): %s", strerror(errno));
}

void it_cli_abort(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

void it_cli_local_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(buf, cap, "[%s]:%d", host, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(buf, cap, "%s:%d", host, ntohs(a->sin_port));
    }
}

int it_cli_wait_error(int fd, int timeout_ms)
{
    int err = 0;
    socklen_t el = sizeof err;
    /* no events asked: only POLLERR / POLLHUP wake us */
    int revents = it_fd_poll(fd, 0, timeout_ms);
    if (revents == 0)
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        return errno;
    return err ? err : (revents & POLLHUP ? EPIPE : 0);
}
