/* buf.c -- a growable byte queue.
 *
 * Bytes live in data[start, end). Consuming only moves start; the dead
 * prefix is reclaimed lazily by an append that needs the room, and only
 * when it is at least as large as the live bytes, so each byte is moved
 * a bounded number of times however the queue is used. */
#include "buf.h"
#include "err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 256

/* Slide the live bytes to the front of the array. */
static void compact(buf *b)
{
    size_t len = buf_len(b);
    if (b->start == 0)
        return;
    if (len > 0)
        memmove(b->data, b->data + b->start, len);
    b->start = 0;
    b->end = len;
}

int buf_append(buf *b, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (b->cap - b->end < len) {
        size_t live = buf_len(b);
        if (len > SIZE_MAX - live)
            return ERR_ENOMEM;
        size_t need = live + len;
        if (need <= b->cap && b->start >= live) {
            compact(b);
        } else {
            size_t cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
            while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
            char *grown = realloc(b->data, cap);
            if (grown == NULL)
                return ERR_ENOMEM;
            b->data = grown;
            b->cap = cap;
            compact(b);
        }
    }
    memcpy(b->data + b->end, data, len);
    b->end += len;
    return 0;
}

void buf_consume(buf *b, size_t n)
{
    if (n >= buf_len(b)) {
        /* An idle connection should hold no output memory at all. */
        buf_free(b);
        return;
    }
    b->start += n;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->start = b->end = b->cap = 0;
}
