/* conn_peers.c -- how many connections each peer address has open, for a
 * table with count_peers (a per-address connection limit asks it at
 * every accept, so the count is a hash lookup, not a walk of the table).
 *
 * A group per address holds its count; it is made with the address's
 * first connection and freed with its last. */
#include "conn_int.h"

#include <stdlib.h>
#include <string.h>

/* The address part of "ADDR:PORT" or "[ADDR]:PORT": its length. A string
 * with no ':' is all address. */
static size_t addr_len(const char *peer)
{
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    if (len >= sizeof ((conn_peer_group *)0)->addr)
        len = sizeof ((conn_peer_group *)0)->addr - 1;
    return len;
}

/* FNV-1a. */
static uint64_t hash_of(const char *addr, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)addr[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static conn_peer_group *find(const conn_peers *ps, const char *addr,
                             size_t len, uint64_t hash)
{
    if (ps->nbuckets == 0)
        return NULL;
    conn_peer_group *g = ps->buckets[hash & (ps->nbuckets - 1)];
    for (; g; g = g->next)
        if (g->hash == hash && strlen(g->addr) == len &&
            memcmp(g->addr, addr, len) == 0)
            return g;
    return NULL;
}

/* Keep a bucket per group at least. Returns 0 or ERR_ENOMEM. */
static int grow(conn_peers *ps)
{
    if (ps->ngroups < ps->nbuckets)
        return 0;
    size_t n = ps->nbuckets ? ps->nbuckets * 2 : 64;
    conn_peer_group **buckets = calloc(n, sizeof *buckets);
    if (buckets == NULL)
        return ERR_ENOMEM;
    for (size_t i = 0; i < ps->nbuckets; i++) {
        conn_peer_group *g = ps->buckets[i];
        while (g) {
            conn_peer_group *next = g->next;
            g->next = buckets[g->hash & (n - 1)];
            buckets[g->hash & (n - 1)] = g;
            g = next;
        }
    }
    free(ps->buckets);
    ps->buckets = buckets;
    ps->nbuckets = n;
    return 0;
}

int conn__peers_add(conn_table *t, conn *c)
{
    conn_peers *ps = &t->peers;
    size_t len = addr_len(c->peer);
    uint64_t hash = hash_of(c->peer, len);
    conn_peer_group *g = find(ps, c->peer, len, hash);
    if (g == NULL) {
        if (grow(ps) != 0 || (g = calloc(1, sizeof *g)) == NULL)
            return ERR_ENOMEM;
        memcpy(g->addr, c->peer, len); /* calloc'd: stays terminated */
        g->hash = hash;
        g->next = ps->buckets[hash & (ps->nbuckets - 1)];
        ps->buckets[hash & (ps->nbuckets - 1)] = g;
        ps->ngroups++;
    }
    g->open++;
    c->peer_group = g;
    return 0;
}

void conn__peers_remove(conn_table *t, conn *c)
{
    conn_peer_group *g = c->peer_group;
    if (g == NULL)
        return;
    c->peer_group = NULL;
    if (--g->open > 0)
        return;
    conn_peers *ps = &t->peers;
    conn_peer_group **at = &ps->buckets[g->hash & (ps->nbuckets - 1)];
    while (*at != g)
        at = &(*at)->next;
    *at = g->next;
    ps->ngroups--;
    free(g);
}

void conn__peers_free(conn_table *t)
{
    conn_peers *ps = &t->peers;
    for (size_t i = 0; i < ps->nbuckets; i++) {
        while (ps->buckets[i]) {
            conn_peer_group *g = ps->buckets[i];
            ps->buckets[i] = g->next;
            free(g);
        }
    }
    free(ps->buckets);
    memset(ps, 0, sizeof *ps);
}

size_t conn_table_peer_open(const conn_table *t, const char *peer)
{
    size_t len = addr_len(peer);
    const conn_peer_group *g = find(&t->peers, peer, len,
                                    hash_of(peer, len));
    return g ? g->open : 0;
}
