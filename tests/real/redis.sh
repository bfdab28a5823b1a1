#!/usr/bin/env bash
# redis.sh -- redis-server behind ricochet (scripts/proxy.lua): every
# redis-cli reply through the proxy is byte-exact the reply of the same
# command sent directly, a 1 MiB value included, and redis-benchmark
# through it (plain and pipelined) counts no error.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli redis-benchmark
start_redis
start_server --upstream "127.0.0.1:$REDIS_PORT" "$ROOT/scripts/proxy.lua"
direct() { redis-cli --no-raw -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
proxied() { redis-cli --no-raw -h 127.0.0.1 -p "$PORT" "$@"; }

# same ARGS...: the reply through the proxy is the direct one, byte for
# byte (redis-cli --no-raw shows the reply's type too: (integer),
# (error), (nil), quoted strings). An argument starting with % is a key:
# "d:" replaces the % for the direct command and "p:" for the proxied
# one, so a command that changes a key gives both the same reply.
same() {
    local a d=() p=()
    for a in "$@"; do
        case $a in
        %*) d+=("d:${a#%}") p+=("p:${a#%}") ;;
        *) d+=("$a") p+=("$a") ;;
        esac
    done
    direct "${d[@]}" >"$WORK/direct" || fail "direct $*: exit $?"
    proxied "${p[@]}" >"$WORK/proxied" || fail "proxied $*: exit $?"
    cmp -s "$WORK/direct" "$WORK/proxied" ||
        fail "$*: direct [$(cat "$WORK/direct")]," \
             "proxied [$(cat "$WORK/proxied")]"
}

expect PONG proxied PING
same SET %k1 v1
same GET %k1
same GET %nokey
same SET %k2 "hello world"
same APPEND %k2 "!"
same GET %k2
same INCR %counter
same INCRBY %counter 41
same RPUSH %list a b c
same LRANGE %list 0 -1
same HSET %h f1 v1 f2 v2
same HGETALL %h
same DEL %k1 %nokey
same EXISTS %k1 %k2
same TYPE %list
same NOSUCHCOMMAND x
same GET
same ECHO "a line
and another"

# A value with CR, LF and NUL in it, set through the proxy, read both
# ways in raw form.
printf 'a\r\nb\0c\r\n' >"$WORK/bin"
expect OK proxied -x SET binary <"$WORK/bin"
redis-cli --raw -h 127.0.0.1 -p "$REDIS_PORT" GET binary >"$WORK/bin.direct"
redis-cli --raw -h 127.0.0.1 -p "$PORT" GET binary >"$WORK/bin.proxied"
printf 'a\r\nb\0c\r\n\n' >"$WORK/bin.want"
cmp "$WORK/bin.direct" "$WORK/bin.want" || fail "binary value, direct"
cmp "$WORK/bin.proxied" "$WORK/bin.want" || fail "binary value, proxied"

# 1 MiB of known bytes (every byte value), set through the proxy, read
# back through it and directly.
make_pattern "$WORK/big" 1048576
[ "$(stat -c %s "$WORK/big")" = 1048576 ] || fail "big value is not 1 MiB"
expect OK proxied -x SET big <"$WORK/big"
redis-cli --raw -h 127.0.0.1 -p "$PORT" GET big >"$WORK/big.proxied"
redis-cli --raw -h 127.0.0.1 -p "$REDIS_PORT" GET big >"$WORK/big.direct"
{ cat "$WORK/big"; echo; } >"$WORK/big.want"
cmp "$WORK/big.proxied" "$WORK/big.want" || fail "1 MiB GET through the proxy"
cmp "$WORK/big.direct" "$WORK/big.want" || fail "1 MiB SET through the proxy"
expect "(integer) 1048576" proxied STRLEN big

# 1000 pipelined commands in one stream
for i in $(seq 1 1000); do
    key="key$i"
    printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' \
        "${#key}" "$key" "${#i}" "$i"
done >"$WORK/pipe"
redis-cli -h 127.0.0.1 -p "$PORT" --pipe <"$WORK/pipe" >"$WORK/pipe.out"
grep -q "errors: 0, replies: 1000" "$WORK/pipe.out" ||
    fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
expect '"1000"' direct GET key1000

# redis-benchmark through the proxy: a few tests, then pipelined
bench() {
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 10 --csv "$@" \
        >"$WORK/bench" 2>&1 || fail "redis-benchmark $*: $(cat "$WORK/bench")"
    if grep -Eiq 'error|warning' "$WORK/bench"; then
        fail "redis-benchmark $*: $(cat "$WORK/bench")"
    fi
    local test rps
    for test in PING_INLINE PING_MBULK SET GET INCR LPUSH; do
        rps=$(awk -F'"' -v t="$test" '$2 == t { print $4 }' "$WORK/bench")
        [ -n "$rps" ] || fail "no $test line: $(cat "$WORK/bench")"
        awk -v r="$rps" 'BEGIN { exit !(r > 0) }' || fail "$test: $rps"
        echo "redis-benchmark $* $test: $rps requests per second"
    done
}
bench -t ping,set,get,incr,lpush -n 5000
bench -t ping,set,get,incr,lpush -n 20000 -P 16
expect PONG proxied PING
stop_server
echo "redis: ok"
