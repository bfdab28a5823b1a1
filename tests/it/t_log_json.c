/* t_log_json.c -- --log-format json (issue 13): every line of a busy
 * run's log (trace lines with hex dumps, a script's control and
 * non-UTF-8 bytes, a flood folded into a count, summaries) is one JSON
 * object, checked by the strict parser below (RFC 8259, UTF-8 checked),
 * and a summary's fields are exact for known traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* ---- a strict JSON checker ---------------------------------------------- */

#define JSON_MAX_FIELDS 64
#define JSON_MAX_DEPTH 16

/* A top-level member: its key (raw, between the quotes) and its value's
 * text. */
typedef struct json_member {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} json_member;

static const char *json_value(const char *p, const char *end, int depth);

static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The length of a valid UTF-8 sequence at p (2 to 4), or 0. */
static size_t json_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned char b = p[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef)
        n = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        n = 4;
    else
        return 0;
    if (b == 0xe0)
        lo = 0xa0;
    if (b == 0xed)
        hi = 0x9f;
    if (b == 0xf0)
        lo = 0x90;
    if (b == 0xf4)
        hi = 0x8f;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return n;
}

static int is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
           (ch >= 'A' && ch <= 'F');
}

/* A string at p (its opening quote): past its closing quote, or NULL. */
static const char *json_string(const char *p, const char *end)
{
    if (p >= end || *p != '"')
        return NULL;
    p++;
    while (p < end) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            return p + 1;
        if (ch < 0x20)
            return NULL;
        if (ch == '\\') {
            if (p + 1 >= end)
                return NULL;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) ||
                    !is_hex(p[4]) || !is_hex(p[5]))
                    return NULL;
                p += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                p += 2;
            } else {
                return NULL;
            }
        } else if (ch >= 0x80) {
            size_t n = json_utf8((const unsigned char *)p,
                                 (const unsigned char *)end);
            if (n == 0)
                return NULL;
            p += n;
        } else {
            p++;
        }
    }
    return NULL;
}

static const char *json_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

/* An object at p; its members into m (when not NULL; at most
 * JSON_MAX_FIELDS), their count in *n. Past it, or NULL. */
static const char *json_object(const char *p, const char *end, int depth,
                               json_member *m, int *n)
{
    int count = 0;
    p = json_ws(p + 1, end);
    if (p < end && *p == '}') {
        if (n)
            *n = 0;
        return p + 1;
    }
    for (;;) {
        const char *key = p;
        p = json_string(p, end);
        if (p == NULL)
            return NULL;
        const char *key_end = p;
        p = json_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = json_ws(p + 1, end);
        const char *value = p;
        p = json_value(p, end, depth + 1);
        if (p == NULL)
            return NULL;
        if (m != NULL) {
            if (count == JSON_MAX_FIELDS)
                return NULL;
            m[count].key = key + 1;
            m[count].key_len = (size_t)(key_end - key - 2);
            m[count].value = value;
            m[count].value_len = (size_t)(p - value);
        }
        count++;
        p = json_ws(p, end);
        if (p < end && *p == ',') {
            p = json_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            if (n)
                *n = count;
            return p + 1;
        }
        return NULL;
    }
}

static const char *json_value(const char *p, const char *end, int depth)
{
    if (depth > JSON_MAX_DEPTH || p >= end)
        return NULL;
    switch (*p) {
    case '{':
        return json_object(p, end, depth, NULL, NULL);
    case '[':
        p = json_ws(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            p = json_value(p, end, depth + 1);
            if (p == NULL)
                return NULL;
            p = json_ws(p, end);
            if (p < end && *p == ',') {
                p = json_ws(p + 1, end);
                continue;
            }
            return p < end && *p == ']' ? p + 1 : NULL;
        }
    case '"':
        return json_string(p, end);
    case 't':
        return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return json_number(p, end);
    }
}

/* line (len bytes, no newline) is exactly one JSON object: 1, its
 * members in m, their count in *n. */
static int json_line(const char *line, size_t len, json_member *m, int *n)
{
    const char *end = line + len;
    if (len == 0 || line[0] != '{')
        return 0;
    const char *p = json_object(line, end, 0, m, n);
    return p != NULL && json_ws(p, end) == end;
}

/* The value text of member key, or NULL. */
static const char *member(const json_member *m, int n, const char *key,
                          char *out, size_t cap)
{
    for (int i = 0; i < n; i++) {
        if (m[i].key_len != strlen(key) ||
            memcmp(m[i].key, key, m[i].key_len) != 0)
            continue;
        ASSERT_LT(m[i].value_len, cap);
        memcpy(out, m[i].value, m[i].value_len);
        out[m[i].value_len] = '\0';
        return out;
    }
    return NULL;
}

/* The checker itself: what it must refuse. */
static void checker_refuses(void)
{
    static const char *const bad[] = {
        "{\"a\":1,}", "{\"a\":01}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x41\"}",
        "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":tru}",
        "{\"a\":1} x", "[1]", "{\"a\":\"\\u12\"}", "{a:1}", "{\"a\":1.}",
        "{\"a\":\"\xed\xa0\x80\"}",
    };
    json_member m[JSON_MAX_FIELDS];
    int n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_line(bad[i], strlen(bad[i]), m, &n))
            TEST_FAIL("the checker took %s", bad[i]);
    static const char good[] = "{\"a\":[1,-2.5e3,true,null,{}],\"b\":"
                               "\"\\u00ff\\n\xc3\xa9\"}";
    ASSERT(json_line(good, sizeof good - 1, m, &n));
    ASSERT_EQ(n, 2);
}

/* ---- the run ------------------------------------------------------------ */

#define QUIET_CONNS 30
/* A script's print with control bytes, a CSI sequence, bytes that are
 * not UTF-8 and a UTF-8 'e' with an acute accent. */
#define PRINTED "P\x01\x1b[31m\xff\xfe\"\\\xc3\xa9"

void log_json_lines(void)
{
    checker_refuses();
    it_server *s = SERVER_START("--log-format", "json", "--trace",
                                "--hexdump", FIXTURE("log_client.lua"));
    int fd = it_cli_connect_to(s, 0);
    char got[64], peer[64], value[4096];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, PRINTED);
    ASSERT_EQ(it_cli_recv_n(fd, got, sizeof PRINTED - 1, IT_WAIT_MS),
              sizeof PRINTED - 1);
    CLI_SEND(fd, "F");   /* fifty warnings: one and a count */
    ASSERT_EQ(it_cli_recv_n(fd, got, 1, IT_WAIT_MS), 1);
    CLI_SEND(fd, "W\n\xff");
    ASSERT_EQ(it_cli_recv_n(fd, got, 3, IT_WAIT_MS), 3);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    for (int i = 0; i < QUIET_CONNS; i++) {
        int q = it_cli_connect_to(s, 0);
        CLI_SEND(q, "quiet"); /* a warning each: folded too */
        it_cli_shut_wr(q);
        ASSERT_EQ(it_cli_recv_n(q, got, 5, IT_WAIT_MS), 5);
        ASSERT_EQ(it_cli_recv_eof(q, NULL, NULL, 0, IT_WAIT_MS), 0);
        close(q);
    }
    char needle[32];
    snprintf(needle, sizeof needle, "\"conn\":%d,\"event\":\"conn_done\"",
             QUIET_CONNS + 1);
    ASSERT(it_log_wait(s, needle, IT_WAIT_MS));
    it_server_stop(s); /* the flood's count is written as the worker ends */

    char *log = it_log_read(s);
    int lines = 0, summaries = 0, repeats = 0, printed = 0, conn1 = 0;
    json_member m[JSON_MAX_FIELDS];
    int n;
    for (char *line = log; *line != '\0';) {
        char *eol = strchr(line, '\n');
        ASSERT(eol != NULL); /* every line ends */
        if (!json_line(line, (size_t)(eol - line), m, &n))
            TEST_FAIL("not one JSON object: %.*s", (int)(eol - line), line);
        lines++;
        ASSERT(member(m, n, "time", value, sizeof value) != NULL);
        ASSERT_EQ(strlen(value), 26);  /* "2026-12-02T05:20:45.123Z" */
        ASSERT_EQ(value[11], 'T');
        ASSERT(member(m, n, "level", value, sizeof value) != NULL);
        ASSERT(strstr("\"error\" \"warn\" \"info\" \"debug\" \"trace\"",
                      value) != NULL);
        ASSERT_EQ(strncmp(m[0].key, "time", 4), 0);
        ASSERT_EQ(strncmp(m[1].key, "level", 5), 0);
        int has_msg = member(m, n, "msg", value, sizeof value) != NULL;
        if (has_msg && (strstr(value, " (repeated ") != NULL ||
                        strstr(value, " similar lines in the last") != NULL))
            repeats++;
        if (has_msg && strcmp(value, "\"" "P\\u0001\\u001b[31m\\u00ff"
                              "\\u00fe\\\"\\\\\xc3\xa9" "\"") == 0)
            printed++;
        if (member(m, n, "event", value, sizeof value) == NULL) {
            ASSERT(has_msg);
        } else {
            ASSERT_STR_EQ(value, "\"conn_done\"");
            summaries++;
        }
        if (member(m, n, "conn", value, sizeof value) != NULL &&
            strcmp(value, "1") == 0 &&
            member(m, n, "event", value, sizeof value) != NULL) {
            char want[96];
            snprintf(want, sizeof want, "\"%s\"", peer);
            ASSERT_STR_EQ(member(m, n, "peer", value, sizeof value), want);
            ASSERT_STR_EQ(member(m, n, "in", value, sizeof value), "17");
            ASSERT_STR_EQ(member(m, n, "out", value, sizeof value), "17");
            /* on_data thrice */
            ASSERT_STR_EQ(member(m, n, "hooks", value, sizeof value), "3");
            ASSERT_STR_EQ(member(m, n, "first_fin", value, sizeof value),
                          "\"client\"");
            ASSERT_STR_EQ(member(m, n, "reason", value, sizeof value),
                          "\"done\"");
            ASSERT(member(m, n, "ms", value, sizeof value) != NULL);
            ASSERT(json_number(value, value + strlen(value)) ==
                   value + strlen(value));
            ASSERT_EQ(n, 11); /* time level conn event peer ms in out
                                 hooks first_fin reason */
            conn1++;
        }
        line = eol + 1;
    }
    ASSERT_EQ(conn1, 1);
    ASSERT_EQ(printed, 1);
    ASSERT_EQ(summaries, QUIET_CONNS + 1);
    ASSERT_EQ(repeats, 1);
    ASSERT_GT(lines, 8 * QUIET_CONNS); /* trace: a busy log */
    free(log);
}
