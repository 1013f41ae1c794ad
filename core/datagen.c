/* Dataset generator (datagen.h): random numbers, the runs' draws, their simulation on the CPU engine
 * or an engine's, and a generation from start (or resume) to the renamed file. Settings in
 * datagen_cfg.c, the HDF5 file and its writer thread in datagen_h5.c. */
#include "datagen.h"
#include "datagen_h5.h"

#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "field.h"
#include "monitor.h"
#include "sim.h"

/* ================================================================================ batches */

void axm_gendata_batch_destroy(axm_gendata_batch *b)
{
    if (!b) return;
    free(b->D_um);
    free(b->contact_xyz_um);
    free(b->waves);
    free(b->node_y_um);
    free(b->ap_nodes);
    free(b->states);
    free(b->e);
    free(b->act);
    free(b);
}

axm_gendata_batch *axm_gendata_batch_create(const axm_gendata_cfg *c, int n_states, axm_err *err)
{
    axm_gendata_batch *b = calloc(1, sizeof *b);
    if (!b) {
        axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        return NULL;
    }
    b->R = c->rows, b->F = c->fibers, b->B = c->rows * c->fibers, b->W = c->nodes, b->C = c->contacts;
    b->T = axm_gendata_T(c), b->S = n_states;
    size_t B = (size_t)b->B, W = (size_t)b->W, T = (size_t)b->T, C = (size_t)b->C, S = (size_t)n_states;
    b->D_um = calloc(B, sizeof *b->D_um);
    b->contact_xyz_um = calloc(B * C * 3, sizeof(double));
    b->waves = calloc(B * C, sizeof *b->waves);
    b->node_y_um = calloc(B * W, sizeof(double));
    b->ap_nodes = calloc(B * 2, sizeof(int));
    b->states = malloc(S * B * W * T * sizeof(float));
    b->e = malloc(B * W * T * sizeof(float));
    b->act = calloc(B, sizeof(float));
    if (!b->D_um || !b->contact_xyz_um || !b->waves || !b->node_y_um || !b->ap_nodes || !b->states || !b->e ||
        !b->act) {
        axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory for one run (%.3g GB): use fewer rows or fibers",
                 (double)((S + 1) * B * W * T * sizeof(float)) / 1e9);
        axm_gendata_batch_destroy(b);
        return NULL;
    }
    return b;
}

/* Node positions of fiber D: the kind's compartment positions at the node compartments, which a
 * kind with internodes lists every (n_comp - 1)/(W - 1) entries starting at 0. */
static int node_positions(const axm_model *m, double D, int W, double *ny, axm_err *err)
{
    int nc = m->kind->n_comp(m, W);
    if (nc < W || (nc - 1) % (W - 1))
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: model %s: %d compartments for %d nodes is not a node "
                        "every (n-1)/(W-1) compartments", m->kind->name, nc, W);
    double *y = malloc((size_t)nc * sizeof *y);
    if (!y) return axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
    int rc = m->kind->positions(m, D, W, y, err);
    int stride = (nc - 1) / (W - 1);
    for (int w = 0; !rc && w < W; w++) ny[w] = y[w * stride];
    free(y);
    return rc;
}

/* Node positions and AP monitor nodes of fiber f: the monitors are the nodes nearest
 * -+ap_monitor_um, which clamps them to the end nodes of short fibers (cajal). */
static int fiber_geometry(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b, int f, axm_err *err)
{
    int W = b->W;
    double *ny = b->node_y_um + (size_t)f * W;
    int rc = node_positions(m, b->D_um[f], W, ny, err);
    for (int side = 0; side < 2 && !rc; side++) {
        double target = side ? c->ap_monitor_um : -c->ap_monitor_um;
        int best = 0;
        for (int w = 1; w < W; w++)
            if (fabs(ny[w] - target) < fabs(ny[best] - target)) best = w;
        b->ap_nodes[2 * f + side] = best;
    }
    return rc;
}

int axm_gendata_draw(const axm_gendata_cfg *c, const axm_model *m, long g, axm_gendata_batch *b, axm_err *err)
{
    axm_rng r;
    axm_rng_seed(&r, (uint64_t)c->seed, (uint64_t)g);
    int C = b->C, kinds = axm_gendata_n_kinds(c);
    double msum = c->mix[0] + c->mix[1] + c->mix[2];
    for (int f = 0; f < b->B; f++) {
        double v[6][AXM_GD_MAX_CONTACTS];
        b->D_um[f] = axm_rng_range(&r, c->diam_um[0], c->diam_um[1]);
        for (int j = 0; j < 6; j++) {
            const double *rg = j == 0 ? c->dist_um : j == 1 ? (const double[2]){0, 2 * M_PI}
                             : j == 2 ? c->offset_deltax : j == 3 ? c->amp_mA : j == 4 ? c->pw_ms : c->delay_ms;
            for (int k = 0; k < C; k++) v[j][k] = axm_rng_range(&r, rg[0], rg[1]);
        }
        double u_kind[AXM_GD_MAX_CONTACTS], gap[AXM_GD_MAX_CONTACTS], fr[AXM_GD_MAX_CONTACTS], ph[AXM_GD_MAX_CONTACTS];
        for (int k = 0; k < C; k++) u_kind[k] = 0, gap[k] = 0, fr[k] = 0, ph[k] = 0;
        if (kinds > 1)
            for (int k = 0; k < C; k++) u_kind[k] = axm_rng_uniform(&r);
        if (c->mix[1] > 0)
            for (int k = 0; k < C; k++) gap[k] = axm_rng_range(&r, c->gap_ms[0], c->gap_ms[1]);
        if (c->mix[2] > 0) {
            for (int k = 0; k < C; k++) fr[k] = axm_rng_range(&r, c->freq_khz[0], c->freq_khz[1]);
            for (int k = 0; k < C; k++) ph[k] = axm_rng_range(&r, 0, 2 * M_PI);
        }
        int rc = fiber_geometry(c, m, b, f, err);
        if (rc) return rc;
        double dx = fabs(b->node_y_um[(size_t)f * b->W + 1] - b->node_y_um[(size_t)f * b->W]);
        for (int k = 0; k < C; k++) {
            double *xyz = b->contact_xyz_um + ((size_t)f * C + k) * 3;
            xyz[0] = v[0][k] * cos(v[1][k]);
            xyz[1] = v[2][k] * dx;
            xyz[2] = v[0][k] * sin(v[1][k]);
            axm_wave *w = &b->waves[(size_t)f * C + k];
            memset(w, 0, sizeof *w);
            double amp = v[3][k];
            if (c->polarity == AXM_POL_CATHODIC) amp = -fabs(amp);
            else if (c->polarity == AXM_POL_ANODIC) amp = fabs(amp);
            int kind = 0;
            double acc = 0, u = u_kind[k] * msum;
            if (kinds > 1) {
                kind = 2;
                for (int i = 0; i < 3; i++) {
                    acc += c->mix[i];
                    if (c->mix[i] > 0 && u < acc) {
                        kind = i;
                        break;
                    }
                }
            } else {
                for (int i = 0; i < 3; i++)
                    if (c->mix[i] > 0) kind = i;
            }
            w->amp_mA = amp;
            w->pw_ms = v[4][k];
            w->delay_ms = v[5][k];
            if (kind == 0) {
                w->kind = AXM_WAVE_MONO;
            } else if (kind == 1) {
                w->kind = AXM_WAVE_BIPHASIC;
                w->gap_ms = gap[k];
            } else {
                w->kind = AXM_WAVE_SINE;
                w->freq_khz = fr[k];
                w->phase_rad = ph[k];
                w->dur_ms = v[4][k];
            }
        }
    }
    return AXM_OK;
}

/* The sink: a monitor that stores every state of every fiber straight into the batch's float
 * arrays (S, B, W, T), so a run never holds a double-precision copy of its traces. */
typedef struct sink {
    axm_monitor base;
    axm_gendata_batch *const *bs; /* the call's runs; simulation fiber f is fiber f % B of run f / B */
    int k;
    axm_prec prec;
} sink;

static void sink_store(sink *k, long frame, int b0, int b1, const void *state)
{
    const axm_gendata_batch *b0p = k->bs[0];
    if (frame < 0 || frame >= b0p->T) return;
    size_t S = (size_t)b0p->S, W = (size_t)b0p->W, T = (size_t)b0p->T, B = (size_t)b0p->B;
    for (int f = b0; f < b1; f++) {
        const axm_gendata_batch *b = k->bs[(size_t)f / B];
        size_t fl = (size_t)f % B;
        for (size_t s = 0; s < S; s++) {
            float *out = b->states + ((s * B + fl) * W) * T + (size_t)frame;
            size_t base = ((size_t)f * S + s) * W;
            if (k->prec == AXM_FP32) {
                const float *x = (const float *)state + base;
                for (size_t w = 0; w < W; w++) out[w * T] = x[w];
            } else {
                const double *x = (const double *)state + base;
                for (size_t w = 0; w < W; w++) out[w * T] = (float)x[w];
            }
        }
    }
}

static int sink_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    sink *k = (sink *)m;
    if (r->B != k->k * k->bs[0]->B || r->W != k->bs[0]->W || r->S != k->bs[0]->S)
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: the simulation's shape does not match the dataset's");
    k->prec = r->prec;
    sink_store(k, r->k0, 0, r->B, state);
    return AXM_OK;
}

static void sink_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    sink_store((sink *)m, k + 1, b0, b1, state);
}

static void sink_noop(axm_monitor *m) { (void)m; }

static const axm_monitor_ops sink_ops = {"gendata-sink", sink_begin, sink_observe, sink_noop, sink_noop, sink_noop};

typedef struct prog_adapt {
    void (*fn)(void *, long, long);
    void *ud;
    long B;
} prog_adapt;

static void prog_steps(void *ud, long done, long total)
{
    prog_adapt *p = ud;
    if (p->fn && total > 0) p->fn(p->ud, (long)((double)p->B * (double)done / (double)total), p->B);
}

int axm_gendata_simulate(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b, int n_threads,
                         const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                         void *progress_ud, axm_err *err)
{
    return axm_gendata_simulate_with(c, m, b, NULL, NULL, n_threads, cancel, progress, progress_ud, err);
}

/* The preparation of fibers [f0, f1) of a call (Bt fibers, run ft / B): node positions and AP
 * monitors, sources, sampled waves and e at the nodes. Fibers are independent, so threads split them. */
typedef struct prep_job {
    const axm_gendata_cfg *c;
    const axm_model *m;
    axm_gendata_batch *const *bs;
    int B, f0, f1;
    axm_source *src;
    double *wbuf, *D;
    const double **wp;
    int *wave_of;
    int rc;
    axm_err err;
} prep_job;

static void *prep_main(void *p)
{
    prep_job *j = p;
    const axm_gendata_cfg *c = j->c;
    const int B = j->B, W = j->bs[0]->W, C = j->bs[0]->C, T = j->bs[0]->T;
    const long n_steps = T - 1;
    axm_err *err = &j->err;
    int rc = AXM_OK;
    double *phi = malloc((size_t)C * W * sizeof *phi);
    if (!phi) rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
    for (int ft = j->f0; ft < j->f1 && !rc; ft++) {
        axm_gendata_batch *b = j->bs[ft / B];
        int f = ft % B;
        if (j->D) j->D[ft] = b->D_um[f];
        double *ny = b->node_y_um + (size_t)f * W;
        if ((rc = fiber_geometry(c, j->m, b, f, err))) break;
        for (int q = 0; q < C && !rc; q++) {
            size_t il = (size_t)f * C + q, i = (size_t)ft * C + q;
            double *xyz = b->contact_xyz_um + 3 * il;
            axm_source *s = &j->src[i];
            s->kind = AXM_SRC_POINT;
            s->x_um = xyz[0], s->y_um = xyz[1], s->z_um = xyz[2];
            s->rho_ohm_cm = c->rho_ohm_cm;
            if ((rc = axm_wave_check(&b->waves[il], err))) break;
            if ((rc = axm_wave_sample(&b->waves[il], c->dt_ms, n_steps, j->wbuf + i * (size_t)n_steps, err))) break;
            j->wp[i] = j->wbuf + i * (size_t)n_steps;
            j->wave_of[i] = (int)i;
        }
        if (rc) break;
        /* e at the nodes: what the engine applies at the node compartments, sample by sample */
        for (int q = 0; q < C && !rc; q++) rc = axm_source_eval(&j->src[(size_t)ft * C + q], ny, W, phi + (size_t)q * W, err);
        for (int w = 0; w < W && !rc; w++) {
            float *e = b->e + ((size_t)f * W + w) * T;
            for (long t = 0; t < n_steps; t++) {
                double acc = 0;
                for (int q = 0; q < C; q++) acc += j->wp[(size_t)ft * C + q][t] * phi[(size_t)q * W + w];
                e[t] = (float)acc;
            }
            e[T - 1] = e[T - 2];
        }
    }
    free(phi);
    j->rc = rc;
    return NULL;
}

int axm_gendata_simulate_with(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err)
{
    axm_gendata_batch *one[1] = {b};
    return axm_gendata_simulate_many(c, m, one, 1, engine, engine_ud, n_threads, cancel, progress, progress_ud, err);
}

int axm_gendata_simulate_many(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *const *bs, int k,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err)
{
    if (k < 1 || !bs) return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: expected at least one run (got %d)", k);
    const axm_gendata_batch *b0 = bs[0];
    int B = b0->B, W = b0->W, C = b0->C, T = b0->T;
    for (int j = 0; j < k; j++) {
        const axm_gendata_batch *b = bs[j];
        if (b->S != m->kind->n_states)
            return axm_fail(err, AXM_ERR_RUNTIME, "gendata: batch has %d states, model %s has %d", b->S, m->kind->name,
                            m->kind->n_states);
        if (b->B != B || b->W != W || b->C != C || b->T != T)
            return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: run %d of the call has another shape than run 0", j);
    }
    if ((double)k * B > 2147483647.0) return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: too many fibers in one call");
    const int Bt = k * B;
    long n_steps = T - 1;
    int rc = AXM_OK;
    axm_source *src = calloc((size_t)Bt * C, sizeof *src);
    double *wbuf = malloc((size_t)Bt * C * (size_t)n_steps * sizeof *wbuf);
    const double **wp = malloc((size_t)Bt * C * sizeof *wp);
    int *wave_of = malloc((size_t)Bt * C * sizeof *wave_of);
    double *D = k > 1 ? malloc((size_t)Bt * sizeof *D) : NULL;
    if (!src || !wbuf || !wp || !wave_of || (k > 1 && !D)) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    {
        int nt = n_threads;
        if (nt <= 0) {
            long np = sysconf(_SC_NPROCESSORS_ONLN);
            nt = np > 0 ? (int)np : 1;
        }
        /* a thread per ~64 fibers at most: the preparation is ~0.2 ms per fiber */
        if (nt > (Bt + 63) / 64) nt = (Bt + 63) / 64;
        if (nt > 64) nt = 64;
        if (nt < 1) nt = 1;
        prep_job jobs[64];
        pthread_t th[64];
        int started[64];
        for (int i = 0; i < nt; i++) {
            prep_job *j = &jobs[i];
            memset(j, 0, sizeof *j);
            j->c = c, j->m = m, j->bs = bs, j->B = B, j->src = src, j->wbuf = wbuf, j->wp = wp, j->wave_of = wave_of;
            j->D = D;
            j->f0 = (int)((long long)Bt * i / nt), j->f1 = (int)((long long)Bt * (i + 1) / nt);
            started[i] = i > 0 && !pthread_create(&th[i], NULL, prep_main, j);
        }
        for (int i = 0; i < nt; i++)
            if (!started[i]) prep_main(&jobs[i]); /* this thread's share, or a thread that did not start */
        for (int i = 0; i < nt; i++) {
            if (started[i]) pthread_join(th[i], NULL);
            if (jobs[i].rc && !rc) {
                rc = jobs[i].rc;
                if (err) *err = jobs[i].err;
            }
        }
    }
    if (rc) goto out;

    axm_drive d;
    memset(&d, 0, sizeof d);
    d.n_contacts = C;
    d.sources = src;
    d.n_waves = Bt * C;
    d.waves = wp;
    d.wave_len = n_steps;
    d.wave_of = wave_of;
    if (engine) {
        prog_adapt pa = {progress, progress_ud, Bt};
        rc = engine(engine_ud, m, bs, k, c->prec, &d, c->dt_ms, n_steps, cancel, progress ? prog_steps : NULL, &pa, err);
    } else {
        axm_sim *s = axm_sim_create(m, Bt, W, D ? D : b0->D_um, c->prec, n_threads, err);
        if (!s) {
            rc = err && err->code ? err->code : AXM_ERR_RUNTIME;
            goto out;
        }
        rc = axm_sim_set_drive(s, &d, err);
        if (!rc) {
            sink sk = {{&sink_ops}, bs, k, c->prec};
            prog_adapt pa = {progress, progress_ud, Bt};
            axm_run_opts ro;
            memset(&ro, 0, sizeof ro);
            ro.dt_ms = c->dt_ms;
            ro.n_steps = n_steps;
            ro.reinit = 1;
            ro.cancel = cancel;
            ro.progress = progress ? prog_steps : NULL;
            ro.progress_ud = &pa;
            axm_monitor *mons[1] = {&sk.base};
            rc = axm_sim_run(s, &ro, mons, 1, err);
        }
        axm_sim_destroy(s);
    }
    if (rc) goto out;

    /* activations: an upward threshold crossing at a monitor node. As cajal, a crossing in the
     * first step (t = dt) does not count. */
    for (int j = 0; j < k; j++) {
        axm_gendata_batch *b = bs[j];
        const float *v = b->states + (size_t)(b->S - 1) * B * W * T;
        for (int f = 0; f < B; f++) {
            int act = 0;
            for (int side = 0; side < 2 && !act; side++) {
                const float *x = v + ((size_t)f * W + b->ap_nodes[2 * f + side]) * T;
                for (int t = 2; t < T && !act; t++) act = x[t] >= c->threshold_mV && x[t - 1] < c->threshold_mV;
            }
            b->act[f] = (float)act;
        }
    }
out:
    free(src);
    free(wbuf);
    free(wp);
    free(wave_of);
    free(D);
    return rc;
}

int axm_gendata_runs_per_call(const axm_gendata_cfg *c, int n_states, double budget_bytes)
{
    if (!(budget_bytes > 0)) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        double phys = pages > 0 && psz > 0 ? (double)pages * (double)psz : 16e9;
        budget_bytes = phys / 8;
        if (budget_bytes < 2e9) budget_bytes = 2e9;
        if (budget_bytes > 16e9) budget_bytes = 16e9;
    }
    double B = (double)c->rows * c->fibers;
    double run = ((double)n_states + 1) * B * c->nodes * axm_gendata_T(c) * sizeof(float);
    double want = ceil(AXM_GD_TARGET_FIBERS / B), fit = floor(budget_bytes / run);
    double k = want < fit ? want : fit;
    if (k > c->n_runs) k = c->n_runs;
    if (k > 2147483647.0 / B) k = floor(2147483647.0 / B);
    return k < 1 ? 1 : (int)k;
}

/* ================================================================================ run */

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

typedef struct run_prog {
    axm_gendata_opts *o;
    long base, total;
} run_prog;

static void run_prog_fn(void *ud, long done, long total)
{
    (void)total;
    run_prog *p = ud;
    if (p->o->progress) p->o->progress(p->o->progress_ud, p->base + done, p->total);
}

int axm_gendata_run(const axm_gendata_cfg *c, axm_gendata_opts *o, axm_err *err)
{
    o->start_batch = o->batches_done = 0;
    o->complete = 0;
    o->chunks_direct = 0;
    int rc = axm_gendata_check(c, err);
    if (rc) return rc;
    if (!o->out_path || !o->out_path[0]) return axm_fail(err, AXM_ERR_INPUT, "gendata: no output file given");
    axm_model *m = axm_model_create(c->model, err);
    if (!m) return err && err->code ? err->code : AXM_ERR_INPUT;
    if (c->weights[0] && (rc = axm_model_load_weights(m, c->weights, err))) {
        axm_model_destroy(m);
        return rc;
    }
    if (c->nodes < m->kind->min_nodes) {
        rc = axm_fail(err, AXM_ERR_INPUT, "nodes: model %s needs at least %d nodes (got %d)", c->model,
                      m->kind->min_nodes, c->nodes);
        axm_model_destroy(m);
        return rc;
    }

    size_t plen = strlen(o->out_path) + 6;
    char *part = malloc(plen);
    char *gen = axm_gendata_to_json(c);
    axm_gendata_batch *b = NULL;
    axm_dgfile w;
    memset(&w, 0, sizeof w);
    w.f = -1;
    w.G = c->n_runs;
    H5E_auto2_t efn;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efn, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!part || !gen) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    snprintf(part, plen, "%s.part", o->out_path);
    axm_dgfile_define(&w, c, m->kind);

    long done = 0;
    int have_out = file_exists(o->out_path), have_part = file_exists(part);
    if (o->resume && !have_part && have_out) {
        /* nothing unfinished: fine if the finished file is this configuration's */
        if (!(rc = axm_dgfile_open(&w, o->out_path, gen, 0, &done, err))) {
            if (done == c->n_runs) o->complete = 1, o->start_batch = o->batches_done = done;
            else rc = axm_fail(err, AXM_ERR_INPUT, "%s: holds %ld of %d runs but is not a partial file", o->out_path, done, c->n_runs);
        }
        goto out;
    }
    if (have_out && !o->force) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: exists (use --force to overwrite it)", o->out_path);
        goto out;
    }
    if (o->resume && have_part) {
        if ((rc = axm_dgfile_open(&w, part, gen, 1, &done, err))) goto out;
    } else {
        if (have_part && !o->force) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s: exists from an unfinished run (--resume continues it, --force starts over)", part);
            goto out;
        }
        if ((rc = axm_dgfile_create(&w, part, c, gen, err))) goto out;
    }
    o->start_batch = o->batches_done = done;
    if ((rc = axm_dgfile_start_pool(&w, o->n_threads, err))) goto out;

    b = axm_gendata_batch_create(c, m->kind->n_states, err);
    if (!b) {
        rc = err && err->code ? err->code : AXM_ERR_NOMEM;
        goto out;
    }
    long end = c->n_runs;
    if (o->max_batches > 0 && done + o->max_batches < end) end = done + o->max_batches;
    int k = o->runs_per_call > 0 ? o->runs_per_call
          : o->engine ? axm_gendata_runs_per_call(c, m->kind->n_states, o->call_mem_bytes) : 1;
    if (k > c->n_runs) k = c->n_runs;
    /* the runs of one call are simulated into one group while the writer compresses the other's */
    axm_gendata_batch **grp = calloc(2 * (size_t)k, sizeof *grp);
    if (!grp) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    grp[0] = b;
    b = NULL;
    axm_dgwriter wr;
    if ((rc = axm_dgwriter_start(&wr, &w, part, done, err))) {
        axm_gendata_batch_destroy(grp[0]);
        free(grp);
        goto out;
    }
    long B = (long)grp[0]->B;
    run_prog rp = {o, 0, (end - done) * B};
    int cur = 0;
    for (long g = done; g < end;) {
        if (o->cancel && *o->cancel) {
            rc = AXM_ERR_CANCELLED;
            break;
        }
        int n = end - g < k ? (int)(end - g) : k;
        axm_gendata_batch **gb = grp + (size_t)cur * k;
        for (int i = 0; i < n && !rc; i++) {
            if (!gb[i] && !(gb[i] = axm_gendata_batch_create(c, m->kind->n_states, err)))
                rc = err && err->code ? err->code : AXM_ERR_NOMEM;
            if (!rc) rc = axm_gendata_draw(c, m, g + i, gb[i], err);
        }
        if (rc) break;
        rp.base = (g - done) * B;
        if ((rc = axm_gendata_simulate_many(c, m, gb, n, o->engine, o->engine_ud, o->n_threads, o->cancel, run_prog_fn,
                                             &rp, err)))
            break;
        if ((rc = axm_dgwriter_submit(&wr, g, gb, n, err))) break;
        cur ^= 1;
        g += n;
        if (o->progress) o->progress(o->progress_ud, (g - done) * B, rp.total);
    }
    int wrc = axm_dgwriter_finish(&wr, rc ? NULL : err);
    if (!rc) rc = wrc;
    o->batches_done = wr.written;
    o->chunks_direct = w.n_direct;
    if (rc == AXM_ERR_CANCELLED)
        axm_fail(err, AXM_ERR_CANCELLED, "interrupted: %s holds %ld of %d runs (--resume continues it)", part,
                 o->batches_done, c->n_runs);
    for (size_t i = 0; i < 2 * (size_t)k; i++) axm_gendata_batch_destroy(grp[i]);
    free(grp);
out:
    axm_dgfile_close(&w);
    if (!rc && !o->complete && o->batches_done == c->n_runs) {
        if (rename(part, o->out_path))
            rc = axm_fail(err, AXM_ERR_IO, "%s: cannot rename %s to it", o->out_path, part);
        else o->complete = 1;
    }
    H5Eset_auto2(H5E_DEFAULT, efn, edata);
    axm_gendata_batch_destroy(b);
    axm_model_destroy(m);
    free(part);
    free(gen);
    return rc;
}
