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
 * - it fails when given no valid socket at all, so such a set sleeps;
 * - it reports POLLHUP after the peer's FIN on every call, asked for or
 *   not: see should_park.
 * One WSAPoll costs a pass over every socket, so its results are handed
 * out to the end, over as many calls as it takes, before the next one. */
#define WIN32_LEAN_AND_MEAN
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif

#include <winsock2.h>
#include <windows.h>

#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "net.h"
#include "poller.h"

/* How long a hung-up socket that only waits for room to write stays out
 * of the set (see park). Parked entries come back together, at the next
 * multiple of this on the monotonic clock, so however many there are they
 * cost at most one wake-up per interval. */
#define PARK_MS 16

struct poller {
    WSAPOLLFD *fds;
    poller_handle **handles; /* handles[i] owns fds[i] */
    size_t len, cap;
    /* fds[scan_pos, len) may hold results of the last WSAPoll not handed
     * out yet; fds[0, scan_pos) holds none. */
    size_t scan_pos;
    size_t parked;      /* entries whose fd is INVALID_SOCKET for now */
    uint64_t unpark_at; /* when they come back (when parked > 0) */
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

static void move_entry(poller *p, size_t from, size_t to)
{
    p->fds[to] = p->fds[from];
    p->handles[to] = p->handles[from];
    p->handles[to]->slot = (int)to;
}

/* Fill the hole with the last entry. While results are pending, a hole
 * among the entries already scanned is filled with the last scanned one,
 * and that one's place with the last entry, so no pending result moves
 * where the scan has already been. */
static void remove_slot(poller *p, poller_handle *h)
{
    size_t slot = (size_t)h->slot, last = p->len - 1;

    if (p->fds[slot].fd == INVALID_SOCKET)
        p->parked--;
    if (slot < p->scan_pos && p->scan_pos <= last) {
        size_t scanned = p->scan_pos - 1;
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
    h->slot = -1;
    h->events = 0;
}

/* Back into the set. Wine marks a negative fd POLLNVAL where Windows
 * clears it: whatever WSAPoll wrote there meant nothing. */
static void unpark(poller *p, size_t slot)
{
    p->fds[slot].fd = (SOCKET)p->handles[slot]->sock;
    p->fds[slot].revents = 0;
    p->parked--;
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
    } else if (p->fds[h->slot].fd == INVALID_SOCKET) {
        unpark(p, (size_t)h->slot); /* a new interest is polled at once */
    }
    p->fds[h->slot].events = to_wsa_events(events);
    h->events = events;
    return ERR_OK;
}

/* After the peer's FIN, WSAPoll reports POLLHUP on every call, whatever
 * was asked. For an owner that only waits for room to write (it has read
 * the end already, or stopped reading), that would wake the loop at once
 * for as long as the peer does not read: such an entry is reported (its
 * owner's send then sees any error) and parked, out of the set, until the
 * next multiple of PARK_MS or a change of its interest. A negative fd is
 * ignored by WSAPoll. */
static int should_park(SHORT rev, const poller_handle *h)
{
    return (rev & POLLHUP) && !(rev & (POLLWRNORM | POLLERR | POLLNVAL)) &&
           h->events == POLLER_WRITE;
}

static void park(poller *p, size_t slot, uint64_t now)
{
    /* With others parked and their time still to come, unpark_at is the
     * next multiple after now already. */
    if (p->parked++ == 0 || p->unpark_at <= now)
        p->unpark_at = (now / PARK_MS + 1) * PARK_MS;
    p->fds[slot].fd = INVALID_SOCKET;
}

static void unpark_all(poller *p)
{
    for (size_t i = 0; i < p->len && p->parked > 0; i++)
        if (p->fds[i].fd == INVALID_SOCKET)
            unpark(p, i);
}

/* Hand out up to max of the pending results, from scan_pos on. */
static int hand_out(poller *p, poller_event *out, int max, uint64_t now)
{
    int n = 0;

    while (p->scan_pos < p->len && n < max) {
        size_t i = p->scan_pos++;
        SHORT rev = p->fds[i].revents;
        poller_handle *h = p->handles[i];
        int events = 0;

        p->fds[i].revents = 0;
        if (rev == 0 || p->fds[i].fd == INVALID_SOCKET)
            continue;
        if (rev & (POLLRDNORM | POLLRDBAND))
            events |= POLLER_READ;
        if (rev & POLLWRNORM)
            events |= POLLER_WRITE;
        if (rev & (POLLERR | POLLHUP | POLLNVAL))
            events |= POLLER_READ | POLLER_WRITE;
        if (should_park(rev, h))
            park(p, i, now);
        out[n].handle = h;
        out[n].events = events;
        n++;
    }
    return n;
}

int poller_wait(poller *p, poller_event *out, int max, int timeout_ms)
{
    uint64_t now = clock_monotonic_ms(), deadline;
    int n;

    if (max <= 0)
        return ERR_EINVAL;
    /* What the last WSAPoll found and did not fit in its call goes first:
     * polling every socket again to find it again costs a full scan of
     * the set per batch. */
    n = hand_out(p, out, max, now);
    if (n > 0)
        return n;
    deadline = timeout_ms < 0 ? 0 : now + (uint64_t)timeout_ms;
    for (;;) {
        int wait = timeout_ms < 0 ? -1
                 : deadline > now ? (int)(deadline - now) : 0;
        int capped = 0;

        if (p->parked > 0 && now >= p->unpark_at)
            unpark_all(p);
        if (p->parked > 0 &&
            (wait < 0 || (uint64_t)wait > p->unpark_at - now)) {
            wait = (int)(p->unpark_at - now);
            capped = 1;
        }
        if (p->len == p->parked) {
            /* WSAPoll fails on a set with no valid socket (an empty one
             * included), but the timeout still holds. */
            Sleep(wait < 0 ? INFINITE : (DWORD)wait);
        } else {
            int rc, code;

            /* Cleared first, so that a failure that sets no code is not
             * reported as whatever failed earlier on this thread. */
            WSASetLastError(0);
            rc = WSAPoll(p->fds, (ULONG)p->len, wait);
            if (rc == SOCKET_ERROR) {
                code = WSAGetLastError();
                rc = err_from_os(code != 0 ? code : WSASYSCALLFAILURE);
                return rc == ERR_EINTR ? 0 : rc;
            }
            /* The count is only a hint (Wine leaves invalid entries out
             * of it): every entry is scanned. */
            p->scan_pos = 0;
            n = hand_out(p, out, max, clock_monotonic_ms());
            if (n > 0)
                return n;
        }
        if (!capped)
            return 0;
        now = clock_monotonic_ms();
    }
}

const char *poller_name(void)
{
    return "wsapoll";
}
