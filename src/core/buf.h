/* buf.h -- a growable byte queue: append at the end, consume at the front.
 *
 * Used for a connection's unsent output and for framing input. An empty
 * buf owns no memory, so an idle connection costs nothing here. */
#ifndef RICOCHET_BUF_H
#define RICOCHET_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;
    size_t start; /* first unconsumed byte */
    size_t end;   /* one past the last byte */
    size_t cap;
} buf;

#define BUF_INIT {NULL, 0, 0, 0}

static inline size_t buf_len(const buf *b) { return b->end - b->start; }
/* NULL when the buf owns no memory: NULL + 0 is undefined behaviour (and
 * clang's UBSan says so), so the offset is only applied to real memory. */
static inline const char *buf_head(const buf *b)
{
    return b->data != NULL ? b->data + b->start : NULL;
}

/* Append len bytes. Returns 0, or ERR_ENOMEM (b unchanged). */
int buf_append(buf *b, const void *data, size_t len);
/* Drop n <= buf_len(b) bytes from the front; an emptied buf frees its
 * memory, so it neither pins a peak nor costs an idle connection. */
void buf_consume(buf *b, size_t n);
/* Free the memory and make b empty. */
void buf_free(buf *b);

#endif
