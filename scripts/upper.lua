-- upper.lua -- echo in upper case.
--
-- on_data gets each chunk as it arrives and returns the reply; with no
-- on_done the default applies: half-close once everything is sent back.
-- string.upper is looked up once, at load: `data:upper()` gives the same
-- bytes but finds the function through the string metatable on every
-- call, which shows on a server echoing small messages.
--
--   ricochet scripts/upper.lua
--   printf 'hello' | nc -N 127.0.0.1 7007      -> HELLO

local upper = string.upper

-- No arguments: one given is refused, so a typo does not pass unnoticed.
for key in pairs(ricochet and ricochet.args or {}) do
    error("upper.lua: unknown argument '" .. key .. "' (upper.lua takes "
          .. "none)", 0)
end

function on_data(conn, data)
    return upper(data)
end
