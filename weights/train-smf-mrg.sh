#!/bin/sh
# Reproduces weights/smf-mrg.json: MRG teacher data -> S-MF training -> evaluation.
#   sh weights/train-smf-mrg.sh            (from the repository root, after `make CUDA=0`)
# Steps: `axonml gendata presets/gendata-smf-mrg.json` (train: seed 4242, valid: seed 4243, 2 runs),
# `axonml train presets/train-smf-mrg.json` (stage 1, truncation 0.25 ms) and
# `axonml train presets/train-smf-mrg-2.json` (stage 2, from stage 1, truncation 0.5 ms), the
# checkpoint chosen by weights/eval/select.sh (thresholds and CV vs our MRG on a selection grid),
# stage 3a `axonml calibrate weights/eval/calibrate-select.json` (axonD/nodeD polynomials and cm,
# coordinate search on the selection grid), then (STAGE3B=1, the default) stage 3a': the s gate's
# rate constants set back to the MRG node's (weights/eval/s-gate-mrg.json: 4 ms traces cannot
# constrain its slow decay, and the trained values fired spontaneously on pulse trains), and
# stages 3b-3d, `axonml calibrate` with weights/eval/calibrate-vegain.json (coupling and ve gain
# at 6/10/14 um), calibrate-smf-mrg.json (those plus cm and the cm gain; the gates' kinetics,
# conductances and leak stay as trained: fits that moved them bought single-pulse accuracy with
# spontaneous spikes on pulse trains) and calibrate-stencil.json (the stencils widened to 5 taps,
# their shapes with the sums kept, and dt = 0.005 ms kept within 0.745 of the explicit step's
# limit at 14 um), calibrate-channels.json (those plus the node's gl, gnapbar and gkbar, guarded
# by a 0.2 kHz train) and calibrate-hgate.json (the h gate's rate constants with the ve gains,
# guarded by a 0.6 kHz train), Levenberg-Marquardt on the
# weights/eval/calib-*.json grids against our MRG: thresholds of both polarities and 5 pulse
# widths, biphasic thresholds, CVs at 6 diameters, a 50 ms rest and the AP counts of a pulse
# train; no condition shared with the reported grids. Then weights/eval/eval.sh prints the error tables (NEURON reference, 50 ms rest,
# wide grid and pulse trains vs our MRG) and the errors are written into the weights' provenance.
# Env: THREADS (2), OUT (weights/smf-mrg.json), FORCE=1 regenerates existing datasets, STAGE3B (1;
# 0 stops after stage 3a),
# REUSE=1 keeps finished training stages, FROM_3A=FILE starts after stage 3a from FILE (a stage-3a
# result), keeping FILE's provenance of stages 1-3a.
# Needs jq and awk. Data go to data/, checkpoints to checkpoints/ (both git-ignored).
set -e
AX=${AXONML:-build/axonml}
THREADS=${THREADS:-2}
OUT=${OUT:-weights/smf-mrg.json}
STAGE3B=${STAGE3B:-1}
export THREADS
[ -x "$AX" ] || { echo "train-smf-mrg.sh: $AX not found (run make CUDA=0 first)" >&2; exit 2; }
mkdir -p data checkpoints
t0=$(date +%s)
if [ -n "${FROM_3A:-}" ]; then
    [ -s "$FROM_3A" ] || { echo "train-smf-mrg.sh: FROM_3A=$FROM_3A not found" >&2; exit 2; }
    rm -f checkpoints/smf-mrg-stage3.json
    cp "$FROM_3A" checkpoints/smf-mrg-stage3a.json
    : > data/calibrate.txt
    t1=$t0
else
if [ "${FORCE:-0}" = 1 ] || [ ! -s data/smf-mrg-train.h5 ]; then
    $AX gendata presets/gendata-smf-mrg.json --out data/smf-mrg-train.h5 --threads "$THREADS" --force --quiet
fi
if [ "${FORCE:-0}" = 1 ] || [ ! -s data/smf-mrg-valid.h5 ]; then
    $AX gendata presets/gendata-smf-mrg.json --out data/smf-mrg-valid.h5 --seed 4243 --runs 2 \
        --threads "$THREADS" --force --quiet
fi
t1=$(date +%s)
last_ckpt() { ls "$1"/*.json | sort | tail -n 1; }
# REUSE=1 keeps finished stages (training is deterministic: same data, seed and threads give the
# same checkpoints), e.g. to redo only the selection and calibration.
if [ "${REUSE:-0}" = 1 ] && [ -s checkpoints/smf-mrg-stage1.json ] && [ -n "$(ls checkpoints/smf-mrg-2 2>/dev/null)" ]; then
    echo "reusing checkpoints/smf-mrg-stage1.json and checkpoints/smf-mrg-2/"
else
    rm -rf checkpoints/smf-mrg-1 checkpoints/smf-mrg-2
    $AX train presets/train-smf-mrg.json --progress none
    S1=$(last_ckpt checkpoints/smf-mrg-1)
    cp "$S1" checkpoints/smf-mrg-stage1.json
    $AX train presets/train-smf-mrg-2.json --progress none
fi
# model selection: thresholds + CV against our MRG on weights/eval/select.json (disjoint from the
# reported grids) and a 50 ms rest check, over stage 1's result and every stage-2 checkpoint
sh weights/eval/select.sh checkpoints/smf-mrg-stage1.json checkpoints/smf-mrg-2/*.json | tee data/select.txt
S2=$(tail -n 1 data/select.txt | cut -d' ' -f2)
SEL=$(tail -n 1 data/select.txt | cut -d' ' -f3-)
# stage 3a: the diameter scaling (axonD, nodeD polynomials) and cm fitted to our MRG's thresholds
# and CVs on the selection grid; 3a': the s gate's kinetics of the MRG; 3b-3c: coupling and ve
# gain, then with cm and the cm gain, fitted to our MRG's thresholds, CVs, rest and a train
rm -f checkpoints/smf-mrg-stage3a.json checkpoints/smf-mrg-stage3.json # tee hides exit codes
$AX calibrate weights/eval/calibrate-select.json --weights "$S2" --out checkpoints/smf-mrg-stage3a.json \
    --threads "$THREADS" 2>&1 | tee data/calibrate.txt
fi
if [ "$STAGE3B" = 1 ]; then
    prev=checkpoints/smf-mrg-3-sgate.json
    jq -s '.[0] * {params: .[1].params}' checkpoints/smf-mrg-stage3a.json weights/eval/s-gate-mrg.json > "$prev"
    for st in vegain smf-mrg stencil channels hgate coord; do
        rm -f checkpoints/smf-mrg-3-$st.json
        $AX calibrate weights/eval/calibrate-$st.json --weights "$prev" --out checkpoints/smf-mrg-3-$st.json \
            --threads "$THREADS" 2>&1 | tee -a data/calibrate.txt
        [ -s checkpoints/smf-mrg-3-$st.json ] || { echo "train-smf-mrg.sh: calibration $st failed" >&2; exit 1; }
        prev=checkpoints/smf-mrg-3-$st.json
    done
    cp "$prev" checkpoints/smf-mrg-stage3.json
else
    cp checkpoints/smf-mrg-stage3a.json checkpoints/smf-mrg-stage3.json
fi
[ -s checkpoints/smf-mrg-stage3.json ] || { echo "train-smf-mrg.sh: calibration failed" >&2; exit 1; }
t2=$(date +%s)
if [ -z "${FROM_3A:-}" ]; then echo "selected: $S2 $SEL"; fi
TMP=$OUT.tmp.json
cp checkpoints/smf-mrg-stage3.json "$TMP"
sh weights/eval/eval.sh "$TMP" data/truth data/eval-smf-mrg
t3=$(date +%s)
if [ -n "${FROM_3A:-}" ]; then
# stages 1-3a as recorded in FROM_3A's provenance; the calibration list and the errors are new
jq --slurpfile e data/eval-smf-mrg/summary.json --slurpfile s3 checkpoints/smf-mrg-stage3.json \
   --argjson te $((t3 - t2)) --argjson tc $((t2 - t1)) --arg from "$FROM_3A" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
   --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" '
  .trained = true |
  .provenance = ($s3[0].provenance + {
    description: "S-MF with a diameter-dependent ve gain (vegain1..3), trained by axonml (C) on its own MRG teacher (NEURON-equivalent): two stages of truncated BPTT on MRG traces, checkpoint selection, and the MRG s-gate kinetics, and calibrations (axonml calibrate) of the diameter scaling, ve and cm gains, cm, the shapes of 5-tap stencils, the node leak, persistent Na and slow K conductances and the h-gate rate constants on MRG thresholds, CVs, rest and pulse trains, within the headroom of the explicit step",
    recipe: "sh weights/train-smf-mrg.sh",
    date: $date,
    cpu: $cpu,
    stages_3b_from: $from,
    wall_s: ($s3[0].provenance.wall_s + {calibration_3b: $tc, eval: $te}),
    errors: $e[0]
  })' "$TMP" > "$OUT.part"
else
jq --slurpfile e data/eval-smf-mrg/summary.json \
   --slurpfile g1 presets/gendata-smf-mrg.json --slurpfile c1 presets/train-smf-mrg.json \
   --slurpfile c2 presets/train-smf-mrg-2.json \
   --arg s2 "$S2" --arg sel "$SEL" --slurpfile s3 checkpoints/smf-mrg-stage3.json --argjson tg $((t1 - t0)) --argjson tt $((t2 - t1)) --argjson te $((t3 - t2)) \
   --arg reuse "${REUSE:-0}" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" '
  .trained = true |
  .provenance = {
    description: "S-MF with a diameter-dependent ve gain (vegain1..3), trained by axonml (C) on its own MRG teacher (NEURON-equivalent): two stages of truncated BPTT on MRG traces, checkpoint selection, and the MRG s-gate kinetics, and calibrations (axonml calibrate) of the diameter scaling, ve and cm gains, cm, the shapes of 5-tap stencils, the node leak, persistent Na and slow K conductances and the h-gate rate constants on MRG thresholds, CVs, rest and pulse trains, within the headroom of the explicit step",
    recipe: "sh weights/train-smf-mrg.sh",
    source: "axonml gendata + axonml train",
    date: $date,
    cpu: $cpu,
    dataset: {train: "data/smf-mrg-train.h5 (presets/gendata-smf-mrg.json, seed 4242)",
              valid: "data/smf-mrg-valid.h5 (same, seed 4243, 2 runs)",
              generator: $g1[0]},
    stages: [{config: "presets/train-smf-mrg.json", epochs: $c1[0].epochs, truncation_length: $c1[0].truncation_length, lr: $c1[0].lr, to_train: $c1[0].to_train},
             {config: "presets/train-smf-mrg-2.json", epochs: $c2[0].epochs, truncation_length: $c2[0].truncation_length, lr: $c2[0].lr, to_train: $c2[0].to_train,
              validation_loss_of_selected: .provenance.validation_loss}],
    calibration: $s3[0].provenance.calibration,
    selected: {checkpoint: $s2, selection: "weights/eval/select.sh (thresholds + CV vs our MRG on weights/eval/select.json, rest check)", score: $sel},
    wall_s: {gendata: $tg, train_and_selection: $tt, eval: $te, stages_1_2_reused: ($reuse == "1")},
    errors: $e[0]
  }' "$TMP" > "$OUT.part"
fi
mv "$OUT.part" "$OUT"
rm -f "$TMP"
echo "wrote $OUT (gendata $((t1 - t0)) s, train + selection $((t2 - t1)) s, eval $((t3 - t2)) s)"
