#!/usr/bin/env bash
# http.sh -- nginx serving static files behind ricochet
# (scripts/proxy.lua), curl through the proxy:
# - a 3 MiB file of known bytes arrives with the file's sha256;
# - two requests in one curl run share one connection (HTTP keep-alive:
#   curl connects once), both bodies exact;
# - a missing file is nginx's 404, through the proxy;
# - examples/cut.lua bytes=4096: curl gets a truncated response and says
#   so (exit 18, "partial file"), with at most 4096 bytes of it.
. "$(dirname "$0")/lib.sh"
need nginx curl sha256sum
mkdir -p "$WORK/www"
make_pattern "$WORK/www/big.bin" 3145728
printf 'small file\n' >"$WORK/www/small.txt"
start_nginx "$WORK/www"
start_server --upstream "127.0.0.1:$NGINX_PORT" "$ROOT/scripts/proxy.lua"
url="http://127.0.0.1:$PORT"

sum() { sha256sum "$1" | cut -d' ' -f1; }
curl -sS --max-time 20 -o "$WORK/got.bin" "$url/big.bin" ||
    fail "curl big.bin: exit $?"
[ "$(sum "$WORK/got.bin")" = "$(sum "$WORK/www/big.bin")" ] ||
    fail "big.bin through the proxy: sha256 differs"

# two requests, one connection: num_connects is 1, then 0 (reused)
connects=$(curl -sS --max-time 20 -w '%{num_connects} ' \
    -o "$WORK/a.bin" "$url/big.bin" -o "$WORK/b.txt" "$url/small.txt") ||
    fail "curl, two requests: exit $?"
[ "$connects" = "1 0 " ] ||
    fail "two requests: connects [$connects], not one connection reused"
[ "$(sum "$WORK/a.bin")" = "$(sum "$WORK/www/big.bin")" ] ||
    fail "keep-alive: big.bin differs"
cmp "$WORK/b.txt" "$WORK/www/small.txt" || fail "keep-alive: small.txt"

expect 404 curl -sS --max-time 20 -o /dev/null -w '%{http_code}' \
    "$url/missing"
stop_server

start_proxy --upstream "127.0.0.1:$NGINX_PORT" "$ROOT/examples/cut.lua" \
    -- bytes=4096
url="http://127.0.0.1:$PORT"
rc=0
curl -sS --max-time 20 -o "$WORK/cut.bin" "$url/big.bin" \
    2>"$WORK/cut.err" || rc=$?
[ "$rc" -eq 18 ] || fail "cut at 4096 bytes: curl exit $rc, not 18:" \
    "$(cat "$WORK/cut.err")"
size=$(stat -c %s "$WORK/cut.bin")
[ "$size" -gt 0 ] && [ "$size" -lt 4096 ] ||
    fail "cut at 4096 bytes: curl kept $size bytes of the body"
cmp -s "$WORK/cut.bin" <(head -c "$size" "$WORK/www/big.bin") ||
    fail "cut at 4096 bytes: the body's start differs"
stop_server
echo "http: ok"
