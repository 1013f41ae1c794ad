/* The S-MF surrogate myelinated fiber (smf-model.md §1-§6). */
#include "smf.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smf_exp.h"
#include "explicit_dt.h"
#include "nodecable.h"

/* The step must vectorize: without no-trapping-math GCC keeps selects whose arms contain
 * divisions as branches (a division might raise an FP exception flag); we never read FP flags, and
 * NaN and inf semantics are unchanged (this is not -ffast-math). The dynamic cost model lets -O2
 * vectorize loops whose trip count is not a multiple of the vector length (the stencil).
 * A block of nodes is one long straight run of dependent exp/divide chains (four gates); GCC on
 * x86 does not schedule before register allocation by default, so the chains stay in source
 * order and the out-of-order window sees mostly one at a time. Scheduling with register
 * pressure in mind interleaves them: ~1.4x node-steps/s (tests/bench/bench_smf). Scheduling does
 * not change results (no reassociation). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "vect-cost-model=dynamic", "schedule-insns", "sched-pressure")
#endif

enum {
    P_gnabar, P_gkbar, P_gnapbar, P_gl,
    P_ena, P_ek, P_el,
    P_cm, P_rhoa,
    P_ampA, P_ampB, P_ampC, P_bmpA, P_bmpB, P_bmpC,
    P_amA, P_amB, P_amC, P_bmA, P_bmB, P_bmC,
    P_ahA, P_ahB, P_ahC, P_bhA, P_bhB, P_bhC,
    P_asA, P_asB, P_asC, P_bsA, P_bsB, P_bsC,
    P_axond1, P_axond2, P_axond3,
    P_noded1, P_noded2, P_noded3,
    P_deltax1, P_deltax2, P_deltax3,
    P_vtraub,
    P_aq10_1, P_pq10_1, P_aq10_2, P_aq10_3,
    P_bq10_1, P_bq10_2, P_bq10_3,
    P_cq10_1, P_cq10_2, P_cq10_3,
    P_pi,
    P_vegain1, P_vegain2, P_vegain3,
    P_cmgain1, P_cmgain2, P_cmgain3,
    P_COUNT
};

/* Trainable = the original's default to_train selection (smf-model.md §9.4); the stencil ("ssd")
 * is trainable too but is not a scalar parameter. pi is float32(pi), as the original's
 * parameter. */
static const axm_param_def smf_params[P_COUNT] = {
    {"gnabar", "conductances", 3.0, "S/cm2", 1},
    {"gkbar", "conductances", 0.08, "S/cm2", 1},
    {"gnapbar", "conductances", 0.01, "S/cm2", 1},
    {"gl", "conductances", 0.007, "S/cm2", 1},
    {"ena", "reversal_potentials", 50.0, "mV", 0},
    {"ek", "reversal_potentials", -90.0, "mV", 0},
    {"el", "reversal_potentials", -90.0, "mV", 0},
    {"cm", "membrane", 10e-3, "mF/cm2", 1},
    {"rhoa", "membrane", 70.0, "ohm cm", 1},
    {"ampA", "rate_constants", 0.01, "1/(ms mV)", 0},
    {"ampB", "rate_constants", 27.0, "mV", 0},
    {"ampC", "rate_constants", 10.2, "mV", 0},
    {"bmpA", "rate_constants", 0.00025, "1/(ms mV)", 0},
    {"bmpB", "rate_constants", 34.0, "mV", 0},
    {"bmpC", "rate_constants", 10.0, "mV", 0},
    {"amA", "rate_constants", 1.86, "1/(ms mV)", 0},
    {"amB", "rate_constants", 21.4, "mV", 0},
    {"amC", "rate_constants", 10.3, "mV", 0},
    {"bmA", "rate_constants", 0.086, "1/(ms mV)", 0},
    {"bmB", "rate_constants", 25.7, "mV", 0},
    {"bmC", "rate_constants", 9.16, "mV", 0},
    {"ahA", "rate_constants", 0.062, "1/(ms mV)", 0},
    {"ahB", "rate_constants", 114.0, "mV", 0},
    {"ahC", "rate_constants", 11.0, "mV", 0},
    {"bhA", "rate_constants", 2.3, "1/ms", 0},
    {"bhB", "rate_constants", 31.8, "mV", 0},
    {"bhC", "rate_constants", 13.4, "mV", 0},
    {"asA", "rate_constants", 0.3, "1/ms", 0},
    {"asB", "rate_constants", -27.0, "mV", 0},
    {"asC", "rate_constants", -5.0, "mV", 0},
    {"bsA", "rate_constants", 0.03, "1/ms", 0},
    {"bsB", "rate_constants", 10.0, "mV", 0},
    {"bsC", "rate_constants", -1.0, "mV", 0},
    {"axond1", "axon_d", 0.0187623, "1/um", 1},
    {"axond2", "axon_d", 0.4787487, "1", 1},
    {"axond3", "axon_d", 0.1203613, "um", 1},
    {"noded1", "node_d", 6.303781e-03, "1/um", 1},
    {"noded2", "node_d", 2.070544e-01, "1", 1},
    {"noded3", "node_d", 5.339006e-01, "um", 1},
    {"deltax1", "delta_x", -8.215284, "1/um", 0},
    {"deltax2", "delta_x", 272.4201, "1", 0},
    {"deltax3", "delta_x", -780.2411, "um", 0},
    {"vtraub", "other", -80.0, "mV", 0},
    {"aq10_1", "q10", 2.2, "1", 1},
    {"pq10_1", "q10", 2.2, "1", 1},
    {"aq10_2", "q10", 2.9, "1", 1},
    {"aq10_3", "q10", 3.0, "1", 1},
    {"bq10_1", "q10", 20.0, "degC", 0},
    {"bq10_2", "q10", 20.0, "degC", 0},
    {"bq10_3", "q10", 36.0, "degC", 0},
    {"cq10_1", "q10", 10.0, "degC", 0},
    {"cq10_2", "q10", 10.0, "degC", 0},
    {"cq10_3", "q10", 10.0, "degC", 0},
    {"pi", "constants", (double)(float)M_PI, "1", 0},
    /* our extensions (not in the original): diameter-dependent gains on the ve channel of the
     * stencil and on the node capacitance; the defaults (gain 1) are the original S-MF */
    {"vegain1", "ve_gain", 0.0, "1/um2", 0},
    {"vegain2", "ve_gain", 0.0, "1/um", 0},
    {"vegain3", "ve_gain", 1.0, "1", 0},
    {"cmgain1", "cm_gain", 0.0, "1/um2", 0},
    {"cmgain2", "cm_gain", 0.0, "1/um", 0},
    {"cmgain3", "cm_gain", 1.0, "1", 0},
};

static const char *const smf_state_names[] = {"m", "h", "p", "s", "v"};

/* MRG x_inf(-80 mV) at 37 °C (§6) */
static const double smf_ic[5] = {0.0732093, 0.62069505, 0.20260409, 0.04302994, -80.0};

int axm_smf_lumped_eval(const axm_model *m, double D, axm_smf_lumped *o, axm_err *err)
{
    const double *p = m->p;
    if (!(D > 0) || !isfinite(D))
        return axm_fail(err, AXM_ERR_INPUT, "smf: fiber diameter: expected a positive number (got %g um)", D);
    double pi = p[P_pi];
    double axonD = p[P_axond1] * D * D + p[P_axond2] * D + p[P_axond3];
    double nodeD = (p[P_noded1] * D * D + p[P_noded2] * D + p[P_noded3]) / 1e4;
    double deltax = (p[P_deltax1] * D * D + p[P_deltax2] * D + p[P_deltax3]) / 1e4;
    if (!(axonD > 0) || !(nodeD > 0) || !(deltax > 0))
        return axm_fail(err, AXM_ERR_INPUT,
                        "smf: diameter %g um gives non-positive geometry (axonD %g um, nodeD %g um, "
                        "deltax %g um): expected D in the fitted range (about 2-16 um)",
                        D, axonD, nodeD * 1e4, deltax * 1e4);
    double area = pi * nodeD * (1 / 1e4);
    double r = axonD / D;
    double rhoa_eff = p[P_rhoa] / (r * r);
    double ra = rhoa_eff * deltax / (pi * (D / 2e4) * (D / 2e4));
    o->axon_d_um = axonD;
    o->node_d_um = nodeD * 1e4;
    o->deltax_um = deltax * 1e4;
    o->area_cm2 = area;
    o->ra_ohm = ra;
    o->cm_gain = p[P_cmgain1] * D * D + p[P_cmgain2] * D + p[P_cmgain3];
    o->cn_mF = p[P_cm] * area * o->cm_gain;
    o->gna_S = p[P_gnabar] * area;
    o->gnap_S = p[P_gnapbar] * area;
    o->gk_S = p[P_gkbar] * area;
    o->gl_S = p[P_gl] * area;
    o->ve_gain = p[P_vegain1] * D * D + p[P_vegain2] * D + p[P_vegain3];
    if (!(o->ve_gain > 0) || !isfinite(o->ve_gain))
        return axm_fail(err, AXM_ERR_INPUT,
                        "smf: diameter %g um gives ve gain %g: expected a positive gain (vegain1 D^2 + vegain2 D + vegain3)",
                        D, o->ve_gain);
    if (!(o->cn_mF > 0) || !(ra > 0) || !isfinite(ra))
        return axm_fail(err, AXM_ERR_INPUT,
                        "smf: diameter %g um: expected cm > 0, a positive cm gain and rhoa > 0 (Cn %g mF, cm gain %g, "
                        "ra %g ohm)",
                        D, o->cn_mF, o->cm_gain, ra);
    return AXM_OK;
}

void axm_smf_q10(const axm_model *m, double q[4])
{
    const double *p = m->p;
    double T = m->temp_c;
    q[0] = pow(p[P_aq10_1], (T - p[P_bq10_1]) / p[P_cq10_1]);
    q[1] = pow(p[P_pq10_1], (T - p[P_bq10_1]) / p[P_cq10_1]);
    q[2] = pow(p[P_aq10_2], (T - p[P_bq10_2]) / p[P_cq10_2]);
    q[3] = pow(p[P_aq10_3], (T - p[P_bq10_3]) / p[P_cq10_3]);
}

/* The step in both precisions, each compiled for AVX-512, AVX2+FMA and the baseline instruction
 * set (nodecable.h). */
#define SMF_X86 AXM_NC_X86
#define SMF_T512 AXM_NC_T512
#define SMF_T256 AXM_NC_T256

#define R float
#define T(x) x##_f
#define VEXP axm_vexpf
#define RMAX FLT_MAX
#define SMF_NB 16
#define SMF_DEFINE_TYPES
#define S(x) x##_f
#define SMF_TARGET
#include "smf_step.inc"
#undef SMF_DEFINE_TYPES
#undef S
#undef SMF_TARGET
#if SMF_X86
#define S(x) x##_f512
#define SMF_TARGET SMF_T512
#include "smf_step.inc"
#undef S
#undef SMF_TARGET
#define S(x) x##_f256
#define SMF_TARGET SMF_T256
#include "smf_step.inc"
#undef S
#undef SMF_TARGET
#endif
#undef R
#undef T
#undef VEXP
#undef RMAX
#undef SMF_NB

#define R double
#define T(x) x##_d
#define VEXP axm_vexp
#define RMAX DBL_MAX
#define SMF_NB 8
#define SMF_DEFINE_TYPES
#define S(x) x##_d
#define SMF_TARGET
#include "smf_step.inc"
#undef SMF_DEFINE_TYPES
#undef S
#undef SMF_TARGET
#if SMF_X86
#define S(x) x##_d512
#define SMF_TARGET SMF_T512
#include "smf_step.inc"
#undef S
#undef SMF_TARGET
#define S(x) x##_d256
#define SMF_TARGET SMF_T256
#include "smf_step.inc"
#undef S
#undef SMF_TARGET
#endif
#undef R
#undef T
#undef VEXP
#undef RMAX
#undef SMF_NB

typedef void (*smf_range_f_fn)(const smf_k_f *restrict, const smf_f_f *restrict, int, int, int, double, int,
                               int, float *restrict, const float *restrict, const float *restrict,
                               float *restrict);
typedef void (*smf_range_d_fn)(const smf_k_d *restrict, const smf_f_d *restrict, int, int, int, double, int,
                               int, double *restrict, const double *restrict, const double *restrict,
                               double *restrict);

#define SMF_NB_MAX 16

typedef struct smf_ws {
    axm_nodecable c; /* first: the kind's max_dt_ms is axm_nodecable_max_dt */
    smf_range_f_fn range_f;
    smf_range_d_fn range_d;
    smf_k_f kf;
    smf_k_d kd;
    smf_f_f *ff;
    smf_f_d *fd;
} smf_ws;

static int smf_n_comp(const axm_model *m, int W)
{
    (void)m;
    return W;
}

static int smf_positions(const axm_model *m, double D, int W, double *y, axm_err *err)
{
    (void)m;
    if (!(D > 0) || !isfinite(D))
        return axm_fail(err, AXM_ERR_INPUT, "smf: fiber diameter: expected a positive number (got %g um)", D);
    double dx = axm_deltax_method1_um(D);
    for (int i = 0; i < W; i++) y[i] = (i - (W - 1) / 2.0) * dx;
    return AXM_OK;
}

#define SET_K(K, T)                                                                          \
    do {                                                                                     \
        K.amA = (T)p[P_amA]; K.amB = (T)p[P_amB]; K.amC = (T)p[P_amC];                       \
        K.bmA = (T)p[P_bmA]; K.bmB = (T)p[P_bmB]; K.bmC = (T)p[P_bmC];                       \
        K.ahA = (T)p[P_ahA]; K.ahB = (T)p[P_ahB]; K.ahC = (T)p[P_ahC];                       \
        K.bhA = (T)p[P_bhA]; K.bhB = (T)p[P_bhB]; K.bhC = (T)p[P_bhC];                       \
        K.ampA = (T)p[P_ampA]; K.ampB = (T)p[P_ampB]; K.ampC = (T)p[P_ampC];                 \
        K.bmpA = (T)p[P_bmpA]; K.bmpB = (T)p[P_bmpB]; K.bmpC = (T)p[P_bmpC];                 \
        K.asA = (T)p[P_asA]; K.asB = (T)p[P_asB]; K.asC = (T)p[P_asC];                       \
        K.bsA = (T)p[P_bsA]; K.bsB = (T)p[P_bsB]; K.bsC = (T)p[P_bsC];                       \
        K.vtraub = (T)p[P_vtraub]; K.ena = (T)p[P_ena]; K.ek = (T)p[P_ek]; K.el = (T)p[P_el]; \
        K.qm = (T)q[0]; K.qp = (T)q[1]; K.qh = (T)q[2]; K.qs = (T)q[3];                       \
        K.amAC = K.amA * K.amC; K.bmAC = K.bmA * K.bmC; K.ahAC = K.ahA * K.ahC;               \
        K.ampAC = K.ampA * K.ampC; K.bmpAC = K.bmpA * K.bmpC;                                 \
        K.amCi = (T)(-1 / p[P_amC]); K.bmCi = (T)(1 / p[P_bmC]); K.ahCi = (T)(1 / p[P_ahC]);   \
        K.bhCi = (T)(-1 / p[P_bhC]); K.ampCi = (T)(-1 / p[P_ampC]); K.bmpCi = (T)(1 / p[P_bmpC]); \
        K.asCi = (T)(1 / p[P_asC]); K.bsCi = (T)(1 / p[P_bsC]);                               \
        K.asBv = (T)(p[P_asB] - p[P_vtraub]); K.bsBv = (T)(p[P_bsB] - p[P_vtraub]);           \
        for (int c_ = 0; c_ < 2; c_++)                                                       \
            for (int t_ = 0; t_ < AXM_MAX_TAPS; t_++) K.w[c_][t_] = (T)w[c_][t_];             \
    } while (0)

static void smf_ws_destroy(void *p)
{
    smf_ws *ws = p;
    if (!ws) return;
    free(ws->ff);
    free(ws->fd);
    free(ws);
}

static void *smf_ws_create(const axm_model *m, int B, int W, const double *D, axm_prec prec,
                           axm_err *err)
{
    axm_nodecable c;
    if (axm_nodecable_setup(&c, "smf", m, B, W, prec, err) != AXM_OK) return NULL;
    smf_ws *ws = calloc(1, sizeof *ws);
    if (!ws) goto nomem;
    ws->c = c;
    ws->range_f = smf_range_f;
    ws->range_d = smf_range_d;
#if SMF_X86
    int isa = axm_nodecable_isa();
    if (isa == 2) {
        ws->range_f = smf_range_f512;
        ws->range_d = smf_range_d512;
    } else if (isa == 1) {
        ws->range_f = smf_range_f256;
        ws->range_d = smf_range_d256;
    }
#endif
    const double *p = m->p;
    double q[4], w[2][AXM_MAX_TAPS];
    axm_smf_q10(m, q);
    axm_model_stencil_sym(m, w);
    SET_K(ws->kf, float);
    SET_K(ws->kd, double);
    ws->ff = malloc((size_t)(B > 0 ? B : 1) * sizeof *ws->ff);
    ws->fd = malloc((size_t)(B > 0 ? B : 1) * sizeof *ws->fd);
    if (!ws->ff || !ws->fd) goto nomem;
    double nem = axm_stencil_neg_eig_max(w[0], m->taps, W);
    for (int b = 0; b < B; b++) {
        axm_smf_lumped l;
        if (axm_smf_lumped_eval(m, D[b], &l, err) != AXM_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            axm_fail(err, AXM_ERR_INPUT, "fiber %d: %s", b, msg);
            smf_ws_destroy(ws);
            return NULL;
        }
        smf_f_d *fd = &ws->fd[b];
        fd->inv_cn = 1 / l.cn_mF;
        fd->inv_ra = 1 / l.ra_ohm;
        fd->gna = l.gna_S;
        fd->gnap = l.gnap_S;
        fd->gk = l.gk_S;
        fd->gl = l.gl_S;
        fd->gve = l.ve_gain;
        axm_nodecable_limit(&ws->c, b, axm_explicit_dt_limit(nem, fd->inv_ra, fd->gl, fd->inv_cn));
        smf_f_f *ff = &ws->ff[b];
        ff->inv_cn = (float)(1 / (double)(float)l.cn_mF);
        ff->inv_ra = (float)(1 / (double)(float)l.ra_ohm);
        ff->gna = (float)l.gna_S;
        ff->gnap = (float)l.gnap_S;
        ff->gk = (float)l.gk_S;
        ff->gl = (float)l.gl_S;
        ff->gve = (float)l.ve_gain;
    }
    return ws;
nomem:
    smf_ws_destroy(ws);
    axm_fail(err, AXM_ERR_NOMEM, "smf: out of memory for %d fibers", B);
    return NULL;
}

static size_t smf_scratch_bytes(const axm_model *m, int W)
{
    (void)m;
    /* zeros (no injected current) and d2v, W rounded up to whole blocks; the gathered block
     * lives on the stack of the step */
    size_t Wp = ((size_t)W + SMF_NB_MAX - 1) / SMF_NB_MAX * SMF_NB_MAX;
    return 2 * Wp * sizeof(double);
}

static void smf_init(void *p, int b0, int b1, void *state)
{
    const smf_ws *ws = p;
    axm_nodecable_init(&ws->c, 5, smf_ic, b0, b1, state);
}

static void smf_step(void *p, int b0, int b1, void *state, const void *ve, const void *intra,
                     double dt, void *scratch)
{
    smf_ws *ws = p;
    const axm_nodecable *c = &ws->c;
    if (c->prec == AXM_FP32)
        ws->range_f(&ws->kf, ws->ff, c->taps, c->W, c->hn, dt, b0, b1, state, ve, intra, scratch);
    else
        ws->range_d(&ws->kd, ws->fd, c->taps, c->W, c->hn, dt, b0, b1, state, ve, intra, scratch);
}

const axm_model_kind axm_kind_smf = {
    .name = "smf",
    .summary = "S-MF surrogate myelinated fiber: MRG node gates, learned stencil, explicit steps",
    .n_states = 5,
    .state_names = smf_state_names,
    .n_params = P_COUNT,
    .params = smf_params,
    .has_stencil = 1,
    .ve_timing = AXM_VE_SAMPLE,
    .min_nodes = 2,
    .n_comp = smf_n_comp,
    .positions = smf_positions,
    .ws_create = smf_ws_create,
    .ws_destroy = smf_ws_destroy,
    .scratch_bytes = smf_scratch_bytes,
    .init = smf_init,
    .step = smf_step,
    .max_dt_ms = axm_nodecable_max_dt,
};
