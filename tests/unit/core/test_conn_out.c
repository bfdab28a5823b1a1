/* test_conn_out.c -- what a connection sends and how: output the
 * transport refused and takes later, a send that fails, the FIN or the
 * close waiting for written-later and shaped bytes, and the framing of
 * input. */
#include "cases.h"
#include "fixture.h"

/* --- output the transport refused ----------------------------------------- */

void test_conn_transport_refuses(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = fixture_open(&fx);
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
    /* the FIN waits for the queue, which nothing drains until the
     * transport says it takes more (conn_feed_writable): it stays held */
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "");
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    conn_table_tick(fx.table);
    fixture_advance(&fx, 3600 * 1000);
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

/* The transport takes more again (conn_feed_writable, as a socket's write
 * readiness): what it refused goes out, in order, as far as it takes. */
void test_conn_feed_writable(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = fixture_open(&fx);
    /* a short count, then ERR_EAGAIN: the rest stays queued */
    fx.tr.room = 2;
    ASSERT_EQ(send_str(c, "abcdef"), 0);
    EXPECT(&fx, "send(ab) eagain");
    ASSERT_UEQ(conn_bytes_out(c), 2);
    /* still refusing: asked again, nothing moves */
    conn_feed_writable(c);
    EXPECT(&fx, "eagain");
    ASSERT_UEQ(conn_bytes_out(c), 2);
    /* room for 3: a part goes, the rest waits (a short count means the
     * transport is full: the flush does not ask again) */
    fx.tr.room = 3;
    conn_feed_writable(c);
    EXPECT(&fx, "send(cde) eagain");
    ASSERT_UEQ(conn_bytes_out(c), 5);
    /* a send queues behind what waits */
    ASSERT_EQ(send_str(c, "gh"), 0);
    EXPECT(&fx, "");
    /* room for everything: the queue empties, in order */
    fx.tr.room = -1;
    conn_feed_writable(c);
    EXPECT(&fx, "send(fgh)");
    ASSERT_UEQ(conn_bytes_out(c), 8);
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    /* nothing queued: the transport is not asked */
    conn_feed_writable(c);
    EXPECT(&fx, "");
    /* and a send goes straight out again */
    ASSERT_EQ(send_str(c, "i"), 0);
    EXPECT(&fx, "send(i)");
    ASSERT_UEQ(conn_bytes_out(c), 9);
    fixture_end(&fx);
}

/* A FIN or a close that waits for refused output goes right after the
 * queue empties through conn_feed_writable: the clock does not move. */
void test_conn_feed_writable_finishes(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *shutting = fixture_open_shutting(&fx);
    conn *closing = fixture_open_closing(&fx);
    conn *peer_done = fixture_open_shutting(&fx);
    conn_feed_eof(peer_done);
    EXPECT(&fx, "#1 eagain #2 eagain #3 eagain");
    /* SHUTTING: a part of the queue is not enough for the FIN */
    fx.tr.room = 3;
    conn_feed_writable(shutting);
    EXPECT(&fx, "#1 send(que) #1 eagain");
    ASSERT_EQ(conn_state(shutting), CONN_SHUTTING);
    /* the rest: the FIN right after it */
    fx.tr.room = -1;
    conn_feed_writable(shutting);
    EXPECT(&fx, "#1 send(ued) #1 fin");
    ASSERT_EQ(conn_state(shutting), CONN_HALF_CLOSED);
    ASSERT_UEQ(conn_bytes_out(shutting), 6);
    /* CLOSING: the close right after the queue */
    conn_feed_writable(closing);
    EXPECT(&fx, "#2 send(queued) #2 close");
    ASSERT_EQ(conn_state(closing), CONN_CLOSED);
    ASSERT_EQ(conn_reason(closing), CONN_REASON_DONE);
    /* SHUTTING with the peer done: the FIN ends the connection */
    conn_feed_writable(peer_done);
    EXPECT(&fx, "#3 send(queued) #3 fin #3 close");
    ASSERT_EQ(conn_state(peer_done), CONN_CLOSED);
    ASSERT_EQ(conn_reason(peer_done), CONN_REASON_DONE);
    ASSERT_UEQ(loop_now(fx.loop), START_MS);
    /* a closed connection takes nothing more */
    conn_feed_writable(closing);
    EXPECT(&fx, "");
    conn_table_tick(fx.table);
    EXPECT_PER_CONN(&fx, "#2 closed(done) #3 closed(done)");
    /* the half-closed one reads until the peer closes, as ever */
    conn_feed_eof(shutting);
    EXPECT(&fx, "#1 close");
    conn_table_tick(fx.table);
    EXPECT(&fx, "#1 closed(done)");
    ASSERT_EQ(fx.closes, 3);
    fixture_end(&fx);
}

/* A send that fails closes the connection; conn_send still returns 0 (the
 * bytes were taken) and the close callback says why. */
void test_conn_send_error(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    conn *a = fixture_open(&fx), *b = fixture_open(&fx);
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

/* --- drain: the FIN or the close only after every byte -------------------- */

void test_conn_drain_write_later(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 1);
    fx.tr.ids = 1;
    /* small sends wait for the tick; the shutdown waits for them */
    conn *a = fixture_open(&fx);
    ASSERT_EQ(send_str(a, "one "), 0);
    ASSERT_EQ(send_str(a, "two"), 0);
    ASSERT_EQ(conn_shutdown(a), 0);
    ASSERT_EQ(conn_state(a), CONN_SHUTTING);
    /* the close waits for them too */
    conn *b = fixture_open(&fx);
    ASSERT_EQ(send_str(b, "last"), 0);
    ASSERT_EQ(conn_close(b), 0);
    ASSERT_EQ(conn_state(b), CONN_CLOSING);
    /* a reset sends what was sent before it, then resets */
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
    ASSERT_EQ(conn_delay(c, 100, 0), 0);
    ASSERT_EQ(send_str(c, "abc"), 0);
    fixture_advance(&fx, 99);
    EXPECT(&fx, "");
    fixture_advance(&fx, 100);
    EXPECT(&fx, "send(abc)");
    ASSERT_EQ(send_str(c, "de"), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    fixture_advance(&fx, 199);
    EXPECT(&fx, "");
    /* the FIN follows the last held byte */
    fixture_advance(&fx, 200);
    EXPECT(&fx, "send(de) fin");
    ASSERT_EQ(conn_state(c), CONN_HALF_CLOSED);
    /* a close waits for held bytes the same way */
    conn *d = fixture_open(&fx);
    ASSERT_EQ(conn_delay(d, 50, 0), 0);
    ASSERT_EQ(send_str(d, "zz"), 0);
    ASSERT_EQ(conn_close(d), 0);
    ASSERT_EQ(conn_state(d), CONN_CLOSING);
    fixture_advance(&fx, 250);
    EXPECT(&fx, "send(zz) close closed(done)");
    fixture_end(&fx);
}

/* --- framing glue --------------------------------------------------------- */

static void take_rest(fixture *fx, conn *c)
{
    size_t len;
    const char *rest = conn_take_rest(c, &len);
    if (rest == NULL)
        vtrace_add(&fx->tr, c, "rest", "NULL", 4);
    else
        vtrace_add(&fx->tr, c, "rest", rest, len);
}

void test_conn_frame_lines(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.on_done = take_rest;
    conn *c = fixture_open(&fx);
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
    conn *d = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
    conn *c = fixture_open(&fx);
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
