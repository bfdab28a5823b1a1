/* err.c -- the messages of the one error space. */
#include "err.h"

const char *err_strerror(int err)
{
    switch (err) {
    case ERR_OK: return "success";
    case ERR_EAGAIN: return "operation would block";
    case ERR_EINTR: return "interrupted";
    case ERR_ERESET: return "connection reset by peer";
    case ERR_EADDRINUSE: return "address already in use";
    case ERR_EADDRNOTAVAIL: return "address not available";
    case ERR_EACCES: return "permission denied";
    case ERR_EMFILE: return "too many open files or sockets";
    case ERR_ENOMEM: return "out of memory";
    case ERR_EINVAL: return "invalid argument";
    case ERR_ENOTCONN: return "socket is not connected";
    case ERR_ETIMEDOUT: return "timed out";
    case ERR_EAFNOSUPPORT: return "address family not supported";
    case ERR_EOTHER: return err_os_text();
    case ERR_ENOTWRITABLE: return "the sending side is shut";
    case ERR_ETOOBIG: return "frame longer than its max";
    case ERR_EBADFRAME: return "malformed frame";
    case ERR_ECONNREFUSED: return "connection refused";
    case ERR_EUNREACH: return "host or network unreachable";
    case ERR_ENOTFOUND: return "name not found";
    }
    return "unknown error";
}
