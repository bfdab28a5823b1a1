#!/bin/sh
# readme.sh RICOCHET ROOT
#
# The README's offline examples work exactly as printed. Among README.md's
# fenced blocks:
# - one whose first line is "# PATH.sim: ..." shows a shipped transcript:
#   the block must be the file PATH.sim, byte for byte;
# - one whose first line is "$ ricochet ... --simulate ..." shows a run:
#   the command is run from ROOT (ricochet being RICOCHET) and its stdout
#   must be the rest of the block, byte for byte; or, when the block goes
#   on with a line "$ echo $?", the lines before that one, and the line
#   after it is the exit status.
set -u
bin=$1
root=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ricochet-readme.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Each fenced block to its own file, block.N.
awk -v dir="$tmp" '
    /^```/ { if (inside) { close(f); inside = 0 } else { n++; inside = 1;
             f = dir "/block." n; printf "" > f }; next }
    inside { print > f }
' "$root/README.md"

status=0
files=0
runs=0
for block in "$tmp"/block.*; do
    [ -e "$block" ] || continue
    first=$(head -n 1 "$block")
    case $first in
    "# "*.sim:*)
        path=${first#"# "}
        path=${path%%:*}
        files=$((files + 1))
        if ! cmp -s "$block" "$root/$path"; then
            echo "README's $path differs from the file:"
            diff -u "$root/$path" "$block"
            status=1
        fi
        ;;
    '$ ricochet '*--simulate*)
        runs=$((runs + 1))
        cmd=${first#'$ ricochet '}
        tail -n +2 "$block" | sed '/^\$ echo \$?$/,$d' >"$tmp/want"
        code=$(sed -n '/^\$ echo \$?$/{n;p;}' "$block")
        # The printed command's words, none quoted: split as the shell does.
        # shellcheck disable=SC2086
        (cd "$root" && "$bin" $cmd) >"$tmp/got" 2>"$tmp/err"
        rc=$?
        if [ -n "$code" ] && [ "$rc" != "$code" ]; then
            echo "README's \"ricochet $cmd\" exits $rc, not $code"
            status=1
        fi
        if ! cmp -s "$tmp/want" "$tmp/got"; then
            echo "README's \"ricochet $cmd\" prints otherwise:"
            diff -u "$tmp/want" "$tmp/got"
            cat "$tmp/err"
            status=1
        fi
        ;;
    esac
done
if [ "$files" -eq 0 ] || [ "$runs" -eq 0 ]; then
    echo "no transcript or no run found in README.md"
    status=1
fi
[ "$status" -eq 0 ] && echo "README: $files transcripts and $runs runs as printed"
exit "$status"
