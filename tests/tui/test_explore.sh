#!/bin/sh
# The explore view end to end: threshold search, raster marks above threshold, none below,
# waveform preview, quitting while a run is in flight.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then echo "ok - # SKIP tmux not installed"; exit 0; fi

# raster NAME: the lines of the raster pane (between its title and the vm pane's title)
raster() { screen "$1" | sed -n '/Raster/,/vm (mV)/p' | sed '1d;$d'; }
marks() { raster "$1" | tr -cd '|#' | wc -c; }

start e "$B/axonml-tui --view explore"
check 'wait_for e "Raster: 51 nodes x 5 ms" 20' "explore runs the default set-up on start"
if ! screen e | grep -q "model mrg"; then
    # a library without MRG: the untrained S-MF is the default and must say so
    check 'screen e | grep -q "UNTRAINED weights" && screen e | grep -q "weights UNTRAINED"' "without MRG the untrained S-MF is flagged"
    check 'screen e | grep -Eq "Raster: 51 nodes x 5 ms, [1-9][0-9]* spikes"' "untrained S-MF fires spontaneously (shown, not hidden)"
    keys e F10
    check 'wait_for e "EXIT=0" 10 && sane e' "F10 quits from explore and restores the terminal"
    exit 0
fi
check 'screen e | grep -q "Waveform (mA)"' "defaults to MRG (rests) with a waveform preview"
keys e t
check 'wait_for e "threshold [0-9.e-]+ mA" 60' "t computes the threshold"
check 'wait_for e "spikes \(at threshold\)" 20' "raster at threshold"
thr=$(screen e | sed -n 's/.*threshold \([0-9.e-]*\) mA.*/\1/p' | head -n 1)
lo=$(awk "BEGIN{print $thr * 0.5}"); hi=$(awk "BEGIN{print $thr * 2}")
# amplitude row is selected by default: type a value below threshold
keys e Enter C-u "$lo" Enter
check 'wait_for e "Raster: 51 nodes x 5 ms, 0 spikes" 20' "no spikes at half the threshold ($lo mA)"
check '[ "$(marks e)" -eq 0 ]' "no raster marks below threshold"
keys e Enter C-u "$hi" Enter
check 'wait_for e "Raster: 51 nodes x 5 ms, [1-9][0-9]* spikes" 20' "spikes at twice the threshold ($hi mA)"
check '[ "$(marks e)" -ge 10 ]' "raster marks above threshold"
# a bad typed value is refused in place with the reason
keys e Enter C-u
T send-keys -t e -l -- "-3"
keys e Enter
check 'wait_for e "amplitude: expected a number >= 0"' "negative amplitude refused with the reason"
keys e Escape
keys e F10
check 'wait_for e "EXIT=0" 10 && sane e' "F10 quits from explore and restores the terminal"

# a preset copied into a folder of one's own: its weights are found in the axonml tree (the
# scenario loader's rule), and the status line says they are trained; a name found nowhere says so
mkdir -p "$TMP/own"
cp presets/default.json "$TMP/own/s.json"
sed 's#weights/smf-mrg.json#weights/none.json#' presets/default.json >"$TMP/own/n.json"
start own "cd '$TMP/own' && '$B/axonml-tui' s.json"
check 'wait_for own "weights smf-mrg.json \(trained\)"' "copied preset: weights found in the tree, trained"
T kill-session -t own
start none "cd '$TMP/own' && '$B/axonml-tui' n.json --view config"
check 'wait_for none "none.json \(not found\)"' "weights found nowhere: the status line says not found"
T kill-session -t none
