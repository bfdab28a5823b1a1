/* conn_io.c -- where a connection's bytes go: its socket, or the table's
 * transport when it has none (--simulate, unit tests). The state machine
 * is the same either way. What goes out is shown to the table's tap here,
 * as the socket takes it. */
#include "conn_int.h"

long conn__tx_send(conn *c, const char *data, size_t len)
{
    const conn_transport *t = c->table->cfg.transport;
    long n = t != NULL ? t->send(t->data, c, data, len)
                       : net_send(c->io.handle.sock, data, len);
    if (n > 0)
        conn__tap(c, CONN_TAP_OUT, data, (size_t)n);
    return n;
}

long conn__tx_recv(conn *c, char *into, size_t len)
{
    return net_recv(c->io.handle.sock, into, len);
}

int conn__tx_shutdown_send(conn *c)
{
    const conn_transport *t = c->table->cfg.transport;
    /* shown as asked: the state machine goes on as after a FIN even when
     * the peer has gone (ERR_ENOTCONN), as a transport's always does */
    conn__tap(c, CONN_TAP_FIN, NULL, 0);
    if (t == NULL)
        return net_shutdown_send(c->io.handle.sock);
    t->shutdown_send(t->data, c);
    return 0;
}

void conn__tx_close(conn *c, int abortive)
{
    const conn_transport *t = c->table->cfg.transport;
    conn__tap(c, abortive ? CONN_TAP_RESET : CONN_TAP_CLOSE, NULL, 0);
    if (t != NULL)
        t->close(t->data, c, abortive);
    else if (abortive)
        net_abort(c->io.handle.sock);
    else
        net_close(c->io.handle.sock);
}
