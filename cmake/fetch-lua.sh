#!/usr/bin/env bash
# fetch-lua.sh DEST -- Lua 5.4 for the MinGW-w64 build of ricochet.
#
# Fetches Debian's lua5.4 source package and builds a static liblua54.a
# with x86_64-w64-mingw32-gcc. DEST ends up usable as -DLUA_DIR:
#     DEST/include/{lua.h,luaconf.h,lualib.h,lauxlib.h,lua.hpp}
#     DEST/lib/liblua54.a
# Lua's sources are never committed to ricochet: they are fetched here, at
# build time, into the build folder.
#
# `apt-get source` needs a deb-src entry, which a Debian machine usually
# lacks: a temporary one is added for the origin that serves the lua5.4
# binary package, its index fetched, the source fetched, and the entry and
# its index removed again whatever happens in between (trap). Needs
# dpkg-dev (dpkg-source unpacks the package and applies Debian's patches);
# no root, since the machine's apt configuration is left alone.
#
# Idempotent: when DEST already holds a finished build, nothing is done.
# Environment: MINGW_PREFIX (default x86_64-w64-mingw32), JOBS (default 2).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
mkdir -p "$1"
dest=$(cd "$1" && pwd)
prefix=${MINGW_PREFIX:-x86_64-w64-mingw32}
cc="$prefix-gcc"
ar="$prefix-ar"
ranlib="$prefix-ranlib"
jobs=${JOBS:-2}
marker="$dest/.ricochet-lua-built"

if [ -f "$marker" ] && [ -f "$dest/lib/liblua54.a" ] &&
   [ -f "$dest/include/lua.h" ]; then
    echo "fetch-lua: $(cat "$marker") already built in $dest"
    exit 0
fi

for tool in "$cc" "$ar" "$ranlib" apt-get apt-cache dpkg-source; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch-lua: $tool not found (install gcc-mingw-w64-x86-64" \
             "and dpkg-dev)" >&2
        exit 1
    fi
done

work="$dest/work"
rm -rf "$work"
mkdir -p "$work/pkg" "$work/obj"

# --- fetch the source package ---------------------------------------------
# Where does this machine get the lua5.4 binary package from? The same
# origin serves its source. `apt-cache madison` prints lines like
#   lua5.4 | 5.4.4-3 | URI SUITE/COMPONENT amd64 Packages
origins() {
    apt-cache madison lua5.4 2>/dev/null |
        awk -F'|' '$3 ~ /Packages/ { print $3 }' |
        awk '{ uri = $1; n = split($2, p, "/"); if (n < 2) next;
               comp = p[n]; suite = p[1];
               for (i = 2; i < n; i++) suite = suite "/" p[i];
               print "deb-src " uri " " suite " " comp }' |
        sort -u
}
entries=$(origins)
if [ -z "$entries" ]; then
    apt-get update -qq
    entries=$(origins)
fi
if [ -z "$entries" ]; then
    echo "fetch-lua: no apt origin offers lua5.4" >&2
    exit 1
fi

# The entry lives in a private apt configuration inside the work folder,
# not in /etc/apt: the machine's own sources, package lists and caches are
# never touched, so a concurrent apt-get elsewhere cannot trip over it
# (apt refuses a deb-src entry whose Signed-By differs from the matching
# deb entry's when it reads both).
aptdir="$work/apt"
srclist="$aptdir/sources.list"
cleanup() {
    rc=$?
    rm -rf "$aptdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
printf '%s\n' "$entries" >"$srclist"
echo "fetch-lua: temporary source entry:"
sed 's/^/    /' "$srclist"
aptopts=(
    -o Dir::Etc::SourceList="$srclist"
    -o Dir::Etc::SourceParts=-
    -o Dir::State::Lists="$aptdir/lists"
    -o Dir::Cache="$aptdir/cache"
)
# apt downloads as the unprivileged _apt user when it can write there.
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$work/pkg" "$aptdir/lists/partial" \
        "$aptdir/cache/archives/partial" 2>/dev/null || true
fi
apt-get "${aptopts[@]}" update -qq
(cd "$work/pkg" && apt-get "${aptopts[@]}" source -qq lua5.4)

rm -rf "$aptdir"
trap - EXIT INT TERM

srcdir=$(find "$work/pkg" -mindepth 1 -maxdepth 1 -type d -name 'lua5.4-*' |
         head -n 1)
if [ -z "$srcdir" ] || [ ! -f "$srcdir/src/lua.h" ]; then
    echo "fetch-lua: the unpacked source package has no src/lua.h" >&2
    exit 1
fi
version=$(basename "$srcdir")
echo "fetch-lua: building $version with $cc"

# --- build the static library ---------------------------------------------
# As Lua's own makefile does for its "mingw" target, minus the DLL:
# luaconf.h turns on LUA_USE_WINDOWS by itself when _WIN32 is defined, and
# LUA_BUILD_AS_DLL is left out so the API is not dllimport/dllexport.
# LUA_COMPAT_5_3 matches Lua's default build and Debian's Linux package.
cflags="-std=gnu99 -O2 -Wall -Wextra -DLUA_COMPAT_5_3"
ls "$srcdir"/src/*.c |
    grep -v -e '/lua\.c$' -e '/luac\.c$' |
    xargs -P "$jobs" -I{} sh -c \
        'f="$1"; o="$2/$(basename "${f%.c}").o"; exec '"$cc"' '"$cflags"' \
         -c "$f" -o "$o"' _ {} "$work/obj"

mkdir -p "$dest/lib" "$dest/include"
rm -f "$dest/lib/liblua54.a"
"$ar" rcs "$dest/lib/liblua54.a" "$work"/obj/*.o
"$ranlib" "$dest/lib/liblua54.a"
for h in lua.h luaconf.h lualib.h lauxlib.h lua.hpp; do
    if [ -f "$srcdir/src/$h" ]; then
        cp "$srcdir/src/$h" "$dest/include/"
    fi
done
echo "$version" >"$marker"
echo "fetch-lua: $version -> $dest (include/, lib/liblua54.a)"
