/* Host side of the GPU training chunk (axm_cuda_train_chunk): input checks, grow-only device
 * buffers kept in the context between chunks, one launch per chunk, and the per-fiber lumped chain
 * rule (axm_smfg_grad_flush_fiber) on the host in fiber order. Kernel in train_kernel.cuh. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_util.h"
#include "train_kernel.cuh"

using namespace axmtr;

struct axm_cuda_train {
    int dev;
    double *d_fib, *d_ve, *d_tgt, *d_s, *d_traj, *d_out;
    size_t n_fib, n_ve, n_tgt, n_s, n_traj, n_out; /* capacities, doubles */
    double *h_fib, *h_out;
    size_t nh_fib, nh_out;
    double last_ms[3]; /* the last chunk's phases (axm_cuda_train_last_ms) */
    /* a chunk's work runs on st[0]; st[1] uploads the targets while the forward runs and takes the
     * final state back while the backward runs. ev: 0-3 the phases' edges on st[0], 4 the forward's
     * inputs uploaded, 5 the targets uploaded, 6 the forward done, 7 the state downloaded */
    cudaStream_t st[2];
    cudaEvent_t ev[8];
    int n_st, n_ev;
    void *pinned[8];   /* host ranges registered by axm_cuda_train_pin */
    int n_pinned;
};

namespace {

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* Makes *p hold at least n doubles (contents not kept). */
int dgrow(double **p, size_t *cap, size_t n, const char *what, axm_err *err)
{
    if (n <= *cap && *p) return AXM_OK;
    dfree(*p);
    *cap = 0;
    int rc = dalloc((void **)p, (n ? n : 1) * sizeof(double), what, err);
    if (!rc) *cap = n;
    return rc;
}

int hgrow(double **p, size_t *cap, size_t n, axm_err *err)
{
    if (n <= *cap && *p) return AXM_OK;
    double *q = (double *)realloc(*p, (n ? n : 1) * sizeof(double));
    if (!q) return axm_fail(err, AXM_ERR_NOMEM, "cuda train: out of host memory (%zu doubles)", n);
    *p = q;
    *cap = n;
    return AXM_OK;
}

int bad(axm_err *err, const char *fmt, const char *what, double x)
{
    return axm_fail(err, AXM_ERR_INPUT, fmt, what, x);
}

int check_input(const axm_smfg_theta *th, const double *D, int B, int W, int L, const double *ve,
                const double *target, const double w[5], double norm, double dt, const double *s_io,
                axm_err *err)
{
    if (!th) return axm_fail(err, AXM_ERR_INPUT, "cuda train: theta: missing (expected the S-MF parameters)");
    if (B < 1) return axm_fail(err, AXM_ERR_INPUT, "cuda train: B = %d fibers: expected >= 1", B);
    if (W < 1 || W > AXM_CUDA_MAX_NODES)
        return axm_fail(err, AXM_ERR_INPUT, "cuda train: W = %d nodes: expected 1..%d", W, AXM_CUDA_MAX_NODES);
    if (L < 0) return axm_fail(err, AXM_ERR_INPUT, "cuda train: L = %d steps: expected >= 0", L);
    if (th->taps < 1 || th->taps > AXM_MAX_TAPS || th->taps % 2 == 0)
        return axm_fail(err, AXM_ERR_INPUT, "cuda train: stencil taps = %d: expected odd, 1..%d", th->taps,
                        AXM_MAX_TAPS);
    if (!D || !target || !w || !s_io || (L > 0 && !ve))
        return axm_fail(err, AXM_ERR_INPUT, "cuda train: %s: missing (NULL array)",
                        !D ? "D" : !target ? "target" : !w ? "state weights" : !s_io ? "state" : "ve");
    if (!(norm > 0) || !isfinite(norm)) return bad(err, "cuda train: %s = %g: expected finite > 0", "norm", norm);
    if (!(dt > 0) || !isfinite(dt)) return bad(err, "cuda train: %s = %g ms: expected finite > 0", "dt", dt);
    for (int s = 0; s < 5; s++)
        if (!isfinite(w[s]))
            return axm_fail(err, AXM_ERR_INPUT, "cuda train: state weight %d = %g: expected finite", s, w[s]);
    for (int b = 0; b < B; b++)
        if (!(D[b] > 0) || !isfinite(D[b]))
            return axm_fail(err, AXM_ERR_INPUT, "cuda train: D[%d] = %g um: expected finite > 0", b, D[b]);
    return AXM_OK;
}

} // namespace

extern "C" axm_cuda_train *axm_cuda_train_create(int device, axm_err *err)
{
    int dev = axm_cuda_pick_device(device, "cuda train", err);
    if (dev < 0) return NULL;
    axm_cuda_train *t = (axm_cuda_train *)calloc(1, sizeof *t);
    if (!t) {
        axm_fail(err, AXM_ERR_NOMEM, "cuda train: out of memory");
        return NULL;
    }
    t->dev = dev;
    t->last_ms[0] = t->last_ms[1] = t->last_ms[2] = NAN;
    cudaError_t e = cudaSetDevice(dev);
    for (; e == cudaSuccess && t->n_st < 2; t->n_st++) e = cudaStreamCreateWithFlags(&t->st[t->n_st], cudaStreamNonBlocking);
    for (; e == cudaSuccess && t->n_ev < 8; t->n_ev++) e = cudaEventCreate(&t->ev[t->n_ev]);
    if (e != cudaSuccess) {
        axm_fail(err, AXM_ERR_RUNTIME, "cuda train: %s:%d: streams and events: %s", __FILE__, __LINE__,
                 cudaGetErrorString(e));
        axm_cuda_train_destroy(t);
        return NULL;
    }
    return t;
}

extern "C" int axm_cuda_train_pin(axm_cuda_train *t, const void *p, size_t bytes, axm_err *err)
{
    if (!t || !p || !bytes) return axm_fail(err, AXM_ERR_INPUT, "cuda train: pin: expected a context and a non-empty range");
    if (t->n_pinned == 8) return axm_fail(err, AXM_ERR_INPUT, "cuda train: pin: at most 8 ranges");
    AXM_CK(cudaSetDevice(t->dev));
    AXM_CK(cudaHostRegister((void *)p, bytes, cudaHostRegisterDefault));
    t->pinned[t->n_pinned++] = (void *)p;
    return AXM_OK;
}

extern "C" void axm_cuda_train_last_ms(const axm_cuda_train *t, double ms[3])
{
    for (int i = 0; i < 3; i++) ms[i] = t ? t->last_ms[i] : NAN;
}

extern "C" void axm_cuda_train_destroy(axm_cuda_train *t)
{
    if (!t) return;
    cudaSetDevice(t->dev);
    double *d[] = {t->d_fib, t->d_ve, t->d_tgt, t->d_s, t->d_traj, t->d_out};
    for (double *p : d)
        if (p) cudaFree(p);
    for (int i = 0; i < t->n_pinned; i++) cudaHostUnregister(t->pinned[i]);
    for (int i = 0; i < t->n_ev; i++) cudaEventDestroy(t->ev[i]);
    for (int i = 0; i < t->n_st; i++) cudaStreamDestroy(t->st[i]);
    free(t->h_fib);
    free(t->h_out);
    free(t);
}

template <int NPL, int NW> static cudaError_t launch(const TrainArgs &a, cudaStream_t st)
{
    dim3 grid((unsigned)a.B), block(32 * NW);
#ifdef AXM_CUDA_EMU /* tests/gpu/emu.sh: the same kernel on CPU threads */
    (void)st;
    axmemu::launch(grid, block, [&] { train_kernel<NPL, NW>(a); });
#else
    train_kernel<NPL, NW><<<grid, block, 0, st>>>(a);
#endif
    return cudaGetLastError();
}

/* a thread per node up to 128 nodes (one to four warps), then two nodes per thread */
static cudaError_t launch_w(const TrainArgs &a, cudaStream_t st)
{
    if (a.W <= 32) return launch<1, 1>(a, st);
    if (a.W <= 64) return launch<1, 2>(a, st);
    if (a.W <= 128) return launch<1, 4>(a, st);
    return launch<2, 4>(a, st);
}

extern "C" int axm_cuda_train_chunk(axm_cuda_train *t, const axm_smfg_theta *th, const double *D, int B, int W,
                                    int L, const double *ve, const double *target, const double w[5],
                                    double norm, double dt, double *s_io, axm_smfg_grad *g, double *loss,
                                    axm_err *err)
{
    if (loss) *loss = NAN;
    if (!t) return axm_fail(err, AXM_ERR_INPUT, "cuda train: no context (axm_cuda_train_create failed?)");
    int rc = check_input(th, D, B, W, L, ve, target, w, norm, dt, s_io, err);
    if (rc) return rc;
    AXM_CK(cudaSetDevice(t->dev));
    const size_t n5 = 5 * (size_t)W;
    const size_t nve = (size_t)L * B * W, ntgt = (size_t)(L + 1) * B * n5, ns = (size_t)B * n5;
    if ((rc = dgrow(&t->d_fib, &t->n_fib, (size_t)B * NFIB, "fiber constants", err)) ||
        (rc = dgrow(&t->d_ve, &t->n_ve, nve, "ve", err)) || (rc = dgrow(&t->d_tgt, &t->n_tgt, ntgt, "targets", err)) ||
        (rc = dgrow(&t->d_s, &t->n_s, ns, "state", err)) ||
        (g && (rc = dgrow(&t->d_traj, &t->n_traj, (size_t)(L + 1) * ns, "trajectory", err))) ||
        (rc = dgrow(&t->d_out, &t->n_out, (size_t)B * NOUT, "adjoints", err)) ||
        (rc = hgrow(&t->h_fib, &t->nh_fib, (size_t)B * NFIB, err)) ||
        (rc = hgrow(&t->h_out, &t->nh_out, (size_t)B * NOUT, err)))
        return rc;

    TrainArgs a;
    memset(&a, 0, sizeof a);
    memcpy(a.p, th->p, sizeof a.p);
    axm_smfg_lumped lp;
    for (int b = 0; b < B; b++) {
        axm_smfg_lump(th, D[b], &lp);
        double *f = t->h_fib + (size_t)b * NFIB;
        f[0] = lp.Cn;
        f[1] = lp.ra;
        f[2] = lp.gna;
        f[3] = lp.gnap;
        f[4] = lp.gk;
        f[5] = lp.gl;
        for (int q = 0; q < 4; q++) f[6 + q] = lp.q[q];
        f[10] = lp.gve;
        if (b == 0) memcpy(a.ws, lp.ws, sizeof a.ws); /* D-independent */
    }
    memcpy(a.w, w, sizeof a.w);
    a.norm = norm;
    a.dt = dt;
    a.taps = th->taps;
    a.handle_nan = th->handle_nan;
    a.round_f32 = th->round_f32;
    a.want_grad = g != NULL;
    a.B = B;
    a.W = W;
    a.L = L;
    a.fib = t->d_fib;
    a.ve = t->d_ve;
    a.tgt = t->d_tgt;
    a.s = t->d_s;
    a.traj = t->d_traj;
    a.out = t->d_out;

    /* With a gradient, the forward (phase 1) needs only the fiber constants, the potentials and the
     * state; the targets (the largest upload, ~(L + 1) B 5 W doubles) go up on the second stream
     * while it runs, and the backward (phase 2, which also forms the loss) waits for them. Loss
     * only: one launch that needs everything (phase 0). */
    cudaStream_t s0 = t->st[0], s1 = t->st[1];
    cudaEvent_t *ev = t->ev;
    const size_t dbl = sizeof(double);
    AXM_CK(cudaEventRecord(ev[0], s0));
    AXM_CK(cudaMemcpyAsync(t->d_fib, t->h_fib, (size_t)B * NFIB * dbl, cudaMemcpyHostToDevice, s0));
    if (nve) AXM_CK(cudaMemcpyAsync(t->d_ve, ve, nve * dbl, cudaMemcpyHostToDevice, s0));
    AXM_CK(cudaMemcpyAsync(t->d_s, s_io, ns * dbl, cudaMemcpyHostToDevice, s0));
    AXM_CK(cudaEventRecord(ev[4], s0));
    /* the targets after the forward's inputs, not beside them: they share the link */
    AXM_CK(cudaStreamWaitEvent(s1, ev[4], 0));
    AXM_CK(cudaMemcpyAsync(t->d_tgt, target, ntgt * dbl, cudaMemcpyHostToDevice, g ? s1 : s0));
    AXM_CK(cudaEventRecord(ev[5], s1));
    AXM_CK(cudaEventRecord(ev[1], s0));
    a.phase = g ? 1 : 0;
    cudaError_t e = launch_w(a, s0);
    if (e == cudaSuccess && g) {
        e = cudaEventRecord(ev[6], s0);
        if (e == cudaSuccess) e = cudaStreamWaitEvent(s0, ev[5], 0);
        a.phase = 2;
        if (e == cudaSuccess) e = launch_w(a, s0);
    }
    if (e != cudaSuccess)
        return axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: train_kernel launch (B %d, W %d): %s", __FILE__,
                        __LINE__, B, W, cudaGetErrorString(e));
    AXM_CK(cudaEventRecord(ev[2], s0));
    /* the final state is there once the forward is: it comes back while the backward runs */
    AXM_CK(cudaStreamWaitEvent(s1, g ? ev[6] : ev[2], 0));
    AXM_CK(cudaMemcpyAsync(s_io, t->d_s, ns * dbl, cudaMemcpyDeviceToHost, s1));
    AXM_CK(cudaEventRecord(ev[7], s1));
    AXM_CK(cudaMemcpyAsync(t->h_out, t->d_out, (size_t)B * NOUT * dbl, cudaMemcpyDeviceToHost, s0));
    AXM_CK(cudaStreamWaitEvent(s0, ev[7], 0));
    AXM_CK(cudaEventRecord(ev[3], s0));
    AXM_CK(cudaEventSynchronize(ev[3]));
    double t2 = now_ms();

    /* fiber order on the host: deterministic, whatever the launch */
    double sum = 0;
    axm_smfg_grad tot, gf;
    if (g) axm_smfg_grad_zero(&tot);
    for (int b = 0; b < B; b++) {
        const double *o = t->h_out + (size_t)b * NOUT;
        sum += o[0];
        if (!g) continue;
        axm_smfg_grad_zero(&gf);
        for (int gg = 0; gg < 4; gg++)
            for (int ab = 0; ab < 2; ab++)
                for (int c = 0; c < 3; c++) gf.p[axm_smfg_rate_ia(gg, ab) + c] = o[1 + (gg * 2 + ab) * 3 + c];
        gf.p[AXM_SMFG_ENA] = o[1 + G_ENA];
        gf.p[AXM_SMFG_EK] = o[1 + G_EK];
        gf.p[AXM_SMFG_EL] = o[1 + G_EL];
        gf.p[AXM_SMFG_VTRAUB] = o[1 + G_VT];
        const double *l = o + 1 + NG;
        gf.Cn = l[0];
        gf.ra = l[1];
        gf.gna = l[2];
        gf.gnap = l[3];
        gf.gk = l[4];
        gf.gl = l[5];
        for (int q = 0; q < 4; q++) gf.q[q] = l[6 + q];
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < AXM_MAX_TAPS; k++) gf.ws[c][k] = l[NL + c * AXM_MAX_TAPS + k];
        axm_smfg_grad_flush_fiber(th, D[b], &gf);
        axm_smfg_grad_add(&tot, &gf);
    }
    if (g) axm_smfg_grad_add(g, &tot);
    if (loss) *loss = sum / norm;
    float ms[3] = {NAN, NAN, NAN};
    for (int i = 0; i < 3; i++)
        if (cudaEventElapsedTime(&ms[i], ev[i], ev[i + 1]) != cudaSuccess) {
            ms[i] = NAN;
            (void)cudaGetLastError(); /* not left for the next launch's check to find */
        }
    t->last_ms[0] = ms[0];
    t->last_ms[1] = ms[1];
    t->last_ms[2] = ms[2] + (now_ms() - t2);
    return AXM_OK;
}
