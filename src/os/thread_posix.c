/* thread_posix.c -- thread.h on pthreads. */
#include "thread.h"

#include <pthread.h>
#include <stdlib.h>

struct thread {
    pthread_t id;
    thread_fn fn;
    void *arg;
};

static void *trampoline(void *p)
{
    thread *t = p;
    t->fn(t->arg);
    return NULL;
}

thread *thread_start(thread_fn fn, void *arg)
{
    thread *t = malloc(sizeof *t);
    if (t == NULL)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->id, NULL, trampoline, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void thread_join(thread *t)
{
    pthread_join(t->id, NULL);
    free(t);
}
