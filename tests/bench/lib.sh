# lib.sh -- what the bench scripts (run.sh, proxy.sh, http.sh) share;
# sourced, not run.

# CPU time of process $1 in clock ticks: utime + stime, and with a second
# argument "children" also cutime + cstime (what it has reaped of its
# children: socat forks one a connection). The command name in field 2
# may hold spaces, so fields are counted after its closing parenthesis.
# 0 when the process is gone.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    local with_children=${2:-}
    # shellcheck disable=SC2086  # split into the numeric fields
    set -- $stat
    if [ "$with_children" = children ]; then
        echo $(( ${12} + ${13} + ${14} + ${15} ))
    else
        echo $(( ${12} + ${13} ))
    fi
}
