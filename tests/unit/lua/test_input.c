/* test_input.c -- conn:frame("buffer"): on_data gets an input of every
 * byte not used yet, takes lines and byte counts from it, and commits
 * what it used; the rest comes again with the next bytes, bounded by
 * max. Replies given as a table go out item by item. */
#include <string.h>

#include "cases.h"
#include "pfix.h"

static const char input_script[] =
    "local kept\n"
    "function on_connect(conn) conn:frame('buffer', {max = 16}) end\n"
    "function on_data(conn, input)\n"
    "  if type(input) == 'string' then return '{' .. input .. '}' end\n"
    "  local out = {}\n"
    "  while true do\n"
    "    local line = input:line()\n"
    "    if line == nil then return out end\n"
    "    local cmd, arg = line:match('^(%a*) ?(.*)$')\n"
    "    if cmd == 'take' then\n"
    "      local got = input:take(tonumber(arg))\n"
    "      if got == nil then return out end\n"
    "      out[#out + 1] = '<' .. got .. '>'\n"
    "    elseif cmd == 'rest' then\n"
    "      out[#out + 1] = #input .. '=' .. input:take()\n"
    "    elseif cmd == 'keep' then\n"
    "      kept = input\n"
    "    elseif cmd == 'stale' then\n"
    "      local ok, err = pcall(function() return kept:take(1) end)\n"
    "      out[#out + 1] = tostring(ok) .. ' ' .. err:gsub('^.-: ', '')\n"
    "    elseif cmd == 'lines' then\n"
    "      input:commit()\n"
    "      conn:frame('line')\n"
    "      return out\n"
    "    elseif cmd == 'peek' then\n"
    "      return tostring(input)\n"
    "    else\n"
    "      out[#out + 1] = '[' .. line .. ']'\n"
    "    end\n"
    "    input:commit()\n"
    "  end\n"
    "end\n"
    "function on_done(conn, rest) return 'rest=' .. tostring(rest) end\n";

void test_input_lines_held(void)
{
    pfix f;
    pfix_start(&f, "input_lines", input_script, 0, 0, 0);
    conn *c = attach(&f);
    /* whole lines are used, CR LF or LF; the part line waits */
    feed(c, "a\r\nb\nc");
    VTRACE_EXPECT(&f.tr, "#1 send([a]) #1 send([b])");
    feed(c, "d\n");
    VTRACE_EXPECT(&f.tr, "#1 send([cd])");
    /* a take short of bytes leaves its line uncommitted: both come
     * again, whole, with the next bytes */
    feed(c, "take 3\nab");
    VTRACE_EXPECT(&f.tr, "");
    feed(c, "cdef\n");
    VTRACE_EXPECT(&f.tr, "#1 send(<abc>) #1 send([def])");
    /* take() is all that is left; #input counts it */
    feed(c, "rest\nxyz");
    VTRACE_EXPECT(&f.tr, "#1 send(3=xyz)");
    /* what is not committed is shown again, once more bytes come */
    feed(c, "peek\n");
    VTRACE_EXPECT(&f.tr, "#1 send(input (0 bytes left))");
    feed(c, "!");
    VTRACE_EXPECT(&f.tr, "#1 send(input (1 bytes left))");
    /* at the end, on_done gets what was never used */
    conn_feed_eof(c);
    VTRACE_EXPECT(&f.tr, "#1 send(rest=peek\n!) #1 fin #1 close");
    tick(&f);
    pfix_end(&f);
}

void test_input_max(void)
{
    pfix f;
    pfix_start(&f, "input_max", input_script, 0, 0, 0);
    /* 16 unused bytes may wait; 17 reset the connection */
    conn *c = attach(&f);
    feed(c, "0123456789abcdef");
    VTRACE_EXPECT(&f.tr, "");
    feed(c, "g");
    VTRACE_EXPECT(&f.tr, "#1 rst");
    tick(&f);
    /* also when they came at once, and after a reply */
    conn *d = attach(&f);
    feed(d, "ok\n0123456789abcdefg");
    VTRACE_EXPECT(&f.tr, "#2 send([ok]) #2 rst");
    tick(&f);
    pfix_end(&f);
}

void test_input_stale_and_switch(void)
{
    pfix f;
    pfix_start(&f, "input_stale", input_script, 0, 0, 0);
    conn *c = attach(&f);
    /* an input kept past its call raises */
    feed(c, "keep\n");
    VTRACE_EXPECT(&f.tr, "");
    feed(c, "stale\n");
    VTRACE_EXPECT(&f.tr, "#1 send(false this input is gone: an input is "
                         "valid only during the call it was given to)");
    /* to line frames mid-buffer: the rest is cut as lines */
    feed(c, "lines\nx\ny\nz");
    VTRACE_EXPECT(&f.tr, "#1 send({x}) #1 send({y})");
    feed(c, "\n");
    VTRACE_EXPECT(&f.tr, "#1 send({z})");
    pfix_end(&f);
}

/* ---- input:line(pattern), input:take(n, delimiter) ---------------------- */

/* Each call runs its first line as a chunk, with the input as `input`;
 * R(...) notes values (strings quoted, CR and LF shown as \r and \n), E(f)
 * what f raises. The notes are the reply; the rest of the input is then
 * dropped, so each feed stands alone. K keeps values across calls. */
static const char eval_script[] =
    "local K = {}\n"
    "function on_connect(conn) conn:frame('buffer') end\n"
    "local function show(...)\n"
    "  local t = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then\n"
    "      v = '\"' .. v:gsub('\\r', '\\\\r'):gsub('\\n', '\\\\n') .. '\"'\n"
    "    end\n"
    "    t[i] = tostring(v)\n"
    "  end\n"
    "  return table.concat(t, ',')\n"
    "end\n"
    "function on_data(conn, input)\n"
    "  local code = input:line()\n"
    "  if code == nil then return nil end\n"
    "  local out = {}\n"
    "  local env = setmetatable({input = input, K = K}, {__index = _ENV})\n"
    "  function env.R(...) out[#out + 1] = show(...) end\n"
    "  function env.E(f)\n"
    "    local ok, err = pcall(f)\n"
    "    out[#out + 1] = ok and 'no error'\n"
    "                    or 'error: ' .. err:gsub('^[^:]*:%d+: ', '')\n"
    "  end\n"
    "  assert(load(code, '=cmd', 't', env))()\n"
    "  if K.input ~= input then input:take() end\n"
    "  input:commit()\n"
    "  return table.concat(out, ' | ')\n"
    "end\n";

/* Feed s to a new connection of f; its reply must be want. */
static void eval_expect(pfix *f, const char *s, const char *want)
{
    conn *c = attach(f);
    char want_trace[VTRACE_MAX];
    snprintf(want_trace, sizeof want_trace, "#%llu send(%s)",
             (unsigned long long)conn_id(c), want);
    feed(c, s);
    VTRACE_EXPECT(&f->tr, want_trace);
}

void test_input_line_pattern(void)
{
    pfix f;
    pfix_start(&f, "input_line_pattern", eval_script, 0, 0, 0);
    /* a match takes the line and gives the captures */
    eval_expect(&f, "R(input:line('^(%a+) (%d+)$')) R(#input)\n"
                    "foo 12\r\nnext\n",
                "\"foo\",\"12\" | 5");
    /* no capture: the whole match, as string.match gives it */
    eval_expect(&f, "R(input:line('%d+'), #input)\nab12cd\n", "\"12\",0");
    eval_expect(&f, "R(input:line('^.*$'))\nab\r\n", "\"ab\"");
    /* position captures count from the line's start; the CR before the
     * LF is gone before matching, a CR elsewhere stays */
    eval_expect(&f, "R(input:line('()b()'))\nabc\n", "2,3");
    eval_expect(&f, "R(input:line('()$'))\nab\r\n", "3");
    eval_expect(&f, "R(input:line('^(.-)(\\r?)$'))\nab\r\n", "\"ab\",\"\"");
    eval_expect(&f, "R(input:line('^(.*)$'))\na\rb\r\r\n", "\"a\\rb\\r\"");
    /* ^ and $ anchor at the line's ends, not the input's */
    eval_expect(&f, "R(input:line(), input:line('^()x()'))\nabc\nxyz\n",
                "\"abc\",1,2");
    eval_expect(&f, "R(input:line('c$'), #input)\nabc\ndef\n", "\"c\",4");
    eval_expect(&f, "R(input:line('^def'), #input)\nabc\ndef\n",
                "false,8");
    /* no match: false, and nothing is taken */
    eval_expect(&f, "R(input:line('^%d+$'), #input) R(input:line())\n"
                    "abc\n",
                "false,4 | \"abc\"");
    /* an empty line matches what matches "" */
    eval_expect(&f, "R(input:line('^$'), input:line('x'))\n\r\nz\n",
                "\"\",false");
    /* no whole line yet: nil, nothing taken, whatever the pattern */
    eval_expect(&f, "R(input:line('.*'), input:line('x'), #input)\nabc",
                "nil,nil,3");
    eval_expect(&f, "R(input:line('[a'), #input)\nabc", "nil,3");
    /* a malformed pattern raises as string.match does; nothing taken */
    eval_expect(&f, "E(function() input:line('[a') end) R(#input)\nxx\n",
                "error: malformed pattern (missing ']') | 3");
    eval_expect(&f, "E(function() input:line('%') end) R(input:line())\n"
                    "xx\n",
                "error: malformed pattern (ends with '%') | \"xx\"");
    eval_expect(&f, "E(function() input:line({}) end)\nxx\n",
                "error: bad argument #1 to 'line' (string expected, got "
                "table)");
    /* no pattern, or nil: the line, as before */
    eval_expect(&f, "R(input:line(nil), input:line(), input:line())\n"
                    "a\r\nb\n",
                "\"a\",\"b\",nil");
    pfix_end(&f);
}

void test_input_take_delimiter(void)
{
    pfix f;
    pfix_start(&f, "input_take_delimiter", eval_script, 0, 0, 0);
    /* n bytes and the delimiter: both taken, the bytes given */
    eval_expect(&f, "R(input:take(3, '\\r\\n'), #input)\nabc\r\nd",
                "\"abc\",1");
    eval_expect(&f, "R(input:take(2, '\\r\\n'))\n\r\n\r\n", "\"\\r\\n\"");
    eval_expect(&f, "R(input:take(0, '--'), input:take())\n--x",
                "\"\",\"x\"");
    /* not all there: nil, nothing taken */
    eval_expect(&f, "R(input:take(3, '\\r\\n'), #input)\nabc\r", "nil,4");
    eval_expect(&f, "R(input:take(3, '\\r\\n'), #input)\nab", "nil,2");
    eval_expect(&f, "R(input:take(3, '\\r\\n'), #input)\nabc", "nil,3");
    /* other bytes after the n: false, nothing taken */
    eval_expect(&f, "R(input:take(3, '\\r\\n')) R(input:take())\n"
                    "abcd\r\n",
                "false | \"abcd\\r\\n\"");
    eval_expect(&f, "R(input:take(3, '\\r\\n'), input:take(4, '\\r\\n'))\n"
                    "abc\n\r\n",
                "false,\"abc\\n\"");
    /* without n: the bytes up to the delimiter, which is taken too */
    eval_expect(&f, "R(input:take(nil, ';;'), input:take(nil, ';;'),"
                    " input:take())\na;b;;;;c;",
                "\"a;b\",\"\",\"c;\"");
    eval_expect(&f, "R(input:take(nil, ';;'), input:take())\na;;;b",
                "\"a\",\";b\"");
    eval_expect(&f, "R(input:take(nil, ';;'), #input)\na;b;", "nil,4");
    eval_expect(&f, "R(input:take(nil, 'x'), #input)\n", "nil,0");
    /* a delimiter cannot be empty, whatever is there */
    eval_expect(&f, "E(function() input:take(1, '') end)"
                    " E(function() input:take(100, '') end)"
                    " E(function() input:take(nil, '') end) R(#input)\nab",
                "error: bad argument #2 to 'take' (a delimiter cannot be "
                "empty) | error: bad argument #2 to 'take' (a delimiter "
                "cannot be empty) | error: bad argument #2 to 'take' (a "
                "delimiter cannot be empty) | 2");
    eval_expect(&f, "E(function() input:take(-1, 'x') end)\n",
                "error: bad argument #1 to 'take' (a byte count cannot be "
                "negative)");
    /* take(n) and take() as before */
    eval_expect(&f, "R(input:take(2), input:take(9), input:take(),"
                    " input:take())\nabc",
                "\"ab\",nil,\"c\",\"\"");
    pfix_end(&f);
}

/* ---- input:counted(pattern, delimiter, max) ----------------------------- */

/* R(input:counted(...)) notes all of its values; R(#input) after it, in
 * a note of its own, what is left. */
void test_input_counted(void)
{
    pfix f;
    pfix_start(&f, "input_counted", eval_script, 0, 0, 0);
    /* a RESP bulk: the header, the body and the delimiter taken at once */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(#input)\n"
                    "$5\r\nhello\r\n*1",
                "\"hello\" | 2");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(input:take())\n"
                    "$4\r\na\r\nb\r\n$1\r\n",
                "\"a\\r\\nb\" | \"$1\\r\\n\"");
    /* the body first, then the other captures in order */
    eval_expect(&f, "R(input:counted('^set (%S+) (%d+) %d+ (%d+)$',"
                    " '\\r\\n')) R(#input)\nset k:1 7 0 3\r\nabc\r\n",
                "\"abc\",\"k:1\",\"7\" | 0");
    eval_expect(&f, "R(input:counted('^()(%a+) ()(%d+)'))\nab 2\nxy",
                "\"xy\",1,\"ab\",4");
    /* no capture: the whole match is the count */
    eval_expect(&f, "R(input:counted('^%d+$')) R(#input)\n3\r\nabcd",
                "\"abc\" | 1");
    eval_expect(&f, "R(input:counted('%d+')) R(#input)\nlen=2;\nxyz",
                "\"xy\" | 1");
    /* no delimiter (SMTP BDAT): the body, then whatever follows */
    eval_expect(&f, "R(input:counted('^BDAT (%d+)')) R(input:line())\n"
                    "BDAT 4 LAST\r\nab\r\nQUIT\r\n",
                "\"ab\\r\\n\" | \"QUIT\"");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 9)) R(input:take())\n"
                    "2\nabc",
                "\"ab\" | \"c\"");
    /* one after another, each from where the last ended */
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(input:counted('^(%d+)$'))"
                    " R(#input)\n1\na2\nbc",
                "\"a\" | \"bc\" | 0");
    /* the most captures a pattern may have, 32: 31 after the body; one
     * more raises as string.match does */
    eval_expect(&f, "R(input:counted(('(%a)'):rep(31) .. '(%d+)', ';'))"
                    "\nabcdefghijklmnopqrstuvwxyzABCDE3\nxyz;",
                "\"xyz\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
                "\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\","
                "\"r\",\"s\",\"t\",\"u\",\"v\",\"w\",\"x\",\"y\",\"z\","
                "\"A\",\"B\",\"C\",\"D\",\"E\"");
    eval_expect(&f, "R(input:counted(('(%a)'):rep(31) .. '(%d+)', ';'))"
                    "\nabcdefghijklmnopqrstuvwxyzABCDE3\nxyz!",
                "false,\"delimiter\"");
    eval_expect(&f, "E(function() input:counted(('(%a)'):rep(32) .. '(%d+)')"
                    " end) R(#input)\nabcdefghijklmnopqrstuvwxyzABCDEF3\nxyz",
                "error: too many captures | 37");
    /* a delimiter of several bytes, which the body may hold */
    eval_expect(&f, "R(input:counted('^(%d+)$', '--end--')) R(#input)\n"
                    "2\n----end--",
                "\"--\" | 0");
    pfix_end(&f);
}

void test_input_counted_count(void)
{
    pfix f;
    pfix_start(&f, "input_counted_count", eval_script, 0, 0, 0);
    /* 0: an empty body, the delimiter still wanted */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(#input)\n"
                    "$0\r\n\r\nx",
                "\"\" | 1");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(#input)\n"
                    "$0\r\n",
                "nil | 4");
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n0\n",
                "\"\" | 0");
    /* leading zeros are digits like any */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n'))\n$003\r\nabc\r\n",
                "\"abc\"");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n', 3))\n"
                    "$0000000000000000000000003\r\nabc\r\n",
                "\"abc\"");
    /* no sign, no spaces, not empty, not a position: refused, nothing
     * taken */
    static const char *const not_counts[] = {
        "$-1", "$+3", "$ 3", "$3 ", "$", "$3a", "$1:", "$0x3", "$3.0",
        "$\xd9\xa3",
    };
    for (size_t i = 0; i < sizeof not_counts / sizeof not_counts[0]; i++) {
        char in[256], want[256];
        snprintf(in, sizeof in, "R(input:counted('^%%$(.*)', '\\r\\n'))"
                 " R(#input, input:line())\n%s\r\nabc\r\n", not_counts[i]);
        snprintf(want, sizeof want, "false,\"count\" | %zu,\"%s\"",
                 strlen(not_counts[i]) + 7, not_counts[i]);
        eval_expect(&f, in, want);
    }
    eval_expect(&f, "R(input:counted('^x()')) R(input:line())\nx\n",
                "false,\"count\" | \"x\"");
    /* the last capture is the count, even when others are digits */
    eval_expect(&f, "R(input:counted('^(%d+)(%a*)$')) R(input:line())\n"
                    "2\nab",
                "false,\"count\" | \"2\"");
    eval_expect(&f, "R(input:counted('^(%d+) (%d+)$'))\n1 2\nabc",
                "\"ab\",\"1\"");
    /* the largest integer is a count, whose body never comes; one more
     * is not */
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n"
                    "9223372036854775807\nabc",
                "nil | 23");
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n"
                    "9223372036854775808\nabc",
                "false,\"count\" | 23");
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n"
                    "99999999999999999999999999999999\nabc",
                "false,\"count\" | 36");
    /* max: a count equal to it is taken, one over is refused before its
     * body comes */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n', 12))\n"
                    "$12\r\nhello world!\r\n",
                "\"hello world!\"");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n', 12)) R(#input)\n"
                    "$13\r\n",
                "false,\"count\" | 5");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 512)) R(#input)\n"
                    "512\nab",
                "nil | 6");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 512)) R(#input)\n"
                    "513\n",
                "false,\"count\" | 4");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 99)) R(#input)\n"
                    "100\n",
                "false,\"count\" | 4");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 0)) R(#input)\n0\n",
                "\"\" | 0");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 9223372036854775807))"
                    " R(#input)\n9223372036854775808\n",
                "false,\"count\" | 20");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 5.0))\n5\nabcde",
                "\"abcde\"");
    pfix_end(&f);
}

/* A max under 9 bounds a count of one digit too (leading zeros or not):
 * over it is "count", however many bytes have come. */
void test_input_counted_small_max(void)
{
    pfix f;
    pfix_start(&f, "input_counted_small_max", eval_script, 0, 0, 0);
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n', 5)) R(#input)\n"
                    "$5\r\nhello\r\n",
                "\"hello\" | 0");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n', 5)) R(#input)\n"
                    "$6\r\n",
                "false,\"count\" | 4");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 0)) R(#input)\n"
                    "7\nabcdefg",
                "false,\"count\" | 9");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 3)) R(#input)\n"
                    "0004\nabcd",
                "false,\"count\" | 9");
    eval_expect(&f, "R(input:counted('^(%d+)$', nil, 8)) R(#input)\n"
                    "9\nabcdefghi",
                "false,\"count\" | 11");
    pfix_end(&f);
}

void test_input_counted_waits_and_refuses(void)
{
    pfix f;
    pfix_start(&f, "input_counted_waits", eval_script, 0, 0, 0);
    /* not all there: nil, nothing taken, whichever part is short */
    static const char *const short_of[] = {
        "$5", "$5\r", "$5\r\n", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r",
    };
    for (size_t i = 0; i < sizeof short_of / sizeof short_of[0]; i++) {
        char in[256], want[256];
        snprintf(in, sizeof in, "R(input:counted('^%%$(.*)', '\\r\\n'))"
                 " R(#input)\n%s", short_of[i]);
        snprintf(want, sizeof want, "nil | %zu", strlen(short_of[i]));
        eval_expect(&f, in, want);
    }
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(input:line())\n"
                    "$5\r\nhel",
                "nil | \"$5\"");
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n4\nabc",
                "nil | 5");
    /* no whole line: nil, whatever the line or the pattern */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(#input)\n*2",
                "nil | 2");
    eval_expect(&f, "R(input:counted('[a')) R(#input)\nabc", "nil | 3");
    /* never: false and why, nothing taken; the header is still there */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n'))"
                    " R(#input, input:line())\n*2\r\n",
                "false,\"line\" | 4,\"*2\"");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n'))"
                    " R(#input, input:line())\n$abc\r\nxyz\r\n",
                "false,\"count\" | 11,\"$abc\"");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n'))"
                    " R(#input, input:line())\n$3\r\nabcX\r\n",
                "false,\"delimiter\" | 10,\"$3\"");
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n'))"
                    " R(#input, input:line(), input:take())\n$3\r\nabc\n\r\n",
                "false,\"delimiter\" | 10,\"$3\",\"abc\\n\\r\\n\"");
    /* a delimiter is refused only once all its bytes are there */
    eval_expect(&f, "R(input:counted('^%$(.*)', '\\r\\n')) R(#input)\n"
                    "$3\r\nabcX",
                "nil | 8");
    /* the CR before the LF is not the line's; a CR elsewhere is */
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(#input)\n2\r\nab",
                "\"ab\" | 0");
    eval_expect(&f, "R(input:counted('^(%d+)$')) R(input:line())\n2\r\r\nab",
                "false,\"line\" | \"2\\r\"");
    pfix_end(&f);
}

void test_input_counted_args(void)
{
    pfix f;
    pfix_start(&f, "input_counted_args", eval_script, 0, 0, 0);
    /* a malformed pattern raises as string.match does; nothing taken */
    eval_expect(&f, "E(function() input:counted('[a', '\\r\\n') end)"
                    " R(#input)\nxx\n",
                "error: malformed pattern (missing ']') | 3");
    eval_expect(&f, "E(function() input:counted('(%d+') end)"
                    " R(input:line())\n12\n",
                "error: unfinished capture | \"12\"");
    /* a delimiter cannot be empty, a max not negative, whatever is there
     * (arguments are numbered as the method call's) */
    eval_expect(&f, "E(function() input:counted('^(%d+)$', '') end)"
                    " E(function() input:counted('^(%d+)$', nil, -1) end)"
                    " R(#input)\n1\na",
                "error: bad argument #2 to 'counted' (a delimiter cannot be "
                "empty) | error: bad argument #3 to 'counted' (a byte count "
                "cannot be negative) | 3");
    eval_expect(&f, "E(function() input:counted('^(%d+)$', '', 5) end)"
                    " E(function() input:counted('x', ';', -1) end)\n",
                "error: bad argument #2 to 'counted' (a delimiter cannot be "
                "empty) | error: bad argument #3 to 'counted' (a byte count "
                "cannot be negative)");
    eval_expect(&f, "E(function() input:counted() end)"
                    " E(function() input:counted({}) end)"
                    " E(function() input:counted('x', {}) end)"
                    " E(function() input:counted('x', nil, 1.5) end)\n",
                "error: bad argument #1 to 'counted' (string expected, got "
                "no value) | error: bad argument #1 to 'counted' (string "
                "expected, got table) | error: bad argument #2 to "
                "'counted' (string expected, got table) | error: bad "
                "argument #3 to 'counted' (number has no integer "
                "representation)");
    pfix_end(&f);
}

void test_input_methods_misused(void)
{
    pfix f;
    pfix_start(&f, "input_methods_misused", eval_script, 0, 0, 0);
    /* a method called with a dot: a type error naming the method */
    eval_expect(&f, "E(function() input.line() end)"
                    " E(function() input.take(3) end)"
                    " E(function() input.commit() end)"
                    " E(function() input.counted('^(%d+)$') end)"
                    " R(#input)\nabc\n",
                "error: bad argument #1 to 'line' (its input (call it as "
                "input:method()) expected, got no value) | error: bad "
                "argument #1 to 'take' (its input (call it as "
                "input:method()) expected, got number) | error: bad "
                "argument #1 to 'commit' (its input (call it as "
                "input:method()) expected, got no value) | error: bad "
                "argument #1 to 'counted' (its input (call it as "
                "input:method()) expected, got string) | 4");
    /* the methods are the input's own fields; # and tostring as before */
    eval_expect(&f, "R(type(rawget(input, 'line')), input.take(input, 1),"
                    " #input, tostring(input), getmetatable(input))\nabc",
                "\"function\",\"a\",2,\"input (2 bytes left)\","
                "\"protected\"");
    /* an input kept past its call raises, whatever is called */
    eval_expect(&f, "K.input = input R(#input)\nab\n", "3");
    static const char gone[] = "error: this input is gone: an input is "
        "valid only during the call it was given to";
    char want[1024];
    snprintf(want, sizeof want, "%s | %s | %s | %s | %s | %s", gone, gone,
             gone, gone, gone, gone);
    eval_expect(&f, "E(function() K.input:line('x') end)"
                    " E(function() K.input:take(1, ';') end)"
                    " E(function() K.input:take(nil, ';') end)"
                    " E(function() K.input:counted('^(%d+)$') end)"
                    " E(function() return #K.input end)"
                    " E(function() return tostring(K.input) end)\n",
                want);
    pfix_end(&f);
}

/* A small protocol over buffer framing, each request answered once it
 * is whole and committed:
 *   "$N" CRLF, N bytes, CRLF    <the bytes>
 *   "K key=value" (a line)      POS:key=value, POS where the key starts
 *   "D" (a line), bytes, ";;"   D(the bytes)
 *   any other line              [the line]
 * A body not followed by CRLF ends the connection after "bad". */
static const char protocol_script[] =
    "function on_connect(conn) conn:frame('buffer') end\n"
    "local function request(input)\n"
    "  local len = input:line('^%$(%d+)$')\n"
    "  if len == nil then return nil end\n"
    "  if len then\n"
    "    local body = input:take(tonumber(len), '\\r\\n')\n"
    "    if body == false then return 'bad', 'close' end\n"
    "    return body and '<' .. body .. '>'\n"
    "  end\n"
    "  local at, key, value = input:line('^K ()(%w+)=(%w*)$')\n"
    "  if at then return at .. ':' .. key .. '=' .. value end\n"
    "  if input:line('^D$') then\n"
    "    local data = input:take(nil, ';;')\n"
    "    return data and 'D(' .. data .. ')'\n"
    "  end\n"
    "  return '[' .. input:line() .. ']'\n"
    "end\n"
    "function on_data(conn, input)\n"
    "  local out = {}\n"
    "  while true do\n"
    "    local reply, action = request(input)\n"
    "    if reply == nil then return out end\n"
    "    out[#out + 1] = reply\n"
    "    if action then return out, action end\n"
    "    input:commit()\n"
    "  end\n"
    "end\n"
    "function on_done(conn, rest) return 'rest=' .. tostring(rest) end\n";

/* The trace without its "#ID " prefixes. */
static void strip_ids(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = in; *p != '\0' && n + 1 < cap; ) {
        if (*p == '#' && (p == in || p[-1] == ' ')) {
            p += strspn(p + 1, "0123456789") + 1;
            if (*p == ' ')
                p++;
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
}

/* Feed in to a new connection in pieces ending at the ncuts offsets of
 * cuts (then the rest), then the client's FIN; the trace, without ids,
 * must be want. */
static void feed_cut(pfix *f, const char *in, size_t len, const size_t *cuts,
                     size_t ncuts, const char *want)
{
    char got[VTRACE_MAX];
    conn *c = attach(f);
    size_t from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        conn_feed(c, in + from, to - from);
        from = to;
    }
    conn_feed_eof(c);
    tick(f);
    strip_ids(f->tr.text, got, sizeof got);
    vtrace_clear(&f->tr);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "cut at");
        for (size_t i = 0; i < ncuts; i++)
            fprintf(stderr, " %zu", cuts[i]);
        fprintf(stderr, "\n");
    }
    ASSERT_STR_EQ(got, want);
}

/* Whole, cut at each offset, at each pair of offsets, byte by byte. */
static void check_every_cut(pfix *f, const char *in, const char *want)
{
    size_t len = strlen(in), cuts[256];
    ASSERT_LT(len, sizeof cuts / sizeof cuts[0]);
    feed_cut(f, in, len, NULL, 0, want);
    for (size_t i = 0; i <= len; i++) {
        cuts[0] = i;
        feed_cut(f, in, len, cuts, 1, want);
        for (size_t j = i; j <= len; j++) {
            cuts[1] = j;
            feed_cut(f, in, len, cuts, 2, want);
        }
    }
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    feed_cut(f, in, len, cuts, len, want);
}

void test_input_every_cut(void)
{
    pfix f;
    pfix_start(&f, "input_every_cut", protocol_script, 0, 0, 0);
    check_every_cut(&f,
                    "$3\r\nabc\r\nK x=1\r\n$0\r\n\r\nhello\nD\r\nx;y;;"
                    "K =\n$2\r\n\r\n\r\nD\n;;tail",
                    "send(<abc>) send(3:x=1) send(<>) send([hello]) "
                    "send(D(x;y)) send([K =]) send(<\r\n>) send(D()) "
                    "send(rest=tail) fin close");
    /* a body followed by other bytes than CRLF: refused once they come */
    check_every_cut(&f, "$1\r\na\r\n$2\r\nabc\r\n",
                    "send(<a>) send(bad) close");
    pfix_end(&f);
}

/* The same with input:counted, one call a request:
 *   "$N" CRLF, N bytes, CRLF (N at most 16)    <the bytes>
 *   "set KEY FLAGS 0 N" CRLF, N bytes, CRLF      KEY/FLAGS:the bytes
 *   "B N" (a line), N bytes                      B(the bytes)
 *   any other line                               [the line]
 * A count over 16 or a body not followed by CRLF ends the connection
 * after "bad count" or "bad delimiter". */
static const char counted_script[] =
    "function on_connect(conn) conn:frame('buffer') end\n"
    "local function request(input)\n"
    "  local body, why = input:counted('^%$(.*)', '\\r\\n', 16)\n"
    "  if body == nil then return nil end\n"
    "  if body then return '<' .. body .. '>' end\n"
    "  if why ~= 'line' then return 'bad ' .. why, 'close' end\n"
    "  local flags\n"
    "  body, why, flags = input:counted('^set (%S+) (%d+) 0 (%d+)$',"
    " '\\r\\n')\n"
    "  if body == nil then return nil end\n"
    "  if body then return why .. '/' .. flags .. ':' .. body end\n"
    "  if why ~= 'line' then return 'bad ' .. why, 'close' end\n"
    "  body = input:counted('^B (%d+)$')\n"
    "  if body == nil then return nil end\n"
    "  if body then return 'B(' .. body .. ')' end\n"
    "  return '[' .. input:line() .. ']'\n"
    "end\n"
    "function on_data(conn, input)\n"
    "  local out = {}\n"
    "  while true do\n"
    "    local reply, action = request(input)\n"
    "    if reply == nil then return out end\n"
    "    out[#out + 1] = reply\n"
    "    if action then return out, action end\n"
    "    input:commit()\n"
    "  end\n"
    "end\n"
    "function on_done(conn, rest) return 'rest=' .. tostring(rest) end\n";

void test_input_counted_every_cut(void)
{
    pfix f;
    pfix_start(&f, "input_counted_every_cut", counted_script, 0, 0, 0);
    check_every_cut(&f,
                    "$3\r\nabc\r\nset k 5 0 2\r\nxy\r\nB 3\nq\nrhello\n"
                    "$0\r\n\r\nset x 0 0 0\r\n\r\nB 0\n$4\r\n\r\n\r\n\r\n"
                    "$16\r\n0123456789abcdef\r\nset $1 0 1\r\n$1\r\n\r\r\n"
                    "tail",
                    "send(<abc>) send(k/5:xy) send(B(q\nr)) send([hello]) "
                    "send(<>) send(x/0:) send(B()) send(<\r\n\r\n>) "
                    "send(<0123456789abcdef>) send([set $1 0 1]) "
                    "send(<\r>) send(rest=tail) fin close");
    /* refused once the count or the bytes after the body are there */
    check_every_cut(&f, "$1\r\na\r\n$17\r\n0123456789abcdefg\r\n",
                    "send(<a>) send(bad count) close");
    check_every_cut(&f, "B 1\nxset k 1 0 2\r\nabX\r\n",
                    "send(B(x)) send(bad delimiter) close");
    pfix_end(&f);
}

void test_input_line_pattern_budget(void)
{
    pfix f;
    pfix_start(&f, "input_line_budget", eval_script, 0, 200000, 0);
    /* a pattern's steps are charged: a runaway match is stopped, and
     * ends its connection only */
    conn *c = attach(&f);
    feed(c, "R(input:line(('a?'):rep(30) .. ('a'):rep(30)))\n"
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    VTRACE_EXPECT(&f.tr, "#1 rst");
    tick(&f);
    eval_expect(&f, "R(input:line(('a?'):rep(3) .. ('a'):rep(3)))\n"
                    "aaa\n",
                "\"aaa\"");
    pfix_end(&f);
}

void test_input_counted_budget(void)
{
    pfix f;
    pfix_start(&f, "input_counted_budget", eval_script, 0, 200000, 0);
    /* the header's pattern steps are charged as line(pattern)'s are */
    conn *c = attach(&f);
    feed(c, "R(input:counted(('%d?'):rep(30) .. ('%d'):rep(30)))\n"
            "000000000000000000000000000000\n");
    VTRACE_EXPECT(&f.tr, "#1 rst");
    tick(&f);
    eval_expect(&f, "R(input:counted(('%d?'):rep(3) .. ('%d'):rep(3)))"
                    " R(#input)\n002\nab",
                "\"ab\" | 0");
    pfix_end(&f);
}

/* The bytes scanned for the header's LF are charged too, matched or not:
 * 60,000 of them are 7,500 instructions, over a budget of 2,000 that
 * the same call on a short line is well under. */
static const char scan_script[] =
    "function on_connect(conn) conn:frame('buffer') end\n"
    "function on_data(conn, input)\n"
    "  local body, why = input:counted('^x')\n"
    "  if body == nil then return nil end\n"
    "  return tostring(body) .. ' ' .. why, 'close'\n"
    "end\n";

void test_input_counted_budget_scan(void)
{
    static char in[60002];
    pfix f;
    pfix_start(&f, "input_counted_budget_scan", scan_script, 0, 2000, 0);
    conn *c = attach(&f);
    feed(c, "yyy");
    VTRACE_EXPECT(&f.tr, "");
    feed(c, "\n");
    VTRACE_EXPECT(&f.tr, "#1 send(false line) #1 close");
    tick(&f);
    memset(in, 'y', 60000);
    in[60000] = '\n';
    c = attach(&f);
    feed(c, in);
    VTRACE_EXPECT(&f.tr, "#2 rst");
    tick(&f);
    /* no LF at all: the scan that finds none is charged as well */
    in[60000] = '\0';
    c = attach(&f);
    feed(c, in);
    VTRACE_EXPECT(&f.tr, "#3 rst");
    tick(&f);
    pfix_end(&f);
}

/* A method belongs to its input, which must be argument 1: called on
 * another table (input.line({})) it is refused as input.line() is, not
 * run on its own input. */
void test_input_method_of_another_table(void)
{
    pfix f;
    pfix_start(&f, "input_method_other", eval_script, 0, 0, 0);
    eval_expect(&f, "E(function() input.line({}) end)"
                    " E(function() input.take({}, 1) end)"
                    " E(function() input.counted({}, '^(%d+)$') end)"
                    " R(#input)\nab\n",
                "error: bad argument #1 to 'line' (its input (call it as "
                "input:method()) expected, got table) | error: bad "
                "argument #1 to 'take' (its input (call it as "
                "input:method()) expected, got table) | error: bad "
                "argument #1 to 'counted' (its input (call it as "
                "input:method()) expected, got table) | 3");
    pfix_end(&f);
}
