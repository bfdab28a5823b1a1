/* test_conn_time.c -- the connection's deadlines (idle, drain, the
 * server's stop) on the virtual clock, and the table's tick and free:
 * when closed connections get their close callback and are freed. */
#include "cases.h"
#include "fixture.h"

/* --- timeouts ------------------------------------------------------------- */

void test_conn_idle_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 1000, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = fixture_open(&fx);
    fixture_advance(&fx, 500);
    conn *b = fixture_open(&fx);       /* b's idle clock starts at 500 */
    feed(a, "x");                   /* a's moves to 500 too */
    EXPECT(&fx, "#1 data(x)");
    fixture_advance(&fx, 1000);
    EXPECT(&fx, "");
    fixture_advance(&fx, 1200);
    ASSERT_EQ(send_str(b, "out"), 0); /* sending is activity: 2200 */
    EXPECT(&fx, "#2 send(out)");
    fixture_advance(&fx, 1499);
    EXPECT(&fx, "");
    /* idle, and no timeout callback: the graceful close (FIN), then the
     * wait for the peer's close, which ends it with reason timeout */
    fixture_advance(&fx, 1500);
    EXPECT(&fx, "#1 fin");
    ASSERT_EQ(conn_state(a), CONN_HALF_CLOSED);
    conn_feed_eof(a);
    EXPECT(&fx, "#1 close");
    conn_table_tick(fx.table);
    EXPECT(&fx, "#1 closed(timeout)");
    fixture_advance(&fx, 2199);
    EXPECT(&fx, "");
    fixture_advance(&fx, 2200);
    EXPECT(&fx, "#2 fin");
    /* b's peer never closes: the drain timeout ends it */
    fixture_advance(&fx, 12199);
    EXPECT(&fx, "");
    fixture_advance(&fx, 12200);
    EXPECT(&fx, "#2 close #2 closed(timeout)");
    ASSERT_UEQ(conn_table_live(fx.table), 0);

    /* the idle timeout applies while the peer is done and we wait (our
     * FIN ends it at once), and while a shutdown waits for refused
     * output: that output gets the drain timeout to go out, and is
     * dropped with a reset when it could not */
    conn *c = fixture_open_client_done(&fx);
    conn *d = fixture_open_shutting(&fx);
    (void)c;
    EXPECT(&fx, "#3 done #4 eagain");
    fixture_advance(&fx, 13199);
    EXPECT(&fx, "");
    fixture_advance(&fx, 13200);
    EXPECT_PER_CONN(&fx, "#3 fin #3 close #3 closed(timeout)");
    ASSERT_EQ(conn_state(d), CONN_SHUTTING);
    fixture_advance(&fx, 23199);
    EXPECT(&fx, "");
    fixture_advance(&fx, 23200);
    EXPECT(&fx, "#4 rst #4 closed(timeout)");
    fixture_end(&fx);
}

/* After the idle timeout, output that does go out within the drain
 * timeout is followed by the usual FIN and drain. */
void test_conn_idle_flush(void)
{
    fixture fx;
    fixture_start(&fx, 1000, 5000, 65536, 0);
    conn *c = fixture_open(&fx);
    fx.tr.room = 0;
    ASSERT_EQ(send_str(c, "late"), 0);
    EXPECT(&fx, "eagain");
    fixture_advance(&fx, 1000);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_EQ(conn_writable(c), 0);
    /* the peer reads a part, then the rest, at 5999: in time */
    fx.tr.room = 2;
    fixture_advance(&fx, 3000);
    conn_feed_writable(c);
    EXPECT(&fx, "send(la) eagain");
    fx.tr.room = -1;
    fixture_advance(&fx, 5999);
    conn_feed_writable(c);
    EXPECT(&fx, "send(te) fin");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* then the drain timeout, counted from our FIN */
    fixture_advance(&fx, 10998);
    EXPECT(&fx, "");
    fixture_advance(&fx, 10999);
    EXPECT(&fx, "close closed(timeout)");
    fixture_end(&fx);
}

/* What the timeout callback does with the connection. */
static int idle_calls;

static void on_idle(fixture *fx, conn *c)
{
    (void)fx;
    idle_calls++;
    switch (conn_id(c)) {
    case 1: /* a last line, then the graceful close */
        ASSERT_EQ(send_str(c, "bye"), 0);
        ASSERT_EQ(conn_shutdown(c), 0);
        break;
    case 2: /* keep it the first time (a line only); close the second */
        ASSERT_EQ(send_str(c, idle_calls == 2 ? "ping" : "bye"), 0);
        if (idle_calls != 2)
            ASSERT_EQ(conn_close(c), 0);
        break;
    case 3:
        conn_reset(c, CONN_REASON_TIMEOUT);
        break;
    }
}

void test_conn_idle_callback(void)
{
    fixture fx;
    fixture_start(&fx, 1000, 5000, 65536, 0);
    fx.tr.ids = 1;
    fx.callbacks.timeout = fixture_timeout;
    fx.on_timeout = on_idle;
    idle_calls = 0;
    conn *a = fixture_open(&fx);
    fixture_advance(&fx, 1000);
    EXPECT(&fx, "#1 timeout #1 send(bye) #1 fin");
    conn_feed_eof(a);
    conn_table_tick(fx.table);
    EXPECT(&fx, "#1 close #1 closed(timeout)");
    /* left writable: one more idle period from the callback's time */
    conn *b = fixture_open(&fx);
    fixture_advance(&fx, 2000);
    EXPECT(&fx, "#2 timeout #2 send(ping)");
    ASSERT_EQ(conn_state(b), CONN_OPEN);
    fixture_advance(&fx, 2999);
    EXPECT(&fx, "");
    fixture_advance(&fx, 3000);
    EXPECT(&fx, "#2 timeout #2 send(bye) #2 close #2 closed(timeout)");
    /* a reset asked by the callback */
    conn *c = fixture_open(&fx);
    (void)c;
    fixture_advance(&fx, 4000);
    EXPECT(&fx, "#3 timeout #3 rst #3 closed(timeout)");
    ASSERT_EQ(idle_calls, 4);
    /* not called once our side is shut: a shutdown waiting for refused
     * output is ended by the drain timeout, as without a callback */
    conn *d = fixture_open_shutting(&fx);
    (void)d;
    EXPECT(&fx, "#4 eagain");
    fixture_advance(&fx, 5000);
    EXPECT(&fx, "");
    fixture_advance(&fx, 10000);
    EXPECT(&fx, "#4 rst #4 closed(timeout)");
    ASSERT_EQ(idle_calls, 4);
    fixture_end(&fx);
}

void test_conn_no_idle_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = fixture_open(&fx);
    fixture_advance(&fx, 1000ull * 3600 * 24 * 365);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    fixture_end(&fx);
}

void test_conn_drain_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 500, 2000, 65536, 0);
    conn *c = fixture_open(&fx);
    fixture_advance(&fx, 100);
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "fin");
    /* half-closed: the drain timeout replaces the idle one, and input
     * does not move it */
    fixture_advance(&fx, 1000);
    feed(c, "still here");
    EXPECT(&fx, "data(still here)");
    fixture_advance(&fx, 2099);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* the peer never closed: a plain close, reason timeout */
    fixture_advance(&fx, 2100);
    EXPECT(&fx, "close closed(timeout)");
    fixture_end(&fx);
}

void test_conn_stop_deadline(void)
{
    fixture fx;
    fixture_start(&fx, 0, 100000, 65536, 0);
    fx.tr.ids = 1;
    conn *open = fixture_open(&fx);
    conn *half = fixture_open(&fx);
    ASSERT_EQ(conn_shutdown(half), 0);
    conn *shutting = fixture_open_shutting(&fx);
    conn *gone = fixture_open(&fx);
    conn_reset(gone, CONN_REASON_RESET);
    EXPECT(&fx, "#2 fin #3 eagain #4 rst");
    conn_table_stop_by(fx.table, START_MS + 5000);
    fixture_advance(&fx, 4999);
    /* only the reaping of #4 so far */
    EXPECT(&fx, "");
    conn_table_tick(fx.table);
    EXPECT(&fx, "#4 closed(reset)");
    (void)open;
    (void)half;
    (void)shutting;
    /* at the deadline every open connection is closed, reason stop,
     * whatever its state; one whose output is still queued is reset:
     * its peer must not take the cut stream for a whole one */
    fixture_advance(&fx, 5000);
    EXPECT_PER_CONN(&fx, "#1 close #1 closed(stop) #2 close #2 closed(stop) "
                         "#3 rst #3 closed(stop)");
    ASSERT_EQ(fx.closes, 4);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    fixture_end(&fx);
}

/* Every kind of output still unsent at the stop deadline ends its
 * connection with a reset: queued in OPEN or CLOSING, held back by the
 * shaping, held by a stall; only the connection with nothing unsent is
 * closed. */
void test_conn_stop_unsent_resets(void)
{
    fixture fx;
    fixture_start(&fx, 0, 100000, 65536, 0);
    fx.tr.ids = 1;
    conn *queued = fixture_open(&fx);
    fx.tr.room = 0;
    ASSERT_EQ(send_str(queued, "stuck"), 0);
    fx.tr.room = -1;
    conn *shaped = fixture_open(&fx);
    ASSERT_EQ(conn_delay(shaped, 60000, 0), 0);
    ASSERT_EQ(send_str(shaped, "held"), 0);
    conn *stalled = fixture_open(&fx);
    ASSERT_EQ(conn_stall(stalled), 0);
    ASSERT_EQ(send_str(stalled, "stalled"), 0);
    conn *sent = fixture_open(&fx);
    ASSERT_EQ(send_str(sent, "sent"), 0);
    conn *closing = fixture_open_closing(&fx);
    (void)closing;
    EXPECT(&fx, "#1 eagain #4 send(sent) #5 eagain");
    conn_table_stop_by(fx.table, START_MS + 5000);
    fixture_advance(&fx, 4999);
    EXPECT(&fx, "");
    fixture_advance(&fx, 5000);
    EXPECT_PER_CONN(&fx, "#1 rst #1 closed(stop) #2 rst #2 closed(stop) "
                         "#3 rst #3 closed(stop) #4 close #4 closed(stop) "
                         "#5 rst #5 closed(stop)");
    fixture_end(&fx);
}

void test_conn_stop_deadline_vs_idle(void)
{
    fixture fx;
    fixture_start(&fx, 2000, 100000, 65536, 0);
    conn *c = fixture_open(&fx);
    /* the idle timeout comes first: it wins (the graceful close); the
     * stop deadline then bounds the drain */
    conn_table_stop_by(fx.table, START_MS + 5000);
    fixture_advance(&fx, 2000);
    EXPECT(&fx, "fin");
    fixture_advance(&fx, 5000);
    EXPECT(&fx, "close closed(stop)");
    (void)c;
    fixture_end(&fx);

    fixture_start(&fx, 8000, 100000, 65536, 0);
    c = fixture_open(&fx);
    /* the stop deadline comes first: it wins; activity does not move it */
    conn_table_stop_by(fx.table, START_MS + 5000);
    fixture_advance(&fx, 4000);
    feed(c, "x");
    fixture_advance(&fx, 4999);
    EXPECT(&fx, "data(x)");
    fixture_advance(&fx, 5000);
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
    conn *a = fixture_open(&fx);
    chained_next = fixture_open(&fx);
    conn *c = fixture_open(&fx);
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
    conn *a = fixture_open(&fx);
    chained_next = fixture_open(&fx);
    conn *c = fixture_open(&fx);
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

void test_conn_table_free_stops(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = fixture_open(&fx);
    conn *b = fixture_open_client_done(&fx);
    conn *c = fixture_open(&fx);
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
