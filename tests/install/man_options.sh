#!/usr/bin/env bash
# man_options.sh RICOCHET MANPAGE -- every option `RICOCHET --help` lists
# (an indented line starting with a dash: "  --listen ADDR:PORT ...",
# "  -h, --help ...", "  -- key=value ...") must be the tag of an entry
# in MANPAGE: in a line that follows a .TP request. So an option added to
# --help without a man entry fails here.
set -euo pipefail
bin=${1:?usage: man_options.sh RICOCHET MANPAGE}
man=${2:?}
help=$("$bin" --help)

# The options, one a line.
options=()
while IFS= read -r line; do
    [[ $line == "  -"* ]] || continue
    read -r -a words <<<"$line"
    if [[ ${words[0]} == -?, ]]; then
        options+=("${words[0]%,}" "${words[1]}")
    else
        options+=("${words[0]}")
    fi
done <<<"$help"
if [ "${#options[@]}" -lt 20 ]; then
    echo "FAIL: only ${#options[@]} options found in --help:"
    printf '%s\n' "$help"
    exit 1
fi

# The tags, as plain words: "\-" is "-", font escapes and quotes go, the
# macro name goes, and each word is on its own line.
tags=$(awk 'after_tp { print } { after_tp = ($0 ~ /^\.TP/) }' "$man" |
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' -e 's/^\.[A-Z]* //' |
    tr ' ,' '\n\n' | grep -v '^$' || true)
missing=0
for option in "${options[@]}"; do
    if ! grep -qxF -- "$option" <<<"$tags"; then
        echo "FAIL: $option (ricochet --help) has no entry in $man"
        missing=1
    fi
done
[ "$missing" -eq 0 ] || exit 1
echo "ok: ${#options[@]} options, each with a man entry"
