/* Host side of the CUDA S-MF backend: the GPU simulator (mirrors axm_sim), its state and its drive.
 * Monitors in smf_monitor.cu, runs in smf_run.cu, the threshold search in smf_thresh.cu. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "smf_host.h"

using namespace axmcu;

namespace {

int pidx(const axm_model *m, const char *name)
{
    for (int i = 0; i < m->kind->n_params; i++)
        if (!strcmp(m->kind->params[i].name, name)) return i;
    return -1;
}

/* Lumped per-fiber quantities (smf-model.md §2.2) as the CPU step uses them: 1/Cn, 1/ra, gNa, gNaP,
 * gK, gL and the ve gain (NFIB rows of B); in fp32 the reciprocals are taken of the float-rounded Cn and ra, as core/smf.c does. */
int smf_fiber(const axm_model *m, const double *D, int B, axm_prec prec, double *fib, axm_err *err)
{
    for (int b = 0; b < B; b++) {
        axm_smf_lumped l;
        int rc = axm_smf_lumped_eval(m, D[b], &l, err);
        if (rc != AXM_OK) return rc;
        int f32 = prec == AXM_FP32;
        fib[0 * B + b] = f32 ? 1 / (double)(float)l.cn_mF : 1 / l.cn_mF;
        fib[1 * B + b] = f32 ? 1 / (double)(float)l.ra_ohm : 1 / l.ra_ohm;
        fib[2 * B + b] = l.gna_S;
        fib[3 * B + b] = l.gnap_S;
        fib[4 * B + b] = l.gk_S;
        fib[5 * B + b] = l.gl_S;
        fib[6 * B + b] = l.ve_gain;
    }
    return AXM_OK;
}

/* A pulse edge in steps, as core/sim.c: the tolerance keeps k dt == t on the grid despite rounding. */
long long pulse_edge(double t_ms, double dt)
{
    double a = ceil(t_ms / dt - 1e-6);
    return a < -1e18 ? -(1ll << 62) : a > 1e18 ? (1ll << 62) : (long long)a;
}

} // namespace

namespace axmcu { /* the helpers smf_host.h declares (and documents) */

int upload(void *dst, const double *src, size_t n, axm_prec prec, axm_err *err)
{
    if (n == 0) return AXM_OK;
    if (prec == AXM_FP64) {
        AXM_CK(cudaMemcpy(dst, src, n * sizeof(double), cudaMemcpyHostToDevice));
        return AXM_OK;
    }
    std::vector<float> f(n);
    for (size_t i = 0; i < n; i++) f[i] = (float)src[i];
    AXM_CK(cudaMemcpy(dst, f.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    return AXM_OK;
}

int download(double *dst, const void *src, size_t n, axm_prec prec, axm_err *err)
{
    if (n == 0) return AXM_OK;
    if (prec == AXM_FP64) {
        AXM_CK(cudaMemcpy(dst, src, n * sizeof(double), cudaMemcpyDeviceToHost));
        return AXM_OK;
    }
    std::vector<float> f(n);
    AXM_CK(cudaMemcpy(f.data(), src, n * sizeof(float), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) dst[i] = f[i];
    return AXM_OK;
}

int smf_consts(const axm_model *m, double dt, SmfC<double> *c, axm_err *err)
{
    static const char *const names[] = {
        "amA", "amB", "amC", "bmA", "bmB", "bmC", "ahA", "ahB", "ahC", "bhA", "bhB", "bhC",
        "ampA", "ampB", "ampC", "bmpA", "bmpB", "bmpC", "asA", "asB", "asC", "bsA", "bsB", "bsC",
        "vtraub", "ena", "ek", "el"};
    enum { N = sizeof names / sizeof names[0] };
    double v[N];
    for (int i = 0; i < N; i++) {
        int k = pidx(m, names[i]);
        if (k < 0)
            return axm_fail(err, AXM_ERR_INPUT, "cuda: model '%s' has no parameter '%s' (S-MF expected)",
                            m->kind->name, names[i]);
        v[i] = m->p[k];
    }
    memset(c, 0, sizeof *c);
    c->amA = v[0]; c->amB = v[1]; c->amCi = 1 / v[2];
    c->bmA = v[3]; c->bmB = v[4]; c->bmCi = 1 / v[5];
    c->ahA = v[6]; c->ahB = v[7]; c->ahCi = 1 / v[8];
    c->bhA = v[9]; c->bhB = v[10]; c->bhCi = 1 / v[11];
    c->ampA = v[12]; c->ampB = v[13]; c->ampCi = 1 / v[14];
    c->bmpA = v[15]; c->bmpB = v[16]; c->bmpCi = 1 / v[17];
    c->asA = v[18]; c->asBv = v[19] - v[24]; c->asCi = 1 / v[20];
    c->bsA = v[21]; c->bsBv = v[22] - v[24]; c->bsCi = 1 / v[23];
    c->ena = v[25]; c->ek = v[26]; c->el = v[27];
    c->lim_am = v[0] * v[2]; c->lim_bm = v[3] * v[5]; c->lim_ah = v[6] * v[8];
    c->lim_ap = v[12] * v[14]; c->lim_bp = v[15] * v[17];
    c->bsA_sc = ldexp(v[21], -SGATE_SCALE);
    double q[4]; /* m, p, h, s */
    axm_smf_q10(m, q);
    c->dtqm = dt * q[0]; c->dtqp = dt * q[1]; c->dtqh = dt * q[2]; c->dtqs = dt * q[3];
    c->amAq = c->amA * c->dtqm; c->bmAq = c->bmA * c->dtqm; c->ahAq = c->ahA * c->dtqh; c->bhAq = c->bhA * c->dtqh;
    c->ampAq = c->ampA * c->dtqp; c->bmpAq = c->bmpA * c->dtqp; c->asAq = c->asA * c->dtqs;
    c->bsAq = c->bsA_sc * c->dtqs;
    c->bhBC = c->bhB * c->bhCi; c->asBC = c->asBv * c->asCi; c->bsBC = c->bsBv * c->bsCi;
    c->dt = dt;
    c->taps = m->taps;
    c->hw = m->taps / 2;
    double w[2][AXM_MAX_TAPS];
    axm_model_stencil_sym(m, w);
    for (int j = 0; j < AXM_MAX_TAPS; j++) {
        c->wvm[j] = j < m->taps ? w[0][j] : 0;
        c->wve[j] = j < m->taps ? w[1][j] : 0;
    }
    c->handle_nan = m->handle_nan;
    return AXM_OK;
}

long long first_checked_step(double t_start, double dt)
{
    double lim = t_start - 1e-9 * dt;
    if ((double)1 * dt >= lim) return 0;
    long long k = (long long)floor(lim / dt) - 3;
    if (k < 0) k = 0;
    while (!((double)(k + 1) * dt >= lim)) k++;
    while (k > 0 && (double)k * dt >= lim) k--;
    return k;
}

int npl_for(int W)
{
    int npl = 1;
    while (32 * npl < W) npl *= 2;
    return npl;
}

int resolve_pulses(axm_cuda_sim *s, double dt, axm_err *err)
{
    if (s->n_pulses == 0 || (s->d_pulses && s->pulses_dt == dt)) return AXM_OK;
    dfree(s->d_pulses);
    s->d_pulses = NULL;
    std::vector<DPulse> dp(s->n_pulses);
    for (int i = 0; i < s->n_pulses; i++) {
        const axm_pulse *p = &s->pulses[i];
        dp[i].fiber = p->fiber;
        dp[i].node = p->node < 0 ? s->W + p->node : p->node;
        dp[i].k_on = pulse_edge(p->delay_ms, dt);
        dp[i].k_off = pulse_edge(p->delay_ms + p->dur_ms, dt);
        dp[i].amp = p->amp_mA;
    }
    int rc = dalloc((void **)&s->d_pulses, sizeof(DPulse) * dp.size(), "pulses", err);
    if (rc != AXM_OK) return rc;
    AXM_CK(cudaMemcpy(s->d_pulses, dp.data(), sizeof(DPulse) * dp.size(), cudaMemcpyHostToDevice));
    s->pulses_dt = dt;
    s->n_dpulses = s->n_pulses;
    return AXM_OK;
}

} // namespace axmcu

static void drive_free(axm_cuda_sim *s)
{
    dfree(s->d_phis); dfree(s->d_waves); dfree(s->d_ve); dfree(s->d_wave_of); dfree(s->d_pulses);
    s->d_phis = s->d_waves = s->d_ve = NULL;
    s->d_wave_of = NULL;
    s->d_pulses = NULL;
    free(s->pulses);
    s->pulses = NULL;
    s->n_pulses = s->n_dpulses = 0;
    s->mode = 0;
    s->C = 0;
}

extern "C" void axm_cuda_sim_destroy(axm_cuda_sim *s)
{
    if (!s) return;
    cudaSetDevice(s->dev);
    drive_free(s);
    dfree(s->d_state); dfree(s->d_ic); dfree(s->d_fib); dfree(s->d_amp); dfree(s->d_decided);
    dfree(s->d_first_bad);
    free(s->model.p);
    free(s->D);
    free(s->ic_h);
    free(s->fib_h);
    free(s);
}

extern "C" axm_cuda_sim *axm_cuda_sim_create(const axm_model *m, int B, int W, const double *D_um,
                                             axm_prec prec, int device, axm_err *err)
{
    if (!m || !m->kind) { axm_fail(err, AXM_ERR_INPUT, "cuda: no model"); return NULL; }
    if (strcmp(m->kind->name, "smf") || m->kind->n_states != 5 || !m->kind->has_stencil) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: model '%s' does not run on the GPU (only 'smf')", m->kind->name);
        return NULL;
    }
    if (B < 1) { axm_fail(err, AXM_ERR_INPUT, "cuda: batch size %d: expected >= 1", B); return NULL; }
    if (W < 2 || W > AXM_CUDA_MAX_NODES) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: %d nodes per fiber: expected 2..%d", W, AXM_CUDA_MAX_NODES);
        return NULL;
    }
    if (m->taps < 1 || m->taps > AXM_MAX_TAPS || m->taps % 2 == 0 || W <= m->taps / 2) {
        axm_fail(err, AXM_ERR_INPUT, "cuda: stencil of %d taps on %d nodes: expected odd taps <= %d and nodes > taps/2",
                 m->taps, W, AXM_MAX_TAPS);
        return NULL;
    }
    for (int b = 0; b < B; b++)
        if (!(D_um[b] > 0)) {
            axm_fail(err, AXM_ERR_INPUT, "cuda: diameter of fiber %d is %g um: expected > 0", b, D_um[b]);
            return NULL;
        }
    int dev = axm_cuda_pick_device(device, "cuda", err);
    if (dev < 0) return NULL;
    axm_cuda_sim *s = (axm_cuda_sim *)calloc(1, sizeof *s);
    if (!s) { axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory"); return NULL; }
    s->dev = dev;
    s->B = B;
    s->W = W;
    s->prec = prec;
    s->pack = AXM_PACK_AUTO;
    s->warp_res[0] = s->warp_res[1] = -1;
    s->kernel_last = "none";
    cudaDeviceProp prop;
    s->sms = cudaGetDeviceProperties(&prop, dev) == cudaSuccess ? prop.multiProcessorCount : 1;
    s->model = *m;
    s->model.p = (double *)malloc(sizeof(double) * (m->kind->n_params > 0 ? m->kind->n_params : 1));
    s->D = (double *)malloc(sizeof(double) * B);
    s->ic_h = (double *)malloc(sizeof(double) * (size_t)B * 5 * W);
    s->fib_h = (double *)malloc(sizeof(double) * NFIB * (size_t)B);
    if (!s->model.p || !s->D || !s->ic_h || !s->fib_h) {
        axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
        axm_cuda_sim_destroy(s);
        return NULL;
    }
    memcpy(s->model.p, m->p, sizeof(double) * m->kind->n_params);
    memcpy(s->D, D_um, sizeof(double) * B);
    s->fresh = 1;

    /* the initial condition comes from the model kind itself, so CPU and GPU start alike */
    void *ws = m->kind->ws_create(m, B, W, D_um, AXM_FP64, err);
    if (!ws) { axm_cuda_sim_destroy(s); return NULL; }
    m->kind->init(ws, 0, B, s->ic_h);
    m->kind->ws_destroy(ws);

    int rc = smf_fiber(m, D_um, B, prec, s->fib_h, err);
    size_t ts = psize(prec), nstate = (size_t)B * 5 * W;
    if (rc == AXM_OK && cudaSetDevice(s->dev) != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaSetDevice(%d) failed", __FILE__, __LINE__, s->dev);
    if (rc == AXM_OK) rc = dalloc(&s->d_state, nstate * ts, "state", err);
    if (rc == AXM_OK) rc = dalloc(&s->d_ic, nstate * ts, "initial state", err);
    if (rc == AXM_OK) rc = dalloc(&s->d_fib, NFIB * (size_t)B * ts, "fiber constants", err);
    if (rc == AXM_OK) rc = dalloc(&s->d_amp, (size_t)B * ts, "amplitudes", err);
    if (rc == AXM_OK) rc = dalloc((void **)&s->d_decided, (size_t)B, "decided flags", err);
    if (rc == AXM_OK) rc = dalloc((void **)&s->d_first_bad, sizeof(int), "divergence flag", err);
    if (rc == AXM_OK) rc = upload(s->d_ic, s->ic_h, nstate, prec, err);
    if (rc == AXM_OK) rc = upload(s->d_state, s->ic_h, nstate, prec, err);
    if (rc == AXM_OK) rc = upload(s->d_fib, s->fib_h, NFIB * (size_t)B, prec, err);
    if (rc == AXM_OK && cudaMemset(s->d_decided, 0, B) != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaMemset failed", __FILE__, __LINE__);
    if (rc != AXM_OK) {
        axm_cuda_sim_destroy(s);
        return NULL;
    }
    return s;
}

extern "C" int axm_cuda_sim_batch(const axm_cuda_sim *s) { return s->B; }
extern "C" int axm_cuda_sim_nodes(const axm_cuda_sim *s) { return s->W; }
extern "C" axm_prec axm_cuda_sim_prec(const axm_cuda_sim *s) { return s->prec; }
extern "C" void axm_cuda_sim_set_packing(axm_cuda_sim *s, int mode) { s->pack = mode; }
extern "C" int axm_cuda_sim_packed_last(const axm_cuda_sim *s) { return s->packed_last; }
extern "C" const char *axm_cuda_sim_kernel_last(const axm_cuda_sim *s) { return s->kernel_last; }
extern "C" long axm_cuda_sim_step_index(const axm_cuda_sim *s) { return (long)s->k; }

extern "C" int axm_cuda_sim_state(const axm_cuda_sim *s, double *out, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    return download(out, s->d_state, (size_t)s->B * 5 * s->W, s->prec, err);
}

extern "C" int axm_cuda_sim_set_state(axm_cuda_sim *s, const double *state, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    int rc = upload(s->d_state, state, (size_t)s->B * 5 * s->W, s->prec, err);
    if (rc == AXM_OK) s->fresh = 0;
    return rc;
}

extern "C" int axm_cuda_sim_set_amp(axm_cuda_sim *s, const double *amp, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    if (!amp) {
        s->has_amp = 0;
        return AXM_OK;
    }
    s->has_amp = 1;
    return upload(s->d_amp, amp, (size_t)s->B, s->prec, err);
}

extern "C" int axm_cuda_sim_set_drive(axm_cuda_sim *s, const axm_drive *d, axm_err *err)
{
    AXM_CK(cudaSetDevice(s->dev));
    drive_free(s);
    if (!d) return AXM_OK;
    const int B = s->B, W = s->W;
    const axm_model *m = &s->model;
    int rc = AXM_OK;
    if (d->n_pulses > 0) {
        s->pulses = (axm_pulse *)malloc(sizeof(axm_pulse) * d->n_pulses);
        if (!s->pulses) return axm_fail(err, AXM_ERR_NOMEM, "cuda: out of memory");
        for (int i = 0; i < d->n_pulses; i++) {
            const axm_pulse *p = &d->pulses[i];
            int node = p->node < 0 ? W + p->node : p->node;
            if (node < 0 || node >= W)
                return axm_fail(err, AXM_ERR_INPUT, "cuda: pulse %d: node %d outside a fiber of %d nodes", i,
                                p->node, W);
            if (p->fiber < -1 || p->fiber >= B)
                return axm_fail(err, AXM_ERR_INPUT, "cuda: pulse %d: fiber %d: expected -1..%d", i, p->fiber, B - 1);
            s->pulses[i] = *p;
        }
        s->n_pulses = d->n_pulses;
    }
    if (d->ve_nodes) {
        if (d->ve_len < 0) return axm_fail(err, AXM_ERR_INPUT, "cuda: drive: ve_len: expected >= 0");
        size_t n = (size_t)d->ve_len * B * W;
        rc = dalloc(&s->d_ve, (n ? n : 1) * psize(s->prec), "materialized ve", err);
        if (rc == AXM_OK) rc = upload(s->d_ve, d->ve_nodes, n, s->prec, err);
        if (rc != AXM_OK) {
            drive_free(s);
            return rc;
        }
        s->ve_len = d->ve_len;
        s->mode |= DRIVE_MAT;
    }
    if (d->n_contacts <= 0) return AXM_OK;
    const int C = d->n_contacts;
    if (!d->sources || !d->wave_of || (d->n_waves > 0 && (!d->waves || d->wave_len < 1)))
        return axm_fail(err, AXM_ERR_INPUT, "cuda: drive with %d contacts lacks sources, waves or wave_of", C);
    if (m->kind->n_comp(m, W) != W)
        return axm_fail(err, AXM_ERR_INPUT, "cuda: model '%s' applies ve at %d compartments, expected %d nodes",
                        m->kind->name, m->kind->n_comp(m, W), W);
    for (int i = 0; i < B * C; i++)
        if (d->wave_of[i] < -1 || d->wave_of[i] >= d->n_waves) {
            drive_free(s);
            return axm_fail(err, AXM_ERR_INPUT, "cuda: wave_of[%d] = %d: expected -1..%d", i, d->wave_of[i],
                            d->n_waves - 1);
        }
    /* phi at the nodes, then the ve-channel stencil and the fiber's ve gain applied once (both are
     * linear in ve) */
    SmfC<double> c;
    if ((rc = smf_consts(m, 1.0, &c, err)) != AXM_OK) return rc;
    std::vector<double> y(W), phi(W), phis((size_t)B * C * W);
    for (int b = 0; b < B; b++) {
        if ((rc = m->kind->positions(m, s->D[b], W, y.data(), err)) != AXM_OK) return rc;
        for (int cc = 0; cc < C; cc++) {
            double *out = &phis[((size_t)b * C + cc) * W];
            if (d->wave_of[b * C + cc] < 0) {
                for (int j = 0; j < W; j++) out[j] = 0;
                continue;
            }
            if ((rc = axm_source_eval(&d->sources[b * C + cc], y.data(), W, phi.data(), err)) != AXM_OK)
                return rc;
            for (int j = 0; j < W; j++) {
                double acc = 0;
                for (int t = 0; t < c.taps; t++) {
                    int q = j + t - c.hw;
                    q = q < 0 ? -q : q;
                    q = q >= W ? 2 * (W - 1) - q : q;
                    acc += c.wve[t] * phi[q];
                }
                out[j] = s->fib_h[6 * (size_t)B + b] * acc;
            }
        }
    }
    size_t nw = (size_t)(d->n_waves > 0 ? d->n_waves : 0) * d->wave_len;
    std::vector<double> wv(nw > 0 ? nw : 1);
    for (int i = 0; i < d->n_waves; i++) memcpy(&wv[(size_t)i * d->wave_len], d->waves[i], sizeof(double) * d->wave_len);
    if (rc == AXM_OK) rc = dalloc(&s->d_phis, phis.size() * psize(s->prec), "phi", err);
    if (rc == AXM_OK) rc = upload(s->d_phis, phis.data(), phis.size(), s->prec, err);
    if (rc == AXM_OK) rc = dalloc(&s->d_waves, wv.size() * psize(s->prec), "waveforms", err);
    if (rc == AXM_OK) rc = upload(s->d_waves, wv.data(), nw, s->prec, err);
    if (rc == AXM_OK) rc = dalloc((void **)&s->d_wave_of, sizeof(int) * (size_t)B * C, "wave_of", err);
    if (rc == AXM_OK && cudaMemcpy(s->d_wave_of, d->wave_of, sizeof(int) * (size_t)B * C, cudaMemcpyHostToDevice) != cudaSuccess)
        rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaMemcpy(wave_of) failed", __FILE__, __LINE__);
    if (rc != AXM_OK) {
        drive_free(s);
        return rc;
    }
    s->C = C;
    s->wlen = d->n_waves > 0 ? d->wave_len : 0;
    s->mode |= DRIVE_SEP;
    return AXM_OK;
}

