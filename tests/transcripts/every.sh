#!/bin/sh
# every.sh ROOT SIM=SCRIPT ...
#
# The pairs are the transcripts tests/transcripts/CMakeLists.txt plays.
# Fails, naming each, when a script in scripts/ or examples/ has no
# transcript played against it, a .sim file there is not played, or a
# played transcript has no expect line (it would only print).
set -u
root=$1
shift
status=0
played=" $* "

for script in "$root"/scripts/*.lua "$root"/examples/*.lua; do
    rel=${script#"$root"/}
    case $rel in
    scripts/ricochet.d.lua) continue ;; # the editor's definitions
    esac
    case $played in
    *"=$rel "*) ;;
    *) echo "no transcript plays $rel"; status=1 ;;
    esac
done
for sim in "$root"/scripts/*.sim "$root"/examples/*.sim; do
    [ -e "$sim" ] || continue
    rel=${sim#"$root"/}
    case $played in
    *" $rel="*) ;;
    *) echo "$rel is not played by tests/transcripts"; status=1 ;;
    esac
done
for pair in "$@"; do
    sim=${pair%%=*}
    if ! grep -q '^[[:space:]]*\([A-Za-z0-9_-]*:[[:space:]]*\)\{0,1\}expect[[:space:]]' "$root/$sim"; then
        # quit.sim is the README's first example, which only prints.
        [ "$sim" = scripts/quit.sim ] && continue
        echo "$sim has no expect line"
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "$# transcripts, every script played"
exit "$status"
