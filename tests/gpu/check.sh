#!/bin/sh
# The CUDA backend's check on a GPU machine (H100/H200), in one go, a few minutes:
#   1. builds the GPU parity tests and bench_cuda with -arch=sm_90 into build-gpu/
#      (libcjson/hdf5/cmocka from the system, or from .gpudeps/ made by tests/gpu/pack-deps.sh on a
#      machine that has them, for GPU images without those packages);
#   2. runs the parity tests (GPU vs CPU, op by op, fresh random inputs);
#   3. runs bench_cuda (S-MF forward and threshold search next to the original's figures and the CPU)
#      and bench_cuda_mrg (MRG forward against the CPU engine);
#   4. measures the S-MF (and MRG) forward of kernel variants next to it (the launch-bounds knobs
#      AXM_SMF_MINB32 and AXM_SMF_PMINB32, the gates by divisions (AXM_SMF_RCP1=0), and an earlier
#      S-MF kernel: a copy of an earlier commit's tree in .base/, its hash in .base/COMMIT, carried
#      along), runs the
#      CLI tests that take the GPU path on datasets made by gendata on the GPU, and profiles one
#      forward launch per precision with Nsight Compute when ncu is there;
#   5. prints a short table last, the goals of issue 5 first (met or not, as bench_cuda and
#      bench_cuda_mrg judge them).
# Usage: sh tests/gpu/check.sh [outdir]   (default $OUT or /tmp/axm-gpu-check; it receives at most three
# files: logs.txt with every log, build.log and ncu.txt, since device runs return few)
# Every step runs under a timeout, so a hang cannot eat a device lease, and the logs so far reach
# outdir even when the whole script is stopped. AXM_CHECK_QUICK=1 (a short lease): no ncu profile,
# the MRG benchmark's smaller batches; AXM_CHECK_MRG_QUICK and AXM_CHECK_NCU (0/1) set those two
# apart; AXM_CHECK_MRG=0 leaves the MRG parity tests and benchmark out (S-MF work on a short lease);
# AXM_CHECK_VARIANTS replaces the list of variants (name:flags, see VARIANTS below; empty: none).
set -u
cd "$(dirname "$0")/../.." || exit 2
DEST=${1:-${OUT:-/tmp/axm-gpu-check}}
mkdir -p "$DEST"
LOG=$(mktemp -d)
QUICK=${AXM_CHECK_QUICK:-0}
MRGQ=${AXM_CHECK_MRG_QUICK:-$QUICK}
MRG=${AXM_CHECK_MRG:-1}
if [ "$QUICK" = 1 ]; then NCUON=${AXM_CHECK_NCU:-0}; else NCUON=${AXM_CHECK_NCU:-1}; fi
collect() {
  for f in gpu.txt ptxas.txt ptxas_mrg.txt parity.log parity_mrg.log parity_train.log bench.log bench_mrg.log \
           variants.log cli.log $(cd "$LOG" && ls build_*.log 2>/dev/null); do
    [ -f "$LOG/$f" ] && { echo "======== $f"; cat "$LOG/$f"; }
  done >"$DEST/logs.txt"
  cp "$LOG/build.log" "$LOG/ncu.txt" "$DEST/" 2>/dev/null
}
trap 'collect; exit 124' TERM INT
B=build-gpu
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,driver_version --format=csv >"$LOG/gpu.txt" 2>&1
GPU=$(sed -n 2p "$LOG/gpu.txt")

. tests/gpu/deps.sh   # nvcc, dependencies: sets "$@" to the make arguments, NVF, DEPS, JOBS
t0=$(date +%s)
if ! make -j"$JOBS" "$@" $B/gputests/test_parity_smf $B/gputests/test_parity_mrg $B/gputests/test_parity_mrg_th $B/gputests/test_parity_train $B/bench/bench_cuda $B/bench/bench_cuda_mrg >"$LOG/build.log" 2>&1; then
  tail -30 "$LOG/build.log"
  cp "$LOG/build.log" "$DEST/"
  echo "check: build failed (log: $DEST/build.log)"
  exit 1
fi
t1=$(date +%s)
# registers / spills of the S-MF kernels (K_TH = 0, K_LITE = 1, K_FULL = 2, K_BARE = 3; NPL nodes per lane;
# packed: NPL slots per thread, bare or not)
grep -E -A3 "Compiling entry function .*mrg_(th_)?kernel" "$LOG/build.log" | grep -E "entry|registers|spill" >"$LOG/ptxas_mrg.txt"
ptxas_smf() {   # a build log's S-MF kernels: registers and spills, a line each
  awk '/Compiling entry function .*smf_(packed_)?kernel/ {k=$0; pk=(k ~ /packed/) ? "packed " : ""; sub(/.*kernelI/,"",k);
                                                          sub(/EEEvNS.*/,"",k); k=pk k; sp=""}
       /spill stores/ && k != "" {sp=$0; sub(/.*: */,"",sp)}
       /registers/ && k != "" {r=$0; sub(/.*Used /,"",r); sub(/ registers.*/,"",r); print k": "r" registers, "sp; k=""}' "$1"
}
ptxas_smf "$LOG/build.log" >"$LOG/ptxas.txt"

# variants: name and extra nvcc flags (comma-separated); each builds bench_cuda only, while the
# parity tests run. div: the gates' rates by divisions only (AXM_SMF_RCP1=0 and _64=0); minb-N: N
# resident blocks of the warp kernel's fp32 runs with monitors or drives past one contact (K_LITE;
# default 4: 127 registers, no spills; 200 B of spill loads at 5); bare-minb-N: the same for plain
# runs (K_BARE, which the forward benchmarks take; default 6: 80 registers, no spills; 4: 122, 5:
# 93, 8: 64 and 40 B of spill loads; H200, session 22: 4 +0.5-2.5 %, 8 -4 %), bare64-minb-N
# fp64's (default 4: 128 registers, 20 B; 3: 160, -7 %); divloop-1: the warp kernel's division
# branch as a loop over the gates (AXM_SMF_DIVLOOP32=1: fewer registers, but a ULDC per constant in
# the common path); pdivloop-4: the packed kernel's unrolled (default: the loop); pminb-N: the
# packed kernel's resident blocks (default 3); pt512(-2): fp32 packed blocks of 512 threads, one
# slot each (-7 %, session 22); pskip-N: what the packed bare kernel does with idle slots
# (AXM_SMF_PSKIP, smf_packed.cuh: 2 measured against 0 in session 22, B = 1 1.5-1.9x, B = 100-1000
# 0.95x; 1 not yet measured: bench_cuda's forward line at B = 1/100/1000 says it); fmaexp-N: N of
# the four gate exponentials on the FMA pipe (default 0); noreassoc: fp32's node step in the CPU's
# order of operations (AXM_SMF_REASSOC32=0: 495 instead of 473 instructions in the bare step loop;
# -2 % on an H200); mrg-*: MRG kernels (their forward rows from bench_cuda_mrg instead), mrg-minb-4:
# 4 blocks of 128 per SM (128 registers, spills in the internode loops; -12 %) instead of 3 (168).
# By default the settings not yet measured against the current defaults, and those the defaults
# replaced, so that each choice stays measured; .base (an earlier commit's tree, its hash in
# .base/COMMIT) is built and run beside.
VARIANTS=${AXM_CHECK_VARIANTS-"noreassoc:-DAXM_SMF_REASSOC32=0 bare-minb-4:-DAXM_SMF_MINB32_BARE=4 bare-minb-8:-DAXM_SMF_MINB32_BARE=8 bare64-minb-3:-DAXM_SMF_MINB64_BARE=3 pt512:-DAXM_SMF_PT=512 pskip-1:-DAXM_SMF_PSKIP=1 mrg-minb-4:-DAXM_MRG_MINB1=4,-DAXM_MRG_MINBL=4"}
vbench() { case $1 in mrg-*) echo bench_cuda_mrg ;; *) echo bench_cuda ;; esac; }   # a variant's benchmark
build_variants() {
  for v in $VARIANTS; do
    n=${v%%:*}
    fl=$(echo "${v#*:}" | tr ',' ' ')
    make -j"$JOBS" "$@" BUILD=build-gpu-$n NVCCFLAGS="$NVF $fl" build-gpu-$n/bench/$(vbench "$n") >"$LOG/build_$n.log" 2>&1 &
  done
  if [ -f .base/Makefile ]; then
    make -C .base -j"$JOBS" "$@" BUILD=build-gpu NVCCFLAGS="$NVF" build-gpu/bench/bench_cuda \
      $([ "$MRG" = 1 ] && echo build-gpu/bench/bench_cuda_mrg) >"$LOG/build_base.log" 2>&1 &
  fi
  wait
}
build_variants "$@" &
FASTPID=$!
TO="timeout -k 5"
$TO 150 "$B/gputests/test_parity_smf" >"$LOG/parity.log" 2>&1
prc=$?
if [ "$MRG" = 1 ]; then
  $TO 150 "$B/gputests/test_parity_mrg" >"$LOG/parity_mrg.log" 2>&1 || prc=1
  $TO 120 "$B/gputests/test_parity_mrg_th" >>"$LOG/parity_mrg.log" 2>&1 || prc=1
else
  echo "(MRG skipped: AXM_CHECK_MRG=0)" >"$LOG/parity_mrg.log"
fi
$TO 120 "$B/gputests/test_parity_train" >"$LOG/parity_train.log" 2>&1 || prc=1
wait $FASTPID   # before the benchmarks: their CPU baselines want the cores
fbuild=$?
t2=$(date +%s)
$TO 180 "$B/bench/bench_cuda" >"$LOG/bench.log" 2>&1
brc=$?
if [ "$MRG" = 1 ]; then
  $TO 240 env AXM_BENCH_QUICK=$MRGQ "$B/bench/bench_cuda_mrg" >"$LOG/bench_mrg.log" 2>&1 || brc=1
else
  echo "(MRG skipped: AXM_CHECK_MRG=0)" >"$LOG/bench_mrg.log"
fi
t3=$(date +%s)

# the variants' forward rates, the current kernel's again beside them (same minute, same clocks)
{
  echo "current: $($TO 60 env AXM_BENCH_FORWARD=1 "$B/bench/bench_cuda" 2>&1 | tr '\n' ' ')"
  [ -x .base/build-gpu/bench/bench_cuda ] &&
    echo "base $(cat .base/COMMIT 2>/dev/null): $($TO 60 env AXM_BENCH_FORWARD=1 .base/build-gpu/bench/bench_cuda 2>&1 | tr '\n' ' ')"
  if [ "$MRG" = 1 ]; then   # MRG: the current kernels, then .base's (whose benchmark may print more: cut at 60 s)
    echo "current mrg: $($TO 60 env AXM_BENCH_FORWARD=1 AXM_BENCH_QUICK=$MRGQ "$B/bench/bench_cuda_mrg" 2>&1 | tr '\n' ' ')"
    [ -x .base/build-gpu/bench/bench_cuda_mrg ] &&
      echo "base mrg $(cat .base/COMMIT 2>/dev/null): $($TO 60 env AXM_BENCH_FORWARD=1 AXM_BENCH_QUICK=1 \
        .base/build-gpu/bench/bench_cuda_mrg 2>&1 | sed -n '1,/^(\*/p' | tr '\n' ' ')"
  fi
  for v in $VARIANTS; do
    n=${v%%:*}
    case $n in mrg-*) [ "$MRG" = 1 ] || continue ;; esac
    if [ -x build-gpu-$n/bench/$(vbench "$n") ]; then
      echo "$n: $($TO 60 env AXM_BENCH_FORWARD=1 AXM_BENCH_QUICK=$MRGQ build-gpu-$n/bench/$(vbench "$n") 2>&1 | tr '\n' ' ')"
    else
      echo "$n: build failed"
    fi
  done
} >"$LOG/variants.log" 2>&1
t4=$(date +%s)

# the CLI end to end on the GPU: gendata on the GPU makes the small datasets, then the CLI tests
# whose device paths differ (threshold with sim.device cuda, gendata --device, train "device")
clirc=build-failed
if make -j"$JOBS" "$@" $B/axonml >"$LOG/build_cli.log" 2>&1; then
  S="$LOG/shared/reference/datasets"
  mkdir -p "$S"
  $TO 60 "$B/axonml" gendata presets/gendata-small.json --device cuda --out "$S/train_small.h5" --seed 20240101 --quiet &&
    $TO 60 "$B/axonml" gendata presets/gendata-small.json --device cuda --out "$S/valid_small.h5" --seed 20240202 --quiet
  clirc=$?
  for t in test_threshold test_gendata_device test_train_cuda; do
    echo "# $t"
    AXM_SHARED="$LOG/shared" $TO 120 sh tests/cli/$t.sh "$B"
  done >"$LOG/cli.log" 2>&1
fi

# forward launches under Nsight Compute (B = 10000, 101 nodes, 1000 steps: fp32 packed, fp32 a warp per
# fiber, fp64), then the same launches' stall reasons and pipe use by metric name
NCU=$(command -v ncu 2>/dev/null || ls "$(dirname "$NVCC")/ncu" /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if [ -n "$NCU" ] && [ "$NCUON" = 1 ]; then
  $TO 150 env AXM_BENCH_PROFILE=1 "$NCU" -k regex:smf_ -c 3 --section SpeedOfLight \
    --section ComputeWorkloadAnalysis --section Occupancy --section LaunchStats --section WarpStateStats \
    --section InstructionStats "$B/bench/bench_cuda" >"$LOG/ncu.txt" 2>&1
  $TO 120 env AXM_BENCH_PROFILE=1 "$NCU" -k regex:smf_ -c 3 \
    --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active$' \
    "$B/bench/bench_cuda" >>"$LOG/ncu.txt" 2>&1
else
  echo "no ncu, or AXM_CHECK_QUICK=1 / AXM_CHECK_NCU=0" >"$LOG/ncu.txt"
fi
t5=$(date +%s)

cat "$LOG/parity.log" "$LOG/parity_mrg.log" "$LOG/parity_train.log"
echo
cat "$LOG/bench.log"
echo
cat "$LOG/bench_mrg.log"
echo
echo "kernel resources (f fp32 / d fp64, Li<NPL>, ELi<mode>: 0 threshold, 1 run, 2 run + raster/recorder, 3 bare run;"
echo "  packed: runs, Li<slots per thread>, ELb<bare>):"
sed 's/^/  /' "$LOG/ptxas.txt" | head -32
echo "MRG kernel resources (f fp32 / d fp64 node-state storage):"
sed 's/^/  /' "$LOG/ptxas_mrg.txt"
echo
echo "================ axonml CUDA check ================"
printf "%-22s %s\n" "gpu" "${GPU:-?}"
printf "%-22s %s (%ss, deps %s)\n" "build sm_90" "ok" "$((t1 - t0))" "$DEPS"
echo "goals (issue 5, from bench_cuda and bench_cuda_mrg):"
grep -h '^goal ' "$LOG/bench.log" "$LOG/bench_mrg.log" 2>/dev/null | sed 's/^goal /    /'
printf "%-22s %s (%ss)\n" "parity tests" \
  "$(grep -E '^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' "$LOG/parity.log" | sed 's/^\[ *\([A-Z]*\) *\] \([0-9]*\).*/\2 \1/' | tr '\n' ' ')" \
  "$((t2 - t1))"
printf "%-22s %s\n" "MRG parity tests" \
  "$(grep -E '^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' "$LOG/parity_mrg.log" | sed 's/^\[ *\([A-Z]*\) *\] \([0-9]*\).*/\2 \1/' | tr '\n' ' ')"
printf "%-22s %s\n" "training parity tests" \
  "$(grep -E '^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' "$LOG/parity_train.log" | sed 's/^\[ *\([A-Z]*\) *\] \([0-9]*\).*/\2 \1/' | tr '\n' ' ')"
grep -E "state rel err|fp32 vs fp64|same status|gradient max rel err|one reciprocal at" "$LOG/parity.log" "$LOG/parity_mrg.log" "$LOG/parity_train.log" | sed 's/^[^:]*: */    /'
printf "%-22s rc=%s (%ss)\n" "bench_cuda" "$brc" "$((t3 - t2))"
sed -n '/node-steps\/s/,/^$/p' "$LOG/bench.log" | sed 's/^/    /'
sed -n '/thresholds\/s/,/^$/p' "$LOG/bench.log" | sed 's/^/    /'
sed -n '/^cpu fp64/,$p' "$LOG/bench_mrg.log" | sed 's/^/    MRG /'
sed -n '/ms per step/,/^$/p' "$LOG/bench.log" | sed 's/^/    /'
printf "%-22s (%ss)\n" "forward variants" "$((t4 - t3))"
sed 's/^/    /' "$LOG/variants.log"
for f in "$LOG"/build_*.log; do   # each variant's S-MF plain-run kernels: NPL 4 (W 65..128), packed 2 slots
  [ -f "$f" ] || continue
  printf "    %s: %s\n" "$(basename "$f" .log)" "$(ptxas_smf "$f" | grep -E '^[fd]Li4ELi[13]|^packed fLi2' |
    sed -E 's/ +[0-9]+ bytes stack frame, ([0-9]+) bytes spill stores, ([0-9]+) bytes spill loads/ spill st \1 ld \2 B/' | tr '\n' ';')"
done
printf "%-22s gendata rc=%s, %s ok, %s not ok\n" "CLI on the GPU" "$clirc" "$(grep -c '^ok' "$LOG/cli.log" 2>/dev/null)" \
  "$(grep -c '^not ok' "$LOG/cli.log" 2>/dev/null)"
grep '^not ok' "$LOG/cli.log" 2>/dev/null | sed 's/^/    /'
printf "%-22s %ss (ncu.txt)\n" "ncu profile" "$((t5 - t4))"
grep -E "smf_(packed_)?kernel|Compute \(SM\) Throughput|Memory Throughput|Achieved Occupancy|Issue Slots Busy|Executed Ipc Active|Registers Per|Duration" \
  "$LOG/ncu.txt" | sed 's/^ */    /' | head -40

# what comes back: three files
collect
rm -rf "$LOG"
[ $prc -eq 0 ] && [ $brc -eq 0 ]
