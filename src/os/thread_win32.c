/* thread_win32.c -- thread.h on Win32 threads. */
#include "thread.h"

#define WIN32_LEAN_AND_MEAN
#include <process.h>
#include <stdlib.h>
#include <windows.h>

#include "err.h"

struct thread {
    HANDLE handle;
    thread_fn fn;
    void *arg;
};

static unsigned __stdcall thread_entry(void *p)
{
    thread *t = p;
    t->fn(t->arg);
    return 0;
}

int thread_start(thread **out, thread_fn fn, void *arg)
{
    *out = NULL;
    thread *t = malloc(sizeof *t);
    if (t == NULL)
        return ERR_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    /* _beginthreadex, not CreateThread: the C runtime is set up for it */
    t->handle = (HANDLE)_beginthreadex(NULL, 0, thread_entry, t, 0, NULL);
    if (t->handle == NULL) {
        int rc = err_from_os((int)GetLastError());
        free(t);
        return rc != ERR_OK ? rc : ERR_ENOMEM;
    }
    *out = t;
    return 0;
}

void thread_join(thread *t)
{
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    free(t);
}

void *thread_exchange_ptr(void **slot, void *value)
{
    return InterlockedExchangePointer(slot, value);
}
