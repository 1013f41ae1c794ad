/* The MRG simulation's runs on the GPU: axm_cuda_mrg_run (launches in chunks with cancel, progress and
 * the recorder's copy) and gendata's engine (many runs as one batch, traces transposed on the host). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <thread>
#include <vector>

#include "mrg_host.h"

using namespace axmmrg;

template <typename T>
static int run_t(axm_cuda_mrg *s, const axm_run_opts *o, axm_prec rec_prec, void *rec, axm_err *err)
{
    const int B = s->B, W = s->W;
    const size_t per = (size_t)B * 5 * W;
    MArgs<T> a;
    base_args<T>(s, a, o->dt_ms);
    long long chunk = (long long)(FIBER_NODE_STEPS_PER_LAUNCH / ((double)B * W));
    T *d_rec = NULL;
    int rc = AXM_OK;
    if (rec) {
        long long rc_chunk = (long long)(REC_BYTES_PER_LAUNCH / ((double)per * sizeof(T)));
        if (rc_chunk < chunk) chunk = rc_chunk;
    }
    if (s->max_launch > 0 && chunk > s->max_launch) chunk = s->max_launch;
    if (chunk < 1) chunk = 1;
    if (chunk > o->n_steps) chunk = o->n_steps > 0 ? o->n_steps : 1;
    if (rec && (rc = dalloc((void **)&d_rec, (size_t)chunk * per * sizeof(T), "recorded states", err))) return rc;
    std::vector<T> tbuf(rec ? (size_t)chunk * per : 0);
    const long long k0 = s->k;
    long long done = 0;
    while (done < o->n_steps) {
        if (o->cancel && *o->cancel) {
            rc = axm_fail(err, AXM_ERR_CANCELLED, "run: cancelled");
            break;
        }
        long long n = o->n_steps - done < chunk ? o->n_steps - done : chunk;
        a.k0 = k0 + done;
        a.n_steps = n;
        a.rec = d_rec;
        cudaError_t e = launch<T>(a, s);
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: MRG kernel (B=%d, W=%d): %s", __FILE__, __LINE__, B, W,
                          cudaGetErrorString(e));
            break;
        }
        if (rec) {
            /* [step][5][W][B] -> the caller's [step][B][5][W] */
            if ((rc = d2h(tbuf.data(), d_rec, (size_t)n * per * sizeof(T), "recorded states", err))) break;
            const size_t SW = (size_t)5 * W;
            for (long long j = 0; j < n; j++) {
                const T *src = tbuf.data() + (size_t)j * per;
                size_t base = (size_t)(done + j) * per;
                for (size_t b = 0; b < (size_t)B; b++)
                    for (size_t r = 0; r < SW; r++) {
                        double v = (double)src[r * B + b];
                        if (rec_prec == AXM_FP32)
                            ((float *)rec)[base + b * SW + r] = (float)v;
                        else
                            ((double *)rec)[base + b * SW + r] = v;
                    }
            }
        }
        done += n;
        if (o->progress) o->progress(o->progress_ud, (long)done, (long)o->n_steps);
    }
    dfree(d_rec);
    s->k = k0 + done;
    /* as the CPU engine: the run after a cancelled one starts from the initial state */
    if (rc == AXM_ERR_CANCELLED) s->fresh = 1;
    return rc;
}

extern "C" int axm_cuda_mrg_run(axm_cuda_mrg *s, const axm_run_opts *o, axm_prec rec_prec, void *rec, axm_err *err)
{
    if (!o) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: run: no options");
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: run: dt: expected a positive time step in ms (got %g)", o->dt_ms);
    if (o->n_steps < 0) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: run: n_steps: expected >= 0 (got %ld)", o->n_steps);
    AXM_CK(cudaSetDevice(s->dev));
    int rc = AXM_OK;
    if (o->reinit || s->fresh) {
        if ((rc = reset_state(s, err))) return rc;
        s->fresh = 0;
    }
    if ((rc = prepare(s, o->dt_ms, err))) return rc;
    return s->prec == AXM_FP32 ? run_t<float>(s, o, rec_prec, rec, err) : run_t<double>(s, o, rec_prec, rec, err);
}

/* gendata's engine on the GPU (datagen.h). The k runs are one batch of Bt = k B fibers. Steps are
 * recorded on the device in chunks ([step][5][W][Bt], <= REC_BYTES_PER_LAUNCH), copied back, and
 * transposed straight into the runs' [S][B][W][T] traces by all host CPUs while the GPU computes the
 * next chunk (a single-threaded transpose would cap the rate at a few thousand fibers/s). */
namespace {

const int GD_TILE = 16; /* fibers per transpose task: 64 B of a float row of the source */

template <typename T> struct gd_chunk {
    const T *src;                  /* [n][5][W][Bt] */
    axm_gendata_batch *const *bs;
    int B, W, Bt;
    size_t T_len;
    long n, frame0;                /* frames frame0 .. frame0 + n - 1 */
};

/* Tasks [t0, t1) of 5 * ceil(Bt / GD_TILE): state q, fibers of one tile, every node and step; the
 * destination rows (16 fibers x n frames) stay in cache while the source is read line by line. */
template <typename T> void gd_transpose(const gd_chunk<T> *c, size_t t0, size_t t1)
{
    const size_t nblk = ((size_t)c->Bt + GD_TILE - 1) / GD_TILE, W = (size_t)c->W, Bt = (size_t)c->Bt;
    for (size_t t = t0; t < t1; t++) {
        size_t q = t / nblk, b0 = (t % nblk) * GD_TILE, b1 = b0 + GD_TILE < Bt ? b0 + GD_TILE : Bt;
        for (size_t w = 0; w < W; w++) {
            float *dst[GD_TILE];
            for (size_t b = b0; b < b1; b++) {
                const axm_gendata_batch *r = c->bs[b / (size_t)c->B];
                dst[b - b0] = r->states + ((q * (size_t)c->B + b % (size_t)c->B) * W + w) * c->T_len + (size_t)c->frame0;
            }
            for (long j = 0; j < c->n; j++) {
                const T *x = c->src + ((size_t)j * 5 * W + q * W + w) * Bt;
                for (size_t b = b0; b < b1; b++) dst[b - b0][j] = (float)x[b];
            }
        }
    }
}

template <typename T> void gd_transpose_par(const gd_chunk<T> *c)
{
    const size_t tasks = 5 * (((size_t)c->Bt + GD_TILE - 1) / GD_TILE);
    unsigned nt = std::thread::hardware_concurrency();
    if (nt < 1) nt = 1;
    if (nt > 64) nt = 64;
    if ((size_t)nt > tasks) nt = (unsigned)tasks;
    if (nt <= 1 || (size_t)c->Bt * c->n * c->W < 8192) { /* not worth a thread */
        gd_transpose(c, 0, tasks);
        return;
    }
    std::vector<std::thread> th;
    size_t per = (tasks + nt - 1) / nt;
    for (unsigned i = 1; i < nt; i++) {
        size_t a = per * i, b = a + per < tasks ? a + per : tasks;
        if (a >= b) break;
        try {
            th.emplace_back(gd_transpose<T>, c, a, b);
        } catch (...) {
            gd_transpose(c, a, b); /* no thread: do its share here */
        }
    }
    gd_transpose(c, 0, per < tasks ? per : tasks);
    for (auto &x : th) x.join();
}

/* fp64 records narrowed to float on the device (the rounding the host's cast does): half the bytes
 * over PCIe. A grid-stride loop over n values with `stride` threads in all. */
__global__ void gd_narrow(const double *src, float *dst, size_t n, size_t stride)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = (float)src[i];
}

cudaError_t gd_to_float(const double *src, float *dst, size_t n)
{
#ifdef AXM_CUDA_EMU /* one OS thread per emulated GPU thread: a few */
    dim3 grid(1), block(32);
    axmemu::launch(grid, block, [&] { gd_narrow(src, dst, n, 32); });
#else
    size_t blocks = (n + 255) / 256;
    if (blocks > 8192) blocks = 8192;
    if (blocks < 1) blocks = 1;
    gd_narrow<<<(unsigned)blocks, 256>>>(src, dst, n, blocks * 256);
#endif
    return cudaGetLastError();
}

/* The host's chunk buffer: page-locked when the runtime allows (copies about twice as fast), else
 * plain memory. */
struct gd_host {
    float *p = nullptr;
    bool pinned = false;
    bool alloc(size_t n)
    {
#ifndef AXM_CUDA_EMU
        if (cudaHostAlloc((void **)&p, n * sizeof(float), cudaHostAllocDefault) == cudaSuccess) {
            pinned = true;
            return true;
        }
        cudaGetLastError();
        p = nullptr;
#endif
        p = (float *)malloc(n * sizeof(float));
        return p != nullptr;
    }
    ~gd_host()
    {
#ifndef AXM_CUDA_EMU
        if (pinned) {
            cudaFreeHost(p);
            return;
        }
#endif
        free(p);
    }
};

template <typename T>
int gd_run_t(axm_cuda_mrg *s, axm_gendata_batch *const *bs, double dt_ms, long n_steps, const volatile int *cancel,
             void (*progress)(void *pud, long done, long total), void *progress_ud, axm_err *err)
{
    const int Bt = s->B, W = s->W, B = bs[0]->B;
    const size_t per = (size_t)Bt * 5 * W;
    MArgs<T> a;
    base_args<T>(s, a, dt_ms);
    long long chunk = (long long)(FIBER_NODE_STEPS_PER_LAUNCH / ((double)Bt * W));
    long long rc_chunk = (long long)(REC_BYTES_PER_LAUNCH / ((double)per * sizeof(T)));
    if (rc_chunk < chunk) chunk = rc_chunk;
    if (s->max_launch > 0 && chunk > s->max_launch) chunk = s->max_launch;
    if (chunk < 1) chunk = 1;
    if (chunk > n_steps) chunk = n_steps > 0 ? n_steps : 1;
    T *d_rec = NULL;
    float *d_f = NULL; /* fp64: the chunk narrowed to float */
    int rc = dalloc((void **)&d_rec, (size_t)chunk * per * sizeof(T), "recorded states", err);
    if (!rc && sizeof(T) != sizeof(float))
        rc = dalloc((void **)&d_f, (size_t)chunk * per * sizeof(float), "recorded states as float", err);
    gd_host host;
    if (!rc && !host.alloc((size_t)chunk * per))
        rc = axm_fail(err, AXM_ERR_NOMEM, "cuda mrg: gendata: out of host memory for a chunk of %lld steps", chunk);
    if (rc) {
        dfree(d_rec);
        dfree(d_f);
        return rc;
    }
    const long long k0 = s->k;
    long long done = 0, n = n_steps < chunk ? n_steps : chunk;
    cudaError_t e = cudaSuccess;
    if (n > 0) {
        a.k0 = k0, a.n_steps = n, a.rec = d_rec;
        e = launch<T>(a, s);
    }
    while (done < n_steps) {
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess) {
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: MRG kernel (B=%d, W=%d): %s", __FILE__, __LINE__, Bt, W,
                          cudaGetErrorString(e));
            break;
        }
        const float *rec_f = (const float *)d_rec;
        if (d_f) {
            if ((e = gd_to_float((const double *)d_rec, d_f, (size_t)n * per)) != cudaSuccess) {
                rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: narrowing the recorded states: %s", __FILE__, __LINE__,
                              cudaGetErrorString(e));
                break;
            }
            rec_f = d_f;
        }
        if ((rc = d2h(host.p, rec_f, (size_t)n * per * sizeof(float), "recorded states", err))) break;
        gd_chunk<float> c = {host.p, bs, B, W, Bt, (size_t)bs[0]->T, (long)n, (long)done + 1};
        done += n;
        int stop = cancel && *cancel;
        n = n_steps - done < chunk ? n_steps - done : chunk;
        if (done < n_steps && !stop) { /* the GPU runs the next chunk while the CPUs transpose this one */
            a.k0 = k0 + done, a.n_steps = n;
            e = launch<T>(a, s);
        }
        gd_transpose_par(&c);
        if (progress) progress(progress_ud, (long)done, n_steps);
        if (stop) {
            rc = axm_fail(err, AXM_ERR_CANCELLED, "gendata: cancelled");
            break;
        }
    }
    if (rc) cudaDeviceSynchronize(); /* no kernel may still write d_rec when it is freed */
    dfree(d_rec);
    dfree(d_f);
    s->k = k0 + done;
    return rc;
}

} // namespace

extern "C" int axm_cuda_gendata_engine(void *ud, const axm_model *m, axm_gendata_batch *const *bs, int k,
                                       axm_prec prec, const axm_drive *d, double dt_ms, long n_steps,
                                       const volatile int *cancel, void (*progress)(void *pud, long done, long total),
                                       void *progress_ud, axm_err *err)
{
    const axm_cuda_gendata_opts *go = (const axm_cuda_gendata_opts *)ud;
    const int device = go ? go->device : -1;
    if (k < 1 || !bs) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: gendata: expected at least one run (got %d)", k);
    const int B = bs[0]->B, W = bs[0]->W;
    const size_t T = (size_t)bs[0]->T, S = 5;
    for (int j = 0; j < k; j++) {
        if (bs[j]->S != 5) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: gendata batch has %d states, expected 5", bs[j]->S);
        if (bs[j]->B != B || bs[j]->W != W || bs[j]->T != (int)T)
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: gendata: run %d of the call has another shape than run 0", j);
    }
    if (n_steps + 1 > (long)T) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: %ld steps do not fit %zu samples", n_steps, T);
    if (!(dt_ms > 0) || !isfinite(dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: gendata: dt: expected a positive time step in ms (got %g)", dt_ms);
    if ((double)k * B > 2147483647.0) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: gendata: too many fibers in one call");
    const int Bt = k * B;
    std::vector<double> D((size_t)Bt);
    for (int j = 0; j < k; j++) memcpy(D.data() + (size_t)j * B, bs[j]->D_um, sizeof(double) * (size_t)B);
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, Bt, W, D.data(), prec, device, err);
    if (!g) return err && err->code ? err->code : AXM_ERR_RUNTIME;
    if (go && go->launch_steps > 0) g->max_launch = go->launch_steps;
    int rc = axm_cuda_mrg_set_drive(g, d, err);
    if (!rc && cudaSetDevice(g->dev) != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaSetDevice(%d) failed", __FILE__, __LINE__, g->dev);
    if (!rc && !(rc = reset_state(g, err))) g->fresh = 0;
    if (!rc) rc = prepare(g, dt_ms, err);
    /* frame 0: the initial state, as the CPU sink stores it */
    std::vector<double> st0(rc ? 0 : (size_t)Bt * S * W);
    if (!rc) rc = axm_cuda_mrg_state(g, st0.data(), err);
    if (!rc)
        for (size_t ft = 0; ft < (size_t)Bt; ft++) {
            float *st = bs[ft / (size_t)B]->states;
            size_t f = ft % (size_t)B;
            for (size_t q = 0; q < S; q++)
                for (size_t w = 0; w < (size_t)W; w++)
                    st[((q * B + f) * W + w) * T] = (float)st0[(ft * S + q) * W + w];
        }
    if (!rc)
        rc = g->prec == AXM_FP32 ? gd_run_t<float>(g, bs, dt_ms, n_steps, cancel, progress, progress_ud, err)
                                 : gd_run_t<double>(g, bs, dt_ms, n_steps, cancel, progress, progress_ud, err);
    axm_cuda_mrg_destroy(g);
    return rc;
}
