/* lbudget.h -- the instruction budget of a script's Lua state.
 *
 * Every protected call (lcall) starts with the whole budget. A count hook
 * adds up the instructions of the call on every thread of the state
 * (coroutines too), with the pattern matcher's steps; past the limit it
 * raises, and from then on every instruction raises until the call
 * returns to C, so a pcall inside the script cannot swallow the stop
 * (Redis's luaMaskCountHook does the same). */
#ifndef RICOCHET_LBUDGET_H
#define RICOCHET_LBUDGET_H

#include <lua.h>
#include <stdint.h>

typedef struct lbudget {
    lua_State *main;   /* the state's main thread */
    uint64_t limit;    /* instructions per call; 0: none */
    uint64_t spent;    /* instructions and pattern steps so far */
    int over;          /* the running call ran out */
} lbudget;

/* Give the new state L the budget b, which must outlive it (it is kept in
 * L's extra space, which every thread of the state inherits). Call before
 * any Lua runs. Never raises. */
void lbudget_install(lua_State *L, lbudget *b, uint64_t limit);

/* The budget of any thread of a state given one. */
lbudget *lbudget_of(lua_State *L);

/* A new call starts with the whole budget. Never raises. */
void lbudget_arm(lbudget *b);

/* Wrap coroutine.resume, coroutine.wrap and xpcall so that coroutines are
 * budgeted and an xpcall handler cannot outlive a stop; the string
 * library's pattern functions get lbudget_charge. Run protected (it may
 * raise a memory error), after the standard libraries are open. */
void lbudget_open(lua_State *L);

#endif
