/* fuzz_http.c -- the admin API's request parser (src/core/http.c).
 *
 * No reference parser: the properties instead. A whole request's result
 * does not depend on how its bytes arrived: a prefix of an input never
 * fails where the input itself does not, and a request found whole
 * (HTTP_DONE, length L) is found, the same, in every longer prefix and
 * in none shorter. What is found is within the limits of http.h (a
 * method of tchars, a target that is a path, a body no longer than
 * HTTP_MAX_BODY, inside the input), an error is a 4xx/5xx with a
 * one-line reason, and nothing outside the input is read (each prefix is
 * a buffer of exactly its size, so AddressSanitizer sees a byte past
 * it). */
#include "fuzz.h"

#include "http.h"

static enum http_result parse_exact(const uint8_t *data, size_t len,
                                    http_request *req)
{
    char *copy = malloc(len ? len : 1);
    FUZZ_ASSERT(copy != NULL);
    memcpy(copy, data, len);
    enum http_result r = http_parse(copy, len, req);
    if (r == HTTP_DONE) { /* body points into copy: check it, then drop */
        FUZZ_ASSERT(req->length <= len);
        FUZZ_ASSERT(req->body == copy + req->length - req->content_length);
        req->body = NULL;
    }
    free(copy);
    return r;
}

static void check_result(enum http_result r, const http_request *req)
{
    if (r == HTTP_ERROR) {
        FUZZ_ASSERT(req->status >= 400 && req->status <= 505);
        FUZZ_ASSERT(req->reason != NULL && req->reason[0] != '\0');
        FUZZ_ASSERT(strchr(req->reason, '\n') == NULL);
        return;
    }
    if (r != HTTP_DONE)
        return;
    FUZZ_ASSERT(req->method[0] != '\0');
    FUZZ_ASSERT(req->target[0] == '/');
    FUZZ_ASSERT(req->minor == 0 || req->minor == 1);
    FUZZ_ASSERT(req->content_length <= HTTP_MAX_BODY);
    FUZZ_ASSERT(req->length <= HTTP_MAX_HEAD + HTTP_MAX_BODY);
    for (const char *m = req->method; *m != '\0'; m++)
        FUZZ_ASSERT(*m > 0x20 && *m < 0x7f);
    for (const char *t = req->target; *t != '\0'; t++)
        FUZZ_ASSERT(*t > 0x20 && *t < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * HTTP_MAX_HEAD)
        return 0;
    http_request whole;
    enum http_result r = parse_exact(data, size, &whole);
    check_result(r, &whole);
    /* every prefix when short, else a spread of them */
    size_t step = size <= 600 ? 1 : size / 200 + 1;
    for (size_t cut = 0; cut < size; cut += step) {
        http_request part;
        enum http_result pr = parse_exact(data, cut, &part);
        check_result(pr, &part);
        if (pr == HTTP_ERROR && r != HTTP_ERROR)
            FUZZ_FAIL("a %zu-byte prefix fails (%d %s), the %zu bytes "
                      "do not", cut, part.status, part.reason, size);
        if (r == HTTP_DONE && cut < whole.length && pr != HTTP_MORE)
            FUZZ_FAIL("a %zu-byte prefix of a %zu-byte request is not "
                      "'more'", cut, whole.length);
        if (r == HTTP_DONE && cut >= whole.length &&
            (pr != HTTP_DONE || part.length != whole.length))
            FUZZ_FAIL("a %zu-byte prefix holding the %zu-byte request "
                      "does not find it", cut, whole.length);
        if (pr == HTTP_DONE && r != HTTP_DONE)
            FUZZ_FAIL("a %zu-byte prefix is a request, the %zu bytes "
                      "are not", cut, size);
    }
    return 0;
}
