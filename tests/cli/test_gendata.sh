#!/bin/sh
# axonml gendata end to end: exit codes, one-line errors, overwrite refusal, determinism,
# --batches/--resume, Ctrl-C and kill -9 followed by --resume (same data as an uninterrupted run).
B=${1:-build}
case "$B" in /*) ;; *) B="$PWD/$B";; esac
A="$B/axonml"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ok() { echo "ok - gendata: $*"; }
nok() { echo "not ok - gendata: $*"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
have_h5diff=0; command -v h5diff >/dev/null 2>&1 && have_h5diff=1
# same DATA: h5diff compares every dataset and attribute (the bytes may differ after kill -9)
same_data() { if [ $have_h5diff = 1 ]; then h5diff -q "$1" "$2" >/dev/null 2>&1; else cmp -s "$1" "$2"; fi; }

ROOT=$PWD
cd "$TMP" || exit 1
# MRG when it is registered, else the S-MF (the file layout and the bookkeeping are the same)
K=mrg
echo '{"model": "mrg"}' > probe.json; : > probe.h5
"$A" gendata probe.json --out probe.h5 2>&1 | grep -q "unknown model kind" && K=smf
cat > small.json <<EOF
{"model": "$K", "nodes": 21, "n_runs": 3, "rows": 1, "fibers": 2, "tstop_ms": 0.5, "seed": 5,
 "delay_ms": [0, 0.2], "pw_ms": [0, 0.2]}
EOF
# long enough (a few seconds) to be interrupted
cat > long.json <<EOF
{"model": "$K", "nodes": 21, "n_runs": 20, "rows": 2, "fibers": 2, "tstop_ms": 1.0, "seed": 6}
EOF

"$A" gendata --help >out.txt 2>&1; rc=$?
check "[ $rc = 0 ] && grep -q -- --resume out.txt" "--help exits 0 and documents --resume"

"$A" gendata small.json >/dev/null 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ]" "missing --out: exit 2, one line"

echo '{"model": "mrg", "rowz": 2}' > bad1.json
"$A" gendata bad1.json --out bad.h5 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q 'bad1.json' err.txt && grep -q rowz err.txt" \
      "unknown key: exit 2, one line naming file and key"
echo '{"model": "mrg", "amp_mA": [0.3, 0.1]}' > bad2.json
"$A" gendata bad2.json --out bad.h5 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q amp_mA err.txt" "reversed range: exit 2, names amp_mA"
echo '{"model": "nosuchmodel"}' > bad3.json
"$A" gendata bad3.json --out bad.h5 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ] && grep -q nosuchmodel err.txt" "unknown model: exit 2, one line"
echo '{"model": "mrg", ' > bad4.json
"$A" gendata bad4.json --out bad.h5 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ]" "invalid JSON: exit 2, one line"
"$A" gendata small.json --out bad.h5 --threads x 2>err.txt; rc=$?
check "[ $rc = 2 ] && [ \$(wc -l <err.txt) = 1 ]" "bad --threads: exit 2"
check "[ ! -e bad.h5 ] && [ ! -e bad.h5.part ]" "bad input leaves no file behind"

# every shipped preset is a valid configuration (checked up to the output refusal: nothing runs)
for p in "$ROOT"/presets/gendata-*.json; do
  [ -f "$p" ] || continue
  : > exists.h5
  "$A" gendata "$p" --out exists.h5 -q 2>err.txt; rc=$?
  check "[ $rc = 2 ] && grep -q 'exists (use --force' err.txt" "preset $(basename "$p") is valid"
done

"$A" gendata small.json --out a.h5 -q; rc=$?
check "[ $rc = 0 ] && [ -s a.h5 ] && [ ! -e a.h5.part ]" "small dataset written (exit 0, no .part left)"
if command -v h5dump >/dev/null 2>&1; then
  check "h5dump -a batches_complete a.h5 | grep -q '(0): 3'" "batches_complete = n_runs"
  check "h5dump -H -p -d v a.h5 | grep -q 'CHUNKED ( 1, 1, 2, 21, 101 )'" "trace chunks are one run (1, R, F, W, T)"
fi
cp a.h5 a_copy.h5
"$A" gendata small.json --out a.h5 -q 2>err.txt; rc=$?
check "[ $rc = 2 ] && grep -q -- --force err.txt && cmp -s a.h5 a_copy.h5" "refuses to overwrite without --force"
"$A" gendata small.json --out a.h5 -q --force; rc=$?
check "[ $rc = 0 ] && cmp -s a.h5 a_copy.h5" "--force regenerates the same bytes (deterministic)"
"$A" gendata small.json --out a3.h5 -q --threads 1; rc=$?
check "[ $rc = 0 ] && cmp -s a3.h5 a_copy.h5" "1 thread gives the same bytes as 2"
"$A" gendata small.json --out s.h5 -q --seed 6
check "! cmp -s s.h5 a_copy.h5" "--seed changes the data"

"$A" gendata small.json --out b.h5 -q --batches 1; rc=$?
check "[ $rc = 0 ] && [ -e b.h5.part ] && [ ! -e b.h5 ]" "--batches 1 stops with a .part file"
"$A" gendata small.json --out b.h5 -q 2>err.txt; rc=$?
check "[ $rc = 2 ] && grep -q -- --resume err.txt" "an unfinished .part is not overwritten without --resume/--force"
"$A" gendata small.json --out b.h5 -q --resume --seed 9 2>err.txt; rc=$?
check "[ $rc = 2 ] && grep -q 'other settings' err.txt" "--resume with other settings is refused"
"$A" gendata small.json --out b.h5 -q --resume; rc=$?
check "[ $rc = 0 ] && [ -e b.h5 ] && [ ! -e b.h5.part ] && cmp -s b.h5 a_copy.h5" "--resume completes it: same bytes"
"$A" gendata small.json --out b.h5 --resume >out.txt; rc=$?
check "[ $rc = 0 ] && grep -q 'nothing to do' out.txt" "--resume of a complete file is a no-op"

# reference for the interrupted runs
"$A" gendata long.json --out full.h5 -q; rc=$?
check "[ $rc = 0 ]" "longer dataset written"

# wait_part FILE: until the run has created its .part file (at most ~5 s), then a little more
wait_part() { n=0; while [ ! -e "$1.part" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done; sleep 0.4; }
"$A" gendata long.json --out int.h5 -q 2>err.txt & pid=$!
wait_part int.h5; kill -INT $pid 2>/dev/null; wait $pid; rc=$?
if [ $rc = 0 ]; then
  ok "Ctrl-C: (finished before the signal)"
else
  check "[ $rc = 1 ] && [ -e int.h5.part ] && grep -q 'resume' err.txt" "Ctrl-C: exit 1, .part kept, says how to resume"
  "$A" gendata long.json --out int.h5 -q --resume; rc=$?
  check "[ $rc = 0 ] && cmp -s int.h5 full.h5" "resume after Ctrl-C: same bytes as an uninterrupted run"
fi

"$A" gendata long.json --out kill.h5 -q & pid=$!
wait_part kill.h5; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
"$A" gendata long.json --out kill.h5 -q --resume; rc=$?
check "[ $rc = 0 ] && same_data kill.h5 full.h5" "resume after kill -9: same data as an uninterrupted run"

# --check: the plan without a file (no --out needed); a bad config still exits 2
before=$(ls | grep -c '\.h5')
"$A" gendata small.json --check --runs 4 >chk.txt 2>err.txt; rc=$?
check "[ $rc = 0 ] && [ ! -s err.txt ] && [ \$(ls | grep -c '\.h5') -eq $before ] && grep -q 'small.json: ok, model $K, 4 runs x 1 rows x 2 fibers = 8 fibers, 21 nodes, 101 samples per trace, seed 5, device cpu' chk.txt" \
  "--check: the plan, exit 0, no data file"
echo '{"model": "mrg", "nodes": 1}' > badn.json
"$A" gendata badn.json --check >chk.txt 2>err.txt; rc=$?
check "[ $rc = 2 ] && grep -q 'badn.json' err.txt" "--check on a bad config: exit 2 naming it"
# a config's weights file by the config lookup's rule (here: found in the axonml tree)
mkdir -p own
echo '{"model": "smf", "weights": "weights/smf-mrg.json", "nodes": 21, "n_runs": 1, "rows": 1, "fibers": 2, "tstop_ms": 0.2}' > own/w.json
"$A" gendata own/w.json --out own/w.h5 -q 2>err.txt; rc=$?
check "[ $rc = 0 ] && [ -s own/w.h5 ]" "weights named relative to the axonml tree are found from another folder"
exit 0
