#!/bin/sh
# Picks the best checkpoint of a training run by thresholds and conduction velocity against our
# MRG on weights/eval/select.json (a grid disjoint from the reported ones), rejecting checkpoints
# that do not rest (vm leaves [-85, -75] mV in 50 ms without stimulus).
#   sh weights/eval/select.sh CHECKPOINT.json...    prints "score path" lines, best last
# Needs build/axonml, jq, awk.
set -e
AX=${AXONML:-build/axonml}
THREADS=${THREADS:-2}
TRUTH=${TRUTH:-data/truth}
TMP=${TMPDIR:-/tmp}/axm-select.$$
mkdir -p "$TMP" "$TRUTH"
[ -s "$TRUTH/select-mrg.csv" ] || $AX threshold weights/eval/select.json --threads "$THREADS" --quiet --out "$TRUTH/select-mrg.csv"
if [ ! -s "$TRUTH/select-cv-mrg.csv" ]; then
    jq '.fiber.nodes = 51' weights/eval/select.json > "$TMP/cvm.json"
    $AX cv "$TMP/cvm.json" --threads "$THREADS" > "$TRUTH/select-cv-mrg.csv"
fi
for w in "$@"; do
    for s in select rest; do
        jq --arg w "$w" '.model = {"name": "smf", "weights": $w, "precision": "fp64"}' weights/eval/$s.json > "$TMP/$s.json"
    done
    $AX threshold "$TMP/select.json" --threads "$THREADS" --quiet --out "$TMP/thr.csv" > /dev/null
    $AX cv "$TMP/select.json" --threads "$THREADS" > "$TMP/cv.csv"
    $AX simulate "$TMP/rest.json" --threads "$THREADS" --quiet --every 20 --out "$TMP/rest.csv" > /dev/null
    awk -F, -v w="$w" '
    FNR == 1 { f++; next }
    f == 1 { t[$1] = $7; next }
    f == 2 { if ($9 == "ok") { e = $7 / t[$1] - 1; s += e < 0 ? -e : e } else s += 1; n++; next }
    f == 3 { c[$1] = $2; next }
    f == 4 { e = $2 / c[$1] - 1; if ($2 != $2) e = 1; cs += e < 0 ? -e : e; cn++; next }
    { for (i = 3; i <= NF; i++) if ($i < -85 || $i > -75) bad = 1 }
    END { score = 100 * (s / n + cs / cn) + (bad ? 1000 : 0);
          printf "%.3f %s (thr %.2f %%, cv %.2f %%%s)\n", score, w, 100 * s / n, 100 * cs / cn, bad ? ", does not rest" : "" }
    ' "$TRUTH/select-mrg.csv" "$TMP/thr.csv" "$TRUTH/select-cv-mrg.csv" "$TMP/cv.csv" "$TMP/rest.csv"
done | sort -n -r
rm -rf "$TMP"
