/* it_proxy.c -- ricochet in front of an upstream the case plays. */
#include "it_proxy.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "it_fd.h"

#define MAX_OPTIONS 24

it_server *it_proxy_start(int port, const char *script, ...)
{
    const char *args[MAX_OPTIONS + 4];
    char upstream[32];
    int n = 0;
    va_list ap;

    if (port < 0)
        snprintf(upstream, sizeof upstream, "[::1]:%d", -port);
    else
        snprintf(upstream, sizeof upstream, "127.0.0.1:%d", port);
    args[n++] = "--upstream";
    args[n++] = upstream;
    va_start(ap, script);
    for (const char *a = va_arg(ap, const char *); a != NULL;
         a = va_arg(ap, const char *)) {
        if (n >= MAX_OPTIONS + 2)
            TEST_FAIL("too many options for it_proxy_start");
        args[n++] = a;
    }
    va_end(ap);
    args[n++] = script;
    args[n] = NULL;
    return it_server_start(args);
}

int it_proxy_listen6(int *port)
{
    struct sockaddr_in6 a;
    socklen_t al = sizeof a;
    int fd;
    if (!it_host_have_ipv6_loopback())
        return -1;
    fd = socket(AF_INET6, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    it_fd_cloexec(fd);
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin6_port);
    return fd;
}

int it_proxy_accept(int lfd, int timeout_ms)
{
    int fd;
    if ((it_fd_poll(lfd, POLLIN, timeout_ms) & POLLIN) == 0)
        return -1;
    fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        TEST_FAIL("accept: %s", strerror(errno));
    it_fd_cloexec(fd);
    it_fd_nonblock(fd);
    return fd;
}

void it_proxy_pair(const it_server *s, int lfd, int *cli, int *up)
{
    *cli = it_cli_connect_to(s, 0);
    *up = it_proxy_accept(lfd, IT_WAIT_MS);
    if (*up < 0)
        TEST_FAIL("ricochet did not connect to the upstream");
}

void it_proxy_expect_eof(int fd, const void *want, size_t want_len,
                         const char *who)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, want_len + (1u << 20),
                             IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("%s: %zu bytes, then %s instead of EOF", who, n,
                  strerror(-rc));
    ASSERT_MEM_EQ(in, n, want, want_len);
    free(in);
}

void it_proxy_expect_reset(int fd, const char *who)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1u << 20, IT_WAIT_MS);
    if (rc != -ECONNRESET)
        TEST_FAIL("%s: %zu bytes, then %s instead of a reset", who, n,
                  rc == 0 ? "EOF" : strerror(-rc));
    ASSERT_EQ(n, 0);
    free(in);
}

int it_proxy_sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

int it_proxy_wait_readable(int fd, int timeout_ms)
{
    return it_fd_poll(fd, POLLIN, timeout_ms) != 0;
}

int it_proxy_on_windows(void)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    return target != NULL && strcmp(target, "windows") == 0;
}

int it_proxy_skip_resets_on_wine(void)
{
    if (!it_proxy_on_windows())
        return 0;
    fprintf(stderr, "skipped for the Windows build: under Wine a reset "
            "reads as an end of stream, so ricochet cannot tell it from a "
            "FIN there\n");
    return 1;
}

long it_proxy_fd_count(const it_server *s)
{
    char path[64];
    long count = 0;
    DIR *d;
    struct dirent *e;
    if (getenv("RICOCHET_CMD") != NULL)
        return -1; /* the process is a wrapper's, not ricochet's */
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)s->pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    for (int i = 0; i < 100000 && (e = readdir(d)) != NULL; i++)
        if (e->d_name[0] != '.')
            count++;
    closedir(d);
    return count;
}
