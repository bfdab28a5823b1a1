/* test_conn_connect.c -- conn_connect on a table with a transport: the
 * transport's connector plays the server (no socket; --simulate's proxy
 * mode), answering with conn_feed_connected, and the connect timeout
 * runs on the virtual clock. */
#include <stdio.h>

#include "cases.h"
#include "fixture.h"

/* The connector: trace the call; the case answers later. */
static void connector(void *data, conn *c, const char *host, int port)
{
    char what[80];
    int n = snprintf(what, sizeof what, "%s %d", host, port);
    vtrace_add(data, c, "connect", what, (size_t)n);
}

static void cb_connected(conn *c, int err)
{
    fixture *fx = conn_owner(c);
    const char *what = err ? err_strerror(err) : "ok";
    vtrace_add(&fx->tr, c, "connected", what, strlen(what));
}

/* A started connect, the fixture's callbacks set, as its owner would. */
static conn *start(fixture *fx, uint64_t timeout_ms)
{
    conn *c = NULL;
    fx->tr.transport.connect = connector;
    fx->callbacks.connected = cb_connected;
    ASSERT_EQ(conn_connect(fx->table, "192.0.2.9", 7, timeout_ms, &c), 0);
    ASSERT(c != NULL);
    conn_set_callbacks(c, &fx->callbacks, fx);
    EXPECT(fx, "connect(192.0.2.9 7)");
    ASSERT(conn_connecting(c));
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    return c;
}

/* No connector: nothing is made (the transport never dials). */
void test_conn_connect_no_connector(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = NULL;
    ASSERT_EQ(conn_connect(fx.table, "192.0.2.9", 7, 1000, &c),
              ERR_EINVAL);
    ASSERT(c == NULL);
    ASSERT_UEQ(conn_table_live(fx.table), 0);
    EXPECT(&fx, "");
    fixture_end(&fx);
}

/* What is sent and a FIN asked while connecting wait for the answer;
 * they go out, in order, once the connector accepts; the peer's bytes
 * are read only then. */
void test_conn_connect_accepted(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = start(&fx, 1000);
    ASSERT_EQ(send_str(c, "hello"), 0);
    ASSERT_EQ(conn_shutdown(c), 0);
    feed(c, "early");
    EXPECT(&fx, "");
    /* an outbound connection does not count as an open client */
    ASSERT_UEQ(conn_table_open(fx.table), 0);
    conn_feed_connected(c, 0);
    EXPECT(&fx, "note(connected to 192.0.2.9:7) connected(ok) "
                "send(hello) fin");
    ASSERT(!conn_connecting(c));
    /* answered once: a second answer changes nothing */
    conn_feed_connected(c, ERR_ECONNREFUSED);
    EXPECT(&fx, "");
    feed(c, "reply");
    EXPECT(&fx, "data(reply)");
    /* and the connect timeout no longer applies */
    fixture_advance(&fx, 5000);
    EXPECT(&fx, "");
    conn_feed_eof(c);
    conn_table_tick(fx.table);
    EXPECT(&fx, "close closed(done)");
    fixture_end(&fx);
}

/* Refused: the connected callback says why, the connection closes (a
 * plain close: nothing was sent), what waited is dropped. */
void test_conn_connect_refused(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = start(&fx, 1000);
    ASSERT_EQ(send_str(c, "hello"), 0);
    conn_feed_connected(c, ERR_ECONNREFUSED);
    EXPECT(&fx, "note(connect to 192.0.2.9:7 failed: connection refused) "
                "connected(connection refused) close");
    conn_table_tick(fx.table);
    EXPECT(&fx, "closed(error)");
    fixture_end(&fx);
}

/* Never answered: the connect timeout fires on the virtual clock. */
void test_conn_connect_timeout(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    start(&fx, 1000);
    fixture_advance(&fx, 999);
    EXPECT(&fx, "");
    fixture_advance(&fx, 1000);
    EXPECT(&fx, "note(connect to 192.0.2.9:7 failed: timed out) "
                "connected(timed out) close closed(error)");
    fixture_end(&fx);
}
