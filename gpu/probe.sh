#!/bin/sh
# Can this machine build the CUDA backend?  Compiles a one-line .cu with the flags the real
# build uses and links it with the host compiler and the CUDA runtime, so that a toolkit with
# nvcc but no static runtime (or an nvcc too old for sm_90) turns the backend off instead of
# failing the link of every program.  The Makefile caches the answer per build directory.
#
#   sh gpu/probe.sh OUTDIR NVCC CC "NVCCFLAGS" "LINKFLAGS"
# Prints "ok" or "no: <first line of the error>".
out=$1 nvcc=$2 cc=$3 nvflags=$4 ldflags=$5
mkdir -p "$out" || { echo "no: cannot create $out"; exit 0; }
src="$out/probe.cu" obj="$out/probe.o" exe="$out/probe" log="$out/probe.log"
cat > "$src" <<'CU'
#include <cuda_runtime.h>
__global__ void axm_probe_kernel(int *p) { *p = 1; }
extern "C" int axm_probe(void) { int n = 0; return cudaGetDeviceCount(&n) == cudaSuccess ? n : -1; }
CU
printf 'extern int axm_probe(void);\nint main(void) { return axm_probe() < -1; }\n' > "$out/probe_main.c"
# shellcheck disable=SC2086
if ! "$nvcc" $nvflags -c "$src" -o "$obj" > "$log" 2>&1; then
    echo "no: nvcc failed: $(grep -m1 -i error "$log" || head -n1 "$log")"
elif ! "$cc" -o "$exe" "$out/probe_main.c" "$obj" $ldflags > "$log" 2>&1; then
    echo "no: link failed: $(grep -m1 -i -e 'cannot find' -e error "$log" || head -n1 "$log")"
else
    echo ok
fi
rm -f "$src" "$obj" "$exe" "$out/probe_main.c"
