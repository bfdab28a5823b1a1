/* interrupt_posix.c -- interrupt.h on POSIX: a watchdog thread, and
 * SIGURG sent to one thread (its default action is to be ignored, so a
 * stray one harms nothing; Go's runtime preempts with it for the same
 * reason). */
#include "interrupt.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "err.h"

#define SLOTS 256
#define INTERRUPT_SIGNAL SIGURG
#define WATCHDOG_STACK (256 * 1024)

struct interrupt_slot {
    pthread_t thread;
    unsigned long calls;   /* odd while in a call; atomic */
    unsigned long seen;    /* the watchdog's: calls at its last look */
    int used;              /* atomic: 0 free, 1 claimed, 2 live */
};

static interrupt_slot slots[SLOTS];
static void (*handler_fn)(void);
static unsigned period;
static pthread_t watchdog;
static int running;        /* atomic: the watchdog should go on */
static int scanning;       /* atomic: the watchdog is going over slots */
static int started;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;     /* the handler must not change it */
    handler_fn();
    errno = saved;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    struct timespec nap = {(time_t)(period / 1000),
                           (long)(period % 1000) * 1000000L};
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE)) {
        nanosleep(&nap, NULL);
        __atomic_store_n(&scanning, 1, __ATOMIC_SEQ_CST);
        for (int i = 0; i < SLOTS; i++) {
            interrupt_slot *s = &slots[i];
            if (__atomic_load_n(&s->used, __ATOMIC_SEQ_CST) != 2)
                continue;
            unsigned long calls = __atomic_load_n(&s->calls,
                                                  __ATOMIC_RELAXED);
            /* in the same call as a period ago: interrupt it, and again
             * every period (a signal may land just before the handler
             * could act) */
            if ((calls & 1) && calls == s->seen)
                pthread_kill(s->thread, INTERRUPT_SIGNAL);
            s->seen = calls;
        }
        __atomic_store_n(&scanning, 0, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

int interrupt_start(unsigned period_ms, void (*handler)(void))
{
    if (started)
        return ERR_EINVAL;
    handler_fn = handler;
    period = period_ms ? period_ms : 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(INTERRUPT_SIGNAL, &sa, NULL) != 0)
        return err_from_os(errno);
    __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
    /* it needs next to no stack: not the default (RLIMIT_STACK, which
     * the workers' stacks share the address space with) */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WATCHDOG_STACK);
    int rc = pthread_create(&watchdog, &attr, watchdog_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
        return rc == EAGAIN ? ERR_ENOMEM : err_from_os(rc);
    }
    started = 1;
    return 0;
}

void interrupt_stop(void)
{
    if (!started)
        return;
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    pthread_join(watchdog, NULL);
    started = 0;
}

interrupt_slot *interrupt_register(void)
{
    if (!started)
        return NULL;
    for (int i = 0; i < SLOTS; i++) {
        int expected = 0;
        if (!__atomic_compare_exchange_n(&slots[i].used, &expected, 1, 0,
                                         __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        slots[i].thread = pthread_self();
        __atomic_store_n(&slots[i].calls, 0, __ATOMIC_RELAXED);
        slots[i].seen = 0;
        __atomic_store_n(&slots[i].used, 2, __ATOMIC_RELEASE);
        return &slots[i];
    }
    return NULL;
}

void interrupt_unregister(interrupt_slot *s)
{
    if (s == NULL)
        return;
    /* a scan that saw the slot live may still signal the thread: wait
     * for it to end (it takes microseconds), so no signal is sent to a
     * thread that has ended; one that comes now runs the handler out of
     * any call, which does nothing */
    __atomic_store_n(&s->used, 0, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&scanning, __ATOMIC_SEQ_CST))
        sched_yield();
}

void interrupt_enter(interrupt_slot *s)
{
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
}

void interrupt_leave(interrupt_slot *s)
{
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
}
