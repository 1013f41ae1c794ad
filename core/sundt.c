/* Sundt C-fiber surrogate (smf-model.md §8): unmyelinated cable of dx-long compartments with
 * Traub-Miles Na, Borg-Graham K-DR and leak, on the S-MF machinery (stencil, step order). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explicit_dt.h"
#include "nodecable.h"
#include "smf_exp.h"
#include "model.h"

enum {
    P_gnabar, P_gkbar, P_gl,
    P_ena, P_ek, P_el,
    P_cm, P_rhoa,
    P_mshift, P_hshift,
    P_am1, P_am2, P_am3, P_ah1, P_ah2, P_ah3, P_bm1, P_bm2, P_bm3, P_bh1, P_bh2, P_bh3, P_bh4,
    P_zetan, P_zetal, P_gmn, P_gml, P_vhalfn, P_vhalfl, P_a0l, P_a0n,
    P_axond1, P_axond2, P_axond3,
    P_noded1, P_noded2, P_noded3,
    P_deltax1, P_deltax2, P_deltax3,
    P_scale,
    P_aq10_1, P_aq10_2, P_aq10_3, P_aq10_4,
    P_bq10_1, P_bq10_2, P_bq10_3, P_bq10_4,
    P_cq10_1, P_cq10_2, P_cq10_3, P_cq10_4,
    P_dx,
    P_pi,
    P_COUNT
};

static const axm_param_def sundt_params[P_COUNT] = {
    {"gnabar", "conductances", 0.04, "S/cm2", 1},
    {"gkbar", "conductances", 0.04, "S/cm2", 1},
    {"gl", "conductances", 0.0001, "S/cm2", 1},
    {"ena", "reversal_potentials", 50.0, "mV", 0},
    {"ek", "reversal_potentials", -90.0, "mV", 0},
    {"el", "reversal_potentials", -65.0, "mV", 0},
    {"cm", "membrane", 1e-3, "mF/cm2", 1},
    {"rhoa", "membrane", 100.0, "ohm cm", 1},
    {"mshift", "shifts", -6.0, "mV", 0},
    {"hshift", "shifts", 6.0, "mV", 0},
    {"am1", "rate_constants", 0.32, "1/(ms mV)", 0},
    {"am2", "rate_constants", 13.1, "mV", 0},
    {"am3", "rate_constants", 4.0, "mV", 0},
    {"ah1", "rate_constants", 0.128, "1/ms", 0},
    {"ah2", "rate_constants", 17.0, "mV", 0},
    {"ah3", "rate_constants", 18.0, "mV", 0},
    {"bm1", "rate_constants", 0.28, "1/(ms mV)", 0},
    {"bm2", "rate_constants", 40.1, "mV", 0},
    {"bm3", "rate_constants", 5.0, "mV", 0},
    {"bh1", "rate_constants", 4.0, "1/ms", 0},
    {"bh2", "rate_constants", 40.0, "mV", 0},
    {"bh3", "rate_constants", 5.0, "mV", 0},
    {"bh4", "rate_constants", 1.0, "1", 0},
    {"zetan", "rate_constants", -5.0, "1", 0},
    {"zetal", "rate_constants", 2.0, "1", 0},
    {"gmn", "rate_constants", 0.4, "1", 0},
    {"gml", "rate_constants", 1.0, "1", 0},
    {"vhalfn", "rate_constants", -32.0, "mV", 0},
    {"vhalfl", "rate_constants", -61.0, "mV", 0},
    {"a0l", "rate_constants", 0.001, "1/ms", 0},
    {"a0n", "rate_constants", 0.03, "1/ms", 0},
    {"axond1", "axon_d", 0.0, "1/um", 1},
    {"axond2", "axon_d", 1.0, "1", 1},
    {"axond3", "axon_d", 0.0, "um", 1},
    {"noded1", "node_d", 0.0, "1/um", 1},
    {"noded2", "node_d", 1.0, "1", 1},
    {"noded3", "node_d", 0.0, "um", 1},
    {"deltax1", "delta_x", 0.0, "1/um", 0},
    {"deltax2", "delta_x", 1.0, "1", 0},
    {"deltax3", "delta_x", 0.0, "um", 0},
    {"scale", "other", 1.0, "1", 0},
    {"aq10_1", "q10", 3.0, "1", 1},
    {"aq10_2", "q10", 3.0, "1", 1},
    {"aq10_3", "q10", 3.0, "1", 1},
    {"aq10_4", "q10", 3.0, "1", 0},
    {"bq10_1", "q10", 30.0, "degC", 0},
    {"bq10_2", "q10", 30.0, "degC", 0},
    {"bq10_3", "q10", 30.0, "degC", 0},
    {"bq10_4", "q10", 30.0, "degC", 0},
    {"cq10_1", "q10", 10.0, "degC", 0},
    {"cq10_2", "q10", 10.0, "degC", 0},
    {"cq10_3", "q10", 10.0, "degC", 0},
    {"cq10_4", "q10", 10.0, "degC", 0},
    {"dx", "geometry", 10.0, "um", 0},
    {"pi", "constants", (double)(float)M_PI, "1", 0},
};

static const char *const sundt_state_names[] = {"m", "h", "n", "l", "v"};
static const double sundt_ic[5] = {0.00401, 0.98147, 0.00208, 0.57421, -65.0};

/* selects whose arms divide must stay selects for the loop to vectorize (see core/smf.c) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "vect-cost-model=dynamic")
#endif

#define R float
#define T(x) x##_f
#define VEXP axm_vexpf
#define RMAX FLT_MAX
#define SUNDT_DEFINE_TYPES
#define S(x) x##_f
#define SUNDT_TARGET
#include "sundt_step.inc"
#undef SUNDT_DEFINE_TYPES
#undef S
#undef SUNDT_TARGET
#if AXM_NC_X86
#define S(x) x##_f512
#define SUNDT_TARGET AXM_NC_T512
#include "sundt_step.inc"
#undef S
#undef SUNDT_TARGET
#define S(x) x##_f256
#define SUNDT_TARGET AXM_NC_T256
#include "sundt_step.inc"
#undef S
#undef SUNDT_TARGET
#endif
#undef R
#undef T
#undef VEXP
#undef RMAX

#define R double
#define T(x) x##_d
#define VEXP axm_vexp
#define RMAX DBL_MAX
#define SUNDT_DEFINE_TYPES
#define S(x) x##_d
#define SUNDT_TARGET
#include "sundt_step.inc"
#undef SUNDT_DEFINE_TYPES
#undef S
#undef SUNDT_TARGET
#if AXM_NC_X86
#define S(x) x##_d512
#define SUNDT_TARGET AXM_NC_T512
#include "sundt_step.inc"
#undef S
#undef SUNDT_TARGET
#define S(x) x##_d256
#define SUNDT_TARGET AXM_NC_T256
#include "sundt_step.inc"
#undef S
#undef SUNDT_TARGET
#endif
#undef R
#undef T
#undef VEXP
#undef RMAX

typedef void (*sundt_range_f_fn)(const sundt_k_f *restrict, const sundt_f_f *restrict, int, int, int, double,
                                 int, int, float *restrict, const float *restrict, const float *restrict,
                                 float *restrict);
typedef void (*sundt_range_d_fn)(const sundt_k_d *restrict, const sundt_f_d *restrict, int, int, int, double,
                                 int, int, double *restrict, const double *restrict, const double *restrict,
                                 double *restrict);

typedef struct sundt_ws {
    axm_nodecable c; /* first: the kind's max_dt_ms is axm_nodecable_max_dt */
    sundt_range_f_fn range_f;
    sundt_range_d_fn range_d;
    sundt_k_f kf;
    sundt_k_d kd;
    sundt_f_f *ff;
    sundt_f_d *fd;
} sundt_ws;

static int sundt_n_comp(const axm_model *m, int W)
{
    (void)m;
    return W;
}

static int sundt_positions(const axm_model *m, double D, int W, double *y, axm_err *err)
{
    (void)D;
    double dx = m->p[P_dx];
    if (!(dx > 0) || !isfinite(dx))
        return axm_fail(err, AXM_ERR_INPUT, "sundt: dx: expected a positive length in um (got %g)", dx);
    for (int i = 0; i < W; i++) y[i] = (i - (W - 1) / 2.0) * dx;
    return AXM_OK;
}

static void sundt_ws_destroy(void *p)
{
    sundt_ws *ws = p;
    if (!ws) return;
    free(ws->ff);
    free(ws->fd);
    free(ws);
}

#define SET_K(K, T)                                                                             \
    do {                                                                                        \
        K.ena = (T)p[P_ena]; K.ek = (T)p[P_ek]; K.el = (T)p[P_el];                              \
        K.mshift = (T)p[P_mshift]; K.hshift = (T)p[P_hshift];                                   \
        K.am1 = (T)p[P_am1]; K.am2 = (T)p[P_am2]; K.am3 = (T)p[P_am3];                          \
        K.ah1 = (T)p[P_ah1]; K.ah2 = (T)p[P_ah2]; K.ah3 = (T)p[P_ah3];                          \
        K.bm1 = (T)p[P_bm1]; K.bm2 = (T)p[P_bm2]; K.bm3 = (T)p[P_bm3];                          \
        K.bh1 = (T)p[P_bh1]; K.bh2 = (T)p[P_bh2]; K.bh3 = (T)p[P_bh3]; K.bh4 = (T)p[P_bh4];     \
        K.kn = (T)(fz * p[P_zetan]); K.knb = (T)(fz * p[P_zetan] * p[P_gmn]);                   \
        K.kl = (T)(fz * p[P_zetal]); K.klb = (T)(fz * p[P_zetal] * p[P_gml]);                   \
        K.vhalfn = (T)p[P_vhalfn]; K.vhalfl = (T)p[P_vhalfl];                                   \
        K.a0n = (T)p[P_a0n]; K.a0l = (T)p[P_a0l];                                               \
        for (int i_ = 0; i_ < 4; i_++) K.q[i_] = (T)q[i_];                                      \
        for (int c_ = 0; c_ < 2; c_++)                                                          \
            for (int t_ = 0; t_ < AXM_MAX_TAPS; t_++) K.w[c_][t_] = (T)w[c_][t_];                \
    } while (0)

static void *sundt_ws_create(const axm_model *m, int B, int W, const double *D, axm_prec prec,
                             axm_err *err)
{
    const double *p = m->p;
    axm_nodecable c;
    if (axm_nodecable_setup(&c, "sundt", m, B, W, prec, err) != AXM_OK) return NULL;
    if (!(p[P_dx] > 0)) {
        axm_fail(err, AXM_ERR_INPUT, "sundt: dx: expected a positive length in um (got %g)", p[P_dx]);
        return NULL;
    }
    sundt_ws *ws = calloc(1, sizeof *ws);
    if (!ws) goto nomem;
    ws->c = c;
    ws->range_f = sundt_range_f;
    ws->range_d = sundt_range_d;
#if AXM_NC_X86
    int isa = axm_nodecable_isa();
    if (isa == 2) {
        ws->range_f = sundt_range_f512;
        ws->range_d = sundt_range_d512;
    } else if (isa == 1) {
        ws->range_f = sundt_range_f256;
        ws->range_d = sundt_range_d256;
    }
#endif
    double q[4], w[2][AXM_MAX_TAPS];
    for (int i = 0; i < 4; i++)
        q[i] = pow(p[P_aq10_1 + i], (m->temp_c - p[P_bq10_1 + i]) / p[P_cq10_1 + i]);
    axm_model_stencil_sym(m, w);
    double fz = 1e-3 * 9.648e4 / (8.315 * (273.16 + m->temp_c));
    SET_K(ws->kf, float);
    SET_K(ws->kd, double);
    ws->ff = malloc((size_t)(B > 0 ? B : 1) * sizeof *ws->ff);
    ws->fd = malloc((size_t)(B > 0 ? B : 1) * sizeof *ws->fd);
    if (!ws->ff || !ws->fd) goto nomem;
    double pi = p[P_pi], deltax = p[P_dx] / 1e4;
    double nem = axm_stencil_neg_eig_max(w[0], m->taps, W);
    for (int b = 0; b < B; b++) {
        double Db = D[b];
        double axonD = p[P_axond1] * Db * Db + p[P_axond2] * Db + p[P_axond3];
        if (!(Db > 0) || !(axonD > 0) || !isfinite(axonD)) {
            axm_fail(err, AXM_ERR_INPUT, "sundt: fiber %d: diameter %g um: expected a positive diameter and axonD (got %g um)",
                     b, Db, axonD);
            sundt_ws_destroy(ws);
            return NULL;
        }
        double area = pi * (p[P_scale] * axonD / 1e4) * deltax;
        double ra = p[P_rhoa] * deltax / (pi * (axonD / 2e4) * (axonD / 2e4));
        double cn = p[P_cm] * area;
        if (!(cn > 0) || !(ra > 0)) {
            axm_fail(err, AXM_ERR_INPUT, "sundt: fiber %d: expected cm, rhoa, scale > 0 (Cn %g mF, ra %g ohm)", b, cn, ra);
            sundt_ws_destroy(ws);
            return NULL;
        }
        ws->fd[b] = (sundt_f_d){1 / cn, 1 / ra, p[P_gnabar] * area, p[P_gkbar] * area, p[P_gl] * area};
        axm_nodecable_limit(&ws->c, b, axm_explicit_dt_limit(nem, 1 / ra, p[P_gl] * area, 1 / cn));
        ws->ff[b] = (sundt_f_f){(float)(1 / cn), (float)(1 / ra), (float)(p[P_gnabar] * area),
                                (float)(p[P_gkbar] * area), (float)(p[P_gl] * area)};
    }
    return ws;
nomem:
    sundt_ws_destroy(ws);
    axm_fail(err, AXM_ERR_NOMEM, "sundt: out of memory for %d fibers", B);
    return NULL;
}

static size_t sundt_scratch_bytes(const axm_model *m, int W)
{
    (void)m;
    return 2 * (size_t)W * sizeof(double); /* d2v, zeros */
}

static void sundt_init(void *p, int b0, int b1, void *state)
{
    const sundt_ws *ws = p;
    axm_nodecable_init(&ws->c, 5, sundt_ic, b0, b1, state);
}

static void sundt_step(void *p, int b0, int b1, void *state, const void *ve, const void *intra,
                       double dt, void *scratch)
{
    sundt_ws *ws = p;
    const axm_nodecable *c = &ws->c;
    if (c->prec == AXM_FP32)
        ws->range_f(&ws->kf, ws->ff, c->taps, c->W, c->hn, dt, b0, b1, state, ve, intra, scratch);
    else
        ws->range_d(&ws->kd, ws->fd, c->taps, c->W, c->hn, dt, b0, b1, state, ve, intra, scratch);
}

const axm_model_kind axm_kind_sundt = {
    .name = "sundt",
    .summary = "Sundt C-fiber: unmyelinated cable (Traub-Miles Na, Borg-Graham K-DR), dx compartments",
    .n_states = 5,
    .state_names = sundt_state_names,
    .n_params = P_COUNT,
    .params = sundt_params,
    .has_stencil = 1,
    .ve_timing = AXM_VE_SAMPLE,
    .min_nodes = 2,
    .n_comp = sundt_n_comp,
    .positions = sundt_positions,
    .ws_create = sundt_ws_create,
    .ws_destroy = sundt_ws_destroy,
    .scratch_bytes = sundt_scratch_bytes,
    .init = sundt_init,
    .step = sundt_step,
    .max_dt_ms = axm_nodecable_max_dt,
};
