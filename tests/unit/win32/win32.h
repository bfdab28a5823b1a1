/* win32.h -- what the files of unit_win32 share: the helpers of util.c
 * and the cases, whose table is main.c's. */
#ifndef RICOCHET_TEST_WIN32_H
#define RICOCHET_TEST_WIN32_H

/* Vista's API (WSAPoll), without the rarely used parts of <windows.h>;
 * before any Windows header. */
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

/* net_init, twice (the second is harmless). */
void start(void);
/* The port of a listening socket. */
int port_of(net_socket s);
/* A blocking client connected to 127.0.0.1:port; its receives give up
 * after 5 s, so that a missing FIN fails the case instead of hanging it. */
SOCKET connect_to(int port);
/* Wait until h is ready for what it is registered for. */
int wait_for(poller *p, poller_handle *h, int timeout_ms);
/* Accept one connection on a fresh listener; out: both ends. */
void accepted_pair(net_socket *listener, net_socket *server, SOCKET *client,
                   poller *p);

void test_wakeup_pair(void);
void test_listen_exclusive(void);
void test_listen_ipv6_name(void);
void test_accept_nonblocking(void);
void test_shutdown_send(void);
void test_abort(void);
void test_poller_empty_timeout(void);
void test_poller_many(void);
void test_poller_hangup(void);
void test_poller_hangup_blocked(void);
void test_poller_keeps_results(void);
void test_poller_error(void);
void test_no_inherit(void);
void test_errors(void);
void test_signals(void);
void test_signals_teardown(void);

#endif
