#!/usr/bin/env python3
"""Stage 3 of weights/smf-mrg.json: fits the S-MF's diameter scaling (axonD and nodeD polynomials)
and cm to our MRG teacher's thresholds and conduction velocities on weights/eval/select.json
(a grid disjoint from the reported ones; the NEURON reference is not used). Trace-MSE training
(stages 1-2) leaves a diameter trend (large fibers too excitable, small ones too slow) that these
few parameters control: threshold ~ ra ~ 1/axonD^2, CV ~ 1/(ra Cn).

    python3 weights/eval/calibrate.py IN.json OUT.json [TRUTH_DIR]

Derivative-free coordinate search on log-scale steps; objective = mean |ln(thr_smf/thr_mrg)| +
mean |ln(cv_smf/cv_mrg)|. Standard library only; runs build/axonml."""
import csv, io, json, math, os, subprocess, sys, tempfile

AX = os.environ.get("AXONML", "build/axonml")
THREADS = os.environ.get("THREADS", "2")
# The search runs on the values of the axonD and nodeD polynomials at D = 6, 10, 14 um (so that
# each step acts on one end or the middle of the diameter range; the coefficients are the
# interpolating quadratic) and on cm.
KNOTS = (6.0, 10.0, 14.0)
PARAMS = ["axonD@6", "axonD@10", "axonD@14", "nodeD@6", "nodeD@10", "nodeD@14", "cm"]
# further S-MF parameters searched as they are (comma-separated names)
EXTRA = [x for x in os.environ.get("EXTRA", "").split(",") if x]
PARAMS += EXTRA
POLY = {"axonD": ("axond1", "axond2", "axond3"), "nodeD": ("noded1", "noded2", "noded3")}


def to_values(params):
    v = {k: params[k] for k in ["cm"] + EXTRA}
    for name, (c1, c2, c3) in POLY.items():
        for x in KNOTS:
            v["%s@%g" % (name, x)] = params[c1] * x * x + params[c2] * x + params[c3]
    return v


def to_params(v):
    p = {k: v[k] for k in ["cm"] + EXTRA}
    x0, x1, x2 = KNOTS
    for name, (c1, c2, c3) in POLY.items():
        y0, y1, y2 = (v["%s@%g" % (name, x)] for x in KNOTS)
        # Newton form of the interpolating quadratic, expanded
        d01 = (y1 - y0) / (x1 - x0)
        d12 = (y2 - y1) / (x2 - x1)
        a = (d12 - d01) / (x2 - x0)
        b = d01 - a * (x0 + x1)
        p[c1], p[c2], p[c3] = a, b, y0 - a * x0 * x0 - b * x0
    return p


def run(args):
    return subprocess.run([AX] + args, check=True, capture_output=True, text=True).stdout


def table(text, key_cols, val_col):
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        out[tuple(r[k] for k in key_cols)] = float(r[val_col])
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    truth = sys.argv[3] if len(sys.argv) > 3 else "data/truth"
    sel = json.load(open("weights/eval/select.json"))
    thr_t = table(open(os.path.join(truth, "select-mrg.csv")).read(), ["condition"], "threshold_mA")
    cv_t = table(open(os.path.join(truth, "select-cv-mrg.csv")).read(), ["diameter_um"], "cv_m_per_s")
    w = json.load(open(src))
    p0 = to_values(w["params"])
    tmp = tempfile.mkdtemp(prefix="axm-cal.")
    base = os.path.join(tmp, "base.json")
    json.dump(w, open(base, "w"))
    cache = {}

    def objective(p):
        key = tuple(round(p[k], 12) for k in PARAMS)
        if key in cache:
            return cache[key]
        sc = dict(sel)
        sc["model"] = {"name": "smf", "weights": base, "precision": "fp64", "params": to_params(p)}
        f = os.path.join(tmp, "s.json")
        json.dump(sc, open(f, "w"))
        thr = table(run(["threshold", f, "--threads", THREADS, "--quiet"]), ["condition"], "threshold_mA")
        cv = table(run(["cv", f, "--threads", THREADS]), ["diameter_um"], "cv_m_per_s")
        et = [abs(math.log(thr[k] / thr_t[k])) if thr[k] == thr[k] and thr[k] > 0 else 1.0 for k in thr_t]
        ec = [abs(math.log(cv[k] / cv_t[k])) if cv[k] == cv[k] and cv[k] > 0 else 1.0 for k in cv_t]
        val = (sum(et) / len(et) + sum(ec) / len(ec), 100 * sum(et) / len(et), 100 * sum(ec) / len(ec))
        cache[key] = val
        return val

    p, best = dict(p0), objective(p0)
    print("start: objective %.4f (thr %.2f %%, cv %.2f %%)" % best, flush=True)
    step = float(os.environ.get("STEP", "0.06"))
    for sweep in range(int(os.environ.get("SWEEPS", "6"))):
        improved = False
        for k in PARAMS:
            for s in (1 + step, 1 / (1 + step)):
                moved = False
                for _ in range(4):  # keep going while the same move helps
                    q = dict(p)
                    q[k] = p[k] * s
                    v = objective(q)
                    if not v[0] < best[0] - 1e-6:
                        break
                    p, best, improved, moved = q, v, True, True
                    print("  %s x%.3f -> %.4f (thr %.2f %%, cv %.2f %%)" % ((k, s) + v), flush=True)
                if moved:
                    break
        if not improved:
            step /= 2
        print("sweep %d: objective %.4f, step %.3f" % (sweep, best[0], step), flush=True)
    w["params"].update(to_params(p))
    prov = w.setdefault("provenance", {})
    prov["calibration"] = {"script": "weights/eval/calibrate.py", "grid": "weights/eval/select.json",
                           "fitted": PARAMS, "start": p0, "end": p,
                           "objective_start": cache[tuple(round(p0[k], 12) for k in PARAMS)][0],
                           "objective_end": best[0], "select_thr_mean_abs_log_pct": best[1],
                           "select_cv_mean_abs_log_pct": best[2], "evaluations": len(cache)}
    with open(dst + ".part", "w") as f:
        json.dump(w, f, indent=1)
    os.replace(dst + ".part", dst)


if __name__ == "__main__":
    main()
