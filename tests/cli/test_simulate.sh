#!/bin/sh
# axonml simulate end to end ($1 = build folder).
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

"$AX" simulate --help >"$T/h" 2>&1
check "simulate --help" grep -q "usage: axonml simulate" "$T/h"
# 1 mA cathodic at 1 mm fires a 10 um fiber; 0.001 mA does not
mrg_small "$T/hi.json" 1.0
mrg_small "$T/lo.json" 0.001
"$AX" simulate "$T/hi.json" >"$T/hi.out" 2>"$T/err"; rc=$?
check "simulate runs (exit 0)" [ $rc -eq 0 ]
check "simulate: strong cathodic pulse at 1 mm fires" [ "$(awk -F, '$1==0 {print $8}' "$T/hi.out")" = 1 ]
"$AX" simulate "$T/lo.json" >"$T/lo.out" 2>/dev/null
check "simulate: 1 uA does not fire" [ "$(awk -F, 'NR>1 {s+=$8} END {print s}' "$T/lo.out")" = 0 ]

"$AX" simulate "$T/hi.json" --out "$T/v.csv" --every 10 >/dev/null 2>&1; rc=$?
check "simulate --out CSV (exit 0)" [ $rc -eq 0 -a -f "$T/v.csv" ]
hdr=$(head -n 1 "$T/v.csv")
check "CSV columns fiber,t_ms,v_node0..v_node20" [ "$(echo "$hdr" | cut -d, -f1-3)" = "fiber,t_ms,v_node0" -a "$(echo "$hdr" | awk -F, '{print NF, $NF}')" = "23 v_node20" ]
# 500 steps every 10 -> 51 frames (t = 0 included) x 4 fibers
check "CSV rows: 4 fibers x 51 frames" [ "$(($(wc -l <"$T/v.csv") - 1))" -eq 204 ]
check "CSV starts at rest (-80 mV at t = 0)" [ "$(awk -F, 'NR==2 {print $2, ($3 > -80.5 && $3 < -79.5)}' "$T/v.csv")" = "0 1" ]
"$AX" simulate "$T/hi.json" --out "$T/a.csv" --record all --every 100 >/dev/null 2>&1
check "simulate --record all: every state" grep -q "^fiber,t_ms,.*_node0,.*,v_node20$" "$T/a.csv"

"$AX" simulate "$T/hi.json" --out "$T/v.h5" --every 5 >/dev/null 2>&1; rc=$?
check "simulate --out HDF5 (exit 0)" [ $rc -eq 0 -a -f "$T/v.h5" ]
if command -v h5dump >/dev/null 2>&1; then
  h5dump -H "$T/v.h5" >"$T/h5" 2>&1
  check "HDF5: v is (101, 4, 21), with t_ms, diameter_um, polarity, active" \
    sh -c "grep -q 'DATASET \"v\"' '$T/h5' && grep -q '( 101, 4, 21 )' '$T/h5' && grep -q 'DATASET \"t_ms\"' '$T/h5' && grep -q 'DATASET \"active\"' '$T/h5' && grep -q 'ATTRIBUTE \"dt_ms\"' '$T/h5'"
fi
"$AX" simulate "$T/hi.json" --json >"$T/j" 2>/dev/null
check "simulate --json" grep -q '"conditions":\[{"fiber":0' "$T/j"
check "no temp files left" [ -z "$(ls "$T" | grep '\.tmp\.')" ]

expect_input_error "simulate: --every 0 -> exit 2" "$AX" simulate "$T/hi.json" --every 0
expect_input_error "simulate: --record x -> exit 2" "$AX" simulate "$T/hi.json" --record x
expect_input_error "simulate: --out .txt -> exit 2" "$AX" simulate "$T/hi.json" --out "$T/x.txt"
"$AX" simulate "$T/hi.json" --out /nonexistent-dir/x.csv >/dev/null 2>"$T/err"; rc=$?
check "simulate: unwritable output -> exit 1" [ $rc -eq 1 ]
