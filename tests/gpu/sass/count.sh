#!/bin/sh
# Static SASS of one time step of the S-MF run kernel's hot path (hot.cu), without a GPU: compiles
# it for sm_90 with the step loop unrolled 3 and 4 times and prints, per precision, the
# instructions that the fourth copy adds (one fiber-step of NPL = 4 slots: 65-128 nodes), by
# opcode class (sass.py), with the registers ptxas used. Counts, not timings: they say what a
# change removes; tests/gpu/check.sh measures on a card.
# Usage: sh tests/gpu/sass/count.sh [nvcc flags, e.g. -DHOT_TAPS=5 -DAXM_SMF_FMAEXP=0]
# HOT=tests/gpu/sass/real.cu: the run kernel itself, whole (the instructions of every path it holds:
# a change to the step shows once per slot), with its spills.
set -eu
cd "$(dirname "$0")/../../.."
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ -n "${HOT:-}" ]; then
  "$NVCC" -O3 -std=c++17 -Icore -Igpu -arch=sm_90 -cubin -Xptxas -v "$@" "$HOT" -o "$T/k.cubin" 2>"$T/k.log" ||
    { cat "$T/k.log"; exit 1; }
  grep -E "Compiling|spill|registers" "$T/k.log" | sed -E 's/.*packed_kernelI([fd]).*/packed \1/; s/.*kernelI([fd]).*/\1/; s/.*Used ([0-9]+) registers.*/\1 registers/;
    s/^ *//' | paste - - - | sed 's/^f/fp32/; s/^d/fp64/; s/^packed f/packed fp32/'
  python3 tests/gpu/sass/sass.py "$T/k.cubin"
  exit 0
fi
for u in 3 4; do
  "$NVCC" -O3 -std=c++17 -Icore -Igpu -arch=sm_90 -cubin -Xptxas -v -DAXM_STEP_UNROLL=$u "$@" \
    tests/gpu/sass/hot.cu -o "$T/u$u.cubin" 2>"$T/u$u.log" || { cat "$T/u$u.log"; exit 1; }
done
grep -E "Compiling|registers" "$T/u3.log" | sed -E 's/.*hotI([fd]).*/\1/; s/.*Used ([0-9]+) registers.*/\1 registers/' | paste - - |
  sed 's/^f/fp32/; s/^d/fp64/'
python3 tests/gpu/sass/sass.py "$T/u3.cubin" "$T/u4.cubin"
