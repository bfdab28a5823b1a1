/* it_http.c -- the admin API's client (see it_http.h). */
#include "it_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "it_cli.h"
#include "it_clock.h"
#include "test.h"

it_server *it_http_start(const char *const *args, int *admin_port)
{
    const char *all[64];
    int n = 0;
    all[n++] = "--admin";
    all[n++] = "127.0.0.1:0";
    for (const char *const *a = args; *a != NULL && n < 63; a++)
        all[n++] = *a;
    all[n] = NULL;
    it_server *s = it_server_start(all);
    char line[256];
    int rc = it_server_read_line(s, line, sizeof line, IT_WAIT_MS);
    if (rc != 1)
        TEST_FAIL("no admin readiness line within %d ms (%d)", IT_WAIT_MS,
                  rc);
    const char *prefix = "admin listening on 127.0.0.1:";
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        TEST_FAIL("expected \"%s...\", got \"%s\"", prefix, line);
    *admin_port = atoi(line + strlen(prefix));
    ASSERT_GT(*admin_port, 0);
    return s;
}

void it_http_raw(int port, const char *raw, size_t len, it_http_resp *r)
{
    memset(r, 0, sizeof *r);
    int fd = it_cli_connect("127.0.0.1", port);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(it_cli_send_all(fd, raw, len, IT_WAIT_MS), 0);
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    close(fd);
    if (rc != 0)
        TEST_FAIL("no answer to the end (%d), %zu bytes: %.*s", rc, n,
                  (int)n, in ? (char *)in : "");
    const char *text = (const char *)in;
    const char *eol = n ? memchr(text, '\r', n) : NULL;
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(text + i, "\r\n\r\n", 4) == 0) {
            end = text + i;
            break;
        }
    if (eol == NULL || end == NULL)
        TEST_FAIL("not an HTTP answer: %.*s", (int)n, text ? text : "");
    snprintf(r->status_line, sizeof r->status_line, "%.*s",
             (int)(eol - text), text);
    r->status = atoi(r->status_line + 9);
    snprintf(r->head, sizeof r->head, "%.*s", (int)(end + 2 - eol - 2),
             eol + 2);
    r->body_len = n - (size_t)(end + 4 - text);
    r->body = malloc(r->body_len + 1);
    ASSERT(r->body != NULL);
    memcpy(r->body, end + 4, r->body_len);
    r->body[r->body_len] = '\0';
    free(in);
    const char *cl = it_http_header(r, "Content-Length");
    ASSERT_EQ(strtoul(cl, NULL, 10), r->body_len);
}

void it_http(int port, const char *method, const char *path,
             const char *body, it_http_resp *r)
{
    char req[4096];
    int n;
    if (body == NULL)
        n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n\r\n",
                     method, path);
    else
        n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s", method, path,
                     strlen(body), body);
    ASSERT(n > 0 && (size_t)n < sizeof req);
    it_http_raw(port, req, (size_t)n, r);
}

const char *it_http_header(const it_http_resp *r, const char *name)
{
    static char value[512];
    size_t len = strlen(name);
    value[0] = '\0';
    for (const char *line = r->head; *line != '\0';) {
        const char *eol = strstr(line, "\r\n");
        if (eol == NULL)
            eol = line + strlen(line);
        if ((size_t)(eol - line) > len && line[len] == ':' &&
            strncasecmp(line, name, len) == 0) {
            const char *v = line + len + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(eol - v), v);
            return value;
        }
        line = *eol ? eol + 2 : eol;
    }
    return value;
}

void it_http_expect(const it_http_resp *r, const char *status_line,
                    const char *body)
{
    ASSERT_STR_EQ(r->status_line, status_line);
    ASSERT_STR_EQ(r->body, body);
}

void it_http_free(it_http_resp *r)
{
    free(r->body);
    r->body = NULL;
}
