/* t_limits.c -- connection limits against hostile clients: at --max-conns
 * a new client takes the place of the connection idle longest
 * (--evict-idle), and --max-conns-per-ip refuses one address's extra
 * connections. Loopback is all of 127.0.0.0/8, so a client bound to
 * 127.0.0.2 is another peer than one bound to 127.0.0.3. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_fd.h"

/* A connection to s from the source address src (port chosen by the
 * system), within IT_WAIT_MS; *reset is 1 when the server reset it
 * before the connect completed here (it was refused at once), else the
 * case fails when the connect does not work. */
static int connect_from_or_reset(const it_server *s, const char *src,
                                 int *reset)
{
    struct sockaddr_in from, to;
    int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;
    socklen_t el = sizeof err;
    ASSERT(fd >= 0);
    memset(&from, 0, sizeof from);
    from.sin_family = AF_INET;
    ASSERT_EQ(inet_pton(AF_INET, src, &from.sin_addr), 1);
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
        TEST_FAIL("bind %s: %s", src, strerror(errno));
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)s->port[0]);
    ASSERT_EQ(inet_pton(AF_INET, s->host[0], &to.sin_addr), 1);
    it_fd_nonblock(fd);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 &&
        errno != EINPROGRESS)
        TEST_FAIL("connect from %s: %s", src, strerror(errno));
    if (it_fd_poll(fd, POLLOUT, IT_WAIT_MS) == 0)
        TEST_FAIL("connect from %s: timed out", src);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    *reset = err == ECONNRESET;
    if (err != 0 && !*reset)
        TEST_FAIL("connect from %s: %s", src, strerror(err));
    return fd;
}

/* A connection from src that must not be refused. */
static int connect_from(const it_server *s, const char *src)
{
    int reset, fd = connect_from_or_reset(s, src, &reset);
    if (reset)
        TEST_FAIL("the connection from %s was reset", src);
    return fd;
}

/* A connection from src must be refused: reset, with nothing sent. */
static void expect_refused(const it_server *s, const char *src)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int reset, fd = connect_from_or_reset(s, src, &reset);
    if (!reset) {
        ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS),
                  -ECONNRESET);
        ASSERT_MEM_EQ(in, n, "", 0);
        free(in);
    }
    close(fd);
}

/* One line echoed on fd, within timeout_ms; 1 when it came back. */
static int echoes(int fd, const char *line, int timeout_ms)
{
    char got[64];
    if (it_cli_send_all(fd, line, strlen(line), IT_WAIT_MS) != 0)
        return 0;
    it_cli_recv_line(fd, got, sizeof got, timeout_ms);
    return strcmp(got, line) == 0;
}

/* The server ended fd: a plain EOF (nothing was left to send), nothing
 * more after what was read. */
static void expect_eof(int fd)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("expected EOF, got %s", strerror(-rc));
    ASSERT_MEM_EQ(in, n, "", 0);
    free(in);
}

/* At the cap, the newcomer waits until the connection idle longest has
 * been idle --evict-idle, then takes its place; the others stay. With
 * --evict-idle 0 it waits in the backlog as before. */
void cap_evicts_idlest(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "3",
                                "--evict-idle", "0.3");
    int a = it_cli_connect_to(s, 0), b, c, d;
    int64_t t0, ms;
    char *log, got[8];

    ASSERT(echoes(a, "a\n", IT_WAIT_MS));
    b = it_cli_connect_to(s, 0);
    ASSERT(echoes(b, "b\n", IT_WAIT_MS));
    c = it_cli_connect_to(s, 0);
    ASSERT(echoes(c, "c\n", IT_WAIT_MS));
    ASSERT(echoes(b, "b again\n", IT_WAIT_MS)); /* a is the idlest */
    t0 = it_clock_now_us();
    d = it_cli_connect_to(s, 0);                 /* in the backlog */
    ASSERT(echoes(d, "d\n", IT_WAIT_MS));
    ms = (it_clock_now_us() - t0) / 1000;
    fprintf(stderr, "the newcomer was served after %jd ms\n", (intmax_t)ms);
    expect_eof(a);
    ASSERT(echoes(b, "b still\n", IT_WAIT_MS));
    ASSERT(echoes(c, "c still\n", IT_WAIT_MS));
    close(a);
    close(b);
    close(c);
    close(d);
    it_server_stop_clean(s);
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "warn", "(--max-conns): closed conn 1 (",
                           "to make room for"), 1);
    free(log);

    s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "1",
                     "--evict-idle", "0");
    a = it_cli_connect_to(s, 0);
    ASSERT(echoes(a, "a\n", IT_WAIT_MS));
    d = it_cli_connect_to(s, 0);
    ASSERT(!echoes(d, "d\n", 800));              /* waits ... */
    close(a);                                    /* until a place frees */
    it_cli_recv_line(d, got, sizeof got, IT_WAIT_MS);
    ASSERT_STR_EQ(got, "d\n");
    close(d);
    it_server_stop_clean(s);
}

#define TRICKLERS 4
#define TRICKLE_MS 1500

/* Slowloris at the cap: every place is held by a client that sends a
 * byte every 1.5 s (each byte restarts its idle timer). With the default
 * --evict-idle (1 s) a new client is served within a trickle period. */
void slowloris_cap(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "4");
    int fd[TRICKLERS], gone[TRICKLERS] = {0}, nc;
    int64_t next[TRICKLERS], t0, now;
    char got[16];
    size_t have = 0;

    for (int i = 0; i < TRICKLERS; i++) {
        fd[i] = it_cli_connect_to(s, 0);
        ASSERT(echoes(fd[i], "x\n", IT_WAIT_MS));
        /* staggered: one of them sends every TRICKLE_MS / TRICKLERS */
        next[i] = it_clock_now_us() + (int64_t)i * TRICKLE_MS * 1000 /
                                      TRICKLERS;
    }
    t0 = it_clock_now_us();
    nc = it_cli_connect_to(s, 0);
    CLI_SEND(nc, "new\n");
    /* trickle on (bounded: 8 s) until the newcomer is echoed */
    while (have < 4) {
        now = it_clock_now_us();
        if (now - t0 > 8000000)
            TEST_FAIL("a new client was not served in 8 s at the cap, with "
                      "every place trickled");
        for (int i = 0; i < TRICKLERS; i++) {
            if (gone[i] || now < next[i])
                continue;
            if (it_cli_send_all(fd[i], ".", 1, IT_WAIT_MS) != 0)
                gone[i] = 1; /* evicted: the server reset or closed */
            next[i] = now + TRICKLE_MS * 1000;
        }
        have += it_cli_recv_n(nc, got + have, 4 - have, 50);
    }
    fprintf(stderr, "the newcomer was served after %jd ms\n",
            (intmax_t)((it_clock_now_us() - t0) / 1000));
    ASSERT_MEM_EQ(got, 4, "new\n", 4);
    for (int i = 0; i < TRICKLERS; i++)
        close(fd[i]);
    close(nc);
    it_server_stop_clean(s);
}

/* The third connection from 127.0.0.2 is refused (a reset, a warning);
 * 127.0.0.3 is served; refusals that follow are counted, not logged one
 * by one; a place that frees up is taken again. */
void per_ip_limit(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--max-conns-per-ip",
                                "2");
    int a1 = connect_from(s, "127.0.0.2"), a2, a3, b;
    char *log;

    ASSERT(echoes(a1, "a1\n", IT_WAIT_MS));
    a2 = connect_from(s, "127.0.0.2");
    ASSERT(echoes(a2, "a2\n", IT_WAIT_MS));
    expect_refused(s, "127.0.0.2");
    b = connect_from(s, "127.0.0.3");
    ASSERT(echoes(b, "b\n", IT_WAIT_MS));
    if (!it_log_wait(s, "refused a connection from 127.0.0.2: 2 open",
                     IT_WAIT_MS))
        TEST_FAIL("no log line for the refused connection");
    /* ten more at once: each refused, none logged on its own, but counted
     * (the log's rate limit: the same line again within its window) */
    for (int i = 0; i < 10; i++)
        expect_refused(s, "127.0.0.2");
    if (!it_log_wait(s, "(--max-conns-per-ip) (repeated 10 times in the "
                     "last ", 8000))
        TEST_FAIL("the repeated refusals were not summed up");
    /* a2 ends: its place is free again */
    it_cli_shut_wr(a2);
    expect_eof(a2);
    close(a2);
    a3 = connect_from(s, "127.0.0.2");
    ASSERT(echoes(a3, "a3\n", IT_WAIT_MS));
    close(a1);
    close(a3);
    close(b);
    it_server_stop_clean(s);
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "warn", "refused a connection from", NULL),
              2); /* the first, and the count of the ten that followed */
    ASSERT_EQ(it_log_count(log, "warn", "open from its address already "
                           "(--max-conns-per-ip)", NULL), 2);
    free(log);
}
