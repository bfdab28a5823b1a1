/* signals_win32.c -- signals.h on console control events.
 *
 * Ctrl-C, Ctrl-Break, closing the console window and system shutdown ask
 * for the same graceful stop as SIGINT/SIGTERM on POSIX. Windows runs the
 * handler on a thread of its own, so it touches nothing of the loop: it
 * counts the request with an interlocked increment and writes one byte to
 * the wake-up socket; the loop thread picks the count up in signals_take().
 * The send and the teardown exclude each other (a lock): once
 * signals_restore has returned, no handler is sending or will send, so the
 * caller may close the wake-up socket.
 *
 * Reload: Windows has no SIGHUP. The reload trigger on Windows is --watch
 * (watch_stat.c, driven by the controller in src/app/controller.c); this
 * file never reports a reload. */
#define WIN32_LEAN_AND_MEAN
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: slim reader/writer locks */
#endif
#include <windows.h>

#include "net.h"
#include "signals.h"

static volatile LONG stop_requests;
/* Held by a handler around its send and by whoever changes wake_socket. */
static SRWLOCK wake_lock = SRWLOCK_INIT;
static net_socket wake_socket = NET_INVALID; /* under wake_lock */
static int installed;

/* The byte that wakes the loop, unless the teardown has begun. */
static void wake_loop(void)
{
    const char byte = 's';

    AcquireSRWLockExclusive(&wake_lock);
    /* A full wake-up buffer already holds a wake-up: ignore errors. */
    if (wake_socket != NET_INVALID)
        (void)net_send(wake_socket, &byte, 1);
    ReleaseSRWLockExclusive(&wake_lock);
}

static BOOL WINAPI console_handler(DWORD type)
{
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        InterlockedIncrement(&stop_requests);
        wake_loop(); /* never holds the lock into the sleep below */
        if (type == CTRL_CLOSE_EVENT || type == CTRL_SHUTDOWN_EVENT) {
            /* Windows ends the process as soon as this returns; block so
             * the loop can finish its graceful stop (the process exits
             * from main, or Windows gives up after its own timeout). */
            Sleep(INFINITE);
        }
        return TRUE;
    default:
        return FALSE;
    }
}

int signals_install(net_socket wake)
{
    AcquireSRWLockExclusive(&wake_lock);
    wake_socket = wake;
    ReleaseSRWLockExclusive(&wake_lock);
    if (!installed) {
        if (!SetConsoleCtrlHandler(console_handler, TRUE))
            return ERR_EOTHER;
        installed = 1;
    }
    return ERR_OK;
}

void signals_restore(void)
{
    if (installed) {
        SetConsoleCtrlHandler(console_handler, FALSE);
        installed = 0;
    }
    /* A handler already running may still be on its way to the send:
     * waiting for the lock waits for it. */
    AcquireSRWLockExclusive(&wake_lock);
    wake_socket = NET_INVALID;
    ReleaseSRWLockExclusive(&wake_lock);
}

void signals_take(int *stops, int *reloads)
{
    *stops = (int)InterlockedExchange(&stop_requests, 0);
    *reloads = 0;
}

/* Windows has no SIGUSR1: the admin API serves the metrics there. */
int signals_take_dumps(void)
{
    return 0;
}
