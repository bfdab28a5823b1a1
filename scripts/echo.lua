-- echo.lua -- the default policy: plain echo, then the graceful half-close.
--
-- No hooks at all: ricochet echoes every byte unchanged in C (no Lua call
-- per read). When the client has finished sending (its FIN), and every byte
-- has been sent back, the server shuts down its sending side, waits for the
-- client to close, then closes -- the classic Winsock echo server's life.
--
--   ricochet scripts/echo.lua
--   printf 'hello' | nc -N 127.0.0.1 7007      -> hello

-- No arguments: one given is refused, so a typo does not pass unnoticed.
for key in pairs(ricochet and ricochet.args or {}) do
    error("echo.lua: unknown argument '" .. key .. "' (echo.lua takes "
          .. "none)", 0)
end
