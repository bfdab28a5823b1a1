/* err_posix.c -- errno into the one error space (err.h). */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The errno of the calling thread's last error that had no code of its
 * own, and the text err_os_text made of it: per thread, as workers are
 * threads and strerror's buffer is shared. */
static _Thread_local int last_other_errno;
static _Thread_local char other_text[128];

int err_from_os(int os_error)
{
    switch (os_error) {
    case 0:
        return ERR_OK;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return ERR_EAGAIN;
    case EINTR:
        return ERR_EINTR;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
        return ERR_ERESET;
    case EADDRINUSE:
        return ERR_EADDRINUSE;
    case EADDRNOTAVAIL:
        return ERR_EADDRNOTAVAIL;
    case EACCES:
    case EPERM:
        return ERR_EACCES;
    case EMFILE:
    case ENFILE:
        return ERR_EMFILE;
    case ENOMEM:
    case ENOBUFS:
        return ERR_ENOMEM;
    case EINVAL:
        return ERR_EINVAL;
    case ENOTCONN:
        return ERR_ENOTCONN;
    case ETIMEDOUT:
        return ERR_ETIMEDOUT;
    case EAFNOSUPPORT:
        return ERR_EAFNOSUPPORT;
    case ECONNREFUSED:
        return ERR_ECONNREFUSED;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
        return ERR_EUNREACH;
    default:
        last_other_errno = os_error;
        return ERR_EOTHER;
    }
}

const char *err_os_text(void)
{
    if (last_other_errno == 0)
        return "unknown error";
    /* The XSI strerror_r (this build never asks for _GNU_SOURCE's). */
    if (strerror_r(last_other_errno, other_text, sizeof other_text) != 0)
        snprintf(other_text, sizeof other_text, "error %d",
                 last_other_errno);
    return other_text;
}
