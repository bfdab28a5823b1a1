/* it_text.c -- searching and normalising what a server printed. */
#include "it_text.h"

#include <string.h>

const void *it_text_find(const void *hay, size_t hay_len, const void *needle,
                         size_t needle_len)
{
    const unsigned char *h = hay;
    if (needle_len == 0)
        return hay;
    for (size_t i = 0; i + needle_len <= hay_len; i++)
        if (h[i] == *(const unsigned char *)needle &&
            memcmp(h + i, needle, needle_len) == 0)
            return h + i;
    return NULL;
}

void it_text_strip_cr(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != '\r')
            *w++ = *r;
    *w = '\0';
}
