/* net.h -- the socket portability layer.
 *
 * The only files that include OS socket headers are the ones that implement
 * this interface (net_posix.c, net_win32.c) and the poller backends. The
 * rest of ricochet speaks these types. Every net_ function returns 0 (or a
 * byte count) on success and a negative err.h code on failure. */
#ifndef RICOCHET_NET_H
#define RICOCHET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* An opaque socket: a POSIX fd or a Windows SOCKET (which is not a small
 * integer, so never index an array with it). */
typedef uintptr_t net_socket;
#define NET_INVALID ((net_socket)~(uintptr_t)0)

/* Start and stop the platform's socket library (WSAStartup/WSACleanup on
 * Windows, SIGPIPE ignored on POSIX). Call net_init once before any other
 * net_ function and net_cleanup once at a clean stop. */
int net_init(void);
void net_cleanup(void);

/* Open a non-blocking listening socket bound to the numeric address host
 * ("127.0.0.1", "::1", "0.0.0.0", "::") and port (0 picks a free one).
 * With reuseport set, several sockets may share the port (SO_REUSEPORT),
 * where the platform has it; ERR_EINVAL where it does not. */
int net_listen(const char *host, int port, int backlog, int reuseport,
               net_socket *out);

/* Write the local address of s as "127.0.0.1:40123" or "[::1]:40123". */
int net_local_name(net_socket s, char *buf, size_t buflen);

/* Accept one connection: the new socket is non-blocking with TCP_NODELAY
 * set, and its peer is written to peer as "ADDR:PORT". ERR_EAGAIN when
 * there is nobody left to accept. */
int net_accept(net_socket listener, net_socket *out, char *peer,
               size_t peerlen);

/* Start a non-blocking TCP connection to the numeric address host ("1.2.3.4"
 * or "::1") and port. *out gets the socket (non-blocking, TCP_NODELAY).
 * Returns 0 when it connected at once, ERR_EAGAIN while the connection is
 * in progress (wait until the socket is writable, then ask
 * net_connect_result), or the error (no socket then). */
int net_connect(const char *host, int port, net_socket *out);
/* The outcome of a connection in progress, asked when its socket is
 * writable or at any time before (a poller that misses a failed
 * connect): 0, ERR_EAGAIN (not yet), or the error (ERR_ECONNREFUSED,
 * ...). */
int net_connect_result(net_socket s);
/* The numeric address of a host name ("localhost", "db.example", or an
 * address already), preferring IPv4, into out ("127.0.0.1", "::1").
 * Blocks on the system's resolver: call it at start-up or on a thread of
 * its own, never from an event loop. Returns 0, ERR_ENOTFOUND, or another
 * error. */
int net_resolve(const char *name, char *out, size_t outlen);

/* recv/send without blocking and without SIGPIPE. They return the byte
 * count (recv: 0 means the peer finished sending) or a negative code. */
long net_recv(net_socket s, void *buf, size_t len);
long net_send(net_socket s, const void *buf, size_t len);

/* shutdown(SEND): the peer sees end-of-stream; we can still receive. */
int net_shutdown_send(net_socket s);
/* Close the socket (close / closesocket). */
int net_close(net_socket s);
/* Abortive close: SO_LINGER {1, 0} then close, so the peer gets an RST. */
int net_abort(net_socket s);

/* A connected pair used to wake the event loop from a signal handler or
 * another thread: writing a byte to w makes r readable. Both are
 * non-blocking. (POSIX: socketpair; Windows: a loopback TCP pair.) */
int net_wakeup_pair(net_socket *r, net_socket *w);

#endif
