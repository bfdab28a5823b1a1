/* linput.h -- the input of a buffer frame (conn:frame("buffer")): what
 * on_data (or on_upstream_data) gets in place of a string. The hook takes
 * lines and byte counts from it; input:commit() marks what was taken as
 * used, and the rest comes again, with what arrives next, at the next
 * call (conn_frame_used). An input is valid only during its call. */
#ifndef RICOCHET_LINPUT_H
#define RICOCHET_LINPUT_H

#include <lua.h>
#include <stddef.h>

/* One call's input, kept by the caller (on its C stack) for the call. */
typedef struct linput {
    const char *data;
    size_t len;
    size_t pos;          /* taken so far */
    size_t committed;    /* taken and committed: what was used */
    const void *object;  /* the table given to the script for it */
} linput;

/* Where a state's inputs find the running call's: one per state, living
 * as long as it. */
typedef struct linput_slot {
    linput *current;     /* the running call's; NULL between calls */
} linput_slot;

/* Make in the running call's input over data[0..len) and push its
 * object. The caller keeps a reference to the object until the call is
 * over (the object is told by its address), and then restores
 * slot->current to what it was, also when the call failed. Run
 * protected (memory). */
void linput_push(lua_State *L, linput_slot *slot, linput *in,
                 const char *data, size_t len);

/* The inputs' metatable and methods, for the state whose inputs slot
 * keeps (it must live as long as the state). Run protected, before any
 * input. */
void linput_open(lua_State *L, linput_slot *slot);

#endif
