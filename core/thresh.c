/* Batched threshold search (thresh.h; smf-model.md §10 with its defects fixed).
 *
 * Every condition is one fiber of the caller's sim and moves through its own phases:
 *   FIX     test ub; raise it (x fix_bound_up) when the fiber never depolarized, lower it
 *           (x fix_bound_down) when vm crossed the threshold somewhere but not at the checked
 *           nodes (block) — until ub activates;
 *   BISECT  test (lb+ub)/2 until (ub-lb)/ub < resolution;
 *   ZERO    a condition that keeps activating at ever smaller amplitudes is tested once at
 *           amplitude 0 (a model that fires without stimulus has no threshold).
 * All undecided conditions are simulated together in one run per iteration; decided ones are
 * marked "decided" before the run so that the engine skips them (stop_when_decided), and fibers
 * stop as soon as they are active. Differences from the original, on purpose: the first bound
 * fix does not repeat the initial test; a raised ub keeps the old ub as lb (it did not activate);
 * conditions that give up get NaN bounds and a status instead of 1 or an unconverged number; a
 * simulation that produces NaN while raising ub steps back towards the last quiet amplitude, and
 * elsewhere is reported as such.
 *
 * The search (axm_threshold_rounds) is separate from the engine that runs its rounds, so that the GPU
 * (gpu/mrg_thresh.cu) runs the same search: axm_threshold is it with the CPU engine. */
#include "thresh.h"
#include "thresh_cond.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

axm_thresh_opts axm_thresh_opts_default(void)
{
    axm_thresh_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = 0.005;
    o.tstop_ms = 5.0;
    o.detect = axm_detect_default();
    o.resolution = 0.01;
    o.fix_bound_up = 5.0;
    o.fix_bound_down = 0.1;
    o.max_tries_bound_fix = 10;
    o.max_tries = 50;
    o.max_amp = 1e3;
    return o;
}

const char *axm_thresh_status_name(int status)
{
    static const char *const n[] = {"ok", "no_activation", "block", "active_at_zero", "not_converged", "nan",
                                    "cancelled"};
    return status >= 0 && status < (int)(sizeof n / sizeof n[0]) ? n[status] : "unknown";
}

void axm_thresh_result_free(axm_thresh_result *r)
{
    if (!r) return;
    free(r->upper);
    free(r->lower);
    free(r->status);
    r->upper = r->lower = NULL;
    r->status = NULL;
    r->n = 0;
}

/* A monitor that marks the conditions that are already decided before a run starts. */
typedef struct mask_mon {
    axm_monitor base;
    const unsigned char *skip;
    int B;
} mask_mon;

static int mask_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    (void)state;
    (void)err;
    mask_mon *mm = (mask_mon *)m;
    if (r->decided)
        for (int b = 0; b < mm->B && b < r->B; b++)
            if (mm->skip[b]) r->decided[b] = 1;
    return AXM_OK;
}
static void mask_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    (void)m, (void)k, (void)b0, (void)b1, (void)state;
}
static void mask_nop(axm_monitor *m) { (void)m; }
static const axm_monitor_ops mask_ops = {"threshold-mask", mask_begin, mask_observe, mask_nop, mask_nop, mask_nop};

/* Maximum of vm over time and all nodes for the fibers still simulated (the bound fix's block
 * test); NaN sticks. Cheaper than a max_only Recorder, which tracks every state of every fiber. */
typedef struct vmax_mon {
    axm_monitor base;
    int B, S, W;
    axm_prec prec;
    const unsigned char *decided;
    double *max;
} vmax_mon;

static void vmax_fiber(vmax_mon *v, int b, const void *state)
{
    double m = v->max[b];
    if (isnan(m)) return;
    size_t off = ((size_t)b * v->S + (size_t)(v->S - 1)) * (size_t)v->W;
    if (v->prec == AXM_FP32) {
        const float *x = (const float *)state + off;
        float mf = (float)m;
        for (int w = 0; w < v->W; w++) {
            if (x[w] != x[w]) {
                v->max[b] = NAN;
                return;
            }
            if (x[w] > mf) mf = x[w];
        }
        m = mf > m ? mf : m;
    } else {
        const double *x = (const double *)state + off;
        for (int w = 0; w < v->W; w++) {
            if (x[w] != x[w]) {
                v->max[b] = NAN;
                return;
            }
            if (x[w] > m) m = x[w];
        }
    }
    v->max[b] = m;
}

static int vmax_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    vmax_mon *v = (vmax_mon *)m;
    if (r->B != v->B) {
        free(v->max);
        v->max = malloc((size_t)(r->B ? r->B : 1) * sizeof(double));
        if (!v->max) {
            v->B = 0;
            return axm_fail(err, AXM_ERR_NOMEM, "threshold: out of memory");
        }
    }
    v->B = r->B;
    v->S = r->S;
    v->W = r->W;
    v->prec = r->prec;
    v->decided = r->decided;
    for (int b = 0; b < v->B; b++) {
        v->max[b] = -INFINITY;
        if (!v->decided || !v->decided[b]) vmax_fiber(v, b, state);
    }
    return AXM_OK;
}

static void vmax_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    vmax_mon *v = (vmax_mon *)m;
    (void)k;
    for (int b = b0; b < b1; b++)
        if (!v->decided || !v->decided[b]) vmax_fiber(v, b, state);
}

static const axm_monitor_ops vmax_ops = {"threshold-vmax", vmax_begin, vmax_observe, mask_nop, mask_nop, mask_nop};

int axm_thresh_opts_check(const axm_thresh_opts *o, axm_err *err)
{
    if (!(o->dt_ms > 0) || !(o->tstop_ms > o->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: expected dt_ms > 0 and tstop_ms > dt_ms, got %g and %g",
                        o->dt_ms, o->tstop_ms);
    if (!(o->resolution > 0 && o->resolution < 1))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: resolution: expected a number in (0, 1), got %g", o->resolution);
    if (!(o->fix_bound_up > 1))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: fix_bound_up: expected a number > 1, got %g", o->fix_bound_up);
    if (!(o->fix_bound_down > 0 && o->fix_bound_down < 1))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: fix_bound_down: expected a number in (0, 1), got %g",
                        o->fix_bound_down);
    if (o->detect.at_least < 1 || o->detect.at_least > o->detect.n_nodes)
        return axm_fail(err, AXM_ERR_INPUT, "threshold: at_least: expected 1..%d, got %d", o->detect.n_nodes,
                        o->detect.at_least);
    if (o->max_tries < 1 || o->max_tries_bound_fix < 0 || !(o->max_amp > 0))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: expected max_tries >= 1, max_tries_bound_fix >= 0, max_amp > 0");
    return AXM_OK;
}

int axm_threshold_rounds(int B, axm_thresh_round_fn run_round, void *ud, const axm_thresh_opts *o,
                         axm_thresh_result *res, axm_err *err)
{
    memset(res, 0, sizeof *res);
    if (!run_round || !o || B < 0)
        return axm_fail(err, AXM_ERR_INPUT, "threshold: no round function, options or batch");
    int rc = axm_thresh_opts_check(o, err);
    if (rc) return rc;
    res->n = B;
    res->upper = malloc((size_t)(B ? B : 1) * sizeof(double));
    res->lower = malloc((size_t)(B ? B : 1) * sizeof(double));
    res->status = malloc((size_t)(B ? B : 1) * sizeof(int));
    axm_thc *c = calloc((size_t)(B ? B : 1), sizeof *c);
    double *amp = calloc((size_t)(B ? B : 1), sizeof(double));
    double *vmax = malloc((size_t)(B ? B : 1) * sizeof(double));
    unsigned char *skip = malloc((size_t)(B ? B : 1));
    unsigned char *act = calloc((size_t)(B ? B : 1), 1);
    unsigned char *bad = calloc((size_t)(B ? B : 1), 1);
    if (!res->upper || !res->lower || !res->status || !c || !amp || !vmax || !skip || !act || !bad) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "threshold: out of memory for %d conditions", B);
        goto out;
    }
    for (int b = 0; b < B; b++) {
        double u = o->ub_init ? o->ub_init[b] : o->D_um ? 0.2 / ((o->D_um[b] / 5) * (o->D_um[b] / 5)) : 0.2;
        c[b].ub = isfinite(u) && u > 0 ? u : 0.2;
        c[b].phase = AXM_THC_FIX;
        res->upper[b] = res->lower[b] = NAN;
        res->status[b] = AXM_TH_NOT_CONVERGED;
    }
    const axm_thc_cfg cfg = {o->fix_bound_up, o->fix_bound_down, o->max_amp, o->resolution,
                             o->detect.threshold_mV, o->max_tries_bound_fix, o->max_tries};

    int n_done = 0;
    for (int it = 0;; it++) {
        int any_fix = 0, n_run = 0;
        for (int b = 0; b < B; b++) {
            skip[b] = c[b].phase == AXM_THC_DONE;
            amp[b] = axm_thc_amp(&c[b]);
            if (c[b].phase == AXM_THC_FIX) any_fix = 1;
            if (!skip[b]) n_run++;
        }
        if (n_run == 0) break;
        if (o->cancel && *o->cancel) {
            rc = axm_fail(err, AXM_ERR_CANCELLED, "threshold search cancelled");
            break;
        }
        rc = run_round(ud, o, amp, skip, any_fix, act, bad, vmax, err);
        if (rc) break;
        res->n_sims += n_run;
        res->iterations = it + 1;
        for (int b = 0; b < B; b++) {
            if (c[b].phase == AXM_THC_DONE) continue;
            /* vmax is measured only in rounds with a condition in the bound fix */
            double mv = any_fix ? vmax[b] : NAN;
            int st = axm_thc_update(&c[b], &cfg, act[b] != 0, bad[b] || (any_fix && isnan(mv)), mv);
            if (st < 0) continue;
            res->status[b] = st;
            if (st == AXM_TH_OK) {
                res->upper[b] = c[b].ub;
                res->lower[b] = c[b].lb;
            }
            n_done++;
        }
        if (o->progress) o->progress(o->progress_ud, n_done, B, it + 1);
    }
    if (rc == AXM_ERR_CANCELLED)
        for (int b = 0; b < B; b++)
            if (c[b].phase != AXM_THC_DONE) res->status[b] = AXM_TH_CANCELLED;
out:
    free(c);
    free(amp);
    free(vmax);
    free(skip);
    free(act);
    free(bad);
    if (rc && rc != AXM_ERR_CANCELLED) axm_thresh_result_free(res);
    return rc;
}

/* The CPU engine's round: one axm_sim_run with the mask, Active (marking decided) and, during the
 * bound fix, vmax monitors. */
typedef struct cpu_round {
    axm_sim *s;
    axm_monitor *active;
    mask_mon mask;
    vmax_mon vmax;
    axm_run_opts ro;
} cpu_round;

static int cpu_round_fn(void *ud, const axm_thresh_opts *o, const double *amp, const unsigned char *skip,
                        int need_vmax, unsigned char *act, unsigned char *bad, double *vmax, axm_err *err)
{
    (void)o;
    cpu_round *c = ud;
    axm_sim *s = c->s;
    const int B = axm_sim_batch(s);
    c->mask.skip = skip;
    axm_monitor_reset(c->active);
    axm_monitor *mons[3] = {&c->mask.base, c->active, &c->vmax.base};
    axm_sim_set_amp(s, amp);
    int rc = axm_sim_run(s, &c->ro, mons, need_vmax ? 3 : 2, err);
    if (rc) return rc;
    const unsigned char *r = axm_active_result(c->active);
    for (int b = 0; b < B; b++) {
        if (skip[b]) continue;
        act[b] = r[b] != 0;
        /* the engine checks the final state too: a non-finite vm is a divergence */
        bad[b] = axm_sim_diverged(s, b, NULL, NULL, NULL, NULL);
        if (need_vmax) vmax[b] = c->vmax.max[b];
    }
    return AXM_OK;
}

int axm_threshold(axm_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err)
{
    memset(res, 0, sizeof *res);
    int rc = axm_thresh_opts_check(o, err);
    if (rc) return rc;
    cpu_round c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.mask.base.ops = &mask_ops;
    c.mask.B = axm_sim_batch(s);
    c.vmax.base.ops = &vmax_ops;
    c.vmax.prec = AXM_FP64;
    c.ro.dt_ms = o->dt_ms;
    c.ro.n_steps = lround(o->tstop_ms / o->dt_ms);
    c.ro.reinit = 1;
    c.ro.stop_when_decided = 1;
    c.ro.allow_diverged = 1; /* a blow-up is the condition's test result (bad), not the search's error */
    c.ro.cancel = o->cancel;
    c.active = axm_active_create(&o->detect, 1, err);
    if (!c.active) return err ? err->code : AXM_ERR_INPUT;
    rc = axm_threshold_rounds(c.mask.B, cpu_round_fn, &c, o, res, err);
    axm_monitor_destroy(c.active);
    free(c.vmax.max);
    return rc;
}
