-- workers.lua -- a banner naming the worker, then the plain C echo.
function on_connect(conn)
    return "w" .. ricochet.worker .. "\n"
end
