#!/bin/sh
# Error tables of S-MF weights against NEURON (../shared/reference/mrg_neuron) and against our MRG
# on the wide grid of weights/eval/wide-*.json, and action potentials on pulse trains
# (weights/eval/train-*.json) against our MRG.
#   sh weights/eval/eval.sh WEIGHTS.json [TRUTH_DIR] [OUT_DIR]
# TRUTH_DIR caches the MRG thresholds (computed when missing). Needs build/axonml, jq and awk.
# Prints the tables and writes OUT_DIR/summary.json (the measured errors).
set -e
W=${1:?usage: eval.sh WEIGHTS.json [TRUTH_DIR] [OUT_DIR]}
TRUTH=${2:-data/truth}
OUT=${3:-data/eval}
AX=${AXONML:-build/axonml}
REF=${AXM_SHARED:-../shared}/reference/mrg_neuron
THREADS=${THREADS:-2}
mkdir -p "$TRUTH" "$OUT"
smf() { # scenario -> the same scenario with the S-MF and the weights
    jq --arg w "$W" '.model = {"name": "smf", "weights": $w, "precision": "fp64"}' "$1" > "$2"
}

echo "== weights: $W"
# ---- NEURON reference: thresholds ----
for s in ref-mono ref-biphasic; do
    smf weights/eval/$s.json "$OUT/$s.json"
    $AX threshold "$OUT/$s.json" --threads "$THREADS" --quiet > "$OUT/$s-smf.csv"
done
awk -F, '
FNR == 1 { f++; next }
f == 1 { ref[$1 "," $3 "," $4 "," $5] = $6; next }
{ k = $2 "," $4 "," $5 "," $6; if (k in ref) { e = 100 * ($7 / ref[k] - 1);
    printf "  D %4g  %-8s pw %-4g %-8s  NEURON %.5f  S-MF %.5f  %+6.2f %%\n", $2, $4, $5, $6, ref[k], $7, e;
    a = e < 0 ? -e : e; s += a; n++; if (a > mx) mx = a
    rows = rows (n > 1 ? ", " : "") sprintf("{\"D_um\": %g, \"waveform\": \"%s\", \"pw_ms\": %g, \"polarity\": \"%s\", \"neuron_mA\": %.6g, \"smf_mA\": %.6g, \"err_pct\": %.3f}", $2, $4, $5, $6, ref[k], $7, e) } }
END { printf "REF thresholds: n %d  mean|err| %.2f %%  max|err| %.2f %%\n", n, s / n, mx;
      printf "{\"n\": %d, \"mean_abs_pct\": %.3f, \"max_abs_pct\": %.3f, \"rows\": [%s]}\n", n, s / n, mx, rows > "/dev/stderr" }
' "$REF/thresholds.csv" "$OUT/ref-mono-smf.csv" "$OUT/ref-biphasic-smf.csv" 2> "$OUT/ref-thr.json"

# ---- NEURON reference: conduction velocity ----
smf weights/eval/ref-mono.json "$OUT/cv.json"
$AX cv "$OUT/cv.json" --threads "$THREADS" > "$OUT/cv-smf.csv"
awk -F, '
FNR == 1 { f++; next }
f == 1 { ref[$1] = $2; next }
($1 in ref) { e = 100 * ($2 / ref[$1] - 1); a = e < 0 ? -e : e; if (a > mx || $2 != $2) mx = a;
    printf "  D %4g  CV NEURON %.2f  S-MF %.2f m/s  %+6.2f %%\n", $1, ref[$1], $2, e; n++
    rows = rows (n > 1 ? ", " : "") sprintf("{\"D_um\": %g, \"neuron_m_per_s\": %.4f, \"smf_m_per_s\": %.4f, \"err_pct\": %.3f}", $1, ref[$1], $2, e) }
END { printf "REF CV: max|err| %.2f %%\n", mx;
      printf "{\"n\": %d, \"max_abs_pct\": %.3f, \"rows\": [%s]}\n", n, mx, rows > "/dev/stderr" }
' "$REF/cv.csv" "$OUT/cv-smf.csv" 2> "$OUT/ref-cv.json"

# ---- rest: 50 ms, no stimulus, 51 nodes ----
smf weights/eval/rest.json "$OUT/rest.json"
$AX simulate "$OUT/rest.json" --threads "$THREADS" --quiet --every 20 --out "$OUT/rest.csv" > /dev/null
awk -F, 'NR == 1 { next }
{ for (i = 3; i <= NF; i++) { if (!n || $i < lo) lo = $i; if (!n || $i > hi) hi = $i; n++ }
  if ($2 == 0) { v0 = $3 } if ($2 + 0 >= 49.9) { if (!m || $3 < e_lo) e_lo = $3; if (!m || $3 > e_hi) e_hi = $3; m++ } }
END { printf "REST 50 ms: vm in [%.3f, %.3f] mV (start %.1f, end %.3f..%.3f)\n", lo, hi, v0, e_lo, e_hi;
      printf "{\"vm_min\": %.4f, \"vm_max\": %.4f, \"vm_end_min\": %.4f, \"vm_end_max\": %.4f}\n", lo, hi, e_lo, e_hi > "/dev/stderr" }
' "$OUT/rest.csv" 2> "$OUT/rest-summary.json"

# ---- wide grid against our MRG ----
for s in wide-mono wide-biphasic wide-offset; do
    if [ ! -s "$TRUTH/$s-mrg.csv" ]; then
        $AX threshold weights/eval/$s.json --threads "$THREADS" --quiet --out "$TRUTH/$s-mrg.csv"
    fi
    smf weights/eval/$s.json "$OUT/$s.json"
    $AX threshold "$OUT/$s.json" --threads "$THREADS" --quiet --out "$OUT/$s-smf.csv"
done
awk -F, '
FNR == 1 { f++; next }
f % 2 == 1 { t[f, $1] = $7; next }
{ g = (f == 2 ? "mono" : f == 4 ? "biphasic" : "offset0.5"); tr = t[f - 1, $1];
  e = 100 * ($7 / tr - 1); if ($7 != $7 || $9 != "ok") { bad++; next }
  a = e < 0 ? -e : e; n++; s += a; if (a > mx) { mx = a; wk = g " D" $2 " d" $3 " pw" $5 " " $6 }
  if (e < lo || n == 1) lo = e; if (e > hi || n == 1) hi = e; all[n] = a;
  key = g " " $6; gn[key]++; gs[key] += a; if (a > gm[key]) gm[key] = a
  pk = "pw " $5; pn[pk]++; ps[pk] += a; if (a > pm[pk]) pm[pk] = a
  dk = "d " $3; dn[dk]++; ds[dk] += a; if (a > dm[dk]) dm[dk] = a }
END { for (k in gn) printf "  %-22s n %3d  mean|err| %5.2f %%  max %5.2f %%\n", k, gn[k], gs[k] / gn[k], gm[k];
      for (k in pn) printf "  %-22s n %3d  mean|err| %5.2f %%  max %5.2f %%\n", k, pn[k], ps[k] / pn[k], pm[k];
      for (k in dn) printf "  %-22s n %3d  mean|err| %5.2f %%  max %5.2f %%\n", k, dn[k], ds[k] / dn[k], dm[k];
      # median by insertion sort (n is a few hundred)
      for (i = 2; i <= n; i++) { v = all[i]; j = i - 1; while (j > 0 && all[j] > v) { all[j + 1] = all[j]; j-- } all[j + 1] = v }
      med = n % 2 ? all[(n + 1) / 2] : (all[n / 2] + all[n / 2 + 1]) / 2;
      printf "WIDE vs MRG: n %d (+%d failed)  mean|err| %.2f %%  median %.2f %%  range %+.1f..%+.1f %%  worst %s\n", n, bad, s / n, med, lo, hi, wk;
      printf "{\"n\": %d, \"failed\": %d, \"mean_abs_pct\": %.3f, \"median_abs_pct\": %.3f, \"min_pct\": %.3f, \"max_pct\": %.3f, \"worst\": \"%s\"}\n", n, bad + 0, s / n, med, lo, hi, wk > "/dev/stderr" }
' "$TRUTH/wide-mono-mrg.csv" "$OUT/wide-mono-smf.csv" "$TRUTH/wide-biphasic-mrg.csv" "$OUT/wide-biphasic-smf.csv" \
  "$TRUTH/wide-offset-mrg.csv" "$OUT/wide-offset-smf.csv" 2> "$OUT/wide.json"

# ---- pulse trains: action potentials at node 45 (upward crossings of -30 mV: late APs of a fast
# train may peak below 0 mV), S-MF vs our MRG ----
apcount() { # simulate CSV -> "count count ..." per fiber
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "v_node45") c = i; next }
    { f = $1; v = $c; if (seen[f] && v > -30 && pv[f] <= -30) n[f]++; pv[f] = v; seen[f] = 1; if (f + 1 > nf) nf = f + 1 }
    END { for (f = 0; f < nf; f++) printf "%s%d", f ? " " : "", n[f] }' "$1"
}
: > "$OUT/trains.txt"
for s in train-0.25khz train-0.5khz; do
    if [ ! -s "$TRUTH/$s-mrg.txt" ]; then
        $AX simulate weights/eval/$s.json --threads "$THREADS" --quiet --out "$OUT/$s-mrg.csv" > /dev/null
        apcount "$OUT/$s-mrg.csv" > "$TRUTH/$s-mrg.txt"
        rm -f "$OUT/$s-mrg.csv"
    fi
    smf weights/eval/$s.json "$OUT/$s.json"
    $AX simulate "$OUT/$s.json" --threads "$THREADS" --quiet --out "$OUT/$s-smf.csv" > /dev/null
    echo "$s $(jq -c .fiber.diameter_um weights/eval/$s.json) $(cat "$TRUTH/$s-mrg.txt") | $(apcount "$OUT/$s-smf.csv")" >> "$OUT/trains.txt"
    rm -f "$OUT/$s-smf.csv"
done
awk '{ nd = split($2, d, /[][,]/); n = 0; for (i = 1; i <= nd; i++) if (d[i] != "") D[++n] = d[i];
       m = 0; for (i = 3; $i != "|"; i++) M[++m] = $i; k = 0; for (i++; i <= NF; i++) S[++k] = $i;
       for (i = 1; i <= m; i++) { printf "  %-13s D %4g  APs MRG %2d  S-MF %2d\n", $1, D[i], M[i], S[i];
           rows = rows (r++ ? ", " : "") sprintf("{\"train\": \"%s\", \"D_um\": %g, \"mrg\": %d, \"smf\": %d}", $1, D[i], M[i], S[i]);
           dd = M[i] - S[i]; if (dd < 0) dd = -dd; if (dd > mx) mx = dd } }
     END { printf "TRAINS: max |AP count difference| %d\n", mx;
           printf "{\"max_abs_count_diff\": %d, \"rows\": [%s]}\n", mx, rows > "/dev/stderr" }' "$OUT/trains.txt" 2> "$OUT/trains.json"

jq -n --slurpfile t "$OUT/ref-thr.json" --slurpfile c "$OUT/ref-cv.json" --slurpfile r "$OUT/rest-summary.json" \
      --slurpfile w "$OUT/wide.json" --slurpfile p "$OUT/trains.json" \
      '{neuron_thresholds: $t[0], neuron_cv: $c[0], rest_50ms: $r[0], wide_vs_mrg: $w[0], pulse_trains: $p[0]}' > "$OUT/summary.json"
