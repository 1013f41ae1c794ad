/* Host side of the MRG forward simulation on the GPU (axm_cuda_mrg_*, axm_cuda.h): per-fiber
 * constants and the internode factorization computed once on the host (as core/mrg.c computes them),
 * phi evaluated on the host at the model's compartments, one GPU thread per fiber (mrg_kernel.cuh). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <thread>
#include <vector>

#include "cuda_util.h"
extern "C" {
#include "mrg.h"
#include "mrg_internode.h"
}
#include "mrg_kernel.cuh"

using namespace axmmrg;

namespace {

/* Fiber-steps of work per launch (about 1e5 compartment-steps each at W = 101): a launch lasts a
 * fraction of a second at full occupancy, so cancel and progress are polled often enough. */
const double FIBER_NODE_STEPS_PER_LAUNCH = 2e8;
/* Device buffer for recorded states per launch. */
const double REC_BYTES_PER_LAUNCH = 256e6;

/* Fiber constants of one fiber into f[N_K] (core/mrg.c fiber_consts, same operations). */
int fiber_consts(const axm_model *m, double D, double *f, axm_err *err)
{
    axm_mrg_geom g;
    int rc = axm_mrg_geometry_model(m, D, &g, err);
    if (rc) return rc;
    axm_mrg_sec s[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        axm_mrg_section(&g, t, &s[t]);
        f[K_C + t] = s[t].C;
        f[K_GPAS + t] = s[t].Gpas;
        f[K_GMY + t] = s[t].Gmy;
        f[K_CMY + t] = s[t].Cmy;
    }
    f[K_A] = s[T_NODE].area;
    static const int type_of_j[11] = {T_NODE, T_MYSA, T_FLUT, T_STIN, T_STIN, T_STIN,
                                      T_STIN, T_STIN, T_STIN, T_FLUT, T_MYSA};
    for (int j = 0; j < 11; j++) {
        const axm_mrg_sec *a = &s[type_of_j[j]], *b = &s[type_of_j[(j + 1) % 11]];
        f[K_GI + j] = 1.0 / (a->Ri_half + b->Ri_half);
        f[K_GX + j] = 1.0 / (a->Rx_half + b->Rx_half);
    }
    f[K_GXF] = f[K_GXL] = 1.0 / (s[T_END].Rx_half + s[T_MYSA].Rx_half);
    return AXM_OK;
}

} // namespace

/* One thread per fiber, so a batch smaller than the card (128-thread blocks on every SM) would
 * leave SMs idle with 128-thread blocks: spread it, down to one warp per block. Each fiber's step
 * streams its own state through the SM's memory pipeline, so an SM with one warp is not idle work. */
static int mrg_block(int B, int sms)
{
    int per_sm = (B + sms - 1) / (sms > 0 ? sms : 1);
    int blk = (per_sm + 31) / 32 * 32;
    return blk < 32 ? 32 : blk > AXM_MRG_BLOCK ? AXM_MRG_BLOCK : blk;
}

/* Lanes per fiber of a run (mrg_kernel's L). One thread per fiber keeps too few bytes in flight
 * for small batches: on an H200 (2026-11-26) 8192 fibers ran at 2.0e8 node-steps/s, about 0.5 TB/s
 * of state traffic, 65536 at 8.1e8 (1.7 TB/s). With L lanes a fiber's internodes and nodes step
 * in parallel (its node chain's solve stays on one lane). The kernels are compiled for
 * AXM_MRG_MINBL blocks of AXM_MRG_BLOCK threads per SM (3: 384 threads), so L lanes are taken
 * while L fibers' lanes per SM still fit: up to 96 fibers per SM 4 lanes, up to 192 two (not yet
 * measured). Passive end nodes: one (their elimination runs along the whole chain). want
 * (axm_cuda_mrg_set_lanes): 1, 2 or 4 instead of this rule. */
static int mrg_lanes(int B, int sms, int pe, int want)
{
    if (pe) return 1;
    if (want) return want;
    const long per_sm = ((long)B + sms - 1) / (sms > 0 ? sms : 1), fit = (long)AXM_MRG_MINBL * AXM_MRG_BLOCK;
    return 4 * per_sm <= fit ? 4 : 2 * per_sm <= fit ? 2 : 1;
}

struct axm_cuda_mrg {
    int dev, B, W, M, pe, n_scratch;
    int sms;                       /* the device's multiprocessors */
    int lanes;                     /* axm_cuda_mrg_set_lanes (0: mrg_lanes' rule) */
    axm_prec prec;
    axm_model model;               /* shallow copy with its own p */
    double par[8];                 /* gna gnap gk gl ena ek el epas */
    double vinit, q[4];
    double *D;
    double *ic_h;                  /* (B,5,W) initial node states */
    std::vector<double> *fc_h;     /* [B][N_K] */
    double fact_dt;                /* dt the uploaded factorization belongs to; 0 = none */
    void *d_st;                    /* [5][W][B] in prec */
    double *d_fc, *d_vm, *d_vx, *d_ep, *d_ve, *d_sc;
    /* drive */
    int C;
    long long wlen;
    double *d_phi, *d_waves;
    int *d_wave_of;
    std::vector<axm_pulse> *pulses;
    MPulse *d_pulses;
    double pulses_dt;
    long long k;
    int fresh;                     /* next run starts from the initial state */
    long long max_launch;          /* steps per launch cap; 0 = automatic */
};

static void drive_free(axm_cuda_mrg *s)
{
    dfree(s->d_phi);
    dfree(s->d_waves);
    dfree(s->d_wave_of);
    dfree(s->d_pulses);
    s->d_phi = s->d_waves = NULL;
    s->d_wave_of = NULL;
    s->d_pulses = NULL;
    s->pulses->clear();
    s->pulses_dt = 0;
    s->C = 0;
    s->wlen = 0;
}

static int st_upload(axm_cuda_mrg *s, const double *x, axm_err *err);
static int reset_state(axm_cuda_mrg *s, axm_err *err);
static int prepare(axm_cuda_mrg *s, double dt, axm_err *err);

extern "C" void axm_cuda_mrg_destroy(axm_cuda_mrg *s)
{
    if (!s) return;
    cudaSetDevice(s->dev);
    if (s->pulses) drive_free(s);
    dfree(s->d_st);
    dfree(s->d_fc);
    dfree(s->d_vm);
    dfree(s->d_vx);
    dfree(s->d_ep);
    dfree(s->d_ve);
    dfree(s->d_sc);
    delete s->pulses;
    delete s->fc_h;
    free(s->model.p);
    free(s->D);
    free(s->ic_h);
    free(s);
}

extern "C" axm_cuda_mrg *axm_cuda_mrg_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                                             int device, axm_err *err)
{
    if (!m || !m->kind) {
        axm_fail(err, AXM_ERR_INPUT, "cuda mrg: no model");
        return NULL;
    }
    if (strcmp(m->kind->name, "mrg")) {
        axm_fail(err, AXM_ERR_INPUT, "cuda mrg: model '%s': expected the 'mrg' kind", m->kind->name);
        return NULL;
    }
    if (B < 1) {
        axm_fail(err, AXM_ERR_INPUT, "cuda mrg: batch size %d: expected >= 1", B);
        return NULL;
    }
    if (W < 2 || W > AXM_CUDA_MAX_NODES) {
        axm_fail(err, AXM_ERR_INPUT, "cuda mrg: %d nodes per fiber: expected 2..%d", W, AXM_CUDA_MAX_NODES);
        return NULL;
    }
    if (!D_um) {
        axm_fail(err, AXM_ERR_INPUT, "cuda mrg: no diameters");
        return NULL;
    }
    for (int b = 0; b < B; b++)
        if (!(D_um[b] > 0) || !isfinite(D_um[b])) {
            axm_fail(err, AXM_ERR_INPUT, "cuda mrg: diameter of fiber %d is %g um: expected > 0", b, D_um[b]);
            return NULL;
        }
    int dev = axm_cuda_pick_device(device, "cuda mrg", err);
    if (dev < 0) return NULL;
    axm_cuda_mrg *s = (axm_cuda_mrg *)calloc(1, sizeof *s);
    if (!s) {
        axm_fail(err, AXM_ERR_NOMEM, "cuda mrg: out of memory");
        return NULL;
    }
    s->pulses = new std::vector<axm_pulse>();
    s->fc_h = new std::vector<double>((size_t)B * N_K);
    s->dev = dev;
    s->B = B;
    s->W = W;
    s->M = 11 * W - 10;
    cudaDeviceProp prop;
    s->sms = cudaGetDeviceProperties(&prop, dev) == cudaSuccess ? prop.multiProcessorCount : 1;
    s->pe = m->passive_end_nodes != 0;
    s->prec = prec;
    s->model = *m;
    s->model.p = (double *)malloc(sizeof(double) * (m->kind->n_params > 0 ? m->kind->n_params : 1));
    s->D = (double *)malloc(sizeof(double) * B);
    s->ic_h = (double *)malloc(sizeof(double) * (size_t)B * 5 * W);
    s->fresh = 1;
    if (!s->model.p || !s->D || !s->ic_h) {
        axm_fail(err, AXM_ERR_NOMEM, "cuda mrg: out of memory");
        axm_cuda_mrg_destroy(s);
        return NULL;
    }
    memcpy(s->model.p, m->p, sizeof(double) * m->kind->n_params);
    memcpy(s->D, D_um, sizeof(double) * B);
    static const char *const pn[9] = {"gnabar", "gnapbar", "gkbar", "gl", "ena", "ek", "el", "e_pas", "v_init"};
    for (int i = 0; i < 9; i++) {
        int k = axm_model_param_index(m, pn[i]);
        if (k < 0) {
            axm_fail(err, AXM_ERR_INPUT, "cuda mrg: model '%s' has no parameter '%s'", m->kind->name, pn[i]);
            axm_cuda_mrg_destroy(s);
            return NULL;
        }
        if (i < 8)
            s->par[i] = m->p[k];
        else
            s->vinit = m->p[k];
    }
    /* Q10 factors of p m h s, as core/mrg.c q10s */
    s->q[0] = s->q[1] = pow(2.2, (m->temp_c - 20) / 10);
    s->q[2] = pow(2.9, (m->temp_c - 20) / 10);
    s->q[3] = pow(3.0, (m->temp_c - 36) / 10);

    /* the initial node states come from the model kind itself, so CPU and GPU start alike */
    void *ws = m->kind->ws_create(m, B, W, D_um, AXM_FP64, err);
    if (!ws) {
        axm_cuda_mrg_destroy(s);
        return NULL;
    }
    m->kind->init(ws, 0, B, s->ic_h);
    m->kind->ws_destroy(ws);
    for (int b = 0; b < B; b++)
        if (fiber_consts(m, D_um[b], s->fc_h->data() + (size_t)b * N_K, err)) {
            axm_cuda_mrg_destroy(s);
            return NULL;
        }

    const size_t M = (size_t)s->M, NI = (size_t)W - 1;
    s->n_scratch = (int)(s->pe ? 7 * M : 20 * NI + 3 * (size_t)W);
    int rc = AXM_OK;
    if (cudaSetDevice(s->dev) != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaSetDevice(%d) failed", __FILE__, __LINE__, s->dev);
    if (!rc) rc = dalloc(&s->d_st, (size_t)B * 5 * W * psize(prec), "node states", err);
    if (!rc) rc = dalloc((void **)&s->d_fc, (size_t)B * N_K * sizeof(double), "fiber constants", err);
    if (!rc) rc = dalloc((void **)&s->d_vm, (size_t)B * M * sizeof(double), "hidden vm", err);
    if (!rc) rc = dalloc((void **)&s->d_vx, (size_t)B * M * sizeof(double), "hidden vx", err);
    if (!rc) rc = dalloc((void **)&s->d_ep, (size_t)B * M * sizeof(double), "previous ve", err);
    if (!rc) rc = dalloc((void **)&s->d_ve, (size_t)B * M * sizeof(double), "ve", err);
    if (!rc) rc = dalloc((void **)&s->d_sc, (size_t)B * s->n_scratch * sizeof(double), "solver scratch", err);
    if (!rc) rc = reset_state(s, err);
    if (rc) {
        if (rc == AXM_ERR_NOMEM) {
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            axm_fail(err, rc, "cuda mrg: %d fibers of %d nodes need %.3g GB of GPU memory: %s", B, W,
                     (double)B * (((double)M * 4 + s->n_scratch + N_K) * 8 + 5.0 * W * psize(prec)) / 1e9, msg);
        }
        axm_cuda_mrg_destroy(s);
        return NULL;
    }
    return s;
}

/* The initial state: node states from the model kind, hidden vm = v_init, vx = 0 (NEURON initializes
 * vext to 0 whatever e(0) is), previous ve 0; step counter 0. */
static int reset_state(axm_cuda_mrg *s, axm_err *err)
{
    const size_t n = (size_t)s->B * s->M;
    std::vector<double> h(n, s->vinit), z(n, 0.0);
    int rc = h2d(s->d_vm, h.data(), n * sizeof(double), "hidden vm", err);
    if (!rc) rc = h2d(s->d_vx, z.data(), n * sizeof(double), "hidden vx", err);
    if (!rc) rc = h2d(s->d_ep, z.data(), n * sizeof(double), "previous ve", err);
    if (!rc) rc = st_upload(s, s->ic_h, err);
    if (!rc) s->k = 0;
    return rc;
}

extern "C" long axm_cuda_mrg_step_index(const axm_cuda_mrg *s) { return (long)s->k; }

extern "C" void axm_cuda_mrg_set_launch_steps(axm_cuda_mrg *s, long max_steps)
{
    if (s) s->max_launch = max_steps > 0 ? max_steps : 0;
}

extern "C" int axm_cuda_mrg_set_lanes(axm_cuda_mrg *s, int lanes, axm_err *err)
{
    if (!s) return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: lanes: no simulation");
    if (lanes != 0 && lanes != 1 && lanes != 2 && lanes != 4)
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: lanes: expected 0 (automatic), 1, 2 or 4, got %d", lanes);
    s->lanes = lanes;
    return AXM_OK;
}

extern "C" int axm_cuda_mrg_lanes(const axm_cuda_mrg *s) { return s ? mrg_lanes(s->B, s->sms, s->pe, s->lanes) : 1; }

/* Node states (B,5,W) doubles <-> the device's [5][W][B] in the run's precision */
static int st_upload(axm_cuda_mrg *s, const double *x, axm_err *err)
{
    const size_t B = (size_t)s->B, n = (size_t)5 * s->W;
    if (s->prec == AXM_FP64) {
        std::vector<double> t(n * B);
        for (size_t b = 0; b < B; b++)
            for (size_t r = 0; r < n; r++) t[r * B + b] = x[b * n + r];
        return h2d(s->d_st, t.data(), t.size() * sizeof(double), "node states", err);
    }
    std::vector<float> t(n * B);
    for (size_t b = 0; b < B; b++)
        for (size_t r = 0; r < n; r++) t[r * B + b] = (float)x[b * n + r];
    return h2d(s->d_st, t.data(), t.size() * sizeof(float), "node states", err);
}

extern "C" int axm_cuda_mrg_state(const axm_cuda_mrg *s, double *out, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    const size_t B = (size_t)s->B, n = (size_t)5 * s->W;
    int rc;
    if (s->prec == AXM_FP64) {
        std::vector<double> t(n * B);
        if ((rc = d2h(t.data(), s->d_st, t.size() * sizeof(double), "node states", err))) return rc;
        for (size_t b = 0; b < B; b++)
            for (size_t r = 0; r < n; r++) out[b * n + r] = t[r * B + b];
    } else {
        std::vector<float> t(n * B);
        if ((rc = d2h(t.data(), s->d_st, t.size() * sizeof(float), "node states", err))) return rc;
        for (size_t b = 0; b < B; b++)
            for (size_t r = 0; r < n; r++) out[b * n + r] = t[r * B + b];
    }
    return AXM_OK;
}

extern "C" int axm_cuda_mrg_set_state(axm_cuda_mrg *s, const double *state, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    if (s->fresh) {
        /* after a cancelled run: back to the initial hidden state before the node states change */
        int rc = reset_state(s, err);
        if (rc) return rc;
    }
    int rc = st_upload(s, state, err);
    if (rc == AXM_OK) s->fresh = 0;
    return rc;
}

extern "C" int axm_cuda_mrg_hidden(const axm_cuda_mrg *s, double *vm, double *vx, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    const size_t B = (size_t)s->B, M = (size_t)s->M;
    std::vector<double> t(B * M);
    for (int q = 0; q < 2; q++) {
        double *out = q ? vx : vm;
        if (!out) continue;
        int rc = d2h(t.data(), q ? s->d_vx : s->d_vm, t.size() * sizeof(double), "hidden state", err);
        if (rc) return rc;
        for (size_t b = 0; b < B; b++)
            for (size_t c = 0; c < M; c++) out[b * M + c] = t[c * B + b];
    }
    return AXM_OK;
}

extern "C" int axm_cuda_mrg_set_drive(axm_cuda_mrg *s, const axm_drive *d, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    drive_free(s);
    if (!d) return AXM_OK;
    const int B = s->B, W = s->W, M = s->M, C = d->n_contacts;
    if (d->ve_nodes)
        return axm_fail(err, AXM_ERR_INPUT,
                        "cuda mrg: drive: ve_nodes: MRG applies ve at %d compartments, not only at the %d nodes; use a "
                        "separable drive", M, W);
    if (C < 0 || C > AXM_MRG_MAX_CONTACTS)
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: n_contacts = %d: expected 0..%d", C, AXM_MRG_MAX_CONTACTS);
    if (d->n_pulses < 0 || (d->n_pulses > 0 && !d->pulses))
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: n_pulses: expected >= 0 pulses");
    for (int i = 0; i < d->n_pulses; i++) {
        const axm_pulse *p = &d->pulses[i];
        int node = p->node < 0 ? W + p->node : p->node;
        if (p->fiber < -1 || p->fiber >= B)
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: pulse %d: fiber: expected -1..%d (got %d)", i, B - 1,
                            p->fiber);
        if (node < 0 || node >= W)
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: pulse %d: node: expected %d..%d (got %d)", i, -W,
                            W - 1, p->node);
        if (!isfinite(p->delay_ms) || !(p->dur_ms >= 0) || !isfinite(p->dur_ms) || !isfinite(p->amp_mA))
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: pulse %d: expected finite delay, dur >= 0 and amp", i);
        s->pulses->push_back(*p);
    }
    if (C == 0) return AXM_OK;
    if (!d->sources || !d->wave_of) {
        drive_free(s);
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: %d contacts need sources and wave_of", C);
    }
    if (d->n_waves < 0 || (d->n_waves > 0 && !d->waves) || d->wave_len < 0) {
        drive_free(s);
        return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: waves: expected n_waves >= 0 arrays of wave_len >= 0 samples");
    }
    for (long i = 0; i < (long)B * C; i++)
        if (d->wave_of[i] < -1 || d->wave_of[i] >= d->n_waves) {
            drive_free(s);
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: wave_of[%ld] (fiber %ld, contact %ld): expected -1..%d (got %d)",
                            i, i / C, i % C, d->n_waves - 1, d->wave_of[i]);
        }
    for (int i = 0; i < d->n_waves; i++)
        if (!d->waves[i] && d->wave_len > 0) {
            drive_free(s);
            return axm_fail(err, AXM_ERR_INPUT, "cuda mrg: drive: waves[%d]: missing samples", i);
        }
    /* phi at the compartments, as the CPU engine evaluates it; device layout [C][M][B] */
    const axm_model *m = &s->model;
    std::vector<double> y(M), ph(M), phi((size_t)C * M * B);
    int rc = AXM_OK;
    for (int b = 0; b < B && !rc; b++) {
        rc = m->kind->positions(m, s->D[b], W, y.data(), err);
        for (int c = 0; rc == AXM_OK && c < C; c++) {
            rc = axm_source_eval(&d->sources[(size_t)b * C + c], y.data(), M, ph.data(), err);
            if (rc != AXM_OK) {
                char msg[sizeof err->msg];
                memcpy(msg, err->msg, sizeof msg);
                axm_fail(err, rc, "cuda mrg: drive: fiber %d, contact %d: %s", b, c, msg);
                break;
            }
            for (int j = 0; j < M; j++) phi[((size_t)c * M + j) * B + b] = ph[j];
        }
    }
    if (rc) {
        drive_free(s);
        return rc;
    }
    size_t nw = (size_t)d->n_waves * (size_t)d->wave_len;
    std::vector<double> wv(nw);
    for (int i = 0; i < d->n_waves; i++)
        if (d->wave_len > 0) memcpy(&wv[(size_t)i * d->wave_len], d->waves[i], sizeof(double) * d->wave_len);
    if (!rc) rc = dalloc((void **)&s->d_phi, phi.size() * sizeof(double), "phi", err);
    if (!rc) rc = h2d(s->d_phi, phi.data(), phi.size() * sizeof(double), "phi", err);
    if (!rc) rc = dalloc((void **)&s->d_waves, (nw ? nw : 1) * sizeof(double), "waveforms", err);
    if (!rc) rc = h2d(s->d_waves, wv.data(), nw * sizeof(double), "waveforms", err);
    if (!rc) rc = dalloc((void **)&s->d_wave_of, sizeof(int) * (size_t)B * C, "wave_of", err);
    if (!rc) rc = h2d(s->d_wave_of, d->wave_of, sizeof(int) * (size_t)B * C, "wave_of", err);
    if (rc) {
        drive_free(s);
        return rc;
    }
    s->C = C;
    s->wlen = d->wave_len;
    return AXM_OK;
}

/* mrg_kernel (TH: mrg_th_kernel) with L lanes per fiber (PE: passive end nodes) */
template <typename T, int L, bool TH, bool PE = false> static cudaError_t launch_l(const MArgs<T> &a, int sms)
{
    const int n = a.B * L, blk = mrg_block(n, sms); /* blk a multiple of 32: a fiber's lanes in one warp */
    dim3 grid((unsigned)((n + blk - 1) / blk)), block((unsigned)blk);
#ifdef AXM_CUDA_EMU /* tests/gpu/emu.sh: the same kernel on CPU threads */
    axmemu::launch(grid, block, [&] {
        if (TH) mrg_th_kernel<T, L, PE>(a);
        else mrg_kernel<T, L, PE>(a);
    });
#else
    if (TH) mrg_th_kernel<T, L, PE><<<grid, block>>>(a);
    else mrg_kernel<T, L, PE><<<grid, block>>>(a);
#endif
    return cudaGetLastError();
}

/* a run chunk (TH: a threshold round's) with the sim's lanes per fiber (mrg_lanes) */
template <typename T, bool TH = false> static cudaError_t launch(const MArgs<T> &a, const axm_cuda_mrg *s)
{
    if (a.pe) return launch_l<T, 1, TH, true>(a, s->sms);
    const int L = mrg_lanes(a.B, s->sms, s->pe, s->lanes);
    return L == 4   ? launch_l<T, 4, TH>(a, s->sms)
           : L == 2 ? launch_l<T, 2, TH>(a, s->sms)
                    : launch_l<T, 1, TH>(a, s->sms);
}

/* The kernel arguments every launch shares: shapes, model, device buffers, drive. */
template <typename T> static void base_args(const axm_cuda_mrg *s, MArgs<T> &a, double dt)
{
    memset(&a, 0, sizeof a);
    a.B = s->B;
    a.W = s->W;
    a.M = s->M;
    a.pe = s->pe;
    a.C = s->C;
    a.wlen = s->wlen;
    a.gna = s->par[0];
    a.gnap = s->par[1];
    a.gk = s->par[2];
    a.gl = s->par[3];
    a.ena = s->par[4];
    a.ek = s->par[5];
    a.el = s->par[6];
    a.epas = s->par[7];
    for (int i = 0; i < 4; i++) a.q[i] = s->q[i];
    a.fc = s->d_fc;
    a.st = (T *)s->d_st;
    a.vm = s->d_vm;
    a.vx = s->d_vx;
    a.ep = s->d_ep;
    a.ve = s->d_ve;
    a.sc = s->d_sc;
    a.phi = s->d_phi;
    a.waves = s->d_waves;
    a.wave_of = s->d_wave_of;
    a.pulses = s->d_pulses;
    a.n_pulses = (int)s->pulses->size();
    a.dt = dt;
}

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

/* The dt-dependent device data: the condensed path's internode factors and the pulse edges in steps. */
static int prepare(axm_cuda_mrg *s, double dt, axm_err *err)
{
    int rc = AXM_OK;
    if (!s->pe && s->fact_dt != dt) {
        /* the condensed path's internode factors, once per dt; device layout [N_K][B] */
        std::vector<double> t((size_t)s->B * N_K);
        for (int b = 0; b < s->B; b++) {
            double *f = s->fc_h->data() + (size_t)b * N_K;
            axm_mrg_internode_factor(f + K_C, f + K_GPAS, f + K_CMY, f + K_GMY, f + K_GI, f + K_GX, dt, f + K_S,
                                     f + K_Z1, f + K_Z2);
            for (int r = 0; r < N_K; r++) t[(size_t)r * s->B + b] = f[r];
        }
        if ((rc = h2d(s->d_fc, t.data(), t.size() * sizeof(double), "fiber constants", err))) return rc;
        s->fact_dt = dt;
    } else if (s->pe && s->fact_dt == 0) {
        std::vector<double> t((size_t)s->B * N_K, 0.0);
        for (int b = 0; b < s->B; b++)
            for (int r = 0; r < K_S; r++) t[(size_t)r * s->B + b] = (*s->fc_h)[(size_t)b * N_K + r];
        if ((rc = h2d(s->d_fc, t.data(), t.size() * sizeof(double), "fiber constants", err))) return rc;
        s->fact_dt = -1; /* uploaded; no dt dependence */
    }
    if (!s->pulses->empty() && s->pulses_dt != dt) {
        /* pulse edges in steps, as core/sim.c for mid-step kinds (on for delay <= t_k + dt/2 < delay + dur) */
        dfree(s->d_pulses);
        s->d_pulses = NULL;
        std::vector<MPulse> dp(s->pulses->size());
        const double off = 0.5, eps = 1e-6;
        for (size_t i = 0; i < dp.size(); i++) {
            const axm_pulse *p = &(*s->pulses)[i];
            dp[i].fiber = p->fiber;
            dp[i].node = p->node < 0 ? s->W + p->node : p->node;
            dp[i].amp = p->amp_mA;
            double a = ceil(p->delay_ms / dt - off - eps);
            double b = ceil((p->delay_ms + p->dur_ms) / dt - off - eps);
            dp[i].k_on = a < -1e18 ? -(1ll << 62) : (a > 1e18 ? (1ll << 62) : (long long)a);
            dp[i].k_off = b < -1e18 ? -(1ll << 62) : (b > 1e18 ? (1ll << 62) : (long long)b);
        }
        if ((rc = dalloc((void **)&s->d_pulses, sizeof(MPulse) * dp.size(), "pulses", err))) return rc;
        if ((rc = h2d(s->d_pulses, dp.data(), sizeof(MPulse) * dp.size(), "pulses", err))) return rc;
        s->pulses_dt = dt;
    }
    return AXM_OK;
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

/* ---- threshold search ------------------------------------------------------------------------ */


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
