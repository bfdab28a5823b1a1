/* test_interrupt.c -- interrupt.h: the watchdog interrupts a registered
 * thread that stays in one call, in that thread; Windows has no
 * watchdog. */
#include "cases.h"
#include "clock.h"
#include "err.h"
#include "interrupt.h"
#include "test.h"

static volatile int handled;

static void on_interrupt(void)
{
    handled++;
}

#ifndef _WIN32
/* Spin in a call until the handler ran (at most 10 s). */
static void spin_until_handled(interrupt_slot *s)
{
    uint64_t start = clock_monotonic_us();
    interrupt_enter(s);
    while (handled == 0 && clock_monotonic_us() - start < 10000000)
        ;
    interrupt_leave(s);
}
#endif

void test_interrupt_long_call(void)
{
#ifdef _WIN32
    ASSERT_EQ(interrupt_start(5, on_interrupt), ERR_EOTHER);
    ASSERT(interrupt_register() == NULL);
    interrupt_stop();
#else
    ASSERT(interrupt_register() == NULL);      /* no watchdog yet */
    ASSERT_EQ(interrupt_start(5, on_interrupt), 0);
    ASSERT_EQ(interrupt_start(5, on_interrupt), ERR_EINVAL);
    interrupt_slot *s = interrupt_register();
    ASSERT(s != NULL);
    /* a call that goes on is interrupted, in this thread */
    spin_until_handled(s);
    ASSERT(handled >= 1);
    interrupt_unregister(s);
    interrupt_stop();
    /* stopped: it can start again */
    ASSERT_EQ(interrupt_start(5, on_interrupt), 0);
    interrupt_stop();
#endif
}
