/* test_log.c -- level names and filtering; control bytes escaped; the
 * rate limit of repeated lines (on a clock of the test's). The line's
 * stamp is checked by the black-box tests, which read the server's
 * stderr. */
#include "cases.h"
#include "err.h"
#include "log.h"
#include "test.h"
#include "thread.h"

void test_log_levels(void)
{
    static const char *const names[] = {
        "error", "warn", "info", "debug", "trace"
    };
    ASSERT_EQ(log_get_level(), LOG_INFO);
    for (int i = 0; i <= (int)LOG_TRACE; i++) {
        log_level level = LOG_ERROR;
        ASSERT_EQ(log_parse_level(names[i], &level), 0);
        ASSERT_EQ(level, i);
        ASSERT_STR_EQ(log_level_name(level), names[i]);
    }
    log_level untouched = LOG_WARN;
    ASSERT_EQ(log_parse_level("warning", &untouched), ERR_EINVAL);
    ASSERT_EQ(log_parse_level("", &untouched), ERR_EINVAL);
    ASSERT_EQ(log_parse_level("INFO", &untouched), ERR_EINVAL);
    ASSERT_EQ(untouched, LOG_WARN);

    log_set_level(LOG_ERROR);
    ASSERT_EQ(log_get_level(), LOG_ERROR);
    log_warn("this line must not appear");
    log_set_level(LOG_TRACE);
    ASSERT_EQ(log_get_level(), LOG_TRACE);
    log_set_level(LOG_INFO);
}

/* Longer than the stack buffer: goes through the heap path whole. */
void test_log_long_line(void)
{
    char text[3001];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    log_info("long line: %s (end)", text);
    log_info("two lines\n  second line, then a trailing newline\n");
}

/* ---- what reaches the log: captured lines ------------------------------ */

/* Every line written while captured, back to back. */
static char captured[65536];
static size_t captured_len;
static uint64_t fake_now = 1000;

static void capture(const char *line, size_t len, void *data)
{
    (void)data;
    ASSERT_LE(captured_len + len, sizeof captured - 1);
    memcpy(captured + captured_len, line, len);
    captured_len += len;
    captured[captured_len] = '\0';
}

static uint64_t fake_clock(void) { return fake_now; }

/* Capture lines on a clock of the test's; counts owed by earlier cases of
 * this thread are written out first, to the real log. */
static void capture_start(void)
{
    log_repeats_flush(1);
    captured_len = 0;
    captured[0] = '\0';
    fake_now = 1000;
    log_set_sink(capture, NULL);
    log_set_clock(fake_clock);
}

static void capture_stop(void)
{
    log_repeats_flush(1);
    log_set_sink(NULL, NULL);
    log_set_clock(NULL);
    log_set_level(LOG_INFO);
    log_set_hexdump(0);
}

/* Lines captured: one per '\n' not followed by a space or a TAB. */
static int captured_entries(void)
{
    int n = 0;
    for (size_t i = 0; i < captured_len; i++)
        if (captured[i] == '\n' && captured[i + 1] != ' ' &&
            captured[i + 1] != '\t')
            n++;
    return n;
}

/* The message of the nth entry (0-based) without its stamp, level and
 * newline, into out. A stamp is "2026-11-26T06:14:11.123Z" and the level
 * is padded to 5: the message starts at column 31. */
static void entry_body(int nth, char *out, size_t cap)
{
    const char *p = captured;
    for (int i = 0; i < nth; i++) {
        do {
            p = strchr(p, '\n');
            ASSERT(p != NULL);
            p++;
        } while (*p == ' ' || *p == '\t');
    }
    ASSERT(strlen(p) > 31);
    ASSERT_EQ(p[4], '-');
    ASSERT_EQ(p[23], 'Z');
    const char *end = p + 31;
    for (;;) {
        end = strchr(end, '\n');
        ASSERT(end != NULL);
        if (end[1] != ' ' && end[1] != '\t')
            break;
        end++;
    }
    size_t len = (size_t)(end - (p + 31));
    ASSERT_LT(len, cap);
    memcpy(out, p + 31, len);
    out[len] = '\0';
}

static void expect_entry(int nth, const char *want)
{
    char got[16384];
    entry_body(nth, got, sizeof got);
    ASSERT_STR_EQ(got, want);
}

void test_log_escape(void)
{
    capture_start();
    log_info("%s", "a\rb\x1b[2Jc\x7f" "d");
    log_info("got %s", "x\n2026-01-01T00:00:00.000Z error forged");
    log_info("%s", "line\n");
    log_info("tab\t%s", "kept\t");
    log_info("%s", "caf\xc3\xa9");
    log_info("a%cb%c", 1, 0);
    /* ricochet's own continuation lines are indented: kept as lines */
    log_error("%s", "boom\nstack traceback:\n\t[C]: in ?\n  row");
    /* a continuation may not start unindented, even after a kept one */
    log_error("%s", "x\n\ty\nz");
    ASSERT_EQ(captured_entries(), 8);
    expect_entry(0, "a\\rb\\x1b[2Jc\\x7fd");
    expect_entry(1, "got x\\n2026-01-01T00:00:00.000Z error forged");
    expect_entry(2, "line\\n");
    expect_entry(3, "tab\tkept\t");
    expect_entry(4, "caf\xc3\xa9");
    expect_entry(5, "a\\x01b\\x00");
    expect_entry(6, "boom\\nstack traceback:\n\t[C]: in ?\n  row");
    expect_entry(7, "x\n\ty\\nz");
    capture_stop();
}

/* Longer than the stack buffers, every byte escaped: the heap path. */
void test_log_escape_long(void)
{
    char text[3001], want[4 * 3000 + 1];
    memset(text, 0x1b, 3000);
    text[3000] = '\0';
    for (int i = 0; i < 3000; i++)
        memcpy(want + 4 * i, "\\x1b", 4);
    want[4 * 3000] = '\0';
    capture_start();
    log_info("%s", text);
    ASSERT_EQ(captured_entries(), 1);
    expect_entry(0, want);
    capture_stop();
}

/* A hex dump's rows are lines of the same entry; its text column shows
 * control bytes as dots. */
void test_log_escape_hexdump(void)
{
    capture_start();
    log_set_level(LOG_TRACE);
    log_set_hexdump(1);
    log_hexdump("conn 1: in 3 bytes", "\x1b\nA", 3);
    ASSERT_EQ(captured_entries(), 1);
    expect_entry(0, "conn 1: in 3 bytes\n  00000000  1b 0a 41"
                    "                                          |..A|");
    capture_stop();
}

void test_log_repeats_identical(void)
{
    capture_start();
    for (int i = 0; i < 1000; i++)
        log_warn("flood %d", 7);
    ASSERT_EQ(captured_entries(), 1);
    expect_entry(0, "flood 7");
    ASSERT_EQ(log_repeats_due_ms(), LOG_REPEAT_WINDOW_MS);
    fake_now += LOG_REPEAT_WINDOW_MS - 1;
    ASSERT_EQ(log_repeats_due_ms(), 1);
    log_repeats_flush(0);
    ASSERT_EQ(captured_entries(), 1);
    fake_now += 1;
    ASSERT_EQ(log_repeats_due_ms(), 0);
    log_repeats_flush(0);
    ASSERT_EQ(captured_entries(), 2);
    expect_entry(1, "flood 7 (repeated 999 times in the last 5 s)");
    ASSERT_EQ(log_repeats_due_ms(), -1);

    /* the flood goes on: a count every window, the line not again */
    fake_now += 100;
    log_warn("flood %d", 7);
    ASSERT_EQ(captured_entries(), 2);
    fake_now += LOG_REPEAT_WINDOW_MS;
    log_warn("flood %d", 7); /* the window ended: this line writes it */
    ASSERT_EQ(captured_entries(), 3);
    expect_entry(2, "flood 7 (repeated once in the last 6 s)");
    fake_now += LOG_REPEAT_WINDOW_MS;
    log_repeats_flush(0);
    ASSERT_EQ(captured_entries(), 4);
    expect_entry(3, "flood 7 (repeated once in the last 5 s)");

    /* after a quiet window the line shows again; another one at once */
    fake_now += LOG_REPEAT_WINDOW_MS;
    log_warn("flood %d", 7);
    log_warn("flood %d", 8);
    ASSERT_EQ(captured_entries(), 6);
    expect_entry(4, "flood 7");
    expect_entry(5, "flood 8");
    ASSERT_EQ(log_repeats_due_ms(), -1);
    capture_stop();
}

void test_log_repeats_burst(void)
{
    char want[64];
    capture_start();
    for (int i = 0; i < 100; i++)
        log_error("conn %d: bad", i);
    ASSERT_EQ(captured_entries(), LOG_REPEAT_BURST);
    for (int i = 0; i < LOG_REPEAT_BURST; i++) {
        snprintf(want, sizeof want, "conn %d: bad", i);
        expect_entry(i, want);
    }
    fake_now += 1500; /* a thread that ends writes its counts at once */
    log_repeats_flush(1);
    ASSERT_EQ(captured_entries(), LOG_REPEAT_BURST + 1);
    expect_entry(LOG_REPEAT_BURST,
                 "conn 99: bad (and 89 similar lines in the last 2 s)");
    capture_stop();
}

/* Each call site and level has its own window; info and below are never
 * limited. */
void test_log_repeats_sites(void)
{
    capture_start();
    for (int i = 0; i < 100; i++) {
        log_warn("site A");
        log_error("site B");
        log_msg(i % 2 ? LOG_WARN : LOG_ERROR, "site %s", "C");
        log_info("site I");
    }
    ASSERT_EQ(captured_entries(), 4 + 100);
    expect_entry(0, "site A");
    expect_entry(1, "site B");
    expect_entry(2, "site C");
    expect_entry(3, "site I");
    expect_entry(4, "site C");
    expect_entry(5, "site I");
    fake_now += LOG_REPEAT_WINDOW_MS;
    log_repeats_flush(0);
    ASSERT_EQ(captured_entries(), 4 + 100 + 4);
    expect_entry(104, "site A (repeated 99 times in the last 5 s)");
    expect_entry(105, "site B (repeated 99 times in the last 5 s)");
    expect_entry(106, "site C (repeated 49 times in the last 5 s)");
    expect_entry(107, "site C (repeated 49 times in the last 5 s)");
    capture_stop();
}

/* More call sites than the table holds: the one followed longest gives
 * its place up, its count written first; nothing is lost. */
void test_log_repeats_many_sites(void)
{
    enum { SITES = 40 };
    static char formats[SITES][32];
    char want[96];
    capture_start();
    for (int i = 0; i < SITES; i++)
        snprintf(formats[i], sizeof formats[i], "site %d %%s", i);
    for (int i = 0; i < SITES; i++) {
        fake_now++;
        log_msg(LOG_WARN, formats[i], "x");
        log_msg(LOG_WARN, formats[i], "x");
    }
    log_repeats_flush(1);
    ASSERT_EQ(captured_entries(), 2 * SITES);
    for (int i = 0; i < SITES; i++) {
        snprintf(want, sizeof want, "site %d x (repeated once in the last "
                 "1 s)", i);
        ASSERT(strstr(captured, want) != NULL);
    }
    capture_stop();
}

static void log_from_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        log_warn("per thread");
    log_repeats_flush(1);
}

/* The state is per thread: each has its first line; no lock. */
void test_log_repeats_threads(void)
{
    thread *t;
    capture_start();
    ASSERT_EQ(thread_start(&t, log_from_thread, NULL), 0);
    thread_join(t);
    ASSERT_EQ(captured_entries(), 2);
    for (int i = 0; i < 50; i++)
        log_warn("per thread");
    ASSERT_EQ(captured_entries(), 3);
    expect_entry(0, "per thread");
    expect_entry(1, "per thread (repeated 49 times in the last 1 s)");
    expect_entry(2, "per thread");
    capture_stop();
}

/* ---- JSON --------------------------------------------------------------- */

static void expect_json_escape(const char *in, size_t len, const char *want)
{
    char out[256];
    ASSERT_LE(log_json_escaped_len(in, len), sizeof out);
    char *end = log_json_escape(out, in, len);
    ASSERT_EQ((size_t)(end - out), log_json_escaped_len(in, len));
    ASSERT_MEM_EQ(out, (size_t)(end - out), want, strlen(want));
}

#define EXPECT_JSON_ESCAPE(in, want) \
    expect_json_escape(in, sizeof in - 1, want)

void test_log_json_escape(void)
{
    EXPECT_JSON_ESCAPE("plain text", "plain text");
    EXPECT_JSON_ESCAPE("", "");
    EXPECT_JSON_ESCAPE("q\"b\\s/", "q\\\"b\\\\s/");
    EXPECT_JSON_ESCAPE("\n\r\t\b\f", "\\n\\r\\t\\b\\f");
    EXPECT_JSON_ESCAPE("\x00\x01\x1b\x1f\x7f", "\\u0000\\u0001\\u001b"
                       "\\u001f\\u007f");
    /* valid UTF-8 of 2, 3 and 4 bytes is kept */
    EXPECT_JSON_ESCAPE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    EXPECT_JSON_ESCAPE("\xed\x9f\xbf\xf4\x8f\xbf\xbf",  /* U+D7FF, max */
                       "\xed\x9f\xbf\xf4\x8f\xbf\xbf");
    /* not UTF-8: each byte on its own */
    EXPECT_JSON_ESCAPE("\xff\xfe", "\\u00ff\\u00fe");
    EXPECT_JSON_ESCAPE("\x80", "\\u0080");           /* lone continuation */
    EXPECT_JSON_ESCAPE("\xc0\xaf", "\\u00c0\\u00af"); /* overlong '/' */
    EXPECT_JSON_ESCAPE("\xe0\x80\xaf", "\\u00e0\\u0080\\u00af");
    EXPECT_JSON_ESCAPE("\xed\xa0\x80", "\\u00ed\\u00a0\\u0080"); /* D800 */
    EXPECT_JSON_ESCAPE("\xf4\x90\x80\x80",          /* past U+10FFFF */
                       "\\u00f4\\u0090\\u0080\\u0080");
    EXPECT_JSON_ESCAPE("\xf5\x80", "\\u00f5\\u0080");
    EXPECT_JSON_ESCAPE("\xc3", "\\u00c3");           /* cut short */
    EXPECT_JSON_ESCAPE("\xe2\x82x", "\\u00e2\\u0082x");
    EXPECT_JSON_ESCAPE("\xf0\x9f\x98", "\\u00f0\\u009f\\u0098");
}

/* The nth captured line (0-based), without its newline. */
static void captured_line(int nth, char *out, size_t cap)
{
    const char *p = captured;
    for (int i = 0; i < nth; i++) {
        p = strchr(p, '\n');
        ASSERT(p != NULL);
        p++;
    }
    const char *end = strchr(p, '\n');
    ASSERT(end != NULL);
    ASSERT_LT((size_t)(end - p), cap);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
}

/* A JSON line after its stamp: {"time":"2026-...Z", is 35 bytes. */
static void expect_json_line(int nth, const char *want)
{
    char got[1024];
    captured_line(nth, got, sizeof got);
    ASSERT_EQ(strncmp(got, "{\"time\":\"", 9), 0);
    ASSERT_EQ(got[32], 'Z');
    ASSERT_STR_EQ(got + 35, want);
}

void test_log_json_lines(void)
{
    capture_start();
    log_set_format(LOG_FORMAT_JSON);
    log_info("conn 7: accepted from %s", "127.0.0.1:5");
    log_info("conn 12 (upstream of 7): x");
    log_warn("listening on %s", "\"q\"\n\x1b");
    log_error("%s", "boom\nstack traceback:\n\t[C]: in ?");
    log_info("conn x: not an id");
    for (int i = 0; i < 3; i++)
        log_warn("flood %d", 7);
    fake_now += LOG_REPEAT_WINDOW_MS;
    log_repeats_flush(0);
    ASSERT_EQ(captured_entries(), 7);
    expect_json_line(0, "\"level\":\"info\",\"conn\":7,\"msg\":\"conn 7: "
                     "accepted from 127.0.0.1:5\"}");
    expect_json_line(1, "\"level\":\"info\",\"conn\":12,\"msg\":\"conn 12 "
                     "(upstream of 7): x\"}");
    expect_json_line(2, "\"level\":\"warn\",\"msg\":\"listening on "
                     "\\\"q\\\"\\n\\u001b\"}");
    expect_json_line(3, "\"level\":\"error\",\"msg\":\"boom\\nstack "
                     "traceback:\\n\\t[C]: in ?\"}");
    expect_json_line(4, "\"level\":\"info\",\"msg\":\"conn x: not an "
                     "id\"}");
    expect_json_line(5, "\"level\":\"warn\",\"msg\":\"flood 7\"}");
    expect_json_line(6, "\"level\":\"warn\",\"msg\":\"flood 7 (repeated "
                     "2 times in the last 5 s)\"}");
    log_set_format(LOG_FORMAT_TEXT);
    capture_stop();
}

static const log_field event_fields[] = {
    {"peer", LOG_FIELD_STR, "127.0.0.1:5555", 14, 0, 0, 0},
    {"ms", LOG_FIELD_UINT, NULL, 0, 120, 0, 0},
    {"n", LOG_FIELD_INT, NULL, 0, 0, -3, 0},
    {"x", LOG_FIELD_NUM, NULL, 0, 0, 0, 0.5},
    {"ok", LOG_FIELD_BOOL, NULL, 0, 1, 0, 0},
    {"tag.s", LOG_FIELD_STR, "a \"b\"=\\\n\x01", 9, 0, 0, 0},
    {"tag.e", LOG_FIELD_STR, "", 0, 0, 0, 0},
    {"tag.u", LOG_FIELD_STR, "\xff", 1, 0, 0, 0},
};

void test_log_event(void)
{
    size_t n = sizeof event_fields / sizeof event_fields[0];
    capture_start();
    log_event(LOG_INFO, 7, "conn_done", "done", event_fields, n);
    log_event(LOG_DEBUG, 7, "conn_done", "done", event_fields, n);
    log_set_format(LOG_FORMAT_JSON);
    log_event(LOG_INFO, 7, "conn_done", "done", event_fields, n);
    log_event(LOG_INFO, 0, "ev", "ev", event_fields, 1);
    log_set_format(LOG_FORMAT_TEXT);
    ASSERT_EQ(captured_entries(), 3);
    expect_entry(0, "conn 7 done: peer=127.0.0.1:5555 ms=120 n=-3 x=0.5 "
                 "ok=true tag.s=\"a \\\"b\\\"=\\\\\\n\\x01\" tag.e=\"\" "
                 "tag.u=\xff");
    expect_json_line(1, "\"level\":\"info\",\"conn\":7,\"event\":"
                     "\"conn_done\",\"peer\":\"127.0.0.1:5555\",\"ms\":120,"
                     "\"n\":-3,\"x\":0.5,\"ok\":true,\"tag.s\":\"a \\\"b\\\""
                     "=\\\\\\n\\u0001\",\"tag.e\":\"\",\"tag.u\":"
                     "\"\\u00ff\"}");
    expect_json_line(2, "\"level\":\"info\",\"event\":\"ev\",\"peer\":"
                     "\"127.0.0.1:5555\"}");
    capture_stop();
}
