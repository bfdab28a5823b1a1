/* it_http.h -- a tiny HTTP/1.1 client for the admin API (--admin): one
 * request per connection, the answer read until the server closes. */
#ifndef RICOCHET_IT_HTTP_H
#define RICOCHET_IT_HTTP_H

#include <stddef.h>

#include "it_server.h"

typedef struct it_http_resp {
    char status_line[128];  /* "HTTP/1.1 200 OK" */
    int status;
    char head[4096];        /* the header lines, "Name: value\r\n" each */
    char *body;             /* malloc'd, NUL-terminated; free it */
    size_t body_len;
} it_http_resp;

/* Start ricochet with args and "--admin 127.0.0.1:0" in front; wait for
 * its "admin listening on ADDR:PORT" line (after the data listeners'),
 * whose port goes to *admin_port. */
it_server *it_http_start(const char *const *args, int *admin_port);
#define ADMIN_START(port, ...) \
    it_http_start((const char *const[]){__VA_ARGS__, NULL}, (port))

/* Send raw (len bytes) to 127.0.0.1:port and read the answer until EOF
 * (bounded by IT_WAIT_MS); fails the case when there is no whole answer
 * (Content-Length bytes of body). */
void it_http_raw(int port, const char *raw, size_t len, it_http_resp *r);

/* A request with an optional body (NULL: none, no Content-Length). */
void it_http(int port, const char *method, const char *path,
             const char *body, it_http_resp *r);

/* The value of header name in r ("" when absent), into a static buffer. */
const char *it_http_header(const it_http_resp *r, const char *name);

/* Assert the status line and the exact body. */
void it_http_expect(const it_http_resp *r, const char *status_line,
                    const char *body);

void it_http_free(it_http_resp *r);

#endif
