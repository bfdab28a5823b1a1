/* http.h -- a bounded HTTP/1.1 request parser for the admin endpoint.
 *
 * Pure: it reads a buffer and fills a struct, no sockets, no allocation.
 * The caller keeps appending what it receives and calls http_parse again
 * until it answers done or an error. Limits: the request line and
 * headers together at most HTTP_MAX_HEAD bytes, HTTP_MAX_HEADERS header
 * lines, a body only by Content-Length and at most HTTP_MAX_BODY bytes.
 * Transfer-Encoding (chunked bodies) is refused. */
#ifndef RICOCHET_HTTP_H
#define RICOCHET_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_BODY 8192
#define HTTP_MAX_METHOD 15
#define HTTP_MAX_TARGET 255

enum http_result {
    HTTP_MORE = 0,   /* incomplete: append more bytes and call again */
    HTTP_DONE = 1,   /* a whole request is in the buffer */
    HTTP_ERROR = -1  /* bad: answer status with reason, then close */
};

typedef struct http_request {
    char method[HTTP_MAX_METHOD + 1];  /* "GET" */
    char target[HTTP_MAX_TARGET + 1];  /* "/connections/7/close" */
    int minor;                         /* HTTP/1.minor: 0 or 1 */
    int has_length;                    /* a Content-Length was given */
    size_t content_length;
    const char *body;                  /* in the caller's buffer */
    size_t length;                     /* head and body: bytes used */
    int status;                        /* HTTP_ERROR: 400, 413, ... */
    const char *reason;                /* HTTP_ERROR: a one-line why */
} http_request;

/* Parse the request at the start of buf[0..len). Returns HTTP_DONE with
 * req filled (req->body points into buf), HTTP_MORE when more bytes are
 * needed (nothing seen so far is wrong and no limit is passed), or
 * HTTP_ERROR with req->status and req->reason (a static string). Bytes
 * after req->length (a pipelined request) are not looked at. */
enum http_result http_parse(const char *buf, size_t len, http_request *req);

/* The standard reason phrase of status ("Not Found"); "Unknown" for a
 * status it does not know. */
const char *http_status_text(int status);

#endif
