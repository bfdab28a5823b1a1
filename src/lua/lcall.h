/* lcall.h -- the one way into Lua.
 *
 * Every call into a script's state goes through lcall (Lua's lua.c does
 * the same with docall): a protected call of a C function, with a
 * traceback message handler under it and a fresh instruction budget, whose
 * status is mapped to a small enum. A Lua error therefore never unwinds
 * past lcall: the C frames below it (the Lua layer's caller, core, os)
 * see an ordinary return. */
#ifndef RICOCHET_LCALL_H
#define RICOCHET_LCALL_H

#include <lua.h>

typedef enum lcall_status {
    LCALL_OK = 0,
    LCALL_ERROR,   /* a Lua error (a script error, a bad result, ...) */
    LCALL_MEMORY,  /* the state's memory cap was reached */
    LCALL_BUDGET   /* the call ran out of instructions */
} lcall_status;

/* Set L's panic handler (it logs and aborts: a correct program never gets
 * there, as everything runs through lcall) and put the traceback handler
 * at the bottom of its stack, where it stays. Call once, on a new state,
 * from its main thread. Never raises. */
void lcall_init(lua_State *L);

/* Run fn(L) protected, with ud as its one argument (a light userdata) and
 * no results, under a fresh budget (lbudget.h), on L's main thread. On
 * LCALL_OK the stack is as it was; otherwise the error message (with a
 * traceback, for LCALL_ERROR and LCALL_BUDGET) is left on top: the caller
 * pops it. */
lcall_status lcall(lua_State *L, lua_CFunction fn, void *ud);

#endif
