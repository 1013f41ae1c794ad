/* The MRG threshold search on the GPU: core/thresh.c's rounds (axm_threshold_rounds), each round a
 * simulation of the undecided fibers with detection and the vm maximum in the kernel. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "mrg_host.h"

using namespace axmmrg;

namespace {

/* One search's device buffers; the rounds of core/thresh.c's axm_threshold_rounds run on them. */
struct th_ctx {
    axm_cuda_mrg *s;
    void *d_ic;               /* [5][W][B] initial node states in the run's precision */
    double *d_amp, *d_vmax;
    unsigned *d_det;
    unsigned char *d_flag;
    int chk[16];
    std::vector<unsigned char> *flag;
    std::vector<double> *vmax;
};

template <typename T>
int th_round_t(th_ctx *c, const axm_thresh_opts *o, const double *amp, const unsigned char *skip, int need_vmax,
               unsigned char *act, unsigned char *bad, double *vmax, axm_err *err)
{
    axm_cuda_mrg *s = c->s;
    const int B = s->B, W = s->W;
    std::vector<unsigned char> &fl = *c->flag;
    int n_run = 0;
    for (int b = 0; b < B; b++) {
        fl[b] = skip[b] ? TH_SKIP : 0;
        n_run += !skip[b];
    }
    int rc = h2d(c->d_amp, amp, sizeof(double) * B, "amplitudes", err);
    if (!rc) rc = h2d(c->d_flag, fl.data(), (size_t)B, "threshold flags", err);
    if (rc) return rc;
    MArgs<T> a;
    base_args<T>(s, a, o->dt_ms);
    a.amp = c->d_amp;
    a.ic = (const T *)c->d_ic;
    a.vinit = s->vinit;
    a.det = c->d_det;
    a.flag = c->d_flag;
    a.vmax = need_vmax ? c->d_vmax : NULL;
    a.thr = o->detect.threshold_mV;
    a.t_start = o->detect.t_start_ms;
    a.n_chk = o->detect.n_nodes;
    a.at_least = o->detect.at_least;
    for (int q = 0; q < a.n_chk; q++) a.chk[q] = c->chk[q];
    a.k_end = lround(o->tstop_ms / o->dt_ms);
    /* launches short enough for cancel to be polled a few times per second */
    long long chunk = (long long)(FIBER_NODE_STEPS_PER_LAUNCH / ((double)(n_run ? n_run : 1) * W));
    if (s->max_launch > 0 && chunk > s->max_launch) chunk = s->max_launch;
    if (chunk < 1) chunk = 1;
    for (long long done = 0; done < a.k_end;) {
        if (o->cancel && *o->cancel) return axm_fail(err, AXM_ERR_CANCELLED, "threshold search cancelled");
        a.k0 = done;
        a.n_steps = a.k_end - done < chunk ? a.k_end - done : chunk;
        cudaError_t e = launch<T, true>(a, s);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess)
            return axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: MRG threshold kernel (B=%d, W=%d): %s", __FILE__,
                            __LINE__, B, W, cudaGetErrorString(e));
        done += a.n_steps;
    }
    if ((rc = d2h(fl.data(), c->d_flag, (size_t)B, "threshold flags", err))) return rc;
    if (need_vmax && (rc = d2h(c->vmax->data(), c->d_vmax, sizeof(double) * B, "vm maxima", err))) return rc;
    for (int b = 0; b < B; b++) {
        if (skip[b]) continue;
        act[b] = (fl[b] & TH_ACT) != 0;
        bad[b] = (fl[b] & TH_BAD) != 0;
        if (need_vmax) vmax[b] = (*c->vmax)[b];
    }
    return AXM_OK;
}

int th_round(void *ud, const axm_thresh_opts *o, const double *amp, const unsigned char *skip, int need_vmax,
             unsigned char *act, unsigned char *bad, double *vmax, axm_err *err)
{
    th_ctx *c = (th_ctx *)ud;
    return c->s->prec == AXM_FP32 ? th_round_t<float>(c, o, amp, skip, need_vmax, act, bad, vmax, err)
                                  : th_round_t<double>(c, o, amp, skip, need_vmax, act, bad, vmax, err);
}

} // namespace

extern "C" int axm_cuda_mrg_threshold(axm_cuda_mrg *s, const axm_thresh_opts *o, axm_thresh_result *res,
                                      axm_err *err)
{
    if (!res) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: threshold: no result");
    memset(res, 0, sizeof *res);
    if (!s || !o) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: threshold: no sim or options");
    const axm_detect *d = &o->detect;
    if (d->n_nodes < 1 || d->n_nodes > 16)
        return axm_fail(err, AXM_ERR_INPUT, "threshold: detect: n_nodes: expected 1..16 checked nodes, got %d",
                        d->n_nodes);
    if (!isfinite(d->threshold_mV) || !isfinite(d->t_start_ms))
        return axm_fail(err, AXM_ERR_INPUT,
                        "threshold: detect: expected a finite threshold_mV and t_start_ms, got %g and %g",
                        d->threshold_mV, d->t_start_ms);
    th_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    for (int q = 0; q < d->n_nodes; q++) {
        int n = d->nodes[q];
        if (n < -s->W || n >= s->W)
            return axm_fail(err, AXM_ERR_INPUT,
                            "threshold: detect: node %d is out of range for %d nodes (expected %d..%d)", n, s->W,
                            -s->W, s->W - 1);
        c.chk[q] = n < 0 ? s->W + n : n;
    }
    /* the options' own checks (and the search itself) are core/thresh.c's; dt must be valid to prepare */
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms) || !(o->tstop_ms > o->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "threshold: expected dt_ms > 0 and tstop_ms > dt_ms, got %g and %g",
                        o->dt_ms, o->tstop_ms);
    AXM_CK(cudaSetDevice(s->dev));
    const int B = s->B, W = s->W;
    const size_t n = (size_t)5 * W, es = psize(s->prec);
    std::vector<unsigned char> flag(B);
    std::vector<double> vmax(B);
    c.flag = &flag;
    c.vmax = &vmax;
    int rc = prepare(s, o->dt_ms, err);
    if (!rc) rc = dalloc(&c.d_ic, n * B * es, "initial states", err);
    if (!rc) rc = dalloc((void **)&c.d_amp, sizeof(double) * B, "amplitudes", err);
    if (!rc) rc = dalloc((void **)&c.d_vmax, sizeof(double) * B, "vm maxima", err);
    if (!rc) rc = dalloc((void **)&c.d_det, sizeof(unsigned) * B, "detector state", err);
    if (!rc) rc = dalloc((void **)&c.d_flag, (size_t)B, "threshold flags", err);
    if (!rc) {
        /* (B,5,W) doubles -> [5][W][B] in the run's precision, rounded as the CPU stores them */
        std::vector<unsigned char> t(n * B * es);
        for (size_t b = 0; b < (size_t)B; b++)
            for (size_t r = 0; r < n; r++) {
                double x = s->ic_h[b * n + r];
                if (s->prec == AXM_FP64)
                    ((double *)t.data())[r * B + b] = x;
                else
                    ((float *)t.data())[r * B + b] = (float)x;
            }
        rc = h2d(c.d_ic, t.data(), t.size(), "initial states", err);
    }
    if (!rc) rc = axm_threshold_rounds(B, th_round, &c, o, res, err);
    dfree(c.d_ic);
    dfree(c.d_amp);
    dfree(c.d_vmax);
    dfree(c.d_det);
    dfree(c.d_flag);
    /* the rounds left every fiber at a different time: the next run starts from the initial state */
    s->fresh = 1;
    s->k = 0;
    return rc;
}
