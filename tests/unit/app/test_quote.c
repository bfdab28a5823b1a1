/* test_quote.c -- quote.c: the whole-chunk escaper writes exactly what
 * the byte escaper writes, byte after byte, for every byte value. */
#include <string.h>

#include "cases.h"
#include "quote.h"
#include "test.h"

void test_quote_into_every_byte(void)
{
    char data[256 * 3], want[256 * 3 * 4 + 1], got[sizeof want];
    size_t n = 0, wlen = 0;
    /* every byte alone, and each between two plain ones */
    for (int ch = 0; ch < 256; ch++) {
        data[n++] = 'a';
        data[n++] = (char)ch;
        data[n++] = 'z';
    }
    for (size_t i = 0; i < n; i++) {
        char esc[QUOTE_BYTE_MAX];
        size_t k = quote_byte((unsigned char)data[i], esc);
        ASSERT_EQ(k, strlen(esc));
        memcpy(want + wlen, esc, k);
        wlen += k;
    }
    ASSERT_EQ(quote_len(data, n), wlen);
    memset(got, '#', sizeof got);
    ASSERT_EQ(quote_into(got, data, n), wlen);
    ASSERT_EQ(memcmp(got, want, wlen), 0);
    ASSERT_EQ(got[wlen], '#'); /* nothing past it */
    ASSERT_EQ(quote_len("", 0), 0);
    /* the escapes themselves */
    ASSERT_EQ(quote_into(got, "\r\n\t\0\\\"\x7f\x80 ", 9), 21);
    got[21] = '\0';
    ASSERT_STR_EQ(got, "\\r\\n\\t\\0\\\\\\\"\\x7f\\x80 ");
}
