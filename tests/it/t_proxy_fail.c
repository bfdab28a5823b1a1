/* t_proxy_fail.c -- proxy mode when the upstream fails (issue 12, item
 * 5): refused, timed out, reset right after its accept, a name not
 * found. The client gets a reset, or what on_upstream_error answers;
 * each failed connection logs exactly one warning naming the reason,
 * and nothing leaks (the server's descriptors come back to their count
 * before). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_fd.h"
#include "it_proxy.h"

#define FAILED_CONNS 50
#define ERR_REPLY "-ERR upstream down\r\n"

/* A port nothing listens on: bound, then closed. */
static int dead_port(void)
{
    int port, fd = it_host_listen_local(&port);
    close(fd);
    return port;
}

/* Wait (bounded) until the server has at most want descriptors open;
 * fails the case with the count when it does not come back. A no-op
 * where the count cannot be known. */
static void expect_fds_back(const it_server *s, long want)
{
    long now = it_proxy_fd_count(s);
    int64_t deadline = it_clock_now_ms() + IT_WAIT_MS;
    if (want < 0 || now < 0) {
        fprintf(stderr, "SKIP the descriptor count: no /proc/PID/fd of "
                "ricochet's own\n");
        return;
    }
    for (int i = 0; i < 100000 && now > want; i++) {
        if (it_clock_left_ms(deadline) == 0)
            break;
        poll(NULL, 0, 10);
        now = it_proxy_fd_count(s);
    }
    fprintf(stderr, "descriptors of the server: %ld before, %ld after\n",
            want, now);
    ASSERT_LE(now, want);
}

/* What a client of a failed upstream gets: a reset (script NULL: the
 * default) or exactly ERR_REPLY, then EOF. */
static void expect_failure_end(int cli, int hooked)
{
    if (hooked)
        it_proxy_expect_eof(cli, ERR_REPLY, strlen(ERR_REPLY), "the client");
    else
        it_proxy_expect_reset(cli, "the client");
}

/* The warnings in log that contain needle (NULL: all), counting those
 * the flood limit summed up: "... (and N similar lines ...)" stands for
 * N + 1 of them, "... (repeated N times ...)" for N. */
static int warnings_meant(const char *log, const char *needle)
{
    int total = 0;
    const char *line = log;
    for (int i = 0; i < 1000000 && *line; i++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char text[1024];
        unsigned long n;
        const char *at;
        if (len >= sizeof text)
            len = sizeof text - 1;
        memcpy(text, line, len);
        text[len] = '\0';
        line = end ? end + 1 : line + len;
        if (strstr(text, "Z warn  ") == NULL ||
            (needle != NULL && strstr(text, needle) == NULL))
            continue;
        if ((at = strstr(text, " (and ")) != NULL &&
            sscanf(at, " (and %lu similar", &n) == 1)
            total += (int)n + 1;
        else if ((at = strstr(text, " (repeated ")) != NULL &&
                 sscanf(at, " (repeated %lu times", &n) == 1)
            total += (int)n;
        else
            total++;
    }
    return total;
}

/* Exactly count warnings in all (a flood's summary counts for the lines
 * it stands for), each naming the upstream and the reason. Stops s: its
 * summaries are written by then. */
static void expect_warnings(it_server *s, const char *reason, int count)
{
    char *log;
    it_server_stop(s); /* the whole log is written, counts included */
    log = it_log_read(s);
    fprintf(stderr, "warnings: %d in all, %d naming \"%s\"\n",
            warnings_meant(log, NULL), warnings_meant(log, reason), reason);
    ASSERT_EQ(warnings_meant(log, NULL), count);
    ASSERT_EQ(warnings_meant(log, reason), count);
    ASSERT_EQ(it_log_count(log, "warn", "upstream 127.0.0.1:", NULL),
              it_log_count(log, "warn", NULL, NULL));
    ASSERT_EQ(it_log_count(log, "error", NULL, NULL), 0);
    free(log);
}

static const char *failure_script(int hooked)
{
    return hooked ? FIXTURE("proxy_uperr.lua") : SCRIPT("proxy.lua");
}

/* ---- refused ------------------------------------------------------------ */

static void refused(int hooked)
{
    it_server *s = it_proxy_start(dead_port(), failure_script(hooked),
                                  NULL);
    long base = it_proxy_fd_count(s);
    for (int i = 0; i < FAILED_CONNS; i++) {
        int cli = it_cli_connect(s->host[0], s->port[0]);
        if (cli == -ECONNRESET && !hooked)
            continue; /* the reset came before our connect was through */
        if (cli < 0)
            TEST_FAIL("connect: %s", strerror(-cli));
        expect_failure_end(cli, hooked);
        close(cli);
    }
    expect_fds_back(s, base);
    expect_warnings(s, "connection refused", FAILED_CONNS);
    if (hooked) { /* the hook heard the reason */
        char *log = it_log_read(s);
        ASSERT_EQ(it_log_count(log, "info", "on_upstream_error: connection "
                               "refused", NULL), FAILED_CONNS);
        free(log);
    }
}

void proxy_upstream_refused(void)
{
    refused(0);
}

void proxy_upstream_refused_hook(void)
{
    refused(1);
}

/* ---- reset right after the accept --------------------------------------- */

static void reset_at_accept(int hooked)
{
    int port, lfd;
    it_server *s;
    long base;

    if (it_proxy_skip_resets_on_wine())
        return;
    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, failure_script(hooked), NULL);
    base = it_proxy_fd_count(s);
    for (int i = 0; i < FAILED_CONNS; i++) {
        int cli, up;
        it_proxy_pair(s, lfd, &cli, &up);
        it_cli_abort(up);
        expect_failure_end(cli, hooked);
        close(cli);
    }
    expect_fds_back(s, base);
    close(lfd);
    expect_warnings(s, "connection reset by peer", FAILED_CONNS);
}

void proxy_upstream_reset(void)
{
    reset_at_accept(0);
}

void proxy_upstream_reset_hook(void)
{
    reset_at_accept(1);
}

/* ---- the connect timeout ------------------------------------------------ */

#define FILLERS 64

/* A listener that takes no more connections: its accept queue is full
 * (backlog 0, filled with connections never accepted), so Linux drops
 * further SYNs and a connect to it hangs. Returns the listener, its
 * port in *port and the fillers in fds (count in *n); -1 when the
 * queue would not fill. */
static int full_listener(int *port, int *fds, int *n)
{
    int lfd = it_host_listen_local(port);
    ASSERT_EQ(listen(lfd, 0), 0);
    *n = 0;
    while (*n < FILLERS) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        ASSERT(fd >= 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)*port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        it_fd_cloexec(fd);
        it_fd_nonblock(fd);
        fds[(*n)++] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            continue;
        ASSERT_EQ(errno, EINPROGRESS);
        if (!(it_fd_poll(fd, POLLOUT, 300) & POLLOUT))
            return lfd; /* this one hangs: the queue is full */
    }
    return -1;
}

static void timeout_case(int hooked)
{
    int fds[FILLERS], nfds, port, cli[FAILED_CONNS];
    int lfd = full_listener(&port, fds, &nfds);
    it_server *s;
    long base;
    int64_t t0;

    if (lfd < 0) {
        fprintf(stderr, "SKIP: %d connections and the backlog of a "
                "listen(fd, 0) socket is not full\n", FILLERS);
        return;
    }
    s = it_proxy_start(port, failure_script(hooked), "--connect-timeout",
                       "0.3", NULL);
    base = it_proxy_fd_count(s);
    t0 = it_clock_now_us();
    for (int i = 0; i < FAILED_CONNS; i++)
        cli[i] = it_cli_connect_to(s, 0);
    for (int i = 0; i < FAILED_CONNS; i++) {
        expect_failure_end(cli[i], hooked);
        close(cli[i]);
    }
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 250, IT_WAIT_MS);
    expect_fds_back(s, base);
    expect_warnings(s, "timed out", FAILED_CONNS);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    close(lfd);
}

void proxy_upstream_timeout(void)
{
    timeout_case(0);
}

void proxy_upstream_timeout_hook(void)
{
    timeout_case(1);
}

/* ---- a name that does not resolve --------------------------------------- */

void proxy_upstream_not_found(void)
{
    it_run r;
    RUN(&r, "--upstream", "no-such-host.invalid:80", SCRIPT("proxy.lua"));
    it_run_assert_error(&r, 1, "--upstream no-such-host.invalid:80: "
                        "name not found");
    it_run_free(&r);
}
