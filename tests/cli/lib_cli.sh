# Shared by tests/cli/test_*.sh (sourced): TAP helpers and small MRG scenarios that run in a second.
AX="${B:-build}/axonml"
T=$(mktemp -d "${TMPDIR:-/tmp}/axm_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; }
check() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# expect_input_error DESC CMD...: exit 2 and exactly one line on stderr
expect_input_error() {
  d=$1; shift
  "$@" >"$T/out" 2>"$T/err"; rc=$?
  n=$(wc -l <"$T/err")
  if [ "$rc" -eq 2 ] && [ "$n" -eq 1 ]; then pass "$d"; else fail "$d (exit $rc, $n stderr lines: $(head -c 300 "$T/err"))"; fi
}
# a 21-node MRG fiber, point source, 2 distances x 2 polarities
mrg_small() {
  cat >"$1" <<JSON
{"description": "cli test",
 "model": {"name": "mrg", "precision": "fp64"},
 "fiber": {"nodes": 21, "diameter_um": [10.0]},
 "electrode": {"kind": "point", "rho_ohm_cm": 500, "distance_mm": [1.0, 2.0]},
 "waveform": {"kind": "mono", "pw_ms": 0.1, "delay_ms": 0.5, "polarity": ["cathodic", "anodic"], "amplitude_mA": ${2:-0.5}},
 "sim": {"dt_ms": 0.005, "tstop_ms": 2.5, "device": "cpu"},
 "detect": {"nodes": [3, -4]},
 "threshold": {"resolution": 0.02}}
JSON
}
