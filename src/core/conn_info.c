/* conn_info.c -- what a connection's owner (the Lua layer, the admin
 * API, a summary line) reads of it, and walking a table's connections
 * (GET /connections), on the table's own thread. */
#include "conn_int.h"

void *conn_owner(const conn *c) { return c->owner; }
void *conn_tap_data(const conn *c) { return c->tap_data; }
void conn_set_tap_data(conn *c, void *data) { c->tap_data = data; }
conn_table *conn_table_of(const conn *c) { return c->table; }
uint64_t conn_id(const conn *c) { return c->id; }
const char *conn_peer(const conn *c) { return c->peer; }
enum conn_state conn_state(const conn *c) { return c->state; }
enum conn_reason conn_reason(const conn *c) { return c->reason; }
uint64_t conn_bytes_in(const conn *c) { return c->bytes_in; }
size_t conn_read_max(const conn *c) { return c->read_max; }
uint64_t conn_bytes_out(const conn *c) { return c->bytes_out; }
int conn_peer_done(const conn *c) { return c->peer_eof; }
int conn_peer_reset(const conn *c) { return c->peer_reset; }

enum conn_first_fin conn_first_fin(const conn *c)
{
    return (enum conn_first_fin)c->first_fin;
}

uint64_t conn_age_ms(const conn *c)
{
    uint64_t end = c->state == CONN_CLOSED ? c->closed_ms
                                           : loop_now(c->table->cfg.loop);
    return end - c->opened_ms;
}

uint64_t conn_idle_ms(const conn *c)
{
    return loop_now(c->table->cfg.loop) - c->last_active_ms;
}

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
