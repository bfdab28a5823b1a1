/* http.c -- the admin endpoint's HTTP/1.1 request parser (see http.h).
 * Strict where being lenient would let a bad request through quietly:
 * lines end with CRLF, no NUL or control bytes, no folded headers, one
 * Content-Length, no Transfer-Encoding (RFC 9112 sections 2 to 6). */
#include "http.h"

#include <string.h>

static enum http_result fail(http_request *req, int status,
                             const char *reason)
{
    req->status = status;
    req->reason = reason;
    return HTTP_ERROR;
}

/* RFC 9110 tchar: the bytes of a method or a header name. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int name_is(const char *name, size_t len, const char *want)
{
    if (strlen(want) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (lower((unsigned char)name[i]) != want[i])
            return 0;
    return 1;
}

/* The request line, line[0..len) without its CRLF. */
static enum http_result parse_request_line(const char *line, size_t len,
                                           http_request *req)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)line[i]))
        i++;
    if (i > HTTP_MAX_METHOD)
        return fail(req, 501, "method not implemented");
    if (i == 0 || i >= len || line[i] != ' ')
        return fail(req, 400, "bad request line: expected METHOD SP "
                    "PATH SP HTTP/1.1");
    memcpy(req->method, line, i);
    req->method[i] = '\0';
    size_t start = ++i;
    while (i < len && line[i] > 0x20 && line[i] < 0x7f)
        i++;
    if (i >= len || line[i] != ' ' || i == start)
        return fail(req, 400, "bad request line: expected METHOD SP "
                    "PATH SP HTTP/1.1");
    if (i - start > HTTP_MAX_TARGET)
        return fail(req, 414, "request target over 255 bytes");
    if (line[start] != '/')
        return fail(req, 400, "request target must be a path (/...)");
    memcpy(req->target, line + start, i - start);
    req->target[i - start] = '\0';
    const char *version = line + i + 1;
    size_t vlen = len - i - 1;
    if (vlen == 8 && memcmp(version, "HTTP/1.", 7) == 0 &&
        (version[7] == '0' || version[7] == '1')) {
        req->minor = version[7] - '0';
        return HTTP_DONE;
    }
    if (vlen == 8 && memcmp(version, "HTTP/", 5) == 0 &&
        version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
        version[7] >= '0' && version[7] <= '9')
        return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    return fail(req, 400, "bad request line: expected METHOD SP PATH SP "
                "HTTP/1.1");
}

/* One header line, line[0..len) without its CRLF. */
static enum http_result parse_header(const char *line, size_t len,
                                     http_request *req)
{
    if (line[0] == ' ' || line[0] == '\t')
        return fail(req, 400, "folded header line");
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ':')
        return fail(req, 400, "bad header line: expected NAME: VALUE");
    size_t name_len = i++;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t end = len;
    while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)line[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(req, 400, "control byte in a header value");
    }
    if (name_is(line, name_len, "transfer-encoding"))
        return fail(req, 501, "Transfer-Encoding is not supported: send "
                    "the body with a Content-Length");
    if (!name_is(line, name_len, "content-length"))
        return HTTP_DONE;
    if (i == end)
        return fail(req, 400, "bad Content-Length");
    size_t n = 0;
    for (size_t k = i; k < end; k++) {
        if (line[k] < '0' || line[k] > '9')
            return fail(req, 400, "bad Content-Length");
        if (n <= HTTP_MAX_BODY) /* beyond: too large, however large */
            n = n * 10 + (size_t)(line[k] - '0');
    }
    if (req->has_length && n != req->content_length)
        return fail(req, 400, "conflicting Content-Length headers");
    req->has_length = 1;
    req->content_length = n;
    return HTTP_DONE;
}

enum http_result http_parse(const char *buf, size_t len, http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t scan = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    size_t head_end = 0; /* just past the blank line */
    for (size_t i = 0; i < scan && head_end == 0; i++) {
        if (buf[i] == '\0')
            return fail(req, 400, "NUL byte in the request head");
        if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
            return fail(req, 400, "bare CR in the request head");
        if (buf[i] != '\n')
            continue;
        if (i == 0 || buf[i - 1] != '\r')
            return fail(req, 400, "bare LF in the request head (lines "
                        "end with CRLF)");
        if (i >= 3 && buf[i - 2] == '\n')
            head_end = i + 1;
    }
    if (head_end == 0) {
        if (len >= HTTP_MAX_HEAD)
            return fail(req, 431, "request head over 8192 bytes");
        /* a method that cannot be one is refused before the head ends */
        for (size_t i = 0; i < len && buf[i] != ' '; i++) {
            if (!is_tchar((unsigned char)buf[i]))
                return fail(req, 400, "bad request line: expected METHOD "
                            "SP PATH SP HTTP/1.1");
            if (i >= HTTP_MAX_METHOD)
                return fail(req, 501, "method not implemented");
        }
        return HTTP_MORE;
    }
    const char *line = buf;
    const char *crlf = memchr(line, '\r', head_end);
    if (parse_request_line(line, (size_t)(crlf - line), req) != HTTP_DONE)
        return HTTP_ERROR;
    int headers = 0;
    for (line = crlf + 2; line < buf + head_end - 2; line = crlf + 2) {
        crlf = memchr(line, '\r', (size_t)(buf + head_end - line));
        if (++headers > HTTP_MAX_HEADERS)
            return fail(req, 431, "over 64 header lines");
        if (parse_header(line, (size_t)(crlf - line), req) != HTTP_DONE)
            return HTTP_ERROR;
    }
    if (req->content_length > HTTP_MAX_BODY)
        return fail(req, 413, "request body over 8192 bytes");
    if (len - head_end < req->content_length)
        return HTTP_MORE;
    req->body = buf + head_end;
    req->length = head_end + req->content_length;
    return HTTP_DONE;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
