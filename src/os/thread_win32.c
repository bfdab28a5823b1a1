/* thread_win32.c -- thread.h on Win32 threads. */
#include "thread.h"

#define WIN32_LEAN_AND_MEAN
#include <process.h>
#include <stdlib.h>
#include <windows.h>

struct thread {
    HANDLE handle;
    thread_fn fn;
    void *arg;
};

static unsigned __stdcall trampoline(void *p)
{
    thread *t = p;
    t->fn(t->arg);
    return 0;
}

thread *thread_start(thread_fn fn, void *arg)
{
    thread *t = malloc(sizeof *t);
    if (t == NULL)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    /* _beginthreadex, not CreateThread: the C runtime is set up for it */
    t->handle = (HANDLE)_beginthreadex(NULL, 0, trampoline, t, 0, NULL);
    if (t->handle == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void thread_join(thread *t)
{
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    free(t);
}
