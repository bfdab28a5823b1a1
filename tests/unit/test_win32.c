/* test_win32.c -- the Winsock traps, checked through net.h, poller.h and
 * signals.h.
 *
 * Built only for Windows (run under Wine in CI). The peer side of each
 * connection is plain blocking Winsock, so what is under test is only
 * net_win32.c, poll_wsapoll.c and signals_win32.c. Everything talks to
 * 127.0.0.1. Nothing here depends on the Winsock edge cases where Wine and
 * Windows differ (an RST read as end-of-stream, WSAPoll's count).
 *
 * Those three files are compiled into this runner (included below) rather
 * than taken from ricochet_os, each with a few of the calls it makes seen
 * through a thin layer of this file's: a case can then count WSAPoll
 * calls instead of guessing them from timings, make a call fail the way
 * an old or broken Windows would (which no socket can be made to do), and
 * hold the console handler in the middle of its send. Everything else
 * they call is the real thing. */
#define WIN32_LEAN_AND_MEAN
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include "clock.h"
#include "net.h"
#include "poller.h"
#include "signals.h"
#include "test.h"

/* WSAPoll, for poll_wsapoll.c. */
static struct {
    int calls;      /* WSAPoll calls so far */
    int fail_with;  /* > 0: the next call fails with this code; -1: fails
                     * with no code set at all (a broken implementation) */
    int none_valid; /* calls given no valid socket (WSAPoll fails them) */
} wsapoll_fake;

static int WSAAPI counted_wsapoll(WSAPOLLFD *fds, ULONG count, INT timeout)
{
    ULONG valid = 0;

    wsapoll_fake.calls++;
    for (ULONG i = 0; i < count; i++)
        valid += (INT_PTR)fds[i].fd >= 0;
    wsapoll_fake.none_valid += valid == 0;
    if (wsapoll_fake.fail_with != 0) {
        if (wsapoll_fake.fail_with > 0)
            WSASetLastError(wsapoll_fake.fail_with);
        wsapoll_fake.fail_with = 0;
        return SOCKET_ERROR;
    }
    return WSAPoll(fds, count, timeout);
}

/* WSASocketW and SetHandleInformation, for net_win32.c. */
static struct {
    int refuse_flag;   /* WSA_FLAG_NO_HANDLE_INHERIT is refused with
                        * WSAEINVAL, as before Windows 7 SP1 */
    DWORD set_fails;   /* non-zero: SetHandleInformation fails so */
    int flag_tries;    /* WSASocketW calls with the flag */
    int set_calls;     /* SetHandleInformation calls */
} net_fake;

static SOCKET WSAAPI fake_wsasocketw(int family, int type, int protocol,
                                     LPWSAPROTOCOL_INFOW info, GROUP group,
                                     DWORD flags)
{
    if (flags & WSA_FLAG_NO_HANDLE_INHERIT) {
        net_fake.flag_tries++;
        if (net_fake.refuse_flag) {
            WSASetLastError(WSAEINVAL);
            return INVALID_SOCKET;
        }
    }
    return WSASocketW(family, type, protocol, info, group, flags);
}

static BOOL WINAPI fake_set_handle_information(HANDLE h, DWORD mask,
                                               DWORD flags)
{
    net_fake.set_calls++;
    if (net_fake.set_fails != 0) {
        SetLastError(net_fake.set_fails);
        return FALSE;
    }
    return SetHandleInformation(h, mask, flags);
}

/* net_send, for signals_win32.c: a send that can be held half-way. */
static struct {
    volatile LONG sends;
    HANDLE entered; /* non-NULL: set on entry, then wait for release */
    HANDLE release;
} send_fake;

static long held_net_send(net_socket s, const void *buf, size_t len)
{
    InterlockedIncrement(&send_fake.sends);
    if (send_fake.entered != NULL) {
        SetEvent(send_fake.entered);
        WaitForSingleObject(send_fake.release, 5000);
    }
    return net_send(s, buf, len);
}

#define WSAPoll counted_wsapoll
#include "poll_wsapoll.c"
#undef WSAPoll

#define WSASocketW fake_wsasocketw
#define SetHandleInformation fake_set_handle_information
#include "net_win32.c"
#undef WSASocketW
#undef SetHandleInformation

#define net_send held_net_send
#include "signals_win32.c"
#undef net_send

static void start(void)
{
    ASSERT_EQ(net_init(), ERR_OK);
    ASSERT_EQ(net_init(), ERR_OK); /* twice is harmless */
}

static int port_of(net_socket s)
{
    char name[64];
    const char *colon;

    ASSERT_EQ(net_local_name(s, name, sizeof(name)), ERR_OK);
    colon = strrchr(name, ':');
    ASSERT(colon != NULL);
    return atoi(colon + 1);
}

/* A blocking client connected to 127.0.0.1:port. Its receives give up
 * after 5 s, so that a missing FIN fails the case instead of hanging it. */
static SOCKET connect_to(int port)
{
    struct sockaddr_in sa;
    DWORD recv_timeout_ms = 5000;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

    ASSERT(s != INVALID_SOCKET);
    ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO,
                         (const char *)&recv_timeout_ms,
                         (int)sizeof(recv_timeout_ms)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((u_short)port);
    ASSERT_EQ(connect(s, (struct sockaddr *)&sa, (int)sizeof(sa)), 0);
    return s;
}

/* Wait until h is ready for what it is registered for. */
static int wait_for(poller *p, poller_handle *h, int timeout_ms)
{
    poller_event ev[8];
    int n = poller_wait(p, ev, 8, timeout_ms);

    ASSERT_GE(n, 0);
    for (int i = 0; i < n; i++)
        if (ev[i].handle == h)
            return ev[i].events;
    return 0;
}

/* Accept one connection on a fresh listener; out: both ends. */
static void accepted_pair(net_socket *listener, net_socket *server,
                          SOCKET *client, poller *p)
{
    poller_handle lh = { 0 };
    char peer[64];

    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, listener), ERR_OK);
    *client = connect_to(port_of(*listener));
    lh.sock = *listener;
    ASSERT_EQ(poller_set(p, &lh, POLLER_READ), ERR_OK);
    ASSERT(wait_for(p, &lh, 5000) & POLLER_READ);
    ASSERT_EQ(poller_set(p, &lh, 0), ERR_OK);
    ASSERT_EQ(net_accept(*listener, server, peer, sizeof(peer)), ERR_OK);
    ASSERT(*server != NET_INVALID);
    ASSERT(strncmp(peer, "127.0.0.1:", 10) == 0);
}

static void test_wakeup_pair(void)
{
    net_socket r, w;
    poller *p;
    poller_handle h = { 0 };
    char byte;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT_EQ(net_recv(r, &byte, 1), ERR_EAGAIN); /* non-blocking */
    p = poller_create();
    ASSERT(p != NULL);
    h.sock = r;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
    ASSERT_EQ(wait_for(p, &h, 0), 0);
    ASSERT_EQ(net_send(w, "x", 1), 1);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(r, &byte, 1), 1);
    ASSERT_EQ(byte, 'x');
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    poller_free(p);
    ASSERT_EQ(net_close(r), ERR_OK);
    ASSERT_EQ(net_close(w), ERR_OK);
    net_cleanup();
}

/* SO_EXCLUSIVEADDRUSE: nobody else binds our port; no SO_REUSEPORT. */
static void test_listen_exclusive(void)
{
    net_socket a, b;

    start();
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &a), ERR_OK);
    ASSERT_EQ(net_listen("127.0.0.1", port_of(a), 16, 0, &b),
              ERR_EADDRINUSE);
    ASSERT(b == NET_INVALID);
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 1, &b), ERR_EINVAL);
    ASSERT_EQ(net_listen("not-an-address", 0, 16, 0, &b), ERR_EINVAL);
    ASSERT_EQ(net_close(a), ERR_OK);
    net_cleanup();
}

static void test_listen_ipv6_name(void)
{
    net_socket s;
    char name[64];
    int rc;

    start();
    rc = net_listen("::1", 0, 16, 0, &s);
    if (rc == ERR_EAFNOSUPPORT || rc == ERR_EADDRNOTAVAIL) {
        fprintf(stderr, "no IPv6 loopback here: skipped\n");
        net_cleanup();
        return;
    }
    ASSERT_EQ(rc, ERR_OK);
    ASSERT_EQ(net_local_name(s, name, sizeof(name)), ERR_OK);
    ASSERT(strncmp(name, "[::1]:", 6) == 0);
    ASSERT_EQ(net_close(s), ERR_OK);
    net_cleanup();
}

/* Accepted sockets are non-blocking whatever the listener passed on, and
 * a listener with nobody waiting says "would block". */
static void test_accept_nonblocking(void)
{
    net_socket listener, server, again;
    SOCKET client;
    poller *p = poller_create();
    poller_handle h = { 0 };
    char buf[16];

    start();
    accepted_pair(&listener, &server, &client, p);
    ASSERT_EQ(net_accept(listener, &again, NULL, 0), ERR_EAGAIN);
    ASSERT_EQ(net_recv(server, buf, sizeof(buf)), ERR_EAGAIN);
    ASSERT_EQ(send(client, "hello", 5, 0), 5);
    h.sock = server;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(server, buf, sizeof(buf)), 5);
    ASSERT_MEM_EQ(buf, 5, "hello", 5);
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    closesocket(client);
    ASSERT_EQ(net_close(server), ERR_OK);
    ASSERT_EQ(net_close(listener), ERR_OK);
    poller_free(p);
    net_cleanup();
}

/* shutdown(SD_SEND): the client reads end-of-stream after every byte we
 * sent, and can still send to us; its close reads as end-of-stream. */
static void test_shutdown_send(void)
{
    net_socket listener, server;
    SOCKET client;
    poller *p = poller_create();
    poller_handle h = { 0 };
    char buf[16];
    int n;

    start();
    accepted_pair(&listener, &server, &client, p);
    ASSERT_EQ(net_send(server, "echo", 4), 4);
    ASSERT_EQ(net_shutdown_send(server), ERR_OK);
    n = recv(client, buf, sizeof(buf), MSG_WAITALL);
    ASSERT_EQ(n, 4);
    ASSERT_MEM_EQ(buf, 4, "echo", 4);
    ASSERT_EQ(recv(client, buf, sizeof(buf), 0), 0); /* our FIN */
    ASSERT(net_send(server, "x", 1) < 0);              /* no more sending */

    ASSERT_EQ(send(client, "late", 4, 0), 4); /* still receiving */
    h.sock = server;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(server, buf, sizeof(buf)), 4);
    ASSERT_MEM_EQ(buf, 4, "late", 4);

    closesocket(client);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(server, buf, sizeof(buf)), 0);
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    ASSERT_EQ(net_close(server), ERR_OK);
    ASSERT_EQ(net_close(listener), ERR_OK);
    poller_free(p);
    net_cleanup();
}

/* The abortive close ends the connection at once for the client. Whether
 * that reads as WSAECONNRESET or (under Wine) as end-of-stream is not our
 * business; that no data and no block follows is. */
static void test_abort(void)
{
    net_socket listener, server;
    SOCKET client;
    poller *p = poller_create();
    char buf[16];
    int n;

    start();
    accepted_pair(&listener, &server, &client, p);
    ASSERT_EQ(net_abort(server), ERR_OK);
    n = recv(client, buf, sizeof(buf), 0);
    ASSERT_LE(n, 0);
    closesocket(client);
    ASSERT_EQ(net_close(listener), ERR_OK);
    poller_free(p);
    net_cleanup();
}

/* WSAPoll rejects an empty set; the poller must still wait. */
static void test_poller_empty_timeout(void)
{
    poller *p = poller_create();
    poller_event ev[4];
    ULONGLONG t0;

    ASSERT(p != NULL);
    t0 = GetTickCount64();
    ASSERT_EQ(poller_wait(p, ev, 4, 100), 0);
    ASSERT_GE(GetTickCount64() - t0, 80);
    ASSERT_EQ(poller_wait(p, ev, 4, 0), 0);
    poller_free(p);
    ASSERT_STR_EQ(poller_name(), "wsapoll");
}

#define NPAIRS 24

/* Every ready entry is reported, wherever it sits, and the swap-remove
 * keeps each handle pointing at its own entry. */
static void test_poller_many(void)
{
    net_socket r[NPAIRS], w[NPAIRS];
    poller_handle h[NPAIRS];
    poller_event ev[NPAIRS];
    poller *p = poller_create();
    int i, n, seen[NPAIRS];
    char byte;

    start();
    for (i = 0; i < NPAIRS; i++) {
        ASSERT_EQ(net_wakeup_pair(&r[i], &w[i]), ERR_OK);
        memset(&h[i], 0, sizeof(h[i]));
        h[i].sock = r[i];
        ASSERT_EQ(poller_set(p, &h[i], POLLER_READ), ERR_OK);
    }
    /* Remove a few from the middle and the front; the last ones move. */
    ASSERT_EQ(poller_set(p, &h[0], 0), ERR_OK);
    ASSERT_EQ(poller_set(p, &h[5], 0), ERR_OK);
    ASSERT_EQ(poller_set(p, &h[11], 0), ERR_OK);
    for (i = 0; i < NPAIRS; i++)
        if (h[i].events)
            ASSERT_LT(h[i].slot, NPAIRS - 3);
    /* Changing interest keeps the slot. */
    n = h[7].slot;
    ASSERT_EQ(poller_set(p, &h[7], POLLER_READ | POLLER_WRITE), ERR_OK);
    ASSERT_EQ(h[7].slot, n);
    ASSERT_EQ(poller_set(p, &h[7], POLLER_READ), ERR_OK);

    /* Make the moved ones and one removed one readable. */
    ASSERT_EQ(net_send(w[NPAIRS - 1], "a", 1), 1);
    ASSERT_EQ(net_send(w[NPAIRS - 2], "b", 1), 1);
    ASSERT_EQ(net_send(w[3], "c", 1), 1);
    ASSERT_EQ(net_send(w[5], "d", 1), 1); /* not registered */
    Sleep(50); /* let loopback deliver all three */
    memset(seen, 0, sizeof(seen));
    n = poller_wait(p, ev, NPAIRS, 5000);
    ASSERT_GE(n, 1);
    for (int k = 0; k < n; k++) {
        i = (int)(ev[k].handle - h);
        ASSERT(i >= 0 && i < NPAIRS);
        ASSERT(ev[k].events & POLLER_READ);
        seen[i]++;
    }
    /* Whatever arrived late is reported by the next wait. */
    while (!(seen[NPAIRS - 1] && seen[NPAIRS - 2] && seen[3])) {
        n = poller_wait(p, ev, NPAIRS, 2000);
        ASSERT_GT(n, 0);
        for (int k = 0; k < n; k++)
            seen[ev[k].handle - h]++;
    }
    ASSERT_EQ(seen[5], 0);
    ASSERT_EQ(seen[0], 0);
    ASSERT_EQ(seen[1], 0);

    /* At most max per call; the rest comes next time. */
    n = poller_wait(p, ev, 1, 1000);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(net_recv(ev[0].handle->sock, &byte, 1), 1);
    n = poller_wait(p, ev, NPAIRS, 1000);
    ASSERT_EQ(n, 2);
    for (int k = 0; k < n; k++)
        ASSERT_EQ(net_recv(ev[k].handle->sock, &byte, 1), 1);
    ASSERT_EQ(poller_wait(p, ev, NPAIRS, 0), 0);

    for (i = 0; i < NPAIRS; i++) {
        ASSERT_EQ(poller_set(p, &h[i], 0), ERR_OK);
        net_close(r[i]);
        net_close(w[i]);
    }
    poller_free(p);
    net_cleanup();
}

/* A peer that closes while we only wait to write is still reported, as
 * both directions, so the owner's next recv sees the end. */
static void test_poller_hangup(void)
{
    net_socket listener, server;
    SOCKET client;
    poller *p = poller_create();
    poller_handle h = { 0 };
    char buf[16];
    int events;

    start();
    accepted_pair(&listener, &server, &client, p);
    closesocket(client);
    Sleep(50);
    h.sock = server;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
    events = wait_for(p, &h, 5000);
    ASSERT(events & POLLER_READ);
    ASSERT_LE(net_recv(server, buf, sizeof(buf)), 0);
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    net_close(server);
    net_close(listener);
    poller_free(p);
    net_cleanup();
}

/* Send until the socket takes no more; returns how many bytes it took. */
static long fill(net_socket s)
{
    static char block[65536];
    long total = 0, n = 0;

    for (int round = 0; round < 10000; round++) {
        n = net_send(s, block, sizeof(block));
        if (n <= 0)
            break;
        total += n;
    }
    ASSERT_EQ(n, ERR_EAGAIN);
    return total;
}

/* Fill s until it stays full for 100 ms: loopback moves bytes on for a
 * while, and the peer's receive window may still grow. */
static long fill_until_full(net_socket s)
{
    long total = 0;

    for (int round = 0; round < 100; round++) {
        fd_set writable;
        struct timeval tv = { 0, 100000 };
        int rc;

        total += fill(s);
        FD_ZERO(&writable);
        FD_SET((SOCKET)s, &writable);
        rc = select(0, NULL, &writable, NULL, &tv);
        ASSERT_GE(rc, 0);
        if (rc == 0)
            return total;
    }
    TEST_FAIL("the socket never stayed full");
}

/* The client finished sending and reads nothing, and our output is
 * blocked: WSAPoll reports POLLHUP on every call, asked for it or not.
 * The poller must not wake its owner for it more than a few times per
 * short interval, and must report the room to write soon after the client
 * reads. */
static void test_poller_hangup_blocked(void)
{
    net_socket listener, server, wake_r, wake_w;
    SOCKET client;
    poller *p = poller_create();
    poller_handle h = { 0 }, wake = { 0 };
    poller_event ev[8];
    char buf[65536];
    long sent, got = 0, n;
    uint64_t t0, elapsed = 0;
    int wakeups = 0, reports = 0, calls, writable = 0;

    start();
    accepted_pair(&listener, &server, &client, p);
    /* A loop always has its wake-up socket in the set: WSAPoll then runs
     * with the hung-up entry left out, not on an empty set. */
    ASSERT_EQ(net_wakeup_pair(&wake_r, &wake_w), ERR_OK);
    wake.sock = wake_r;
    ASSERT_EQ(poller_set(p, &wake, POLLER_READ), ERR_OK);
    ASSERT_EQ(shutdown(client, SD_SEND), 0);
    h.sock = server;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(server, buf, sizeof(buf)), 0); /* the client's FIN */
    sent = fill_until_full(server);
    ASSERT_EQ(poller_set(p, &h, POLLER_WRITE), ERR_OK);

    /* 300 ms measured by the poller's own timeouts. */
    wsapoll_fake.calls = 0;
    t0 = clock_monotonic_ms();
    while (elapsed < 300 && wakeups < 100000) {
        n = poller_wait(p, ev, 8, (int)(300 - elapsed));
        ASSERT_GE(n, 0);
        wakeups++;
        for (int k = 0; k < n; k++) {
            ASSERT(ev[k].handle == &h);
            ASSERT(ev[k].events & POLLER_WRITE);
            /* As the owner would: try to send (it may take a few bytes
             * more, if the client's window still grew). */
            sent += fill(server);
            reports++;
        }
        elapsed = clock_monotonic_ms() - t0;
    }
    calls = wsapoll_fake.calls;
    fprintf(stderr, "300 ms blocked after the client's FIN: %d wake-ups, "
            "%d reports, %d WSAPoll calls\n", wakeups, reports, calls);
    ASSERT_GE(reports, 1); /* the owner did get to try its send */
    ASSERT_LE(wakeups, 40);
    ASSERT_LE(calls, 80); /* a wait cut short to take it back, a poll */

    /* Left out of the set for a while, but a new interest is polled at
     * once: reading is reported (the end of stream), and so is writing. */
    ASSERT_EQ(poller_wait(p, ev, 8, 1000), 1); /* to park it for sure */
    ASSERT_EQ(poller_set(p, &h, POLLER_READ | POLLER_WRITE), ERR_OK);
    ASSERT_EQ(poller_wait(p, ev, 8, 0), 1);
    ASSERT(ev[0].handle == &h);
    ASSERT_EQ(ev[0].events, POLLER_READ | POLLER_WRITE);
    ASSERT_EQ(poller_set(p, &h, POLLER_WRITE), ERR_OK);

    /* With nothing else in the set, WSAPoll is never given a set with
     * no valid socket (it fails on one): the poller sleeps instead. */
    ASSERT_EQ(poller_set(p, &wake, 0), ERR_OK);
    wsapoll_fake.none_valid = 0;
    wakeups = 0;
    t0 = clock_monotonic_ms();
    elapsed = 0;
    while (elapsed < 100 && wakeups < 100000) {
        n = poller_wait(p, ev, 8, (int)(100 - elapsed));
        ASSERT_GE(n, 0);
        wakeups++;
        elapsed = clock_monotonic_ms() - t0;
    }
    ASSERT_EQ(wsapoll_fake.none_valid, 0);
    ASSERT_LE(wakeups, 20);

    /* The client reads everything: our side can write again, soon. */
    while (got < sent) {
        int r = recv(client, buf, (int)sizeof(buf), 0);
        ASSERT_GT(r, 0);
        got += r;
    }
    ASSERT_EQ(got, sent);
    t0 = clock_monotonic_ms();
    for (int round = 0; round < 1000 && !writable; round++) {
        n = poller_wait(p, ev, 8, 1000);
        ASSERT_GE(n, 0);
        if (n > 0 && (ev[0].events & POLLER_WRITE))
            writable = net_send(server, "z", 1) == 1;
        ASSERT_LT(clock_monotonic_ms() - t0, 2000);
    }
    ASSERT(writable);
    fprintf(stderr, "writable %llu ms after the client read\n",
            (unsigned long long)(clock_monotonic_ms() - t0));
    ASSERT_LE(clock_monotonic_ms() - t0, 250);

    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    closesocket(client);
    ASSERT_EQ(net_close(server), ERR_OK);
    ASSERT_EQ(net_close(listener), ERR_OK);
    ASSERT_EQ(net_close(wake_r), ERR_OK);
    ASSERT_EQ(net_close(wake_w), ERR_OK);
    poller_free(p);
    net_cleanup();
}

#define NKEEP 24
#define KEEP_MAX 16

/* More ready than fit in one call: the rest of one WSAPoll's results are
 * handed out by the next call, each once, without polling again, even
 * when registrations are removed in between (removal moves entries). */
static void test_poller_keeps_results(void)
{
    net_socket r[NKEEP], w[NKEEP];
    poller_handle h[NKEEP], h2[NKEEP];
    poller_event ev[NKEEP];
    poller *p = poller_create(), *p2 = poller_create();
    int i, n, seen[NKEEP], ready = 0, lowest, dropped_pending = -1;
    char byte;

    start();
    for (i = 0; i < NKEEP; i++) {
        ASSERT_EQ(net_wakeup_pair(&r[i], &w[i]), ERR_OK);
        memset(&h[i], 0, sizeof(h[i]));
        memset(&h2[i], 0, sizeof(h2[i]));
        h[i].sock = h2[i].sock = r[i];
        ASSERT_EQ(poller_set(p, &h[i], POLLER_READ), ERR_OK);
        ASSERT_EQ(poller_set(p2, &h2[i], POLLER_READ), ERR_OK);
        ASSERT_EQ(net_send(w[i], "k", 1), 1);
    }
    /* Loopback delivers when it does: a second poller sees them all
     * readable before the first one looks. */
    memset(seen, 0, sizeof(seen));
    for (int round = 0; round < 100 && ready < NKEEP; round++) {
        n = poller_wait(p2, ev, NKEEP, 5000);
        ASSERT_GE(n, 0);
        for (int k = 0; k < n; k++) {
            i = (int)(ev[k].handle - h2);
            if (!seen[i]++)
                ready++;
        }
    }
    ASSERT_EQ(ready, NKEEP);

    memset(seen, 0, sizeof(seen));
    wsapoll_fake.calls = 0;
    n = poller_wait(p, ev, KEEP_MAX, 5000);
    ASSERT_EQ(n, KEEP_MAX);
    ASSERT_EQ(wsapoll_fake.calls, 1);
    lowest = -1;
    for (int k = 0; k < n; k++) {
        i = (int)(ev[k].handle - h);
        ASSERT(i >= 0 && i < NKEEP);
        ASSERT_EQ(seen[i]++, 0);
        ASSERT_EQ(net_recv(r[i], &byte, 1), 1); /* as the owner would */
        if (lowest < 0 || h[i].slot < h[lowest].slot)
            lowest = i;
    }
    /* Remove the lowest entry handed out (the last entry moves) and one
     * not handed out yet. */
    ASSERT_EQ(poller_set(p, &h[lowest], 0), ERR_OK);
    for (i = 0; i < NKEEP && dropped_pending < 0; i++)
        if (!seen[i])
            dropped_pending = i;
    ASSERT_EQ(poller_set(p, &h[dropped_pending], 0), ERR_OK);

    n = poller_wait(p, ev, KEEP_MAX, 5000);
    ASSERT_EQ(n, NKEEP - KEEP_MAX - 1);
    ASSERT_EQ(wsapoll_fake.calls, 1); /* no second WSAPoll */
    for (int k = 0; k < n; k++) {
        i = (int)(ev[k].handle - h);
        ASSERT(i >= 0 && i < NKEEP);
        ASSERT(i != dropped_pending);
        ASSERT_EQ(seen[i]++, 0);
        ASSERT(ev[k].events & POLLER_READ);
        ASSERT_EQ(net_recv(r[i], &byte, 1), 1);
    }
    for (i = 0; i < NKEEP; i++)
        ASSERT_EQ(seen[i], i == dropped_pending ? 0 : 1);

    /* Everything handed out: the next call polls again, finds nothing. */
    ASSERT_EQ(poller_wait(p, ev, KEEP_MAX, 0), 0);
    ASSERT_EQ(wsapoll_fake.calls, 2);

    for (i = 0; i < NKEEP; i++) {
        ASSERT_EQ(poller_set(p, &h[i], 0), ERR_OK);
        ASSERT_EQ(poller_set(p2, &h2[i], 0), ERR_OK);
        net_close(r[i]);
        net_close(w[i]);
    }
    poller_free(p);
    poller_free(p2);
    net_cleanup();
}

/* A failed WSAPoll is reported with its own error, never with whatever
 * failed earlier on the thread, and leaves the poller usable. */
static void test_poller_error(void)
{
    net_socket r, w;
    poller *p = poller_create();
    poller_handle h = { 0 };
    poller_event ev[4];
    char own[256], byte;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    h.sock = r;
    ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);

    /* The text a failure with no code of its own must give. */
    ASSERT_EQ(err_from_os(WSASYSCALLFAILURE), ERR_EOTHER);
    snprintf(own, sizeof(own), "%s", err_strerror(ERR_EOTHER));

    /* An unrelated earlier failure, both as the thread's last Winsock
     * error and as the last error err_strerror would describe. */
    ASSERT_EQ(err_from_os(WSAEHOSTDOWN), ERR_EOTHER);
    ASSERT(strcmp(err_strerror(ERR_EOTHER), own) != 0);
    WSASetLastError(WSAEHOSTDOWN);
    wsapoll_fake.fail_with = -1; /* fails, and sets no code */
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), ERR_EOTHER);
    ASSERT_STR_EQ(err_strerror(ERR_EOTHER), own);

    /* A code of its own is its own, translated. */
    WSASetLastError(WSAEHOSTDOWN);
    wsapoll_fake.fail_with = WSAENOBUFS;
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), ERR_ENOMEM);
    wsapoll_fake.fail_with = WSAEINTR; /* interrupted: nothing happened */
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), 0);

    /* The poller still works. */
    ASSERT_EQ(net_send(w, "x", 1), 1);
    ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
    ASSERT_EQ(net_recv(r, &byte, 1), 1);

    /* A real failure: the only socket closed behind the poller's back
     * (Windows says WSAEINVAL, Wine WSAENOTSOCK). */
    ASSERT_EQ(net_close(r), ERR_OK);
    ASSERT_EQ(err_from_os(WSAEHOSTDOWN), ERR_EOTHER);
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), ERR_EINVAL);
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    ASSERT_EQ(net_close(w), ERR_OK);
    poller_free(p);
    net_cleanup();
}

static int inheritable(net_socket s)
{
    DWORD flags = 0;

    ASSERT(GetHandleInformation((HANDLE)(SOCKET)s, &flags));
    return (flags & HANDLE_FLAG_INHERIT) != 0;
}

/* One listener, one client of it, one accepted socket and one wake-up
 * pair: none of them inheritable. */
static void expect_no_inherit(void)
{
    net_socket listener, server, r, w;
    SOCKET client;
    poller *p = poller_create();

    accepted_pair(&listener, &server, &client, p);
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT(!inheritable(listener));
    ASSERT(!inheritable(server));
    ASSERT(!inheritable(r));
    ASSERT(!inheritable(w));
    closesocket(client);
    ASSERT_EQ(net_close(server), ERR_OK);
    ASSERT_EQ(net_close(listener), ERR_OK);
    ASSERT_EQ(net_close(r), ERR_OK);
    ASSERT_EQ(net_close(w), ERR_OK);
    poller_free(p);
}

/* No socket leaks into a child process: made so at creation where
 * Windows can, after it where it cannot, and a failure to make it so is
 * an error, not a socket that leaks. */
static void test_no_inherit(void)
{
    net_socket s, server;
    SOCKET client, plain;
    poller *p = poller_create();
    poller_handle lh = { 0 };
    char peer[64];

    start();
    /* The check means something: a plain socket() is inheritable. */
    plain = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ASSERT(plain != INVALID_SOCKET);
    ASSERT(inheritable((net_socket)plain));
    closesocket(plain);

    /* Today's Windows: the flag, and SetHandleInformation only for the
     * accepted sockets (accept has no flag). */
    memset(&net_fake, 0, sizeof(net_fake));
    no_inherit_flag_refused = 0;
    expect_no_inherit();
    ASSERT_EQ(net_fake.flag_tries, 3); /* listener, wake-up pair's two */
    ASSERT_EQ(net_fake.set_calls, 2);  /* accepted, wake-up pair's one */

    /* Before Windows 7 SP1: the flag is refused once, then not tried. */
    memset(&net_fake, 0, sizeof(net_fake));
    net_fake.refuse_flag = 1;
    expect_no_inherit();
    ASSERT_EQ(net_fake.flag_tries, 1);
    ASSERT_EQ(net_fake.set_calls, 5);

    /* SetHandleInformation fails: so do the calls that needed it. */
    net_fake.set_fails = ERROR_ACCESS_DENIED;
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &s), ERR_EACCES);
    ASSERT(s == NET_INVALID);
    {
        net_socket r, w;
        ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_EACCES);
        ASSERT(r == NET_INVALID && w == NET_INVALID);
    }
    /* An accepted socket too (the listener made while it still worked):
     * the client sees its connection closed. */
    net_fake.set_fails = 0;
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &s), ERR_OK);
    client = connect_to(port_of(s));
    lh.sock = s;
    ASSERT_EQ(poller_set(p, &lh, POLLER_READ), ERR_OK);
    ASSERT(wait_for(p, &lh, 5000) & POLLER_READ);
    net_fake.set_fails = ERROR_ACCESS_DENIED;
    ASSERT_EQ(net_accept(s, &server, peer, sizeof(peer)), ERR_EACCES);
    ASSERT(server == NET_INVALID);
    {
        char byte;
        ASSERT_LE(recv(client, &byte, 1, 0), 0);
    }
    ASSERT_EQ(poller_set(p, &lh, 0), ERR_OK);
    closesocket(client);
    ASSERT_EQ(net_close(s), ERR_OK);

    memset(&net_fake, 0, sizeof(net_fake));
    no_inherit_flag_refused = 0;
    poller_free(p);
    net_cleanup();
}

static DWORD WINAPI press_ctrl_c(void *unused)
{
    (void)unused;
    return (DWORD)console_handler(CTRL_C_EVENT);
}

static DWORD WINAPI restore_signals(void *unused)
{
    (void)unused;
    signals_restore();
    return 0;
}

/* A Ctrl-C racing the teardown: signals_restore waits for a handler in
 * the middle of its send, and once it has returned no handler sends, so
 * the caller may close the wake-up socket. */
static void test_signals_teardown(void)
{
    net_socket r, w;
    HANDLE press, restore;
    int stops = -1, reloads = -1;
    char byte;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT_EQ(signals_install(w), ERR_OK);

    /* A Ctrl-C counts a stop and wakes the loop. */
    send_fake.sends = 0;
    ASSERT(console_handler(CTRL_C_EVENT));
    ASSERT_EQ(send_fake.sends, 1);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 1);
    ASSERT_EQ(reloads, 0);
    {
        poller *p = poller_create();
        poller_handle h = { 0 };
        h.sock = r;
        ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
        ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
        ASSERT_EQ(net_recv(r, &byte, 1), 1);
        ASSERT_EQ(byte, 's');
        ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
        poller_free(p);
    }

    /* A second one is held in its send while the teardown starts. */
    send_fake.entered = CreateEventW(NULL, TRUE, FALSE, NULL);
    send_fake.release = CreateEventW(NULL, TRUE, FALSE, NULL);
    ASSERT(send_fake.entered != NULL && send_fake.release != NULL);
    press = CreateThread(NULL, 0, press_ctrl_c, NULL, 0, NULL);
    ASSERT(press != NULL);
    ASSERT_EQ(WaitForSingleObject(send_fake.entered, 5000), WAIT_OBJECT_0);
    restore = CreateThread(NULL, 0, restore_signals, NULL, 0, NULL);
    ASSERT(restore != NULL);
    ASSERT_EQ(WaitForSingleObject(restore, 200), WAIT_TIMEOUT);
    SetEvent(send_fake.release);
    ASSERT_EQ(WaitForSingleObject(restore, 5000), WAIT_OBJECT_0);
    ASSERT_EQ(WaitForSingleObject(press, 5000), WAIT_OBJECT_0);
    CloseHandle(press);
    CloseHandle(restore);
    CloseHandle(send_fake.entered);
    CloseHandle(send_fake.release);
    send_fake.entered = send_fake.release = NULL;
    ASSERT_EQ(send_fake.sends, 2);

    /* Torn down: a late Ctrl-C is still taken, and sends nothing. */
    ASSERT_EQ(net_close(w), ERR_OK);
    ASSERT(console_handler(CTRL_C_EVENT));
    ASSERT_EQ(send_fake.sends, 2);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 2);
    ASSERT_EQ(net_close(r), ERR_OK);
    net_cleanup();
}

static void test_errors(void)
{
    char byte;

    start();
    ASSERT(strlen(err_strerror(ERR_EAGAIN)) > 0);
    ASSERT(strlen(err_strerror(ERR_ERESET)) > 0);
    ASSERT(strlen(err_strerror(ERR_EOTHER)) > 0);
    /* A handle that is no socket is an invalid argument, not a crash. */
    ASSERT_EQ(net_recv((net_socket)(uintptr_t)0x12344, &byte, 1),
              ERR_EINVAL);
    net_cleanup();
}

/* The console handler is installed and removed; with no event, no stop. */
static void test_signals(void)
{
    net_socket r, w;
    int stops = -1, reloads = -1;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT_EQ(signals_install(w), ERR_OK);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 0);
    ASSERT_EQ(reloads, 0);
    signals_restore();
    net_close(r);
    net_close(w);
    net_cleanup();
}

static const test_case cases[] = {
    { "win32_wakeup_pair", test_wakeup_pair },
    { "win32_listen_exclusive", test_listen_exclusive },
    { "win32_listen_ipv6_name", test_listen_ipv6_name },
    { "win32_accept_nonblocking", test_accept_nonblocking },
    { "win32_shutdown_send", test_shutdown_send },
    { "win32_abort", test_abort },
    { "win32_poller_empty_timeout", test_poller_empty_timeout },
    { "win32_poller_many", test_poller_many },
    { "win32_poller_hangup", test_poller_hangup },
    { "win32_poller_hangup_blocked", test_poller_hangup_blocked },
    { "win32_poller_keeps_results", test_poller_keeps_results },
    { "win32_poller_error", test_poller_error },
    { "win32_no_inherit", test_no_inherit },
    { "win32_errors", test_errors },
    { "win32_signals", test_signals },
    { "win32_signals_teardown", test_signals_teardown },
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
