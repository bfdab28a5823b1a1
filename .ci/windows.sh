#!/usr/bin/env bash
# .ci/windows.sh LINUX_BUILD_DIR -- the Windows stage of CI.
#
# Cross-builds ricochet.exe and the unit tests with MinGW-w64 (Lua 5.4 from
# Debian's source package, see cmake/fetch-lua.sh), checks that the .exe
# imports only Windows system DLLs, then runs under Wine:
#   - the unit tests, through ctest with Wine as the cross-compiling
#     emulator;
#   - the black-box suite (ctest label "it") of the Linux build given as
#     argument, with RICOCHET_CMD pointing its runner at the Windows binary,
#     so the very same tests drive "wine ricochet.exe".
# Everything talks to 127.0.0.1 only. Exits non-zero on any failure and
# prints the stage's duration at the end.
#
# Wine is run the way that does not hang CI: a fresh WINEPREFIX in a
# temporary folder, WINEDEBUG=-all, no Mono/Gecko installers, the
# wineserver and the prefix started with every standard stream on
# /dev/null before any test (so that no long-lived Wine helper holds a
# test's pipes open), every wine call under `timeout` (the black-box
# runner bounds and kills the servers it starts itself), and the
# wineserver killed and waited for on the way out, whatever happened.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
    echo "usage: $0 LINUX_BUILD_DIR (a configured and built Linux build)" >&2
    exit 2
fi
start=$(date +%s)
linux_build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
root=$PWD
win_build="$root/build/ci-windows"
jobs=2
# How the unit tests are run: bounded, and --foreground so that a signal
# sent to `timeout` reaches the program once (not again through the group).
wine_cmd=(timeout --foreground -k 10 300 wine)

# On the way out, whatever happened: stop this stage's Wine (only the
# wineserver of our own prefix), remove the prefix, say how long it took.
WINEPREFIX=""
finish() {
    rc=$?
    if [ -n "$WINEPREFIX" ] && [ -d "$WINEPREFIX" ]; then
        timeout 30 wineserver -k </dev/null >/dev/null 2>&1 || true
        timeout 30 wineserver -w </dev/null >/dev/null 2>&1 || true
        rm -rf "$WINEPREFIX"
    fi
    echo "== windows stage finished in $(( $(date +%s) - start )) s" \
         "(exit $rc)"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== windows: install the cross toolchain and Wine"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
packages=(gcc-mingw-w64-x86-64 wine wine64 dpkg-dev cmake)
if [ -z "${RICOCHET_SKIP_APT:-}" ]; then
    if ! $sudo apt-get install -y -qq --no-install-recommends \
            "${packages[@]}" >/dev/null; then
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq --no-install-recommends \
            "${packages[@]}" >/dev/null
    fi
fi

echo "== windows: Lua 5.4 from Debian's source package"
bash cmake/fetch-lua.sh "$win_build/lua"

echo "== windows: cross-build"
# The emulator is set here, not found by the toolchain file, so that the
# unit tests run under `timeout` too.
cmake -S . -B "$win_build" \
    -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLUA_DIR="$win_build/lua" \
    -DCMAKE_CROSSCOMPILING_EMULATOR="$(IFS=';'; echo "${wine_cmd[*]}")" \
    >/dev/null
cmake --build "$win_build" -j "$jobs"
exe="$win_build/ricochet.exe"

echo "== windows: imports of ricochet.exe"
# Only DLLs that every Windows has; no libgcc_s, libwinpthread or lua DLL.
system_dlls='^(kernel32|ws2_32|msvcrt|ntdll|advapi32|user32|bcrypt|shell32|ole32|mswsock|iphlpapi|userenv|ucrtbase|api-ms-win-[a-z0-9-]+)\.dll$'
imports=$(x86_64-w64-mingw32-objdump -p "$exe" |
          awk '/DLL Name:/ { print $3 }')
echo "$imports" | sed 's/^/    /'
bad=$(echo "$imports" | tr 'A-Z' 'a-z' | grep -Ev "$system_dlls" || true)
if [ -z "$imports" ] || [ -n "$bad" ]; then
    echo "windows: ricochet.exe imports non-system DLLs: ${bad:-(none read)}" >&2
    exit 1
fi

echo "== windows: Wine prefix"
WINEPREFIX=$(mktemp -d -t ricochet-wine.XXXXXX)
export WINEPREFIX WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
timeout 60 wineserver -p </dev/null >/dev/null 2>&1
timeout 300 wineboot -i </dev/null >/dev/null 2>&1
timeout 60 wine "$exe" --version </dev/null

# Both suites run even when the first fails: the report names every
# Windows failure at once.
failed=""
echo "== windows: unit tests under Wine"
ctest --test-dir "$win_build" --output-on-failure --no-tests=error \
    -j "$jobs" --timeout 300 || failed="$failed unit"

echo "== windows: black-box tests (label it) against wine ricochet.exe"
# The runner spawns this command and signals the process it started, so
# it is wine itself (no timeout wrapper in between); the runner bounds
# every wait and kills its servers, and `wineserver -k` ends any leftover.
RICOCHET_CMD="wine $exe" RICOCHET_IT_TARGET=windows \
    ctest --test-dir "$linux_build" -L '^it$' --output-on-failure \
    --no-tests=error -j "$jobs" --timeout 300 || failed="$failed it"

if [ -n "$failed" ]; then
    echo "windows: failed under Wine:$failed" >&2
    exit 1
fi
