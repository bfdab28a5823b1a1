/* addr.c -- parsing of listen addresses.
 *
 * Only numeric hosts are accepted, so a listen address never depends on a
 * resolver. The validators are our own rather than inet_pton: this file
 * stays free of socket headers, so it builds the same everywhere. */
#include "addr.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_HOST "127.0.0.1"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return ERR_EINVAL;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A dotted quad of exactly len characters. Leading zeros are refused:
 * some resolvers read "010" as octal, so "010.0.0.1" is not portable. */
static int valid_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
        size_t first = i;
        unsigned value = 0;
        while (i < len && is_digit(s[i]) && i - first < 3)
            value = value * 10 + (unsigned)(s[i++] - '0');
        size_t digits = i - first;
        if (digits == 0 || value > 255 || (digits > 1 && s[first] == '0'))
            return 0;
    }
    return i == len;
}

/* Up to eight groups of 1..4 hex digits, at most one "::" standing for one
 * or more zero groups, and optionally a dotted quad as the last two groups
 * ("::ffff:192.0.2.1"). Zone ids ("%eth0") are not accepted. */
static int valid_ipv6(const char *s, size_t len)
{
    size_t i = 0;
    int groups = 0, compressed = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = 1;
        i = 2;
        if (i == len)
            return 1;
    } else if (len >= 1 && s[0] == ':') {
        return 0;
    }
    for (;;) {
        size_t first = i;
        while (i < len && is_hex(s[i]) && i - first < 5)
            i++;
        if (i < len && s[i] == '.') {
            /* The embedded IPv4 must be the whole rest of the address. */
            if (groups > 6 || !valid_ipv4(s + first, len - first))
                return 0;
            groups += 2;
            break;
        }
        if (i == first || i - first > 4)
            return 0;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < len && s[i] == ':') {
            if (compressed)
                return 0;
            compressed = 1;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return 0; /* a single trailing ':' */
        }
        if (groups >= 8)
            return 0;
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* 1..5 decimal digits, 0..65535: no sign, no spaces. */
static int parse_port(const char *s, int *port)
{
    size_t len = strlen(s);
    long value = 0;
    if (len == 0 || len > 5)
        return ERR_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return ERR_EINVAL;
        value = value * 10 + (s[i] - '0');
    }
    if (value > 65535)
        return ERR_EINVAL;
    *port = (int)value;
    return 0;
}

int addr_parse(const char *spec, char *host, size_t hostlen, int *port,
               char *err, size_t errlen)
{
    const char *host_start, *port_text;
    size_t host_len;
    int ipv6 = 0;

    if (spec == NULL || spec[0] == '\0')
        return fail(err, errlen, "empty address");

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL)
            return fail(err, errlen, "'%s': missing ']'", spec);
        if (close[1] != ':')
            return fail(err, errlen, "'%s': expected ':PORT' after ']'",
                        spec);
        host_start = spec + 1;
        host_len = (size_t)(close - host_start);
        port_text = close + 2;
        ipv6 = 1;
    } else {
        const char *colon = strchr(spec, ':');
        if (colon == NULL) {
            /* "PORT" alone, or a host without a port. */
            host_start = DEFAULT_HOST;
            host_len = strlen(DEFAULT_HOST);
            port_text = spec;
            if (!is_digit(spec[0]))
                return fail(err, errlen, "'%s': expected HOST:PORT or PORT",
                            spec);
        } else if (strchr(colon + 1, ':') != NULL) {
            return fail(err, errlen, "'%s': an IPv6 address needs brackets, "
                        "as in [::1]:7007", spec);
        } else if (colon == spec) {
            host_start = DEFAULT_HOST;
            host_len = strlen(DEFAULT_HOST);
            port_text = colon + 1;
        } else {
            host_start = spec;
            host_len = (size_t)(colon - spec);
            port_text = colon + 1;
        }
    }

    if (ipv6 ? !valid_ipv6(host_start, host_len)
             : !valid_ipv4(host_start, host_len))
        return fail(err, errlen, "'%s': the host must be a numeric %s "
                    "address (names are not resolved)", spec,
                    ipv6 ? "IPv6" : "IPv4");
    if (parse_port(port_text, port) < 0)
        return fail(err, errlen, "'%s': the port must be a number "
                    "0..65535", spec);
    if (host_len >= hostlen)
        return fail(err, errlen, "'%s': host too long", spec);
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    return 0;
}
