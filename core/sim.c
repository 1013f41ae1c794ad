/* The CPU simulation engine (sim.h): fibers split into per-thread ranges; every thread runs all
 * steps of its range on its own (fibers are independent, so no per-step barrier), building the
 * extracellular potential of each step from the separable drive on the fly. */
#include "sim.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

/* Fibers per block: ve/intra of a block are built, stepped and observed together. */
#define SIM_BLOCK 16
/* Steps per time tile (see sim_thread_main). */
#define SIM_TILE AXM_SIM_CHECK_STEPS /* the divergence check runs after each tile */

typedef struct sim_pulse {
    int fiber, node;
    long k_on, k_off; /* on for k_on <= k < k_off */
    double amp;
} sim_pulse;

/* Where a fiber's state first went bad (axm_sim_diverged); k < 0: it did not. */
typedef struct sim_div {
    long k;
    int node, state;
    double value;
} sim_div;

struct axm_sim {
    const axm_model *model;
    const axm_model_kind *kind;
    axm_model *built;       /* the parameters ws was built from */
    int B, W, S, nc, n_threads;
    axm_prec prec;
    size_t esz;
    double *D;
    void *ws;
    void *state;
    long k;
    int initialized;
    unsigned char *decided;
    double *amp;            /* [B] or NULL = 1 */
    int has_drive;
    axm_drive drive;
    double *phi;            /* [B][C][nc] */
    sim_pulse *pulses;      /* run-time form of drive.pulses (per run: depends on dt) */
    sim_div *div;           /* [B]: first divergence of each fiber in the last run */
};

typedef struct sim_thread {
    axm_sim *s;
    const axm_run_opts *o;
    axm_monitor *const *mons;
    int n_mons;
    int tid, b0, b1;
    long k0;
    void *scratch, *ve, *intra;
    atomic_int *stop;
    pthread_t th;
} sim_thread;

static void *xaligned(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? (n + 63) / 64 * 64 : 64) != 0) return NULL;
    return p;
}

static void snap_free(axm_model *m)
{
    if (!m) return;
    free(m->p);
    free(m);
}

/* A private copy of the parameters (not axm_model_clone: the kind need not be registered). */
static axm_model *snap_take(const axm_model *src)
{
    axm_model *m = malloc(sizeof *m);
    size_t n = (size_t)src->kind->n_params;
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!m || !p) {
        free(m);
        free(p);
        return NULL;
    }
    *m = *src;
    if (n) memcpy(p, src->p, n * sizeof *p);
    m->p = p;
    return m;
}

static int model_same(const axm_model *a, const axm_model *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind->n_params > 0 && memcmp(a->p, b->p, (size_t)a->kind->n_params * sizeof *a->p) != 0) return 0;
    if (a->taps != b->taps || memcmp(a->stencil, b->stencil, sizeof a->stencil) != 0) return 0;
    return a->temp_c == b->temp_c && a->handle_nan == b->handle_nan && a->geometry == b->geometry &&
           a->geom_fit == b->geom_fit && a->lemella_fit == b->lemella_fit &&
           a->passive_end_nodes == b->passive_end_nodes;
}

/* (Re)builds the workspace when the model's parameters differ from those it was built with. */
static int ensure_ws(axm_sim *s, axm_err *err)
{
    if (s->ws && model_same(s->built, s->model)) return AXM_OK;
    void *ws = s->kind->ws_create(s->model, s->B, s->W, s->D, s->prec, err);
    if (!ws) return err ? err->code : AXM_ERR_INPUT;
    axm_model *c = snap_take(s->model);
    if (!c) {
        s->kind->ws_destroy(ws);
        return axm_fail(err, AXM_ERR_NOMEM, "sim: out of memory");
    }
    if (s->ws) s->kind->ws_destroy(s->ws);
    snap_free(s->built);
    s->ws = ws;
    s->built = c;
    return AXM_OK;
}

axm_sim *axm_sim_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                        int n_threads, axm_err *err)
{
    if (!m) {
        axm_fail(err, AXM_ERR_INPUT, "sim: no model");
        return NULL;
    }
    if (B < 1) {
        axm_fail(err, AXM_ERR_INPUT, "sim: fibers: expected >= 1 (got %d)", B);
        return NULL;
    }
    if (W < m->kind->min_nodes || W < 1) {
        axm_fail(err, AXM_ERR_INPUT, "sim: nodes: expected >= %d for model %s (got %d)",
                 m->kind->min_nodes, m->kind->name, W);
        return NULL;
    }
    if (!D_um) {
        axm_fail(err, AXM_ERR_INPUT, "sim: no fiber diameters");
        return NULL;
    }
    if (prec != AXM_FP32 && prec != AXM_FP64) {
        axm_fail(err, AXM_ERR_INPUT, "sim: precision: expected fp32 or fp64");
        return NULL;
    }
    axm_sim *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->model = m;
    s->kind = m->kind;
    s->B = B;
    s->W = W;
    s->S = m->kind->n_states;
    s->nc = m->kind->n_comp(m, W);
    s->prec = prec;
    s->esz = prec == AXM_FP32 ? sizeof(float) : sizeof(double);
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    s->n_threads = n_threads;
    s->D = malloc((size_t)B * sizeof *s->D);
    s->decided = calloc((size_t)B, 1);
    s->div = malloc((size_t)B * sizeof *s->div);
    s->state = xaligned((size_t)B * s->S * W * s->esz);
    if (!s->D || !s->decided || !s->div || !s->state) goto nomem;
    for (int b = 0; b < B; b++) s->div[b].k = -1;
    memcpy(s->D, D_um, (size_t)B * sizeof *s->D);
    if (ensure_ws(s, err) != AXM_OK) {
        axm_sim_destroy(s);
        return NULL;
    }
    return s;
nomem:
    axm_sim_destroy(s);
    axm_fail(err, AXM_ERR_NOMEM, "sim: out of memory for %d fibers x %d nodes", B, W);
    return NULL;
}

void axm_sim_destroy(axm_sim *s)
{
    if (!s) return;
    if (s->ws) s->kind->ws_destroy(s->ws);
    snap_free(s->built);
    free(s->D);
    free(s->decided);
    free(s->div);
    free(s->state);
    free(s->amp);
    free(s->phi);
    free(s->pulses);
    free(s);
}

int axm_sim_set_drive(axm_sim *s, const axm_drive *d, axm_err *err)
{
    free(s->phi);
    s->phi = NULL;
    free(s->pulses);
    s->pulses = NULL;
    s->has_drive = 0;
    memset(&s->drive, 0, sizeof s->drive);
    if (!d) return AXM_OK;
    int B = s->B, C = d->n_contacts, nc = s->nc;
    if (C < 0) return axm_fail(err, AXM_ERR_INPUT, "drive: n_contacts: expected >= 0 (got %d)", C);
    if (C > 0) {
        if (!d->sources || !d->wave_of)
            return axm_fail(err, AXM_ERR_INPUT, "drive: %d contacts need sources and wave_of", C);
        if (d->n_waves < 0 || (d->n_waves > 0 && !d->waves) || d->wave_len < 0)
            return axm_fail(err, AXM_ERR_INPUT, "drive: waves: expected n_waves >= 0 arrays of wave_len >= 0 samples");
        for (long i = 0; i < (long)B * C; i++)
            if (d->wave_of[i] < -1 || d->wave_of[i] >= d->n_waves)
                return axm_fail(err, AXM_ERR_INPUT, "drive: wave_of[%ld] (fiber %ld, contact %ld): expected -1..%d (got %d)",
                                i, i / C, i % C, d->n_waves - 1, d->wave_of[i]);
        for (int i = 0; i < d->n_waves; i++)
            if (!d->waves[i] && d->wave_len > 0)
                return axm_fail(err, AXM_ERR_INPUT, "drive: waves[%d]: missing samples", i);
    }
    if (d->ve_nodes) {
        if (nc != s->W)
            return axm_fail(err, AXM_ERR_INPUT,
                            "drive: ve_nodes: model %s applies ve at %d compartments, not only at the %d nodes; use a separable drive",
                            s->kind->name, nc, s->W);
        if (d->ve_len < 0) return axm_fail(err, AXM_ERR_INPUT, "drive: ve_len: expected >= 0");
    }
    if (d->n_pulses < 0 || (d->n_pulses > 0 && !d->pulses))
        return axm_fail(err, AXM_ERR_INPUT, "drive: n_pulses: expected >= 0 pulses");
    for (int i = 0; i < d->n_pulses; i++) {
        const axm_pulse *p = &d->pulses[i];
        int node = p->node < 0 ? s->W + p->node : p->node;
        if (p->fiber < -1 || p->fiber >= B)
            return axm_fail(err, AXM_ERR_INPUT, "drive: pulse %d: fiber: expected -1..%d (got %d)", i, B - 1, p->fiber);
        if (node < 0 || node >= s->W)
            return axm_fail(err, AXM_ERR_INPUT, "drive: pulse %d: node: expected %d..%d (got %d)", i, -s->W, s->W - 1, p->node);
        if (!isfinite(p->delay_ms) || !(p->dur_ms >= 0) || !isfinite(p->dur_ms) || !isfinite(p->amp_mA))
            return axm_fail(err, AXM_ERR_INPUT, "drive: pulse %d: expected finite delay, dur >= 0 and amp", i);
    }
    if (d->n_pulses > 0) {
        s->pulses = calloc((size_t)d->n_pulses, sizeof *s->pulses);
        if (!s->pulses) return axm_fail(err, AXM_ERR_NOMEM, "drive: out of memory");
    }
    if (C > 0) {
        double *y = malloc((size_t)nc * sizeof *y);
        s->phi = malloc((size_t)B * C * nc * sizeof *s->phi);
        if (!y || !s->phi) {
            free(y);
            return axm_fail(err, AXM_ERR_NOMEM, "drive: out of memory for phi (%d fibers x %d contacts x %d)", B, C, nc);
        }
        for (int b = 0; b < B; b++) {
            int rc = s->kind->positions(s->model, s->D[b], s->W, y, err);
            for (int c = 0; rc == AXM_OK && c < C; c++) {
                rc = axm_source_eval(&d->sources[(size_t)b * C + c], y, nc, s->phi + ((size_t)b * C + c) * nc, err);
                if (rc != AXM_OK) {
                    char msg[sizeof err->msg];
                    memcpy(msg, err->msg, sizeof msg);
                    axm_fail(err, rc, "drive: fiber %d, contact %d: %s", b, c, msg);
                }
            }
            if (rc != AXM_OK) {
                free(y);
                free(s->phi);
                s->phi = NULL;
                return rc;
            }
        }
        free(y);
    }
    s->drive = *d;
    s->has_drive = 1;
    return AXM_OK;
}

void axm_sim_set_amp(axm_sim *s, const double *amp)
{
    if (!amp) {
        free(s->amp);
        s->amp = NULL;
        return;
    }
    if (!s->amp) s->amp = malloc((size_t)s->B * sizeof *s->amp);
    if (s->amp) memcpy(s->amp, amp, (size_t)s->B * sizeof *s->amp);
}

/* Sample k of a series of len samples: one sample of linear extrapolation past the end, then 0. */
static inline double series_at(const double *w, long len, long k, long stride)
{
    if (k < len) return w[k * stride];
    if (k == len && len >= 2) return 2 * w[(len - 1) * stride] - w[(len - 2) * stride];
    if (k == len && len == 1) return w[0];
    return 0.0;
}

static inline double drive_sample(const double *w, long len, long k, long stride, int midstep)
{
    if (!midstep) return series_at(w, len, k, stride);
    return 0.5 * (series_at(w, len, k, stride) + series_at(w, len, k + 1, stride));
}

/* ve (in the run's precision) of fibers [b0,b1) for step k. */
static void build_ve(const axm_sim *s, long k, int b0, int b1, void *out, double *acc)
{
    const axm_drive *d = &s->drive;
    int nc = s->nc, C = s->has_drive ? d->n_contacts : 0;
    int mid = s->kind->ve_timing == AXM_VE_MIDSTEP;
    size_t es = s->prec == AXM_FP32 ? sizeof(float) : sizeof(double);
    int nodes = s->has_drive && d->ve_nodes;
    for (int b = b0; b < b1; b++) {
        /* a fiber no contact drives this step (between pulses) gets ve = 0 without the sum */
        int any = nodes;
        if (nodes) memset(acc, 0, (size_t)nc * sizeof *acc);
        for (int c = 0; c < C; c++) {
            int wi = d->wave_of[(size_t)b * C + c];
            if (wi < 0) continue;
            double w = drive_sample(d->waves[wi], d->wave_len, k, 1, mid);
            if (w == 0.0) continue;
            if (!any) memset(acc, 0, (size_t)nc * sizeof *acc);
            any = 1;
            const double *ph = s->phi + ((size_t)b * C + c) * nc;
            for (int j = 0; j < nc; j++) acc[j] += w * ph[j];
        }
        if (!any) {
            memset((char *)out + (size_t)(b - b0) * nc * es, 0, (size_t)nc * es);
            continue;
        }
        if (nodes) {
            long stride = (long)s->B * s->W;
            const double *vn = d->ve_nodes + (size_t)b * s->W;
            for (int j = 0; j < nc; j++) acc[j] += drive_sample(vn + j, d->ve_len, k, stride, mid);
        }
        double a = s->amp ? s->amp[b] : 1.0;
        size_t o = (size_t)(b - b0) * nc;
        if (s->prec == AXM_FP32)
            for (int j = 0; j < nc; j++) ((float *)out)[o + j] = (float)(a * acc[j]);
        else
            for (int j = 0; j < nc; j++) ((double *)out)[o + j] = a * acc[j];
    }
}

/* Intracellular current of fibers [b0,b1) for step k, or NULL when none flows. */
static void *build_intra(const axm_sim *s, long k, int b0, int b1, void *out)
{
    if (!s->has_drive || !s->pulses) return NULL;
    int any = 0, W = s->W;
    for (int i = 0; i < s->drive.n_pulses; i++) {
        const sim_pulse *p = &s->pulses[i];
        if (k < p->k_on || k >= p->k_off) continue;
        if (p->fiber >= 0 && (p->fiber < b0 || p->fiber >= b1)) continue;
        if (!any) {
            memset(out, 0, (size_t)(b1 - b0) * W * s->esz);
            any = 1;
        }
        int f0 = p->fiber >= 0 ? p->fiber : b0, f1 = p->fiber >= 0 ? p->fiber + 1 : b1;
        for (int b = f0; b < f1; b++) {
            size_t o = (size_t)(b - b0) * W + p->node;
            if (s->prec == AXM_FP32)
                ((float *)out)[o] = (float)((double)((float *)out)[o] + p->amp);
            else
                ((double *)out)[o] += p->amp;
        }
    }
    return any ? out : NULL;
}

/* Whether any of x[n] is NaN, infinite or at/past bound in magnitude: one pass without early exit
 * or division, so that it costs little next to the 32 steps it follows. */
static int any_out_d(const double *x, int n, double bound)
{
    int out = 0;
    for (int i = 0; i < n; i++) out |= !(fabs(x[i]) < bound);
    return out;
}

static int any_out_f(const float *x, int n, float bound)
{
    int out = 0;
    for (int i = 0; i < n; i++) out |= !(fabsf(x[i]) < bound);
    return out;
}

/* Fibers [c0,c1) after step k: the first bad state of each fiber not yet marked. A fiber's
 * entry is written only by the thread that owns the fiber. */
static void check_block(axm_sim *s, int c0, int c1, long k)
{
    const int S = s->S, W = s->W, f32 = s->prec == AXM_FP32;
    for (int b = c0; b < c1; b++) {
        if (s->div[b].k >= 0) continue;
        size_t base = (size_t)b * S * W, vm = base + (size_t)(S - 1) * W;
        const double gb = axm_state_bound(0), vb = axm_state_bound(1);
        int bad = f32 ? any_out_f((const float *)s->state + base, (S - 1) * W, (float)gb) ||
                            any_out_f((const float *)s->state + vm, W, (float)vb)
                      : any_out_d((const double *)s->state + base, (S - 1) * W, gb) ||
                            any_out_d((const double *)s->state + vm, W, vb);
        if (!bad) continue;
        for (int i = 0; i < S * W; i++) {
            double x = f32 ? (double)((const float *)s->state)[base + i] : ((const double *)s->state)[base + i];
            if (!axm_state_out(x, i >= (S - 1) * W)) continue;
            s->div[b] = (sim_div){k, i % W, i / W, x};
            break;
        }
    }
}

static void *sim_thread_main(void *arg)
{
    sim_thread *t = arg;
    axm_sim *s = t->s;
    const axm_run_opts *o = t->o;
    double *acc = (double *)((char *)t->intra + (size_t)SIM_BLOCK * s->W * s->esz);
    long n = o->n_steps, every = n / 200 > 0 ? n / 200 : 1;
    /* Time tiles: each block of fibers runs SIM_TILE steps while its state is in cache (fibers are
     * independent; monitors accept any order across fibers). */
    for (long i0 = 0; i0 < n; i0 += SIM_TILE) {
        long i1 = i0 + SIM_TILE < n ? i0 + SIM_TILE : n;
        for (int c0 = t->b0; c0 < t->b1; c0 += SIM_BLOCK) {
            if (atomic_load_explicit(t->stop, memory_order_relaxed)) return NULL;
            if (o->cancel && *o->cancel) {
                atomic_store(t->stop, 1);
                return NULL;
            }
            int c1 = c0 + SIM_BLOCK < t->b1 ? c0 + SIM_BLOCK : t->b1;
            for (long i = i0; i < i1; i++) {
                long k = t->k0 + i;
                for (int r0 = c0; r0 < c1;) {
                    if (o->stop_when_decided && s->decided[r0]) {
                        r0++;
                        continue;
                    }
                    int r1 = r0 + 1;
                    while (r1 < c1 && !(o->stop_when_decided && s->decided[r1])) r1++;
                    build_ve(s, k, r0, r1, t->ve, acc);
                    void *in = build_intra(s, k, r0, r1, t->intra);
                    s->kind->step(s->ws, r0, r1, s->state, t->ve, in, o->dt_ms, t->scratch);
                    r0 = r1;
                }
                for (int mi = 0; mi < t->n_mons; mi++)
                    if (t->mons[mi]->ops->observe) t->mons[mi]->ops->observe(t->mons[mi], k, c0, c1, s->state);
            }
            check_block(s, c0, c1, t->k0 + i1 - 1);
        }
        if (t->tid == 0 && o->progress && (i1 / every != i0 / every || i1 == n)) o->progress(o->progress_ud, i1, n);
    }
    return NULL;
}

int axm_sim_max_dt(axm_sim *s, int *fiber, double *max_dt_ms, axm_err *err)
{
    int fb = 0;
    *max_dt_ms = INFINITY;
    if (s->kind->max_dt_ms && s->B > 0) {
        int rc = ensure_ws(s, err);
        if (rc != AXM_OK) return rc;
        *max_dt_ms = s->kind->max_dt_ms(s->ws, &fb);
    }
    if (fiber) *fiber = fb;
    return AXM_OK;
}

/* The run's error when a fiber diverged: the first one, and what to change. */
static int diverged_error(axm_sim *s, double dt, axm_err *err)
{
    int n = 0, b0 = -1;
    for (int b = 0; b < s->B; b++)
        if (s->div[b].k >= 0 && n++ == 0) b0 = b;
    if (!n) return AXM_OK;
    const sim_div *d = &s->div[b0];
    char others[48] = "";
    if (n > 1) snprintf(others, sizeof others, " (and %d more fiber%s)", n - 1, n > 2 ? "s" : "");
    const char *nm = s->kind->state_names ? s->kind->state_names[d->state] : "state";
    double t = (double)(d->k + 1) * dt;
    if (s->kind->max_dt_ms) {
        int fb = 0;
        double lim = s->kind->max_dt_ms(s->ws, &fb);
        (void)fb;
        double use = fmin(AXM_EXPLICIT_HEADROOM * lim, 0.8 * dt);
        return axm_fail(err, AXM_ERR_RUNTIME,
                        "run: fiber %d (D = %g um)%s diverged by t = %.4g ms (%s = %g at node %d): the explicit "
                        "%s step at dt = %g ms (%.2f of its linear stability limit %.3g ms, which spikes and strong "
                        "stimuli lower) is unstable here; use dt <= %.2g ms or a weaker stimulus",
                        b0, s->D[b0], others, t, nm, d->value, d->node, s->kind->name, dt, dt / lim, lim, use);
    }
    return axm_fail(err, AXM_ERR_RUNTIME, "run: fiber %d (D = %g um)%s diverged by t = %.4g ms (%s = %g at node %d)",
                    b0, s->D[b0], others, t, nm, d->value, d->node);
}

int axm_sim_run(axm_sim *s, const axm_run_opts *o, axm_monitor *const *mons, int n_mons,
                axm_err *err)
{
    if (!o) return axm_fail(err, AXM_ERR_INPUT, "run: no options");
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "run: dt: expected a positive time step in ms (got %g)", o->dt_ms);
    if (o->n_steps < 0) return axm_fail(err, AXM_ERR_INPUT, "run: n_steps: expected >= 0 (got %ld)", o->n_steps);
    if (n_mons < 0 || (n_mons > 0 && !mons)) return axm_fail(err, AXM_ERR_INPUT, "run: monitors: bad list");
    int reinit = o->reinit || !s->initialized;
    if (reinit) {
        int rc = ensure_ws(s, err);
        if (rc != AXM_OK) return rc;
    }
    /* explicit steps past their stability limit blow up to 1e10 mV (or NaN -> 0): say so instead */
    if (s->kind->max_dt_ms && s->B > 0) {
        int fb = 0;
        double lim = s->kind->max_dt_ms(s->ws, &fb);
        if (o->dt_ms > lim) {
            double y[2] = {0, 0};
            axm_err pe;
            double dx = s->kind->positions(s->model, s->D[fb], 2, y, &pe) == AXM_OK ? y[1] - y[0] : NAN;
            return axm_fail(err, AXM_ERR_INPUT,
                            "sim.dt_ms: %g ms exceeds the explicit stability limit %.3g ms of %s at D = %g um "
                            "(fiber %d, compartment length %g um): use dt <= %.3g ms or longer compartments",
                            o->dt_ms, lim, s->kind->name, s->D[fb], fb, dx, lim);
        }
    }
    if (reinit) {
        s->kind->init(s->ws, 0, s->B, s->state);
        memset(s->decided, 0, (size_t)s->B);
        s->k = 0;
        s->initialized = 1;
    }
    /* pulse edges in steps; the tolerance keeps k*dt == delay on the grid despite rounding */
    if (s->has_drive && s->pulses) {
        double off = s->kind->ve_timing == AXM_VE_MIDSTEP ? 0.5 : 0.0, eps = 1e-6;
        for (int i = 0; i < s->drive.n_pulses; i++) {
            const axm_pulse *p = &s->drive.pulses[i];
            sim_pulse *q = &s->pulses[i];
            q->fiber = p->fiber;
            q->node = p->node < 0 ? s->W + p->node : p->node;
            q->amp = p->amp_mA;
            double a = ceil(p->delay_ms / o->dt_ms - off - eps);
            double b = ceil((p->delay_ms + p->dur_ms) / o->dt_ms - off - eps);
            q->k_on = a < -1e18 ? -(1L << 62) : (a > 1e18 ? (1L << 62) : (long)a);
            q->k_off = b < -1e18 ? -(1L << 62) : (b > 1e18 ? (1L << 62) : (long)b);
        }
    }
    long k0 = s->k;
    for (int b = 0; b < s->B; b++) s->div[b].k = -1;
    axm_mon_run r = {s->B, s->W, s->S, s->prec, o->dt_ms, k0, o->n_steps, reinit, s->decided};
    int begun = 0, rc = AXM_OK;
    for (; begun < n_mons; begun++) {
        if (!mons[begun] || !mons[begun]->ops) {
            rc = axm_fail(err, AXM_ERR_INPUT, "run: monitor %d is NULL", begun);
            break;
        }
        if (mons[begun]->ops->begin) {
            rc = mons[begun]->ops->begin(mons[begun], &r, s->state, err);
            if (rc != AXM_OK) break;
        }
    }
    if (rc != AXM_OK) {
        for (int i = 0; i < begun; i++)
            if (mons[i]->ops->end) mons[i]->ops->end(mons[i]);
        return rc;
    }

    int nt = s->n_threads < s->B ? s->n_threads : s->B;
    if (nt < 1) nt = 1;
    sim_thread *th = calloc((size_t)nt, sizeof *th);
    atomic_int stop = 0;
    size_t scr = s->kind->scratch_bytes ? s->kind->scratch_bytes(s->model, s->W) : 0;
    size_t vebytes = (size_t)SIM_BLOCK * s->nc * s->esz;
    size_t inbytes = (size_t)SIM_BLOCK * s->W * s->esz + (size_t)s->nc * sizeof(double);
    int ok = th != NULL;
    for (int i = 0; ok && i < nt; i++) {
        sim_thread *t = &th[i];
        t->s = s;
        t->o = o;
        t->mons = mons;
        t->n_mons = n_mons;
        t->tid = i;
        t->b0 = (int)((long)s->B * i / nt);
        t->b1 = (int)((long)s->B * (i + 1) / nt);
        t->k0 = k0;
        t->stop = &stop;
        t->scratch = xaligned(scr);
        t->ve = xaligned(vebytes);
        t->intra = xaligned(inbytes);
        if (!t->scratch || !t->ve || !t->intra) ok = 0;
    }
    int started = 0;
    if (ok) {
        for (started = 1; started < nt; started++)
            if (pthread_create(&th[started].th, NULL, sim_thread_main, &th[started]) != 0) {
                atomic_store(&stop, 1);
                break;
            }
        if (!atomic_load(&stop)) sim_thread_main(&th[0]);
        for (int i = 1; i < started; i++) pthread_join(th[i].th, NULL);
    }
    for (int i = 0; th && i < nt; i++) {
        free(th[i].scratch);
        free(th[i].ve);
        free(th[i].intra);
    }
    free(th);
    for (int i = 0; i < n_mons; i++)
        if (mons[i]->ops->end) mons[i]->ops->end(mons[i]);
    if (!ok) {
        s->initialized = 0;
        return axm_fail(err, AXM_ERR_NOMEM, "run: out of memory for thread buffers");
    }
    if (atomic_load(&stop)) {
        /* threads stopped at different steps: the state is not one time point any more */
        s->initialized = 0;
        if (o->cancel && *o->cancel) return axm_fail(err, AXM_ERR_CANCELLED, "run: cancelled");
        return axm_fail(err, AXM_ERR_RUNTIME, "run: could not start %d threads", nt);
    }
    s->k = k0 + o->n_steps;
    if (o->progress) o->progress(o->progress_ud, o->n_steps, o->n_steps);
    return o->allow_diverged ? AXM_OK : diverged_error(s, o->dt_ms, err);
}

int axm_sim_diverged(const axm_sim *s, int b, long *k, int *node, int *state, double *value)
{
    if (b < 0 || b >= s->B || s->div[b].k < 0) return 0;
    if (k) *k = s->div[b].k;
    if (node) *node = s->div[b].node;
    if (state) *state = s->div[b].state;
    if (value) *value = s->div[b].value;
    return 1;
}

int axm_sim_batch(const axm_sim *s) { return s->B; }
int axm_sim_nodes(const axm_sim *s) { return s->W; }
int axm_sim_n_states(const axm_sim *s) { return s->S; }
axm_prec axm_sim_prec(const axm_sim *s) { return s->prec; }
long axm_sim_step_index(const axm_sim *s) { return s->k; }
const axm_model *axm_sim_model(const axm_sim *s) { return s->model; }
const void *axm_sim_state(const axm_sim *s) { return s->state; }
int axm_sim_n_comp(const axm_sim *s) { return s->nc; }

double axm_sim_state_at(const axm_sim *s, int b, int state, int node)
{
    if (b < 0 || b >= s->B || state < 0 || state >= s->S || node < -s->W || node >= s->W) return NAN;
    if (node < 0) node += s->W;
    size_t i = ((size_t)b * s->S + state) * s->W + node;
    return s->prec == AXM_FP32 ? (double)((const float *)s->state)[i] : ((const double *)s->state)[i];
}

const double *axm_sim_phi(const axm_sim *s, int b, int c)
{
    if (!s->phi || b < 0 || b >= s->B || c < 0 || c >= s->drive.n_contacts) return NULL;
    return s->phi + ((size_t)b * s->drive.n_contacts + c) * s->nc;
}
