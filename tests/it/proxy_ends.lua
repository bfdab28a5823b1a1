-- proxy_ends.lua -- proxy mode with a hook for each end: the client's FIN
-- (on_done) goes on to the upstream after a last line of the proxy's,
-- and the upstream's (on_upstream_done) to the client after one.
function on_done(conn)
    return "[client done]"
end

function on_upstream_done(conn)
    return "[upstream done]"
end
