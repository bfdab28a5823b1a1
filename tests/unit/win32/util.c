/* util.c -- what the Winsock cases share: start, a blocking client, a
 * wait for readiness, an accepted pair. */
#include "win32.h" /* first: it sets up <windows.h> */

void start(void)
{
    ASSERT_EQ(net_init(), ERR_OK);
    ASSERT_EQ(net_init(), ERR_OK); /* twice is harmless */
}

int port_of(net_socket s)
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
SOCKET connect_to(int port)
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
int wait_for(poller *p, poller_handle *h, int timeout_ms)
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
void accepted_pair(net_socket *listener, net_socket *server,
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

