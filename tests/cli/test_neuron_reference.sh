#!/bin/sh
# End to end against NEURON: every condition of shared/reference/mrg_neuron/thresholds.csv (mono
# cathodic/anodic, biphasic) through scenario files and `axonml threshold` on the MRG model, and
# cv.csv through `axonml cv`. Bounds of issue 3: every threshold within 0.5 %, median within 0.1 %,
# every CV within 1 %.
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"
REF="${AXM_SHARED:-../shared}/reference/mrg_neuron"
if [ ! -f "$REF/thresholds.csv" ]; then echo "ok - # SKIP no $REF"; exit 0; fi
if [ "${AXM_SLOW:-1}" = 0 ]; then echo "ok - # SKIP NEURON reference sweep (AXM_SLOW=0)"; exit 0; fi

scen() { # FILE WAVEKIND PW POLARITIES
  cat >"$1" <<JSON
{"model": {"name": "mrg", "precision": "fp64"},
 "fiber": {"nodes": 51, "diameter_um": [6.0, 9.0, 13.0]},
 "electrode": {"kind": "point", "rho_ohm_cm": 500, "distance_mm": 1.5, "offset_mm": 0.0},
 "waveform": {"kind": "$2", "pw_ms": $3, "delay_ms": 0.5, "polarity": $4, "amplitude_mA": 0.5},
 "sim": {"dt_ms": 0.005, "tstop_ms": 5.0, "device": "cpu"},
 "detect": {"threshold_mV": 0.0, "nodes": [5, 45]},
 "threshold": {"resolution": 0.001}}
JSON
}
scen "$T/mono.json" mono "[0.1, 0.4]" '["cathodic", "anodic"]'
scen "$T/biph.json" biphasic 0.2 '"cathodic"'
"$AX" threshold "$T/mono.json" --quiet --out "$T/mono.csv" 2>"$T/err1"; r1=$?
"$AX" threshold "$T/biph.json" --quiet --out "$T/biph.csv" 2>"$T/err2"; r2=$?
check "threshold runs the reference conditions (exit $r1 $r2)" [ $r1 -eq 0 -a $r2 -eq 0 ]
tail -n +2 "$T/mono.csv" >"$T/ours.csv"; tail -n +2 "$T/biph.csv" >>"$T/ours.csv"
# columns: condition,diameter_um,distance_mm,waveform,pw_ms,polarity,threshold_mA,...
awk -F, 'NR==FNR { if (FNR > 1) ref[$1+0 "," $3 "," $4+0 "," $5] = $6; next }
         { k = $2+0 "," $4 "," $5+0 "," $6; if (k in ref) { e = 100 * ($7 - ref[k]) / ref[k];
           printf "%s,%.4f\n", k, e } }' "$REF/thresholds.csv" "$T/ours.csv" >"$T/err.csv"
n=$(wc -l <"$T/err.csv")
nref=$(($(wc -l <"$REF/thresholds.csv") - 1))
check "every NEURON reference condition computed ($n of $nref)" [ "$n" -eq "$nref" ]
awk -F, '{ printf "#   D %s %s pw %s %s: %+.3f %%\n", $1, $2, $3, $4, $5 }' "$T/err.csv"
check "every threshold within 0.5 % of NEURON" awk -F, '{ a = $5 < 0 ? -$5 : $5; if (a > 0.5) bad = 1 } END { exit bad }' "$T/err.csv"
med=$(awk -F, '{ print ($5 < 0 ? -$5 : $5) }' "$T/err.csv" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
check "median |threshold error| $med % <= 0.1 %" awk -v m="$med" 'BEGIN { exit !(m <= 0.1) }'

cat >"$T/cv.json" <<JSON
{"model": {"name": "mrg", "precision": "fp64"},
 "fiber": {"nodes": 51, "diameter_um": [6.0, 9.0, 13.0]},
 "sim": {"dt_ms": 0.005, "tstop_ms": 5.0}}
JSON
"$AX" cv "$T/cv.json" --quiet --out "$T/cv.csv" 2>"$T/err3"; r3=$?
check "cv runs (exit $r3: $(head -c 200 "$T/err3"))" [ $r3 -eq 0 ]
check "every CV within 1 % of NEURON" awk -F, 'NR==FNR { if (FNR > 1) ref[$1+0] = $2; next }
  FNR > 1 { e = 100 * ($2 - ref[$1+0]) / ref[$1+0]; printf "#   CV D %s: %+.4f %%\n", $1, e > "/dev/stderr";
            if (e > 1 || e < -1) bad = 1; n++ } END { exit bad || n != 3 }' "$REF/cv.csv" "$T/cv.csv"
