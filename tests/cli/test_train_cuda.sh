#!/bin/sh
# axonml train's device: "device": "cuda" or "auto" (or the original's "cuda": true) trains on the GPU
# when one is usable (no note), otherwise with one note naming the reason on the CPU; "cpu" (or
# "cuda": false) on the CPU without a note; either way it finishes and writes its checkpoints.
B=${1:-build}
AX="$B/axonml"
SH=${AXM_SHARED:-../shared}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

gpu=0
"$AX" info --json 2>/dev/null | grep -q '"cuda_available":true' && gpu=1
for dev in '"cuda": true' '"device": "cuda"' '"device": "auto"' '"device": "cpu"'; do
  rm -rf "$T/ck"
  cat >"$T/cfg.json" <<JSON
{$dev, "train_dset": "$SH/reference/datasets/train_small.h5", "epochs": 1, "train_n_idx": 1,
 "sampling": 4, "threads": 1, "save_dir": "$T/ck"}
JSON
  "$AX" train "$T/cfg.json" --progress none >"$T/out" 2>"$T/err"; rc=$?
  check "$dev: exit 0" "[ $rc -eq 0 ]"
  check "$dev: checkpoints written" "[ -f '$T/ck/00001.json' ]"
  name=$(echo "$dev" | sed 's/.*: //; s/"//g; s/true/cuda/')
  if [ "$name" = cpu ]; then
    check "$dev: on the CPU without a note" "! grep -q 'note: device' '$T/err'"
  elif [ $gpu = 1 ]; then
    check "$dev, GPU present: no CPU fallback note" "! grep -q 'training on the CPU' '$T/err'"
  else
    check "$dev, no GPU: one note naming why, training on the CPU" \
      "[ \$(grep -c 'note: device \"$name\": .*; training on the CPU' '$T/err') -eq 1 ]"
  fi
done
printf '{"cuda": true, "device": "cpu", "train_dset": "x.h5"}\n' >"$T/both.json"
"$AX" train "$T/both.json" --progress none >"$T/out" 2>"$T/err"; rc=$?
check "cuda and device that disagree: exit 2 naming both" \
  "[ $rc -eq 2 ] && grep -q 'both.json: device: says \"cpu\" where cuda said \"cuda\"' '$T/err'"
