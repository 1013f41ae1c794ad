#!/bin/sh
# Bad scenarios give exit 2 and one line naming the file and key ($1 = build folder).
B=${1:-build}
. "$(dirname "$0")/lib_cli.sh"

bad() { # DESC KEY_IN_MESSAGE JSON
  printf '%s\n' "$3" >"$T/bad.json"
  for cmd in threshold simulate; do
    "$AX" $cmd "$T/bad.json" >/dev/null 2>"$T/err"; rc=$?
    n=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && grep -q "bad.json" "$T/err" && grep -q -- "$2" "$T/err"; then
      pass "$cmd: $1"
    else
      fail "$cmd: $1 (exit $rc, $n lines: $(head -c 300 "$T/err"))"
    fi
  done
}
F='"fiber": {"nodes": 21, "diameter_um": 10}'
bad "malformed JSON names the line" "bad.json:3:" '{
"fiber": {"nodes": 21,
   "diameter_um": 10,, }}'
bad "wrong type" "fiber.nodes: expected an integer" '{"fiber": {"nodes": "21", "diameter_um": 10}}'
bad "negative diameter" "fiber.diameter_um\[1\]: expected a number > 0, got -2" '{"fiber": {"nodes": 21, "diameter_um": [5, -2]}}'
bad "nodes < 3" "fiber.nodes" '{"fiber": {"nodes": 2, "diameter_um": 10}}'
bad "dt <= 0" "sim.dt_ms: expected a number > 0" "{$F, \"sim\": {\"dt_ms\": 0}}"
bad "tstop <= dt" "sim.tstop_ms" "{$F, \"sim\": {\"dt_ms\": 0.01, \"tstop_ms\": 0.005}}"
bad "resolution outside (0,1)" "threshold.resolution" "{$F, \"threshold\": {\"resolution\": 1.5}}"
bad "unknown key" "fiber.lenght" '{"fiber": {"nodes": 21, "diameter_um": 10, "lenght": 5}}'
bad "unreadable weights" "model.weights: expected a readable file" "{\"model\": {\"weights\": \"$T/no-such-weights.json\"}, $F}"
bad "unreadable field file" "electrode.file: expected a readable file" "{$F, \"electrode\": {\"kind\": \"table\", \"file\": \"$T/no-field.csv\"}, \"waveform\": {}}"
bad "unreadable samples file" "waveform.file" "{$F, \"electrode\": {}, \"waveform\": {\"kind\": \"samples\", \"file\": \"$T/no.csv\"}}"
bad "bad polarity" "waveform.polarity" "{$F, \"electrode\": {}, \"waveform\": {\"polarity\": \"north\"}}"
printf '{"model": {"weights": "%s/w.json"}, %s}\n' "$T" "$F" >"$T/bw.json"
printf '{"format": "something-else"}\n' >"$T/w.json"
"$AX" threshold "$T/bw.json" >/dev/null 2>"$T/err"; rc=$?
check "weights file with the wrong format -> exit 2, one line naming model.weights" \
  [ $rc -eq 2 -a "$(wc -l <"$T/err")" -eq 1 -a -n "$(grep -l 'model.weights' "$T/err")" ]
printf '{"format": "axonml-weights", "version": 1, "model": "smf", "trained": true, "params": {"gl": 0.08, "gl": 0.02}}\n' >"$T/w.json"
"$AX" threshold "$T/bw.json" >/dev/null 2>"$T/err"; rc=$?
check "weights file with a parameter given twice -> exit 2, one line naming it" \
  [ $rc -eq 2 -a "$(wc -l <"$T/err")" -eq 1 -a -n "$(grep -l 'model.weights: .*w.json: params.gl: expected each key once' "$T/err")" ]
printf '{"format": "axonml-weights", "version": 1, "model": "smf", "params": {"cm": "thin"}}\n' >"$T/w.json"
"$AX" threshold "$T/bw.json" >/dev/null 2>"$T/err"; rc=$?
check "weights file with a non-number parameter -> exit 2, says what it got" \
  [ $rc -eq 2 -a "$(wc -l <"$T/err")" -eq 1 -a -n "$(grep -l 'params.cm: expected a finite number, got "thin"' "$T/err")" ]
