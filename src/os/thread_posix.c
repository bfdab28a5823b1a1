/* thread_posix.c -- thread.h on pthreads. */
#include "thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "err.h"

struct thread {
    pthread_t id;
    thread_fn fn;
    void *arg;
};

static void *thread_entry(void *p)
{
    thread *t = p;
    t->fn(t->arg);
    return NULL;
}

int thread_start(thread **out, thread_fn fn, void *arg)
{
    *out = NULL;
    thread *t = malloc(sizeof *t);
    if (t == NULL)
        return ERR_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    int rc = pthread_create(&t->id, NULL, thread_entry, t);
    if (rc != 0) {
        free(t);
        /* EAGAIN here is no "try again": memory or threads ran out */
        return rc == EAGAIN ? ERR_ENOMEM : err_from_os(rc);
    }
    *out = t;
    return 0;
}

void thread_join(thread *t)
{
    pthread_join(t->id, NULL);
    free(t);
}

void *thread_exchange_ptr(void **slot, void *value)
{
    return __atomic_exchange_n(slot, value, __ATOMIC_ACQ_REL);
}
