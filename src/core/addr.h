/* addr.h -- parsing of listen addresses ("127.0.0.1:7007", "[::1]:0"). */
#ifndef RICOCHET_ADDR_H
#define RICOCHET_ADDR_H

#include <stddef.h>

#define ADDR_HOST_MAX 64

/* Split spec into a numeric host and a port. Accepted forms: "IPv4:PORT",
 * "[IPv6]:PORT", and ":PORT" or "PORT" (host 127.0.0.1). The host must be
 * a numeric IPv4 or IPv6 address (no names: nothing is resolved); the port
 * 0..65535. Returns 0, or ERR_EINVAL with a reason
 * in err. */
int addr_parse(const char *spec, char *host, size_t hostlen, int *port,
               char *err, size_t errlen);

#endif
