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
