#!/usr/bin/env bash
# check_headers.sh SRC_DIR -- fails when a file outside SRC_DIR/os includes
# an OS header, or a file outside SRC_DIR/lua includes one of Lua's.
set -u
cd "$1" || exit 2
os='#include <(sys/[a-z_]+|winsock2|ws2tcpip|windows|unistd|fcntl|poll|pthread|process|netinet/[a-z]+|arpa/inet|netdb|signal|spawn)\.h>'
lua='#include [<"](lua|lauxlib|lualib|luaconf)\.h[>"]'
bad=0
while IFS= read -r hit; do
    echo "OS header outside src/os: $hit"
    bad=1
done < <(grep -rnE "$os" --include='*.[ch]' . | grep -v '^\./os/')
while IFS= read -r hit; do
    echo "Lua header outside src/lua: $hit"
    bad=1
done < <(grep -rnE "$lua" --include='*.[ch]' . | grep -v '^\./lua/')
[ "$bad" -eq 0 ] && echo "layers: headers in place"
exit "$bad"
