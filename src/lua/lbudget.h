/* lbudget.h -- the limits of one call into a script's Lua state.
 *
 * Every protected call (lcall) starts with the whole budget. A count hook
 * adds up the instructions of the call on every thread of the state
 * (coroutines too); to them come the pattern matcher's steps, the bytes
 * the state's allocator gives out (lalloc.h) and what the library calls
 * that work without allocating are charged (lcharge.h), one instruction
 * per LBUDGET_BYTES_PER_INSTRUCTION bytes or per value moved. Past the
 * limit the call is stopped, and from then on every instruction raises
 * until the call returns to C, so a pcall inside the script cannot
 * swallow the stop (Redis's luaMaskCountHook does the same).
 *
 * A wall-clock ceiling bounds the call too: the same checks read a
 * monotonic clock (every count hook: every 1,000 instructions, fewer in
 * a state whose heap is over 4 MiB and after slow instructions; at every
 * forced check, after each MiB the allocator gives out; every 16,000
 * units charged), from the first check of the call on. A call stopped by
 * either limit ends as LCALL_BUDGET.
 *
 * With only the time limit, on a thread the watchdog watches
 * (lbudget_watch_thread), a call runs with no count hook at all: Lua
 * checks a hook on every instruction while one is set, which was a
 * quarter of a pipelined request's cost. The watchdog interrupts a call
 * still running after a period (interrupt.h) and sets the hook then,
 * from which on the call is checked as above, from its start. */
#ifndef RICOCHET_LBUDGET_H
#define RICOCHET_LBUDGET_H

#include <lua.h>
#include <stdint.h>

#include "lalloc.h"

/* The exchange rate: bytes built or touched that cost one instruction. */
#define LBUDGET_BYTES_PER_INSTRUCTION 8

/* Why a call was stopped. */
enum { LBUDGET_RUNNING = 0, LBUDGET_INSTRUCTIONS, LBUDGET_TIME };

typedef struct lbudget {
    lua_State *main;       /* the state's main thread */
    lua_State *running;    /* the thread running: main or a coroutine */
    lalloc *alloc;         /* the state's allocator */
    uint64_t limit;        /* instructions per call; 0: none */
    uint64_t timeout_us;   /* wall-clock time per call; 0: none */
    uint64_t spent;        /* instructions, steps and charges so far */
    uint64_t grown_at_arm; /* alloc->grown when the call began */
    uint64_t started_us;   /* the call's first clock reading; 0: none */
    uint64_t clock_us;     /* the last clock reading */
    uint64_t last_interval_us; /* from the reading before it; 0: none */
    uint64_t unclocked;    /* units charged since the clock was read */
    int tick;              /* instructions between two count hooks */
    int active;            /* a limit is set: the hook runs */
    int async;             /* this call has no count hook until the
                            * watchdog or the allocator sets one */
    volatile int hooked;   /* the main thread has the count hook now */
    int over;              /* LBUDGET_*: why the running call stopped */
    char where[96];        /* " (at file:line)" of the stop, or "" */
} lbudget;

/* Give the new state L the budget b, which must outlive it (it is kept in
 * L's extra space, which every thread of the state inherits): limit
 * instructions (0: none) and timeout_ms of wall-clock time (0: none) per
 * call, with alloc, L's allocator, counting bytes. Call before any Lua
 * runs. Never raises. */
void lbudget_install(lua_State *L, lbudget *b, uint64_t limit,
                     uint64_t timeout_ms, lalloc *alloc);

/* The budget of any thread of a state given one. */
lbudget *lbudget_of(lua_State *L);

/* A new call starts with the whole budget. Never raises. */
void lbudget_arm(lbudget *b);

/* The call armed last on this thread is over (however it ended). */
void lbudget_disarm(lbudget *b);

/* Have the watchdog watch this thread's calls (on), or stop (off, before
 * the thread ends). Without it, or when interrupt_start failed, every
 * call has the count hook. */
void lbudget_watch_thread(int on);

/* The watchdog's handler (interrupt.h): set the count hook on the call
 * running on this thread, if any. Safe in a signal handler. */
void lbudget_interrupt(void);

/* Units charged from C between two clock readings (lbudget.c). */
#define LBUDGET_CLOCK_EVERY 16000

/* lbudget_charge's checks, once units are added: raises when over. */
void lbudget_charged(lua_State *L, lbudget *b);

/* Charge units (instructions' worth of work done in C) to the running
 * call of L's state. Raises the stop, from L (any thread of the state,
 * inside a C function that the script called), when the call is over a
 * limit. A no-op when the state has no limits. Inline: a small request
 * makes a score of these, and with no instruction limit (a server's
 * default) one is an addition and a comparison. */
static inline void lbudget_charge(lua_State *L, uint64_t units)
{
    lbudget *b = *(lbudget **)lua_getextraspace(L);
    if (!b->active)
        return;
    b->spent += units;
    b->unclocked += units;
    if (b->over || b->limit || b->unclocked >= LBUDGET_CLOCK_EVERY)
        lbudget_charged(L, b);
}

/* Pattern matching runs in C, where the count hook never fires: this,
 * the matcher's charge callback (lpattern.h; ud unused), counts its
 * steps against the same budget, so a runaway match is stopped the same
 * way. */
void lbudget_charge_steps(lua_State *L, unsigned long steps, void *ud);

/* lbudget_charge of bytes, at the exchange rate. */
static inline void lbudget_charge_bytes(lua_State *L, uint64_t bytes)
{
    lbudget_charge(L, bytes / LBUDGET_BYTES_PER_INSTRUCTION);
}

/* The running call of L's state waited us microseconds outside Lua on
 * purpose (ricochet.resolve at load): the wall-clock ceiling does not
 * count them. Never raises. */
void lbudget_exclude_us(lua_State *L, uint64_t us);

/* Wrap coroutine.resume, coroutine.wrap and xpcall so that coroutines are
 * budgeted and an xpcall handler cannot outlive a stop; the string
 * library's pattern functions get the budget. Run protected (it may
 * raise a memory error), after the standard libraries are open. */
void lbudget_open(lua_State *L);

#endif
