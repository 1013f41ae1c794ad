#!/bin/sh
# axonml threshold end to end on the real binary ($1 = build folder).
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

"$AX" threshold --help >"$T/h" 2>&1; rc=$?
check "threshold --help exits 0 with a usage" [ $rc -eq 0 -a -n "$(grep -c 'usage: axonml threshold' "$T/h")" ]

mrg_small "$T/s.json"
"$AX" threshold "$T/s.json" >"$T/out.csv" 2>"$T/err"; rc=$?
check "threshold runs (exit 0)" [ $rc -eq 0 ]
check "threshold CSV header" [ "$(head -n 1 "$T/out.csv")" = "condition,diameter_um,distance_mm,waveform,pw_ms,polarity,threshold_mA,lower_mA,status" ]
check "one row per condition, all ok" [ "$(grep -c ',ok$' "$T/out.csv")" -eq 4 ]
# physics: cathodic below anodic, farther is higher
awk -F, 'NR>1 {th[$3","$6]=$7; lo[NR]=$8; up[NR]=$7}
  END {bad = !(th["1,cathodic"] < th["1,anodic"] && th["2,cathodic"] < th["2,anodic"] &&
               th["1,cathodic"] < th["2,cathodic"] && th["1,anodic"] < th["2,anodic"]);
       for (i in up) if (!(lo[i] < up[i] && (up[i]-lo[i])/up[i] < 0.02)) bad = 1; exit bad}' "$T/out.csv"
check "thresholds: cathodic < anodic, rise with distance, lower < threshold within resolution" [ $? -eq 0 ]

"$AX" threshold "$T/s.json" --out "$T/th.csv" --threads 1 >"$T/o" 2>"$T/err"; rc=$?
check "threshold --out writes the file" [ $rc -eq 0 -a -f "$T/th.csv" ]
check "threshold --out: same table as stdout" cmp -s "$T/th.csv" "$T/out.csv"
check "threshold --out: no temp files left" [ -z "$(ls "$T" | grep '\.tmp\.')" ]
check "threshold --out prints a summary" grep -q "4 thresholds (4 ok)" "$T/o"

"$AX" threshold "$T/s.json" --json >"$T/j" 2>/dev/null; rc=$?
if command -v python3 >/dev/null 2>&1; then
  python3 -c "import json,sys; d=json.load(open('$T/j')); assert len(d['thresholds'])==4 and all(t['status']=='ok' for t in d['thresholds'])" 2>/dev/null
  check "threshold --json is valid JSON with 4 results" [ $? -eq 0 -a $rc -eq 0 ]
else
  check "threshold --json" grep -q '"thresholds":\[' "$T/j"
fi

"$AX" threshold "$T/s.json" --check >"$T/c" 2>&1; rc=$?
check "threshold --check validates without running" [ $rc -eq 0 ] && grep -q "4 conditions" "$T/c"

expect_input_error "threshold: missing config -> exit 2" "$AX" threshold
check "threshold: missing config: names a scenario" grep -q "threshold: expected a scenario CONFIG" "$T/err"
expect_input_error "threshold: unknown option -> exit 2" "$AX" threshold "$T/s.json" --bogus
expect_input_error "threshold: --threads 0 -> exit 2" "$AX" threshold "$T/s.json" --threads 0
expect_input_error "threshold: --out without .csv -> exit 2" "$AX" threshold "$T/s.json" --out "$T/x.txt"
expect_input_error "threshold: config file missing -> exit 2" "$AX" threshold "$T/none.json"

# Ctrl-C: a long sweep stops cleanly, with the decided rows written and no temp file
sed 's/"diameter_um": \[10.0\]/"diameter_um": [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]/; s/"resolution": 0.02/"resolution": 0.0001/; s/"nodes": 21/"nodes": 61/' "$T/s.json" >"$T/long.json"
"$AX" threshold "$T/long.json" --out "$T/long.csv" >/dev/null 2>"$T/err" &
pid=$!
sleep 1
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
if [ $rc -eq 1 ]; then
  check "Ctrl-C: exit 1, 'interrupted', partial table written, no temp file" \
    [ -f "$T/long.csv" -a -z "$(ls "$T" | grep '\.tmp\.')" -a -n "$(grep -l interrupted "$T/err")" ]
else
  check "Ctrl-C: the run finished before the signal (exit 0)" [ $rc -eq 0 ]
fi

# sim.device cuda: the GPU when there is one, else the CPU with a one-line note; same results
sed 's/"device": "cpu"/"device": "cuda"/' "$T/s.json" >"$T/cuda.json"
"$AX" threshold "$T/cuda.json" >"$T/cu.csv" 2>"$T/err"; rc=$?
check "device cuda runs (GPU or CPU fallback), all conditions ok" [ $rc -eq 0 -a "$(grep -c ',ok$' "$T/cu.csv")" -eq 4 ]
if grep -q 'running on the CPU' "$T/err"; then
  check "device cuda fallback: one note line" [ "$(wc -l <"$T/err")" -eq 1 ]
fi
# --device replaces sim.device: cuda on a cpu scenario behaves as the cuda scenario, cpu on the cuda
# scenario runs on the CPU without a note; a bad name is one line, exit 2
"$AX" threshold "$T/s.json" --device cuda >"$T/cu2.csv" 2>"$T/err2"; rc=$?
n1=$(grep -c 'note: device "cuda"' "$T/err"); n2=$(grep -c 'note: device "cuda"' "$T/err2")
check "--device cuda: as sim.device cuda (the same note or none, the same table)" \
  sh -c "[ $rc -eq 0 ] && [ $n1 -eq $n2 ] && cmp -s '$T/cu.csv' '$T/cu2.csv'"
"$AX" threshold "$T/cuda.json" --device cpu >"$T/c3.csv" 2>"$T/err3"; rc=$?
check "--device cpu: on the CPU, no note" [ $rc -eq 0 -a ! -s "$T/err3" -a "$(grep -c ',ok$' "$T/c3.csv")" -eq 4 ]
expect_input_error "--device gpu: exit 2" "$AX" threshold "$T/s.json" --device gpu
check "--device gpu: names the option and the choices" grep -q -- "--device: expected auto, cpu or cuda, got 'gpu'" "$T/err"
