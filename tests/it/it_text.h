/* it_text.h -- what the harness does to the bytes a server printed:
 * find a needle in them, drop the '\r' of a Windows build's lines. */
#ifndef RICOCHET_IT_TEXT_H
#define RICOCHET_IT_TEXT_H

#include <stddef.h>

/* The first needle in hay (binary-safe), or NULL; hay itself when
 * needle_len is 0. */
const void *it_text_find(const void *hay, size_t hay_len, const void *needle,
                         size_t needle_len);
/* Remove every '\r' from the NUL-terminated s, in place. */
void it_text_strip_cr(char *s);

#endif
