/* test_conn_stats.c -- conn_table_stats: what a table counts, inbound and
 * outbound, on a table with a transport. */
#include "cases.h"
#include "fixture.h"

static void connector(void *data, conn *c, const char *host, int port)
{
    (void)data;
    (void)c;
    (void)host;
    (void)port;
}

static conn *connect_one(fixture *fx, uint64_t timeout_ms)
{
    conn *c = NULL;
    ASSERT_EQ(conn_connect(fx->table, "192.0.2.9", 7, timeout_ms, &c), 0);
    conn_set_callbacks(c, &fx->callbacks, fx);
    return c;
}

void test_conn_stats_counts(void)
{
    fixture fx;
    conn_stats st;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.transport.connect = connector;
    fx.on_data = fixture_reply_bracketed;

    conn_table_stats(fx.table, &st);
    ASSERT_UEQ(st.accepted, 0);
    ASSERT_UEQ(st.up_started, 0);

    conn *a = fixture_open(&fx), *b = fixture_open(&fx);
    fixture_open(&fx);
    feed(a, "abc");                 /* in 3, out "<abc>" 5 */
    feed(b, "hello, world");        /* in 12, out 14 */
    conn_feed_reset(b);             /* reset */
    ASSERT_EQ(conn_close(a), 0);    /* done */

    conn *ok = connect_one(&fx, 0);
    conn *refused = connect_one(&fx, 0);
    connect_one(&fx, 500);          /* times out */
    conn_feed_connected(ok, 0);
    conn_feed_connected(refused, ERR_ECONNREFUSED);
    feed(ok, "xy");                 /* upstream in 2, out "<xy>" 4 */
    fixture_advance(&fx, 1000);

    conn_table_stats(fx.table, &st);
    ASSERT_UEQ(st.accepted, 3);
    ASSERT_UEQ(st.closed[CONN_REASON_DONE], 1);
    ASSERT_UEQ(st.closed[CONN_REASON_RESET], 1);
    ASSERT_UEQ(st.closed[CONN_REASON_TIMEOUT], 0);
    ASSERT_UEQ(st.closed[CONN_REASON_ERROR], 0);
    ASSERT_UEQ(st.closed[CONN_REASON_STOP], 0);
    ASSERT_UEQ(st.bytes_in, 3 + 12);
    ASSERT_UEQ(st.bytes_out, 5 + 14);
    ASSERT_UEQ(st.up_started, 3);
    ASSERT_UEQ(st.up_connects[CONN_CONNECT_OK], 1);
    ASSERT_UEQ(st.up_connects[CONN_CONNECT_REFUSED], 1);
    ASSERT_UEQ(st.up_connects[CONN_CONNECT_TIMEOUT], 1);
    ASSERT_UEQ(st.up_connects[CONN_CONNECT_ERROR], 0);
    ASSERT_UEQ(st.up_closed, 2);    /* the refused and the timed out */
    ASSERT_UEQ(st.up_bytes_in, 2);
    ASSERT_UEQ(st.up_bytes_out, 4);

    /* the table's end closes the rest: stop */
    conn_table_reset_all(fx.table, CONN_REASON_STOP);
    conn_table_stats(fx.table, &st);
    ASSERT_UEQ(st.closed[CONN_REASON_STOP], 1);
    ASSERT_UEQ(st.up_closed, 3);
    fixture_end(&fx);
}

void test_conn_stats_names(void)
{
    ASSERT_STR_EQ(conn_connect_result_name(CONN_CONNECT_OK), "ok");
    ASSERT_STR_EQ(conn_connect_result_name(CONN_CONNECT_REFUSED), "refused");
    ASSERT_STR_EQ(conn_connect_result_name(CONN_CONNECT_TIMEOUT), "timeout");
    ASSERT_STR_EQ(conn_connect_result_name(CONN_CONNECT_ERROR), "error");
}
