/* fuzz_addr.c -- the listen-address parser (src/core/addr.c) against
 * inet_pton and the port rules.
 *
 * addr.c validates numeric addresses itself (it stays free of socket
 * headers); the reference here is the C library's inet_pton applied to
 * the forms addr.h lists: "IPv4:PORT", "[IPv6]:PORT", ":PORT" and "PORT"
 * (host 127.0.0.1), where PORT is 1 to 5 decimal digits, 0..65535 (no
 * sign, no spaces). Both directions are checked: whatever addr_parse
 * accepts is such a form with a valid numeric host and port, and every
 * such form is accepted, with the same host and port. A refusal has a
 * message, and small output buffers are never overrun (each has exactly
 * its size, so AddressSanitizer sees a byte past it). */
#include "fuzz.h"

#include <arpa/inet.h>

#include "addr.h"
#include "err.h"

#define SPEC_MAX 256

/* The port rules of addr.h. */
static int port_ok(const char *s, int *port)
{
    size_t len = strlen(s);
    long value = 0;
    if (len == 0 || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        value = value * 10 + (s[i] - '0');
    }
    if (value > 65535)
        return 0;
    *port = (int)value;
    return 1;
}

static int pton(int family, const char *host, size_t len)
{
    char text[SPEC_MAX + 1];
    unsigned char binary[16];
    memcpy(text, host, len);
    text[len] = '\0';
    return inet_pton(family, text, binary) == 1;
}

/* What the reference accepts: 1 with the host and port, else 0. */
static int reference(const char *spec, char *host, int *port)
{
    const char *host_start, *port_text;
    size_t host_len;
    int family;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':')
            return 0;
        family = AF_INET6;
        host_start = spec + 1;
        host_len = (size_t)(close - host_start);
        port_text = close + 2;
    } else {
        const char *colon = strchr(spec, ':');
        if (colon == NULL || colon == spec) {
            strcpy(host, "127.0.0.1");
            return port_ok(colon ? colon + 1 : spec, port);
        }
        family = AF_INET;
        host_start = spec;
        host_len = (size_t)(colon - spec);
        port_text = colon + 1;
    }
    if (!pton(family, host_start, host_len) || !port_ok(port_text, port))
        return 0;
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    return 1;
}

/* addr_parse with buffers of exactly hostlen and errlen bytes. */
static int parse(const char *spec, size_t hostlen, size_t errlen,
                 char *host_out, int *port)
{
    char *host = malloc(hostlen), *err = malloc(errlen ? errlen : 1);
    FUZZ_ASSERT(host != NULL && err != NULL);
    if (errlen > 0)
        err[0] = '\0';
    *port = -1;
    int rc = addr_parse(spec, host, hostlen, port, err, errlen);
    if (rc == 0) {
        FUZZ_ASSERT(memchr(host, '\0', hostlen) != NULL);
        strcpy(host_out, host);
    } else {
        if (rc != ERR_EINVAL)
            FUZZ_FAIL("addr_parse returned %d", rc);
        if (errlen > 0 && (memchr(err, '\0', errlen) == NULL ||
                           (errlen > 1 && err[0] == '\0')))
            FUZZ_FAIL("a refusal without a message (errlen %zu)", errlen);
    }
    free(host);
    free(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char spec[SPEC_MAX + 1], host[SPEC_MAX + 1], want_host[SPEC_MAX + 1];
    int port, want_port = -1;
    if (size > SPEC_MAX)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0'; /* a NUL inside ends the string, as in argv */

    int want = reference(spec, want_host, &want_port);
    int rc = parse(spec, ADDR_HOST_MAX, 160, host, &port);
    if (rc == 0) {
        int v6 = spec[0] == '[';
        if (!pton(v6 ? AF_INET6 : AF_INET, host, strlen(host)))
            FUZZ_FAIL("'%s' accepted with host '%s', not a numeric %s "
                      "address", spec, host, v6 ? "IPv6" : "IPv4");
        if (port < 0 || port > 65535)
            FUZZ_FAIL("'%s' accepted with port %d", spec, port);
    }
    if (want != (rc == 0))
        FUZZ_FAIL("'%s': addr_parse %s it, inet_pton and the port rules %s",
                  spec, rc == 0 ? "accepts" : "refuses",
                  want ? "accept" : "refuse");
    if (want && (strcmp(host, want_host) != 0 || port != want_port))
        FUZZ_FAIL("'%s': host '%s' port %d, expected '%s' port %d", spec,
                  host, port, want_host, want_port);

    /* the same with small buffers: a result that fits, or a refusal */
    size_t hostlen = 1 + size % 16, errlen = size % 9;
    char small_host[SPEC_MAX + 1];
    int small_port;
    rc = parse(spec, hostlen, errlen, small_host, &small_port);
    if (rc == 0 && (!want || strcmp(small_host, want_host) != 0 ||
                    small_port != want_port))
        FUZZ_FAIL("'%s' with a %zu-byte host buffer: '%s' port %d", spec,
                  hostlen, small_host, small_port);
    if (rc != 0 && want && strlen(want_host) < hostlen)
        FUZZ_FAIL("'%s' refused with a %zu-byte host buffer that fits it",
                  spec, hostlen);
    return 0;
}
