#!/usr/bin/env bash
# http.sh -- examples/http.lua against curl (keep-alive, bodies,
# Connection: close, HTTP/1.0) and a load run with wrk.
. "$(dirname "$0")/lib.sh"
need curl wrk
start_server "$ROOT/examples/http.lua"
url="http://127.0.0.1:$PORT"

# three requests, one connection: num_connects is 1, then 0, 0
got=$(curl -sS -w '[%{http_code} %{num_connects}]\n' \
    "$url/" "$url/" "$url/nope")
want="hello from ricochet
[200 1]
hello from ricochet
[200 0]
no route for GET /nope
[404 0]"
[ "$got" = "$want" ] || fail "keep-alive: got [$got]"

# a body bigger than one read, binary, echoed exactly; then a GET on the
# same connection (the framer went back from the body to heads)
head -c 200000 /dev/urandom >"$WORK/body"
got=$(curl -sS -o "$WORK/echoed" -w '%{num_connects} ' \
    --data-binary @"$WORK/body" "$url/echo" \
    -o /dev/null "$url/")
[ "$got" = "1 0 " ] || fail "POST then GET: connects [$got]"
cmp "$WORK/body" "$WORK/echoed" || fail "POST /echo body differs"

# Connection: close -> the server says so and ends the connection
curl -sS -D "$WORK/head" -o /dev/null -H 'Connection: close' "$url/"
grep -qi '^connection: close' "$WORK/head" || fail "no Connection: close"
# HTTP/1.0: closed after the response unless asked to keep it
expect "hello from ricochet" curl -sS -0 "$url/"

# load: no errors, no non-2xx answers
wrk -t2 -c20 -d2s "$url/" >"$WORK/wrk" 2>&1 || fail "wrk: $(cat "$WORK/wrk")"
if grep -Eq 'Socket errors|Non-2xx' "$WORK/wrk"; then
    fail "wrk: $(cat "$WORK/wrk")"
fi
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk")
awk -v r="${rps:-0}" 'BEGIN { exit !(r > 0) }' || fail "wrk: $(cat "$WORK/wrk")"
echo "wrk: $rps requests per second"
stop_server
echo "http: ok"
