#!/bin/sh
# axonml calibrate end to end ($1 = build folder): a one-parameter fit of the shipped S-MF weights
# to a small MRG grid, its output weights and provenance, and the input errors.
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

"$AX" calibrate --help >"$T/h" 2>&1
check "calibrate --help" grep -q "usage: axonml calibrate" "$T/h"
mrg_small "$T/grid.json"
cat >"$T/cal.json" <<JSON
{"grids": ["$T/grid.json"], "params": ["cm", "axonD@10"], "method": "lm", "iters": 1}
JSON
"$AX" calibrate "$T/cal.json" --weights weights/smf-mrg.json --out "$T/w.json" --threads 2 >"$T/o" 2>"$T/err"; rc=$?
check "calibrate a small grid (exit 0)" [ $rc -eq 0 ]
check "calibrate reports the objective" grep -q "objective .* -> " "$T/err"
check "calibrate writes weights with a calibration record" grep -q '"tool":[[:space:]]*"axonml calibrate"' "$T/w.json"
# the output is a valid weights file: a threshold run on it works
sed "s#\"name\": \"mrg\"#\"name\": \"smf\", \"weights\": \"$T/w.json\"#" "$T/grid.json" >"$T/g2.json"
"$AX" threshold "$T/g2.json" --quiet --threads 2 >"$T/thr.csv" 2>/dev/null
check "the calibrated weights run" [ "$(grep -c ',ok$' "$T/thr.csv")" -eq 4 ]
"$AX" calibrate "$T/cal.json" --weights weights/smf-mrg.json --check >"$T/c" 2>/dev/null
check "calibrate --check" grep -q "ok, 2 parameters, 4 residuals" "$T/c"
expect_input_error "calibrate: no CONFIG -> exit 2" "$AX" calibrate --weights weights/smf-mrg.json --out "$T/x.json"
check "calibrate: no CONFIG: names a calibration config" grep -q "calibrate: expected a calibration CONFIG" "$T/err"
expect_input_error "calibrate: no --weights -> exit 2" "$AX" calibrate "$T/cal.json" --out "$T/x.json"
expect_input_error "calibrate: --out not .json -> exit 2" "$AX" calibrate "$T/cal.json" --weights weights/smf-mrg.json --out "$T/x.csv"
expect_input_error "calibrate: --device -> exit 2 (it runs on the CPU)" "$AX" calibrate "$T/cal.json" --weights weights/smf-mrg.json --out "$T/x.json" --device cuda
echo '{"grids": ["a.json"], "params": ["cm"], "iterz": 2}' >"$T/bad.json"
expect_input_error "calibrate: unknown config key -> exit 2" "$AX" calibrate "$T/bad.json" --weights weights/smf-mrg.json --out "$T/x.json"
check "calibrate: the message names the key" grep -q 'unknown key "iterz"' "$T/err"
echo '{"grids": ["'"$T"'/grid.json"], "params": ["gbar"]}' >"$T/bad2.json"
expect_input_error "calibrate: unknown parameter -> exit 2" "$AX" calibrate "$T/bad2.json" --weights weights/smf-mrg.json --out "$T/x.json" --quiet
check "calibrate: the message names the parameter" grep -q '"gbar"' "$T/err"
