/* json.h -- building a JSON text in a growing buffer, for the admin
 * API's answers. Running out of memory is sticky: the text is dropped
 * and oom is set, so a writer checks once at the end. */
#ifndef RICOCHET_JSON_H
#define RICOCHET_JSON_H

#include <stddef.h>

typedef struct json_buf {
    char *text;    /* NUL-terminated; NULL while empty */
    size_t len;
    size_t cap;
    int oom;
} json_buf;

/* Append len bytes as they are. */
void json_raw(json_buf *b, const char *bytes, size_t len);
/* Append printf's output (numbers, punctuation). */
void json_printf(json_buf *b, const char *fmt, ...);
/* Append s as a JSON string: quoted, with ", \ and control bytes
 * escaped (\u00XX); bytes >= 0x80 go as they are. */
void json_str(json_buf *b, const char *s);
/* Give the text to the caller (to free), leaving b empty. */
char *json_take(json_buf *b, size_t *len);
void json_free(json_buf *b);

#endif
