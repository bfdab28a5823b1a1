/* test_policy.c -- the hook contract, without sockets.
 *
 * Each case loads a small script written here into a policy, binds it to
 * a loop on a virtual clock and attaches connections of a table whose
 * transport records (vtrace.h): the trace shows what each hook's
 * `reply, action` did to its connection. What only the script sees (the
 * reasons on_close was given, what a stale `conn` says) it keeps in a
 * list that a later connection asks for with "?" and gets as its reply.
 *
 * Every error (a raise, a bad result, the instruction budget, the memory
 * cap) must end only its own connection, with an RST and the reason
 * "error", and the next connection must be served by the same policy. */
#include "cases.h"
#include "pfix.h"
#include "script.h"

/* A fresh connection sent cmd must get exactly reply; it is reset then.
 * Returns its id: the report has "ID:reset" from it. */
static uint64_t serves(pfix *f, const char *cmd, const char *reply)
{
    conn *c = attach(f);
    uint64_t id = conn_id(c);
    feed(c, cmd);
    char want[VTRACE_MAX];
    snprintf(want, sizeof want, "#%llu send(%s)", (unsigned long long)id,
             reply);
    VTRACE_EXPECT(&f->tr, want);
    conn_reset(c, CONN_REASON_RESET);
    tick(f);
    vtrace_clear(&f->tr);
    return id;
}

/* A fresh connection sent cmd must be reset with nothing sent (reason
 * error); then serves(f, ok, reply): the policy serves on. Returns the
 * first one's id: the report has "ID:error ID+1:reset" from them. */
static uint64_t fails_then_serves(pfix *f, const char *cmd, const char *ok,
                                  const char *reply)
{
    conn *c = attach(f);
    uint64_t id = conn_id(c);
    feed(c, cmd);
    char want[64];
    snprintf(want, sizeof want, "#%llu rst", (unsigned long long)id);
    if (strcmp(f->tr.text, want) != 0)
        TEST_FAIL("%s: \"%s\", expected \"%s\"", cmd, f->tr.text, want);
    vtrace_clear(&f->tr);
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), CONN_REASON_ERROR);
    ASSERT_UEQ(conn_bytes_out(c), 0);
    tick(f);
    ASSERT_UEQ(serves(f, ok, reply), id + 1);
    return id;
}

/* --- replies and actions -------------------------------------------------- */

/* on_data answers each command with the result the command names. */
static const char results_script[] = UNIT_SCRIPT_PRELUDE
    "local results = {\n"
    "  ['nil'] = function() return nil end,\n"
    "  str = function() return 'text' end,\n"
    "  bin = function() return 'a\\0b' end,\n"
    "  int = function() return 42 end,\n"
    "  float = function() return 1.5 end,\n"
    "  empty = function() return '' end,\n"
    "  shutdown = function() return 'bye', 'shutdown' end,\n"
    "  close = function() return 'bye', 'close' end,\n"
    "  reset = function() return 'bye', 'reset' end,\n"
    "  nilshut = function() return nil, 'shutdown' end,\n"
    "  nilclose = function() return nil, 'close' end,\n"
    "  carryon = function() return 'on', nil end,\n"
    "  wait = function() return nil, 'wait' end,\n"
    "  unknown = function() return nil, 'explode' end,\n"
    "  numaction = function() return nil, 5 end,\n"
    "  tableaction = function() return nil, {} end,\n"
    "  byeunknown = function() return 'bye', 'explode' end,\n"
    "  byenumber = function() return 'bye', 5 end,\n"
    "  byewait = function() return 'bye', 'wait' end,\n"
    "  table = function() return {'not sent', {}} end,\n"
    "  bool = function() return true end,\n"
    "  func = function() return print end,\n"
    "  raise = function() error('boom') end,\n"
    "  raisetable = function() error({}) end,\n"
    "}\n"
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  return results[data]()\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_replies(void)
{
    pfix f;
    pfix_start(&f, "replies", results_script, 0, 0, 0);
    char hooks[128];
    policy_describe(f.p, hooks, sizeof hooks);
    ASSERT_STR_EQ(hooks, "on_data on_close");
    conn *c = attach(&f);
    VTRACE_EXPECT(&f.tr, "");
    feed(c, "str");
    VTRACE_EXPECT(&f.tr, "#1 send(text)");
    feed(c, "bin");
    ASSERT_MEM_EQ(f.tr.text, f.tr.len, "#1 send(a\0b)", 12);
    vtrace_clear(&f.tr);
    /* a number is sent as Lua writes it */
    feed(c, "int");
    feed(c, "float");
    VTRACE_EXPECT(&f.tr, "#1 send(42) #1 send(1.5)");
    /* nil and "" send nothing; no action carries on */
    feed(c, "nil");
    feed(c, "empty");
    feed(c, "carryon");
    VTRACE_EXPECT(&f.tr, "#1 send(on)");
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    ASSERT_UEQ(conn_bytes_out(c), 2 + 3 + 4 + 3 + 2);
    /* no on_done: the peer's FIN gets ours */
    conn_feed_eof(c);
    VTRACE_EXPECT(&f.tr, "#1 fin #1 close");
    tick(&f);
    EXPECT_REPORT(&f, "1:done");
    pfix_end(&f);
}

void test_policy_actions(void)
{
    pfix f;
    pfix_start(&f, "actions", results_script, 0, 0, 0);
    /* shutdown: the reply, then FIN; reading goes on, replies are
     * discarded, and the peer's close ends it */
    conn *a = attach(&f);
    feed(a, "shutdown");
    VTRACE_EXPECT(&f.tr, "#1 send(bye) #1 fin");
    ASSERT_EQ(conn_state(a), CONN_HALF_CLOSED);
    feed(a, "str");
    VTRACE_EXPECT(&f.tr, "");
    conn_feed_eof(a);
    VTRACE_EXPECT(&f.tr, "#1 close");
    tick(&f);
    /* close: the reply, then a plain close */
    conn *b = attach(&f);
    feed(b, "close");
    VTRACE_EXPECT(&f.tr, "#2 send(bye) #2 close");
    tick(&f);
    /* reset: the reply goes first (it was sent before), then RST */
    conn *c = attach(&f);
    feed(c, "reset");
    VTRACE_EXPECT(&f.tr, "#3 send(bye) #3 rst");
    tick(&f);
    /* an action without a reply */
    conn *d = attach(&f);
    feed(d, "nilshut");
    VTRACE_EXPECT(&f.tr, "#4 fin");
    conn *e = attach(&f);
    feed(e, "nilclose");
    VTRACE_EXPECT(&f.tr, "#5 close");
    tick(&f);
    EXPECT_REPORT(&f, "1:done 2:done 3:reset 5:done");
    pfix_end(&f);
}

/* Results no hook may give: each resets its own connection (reason
 * error), and the next connection is served as before. */
void test_policy_bad_results(void)
{
    static const char *const bad[] = {
        "wait", "unknown", "numaction", "tableaction", "table", "bool",
        "func", "raise", "raisetable",
    };
    pfix f;
    pfix_start(&f, "bad", results_script, 0, 0, 0);
    char want[512] = "";
    size_t n = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < n; i++) {
        /* the same policy serves the next connection */
        uint64_t id = fails_then_serves(&f, bad[i], "str", "text");
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "%s%llu:error %llu:reset", i ? " " : "",
                 (unsigned long long)id, (unsigned long long)id + 1);
    }
    EXPECT_REPORT(&f, want);
    pfix_end(&f);
}

/* A reply with an action no hook may give: the action is checked before
 * the reply goes out, so nothing is sent, and the connection is reset
 * (reason error); the next one is served as before. */
void test_policy_bad_action_sends_nothing(void)
{
    static const char *const bad[] = { "byeunknown", "byenumber",
                                       "byewait" };
    pfix f;
    pfix_start(&f, "badaction", results_script, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        ASSERT_UEQ(fails_then_serves(&f, bad[i], "str", "text"), 2 * i + 1);
    EXPECT_REPORT(&f, "1:error 2:reset 3:error 4:reset 5:error 6:reset");
    pfix_end(&f);
}

/* --- on_connect and the conn object --------------------------------------- */

static const char connect_script[] = UNIT_SCRIPT_PRELUDE
    "local last\n"
    "function on_connect(conn)\n"
    "  local previous = last\n"
    "  last = conn\n"
    "  if conn.id == 2 then return 'hi', 'close' end\n"
    "  if conn.id == 3 then error('no entry') end\n"
    "  if conn.id == 4 then\n"
    "    local ok, err = pcall(previous.send, previous, 'x')\n"
    "    local okf, errf = pcall(function() return previous.bytes_in end)\n"
    "    -- a field read raises where the script read it: drop that\n"
    "    errf = errf:gsub('^[^:]*:%d+: ', '')\n"
    "    return tostring(ok) .. ' ' .. err .. ' ' .. previous.id ..\n"
    "           ' ' .. tostring(okf) .. ' ' .. errf\n"
    "  end\n"
    "  return 'hello ' .. conn.id .. ' ' .. conn.peer .. '\\r\\n'\n"
    "end\n"
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  conn.count = (conn.count or 0) + 1\n"
    "  if data == 'same' then return tostring(conn == last) end\n"
    "  return conn.count .. ' ' .. conn.bytes_in .. ' ' .. conn.bytes_out\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_on_connect(void)
{
    pfix f;
    pfix_start(&f, "connect", connect_script, 0, 0, 0);
    conn *a = attach(&f);
    VTRACE_EXPECT(&f.tr, "#1 send(hello 1 192.0.2.7:4000\r\n)");
    /* the same object for the connection's whole life, with its own
     * fields; bytes counted as the hook runs */
    feed(a, "ab");
    feed(a, "cd");
    feed(a, "same");
    VTRACE_EXPECT(&f.tr, "#1 send(1 2 24) #1 send(2 4 30) #1 send(true)");
    conn_feed_reset(a);
    tick(&f);
    vtrace_clear(&f.tr);
    /* an action from on_connect */
    attach(&f);
    VTRACE_EXPECT(&f.tr, "#2 send(hi) #2 close");
    tick(&f);
    /* an error in on_connect: reset before anything */
    conn *c = attach(&f);
    VTRACE_EXPECT(&f.tr, "#3 rst");
    ASSERT_EQ(conn_reason(c), CONN_REASON_ERROR);
    feed(c, "ignored");
    VTRACE_EXPECT(&f.tr, "");
    tick(&f);
    /* a conn kept after its connection ended raises, and says which */
    conn *d = attach(&f);
    VTRACE_EXPECT(&f.tr, "#4 send(false connection 3 is closed 3 "
                         "false connection 3 is closed)");
    conn_reset(d, CONN_REASON_RESET);
    tick(&f);
    EXPECT_REPORT(&f, "1:reset 2:done 3:error 4:reset");
    pfix_end(&f);
}

/* --- on_done -------------------------------------------------------------- */

static const char done_script[] = UNIT_SCRIPT_PRELUDE
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  conn.mode = data\n"
    "end\n"
    "function on_done(conn, rest)\n"
    "  local m = conn.mode\n"
    "  note(conn.id, m, tostring(rest))\n"
    "  if m == 'default' then return 'bye' end\n"
    "  if m == 'nothing' then return end\n"
    "  if m == 'wait' then\n"
    "    conn:after(100, function(c)\n"
    "      c:send('later')\n"
    "      c:shutdown()\n"
    "    end)\n"
    "    return 'held', 'wait'\n"
    "  end\n"
    "  if m == 'waitlong' then return nil, 'wait' end\n"
    "  if m == 'close' then return 'bye', 'close' end\n"
    "  if m == 'reset' then return nil, 'reset' end\n"
    "  if m == 'shutdown' then return 'bye', 'shutdown' end\n"
    "  if m == 'raise' then error('done boom') end\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_on_done(void)
{
    pfix f;
    pfix_start(&f, "done", done_script, 0, 0, 0);
    static const struct {
        const char *mode, *trace;
    } cases[] = {
        /* the default action is shutdown: FIN after the reply; the peer
         * has finished too, so the connection ends */
        { "default", "send(bye) fin close" },
        { "nothing", "fin close" },
        { "shutdown", "send(bye) fin close" },
        { "close", "send(bye) close" },
        { "reset", "rst" },
        { "raise", "rst" },
    };
    char want[512] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conn *c = attach(&f);
        unsigned long long id = (unsigned long long)conn_id(c);
        feed(c, cases[i].mode);
        VTRACE_EXPECT(&f.tr, "");
        conn_feed_eof(c);
        /* "#ID " before each entry of the case's trace */
        char expect[256] = "";
        char copy[256];
        snprintf(copy, sizeof copy, "%s", cases[i].trace);
        for (char *word = strtok(copy, " "); word;
             word = strtok(NULL, " "))
            snprintf(expect + strlen(expect),
                     sizeof expect - strlen(expect), "%s#%llu %s",
                     expect[0] ? " " : "", id, word);
        VTRACE_EXPECT(&f.tr, expect);
        tick(&f);
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "%s%llu:%s:nil %llu:%s", i ? " " : "", id, cases[i].mode,
                 id, strcmp(cases[i].mode, "reset") == 0 ? "reset"
                     : strcmp(cases[i].mode, "raise") == 0 ? "error"
                                                           : "done");
    }
    EXPECT_REPORT(&f, want);

    /* wait: our side stays open until the script shuts it down */
    conn *w = attach(&f);
    feed(w, "wait");
    conn_feed_eof(w);
    VTRACE_EXPECT(&f.tr, "#8 send(held)");
    ASSERT_EQ(conn_state(w), CONN_CLIENT_DONE);
    advance_to(&f, 99);
    VTRACE_EXPECT(&f.tr, "");
    advance_to(&f, 100);
    VTRACE_EXPECT(&f.tr, "#8 note(timer fired) #8 send(later) #8 fin "
                         "#8 close");
    EXPECT_REPORT(&f, "8:wait:nil 8:done");
    pfix_end(&f);
}

void test_policy_on_done_default(void)
{
    /* no on_done at all: the peer's FIN gets ours */
    static const char script[] =
        "function on_data(conn, data) return data end\n";
    pfix f;
    pfix_start(&f, "nodone", script, 0, 0, 0);
    conn *c = attach(&f);
    feed(c, "x");
    conn_feed_eof(c);
    VTRACE_EXPECT(&f.tr, "#1 send(x) #1 fin #1 close");
    pfix_end(&f);
}

/* --- on_close ------------------------------------------------------------- */

static const char reasons_script[] = UNIT_SCRIPT_PRELUDE
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  if data == 'reset' then conn:reset() end\n"
    "  if data == 'raise' then error('boom') end\n"
    "end\n"
    "function on_close(conn, reason)\n"
    "  note(conn.id, reason)\n"
    "  if conn.id == 7 then error('close boom') end\n"
    "  return 'ignored', 'reset'\n"
    "end\n";

void test_policy_on_close_reasons(void)
{
    pfix f;
    pfix_start(&f, "reasons", reasons_script, 0, 0, 1000);
    conn *c = attach(&f);
    conn_feed_eof(c);                        /* 1: done */
    tick(&f);
    c = attach(&f);
    conn_feed_reset(c);                      /* 2: reset by the peer */
    tick(&f);
    c = attach(&f);
    feed(c, "reset");                        /* 3: reset by the script */
    tick(&f);
    c = attach(&f);
    advance_to(&f, 1000);                    /* 4: idle timeout: FIN, */
    conn_feed_eof(c);                        /* then the peer's close */
    c = attach(&f);
    feed(c, "raise");                        /* 5: a hook error */
    tick(&f);
    c = attach(&f);                          /* 6: the server stops */
    conn_table_stop_by(f.table, START_MS + 1500);
    advance_to(&f, 1500);
    /* 7: on_close raises: logged, nothing else happens */
    c = attach(&f);
    conn_feed_eof(c);
    tick(&f);
    VTRACE_EXPECT(&f.tr, "#1 fin #1 close #2 close #3 rst #4 fin #4 close "
                         "#5 rst #6 close #7 fin #7 close");
    EXPECT_REPORT(&f, "1:done 2:reset 3:reset 4:timeout 5:error 6:stop "
                      "7:done");
    /* a connection still open when the table goes: "stop" */
    pfix_end(&f);
}

/* --- on_timeout ----------------------------------------------------------- */

static const char timeout_script[] = UNIT_SCRIPT_PRELUDE
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  conn.mode = data\n"
    "end\n"
    "function on_timeout(conn)\n"
    "  local m = conn.mode\n"
    "  conn.idles = (conn.idles or 0) + 1\n"
    "  note(conn.id, m, conn.idles)\n"
    "  if m == 'default' then return 'bye' end\n"
    "  if m == 'nothing' then return end\n"
    "  if m == 'shutdown' then return 'bye', 'shutdown' end\n"
    "  if m == 'close' then return 'bye', 'close' end\n"
    "  if m == 'reset' then return 'unseen', 'reset' end\n"
    "  if m == 'wait' then\n"
    "    if conn.idles == 1 then return 'still there?', 'wait' end\n"
    "    return 'bye'\n"
    "  end\n"
    "  if m == 'raise' then error('timeout boom') end\n"
    "  if m == 'bad' then return 'unseen', 'explode' end\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

/* on_timeout's reply goes out, then its action; nil is the graceful
 * close, "wait" keeps the connection one more idle period; whatever the
 * way it ends, on_close hears "timeout" (an error: "error"). */
void test_policy_on_timeout(void)
{
    pfix f;
    pfix_start(&f, "timeout", timeout_script, 0, 0, 1000);
    char hooks[128];
    policy_describe(f.p, hooks, sizeof hooks);
    ASSERT_STR_EQ(hooks, "on_data on_timeout on_close");
    static const struct {
        const char *mode, *trace, *after_fin;
    } cases[] = {
        { "default", "send(bye) fin", "close" },
        { "nothing", "fin", "close" },
        { "shutdown", "send(bye) fin", "close" },
        { "close", "send(bye) close", NULL },
        /* the reply is sent before the reset, which drops it */
        { "reset", "send(unseen) rst", NULL },
        { "raise", "rst", NULL },
        /* a bad action is refused before the reply goes out */
        { "bad", "rst", NULL },
    };
    char want[512] = "";
    uint64_t now = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conn *c = attach(&f);
        unsigned long long id = (unsigned long long)conn_id(c);
        feed(c, cases[i].mode);
        now += 1000;
        advance_to(&f, now - 1);
        VTRACE_EXPECT(&f.tr, "");
        advance_to(&f, now);
        char expect[256] = "", copy[256];
        snprintf(copy, sizeof copy, "%s%s%s", cases[i].trace,
                 cases[i].after_fin ? " " : "",
                 cases[i].after_fin ? cases[i].after_fin : "");
        if (cases[i].after_fin)
            conn_feed_eof(c); /* the peer closes after our FIN */
        for (char *word = strtok(copy, " "); word;
             word = strtok(NULL, " "))
            snprintf(expect + strlen(expect),
                     sizeof expect - strlen(expect), "%s#%llu %s",
                     expect[0] ? " " : "", id, word);
        VTRACE_EXPECT(&f.tr, expect);
        tick(&f);
        int error = strcmp(cases[i].mode, "raise") == 0 ||
                    strcmp(cases[i].mode, "bad") == 0;
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "%s%llu:%s:1 %llu:%s", i ? " " : "", id, cases[i].mode,
                 id, error ? "error" : "timeout");
    }
    EXPECT_REPORT(&f, want);
    /* the reporter above stays open: reset it before the wait case */
    conn_table_reset_all(f.table, CONN_REASON_RESET);
    tick(&f);
    vtrace_clear(&f.tr);

    /* wait: the reply, and one more idle period (from the hook's call) */
    conn *w = attach(&f);
    unsigned long long id = (unsigned long long)conn_id(w);
    feed(w, "wait");
    advance_to(&f, now + 1000);
    char expect[256];
    snprintf(expect, sizeof expect, "#%llu send(still there?)", id);
    VTRACE_EXPECT(&f.tr, expect);
    ASSERT_EQ(conn_state(w), CONN_OPEN);
    advance_to(&f, now + 1999);
    VTRACE_EXPECT(&f.tr, "");
    advance_to(&f, now + 2000);
    snprintf(expect, sizeof expect, "#%llu send(bye) #%llu fin", id, id);
    VTRACE_EXPECT(&f.tr, expect);
    conn_feed_eof(w);
    tick(&f);
    char report[128];
    /* the reporter (id - 1) heard of its own reset */
    snprintf(report, sizeof report,
             "%llu:reset %llu:wait:1 %llu:wait:2 %llu:timeout", id - 1, id,
             id, id);
    EXPECT_REPORT(&f, report);
    pfix_end(&f);
}

/* --- conn:after ----------------------------------------------------------- */

static const char after_script[] = UNIT_SCRIPT_PRELUDE
    "function on_connect(conn)\n"
    "  if conn.id == 1 then\n"
    "    conn:after(50, function(c) return 'tick' end)\n"
    "    conn:after(80, function(c) return 'tock', 'close' end)\n"
    "  elseif conn.id == 2 then\n"
    "    conn:after(100, function(c) note('never') return 'never' end)\n"
    "  elseif conn.id == 3 then\n"
    "    conn:after(10, function(c) error('timer boom') end)\n"
    "  elseif conn.id == 4 then\n"
    "    conn:after(10, function(c) return nil, 'wait' end)\n"
    "  elseif conn.id == 5 then\n"
    "    conn:after(10, function(c) return 'late' end)\n"
    "    return nil, 'shutdown'\n"
    "  end\n"
    "end\n"
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  return data\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_after(void)
{
    pfix f;
    pfix_start(&f, "after", after_script, 0, 0, 0);
    attach(&f);
    advance_to(&f, 49);
    VTRACE_EXPECT(&f.tr, "");
    advance_to(&f, 50);
    VTRACE_EXPECT(&f.tr, "#1 note(timer fired) #1 send(tick)");
    advance_to(&f, 80);
    VTRACE_EXPECT(&f.tr, "#1 note(timer fired) #1 send(tock) #1 close");
    /* a timer of a connection that ended never fires */
    conn *b = attach(&f);
    conn_feed_reset(b);
    tick(&f);
    advance_to(&f, 200);
    VTRACE_EXPECT(&f.tr, "#2 close");
    /* a timer that raises, or gives an action only on_done may: reset */
    attach(&f);
    attach(&f);
    advance_to(&f, 210);
    VTRACE_EXPECT_PER_CONN(&f.tr, "#3 note(timer fired) #3 rst "
                                  "#4 note(timer fired) #4 rst");
    /* a timer's reply after our FIN is discarded */
    conn *e = attach(&f);
    VTRACE_EXPECT(&f.tr, "#5 fin");
    advance_to(&f, 220);
    VTRACE_EXPECT(&f.tr, "#5 note(timer fired)");
    conn_feed_eof(e);
    tick(&f);
    VTRACE_EXPECT(&f.tr, "#5 close");
    EXPECT_REPORT(&f, "1:done 2:reset 3:error 4:error 5:done");
    pfix_end(&f);
}

/* --- limits --------------------------------------------------------------- */

static const char budget_script[] = UNIT_SCRIPT_PRELUDE
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  if data == 'spin' then while true do end end\n"
    "  if data == 'pspin' then\n"
    "    pcall(function() while true do end end)\n"
    "    return 'swallowed'\n"
    "  end\n"
    "  if data == 'match' then\n"
    "    local s = string.rep('a', 60) .. 'b'\n"
    "    return s:find(string.rep('a*', 30) .. 'c')\n"
    "  end\n"
    "  local n = 0\n"
    "  for i = 1, 10000 do n = n + i end\n"
    "  return data .. n\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_budget(void)
{
    pfix f;
    pfix_start(&f, "budget", budget_script, 0, 200000, 0);
    static const char *const runaway[] = { "spin", "pspin", "match" };
    /* each is stopped; then a call within the budget runs whole */
    for (int i = 0; i < 3; i++)
        ASSERT_UEQ(fails_then_serves(&f, runaway[i], "ok", "ok50005000"),
                   2 * i + 1);
    EXPECT_REPORT(&f, "1:error 2:reset 3:error 4:reset 5:error 6:reset");
    pfix_end(&f);
}

static const char memory_script[] = UNIT_SCRIPT_PRELUDE
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  if data == 'table' then\n"
    "    local t = {}\n"
    "    for i = 1, 1e9 do t[i] = i end\n"
    "  end\n"
    "  if data == 'string' then\n"
    "    local s = 'x'\n"
    "    while true do s = s .. s end\n"
    "  end\n"
    "  if data == 'pcall' then\n"
    "    local ok = pcall(function()\n"
    "      local t = {}\n"
    "      for i = 1, 1e9 do t[i] = {} end\n"
    "    end)\n"
    "    return 'caught ' .. tostring(ok)\n"
    "  end\n"
    "  local t = {}\n"
    "  for i = 1, 1000 do t[i] = data end\n"
    "  return table.concat(t, '', 1, 3)\n"
    "end\n"
    "function on_close(conn, reason) note(conn.id, reason) end\n";

void test_policy_memory(void)
{
    pfix f;
    pfix_start(&f, "memory", memory_script, 2 << 20, 0, 0);
    static const char *const greedy[] = { "table", "string" };
    /* each is stopped; the memory came back: the next one is served */
    for (int i = 0; i < 2; i++)
        ASSERT_UEQ(fails_then_serves(&f, greedy[i], "ab", "ababab"),
                   2 * i + 1);
    /* a memory error is a Lua error: pcall inside the script catches it,
     * and the hook goes on */
    ASSERT_UEQ(serves(&f, "pcall", "caught false"), 5);
    EXPECT_REPORT(&f, "1:error 2:reset 3:error 4:reset 5:reset");
    pfix_end(&f);
}

/* --- every hook kind raising, one connection each ------------------------- */

static const char raising_script[] = UNIT_SCRIPT_PRELUDE
    "function on_connect(conn)\n"
    "  if conn.id == 1 then error('connect boom') end\n"
    "end\n"
    "function on_data(conn, data)\n"
    "  if data == '?' then return report() end\n"
    "  if data == 'raise' then error('data boom') end\n"
    "  if data == 'timer' then\n"
    "    conn:after(10, function(c) error('timer boom') end)\n"
    "    return\n"
    "  end\n"
    "  return data\n"
    "end\n"
    "function on_done(conn)\n"
    "  if conn.id == 3 then error('done boom') end\n"
    "end\n"
    "function on_close(conn, reason)\n"
    "  note(conn.id, reason)\n"
    "  if conn.id == 4 then error('close boom') end\n"
    "end\n";

void test_policy_hook_errors(void)
{
    pfix f;
    pfix_start(&f, "raising", raising_script, 0, 0, 0);
    attach(&f);                           /* 1: on_connect raises */
    VTRACE_EXPECT(&f.tr, "#1 rst");
    tick(&f);
    conn *c = attach(&f);                 /* 2: on_data raises */
    feed(c, "raise");
    VTRACE_EXPECT(&f.tr, "#2 rst");
    tick(&f);
    c = attach(&f);                       /* 3: on_done raises */
    feed(c, "x");
    conn_feed_eof(c);
    VTRACE_EXPECT(&f.tr, "#3 send(x) #3 rst");
    tick(&f);
    c = attach(&f);                       /* 4: on_close raises */
    feed(c, "y");
    conn_feed_eof(c);
    tick(&f);
    VTRACE_EXPECT(&f.tr, "#4 send(y) #4 fin #4 close");
    c = attach(&f);                       /* 5: a timer raises */
    feed(c, "timer");
    advance_to(&f, 10);
    VTRACE_EXPECT(&f.tr, "#5 note(timer fired) #5 rst");
    c = attach(&f);                       /* 6: served as ever */
    feed(c, "z");
    conn_feed_eof(c);
    VTRACE_EXPECT(&f.tr, "#6 send(z) #6 fin #6 close");
    tick(&f);
    EXPECT_REPORT(&f, "1:error 2:error 3:error 4:done 5:error 6:done");
    pfix_end(&f);
}

static const char stats_script[] =
    "function on_connect(conn) end\n"
    "function on_data(conn, data)\n"
    "  if data == 'boom' then error('boom') end\n"
    "  if data == 'spin' then while true do end end\n"
    "  if data == 'grow' then return string.rep('x', 4 << 20) end\n"
    "  return data\n"
    "end\n"
    "function on_close(conn, reason) end\n";

/* policy_stats' hook indexes, as policy_hook_name names them */
enum { H_CONNECT, H_DATA, H_DONE, H_CLOSE = 7, H_TIMER = 8 };

/* policy_bind_stats: each hook call counted by hook, each failure by
 * kind, each call in the time histogram; the state's memory counted
 * while it lives, and taken out when it closes. */

void test_policy_stats(void)
{
    pfix f;
    static policy_stats st; /* zeroed */
    pfix_start(&f, "stats", stats_script, 1 << 20, 1000000, 0);
    policy_bind_stats(f.p, &st);
    uint64_t loaded = stat_get(&st.memory);
    ASSERT(loaded > 1000 && loaded < (1u << 20));
    feed(attach(&f), "hi");
    feed(attach(&f), "boom");
    feed(attach(&f), "spin");
    feed(attach(&f), "grow");
    tick(&f); /* the three failed ones close */
    ASSERT_UEQ(stat_get(&st.calls[H_CONNECT]), 4);
    ASSERT_UEQ(stat_get(&st.calls[H_DATA]), 4);
    ASSERT_UEQ(stat_get(&st.calls[H_CLOSE]), 3);
    ASSERT_UEQ(stat_get(&st.calls[H_DONE]), 0);
    ASSERT_UEQ(stat_get(&st.calls[H_TIMER]), 0);
    ASSERT_UEQ(stat_get(&st.errors[0]), 1);
    ASSERT_UEQ(stat_get(&st.errors[1]), 1);
    ASSERT_UEQ(stat_get(&st.errors[2]), 1);
    uint64_t timed = 0;
    for (int b = 0; b <= POLICY_TIME_BOUNDS; b++)
        timed += stat_get(&st.time_counts[b]);
    ASSERT_UEQ(timed, 11);
    ASSERT(stat_get(&st.memory) > 1000);
    ASSERT_STR_EQ(policy_hook_name(H_CONNECT), "on_connect");
    ASSERT_STR_EQ(policy_hook_name(H_DATA), "on_data");
    ASSERT_STR_EQ(policy_hook_name(H_DONE), "on_done");
    ASSERT_STR_EQ(policy_hook_name(H_CLOSE), "on_close");
    ASSERT_STR_EQ(policy_hook_name(H_TIMER), "timer");
    ASSERT_STR_EQ(policy_error_kind_name(1), "budget");
    pfix_end(&f); /* the last: on_close, then the state closes */
    ASSERT_UEQ(stat_get(&st.calls[H_CLOSE]), 4);
    ASSERT_UEQ(stat_get(&st.memory), 0);
}
