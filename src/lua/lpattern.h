/* lpattern.h -- Lua 5.4 pattern matching under a step budget.
 *
 * The stock string.find, string.match, string.gmatch and string.gsub run
 * their matcher in C, where the count hook that bounds a script never
 * fires, so a backtracking pattern such as ".-.-.-.-x" over a long subject
 * runs for minutes and cannot be stopped. This module provides the same
 * four functions, with the semantics and error messages of Lua 5.4, over a
 * matcher that counts its steps (one per attempt to match a pattern item
 * at a position, one per backtracking step) and hands them to a callback
 * about every thousand steps; the callback stops a runaway match by
 * raising a Lua error.
 *
 * The matcher holds nothing but the C stack and the Lua stack, so a raise
 * from the callback (or from any Lua error along the way) leaks nothing. */
#ifndef RICOCHET_LPATTERN_H
#define RICOCHET_LPATTERN_H

#include <lua.h>
#include <stddef.h>

/* Called with the steps done since the last call, from inside one of the
 * installed functions (so a Lua error may be raised with lua_error or
 * luaL_error to stop the match). Also called once at the end of each
 * function call with the remainder, when there is one. */
typedef void (*lpattern_charge_fn)(lua_State *L, unsigned long steps,
                                   void *ud);

/* Replace find, match, gmatch and gsub in the string library table at
 * string_table_index (which is also the string metatable's __index, so
 * method calls such as s:find(p) get them too) with the budgeted versions.
 * charge may be NULL: the functions then run without a budget. ud is
 * passed to charge as is; the caller keeps it alive as long as the state.
 * Raises a Lua error on memory exhaustion, so call it where a raise is
 * caught (set-up runs in a protected call). */
void lpattern_install(lua_State *L, int string_table_index,
                      lpattern_charge_fn charge, void *ud);

/* A substring of a subject: its start and length (-1 for a position
 * capture, which has none). */
typedef struct lpattern_span {
    const char *start;
    ptrdiff_t len;
} lpattern_span;

/* Match p against the subject s[0..ls) as string.match(s, p) does, its
 * steps charged through charge (which may be NULL). Pushes the captures
 * (the whole match when p has none) and returns how many; pushes nothing
 * and returns -1 when p does not match. With last not NULL, the last
 * capture is not pushed (nor counted) but left in *last, which saves
 * making a string of a capture that is only read, and there is room for
 * two more values on the stack. Raises on a malformed
 * pattern, as string.match does. For subjects that are not Lua strings. */
int lpattern_match(lua_State *L, const char *s, size_t ls, const char *p,
                   size_t lp, lpattern_charge_fn charge, void *ud,
                   lpattern_span *last);

#endif
