/* test_proxy_api.c -- the script's side of proxy mode: conn:connect,
 * ricochet.resolve, conn.upstream, and what a script does with each
 * direction (transform, hold, drop, add, answer), framed and shaped on
 * its own.
 *
 * A real loop on a virtual clock (shaping waits for loop_advance, so a
 * delay is exact, with no sleep) and a table without a transport, as the
 * server has it: the test holds each client's end of a socket pair and
 * plays two upstreams, listening on loopback, whose accepted ends it
 * holds too. Every wait is a bounded number of loop turns. */
#include "cases.h"
#include "conn.h"
#include "loop.h"
#include "policy.h"
#include "script.h"
#include "test.h"

#define START_MS 1000
#define TURNS 3000     /* loop turns of at most 1 ms before giving up */
#define QUIET_TURNS 30 /* loop turns in which nothing may arrive */

/* One end the test holds: a client's, or an upstream's accepted one. */
typedef struct side {
    net_socket sock;
    char got[4096];
    size_t len;
    int ended;          /* 1: end of stream, 2: reset */
} side;

typedef struct xfix {
    loop *loop;
    conn_table *table;
    policy_opts opts;
    policy *p;
    net_socket listener[2];
    char spec[2][32];   /* "127.0.0.1:PORT" of each upstream */
    char arg[2][48];    /* "up1=...", "up2=..." */
    char *args[2];
} xfix;

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

/* Two upstreams listen; the script gets them as ricochet.args.up1 and
 * .up2; with_default (1 or 2) makes that one --upstream. */
static void xfix_start(xfix *f, const char *name, const char *script,
                       int with_default)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &f->listener[i]), 0);
        ASSERT_EQ(net_local_name(f->listener[i], f->spec[i],
                                 sizeof f->spec[i]), 0);
        snprintf(f->arg[i], sizeof f->arg[i], "up%d=%s", i + 1, f->spec[i]);
        f->args[i] = f->arg[i];
    }
    f->opts.worker = 1;
    f->opts.args = f->args;
    f->opts.nargs = 2;
    if (with_default) {
        f->opts.upstream_host = "127.0.0.1";
        f->opts.upstream_port =
            atoi(strrchr(f->spec[with_default - 1], ':') + 1);
    }
    f->p = unit_load_script(name, script, &f->opts);
    f->loop = loop_create();
    ASSERT(f->loop != NULL);
    loop_use_virtual_clock(f->loop, START_MS);
    conn_config cfg = { .loop = f->loop, .out_limit = 1 << 20,
                        .drain_ms = 5000, .write_later = 1 };
    f->table = conn_table_create(&cfg);
    ASSERT(f->table != NULL);
    loop_set_before_sleep(f->loop, before_sleep, f->table);
    policy_bind_loop(f->p, f->loop);
}

static void side_close(side *s)
{
    if (s->sock != NET_INVALID)
        ASSERT_EQ(net_close(s->sock), 0);
    s->sock = NET_INVALID;
}

static void xfix_end(xfix *f)
{
    conn_table_free(f->table);
    policy_release(f->p);
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(net_close(f->listener[i]), 0);
    loop_free(f->loop);
}

/* A new client, attached to the policy (on_connect runs now). */
static conn *client_open(xfix *f, side *cl)
{
    net_socket server_end;
    memset(cl, 0, sizeof *cl);
    ASSERT_EQ(net_wakeup_pair(&cl->sock, &server_end), 0);
    conn *c = conn_accept(f->table, server_end, "127.0.0.1:40001");
    ASSERT(c != NULL);
    policy_attach(f->p, c);
    return c;
}

/* Read what s has; its end is noted. */
static void pump(side *s)
{
    while (s->sock != NET_INVALID && !s->ended) {
        long rc = net_recv(s->sock, s->got + s->len,
                           sizeof s->got - s->len);
        if (rc == ERR_EAGAIN)
            return;
        if (rc > 0) {
            s->len += (size_t)rc;
            ASSERT_LT(s->len, sizeof s->got);
        } else if (rc == 0) {
            s->ended = 1;
        } else {
            ASSERT_EQ(rc, ERR_ERESET);
            s->ended = 2;
        }
    }
}

static void turn(xfix *f)
{
    ASSERT_EQ(loop_run_once(f->loop, 1), 0);
}

/* The upstream listener which (0 or 1) accepts the proxy's connection. */
static void upstream_accept(xfix *f, int which, side *up)
{
    char peer[64];
    memset(up, 0, sizeof *up);
    for (int i = 0; i < TURNS; i++) {
        turn(f);
        int rc = net_accept(f->listener[which], &up->sock, peer,
                            sizeof peer);
        if (rc == 0)
            return;
        ASSERT_EQ(rc, ERR_EAGAIN);
    }
    TEST_FAIL("upstream %d: no connection came", which + 1);
}

/* No connection waits on listener which. */
static void upstream_none(xfix *f, int which)
{
    net_socket sock;
    char peer[64];
    for (int i = 0; i < QUIET_TURNS; i++)
        turn(f);
    ASSERT_EQ(net_accept(f->listener[which], &sock, peer, sizeof peer),
              ERR_EAGAIN);
}

static void put(side *s, const char *text)
{
    size_t len = strlen(text);
    ASSERT_EQ(net_send(s->sock, text, len), (long)len);
}

/* s receives exactly want (then what it got is cleared). */
static void expect(xfix *f, side *s, const char *want)
{
    size_t want_len = strlen(want);
    for (int i = 0; i < TURNS && s->len < want_len && !s->ended; i++) {
        turn(f);
        pump(s);
    }
    for (int i = 0; i < 3; i++) { /* anything more shows up too */
        turn(f);
        pump(s);
    }
    if (s->len != want_len || memcmp(s->got, want, want_len) != 0)
        TEST_FAIL("got \"%.*s\", expected \"%s\"", (int)s->len, s->got,
                  want);
    s->len = 0;
}

/* Nothing arrives at s for a while. */
static void expect_nothing(xfix *f, side *s)
{
    for (int i = 0; i < QUIET_TURNS; i++) {
        turn(f);
        pump(s);
    }
    ASSERT_MEM_EQ(s->got, s->len, "", 0);
    ASSERT_EQ(s->ended, 0);
}

/* s's stream ends: 1 end of stream, 2 reset. */
static void expect_end(xfix *f, side *s, int how)
{
    for (int i = 0; i < TURNS && !s->ended; i++) {
        turn(f);
        pump(s);
    }
    ASSERT_MEM_EQ(s->got, s->len, "", 0);
    ASSERT_EQ(s->ended, how);
}

static void advance(xfix *f, uint64_t ms)
{
    loop_advance(f->loop, loop_now(f->loop) + ms);
}

/* --- choosing the upstream -------------------------------------------- */

/* Without --upstream: the first client goes to up2, the second to up1,
 * the third stays an echo; each pair relays both ways. */
static const char choose_script[] =
    "local n = 0\n"
    "function on_connect(conn)\n"
    "  n = n + 1\n"
    "  if n == 1 then conn:connect(ricochet.args.up2)\n"
    "  elseif n == 2 then conn:connect(ricochet.args.up1)\n"
    "  else conn:connect(false) end\n"
    "  return tostring(conn.upstream and conn.upstream.peer) .. '\\n'\n"
    "end\n";

void test_proxy_api_choose(void)
{
    xfix f;
    side c1, c2, c3, u1, u2;
    char banner[64];
    xfix_start(&f, "choose", choose_script, 0);
    client_open(&f, &c1);
    snprintf(banner, sizeof banner, "%s\n", f.spec[1]);
    expect(&f, &c1, banner);
    upstream_accept(&f, 1, &u2);
    client_open(&f, &c2);
    snprintf(banner, sizeof banner, "%s\n", f.spec[0]);
    expect(&f, &c2, banner);
    upstream_accept(&f, 0, &u1);
    client_open(&f, &c3);
    expect(&f, &c3, "nil\n");

    put(&c1, "to two");
    expect(&f, &u2, "to two");
    put(&u2, "from two");
    expect(&f, &c1, "from two");
    put(&c2, "to one");
    expect(&f, &u1, "to one");
    put(&u1, "from one");
    expect(&f, &c2, "from one");
    put(&c3, "echo me");
    expect(&f, &c3, "echo me");
    upstream_none(&f, 0);
    upstream_none(&f, 1);
    expect_nothing(&f, &u1);
    expect_nothing(&f, &u2);

    side *all[] = {&c1, &c2, &c3, &u1, &u2};
    for (int i = 0; i < 5; i++)
        side_close(all[i]);
    xfix_end(&f);
}

/* Under --upstream (up1): no call takes it after on_connect (conn.upstream
 * is nil in on_connect then), conn:connect() takes it at once, and
 * conn:connect(false) keeps the connection an echo. */
static const char default_script[] =
    "local n = 0\n"
    "function on_connect(conn)\n"
    "  n = n + 1\n"
    "  if n == 2 then conn:connect(false) end\n"
    "  if n == 3 then conn:connect() end\n"
    "  local up = conn.upstream\n"
    "  return n .. ' ' .. tostring(up and up.peer == ricochet.upstream)\n"
    "         .. '\\n'\n"
    "end\n";

void test_proxy_api_default(void)
{
    xfix f;
    side c1, c2, c3, u1, u3;
    xfix_start(&f, "default", default_script, 1);
    client_open(&f, &c1);
    expect(&f, &c1, "1 nil\n");
    upstream_accept(&f, 0, &u1);
    client_open(&f, &c2);
    expect(&f, &c2, "2 nil\n");
    upstream_none(&f, 0);
    client_open(&f, &c3);
    expect(&f, &c3, "3 true\n");
    upstream_accept(&f, 0, &u3);

    put(&c1, "a");
    expect(&f, &u1, "a");
    put(&c2, "b");
    expect(&f, &c2, "b");
    put(&c3, "c");
    expect(&f, &u3, "c");
    put(&u3, "C");
    expect(&f, &c3, "C");
    upstream_none(&f, 0);

    side *all[] = {&c1, &c2, &c3, &u1, &u3};
    for (int i = 0; i < 5; i++)
        side_close(all[i]);
    xfix_end(&f);
}

/* What conn:connect and ricochet.resolve refuse, and how they say it. */
static const char rules_script[] =
    "local resolved = table.concat({ricochet.resolve('localhost:7'),\n"
    "  ricochet.resolve('[::1]:80'), ricochet.resolve('127.0.0.1:9')},\n"
    "  ' ')\n"
    "local function try(f, ...)\n"
    "  local ok, e = pcall(f, ...)\n"
    "  return ok and 'ok' or e\n"
    "end\n"
    "function on_connect(conn)\n"
    "  local m = {}\n"
    "  m[#m + 1] = try(conn.connect, conn, 'nohost')\n"
    "  m[#m + 1] = try(conn.connect, conn, 'db.example:6379')\n"
    "  m[#m + 1] = try(conn.connect, conn, '127.0.0.1:0')\n"
    "  m[#m + 1] = try(conn.connect, conn, '::1:80')\n"
    "  m[#m + 1] = try(conn.connect, conn, true)\n"
    "  m[#m + 1] = try(conn.connect, conn)\n"
    "  m[#m + 1] = try(conn.connect, conn, false)\n"
    "  m[#m + 1] = try(conn.connect, conn, false)\n"
    "  m[#m + 1] = tostring(conn.upstream)\n"
    "  conn.msgs = table.concat(m, '\\n')\n"
    "end\n"
    "function on_data(conn, data)\n"
    "  if data == 'resolved' then return resolved end\n"
    "  if data == 'rules' then return conn.msgs end\n"
    "  if data == 'late' then\n"
    "    return try(conn.connect, conn, '127.0.0.1:9')\n"
    "  end\n"
    "  if data == 'resolve' then\n"
    "    return try(ricochet.resolve, 'localhost:80')\n"
    "  end\n"
    "end\n";

void test_proxy_api_rules(void)
{
    xfix f;
    side c;
    xfix_start(&f, "rules", rules_script, 0);
    client_open(&f, &c);
    put(&c, "resolved");
    expect(&f, &c, "127.0.0.1:7 [::1]:80 127.0.0.1:9");
    put(&c, "rules");
    expect(&f, &c,
           "conn:connect: 'nohost': expected HOST:PORT\n"
           "conn:connect: 'db.example:6379' names a host: resolve it when "
           "the script loads (at its top level: local up = "
           "ricochet.resolve(\"db.example:6379\")), then conn:connect(up)\n"
           "conn:connect: '127.0.0.1:0': the port must be from 1 to 65535\n"
           "conn:connect: '::1:80': an IPv6 address needs brackets, as in "
           "[::1]:7007\n"
           "conn:connect: expected \"HOST:PORT\", nil (the --upstream) or "
           "false (none), got a boolean\n"
           "conn:connect(): there is no --upstream to connect to (give "
           "\"HOST:PORT\")\n"
           "ok\n"
           "conn:connect: connection 1 has chosen its upstream already\n"
           "nil");
    put(&c, "late");
    expect(&f, &c, "conn:connect may be called only from its connection's "
                   "on_connect (the upstream is chosen before any byte is "
                   "relayed)");
    put(&c, "resolve");
    expect(&f, &c, "ricochet.resolve may be called only from the script's "
                   "top level, as it loads: it waits for the resolver, "
                   "which a hook must never do");
    upstream_none(&f, 0);
    side_close(&c);
    xfix_end(&f);
}

/* --- what the script does with each direction ------------------------- */

/* Lines both ways (each side framed on its own; the client's lines
 * without their end, the upstream's with it). From the client:
 * "upper X" goes on transformed, "hold X" is held until "release",
 * "drop X" is dropped, "add X" goes on with a line added, "ask X" is
 * answered by the proxy itself. From the upstream, each line is one call:
 * "secret" is dropped, "later" held until "now", the others go on upper
 * cased; "now" says how many calls there were. */
static const char directions_script[] =
    "function on_connect(conn)\n"
    "  conn:connect()\n"
    "  conn:frame('line')\n"
    "  conn.upstream:frame('line', {keep = true})\n"
    "  conn.calls = 0\n"
    "end\n"
    "function on_data(conn, line)\n"
    "  local cmd, arg = line:match('^(%a+) ?(.-)$')\n"
    "  if cmd == 'upper' then return arg:upper() .. '\\n' end\n"
    "  if cmd == 'hold' then\n"
    "    conn.held = (conn.held or '') .. arg .. '\\n'\n"
    "    return nil\n"
    "  end\n"
    "  if cmd == 'release' then\n"
    "    conn.upstream:send(conn.held)\n"
    "    conn.held = nil\n"
    "    return ''\n"
    "  end\n"
    "  if cmd == 'drop' then return nil end\n"
    "  if cmd == 'add' then return arg .. '\\n+\\n' end\n"
    "  if cmd == 'ask' then\n"
    "    conn:send('answer ' .. arg .. '\\n')\n"
    "    return nil\n"
    "  end\n"
    "  return line .. '\\n'\n"
    "end\n"
    "function on_upstream_data(conn, line)\n"
    "  conn.calls = conn.calls + 1\n"
    "  if line == 'secret\\n' then return nil end\n"
    "  if line == 'later\\n' then conn.later = line return '' end\n"
    "  if line == 'now\\n' then\n"
    "    return conn.calls .. ':' .. line .. conn.later\n"
    "  end\n"
    "  return line:upper()\n"
    "end\n";

void test_proxy_api_directions(void)
{
    xfix f;
    side c, u;
    xfix_start(&f, "directions", directions_script, 1);
    client_open(&f, &c);
    upstream_accept(&f, 0, &u);
    put(&c, "upper abc\n");
    expect(&f, &u, "ABC\n");
    put(&c, "hold x\ndrop y\nask z\nhold w\n");
    expect(&f, &c, "answer z\n");
    expect_nothing(&f, &u);
    put(&c, "release\nadd q\n");
    expect(&f, &u, "x\nw\nq\n+\n");
    expect_nothing(&f, &c);
    /* one write, five lines: five calls */
    put(&u, "a\nsecret\nlater\nb\nnow\n");
    expect(&f, &c, "A\nB\n5:now\nlater\n");
    expect_nothing(&f, &u);
    side_close(&c);
    side_close(&u);
    xfix_end(&f);
}

/* conn.upstream's fields and rules, and after the upstream has closed
 * (a timer asks: the client's bytes go nowhere then). */
static const char object_script[] =
    "local function try(f, ...)\n"
    "  local ok, e = pcall(f, ...)\n"
    "  return ok and 'ok' or (e:gsub('^[^:]*:%d+: ', ''))\n"
    "end\n"
    "function on_connect(conn) conn:connect() end\n"
    "function on_data(conn, data)\n"
    "  local up = conn.upstream\n"
    "  local m = {}\n"
    "  if data == 'fields' then\n"
    "    m = {conn.id, up.id, tostring(up.peer == ricochet.upstream),\n"
    "         tostring(up.upstream), tostring(conn.upstream == up),\n"
    "         tostring(up):gsub(':%d+', ':P'), up.bytes_in, up.bytes_out}\n"
    "  elseif data == 'rules' then\n"
    "    m = {try(up.after, up, 1, print),\n"
    "         try(up.connect, up, '127.0.0.1:9'),\n"
    "         try(function() conn.upstream = 1 end),\n"
    "         try(function() up.peer = 1 end)}\n"
    "    up.mine = 'own'\n"
    "    m[#m + 1] = up.mine\n"
    "    m[#m + 1] = tostring(conn.mine)\n"
    "  elseif data == 'close' then\n"
    "    up:close()\n"
    "    conn:after(10, function()\n"
    "      return table.concat({try(up.send, up, 'x'),\n"
    "        try(up.delay, up, 1), up.id,\n"
    "        try(function() return up.peer end), tostring(up),\n"
    "        tostring(conn.upstream == up)}, '|')\n"
    "    end)\n"
    "    return nil\n"
    "  else\n"
    "    return data\n"
    "  end\n"
    "  conn:send(table.concat(m, '|'))\n"
    "end\n";

void test_proxy_api_object(void)
{
    xfix f;
    side c, u;
    xfix_start(&f, "object", object_script, 1);
    client_open(&f, &c);
    upstream_accept(&f, 0, &u);
    put(&c, "hello");
    expect(&f, &u, "hello");
    put(&u, "hi!");
    expect(&f, &c, "hi!");
    put(&c, "fields");
    expect(&f, &c, "1|2|true|nil|true|upstream 2 (127.0.0.1:P)|3|5");
    put(&c, "rules");
    expect(&f, &c,
           "conn.upstream:after: only the client's conn has it (use "
           "conn:after)|"
           "conn.upstream:connect: only the client's conn chooses its "
           "upstream (conn:connect)|"
           "conn.upstream is read-only|conn.upstream.peer is read-only|"
           "own|nil");
    put(&c, "close");
    expect_end(&f, &u, 1);
    advance(&f, 10);
    expect(&f, &c, "upstream connection 2 is closed|upstream connection 2 "
                   "is closed|2|upstream connection 2 is closed|"
                   "upstream 2 (closed)|true");
    side_close(&c);
    side_close(&u);
    xfix_end(&f);
}

/* Shaping each direction on its own: conn.upstream:delay holds what goes
 * to the upstream, conn:delay what goes to the client; close_after cuts
 * each side after its own count. Relayed in C (no data hook). */
static const char shaping_script[] =
    "local n = 0\n"
    "function on_connect(conn)\n"
    "  n = n + 1\n"
    "  conn:connect()\n"
    "  if n == 1 then\n"
    "    conn.upstream:delay(200)\n"
    "    conn:delay(100)\n"
    "  else\n"
    "    conn.upstream:close_after{bytes = 3}\n"
    "    conn:close_after{bytes = 2}\n"
    "  end\n"
    "end\n";

void test_proxy_api_shaping(void)
{
    xfix f;
    side c, u;
    xfix_start(&f, "shaping", shaping_script, 1);
    client_open(&f, &c);
    upstream_accept(&f, 0, &u);
    put(&c, "x");
    expect_nothing(&f, &u);
    advance(&f, 199);
    expect_nothing(&f, &u);
    advance(&f, 1);
    expect(&f, &u, "x");
    put(&u, "y");
    expect_nothing(&f, &c);
    advance(&f, 99);
    expect_nothing(&f, &c);
    advance(&f, 1);
    expect(&f, &c, "y");
    side_close(&c);
    side_close(&u);

    client_open(&f, &c);
    upstream_accept(&f, 0, &u);
    put(&c, "abcdef");
    expect(&f, &u, "abc");
    expect_end(&f, &u, 1);
    put(&u, "hello");
    expect(&f, &c, "he");
    expect_end(&f, &c, 1);
    side_close(&c);
    side_close(&u);
    xfix_end(&f);
}

/* An upstream chosen by conn:connect that refuses: on_upstream_error
 * answers the client from the proxy, and the client is closed. Then one
 * whose connect fails at once (no route to a broadcast address): the
 * same, once on_connect has returned. */
static const char refused_script[] =
    "local n = 0\n"
    "function on_connect(conn)\n"
    "  n = n + 1\n"
    "  conn:connect(n == 1 and ricochet.args.up2 or '255.255.255.255:9')\n"
    "  conn.connected = true\n"
    "end\n"
    "function on_upstream_error(conn, reason)\n"
    "  if not conn.connected then return 'too early\\n' end\n"
    "  if n == 2 then return '-ERR unreachable\\r\\n' end\n"
    "  return '-ERR upstream down (' .. reason .. ')\\r\\n'\n"
    "end\n";

void test_proxy_api_refused(void)
{
    xfix f;
    side c;
    xfix_start(&f, "refused", refused_script, 1);
    ASSERT_EQ(net_close(f.listener[1]), 0); /* up2 refuses */
    ASSERT_EQ(net_listen("127.0.0.1", 0, 16, 0, &f.listener[1]), 0);
    client_open(&f, &c);
    expect(&f, &c, "-ERR upstream down (connection refused)\r\n");
    expect_end(&f, &c, 1);
    side_close(&c);
#ifndef _WIN32
    /* (Winsock may report it only later, through SO_ERROR) */
    client_open(&f, &c);
    expect(&f, &c, "-ERR unreachable\r\n");
    expect_end(&f, &c, 1);
    side_close(&c);
#endif
    upstream_none(&f, 0);
    xfix_end(&f);
}

/* The proxy answers and closes the client itself (conn:close in a hook):
 * the upstream, which the script left open, gets our FIN after what was
 * sent to it, and the pair ends. */
static const char answer_close_script[] =
    "function on_connect(conn) conn:connect() end\n"
    "function on_data(conn, data)\n"
    "  if data == 'quit' then\n"
    "    conn:send('bye')\n"
    "    conn:close()\n"
    "    return 'last'\n"
    "  end\n"
    "  return data\n"
    "end\n";

void test_proxy_api_answer_close(void)
{
    xfix f;
    side c, u;
    xfix_start(&f, "answer_close", answer_close_script, 1);
    client_open(&f, &c);
    upstream_accept(&f, 0, &u);
    put(&c, "hello");
    expect(&f, &u, "hello");
    put(&c, "quit");
    expect(&f, &c, "bye");
    expect_end(&f, &c, 1);
    expect(&f, &u, "last");
    expect_end(&f, &u, 1);
    side_close(&c);
    /* the upstream closes too: the pair is over */
    side_close(&u);
    for (int i = 0; i < TURNS && conn_table_live(f.table) > 0; i++)
        turn(&f);
    ASSERT_UEQ(conn_table_live(f.table), 0);
    xfix_end(&f);
}

/* Under --upstream, one policy serves pairs and echoes side by side: the
 * same on_data's reply goes to the upstream for a pair and back for an
 * echo (conn:connect(false)); a connection on_connect ends gets no
 * upstream at all. */
static const char mixed_script[] =
    "local n = 0\n"
    "function on_connect(conn)\n"
    "  n = n + 1\n"
    "  if n == 2 then conn:connect(false) end\n"
    "  if n == 3 then return 'full\\n', 'close' end\n"
    "end\n"
    "function on_data(conn, data) return conn.id .. ':' .. data end\n";

void test_proxy_api_mixed(void)
{
    xfix f;
    side c1, c2, c3, u1;
    xfix_start(&f, "mixed", mixed_script, 1);
    client_open(&f, &c1);
    upstream_accept(&f, 0, &u1);
    client_open(&f, &c2);
    upstream_none(&f, 0);
    put(&c1, "to up");
    expect(&f, &u1, "1:to up");
    put(&c2, "to me");
    expect(&f, &c2, "3:to me");
    put(&u1, "back");
    expect(&f, &c1, "back");
    expect_nothing(&f, &u1);
    client_open(&f, &c3);
    expect(&f, &c3, "full\n");
    expect_end(&f, &c3, 1);
    upstream_none(&f, 0);
    side *all[] = {&c1, &c2, &c3, &u1};
    for (int i = 0; i < 4; i++)
        side_close(all[i]);
    xfix_end(&f);
}
