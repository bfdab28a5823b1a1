/* test_conn_states.c -- the connection's states, each against every event
 * that can reach it: peer data, the peer's FIN and reset, and the owner's
 * send, shutdown, close and reset (over the fixture of fixture.h). */
#include "cases.h"
#include "fixture.h"

/* --- OPEN ----------------------------------------------------------------- */

void test_conn_open_data(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_data = fixture_reply_bracketed;
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    fx.on_data = fixture_reply_bracketed;
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *a = fixture_open(&fx), *b = fixture_open(&fx);
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

void test_conn_client_done_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *c = fixture_open_client_done(&fx);
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

    conn *d = fixture_open_client_done(&fx);
    ASSERT_EQ(conn_close(d), 0);
    conn *e = fixture_open_client_done(&fx);
    conn_reset(e, CONN_REASON_RESET);
    conn *f = fixture_open_client_done(&fx);
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
    conn *c = fixture_open(&fx);
    conn_feed_eof(c);
    EXPECT(&fx, "done send(bye) fin close");
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done)");
    fixture_end(&fx);
}

/* Feeding no bytes is no event: no data callback, no echo, and no
 * activity for the idle clock. */
void test_conn_feed_nothing(void)
{
    fixture fx;
    fixture_start(&fx, 1000, 10000, 65536, 0);
    fx.tr.ids = 1;
    fx.on_data = fixture_reply_bracketed;
    conn *c = fixture_open(&fx);
    conn *echo = conn_open_virtual(fx.table, "192.0.2.2:5000");
    ASSERT(echo != NULL);               /* no callbacks: the echo */
    fixture_advance(&fx, 999);
    conn_feed(c, "", 0);
    conn_feed(echo, "", 0);
    EXPECT(&fx, "");
    ASSERT_UEQ(conn_bytes_in(c), 0);
    ASSERT_UEQ(conn_bytes_in(echo), 0);
    ASSERT_UEQ(conn_bytes_out(c), 0);
    ASSERT_UEQ(conn_bytes_out(echo), 0);
    /* idle since they opened: the timeout at 1000 stands (the graceful
     * close, FIN) */
    fixture_advance(&fx, 1000);
    EXPECT_PER_CONN(&fx, "#1 fin #2 fin");
    fixture_end(&fx);
}

/* --- SHUTTING and CLOSING (output the transport refused stays queued) ----- */

void test_conn_shutting_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    fx.on_data = fixture_reply_bracketed;
    conn *c = fixture_open_shutting(&fx);
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
    conn *d = fixture_open_shutting(&fx);
    ASSERT_EQ(conn_close(d), 0);
    ASSERT_EQ(conn_state(d), CONN_CLOSING);
    /* owner reset while shutting */
    conn *e = fixture_open_shutting(&fx);
    conn_reset(e, CONN_REASON_RESET);
    EXPECT(&fx, "#2 eagain #3 eagain #3 rst");
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 2);
    ASSERT_UEQ(conn_table_live(fx.table), 1);
    fixture_end(&fx);
}

void test_conn_closing_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *c = fixture_open_closing(&fx);
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

    conn *d = fixture_open_closing(&fx);
    conn_feed_reset(d);
    EXPECT(&fx, "#2 eagain #2 close");
    ASSERT_EQ(conn_reason(d), CONN_REASON_RESET);
    conn_table_tick(fx.table);
    ASSERT_EQ(fx.closes, 2);
    fixture_end(&fx);
}

/* --- HALF_CLOSED ---------------------------------------------------------- */

void test_conn_half_closed_events(void)
{
    fixture fx;
    fixture_start(&fx, 0, 2000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = fixture_open(&fx), *b = fixture_open(&fx);
    conn *c = fixture_open(&fx), *d = fixture_open(&fx);
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
    fixture_advance(&fx, 100000);
    EXPECT(&fx, "");
    fixture_end(&fx);
}

/* --- notes and names ------------------------------------------------------ */

void test_conn_note(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = fixture_open(&fx);
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
