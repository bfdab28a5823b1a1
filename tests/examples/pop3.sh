#!/usr/bin/env bash
# pop3.sh -- examples/pop3.lua driven by socat and nc: an interactive
# session that the server ends (QUIT -> +OK, then the server half-closes
# while the client could still send), and sessions where the client
# half-closes first.
. "$(dirname "$0")/lib.sh"
need socat nc
start_server "$ROOT/examples/pop3.lua"

# --- an interactive session, one command per reply ---------------------
# socat relays; -t 0.2: once the server's end of stream arrives, socat
# stops 0.2 s later on its own, though its stdin (ours) is still open.
coproc POP { exec socat -t 0.2 - "TCP:127.0.0.1:$PORT"; }
pop_pid=$POP_PID
from_server=${POP[0]}
to_server=${POP[1]}
reply() { # the next line from the server, CR dropped
    local line
    read -r -t 10 -u "$from_server" line || fail "no reply from the server"
    printf '%s' "${line%$'\r'}"
}
ask() { # command, expected reply line
    printf '%s\r\n' "$1" >&"$to_server"
    local got
    got=$(reply)
    [ "$got" = "$2" ] || fail "$1: expected [$2], got [$got]"
}
[ "$(reply)" = "+OK ricochet POP3 server ready" ] || fail "no banner"
ask "STAT" "-ERR USER name, then PASS secret"
ask "USER bob" "+OK bob is welcome here"
ask "PASS secret" "+OK bob's maildrop has 2 messages (183 octets)"
ask "STAT" "+OK 2 183"
ask "LIST" "+OK 2 messages (183 octets)"
for want in "1 112" "2 71" "."; do
    [ "$(reply)" = "$want" ] || fail "LIST: expected [$want]"
done
ask "RETR 1" "+OK 112 octets"
for want in "From: alice@example.org" "To: bob@example.org" \
    "Subject: hello" "" "Hi Bob," "..a line that starts with a dot" \
    "Alice" "."; do
    got=$(reply)
    [ "$got" = "$want" ] || fail "RETR 1: expected [$want], got [$got]"
done
ask "DELE 2" "+OK message 2 deleted"
ask "LIST 2" "-ERR no such message"
ask "QUIT" "+OK ricochet POP3 server signing off (1 messages left)"
# the server half-closed: end of stream, while our side is still open
rc=0
read -r -t 10 -u "$from_server" line || rc=$?
[ "$rc" -ne 0 ] || fail "data after QUIT: $line"
[ "$rc" -le 128 ] || fail "no end of stream within 10 s of QUIT"
wait "$pop_pid" || fail "socat failed"

# --- the client half-closes first (nc -N: shutdown after stdin's end) ----
printf 'USER bob\r\nPASS x\r\nSTAT\r\nRE' |
    nc -N 127.0.0.1 "$PORT" >"$WORK/nc.out"
printf '%s\r\n' "+OK ricochet POP3 server ready" "+OK bob is welcome here" \
    "+OK bob's maildrop has 2 messages (183 octets)" "+OK 2 183" \
    "-ERR unfinished command ignored" >"$WORK/nc.want"
cmp "$WORK/nc.out" "$WORK/nc.want" ||
    fail "nc -N session: $(cat -A "$WORK/nc.out")"

# --- the same with socat, QUIT included: everything answered, then EOF ---
printf 'USER bob\r\nPASS x\r\nNOOP\r\nQUIT\r\nNOOP\r\n' |
    socat -t 10 - "TCP:127.0.0.1:$PORT" >"$WORK/socat.out"
printf '%s\r\n' "+OK ricochet POP3 server ready" "+OK bob is welcome here" \
    "+OK bob's maildrop has 2 messages (183 octets)" "+OK" \
    "+OK ricochet POP3 server signing off (2 messages left)" \
    >"$WORK/socat.want"
cmp "$WORK/socat.out" "$WORK/socat.want" ||
    fail "socat session: $(cat -A "$WORK/socat.out")"
stop_server
echo "pop3: ok"
