/* The CUDA S-MF backend's threshold search (mirrors axm_threshold, thresh.h): every bisection step on
 * the GPU, one launch per round over the fibers still undecided. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "smf_host.h"

using namespace axmcu;

extern "C" void axm_cuda_thresh_free(axm_thresh_result *r) { axm_thresh_result_free(r); }

template <typename T>
static int thresh_t(axm_cuda_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err)
{
    const int B = s->B, W = s->W;
    SmfC<double> cd;
    int rc = smf_consts(&s->model, o->dt_ms, &cd, err);
    if (rc) return rc;
    if ((rc = resolve_pulses(s, o->dt_ms, err))) return rc;

    std::vector<double> ub(B), lb(B, 0.0), nanv(B, NAN);
    for (int b = 0; b < B; b++) {
        double u = o->ub_init ? o->ub_init[b] : o->D_um ? 0.2 / ((o->D_um[b] / 5) * (o->D_um[b] / 5)) : 0.2;
        ub[b] = isfinite(u) && u > 0 ? u : 0.2;
    }
    std::vector<int> st(B, AXM_TH_NOT_CONVERGED), list(B);
    for (int b = 0; b < B; b++) list[b] = b;

    /* device: ub lb upper lower | status phase tries_fix tries streak zero_done list0 list1 n_next */
    double *d_dbl = NULL;
    int *d_int = NULL;
    if ((rc = dalloc((void **)&d_dbl, sizeof(double) * 4 * (size_t)B, "threshold bounds", err))) return rc;
    if ((rc = dalloc((void **)&d_int, sizeof(int) * (8 * (size_t)B + 1), "threshold state", err))) {
        dfree(d_dbl);
        return rc;
    }
    int *d_status = d_int, *d_list[2] = {d_int + 6 * B, d_int + 7 * B}, *d_n = d_int + 8 * B;
    cudaError_t e = cudaMemcpy(d_dbl, ub.data(), sizeof(double) * B, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(d_dbl + B, lb.data(), sizeof(double) * B, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(d_dbl + 2 * B, nanv.data(), sizeof(double) * B, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(d_dbl + 3 * B, nanv.data(), sizeof(double) * B, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(d_status, st.data(), sizeof(int) * B, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemset(d_int + B, 0, sizeof(int) * 5 * B); /* AXM_THC_FIX = 0, counters 0 */
    if (e == cudaSuccess) e = cudaMemcpy(d_list[0], list.data(), sizeof(int) * B, cudaMemcpyHostToDevice);

    axm_cuda_mon act;
    memset(&act, 0, sizeof act);
    act.type = MON_ACTIVE;
    act.d = o->detect;
    act.mark = 1;
    KArgs<T> a;
    base_args(&a, s, cd);
    a.dt = o->dt_ms;
    rc = check_detect(&o->detect, err);
    if (rc == AXM_OK) rc = fill_det(&a.act, &act, W, o->dt_ms, 1, err);
    a.th.ub = d_dbl;
    a.th.lb = d_dbl + B;
    a.th.upper = d_dbl + 2 * B;
    a.th.lower = d_dbl + 3 * B;
    a.th.status = d_status;
    a.th.phase = d_int + B;
    a.th.tries_fix = d_int + 2 * B;
    a.th.tries = d_int + 3 * B;
    a.th.streak = d_int + 4 * B;
    a.th.zero_done = d_int + 5 * B;
    a.th.cfg.up = o->fix_bound_up;
    a.th.cfg.down = o->fix_bound_down;
    a.th.cfg.max_amp = o->max_amp;
    a.th.cfg.resolution = o->resolution;
    a.th.cfg.thr_mV = o->detect.threshold_mV;
    a.th.cfg.max_tries_fix = o->max_tries_bound_fix;
    a.th.cfg.max_tries = o->max_tries;
    a.th.n_next = d_n;
    a.th.n_steps = lround(o->tstop_ms / o->dt_ms);

    const int npl = npl_for(W);
    int n_list = B, cur = 0, it = 0, cancelled = 0;
    long n_sims = 0;
    /* every phase is bounded (thresh.c): the cap only guards against a bug looping forever */
    const int max_launch = 2 * (o->max_tries_bound_fix + o->max_tries) + 8;
    while (rc == AXM_OK && e == cudaSuccess && n_list > 0 && it < max_launch) {
        if (o->cancel && *o->cancel) {
            cancelled = 1;
            break;
        }
        a.list = d_list[cur];
        a.n_list = n_list;
        a.th.next_list = d_list[1 - cur];
        e = cudaMemset(d_n, 0, sizeof(int));
        if (e == cudaSuccess) e = launch_m<T, K_TH>(a, npl, n_list);
        if (e == cudaSuccess) e = cudaMemcpy(&n_list, d_n, sizeof(int), cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) break;
        n_sims += a.n_list;
        cur = 1 - cur;
        it++;
        if (o->progress) o->progress(o->progress_ud, B - n_list, B, it);
    }
    if (rc == AXM_OK && e != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: threshold search (B=%d, W=%d): %s", __FILE__, __LINE__, B, W,
                      cudaGetErrorString(e));
    std::vector<double> up(B), lo(B);
    std::vector<int> phase(B);
    if (rc == AXM_OK) {
        e = cudaMemcpy(up.data(), d_dbl + 2 * B, sizeof(double) * B, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess) e = cudaMemcpy(lo.data(), d_dbl + 3 * B, sizeof(double) * B, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess) e = cudaMemcpy(st.data(), d_status, sizeof(int) * B, cudaMemcpyDeviceToHost);
        if (e == cudaSuccess) e = cudaMemcpy(phase.data(), d_int + B, sizeof(int) * B, cudaMemcpyDeviceToHost);
        if (e != cudaSuccess)
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: threshold results: %s", __FILE__, __LINE__, cudaGetErrorString(e));
    }
    dfree(d_dbl);
    dfree(d_int);
    if (rc) return rc;
    res->n = B;
    res->upper = (double *)malloc(sizeof(double) * B);
    res->lower = (double *)malloc(sizeof(double) * B);
    res->status = (int *)malloc(sizeof(int) * B);
    if (!res->upper || !res->lower || !res->status) {
        axm_cuda_thresh_free(res);
        return axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
    }
    for (int b = 0; b < B; b++) {
        res->status[b] = phase[b] != AXM_THC_DONE ? (cancelled ? AXM_TH_CANCELLED : AXM_TH_NOT_CONVERGED) : st[b];
        res->upper[b] = up[b];
        res->lower[b] = lo[b];
    }
    res->n_sims = n_sims;
    res->iterations = it;
    if (cancelled) return axm_fail(err, AXM_ERR_CANCELLED, "threshold search cancelled");
    return AXM_OK;
}

extern "C" int axm_cuda_threshold(axm_cuda_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err)
{
    if (!res) return axm_fail(err, AXM_ERR_INPUT, "cuda: threshold: no result");
    memset(res, 0, sizeof *res);
    if (!s || !o) return axm_fail(err, AXM_ERR_INPUT, "cuda: threshold: no sim or options");
    int rc = axm_thresh_opts_check(o, err);
    if (rc) return rc;
    AXM_CK(cudaSetDevice(s->dev));
    return s->prec == AXM_FP64 ? thresh_t<double>(s, o, res, err) : thresh_t<float>(s, o, res, err);
}
