/* quote.c -- transcript escapes and UTC time text (see quote.h). */
#include "quote.h"

#include <stdio.h>

size_t quote_byte(unsigned char ch, char out[QUOTE_BYTE_MAX])
{
    const char *esc = NULL;
    switch (ch) {
    case '\r': esc = "\\r"; break;
    case '\n': esc = "\\n"; break;
    case '\t': esc = "\\t"; break;
    case '\0': esc = "\\0"; break;
    case '\\': esc = "\\\\"; break;
    case '"': esc = "\\\""; break;
    default:
        if (ch >= 0x20 && ch < 0x7f) {
            out[0] = (char)ch;
            out[1] = '\0';
            return 1;
        }
        /* by hand: --record escapes every byte a client sends */
        out[0] = '\\';
        out[1] = 'x';
        out[2] = "0123456789abcdef"[ch >> 4];
        out[3] = "0123456789abcdef"[ch & 15];
        out[4] = '\0';
        return 4;
    }
    out[0] = esc[0];
    out[1] = esc[1];
    out[2] = '\0';
    return 2;
}

/* 1 for a byte that stands for itself between quotes. */
static int plain(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
}

size_t quote_len(const char *data, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (plain(ch))
            n++;
        else
            n += ch == '\r' || ch == '\n' || ch == '\t' || ch == '\0' ||
                 ch == '\\' || ch == '"' ? 2 : 4;
    }
    return n;
}

size_t quote_into(char *out, const char *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (plain(ch)) {
            *o++ = (char)ch;
            continue;
        }
        *o++ = '\\';
        switch (ch) { /* as quote_byte, without a call a byte */
        case '\r': *o++ = 'r'; break;
        case '\n': *o++ = 'n'; break;
        case '\t': *o++ = 't'; break;
        case '\0': *o++ = '0'; break;
        case '\\': *o++ = '\\'; break;
        case '"': *o++ = '"'; break;
        default:
            *o++ = 'x';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    return (size_t)(o - out);
}

/* Days to a civil date: H. Hinnant's algorithm, with no time.h: gmtime
 * is not thread-safe, and workers call this on their own threads. */
void quote_utc(int64_t secs, int ms, char *out, size_t len)
{
    int64_t days = secs / 86400, rest = secs % 86400;
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03dZ",
             (long long)y, (long long)m, (long long)d,
             (long long)(rest / 3600), (long long)(rest / 60 % 60),
             (long long)(rest % 60), ms);
}
