/* Training the surrogate (train.h): the batch kernel (forward and adjoint over a chunk of fibers on
 * the CPU's threads), Adam, and the trainer (datasets, selection of the trained parameters, epochs,
 * validation, checkpoints and resume). Settings in train_cfg.c. */
#include "train.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "fileio.h"
#include "jsonget.h"
#include "rng.h"

/* ======================================================================================= kernel */

typedef struct chunk_job {
    const axm_smfg_theta *th;
    const double *D, *ve, *target, *w;
    int B, W, L, b0, b1;
    double norm, dt;
    double *s_io;
    axm_smfg_grad g;
    int want_grad;
    double loss;
    int nomem;
} chunk_job;

static void *chunk_worker(void *arg)
{
    chunk_job *J = arg;
    int W = J->W, L = J->L, B = J->B, n5 = AXM_SMFG_NS * W;
    double *traj = malloc(sizeof(double) * ((size_t)(L + 1) * n5 + 2 * (size_t)n5 +
                                            axm_smfg_scratch_doubles(W)));
    if (!traj) {
        J->nomem = 1;
        J->loss = NAN;
        return NULL;
    }
    double *a = traj + (size_t)(L + 1) * n5, *ao = a + n5, *scr = ao + n5;
    axm_smfg_grad_zero(&J->g);
    double loss = 0;
    for (int b = J->b0; b < J->b1; b++) {
        axm_smfg_lumped Lp;
        axm_smfg_lump(J->th, J->D[b], &Lp);
        memcpy(traj, J->s_io + (size_t)b * n5, sizeof(double) * n5);
        for (int k = 0; k < L; k++)
            axm_smfg_fwd_step(J->th, &Lp, W, traj + (size_t)k * n5, J->ve + ((size_t)k * B + b) * W,
                              NULL, J->dt, traj + (size_t)(k + 1) * n5, scr);
        for (int t = 0; t <= L; t++) {
            const double *p = traj + (size_t)t * n5, *y = J->target + ((size_t)t * B + b) * n5;
            for (int s = 0; s < 5; s++) {
                if (J->w[s] == 0) continue;
                double acc = 0;
                for (int j = 0; j < W; j++) {
                    double d = p[s * W + j] - y[s * W + j];
                    acc += d * d;
                }
                loss += J->w[s] * acc;
            }
        }
        memcpy(J->s_io + (size_t)b * n5, traj + (size_t)L * n5, sizeof(double) * n5);
        if (!J->want_grad) continue;
        /* dLoss/dpred at t = L, then walk back; t = 0 is the detached initial state */
        for (int k = L; k >= 1; k--) {
            const double *p = traj + (size_t)k * n5, *y = J->target + ((size_t)k * B + b) * n5;
            if (k == L) memset(a, 0, sizeof(double) * n5);
            for (int s = 0; s < 5; s++) {
                double c = 2 * J->w[s] / J->norm;
                for (int j = 0; j < W; j++) a[s * W + j] += c * (p[s * W + j] - y[s * W + j]);
            }
            axm_smfg_bwd_step(J->th, &Lp, W, traj + (size_t)(k - 1) * n5,
                              J->ve + ((size_t)(k - 1) * B + b) * W, NULL, J->dt, a, ao, NULL, NULL,
                              &J->g, scr);
            memcpy(a, ao, sizeof(double) * n5);
        }
        axm_smfg_grad_flush_fiber(J->th, J->D[b], &J->g);
    }
    J->loss = loss / J->norm;
    free(traj);
    return NULL;
}

#define MAX_THREADS 64

double axm_train_chunk(const axm_smfg_theta *th, const double *D, int B, int W, int L,
                       const double *ve, const double *target, const double w[5], double norm,
                       double dt, double *s_io, axm_smfg_grad *g, int n_threads)
{
    if (n_threads < 1) n_threads = 1;
    if (n_threads > B) n_threads = B;
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    chunk_job *jobs = calloc((size_t)n_threads, sizeof *jobs);
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    if (!jobs) return NAN;
    for (int i = 0; i < n_threads; i++) {
        chunk_job *J = &jobs[i];
        J->th = th;
        J->D = D;
        J->ve = ve;
        J->target = target;
        J->w = w;
        J->B = B;
        J->W = W;
        J->L = L;
        J->b0 = (int)((long)B * i / n_threads);
        J->b1 = (int)((long)B * (i + 1) / n_threads);
        J->norm = norm;
        J->dt = dt;
        J->s_io = s_io;
        J->want_grad = g != NULL;
        if (i > 0) started[i] = pthread_create(&tid[i], NULL, chunk_worker, J) == 0;
    }
    chunk_worker(&jobs[0]);
    for (int i = 1; i < n_threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            chunk_worker(&jobs[i]); /* could not start a thread: do it here */
    }
    /* summed in thread order: deterministic for a given thread count */
    double loss = 0;
    for (int i = 0; i < n_threads; i++) {
        loss += jobs[i].loss;
        if (g) axm_smfg_grad_add(g, &jobs[i].g);
    }
    free(jobs);
    return loss;
}

void axm_adam_update(int n, double *p, const double *g, double *m, double *v, long t, double lr,
                     double b1, double b2, double eps)
{
    double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
    for (int i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double denom = sqrt(v[i]) / sqrt(bc2) + eps;
        p[i] -= (lr / bc1) * m[i] / denom;
    }
}

/* ======================================================================================= trainer */

typedef struct sel_item {
    int kind; /* 0 parameter, 1 stencil */
    int idx, c, k;
    char name[32];
} sel_item;

struct axm_trainer {
    axm_train_config cfg;
    axm_smfg_theta th;
    axm_dataset *tr, *va;
    axm_dataset_dims tdim, vdim;
    int n_sel;
    sel_item sel[2 * AXM_MAX_TAPS + AXM_SMFG_NP];
    const char *sel_names[2 * AXM_MAX_TAPS + AXM_SMFG_NP];
    double *values, *grad, *adam_m, *adam_v, *last_good;
    long adam_t;
    /* position */
    int epoch;
    long batch;       /* next minibatch within the epoch */
    long steps_done;  /* minibatches done overall */
    int save_idx;
    int *order;       /* run order of this epoch */
    uint64_t rng;
    double cum_loss;
    long cum_n;
    int last_saved_step; /* steps_done at the last checkpoint */
    int nan_stop;
    int started;
    char note[256]; /* reported with the start event */
    double last_val;
    /* per-epoch sizes */
    int n_runs, blocks_per_run;
    long batches;
    /* buffers */
    double *ve, *st, *D, *s_io;
    size_t cap_B;
    int n_samples;
    axm_train_cb cb;
    void *cb_ud;
    void (*hook)(void *, int, double *);
    void *hook_ud;
    axm_train_chunk_fn chunk_fn;
    void *chunk_ud;
};

static void shuffle_order(axm_trainer *t)
{
    int G = t->tdim.G;
    for (int i = 0; i < G; i++) t->order[i] = i;
    for (int i = G - 1; i > 0; i--) {
        int j = (int)(axm_splitmix64(&t->rng) % (uint64_t)(i + 1));
        int x = t->order[i];
        t->order[i] = t->order[j];
        t->order[j] = x;
    }
}

static double sel_get(const axm_smfg_theta *th, const sel_item *s)
{
    return s->kind == 0 ? th->p[s->idx] : th->w[s->c][s->k];
}

static void sel_set(axm_smfg_theta *th, const sel_item *s, double v)
{
    if (s->kind == 0)
        th->p[s->idx] = v;
    else
        th->w[s->c][s->k] = v;
}

static void emit(axm_trainer *t, axm_train_event_kind kind, double tl, double vl, const char *path,
                 const char *msg)
{
    for (int i = 0; i < t->n_sel; i++) t->values[i] = sel_get(&t->th, &t->sel[i]);
    if (!t->cb) return;
    axm_train_event ev = {0};
    ev.kind = kind;
    ev.epoch = t->epoch;
    ev.epochs = t->cfg.epochs;
    ev.batch = t->batch;
    ev.batches = t->batches;
    ev.step = t->steps_done;
    ev.total_steps = axm_trainer_total_steps(t);
    ev.train_loss = tl;
    ev.val_loss = vl;
    ev.n_params = t->n_sel;
    ev.names = t->sel_names;
    ev.values = t->values;
    ev.path = path;
    ev.message = msg;
    t->cb(t->cb_ud, &ev);
}

static int add_sel(axm_trainer *t, int kind, int idx, int c, int k)
{
    for (int i = 0; i < t->n_sel; i++)
        if (t->sel[i].kind == kind && t->sel[i].idx == idx && t->sel[i].c == c && t->sel[i].k == k)
            return 0;
    sel_item *s = &t->sel[t->n_sel];
    s->kind = kind;
    s->idx = idx;
    s->c = c;
    s->k = k;
    if (kind == 0)
        snprintf(s->name, sizeof s->name, "%s", axm_smfg_param_name(idx));
    else
        snprintf(s->name, sizeof s->name, "ssd.%s[%d]", c == 0 ? "vm" : "ve", k);
    t->sel_names[t->n_sel] = s->name;
    t->n_sel++;
    return 1;
}

static int build_selection(axm_trainer *t, axm_err *err)
{
    const axm_train_config *c = &t->cfg;
    for (int i = 0; i < c->n_to_train; i++) {
        const char *nm = c->to_train[i];
        int hit = 0;
        if (!strcmp(nm, "ssd")) {
            for (int ch = 0; ch < 2; ch++)
                for (int k = 0; k < t->th.taps; k++) add_sel(t, 1, -1, ch, k);
            hit = 1;
        }
        for (int p = 0; p < AXM_SMFG_NP && !hit; p++)
            if (!strcmp(axm_smfg_param_group(p), nm)) {
                for (int q = 0; q < AXM_SMFG_NP; q++)
                    if (!strcmp(axm_smfg_param_group(q), nm)) add_sel(t, 0, q, 0, 0);
                hit = 1;
            }
        if (!hit) {
            int p = axm_smfg_param_find(nm);
            if (p >= 0) {
                add_sel(t, 0, p, 0, 0);
                hit = 1;
            }
        }
        if (!hit)
            return axm_fail(err, AXM_ERR_INPUT,
                            "%s: to_train: '%s': not a parameter, a group (conductances, "
                            "reversal_potentials, membrane, rate_constants, axon_d, node_d, "
                            "delta_x, other, q10) or 'ssd'",
                            c->path[0] ? c->path : "config", nm);
    }
    for (int i = 0; i < c->n_postfix; i++) {
        const char *nm = c->postfix[i];
        if (axm_smfg_param_find(nm) < 0 && strncmp(nm, "ssd", 3))
            return axm_fail(err, AXM_ERR_INPUT, "%s: postfix: '%s': not an S-MF parameter",
                            c->path[0] ? c->path : "config", nm);
    }
    return AXM_OK;
}

axm_trainer *axm_trainer_create(const axm_train_config *c, axm_err *err)
{
    axm_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        axm_fail(err, AXM_ERR_NOMEM, "train: out of memory");
        return NULL;
    }
    t->cfg = *c;
    const char *cname = c->path[0] ? c->path : "config";
    {
        /* the model's own defaults and weights-file reader, so that training starts from exactly
         * what simulate/threshold would run */
        axm_model *m = axm_model_create("smf", err);
        if (!m) goto fail;
        axm_err why;
        int rc = strcasecmp(c->model, "smf") ? axm_model_load_weights(m, c->model, &why) : AXM_OK;
        if (rc) axm_fail(err, rc, "%s: model: %s", cname, why.msg);
        if (!rc) rc = axm_smfg_theta_from_model(&t->th, m, err);
        axm_model_destroy(m);
        if (rc) goto fail;
    }
    t->th.handle_nan = c->handle_nan;
    t->th.round_f32 = c->fp32;
    if (build_selection(t, err)) goto fail;
    axm_err why; /* the dataset's own message, after the config key that named it */
    if (!(t->tr = axm_dataset_open(c->train_dset, &why))) {
        axm_fail(err, why.code, "%s: train_dset: %s", cname, why.msg);
        goto fail;
    }
    t->tdim = axm_dataset_get_dims(t->tr);
    if (t->tdim.W != c->nodes) {
        axm_fail(err, AXM_ERR_INPUT, "%s: nodes %d, but %s has %d nodes per fiber", cname,
                 c->nodes, c->train_dset, t->tdim.W);
        goto fail;
    }
    if (c->valid_dset[0]) {
        if (!(t->va = axm_dataset_open(c->valid_dset, &why))) {
            axm_fail(err, why.code, "%s: valid_dset: %s", cname, why.msg);
            goto fail;
        }
        t->vdim = axm_dataset_get_dims(t->va);
        if (t->vdim.W != c->nodes) {
            axm_fail(err, AXM_ERR_INPUT, "%s: nodes %d, but %s has %d nodes per fiber", cname,
                     c->nodes, c->valid_dset, t->vdim.W);
            goto fail;
        }
        if (t->vdim.T != t->tdim.T) {
            axm_fail(err, AXM_ERR_INPUT, "%s: %s has %d samples per trace, %s has %d", cname,
                     c->valid_dset, t->vdim.T, c->train_dset, t->tdim.T);
            goto fail;
        }
    }
    int nsel_states = 0;
    for (int s = 0; s < 5; s++) nsel_states += c->state_on[s] && c->state_weights[s] > 0;
    if (!nsel_states) {
        axm_fail(err, AXM_ERR_INPUT, "%s: states/state_weights: no state has a positive weight", cname);
        goto fail;
    }
    if (t->tdim.dt_ms > 0 && fabs(t->tdim.dt_ms * c->sampling - c->dt) > 1e-9 * c->dt)
        /* as the original, dt is not adjusted to the sampling: say so rather than guess */
        snprintf(t->note, sizeof t->note,
                 "note: dt %g ms, but the training samples are %g ms apart (file dt %g ms x sampling %d)",
                 c->dt, t->tdim.dt_ms * c->sampling, t->tdim.dt_ms, c->sampling);
    t->n_runs = c->train_n_idx < t->tdim.G ? c->train_n_idx : t->tdim.G;
    int cs = c->train_chunk_size;
    t->blocks_per_run = (t->tdim.R + cs - 1) / cs;
    t->batches = (long)t->n_runs * t->blocks_per_run;
    t->n_samples = axm_dataset_samples(t->tr, c->sampling);
    int vcs = c->val_chunk_size;
    size_t B = (size_t)(cs < t->tdim.R ? cs : t->tdim.R) * t->tdim.F;
    if (t->va) {
        size_t vB = (size_t)(vcs < t->vdim.R ? vcs : t->vdim.R) * t->vdim.F;
        if (vB > B) B = vB;
    }
    t->cap_B = B;
    size_t n = (size_t)t->n_samples, W = (size_t)c->nodes;
    t->ve = malloc(sizeof(double) * n * B * W);
    t->st = malloc(sizeof(double) * n * B * 5 * W);
    t->D = malloc(sizeof(double) * B);
    t->s_io = malloc(sizeof(double) * B * 5 * W);
    t->order = malloc(sizeof(int) * (size_t)t->tdim.G);
    int ns = t->n_sel;
    t->values = calloc((size_t)ns + 1, sizeof(double));
    t->grad = calloc((size_t)ns + 1, sizeof(double));
    t->adam_m = calloc((size_t)ns + 1, sizeof(double));
    t->adam_v = calloc((size_t)ns + 1, sizeof(double));
    t->last_good = calloc((size_t)ns + 1, sizeof(double));
    if (!t->ve || !t->st || !t->D || !t->s_io || !t->order || !t->values || !t->grad ||
        !t->adam_m || !t->adam_v || !t->last_good) {
        axm_fail(err, AXM_ERR_NOMEM, "train: out of memory for minibatches of %zu fibers x %zu samples",
                 B, n);
        goto fail;
    }
    t->rng = c->seed;
    shuffle_order(t);
    t->last_val = NAN;
    t->last_saved_step = -1;
    for (int i = 0; i < ns; i++) t->values[i] = sel_get(&t->th, &t->sel[i]);
    return t;
fail:
    axm_trainer_destroy(t);
    return NULL;
}

void axm_trainer_destroy(axm_trainer *t)
{
    if (!t) return;
    axm_dataset_close(t->tr);
    axm_dataset_close(t->va);
    free(t->ve);
    free(t->st);
    free(t->D);
    free(t->s_io);
    free(t->order);
    free(t->values);
    free(t->grad);
    free(t->adam_m);
    free(t->adam_v);
    free(t->last_good);
    free(t);
}

void axm_trainer_set_callback(axm_trainer *t, axm_train_cb cb, void *ud)
{
    t->cb = cb;
    t->cb_ud = ud;
}

void axm_trainer_set_chunk_fn(axm_trainer *t, axm_train_chunk_fn fn, void *ud)
{
    t->chunk_fn = fn;
    t->chunk_ud = ud;
}

void axm_trainer_chunk_buffers(const axm_trainer *t, const void *buf[2], size_t bytes[2])
{
    size_t n = (size_t)t->n_samples * t->cap_B * (size_t)t->cfg.nodes;
    buf[0] = t->ve;
    bytes[0] = sizeof(double) * n;
    buf[1] = t->st;
    bytes[1] = sizeof(double) * n * 5;
}

/* One chunk from the current state t->s_io, on the caller's chunk function if set. */
static int run_chunk(axm_trainer *t, int B, int L, const double *ve, const double *tgt,
                     const double w[5], double norm, axm_smfg_grad *g, double *loss, axm_err *err)
{
    int W = t->cfg.nodes;
    if (t->chunk_fn)
        return t->chunk_fn(t->chunk_ud, &t->th, t->D, B, W, L, ve, tgt, w, norm, t->cfg.dt, t->s_io,
                           g, loss, err);
    *loss = axm_train_chunk(&t->th, t->D, B, W, L, ve, tgt, w, norm, t->cfg.dt, t->s_io, g,
                            t->cfg.threads);
    return AXM_OK;
}

void axm_trainer_set_grad_hook(axm_trainer *t, void (*hook)(void *, int, double *), void *ud)
{
    t->hook = hook;
    t->hook_ud = ud;
}

int axm_trainer_done(const axm_trainer *t) { return t->nan_stop || t->epoch >= t->cfg.epochs; }
long axm_trainer_steps_done(const axm_trainer *t) { return t->steps_done; }
long axm_trainer_total_steps(const axm_trainer *t) { return t->batches * t->cfg.epochs; }
int axm_trainer_n_selected(const axm_trainer *t) { return t->n_sel; }
const char *axm_trainer_selected_name(const axm_trainer *t, int i)
{
    return i >= 0 && i < t->n_sel ? t->sel[i].name : NULL;
}
double axm_trainer_selected_value(const axm_trainer *t, int i)
{
    return i >= 0 && i < t->n_sel ? sel_get(&t->th, &t->sel[i]) : NAN;
}
const axm_smfg_theta *axm_trainer_theta(const axm_trainer *t) { return &t->th; }

int axm_trainer_set_value(axm_trainer *t, const char *name, double v, axm_err *err)
{
    for (int i = 0; i < t->n_sel; i++)
        if (!strcmp(t->sel[i].name, name)) {
            sel_set(&t->th, &t->sel[i], v);
            return AXM_OK;
        }
    return axm_fail(err, AXM_ERR_INPUT, "train: '%s' is not among the trained values", name);
}

static void weights_of(const axm_train_config *c, double w[5])
{
    for (int s = 0; s < 5; s++) w[s] = c->state_on[s] ? c->state_weights[s] : 0;
}

static int n_loss_states(const double w[5])
{
    int n = 0;
    for (int s = 0; s < 5; s++) n += w[s] > 0;
    return n;
}

/* Loads rows [r0,r1) of run g of ds; returns B. */
static int load_block(axm_trainer *t, axm_dataset *ds, int g, int r0, int r1, axm_err *err)
{
    if (axm_dataset_read(ds, g, r0, r1, t->cfg.sampling, t->ve, t->st, t->D, err)) return -1;
    return (r1 - r0) * axm_dataset_get_dims(ds).F;
}

static void reset_state(axm_trainer *t, int B)
{
    int W = t->cfg.nodes;
    for (int b = 0; b < B; b++) axm_smfg_ic(W, t->s_io + (size_t)b * 5 * W);
    if (t->cfg.fp32)
        for (size_t i = 0; i < (size_t)B * 5 * W; i++) t->s_io[i] = (double)(float)t->s_io[i];
}

double axm_trainer_validate(axm_trainer *t, axm_err *err)
{
    if (!t->va) return NAN;
    int runs = t->cfg.val_n_idx < t->vdim.G ? t->cfg.val_n_idx : t->vdim.G;
    int cs = t->cfg.val_chunk_size, W = t->cfg.nodes;
    double w[5];
    weights_of(&t->cfg, w);
    int n = axm_dataset_samples(t->va, t->cfg.sampling);
    double cum = 0;
    long nv = 0;
    for (int g = 0; g < runs; g++)
        for (int r0 = 0; r0 < t->vdim.R; r0 += cs) {
            int r1 = r0 + cs < t->vdim.R ? r0 + cs : t->vdim.R;
            int B = load_block(t, t->va, g, r0, r1, err);
            if (B < 0) return NAN;
            reset_state(t, B);
            double norm = (double)n * B * n_loss_states(w) * W;
            double l;
            if (run_chunk(t, B, n - 1, t->ve, t->st, w, norm, NULL, &l, err)) {
                t->last_val = NAN;
                return NAN;
            }
            if (isfinite(l)) {
                cum += l;
                nv++;
            }
        }
    t->last_val = nv ? cum / (double)nv : NAN;
    return t->last_val;
}

/* Optimizer update from the accumulated gradient g; 1 when a parameter became NaN (reverted). */
static int apply_update(axm_trainer *t, const axm_smfg_grad *g)
{
    int ns = t->n_sel;
    for (int i = 0; i < ns; i++) {
        const sel_item *s = &t->sel[i];
        double v = s->kind == 0 ? g->p[s->idx] : g->w[s->c][s->k];
        t->grad[i] = isnan(v) ? 0 : v;
        t->values[i] = t->last_good[i] = sel_get(&t->th, s);
    }
    if (t->hook) t->hook(t->hook_ud, ns, t->grad);
    t->adam_t++;
    axm_adam_update(ns, t->values, t->grad, t->adam_m, t->adam_v, t->adam_t, t->cfg.lr,
                    t->cfg.beta1, t->cfg.beta2, t->cfg.eps);
    int bad = -1;
    for (int i = 0; i < ns && bad < 0; i++)
        if (isnan(t->values[i])) bad = i;
    if (bad >= 0) {
        /* keep the last good values; the optimizer state is suspect, so stop */
        for (int i = 0; i < ns; i++) t->values[i] = t->last_good[i];
        char msg[160];
        snprintf(msg, sizeof msg, "parameter %s became NaN at step %ld: stopping with the last good parameters",
                 t->sel[bad].name, t->steps_done + 1);
        t->nan_stop = 1;
        emit(t, AXM_TRAIN_EV_NAN, NAN, t->last_val, NULL, msg);
        return 1;
    }
    for (int i = 0; i < ns; i++) sel_set(&t->th, &t->sel[i], t->values[i]);
    return 0;
}

static int mkdir_p(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0777);
            *p = '/';
        }
    return mkdir(buf, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* cJSON prints 15 digits when they round-trip within a tolerance, which is not exact: resuming
 * must continue bit-identically, so numbers are written with 17 significant digits. */
static cJSON *exact_num(double v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_CreateRaw(buf);
}

static cJSON *num_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, exact_num(v[i]));
    return a;
}

/* JSON numbers cannot be NaN/inf: those are written as null */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static int write_checkpoint(axm_trainer *t, const char *path, double train_loss, axm_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "axonml-weights");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "model", "smf");
    cJSON_AddBoolToObject(root, "trained", 1);
    cJSON *params = cJSON_AddObjectToObject(root, "params");
    for (int i = 0; i < AXM_SMFG_NP; i++)
        cJSON_AddItemToObject(params, axm_smfg_param_name(i), exact_num(t->th.p[i]));
    cJSON *st = cJSON_AddObjectToObject(root, "stencil");
    cJSON_AddNumberToObject(st, "taps", t->th.taps);
    cJSON_AddItemToObject(st, "vm", num_array(t->th.w[0], t->th.taps));
    cJSON_AddItemToObject(st, "ve", num_array(t->th.w[1], t->th.taps));
    cJSON *pv = cJSON_AddObjectToObject(root, "provenance");
    cJSON_AddStringToObject(pv, "source", "axonml train");
    cJSON_AddStringToObject(pv, "config", t->cfg.path);
    cJSON_AddStringToObject(pv, "train_dset", t->cfg.train_dset);
    add_num(pv, "validation_loss", t->last_val);
    add_num(pv, "train_error", train_loss);
    cJSON_AddNumberToObject(pv, "index", t->save_idx);
    cJSON *tr = cJSON_AddObjectToObject(pv, "trainer");
    cJSON_AddNumberToObject(tr, "epoch", t->epoch);
    cJSON_AddNumberToObject(tr, "batch", (double)t->batch);
    cJSON_AddNumberToObject(tr, "steps_done", (double)t->steps_done);
    cJSON_AddNumberToObject(tr, "save_idx", t->save_idx);
    char rng[32];
    snprintf(rng, sizeof rng, "%llu", (unsigned long long)t->rng);
    cJSON_AddStringToObject(tr, "rng", rng);
    cJSON *ord = cJSON_AddArrayToObject(tr, "order");
    for (int i = 0; i < t->tdim.G; i++) cJSON_AddItemToArray(ord, cJSON_CreateNumber(t->order[i]));
    cJSON_AddNumberToObject(tr, "adam_t", (double)t->adam_t);
    cJSON *names = cJSON_AddArrayToObject(tr, "names");
    for (int i = 0; i < t->n_sel; i++) cJSON_AddItemToArray(names, cJSON_CreateString(t->sel[i].name));
    cJSON_AddItemToObject(tr, "adam_m", num_array(t->adam_m, t->n_sel));
    cJSON_AddItemToObject(tr, "adam_v", num_array(t->adam_v, t->n_sel));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return axm_fail(err, AXM_ERR_NOMEM, "train: out of memory writing %s", path);
    int rc = axm_write_text_file_atomic(path, text, "checkpoint", err);
    free(text);
    return rc;
}

int axm_trainer_checkpoint(axm_trainer *t, char *path_out, size_t n, axm_err *err)
{
    if (mkdir_p(t->cfg.save_dir))
        return axm_fail(err, AXM_ERR_IO, "%s: save_dir: cannot create '%s' (%s)", t->cfg.path,
                        t->cfg.save_dir, strerror(errno));
    char path[1200];
    if (t->va && isfinite(t->last_val))
        snprintf(path, sizeof path, "%s/%05d-%.3f.json", t->cfg.save_dir, t->save_idx, t->last_val);
    else if (t->va)
        snprintf(path, sizeof path, "%s/%05d-nan.json", t->cfg.save_dir, t->save_idx);
    else
        snprintf(path, sizeof path, "%s/%05d.json", t->cfg.save_dir, t->save_idx);
    double tl = t->cum_n ? t->cum_loss / (double)t->cum_n : NAN;
    int rc = write_checkpoint(t, path, tl, err);
    if (rc) return rc;
    if (path_out) snprintf(path_out, n, "%s", path);
    t->last_saved_step = (int)t->steps_done;
    emit(t, AXM_TRAIN_EV_CHECKPOINT, tl, t->last_val, path, NULL);
    t->cum_loss = 0;
    t->cum_n = 0;
    t->save_idx++;
    return AXM_OK;
}

/* A required count of the checkpoint's provenance.trainer (an integer >= 0). */
static int ckpt_count(axm_jctx *c, const cJSON *tr, const char *key, long *out)
{
    int v = -1;
    if (!cJSON_GetObjectItemCaseSensitive(tr, key)) {
        char p[96];
        axm_j_path(p, sizeof p, "provenance.trainer", key);
        return axm_j_bad(c, p, "an integer >= 0", NULL);
    }
    int rc = axm_j_int(c, tr, key, "provenance.trainer", 0, INT_MAX, &v);
    if (!rc) *out = v;
    return rc;
}

/* provenance.trainer.KEY: n finite numbers (>= 0 when nonneg) into out. */
static int ckpt_numbers(axm_jctx *c, const cJSON *tr, const char *key, int n, int nonneg, double *out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(tr, key);
    char p[96];
    axm_j_path(p, sizeof p, "provenance.trainer", key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return axm_j_expected(c->err, c->file, p, a, "an array of %d numbers (one per trained value)", n);
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !axm_j_in_range(e->valuedouble, nonneg ? AXM_J_NONNEG : AXM_J_ANY)) {
            char q[112];
            snprintf(q, sizeof q, "%s[%d]", p, i);
            return axm_j_bad(c, q, nonneg ? "a finite number >= 0" : "a finite number", e);
        }
        out[i] = e->valuedouble;
    }
    return AXM_OK;
}

int axm_trainer_resume(axm_trainer *t, const char *ckpt, axm_err *err)
{
    /* the parameters through the model's weights reader, which checks every value; a key the
     * file lacks keeps the trainer's value */
    axm_smfg_theta th;
    axm_model *m = axm_model_create("smf", err);
    if (!m) return err ? err->code : AXM_ERR_NOMEM;
    axm_smfg_theta_to_model(&t->th, m);
    int rc = axm_model_load_weights(m, ckpt, err);
    if (!rc) rc = axm_smfg_theta_from_model(&th, m, err);
    axm_model_destroy(m);
    if (rc) return rc;
    char *text = axm_read_text_file(ckpt, "checkpoint", NULL, err);
    if (!text) return err ? err->code : AXM_ERR_INPUT;
    cJSON *root = cJSON_Parse(text);
    free(text);
    axm_jctx c = {ckpt, NULL, err};
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(pv, "trainer");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(tr, "names");
    const cJSON *ord = cJSON_GetObjectItemCaseSensitive(tr, "order");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(tr, "rng");
    double *am = calloc((size_t)t->n_sel + 1, sizeof *am), *av = calloc((size_t)t->n_sel + 1, sizeof *av);
    int *order = calloc((size_t)t->tdim.G + 1, sizeof *order), *seen = calloc((size_t)t->tdim.G + 1, sizeof *seen);
    long adam_t = 0, epoch = 0, batch = 0, steps_done = 0, save_idx = 0;
    unsigned long long rng_v = 0;
    if (!am || !av || !order || !seen) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", ckpt);
        goto out;
    }
    if (!cJSON_IsObject(tr)) {
        rc = axm_j_bad(&c, "provenance.trainer", "an object (a checkpoint of axonml train)", tr);
        goto out;
    }
    if (!cJSON_IsArray(names) || !cJSON_IsArray(ord) || cJSON_GetArraySize(names) != t->n_sel ||
        cJSON_GetArraySize(ord) != t->tdim.G) {
        rc = axm_fail(err, AXM_ERR_INPUT,
                      "%s: provenance.trainer: trained %d values over %d runs; this config trains %d over %d",
                      ckpt, cJSON_GetArraySize(names), cJSON_GetArraySize(ord), t->n_sel, t->tdim.G);
        goto out;
    }
    for (int i = 0; i < t->n_sel; i++) {
        const cJSON *nm = cJSON_GetArrayItem(names, i);
        if (!cJSON_IsString(nm) || strcmp(nm->valuestring, t->sel[i].name)) {
            char q[64];
            snprintf(q, sizeof q, "provenance.trainer.names[%d]", i);
            char want[96];
            snprintf(want, sizeof want, "\"%s\" (this config's trained values)", t->sel[i].name);
            rc = axm_j_bad(&c, q, want, nm);
            goto out;
        }
    }
    if (th.taps != t->th.taps) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: stencil.taps: expected %d (the model's), got %d", ckpt, t->th.taps,
                      th.taps);
        goto out;
    }
    if ((rc = ckpt_numbers(&c, tr, "adam_m", t->n_sel, 0, am)) || (rc = ckpt_numbers(&c, tr, "adam_v", t->n_sel, 1, av)))
        goto out;
    /* the shuffled order of the runs: a permutation, or the epoch would repeat some and skip others */
    for (int i = 0; i < t->tdim.G; i++) {
        const cJSON *e = cJSON_GetArrayItem(ord, i);
        double g = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(g >= 0 && g < t->tdim.G && g == floor(g)) || seen[(int)g]++) {
            char q[64], want[96];
            snprintf(q, sizeof q, "provenance.trainer.order[%d]", i);
            snprintf(want, sizeof want, "each run index 0..%d once", t->tdim.G - 1);
            rc = axm_j_bad(&c, q, want, e);
            goto out;
        }
        order[i] = (int)g;
    }
    {
        char *end = NULL;
        errno = 0;
        if (cJSON_IsString(rng)) rng_v = strtoull(rng->valuestring, &end, 10);
        if (!cJSON_IsString(rng) || !rng->valuestring[0] || *end || errno || rng->valuestring[0] == '-') {
            rc = axm_j_bad(&c, "provenance.trainer.rng", "the generator's state as a decimal string", rng);
            goto out;
        }
    }
    if ((rc = ckpt_count(&c, tr, "adam_t", &adam_t)) || (rc = ckpt_count(&c, tr, "epoch", &epoch)) ||
        (rc = ckpt_count(&c, tr, "batch", &batch)) || (rc = ckpt_count(&c, tr, "steps_done", &steps_done)) ||
        (rc = ckpt_count(&c, tr, "save_idx", &save_idx)))
        goto out;
    /* all checked: the trainer changes only now */
    memcpy(t->adam_m, am, sizeof *am * (size_t)t->n_sel);
    memcpy(t->adam_v, av, sizeof *av * (size_t)t->n_sel);
    memcpy(t->order, order, sizeof *order * (size_t)t->tdim.G);
    t->rng = rng_v;
    t->adam_t = adam_t;
    t->epoch = (int)epoch;
    t->batch = batch;
    t->steps_done = steps_done;
    t->save_idx = (int)save_idx + 1;
    {
        const cJSON *vl = cJSON_GetObjectItemCaseSensitive(pv, "validation_loss");
        t->last_val = cJSON_IsNumber(vl) ? vl->valuedouble : NAN;
    }
    /* the parameters of the weights file, keeping this config's temperature and NaN/fp32 options */
    th.temp_c = t->th.temp_c;
    th.handle_nan = t->th.handle_nan;
    th.round_f32 = t->th.round_f32;
    t->th = th;
    t->last_saved_step = (int)t->steps_done;
    t->cum_loss = 0;
    t->cum_n = 0;
    for (int i = 0; i < t->n_sel; i++) t->values[i] = sel_get(&t->th, &t->sel[i]);
out:
    free(am);
    free(av);
    free(order);
    free(seen);
    cJSON_Delete(root);
    return rc;
}

int axm_trainer_step(axm_trainer *t, const volatile int *stop, axm_err *err)
{
    if (axm_trainer_done(t)) return AXM_OK;
    if (t->steps_done == 0 && t->batch == 0 && t->epoch == 0 && !t->started) {
        /* the untrained model's validation loss, as the reference point */
        t->started = 1;
        axm_trainer_validate(t, err);
        emit(t, AXM_TRAIN_EV_START, NAN, t->last_val, NULL, t->note[0] ? t->note : NULL);
    }
    const axm_train_config *c = &t->cfg;
    int W = c->nodes;
    long i = t->batch;
    int g = t->order[i / t->blocks_per_run];
    int r0 = (int)(i % t->blocks_per_run) * c->train_chunk_size;
    int r1 = r0 + c->train_chunk_size < t->tdim.R ? r0 + c->train_chunk_size : t->tdim.R;
    int B = load_block(t, t->tr, g, r0, r1, err);
    if (B < 0) return err ? err->code : AXM_ERR_INPUT;
    reset_state(t, B);
    double w[5];
    weights_of(c, w);
    int nsteps = t->n_samples - 1, L = c->truncation_length;
    axm_smfg_grad gacc;
    axm_smfg_grad_zero(&gacc);
    double mb_loss = 0;
    long mb_n = 0;
    for (int j0 = 0; j0 < nsteps; j0 += L) {
        if (stop && *stop) return axm_fail(err, AXM_ERR_CANCELLED, "train: interrupted");
        int Lj = j0 + L <= nsteps ? L : nsteps - j0;
        double norm = (double)(Lj + 1) * B * n_loss_states(w) * W;
        axm_smfg_grad g1;
        axm_smfg_grad_zero(&g1);
        double loss;
        int rc = run_chunk(t, B, Lj, t->ve + (size_t)j0 * B * W, t->st + (size_t)j0 * B * 5 * W, w,
                           norm, &g1, &loss, err);
        if (rc) return rc;
        if (isnan(loss)) {
            char msg[160];
            snprintf(msg, sizeof msg, "NaN loss in steps %d..%d of run %d rows %d..%d: skipped",
                     j0, j0 + Lj, g, r0, r1 - 1);
            emit(t, AXM_TRAIN_EV_NAN, NAN, t->last_val, NULL, msg);
            continue;
        }
        mb_loss += loss;
        mb_n++;
        t->cum_loss += loss;
        t->cum_n++;
        if (c->grad_accumulation) {
            for (int k = 0; k < AXM_SMFG_NP; k++) gacc.p[k] += isnan(g1.p[k]) ? 0 : g1.p[k];
            for (int ch = 0; ch < 2; ch++)
                for (int k = 0; k < AXM_MAX_TAPS; k++)
                    gacc.w[ch][k] += isnan(g1.w[ch][k]) ? 0 : g1.w[ch][k];
        } else if (apply_update(t, &g1)) {
            break;
        }
    }
    if (!t->nan_stop && c->grad_accumulation) apply_update(t, &gacc);
    if (t->nan_stop) {
        /* the parameters are the last good ones: save them */
        int rc = axm_trainer_checkpoint(t, NULL, 0, err);
        if (rc) return rc;
        return axm_fail(err, AXM_ERR_RUNTIME,
                        "train: a parameter became NaN at step %ld; last good parameters saved in %s",
                        t->steps_done + 1, c->save_dir);
    }
    emit(t, AXM_TRAIN_EV_STEP, mb_n ? mb_loss / (double)mb_n : NAN, t->last_val, NULL, NULL);
    /* position first, so that a checkpoint resumes after this minibatch */
    t->steps_done++;
    t->batch++;
    if (t->batch >= t->batches) {
        emit(t, AXM_TRAIN_EV_EPOCH, NAN, t->last_val, NULL, NULL);
        t->epoch++;
        t->batch = 0;
        shuffle_order(t);
    }
    if (i == 0 || (i + 1) % c->save_every == 0) {
        axm_trainer_validate(t, err);
        if (t->va) emit(t, AXM_TRAIN_EV_VALID, NAN, t->last_val, NULL, NULL);
        return axm_trainer_checkpoint(t, NULL, 0, err);
    }
    return AXM_OK;
}

int axm_trainer_run(axm_trainer *t, const volatile int *stop, const volatile int *pause,
                    axm_err *err)
{
    while (!axm_trainer_done(t)) {
        while (pause && *pause && !(stop && *stop)) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        int rc = (stop && *stop) ? AXM_ERR_CANCELLED : axm_trainer_step(t, stop, err);
        if (rc == AXM_ERR_CANCELLED) {
            /* resume redoes the interrupted minibatch */
            axm_trainer_validate(t, NULL);
            axm_err e2;
            axm_err_clear(&e2);
            if (axm_trainer_checkpoint(t, NULL, 0, &e2)) {
                if (err) *err = e2;
                return e2.code;
            }
            return axm_fail(err, AXM_ERR_CANCELLED, "train: interrupted; checkpoint saved");
        }
        if (rc) return rc;
    }
    if (t->last_saved_step != (int)t->steps_done) {
        axm_trainer_validate(t, err);
        int rc = axm_trainer_checkpoint(t, NULL, 0, err);
        if (rc) return rc;
    }
    emit(t, AXM_TRAIN_EV_DONE, NAN, t->last_val, NULL, NULL);
    return AXM_OK;
}
