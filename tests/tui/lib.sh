# Helpers for the tmux end-to-end tests (sourced). Each test file gets its own tmux server
# (-L socket) so that tests never see each other's or the user's sessions.
B=${1:-build}
case "$B" in /*) ;; *) B="$PWD/$B";; esac
SOCK="axm-tui-$$-$(basename "$0" .sh)"
TMP=$(mktemp -d)
T() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { T kill-server >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }

# start NAME CMD...: a 100x30 session running CMD (under a shell that records the tty state
# after CMD exits).
start() {
    name=$1; shift
    T new-session -d -s "$name" -x 100 -y 30 \
        "cd '$PWD' && LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen $*; echo \"EXIT=\$?\"; stty -a > '$TMP/$name.stty'; echo STTY-DONE; sleep 60"
}
screen() { T capture-pane -p -t "$1" 2>/dev/null; }
# wait_for NAME REGEX [SECONDS]: polls the pane until REGEX (grep -E) appears (default 20 s: a
# sanitizer build on a loaded 2-core machine can take several seconds per screen).
wait_for() {
    n=0; lim=$(( ${3:-20} * 10 ))
    while [ $n -lt $lim ]; do
        if screen "$1" | grep -Eq -- "$2"; then return 0; fi
        sleep 0.1; n=$((n + 1))
    done
    return 1
}
# wait_gone NAME REGEX [SECONDS]
wait_gone() {
    n=0; lim=$(( ${3:-20} * 10 ))
    while [ $n -lt $lim ]; do
        if ! screen "$1" | grep -Eq -- "$2"; then return 0; fi
        sleep 0.1; n=$((n + 1))
    done
    return 1
}
keys() { name=$1; shift; T send-keys -t "$name" "$@"; }
# sane NAME: after the program exited, the tty is back in cooked mode with echo.
sane() {
    wait_for "$1" 'STTY-DONE' 5 || return 1
    grep -q -- ' icanon' "$TMP/$1.stty" && grep -q -- ' echo ' "$TMP/$1.stty" && ! grep -q -- '-icanon' "$TMP/$1.stty"
}
