/* Test harness for the MRG kind: drives its ops directly (ws_create/init/step) for one fiber, with a
 * separable stimulus phi(c) * s(t) played as NEURON's Vector.play(continuous=1) does
 * (mrg-model.md §6), and an IClamp on one node. Header-only, shared by the MRG test binaries. */
#ifndef MRG_HARNESS_H
#define MRG_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "mrg.h"

typedef struct mh {
    axm_model m;
    double p[32];
    int W, M;
    double D;
    void *ws;
    double *state, *ve, *intra, *scratch, *y, *phi;
} mh;

static inline void mh_model_default(axm_model *m, double *p)
{
    memset(m, 0, sizeof *m);
    m->kind = &axm_kind_mrg;
    for (int k = 0; k < axm_kind_mrg.n_params; k++) p[k] = axm_kind_mrg.params[k].def;
    m->p = p;
    m->temp_c = 37;
    m->geometry = AXM_GEOM_METHOD1;
}

/* m: NULL = defaults (method 1, 37 C, active end nodes) */
static inline mh *mh_create(double D, int W, const axm_model *m)
{
    mh *h = calloc(1, sizeof *h);
    if (m) {
        h->m = *m;
        memcpy(h->p, m->p, (size_t)m->kind->n_params * sizeof(double));
        h->m.p = h->p;
    } else {
        mh_model_default(&h->m, h->p);
    }
    h->W = W;
    h->D = D;
    h->M = axm_kind_mrg.n_comp(&h->m, W);
    axm_err e;
    axm_err_clear(&e);
    h->ws = axm_kind_mrg.ws_create(&h->m, 1, W, &D, AXM_FP64, &e);
    if (!h->ws) {
        fprintf(stderr, "mh_create: %s\n", e.msg);
        free(h);
        return NULL;
    }
    h->state = calloc((size_t)5 * W, sizeof(double));
    h->ve = calloc((size_t)h->M, sizeof(double));
    h->intra = calloc((size_t)W, sizeof(double));
    h->scratch = malloc(axm_kind_mrg.scratch_bytes(&h->m, W));
    h->y = calloc((size_t)h->M, sizeof(double));
    h->phi = calloc((size_t)h->M, sizeof(double));
    if (axm_kind_mrg.positions(&h->m, D, W, h->y, &e)) fprintf(stderr, "mh_create: %s\n", e.msg);
    axm_kind_mrg.init(h->ws, 0, 1, h->state);
    return h;
}

static inline void mh_destroy(mh *h)
{
    if (!h) return;
    axm_kind_mrg.ws_destroy(h->ws);
    free(h->state);
    free(h->ve);
    free(h->intra);
    free(h->scratch);
    free(h->y);
    free(h->phi);
    free(h);
}

static inline double mh_vm(const mh *h, int node) { return h->state[4 * h->W + node]; }

/* phi of an isotropic point source at distance d_um from the axis, over axial position y0_um */
static inline int mh_point_source(mh *h, double rho, double d_um, double y0_um)
{
    axm_source s;
    memset(&s, 0, sizeof s);
    s.kind = AXM_SRC_POINT;
    s.x_um = d_um;
    s.y_um = y0_um;
    s.rho_ohm_cm = rho;
    axm_err e;
    return axm_source_eval(&s, h->y, h->M, h->phi, &e);
}

/* one run from the initial state */
typedef struct mh_run {
    const double *samples; /* stimulus samples s_k (mA) at t_k = k dt, k < K; NULL = none */
    long K;
    double amp;            /* scale of the samples */
    int iclamp_node;       /* -1 = none */
    double iclamp_mA;
    long iclamp_k0, iclamp_k1; /* on for steps k0 <= k <= k1 */
    long n_steps;
    double dt;
    const int *stop_nodes; /* stop after the step in which any of these crossed 0 mV upward */
    int n_stop;
    double *first_cross;   /* [W] first upward 0 mV crossing, interpolated, ms (NaN if none), or NULL */
    int freeze_gates;      /* restore the initial gates after every step (DC checks) */
    int sample_timing;     /* drive step k with s_k instead of NEURON's (s_k + s_k+1)/2 */
} mh_run;

static inline double mh_sample(const mh_run *r, long k)
{
    if (!r->samples || k < 0) return 0;
    if (k < r->K) return r->samples[k];
    if (k == r->K && r->K >= 2) return 2 * r->samples[r->K - 1] - r->samples[r->K - 2];
    return 0;
}

/* returns 1 if a stop node fired */
static inline int mh_simulate(mh *h, const mh_run *r)
{
    const int W = h->W, M = h->M;
    axm_kind_mrg.init(h->ws, 0, 1, h->state);
    double *g0 = malloc((size_t)4 * W * sizeof(double));
    memcpy(g0, h->state, (size_t)4 * W * sizeof(double));
    double *vprev = malloc((size_t)W * sizeof(double));
    for (int i = 0; i < W; i++) vprev[i] = mh_vm(h, i);
    if (r->first_cross)
        for (int i = 0; i < W; i++) r->first_cross[i] = NAN;
    int fired = 0;
    for (long k = 0; k < r->n_steps && !fired; k++) {
        double eb = r->sample_timing ? r->amp * mh_sample(r, k)
                                     : r->amp * 0.5 * (mh_sample(r, k) + mh_sample(r, k + 1));
        for (int c = 0; c < M; c++) h->ve[c] = h->phi[c] * eb;
        int on = r->iclamp_node >= 0 && k >= r->iclamp_k0 && k <= r->iclamp_k1;
        if (on) {
            memset(h->intra, 0, (size_t)W * sizeof(double));
            h->intra[r->iclamp_node] = r->iclamp_mA;
        }
        axm_kind_mrg.step(h->ws, 0, 1, h->state, h->ve, on ? h->intra : NULL, r->dt, h->scratch);
        if (r->freeze_gates) memcpy(h->state, g0, (size_t)4 * W * sizeof(double));
        for (int i = 0; i < W; i++) {
            double v = mh_vm(h, i);
            if (vprev[i] < 0 && v >= 0) {
                if (r->first_cross && isnan(r->first_cross[i]))
                    r->first_cross[i] = (k + (0 - vprev[i]) / (v - vprev[i])) * r->dt;
                for (int q = 0; q < r->n_stop; q++)
                    if (r->stop_nodes[q] == i) fired = 1;
            }
            vprev[i] = v;
        }
    }
    free(vprev);
    free(g0);
    return fired;
}

/* Threshold by bracketing (halving/doubling) and bisection until (hi - lo)/hi < rel (the reference
 * protocol of reference/mrg_neuron/README.md §4). Returns hi; *n_sims counts runs. */
static inline double mh_threshold(mh *h, mh_run r, double guess, double rel, int *n_sims)
{
    double lo = 0, hi = 0;
    int n = 0;
    r.amp = guess;
    if (mh_simulate(h, &r)) {
        hi = guess;
        n++;
        for (;;) {
            r.amp = hi / 2;
            n++;
            if (!mh_simulate(h, &r)) {
                lo = r.amp;
                break;
            }
            hi = r.amp;
            if (hi < 1e-9) return NAN;
        }
    } else {
        lo = guess;
        n++;
        for (;;) {
            r.amp = lo * 2;
            n++;
            if (mh_simulate(h, &r)) {
                hi = r.amp;
                break;
            }
            lo = r.amp;
            if (lo > 1e3) return NAN;
        }
    }
    while ((hi - lo) / hi >= rel) {
        r.amp = 0.5 * (lo + hi);
        n++;
        if (mh_simulate(h, &r))
            hi = r.amp;
        else
            lo = r.amp;
    }
    if (n_sims) *n_sims = n;
    return hi;
}

/* rectangular samples on k in [k0, k1] with value v */
static inline void mh_rect(double *s, long K, long k0, long k1, double v)
{
    for (long k = 0; k < K; k++)
        if (k >= k0 && k <= k1) s[k] = v;
}

#endif
