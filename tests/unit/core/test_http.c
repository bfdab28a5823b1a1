/* test_http.c -- the admin endpoint's request parser: good requests whole
 * and split at every byte, pipelining, and hostile input (bad method,
 * NUL, bare LF/CR, folding, oversize head, body and target, chunked). */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "http.h"
#include "test.h"

/* Parse text[0..len) whole, then every prefix: each prefix must say
 * HTTP_MORE or the whole's own error status, never DONE early. */
static enum http_result parse_all_splits(const char *text, size_t len,
                                         http_request *whole)
{
    enum http_result r = http_parse(text, len, whole);
    for (size_t cut = 0; cut < len; cut++) {
        http_request part;
        enum http_result pr = http_parse(text, cut, &part);
        if (r == HTTP_ERROR && pr == HTTP_ERROR) {
            ASSERT_EQ(part.status, whole->status);
            continue;
        }
        ASSERT_EQ(pr, HTTP_MORE);
    }
    return r;
}

static void expect_error(const char *text, size_t len, int status,
                         const char *reason)
{
    http_request req;
    ASSERT_EQ(parse_all_splits(text, len, &req), HTTP_ERROR);
    ASSERT_EQ(req.status, status);
    ASSERT_STR_EQ(req.reason, reason);
}

void test_http_get(void)
{
    static const char text[] = "GET /connections HTTP/1.1\r\n"
                               "Host: 127.0.0.1:9901\r\n"
                               "User-Agent: curl/8.5.0\r\n\r\n";
    http_request req;
    ASSERT_EQ(parse_all_splits(text, sizeof text - 1, &req), HTTP_DONE);
    ASSERT_STR_EQ(req.method, "GET");
    ASSERT_STR_EQ(req.target, "/connections");
    ASSERT_EQ(req.minor, 1);
    ASSERT_EQ(req.has_length, 0);
    ASSERT_UEQ(req.content_length, 0);
    ASSERT_UEQ(req.length, sizeof text - 1);
}

void test_http_post_body(void)
{
    static const char text[] = "POST /args HTTP/1.0\r\n"
                               "content-LENGTH:  11 \r\n"
                               "Content-Type: application/"
                               "x-www-form-urlencoded\r\n\r\n"
                               "latency=200";
    http_request req;
    ASSERT_EQ(parse_all_splits(text, sizeof text - 1, &req), HTTP_DONE);
    ASSERT_STR_EQ(req.method, "POST");
    ASSERT_EQ(req.minor, 0);
    ASSERT_EQ(req.has_length, 1);
    ASSERT_UEQ(req.content_length, 11);
    ASSERT_MEM_EQ(req.body, 11, "latency=200", 11);
    ASSERT_UEQ(req.length, sizeof text - 1);
}

/* Two requests back to back: the first ends where the second starts. */
void test_http_pipelined(void)
{
    static const char text[] = "POST /reload HTTP/1.1\r\nContent-Length: 2"
                               "\r\n\r\nokGET /script HTTP/1.1\r\n\r\n";
    http_request req;
    ASSERT_EQ(http_parse(text, sizeof text - 1, &req), HTTP_DONE);
    ASSERT_MEM_EQ(req.body, 2, "ok", 2);
    size_t first = req.length;
    ASSERT_EQ(http_parse(text + first, sizeof text - 1 - first, &req),
              HTTP_DONE);
    ASSERT_STR_EQ(req.target, "/script");
    ASSERT_UEQ(first + req.length, sizeof text - 1);
}

#define BADLINE "bad request line: expected METHOD SP PATH SP HTTP/1.1"
#define ERR(text, status, reason) \
    expect_error(text, sizeof text - 1, status, reason)

void test_http_bad_request_line(void)
{
    ERR("G(T / HTTP/1.1\r\n\r\n", 400, BADLINE);
    ERR("GET\t/ HTTP/1.1\r\n\r\n", 400, BADLINE);
    ERR("\r\n\r\n", 400, BADLINE);
    ERR("GET  / HTTP/1.1\r\n\r\n", 400, BADLINE);
    ERR("GET /\r\n\r\n", 400, BADLINE);
    ERR("GET / HTTP/1.1 \r\n\r\n", 400, BADLINE);
    ERR("GET / FTP/1.1\r\n\r\n", 400, BADLINE);
    ERR("GET / HTTP/2.0\r\n\r\n", 505,
        "only HTTP/1.0 and HTTP/1.1 are served");
    ERR("GET http://x/ HTTP/1.1\r\n\r\n", 400,
        "request target must be a path (/...)");
    ERR("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", 501,
        "method not implemented");
    ERR("GET /\x80 HTTP/1.1\r\n\r\n", 400, BADLINE);
}

void test_http_hostile_bytes(void)
{
    ERR("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400,
        "NUL byte in the request head");
    ERR("G\0T / HTTP/1.1\r\n\r\n", 400, "NUL byte in the request head");
    ERR("GET / HTTP/1.1\nHost: x\r\n\r\n", 400,
        "bare LF in the request head (lines end with CRLF)");
    ERR("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400,
        "bare CR in the request head");
    ERR("GET / HTTP/1.1\r\nX: a\x01 b\r\n\r\n", 400,
        "control byte in a header value");
    ERR("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "folded header line");
    ERR("GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400,
        "bad header line: expected NAME: VALUE");
    ERR("GET / HTTP/1.1\r\n: empty\r\n\r\n", 400,
        "bad header line: expected NAME: VALUE");
}

void test_http_lengths(void)
{
    ERR("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400,
        "bad Content-Length");
    ERR("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
        "bad Content-Length");
    ERR("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400,
        "bad Content-Length");
    ERR("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
        "\r\nab", 400, "conflicting Content-Length headers");
    ERR("POST / HTTP/1.1\r\nContent-Length: 8193\r\n\r\n", 413,
        "request body over 8192 bytes");
    ERR("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n"
        "\r\n", 413, "request body over 8192 bytes");
    ERR("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
        "Transfer-Encoding is not supported: send the body with a "
        "Content-Length");
    /* the same length twice is one length */
    static const char twice[] = "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                                "Content-Length: 1\r\n\r\nz";
    http_request req;
    ASSERT_EQ(http_parse(twice, sizeof twice - 1, &req), HTTP_DONE);
    ASSERT_UEQ(req.content_length, 1);
}

void test_http_oversize(void)
{
    static char big[HTTP_MAX_HEAD + 64];
    http_request req;
    /* a head that never ends: refused at the limit, not before */
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    ASSERT_EQ(http_parse(big, HTTP_MAX_HEAD - 1, &req), HTTP_MORE);
    ASSERT_EQ(http_parse(big, HTTP_MAX_HEAD, &req), HTTP_ERROR);
    ASSERT_EQ(req.status, 431);
    ASSERT_STR_EQ(req.reason, "request head over 8192 bytes");
    /* a head of exactly the limit is served */
    size_t n = 0;
    n += (size_t)sprintf(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'v', HTTP_MAX_HEAD - n - 4);
    memcpy(big + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
    ASSERT_EQ(http_parse(big, HTTP_MAX_HEAD, &req), HTTP_DONE);
    ASSERT_UEQ(req.length, HTTP_MAX_HEAD);
    /* a target over 255 bytes */
    n = (size_t)sprintf(big, "GET /");
    memset(big + n, 'p', 300);
    n += 300;
    n += (size_t)sprintf(big + n, " HTTP/1.1\r\n\r\n");
    expect_error(big, n, 414, "request target over 255 bytes");
    /* too many header lines */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        n += (size_t)sprintf(big + n, "X: %d\r\n", i);
    n += (size_t)sprintf(big + n, "\r\n");
    expect_error(big, n, 431, "over 64 header lines");
}

void test_http_status_text(void)
{
    ASSERT_STR_EQ(http_status_text(404), "Not Found");
    ASSERT_STR_EQ(http_status_text(431), "Request Header Fields Too Large");
    ASSERT_STR_EQ(http_status_text(299), "Unknown");
}
