/* net_posix.c -- the socket portability layer on POSIX systems.
 *
 * This is where errno becomes an err.h code (through err_from_os), once;
 * nothing above this file looks at errno after a socket call. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 on glibc and musl */
#endif

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <sys/types.h>
#include <unistd.h>

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
#define HAVE_SOCK_FLAGS 1
#endif

#if defined(HAVE_SOCK_FLAGS) &&                                         \
    (defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
     defined(__OpenBSD__) || defined(__DragonFly__))
#define HAVE_ACCEPT4 1
#endif

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SIGPIPE is ignored by net_init instead */
#endif

static int fd_of(net_socket s) { return (int)s; }

/* recv and send are thread cancellation points: in a process that has
 * threads, glibc switches asynchronous cancellation on and off around each
 * call, two atomic operations that cost more than the rest of the wrapper
 * on a small message. ricochet never cancels a thread, so on Linux the
 * two system calls of every message are made directly. */
#if defined(__SANITIZE_ADDRESS__)
#define CHECKED_CALLS 1 /* keep the sanitizer's checks of recv/send */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECKED_CALLS 1
#endif
#endif
#if defined(__linux__) && defined(SYS_recvfrom) && defined(SYS_sendto) && \
    !defined(CHECKED_CALLS)
#define sock_recv(fd, buf, len, flags) \
    syscall(SYS_recvfrom, (fd), (buf), (len), (flags), NULL, NULL)
#define sock_send(fd, buf, len, flags) \
    syscall(SYS_sendto, (fd), (buf), (len), (flags), NULL, 0)
#else
#define sock_recv recv
#define sock_send send
#endif

static int last_error(void) { return err_from_os(errno); }

int net_init(void)
{
    /* A peer that closes early must cost us an EPIPE, not the process. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return last_error();
    return 0;
}

void net_cleanup(void) {}

static int set_nonblocking_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return last_error();
    flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return last_error();
    return 0;
}

/* Close fd keeping err, the error that made us give up on it. */
static int close_with(int fd, int err)
{
    close(fd);
    return err;
}

static int open_socket(int family, int type, int *out)
{
#ifdef HAVE_SOCK_FLAGS
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return last_error();
#else
    int fd = socket(family, type, 0);
    if (fd < 0)
        return last_error();
    int err = set_nonblocking_cloexec(fd);
    if (err < 0)
        return close_with(fd, err);
#endif
    *out = fd;
    return 0;
}

static int set_int_option(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof value) < 0)
        return last_error();
    return 0;
}

static int format_addr(const struct sockaddr *sa, char *buf, size_t buflen)
{
    char ip[INET6_ADDRSTRLEN];
    int n;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip) == NULL)
            return last_error();
        n = snprintf(buf, buflen, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip) == NULL)
            return last_error();
        n = snprintf(buf, buflen, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    } else {
        return ERR_EAFNOSUPPORT;
    }
    if (n < 0 || (size_t)n >= buflen)
        return ERR_EINVAL;
    return 0;
}

static int resolve_error(int rc)
{
    switch (rc) {
    case EAI_FAMILY: return ERR_EAFNOSUPPORT;
    case EAI_MEMORY: return ERR_ENOMEM;
    case EAI_SYSTEM: return last_error();
    default: return ERR_EINVAL; /* not a numeric address */
    }
}

int net_listen(const char *host, int port, int backlog, int reuseport,
               net_socket *out)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    int fd = -1, family, err, rc;

#ifndef SO_REUSEPORT
    if (reuseport)
        return ERR_EINVAL;
#endif
    if (host == NULL || port < 0 || port > 65535)
        return ERR_EINVAL;
    /* getaddrinfo reads numeric hosts like inet_aton ("127.1", octal
     * "010.0.0.1"); only the standard forms are addresses here. */
    struct in6_addr probe;
    if (inet_pton(AF_INET, host, &probe) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, host, &probe) == 1)
        family = AF_INET6;
    else
        return ERR_EINVAL;
    snprintf(service, sizeof service, "%d", port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return resolve_error(rc);

    err = open_socket(res->ai_family, SOCK_STREAM, &fd);
    if (err < 0)
        goto out;
    /* Restart on the same port while old connections sit in TIME_WAIT. */
    err = set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    /* "::" must not also take IPv4, so a "0.0.0.0" listener can coexist. */
    if (err == 0 && res->ai_family == AF_INET6)
        err = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
#ifdef SO_REUSEPORT
    if (err == 0 && reuseport)
        err = set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#endif
    if (err == 0 && bind(fd, res->ai_addr, res->ai_addrlen) < 0)
        err = last_error();
    if (err == 0 && listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        err = last_error();
    if (err < 0) {
        close_with(fd, err);
        goto out;
    }
    *out = (net_socket)fd;
out:
    freeaddrinfo(res);
    return err;
}

int net_local_name(net_socket s, char *buf, size_t buflen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd_of(s), (struct sockaddr *)&ss, &len) < 0)
        return last_error();
    return format_addr((struct sockaddr *)&ss, buf, buflen);
}

/* accept() whose result is non-blocking and close-on-exec; -1 and errno
 * on failure, like accept. */
static int accept_nonblocking(int lfd, struct sockaddr *sa, socklen_t *len)
{
#ifdef HAVE_ACCEPT4
    int fd = accept4(lfd, sa, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || errno != ENOSYS)
        return fd;
#endif
    int accepted = accept(lfd, sa, len);
    if (accepted < 0)
        return -1;
    if (set_nonblocking_cloexec(accepted) < 0) {
        int saved = errno;
        close(accepted);
        errno = saved;
        return -1;
    }
    return accepted;
}

int net_accept(net_socket listener, net_socket *out, char *peer,
               size_t peerlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    do {
        len = sizeof ss;
        fd = accept_nonblocking(fd_of(listener), (struct sockaddr *)&ss,
                                &len);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return last_error();

    /* Replies are written whole by the core; Nagle would only delay the
     * last segment of each. Best effort: a socket the peer has already
     * reset may refuse the option, and the next recv will say so. */
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (peer != NULL && peerlen > 0 &&
        format_addr((struct sockaddr *)&ss, peer, peerlen) < 0)
        snprintf(peer, peerlen, "?");
    *out = (net_socket)fd;
    return 0;
}

/* The sockaddr of a numeric host and port, standard forms only (see
 * net_listen). Returns 0 or ERR_EINVAL. */
static int numeric_addr(const char *host, int port,
                        struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (host == NULL || port < 0 || port > 65535)
        return ERR_EINVAL;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        *len = sizeof *sin;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        *len = sizeof *sin6;
        return 0;
    }
    return ERR_EINVAL;
}

int net_connect(const char *host, int port, net_socket *out)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, err = numeric_addr(host, port, &ss, &len);
    if (err < 0)
        return err;
    err = open_socket(ss.ss_family, SOCK_STREAM, &fd);
    if (err < 0)
        return err;
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&ss, len);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS)
        return close_with(fd, last_error());
    *out = (net_socket)fd;
    return rc == 0 ? 0 : ERR_EAGAIN;
}

int net_connect_result(net_socket s)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd_of(s), SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return last_error();
    if (soerr == EINPROGRESS || soerr == EALREADY)
        return ERR_EAGAIN;
    if (soerr != 0)
        return err_from_os(soerr);
    /* SO_ERROR is 0 while the connect is still going on too (asked
     * before the socket is writable): connected only once the peer's
     * address is known. */
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (getpeername(fd_of(s), (struct sockaddr *)&ss, &sslen) == 0)
        return ERR_OK;
    return errno == ENOTCONN ? ERR_EAGAIN : last_error();
}

int net_resolve(const char *name, char *out, size_t outlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc == EAI_NONAME || rc == EAI_FAIL || rc == EAI_AGAIN
#ifdef EAI_NODATA
        || rc == EAI_NODATA
#endif
       )
        return ERR_ENOTFOUND;
    if (rc != 0)
        return resolve_error(rc);
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) { /* IPv4 first: loopback servers */
            pick = ai;
            break;
        }
    char text[INET6_ADDRSTRLEN];
    const void *addr = pick->ai_family == AF_INET
        ? (const void *)&((const struct sockaddr_in *)pick->ai_addr)->sin_addr
        : (const void *)&((const struct sockaddr_in6 *)pick->ai_addr)
              ->sin6_addr;
    int err = 0;
    if (inet_ntop(pick->ai_family, addr, text, sizeof text) == NULL)
        err = last_error();
    else if ((size_t)snprintf(out, outlen, "%s", text) >= outlen)
        err = ERR_EINVAL;
    freeaddrinfo(res);
    return err;
}

long net_recv(net_socket s, void *buf, size_t len)
{
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    for (;;) {
        ssize_t n = sock_recv(fd_of(s), buf, len, 0);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return last_error();
    }
}

long net_send(net_socket s, const void *buf, size_t len)
{
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    for (;;) {
        ssize_t n = sock_send(fd_of(s), buf, len, SEND_FLAGS);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return last_error();
    }
}

int net_shutdown_send(net_socket s)
{
    if (shutdown(fd_of(s), SHUT_WR) < 0)
        return last_error();
    return 0;
}

int net_close(net_socket s)
{
    /* After EINTR the descriptor is gone on Linux and most BSDs; a retry
     * could close a descriptor another thread just opened. */
    if (close(fd_of(s)) < 0 && errno != EINTR)
        return last_error();
    return 0;
}

int net_abort(net_socket s)
{
    struct linger lg;
    int err = 0;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    if (setsockopt(fd_of(s), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        err = last_error();
    /* Close in any case: the caller is done with the socket. */
    int closed = net_close(s);
    return err < 0 ? err : closed;
}

int net_wakeup_pair(net_socket *r, net_socket *w)
{
    int fds[2];
#ifdef HAVE_SOCK_FLAGS
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) < 0)
        return last_error();
#else
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
        return last_error();
    int err = set_nonblocking_cloexec(fds[0]);
    if (err == 0)
        err = set_nonblocking_cloexec(fds[1]);
    if (err < 0) {
        close(fds[0]);
        return close_with(fds[1], err);
    }
#endif
    *r = (net_socket)fds[0];
    *w = (net_socket)fds[1];
    return 0;
}
