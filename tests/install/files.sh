#!/usr/bin/env bash
# files.sh BUILD_DIR SOURCE_DIR PREFIX -- `cmake --install BUILD_DIR` into
# a temporary DESTDIR must put exactly these files under PREFIX, and
# nothing anywhere else: the binary, the man page, the completion, the
# README, the example unit, and every script (*.lua, *.sim) of scripts/
# and every file of examples/. Then the installed binary checks an
# installed script, and the files built from dist/*.in name PREFIX's
# folders.
set -euo pipefail
build=${1:?usage: files.sh BUILD_DIR SOURCE_DIR PREFIX}
src=${2:?}
prefix=${3:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

mkdir -p "$tmp/root"
DESTDIR="$tmp/root" cmake --install "$build" >"$tmp/install.log"

{
    printf '%s\n' bin/ricochet \
        share/man/man1/ricochet.1 \
        share/bash-completion/completions/ricochet \
        share/doc/ricochet/README.md \
        share/doc/ricochet/examples/ricochet.service \
        share/ricochet/scripts/echo.lua \
        share/ricochet/scripts/ricochet.d.lua
    (cd "$src/scripts" && find . -maxdepth 1 -type f \
        \( -name '*.lua' -o -name '*.sim' \)) |
        sed 's|^\./|share/ricochet/scripts/|'
    (cd "$src/examples" && find . -type f) |
        sed 's|^\./|share/doc/ricochet/examples/|'
} | sed "s|^|${prefix%/}/|" | sort -u >"$tmp/want"
(cd "$tmp/root" && find . -mindepth 1 ! -type d) | sed 's|^\.||' |
    sort >"$tmp/got"
if ! diff -u "$tmp/want" "$tmp/got"; then
    echo "FAIL: the installed files differ (- expected, + installed)"
    exit 1
fi

root=$tmp/root${prefix%/}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$root/bin/ricochet" ] || fail "bin/ricochet is not executable"
cmp -s "$src/dist/ricochet.1" "$root/share/man/man1/ricochet.1" ||
    fail "the installed man page is not dist/ricochet.1"
cmp -s "$src/scripts/echo.lua" "$root/share/ricochet/scripts/echo.lua" ||
    fail "the installed echo.lua is not scripts/echo.lua"
scripts=${prefix%/}/share/ricochet/scripts
grep -qxF "_ricochet_script_dir='$scripts'" \
    "$root/share/bash-completion/completions/ricochet" ||
    fail "the completion does not name $scripts"
unit=$root/share/doc/ricochet/examples/ricochet.service
grep -qxF "ExecStart=${prefix%/}/bin/ricochet --listen 127.0.0.1:7007 \\" \
    "$unit" && grep -qxF "    $scripts/echo.lua" "$unit" ||
    fail "the unit's ExecStart does not name $prefix's files"
! grep -nE '@[A-Z_]+@' "$unit" \
    "$root/share/bash-completion/completions/ricochet" ||
    fail "a @VARIABLE@ was left unreplaced"
# The installed binary, with an installed script.
out=$("$root/bin/ricochet" --check "$root/share/ricochet/scripts/upper.lua")
want="hooks: on_data
script: $root/share/ricochet/scripts/upper.lua"
[ "$out" = "$want" ] || fail "--check upper.lua said: $out"
echo "ok: $(wc -l <"$tmp/got") files, exactly the expected ones"
