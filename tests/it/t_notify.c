/* t_notify.c -- the service manager's side of systemd's notify protocol
 * (issue 15, item 5): the case binds an AF_UNIX datagram socket, starts
 * ricochet with NOTIFY_SOCKET naming it, and reads every datagram in
 * order: READY=1 once it serves, RELOADING=1 (with MONOTONIC_USEC) and
 * READY=1 around each reload, loaded or refused, STATUS= with the open
 * connection count when it changes, STOPPING=1 on SIGTERM. Skipped for
 * the Windows build: Windows has no such manager nor AF_UNIX datagrams. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_fd.h"
#include "it_http.h"
#include "it_proxy.h"

static int skipped_on_windows(void)
{
    if (!it_proxy_on_windows())
        return 0;
    fprintf(stderr, "skipped for the Windows build: no service manager "
            "speaks AF_UNIX datagrams there\n");
    return 1;
}

/* The manager's socket, bound at rel under the case's folder; its path
 * goes to $NOTIFY_SOCKET, which the server inherits. */
static int manager_socket(const char *rel)
{
    struct sockaddr_un addr;
    const char *path = it_tmp_path(rel);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        TEST_FAIL("socket: %s", strerror(errno));
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    ASSERT(strlen(path) < sizeof addr.sun_path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        TEST_FAIL("bind %s: %s", path, strerror(errno));
    it_fd_cloexec(fd);
    it_fd_nonblock(fd);
    setenv("NOTIFY_SOCKET", path, 1);
    return fd;
}

/* The next datagram, waited for up to IT_WAIT_MS, NUL-terminated. */
static void next_datagram(int fd, char *buf, size_t cap)
{
    int64_t deadline = it_clock_now_ms() + IT_WAIT_MS;
    for (int i = 0; i < 1000; i++) {
        ssize_t got = recv(fd, buf, cap - 1, 0);
        if (got >= 0) {
            buf[got] = '\0';
            return;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            TEST_FAIL("recv: %s", strerror(errno));
        if (it_clock_left_ms(deadline) == 0)
            break;
        it_fd_poll(fd, POLLIN, it_clock_left_ms(deadline));
    }
    TEST_FAIL("no datagram within %d ms", IT_WAIT_MS);
}

static void expect_datagram(int fd, const char *want)
{
    char got[1024];
    next_datagram(fd, got, sizeof got);
    if (strcmp(got, want) != 0)
        TEST_FAIL("datagram \"%s\", expected \"%s\"", got, want);
}

/* RELOADING=1, its STATUS (why the reload), and MONOTONIC_USEC: the
 * server's monotonic clock (CLOCK_MONOTONIC, as ours) between sent_us
 * and now. */
static void expect_reloading(int fd, const char *why, int64_t sent_us)
{
    char head[256], got[1024], *end;
    snprintf(head, sizeof head, "RELOADING=1\nSTATUS=reloading (%s)\n"
             "MONOTONIC_USEC=", why);
    next_datagram(fd, got, sizeof got);
    int64_t now_us = it_clock_now_us();
    if (strncmp(got, head, strlen(head)) != 0)
        TEST_FAIL("datagram \"%s\", expected \"%s...\"", got, head);
    const char *digits = got + strlen(head);
    errno = 0;
    long long usec = strtoll(digits, &end, 10);
    if (errno || end == digits || *end != '\0' || usec < sent_us ||
        usec > now_us)
        TEST_FAIL("MONOTONIC_USEC=%s, expected a time from %lld to %lld",
                  digits, (long long)sent_us, (long long)now_us);
}

static void hup(it_server *s, int fd, const char *then)
{
    int64_t sent_us = it_clock_now_us();
    it_server_signal(s, SIGHUP);
    expect_reloading(fd, "SIGHUP", sent_us);
    expect_datagram(fd, then);
}

/* A script that fails to load when it can see NOTIFY_SOCKET: ricochet
 * takes it out of the environment before any script runs (here with
 * --unsafe, where os.getenv and os.execute are there). */
static const char env_script[] =
    "if os.getenv(\"NOTIFY_SOCKET\") ~= nil then\n"
    "    error(\"NOTIFY_SOCKET is still in the environment\")\n"
    "end\n"
    "function on_data(conn, data) return data end\n";

void notify_lifecycle(void)
{
    char buf[8];
    it_server *s;
    int fd, cli;

    if (skipped_on_windows())
        return;
    fd = manager_socket("notify.sock");
    const char *script = it_tmp_write("notify.lua", env_script);
    s = SERVER_START("--unsafe", script);
    expect_datagram(fd, "READY=1\nSTATUS=serving, 0 connections open");

    /* a reload, then one refused: READY=1 after both, saying which */
    hup(s, fd, "READY=1\nSTATUS=reloaded (SIGHUP), 0 connections open");
    it_tmp_write("notify.lua", "this is not Lua\n");
    hup(s, fd, "READY=1\nSTATUS=reload (SIGHUP) failed, keeping the "
        "running script, 0 connections open");

    /* the count, when it changes */
    cli = it_cli_connect_to(s, 0);
    expect_datagram(fd, "STATUS=1 connection open");
    CLI_SEND(cli, "ping");
    ASSERT_EQ(it_cli_recv_n(cli, buf, 4, IT_WAIT_MS), 4);
    ASSERT(memcmp(buf, "ping", 4) == 0);
    close(cli);
    expect_datagram(fd, "STATUS=0 connections open");

    /* a graceful stop, and nothing after it */
    it_server_stop(s);
    expect_datagram(fd, "STOPPING=1\nSTATUS=stopping, 0 connections open");
    ASSERT_EQ(recv(fd, buf, sizeof buf, 0), -1);
    ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd);
}

/* Nobody listens at NOTIFY_SOCKET: one warning, and the server serves
 * as ever; an address that cannot be one is named once too. */
void notify_unreachable(void)
{
    char path[1024];
    it_server *s;
    char *log;

    if (skipped_on_windows())
        return;
    snprintf(path, sizeof path, "%s/nobody.sock", it_tmp_root());
    setenv("NOTIFY_SOCKET", path, 1);
    s = SERVER_START(SCRIPT("echo.lua"));
    it_server_signal(s, SIGHUP);
    if (it_log_wait_count(s, "info", "reload (SIGHUP): loaded", 1,
                          IT_WAIT_MS) != 1)
        TEST_FAIL("the reload was not logged");
    ASSERT_ECHO(s, "still here\n", 11);
    it_server_stop(s);
    log = it_log_read(s);
    ASSERT_EQ(it_log_wait_count(s, "warn", "cannot tell the service "
                                "manager", 1, 0), 1);
    if (strstr(log, path) == NULL)
        TEST_FAIL("the warning does not name %s:\n%s", path, log);
    free(log);

    setenv("NOTIFY_SOCKET", "relative.sock", 1);
    s = SERVER_START(SCRIPT("echo.lua"));
    ASSERT_ECHO(s, "still here\n", 11);
    it_server_stop(s);
    ASSERT_EQ(it_log_wait_count(s, "warn", "NOTIFY_SOCKET=relative.sock: "
                                "not an absolute path nor an @abstract "
                                "name, or too long", 1, 0), 1);
}

/* The other two ways to reload say the same: POST /reload (--admin) and
 * --watch. */
void notify_reload_ways(void)
{
    it_http_resp r;
    it_server *s;
    int port, fd;
    int64_t sent_us;

    if (skipped_on_windows())
        return;
    fd = manager_socket("notify.sock");
    const char *script = it_tmp_write("watched.lua", "\n");
    s = ADMIN_START(&port, "--watch", script);
    expect_datagram(fd, "READY=1\nSTATUS=serving, 0 connections open");

    sent_us = it_clock_now_us();
    it_http(port, "POST", "/reload", NULL, &r);
    ASSERT_EQ(r.status, 200);
    it_http_free(&r);
    expect_reloading(fd, "POST /reload", sent_us);
    expect_datagram(fd, "READY=1\nSTATUS=reloaded (POST /reload), 0 "
                    "connections open");

    /* --watch: the file changes, settles, is loaded */
    if (!it_log_wait(s, "watching", IT_WAIT_MS))
        TEST_FAIL("--watch did not start");
    sent_us = it_clock_now_us();
    it_tmp_write("watched.lua", "function on_data(conn, d) return d end\n");
    expect_reloading(fd, "the file changed", sent_us);
    expect_datagram(fd, "READY=1\nSTATUS=reloaded (the file changed), 0 "
                    "connections open");
    it_server_stop(s);
    expect_datagram(fd, "STOPPING=1\nSTATUS=stopping, 0 connections open");
    close(fd);
}
