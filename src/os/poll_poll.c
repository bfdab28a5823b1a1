/* poll_poll.c -- the portable poller backend: poll(2).
 *
 * A dense pollfd array and a parallel array of handle pointers; a handle's
 * slot is its index in both. Removal moves the last entry into the hole,
 * so the arrays stay dense and nothing is ever indexed by socket value.
 * One poll() costs a pass over every descriptor, so its results are handed
 * out to the end, over as many calls as it takes, before the next one. */
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
    /* fds[scan_pos, len) may hold results of the last poll() not handed
     * out yet, ready_left of them; fds[0, scan_pos) holds none. */
    int scan_pos;
    int ready_left;
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

static void move_entry(poller *p, int from, int to)
{
    p->fds[to] = p->fds[from];
    p->handles[to] = p->handles[from];
    p->handles[to]->slot = to;
}

/* Fill the hole with the last entry. While results are pending, a hole
 * among the entries already scanned is filled with the last scanned one,
 * and that one's place with the last entry, so no pending result moves
 * where the scan has already been. */
static void remove_slot(poller *p, int slot)
{
    int last = p->len - 1;
    if (slot >= p->scan_pos && p->fds[slot].revents != 0)
        p->ready_left--; /* a pending result that goes with it */
    if (slot < p->scan_pos && p->scan_pos <= last) {
        int scanned = p->scan_pos - 1;
        if (slot != scanned)
            move_entry(p, scanned, slot);
        slot = scanned;
        p->scan_pos--;
    }
    if (slot != last)
        move_entry(p, last, slot);
    p->len--;
    if (p->scan_pos > p->len)
        p->scan_pos = p->len;
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

/* Hand out up to max of the pending results, from scan_pos on. */
static int hand_out(poller *p, poller_event *out, int max)
{
    int n = 0;
    while (p->ready_left > 0 && p->scan_pos < p->len && n < max) {
        int i = p->scan_pos++;
        short got = p->fds[i].revents;
        if (got == 0)
            continue;
        p->fds[i].revents = 0;
        p->ready_left--;
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
    if (p->ready_left == 0)
        p->scan_pos = p->len; /* nothing further on: skip the rest */
    return n;
}

int poller_wait(poller *p, poller_event *out, int max, int timeout_ms)
{
    if (max <= 0)
        return ERR_EINVAL;
    /* What the last poll() found and did not fit in its call goes first:
     * polling every descriptor again to find it again costs a full scan
     * per batch, and every result is handed out before the next poll(),
     * so no descriptor waits behind the low slots. */
    int n = hand_out(p, out, max);
    if (n > 0)
        return n;
    int ready = poll(p->fds, (nfds_t)p->len, timeout_ms < 0 ? -1
                                                             : timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : err_from_os(errno);
    p->scan_pos = 0;
    p->ready_left = ready;
    return hand_out(p, out, max);
}

const char *poller_name(void) { return "poll"; }
