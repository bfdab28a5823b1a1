/* vtrace.c -- a transport that records (see vtrace.h). */
#include "vtrace.h"

void vtrace_add(vtrace *t, conn *c, const char *what, const char *bytes,
                size_t len)
{
    char head[64];
    int n = t->ids ? snprintf(head, sizeof head, "%s#%llu %s",
                              t->len ? " " : "",
                              (unsigned long long)conn_id(c), what)
                   : snprintf(head, sizeof head, "%s%s", t->len ? " " : "",
                              what);
    ASSERT_LT(t->len + (size_t)n + len + 3, sizeof t->text);
    memcpy(t->text + t->len, head, (size_t)n);
    t->len += (size_t)n;
    if (bytes != NULL) {
        t->text[t->len++] = '(';
        memcpy(t->text + t->len, bytes, len);
        t->len += len;
        t->text[t->len++] = ')';
    }
    t->text[t->len] = '\0';
}

void vtrace_clear(vtrace *t)
{
    t->len = 0;
    t->text[0] = '\0';
}

static long tx_send(void *data, conn *c, const char *bytes, size_t len)
{
    vtrace *t = data;
    if (t->fail_id != 0 && conn_id(c) == t->fail_id) {
        vtrace_add(t, c, "error", NULL, 0);
        return t->fail_with;
    }
    if (t->room == 0) {
        vtrace_add(t, c, "eagain", NULL, 0);
        return ERR_EAGAIN;
    }
    size_t n = len;
    if (t->room > 0 && (size_t)t->room < n)
        n = (size_t)t->room;
    if (t->room > 0)
        t->room -= (long)n;
    vtrace_add(t, c, "send", bytes, n);
    return (long)n;
}

static void tx_shutdown_send(void *data, conn *c)
{
    vtrace_add(data, c, "fin", NULL, 0);
}

static void tx_close(void *data, conn *c, int abortive)
{
    vtrace_add(data, c, abortive ? "rst" : "close", NULL, 0);
}

static void tx_note(void *data, conn *c, const char *what)
{
    vtrace_add(data, c, "note", what, strlen(what));
}

void vtrace_init(vtrace *t)
{
    memset(t, 0, sizeof *t);
    t->transport.send = tx_send;
    t->transport.shutdown_send = tx_shutdown_send;
    t->transport.close = tx_close;
    t->transport.note = tx_note;
    t->transport.data = t;
    t->room = -1;
}

typedef struct trace_entry {
    const char *at;
    size_t len;
    unsigned long id;
} trace_entry;

void vtrace_group_by_conn(const char *in, char *out, size_t outlen)
{
    enum { MAX_ENTRIES = 256 };
    trace_entry e[MAX_ENTRIES];
    size_t n = 0;
    const char *p = in;
    while (*p) {
        ASSERT(*p == '#');
        ASSERT_LT(n, MAX_ENTRIES);
        e[n].at = p;
        e[n].id = strtoul(p + 1, NULL, 10);
        const char *next = p + 1;
        while (*next && !(next[0] == ' ' && next[1] == '#' &&
                          next[2] >= '0' && next[2] <= '9'))
            next++;
        e[n].len = (size_t)(next - p);
        n++;
        p = *next ? next + 1 : next;
    }
    for (size_t i = 1; i < n; i++)      /* stable: insertion sort */
        for (size_t j = i; j > 0 && e[j - 1].id > e[j].id; j--) {
            trace_entry swap = e[j];
            e[j] = e[j - 1];
            e[j - 1] = swap;
        }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        ASSERT_LT(used + e[i].len + 2, outlen);
        if (i > 0)
            out[used++] = ' ';
        memcpy(out + used, e[i].at, e[i].len);
        used += e[i].len;
        out[used] = '\0';
    }
}
