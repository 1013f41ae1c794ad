#!/bin/sh
# axonml threshold on an MRG scenario with sim.device cuda / auto ($1 = build folder): the GPU search
# (axm_cuda_mrg_threshold) where a CUDA device is usable, else the CPU with one note line; either way
# the same table as the CPU (fp64: the GPU tries the same amplitudes and decides alike).
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

mrg_small "$T/cpu.json"
sed 's/"diameter_um": \[10.0\]/"diameter_um": [7.3, 10.0, 14.0]/' "$T/cpu.json" >"$T/c3.json"
"$AX" threshold "$T/c3.json" --quiet >"$T/cpu.csv" 2>"$T/err_cpu"; rc=$?
check "device cpu: MRG thresholds (exit 0, 12 rows ok)" [ $rc -eq 0 -a "$(grep -c ',ok$' "$T/cpu.csv")" -eq 12 ]
for dev in cuda auto; do
  sed "s/\"device\": \"cpu\"/\"device\": \"$dev\"/" "$T/c3.json" >"$T/$dev.json"
  "$AX" threshold "$T/$dev.json" --quiet >"$T/$dev.csv" 2>"$T/err"; rc=$?
  check "device $dev: exit 0" [ $rc -eq 0 ]
  if grep -q 'running on the CPU' "$T/err"; then
    check "device $dev without a usable GPU: one note line" [ "$(wc -l <"$T/err")" -eq 1 ]
  else
    check "device $dev on the GPU: no note" [ ! -s "$T/err" ]
  fi
  check "device $dev: the same table as the CPU" cmp -s "$T/$dev.csv" "$T/cpu.csv"
done
