/* lalloc.c -- the Lua state's allocator: a byte count with a cap, and
 * free lists for small blocks. */
#include "lalloc.h"

#include <stdlib.h>
#include <string.h>

#define CLASS_STEP 16
#define SMALL_MAX LALLOC_SMALL_MAX
#define MAX_DEPTH 64 /* blocks kept per class: at most 64 * 256 B each */

typedef struct free_block {
    struct free_block *next;
} free_block;

/* The class of a small size (1..SMALL_MAX) and the size it is given. */
static size_t class_of(size_t n) { return (n - 1) / CLASS_STEP; }
static size_t class_size(size_t cls) { return (cls + 1) * CLASS_STEP; }

void lalloc_init(lalloc *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
    a->sys_realloc = realloc;
    a->notify_at = UINT64_MAX;
}

/* n more bytes were given out in a big block. */
static void count_grown(lalloc *a, size_t n)
{
    a->grown += n;
    if (a->grown >= a->notify_at)
        a->notify(a->notify_ud);
}

/* The cached block of class cls, or NULL. */
static void *pop(lalloc *a, size_t cls)
{
    free_block *b = a->free_list[cls];
    if (b != NULL) {
        a->free_list[cls] = b->next;
        a->depth[cls]--;
    }
    return b;
}

/* Cache ptr in class cls; 0 when that class holds enough already. */
static int push(lalloc *a, void *ptr, size_t cls)
{
    if (!LALLOC_CACHE || a->depth[cls] >= MAX_DEPTH)
        return 0;
    free_block *b = ptr;
    b->next = a->free_list[cls];
    a->free_list[cls] = b;
    a->depth[cls]++;
    return 1;
}

/* A block of at least n bytes; small ones come from the free lists. */
static void *get(lalloc *a, size_t n)
{
    if (n > SMALL_MAX)
        return a->sys_realloc(NULL, n);
    void *b = pop(a, class_of(n));
    return b != NULL ? b : a->sys_realloc(NULL, class_size(class_of(n)));
}

/* Give back a block that was asked for with size n. */
static void put(lalloc *a, void *ptr, size_t n)
{
    if (n > SMALL_MAX || !push(a, ptr, class_of(n)))
        free(ptr);
}

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define NOINLINE __declspec(noinline)
#else
#define NOINLINE
#endif

/* Everything but a cached block handed out or taken back. Every block
 * asked for with a small size holds class_size() bytes (a block that stays
 * where it is only ever moves down a class), so no move is needed within
 * a class. */
static NOINLINE void *slow_path(lalloc *a, void *ptr, size_t osize,
                                size_t nsize)
{
    if (ptr == NULL) { /* osize is a type tag, not a size */
        if (nsize == 0 || (a->limit && a->used + nsize > a->limit))
            return NULL;
        void *b = get(a, nsize);
        if (b != NULL) {
            a->used += nsize;
            if (nsize > SMALL_MAX)
                count_grown(a, nsize);
        }
        return b;
    }
    if (nsize == 0) {
        put(a, ptr, osize);
        a->used -= osize;
        return NULL;
    }
    if (nsize > osize && a->limit && a->used + (nsize - osize) > a->limit)
        return NULL;
    void *moved;
    if (osize <= SMALL_MAX && nsize <= SMALL_MAX &&
        class_of(nsize) <= class_of(osize)) {
        moved = ptr; /* it fits where it is */
    } else if (osize > SMALL_MAX && nsize > SMALL_MAX) {
        moved = a->sys_realloc(ptr, nsize);
    } else {
        moved = get(a, nsize);
        if (moved != NULL) {
            memcpy(moved, ptr, osize < nsize ? osize : nsize);
            put(a, ptr, osize);
        }
    }
    if (moved == NULL && nsize > osize)
        return NULL;
    /* A shrink the C library refused keeps the (bigger) block: Lua now
     * sees it as nsize bytes and will free it as such, so count that. */
    a->used = a->used - osize + nsize;
    if (nsize > osize && nsize > SMALL_MAX)
        count_grown(a, nsize - osize);
    return moved != NULL ? moved : ptr;
}

/* The calls a message makes (its strings' blocks, from and back to the
 * free lists) take the short way; the rest goes to slow_path, out of line
 * so that the short way saves no registers. */
void *lalloc_fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lalloc *a = ud;
    if (ptr == NULL) {
        if (nsize - 1 < SMALL_MAX && /* 1..SMALL_MAX */
            (!a->limit || a->used + nsize <= a->limit)) {
            void *b = pop(a, class_of(nsize));
            if (b != NULL) {
                a->used += nsize;
                return b;
            }
        }
    } else if (nsize == 0 && osize - 1 < SMALL_MAX &&
               push(a, ptr, class_of(osize))) {
        a->used -= osize;
        return NULL;
    }
    return slow_path(a, ptr, osize, nsize);
}

void lalloc_release(lalloc *a)
{
    for (size_t cls = 0; cls < LALLOC_CLASSES; cls++) {
        while (a->free_list[cls] != NULL) {
            free_block *b = a->free_list[cls];
            a->free_list[cls] = b->next;
            free(b);
        }
        a->depth[cls] = 0;
    }
}
