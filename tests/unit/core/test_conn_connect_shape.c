/* test_conn_connect_shape.c -- an outbound connection shaped before it
 * has connected: what is sent meanwhile is held back by its shaping from
 * the moment it was sent, not let out raw when the connect completes. A
 * real loop on a virtual clock (the delay waits for loop_advance) and a
 * listener on loopback that the test accepts from. */
#include "cases.h"
#include "conn.h"
#include "fixture.h"

#define START_MS 1000
#define TURNS 3000

/* Run the loop until the listener has a connection; returns it. */
static net_socket accept_one(loop *l, net_socket listener)
{
    char peer[64];
    net_socket s;
    for (int i = 0; i < TURNS; i++) {
        ASSERT_EQ(loop_run_once(l, 1), 0);
        int rc = net_accept(listener, &s, peer, sizeof peer);
        if (rc == 0)
            return s;
        ASSERT_EQ(rc, ERR_EAGAIN);
    }
    TEST_FAIL("no connection came");
}

/* Run the loop for a while; returns what s received meanwhile. */
static size_t turns_recv(loop *l, net_socket s, char *got_buf, size_t cap,
                         size_t want)
{
    size_t got = 0;
    for (int i = 0; i < TURNS && (want == 0 || got < want); i++) {
        ASSERT_EQ(loop_run_once(l, 1), 0);
        long rc = net_recv(s, got_buf + got, cap - got);
        if (rc > 0)
            got += (size_t)rc;
        else
            ASSERT_EQ(rc, ERR_EAGAIN);
        if (want == 0 && i == 30)
            break; /* expecting nothing: a while is enough */
    }
    return got;
}

void test_conn_connect_shaped(void)
{
    loop *l = loop_create();
    ASSERT(l != NULL);
    loop_use_virtual_clock(l, START_MS);
    conn_config cfg = { .loop = l, .out_limit = 1 << 20, .drain_ms = 5000,
                        .write_later = 1 };
    conn_table *t = conn_table_create(&cfg);
    ASSERT(t != NULL);
    loop_set_before_sleep(l, fixture_before_sleep, t);
    net_socket listener;
    char name[64];
    ASSERT_EQ(net_listen("127.0.0.1", 0, 4, 0, &listener), 0);
    ASSERT_EQ(net_local_name(listener, name, sizeof name), 0);

    conn *c;
    ASSERT_EQ(conn_connect(t, "127.0.0.1", atoi(strchr(name, ':') + 1), 0,
                           &c), 0);
    ASSERT_EQ(conn_delay(c, 200, 0), 0);
    ASSERT_EQ(conn_send(c, "held", 4), 0); /* still connecting */
    net_socket peer = accept_one(l, listener);
    char got_buf[16];
    ASSERT_UEQ(turns_recv(l, peer, got_buf, sizeof got_buf, 0), 0);
    loop_advance(l, START_MS + 199);
    ASSERT_UEQ(turns_recv(l, peer, got_buf, sizeof got_buf, 0), 0);
    loop_advance(l, START_MS + 200);
    size_t got = turns_recv(l, peer, got_buf, sizeof got_buf, 4);
    ASSERT_MEM_EQ(got_buf, got, "held", 4);

    conn_table_free(t);
    ASSERT_EQ(net_close(peer), 0);
    ASSERT_EQ(net_close(listener), 0);
    loop_free(l);
}
