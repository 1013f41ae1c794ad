/* Host side of the CUDA S-MF backend: the GPU simulator (mirrors axm_sim), fused monitors and the
 * threshold search. Kernels in smf_kernel.cuh. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "cuda_util.h"
extern "C" {
#include "smf.h"
}
#include "smf_kernel.cuh"
#include "smf_packed.cuh"

using namespace axmcu;

namespace {

enum { MON_ACTIVE = 1, MON_APCOUNT = 2, MON_RASTER = 3, MON_RECORDER = 4 };

/* Node-steps per launch: long enough that launch overhead vanishes, short enough that cancel and
 * progress are polled a few times a second even at full occupancy. */
const double NODE_STEPS_PER_LAUNCH = 2e9;

/* Uploads doubles as the run's precision. */
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


int pidx(const axm_model *m, const char *name)
{
    for (int i = 0; i < m->kind->n_params; i++)
        if (!strcmp(m->kind->params[i].name, name)) return i;
    return -1;
}

/* The S-MF constants in double, in kernel form. */
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

template <typename T> SmfC<T> cast_consts(const SmfC<double> &d)
{
    SmfC<T> c;
    const double *src = &d.amA;
    T *dst = &c.amA;
    /* the leading members are all doubles / Ts up to wve; copy them one by one */
    int n = (int)(offsetof(SmfC<double>, taps) / sizeof(double));
    for (int i = 0; i < n; i++) dst[i] = (T)src[i];
    /* the exponent factors in ex's unit: the same member index in both (see above) */
#define AXM_EXPF(x) (offsetof(SmfC<double>, x) / sizeof(double))
    static const size_t ex_factors[] = {
        AXM_EXPF(amCi), AXM_EXPF(bmCi),  AXM_EXPF(ahCi), AXM_EXPF(bhCi), AXM_EXPF(ampCi),
        AXM_EXPF(bmpCi), AXM_EXPF(asCi), AXM_EXPF(bsCi), AXM_EXPF(dtqm), AXM_EXPF(dtqp),
        AXM_EXPF(dtqh), AXM_EXPF(dtqs),  AXM_EXPF(amAq), AXM_EXPF(bmAq), AXM_EXPF(ahAq),
        AXM_EXPF(bhAq), AXM_EXPF(ampAq), AXM_EXPF(bmpAq), AXM_EXPF(asAq), AXM_EXPF(bsAq)};
#undef AXM_EXPF
    for (size_t i = 0; i < sizeof ex_factors / sizeof ex_factors[0]; i++)
        dst[ex_factors[i]] = (T)(src[ex_factors[i]] * Num<T>::ELOG);
    c.taps = d.taps;
    c.hw = d.hw;
    c.handle_nan = d.handle_nan;
    return c;
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

/* First absolute step k whose state time (k+1) dt is inside the detection window (the CPU
 * monitors' predicate, t >= t_start - 1e-9 dt, evaluated on the same doubles). */
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

/* A pulse edge in steps, as core/sim.c: the tolerance keeps k dt == t on the grid despite rounding. */
long long pulse_edge(double t_ms, double dt)
{
    double a = ceil(t_ms / dt - 1e-6);
    return a < -1e18 ? -(1ll << 62) : a > 1e18 ? (1ll << 62) : (long long)a;
}

int npl_for(int W)
{
    int npl = 1;
    while (32 * npl < W) npl *= 2;
    return npl;
}

} // namespace

struct axm_cuda_sim {
    int dev, B, W;
    axm_prec prec;
    axm_model model;               /* shallow copy with its own p */
    double *D;
    double *ic_h;                  /* (B,5,W) */
    double *fib_h;                 /* [NFIB][B] */
    void *d_state, *d_ic, *d_fib, *d_amp;
    unsigned char *d_decided;
    int *d_first_bad;              /* final_state_check's result */
    int has_amp;
    /* drive */
    int mode, C;
    void *d_phis, *d_waves, *d_ve;
    int *d_wave_of;
    long long wlen, ve_len;
    axm_pulse *pulses;
    int n_pulses;
    DPulse *d_pulses;
    int n_dpulses;
    double pulses_dt;              /* dt the device pulses were resolved for */
    long long k;                   /* absolute steps since the last reinit */
    int fresh;                     /* no run yet: state is the initial condition */
    int pack;                      /* AXM_PACK_*: axm_cuda_sim_set_packing */
    int sms;                       /* the device's multiprocessors */
    int packed_last;               /* fibers per block of the last run's packed kernel, 0: none */
    const char *kernel_last;       /* axm_cuda_sim_kernel_last */
    int warp_res[2];               /* warp_resident for this sim's precision and length, K_LITE and
                                      K_BARE; -1: not yet */
};

struct axm_cuda_mon {
    int type;
    axm_detect d;
    int mark, all_nodes;
    unsigned mask;
    int rnodes[AXM_CUDA_MAX_NODES];
    int rn, every, max_only;
    /* bound to a sim's shape at the first run after creation or reset ("fresh") */
    int fresh, B, W, n;
    axm_prec prec;
    unsigned char *d_below, *d_seen, *d_active;
    int *d_count;
    double *d_first;
    void *d_mx;
    int *d_rnodes, *d_rec_of_node;
    /* host results */
    unsigned char *h_active;
    int *h_count;
    double *h_first, *h_max;
    std::vector<axm_spike> *spikes;
    std::vector<double> *rec_data, *rec_times;
    long long last_fj;   /* absolute step index of the last recorded frame */
    int ns_rec, nn_rec;
    long frames;
};

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

/* Pulses as absolute step ranges for this dt (on for delay <= t_k < delay + dur). */
static int resolve_pulses(axm_cuda_sim *s, double dt, axm_err *err)
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

/* ---- monitors ------------------------------------------------------------------------------- */

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

static int check_detect(const axm_detect *d, axm_err *err)
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
static int mon_bind(axm_cuda_mon *m, const axm_cuda_sim *s, axm_err *err)
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

static int fill_det(DetDev *dd, const axm_cuda_mon *m, int W, double dt, int arm, axm_err *err)
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

static bool spike_less(const axm_spike &x, const axm_spike &y)
{
    if (x.t_ms != y.t_ms) return x.t_ms < y.t_ms;
    if (x.fiber != y.fiber) return x.fiber < y.fiber;
    return x.node < y.node;
}

/* ---- runs ----------------------------------------------------------------------------------- */

template <typename T, int MODE> static cudaError_t launch_m(const KArgs<T> &a, int npl, int n_warps)
{
    dim3 grid((unsigned)((n_warps + WPB - 1) / WPB)), block(WPB * 32);
#ifdef AXM_CUDA_EMU /* tests/gpu/emu.sh: the same kernels on CPU threads */
    switch (npl) {
    case 1: axmemu::launch(grid, block, [&] { smf_kernel<T, 1, MODE>(a); }); break;
    case 2: axmemu::launch(grid, block, [&] { smf_kernel<T, 2, MODE>(a); }); break;
    case 4: axmemu::launch(grid, block, [&] { smf_kernel<T, 4, MODE>(a); }); break;
    default: axmemu::launch(grid, block, [&] { smf_kernel<T, 8, MODE>(a); }); break;
    }
#else
    switch (npl) {
    case 1: smf_kernel<T, 1, MODE><<<grid, block>>>(a); break;
    case 2: smf_kernel<T, 2, MODE><<<grid, block>>>(a); break;
    case 4: smf_kernel<T, 4, MODE><<<grid, block>>>(a); break;
    default: smf_kernel<T, 8, MODE><<<grid, block>>>(a); break;
    }
#endif
    return cudaGetLastError();
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
    if (mode == K_TH) return launch_m<T, K_TH>(a, npl, n_warps);
    if (mode == K_FULL) return launch_m<T, K_FULL>(a, npl, n_warps);
    if (mode == K_BARE) return launch_m<T, K_BARE>(a, npl, n_warps);
    return launch_m<T, K_LITE>(a, npl, n_warps);
}

template <typename T> static void base_args(KArgs<T> *a, const axm_cuda_sim *s, const SmfC<double> &cd)
{
    memset(a, 0, sizeof *a);
    a->c = cast_consts<T>(cd);
    a->B = s->B;
    a->W = s->W;
    a->state = (T *)s->d_state;
    a->ic = (const T *)s->d_ic;
    a->fib = (const T *)s->d_fib;
    a->mode = s->mode;
    a->C = s->C;
    a->phis = (const T *)s->d_phis;
    a->waves = (const T *)s->d_waves;
    a->ve = (const T *)s->d_ve;
    a->wlen = s->wlen;
    a->ve_len = s->ve_len;
    a->wave_of = s->d_wave_of;
    a->amp = s->has_amp ? (const T *)s->d_amp : NULL;
    a->n_pulses = s->n_dpulses;
    a->pulses = s->d_pulses;
    a->decided = s->d_decided;
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
        pg = pack_geom<T>(W, s->C, nck, npl, any ? 0.0 : pack_min_gain<T>(npl));
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

/* ---- monitor results ------------------------------------------------------------------------ */

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

/* ---- threshold search ----------------------------------------------------------------------- */

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
        if (e == cudaSuccess) e = launch_t<T>(a, K_TH, npl, n_list);
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

/* ---- op-level check of the gate rates (tests) ------------------------------------------------ */

/* Grid-stride: a few blocks cover any n (and keep the emulator's thread count small). */
template <typename T> __global__ void gate_rates_kernel(const SmfC<T> c, const T *v, int n, T *fast, int *ok, T *div)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        GateRates<T> R;
        ok[i] = gate_rates_rcp1(c, v[i], R);
        const T f[8] = {R.sm, R.im, R.sh, R.ih, R.sp, R.ip, R.ss, R.is};
        gate_rates_div(c, v[i], R);
        const T d[8] = {R.sm, R.im, R.sh, R.ih, R.sp, R.ip, R.ss, R.is};
        for (int q = 0; q < 8; q++) {
            fast[(size_t)i * 8 + q] = f[q];
            div[(size_t)i * 8 + q] = d[q];
        }
    }
}

template <typename T>
static int gate_rates_t(const axm_model *m, const double *v, int n, double *fast, int *ok, double *div, axm_err *err)
{
    SmfC<double> cd;
    int rc = smf_consts(m, 1.0, &cd, err);
    if (rc) return rc;
    const SmfC<T> c = cast_consts<T>(cd);
    const axm_prec prec = sizeof(T) == 8 ? AXM_FP64 : AXM_FP32;
    void *dv = NULL, *df = NULL, *dd = NULL, *dok = NULL;
    if (!(rc = dalloc(&dv, (size_t)n * sizeof(T), "gate test vm", err)) &&
        !(rc = dalloc(&df, (size_t)n * 8 * sizeof(T), "gate test rates", err)) &&
        !(rc = dalloc(&dd, (size_t)n * 8 * sizeof(T), "gate test rates", err)) &&
        !(rc = dalloc(&dok, (size_t)n * sizeof(int), "gate test flags", err)) && !(rc = upload(dv, v, (size_t)n, prec, err))) {
        dim3 grid(8), block(128);
#ifdef AXM_CUDA_EMU
        axmemu::launch(grid, block, [&] { gate_rates_kernel<T>(c, (const T *)dv, n, (T *)df, (int *)dok, (T *)dd); });
#else
        gate_rates_kernel<T><<<grid, block>>>(c, (const T *)dv, n, (T *)df, (int *)dok, (T *)dd);
#endif
        cudaError_t e = cudaGetLastError();
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess)
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: gate_rates_kernel: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        if (!rc) rc = download(fast, df, (size_t)n * 8, prec, err);
        if (!rc) rc = download(div, dd, (size_t)n * 8, prec, err);
        if (!rc) rc = d2h(ok, dok, (size_t)n * sizeof(int), "gate test flags", err);
    }
    dfree(dv);
    dfree(df);
    dfree(dd);
    dfree(dok);
    return rc;
}

extern "C" int axm_cuda_smf_gate_rates(const axm_model *m, axm_prec prec, const double *v, int n, double *fast,
                                       int *ok, double *div, axm_err *err)
{
    if (!m || !v || n < 1 || !fast || !ok || !div) return axm_fail(err, AXM_ERR_INPUT, "cuda: gate rates: no input");
    int dev = axm_cuda_pick_device(-1, "cuda", err);
    if (dev < 0) return AXM_ERR_RUNTIME;
    AXM_CK(cudaSetDevice(dev));
    return prec == AXM_FP64 ? gate_rates_t<double>(m, v, n, fast, ok, div, err)
                            : gate_rates_t<float>(m, v, n, fast, ok, div, err);
}
