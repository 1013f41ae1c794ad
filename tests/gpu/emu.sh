#!/bin/sh
# Checks the CUDA kernels' logic without a GPU: compiles gpu/*.cu as C++ against a CPU emulation of
# the CUDA runtime (tests/gpu/emu/cuda_runtime.h: one OS thread per GPU thread, per-warp barriers)
# and runs the GPU parity tests with it. Needs a built build/libaxonml.a (make CUDA=0).
# AXM_EMU_FLAGS: extra compiler flags, e.g. a kernel variant's -DAXM_SMF_PT=512 (test_packing_rule
# asserts the default build's packed geometry and fails under a variant that changes it).
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
O=$B/emu
mkdir -p $O
CXXF="-std=c++17 -O1 -g -DAXM_CUDA_EMU -Itests/gpu/emu -Icore -Igpu -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas -pthread ${AXM_EMU_FLAGS:-}"
GOBJ=
for f in gpu/*.cu; do
  g++ $CXXF -x c++ -c "$f" -o "$O/$(basename "$f" .cu).o"
  GOBJ="$GOBJ $O/$(basename "$f" .cu).o"
done
CF="-std=c11 -O1 -g -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -Icore -Igpu -I/usr/include/cjson -I/usr/include/hdf5/serial"
for t in tests/gpu/test_*.c; do
  n=$(basename "$t" .c)
  g++ -o "$O/$n" -x c $t -x none $GOBJ $B/libaxonml.a $CF -lcmocka -lcjson \
      -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lz -lm -pthread 2>/dev/null || \
  { gcc $CF -c $t -o $O/$n.o && g++ -o $O/$n $O/$n.o $GOBJ $B/libaxonml.a -lcmocka -lcjson \
      -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lz -lm -pthread; }
  "$O/$n"
done
# the CLI on the emulated GPU: axonml threshold's MRG path (axm_cuda_mrg_threshold) end to end
g++ -o $O/axonml $B/app/axonml/*.o $B/app/common/*.o $GOBJ $B/libaxonml.a -lcjson \
    -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lz -lm -pthread
sh tests/cli/test_threshold_mrg_device.sh $O | tee $O/cli.log
! grep -q "^not ok" $O/cli.log
