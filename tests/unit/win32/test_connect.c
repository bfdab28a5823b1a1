/* test_connect.c -- unit_win32_connect: an outbound connection of core
 * (conn_connect) over Winsock, with WSAPoll as Windows before 10 has it:
 * it never reports a connect that failed. The fake below hides every
 * report WSAPoll gives for a socket that waits to be writable (in these
 * cases only a connecting one does), so a failed connect can only be
 * found by conn_connect.c's SO_ERROR check, and a connect that hangs only
 * by its timeout.
 *
 * A runner of its own because it links core (loop.c and conn*.c) besides
 * src/os, and needs a WSAPoll fake different from test_poll.c's; like
 * that file it compiles poll_wsapoll.c in, with WSAPoll seen through the
 * fake. Everything talks to 127.0.0.1. */
#include "win32.h" /* first: it sets up <windows.h> */

#include "conn.h"
#include "loop.h"

static struct {
    int calls;   /* WSAPoll calls */
    int hidden;  /* reports hidden from a connecting socket */
} fake;

/* WSAPoll that never reports a socket asking only to write. When it has
 * hidden everything, it waits out the timeout (bounded) as an unready
 * set would have, instead of returning at once into a spin. */
static int WSAAPI unreporting_wsapoll(WSAPOLLFD *fds, ULONG count,
                                      INT timeout)
{
    int n = WSAPoll(fds, count, timeout), hid = 0;

    fake.calls++;
    if (n <= 0)
        return n;
    for (ULONG i = 0; i < count; i++) {
        if (fds[i].revents == 0 || fds[i].events != POLLWRNORM)
            continue;
        fds[i].revents = 0;
        fake.hidden++;
        hid++;
    }
    if (hid > 0 && n == hid && timeout != 0)
        Sleep(timeout < 0 || timeout > 50 ? 50 : (DWORD)timeout);
    return n - hid;
}

#define WSAPoll unreporting_wsapoll
#include "poll_wsapoll.c"
#undef WSAPoll

typedef struct outcome {
    int done;
    int err;
} outcome;

static void on_connected(conn *c, int err)
{
    outcome *o = conn_owner(c);
    o->done = 1;
    o->err = err;
}

static const conn_callbacks callbacks = { .connected = on_connected };

static void tick(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

/* Connect to 127.0.0.1:port with timeout_ms and run the loop until the
 * connected callback says how it went (within 5 s). Returns the err it
 * got; *ms how long it took. */
static int connect_outcome(int port, uint64_t timeout_ms, ULONGLONG *ms)
{
    loop *l = loop_create();
    conn_config cfg = { 0 };
    conn_table *t;
    conn *c = NULL;
    outcome o = { 0, 0 };
    ULONGLONG t0;

    ASSERT(l != NULL);
    cfg.loop = l;
    cfg.out_limit = 1 << 20;
    cfg.drain_ms = 1000;
    t = conn_table_create(&cfg);
    ASSERT(t != NULL);
    loop_set_before_sleep(l, tick, t);
    t0 = GetTickCount64();
    ASSERT_EQ(conn_connect(t, "127.0.0.1", port, timeout_ms, &c), 0);
    ASSERT(c != NULL);
    ASSERT(conn_connecting(c));
    conn_set_callbacks(c, &callbacks, &o);
    for (int i = 0; i < 10000 && !o.done && GetTickCount64() - t0 < 5000;
         i++)
        ASSERT_EQ(loop_run_once(l, 50), 0);
    *ms = GetTickCount64() - t0;
    ASSERT(o.done);
    conn_table_tick(t);
    ASSERT_EQ(conn_table_live(t), 0); /* the failed one is freed */
    conn_table_free(t);
    loop_free(l);
    return o.err;
}

/* A connect refused: WSAPoll says nothing, the SO_ERROR check (every
 * 100 ms) finds the refusal, well before any timeout (none is set). */
static void test_connect_failure_unreported(void)
{
    net_socket listener;
    ULONGLONG ms;
    int port, err;

    start();
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &listener), ERR_OK);
    port = port_of(listener);
    net_close(listener); /* nobody listens there now */
    memset(&fake, 0, sizeof(fake));
    err = connect_outcome(port, 0, &ms);
    fprintf(stderr, "refused after %llu ms (%d WSAPoll calls, %d reports "
            "hidden): %s\n", (unsigned long long)ms, fake.calls,
            fake.hidden, err_strerror(err));
    ASSERT_EQ(err, ERR_ECONNREFUSED);
    ASSERT_LT(ms, 3000);
}

#define FILLERS 64

/* A connect that hangs: the listener's accept queue is full (backlog 1,
 * filled with connections never accepted), so further SYNs are dropped,
 * as Linux (under Wine) does; Windows refuses them instead, and the case
 * is skipped there. The connect timeout (300 ms) ends it, though WSAPoll
 * says nothing. */
static void test_connect_timeout_fires(void)
{
    SOCKET fillers[FILLERS];
    net_socket listener;
    ULONGLONG ms;
    int nfill = 0, port, err, full = 0;

    start();
    ASSERT_EQ(net_listen("127.0.0.1", 0, 1, 0, &listener), ERR_OK);
    port = port_of(listener);
    while (nfill < FILLERS && !full) {
        struct sockaddr_in sa;
        u_long nonblocking = 1;
        WSAPOLLFD pfd;
        SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        ASSERT(s != INVALID_SOCKET);
        ASSERT_EQ(ioctlsocket(s, FIONBIO, &nonblocking), 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((u_short)port);
        fillers[nfill++] = s;
        if (connect(s, (struct sockaddr *)&sa, (int)sizeof(sa)) == 0)
            continue;
        ASSERT_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
        pfd.fd = s;
        pfd.events = POLLWRNORM;
        pfd.revents = 0;
        full = WSAPoll(&pfd, 1, 300) == 0; /* the real one, not hidden */
    }
    if (!full) {
        fprintf(stderr, "SKIP: %d connections did not fill the accept "
                "queue of a backlog-1 listener here\n", nfill);
    } else {
        memset(&fake, 0, sizeof(fake));
        err = connect_outcome(port, 300, &ms);
        fprintf(stderr, "timed out after %llu ms (%d WSAPoll calls, %d "
                "reports hidden): %s\n", (unsigned long long)ms,
                fake.calls, fake.hidden, err_strerror(err));
        ASSERT_EQ(err, ERR_ETIMEDOUT);
        ASSERT_GE(ms, 250);
        ASSERT_LT(ms, 3000);
    }
    for (int i = 0; i < nfill; i++)
        closesocket(fillers[i]);
    net_close(listener);
}

static const test_case cases[] = {
    { "win32_connect_failure_unreported", test_connect_failure_unreported },
    { "win32_connect_timeout_fires", test_connect_timeout_fires },
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
