/* conn_list.c -- walking a table's connections, for the admin API's
 * GET /connections (run on the table's own thread). */
#include "conn_int.h"

conn *conn_table_next(conn_table *t, conn *c)
{
    conn *next = c == NULL ? t->all : c->next;
    while (next != NULL && next->state == CONN_CLOSED)
        next = next->next;
    return next;
}

int conn_outbound(const conn *c)
{
    return c->outbound;
}
