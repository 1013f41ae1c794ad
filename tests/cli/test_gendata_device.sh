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

# "device" in the config: the same as --device, which overrides it; not stored (the same bytes)
sed 's/"precision": "fp64"}/"precision": "fp64", "device": "auto"}/' small.json >dev.json
"$A" gendata dev.json --out cfgdev.h5 -q 2>err.txt; rc=$?
if grep -q "running on the CPU" err.txt; then
  check "[ $rc = 0 ] && grep -q 'note: device \"auto\"' err.txt && cmp -s cfgdev.h5 ref.h5" \
        "config device auto without a GPU: the note, same bytes as the CPU"
else
  check "[ $rc = 0 ] && [ -s cfgdev.h5 ]" "config device auto on the GPU: written"
fi
"$A" gendata dev.json --out cfgcpu.h5 -q --device cpu 2>err.txt; rc=$?
check "[ $rc = 0 ] && [ ! -s err.txt ] && cmp -s cfgcpu.h5 ref.h5" "--device cpu overrides the config's device"
sed 's/"precision": "fp64"}/"precision": "fp64", "device": "gpu"}/' small.json >devbad.json
"$A" gendata devbad.json --out x.h5 -q 2>err.txt; rc=$?
check "[ $rc = 2 ] && grep -q 'devbad.json: device: expected \"auto\", \"cpu\" or \"cuda\"' err.txt" \
      "config device gpu: exit 2 naming the key"

# several runs per engine call: the bytes of one run per call (groups of 2 over 3 runs, --batches
# inside a group, --resume); on the GPU the same check against the GPU's one run per call
"$A" gendata small.json --out r1.h5 -q --runs 3 2>/dev/null
"$A" gendata small.json --out r2.h5 -q --runs 3 --runs-per-call 2 2>err.txt; rc=$?
check "[ $rc = 0 ] && cmp -s r1.h5 r2.h5" "--runs-per-call 2: same bytes as one run per call"
"$A" gendata small.json --out rb.h5 -q --runs 3 --runs-per-call 2 --batches 1 2>/dev/null && \
  "$A" gendata small.json --out rb.h5 -q --runs 3 --runs-per-call 2 --resume 2>/dev/null; rc=$?
check "[ $rc = 0 ] && cmp -s r1.h5 rb.h5" "--runs-per-call 2 with --batches 1 and --resume: same bytes"
"$A" gendata small.json --out c1.h5 -q --runs 3 --device auto --runs-per-call 1 2>/dev/null
"$A" gendata small.json --out c3.h5 -q --runs 3 --device auto --runs-per-call 3 2>/dev/null; rc=$?
check "[ $rc = 0 ] && cmp -s c1.h5 c3.h5" "--device auto --runs-per-call 3: same bytes as 1 per call"
"$A" gendata small.json --out c4.h5 -q --runs 3 --device auto --call-mem 0.001 2>/dev/null; rc=$?
check "[ $rc = 0 ] && cmp -s c1.h5 c4.h5" "--device auto with a tiny --call-mem: one run per call, same bytes"
"$A" gendata small.json --out x.h5 -q --runs-per-call 0 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q -- --runs-per-call err.txt" "--runs-per-call 0: exit 2, one line"
"$A" gendata small.json --out x.h5 -q --call-mem -1 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q -- --call-mem err.txt" "--call-mem -1: exit 2, one line"
