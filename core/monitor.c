/* Monitors (smf-model.md §7, with the fixes stated in monitor.h).
 *
 * Thread safety: observe() is called concurrently for disjoint fiber ranges, possibly for
 * different steps at the same time (an engine may run each fiber range through all its steps
 * independently). Every per-fiber result therefore lives in per-fiber slots, the Recorder's
 * frame slots are reserved in begin() (so observe never reallocates shared memory), and the
 * Raster keeps one spike buffer per fiber that end() merges. No lock is taken per step. */
#include "monitor.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void axm_monitor_reset(axm_monitor *m)
{
    if (m && m->ops->reset) m->ops->reset(m);
}

void axm_monitor_destroy(axm_monitor *m)
{
    if (m && m->ops->destroy) m->ops->destroy(m);
}

axm_detect axm_detect_default(void)
{
    axm_detect d;
    memset(&d, 0, sizeof d);
    d.threshold_mV = 0.0;
    d.t_start_ms = 0.0;
    d.n_nodes = 2;
    d.nodes[0] = 5;
    d.nodes[1] = -5;
    d.at_least = 1;
    return d;
}

static inline double state_at(const void *state, axm_prec prec, size_t i)
{
    return prec == AXM_FP32 ? (double)((const float *)state)[i] : ((const double *)state)[i];
}

static int check_run(const char *who, const axm_mon_run *r, const void *state, axm_err *err)
{
    if (!r || r->B < 1 || r->W < 1 || r->S < 1)
        return axm_fail(err, AXM_ERR_INPUT, "%s: run shape must have B, W, S >= 1", who);
    if (!(r->dt_ms > 0) || !isfinite(r->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "%s: dt_ms must be > 0 (got %g)", who, r->dt_ms);
    if (r->k0 < 0 || r->n_steps < 0)
        return axm_fail(err, AXM_ERR_INPUT, "%s: k0 and n_steps must be >= 0", who);
    if (!state) return axm_fail(err, AXM_ERR_INPUT, "%s: begin needs the initial state", who);
    return AXM_OK;
}

static int resolve_node(const char *who, int node, int W, int *out, axm_err *err)
{
    if (node < -W || node >= W)
        return axm_fail(err, AXM_ERR_INPUT, "%s: node %d is out of range for W = %d (expected %d..%d)",
                        who, node, W, -W, W - 1);
    *out = node < 0 ? W + node : node;
    return AXM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Threshold-crossing detection shared by Active, APCount and Raster. */

typedef struct detector {
    const char *who;
    axm_detect d;
    int all_nodes;
    int ready;             /* arrays allocated for (B, n) */
    int B, W, S, n;
    axm_prec prec;
    double dt;
    int *node;             /* [n] resolved node indices */
    unsigned char *below;  /* [B*n] armed: the last sample was below threshold */
    double *prev;          /* [B*n] the last sample, for the interpolated crossing time */
} detector;

static int detect_check(const char *who, const axm_detect *d, int need_nodes, axm_err *err)
{
    if (!d) return axm_fail(err, AXM_ERR_INPUT, "%s: detection settings missing", who);
    if (!isfinite(d->threshold_mV))
        return axm_fail(err, AXM_ERR_INPUT, "%s: threshold_mV must be finite", who);
    if (!isfinite(d->t_start_ms))
        return axm_fail(err, AXM_ERR_INPUT, "%s: t_start_ms must be finite", who);
    if (need_nodes && (d->n_nodes < 1 || d->n_nodes > 16))
        return axm_fail(err, AXM_ERR_INPUT, "%s: n_nodes must be 1..16 (got %d)", who, d->n_nodes);
    return AXM_OK;
}

static void detector_free(detector *dc)
{
    free(dc->node);
    free(dc->below);
    free(dc->prev);
    dc->node = NULL;
    dc->below = NULL;
    dc->prev = NULL;
    dc->ready = 0;
}

/* Returns 1 in *fresh when the result arrays must be (re)initialized by the caller. */
static int detector_begin(detector *dc, const axm_mon_run *r, const void *state, int *fresh,
                          axm_err *err)
{
    int rc = check_run(dc->who, r, state, err);
    if (rc) return rc;
    int n = dc->all_nodes ? r->W : dc->d.n_nodes;
    if (dc->ready && (r->B != dc->B || r->W != dc->W))
        return axm_fail(err, AXM_ERR_INPUT,
                        "%s: run shape changed from B=%d W=%d to B=%d W=%d; reset the monitor first",
                        dc->who, dc->B, dc->W, r->B, r->W);
    int nodes[16];
    if (!dc->all_nodes)
        for (int j = 0; j < n; j++)
            if ((rc = resolve_node(dc->who, dc->d.nodes[j], r->W, &nodes[j], err))) return rc;
    *fresh = !dc->ready;
    if (!dc->ready) {
        size_t bn = (size_t)r->B * (size_t)n;
        dc->node = malloc(sizeof *dc->node * (size_t)n);
        dc->below = malloc(bn);
        dc->prev = malloc(sizeof *dc->prev * bn);
        if (!dc->node || !dc->below || !dc->prev) {
            detector_free(dc);
            return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory for %d fibers x %d nodes", dc->who, r->B, n);
        }
        dc->ready = 1;
    }
    dc->B = r->B;
    dc->W = r->W;
    dc->S = r->S;
    dc->n = n;
    dc->prec = r->prec;
    dc->dt = r->dt_ms;
    for (int j = 0; j < n; j++) dc->node[j] = dc->all_nodes ? j : nodes[j];
    /* Arm (from the initial state, so that only a rise from below counts) on reinit and on the
     * first run; a continued run keeps the flags so that a spike at a chunk boundary counts once. */
    int arm = *fresh || r->reinit;
    for (int b = 0; b < r->B; b++)
        for (int j = 0; j < n; j++) {
            size_t i = (size_t)b * (size_t)n + (size_t)j;
            double v = state_at(state, r->prec, ((size_t)b * (size_t)r->S + (size_t)(r->S - 1)) * (size_t)r->W +
                                                    (size_t)dc->node[j]);
            if (arm) dc->below[i] = !(v >= dc->d.threshold_mV);
            dc->prev[i] = v;
        }
    return AXM_OK;
}

typedef void (*crossing_fn)(void *m, int b, int j, double t_ms);

/* Checks fiber b's nodes in the state after absolute step k and calls on_cross per spike. */
static inline void detector_step(detector *dc, long k, int b, const void *state, crossing_fn on_cross,
                                 void *m)
{
    double thr = dc->d.threshold_mV, dt = dc->dt;
    double t = (double)(k + 1) * dt;
    /* The tolerance keeps a t_start on the step grid from being missed by rounding of (k+1)*dt. */
    int in_window = t >= dc->d.t_start_ms - 1e-9 * dt;
    size_t vm0 = ((size_t)b * (size_t)dc->S + (size_t)(dc->S - 1)) * (size_t)dc->W;
    for (int j = 0; j < dc->n; j++) {
        size_t i = (size_t)b * (size_t)dc->n + (size_t)j;
        double v = state_at(state, dc->prec, vm0 + (size_t)dc->node[j]);
        int ge = v >= thr;
        if (ge && dc->below[i] && in_window) {
            double vp = dc->prev[i];
            double tc = (double)k * dt + dt * (thr - vp) / (v - vp);
            if (!isfinite(tc) || tc > t) tc = t;
            on_cross(m, b, j, tc);
        }
        dc->below[i] = !ge;
        dc->prev[i] = v;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Active */

typedef struct active_mon {
    axm_monitor base;
    detector dc;
    int mark_decided;
    unsigned char *decided;  /* the engine's flags for the current run */
    unsigned char *seen;     /* [B*n] node saw a spike */
    int *n_seen;             /* [B] */
    unsigned char *result;   /* [B] */
} active_mon;

static void active_free(active_mon *a)
{
    detector_free(&a->dc);
    free(a->seen);
    free(a->n_seen);
    free(a->result);
    a->seen = NULL;
    a->n_seen = NULL;
    a->result = NULL;
}

static int active_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    active_mon *a = (active_mon *)m;
    int fresh, rc = detector_begin(&a->dc, r, state, &fresh, err);
    if (rc) return rc;
    if (fresh) {
        a->seen = calloc((size_t)r->B * (size_t)a->dc.n, 1);
        a->n_seen = calloc((size_t)r->B, sizeof *a->n_seen);
        a->result = calloc((size_t)r->B, 1);
        if (!a->seen || !a->n_seen || !a->result) {
            active_free(a);
            return axm_fail(err, AXM_ERR_NOMEM, "active: out of memory for %d fibers", r->B);
        }
    }
    a->decided = r->decided;
    if (a->mark_decided && a->decided)
        for (int b = 0; b < r->B; b++)
            if (a->result[b]) a->decided[b] = 1;
    return AXM_OK;
}

static void active_cross(void *m, int b, int j, double t)
{
    active_mon *a = m;
    (void)t;
    size_t i = (size_t)b * (size_t)a->dc.n + (size_t)j;
    if (a->seen[i]) return;
    a->seen[i] = 1;
    if (++a->n_seen[b] >= a->dc.d.at_least && !a->result[b]) {
        a->result[b] = 1;
        if (a->mark_decided && a->decided) a->decided[b] = 1;
    }
}

static void active_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    active_mon *a = (active_mon *)m;
    for (int b = b0; b < b1; b++) detector_step(&a->dc, k, b, state, active_cross, a);
}

static void active_end(axm_monitor *m)
{
    ((active_mon *)m)->decided = NULL;
}

static void active_reset(axm_monitor *m)
{
    active_free((active_mon *)m);
}

static void active_destroy(axm_monitor *m)
{
    if (!m) return;
    active_free((active_mon *)m);
    free(m);
}

static const axm_monitor_ops active_ops = {"active", active_begin, active_observe, active_end,
                                           active_reset, active_destroy};

axm_monitor *axm_active_create(const axm_detect *d, int mark_decided, axm_err *err)
{
    if (detect_check("active", d, 1, err)) return NULL;
    if (d->at_least < 1 || d->at_least > d->n_nodes) {
        axm_fail(err, AXM_ERR_INPUT, "active: at_least must be 1..n_nodes (%d) (got %d)", d->n_nodes, d->at_least);
        return NULL;
    }
    active_mon *a = calloc(1, sizeof *a);
    if (!a) {
        axm_fail(err, AXM_ERR_NOMEM, "active: out of memory");
        return NULL;
    }
    a->base.ops = &active_ops;
    a->dc.who = "active";
    a->dc.d = *d;
    a->mark_decided = mark_decided;
    return &a->base;
}

const unsigned char *axm_active_result(const axm_monitor *m)
{
    return m && m->ops == &active_ops ? ((const active_mon *)m)->result : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * APCount */

typedef struct apcount_mon {
    axm_monitor base;
    detector dc;
    int *counts;    /* [B*n] */
    double *first;  /* [B*n] */
} apcount_mon;

static void apcount_free(apcount_mon *a)
{
    detector_free(&a->dc);
    free(a->counts);
    free(a->first);
    a->counts = NULL;
    a->first = NULL;
}

static int apcount_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    apcount_mon *a = (apcount_mon *)m;
    int fresh, rc = detector_begin(&a->dc, r, state, &fresh, err);
    if (rc) return rc;
    if (fresh) {
        size_t bn = (size_t)r->B * (size_t)a->dc.n;
        a->counts = calloc(bn, sizeof *a->counts);
        a->first = malloc(bn * sizeof *a->first);
        if (!a->counts || !a->first) {
            apcount_free(a);
            return axm_fail(err, AXM_ERR_NOMEM, "apcount: out of memory for %d fibers", r->B);
        }
        for (size_t i = 0; i < bn; i++) a->first[i] = NAN;
    }
    return AXM_OK;
}

static void apcount_cross(void *m, int b, int j, double t)
{
    apcount_mon *a = m;
    size_t i = (size_t)b * (size_t)a->dc.n + (size_t)j;
    if (a->counts[i]++ == 0) a->first[i] = t;
}

static void apcount_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    apcount_mon *a = (apcount_mon *)m;
    for (int b = b0; b < b1; b++) detector_step(&a->dc, k, b, state, apcount_cross, a);
}

static void nop_end(axm_monitor *m)
{
    (void)m;
}

static void apcount_reset(axm_monitor *m)
{
    apcount_free((apcount_mon *)m);
}

static void apcount_destroy(axm_monitor *m)
{
    if (!m) return;
    apcount_free((apcount_mon *)m);
    free(m);
}

static const axm_monitor_ops apcount_ops = {"apcount", apcount_begin, apcount_observe, nop_end,
                                            apcount_reset, apcount_destroy};

axm_monitor *axm_apcount_create(const axm_detect *d, axm_err *err)
{
    if (detect_check("apcount", d, 1, err)) return NULL;
    apcount_mon *a = calloc(1, sizeof *a);
    if (!a) {
        axm_fail(err, AXM_ERR_NOMEM, "apcount: out of memory");
        return NULL;
    }
    a->base.ops = &apcount_ops;
    a->dc.who = "apcount";
    a->dc.d = *d;
    return &a->base;
}

const int *axm_apcount_counts(const axm_monitor *m)
{
    return m && m->ops == &apcount_ops ? ((const apcount_mon *)m)->counts : NULL;
}

const double *axm_apcount_first_ms(const axm_monitor *m)
{
    return m && m->ops == &apcount_ops ? ((const apcount_mon *)m)->first : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Raster */

typedef struct fiber_spikes {
    int n, cap;
    int *node;
    double *t;
} fiber_spikes;

typedef struct raster_mon {
    axm_monitor base;
    detector dc;
    fiber_spikes *fs;   /* [B], each written only by the thread that owns the fiber */
    atomic_int oom;     /* a per-fiber append failed (spikes were lost) */
    axm_spike *merged;
    long n_merged;
    int dirty;          /* spikes may have changed since the last merge (set in begin) */
} raster_mon;

static void raster_free(raster_mon *r)
{
    if (r->fs)
        for (int b = 0; b < r->dc.B; b++) {
            free(r->fs[b].node);
            free(r->fs[b].t);
        }
    free(r->fs);
    r->fs = NULL;
    free(r->merged);
    r->merged = NULL;
    r->n_merged = 0;
    r->dirty = 0;
    detector_free(&r->dc);
}

static int raster_begin(axm_monitor *m, const axm_mon_run *run, const void *state, axm_err *err)
{
    raster_mon *r = (raster_mon *)m;
    int fresh, rc = detector_begin(&r->dc, run, state, &fresh, err);
    if (rc) return rc;
    if (fresh) {
        r->fs = calloc((size_t)run->B, sizeof *r->fs);
        if (!r->fs) {
            detector_free(&r->dc);
            return axm_fail(err, AXM_ERR_NOMEM, "raster: out of memory for %d fibers", run->B);
        }
    }
    r->dirty = 1;
    return AXM_OK;
}

static void raster_cross(void *m, int b, int j, double t)
{
    raster_mon *r = m;
    fiber_spikes *f = &r->fs[b];
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 8;
        int *nn = realloc(f->node, sizeof *nn * (size_t)cap);
        if (nn) f->node = nn;
        double *nt = nn ? realloc(f->t, sizeof *nt * (size_t)cap) : NULL;
        if (nt) f->t = nt;
        if (!nn || !nt) {
            atomic_store(&r->oom, 1);
            return;
        }
        f->cap = cap;
    }
    f->node[f->n] = r->dc.node[j];
    f->t[f->n] = t;
    f->n++;
}

static void raster_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    raster_mon *r = (raster_mon *)m;
    for (int b = b0; b < b1; b++) detector_step(&r->dc, k, b, state, raster_cross, r);
}

static int spike_cmp(const void *pa, const void *pb)
{
    const axm_spike *a = pa, *b = pb;
    if (a->t_ms != b->t_ms) return a->t_ms < b->t_ms ? -1 : 1;
    if (a->fiber != b->fiber) return a->fiber < b->fiber ? -1 : 1;
    return (a->node > b->node) - (a->node < b->node);
}

/* Merged spikes sorted by time, then fiber, then node. */
static void raster_merge(raster_mon *r)
{
    if (!r->fs) return;
    long total = 0;
    for (int b = 0; b < r->dc.B; b++) total += r->fs[b].n;
    axm_spike *s = realloc(r->merged, sizeof *s * (size_t)(total ? total : 1));
    if (!s) return;
    r->merged = s;
    long i = 0;
    for (int b = 0; b < r->dc.B; b++)
        for (int q = 0; q < r->fs[b].n; q++) {
            s[i].fiber = b;
            s[i].node = r->fs[b].node[q];
            s[i].t_ms = r->fs[b].t[q];
            i++;
        }
    qsort(s, (size_t)total, sizeof *s, spike_cmp);
    r->n_merged = total;
    r->dirty = 0;
}

static void raster_end(axm_monitor *m)
{
    raster_merge((raster_mon *)m);
}

static void raster_reset(axm_monitor *m)
{
    raster_mon *r = (raster_mon *)m;
    raster_free(r);
    atomic_store(&r->oom, 0);
}

static void raster_destroy(axm_monitor *m)
{
    if (!m) return;
    raster_free((raster_mon *)m);
    free(m);
}

static const axm_monitor_ops raster_ops = {"raster", raster_begin, raster_observe, raster_end,
                                           raster_reset, raster_destroy};

axm_monitor *axm_raster_create(const axm_detect *d, int all_nodes, axm_err *err)
{
    if (detect_check("raster", d, !all_nodes, err)) return NULL;
    raster_mon *r = calloc(1, sizeof *r);
    if (!r) {
        axm_fail(err, AXM_ERR_NOMEM, "raster: out of memory");
        return NULL;
    }
    r->base.ops = &raster_ops;
    r->dc.who = "raster";
    r->dc.d = *d;
    r->dc.all_nodes = all_nodes != 0;
    return &r->base;
}

const axm_spike *axm_raster_spikes(const axm_monitor *m, long *n)
{
    if (n) *n = 0;
    if (!m || m->ops != &raster_ops) return NULL;
    /* The monitor object is never const itself; merging lazily covers a run that did not end. */
    raster_mon *r = (raster_mon *)(uintptr_t)m;
    if (r->dirty) raster_merge(r);
    if (n) *n = r->n_merged;
    return r->merged;
}

/* ---------------------------------------------------------------------------------------------
 * Recorder
 *
 * Frames sit on the absolute step grid j = 0, every, 2*every, ... (state time j*dt), so chunked
 * runs form one time line. The initial state of a run is recorded when it starts a time line
 * (reinit, or the recorder's first run) or when it lies on the grid and was not recorded yet;
 * a continued run therefore never duplicates the last frame of the previous run. */

typedef struct recorder_mon {
    axm_monitor base;
    unsigned mask;
    int *nodes_in, n_nodes_in;
    int every, max_only;
    int ready, B, S, W, ns, nn;
    axm_prec prec;
    double dt;
    int st[32];
    int *node;           /* [nn] */
    double *data;        /* [cap][B][ns][nn] */
    double *times;       /* [cap] */
    long *fj;            /* [cap] absolute step index of each frame */
    long cap, frames;    /* frames committed before the current run */
    long run_first;      /* slot of the first grid frame after k0 in the current run */
    long k0;
    _Atomic long last_j; /* highest state index observed in the current run */
    int in_run;
    double *max;         /* [B][S] */
} recorder_mon;

static void recorder_free(recorder_mon *r)
{
    free(r->node);
    free(r->data);
    free(r->times);
    free(r->fj);
    free(r->max);
    r->node = NULL;
    r->data = NULL;
    r->times = NULL;
    r->fj = NULL;
    r->max = NULL;
    r->cap = r->frames = 0;
    r->ready = 0;
    r->in_run = 0;
}

static long floordiv(long a, long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static long recorder_committed(const recorder_mon *r)
{
    if (!r->in_run) return r->frames;
    long lj = atomic_load_explicit(&((recorder_mon *)(uintptr_t)r)->last_j, memory_order_relaxed);
    long n = floordiv(lj, r->every) - floordiv(r->k0, r->every);
    return r->run_first + (n > 0 ? n : 0);
}

static void recorder_put(recorder_mon *r, long slot, int b, const void *state)
{
    double *dst = r->data + ((size_t)slot * (size_t)r->B + (size_t)b) * (size_t)r->ns * (size_t)r->nn;
    for (int s = 0; s < r->ns; s++) {
        size_t row = ((size_t)b * (size_t)r->S + (size_t)r->st[s]) * (size_t)r->W;
        for (int j = 0; j < r->nn; j++) dst[(size_t)s * (size_t)r->nn + (size_t)j] = state_at(state, r->prec, row + (size_t)r->node[j]);
    }
}

static void recorder_max(recorder_mon *r, int b, const void *state)
{
    for (int s = 0; s < r->S; s++) {
        size_t row = ((size_t)b * (size_t)r->S + (size_t)s) * (size_t)r->W;
        double *mx = &r->max[(size_t)b * (size_t)r->S + (size_t)s];
        for (int j = 0; j < r->nn; j++) {
            double v = state_at(state, r->prec, row + (size_t)r->node[j]);
            if (v > *mx || isnan(v)) *mx = v; /* a NaN state should show, not hide */
        }
    }
}

static int recorder_begin(axm_monitor *m, const axm_mon_run *run, const void *state, axm_err *err)
{
    recorder_mon *r = (recorder_mon *)m;
    int rc = check_run("recorder", run, state, err);
    if (rc) return rc;
    if (run->S > 32 || (r->mask >> run->S) != 0)
        return axm_fail(err, AXM_ERR_INPUT, "recorder: state mask 0x%x names states beyond the model's %d",
                        r->mask, run->S);
    if (r->ready && (run->B != r->B || run->S != r->S || run->W != r->W))
        return axm_fail(err, AXM_ERR_INPUT,
                        "recorder: run shape changed from B=%d S=%d W=%d to B=%d S=%d W=%d; reset the monitor first",
                        r->B, r->S, r->W, run->B, run->S, run->W);
    int nn = r->nodes_in ? r->n_nodes_in : run->W;
    if (!r->ready) {
        r->node = malloc(sizeof *r->node * (size_t)nn);
        if (!r->node) return axm_fail(err, AXM_ERR_NOMEM, "recorder: out of memory");
        for (int j = 0; j < nn; j++) {
            if (!r->nodes_in) r->node[j] = j;
            else if ((rc = resolve_node("recorder", r->nodes_in[j], run->W, &r->node[j], err))) {
                free(r->node);
                r->node = NULL;
                return rc;
            }
        }
        r->ns = 0;
        for (int s = 0; s < run->S; s++)
            if (r->mask & (1u << s)) r->st[r->ns++] = s;
        if (r->max_only) {
            r->max = malloc(sizeof *r->max * (size_t)run->B * (size_t)run->S);
            if (!r->max) {
                recorder_free(r);
                return axm_fail(err, AXM_ERR_NOMEM, "recorder: out of memory");
            }
            for (size_t i = 0; i < (size_t)run->B * (size_t)run->S; i++) r->max[i] = -INFINITY;
        }
        r->ready = 1;
        r->B = run->B;
        r->S = run->S;
        r->W = run->W;
        r->nn = nn;
    }
    r->prec = run->prec;
    r->dt = run->dt_ms;
    r->k0 = run->k0;
    atomic_store_explicit(&r->last_j, run->k0, memory_order_relaxed);
    if (r->max_only) {
        for (int b = 0; b < r->B; b++) recorder_max(r, b, state);
        return AXM_OK;
    }
    int init = run->reinit || r->frames == 0 ||
               (run->k0 % r->every == 0 && r->fj[r->frames - 1] != run->k0);
    long grid = floordiv(run->k0 + run->n_steps, r->every) - floordiv(run->k0, r->every);
    long need = r->frames + init + grid;
    size_t fsz = (size_t)r->B * (size_t)r->ns * (size_t)r->nn;
    if (need > r->cap) {
        long cap = r->cap ? r->cap : 16;
        while (cap < need) cap *= 2;
        if ((double)cap * (double)fsz * sizeof(double) > (double)SIZE_MAX / 2)
            return axm_fail(err, AXM_ERR_NOMEM, "recorder: %ld frames of %zu values do not fit in memory", need, fsz);
        double *d = realloc(r->data, (size_t)cap * fsz * sizeof *d);
        if (d) r->data = d;
        double *t = realloc(r->times, (size_t)cap * sizeof *t);
        if (t) r->times = t;
        long *fj = realloc(r->fj, (size_t)cap * sizeof *fj);
        if (fj) r->fj = fj;
        if (!d || !t || !fj)
            return axm_fail(err, AXM_ERR_NOMEM, "recorder: out of memory for %ld frames of %zu values", need, fsz);
        r->cap = cap;
    }
    if (init) {
        for (int b = 0; b < r->B; b++) recorder_put(r, r->frames, b, state);
        r->fj[r->frames] = run->k0;
        r->times[r->frames] = (double)run->k0 * run->dt_ms;
        r->frames++;
    }
    r->run_first = r->frames;
    for (long q = 0; q < grid; q++) {
        long j = (floordiv(run->k0, r->every) + 1 + q) * r->every;
        r->fj[r->frames + q] = j;
        r->times[r->frames + q] = (double)j * run->dt_ms;
    }
    r->in_run = 1;
    return AXM_OK;
}

static void recorder_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    recorder_mon *r = (recorder_mon *)m;
    long j = k + 1;
    if (r->max_only) {
        for (int b = b0; b < b1; b++) recorder_max(r, b, state);
        return;
    }
    if (j % r->every != 0) return;
    long slot = r->run_first + floordiv(j, r->every) - floordiv(r->k0, r->every) - 1;
    if (slot < r->run_first || slot >= r->cap) return;
    for (int b = b0; b < b1; b++) recorder_put(r, slot, b, state);
    long cur = atomic_load_explicit(&r->last_j, memory_order_relaxed);
    while (cur < j && !atomic_compare_exchange_weak_explicit(&r->last_j, &cur, j, memory_order_relaxed,
                                                            memory_order_relaxed)) {
    }
}

static void recorder_end(axm_monitor *m)
{
    recorder_mon *r = (recorder_mon *)m;
    if (!r->in_run) return;
    r->frames = recorder_committed(r);
    r->in_run = 0;
}

static void recorder_reset(axm_monitor *m)
{
    recorder_free((recorder_mon *)m);
}

static void recorder_destroy(axm_monitor *m)
{
    if (!m) return;
    recorder_mon *r = (recorder_mon *)m;
    recorder_free(r);
    free(r->nodes_in);
    free(r);
}

static const axm_monitor_ops recorder_ops = {"recorder", recorder_begin, recorder_observe, recorder_end,
                                             recorder_reset, recorder_destroy};

axm_monitor *axm_recorder_create(unsigned state_mask, const int *nodes, int n_nodes, int every,
                                 int max_only, axm_err *err)
{
    if (state_mask == 0) {
        axm_fail(err, AXM_ERR_INPUT, "recorder: state mask is empty (bit S-1 = vm)");
        return NULL;
    }
    if (every < 1) {
        axm_fail(err, AXM_ERR_INPUT, "recorder: every must be >= 1 (got %d)", every);
        return NULL;
    }
    if (nodes && n_nodes < 1) {
        axm_fail(err, AXM_ERR_INPUT, "recorder: n_nodes must be >= 1 when nodes are given (got %d)", n_nodes);
        return NULL;
    }
    recorder_mon *r = calloc(1, sizeof *r);
    if (!r) {
        axm_fail(err, AXM_ERR_NOMEM, "recorder: out of memory");
        return NULL;
    }
    r->base.ops = &recorder_ops;
    r->mask = state_mask;
    r->every = every;
    r->max_only = max_only != 0;
    if (nodes) {
        r->nodes_in = malloc(sizeof *r->nodes_in * (size_t)n_nodes);
        if (!r->nodes_in) {
            free(r);
            axm_fail(err, AXM_ERR_NOMEM, "recorder: out of memory");
            return NULL;
        }
        memcpy(r->nodes_in, nodes, sizeof *nodes * (size_t)n_nodes);
        r->n_nodes_in = n_nodes;
    }
    atomic_init(&r->last_j, 0);
    return &r->base;
}

long axm_recorder_frames(const axm_monitor *m)
{
    if (!m || m->ops != &recorder_ops) return 0;
    const recorder_mon *r = (const recorder_mon *)m;
    return r->max_only ? 0 : recorder_committed(r);
}

const double *axm_recorder_data(const axm_monitor *m, int *n_states_rec, int *n_nodes_rec)
{
    if (n_states_rec) *n_states_rec = 0;
    if (n_nodes_rec) *n_nodes_rec = 0;
    if (!m || m->ops != &recorder_ops) return NULL;
    const recorder_mon *r = (const recorder_mon *)m;
    if (!r->ready || r->max_only) return NULL;
    if (n_states_rec) *n_states_rec = r->ns;
    if (n_nodes_rec) *n_nodes_rec = r->nn;
    return r->data;
}

const double *axm_recorder_times(const axm_monitor *m)
{
    if (!m || m->ops != &recorder_ops) return NULL;
    return ((const recorder_mon *)m)->times;
}

const double *axm_recorder_max(const axm_monitor *m)
{
    if (!m || m->ops != &recorder_ops) return NULL;
    return ((const recorder_mon *)m)->max;
}
