/* test_record.c -- the recorder (record.c) over connections with no
 * socket, on a virtual clock: the transcript's exact text, waits
 * included, a cut one, and a hook error. The files go to the working
 * folder; the recorder's debug line names each, and the case removes
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "log.h"
#include "record.h"
#include "test.h"
#include "vtrace.h"

typedef struct rig {
    loop *loop;
    conn_table *table;
    vtrace tr;
    recorder *rec;
    policy_stats stats;
    char *script;
    char path[1024];     /* the last file recorded */
} rig;

static rig *sink_rig;

/* "... recorded conn N to PATH[ (truncated)]\n": keep PATH. */
static void sink(const char *line, size_t len, void *data)
{
    (void)data;
    const char *at = strstr(line, "recorded conn ");
    if (at == NULL || sink_rig == NULL)
        return;
    at = strstr(at, " to ") + 4;
    size_t n = strcspn(at, " \n");
    ASSERT_LT(n, sizeof sink_rig->path);
    ASSERT((size_t)(at - line) + n <= len);
    memcpy(sink_rig->path, at, n);
    sink_rig->path[n] = '\0';
}

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

static void rig_start(rig *g, size_t max_bytes)
{
    memset(g, 0, sizeof *g);
    g->loop = loop_create();
    ASSERT(g->loop != NULL);
    loop_use_virtual_clock(g->loop, 5000);
    vtrace_init(&g->tr);
    g->script = "echo.lua";
    g->rec = recorder_create(".", max_bytes, g->loop, &g->stats,
                             &g->script);
    ASSERT(g->rec != NULL);
    conn_config cfg = {
        .loop = g->loop, .out_limit = 1 << 20, .drain_ms = 10000,
        .transport = &g->tr.transport, .tap = recorder_tap(g->rec),
    };
    g->table = conn_table_create(&cfg);
    ASSERT(g->table != NULL);
    loop_set_before_sleep(g->loop, before_sleep, g->table);
    sink_rig = g;
    log_set_sink(sink, NULL);
    log_set_level(LOG_DEBUG);
}

/* The recorded file's text after its header (the header is checked up
 * to its time); the file is removed. */
static char *take_file(rig *g, int id, const char *peer)
{
    ASSERT(g->path[0] != '\0');
    FILE *f = fopen(g->path, "rb");
    ASSERT(f != NULL);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    ASSERT_EQ(remove(g->path), 0);
    g->path[0] = '\0';
    char want[256];
    snprintf(want, sizeof want, "# ricochet --record: conn %d from %s\n"
             "# started ", id, peer);
    ASSERT_EQ(strncmp(text, want, strlen(want)), 0);
    const char *p = strstr(text, "\n# script echo.lua\n# replay: ricochet "
                           "--simulate FILE SCRIPT (with the server's "
                           "options)\n");
    ASSERT(p != NULL);
    p = strstr(p, "options)\n") + 9;
    char *out = malloc(strlen(p) + 1);
    ASSERT(out != NULL);
    strcpy(out, p);
    return out;
}

static void rig_end(rig *g)
{
    conn_table_free(g->table);
    recorder_free(g->rec);
    loop_free(g->loop);
    log_set_sink(NULL, NULL);
    log_set_level(LOG_INFO);
    sink_rig = NULL;
}

static void advance(rig *g, uint64_t ms)
{
    loop_advance(g->loop, loop_now(g->loop) + ms);
}

/* Echo (no callbacks): every event a line, the waits exact, bytes
 * escaped as send and expect read them, long output cut into strings
 * that end at a '\n' and lines of at most 72 columns. */
void test_record_text(void)
{
    rig g;
    rig_start(&g, 1 << 20);
    conn *c = conn_open_virtual(g.table, "192.0.2.1:5000");
    ASSERT(c != NULL);
    conn_feed(c, "hi", 2);
    advance(&g, 250);
    conn_feed(c, "a\"\\\0\xff\r\n", 7);
    char big[101];
    for (int i = 0; i < 100; i++)
        big[i] = (char)('a' + i % 26);
    big[10] = '\n';
    conn_feed(c, big, 100);
    advance(&g, 5);
    conn_feed_eof(c);
    conn_table_tick(g.table);
    ASSERT_UEQ(recorder_written(g.rec), 1);
    char *body = take_file(&g, 1, "192.0.2.1:5000");
    ASSERT_STR_EQ(body,
        "send \"hi\"\n"
        "expect \"hi\"\n"
        "wait 250\n"
        "send \"a\\\"\\\\\\0\\xff\\r\\n\"\n"
        "expect \"a\\\"\\\\\\0\\xff\\r\\n\"\n"
        "send \"abcdefghij\\nlmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdef"
        "ghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv\"\n"
        "expect \"abcdefghij\\n\" "
        "\"lmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg\"\n"
        "expect \"hijklmnopqrstuvwxyzabcdefghijklmnopqrstuv\"\n"
        "wait 5\n"
        "shutdown\n"
        "expect fin\n"
        "expect close\n");
    free(body);
    rig_end(&g);
}

/* Over the cap: the lines that fit, then the mark; the connection is
 * served whole. A hook error (the count went up) before an error's
 * reset is expect error. */
void test_record_cut_and_error(void)
{
    rig g;
    rig_start(&g, 1024);
    conn *c = conn_open_virtual(g.table, "192.0.2.1:5001");
    char chunk[300];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 4; i++)
        conn_feed(c, chunk, sizeof chunk);
    ASSERT_UEQ(conn_bytes_out(c), 1200); /* all echoed */
    conn_reset(c, CONN_REASON_RESET);
    conn_table_tick(g.table);
    char *body = take_file(&g, 1, "192.0.2.1:5001");
    /* a send line of 308 bytes, five expect lines of 58 (48 x's), a
     * sixth of 73 (48 and 12 x's), a second send line: 979; the next
     * expect line would pass 1024 */
    const char *tail = "# cut here: the connection went on past "
                       "--record-max (1024 bytes of transcript)\n"
                       "truncated\n";
    size_t len = strlen(body);
    ASSERT_STR_EQ(body + len - strlen(tail), tail);
    ASSERT_EQ(strncmp(body, "# TRUNCATED: see the end\nsend \"xxx", 34),
              0);
    ASSERT_EQ(len - strlen(tail) - 25, 308 + 5 * 58 + 73 + 308);
    free(body);

    c = conn_open_virtual(g.table, "192.0.2.1:5002");
    conn_feed(c, "x", 1);
    stat_add(&g.stats.errors[0], 1); /* what a failed hook does */
    conn_reset(c, CONN_REASON_ERROR);
    conn_table_tick(g.table);
    body = take_file(&g, 2, "192.0.2.1:5002");
    ASSERT_STR_EQ(body, "send \"x\"\nexpect \"x\"\nexpect error\n"
                  "expect reset\n");
    free(body);
    ASSERT_UEQ(recorder_written(g.rec), 2);
    ASSERT_UEQ(recorder_lost(g.rec), 0);
    rig_end(&g);
}

static conn *timer_conn;

static void timer_sends(timer *t)
{
    (void)t;
    conn_send(timer_conn, "T", 1);
}

/* A chunk that came while a timer was due in the next ms is put two ms
 * before that deadline, so the replay, which fires the timer at its
 * exact time, still has it after the chunk; what the timer sent is put
 * a ms before it came. */
void test_record_timer_order(void)
{
    rig g;
    rig_start(&g, 1 << 20);
    conn *c = conn_open_virtual(g.table, "192.0.2.1:5003");
    timer_conn = c;
    timer t;
    timer_init(&t, timer_sends, NULL);
    ASSERT_EQ(loop_timer_start(g.loop, &t, 11), 0);   /* due at +11 */
    advance(&g, 10);
    conn_feed(c, "a", 1);                             /* at +10 */
    advance(&g, 1);                                   /* T at +11 */
    advance(&g, 20);
    conn_feed(c, "b", 1);                             /* nothing due */
    conn_reset(c, CONN_REASON_RESET);
    conn_table_tick(g.table);
    char *body = take_file(&g, 1, "192.0.2.1:5003");
    ASSERT_STR_EQ(body, "wait 9\nsend \"a\"\nexpect \"a\"\nwait 1\n"
                  "expect \"T\"\nwait 21\nsend \"b\"\nexpect \"b\"\n"
                  "expect reset\n");
    free(body);
    rig_end(&g);
}

static void connector(void *data, conn *c, const char *host, int port)
{
    (void)data;
    (void)c;
    (void)host;
    (void)port;
}

/* Proxy mode: an upstream connection with the client's owner goes in the
 * client's transcript as upstream lines; a hook error seen at the
 * upstream's reset (a relay hook resets the pair) is the client's. */
void test_record_upstream(void)
{
    rig g;
    rig_start(&g, 1 << 20);
    g.tr.transport.connect = connector;
    static const conn_callbacks echo = {0};
    int owner;
    conn *c = conn_open_virtual(g.table, "192.0.2.1:5004");
    conn_set_callbacks(c, &echo, &owner);
    conn *up = NULL;
    ASSERT_EQ(conn_connect(g.table, "192.0.2.9", 7, 1000, &up), 0);
    conn_set_callbacks(up, &echo, &owner);
    conn_feed(c, "PING", 4);
    advance(&g, 3);
    conn_feed_connected(up, 0);
    conn_feed(up, "+OK", 3);
    stat_add(&g.stats.errors[0], 1);
    conn_reset(up, CONN_REASON_ERROR);
    conn_reset(c, CONN_REASON_ERROR);
    conn_table_tick(g.table);
    char *body = take_file(&g, 1, "192.0.2.1:5004");
    ASSERT_STR_EQ(body, "# proxy mode: replay with --upstream (not "
                  "dialled), e.g. --upstream 192.0.2.9:7\n"
                  "send \"PING\"\nexpect \"PING\"\nwait 3\n"
                  "upstream accept\nupstream send \"+OK\"\n"
                  "expect error\nexpect reset\n");
    free(body);
    rig_end(&g);
}
