/* test_poll.c -- poll_wsapoll.c, compiled in with WSAPoll seen
 * through a counter that can also fail: timeouts, many sockets, hang-ups
 * (and no spin on one), results kept across waits, its errors. */
#include "win32.h" /* first: it sets up <windows.h> */

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

#define WSAPoll counted_wsapoll
#include "poll_wsapoll.c"
#undef WSAPoll


void test_poller_empty_timeout(void)
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
void test_poller_many(void)
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
void test_poller_hangup(void)
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
void test_poller_hangup_blocked(void)
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
void test_poller_keeps_results(void)
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
void test_poller_error(void)
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
    ASSERT_EQ(err_from_os(WSAEUSERS), ERR_EOTHER);
    ASSERT(strcmp(err_strerror(ERR_EOTHER), own) != 0);
    WSASetLastError(WSAEUSERS);
    wsapoll_fake.fail_with = -1; /* fails, and sets no code */
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), ERR_EOTHER);
    ASSERT_STR_EQ(err_strerror(ERR_EOTHER), own);

    /* A code of its own is its own, translated. */
    WSASetLastError(WSAEUSERS);
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
    ASSERT_EQ(err_from_os(WSAEUSERS), ERR_EOTHER);
    ASSERT_EQ(poller_wait(p, ev, 4, 1000), ERR_EINVAL);
    ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
    ASSERT_EQ(net_close(w), ERR_OK);
    poller_free(p);
    net_cleanup();
}
