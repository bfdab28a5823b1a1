/* err.h -- ricochet's one error space.
 *
 * Every function that can fail returns 0 (or a count) on success and one
 * of these negative codes on failure, whatever the layer: a socket call, a
 * connection refusing a send, a frame over its limit. OS error numbers
 * (errno, WSAGetLastError()) are translated into them once, by
 * err_from_os, inside src/os; nothing above src/os looks at an OS error
 * number. As libuv does with UV_E*, one enum and one err_strerror. */
#ifndef RICOCHET_ERR_H
#define RICOCHET_ERR_H

enum {
    ERR_OK = 0,
    ERR_EAGAIN = -1,        /* would block: try again when the poller says */
    ERR_EINTR = -2,         /* interrupted by a signal: just retry */
    ERR_ERESET = -3,        /* the peer reset the connection (or broken pipe) */
    ERR_EADDRINUSE = -4,
    ERR_EADDRNOTAVAIL = -5,
    ERR_EACCES = -6,
    ERR_EMFILE = -7,        /* out of descriptors (process or system) */
    ERR_ENOMEM = -8,
    ERR_EINVAL = -9,
    ERR_ENOTCONN = -10,
    ERR_ETIMEDOUT = -11,
    ERR_EAFNOSUPPORT = -12,
    ERR_EOTHER = -13,       /* an OS error with no code of its own */
    ERR_ENOTWRITABLE = -14, /* the connection's sending side is shut */
    ERR_ETOOBIG = -15,      /* a frame longer than its mode's max */
    ERR_EBADFRAME = -16,    /* a frame that cannot be (negative length) */
    ERR_ECONNREFUSED = -17, /* nobody listens there */
    ERR_EUNREACH = -18,     /* no route to the host or its network */
    ERR_ENOTFOUND = -19     /* a host name that does not resolve */
};

/* A message for a code above. Static text, except for ERR_EOTHER: the
 * OS's own text of the calling thread's last such error, in a buffer of
 * that thread's, valid until its next call. */
const char *err_strerror(int err);

/* For src/os only: translate an OS error number (errno on POSIX, a
 * Winsock or Win32 code on Windows) into a code above. One it has no code
 * for is kept, per thread, for err_strerror(ERR_EOTHER). */
int err_from_os(int os_error);

/* For src/os only: the OS's text of the calling thread's last untranslated
 * error (implemented once per platform). */
const char *err_os_text(void);

#endif
