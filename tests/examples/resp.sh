#!/usr/bin/env bash
# resp.sh -- examples/resp.lua against redis-cli and redis-benchmark
# (Debian package redis-tools).
. "$(dirname "$0")/lib.sh"
need redis-cli redis-benchmark
start_server "$ROOT/examples/resp.lua"
cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

expect PONG cli PING
expect "hello world" cli ECHO "hello world"
expect OK cli SET greeting "hello world"
expect "hello world" cli GET greeting
expect 1 cli DEL greeting nokey
expect "" cli GET greeting
expect "ERR unknown command 'FLUSHALL'" cli FLUSHALL
expect "ERR wrong number of arguments for 'get' command" cli GET

# a value with CR, LF and NUL in it: bulk strings are cut by size
printf 'a\r\nb\0c' >"$WORK/value"
expect OK cli -x SET binary <"$WORK/value"
cli GET binary >"$WORK/got"
printf 'a\r\nb\0c\n' >"$WORK/want"
cmp "$WORK/got" "$WORK/want" || fail "GET binary differs"

# 1000 pipelined commands in one stream (redis-cli --pipe)
for i in $(seq 1 1000); do
    key="key$i"
    printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' \
        "${#key}" "$key" "${#i}" "$i"
done >"$WORK/pipe"
cli --pipe <"$WORK/pipe" >"$WORK/pipe.out"
grep -q "errors: 0, replies: 1000" "$WORK/pipe.out" ||
    fail "redis-cli --pipe: $(cat "$WORK/pipe.out")"
expect 1000 cli GET key1000

# load: every test answers, nothing is reported as an error
redis-benchmark -h 127.0.0.1 -p "$PORT" -t ping,set,get -n 20000 -c 20 \
    --csv >"$WORK/bench" 2>&1 || fail "redis-benchmark: $(cat "$WORK/bench")"
if grep -Eiq 'error|warning' "$WORK/bench"; then
    fail "redis-benchmark: $(cat "$WORK/bench")"
fi
for test in PING_INLINE PING_MBULK SET GET; do
    rps=$(awk -F'"' -v t="$test" '$2 == t { print $4 }' "$WORK/bench")
    [ -n "$rps" ] || fail "no $test line: $(cat "$WORK/bench")"
    awk -v r="$rps" 'BEGIN { exit !(r > 0) }' || fail "$test: $rps"
    echo "redis-benchmark $test: $rps requests per second"
done
expect OK cli SET after bench
stop_server
echo "resp: ok"
