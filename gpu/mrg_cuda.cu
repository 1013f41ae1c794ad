/* Host side of the MRG forward simulation on the GPU (axm_cuda_mrg_*, axm_cuda.h): per-fiber
 * constants and the internode factorization computed once on the host (as core/mrg.c computes them),
 * phi evaluated on the host at the model's compartments, one GPU thread (or 2 or 4 lanes) per fiber
 * (mrg_kernel.cuh). Runs in mrg_run.cu, the threshold search in mrg_thresh.cu. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "mrg_host.h"

using namespace axmmrg;

namespace {

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

namespace axmmrg {

/* One thread per fiber, so a batch smaller than the card (128-thread blocks on every SM) would
 * leave SMs idle with 128-thread blocks: spread it, down to one warp per block. Each fiber's step
 * streams its own state through the SM's memory pipeline, so an SM with one warp is not idle work. */
int mrg_block(int B, int sms)
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
int mrg_lanes(int B, int sms, int pe, int want)
{
    if (pe) return 1;
    if (want) return want;
    const long per_sm = ((long)B + sms - 1) / (sms > 0 ? sms : 1), fit = (long)AXM_MRG_MINBL * AXM_MRG_BLOCK;
    return 4 * per_sm <= fit ? 4 : 2 * per_sm <= fit ? 2 : 1;
}

} // namespace axmmrg

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
int axmmrg::reset_state(axm_cuda_mrg *s, axm_err *err)
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

/* The dt-dependent device data: the condensed path's internode factors and the pulse edges in steps. */
int axmmrg::prepare(axm_cuda_mrg *s, double dt, axm_err *err)
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
