/* thread.h -- the few thread calls the workers need (pthreads or Win32). */
#ifndef RICOCHET_THREAD_H
#define RICOCHET_THREAD_H

typedef struct thread thread;
typedef void (*thread_fn)(void *arg);

/* Start fn(arg) on a new thread, its handle in *out. Returns 0, or an
 * err.h code when the OS refuses (*out is then NULL). */
int thread_start(thread **out, thread_fn fn, void *arg);
/* Wait for the thread to end and free it. Everything the thread wrote is
 * visible to the caller afterwards. */
void thread_join(thread *t);

/* Put value in *slot and return what was there, atomically, with a full
 * barrier: what one thread wrote before putting a pointer in a slot is
 * visible to the thread that takes it out (release and acquire). A slot
 * shared by two threads is touched only through this. */
void *thread_exchange_ptr(void **slot, void *value);

#endif
