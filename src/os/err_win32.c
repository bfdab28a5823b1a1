/* err_win32.c -- Winsock and Win32 error codes into the one error space
 * (err.h). */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <windows.h>

#include <stdio.h>

#include "err.h"

/* The code of the calling thread's last error that had no code of its
 * own, and the text err_os_text made of it: per thread, as on POSIX. */
static _Thread_local DWORD last_other_error;
static _Thread_local char other_text[256];

int err_from_os(int os_error)
{
    switch (os_error) {
    case 0:
        return ERR_OK;
    case WSAEWOULDBLOCK:
    case WSAEINPROGRESS:
    case WSAEALREADY:
        return ERR_EAGAIN;
    case WSAEINTR:
        return ERR_EINTR;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENETRESET:
    case WSAESHUTDOWN: /* send after our own shutdown: POSIX says EPIPE */
        return ERR_ERESET;
    case WSAEADDRINUSE:
        return ERR_EADDRINUSE;
    case WSAEADDRNOTAVAIL:
        return ERR_EADDRNOTAVAIL;
    case WSAEACCES:
    case ERROR_ACCESS_DENIED:
        return ERR_EACCES;
    case WSAEMFILE:
    case ERROR_TOO_MANY_OPEN_FILES:
        return ERR_EMFILE;
    case WSAENOBUFS:
    case WSA_NOT_ENOUGH_MEMORY: /* ERROR_NOT_ENOUGH_MEMORY */
    case ERROR_OUTOFMEMORY:
        return ERR_ENOMEM;
    case WSAEINVAL:
    case WSAEFAULT:
    case WSAENOTSOCK:
    case WSAEBADF:
    case ERROR_INVALID_PARAMETER:
        return ERR_EINVAL;
    case WSAENOTCONN:
        return ERR_ENOTCONN;
    case WSAETIMEDOUT:
        return ERR_ETIMEDOUT;
    case WSAEAFNOSUPPORT:
    case WSAEPFNOSUPPORT:
    case WSAEPROTONOSUPPORT:
        return ERR_EAFNOSUPPORT;
    case WSAECONNREFUSED:
        return ERR_ECONNREFUSED;
    case WSAEHOSTUNREACH:
    case WSAENETUNREACH:
    case WSAEHOSTDOWN:
    case WSAENETDOWN:
        return ERR_EUNREACH;
    case WSAHOST_NOT_FOUND:
    case WSANO_DATA:
        return ERR_ENOTFOUND;
    default:
        last_other_error = (DWORD)os_error;
        return ERR_EOTHER;
    }
}

const char *err_os_text(void)
{
    if (last_other_error == 0)
        return "unknown error";
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, last_other_error,
                             MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
                             other_text, (DWORD)sizeof other_text, NULL);
    while (n > 0 && (other_text[n - 1] == '\r' || other_text[n - 1] == '\n' ||
                     other_text[n - 1] == ' ' || other_text[n - 1] == '.'))
        other_text[--n] = '\0';
    if (n == 0)
        snprintf(other_text, sizeof other_text, "Windows error %lu",
                 (unsigned long)last_other_error);
    return other_text;
}
