/* interrupt_win32.c -- interrupt.h on Windows: no signal reaches one
 * thread between two of its instructions, so there is no watchdog, and
 * callers check on long calls their own way. */
#include "interrupt.h"

#include <stddef.h>

#include "err.h"

int interrupt_start(unsigned period_ms, void (*handler)(void))
{
    (void)period_ms;
    (void)handler;
    return ERR_EOTHER;
}

void interrupt_stop(void)
{
}

interrupt_slot *interrupt_register(void)
{
    return NULL;
}

void interrupt_unregister(interrupt_slot *s)
{
    (void)s;
}

void interrupt_enter(interrupt_slot *s)
{
    (void)s;
}

void interrupt_leave(interrupt_slot *s)
{
    (void)s;
}
