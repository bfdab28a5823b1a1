/* vtrace.h -- a transport that records: what a connection with no socket
 * sends, and how it ends, written in order to one line of text that a
 * test compares with what it expects (the unit tests of core and of the
 * Lua layer drive connections through it).
 *
 * Entries are separated by one space; with ids on each starts "#ID ":
 *
 *   send(BYTES)   the transport took BYTES     eagain  it refused (full)
 *   error         the send failed (fail_id)    fin     our FIN
 *   close / rst   our close, or our reset      note(WHAT)  conn_note
 *
 * A test adds entries of its own with vtrace_add (its callbacks). */
#ifndef RICOCHET_UNIT_VTRACE_H
#define RICOCHET_UNIT_VTRACE_H

#include "conn.h"
#include "test.h"

#define VTRACE_MAX 8192

typedef struct vtrace {
    conn_transport transport;  /* its data points back here */
    int ids;             /* prefix each entry with "#ID " */
    long room;           /* bytes the transport takes; < 0: any number */
    uint64_t fail_id;    /* sends of this connection fail ... */
    long fail_with;      /* ... with this error */
    size_t len;
    char text[VTRACE_MAX];
} vtrace;

/* An empty trace whose transport takes everything. */
void vtrace_init(vtrace *t);
void vtrace_add(vtrace *t, conn *c, const char *what, const char *bytes,
                size_t len);
void vtrace_clear(vtrace *t);
/* Group the entries of a trace with ids by connection, keeping each
 * connection's own order: where the table walks its connections in an
 * order of its own (the tick, the table's free), only each connection's
 * sequence is specified. */
void vtrace_group_by_conn(const char *in, char *out, size_t outlen);

/* The trace since the last check must be exactly want. */
#define VTRACE_EXPECT(t, want)                                          \
    do {                                                                \
        ASSERT_STR_EQ((t)->text, want);                                 \
        vtrace_clear(t);                                                \
    } while (0)

/* As VTRACE_EXPECT, connection by connection. */
#define VTRACE_EXPECT_PER_CONN(t, want)                                 \
    do {                                                                \
        char got_[VTRACE_MAX], want_[VTRACE_MAX];                       \
        vtrace_group_by_conn((t)->text, got_, sizeof got_);             \
        vtrace_group_by_conn(want, want_, sizeof want_);                \
        ASSERT_STR_EQ(got_, want_);                                     \
        vtrace_clear(t);                                                \
    } while (0)

#endif
