/* it_proxy.h -- what the proxy-mode cases share: ricochet started in
 * front of an upstream the case itself plays (a listening socket of its
 * own on 127.0.0.1), a client and its upstream connection paired up, and
 * the ends each side sees. */
#ifndef RICOCHET_IT_PROXY_H
#define RICOCHET_IT_PROXY_H

#include <stddef.h>

#include "it_server.h"

/* Start ricochet with --upstream 127.0.0.1:port, the options given (a
 * NULL-terminated list of strings after script) and script. A negative
 * port means [::1]:-port. */
it_server *it_proxy_start(int port, const char *script, ...);
/* A listening socket on [::1] (port 0: any), its port in *port; -1 when
 * this host has no IPv6 loopback. */
int it_proxy_listen6(int *port);
/* Accept one connection on the listening socket lfd within timeout_ms:
 * a non-blocking close-on-exec socket, or -1 on timeout. */
int it_proxy_accept(int lfd, int timeout_ms);
/* Connect a client to s and accept ricochet's connection to the upstream
 * on lfd; fails the case when either does not come. */
void it_proxy_pair(const it_server *s, int lfd, int *cli, int *up);
/* Read until EOF within IT_WAIT_MS and assert the bytes are exactly
 * want; who names the side in a failure. */
void it_proxy_expect_eof(int fd, const void *want, size_t want_len,
                         const char *who);
/* Read until the end within IT_WAIT_MS and assert it is a reset with no
 * byte before it. */
void it_proxy_expect_reset(int fd, const char *who);
/* The socket's pending error (SO_ERROR), 0 when none. */
int it_proxy_sock_error(int fd);
/* 1 once fd is readable (bytes, EOF or an error) within timeout_ms. */
int it_proxy_wait_readable(int fd, int timeout_ms);
/* 1 when the server under test is the Windows build (under Wine). */
int it_proxy_on_windows(void);
/* Wine reads a reset as an end of stream (recv returns 0): a case that
 * needs ricochet to tell a RST from a FIN is skipped for the Windows
 * build. Returns 1 (having said so) when the case is to be skipped. */
int it_proxy_skip_resets_on_wine(void);
/* Open descriptors of the server's process (/proc/PID/fd), -1 when that
 * cannot be known (no /proc, or a wrapper such as wine in between). */
long it_proxy_fd_count(const it_server *s);

#endif
