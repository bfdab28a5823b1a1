-- upper.lua -- echo in upper case.
--
-- on_data gets each chunk as it arrives and returns the reply; with no
-- on_done the default applies: half-close once everything is sent back.
--
--   ricochet scripts/upper.lua
--   printf 'hello' | nc -N 127.0.0.1 7007      -> HELLO

function on_data(conn, data)
    return data:upper()
end
