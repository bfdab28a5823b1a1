---@meta
-- ricochet.d.lua -- type definitions of what a ricochet script sees, for
-- editors that read LuaLS annotations (VS Code's Lua extension, any
-- editor with lua-language-server): the hooks a script defines, the
-- `conn` object they get, `conn.upstream`, the input of a buffer frame
-- and the `ricochet` table. It is never loaded by the server; README's
-- "The script" says how to point an editor at it. Every name here exists
-- in the server (src/lua), and nothing else does.

--- What a hook sends: a string (binary-safe), a number, nil (nothing), or
--- an array of strings and numbers, sent in order as if concatenated
--- (without the concatenation being built in Lua); an item of another
--- type fails the hook and nothing of that reply is sent.
---@alias ricochet.reply string|number|(string|number)[]|nil
--- What a hook asks for after its reply: nil carries on;
--- "shutdown" half-closes gracefully once every byte is sent; "close"
--- sends everything, then closes; "reset" is an abortive close (RST);
--- "wait" (on_done, on_upstream_done and on_timeout only) keeps our side
--- open, which those three close gracefully by default.
---@alias ricochet.action
---| nil
---| "shutdown"
---| "close"
---| "reset"
---| "wait"

--- How `conn:frame` cuts input.
---@alias ricochet.frame_mode "raw"|"line"|"delim"|"fixed"|"length"|"buffer"

--- Options of `conn:frame`: `max`, the longest payload (default 65536, at
--- most 67108864; a longer frame resets the connection; for "buffer", the
--- most bytes held unused after a call); `keep`, deliver the terminator
--- or the prefix with the frame.
---@class ricochet.frame_opts
---@field max? integer
---@field keep? boolean

--- `conn:close_after`'s limits; with both, whichever comes first.
---@class ricochet.close_after_opts
---@field bytes? number after this many more bytes went out
---@field ms? number in this many milliseconds

--- One side of a connection: the client's `conn`, or `conn.upstream`.
--- Besides the fields below a script may set its own
--- (`conn.count = (conn.count or 0) + 1`); the fields and methods named
--- here cannot be set. Once the connection has closed, every method and
--- `peer`/`bytes_*` raise "connection N is closed".
---@class ricochet.side
---@field id integer the connection's id (as in the log)
---@field peer string the peer's address, "127.0.0.1:51234" or "[::1]:51234"
---@field bytes_in integer bytes received from the peer so far
---@field bytes_out integer bytes sent to the peer so far
---@field [string] any the script's own fields
local side = {}

--- Send `s` (binary-safe), after whatever is already queued.
---@param s string|number
---@return true|nil ok true, or nil once our side is shut
---@return string? err "connection is not writable" or "out of memory"
function side:send(s) end

--- Half-close gracefully (FIN) once every queued byte is sent.
function side:shutdown() end

--- Send everything queued, then close.
function side:close() end

--- Abortive close: the peer gets a RST; queued bytes are dropped.
function side:reset() end

--- Add `tag.KEY=VALUE` to the connection's summary log line (on
--- `conn.upstream` too: it is the client's line). `key` is a name
--- `[A-Za-z_][A-Za-z0-9_]*` of at most 32 bytes; `value` nil removes the
--- tag. At most 16 tags, whose keys and string values take at most 1024
--- bytes; past that it raises.
---@param key string
---@param value string|number|boolean|nil
function side:tag(key, value) end

--- How this side's input is cut before `on_data` (on `conn.upstream`:
--- `on_upstream_data`) sees it: one frame a call, or with "buffer" an
--- input (`ricochet.input`) of every byte not used yet, each time bytes
--- arrive.
---   conn:frame("raw")                     as it arrived (the default)
---   conn:frame("line" [, opts])           up to LF, without "\r\n"/"\n"
---   conn:frame("delim", s [, opts])       up to `s` (1 to 64 bytes)
---   conn:frame("fixed", n)                exactly n bytes (1 to 64 MiB)
---   conn:frame("length", fmt [, opts])    a string.pack integer prefix
---                                         (">I2", "<I4", "B", ...), then
---                                         that many bytes
---   conn:frame("buffer" [, opts])         every byte not used yet, as
---                                         an input
---@param mode ricochet.frame_mode
---@param arg? string|integer|ricochet.frame_opts delimiter, size or format
---@param opts? ricochet.frame_opts
function side:frame(mode, arg, opts) end

--- Hold each reply `ms` milliseconds, plus or minus up to `jitter`
--- (from the --seed source); replies keep their order. Fractions round
--- up.
---@param ms number
---@param jitter? number
function side:delay(ms, jitter) end

--- Limit the bandwidth to `bytes_per_second`; 0 or nil lifts it.
---@param bytes_per_second? number
function side:rate(bytes_per_second) end

--- Send in writes of `size` bytes, each plus or minus `variation` (at
--- least 1), `gap_ms` apart (default 0); 0 or nil turns slicing off.
---@param size? number
---@param variation? number
---@param gap_ms? number
function side:slice(size, variation, gap_ms) end

--- A hung peer: no sending and no reading until `resume`.
function side:stall() end

--- End a `stall`.
function side:resume() end

--- After `bytes` more bytes went out, or in `ms` milliseconds, drop what
--- is still queued and half-close (FIN): a truncated reply on purpose.
---@param opts ricochet.close_after_opts
function side:close_after(opts) end

--- In `ms` milliseconds, an abortive close (RST); `on_close` gets
--- "reset".
---@param ms number
function side:reset_after(ms) end

--- The client's connection: the object every hook gets, the same for the
--- whole connection.
---@class ricochet.conn: ricochet.side
--- `upstream`: the upstream's side in proxy mode; nil while there is none.
---@field upstream ricochet.upstream|nil
local conn = {}

--- In `ms` milliseconds, call `fn(conn)`, which returns `reply, action`
--- as a hook does ("wait" excepted). Pending timers end with the
--- connection. Fractions round up.
---@param ms number 0 to 1e12
---@param fn fun(conn: ricochet.conn): ricochet.reply?, ricochet.action?
function conn:after(ms, fn) end

--- Choose this connection's upstream; from its own `on_connect` only, at
--- most once. `spec` is "1.2.3.4:PORT" or "[::1]:PORT" (a host name
--- raises: resolve it at load with `ricochet.resolve`); nil or nothing is
--- --upstream's (an error without one); false keeps the connection an
--- echo, even under --upstream. `conn.upstream` exists after the call.
---@param spec? string|false
function conn:connect(spec) end

--- The upstream's side of a proxied connection (`conn.upstream`): its
--- framing cuts what the upstream sends (for `on_upstream_data`), its
--- shaping shapes what goes to the upstream. It has no `after`,
--- `connect` or `upstream` (`after` and `connect` raise).
---@class ricochet.upstream: ricochet.side

--- What `on_data` (`on_upstream_data`) gets after `conn:frame("buffer")`
--- (`conn.upstream:frame("buffer")`): every byte received and not used
--- yet. When the hook returns, the bytes not committed are held and come
--- again, first, in the next call's input, which comes when new bytes
--- arrive; at the peer's FIN they are `on_done`'s (`on_upstream_done`'s)
--- `rest`. More than `max` of them held reset the connection. An input
--- is valid only during the call it was given to: used later, it raises
--- "this input is gone". `#input` is the number of bytes not taken yet;
--- `tostring` gives "input (N bytes left)". The methods are the input's
--- own fields: call them with a colon (`input.line()` raises).
---@class ricochet.input
---@operator len: integer
local input = {}

--- The next line up to LF, without the LF and a CR just before it; nil
--- when no whole line is there (nothing is taken then).
---
--- With `pattern`, the line is taken only when it matches, as
--- `string.match(line, pattern)` would (`^` and `$` anchor at the line's
--- ends, a position capture `()` counts from its start): the captures are
--- returned, or the whole match when the pattern has none. When the line
--- does not match: false, and nothing is taken. A malformed pattern
--- raises as `string.match` does.
---@param pattern? string
---@return string|integer|false|nil first the line, or the first capture
---@return string|integer ... the other captures
function input:line(pattern) end

--- The next `n` bytes, or nil when fewer are there (nothing is taken
--- then); without `n`, all that is left ("" when nothing is).
---
--- With `delimiter` (a non-empty string): the `n` bytes must be followed
--- by exactly it, and it is taken too; nil while they are not all there,
--- false when other bytes follow (nothing is taken either way). Without
--- `n` (nil), the bytes up to the next copy of `delimiter` (taken too, not
--- returned); nil while there is none. An empty delimiter raises.
---@param n? integer
---@param delimiter? string
---@return string|false|nil bytes false: not followed by it; nil: not all there
function input:take(n, delimiter) end

--- A body whose length the next line gives, taken with that line in one
--- step. The line (as `input:line()` gives it) must match `pattern` as
--- `string.match` would, and its last capture (the whole match when the
--- pattern has none) be the body's length in decimal digits only, at
--- most `max` (default: any); then come that many bytes, then
--- `delimiter` when one is given. Returns the body, then the line's other
--- captures; nil while it is not all there; false and why when it never
--- will be: "line" (no match), "count" (not digits, over `max`),
--- "delimiter" (other bytes follow the body). Nothing is taken unless the
--- body is returned. An empty delimiter, a negative `max` or a malformed
--- pattern raises.
---@param pattern string
---@param delimiter? string
---@param max? integer
---@return string|false|nil body false: never; nil: not all there
---@return string|integer|"line"|"count"|"delimiter" ... the other captures, or why
function input:counted(pattern, delimiter, max) end

--- What was taken so far is used: it will not come again.
function input:commit() end

-- --- the hooks: global functions a script may define, all optional ------

--- A client connected. With `conn:connect` it may choose an upstream.
---@param conn ricochet.conn
---@return ricochet.reply reply sent to the client (a banner)
---@return ricochet.action action
function on_connect(conn) end

--- Bytes (or, after `conn:frame`, one frame; after
--- `conn:frame("buffer")`, an input) from the client. Without this hook
--- the bytes are echoed (or relayed to the upstream) in C. In proxy mode
--- the reply goes to the upstream.
---@param conn ricochet.conn
---@param data string|ricochet.input
---@return ricochet.reply reply
---@return ricochet.action action
function on_data(conn, data) end

--- The client finished sending (FIN) while our side is open. `rest` is an
--- unfinished frame (a buffer frame's bytes not committed), or nil. The
--- default action (nil) is "shutdown"; "wait" keeps our side open. In
--- proxy mode the reply and the FIN go to the upstream.
---@param conn ricochet.conn
---@param rest string|nil
---@return ricochet.reply reply
---@return ricochet.action action
function on_done(conn, rest) end

--- Bytes (or one frame, after `conn.upstream:frame`; an input after
--- `conn.upstream:frame("buffer")`) from the upstream; the reply goes to
--- the client. Without it they cross in C.
---@param conn ricochet.conn
---@param data string|ricochet.input
---@return ricochet.reply reply
---@return ricochet.action action
function on_upstream_data(conn, data) end

--- The upstream finished sending (FIN). `rest` is an unfinished frame, or
--- nil. The reply goes to the client, then the FIN by default; "wait"
--- holds the FIN back.
---@param conn ricochet.conn
---@param rest string|nil
---@return ricochet.reply reply
---@return ricochet.action action
function on_upstream_done(conn, rest) end

--- The upstream could not be reached: `reason` is "connection refused",
--- "timed out", ... The reply goes to the client, which is then closed
--- (without this hook it is reset).
---@param conn ricochet.conn
---@param reason string
---@return ricochet.reply reply
---@return ricochet.action action
function on_upstream_error(conn, reason) end

--- No byte went either way for --idle-timeout. The reply is the last
--- word; the default action is "shutdown"; "wait" keeps the connection
--- for one more idle period.
---@param conn ricochet.conn
---@return ricochet.reply reply
---@return ricochet.action action
function on_timeout(conn) end

--- The connection ended; what it returns is ignored. It may still tag:
--- the summary line is written after it.
---@param conn ricochet.conn
---@param reason "done"|"reset"|"timeout"|"error"|"stop"
function on_close(conn, reason) end

--- Not a connection's hook: `POST /args` on the admin API changed the
--- script's arguments. `args` is a copy of `ricochet.args` with the
--- posted pairs laid over it, which go into `ricochet.args` once it has
--- returned; raising keeps the old ones. What it returns is ignored.
---@param args table<string, string>
function on_args(args) end

-- --- Lua 5.5's table.create, which the server adds to 5.4 ----------------

--- An empty table with room for `nseq` elements in sequence and `nrec`
--- other fields, so that filling it that far never rehashes (Lua 5.5's,
--- added to Lua 5.4's `table`). Charged one instruction a slot; a count
--- below 0 or over 2147483647 raises "out of range".
---@param nseq integer
---@param nrec? integer
---@return table
function table.create(nseq, nrec) end

-- --- the ricochet table ----------------------------------------------------

---@class ricochet.lib
---@field args table<string, string> arguments after `--`; `key` alone: "true"
---@field script string the script's path
---@field version string ricochet's version
---@field worker integer this worker's number, from 1 (1 without --workers)
---@field upstream string|nil --upstream's "ADDR:PORT"; nil without it
ricochet = {}

--- A log line at `level`, tagged with the connection whose hook runs;
--- the arguments are joined with tabs, as `print` does.
---@param level "error"|"warn"|"info"|"debug"|"trace"
---@param ... any
function ricochet.log(level, ...) end

--- Milliseconds on the server's monotonic clock (the virtual clock under
--- --simulate).
---@return integer
function ricochet.now() end

--- As `math.random`, from the --seed source: no argument, a float in
--- [0, 1); `m`, an integer in [1, m]; `m, n`, an integer in [m, n].
---@param m? integer
---@param n? integer
---@return number
---@overload fun(): number
---@overload fun(m: integer): integer
---@overload fun(m: integer, n: integer): integer
function ricochet.random(m, n) end

--- "NAME:PORT" as the numeric "ADDR:PORT" (or "[ADDR]:PORT") for
--- `conn:connect`, or nil and the reason. It waits for the resolver, so
--- only the script's top level may call it (at load and each reload); in
--- a hook it raises.
---@param spec string
---@return string|nil addr
---@return string? err
function ricochet.resolve(spec) end
