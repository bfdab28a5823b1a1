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

void test_input_methods_misused(void)
{
    pfix f;
    pfix_start(&f, "input_methods_misused", eval_script, 0, 0, 0);
    /* a method called with a dot: a type error naming the method */
    eval_expect(&f, "E(function() input.line() end)"
                    " E(function() input.take(3) end)"
                    " E(function() input.commit() end)\nabc\n",
                "error: bad argument #1 to 'line' (its input (call it as "
                "input:method()) expected, got no value) | error: bad "
                "argument #1 to 'take' (its input (call it as "
                "input:method()) expected, got number) | error: bad "
                "argument #1 to 'commit' (its input (call it as "
                "input:method()) expected, got no value)");
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
    snprintf(want, sizeof want, "%s | %s | %s | %s | %s", gone, gone, gone,
             gone, gone);
    eval_expect(&f, "E(function() K.input:line('x') end)"
                    " E(function() K.input:take(1, ';') end)"
                    " E(function() K.input:take(nil, ';') end)"
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

/* A method belongs to its input, which must be argument 1: called on
 * another table (input.line({})) it is refused as input.line() is, not
 * run on its own input. */
void test_input_method_of_another_table(void)
{
    pfix f;
    pfix_start(&f, "input_method_other", eval_script, 0, 0, 0);
    eval_expect(&f, "E(function() input.line({}) end)"
                    " E(function() input.take({}, 1) end) R(#input)\nab\n",
                "error: bad argument #1 to 'line' (its input (call it as "
                "input:method()) expected, got table) | error: bad "
                "argument #1 to 'take' (its input (call it as "
                "input:method()) expected, got table) | 3");
    pfix_end(&f);
}
