/* test_conn_tap.c -- the observer of a table's connections (conn_tap):
 * every event in the order it happened on the wire, each once, with the
 * bytes as they were read and as the transport took them, and a slot of
 * the tap's own from the open to the free. */
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"
#include "fixture.h"

static const char *const tap_names[] = {
    "t.open", "t.in", "t.out", "t.peer_fin", "t.peer_rst", "t.fin",
    "t.close", "t.rst", "t.free", "t.connected", "t.refused",
    "t.connect_timeout", "t.connect_failed"
};

static int slots_live; /* tap slots allocated and not yet freed */

/* The tap: each event into the fixture's trace, beside the transport's. */
static void tap_event(void *data, conn *c, enum conn_tap_event ev,
                      const char *bytes, size_t len)
{
    fixture *fx = data;
    if (ev == CONN_TAP_OPEN) {
        ASSERT(conn_tap_data(c) == NULL);
        conn_set_tap_data(c, malloc(1));
        ASSERT(conn_tap_data(c) != NULL);
        slots_live++;
    }
    ASSERT((bytes != NULL) == (ev == CONN_TAP_IN || ev == CONN_TAP_OUT));
    vtrace_add(&fx->tr, c, tap_names[ev], bytes, len);
    if (ev == CONN_TAP_FREE) {
        ASSERT_EQ(conn_state(c), CONN_CLOSED);
        free(conn_tap_data(c));
        slots_live--;
    }
}

void test_conn_tap_graceful(void)
{
    fixture fx;
    conn_tap tap = {tap_event, &fx};
    fixture_start_tapped(&fx, 0, 10000, 65536, 0, &tap);
    slots_live = 0;
    fx.on_data = fixture_reply_bracketed;
    fx.tr.room = 3; /* a short send: the tap sees what was taken */
    conn *c = fixture_open(&fx);
    EXPECT(&fx, "t.open");
    feed(c, "hi");
    EXPECT(&fx, "t.in(hi) data(hi) send(<hi) t.out(<hi) eagain");
    fx.tr.room = -1;
    conn_feed_writable(c);
    EXPECT(&fx, "send(>) t.out(>)");
    conn_feed_eof(c);
    EXPECT(&fx, "t.peer_fin done");
    ASSERT_EQ(conn_shutdown(c), 0);
    EXPECT(&fx, "t.fin fin t.close close");
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(done) t.free");
    ASSERT_EQ(slots_live, 0);
    fixture_end(&fx);
    EXPECT(&fx, "");
}

void test_conn_tap_resets(void)
{
    fixture fx;
    conn_tap tap = {tap_event, &fx};
    fixture_start_tapped(&fx, 0, 10000, 65536, 0, &tap);
    slots_live = 0;
    conn *a = fixture_open(&fx);
    conn *b = fixture_open(&fx);
    EXPECT(&fx, "t.open t.open");
    conn_feed_reset(a);          /* the peer's RST: then our plain close */
    EXPECT(&fx, "t.peer_rst t.close close");
    conn_reset(b, CONN_REASON_RESET);           /* ours */
    EXPECT(&fx, "t.rst rst");
    conn_feed_reset(a);          /* closed already: nothing */
    EXPECT(&fx, "");
    fx.tr.ids = 1;
    conn_table_tick(fx.table);
    EXPECT_PER_CONN(&fx, "#1 closed(reset) #1 t.free #2 closed(reset) "
                    "#2 t.free");
    ASSERT_EQ(slots_live, 0);
    /* the table's free resets what is open, and frees the slots */
    conn *c = fixture_open(&fx);
    (void)c;
    fixture_end(&fx);
    ASSERT_EQ(slots_live, 0);
}

static void connector(void *data, conn *c, const char *host, int port)
{
    (void)host;
    (void)port;
    vtrace_add(data, c, "connect", NULL, 0);
}

/* An outbound connection's connect: how it ended, once, before what
 * follows it (the peer's bytes only once connected). */
void test_conn_tap_connect(void)
{
    fixture fx;
    conn_tap tap = {tap_event, &fx};
    fixture_start_tapped(&fx, 0, 10000, 65536, 0, &tap);
    slots_live = 0;
    fx.tr.transport.connect = connector;
    conn *ok = NULL, *refused = NULL, *late = NULL, *odd = NULL;
    ASSERT_EQ(conn_connect(fx.table, "192.0.2.9", 7, 1000, &ok), 0);
    EXPECT(&fx, "t.open connect");
    conn_feed(ok, "early", 5);                 /* not read yet */
    conn_feed_connected(ok, 0);
    conn_feed(ok, "+OK", 3);
    /* no callbacks: it echoes */
    EXPECT(&fx, "t.connected note(connected to 192.0.2.9:7) t.in(+OK) "
           "send(+OK) t.out(+OK)");
    ASSERT_EQ(conn_connect(fx.table, "192.0.2.9", 7, 1000, &refused), 0);
    ASSERT_EQ(conn_connect(fx.table, "192.0.2.9", 7, 1000, &late), 0);
    ASSERT_EQ(conn_connect(fx.table, "192.0.2.9", 7, 1000, &odd), 0);
    EXPECT(&fx, "t.open connect t.open connect t.open connect");
    conn_feed_connected(refused, ERR_ECONNREFUSED);
    EXPECT(&fx, "t.refused note(connect to 192.0.2.9:7 failed: connection "
           "refused) t.close close");
    conn_feed_connected(odd, ERR_EINVAL);
    EXPECT(&fx, "t.connect_failed note(connect to 192.0.2.9:7 failed: "
           "invalid argument) t.close close");
    fixture_advance(&fx, 1000);
    /* the tick frees the three that closed */
    EXPECT(&fx, "t.connect_timeout note(connect to 192.0.2.9:7 failed: "
           "timed out) t.close close t.free t.free t.free");
    fixture_end(&fx);
    ASSERT_EQ(slots_live, 0);
}
