#!/bin/sh
# Nsight Compute profile of the S-MF forward kernels on a GPU machine, in about two minutes: builds
# bench_cuda for sm_90 (as tests/gpu/check.sh does) and profiles the launches of its profile mode
# (B = 10000, 101 nodes, 1000 steps) with the full section set: the fp32 kernels, a warp per fiber and
# packed, each launch's details and its SASS with the executed count and stall samples per
# instruction, so that a slow spot can be read without Nsight's GUI.
# Usage: sh tests/gpu/profile.sh [outdir] [extra nvcc flags, comma-separated]
# outdir (default $OUT or /tmp/axm-gpu-profile) receives details.txt, sass_kernel.csv (a warp per
# fiber), sass_packed.csv, ncu.log and build.log; then (AXM_PROFILE_MRG=0: not) mrg.txt, the MRG
# forward launch of 1e4 fibers (bench_cuda_mrg's profile mode, 4 lanes per fiber): memory
# throughput, occupancy and stall reasons, to check the latency model of gpu/NOTES.md ("MRG step in
# batches").
set -u
cd "$(dirname "$0")/../.." || exit 2
DEST=${1:-${OUT:-/tmp/axm-gpu-profile}}
EXTRA=$(echo "${2:-}" | tr ',' ' ')
mkdir -p "$DEST"
B=${AXM_PROFILE_BUILD:-build-gpu-prof}   # build-gpu: check.sh's build, if it ran just before
. tests/gpu/deps.sh
NCU=$(command -v ncu 2>/dev/null || ls "$(dirname "$NVCC")/ncu" /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
[ -n "$NCU" ] || { echo "profile: no ncu found"; exit 2; }
make -j"$JOBS" "$@" NVCCFLAGS="$NVF $EXTRA" $B/bench/bench_cuda $B/bench/bench_cuda_mrg >"$DEST/build.log" 2>&1 ||
  { tail -20 "$DEST/build.log"; echo "profile: build failed"; exit 1; }
R=$(mktemp -d)/smf
TO="timeout -k 5"
# the fp32 kernels of bench_cuda's profile mode, each under the full section set: a warp per fiber
# (the first smf_kernel launch) and packed (the first smf_packed_kernel launch)
for K in kernel packed; do
  $TO 150 env AXM_BENCH_PROFILE=1 "$NCU" -k regex:smf_$K -c 1 --set full --import-source no -o "$R-$K" \
    "$B/bench/bench_cuda" >>"$DEST/ncu.log" 2>&1 || { tail -20 "$DEST/ncu.log"; echo "profile: ncu failed"; exit 1; }
  "$NCU" -i "$R-$K.ncu-rep" --page details >>"$DEST/details.txt" 2>&1
  "$NCU" -i "$R-$K.ncu-rep" --page source --print-source sass --csv >"$DEST/sass_$K.csv" 2>&1
done
grep -E "^  [a-z_:<>, 0-9]*smf_|Duration|Compute \(SM\) Throughput|Issue Slots Busy|Executed Ipc Active|Achieved Occupancy|Registers Per|No Eligible|Warp Cycles Per Issued" \
  "$DEST/details.txt" | head -60
if [ "${AXM_PROFILE_MRG:-1}" = 1 ]; then   # the launch after the warm-up's
  $TO 120 env AXM_BENCH_PROFILE=1 "$NCU" -k regex:mrg_kernel --launch-skip 1 -c 1 --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats --section WarpStateStats \
    "$B/bench/bench_cuda_mrg" >"$DEST/mrg.txt" 2>&1 || echo "profile: ncu of the MRG kernel failed (mrg.txt)"
  grep -E "mrg_kernel|Duration|DRAM Throughput|Memory Throughput|L2 Hit Rate|L1/TEX Hit Rate|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Long Scoreboard" \
    "$DEST/mrg.txt" | head -20
fi
