/* quote.h -- bytes the way a transcript writes them between quotes, and
 * the time of day the way logs and recordings print it: shared by
 * --simulate's log (simulate.c), the admin API (admin.c) and --record
 * (record.c), so what one writes the others read back. */
#ifndef RICOCHET_QUOTE_H
#define RICOCHET_QUOTE_H

#include <stddef.h>
#include <stdint.h>

/* The longest escape of one byte ("\xHH") and its NUL. */
#define QUOTE_BYTE_MAX 5

/* ch as it stands inside a transcript's "...": itself when printable,
 * else \r \n \t \0 \\ \" or \xHH (sim_parse_quoted reads each back to
 * ch). Writes it to out, NUL-terminated, and returns its length. */
size_t quote_byte(unsigned char ch, char out[QUOTE_BYTE_MAX]);

/* The length of data[0..len) escaped byte by byte as above. */
size_t quote_len(const char *data, size_t len);
/* data[0..len) escaped as above into out, which has room for
 * quote_len(data, len) bytes (no NUL is added). Returns that length. */
size_t quote_into(char *out, const char *data, size_t len);

/* 2026-12-02T05:11:04.123Z from secs since 1970 and ms, into out. */
void quote_utc(int64_t secs, int ms, char *out, size_t len);

#endif
