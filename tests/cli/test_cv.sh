#!/bin/sh
# axonml cv end to end ($1 = build folder).
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

"$AX" cv --help >"$T/h" 2>&1
check "cv --help" grep -q "usage: axonml cv" "$T/h"
"$AX" cv presets/mrg.json >"$T/cv.csv" 2>"$T/err"; rc=$?
check "cv on the MRG preset (exit 0)" [ $rc -eq 0 ]
check "cv CSV header" [ "$(head -n 1 "$T/cv.csv" | cut -d, -f1-2)" = "diameter_um,cv_m_per_s" ]
# NEURON reference (shared/reference/mrg_neuron/cv.csv): 25.76, 44.30, 68.14 m/s
awk -F, 'NR>1 {v[NR-1]=$2} END {exit !(v[1] > 25.5 && v[1] < 26.0 && v[2] > 44.0 && v[2] < 44.6 && v[3] > 67.6 && v[3] < 68.7)}' "$T/cv.csv"
check "cv matches the NEURON reference within 1 %" [ $? -eq 0 ]
"$AX" cv presets/mrg.json --out "$T/o.csv" --json >"$T/j" 2>/dev/null
check "cv --out and --json" [ -f "$T/o.csv" ] && grep -q '"cv_m_per_s":' "$T/j"
mrg_small "$T/s.json"
expect_input_error "cv: fewer than 41 nodes -> exit 2" "$AX" cv "$T/s.json"
grep -q "fiber.nodes: expected >= 41" "$T/err"
check "cv: the message names fiber.nodes" [ $? -eq 0 ]
expect_input_error "cv: unknown option -> exit 2" "$AX" cv presets/mrg.json --record v
