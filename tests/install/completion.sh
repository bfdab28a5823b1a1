#!/usr/bin/env bash
# completion.sh COMPLETION RICOCHET DATADIR -- the bash completion's
# answers, word for word. COMPLETION (the build's, its scripts folder
# written in) is sourced into this bash; each case sets COMP_WORDS and
# COMP_CWORD as bash would, calls _ricochet and compares COMPREPLY with
# what it must be. The option list comes from --help: the cases that list
# every option use a stand-in ricochet with a --help of known lines, so
# that they do not change with the real option list; the others use
# RICOCHET itself.
set -uo pipefail
completion=${1:?usage: completion.sh COMPLETION RICOCHET DATADIR}
bin=${2:?}
datadir=${3:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

# shellcheck source=/dev/null
source "$completion" || { echo "FAIL: cannot source $completion"; exit 1; }
failed=0

# The folder written in at build time.
if [[ $_ricochet_script_dir != "$datadir/ricochet/scripts" ]]; then
    echo "FAIL: scripts folder '$_ricochet_script_dir', want" \
         "'$datadir/ricochet/scripts'"
    failed=1
fi

# A stand-in's --help: the shapes of ricochet's option lines.
cat >"$tmp/fake-ricochet" <<'HELP'
#!/bin/sh
cat <<'TEXT'
usage: ricochet [options] SCRIPT.lua [options] [-- key=value ...]

options:
  --listen ADDR:PORT    listen here; repeatable. IPv4 1.2.3.4:PORT or IPv6
                        [::1]:PORT; port 0 picks a free port.
  --connect-timeout SEC the upstream's connect; 0: none (default 5)
  --log-level LEVEL     error, warn, info, debug or trace (default info)
  --trace               log every connection's life
  --log-format FORMAT   text, or json: each line one JSON object
  --log-conns on|off    a summary line at info for each finished
  --script-path DIR     look for scripts here
  -- key=value ...      script arguments, read as ricochet.args.key
  --simulate FILE|DIR   run the script against client transcripts
  --record DIR          write each connection as a transcript
  -h, --help            this text
  -V, --version         version
TEXT
HELP
chmod +x "$tmp/fake-ricochet"
fake=$tmp/fake-ricochet

# Folders: the current one, an installed scripts folder, two
# RICOCHET_PATH folders and one for --script-path.
mkdir -p "$tmp/cwd/sub" "$tmp/cwd/demo.lua.d" "$tmp/installed" \
         "$tmp/p1" "$tmp/p2" "$tmp/sp"
touch "$tmp/cwd/a.lua" "$tmp/cwd/b.lua" "$tmp/cwd/notes.txt" \
      "$tmp/cwd/sub/c.lua" "$tmp/cwd/sub/d.txt" \
      "$tmp/installed/chaos.lua" "$tmp/installed/echo.lua" \
      "$tmp/installed/chaos.sim" \
      "$tmp/p1/mine.lua" "$tmp/p1/echo.lua" "$tmp/p2/other.lua" \
      "$tmp/sp/extra.lua"
cd "$tmp/cwd" || exit 1
_ricochet_script_dir=$tmp/installed
export RICOCHET_PATH=$tmp/p1:$tmp/p2

# expect "EXPECTED WORDS" WORD... -- complete the last WORD (bash's
# split: "=" is a word of its own) and compare COMPREPLY, one a line.
expect()
{
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _ricochet
    local got
    got=$(printf '%s ' "${COMPREPLY[@]}")
    got=${got% }
    if [[ $got != "$want" ]]; then
        printf 'FAIL: %s\n   got: "%s"\n  want: "%s"\n' "$*" "$got" "$want"
        failed=1
    fi
}

# options, in --help's order, short ones with them
expect "--listen --connect-timeout --log-level --trace --log-format \
--log-conns --script-path --simulate --record -h --help -V --version" \
    "$fake" -
expect "--log-level --log-format --log-conns" "$fake" --log-
expect "--log-conns" "$fake" --log-c
expect "--record" "$fake" --rec
# option values
expect "text json" "$fake" --log-format ""
expect "json" "$fake" --log-format j
expect "json" "$fake" --log-format = j
expect "text json" "$fake" --log-format =
expect "error warn info debug trace" "$fake" --log-level ""
expect "debug" "$fake" --log-level d
expect "on off" "$fake" --log-conns ""
expect "off" "$fake" --log-conns = of
expect "demo.lua.d sub" "$fake" --script-path ""
expect "demo.lua.d sub" "$fake" --record ""
expect "a.lua b.lua demo.lua.d notes.txt sub" "$fake" --simulate ""
expect "notes.txt" "$fake" --simulate n
expect "sub/c.lua sub/d.txt" "$fake" --simulate sub/
expect "" "$fake" --listen ""
expect "" "$fake" --connect-timeout 1
# the script: *.lua and folders here, the search path's scripts (each
# name once), in order
expect "a.lua b.lua chaos.lua demo.lua.d echo.lua mine.lua other.lua sub" \
    "$fake" ""
expect "chaos.lua" "$fake" ch
expect "echo.lua" "$fake" --trace e
expect "extra.lua" "$fake" --script-path "$tmp/sp" ex
expect "extra.lua" "$fake" --script-path = "$tmp/sp" ex
expect "sub/c.lua" "$fake" sub/
expect "" "$fake" zz
# after "--": script arguments, nothing offered
expect "" "$fake" a.lua -- ""
expect "" "$fake" a.lua -- -
# without RICOCHET_PATH, only the installed folder and here
RICOCHET_PATH=""
expect "a.lua b.lua chaos.lua demo.lua.d echo.lua sub" "$fake" ""
# a flag given as --flag=: no value to offer
expect "" "$fake" --trace = ""
expect "" "$fake" --trace =

# the real ricochet's --help
expect "--max-conns --max-conns-per-ip" "$bin" --max-c
expect "json" "$bin" --log-format j
expect "--version" "$bin" --vers

[[ $failed -eq 0 ]] || exit 1
echo "ok: every completion as expected"
