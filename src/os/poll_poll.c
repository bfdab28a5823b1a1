/* poll_poll.c -- the portable poller backend: poll(2).
 *
 * A dense pollfd array and a parallel array of handle pointers; a handle's
 * slot is its index in both. Removal moves the last entry into the hole,
 * so the arrays stay dense and nothing is ever indexed by socket value. */
#include "poller.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#define POLL_MIN_CAP 64

struct poller {
    struct pollfd *fds;
    poller_handle **handles;
    int len, cap;
    int next_scan; /* where the next wait starts looking, for fairness */
};

poller *poller_create(void)
{
    poller *p = calloc(1, sizeof *p);
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

static short poll_mask(int events)
{
    short mask = 0;
    if (events & POLLER_READ)
        mask |= POLLIN;
    if (events & POLLER_WRITE)
        mask |= POLLOUT;
    return mask;
}

static int grow(poller *p)
{
    if (p->cap > INT_MAX / 2)
        return ERR_ENOMEM;
    int cap = p->cap ? p->cap * 2 : POLL_MIN_CAP;
    struct pollfd *fds = realloc(p->fds, (size_t)cap * sizeof *fds);
    if (fds == NULL)
        return ERR_ENOMEM;
    p->fds = fds;
    poller_handle **handles = realloc(p->handles,
                                      (size_t)cap * sizeof *handles);
    if (handles == NULL)
        return ERR_ENOMEM; /* fds merely stays larger than needed */
    p->handles = handles;
    p->cap = cap;
    return 0;
}

static void remove_slot(poller *p, int slot)
{
    int last = --p->len;
    if (slot != last) {
        p->fds[slot] = p->fds[last];
        p->handles[slot] = p->handles[last];
        p->handles[slot]->slot = slot;
    }
    if (p->next_scan >= p->len)
        p->next_scan = 0;
}

void poller_forget(poller *p, poller_handle *h)
{
    poller_set(p, h, 0); /* only our own array to update */
}

int poller_set(poller *p, poller_handle *h, int events)
{
    events &= POLLER_READ | POLLER_WRITE;
    if (events == h->events)
        return 0;
    if (events == 0) {
        remove_slot(p, h->slot);
        h->slot = -1;
        h->events = 0;
        return 0;
    }
    if (h->events == 0) {
        if (p->len == p->cap) {
            int err = grow(p);
            if (err < 0)
                return err;
        }
        h->slot = p->len++;
        p->fds[h->slot].fd = (int)h->sock;
        p->fds[h->slot].revents = 0;
        p->handles[h->slot] = h;
    }
    p->fds[h->slot].events = poll_mask(events);
    h->events = events;
    return 0;
}

int poller_wait(poller *p, poller_event *out, int max, int timeout_ms)
{
    if (max <= 0)
        return ERR_EINVAL;
    int ready = poll(p->fds, (nfds_t)p->len, timeout_ms < 0 ? -1
                                                             : timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : err_from_os(errno);

    /* When more are ready than fit, start the next scan after the last
     * one reported: level-triggered, the rest are reported next time, and
     * no descriptor waits behind the same low slots forever. */
    int n = 0, i = p->next_scan;
    for (int seen = 0; seen < p->len && n < ready && n < max; seen++) {
        short got = p->fds[i].revents;
        if (got != 0) {
            int events = 0;
            if (got & (POLLERR | POLLHUP | POLLNVAL))
                events = POLLER_READ | POLLER_WRITE;
            if (got & POLLIN)
                events |= POLLER_READ;
            if (got & POLLOUT)
                events |= POLLER_WRITE;
            out[n].handle = p->handles[i];
            out[n].events = events;
            n++;
        }
        if (++i == p->len)
            i = 0;
    }
    p->next_scan = n == max && p->len > 0 ? i : 0;
    return n;
}

const char *poller_name(void) { return "poll"; }
