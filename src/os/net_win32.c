/* net_win32.c -- net.h on Winsock 2.2.
 *
 * The lifecycle is the classic Winsock server's: WSAStartup once,
 * non-blocking sockets through ioctlsocket(FIONBIO), shutdown(SD_SEND) for
 * the graceful half-close, closesocket, and WSACleanup at a clean stop.
 * A SOCKET is an opaque handle, not a small integer; it travels through the
 * rest of ricochet as a net_socket (uintptr_t, the same width). Every
 * WSAGetLastError() is translated here, once, by err_from_os. */
#define WIN32_LEAN_AND_MEAN
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: WSAPoll, inet_ntop */
#endif

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "net.h"

#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80 /* Windows 7 SP1 and later */
#endif

/* SOCKET and net_socket must be the same width for the casts below. */
typedef char net_socket_fits[sizeof(SOCKET) == sizeof(net_socket) ? 1 : -1];

#define TO_SOCKET(s) ((SOCKET)(s))
#define TO_NET(s) ((s) == INVALID_SOCKET ? NET_INVALID : (net_socket)(s))

/* How many successful WSAStartup calls net_cleanup has to balance. */
static int wsa_started;

static int last_error(void)
{
    return err_from_os(WSAGetLastError());
}

/* getaddrinfo and getnameinfo report EAI_ codes, which on Windows are
 * Winsock codes too (EAI_NONAME is WSAHOST_NOT_FOUND, ...). */
static int map_gai_error(int rc)
{
    if (rc == EAI_NONAME || rc == EAI_FAMILY)
        return ERR_EINVAL;
    if (rc == EAI_MEMORY)
        return ERR_ENOMEM;
    return err_from_os(rc);
}

int net_init(void)
{
    WSADATA data;
    int rc;

    if (wsa_started > 0)
        return ERR_OK;
    rc = WSAStartup(MAKEWORD(2, 2), &data);
    if (rc != 0)
        return err_from_os(rc); /* WSAStartup returns its code */
    if (LOBYTE(data.wVersion) != 2 || HIBYTE(data.wVersion) != 2) {
        WSACleanup();
        return err_from_os(WSAVERNOTSUPPORTED);
    }
    wsa_started = 1;
    return ERR_OK;
}

void net_cleanup(void)
{
    if (wsa_started > 0) {
        WSACleanup();
        wsa_started = 0;
    }
}

static int set_nonblocking(SOCKET s)
{
    u_long on = 1;
    if (ioctlsocket(s, FIONBIO, &on) == SOCKET_ERROR)
        return last_error();
    return ERR_OK;
}

static int set_int_option(SOCKET s, int level, int name, int value)
{
    if (setsockopt(s, level, name, (const char *)&value,
                   (int)sizeof(value)) == SOCKET_ERROR)
        return last_error();
    return ERR_OK;
}

/* Sockets must not leak into child processes (we start none, but a
 * script host might). */
static int set_no_inherit(SOCKET s)
{
    if (!SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0))
        return err_from_os((int)GetLastError());
    return ERR_OK;
}

/* Set once WSASocketW has refused WSA_FLAG_NO_HANDLE_INHERIT (Windows
 * before 7 SP1 does not know it): from then on the flag is not tried. */
static volatile LONG no_inherit_flag_refused;

/* socket(), not inherited by child processes: created so in one call
 * where Windows can (WSA_FLAG_NO_HANDLE_INHERIT), else made so after.
 * WSA_FLAG_OVERLAPPED is what socket() gives. On failure, *out is
 * INVALID_SOCKET and the error is returned. */
static int open_socket(int family, int type, int protocol, SOCKET *out)
{
    const DWORD flags = WSA_FLAG_OVERLAPPED;
    SOCKET s = INVALID_SOCKET;
    int rc;

    *out = INVALID_SOCKET;
    if (!no_inherit_flag_refused) {
        s = WSASocketW(family, type, protocol, NULL, 0,
                       flags | WSA_FLAG_NO_HANDLE_INHERIT);
        if (s != INVALID_SOCKET) {
            *out = s;
            return ERR_OK;
        }
        if (WSAGetLastError() != WSAEINVAL)
            return last_error();
        InterlockedExchange(&no_inherit_flag_refused, 1);
    }
    s = WSASocketW(family, type, protocol, NULL, 0, flags);
    if (s == INVALID_SOCKET)
        return last_error();
    rc = set_no_inherit(s);
    if (rc != ERR_OK) {
        closesocket(s);
        return rc;
    }
    *out = s;
    return ERR_OK;
}

/* "ADDR:PORT", with IPv6 addresses in brackets. */
static int format_addr(const struct sockaddr *sa, int salen, char *buf,
                       size_t buflen)
{
    char host[INET6_ADDRSTRLEN];
    char serv[8];
    int rc, n;

    if (buflen == 0)
        return ERR_EINVAL;
    rc = getnameinfo(sa, (socklen_t)salen, host, (DWORD)sizeof(host), serv,
                     (DWORD)sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) {
        buf[0] = '\0';
        return map_gai_error(rc);
    }
    if (sa->sa_family == AF_INET6)
        n = snprintf(buf, buflen, "[%s]:%s", host, serv);
    else
        n = snprintf(buf, buflen, "%s:%s", host, serv);
    if (n < 0 || (size_t)n >= buflen)
        return ERR_EINVAL;
    return ERR_OK;
}

/* IPv4 in the standard dotted-quad form only, as inet_pton reads it on
 * POSIX: getaddrinfo and even inet_pton on Windows also take forms like
 * "1.2.3" or "127.1", and octal-looking parts. */
static int is_dotted_quad(const char *host)
{
    int parts = 0;

    for (;;) {
        int digits = 0, value = 0;

        while (*host >= '0' && *host <= '9') {
            if (digits > 0 && value == 0)
                return 0; /* a leading zero */
            value = value * 10 + (*host - '0');
            if (++digits > 3 || value > 255)
                return 0;
            host++;
        }
        if (digits == 0)
            return 0;
        parts++;
        if (*host == '\0')
            return parts == 4;
        if (*host != '.' || parts == 4)
            return 0;
        host++;
    }
}

/* AF_INET or AF_INET6 for a numeric address, AF_UNSPEC otherwise (names,
 * IPv6 scope ids). */
static int numeric_family(const char *host)
{
    struct in6_addr probe;

    if (is_dotted_quad(host))
        return AF_INET;
    if (strchr(host, '%') == NULL && strchr(host, ':') != NULL &&
        inet_pton(AF_INET6, host, &probe) == 1)
        return AF_INET6;
    return AF_UNSPEC;
}

int net_listen(const char *host, int port, int backlog, int reuseport,
               net_socket *out)
{
    struct addrinfo hints, *ai = NULL;
    char serv[8];
    SOCKET s;
    int rc, family;

    *out = NET_INVALID;
    /* SO_REUSEADDR on Windows lets another process steal the port; there
     * is no SO_REUSEPORT load balancing to offer. */
    if (reuseport)
        return ERR_EINVAL;
    if (host == NULL || port < 0 || port > 65535)
        return ERR_EINVAL;
    family = numeric_family(host);
    if (family == AF_UNSPEC)
        return ERR_EINVAL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(serv, sizeof(serv), "%d", port);
    rc = getaddrinfo(host, serv, &hints, &ai);
    if (rc != 0)
        return map_gai_error(rc);

    rc = open_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol, &s);
    if (rc != ERR_OK) {
        freeaddrinfo(ai);
        return rc;
    }
    /* Nobody else may bind this port while we hold it. */
    rc = set_int_option(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
    if (rc == ERR_OK && ai->ai_family == AF_INET6)
        rc = set_int_option(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (rc == ERR_OK &&
        bind(s, ai->ai_addr, (int)ai->ai_addrlen) == SOCKET_ERROR)
        rc = last_error();
    freeaddrinfo(ai);
    if (rc == ERR_OK && listen(s, backlog > 0 ? backlog : SOMAXCONN) ==
                            SOCKET_ERROR)
        rc = last_error();
    if (rc == ERR_OK)
        rc = set_nonblocking(s);
    if (rc != ERR_OK) {
        closesocket(s);
        return rc;
    }
    *out = TO_NET(s);
    return ERR_OK;
}

int net_local_name(net_socket s, char *buf, size_t buflen)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);

    if (getsockname(TO_SOCKET(s), (struct sockaddr *)&ss, &len) ==
        SOCKET_ERROR)
        return last_error();
    return format_addr((struct sockaddr *)&ss, len, buf, buflen);
}

int net_connect(const char *host, int port, net_socket *out)
{
    struct addrinfo hints, *ai = NULL;
    char serv[8];
    SOCKET s = INVALID_SOCKET;
    int rc, family;

    *out = NET_INVALID;
    if (host == NULL || port < 0 || port > 65535)
        return ERR_EINVAL;
    family = numeric_family(host);
    if (family == AF_UNSPEC)
        return ERR_EINVAL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(serv, sizeof(serv), "%d", port);
    rc = getaddrinfo(host, serv, &hints, &ai);
    if (rc != 0)
        return map_gai_error(rc);
    rc = open_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol, &s);
    if (rc == ERR_OK)
        rc = set_nonblocking(s);
    if (rc == ERR_OK) {
        set_int_option(s, IPPROTO_TCP, TCP_NODELAY, 1);
        if (connect(s, ai->ai_addr, (int)ai->ai_addrlen) == SOCKET_ERROR) {
            int wsa = WSAGetLastError();
            rc = wsa == WSAEWOULDBLOCK ? ERR_EAGAIN : err_from_os(wsa);
        }
    }
    freeaddrinfo(ai);
    if (rc != ERR_OK && rc != ERR_EAGAIN) {
        if (s != INVALID_SOCKET)
            closesocket(s);
        return rc;
    }
    *out = TO_NET(s);
    return rc;
}

/* WSAPoll on Windows before 10 (2004) does not report a failed connect;
 * the caller also asks here from a timer, so SO_ERROR finds it. */
int net_connect_result(net_socket s)
{
    int soerr = 0, len = (int)sizeof(soerr);
    if (getsockopt(TO_SOCKET(s), SOL_SOCKET, SO_ERROR, (char *)&soerr,
                   &len) == SOCKET_ERROR)
        return last_error();
    if (soerr != 0)
        return err_from_os(soerr);
    /* No error yet: connected only when the peer's address is known. */
    struct sockaddr_storage ss;
    int sslen = (int)sizeof(ss);
    if (getpeername(TO_SOCKET(s), (struct sockaddr *)&ss, &sslen) == 0)
        return ERR_OK;
    return WSAGetLastError() == WSAENOTCONN ? ERR_EAGAIN : last_error();
}

int net_resolve(const char *name, char *out, size_t outlen)
{
    struct addrinfo hints, *res = NULL, *pick;
    char text[INET6_ADDRSTRLEN];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc == WSAHOST_NOT_FOUND || rc == WSANO_DATA || rc == WSATRY_AGAIN ||
        rc == WSANO_RECOVERY)
        return ERR_ENOTFOUND;
    if (rc != 0)
        return map_gai_error(rc);
    pick = res;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next)
        if (a->ai_family == AF_INET) { /* IPv4 first: loopback servers */
            pick = a;
            break;
        }
    rc = getnameinfo(pick->ai_addr, (socklen_t)pick->ai_addrlen, text,
                     sizeof(text), NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0)
        return map_gai_error(rc);
    if ((size_t)snprintf(out, outlen, "%s", text) >= outlen)
        return ERR_EINVAL;
    return ERR_OK;
}

int net_accept(net_socket listener, net_socket *out, char *peer,
               size_t peerlen)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);
    SOCKET s;
    int rc;

    *out = NET_INVALID;
    s = accept(TO_SOCKET(listener), (struct sockaddr *)&ss, &len);
    if (s == INVALID_SOCKET)
        return last_error();
    /* accept has no flag for it: made so after, as on old Windows. */
    rc = set_no_inherit(s);
    /* Windows accepted sockets inherit the listener's mode, Linux ones do
     * not: set it whatever the platform did. */
    if (rc == ERR_OK)
        rc = set_nonblocking(s);
    if (rc == ERR_OK)
        rc = set_int_option(s, IPPROTO_TCP, TCP_NODELAY, 1);
    if (rc != ERR_OK) {
        closesocket(s);
        return rc;
    }
    if (peer != NULL && peerlen > 0 &&
        format_addr((struct sockaddr *)&ss, len, peer, peerlen) != ERR_OK)
        snprintf(peer, peerlen, "?");
    *out = TO_NET(s);
    return ERR_OK;
}

long net_recv(net_socket s, void *buf, size_t len)
{
    int n = recv(TO_SOCKET(s), (char *)buf,
                 len > INT_MAX ? INT_MAX : (int)len, 0);
    if (n == SOCKET_ERROR)
        return last_error();
    return n;
}

long net_send(net_socket s, const void *buf, size_t len)
{
    /* No MSG_NOSIGNAL: Winsock never raises a signal on a broken pipe. */
    int n = send(TO_SOCKET(s), (const char *)buf,
                 len > INT_MAX ? INT_MAX : (int)len, 0);
    if (n == SOCKET_ERROR)
        return last_error();
    return n;
}

int net_shutdown_send(net_socket s)
{
    if (shutdown(TO_SOCKET(s), SD_SEND) == SOCKET_ERROR)
        return last_error();
    return ERR_OK;
}

int net_close(net_socket s)
{
    if (s == NET_INVALID)
        return ERR_EINVAL;
    if (closesocket(TO_SOCKET(s)) == SOCKET_ERROR)
        return last_error();
    return ERR_OK;
}

int net_abort(net_socket s)
{
    struct linger lg;

    if (s == NET_INVALID)
        return ERR_EINVAL;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    /* Even if the option fails, the socket must still be closed. */
    setsockopt(TO_SOCKET(s), SOL_SOCKET, SO_LINGER, (const char *)&lg,
               (int)sizeof(lg));
    return net_close(s);
}

/* Winsock has no socketpair and WSAPoll takes only sockets: build the
 * wake-up pair from a loopback connection. The listener lives only until
 * the accept, and the accepted peer must be our own client (another local
 * process could connect to the port in between). */
int net_wakeup_pair(net_socket *r, net_socket *w)
{
    struct sockaddr_in addr, client_addr, peer_addr;
    int len;
    SOCKET listener = INVALID_SOCKET, client = INVALID_SOCKET;
    SOCKET server = INVALID_SOCKET;
    int rc = ERR_OK;

    *r = *w = NET_INVALID;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;

    rc = open_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP, &listener);
    if (rc != ERR_OK)
        return rc;
    rc = set_int_option(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
    if (rc == ERR_OK &&
        bind(listener, (struct sockaddr *)&addr, (int)sizeof(addr)) ==
            SOCKET_ERROR)
        rc = last_error();
    len = (int)sizeof(addr);
    if (rc == ERR_OK &&
        getsockname(listener, (struct sockaddr *)&addr, &len) == SOCKET_ERROR)
        rc = last_error();
    if (rc == ERR_OK && listen(listener, 1) == SOCKET_ERROR)
        rc = last_error();
    if (rc != ERR_OK)
        goto fail;

    rc = open_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP, &client);
    if (rc != ERR_OK)
        goto fail;
    if (connect(client, (struct sockaddr *)&addr, (int)sizeof(addr)) ==
        SOCKET_ERROR) {
        rc = last_error();
        goto fail;
    }
    len = (int)sizeof(client_addr);
    if (getsockname(client, (struct sockaddr *)&client_addr, &len) ==
        SOCKET_ERROR) {
        rc = last_error();
        goto fail;
    }

    for (;;) {
        len = (int)sizeof(peer_addr);
        server = accept(listener, (struct sockaddr *)&peer_addr, &len);
        if (server == INVALID_SOCKET) {
            rc = last_error();
            goto fail;
        }
        if (peer_addr.sin_port == client_addr.sin_port &&
            peer_addr.sin_addr.s_addr == client_addr.sin_addr.s_addr)
            break;
        closesocket(server); /* a stranger: not our pair */
        server = INVALID_SOCKET;
    }
    closesocket(listener);
    listener = INVALID_SOCKET;

    rc = set_no_inherit(server);
    if (rc == ERR_OK)
        rc = set_nonblocking(server);
    if (rc == ERR_OK)
        rc = set_nonblocking(client);
    /* One byte per wake-up: do not let Nagle hold it back. */
    if (rc == ERR_OK)
        rc = set_int_option(client, IPPROTO_TCP, TCP_NODELAY, 1);
    if (rc != ERR_OK)
        goto fail;
    *r = TO_NET(server);
    *w = TO_NET(client);
    return ERR_OK;

fail:
    if (server != INVALID_SOCKET)
        closesocket(server);
    if (client != INVALID_SOCKET)
        closesocket(client);
    if (listener != INVALID_SOCKET)
        closesocket(listener);
    return rc;
}
