/* it_cli.h -- a case's TCP clients: non-blocking loopback sockets, every
 * wait bounded by a timeout. */
#ifndef RICOCHET_IT_CLI_H
#define RICOCHET_IT_CLI_H

#include <stddef.h>

#include "it_clock.h"
#include "it_server.h"
#include "test.h"

/* Connect to host:port (numeric) within IT_WAIT_MS. Returns a non-blocking
 * close-on-exec socket, or -errno (-ECONNREFUSED, -ETIMEDOUT, ...). */
int it_cli_connect(const char *host, int port);
/* Connect to listener idx of s; fails the case when that does not work. */
int it_cli_connect_to(const it_server *s, int idx);
/* Send everything within timeout_ms. Returns 0 or -errno. */
int it_cli_send_all(int fd, const void *data, size_t len, int timeout_ms);
#define CLI_SEND(fd, str) \
    ASSERT_EQ(it_cli_send_all((fd), (str), strlen(str), IT_WAIT_MS), 0)
/* Receive until n bytes, EOF, an error or timeout_ms. Returns the count. */
size_t it_cli_recv_n(int fd, void *buf, size_t n, int timeout_ms);
/* Receive until a '\n' arrives (or cap - 1 bytes, EOF, error, timeout);
 * NUL-terminates. Returns the count. */
size_t it_cli_recv_line(int fd, char *buf, size_t cap, int timeout_ms);
/* Receive until EOF. *out (malloc, may be NULL when empty) gets the bytes
 * received before EOF or the error. Returns 0 at EOF, -ECONNRESET (or
 * another -errno) on error, -ETIMEDOUT, -EMSGSIZE past cap bytes. */
int it_cli_recv_eof(int fd, unsigned char **out, size_t *len, size_t cap,
                    int timeout_ms);
/* shutdown(SHUT_WR); fails the case when that does not work. */
void it_cli_shut_wr(int fd);
/* Abortive close: SO_LINGER 0, close -> the peer gets a RST. */
void it_cli_abort(int fd);
/* The socket's local address as "127.0.0.1:PORT" (or "[::1]:PORT"). */
void it_cli_local_name(int fd, char *buf, size_t cap);
/* Wait up to timeout_ms for an error condition (reset) on fd without
 * reading. Returns the pending socket error (e.g. ECONNRESET, EPIPE), or
 * 0 if none came. */
int it_cli_wait_error(int fd, int timeout_ms);

#endif
