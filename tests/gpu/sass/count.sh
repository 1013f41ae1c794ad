#!/bin/sh
# Static SASS of one time step of the S-MF run kernel's hot path (hot.cu), without a GPU: compiles
# it for sm_90 with the step loop unrolled 3 and 4 times and prints, per precision, the
# instructions that the fourth copy adds (one fiber-step of NPL = 4 slots: 65-128 nodes), by
# opcode class (sass.py), with the registers ptxas used. Counts, not timings: they say what a
# change removes; tests/gpu/check.sh measures on a card.
# Usage: sh tests/gpu/sass/count.sh [nvcc flags, e.g. -DHOT_TAPS=5 -DAXM_SMF_FMAEXP=0]
# HOT=tests/gpu/sass/real.cu: the run kernel itself, whole (the instructions of every path it holds:
# a change to the step shows once per slot), with its spills. LOOP=1: the same build, and of each
# kernel its step loop alone (the body of the longest backward branch: every path the loop holds,
# the lite kernel's drives and monitors included); with -DAXM_SMF_COUNT_FAST (the other paths
# constants) what one step of a common run executes.
set -eu
cd "$(dirname "$0")/../../.."
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# ptxas's registers and spills per kernel, a line each
regs() {
  grep -E "Compiling|spill|registers" "$1" | sed -E 's/.*packed_kernelI([fd])Li([0-9]+)ELb([01]).*/packed \1 npl \2 bare \3/;
    s/.*packed_kernelI([fd])Li([0-9]+)E.*/packed \1 npl \2/; s/.*smf_kernelI([fd])Li[0-9]+ELi([0-9]+).*/\1 mode \2/;
    s/.*hotI([fd]).*/\1/; s/.*Used ([0-9]+) registers.*/\1 registers/; s/^ *//' | paste - - - |
    sed 's/^f/fp32/; s/^d/fp64/; s/^packed f/packed fp32/'
}
[ -n "${LOOP:-}" ] && HOT=${HOT:-tests/gpu/sass/real.cu}
if [ -n "${HOT:-}" ]; then
  "$NVCC" -O3 -std=c++17 -Icore -Igpu -arch=sm_90 -cubin -Xptxas -v "$@" "$HOT" -o "$T/k.cubin" 2>"$T/k.log" ||
    { cat "$T/k.log"; exit 1; }
  regs "$T/k.log"
  python3 tests/gpu/sass/sass.py ${LOOP:+--loop} "$T/k.cubin"
  exit 0
fi
for u in 3 4; do
  "$NVCC" -O3 -std=c++17 -Icore -Igpu -arch=sm_90 -cubin -Xptxas -v -DAXM_STEP_UNROLL=$u "$@" \
    tests/gpu/sass/hot.cu -o "$T/u$u.cubin" 2>"$T/u$u.log" || { cat "$T/u$u.log"; exit 1; }
done
regs "$T/u3.log"
python3 tests/gpu/sass/sass.py "$T/u3.cubin" "$T/u4.cubin"
