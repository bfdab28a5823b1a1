/* test_net.c -- net_win32.c, compiled in with WSASocketW and
 * SetHandleInformation seen through fakes that can refuse: the loopback
 * pair, listeners, accept, the half-close, the abort, handle inheritance
 * and the errors. */
#include "win32.h" /* first: it sets up <windows.h> */

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

#define WSASocketW fake_wsasocketw
#define SetHandleInformation fake_set_handle_information
#include "net_win32.c"
#undef WSASocketW
#undef SetHandleInformation


void test_wakeup_pair(void)
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
void test_listen_exclusive(void)
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

void test_listen_ipv6_name(void)
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
void test_accept_nonblocking(void)
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
void test_shutdown_send(void)
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
void test_abort(void)
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
void test_no_inherit(void)
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

void test_errors(void)
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

