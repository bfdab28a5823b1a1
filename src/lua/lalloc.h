/* lalloc.h -- the allocator of a script's Lua state.
 *
 * It counts the state's bytes and refuses growth past a cap, so a greedy
 * script gets Lua's "not enough memory" inside its hook instead of taking
 * the server's memory. Freeing and shrinking always succeed, as Lua
 * requires (a shrink the C library refuses keeps the block, and the count
 * follows Lua's view of it). Small blocks (most of them are the short-lived strings of a
 * message: the data a hook gets and the reply it returns) are kept on
 * per-size free lists and reused, so the steady state of a hook that
 * transforms messages makes no malloc/free calls. */
#ifndef RICOCHET_LALLOC_H
#define RICOCHET_LALLOC_H

#include <stddef.h>

#include <stdint.h>

#define LALLOC_CLASSES 16 /* free lists for 16, 32, ... 256 bytes */
#define LALLOC_SMALL_MAX (LALLOC_CLASSES * 16) /* the biggest cached block */

/* Under AddressSanitizer the free lists are off: a block kept for reuse
 * would hide a use after free from it. */
#if defined(__SANITIZE_ADDRESS__)
#define LALLOC_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LALLOC_CACHE 0
#endif
#endif
#ifndef LALLOC_CACHE
#define LALLOC_CACHE 1
#endif

typedef struct lalloc {
    size_t used;   /* bytes the state holds (as Lua sees its blocks) */
    size_t limit;  /* 0: no cap */
    void *free_list[LALLOC_CLASSES];
    unsigned depth[LALLOC_CLASSES];
    /* The C library's realloc (ptr NULL: malloc); a test may put one that
     * fails here. Blocks are freed with free(). */
    void *(*sys_realloc)(void *ptr, size_t size);
    /* Bytes given out in blocks over LALLOC_SMALL_MAX (a new block's
     * size, what a block grew by), since the state began: the instruction
     * budget charges them, so a script cannot build strings or tables
     * at no cost in a few instructions (lbudget.h). Smaller blocks cost
     * about as much as the instruction that asked for them. */
    uint64_t grown;
    /* When grown reaches notify_at, notify(notify_ud) is called, from
     * inside the allocation: it must not use the state (it may set a
     * hook, which Lua allows at any time). */
    uint64_t notify_at;
    void (*notify)(void *ud);
    void *notify_ud;
} lalloc;

/* No cap when limit is 0; no notify until one is set. */
void lalloc_init(lalloc *a, size_t limit);
/* The lua_Alloc function; ud is the lalloc. */
void *lalloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);
/* Give the cached blocks back to the C library (after lua_close). */
void lalloc_release(lalloc *a);

#endif
