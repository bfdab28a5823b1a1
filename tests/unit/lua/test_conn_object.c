/* test_conn_object.c -- the `conn` object as a script sees it: a table
 * whose own fields are the script's, with methods and read-only fields
 * from its metatable, which no forged table can pass for. */
#include <string.h>

#include "cases.h"
#include "pfix.h"

static const char object_script[] =
    "local kept\n"
    "function on_data(conn, data)\n"
    "  if data == 'fields' then\n"
    "    local before = tostring(conn.n)\n"
    "    conn.n = 1\n"
    "    conn.n = conn.n + 1\n"
    "    conn.t = {x = 'y'}\n"
    "    conn.t.x = 'z'\n"
    "    conn.gone = 'g'\n"
    "    conn.gone = nil\n"
    "    conn[1] = 'one'\n"
    "    return before .. ' ' .. conn.n .. ' ' .. conn.t.x .. ' '\n"
    "           .. tostring(conn.gone) .. ' ' .. conn[1] .. ' '\n"
    "           .. type(conn.send) .. ' ' .. conn.id .. ' ' .. conn.peer\n"
    "  elseif data == 'pairs' then\n"
    "    local keys = {}\n"
    "    for k in pairs(conn) do keys[#keys + 1] = tostring(k) end\n"
    "    table.sort(keys)\n"
    "    return table.concat(keys, ',')\n"
    "  elseif data == 'again' then\n"
    "    return tostring(conn.n)\n"
    "  elseif data:sub(1, 3) == 'ro ' then\n"
    "    local ok, err = pcall(function() conn[data:sub(4)] = 1 end)\n"
    "    return tostring(ok) .. ' ' .. err:gsub('^.-: ', '')\n"
    "  elseif data == 'forged' then\n"
    "    local ok, err = pcall(function() conn.send({}, 'x') end)\n"
    "    return (err:gsub('^.-: ', ''))\n"
    "  elseif data == 'swapped' then\n"
    "    local k = next(conn)\n"
    "    while type(k) ~= 'userdata' do k = next(conn, k) end\n"
    "    local forged = {[k] = 'a string'}\n"
    "    local ok, err = pcall(function() conn.send(forged, 'x') end)\n"
    "    local other = {[k] = rawget(conn, k)}\n"
    "    conn.send(other, 'via a copy ')\n"
    "    return (err:gsub('^.-: ', ''))\n"
    "  elseif data == 'keep' then\n"
    "    kept = conn\n"
    "    conn.note = 'kept'\n"
    "    return nil, 'close'\n"
    "  elseif data == 'stale' then\n"
    "    local ok, err = pcall(kept.send, kept, 'x')\n"
    "    return kept.note .. ' ' .. kept.id .. ' ' .. err:gsub('^.-: ', '')\n"
    "  end\n"
    "end\n";

void test_conn_object_fields(void)
{
    pfix f;
    pfix_start(&f, "object_fields", object_script, 0, 0, 0);
    conn *a = attach(&f);
    feed(a, "fields");
    VTRACE_EXPECT(&f.tr, "#1 send(nil 2 z nil one function 1 "
                         "192.0.2.7:4000)");
    feed(a, "again");
    VTRACE_EXPECT(&f.tr, "#1 send(2)");
    /* pairs goes over the script's fields only */
    feed(a, "pairs");
    VTRACE_EXPECT(&f.tr, "#1 send(1,n,t)");
    /* another connection's object has fields of its own */
    conn *b = attach(&f);
    feed(b, "again");
    VTRACE_EXPECT(&f.tr, "#2 send(nil)");
    /* the methods' and fields' names cannot be set */
    feed(a, "ro id");
    VTRACE_EXPECT(&f.tr, "#1 send(false conn.id is read-only)");
    feed(a, "ro send");
    VTRACE_EXPECT(&f.tr, "#1 send(false conn.send is read-only)");
    feed(a, "ro upstream");
    VTRACE_EXPECT(&f.tr, "#1 send(false conn.upstream is read-only)");
    pfix_end(&f);
}

void test_conn_object_forged(void)
{
    pfix f;
    pfix_start(&f, "object_forged", object_script, 0, 0, 0);
    conn *a = attach(&f);
    feed(a, "forged");
    VTRACE_EXPECT(&f.tr, "#1 send(bad argument #1 to 'send' (conn "
                         "expected, got table))");
    /* the private key holds the object's userdata; anything else there
     * is refused, and the userdata itself only ever acts on its own
     * connection */
    feed(a, "swapped");
    VTRACE_EXPECT(&f.tr, "#1 send(via a copy ) #1 send(bad argument #1 to "
                         "'send' (conn expected, got table))");
    pfix_end(&f);
}

void test_conn_object_stale(void)
{
    pfix f;
    pfix_start(&f, "object_stale", object_script, 0, 0, 0);
    conn *a = attach(&f);
    feed(a, "keep");
    VTRACE_EXPECT(&f.tr, "#1 close");
    tick(&f);
    /* the script's fields outlive the connection; its methods raise */
    conn *b = attach(&f);
    feed(b, "stale");
    VTRACE_EXPECT(&f.tr, "#2 send(kept 1 connection 1 is closed)");
    pfix_end(&f);
}
