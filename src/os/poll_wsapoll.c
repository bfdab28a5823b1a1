/* poll_wsapoll.c -- poller.h on WSAPoll (Windows Vista and later).
 *
 * A growable WSAPOLLFD array with a parallel array of handle pointers;
 * handle->slot is the index of its entry, and removal swaps the last entry
 * into the hole. WSAPoll knows only sockets (the loop is woken through a
 * loopback socket pair, see net_wakeup_pair) and has its own traps:
 * - it fails with WSAEINVAL when asked for POLLPRI (so POLLIN, which
 *   includes POLLRDBAND, is avoided too): only POLLRDNORM and POLLWRNORM;
 * - its return count is not a reliable bound on the entries with revents
 *   (Wine, for one, skips invalid entries in it): every entry is scanned;
 * - it fails when given no sockets at all, so an empty set sleeps. */
#define WIN32_LEAN_AND_MEAN
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif

#include <winsock2.h>
#include <windows.h>

#include <stdlib.h>

#include "net.h"
#include "poller.h"

struct poller {
    WSAPOLLFD *fds;
    poller_handle **handles; /* handles[i] owns fds[i] */
    size_t len, cap;
    size_t next_start; /* where the next scan begins, for fairness */
};

static SHORT to_wsa_events(int events)
{
    SHORT mask = 0;
    if (events & POLLER_READ)
        mask |= POLLRDNORM;
    if (events & POLLER_WRITE)
        mask |= POLLWRNORM;
    return mask;
}

poller *poller_create(void)
{
    poller *p = calloc(1, sizeof(*p));
    return p;
}

void poller_free(poller *p)
{
    if (p == NULL)
        return;
    free(p->fds);
    free(p->handles);
    free(p);
}

static int grow(poller *p)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    WSAPOLLFD *fds;
    poller_handle **handles;

    fds = realloc(p->fds, cap * sizeof(*fds));
    if (fds == NULL)
        return ERR_ENOMEM;
    p->fds = fds;
    handles = realloc(p->handles, cap * sizeof(*handles));
    if (handles == NULL)
        return ERR_ENOMEM;
    p->handles = handles;
    p->cap = cap;
    return ERR_OK;
}

static void remove_slot(poller *p, poller_handle *h)
{
    size_t slot = (size_t)h->slot, last = p->len - 1;

    if (slot != last) {
        p->fds[slot] = p->fds[last];
        p->handles[slot] = p->handles[last];
        p->handles[slot]->slot = (int)slot;
    }
    p->len--;
    h->slot = -1;
    h->events = 0;
}

void poller_forget(poller *p, poller_handle *h)
{
    poller_set(p, h, 0); /* only our own array to update */
}

int poller_set(poller *p, poller_handle *h, int events)
{
    events &= POLLER_READ | POLLER_WRITE;
    if (events == h->events)
        return ERR_OK;
    if (events == 0) {
        remove_slot(p, h);
        return ERR_OK;
    }
    if (h->events == 0) {
        if (p->len > (size_t)0x7fffffff)
            return ERR_ENOMEM; /* h->slot is an int */
        if (p->len == p->cap) {
            int rc = grow(p);
            if (rc != ERR_OK)
                return rc;
        }
        p->fds[p->len].fd = (SOCKET)h->sock;
        p->fds[p->len].revents = 0;
        p->handles[p->len] = h;
        h->slot = (int)p->len;
        p->len++;
    }
    p->fds[h->slot].events = to_wsa_events(events);
    h->events = events;
    return ERR_OK;
}

int poller_wait(poller *p, poller_event *out, int max, int timeout_ms)
{
    size_t i, k, start;
    int rc, n = 0;

    if (p->len == 0) {
        /* WSAPoll rejects an empty set, but the timeout still holds. */
        Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
        return 0;
    }
    rc = WSAPoll(p->fds, (ULONG)p->len, timeout_ms < 0 ? -1 : timeout_ms);
    if (rc == SOCKET_ERROR) {
        rc = err_from_os(WSAGetLastError());
        return rc == ERR_EINTR ? 0 : rc;
    }
    /* The count is only a hint: look at every entry. Start where the last
     * full batch stopped, so the low slots cannot starve the others. */
    start = p->next_start < p->len ? p->next_start : 0;
    for (k = 0; k < p->len && n < max; k++) {
        SHORT rev;
        int events = 0;

        i = (start + k) % p->len;
        rev = p->fds[i].revents;
        if (rev == 0)
            continue;
        p->fds[i].revents = 0;
        if (rev & (POLLRDNORM | POLLRDBAND))
            events |= POLLER_READ;
        if (rev & POLLWRNORM)
            events |= POLLER_WRITE;
        if (rev & (POLLERR | POLLHUP | POLLNVAL))
            events |= POLLER_READ | POLLER_WRITE;
        out[n].handle = p->handles[i];
        out[n].events = events;
        n++;
    }
    p->next_start = n == max ? (start + k) % p->len : 0;
    /* What was not reported is still pending: WSAPoll is level-triggered
     * and will report it again. Clear the rest so no stale revents stays. */
    for (; k < p->len; k++)
        p->fds[(start + k) % p->len].revents = 0;
    return n;
}

const char *poller_name(void)
{
    return "wsapoll";
}
