#!/bin/sh
# The frame of axonml-tui driven through tmux: key bar, status line, views, config refusal,
# ASCII mode, F10/q quitting with the terminal restored.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then echo "ok - # SKIP tmux not installed"; exit 0; fi

"$B/axonml-tui" --bogus >/dev/null 2>"$TMP/err"; rc=$?
check '[ $rc -eq 2 ] && grep -q "unknown option" "$TMP/err"' "unknown option: exit 2 with a message"
"$B/axonml-tui" "$TMP/missing.json" >/dev/null 2>"$TMP/err"; rc=$?
check '[ $rc -eq 2 ] && grep -q "missing.json" "$TMP/err"' "missing scenario: exit 2 naming the file"

start a "$B/axonml-tui"
check 'wait_for a "F1Help .*F2Config .*F3Train .*F4Explore .*F10Quit"' "key bar shows F1 F2 F3 F4 F10"
check 'screen a | head -n 1 | grep -q "axonml-tui .*CPU.*model .*weights .*fp"' "status line: backend, model, weights, precision"
keys a F1
check 'wait_for a "Global keys"' "F1 shows the help"
keys a F2
check 'wait_for a "Configuration" && screen a | grep -q "truncation_length" && screen a | grep -q "Training"' "F2 shows the training keys"
# edit train.device (second key) with a bad value: refused in place with the reason
keys a Down Enter C-u bogus Enter
check 'wait_for a "train.device: expected one of auto, cpu, cuda"' "invalid value refused with the reason"
keys a Escape
check 'wait_for a "edit cancelled"' "Esc leaves the editor"
keys a Down Down Down Enter C-u 0 Enter
check 'wait_for a "train.dt: expected a number > 0"' "dt 0 refused (must be > 0)"
keys a C-u 0.01 Enter
check 'wait_for a "train.dt set" && wait_for a "\[modified\]"' "valid value accepted and marked modified"
keys a F10
check 'wait_for a "EXIT=0"' "F10 quits with status 0"
check 'sane a' "terminal restored after F10 (icanon, echo)"

start b "$B/axonml-tui --ascii --mono"
check 'wait_for b "F10Quit"' "--ascii --mono starts"
check 'screen b | grep -q "^+-"' "ASCII boxes in --ascii mode"
check '! screen b | grep -q "$(printf "\342\224")"' "no box-drawing glyphs in --ascii mode"
keys b q
check 'wait_for b "EXIT=0" && sane b' "q quits and restores the terminal"

start c "$B/axonml-tui"
wait_for c "F10Quit"
keys c C-c
check 'wait_for c "EXIT=0" && sane c' "Ctrl-C quits cleanly and restores the terminal"

start d "$B/axonml-tui"
wait_for d "F10Quit"
T resize-window -t d -x 70 -y 20 2>/dev/null
check 'wait_for d "too small"' "resize below 80x24 shows a notice"
T resize-window -t d -x 100 -y 30 2>/dev/null
check 'wait_gone d "too small"' "resize back redraws the views"
keys d F10
wait_for d "EXIT=0"

# a non-UTF-8 locale falls back to ASCII by itself
start f "LC_ALL=C LANG=C $B/axonml-tui --view help"
check 'wait_for f "F10Quit" && screen f | grep -q "^+-"' "ASCII fallback without a UTF-8 locale"
keys f q
wait_for f "EXIT=0"

# a crash restores the terminal (SIGSEGV sent to the program itself)
start s "$B/axonml-tui --view help"
wait_for s "F10Quit"
shpid=$(T list-panes -t s -F '#{pane_pid}')
pid=$(pgrep -P "$shpid" -x axonml-tui | head -n 1)
[ -n "$pid" ] && kill -SEGV "$pid"
check 'wait_for s "EXIT=139" 10 && sane s' "SIGSEGV: terminal restored, dies of the signal (139)"
check 'screen s | grep -q "terminal restored"' "crash message printed after endwin"
