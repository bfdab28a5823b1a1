-- Fixture: a banner from on_connect, then the default echo.
function on_connect(conn)
    return "220 ricochet test banner\r\n"
end
