/* lupstream.h -- upstream addresses as scripts write them ("HOST:PORT",
 * "[IPv6]:PORT"), for conn:connect and ricochet.resolve. */
#ifndef RICOCHET_LUPSTREAM_H
#define RICOCHET_LUPSTREAM_H

#include <stddef.h>

/* Split spec, "ADDR:PORT", "[ADDR]:PORT" or "NAME:PORT" with a port from
 * 1 to 65535, into host and *port. Returns 0 when host is a numeric
 * address, 1 when it is a name (to resolve), or ERR_EINVAL with the
 * reason in err. */
int lupstream_parse(const char *spec, char *host, size_t hostlen, int *port,
                    char *err, size_t errlen);

/* Write "ADDR:PORT", or "[ADDR]:PORT" for an IPv6 address, to out. */
void lupstream_format(char *out, size_t outlen, const char *host, int port);

#endif
