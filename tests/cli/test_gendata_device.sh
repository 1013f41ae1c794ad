#!/bin/sh
# axonml gendata --device: cpu is the default; cuda/auto run the MRG on the GPU when there is one,
# else the CPU with a one-line note and the same bytes; a bad value is one line, exit 2.
B=${1:-build}
case "$B" in /*) ;; *) B="$PWD/$B";; esac
A="$B/axonml"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ok() { echo "ok - gendata --device: $*"; }
nok() { echo "not ok - gendata --device: $*"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
cd "$TMP" || exit 1
cat > small.json <<EOF
{"model": "mrg", "nodes": 21, "n_runs": 2, "rows": 1, "fibers": 2, "tstop_ms": 0.5, "seed": 5,
 "delay_ms": [0, 0.2], "pw_ms": [0, 0.2], "precision": "fp64"}
EOF
"$A" gendata small.json --out ref.h5 -q

"$A" gendata --help >out.txt 2>&1
check "grep -q -- --device out.txt" "--help documents --device"
"$A" gendata small.json --out cpu.h5 -q --device cpu 2>err.txt; rc=$?
check "[ $rc = 0 ] && [ ! -s err.txt ] && cmp -s cpu.h5 ref.h5" "--device cpu: no note, same bytes as the default"
"$A" gendata small.json --out x.h5 -q --device gpu 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q -- --device err.txt && [ ! -e x.h5 ]" \
      "--device gpu: exit 2, one line"
for d in cuda auto; do
  "$A" gendata small.json --out $d.h5 -q --device $d 2>err.txt; rc=$?
  if grep -q "running on the CPU" err.txt; then
    check "[ $rc = 0 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q \"note: device \\\"$d\\\"\" err.txt && cmp -s $d.h5 ref.h5" \
          "--device $d without a GPU: one note, same bytes as the CPU"
  elif command -v h5diff >/dev/null 2>&1; then
    # on the GPU: the same fp64 simulation to ~1e-15, stored as float (a last-bit flip is < 1e-3 mV)
    check "[ $rc = 0 ] && h5diff -q -d 1e-3 $d.h5 ref.h5 >/dev/null 2>&1" "--device $d on the GPU: same data as the CPU"
  else
    check "[ $rc = 0 ] && [ -s $d.h5 ]" "--device $d on the GPU: written"
  fi
done
