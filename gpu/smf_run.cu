/* The CUDA S-MF backend's runs: kernel choice (bare, lite, full; a warp per fiber or packed), launches
 * in chunks with cancel and progress, the monitors' results, and the CPU engine's divergence check. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "smf_host.h"
#include "smf_packed.cuh"

using namespace axmcu;

namespace {

/* Node-steps per launch: long enough that launch overhead vanishes, short enough that cancel and
 * progress are polled a few times a second even at full occupancy. */
const double NODE_STEPS_PER_LAUNCH = 2e9;

} // namespace

static bool spike_less(const axm_spike &x, const axm_spike &y)
{
    if (x.t_ms != y.t_ms) return x.t_ms < y.t_ms;
    if (x.fiber != y.fiber) return x.fiber < y.fiber;
    return x.node < y.node;
}

template <typename T, bool BARE> static cudaError_t launch_packed_b(const KArgs<T> &a, const PackGeom &g)
{
    dim3 grid((unsigned)((a.B + g.F - 1) / g.F)), block(Pt<T>::n);
    const size_t sm = packed_smem<T>(g.F, a.W, a.C);
#ifdef AXM_CUDA_EMU
    if (g.npl == 1) axmemu::launch(grid, block, [&] { smf_packed_kernel<T, 1, BARE>(a, g.F, g.nq); }, sm);
    else axmemu::launch(grid, block, [&] { smf_packed_kernel<T, 2, BARE>(a, g.F, g.nq); }, sm);
#else
    if (g.npl == 1) smf_packed_kernel<T, 1, BARE><<<grid, block, sm>>>(a, g.F, g.nq);
    else smf_packed_kernel<T, 2, BARE><<<grid, block, sm>>>(a, g.F, g.nq);
#endif
    return cudaGetLastError();
}

template <typename T> static cudaError_t launch_packed(const KArgs<T> &a, const PackGeom &g, int kmode)
{
    return kmode == K_BARE ? launch_packed_b<T, true>(a, g) : launch_packed_b<T, false>(a, g);
}

/* Fibers the warp kernel of plain runs keeps resident on the device (blocks per SM by the
 * occupancy calculator, x warps per block x SMs); 0 if the runtime cannot say. */
template <typename T, int MODE> static int warp_resident(int npl, int sms)
{
    int nb = 0;
    cudaError_t e;
    switch (npl) {
    case 1: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&nb, smf_kernel<T, 1, MODE>, WPB * 32, 0); break;
    case 2: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&nb, smf_kernel<T, 2, MODE>, WPB * 32, 0); break;
    case 4: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&nb, smf_kernel<T, 4, MODE>, WPB * 32, 0); break;
    default: e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&nb, smf_kernel<T, 8, MODE>, WPB * 32, 0); break;
    }
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return nb * WPB * sms;
}

template <typename T> static cudaError_t launch_t(const KArgs<T> &a, int mode, int npl, int n_warps)
{
    if (mode == K_FULL) return launch_m<T, K_FULL>(a, npl, n_warps);
    if (mode == K_BARE) return launch_m<T, K_BARE>(a, npl, n_warps);
    return launch_m<T, K_LITE>(a, npl, n_warps);
}

template <typename T>
static int run_t(axm_cuda_sim *s, const axm_run_opts *o, axm_cuda_mon *const *mons, int n_mons, axm_err *err)
{
    const int B = s->B, W = s->W;
    SmfC<double> cd;
    int rc = smf_consts(&s->model, o->dt_ms, &cd, err);
    if (rc) return rc;
    if ((rc = resolve_pulses(s, o->dt_ms, err))) return rc;
    const int reinit = o->reinit || s->fresh;
    if (reinit) {
        AXM_CK(cudaMemcpy(s->d_state, s->d_ic, (size_t)B * 5 * W * sizeof(T), cudaMemcpyDeviceToDevice));
        AXM_CK(cudaMemset(s->d_decided, 0, B));
        s->k = 0;
    }
    const long long k0 = s->k;
    KArgs<T> a;
    base_args(&a, s, cd);
    a.dt = o->dt_ms;
    a.stop_when_decided = o->stop_when_decided;
    axm_cuda_mon *rec = NULL, *ras = NULL, *act = NULL;
    for (int i = 0; i < n_mons; i++) {
        axm_cuda_mon *m = mons[i];
        if (!m) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: monitor %d is NULL", i);
        int arm = m->fresh || reinit;
        if ((rc = mon_bind(m, s, err))) return rc;
        switch (m->type) {
        case MON_ACTIVE:
            if (a.act.on) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: at most one Active monitor");
            if ((rc = fill_det(&a.act, m, W, o->dt_ms, arm, err))) return rc;
            act = m;
            break;
        case MON_APCOUNT:
            if (a.ap.on) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: at most one APCount monitor");
            if ((rc = fill_det(&a.ap, m, W, o->dt_ms, arm, err))) return rc;
            break;
        case MON_RASTER:
            if (ras) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: at most one Raster monitor");
            ras = m;
            a.ras.on = 1;
            a.ras.arm = arm;
            a.ras.n = m->n;
            a.ras.nodes = m->d_rnodes;
            a.ras.thr = m->d.threshold_mV;
            a.ras.k_first = first_checked_step(m->d.t_start_ms, o->dt_ms);
            a.ras.below = m->d_below;
            break;
        case MON_RECORDER:
            if (m->max_only) {
                if (a.rec.mx_on) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: at most one max-only Recorder");
                a.rec.mx_on = 1;
                a.rec.mx = (T *)m->d_mx;
                a.rec.mx_of_node = m->d_rec_of_node;
            } else {
                if (rec) return axm_fail(err, AXM_ERR_INPUT, "cuda: run: at most one Recorder");
                rec = m;
            }
            break;
        }
        m->fresh = 0;
    }
    /* an Active monitor that marks decided flags its active fibers at the start of every run */
    if (act && act->mark && !reinit) {
        std::vector<unsigned char> dec(B);
        AXM_CK(cudaMemcpy(dec.data(), s->d_decided, B, cudaMemcpyDeviceToHost));
        for (int b = 0; b < B; b++) dec[b] |= act->h_active[b];
        AXM_CK(cudaMemcpy(s->d_decided, dec.data(), B, cudaMemcpyHostToDevice));
    }
    /* per-run output buffers; Recorder frames sit on the absolute grid j = 0, every, 2 every, ... */
    void *d_frames = NULL, *d_sp = NULL;
    long long cap = 0;
    int rec_init = 0;
    if (rec) {
        const long long ev = rec->every;
        rec_init = reinit || rec->frames == 0 || (k0 % ev == 0 && rec->last_fj != k0);
        long long grid = (k0 + o->n_steps) / ev - k0 / ev;
        size_t n = (size_t)(rec_init + grid) * B * rec->ns_rec * rec->nn_rec;
        if ((rc = dalloc(&d_frames, (n ? n : 1) * sizeof(T), "recorder frames", err))) return rc;
        a.rec.on = 1;
        a.rec.ns = rec->ns_rec;
        a.rec.nn = rec->nn_rec;
        a.rec.every = rec->every;
        a.rec.init = rec_init;
        a.rec.k0_div = k0 / ev;
        for (int q = 0, i = 0; q < 5; q++)
            if ((rec->mask >> q) & 1) a.rec.st[i++] = q;
        a.rec.rec_of_node = rec->d_rec_of_node;
        a.rec.frames = (T *)d_frames;
    }
    if (ras) {
        long long bound = (long long)B * a.ras.n * (o->n_steps / 2 + 1);
        cap = bound < (1ll << 24) ? bound : (1ll << 24);
        size_t per = 2 * sizeof(int) + sizeof(double);
        if ((rc = dalloc(&d_sp, (size_t)cap * per + 16, "raster spikes", err))) {
            dfree(d_frames);
            return rc;
        }
        char *base = (char *)d_sp;
        a.ras.count = (unsigned long long *)base;
        a.ras.sp_t = (double *)(base + 16);
        a.ras.sp_fiber = (int *)(base + 16 + cap * sizeof(double));
        a.ras.sp_node = a.ras.sp_fiber + cap;
        a.ras.cap = cap;
        if (cudaMemset(a.ras.count, 0, 16) != cudaSuccess) {
            dfree(d_frames);
            dfree(d_sp);
            return axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaMemset failed", __FILE__, __LINE__);
        }
    }
    const int npl = npl_for(W);
    const int bare = !a.act.on && !a.ap.on && !a.rec.mx_on && !((a.mode & DRIVE_SEP) && a.C > 1) &&
                     !(a.mode & DRIVE_MAT) && a.n_pulses == 0;
    const int kmode = (rec || ras) ? K_FULL : bare ? K_BARE : K_LITE;
    /* plain runs (no Raster, Recorder or max-only Recorder) may pack fibers into the lanes: where
     * that fills them much better (pack_min_gain), and for batches that leave the warp kernel
     * under half its resident warps, where the packed kernel's 8 warps per block spread a fiber's
     * nodes over more warps (H200, 101 nodes, packed / warp per fiber, fp32 at B = 1 / 100 / 1000:
     * 1.2e8 / 7.0e7, 8.3e9 / 7.0e9, 7.2e10 / 6.3e10; fp64 3.8e7 / 1.2e7, 2.0e9 / 1.2e9, at 1000
     * 1.0e10 / 1.1e10, past half of its 1584 resident fibers) */
    PackGeom pg = {0, 0, 1};
    if (kmode != K_FULL && !a.rec.mx_on && s->pack != AXM_PACK_OFF) {
        int nck = a.act.on ? a.act.n : 0; /* checked nodes per fiber */
        if (a.ap.on && a.ap.n > nck) nck = a.ap.n;
        int *res = &s->warp_res[kmode == K_BARE];
        if (*res < 0) *res = kmode == K_BARE ? warp_resident<T, K_BARE>(npl, s->sms) : warp_resident<T, K_LITE>(npl, s->sms);
        const int any = s->pack == AXM_PACK_ALWAYS || 2 * (long long)B <= *res;
        pg = pack_geom<T>(W, s->C, nck, npl, any ? 0.0 : pack_min_gain<T>(npl, kmode == K_BARE));
    }
    s->packed_last = pg.npl ? pg.F : 0;
    s->kernel_last = pg.npl ? (kmode == K_BARE ? "packed bare" : "packed lite")
                     : kmode == K_FULL ? "full" : kmode == K_BARE ? "bare" : "lite";
    long long chunk = (long long)(NODE_STEPS_PER_LAUNCH / ((double)B * W));
    if (chunk < 1) chunk = 1;
    long long done = 0;
    int first = 1;
    /* one launch even for n_steps = 0: the monitors see the initial state (arming, max, frame 0) */
    while (first || done < o->n_steps) {
        if (o->cancel && *o->cancel) {
            rc = axm_fail(err, AXM_ERR_CANCELLED, "run: cancelled");
            break;
        }
        long long n = o->n_steps - done < chunk ? o->n_steps - done : chunk;
        a.k0 = k0 + done;
        a.n_steps = n;
        a.first_launch = first;
        cudaError_t e = pg.npl ? launch_packed<T>(a, pg, kmode) : launch_t<T>(a, kmode, npl, B);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: S-MF kernel (B=%d, W=%d): %s", __FILE__, __LINE__, B, W,
                          cudaGetErrorString(e));
            break;
        }
        done += n;
        first = 0;
        if (o->progress) o->progress(o->progress_ud, (long)done, (long)o->n_steps);
    }
    s->k = k0 + done;
    /* as the CPU engine: the run after a cancelled one starts from the initial state */
    s->fresh = rc == AXM_ERR_CANCELLED;
    /* harvest the monitors' results */
    for (int i = 0; rc == AXM_OK && i < n_mons; i++) {
        axm_cuda_mon *m = mons[i];
        size_t bn = (size_t)B * m->n;
        cudaError_t e = cudaSuccess;
        if (m->type == MON_ACTIVE) e = cudaMemcpy(m->h_active, m->d_active, B, cudaMemcpyDeviceToHost);
        if (m->type == MON_APCOUNT) {
            e = cudaMemcpy(m->h_count, m->d_count, bn * sizeof(int), cudaMemcpyDeviceToHost);
            if (e == cudaSuccess) e = cudaMemcpy(m->h_first, m->d_first, bn * sizeof(double), cudaMemcpyDeviceToHost);
        }
        if (m->type == MON_RECORDER && m->max_only) rc = download(m->h_max, m->d_mx, (size_t)B * 5, s->prec, err);
        if (e != cudaSuccess)
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: monitor results: %s", __FILE__, __LINE__, cudaGetErrorString(e));
    }
    if (rc == AXM_OK && rec) {
        /* frames of completed launches only (a cancelled run keeps what it recorded) */
        const long long ev = rec->every;
        long long nf = rec_init + (k0 + done) / ev - k0 / ev;
        size_t per = (size_t)B * rec->ns_rec * rec->nn_rec;
        size_t old = rec->rec_data->size();
        rec->rec_data->resize(old + nf * per);
        rc = download(rec->rec_data->data() + old, d_frames, nf * per, s->prec, err);
        for (long long f = 0; f < nf; f++) {
            long long j = rec_init && f == 0 ? k0 : (k0 / ev + 1 + f - rec_init) * ev;
            rec->rec_times->push_back((double)j * o->dt_ms);
            rec->last_fj = j;
        }
        rec->frames += (long)nf;
    }
    if (rc == AXM_OK && ras) {
        unsigned long long cnt = 0;
        cudaError_t e = cudaMemcpy(&cnt, a.ras.count, sizeof cnt, cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) {
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: raster count: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        } else if ((long long)cnt > cap) {
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: raster: %llu spikes in one run exceed the buffer of %lld; "
                          "run shorter chunks or fewer nodes", cnt, cap);
        } else if (cnt > 0) {
            std::vector<int> f(cnt), nd(cnt);
            std::vector<double> t(cnt);
            e = cudaMemcpy(f.data(), a.ras.sp_fiber, cnt * sizeof(int), cudaMemcpyDeviceToHost);
            if (e == cudaSuccess) e = cudaMemcpy(nd.data(), a.ras.sp_node, cnt * sizeof(int), cudaMemcpyDeviceToHost);
            if (e == cudaSuccess) e = cudaMemcpy(t.data(), a.ras.sp_t, cnt * sizeof(double), cudaMemcpyDeviceToHost);
            if (e != cudaSuccess) {
                rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: raster: %s", __FILE__, __LINE__, cudaGetErrorString(e));
            } else {
                for (unsigned long long i = 0; i < cnt; i++) ras->spikes->push_back(axm_spike{f[i], nd[i], t[i]});
                std::sort(ras->spikes->begin(), ras->spikes->end(), spike_less);
            }
        }
    }
    dfree(d_frames);
    dfree(d_sp);
    return rc;
}

/* The lowest fiber whose final state is out of range (sim.h, axm_sim_diverged): NaN/inf, or |vm| at
 * or past AXM_VM_DIVERGED. A grid-stride loop; *first starts at B. */
template <typename T> __global__ void diverged_kernel(const T *state, int B, int W, int *first)
{
    const long long n = (long long)B * 5 * W, stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        long long r = i % (5 * W);
        if (axm_state_out((double)state[i], r >= 4 * W)) atomicMin(first, (int)(i / (5 * W)));
    }
}

/* The CPU engine's divergence test on the final state only: a blown-up explicit step does not come
 * back (the sawtooth grows until the NaN handling pins it at +-1e5 mV or a gate turns NaN), so the
 * end of the run shows it. One small kernel and two tiny copies per run. */
static int final_state_check(axm_cuda_sim *s, double dt, axm_err *err)
{
    const int B = s->B, W = s->W;
    int *d_first = s->d_first_bad, first = B, rc;
    cudaError_t e = cudaMemcpy(d_first, &first, sizeof(int), cudaMemcpyHostToDevice);
    long long n = (long long)B * 5 * W;
#ifdef AXM_CUDA_EMU /* one OS thread per emulated GPU thread: a few */
    const long long max_blocks = 2;
#else
    const long long max_blocks = 1024;
#endif
    dim3 block(256), grid((unsigned)std::min((n + 255) / 256, max_blocks));
    if (e == cudaSuccess) {
#ifdef AXM_CUDA_EMU
        if (s->prec == AXM_FP64)
            axmemu::launch(grid, block, [&] { diverged_kernel<double>((const double *)s->d_state, B, W, d_first); });
        else
            axmemu::launch(grid, block, [&] { diverged_kernel<float>((const float *)s->d_state, B, W, d_first); });
#else
        if (s->prec == AXM_FP64)
            diverged_kernel<double><<<grid, block>>>((const double *)s->d_state, B, W, d_first);
        else
            diverged_kernel<float><<<grid, block>>>((const float *)s->d_state, B, W, d_first);
#endif
        e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpy(&first, d_first, sizeof(int), cudaMemcpyDeviceToHost);
    AXM_CK(e);
    if (first >= B) return AXM_OK;
    std::vector<double> st((size_t)5 * W);
    const char *src = (const char *)s->d_state + (size_t)first * 5 * W * psize(s->prec);
    if ((rc = download(st.data(), src, st.size(), s->prec, err))) return rc;
    int i0 = 0;
    while (i0 < 5 * W && !axm_state_out(st[i0], i0 >= 4 * W)) i0++;
    static const char *const names[5] = {"m", "h", "p", "s", "v"};
    return axm_fail(err, AXM_ERR_RUNTIME,
                    "cuda run: fiber %d (D = %g um) diverged (at t = %.4g ms: %s = %g at node %d): the explicit smf "
                    "step at dt = %g ms is unstable here (spikes and strong stimuli lower its stability limit; the "
                    "setup notes a dt past 0.75 of it); use a smaller dt or a weaker stimulus",
                    first, s->D[first], (double)s->k * dt, names[i0 < 5 * W ? i0 / W : 4],
                    i0 < 5 * W ? st[i0] : NAN, i0 < 5 * W ? i0 % W : 0, dt);
}

extern "C" int axm_cuda_sim_run(axm_cuda_sim *s, const axm_run_opts *o, axm_cuda_mon *const *mons, int n_mons,
                                axm_err *err)
{
    if (!o || !(o->dt_ms > 0) || o->n_steps < 0)
        return axm_fail(err, AXM_ERR_INPUT, "cuda: run options: expected dt_ms > 0 and n_steps >= 0");
    AXM_CK(cudaSetDevice(s->dev));
    int rc = s->prec == AXM_FP64 ? run_t<double>(s, o, mons, n_mons, err) : run_t<float>(s, o, mons, n_mons, err);
    return rc == AXM_OK && !o->allow_diverged ? final_state_check(s, o->dt_ms, err) : rc;
}
