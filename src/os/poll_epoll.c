/* poll_epoll.c -- the Linux poller backend: level-triggered epoll.
 *
 * The kernel keeps the interest set; each registration carries its
 * handle pointer, so an event leads straight back to its owner. */
#include "poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events fetched per wait; poller_wait never returns more anyway. */
#define EPOLL_BATCH 256

struct poller {
    int epfd;
    struct epoll_event events[EPOLL_BATCH];
};

poller *poller_create(void)
{
    poller *p = malloc(sizeof *p);
    if (p == NULL)
        return NULL;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void poller_free(poller *p)
{
    if (p == NULL)
        return;
    close(p->epfd);
    free(p);
}

void poller_forget(poller *p, poller_handle *h)
{
    (void)p;
    h->events = 0; /* the close removes it: we never dup a socket */
}

int poller_set(poller *p, poller_handle *h, int events)
{
    struct epoll_event ev = {0};
    int fd = (int)h->sock;
    int op;

    events &= POLLER_READ | POLLER_WRITE;
    if (events == h->events)
        return 0;
    if (events == 0) {
        /* ENOENT/EBADF: already gone with its descriptor; nothing left
         * to remove. */
        if (epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev) < 0 &&
            errno != ENOENT && errno != EBADF)
            return err_from_os(errno);
        h->events = 0;
        return 0;
    }

    /* EPOLLRDHUP is reported along with EPOLLIN when the peer finishes
     * sending; it adds nothing in level-triggered mode, so it is not
     * asked for and half-close looks the same as with poll(). */
    if (events & POLLER_READ)
        ev.events |= EPOLLIN;
    if (events & POLLER_WRITE)
        ev.events |= EPOLLOUT;
    ev.data.ptr = h;
    op = h->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(p->epfd, op, fd, &ev) < 0) {
        /* Our record and the kernel's disagree (a descriptor number reused
         * after a close, say): trust the kernel and retry the other way. */
        if (op == EPOLL_CTL_ADD && errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else if (op == EPOLL_CTL_MOD && errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else
            return err_from_os(errno);
        if (epoll_ctl(p->epfd, op, fd, &ev) < 0)
            return err_from_os(errno);
    }
    h->events = events;
    return 0;
}

int poller_wait(poller *p, poller_event *out, int max, int timeout_ms)
{
    if (max > EPOLL_BATCH)
        max = EPOLL_BATCH;
    if (max <= 0)
        return ERR_EINVAL;
    int n = epoll_wait(p->epfd, p->events, max, timeout_ms < 0 ? -1
                                                               : timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : err_from_os(errno);
    for (int i = 0; i < n; i++) {
        uint32_t got = p->events[i].events;
        int events = 0;
        if (got & (EPOLLERR | EPOLLHUP))
            events = POLLER_READ | POLLER_WRITE;
        if (got & (EPOLLIN | EPOLLRDHUP))
            events |= POLLER_READ;
        if (got & EPOLLOUT)
            events |= POLLER_WRITE;
        out[i].handle = p->events[i].data.ptr;
        out[i].events = events;
    }
    return n;
}

const char *poller_name(void) { return "epoll"; }
