-- proxy.lua -- a byte-exact relay to the upstream, both ways.
--
-- No hooks at all: every byte goes from the client to the upstream and
-- back in C (no Lua call per read). The half-close crosses exactly: the
-- client's FIN reaches the upstream only after every byte before it, the
-- upstream's FIN reaches the client after its bytes, and each side reads
-- on until its own peer has finished too; a reset on either side resets
-- the other. An upstream that cannot be reached resets the client, with
-- one log line saying why.
--
--   ricochet --upstream 127.0.0.1:6379 scripts/proxy.lua
--   redis-cli -p 7007 ping                         -> PONG

if not (ricochet and ricochet.upstream) then
    error("proxy.lua needs --upstream HOST:PORT", 0)
end
-- No arguments: one given is refused, so a typo does not pass unnoticed.
for key in pairs(ricochet.args) do
    error("proxy.lua: unknown argument '" .. key .. "' (proxy.lua takes "
          .. "none)", 0)
end
