#!/usr/bin/env bash
# recipes.sh -- the README's proxy cookbook against a real redis-server:
#   examples/latency.lua   every reply at least 100 ms late, as the client
#                          measures it, and byte-exact
#   examples/cut.lua       the reply cut after exactly N bytes, then EOF
#   examples/fin-first.lua the first reply, then EOF, and what the client
#                          sends after the EOF still reaches Redis
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli timeout
start_redis
direct() { redis-cli --no-raw -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
expect OK direct SET greeting hello

# --- "put 100 ms in front of my Redis" ------------------------------------
open_conn "$REDIS_PORT"
roundtrip 'PING\r\n' 1
echo "PING round trip, direct: $RTT_US us"
close_conn
start_proxy --upstream "127.0.0.1:$REDIS_PORT" "$ROOT/examples/latency.lua" \
    -- ms=100
expect PONG redis-cli --no-raw -h 127.0.0.1 -p "$PORT" PING
open_conn "$PORT"
for ((n = 0; n < 3; n++)); do
    roundtrip 'PING\r\n' 1
    [ "$REPLY_TEXT" = $'+PONG\r\n' ] || fail "PING: got [$REPLY_TEXT]"
    echo "PING round trip through latency.lua ms=100: $RTT_US us"
    [ "$RTT_US" -ge 100000 ] || fail "PING took $RTT_US us, under 100 ms"
done
roundtrip '*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n' 2
[ "$REPLY_TEXT" = $'$5\r\nhello\r\n' ] || fail "GET: got [$REPLY_TEXT]"
[ "$RTT_US" -ge 100000 ] || fail "GET took $RTT_US us, under 100 ms"
close_conn
stop_server

# --- "cut the reply after N bytes" ----------------------------------------
make_pattern "$WORK/big" 100000
expect OK direct -x SET big <"$WORK/big"
{ printf '$100000\r\n'; cat "$WORK/big"; printf '\r\n'; } >"$WORK/reply"
start_proxy --upstream "127.0.0.1:$REDIS_PORT" "$ROOT/examples/cut.lua" \
    -- bytes=1000
open_conn "$PORT"
printf '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n' >&5
read_to_eof "$WORK/got"
close_conn
head -c 1000 "$WORK/reply" >"$WORK/want"
cmp "$WORK/got" "$WORK/want" ||
    fail "cut.lua bytes=1000: got $(stat -c %s "$WORK/got") bytes," \
         "not the reply's first 1000"
stop_server

# --- "see what my client does when the server half-closes first" --------
start_proxy --upstream "127.0.0.1:$REDIS_PORT" "$ROOT/examples/fin-first.lua"
open_conn "$PORT"
roundtrip 'PING\r\n' 1
[ "$REPLY_TEXT" = $'+PONG\r\n' ] || fail "PING: got [$REPLY_TEXT]"
# then EOF (read fails at once with nothing read, not on its timeout)
rc=0
IFS= read -r -t 10 -u 5 line || rc=$?
[ "$rc" -eq 1 ] && [ -z "$line" ] ||
    fail "expected EOF after the first reply, got [$line] (read: $rc)"
# The client still sends after the EOF; Redis gets it (BLPOP waits, at
# most 10 s, for the push).
printf 'RPUSH after-fin sent-after-eof\r\n' >&5
close_conn
expect $'after-fin\nsent-after-eof' \
    redis-cli --raw -h 127.0.0.1 -p "$REDIS_PORT" BLPOP after-fin 10
stop_server
echo "recipes: ok"
