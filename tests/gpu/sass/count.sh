#!/bin/sh
# Static SASS of one time step of the S-MF run kernel's hot path (hot.cu), without a GPU: compiles
# it for sm_90 with the step loop unrolled 3 and 4 times and prints, per precision, the
# instructions that the fourth copy adds (one fiber-step of NPL = 4 slots: 65-128 nodes), by
# opcode class (sass.py), with the registers ptxas used. Counts, not timings: they say what a
# change removes; tests/gpu/check.sh measures on a card.
# Usage: sh tests/gpu/sass/count.sh [nvcc flags, e.g. -DHOT_TAPS=5 -DAXM_SMF_FMAEXP=0]
set -eu
cd "$(dirname "$0")/../../.."
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for u in 3 4; do
  "$NVCC" -O3 -std=c++17 -Icore -Igpu -arch=sm_90 -cubin -Xptxas -v -DAXM_STEP_UNROLL=$u "$@" \
    tests/gpu/sass/hot.cu -o "$T/u$u.cubin" 2>"$T/u$u.log" || { cat "$T/u$u.log"; exit 1; }
done
grep -E "Compiling|registers" "$T/u3.log" | sed -E 's/.*hotI([fd]).*/\1/; s/.*Used ([0-9]+) registers.*/\1 registers/' | paste - - |
  sed 's/^f/fp32/; s/^d/fp64/'
python3 tests/gpu/sass/sass.py "$T/u3.cubin" "$T/u4.cubin"
