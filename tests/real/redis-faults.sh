#!/usr/bin/env bash
# redis-faults.sh -- examples/redis-faults.lua in front of a real
# redis-server:
# - every=3 (the default): of nine GETs from nine redis-cli runs, exactly
#   the 3rd, 6th and 9th are "(error) ERR injected", the others the value,
#   and Redis saw only the six others (INFO commandstats);
# - pipelined requests in one write: the replies in request order, each
#   injected error in its place among Redis's replies, byte-exact;
# - a request written in pieces (several writes, usually several reads)
#   is still one request;
# - Redis's replies read a byte at a time (a slicing relay between the
#   proxy and Redis): pipelined replies, a nested array, a value with CRLF
#   in it and a nil, the errors still in their places;
# - a 1 MiB value through it, both ways, byte-exact (replies cut across
#   reads);
# - slow_key: GET of that key at least slow_ms late, the others not held
#   behind a fault of their own, the order kept;
# - Redis down: the client reads "-ERR upstream down (connection
#   refused)", then EOF;
# - a bad argument: a clear error at start.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli timeout
start_redis
direct() { redis-cli --no-raw -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
faults() { # ricochet arguments after the script's --
    start_proxy --upstream "127.0.0.1:$REDIS_PORT" \
        "$ROOT/examples/redis-faults.lua" -- "$@"
}
proxied() { redis-cli --no-raw -h 127.0.0.1 -p "$PORT" "$@"; }
get_calls() {
    direct INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p'
}

# --- every third GET, one redis-cli run each --------------------------------
expect OK direct SET k value
expect OK direct CONFIG RESETSTAT
start_proxy --upstream "127.0.0.1:$REDIS_PORT" \
    "$ROOT/examples/redis-faults.lua"
for ((i = 1; i <= 9; i++)); do
    if ((i % 3 == 0)); then
        expect "(error) ERR injected" proxied GET k
    else
        expect '"value"' proxied GET k
    fi
done
expect OK proxied SET k2 v2     # other commands are never counted
expect '"v2"' proxied GET k2
expect 7 get_calls              # six GETs plus the one just above
stop_server

# --- pipelined, in one write --------------------------------------------------
faults every=2 error="ERR down for a moment"
open_conn "$PORT"
printf '%s' '*1\r\n$4\r\nPING\r\n' \
    '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' \
    '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' \
    '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' \
    '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n' \
    'GET k\r\n' \
    '*2\r\n$4\r\nECHO\r\n$6\r\nmarker\r\n' >"$WORK/pipeline"
printf '%b' "$(cat "$WORK/pipeline")" >&5
want='+PONG\r\n$5\r\nvalue\r\n-ERR down for a moment\r\n$5\r\nvalue\r\n'
want+='+OK\r\n-ERR down for a moment\r\n$6\r\nmarker\r\n'
printf '%b' "$want" >"$WORK/want"
timeout 10 head -c "$(stat -c %s "$WORK/want")" <&5 >"$WORK/got" ||
    fail "pipelined replies: no reply within 10 s"
cmp "$WORK/got" "$WORK/want" ||
    fail "pipelined replies: [$(cat -A "$WORK/got")]"

# --- a request in pieces: GET 5 (the value), GET 6 (the error) -------------
for piece in '*2\r\n$3\r' '\nGE' 'T\r\n$1' '\r\nk' '\r\n'; do
    printf '%b' "$piece" >&5
done
roundtrip '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' 3
[ "$REPLY_TEXT" = $'$5\r\nvalue\r\n-ERR down for a moment\r\n' ] ||
    fail "split request: [$REPLY_TEXT]"
close_conn
stop_server

# --- Redis's replies cut into single bytes -----------------------------------
printf 'a\r\nb' >"$WORK/crlf"
expect OK direct -x SET crlf <"$WORK/crlf"
start_slicer "$REDIS_PORT" 1 1
start_proxy --upstream "127.0.0.1:$SLICER_PORT" \
    "$ROOT/examples/redis-faults.lua" -- every=2
{
    resp PING                                   # +PONG
    resp GET k                                  # GET 1: the value
    resp GET k                                  # GET 2: injected
    resp EVAL "return {'a',{'b',1}}" 0          # a nested array
    resp GET crlf                               # GET 3: CRLF inside
    resp GET nokey                              # GET 4: injected
    resp GET nokey                              # GET 5: nil
    resp ECHO marker
} >"$WORK/sliced"
want='+PONG\r\n$5\r\nvalue\r\n-ERR injected\r\n'
want+='*2\r\n$1\r\na\r\n*2\r\n$1\r\nb\r\n:1\r\n'
want+='$4\r\na\r\nb\r\n-ERR injected\r\n$-1\r\n$6\r\nmarker\r\n'
printf '%b' "$want" >"$WORK/want"
open_conn "$PORT"
cat "$WORK/sliced" >&5
timeout 10 head -c "$(stat -c %s "$WORK/want")" <&5 >"$WORK/got" ||
    fail "sliced replies: no reply within 10 s"
close_conn
cmp "$WORK/got" "$WORK/want" ||
    fail "sliced replies: [$(cat -A "$WORK/got")]"
stop_server

# --- 1 MiB through it, never failed (every=0) -------------------------------
faults every=0
make_pattern "$WORK/big" 1048576
expect OK proxied -x SET big <"$WORK/big"
redis-cli --raw -h 127.0.0.1 -p "$PORT" GET big >"$WORK/big.got"
{ cat "$WORK/big"; echo; } >"$WORK/big.want"
cmp "$WORK/big.got" "$WORK/big.want" || fail "1 MiB GET through the proxy"
expect '(integer) 1048576' direct STRLEN big
expect '1) "a"
2) "b"
3) (integer) 3' proxied EVAL "return {'a','b',3}" 0   # a nested reply
stop_server

# --- one slow key -------------------------------------------------------------
faults every=0 slow_key=slow slow_ms=100
expect OK direct SET slow tortoise
open_conn "$PORT"
roundtrip 'GET slow\r\n' 2
[ "$REPLY_TEXT" = $'$8\r\ntortoise\r\n' ] || fail "GET slow: [$REPLY_TEXT]"
echo "GET slow round trip: $RTT_US us"
[ "$RTT_US" -ge 100000 ] || fail "GET slow took $RTT_US us, under 100 ms"
roundtrip 'GET k\r\n' 2
[ "$REPLY_TEXT" = $'$5\r\nvalue\r\n' ] || fail "GET k: [$REPLY_TEXT]"
echo "GET k round trip: $RTT_US us"
# both at once: the fast reply waits its turn behind the slow one
roundtrip 'GET slow\r\nGET k\r\n' 4
[ "$REPLY_TEXT" = $'$8\r\ntortoise\r\n$5\r\nvalue\r\n' ] ||
    fail "GET slow, GET k: [$REPLY_TEXT]"
[ "$RTT_US" -ge 100000 ] || fail "GET slow, GET k took $RTT_US us"
close_conn
stop_server

# --- Redis down: an error reply, then EOF --------------------------------------
down_port=$REDIS_PORT
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" || true
REDIS_PID=""
start_proxy --upstream "127.0.0.1:$down_port" \
    "$ROOT/examples/redis-faults.lua"
open_conn "$PORT"
read_to_eof "$WORK/down"
close_conn
printf -- '-ERR upstream down (connection refused)\r\n' >"$WORK/down.want"
cmp "$WORK/down" "$WORK/down.want" || fail "Redis down: [$(cat "$WORK/down")]"
stop_server
grep -q "warn  conn 1: upstream 127.0.0.1:$down_port: connection refused" \
    "$WORK/server.log" || fail "no log line for the refused upstream"

# --- a bad argument -------------------------------------------------------------
rc=0
"$RICOCHET" --listen 127.0.0.1:0 --upstream "127.0.0.1:$REDIS_PORT" \
    "$ROOT/examples/redis-faults.lua" -- every=x >"$WORK/bad.out" \
    2>"$WORK/bad.err" || rc=$?
[ "$rc" -ne 0 ] || fail "every=x was accepted"
grep -q "redis-faults.lua: every must be an integer >= 0, not 'x'" \
    "$WORK/bad.err" || fail "every=x: $(cat "$WORK/bad.err")"
echo "redis-faults: ok"
