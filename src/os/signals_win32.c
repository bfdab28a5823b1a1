/* signals_win32.c -- signals.h on console control events.
 *
 * Ctrl-C, Ctrl-Break, closing the console window and system shutdown ask
 * for the same graceful stop as SIGINT/SIGTERM on POSIX. Windows runs the
 * handler on a thread of its own, so it touches nothing of the loop: it
 * counts the request with an interlocked increment and writes one byte to
 * the wake-up socket; the loop thread picks the count up in signals_take().
 *
 * Reload: Windows has no SIGHUP. The reload trigger on Windows is --watch
 * (watch_stat.c, driven by the controller in src/app/controller.c); this
 * file never reports a reload. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "net.h"
#include "signals.h"

static volatile LONG stop_requests;
static net_socket wake_socket = NET_INVALID;
static int installed;

static BOOL WINAPI console_handler(DWORD type)
{
    const char byte = 's';

    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        InterlockedIncrement(&stop_requests);
        /* A full wake-up buffer already holds a wake-up: ignore errors. */
        if (wake_socket != NET_INVALID)
            (void)net_send(wake_socket, &byte, 1);
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
    wake_socket = wake;
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
    wake_socket = NET_INVALID;
}

void signals_take(int *stops, int *reloads)
{
    *stops = (int)InterlockedExchange(&stop_requests, 0);
    *reloads = 0;
}
