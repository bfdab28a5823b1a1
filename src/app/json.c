/* json.c -- a JSON text in a growing buffer (see json.h). */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(json_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *text = realloc(b->text, cap);
    if (text == NULL) {
        json_free(b);
        b->oom = 1;
        return -1;
    }
    b->text = text;
    b->cap = cap;
    return 0;
}

void json_raw(json_buf *b, const char *bytes, size_t len)
{
    if (reserve(b, len) != 0)
        return;
    memcpy(b->text + b->len, bytes, len);
    b->len += len;
    b->text[b->len] = '\0';
}

void json_printf(json_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        json_raw(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void json_str(json_buf *b, const char *s)
{
    json_raw(b, "\"", 1);
    for (const char *run = s; *s != '\0'; run = ++s) {
        while (*s != '\0' && *s != '"' && *s != '\\' &&
               (unsigned char)*s >= 0x20)
            s++;
        json_raw(b, run, (size_t)(s - run));
        if (*s == '\0')
            break;
        if (*s == '"' || *s == '\\')
            json_printf(b, "\\%c", *s);
        else
            json_printf(b, "\\u%04x", (unsigned)(unsigned char)*s);
    }
    json_raw(b, "\"", 1);
}

char *json_take(json_buf *b, size_t *len)
{
    char *text = b->text;
    *len = b->len;
    memset(b, 0, sizeof *b);
    return text;
}

void json_free(json_buf *b)
{
    free(b->text);
    memset(b, 0, sizeof *b);
}
