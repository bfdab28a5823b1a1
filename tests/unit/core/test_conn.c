/* test_conn.c -- the connection state machine, driven without sockets.
 *
 * A table with a recording transport (vtrace.h) stands in for the socket:
 * the test plays the peer with conn_feed / conn_feed_eof / conn_feed_reset
 * and the owner with conn_send / conn_shutdown / conn_close / conn_reset,
 * on a virtual clock. The owner's callbacks add to the same trace:
 *
 *   data(BYTES)   the data callback            done   the done callback
 *   rest(BYTES)   conn_take_rest in done       closed(REASON)  the close
 *                                                     callback
 *
 * and each step asserts the exact trace it produced.
 *
 * Two cases at the end use a real socket pair instead (backpressure and
 * the drain), because a transport has no way to say it can take more
 * bytes: output it refused stays queued (see conn_transport_refuses). */
#include "cases.h"
#include "conn.h"
#include "loop.h"
#include "test.h"
#include "vtrace.h"

#define START_MS 1000

typedef struct fixture fixture;

/* What a test does inside a callback, after it was traced. */
typedef void (*data_fn)(fixture *fx, conn *c, const char *data, size_t len);
typedef void (*conn_fn)(fixture *fx, conn *c);

struct fixture {
    loop *loop;
    conn_table *table;
    vtrace tr;           /* the transport, and the trace */
    conn_callbacks callbacks;
    data_fn on_data;
    conn_fn on_done;
    conn_fn on_close;
    int closes;          /* close callbacks run */
    int last_send_rc;    /* what conn_send returned inside a callback */
};

#define EXPECT(fx, want) VTRACE_EXPECT(&(fx)->tr, want)
#define EXPECT_PER_CONN(fx, want) VTRACE_EXPECT_PER_CONN(&(fx)->tr, want)

static void trace_add(fixture *fx, conn *c, const char *what,
                      const char *bytes, size_t len)
{
    vtrace_add(&fx->tr, c, what, bytes, len);
}

/* --- the owner's callbacks ------------------------------------------------ */

static void cb_data(conn *c, const char *data, size_t len)
{
    fixture *fx = conn_owner(c);
    trace_add(fx, c, "data", data, len);
    if (fx->on_data)
        fx->on_data(fx, c, data, len);
}

static void cb_done(conn *c)
{
    fixture *fx = conn_owner(c);
    trace_add(fx, c, "done", NULL, 0);
    if (fx->on_done)
        fx->on_done(fx, c);
}

static void cb_close(conn *c, enum conn_reason reason)
{
    fixture *fx = conn_owner(c);
    const char *name = conn_reason_name(reason);
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), reason);
    fx->closes++;
    trace_add(fx, c, "closed", name, strlen(name));
    if (fx->on_close)
        fx->on_close(fx, c);
}

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

/* A table on a virtual clock at START_MS, with a tracing transport and
 * tracing callbacks (the test may clear some before opening). */
static void fixture_start(fixture *fx, uint64_t idle_ms, uint64_t drain_ms,
                          size_t out_limit, int write_later)
{
    memset(fx, 0, sizeof *fx);
    fx->loop = loop_create();
    ASSERT(fx->loop != NULL);
    loop_use_virtual_clock(fx->loop, START_MS);
    vtrace_init(&fx->tr);
    fx->callbacks.data = cb_data;
    fx->callbacks.done = cb_done;
    fx->callbacks.close = cb_close;
    conn_config cfg = {
        .loop = fx->loop, .out_limit = out_limit, .idle_ms = idle_ms,
        .drain_ms = drain_ms, .transport = &fx->tr.transport,
        .write_later = write_later,
    };
    fx->table = conn_table_create(&cfg);
    ASSERT(fx->table != NULL);
    ASSERT(conn_table_transport(fx->table) == &fx->tr.transport);
    loop_set_before_sleep(fx->loop, before_sleep, fx->table);
}

static void fixture_end(fixture *fx)
{
    conn_table_free(fx->table);
    loop_free(fx->loop);
}

static conn *open_conn(fixture *fx)
{
    conn *c = conn_open_virtual(fx->table, "192.0.2.1:5000");
    ASSERT(c != NULL);
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    conn_set_callbacks(c, &fx->callbacks, fx);
    return c;
}

/* Virtual time: to START_MS + ms, firing the timers due on the way (the
 * before-sleep hook, the table's tick, runs after each). */
static void advance_to(fixture *fx, uint64_t ms)
{
    loop_advance(fx->loop, START_MS + ms);
    ASSERT_UEQ(loop_now(fx->loop), START_MS + ms);
}

static void feed(conn *c, const char *s)
{
    conn_feed(c, s, strlen(s));
}

static int send_str(conn *c, const char *s)
{
    return conn_send(c, s, strlen(s));
}

/* Data callback: answer each chunk with "<" chunk ">" and remember rc. */
static void reply_bracketed(fixture *fx, conn *c, const char *data,
                            size_t len)
{
    char out[256];
    ASSERT_LT(len + 2, sizeof out);
    out[0] = '<';
    memcpy(out + 1, data, len);
    out[len + 1] = '>';
    fx->last_send_rc = conn_send(c, out, len + 2);
}

/* --- OPEN ----------------------------------------------------------------- */

void test_conn_open_data(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_data = reply_bracketed;
    conn *c = open_conn(&fx);
    ASSERT_UEQ(conn_id(c), 1);
    ASSERT_STR_EQ(conn_peer(c), "192.0.2.1:5000");
    ASSERT(conn_owner(c) == &fx);
    ASSERT_EQ(conn_writable(c), 1);
    ASSERT_EQ(conn_peer_done(c), 0);
    EXPECT(&fx, "");

    feed(c, "hello");
    EXPECT(&fx, "data(hello) send(<hello>)");
    ASSERT_EQ(fx.last_send_rc, 0);
    conn_feed(c, "a\0b", 3);          /* binary-safe */
    ASSERT_MEM_EQ(fx.tr.text, fx.tr.len, "data(a\0b) send(<a\0b>)", 21);
    vtrace_clear(&fx.tr);
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    ASSERT_UEQ(conn_bytes_in(c), 8);
    ASSERT_UEQ(conn_bytes_out(c), 12);
    /* the owner sends on its own too; an empty send sends nothing */
    ASSERT_EQ(send_str(c, "!"), 0);
    ASSERT_EQ(send_str(c, ""), 0);
    EXPECT(&fx, "send(!)");
    ASSERT(conn_table_find(fx.table, 1) == c);
    ASSERT(conn_table_find(fx.table, 2) == NULL);
    conn_table_tick(fx.table);
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_table_live(fx.table), 1);
    fixture_end(&fx);
}

void test_conn_ids(void)
{
    fixture fx;
    memset(&fx, 0, sizeof fx);
    fx.loop = loop_create();
    ASSERT(fx.loop != NULL);
    loop_use_virtual_clock(fx.loop, START_MS);
    vtrace_init(&fx.tr);
    conn_config cfg = { .loop = fx.loop, .out_limit = 1024, .first_id = 7,
                        .id_stride = 4, .transport = &fx.tr.transport };
    fx.table = conn_table_create(&cfg);
    ASSERT(fx.table != NULL);
    conn *a = conn_open_virtual(fx.table, "a");
    conn *b = conn_open_virtual(fx.table, "b");
    conn *c = conn_open_virtual(fx.table, "c");
    ASSERT(a && b && c);
    ASSERT_UEQ(conn_id(a), 7);
    ASSERT_UEQ(conn_id(b), 11);
    ASSERT_UEQ(conn_id(c), 15);
    ASSERT(conn_table_find(fx.table, 11) == b);
    ASSERT(conn_table_find(fx.table, 8) == NULL);
    ASSERT_UEQ(conn_table_live(fx.table), 3);
    /* a peer name too long for the connection is cut, not overrun */
    char longname[200];
    memset(longname, 'p', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    conn *d = conn_open_virtual(fx.table, longname);
    ASSERT(d != NULL);
    size_t kept = strlen(conn_peer(d));
    ASSERT_GT(kept, 0);
    ASSERT_LT(kept, sizeof longname - 1);
    ASSERT(strncmp(conn_peer(d), longname, kept) == 0);
    fx.tr.ids = 1;
    conn_table_free(fx.table); /* no callbacks: plain echo connections */
    EXPECT_PER_CONN(&fx, "#7 rst #11 rst #15 rst #19 rst");
    loop_free(fx.loop);
}

void test_conn_echo_fast_path(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.callbacks.data = NULL;  /* no data callback: the bytes go back */
    fx.callbacks.done = NULL;  /* no done callback: shut down at the FIN */
    conn *c = open_conn(&fx);
    feed(c, "ping");
    conn_feed(c, "\0\xff", 2);
    ASSERT_MEM_EQ(fx.tr.text, fx.tr.len, "send(ping) send(\0\xff)", 19);
    vtrace_clear(&fx.tr);
    ASSERT_UEQ(conn_bytes_in(c), 6);
    ASSERT_UEQ(conn_bytes_out(c), 6);
    conn_feed_eof(c);
    /* the default at the peer's FIN is our own: FIN, and the peer has
     * already finished, so the connection is over */
    EXPECT(&fx, "fin close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

void test_conn_echo_after_shutdown(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.callbacks.data = NULL;
    conn *c = open_conn(&fx);
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "fin");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* half-closed: the echo reads and drops, as the reference server */
    feed(c, "late");
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_bytes_in(c), 4);
    ASSERT_UEQ(conn_bytes_out(c), 0);
    conn_feed_eof(c);
    EXPECT(&fx, "close");
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

void test_conn_open_peer_fin(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    feed(c, "x");
    conn_feed_eof(c);
    /* the done callback does nothing: our side stays open ("wait") */
    EXPECT(&fx, "data(x) done");
    ASSERT_EQ(conn_state(c), CONN_CLIENT_DONE);
    ASSERT_EQ(conn_peer_done(c), 1);
    ASSERT_EQ(conn_writable(c), 1);
    conn_table_tick(fx.table);
    EXPECT(&fx, "");
    fixture_end(&fx);
}

void test_conn_open_peer_fin_default(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.callbacks.done = NULL;
    conn *c = open_conn(&fx);
    ASSERT_EQ(send_str(c, "hi"), 0);
    conn_feed_eof(c);
    EXPECT(&fx, "send(hi) fin close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

void test_conn_open_peer_reset(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    feed(c, "x");
    conn_feed_reset(c);
    /* the peer's reset: our socket is closed, not reset again */
    EXPECT(&fx, "data(x) close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), CONN_REASON_RESET);
    ASSERT(conn_table_find(fx.table, conn_id(c)) == NULL);
    /* closed, not freed: the close callback waits for the tick */
    ASSERT_EQ(fx.closes, 0);
    ASSERT_UEQ(conn_table_live(fx.table), 1);
    /* nothing more reaches a closed connection */
    feed(c, "y");
    conn_feed_eof(c);
    conn_feed_reset(c);
    ASSERT_EQ(send_str(c, "z"), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_shutdown(c), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_close(c), ERR_ENOTWRITABLE);
    conn_reset(c, CONN_REASON_ERROR);
    ASSERT_EQ(conn_reason(c), CONN_REASON_RESET);
    EXPECT(&fx, "");
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(reset)");
    ASSERT_EQ(fx.closes, 1);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

void test_conn_open_owner_shutdown(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_data = reply_bracketed;
    conn *c = open_conn(&fx);
    ASSERT_EQ(send_str(c, "bye"), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "send(bye) fin");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    ASSERT_EQ(conn_writable(c), 0);
    /* unwritable at once, and a second shutdown is refused */
    ASSERT_EQ(send_str(c, "more"), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_shutdown(c), ERR_ENOTWRITABLE);
    /* still reading: the data callback sees the bytes, its reply is
     * refused */
    fx.last_send_rc = 1;
    feed(c, "late");
    EXPECT(&fx, "data(late)");
    ASSERT_EQ(fx.last_send_rc, ERR_ENOTWRITABLE);
    ASSERT_UEQ(conn_bytes_out(c), 3);
    /* the peer's FIN ends it, gracefully; no done callback after ours */
    conn_feed_eof(c);
    EXPECT(&fx, "close");
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

void test_conn_open_owner_close(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    ASSERT_EQ(send_str(c, "last"), 0);
    ASSERT_EQ(conn_close(c), 0);
    EXPECT(&fx, "send(last) close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);
    ASSERT_EQ(conn_close(c), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_shutdown(c), ERR_ENOTWRITABLE);
    ASSERT_EQ(send_str(c, "x"), ERR_ENOTWRITABLE);
    conn_reset(c, CONN_REASON_RESET);  /* no second close */
    feed(c, "ignored");
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_bytes_in(c), 0);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

void test_conn_open_owner_reset(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = open_conn(&fx), *b = open_conn(&fx);
    conn_reset(a, CONN_REASON_RESET);
    conn_reset(b, CONN_REASON_ERROR);
    EXPECT(&fx, "#1 rst #2 rst");
    ASSERT_EQ(conn_reason(a), CONN_REASON_RESET);
    ASSERT_EQ(conn_reason(b), CONN_REASON_ERROR);
    conn_table_tick(fx.table);
    /* each close callback runs once, with its connection's reason */
    EXPECT_PER_CONN(&fx, "#1 closed(reset) #2 closed(error)");
    ASSERT_EQ(fx.closes, 2);
    fixture_end(&fx);
    EXPECT(&fx, "");
}

/* --- CLIENT_DONE ---------------------------------------------------------- */

/* A connection whose peer has finished and whose done callback waited. */
static conn *open_client_done(fixture *fx)
{
    conn *c = open_conn(fx);
    conn_feed_eof(c);
    ASSERT_EQ(conn_state(c), CONN_CLIENT_DONE);
    return c;
}

void test_conn_client_done_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *c = open_client_done(&fx);
    EXPECT(&fx, "#1 done");
    /* the peer's FIN is reported once; no bytes come after it */
    conn_feed_eof(c);
    feed(c, "after fin");
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_bytes_in(c), 0);
    /* our side is open: replies go out */
    ASSERT_EQ(send_str(c, "reply"), 0);
    EXPECT(&fx, "#1 send(reply)");
    /* our shutdown: FIN, and both sides are done */
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "#1 fin #1 close");
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);

    conn *d = open_client_done(&fx);
    ASSERT_EQ(conn_close(d), 0);
    conn *e = open_client_done(&fx);
    conn_reset(e, CONN_REASON_RESET);
    conn *f = open_client_done(&fx);
    conn_feed_reset(f);
    EXPECT(&fx, "#2 done #2 close #3 done #3 rst #4 done #4 close");
    ASSERT_EQ(conn_reason(d), CONN_REASON_DONE);
    ASSERT_EQ(conn_reason(e), CONN_REASON_RESET);
    ASSERT_EQ(conn_reason(f), CONN_REASON_RESET);
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 4);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

/* The done callback shuts down right away, as on_done's default does. */
static void shutdown_now(fixture *fx, conn *c)
{
    (void)fx;
    ASSERT_EQ(conn_state(c), CONN_CLIENT_DONE);
    ASSERT_EQ(send_str(c, "bye"), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
}

void test_conn_done_shuts_down(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_done = shutdown_now;
    conn *c = open_conn(&fx);
    conn_feed_eof(c);
    EXPECT(&fx, "done send(bye) fin close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

/* --- SHUTTING and CLOSING (output the transport refused stays queued) ----- */

void test_conn_transport_refuses(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    /* the transport takes 3 bytes, then refuses: the rest is queued and
     * conn_send still succeeds */
    fx.tr.room = 3;
    ASSERT_EQ(send_str(c, "abcdef"), 0);
    EXPECT(&fx, "send(abc) eagain");
    ASSERT_UEQ(conn_bytes_out(c), 3);
    /* with bytes queued, later sends queue behind them (order kept): the
     * transport is not even asked */
    fx.tr.room = -1;
    ASSERT_EQ(send_str(c, "gh"), 0);
    EXPECT(&fx, "");
    /* the FIN waits for the queue, which nothing drains without a
     * socket to poll: it stays held */
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    conn_table_tick(fx.table);
    advance_to(&fx, 3600 * 1000);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_UEQ(conn_bytes_out(c), 3);
    /* a reset drops what is queued */
    conn_reset(c, CONN_REASON_RESET);
    EXPECT(&fx, "rst");
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(reset)");
    fixture_end(&fx);
}

/* A connection in SHUTTING: "queued" is waiting for a transport that
 * refuses everything. */
static conn *open_shutting(fixture *fx)
{
    conn *c = open_conn(fx);
    long room = fx->tr.room;
    fx->tr.room = 0;
    ASSERT_EQ(send_str(c, "queued"), 0);
    fx->tr.room = room;
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_EQ(conn_writable(c), 0);
    return c;
}

void test_conn_shutting_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    fx.on_data = reply_bracketed;
    conn *c = open_shutting(&fx);
    EXPECT(&fx, "#1 eagain");
    /* owner: no more sending, no second shutdown */
    ASSERT_EQ(send_str(c, "x"), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_shutdown(c), ERR_ENOTWRITABLE);
    /* peer data: delivered; the reply is refused */
    fx.last_send_rc = 1;
    feed(c, "in");
    EXPECT(&fx, "#1 data(in)");
    ASSERT_EQ(fx.last_send_rc, ERR_ENOTWRITABLE);
    ASSERT_UEQ(conn_bytes_in(c), 2);
    /* peer FIN: noted, no done callback (our side is no longer open) */
    conn_feed_eof(c);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_peer_done(c), 1);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    /* peer reset: closed, the queued bytes dropped */
    conn_feed_reset(c);
    EXPECT(&fx, "#1 close");
    ASSERT_EQ(conn_reason(c), CONN_REASON_RESET);

    /* owner close while shutting: now closing */
    conn *d = open_shutting(&fx);
    ASSERT_EQ(conn_close(d), 0);
    ASSERT_EQ(conn_state(d), CONN_CLOSING);
    /* owner reset while shutting */
    conn *e = open_shutting(&fx);
    conn_reset(e, CONN_REASON_RESET);
    EXPECT(&fx, "#2 eagain #3 eagain #3 rst");
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 2);
    ASSERT_UEQ(conn_table_live(fx.table), 1);
    fixture_end(&fx);
}

/* A connection in CLOSING, its output refused as above. */
static conn *open_closing(fixture *fx)
{
    conn *c = open_conn(fx);
    fx->tr.room = 0;
    ASSERT_EQ(send_str(c, "queued"), 0);
    fx->tr.room = -1;
    ASSERT_EQ(conn_close(c), 0);
    ASSERT_EQ(conn_state(c), CONN_CLOSING);
    return c;
}

void test_conn_closing_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *c = open_closing(&fx);
    EXPECT(&fx, "#1 eagain");
    ASSERT_EQ(conn_writable(c), 0);
    ASSERT_EQ(send_str(c, "x"), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_shutdown(c), ERR_ENOTWRITABLE);
    ASSERT_EQ(conn_close(c), ERR_ENOTWRITABLE);
    /* closing: input is no longer read */
    feed(c, "ignored");
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_bytes_in(c), 0);
    /* the peer's FIN is noted, nothing is called */
    conn_feed_eof(c);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_peer_done(c), 1);
    ASSERT_EQ(conn_state(c), CONN_CLOSING);
    conn_reset(c, CONN_REASON_RESET);
    EXPECT(&fx, "#1 rst");

    conn *d = open_closing(&fx);
    conn_feed_reset(d);
    EXPECT(&fx, "#2 eagain #2 close");
    ASSERT_EQ(conn_reason(d), CONN_REASON_RESET);
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 2);
    fixture_end(&fx);
}

/* --- drain: the FIN or the close only after every byte -------------------- */

void test_conn_drain_write_later(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 1);
    fx.tr.ids = 1;
    /* small sends wait for the tick; the shutdown waits for them */
    conn *a = open_conn(&fx);
    ASSERT_EQ(send_str(a, "one "), 0);
    ASSERT_EQ(send_str(a, "two"), 0);
    ASSERT_EQ(conn_shutdown(a), 0);
    ASSERT_EQ(conn_state(a), CONN_SHUTTING);
    /* the close waits for them too */
    conn *b = open_conn(&fx);
    ASSERT_EQ(send_str(b, "last"), 0);
    ASSERT_EQ(conn_close(b), 0);
    ASSERT_EQ(conn_state(b), CONN_CLOSING);
    /* a reset sends what was sent before it, then resets */
    conn *c = open_conn(&fx);
    ASSERT_EQ(send_str(c, "before"), 0);
    conn_reset(c, CONN_REASON_RESET);
    EXPECT(&fx, "#3 send(before) #3 rst");
    conn_table_tick(fx.table);
    /* the tick writes each connection's bytes in one send, then the FIN
     * or the close; the closed ones are reaped in the same tick */
    EXPECT_PER_CONN(&fx, "#1 send(one two) #1 fin "
                         "#2 send(last) #2 close #2 closed(done) "
                         "#3 closed(reset)");
    ASSERT_EQ(conn_state(a), CONN_HALF_CLOSED);
    ASSERT_UEQ(conn_bytes_out(a), 7);
    ASSERT_UEQ(conn_table_live(fx.table), 1);
    fixture_end(&fx);
}

void test_conn_drain_shaped(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    ASSERT_EQ(conn_delay(c, 100, 0), 0);
    ASSERT_EQ(send_str(c, "abc"), 0);
    advance_to(&fx, 99);
    EXPECT(&fx, "");
    advance_to(&fx, 100);
    EXPECT(&fx, "send(abc)");
    ASSERT_EQ(send_str(c, "de"), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    advance_to(&fx, 199);
    EXPECT(&fx, "");
    /* the FIN follows the last held byte */
    advance_to(&fx, 200);
    EXPECT(&fx, "send(de) fin");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* a close waits for held bytes the same way */
    conn *d = open_conn(&fx);
    ASSERT_EQ(conn_delay(d, 50, 0), 0);
    ASSERT_EQ(send_str(d, "zz"), 0);
    ASSERT_EQ(conn_close(d), 0);
    ASSERT_EQ(conn_state(d), CONN_CLOSING);
    advance_to(&fx, 250);
    EXPECT(&fx, "send(zz) close closed(done)");
    fixture_end(&fx);
}

/* --- timeouts ------------------------------------------------------------- */

void test_conn_idle_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 1000, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = open_conn(&fx);
    advance_to(&fx, 500);
    conn *b = open_conn(&fx);       /* b's idle clock starts at 500 */
    feed(a, "x");                   /* a's moves to 500 too */
    EXPECT(&fx, "#1 data(x)");
    advance_to(&fx, 1000);
    EXPECT(&fx, "");
    advance_to(&fx, 1200);
    ASSERT_EQ(send_str(b, "out"), 0); /* sending is activity: 2200 */
    EXPECT(&fx, "#2 send(out)");
    advance_to(&fx, 1499);
    EXPECT(&fx, "");
    /* idle: an abortive close, reason timeout, reaped by the hook */
    advance_to(&fx, 1500);
    EXPECT(&fx, "#1 rst #1 closed(timeout)");
    advance_to(&fx, 2199);
    EXPECT(&fx, "");
    advance_to(&fx, 2200);
    EXPECT(&fx, "#2 rst #2 closed(timeout)");
    ASSERT_UEQ(conn_table_live(fx.table), 0);

    /* the idle timeout applies while the peer is done and we wait, and
     * while a shutdown waits for refused output */
    conn *c = open_client_done(&fx);
    conn *d = open_shutting(&fx);
    (void)c;
    (void)d;
    EXPECT(&fx, "#3 done #4 eagain");
    advance_to(&fx, 3199);
    EXPECT(&fx, "");
    advance_to(&fx, 3200);
    EXPECT_PER_CONN(&fx, "#3 rst #3 closed(timeout) "
                         "#4 rst #4 closed(timeout)");
    fixture_end(&fx);
}

void test_conn_no_idle_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    advance_to(&fx, 1000ull * 3600 * 24 * 365);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    fixture_end(&fx);
}

void test_conn_drain_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 500, 2000, 65536, 0);
    conn *c = open_conn(&fx);
    advance_to(&fx, 100);
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "fin");
    /* half-closed: the drain timeout replaces the idle one, and input
     * does not move it */
    advance_to(&fx, 1000);
    feed(c, "still here");
    EXPECT(&fx, "data(still here)");
    advance_to(&fx, 2099);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* the peer never closed: a plain close, reason timeout */
    advance_to(&fx, 2100);
    EXPECT(&fx, "close closed(timeout)");
    fixture_end(&fx);
}

void test_conn_half_closed_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 2000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = open_conn(&fx), *b = open_conn(&fx);
    conn *c = open_conn(&fx), *d = open_conn(&fx);
    ASSERT_EQ(conn_shutdown(a), 0);
    ASSERT_EQ(conn_shutdown(b), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_shutdown(d), 0);
    EXPECT(&fx, "#1 fin #2 fin #3 fin #4 fin");
    conn_feed_eof(a);
    conn_feed_reset(b);
    ASSERT_EQ(conn_close(c), 0);  /* close is allowed after our FIN */
    conn_reset(d, CONN_REASON_RESET);
    EXPECT(&fx, "#1 close #2 close #3 close #4 rst");
    ASSERT_EQ(conn_reason(a), CONN_REASON_DONE);
    ASSERT_EQ(conn_reason(b), CONN_REASON_RESET);
    ASSERT_EQ(conn_reason(c), CONN_REASON_DONE);
    ASSERT_EQ(conn_reason(d), CONN_REASON_RESET);
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 4);
    vtrace_clear(&fx.tr);
    /* nothing was left on the timer queue */
    advance_to(&fx, 100000);
    EXPECT(&fx, "");
    fixture_end(&fx);
}

void test_conn_stop_deadline(void)
{
    fixture fx;
    fixture_start(&fx, 0, 100000, 65536, 0);
    fx.tr.ids = 1;
    conn *open = open_conn(&fx);
    conn *half = open_conn(&fx);
    ASSERT_EQ(conn_shutdown(half), 0);
    conn *shutting = open_shutting(&fx);
    conn *gone = open_conn(&fx);
    conn_reset(gone, CONN_REASON_RESET);
    EXPECT(&fx, "#2 fin #3 eagain #4 rst");
    conn_table_stop_by(fx.table, START_MS + 5000);
    advance_to(&fx, 4999);
    /* only the reaping of #4 so far */
    EXPECT(&fx, "");
    conn_table_tick(fx.table);
    EXPECT(&fx, "#4 closed(reset)");
    (void)open;
    (void)half;
    (void)shutting;
    /* at the deadline every open connection is closed (not reset),
     * reason stop, whatever its state; queued output is dropped */
    advance_to(&fx, 5000);
    EXPECT_PER_CONN(&fx, "#1 close #1 closed(stop) #2 close #2 closed(stop) "
                         "#3 close #3 closed(stop)");
    ASSERT_EQ(fx.closes, 4);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

void test_conn_stop_deadline_vs_idle(void)
{
    fixture fx;
    fixture_start(&fx, 2000, 100000, 65536, 0);
    conn *c = open_conn(&fx);
    /* the idle timeout comes first: it wins */
    conn_table_stop_by(fx.table, START_MS + 5000);
    advance_to(&fx, 2000);
    EXPECT(&fx, "rst closed(timeout)");
    (void)c;
    fixture_end(&fx);

    fixture_start(&fx, 8000, 100000, 65536, 0);
    c = open_conn(&fx);
    /* the stop deadline comes first: it wins; activity does not move it */
    conn_table_stop_by(fx.table, START_MS + 5000);
    advance_to(&fx, 4000);
    feed(c, "x");
    advance_to(&fx, 4999);
    EXPECT(&fx, "data(x)");
    advance_to(&fx, 5000);
    EXPECT(&fx, "close closed(stop)");
    fixture_end(&fx);
}

/* --- the tick ------------------------------------------------------------- */

/* When #1 closes, its close callback closes #2: the same tick reaps it. */
static conn *chained_next;

static void close_next(fixture *fx, conn *c)
{
    (void)fx;
    if (conn_id(c) == 1 && chained_next != NULL) {
        ASSERT_EQ(send_str(chained_next, "from one's close"), 0);
        ASSERT_EQ(conn_close(chained_next), 0);
        chained_next = NULL;
    }
}

void test_conn_tick_frees_once(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    fx.on_close = close_next;
    conn *a = open_conn(&fx);
    chained_next = open_conn(&fx);
    conn *c = open_conn(&fx);
    ASSERT_UEQ(conn_table_live(fx.table), 3);
    ASSERT_EQ(conn_close(a), 0);
    conn_reset(c, CONN_REASON_ERROR);
    EXPECT(&fx, "#1 close #3 rst");
    /* closed but not freed: counted live, not found, not called back */
    ASSERT_UEQ(conn_table_live(fx.table), 3);
    ASSERT(conn_table_find(fx.table, 1) == NULL);
    ASSERT(conn_table_find(fx.table, 2) != NULL);
    ASSERT(conn_table_find(fx.table, 3) == NULL);
    ASSERT_EQ(fx.closes, 0);
    conn_table_tick(fx.table);
    EXPECT_PER_CONN(&fx, "#1 closed(done) "
                         "#2 send(from one's close) #2 close #2 closed(done) "
                         "#3 closed(error)");
    ASSERT_EQ(fx.closes, 3);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    conn_table_tick(fx.table);
    EXPECT(&fx, "");
    ASSERT_EQ(fx.closes, 3);
    fixture_end(&fx);
    EXPECT(&fx, "");
    ASSERT_EQ(fx.closes, 3);
}

/* The tick goes round until nothing is left: a close callback's send
 * waits for the tick, and a write of the tick may close a connection. */
void test_conn_tick_rounds(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 1);
    fx.tr.ids = 1;
    fx.on_close = close_next;
    conn *a = open_conn(&fx);
    chained_next = open_conn(&fx);
    conn *c = open_conn(&fx);
    ASSERT_EQ(conn_close(a), 0);
    ASSERT_EQ(send_str(c, "doomed"), 0);
    fx.tr.fail_id = 3;
    fx.tr.fail_with = ERR_ERESET;
    EXPECT(&fx, "#1 close");
    conn_table_tick(fx.table);
    EXPECT_PER_CONN(&fx, "#1 closed(done) "
                         "#2 send(from one's close) #2 close #2 closed(done) "
                         "#3 error #3 close #3 closed(reset)");
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

/* A send that fails closes the connection; conn_send still returns 0 (the
 * bytes were taken) and the close callback says why. */
void test_conn_send_error(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = open_conn(&fx), *b = open_conn(&fx);
    fx.tr.fail_id = 1;
    fx.tr.fail_with = ERR_ERESET;      /* the peer reset: a plain close */
    ASSERT_EQ(send_str(a, "x"), 0);
    fx.tr.fail_id = 2;
    fx.tr.fail_with = ERR_EOTHER;      /* anything else: an error, RST */
    ASSERT_EQ(send_str(b, "y"), 0);
    EXPECT(&fx, "#1 error #1 close #2 error #2 rst");
    ASSERT_EQ(conn_state(a), CONN_CLOSED);
    ASSERT_EQ(conn_reason(a), CONN_REASON_RESET);
    ASSERT_EQ(conn_reason(b), CONN_REASON_ERROR);
    conn_table_tick(fx.table);
    EXPECT_PER_CONN(&fx, "#1 closed(reset) #2 closed(error)");
    fixture_end(&fx);
}

void test_conn_table_free_stops(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = open_conn(&fx);
    conn *b = open_client_done(&fx);
    conn *c = open_conn(&fx);
    conn_feed_reset(c);
    EXPECT(&fx, "#2 done #3 close");
    (void)a;
    (void)b;
    conn_table_free(fx.table);
    /* the open ones are reset with reason stop; the one already closed
     * keeps its reason; every close callback runs once */
    ASSERT_EQ(fx.closes, 3);
    EXPECT_PER_CONN(&fx, "#1 rst #1 closed(stop) #2 rst #2 closed(stop) "
                         "#3 closed(reset)");
    loop_free(fx.loop);
}

void test_conn_note(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    conn_note(c, "timer %d fired", 3);
    EXPECT(&fx, "note(timer 3 fired)");
    fixture_end(&fx);
}

void test_conn_names(void)
{
    ASSERT_STR_EQ(conn_state_name(CONN_OPEN), "open");
    ASSERT_STR_EQ(conn_state_name(CONN_CLIENT_DONE), "client-done");
    ASSERT_STR_EQ(conn_state_name(CONN_SHUTTING), "shutting");
    ASSERT_STR_EQ(conn_state_name(CONN_HALF_CLOSED), "half-closed");
    ASSERT_STR_EQ(conn_state_name(CONN_CLOSING), "closing");
    ASSERT_STR_EQ(conn_state_name(CONN_CLOSED), "closed");
    ASSERT_STR_EQ(conn_reason_name(CONN_REASON_DONE), "done");
    ASSERT_STR_EQ(conn_reason_name(CONN_REASON_RESET), "reset");
    ASSERT_STR_EQ(conn_reason_name(CONN_REASON_TIMEOUT), "timeout");
    ASSERT_STR_EQ(conn_reason_name(CONN_REASON_ERROR), "error");
    ASSERT_STR_EQ(conn_reason_name(CONN_REASON_STOP), "stop");
}

/* --- framing glue --------------------------------------------------------- */

static void take_rest(fixture *fx, conn *c)
{
    size_t len;
    const char *rest = conn_take_rest(c, &len);
    if (rest == NULL)
        trace_add(fx, c, "rest", "NULL", 4);
    else
        trace_add(fx, c, "rest", rest, len);
}

void test_conn_frame_lines(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_done = take_rest;
    conn *c = open_conn(&fx);
    frame_spec spec;
    frame_spec_init(&spec, FRAME_LINE);
    ASSERT_EQ(conn_frame(c, &spec), 0);
    feed(c, "ab\ncd");
    EXPECT(&fx, "data(ab)");
    feed(c, "\r\nef\ngh");
    EXPECT(&fx, "data(cd) data(ef)");
    /* the unfinished frame is the done callback's to take */
    conn_feed_eof(c);
    EXPECT(&fx, "done rest(gh)");
    ASSERT_UEQ(conn_bytes_in(c), 12);
    /* without framing there is never a rest */
    conn *d = open_conn(&fx);
    feed(d, "xy");
    conn_feed_eof(d);
    EXPECT(&fx, "data(xy) done rest(NULL)");
    fixture_end(&fx);
}

/* Switch from lines to 3-byte blocks after the first frame. */
static void switch_to_fixed(fixture *fx, conn *c, const char *data,
                            size_t len)
{
    (void)fx;
    if (len == 3 && memcmp(data, "hdr", 3) == 0) {
        frame_spec spec;
        frame_spec_init(&spec, FRAME_FIXED);
        spec.size = 3;
        ASSERT_EQ(conn_frame(c, &spec), 0);
    }
}

void test_conn_frame_switch(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_data = switch_to_fixed;
    conn *c = open_conn(&fx);
    frame_spec spec;
    frame_spec_init(&spec, FRAME_LINE);
    ASSERT_EQ(conn_frame(c, &spec), 0);
    feed(c, "hdr\nabcdefg");
    EXPECT(&fx, "data(hdr) data(abc) data(def)");
    feed(c, "hi");
    EXPECT(&fx, "data(ghi)");
    fixture_end(&fx);
}

void test_conn_frame_too_big(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = open_conn(&fx);
    frame_spec spec;
    frame_spec_init(&spec, FRAME_LINE);
    spec.max = 4;
    ASSERT_EQ(conn_frame(c, &spec), 0);
    feed(c, "abcd\n");
    EXPECT(&fx, "data(abcd)");
    /* a line over the max resets the connection, reason error */
    feed(c, "abcde");
    EXPECT(&fx, "rst");
    ASSERT_EQ(conn_reason(c), CONN_REASON_ERROR);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(error)");
    fixture_end(&fx);
}

/* --- real sockets: backpressure and the drain ----------------------------- */

/* A connection over one end of a socket pair; the test is the peer on the
 * other end. No transport, so the loop's poller drives the output. */
typedef struct wire {
    loop *loop;
    conn_table *table;
    conn *c;
    net_socket peer;
} wire;

static void wire_start(wire *w, size_t out_limit, conn_callbacks *cb,
                       void *owner)
{
    memset(w, 0, sizeof *w);
    w->loop = loop_create();
    ASSERT(w->loop != NULL);
    conn_config cfg = { .loop = w->loop, .out_limit = out_limit,
                        .drain_ms = 60000 };
    w->table = conn_table_create(&cfg);
    ASSERT(w->table != NULL);
    loop_set_before_sleep(w->loop, before_sleep, w->table);
    net_socket ours;
    ASSERT_EQ(net_wakeup_pair(&ours, &w->peer), 0);
    w->c = conn_accept(w->table, ours, "127.0.0.1:1");
    ASSERT(w->c != NULL);
    if (cb)
        conn_set_callbacks(w->c, cb, owner);
}

static void wire_end(wire *w)
{
    conn_table_free(w->table);
    loop_free(w->loop);
    if (w->peer != NET_INVALID)
        net_close(w->peer);
}

/* The byte at offset i of the test stream. */
static char pattern_byte(uint64_t i)
{
    return (char)('a' + (i * 7 + i / 251) % 26);
}

static size_t peer_write(net_socket s, uint64_t *offset, uint64_t total)
{
    char chunk[8192];
    size_t written = 0;
    while (*offset < total) {
        size_t n = sizeof chunk;
        if (total - *offset < n)
            n = (size_t)(total - *offset);
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern_byte(*offset + i);
        long rc = net_send(s, chunk, n);
        if (rc == ERR_EAGAIN)
            break;
        ASSERT_GT(rc, 0);
        *offset += (uint64_t)rc;
        written += (size_t)rc;
    }
    return written;
}

/* Read at most max bytes, checking them against the pattern. Returns
 * the count; *eof is set at the end of stream. */
static size_t peer_read(net_socket s, uint64_t *offset, size_t max,
                        int *eof)
{
    char chunk[4096];
    size_t got = 0;
    while (got < max) {
        size_t want = max - got < sizeof chunk ? max - got : sizeof chunk;
        long rc = net_recv(s, chunk, want);
        if (rc == ERR_EAGAIN)
            break;
        ASSERT_GE(rc, 0);
        if (rc == 0) {
            *eof = 1;
            break;
        }
        for (long i = 0; i < rc; i++)
            if (chunk[i] != pattern_byte(*offset + (uint64_t)i))
                TEST_FAIL("byte %llu: '%c', expected '%c'",
                          (unsigned long long)(*offset + (uint64_t)i),
                          chunk[i], pattern_byte(*offset + (uint64_t)i));
        *offset += (uint64_t)rc;
        got += (size_t)rc;
    }
    return got;
}

/* The echo (no callbacks) of a peer that sends much and reads little:
 * reading pauses once the unsent echo passes out_limit, and resumes only
 * when it is back to half of it; every byte comes back, in order. */
void test_conn_backpressure(void)
{
    /* The limit is well above what one write event flushes (a socket
     * buffer's worth), so the queue passes through (limit / 2, limit] on
     * its way down and a resume there would show. */
    const size_t limit = 1024 * 1024;
    /* How much the sockets hold differs (a Unix socket pair, loopback TCP
     * with autotuned buffers on Windows): the peer writes until they are
     * full, then 3 limits more. */
    uint64_t total = (uint64_t)256 << 20;
    wire w;
    wire_start(&w, limit, NULL, NULL);
    uint64_t sent = 0, received = 0;
    int eof = 0, paused = 0, pauses = 0, resumes = 0;
    uint64_t last_in = 0;

    /* 1: the peer writes and never reads, until nothing moves */
    int still = 0;
    for (int i = 0; i < 100000 && still < 20; i++) {
        peer_write(w.peer, &sent, total);
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
        uint64_t in = conn_bytes_in(w.c);
        still = in == last_in ? still + 1 : 0;
        last_in = in;
    }
    ASSERT_EQ(still, 20);
    uint64_t queued = conn_bytes_in(w.c) - conn_bytes_out(w.c);
    /* over the limit, by at most one read */
    ASSERT_GT(queued, limit);
    ASSERT_LE(queued, limit + 64 * 1024);
    /* and the peer has bytes the connection is not reading */
    ASSERT_GT(sent, conn_bytes_in(w.c));
    ASSERT_LT(sent, total);
    total = sent + 3 * limit;
    paused = 1;
    pauses = 1;

    /* 2: the peer reads a little at a time; reading resumes when the
     * queue is down to half the limit, not before, and not later: once
     * a write event brought it there, the next iteration reads */
    int must_read = 0;
    for (int i = 0; i < 1000000 && !(received == total); i++) {
        uint64_t in_before = conn_bytes_in(w.c);
        peer_read(w.peer, &received, 16384, &eof);
        ASSERT_EQ(eof, 0);
        peer_write(w.peer, &sent, total);
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
        uint64_t in = conn_bytes_in(w.c), out = conn_bytes_out(w.c);
        if (must_read)
            ASSERT_GT(in, in_before);
        if (paused && in > in_before) {
            /* it read again: the queue had gone down to half the limit
             * (before this read) */
            ASSERT_LE(in_before - out, limit / 2);
            paused = 0;
            resumes++;
        }
        if (in - out > limit && !paused) {
            paused = 1;
            pauses++;
        }
        must_read = paused && in - out <= limit / 2 && sent > in;
    }
    ASSERT_UEQ(received, total);
    ASSERT_UEQ(sent, total);
    ASSERT_UEQ(conn_bytes_in(w.c), total);
    ASSERT_UEQ(conn_bytes_out(w.c), total);
    ASSERT_GE(resumes, 1);
    ASSERT_GE(pauses, resumes);
    ASSERT_EQ(conn_state(w.c), CONN_OPEN);
    wire_end(&w);
}

/* The owner answers "go" with a reply far larger than the socket takes,
 * and shuts down at once: the peer gets every byte, then the FIN. */
static uint64_t big_reply_len;

static void big_reply(conn *c, const char *data, size_t len)
{
    ASSERT_MEM_EQ(data, len, "go", 2);
    char *reply = malloc((size_t)big_reply_len);
    ASSERT(reply != NULL);
    for (uint64_t i = 0; i < big_reply_len; i++)
        reply[i] = pattern_byte(i);
    ASSERT_EQ(conn_send(c, reply, (size_t)big_reply_len), 0);
    free(reply);
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_EQ(conn_send(c, "x", 1), ERR_ENOTWRITABLE);
}

static int wire_closes;
static enum conn_reason wire_reason;

static void wire_closed(conn *c, enum conn_reason reason)
{
    (void)c;
    wire_closes++;
    wire_reason = reason;
}

void test_conn_drain_socket(void)
{
    static conn_callbacks cb = { big_reply, NULL, wire_closed };
    /* larger than any socket pair holds (loopback TCP buffers under
     * Windows grow to several MiB) */
    big_reply_len = 32 * 1024 * 1024;
    wire_closes = 0;
    wire w;
    wire_start(&w, 64 * 1024, &cb, NULL);
    ASSERT_EQ(net_send(w.peer, "go", 2), 2);
    /* the reply is larger than the socket's buffers: some stays queued */
    for (int i = 0; i < 1000 && conn_bytes_in(w.c) < 2; i++)
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    ASSERT_UEQ(conn_bytes_in(w.c), 2);
    ASSERT_EQ(conn_state(w.c), CONN_SHUTTING);
    ASSERT_LT(conn_bytes_out(w.c), big_reply_len);

    uint64_t received = 0;
    int eof = 0;
    for (int i = 0; i < 1000000 && !eof; i++) {
        peer_read(w.peer, &received, 65536, &eof);
        if (!eof)
            ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    }
    /* every byte, then the end of stream */
    ASSERT_EQ(eof, 1);
    ASSERT_UEQ(received, big_reply_len);
    ASSERT_EQ(conn_state(w.c), CONN_HALF_CLOSED);
    ASSERT_EQ(wire_closes, 0);
    /* the peer closes: the connection ends, gracefully */
    ASSERT_EQ(net_close(w.peer), 0);
    w.peer = NET_INVALID;
    for (int i = 0; i < 1000 && wire_closes == 0; i++)
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    ASSERT_EQ(wire_closes, 1);
    ASSERT_EQ(wire_reason, CONN_REASON_DONE);
    ASSERT_UEQ(conn_table_live(w.table), 0);
    wire_end(&w);
}
