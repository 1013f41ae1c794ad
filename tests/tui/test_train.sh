#!/bin/sh
# The train view end to end on the tiny reference dataset: start, live loss curve growing,
# progress, checkpoints, done; pause/resume; quitting mid-run.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then echo "ok - # SKIP tmux not installed"; exit 0; fi
SH=${AXM_SHARED:-../shared}
case "$SH" in /*) ;; *) SH="$PWD/$SH";; esac
if [ ! -r "$SH/reference/datasets/train_small.h5" ]; then
    echo "ok - # SKIP $SH/reference/datasets/train_small.h5 not found"; exit 0
fi
cat > "$TMP/p.json" <<JSON
{"train": {"epochs": 1, "train_n_idx": 1, "val_n_idx": 1, "save_every": 1,
           "train_dset": "$SH/reference/datasets/train_small.h5",
           "valid_dset": "$SH/reference/datasets/valid_small.h5",
           "save_dir": "$TMP/ckpt"}}
JSON
# braille cells in the loss pane
curve() { screen "$1" | sed -n '/Loss (log)/,/steps/p' | grep -a -o "$(printf '\342\240')\|$(printf '\342\241')\|$(printf '\342\242')\|$(printf '\342\243')" | wc -l; }

start t "$B/axonml-tui '$TMP/p.json' --view train"
check 'wait_for t "no losses yet"' "train view idle before start"
keys t s
check 'wait_for t "\[(starting|running)\]" 5' "s starts training in a worker (UI answers at once)"
check 'wait_for t "step 1/2" 60' "progress: first minibatch done"
c1=$(curve t)
check 'wait_for t "valid [0-9]" 60' "validation loss shown"
check 'wait_for t "step 2/2" 60' "progress: second minibatch done"
c2=$(curve t)
check '[ "$c1" -gt 0 ] && [ "$c2" -gt "$c1" ]' "loss curve grows ($c1 -> $c2 braille cells)"
check 'screen t | grep -q "steps/s" && screen t | grep -q "ETA"' "rate and ETA shown"
check 'wait_for t "\[done\]" 60' "training finishes"
check 'screen t | grep -Eq "Checkpoints \([1-9]" && ls "$TMP/ckpt" | grep -q json' "checkpoints written and listed"
check 'screen t | grep -q "cm "' "postfix parameter (cm) shown"
keys t u
check 'wait_for t "explore uses .*ckpt/.*json" 10 && wait_for t "model smf .*weights 0" 10' "u explores the newest checkpoint"
keys t F3
wait_for t "Checkpoints"
keys t s
check 'wait_for t "step 1/2" 60' "a second run starts from s"
keys t F10
check 'wait_for t "EXIT=0" 20 && sane t' "F10 quits mid-training and restores the terminal"

# "device": "cuda": on the GPU when one is usable, else a note in the events and the CPU
cat > "$TMP/d.json" <<JSON
{"train": {"device": "cuda", "epochs": 1, "train_n_idx": 1, "val_n_idx": 1, "save_every": 1,
           "train_dset": "$SH/reference/datasets/train_small.h5",
           "valid_dset": "$SH/reference/datasets/valid_small.h5",
           "save_dir": "$TMP/ckd"}}
JSON
start d "$B/axonml-tui '$TMP/d.json' --view train"
keys d s
if "$B/axonml" info --json 2>/dev/null | grep -q '"cuda_available":true'; then
    check 'wait_for d "training on the GPU" 20 && wait_for d "on the GPU" 20' "device cuda: it trains on the GPU, and says so"
else
    check 'wait_for d "device \"cuda\": " 20 && wait_for d "on the CPU" 20' "device cuda without a GPU: the note, and the CPU named"
fi
check 'wait_for d "\[done\]" 60' "device cuda: training finishes"
keys d F10
check 'wait_for d "EXIT=0" 20 && sane d' "F10 quits"

# datasets missing: a small one is generated with gendata (progress shown), then training runs
mkdir -p "$TMP/g"
cat > "$TMP/g/t.json" <<JSON
{"train_dset": "missing-train.h5", "valid_dset": "missing-valid.h5", "epochs": 1, "train_n_idx": 1,
 "val_n_idx": 1, "save_dir": "ck", "threads": 2}
JSON
start g "cd '$TMP/g' && '$B/axonml-tui' t.json --view train"
check 'wait_for g "missing: s generates"' "missing dataset flagged before start"
keys g s
check 'wait_for g "generating datasets/tui-train-small.h5 .*fibers" 20' "gendata runs with progress shown"
check 'wait_for g "step 1/" 180' "training starts on the generated data"
check '[ -r "$TMP/g/datasets/tui-train-small.h5" ] && [ -r "$TMP/g/datasets/tui-valid-small.h5" ]' "generated datasets kept for the next start"
keys g x
check 'wait_for g "\[stopped\]" 60' "x stops training"
keys g F10
check 'wait_for g "EXIT=0" 20 && sane g' "F10 quits and restores the terminal"
