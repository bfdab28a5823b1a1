/* notify_win32.c -- notify.h where no service manager listens for
 * datagrams (Windows services speak to the SCM in another way): there
 * is never a socket, and nothing is sent. */
#include "notify.h"

#include <stdio.h>

#include "err.h"

int notify_open(notify **out, char *addr, size_t cap)
{
    *out = NULL;
    if (cap > 0)
        addr[0] = '\0';
    return 0;
}

int notify_send(notify *n, const char *text, size_t len)
{
    (void)n;
    (void)text;
    (void)len;
    return ERR_EINVAL;
}

void notify_close(notify *n)
{
    (void)n;
}
