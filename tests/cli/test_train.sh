#!/bin/sh
# axonml train: config errors, a short run with JSON-lines events, checkpoints, resume, Ctrl-C.
B=${1:-build}
AX="$B/axonml"
SH=${AXM_SHARED:-../shared}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
n=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

# argument errors: exit 2 with one line
for args in "" "--progress" "a.json b.json" "--bogus" "a.json --resume"; do
  "$AX" train $args >/dev/null 2>"$T/e"; rc=$?
  check "train '$args': exit 2, one line" "[ $rc -eq 2 ] && [ \$(wc -l <'$T/e') -eq 1 ]"
done

cat >"$T/bad.json" <<JSON
{"train_dset": "$SH/reference/datasets/train_small.h5", "epoch": 3}
JSON
"$AX" train "$T/bad.json" >"$T/out" 2>"$T/err"; rc=$?
check "unknown key: exit 2" "[ $rc -eq 2 ]"
check "unknown key: message names file and key" "grep -q 'bad.json: epoch: unknown key' '$T/err'"

cat >"$T/nodes.json" <<JSON
{"train_dset": "$SH/reference/datasets/train_small.h5", "nodes": 21}
JSON
"$AX" train "$T/nodes.json" >"$T/out" 2>"$T/err"; rc=$?
check "nodes mismatch: exit 2 with a clear line" "[ $rc -eq 2 ] && grep -q 'nodes 21, but .*53 nodes' '$T/err'"

# datasets and starting weights that cannot be read: exit 2, the config's key and the reason
printf '{"train_dset": "%s/none.h5"}\n' "$T" >"$T/miss.json"
"$AX" train "$T/miss.json" >"$T/out" 2>"$T/err"; rc=$?
check "missing train_dset: exit 2 naming the key and why" \
  "[ $rc -eq 2 ] && grep -q 'miss.json: train_dset: .*none.h5: cannot read the dataset: No such file' '$T/err'"
echo "not hdf5" >"$T/text.h5"
printf '{"train_dset": "%s", "valid_dset": "%s/text.h5"}\n' "$SH/reference/datasets/train_small.h5" "$T" >"$T/kind.json"
"$AX" train "$T/kind.json" >"$T/out" 2>"$T/err"; rc=$?
check "valid_dset not HDF5: exit 2 naming the key" \
  "[ $rc -eq 2 ] && grep -q 'kind.json: valid_dset: .*text.h5: expected an HDF5 dataset' '$T/err'"
printf '{"train_dset": "%s", "model": "%s/w.json"}\n' "$SH/reference/datasets/train_small.h5" "$T" >"$T/w.json.cfg"
"$AX" train "$T/w.json.cfg" >"$T/out" 2>"$T/err"; rc=$?
check "missing model weights: exit 2 naming the key" "[ $rc -eq 2 ] && grep -q 'w.json.cfg: model: .*w.json' '$T/err'"

# short: one run, every 4th sample, one epoch of 2 minibatches
cat >"$T/cfg.json" <<JSON
{"model": "smf", "nodes": 53, "dt": 0.005,
 "train_dset": "$SH/reference/datasets/train_small.h5",
 "valid_dset": "$SH/reference/datasets/valid_small.h5",
 "epochs": 1, "truncation_length": 50, "lr": 1e-4, "train_n_idx": 1, "val_n_idx": 1,
 "train_chunk_size": 1, "val_chunk_size": 2, "sampling": 4, "postfix": ["cm"],
 "save_every": 1, "save_dir": "$T/ck", "to_train": ["conductances", "membrane", "ssd"],
 "handle_nan": true, "seed": 3}
JSON
"$AX" train "$T/cfg.json" --check >"$T/out" 2>"$T/err"; rc=$?
check "--check: the plan, nothing trained" \
  "[ $rc -eq 0 ] && grep -q 'cfg.json: ok, 2 minibatches (1 epoch), 53 nodes, .*device cpu' '$T/out' && [ ! -d '$T/ck' ]"
"$AX" train "$T/cfg.json" --progress jsonl >"$T/ev" 2>"$T/err"; rc=$?
check "short run: exit 0" "[ $rc -eq 0 ]"
check "jsonl: start, step, validation, checkpoint and done events" \
  "grep -q '\"event\":\"start\"' '$T/ev' && grep -q '\"event\":\"step\"' '$T/ev' && grep -q '\"event\":\"validation\"' '$T/ev' && grep -q '\"event\":\"checkpoint\"' '$T/ev' && grep -q '\"event\":\"done\"' '$T/ev'"
check "jsonl: parameters and losses in events" "grep '\"event\":\"step\"' '$T/ev' | head -1 | grep -q '\"train_loss\":[0-9].*\"params\":{\"gnabar\"'"
check "checkpoints named {index:05d}-{val:.3f}.json" "ls '$T/ck' | grep -Eq '^00000-[0-9]+\\.[0-9]{3}\\.json$' && ls '$T/ck' | grep -Eq '^00001-[0-9]+\\.[0-9]{3}\\.json$'"
check "checkpoint is a weights file" "grep -Eq '.format.:[[:space:]]*.axonml-weights.' '$T/ck'/00000-*.json"
check "no temp files left" "! ls '$T/ck' | grep -q tmp"

# no validation set ("" as the TUI writes it, or null): checkpoints still saved, named by index
sed "s|\"valid_dset\": \"[^\"]*\"|\"valid_dset\": \"\"|; s|$T/ck|$T/cknv|" "$T/cfg.json" >"$T/noval.json"
"$AX" train "$T/noval.json" >"$T/out" 2>"$T/err"; rc=$?
check "valid_dset \"\": runs without validation" "[ $rc -eq 0 ] && grep -q 'no validation set' '$T/err'"
check "valid_dset \"\": checkpoints {index:05d}.json, validation_loss null" \
  "[ \"\$(ls '$T/cknv' | tr '\n' ' ')\" = '00000.json 00001.json ' ] && grep -Eq '.validation_loss.:[[:space:]]*null' '$T/cknv/00000.json'"

first=$(ls "$T/ck" | head -1)
sed 's/"epochs": 1/"epochs": 2/' "$T/cfg.json" >"$T/cfg2.json"
"$AX" train "$T/cfg2.json" --progress jsonl --resume "$T/ck/$first" >"$T/ev2" 2>"$T/err"; rc=$?
check "resume: exit 0 and continues at step 1" "[ $rc -eq 0 ] && grep '\"event\":\"step\"' '$T/ev2' | head -1 | grep -q '\"step\":1,'"
"$AX" train "$T/cfg.json" --resume "$T/nope.json" >/dev/null 2>"$T/err"; rc=$?
check "resume from a missing file: exit 2" "[ $rc -eq 2 ] && grep -q 'nope.json' '$T/err'"

# Ctrl-C: a long run interrupted after its first step saves a checkpoint and exits 130
sed "s/\"epochs\": 1/\"epochs\": 100/; s|$T/ck|$T/ck3|" "$T/cfg.json" >"$T/long.json"
"$AX" train "$T/long.json" --progress jsonl >"$T/ev3" 2>"$T/err3" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"event":"step"' "$T/ev3" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid; wait $pid; rc=$?
check "Ctrl-C: exit 130" "[ $rc -eq 130 ]"
check "Ctrl-C: checkpoint saved and reported" "grep -q 'interrupted; checkpoint' '$T/err3' && [ \$(ls '$T/ck3' | wc -l) -ge 1 ]"
