#!/bin/sh
# The config view end to end: a scenario preset checked as a whole, a cross-key error shown,
# finding keys, save as, load list, modified marks.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then echo "ok - # SKIP tmux not installed"; exit 0; fi
cat > "$TMP/s.json" <<JSON
{"fiber": {"nodes": 21, "diameter_um": [5.7, 10]},
 "electrode": {"kind": "point", "distance_mm": 1},
 "waveform": {"kind": "biphasic", "pw_ms": 0.1, "gap_ms": 0.05},
 "train": {"epochs": 2}}
JSON
start c "$B/axonml-tui '$TMP/s.json' --view config"
check 'wait_for c "scenario valid: 2 condition"' "a loaded preset is checked as a scenario (2 conditions)"
check 'screen c | grep -q "s.json" && ! screen c | grep -q "\[modified\]"' "title names the preset, not modified"
keys c / waveform.kind Enter
keys c Enter C-u mono Enter
check 'wait_for c "scenario is not valid"' "cross-key error (gap_ms with a mono waveform) reported"
check 'screen c | grep -q "\[modified\]"' "change marked as unsaved"
keys c / gap_ms Enter d
check 'wait_for c "scenario valid: 2 condition"' "resetting the stray key makes the scenario valid again"
keys c / diameter_um Enter Enter C-u "5.7, 8.7, 14" Enter
check 'wait_for c "scenario valid: 3 condition"' "a list value sweeps (3 conditions)"
keys c S C-u "$TMP/out.json" Enter
check 'wait_for c "saved .*out.json \(scenario\)" && grep -q 14 "$TMP/out.json" && ! grep -q epochs "$TMP/out.json"' "save as writes the scenario in its own format"
keys c / train.valid_dset Enter Enter C-u Enter
check 'wait_for c "train.valid_dset set" && screen c | grep -Eq "valid_dset +none"' "emptying valid_dset switches validation off (shown as none)"
keys c / train.epochs Enter S C-u "$TMP/tr.json" Enter
check 'wait_for c "saved .*tr.json \(training config\)" && grep -q epochs "$TMP/tr.json" && ! grep -q fiber "$TMP/tr.json"' "the training config is saved flat (axonml train's format)"
check 'grep -Eq "\"valid_dset\":[[:space:]]*null" "$TMP/tr.json"' "validation off is saved as valid_dset: null"
check '! screen c | grep -q "\[modified\]"' "both saved: no longer marked modified"
keys c l
check 'wait_for c "Load preset"' "l lists presets"
keys c Escape
keys c / nomatchkey Enter
check 'wait_for c "no key matches"' "search without a match says so"
keys c F10
check 'wait_for c "EXIT=0" 10 && sane c' "F10 quits and restores the terminal"

# a scenario and a flat training config given on the command line go to their parts
start d "$B/axonml-tui '$TMP/out.json' '$TMP/tr.json' --view config"
check 'wait_for d "scenario .*out.json, training .*tr.json"' "scenario and training config loaded from two files"
keys d q
wait_for d "EXIT=0" 10

# started from a folder without presets/: the training preset and the preset list come from the
# axonml tree, and "save as" offers a name in the current folder
mkdir -p "$TMP/elsewhere"
start e "cd '$TMP/elsewhere' && '$B/axonml-tui' --view config"
check 'wait_for e "training /.*/presets/train-small.json"' "elsewhere: the training preset from the tree"
keys e l
check 'wait_for e "/.*presets/default.json"' "elsewhere: l lists the tree's presets"
keys e Escape
keys e / fiber.nodes Enter
keys e S
check 'wait_for e "my.json" && ! screen e | grep -q "presets/my.json"' "elsewhere: save as (a scenario key) offers my.json here"
keys e Escape
keys e F10
wait_for e "EXIT=0" 10
