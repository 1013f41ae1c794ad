#!/bin/sh
# axonml train with "cuda": true: on the GPU when one is usable (no note), otherwise one note naming
# the reason and the same training on the CPU; either way it finishes and writes its checkpoints.
B=${1:-build}
AX="$B/axonml"
SH=${AXM_SHARED:-../shared}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

cat >"$T/cfg.json" <<JSON
{"cuda": true, "train_dset": "$SH/reference/datasets/train_small.h5", "epochs": 1, "train_n_idx": 1,
 "sampling": 4, "threads": 1, "save_dir": "$T/ck"}
JSON
"$AX" train "$T/cfg.json" --progress none >"$T/out" 2>"$T/err"; rc=$?
check "cuda true: exit 0" "[ $rc -eq 0 ]"
check "cuda true: checkpoints written" "[ -f '$T/ck/00001.json' ]"
if "$AX" info --json 2>/dev/null | grep -q '"cuda_available":true'; then
  check "cuda true, GPU present: no CPU fallback note" "! grep -q 'training on the CPU' '$T/err'"
else
  check "cuda true, no GPU: one note naming why, training on the CPU" \
    "[ \$(grep -c 'note: cuda: .*; training on the CPU' '$T/err') -eq 1 ]"
fi
