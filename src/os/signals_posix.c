/* signals_posix.c -- SIGINT/SIGTERM (stop), SIGHUP (reload) and SIGUSR1
 * (the metrics) as loop wake-ups.
 *
 * The handlers only count and write one byte to the wake-up socket; all
 * real work happens in the loop. The counters only ever grow: the loop
 * remembers what it has already taken, so taking never races a handler
 * (a read-then-clear could lose a signal arriving in between). */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_count, reload_count, dump_count;
static int taken_stops, taken_reloads, taken_dumps;
static volatile sig_atomic_t wake_fd = -1;

static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
#define HANDLED_COUNT (sizeof handled / sizeof handled[0])
static struct sigaction saved[HANDLED_COUNT];
static int installed;

static void on_signal(int sig)
{
    int saved_errno = errno;
    if (sig == SIGHUP)
        reload_count++;
    else if (sig == SIGUSR1)
        dump_count++;
    else
        stop_count++;
    if (wake_fd >= 0) {
        /* A full socket already holds a wake-up: ignoring EAGAIN loses
         * nothing. */
        ssize_t ignored = write(wake_fd, "s", 1);
        (void)ignored;
    }
    errno = saved_errno;
}

int signals_install(net_socket wake)
{
    struct sigaction sa;

    if (installed)
        signals_restore();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* Block the other handled signals while one runs, so the counters'
     * increments never interleave. */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < HANDLED_COUNT; i++)
        sigaddset(&sa.sa_mask, handled[i]);
    wake_fd = wake == NET_INVALID ? -1 : (int)wake;

    for (size_t i = 0; i < HANDLED_COUNT; i++) {
        if (sigaction(handled[i], &sa, &saved[i]) < 0) {
            int err = err_from_os(errno);
            while (i-- > 0)
                sigaction(handled[i], &saved[i], NULL);
            wake_fd = -1;
            return err;
        }
    }
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    installed = 1;
    return 0;
}

/* Puts back the handlers found at install time (the defaults, unless the
 * embedding program had its own). */
void signals_restore(void)
{
    if (!installed)
        return;
    for (size_t i = 0; i < HANDLED_COUNT; i++)
        sigaction(handled[i], &saved[i], NULL);
    wake_fd = -1;
    installed = 0;
}

void signals_take(int *stops, int *reloads)
{
    int stop_now = stop_count, reload_now = reload_count;
    *stops = stop_now - taken_stops;
    *reloads = reload_now - taken_reloads;
    taken_stops = stop_now;
    taken_reloads = reload_now;
}

int signals_take_dumps(void)
{
    int now = dump_count;
    int dumps = now - taken_dumps;
    taken_dumps = now;
    return dumps;
}
