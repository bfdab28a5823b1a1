#!/usr/bin/env bash
# man_render.sh MANPAGE -- groff (all warnings on) and man render MANPAGE
# without a word on stderr. Skips (77) without groff or man, except under
# CI (CI set), where .ci/run installs them and a skip would hide a failure.
set -euo pipefail
man_page=${1:?usage: man_render.sh MANPAGE}
for tool in groff man; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then
            echo "FAIL: $tool is not installed (.ci/run installs it)"
            exit 1
        fi
        echo "SKIP: $tool is not installed (Debian: groff-base, man-db)"
        exit 77
    fi
done
warnings=$(groff -man -Tutf8 -ww -z "$man_page" 2>&1)
if [ -n "$warnings" ]; then
    printf 'FAIL: groff -man -ww warns:\n%s\n' "$warnings"
    exit 1
fi
# man as a reader runs it: its own preprocessors and a terminal width.
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if ! text=$(MANWIDTH=80 man --warnings=all -l "$man_page" 2>"$err"); then
    cat "$err"
    echo "FAIL: man -l failed"
    exit 1
fi
if [ -s "$err" ]; then
    printf 'FAIL: man -l warns:\n%s\n' "$(cat "$err")"
    exit 1
fi
for section in NAME SYNOPSIS DESCRIPTION OPTIONS "THE SCRIPT" SIGNALS \
               "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    if ! grep -qx "$section" <<<"$text"; then
        echo "FAIL: no section $section in man's rendering"
        exit 1
    fi
done
echo "ok: rendered with no warning"
