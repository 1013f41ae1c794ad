#!/bin/sh
# Every preset is a valid scenario with a description ($1 = build folder). S-MF presets need the
# trained weights they name; without them they are reported as skipped.
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"
for p in presets/*.json; do
  case "$p" in presets/train-*|presets/gendata-*) continue;; esac
  grep -q '"description"' "$p" || { fail "$p has a description"; continue; }
  "$AX" threshold "$p" --check >"$T/o" 2>"$T/err"; rc=$?
  if [ $rc -eq 0 ]; then pass "$p is valid ($(cut -d, -f2 "$T/o"))"
  elif [ $rc -eq 2 ] && grep -q 'model.weights: expected a readable file' "$T/err"; then
    pass "$p # SKIP weights missing: $(cut -c1-120 "$T/err")"
  else fail "$p ($(head -c 300 "$T/err"))"; fi
done
# a preset copied elsewhere still finds the weights it names (weights/... of the axonml tree), and
# a name found nowhere says where it was looked for
case "$AX" in /*) AXA=$AX;; *) AXA=$(pwd)/$AX;; esac
mkdir -p "$T/mine"
cp presets/default.json "$T/mine/s.json"
sed 's#"weights/smf-mrg.json"#"weights/none.json"#' presets/default.json >"$T/mine/n.json"
(cd "$T/mine" && "$AXA" threshold s.json --check) >"$T/o" 2>"$T/err"; rc=$?
check "a copied preset finds its weights in the axonml tree" [ $rc -eq 0 ]
(cd "$T/mine" && "$AXA" threshold n.json --check) >"$T/o" 2>"$T/err"; rc=$?
check "a missing weights file: exit 2, the places looked in" sh -c "[ $rc -eq 2 ] && grep -q 'n.json: model.weights: expected a readable file, got \"weights/none.json\" (No such file or directory; looked in the current folder, ., ./.., /' '$T/err'"
"$AX" threshold presets/mrg.json >"$T/m.csv" 2>/dev/null; rc=$?
# NEURON: 0.4073, 0.2594, 0.2004 mA
awk -F, 'NR>1 {v[NR-1]=$7} END {exit !(v[1] > 0.405 && v[1] < 0.410 && v[2] > 0.258 && v[2] < 0.261 && v[3] > 0.199 && v[3] < 0.202)}' "$T/m.csv"
check "presets/mrg.json thresholds match the NEURON reference" [ $rc -eq 0 -a $? -eq 0 ]
# the default preset gives a threshold for every condition (slow under sanitizers: skipped there)
if [ "${AXM_SLOW:-1}" != 0 ]; then
  "$AX" threshold presets/default.json --out "$T/d.csv" >/dev/null 2>&1; rc=$?
  n=$(grep -c ',ok$' "$T/d.csv" 2>/dev/null)
  check "presets/default.json: every one of the 120 conditions has a threshold" [ $rc -eq 0 -a "${n:-0}" -eq 120 ]
fi
