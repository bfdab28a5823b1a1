/* interrupt.h -- a watchdog that interrupts a thread whose call has run
 * too long, so a long call is checked on without checking every short
 * one. A thread registers, then marks where each call starts and ends
 * (an atomic add each). The watchdog thread looks every period: a thread
 * still in the call it was in at the last look has been in it for a
 * period at least, and is interrupted: it runs the handler given to
 * interrupt_start, in a signal handler, between two of its instructions
 * (POSIX). The handler may do only what is safe there, such as
 * lua_sethook. Windows has no such signal: interrupt_start fails there,
 * and callers keep checking by other means. */
#ifndef RICOCHET_INTERRUPT_H
#define RICOCHET_INTERRUPT_H

/* One registered thread. */
typedef struct interrupt_slot interrupt_slot;

/* Start the watchdog, looking every period_ms (at least 1), with handler
 * for the interrupted threads. Once per process, before any register.
 * Returns 0, or an err.h code (ERR_EOTHER on Windows: not there). */
int interrupt_start(unsigned period_ms, void (*handler)(void));

/* Stop the watchdog and wait for it (at most a period). Every thread
 * must have unregistered. A no-op when it never started. */
void interrupt_stop(void);

/* Register the calling thread: its slot, or NULL when the watchdog does
 * not run or is full (the thread is then never interrupted). */
interrupt_slot *interrupt_register(void);

/* Unregister the calling thread's slot (NULL: nothing), before the
 * thread ends. */
void interrupt_unregister(interrupt_slot *s);

/* The calling thread, registered as s, starts or ends a call. */
void interrupt_enter(interrupt_slot *s);
void interrupt_leave(interrupt_slot *s);

#endif
