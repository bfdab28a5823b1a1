#!/usr/bin/env bash
# .ci/deb.sh BUILD_DIR -- the Debian package stage of CI.
#
# Builds the .deb of BUILD_DIR (a release build configured with
# -DCMAKE_INSTALL_PREFIX=/usr) with CPack, installs it with dpkg -i, runs
# the installed /usr/bin/ricochet with an installed script over
# 127.0.0.1 (an upper-case echo, checked byte for byte), stops it
# gracefully by its PID, then purges the package and checks that nothing
# it installed is left: every file dpkg -L listed is gone, and so is every
# folder that was not there before. Needs root (or sudo) for dpkg; refuses
# to run when a ricochet package is already installed, so that it never
# removes one it did not install. Exits non-zero on any failure.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CPackConfig.cmake" ]; then
    echo "usage: $0 BUILD_DIR (a configured and built build)" >&2
    exit 2
fi
start=$(date +%s)
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
root=$PWD
out="$root/build/ci-deb"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
script=/usr/share/ricochet/scripts/upper.lua

fail() {
    echo "deb: FAIL: $*" >&2
    exit 1
}
installed() {
    dpkg-query -W -f='${Status}' ricochet 2>/dev/null |
        grep -q ' installed$'
}

if installed || dpkg-query -W ricochet >/dev/null 2>&1; then
    fail "a ricochet package is already on this machine; remove it first"
fi

tmp=$(mktemp -d)
pid=""
# On the way out, whatever happened: our server stopped, our package
# purged, the temporary folder removed.
finish() {
    rc=$?
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if installed; then
        $sudo dpkg --purge ricochet >/dev/null || rc=1
    fi
    rm -rf "$tmp"
    echo "== deb stage finished in $(( $(date +%s) - start )) s (exit $rc)"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== deb: cpack"
rm -rf "$out"
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" \
        >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log"
    fail "cpack failed"
fi
debs=("$out"/ricochet_*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] ||
    fail "want one ricochet_*.deb in $out, found: ${debs[*]}"
deb=${debs[0]}
echo "deb: $deb"
depends=$(dpkg-deb --field "$deb" Depends)
echo "deb: Depends: $depends"
[[ $depends == *liblua5.4-0* ]] || fail "Depends does not name liblua5.4-0"
[ "$(dpkg-deb --field "$deb" Maintainer)" != "" ] || fail "no Maintainer"
# Description: the synopsis, then the long text, each line indented by
# exactly one space (dpkg-deb --field prints them so), the synopsis not
# repeated.
dpkg-deb --field "$deb" Description >"$tmp/description"
if [ "$(wc -l <"$tmp/description")" -lt 3 ] ||
   grep -q '^  ' "$tmp/description" ||
   [ " $(sed -n 1p "$tmp/description")" = "$(sed -n 2p "$tmp/description")" ]
then
    cat "$tmp/description"
    fail "the Description field is not synopsis + indented long text"
fi
# Every file under /usr, nothing elsewhere.
if dpkg-deb --contents "$deb" | awk '{ print $6 }' |
        grep -v '^\./$' | grep -v '^\./usr/'; then
    fail "the package has files outside /usr"
fi

# The package's paths, and which of its folders exist before it does.
dpkg-deb --contents "$deb" | awk '{ print substr($6, 2) }' |
    sed 's|/$||' | grep -v '^$' | sort >"$tmp/paths"
: >"$tmp/dirs-before"
while IFS= read -r path; do
    if [ -d "$path" ]; then echo "$path" >>"$tmp/dirs-before"; fi
done <"$tmp/paths"

echo "== deb: dpkg -i"
$sudo dpkg -i "$deb" >/dev/null
installed || fail "dpkg -i did not install ricochet"
dpkg -L ricochet | sort >"$tmp/listed"
[ -x /usr/bin/ricochet ] || fail "no /usr/bin/ricochet"
[ -f "$script" ] || fail "no $script"
/usr/bin/ricochet --version | head -1 | grep -qx "ricochet [0-9.]*" ||
    fail "/usr/bin/ricochet --version: $(/usr/bin/ricochet --version)"
man -w ricochet | grep -qx /usr/share/man/man1/ricochet.1 ||
    fail "man -w ricochet: $(man -w ricochet 2>&1)"
bash -c 'source /usr/share/bash-completion/completions/ricochet &&
         complete -p ricochet' | grep -q _ricochet ||
    fail "the installed completion does not register"

# A bare script name from a folder without it: the installed folder.
found=$(cd "$tmp" && /usr/bin/ricochet --check upper.lua |
        sed -n 's/^script: //p')
[ "$found" = "$script" ] || fail "--check upper.lua chose '$found'"

echo "== deb: echo over 127.0.0.1 with the installed binary and script"
mkfifo "$tmp/stdout"
(cd "$tmp" && exec /usr/bin/ricochet --listen 127.0.0.1:0 upper.lua) \
    >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
exec 3<"$tmp/stdout"
line=""
read -r -t 10 line <&3 || { cat "$tmp/stderr"; fail "no readiness line"; }
[[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
    fail "readiness line: '$line'"
port=${BASH_REMATCH[1]}
reply=$(printf 'hello from the package\n' | timeout 10 nc -N 127.0.0.1 "$port")
[ "$reply" = "HELLO FROM THE PACKAGE" ] || fail "reply: '$reply'"
kill -TERM "$pid"
# a graceful stop with no connection open ends at once; bounded anyway
timeout 10 tail --pid="$pid" -f /dev/null ||
    fail "ricochet did not stop within 10 s of SIGTERM"
code=0
wait "$pid" || code=$?
pid=""
exec 3<&-
[ "$code" -eq 0 ] || { cat "$tmp/stderr"; fail "exit status $code"; }
echo "deb: echoed on port $port, stopped with status 0"

echo "== deb: dpkg --purge"
$sudo dpkg --purge ricochet >/dev/null
! installed || fail "still installed after dpkg --purge"
left=0
while IFS= read -r path; do
    case $path in /. | /) continue ;; esac
    [ -e "$path" ] || [ -L "$path" ] || continue
    if [ -d "$path" ] && grep -qxF "$path" "$tmp/dirs-before"; then
        continue # a folder that was there before, e.g. /usr/bin
    fi
    echo "deb: left behind: $path" >&2
    left=1
done < <(sort -u "$tmp/listed" "$tmp/paths")
[ "$left" -eq 0 ] || fail "files left after dpkg --purge"
if compgen -G '/var/lib/dpkg/info/ricochet.*' >/dev/null; then
    fail "dpkg still has records: $(echo /var/lib/dpkg/info/ricochet.*)"
fi
echo "deb: $(wc -l <"$tmp/listed") paths installed, all gone again"
