/* The CUDA S-MF backend's monitors (Active, APCount, Raster, Recorder): fused into the run kernels,
 * so they are GPU objects of their own with the CPU monitors' result layout (monitor.h). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "smf_host.h"

using namespace axmcu;

static axm_cuda_mon *mon_new(int type, axm_err *err)
{
    axm_cuda_mon *m = (axm_cuda_mon *)calloc(1, sizeof *m);
    if (!m) {
        axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
        return NULL;
    }
    m->type = type;
    m->spikes = new std::vector<axm_spike>();
    m->rec_data = new std::vector<double>();
    m->rec_times = new std::vector<double>();
    m->fresh = 1;
    m->last_fj = -1;
    return m;
}

int axmcu::check_detect(const axm_detect *d, axm_err *err)
{
    if (!d) return axm_fail(err, AXM_ERR_INPUT, "cuda: monitor without detection settings");
    if (d->n_nodes < 1 || d->n_nodes > MAXDET)
        return axm_fail(err, AXM_ERR_INPUT, "cuda: detect.n_nodes = %d: expected 1..%d", d->n_nodes, MAXDET);
    if (d->at_least < 1 || d->at_least > d->n_nodes)
        return axm_fail(err, AXM_ERR_INPUT, "cuda: detect.at_least = %d: expected 1..%d", d->at_least, d->n_nodes);
    return AXM_OK;
}

extern "C" axm_cuda_mon *axm_cuda_active_create(const axm_detect *d, int mark_decided, axm_err *err)
{
    if (check_detect(d, err) != AXM_OK) return NULL;
    axm_cuda_mon *m = mon_new(MON_ACTIVE, err);
    if (m) { m->d = *d; m->mark = mark_decided; }
    return m;
}

extern "C" axm_cuda_mon *axm_cuda_apcount_create(const axm_detect *d, axm_err *err)
{
    if (check_detect(d, err) != AXM_OK) return NULL;
    axm_cuda_mon *m = mon_new(MON_APCOUNT, err);
    if (m) m->d = *d;
    return m;
}

extern "C" axm_cuda_mon *axm_cuda_raster_create(const axm_detect *d, int all_nodes, axm_err *err)
{
    if (all_nodes) {
        if (!d) {
            axm_fail(err, AXM_ERR_INPUT, "cuda: raster without detection settings");
            return NULL;
        }
    } else if (check_detect(d, err) != AXM_OK) {
        return NULL;
    }
    axm_cuda_mon *m = mon_new(MON_RASTER, err);
    if (m) { m->d = *d; m->all_nodes = all_nodes; }
    return m;
}

extern "C" axm_cuda_mon *axm_cuda_recorder_create(unsigned state_mask, const int *nodes, int n_nodes, int every,
                                                  int max_only, axm_err *err)
{
    if (state_mask == 0 || (state_mask & ~31u) != 0) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: recorder: state mask 0x%x: expected bits 0..4 (bit 4 = vm)", state_mask);
        return NULL;
    }
    if (every < 1) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: recorder every = %d: expected >= 1", every);
        return NULL;
    }
    if (nodes && (n_nodes < 1 || n_nodes > AXM_CUDA_MAX_NODES)) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: recorder n_nodes = %d: expected 1..%d", n_nodes, AXM_CUDA_MAX_NODES);
        return NULL;
    }
    axm_cuda_mon *m = mon_new(MON_RECORDER, err);
    if (!m) return NULL;
    m->mask = state_mask & 31u;
    m->every = every;
    m->max_only = max_only;
    m->rn = nodes ? n_nodes : 0;
    for (int i = 0; i < m->rn; i++) m->rnodes[i] = nodes[i];
    return m;
}

static void mon_free_dev(axm_cuda_mon *m)
{
    dfree(m->d_below); dfree(m->d_seen); dfree(m->d_active); dfree(m->d_count); dfree(m->d_first);
    dfree(m->d_mx); dfree(m->d_rnodes); dfree(m->d_rec_of_node);
    m->d_below = m->d_seen = m->d_active = NULL;
    m->d_count = m->d_rnodes = m->d_rec_of_node = NULL;
    m->d_first = NULL;
    m->d_mx = NULL;
    free(m->h_active); free(m->h_count); free(m->h_first); free(m->h_max);
    m->h_active = NULL;
    m->h_count = NULL;
    m->h_first = m->h_max = NULL;
    m->B = m->W = m->n = 0;
}

/* As the CPU monitors' reset: everything goes; the next run starts a fresh monitor. */
extern "C" void axm_cuda_mon_reset(axm_cuda_mon *m)
{
    if (!m) return;
    mon_free_dev(m);
    m->fresh = 1;
    m->spikes->clear();
    m->rec_data->clear();
    m->rec_times->clear();
    m->frames = 0;
    m->last_fj = -1;
}

extern "C" void axm_cuda_mon_destroy(axm_cuda_mon *m)
{
    if (!m) return;
    mon_free_dev(m);
    delete m->spikes;
    delete m->rec_data;
    delete m->rec_times;
    free(m);
}

static int resolve_nodes(const int *in, int n, int W, int *out, const char *what, axm_err *err)
{
    for (int i = 0; i < n; i++) {
        if (in[i] < -W || in[i] >= W)
            return axm_fail(err, AXM_ERR_INPUT, "cuda: %s: node %d outside a fiber of %d nodes (expected %d..%d)", what,
                            in[i], W, -W, W - 1);
        out[i] = in[i] < 0 ? W + in[i] : in[i];
    }
    return AXM_OK;
}

/* Allocates and clears a fresh monitor's state for the sim's shape (the CPU monitors refuse a
 * changed shape until reset; so do these). */
int axmcu::mon_bind(axm_cuda_mon *m, const axm_cuda_sim *s, axm_err *err)
{
    const int B = s->B, W = s->W;
    const char *who = m->type == MON_ACTIVE ? "active" : m->type == MON_APCOUNT ? "apcount"
                    : m->type == MON_RASTER ? "raster" : "recorder";
    if (!m->fresh) {
        if (m->B != B || m->W != W || m->prec != s->prec)
            return axm_fail(err, AXM_ERR_INPUT, "cuda: %s: run shape changed from B=%d W=%d to B=%d W=%d; reset the monitor first",
                            who, m->B, m->W, B, W);
        return AXM_OK;
    }
    mon_free_dev(m);
    m->B = B;
    m->W = W;
    m->prec = s->prec;
    int rc = AXM_OK;
    if (m->type == MON_ACTIVE || m->type == MON_APCOUNT || m->type == MON_RASTER) {
        m->n = m->type == MON_RASTER && m->all_nodes ? W : m->d.n_nodes;
        size_t bn = (size_t)B * m->n;
        rc = dalloc((void **)&m->d_below, bn, who, err);
        if (!rc && m->type != MON_RASTER) {
            int nodes[MAXDET];
            rc = resolve_nodes(m->d.nodes, m->n, W, nodes, who, err);
        }
        if (!rc && m->type == MON_RASTER && !m->all_nodes) {
            int nodes[MAXDET];
            rc = resolve_nodes(m->d.nodes, m->n, W, nodes, who, err);
            if (!rc) rc = dalloc((void **)&m->d_rnodes, sizeof(int) * m->n, who, err);
            if (!rc) rc = h2d(m->d_rnodes, nodes, sizeof(int) * m->n, "raster nodes", err);
        }
        if (!rc && m->type == MON_ACTIVE) {
            rc = dalloc((void **)&m->d_seen, bn, who, err);
            if (!rc) rc = dalloc((void **)&m->d_active, B, who, err);
            if (!rc && cudaMemset(m->d_seen, 0, bn) != cudaSuccess) rc = AXM_ERR_RUNTIME;
            if (!rc && cudaMemset(m->d_active, 0, B) != cudaSuccess) rc = AXM_ERR_RUNTIME;
            m->h_active = (unsigned char *)calloc(B, 1);
            if (!rc && !m->h_active) rc = axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
        }
        if (!rc && m->type == MON_APCOUNT) {
            rc = dalloc((void **)&m->d_count, bn * sizeof(int), who, err);
            if (!rc) rc = dalloc((void **)&m->d_first, bn * sizeof(double), who, err);
            m->h_count = (int *)calloc(bn, sizeof(int));
            m->h_first = (double *)malloc(bn * sizeof(double));
            if (!rc && (!m->h_count || !m->h_first)) rc = axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
            if (!rc) {
                for (size_t i = 0; i < bn; i++) m->h_first[i] = NAN;
                if (cudaMemset(m->d_count, 0, bn * sizeof(int)) != cudaSuccess) rc = AXM_ERR_RUNTIME;
                if (!rc) rc = h2d(m->d_first, m->h_first, bn * sizeof(double), "first spike times", err);
            }
        }
    } else {
        std::vector<int> col(W, -1);
        if (m->rn > 0) {
            std::vector<int> nodes(m->rn);
            rc = resolve_nodes(m->rnodes, m->rn, W, nodes.data(), who, err);
            /* a node listed twice is recorded twice: the map holds one column, so refuse it */
            for (int i = 0; !rc && i < m->rn; i++) {
                if (col[nodes[i]] >= 0)
                    rc = axm_fail(err, AXM_ERR_INPUT, "cuda: recorder: node %d listed twice", m->rnodes[i]);
                else
                    col[nodes[i]] = i;
            }
            m->nn_rec = m->rn;
        } else {
            for (int j = 0; j < W; j++) col[j] = j;
            m->nn_rec = W;
        }
        m->ns_rec = 0;
        for (int q = 0; q < 5; q++) m->ns_rec += (m->mask >> q) & 1;
        if (!rc) rc = dalloc((void **)&m->d_rec_of_node, sizeof(int) * W, who, err);
        if (!rc) rc = h2d(m->d_rec_of_node, col.data(), sizeof(int) * W, "recorder columns", err);
        if (!rc && m->max_only) {
            std::vector<double> lo((size_t)B * 5, -HUGE_VAL);
            rc = dalloc(&m->d_mx, lo.size() * psize(s->prec), who, err);
            if (!rc) rc = upload(m->d_mx, lo.data(), lo.size(), s->prec, err);
            m->h_max = (double *)malloc(sizeof(double) * lo.size());
            if (!rc && !m->h_max) rc = axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
        }
    }
    if (rc == AXM_ERR_RUNTIME && err && err->code != AXM_ERR_RUNTIME)
        axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: %s: clearing device state failed", __FILE__, __LINE__, who);
    if (rc) {
        mon_free_dev(m);
        return rc;
    }
    return AXM_OK;
}

int axmcu::fill_det(DetDev *dd, const axm_cuda_mon *m, int W, double dt, int arm, axm_err *err)
{
    memset(dd, 0, sizeof *dd);
    dd->on = 1;
    dd->n = m->d.n_nodes;
    dd->at_least = m->d.at_least;
    dd->mark = m->mark;
    dd->arm = arm;
    int rc = resolve_nodes(m->d.nodes, m->d.n_nodes, W, dd->nodes, m->type == MON_ACTIVE ? "active" : "apcount", err);
    dd->thr = m->d.threshold_mV;
    dd->k_first = first_checked_step(m->d.t_start_ms, dt);
    dd->below = m->d_below;
    dd->seen = m->d_seen;
    dd->count = m->d_count;
    dd->first = m->d_first;
    dd->active = m->d_active;
    return rc;
}

/* ---- results (host copies, filled at the end of each run) ---------------------------------------- */

extern "C" const unsigned char *axm_cuda_active_result(const axm_cuda_mon *m) { return m->h_active; }
extern "C" const int *axm_cuda_apcount_counts(const axm_cuda_mon *m) { return m->h_count; }
extern "C" const double *axm_cuda_apcount_first_ms(const axm_cuda_mon *m) { return m->h_first; }
extern "C" const axm_spike *axm_cuda_raster_spikes(const axm_cuda_mon *m, long *n)
{
    if (n) *n = (long)m->spikes->size();
    return m->spikes->empty() ? NULL : m->spikes->data();
}
extern "C" long axm_cuda_recorder_frames(const axm_cuda_mon *m) { return m->frames; }
extern "C" const double *axm_cuda_recorder_data(const axm_cuda_mon *m, int *n_states_rec, int *n_nodes_rec)
{
    if (n_states_rec) *n_states_rec = m->ns_rec;
    if (n_nodes_rec) *n_nodes_rec = m->nn_rec;
    return m->rec_data->empty() ? NULL : m->rec_data->data();
}
extern "C" const double *axm_cuda_recorder_times(const axm_cuda_mon *m)
{
    return m->rec_times->empty() ? NULL : m->rec_times->data();
}
extern "C" const double *axm_cuda_recorder_max(const axm_cuda_mon *m) { return m->h_max; }
