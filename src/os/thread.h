/* thread.h -- the few thread calls the workers need (pthreads or Win32). */
#ifndef RICOCHET_THREAD_H
#define RICOCHET_THREAD_H

typedef struct thread thread;
typedef void (*thread_fn)(void *arg);

/* Start fn(arg) on a new thread. Returns NULL when the OS refuses. */
thread *thread_start(thread_fn fn, void *arg);
/* Wait for the thread to end and free it. */
void thread_join(thread *t);

#endif
