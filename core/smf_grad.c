#include "smf_grad.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "smfg_node.h"

static const struct {
    const char *name, *group;
    double def;
} PARAMS[AXM_SMFG_NP] = {
    {"gnabar", "conductances", 3.0},       {"gkbar", "conductances", 0.08},
    {"gnapbar", "conductances", 0.01},     {"gl", "conductances", 0.007},
    {"ena", "reversal_potentials", 50.0},  {"ek", "reversal_potentials", -90.0},
    {"el", "reversal_potentials", -90.0},  {"cm", "membrane", 10e-3},
    {"rhoa", "membrane", 70.0},
    {"ampA", "rate_constants", 0.01},      {"ampB", "rate_constants", 27.0},
    {"ampC", "rate_constants", 10.2},      {"bmpA", "rate_constants", 0.00025},
    {"bmpB", "rate_constants", 34.0},      {"bmpC", "rate_constants", 10.0},
    {"amA", "rate_constants", 1.86},       {"amB", "rate_constants", 21.4},
    {"amC", "rate_constants", 10.3},       {"bmA", "rate_constants", 0.086},
    {"bmB", "rate_constants", 25.7},       {"bmC", "rate_constants", 9.16},
    {"ahA", "rate_constants", 0.062},      {"ahB", "rate_constants", 114.0},
    {"ahC", "rate_constants", 11.0},       {"bhA", "rate_constants", 2.3},
    {"bhB", "rate_constants", 31.8},       {"bhC", "rate_constants", 13.4},
    {"asA", "rate_constants", 0.3},        {"asB", "rate_constants", -27.0},
    {"asC", "rate_constants", -5.0},       {"bsA", "rate_constants", 0.03},
    {"bsB", "rate_constants", 10.0},       {"bsC", "rate_constants", -1.0},
    {"axond1", "axon_d", 0.0187623},       {"axond2", "axon_d", 0.4787487},
    {"axond3", "axon_d", 0.1203613},       {"noded1", "node_d", 6.303781e-03},
    {"noded2", "node_d", 2.070544e-01},    {"noded3", "node_d", 5.339006e-01},
    {"deltax1", "delta_x", -8.215284},     {"deltax2", "delta_x", 272.4201},
    {"deltax3", "delta_x", -780.2411},     {"vtraub", "other", -80.0},
    {"aq10_1", "q10", 2.2},                {"pq10_1", "q10", 2.2},
    {"aq10_2", "q10", 2.9},                {"aq10_3", "q10", 3.0},
    {"bq10_1", "q10", 20.0},               {"bq10_2", "q10", 20.0},
    {"bq10_3", "q10", 36.0},               {"cq10_1", "q10", 10.0},
    {"cq10_2", "q10", 10.0},               {"cq10_3", "q10", 10.0},
    /* the original multiplies by a float32 π (smf-model.md §14) */
    {"pi", "", (double)(float)3.14159265358979323846},
    {"vegain1", "ve_gain", 0.0},           {"vegain2", "ve_gain", 0.0},
    {"vegain3", "ve_gain", 1.0},
    {"cmgain1", "cm_gain", 0.0},           {"cmgain2", "cm_gain", 0.0},
    {"cmgain3", "cm_gain", 1.0},
};

const char *axm_smfg_param_name(int i) { return i >= 0 && i < AXM_SMFG_NP ? PARAMS[i].name : NULL; }
const char *axm_smfg_param_group(int i) { return i >= 0 && i < AXM_SMFG_NP ? PARAMS[i].group : NULL; }
double axm_smfg_param_default(int i) { return i >= 0 && i < AXM_SMFG_NP ? PARAMS[i].def : NAN; }

int axm_smfg_param_find(const char *name)
{
    for (int i = 0; i < AXM_SMFG_NP; i++)
        if (!strcmp(PARAMS[i].name, name)) return i;
    return -1;
}

void axm_smfg_theta_defaults(axm_smfg_theta *th)
{
    memset(th, 0, sizeof *th);
    for (int i = 0; i < AXM_SMFG_NP; i++) th->p[i] = PARAMS[i].def;
    th->taps = 3;
    for (int c = 0; c < 2; c++) {
        th->w[c][0] = 1.0;
        th->w[c][1] = -2.0;
        th->w[c][2] = 1.0;
    }
    th->temp_c = 37.0;
}

static int kind_param(const axm_model *m, const char *name)
{
    for (int i = 0; i < m->kind->n_params; i++)
        if (!strcmp(m->kind->params[i].name, name)) return i;
    return -1;
}

int axm_smfg_theta_from_model(axm_smfg_theta *th, const axm_model *m, axm_err *err)
{
    axm_smfg_theta_defaults(th);
    if (!m || !m->kind) return axm_fail(err, AXM_ERR_INPUT, "smf_grad: no model");
    if (m->taps < 1 || m->taps > AXM_MAX_TAPS || m->taps % 2 == 0)
        return axm_fail(err, AXM_ERR_INPUT, "smf_grad: stencil taps %d: expected odd, 1..%d",
                        m->taps, AXM_MAX_TAPS);
    for (int i = 0; i < AXM_SMFG_NP; i++) {
        int k = kind_param(m, PARAMS[i].name);
        if (k < 0) {
            if (i == AXM_SMFG_PI || i >= AXM_SMFG_VEGAIN1) continue;
            return axm_fail(err, AXM_ERR_INPUT,
                            "model '%s': no parameter '%s': training needs an S-MF model",
                            m->kind->name, PARAMS[i].name);
        }
        th->p[i] = m->p[k];
    }
    th->taps = m->taps;
    memcpy(th->w, m->stencil, sizeof th->w);
    th->temp_c = m->temp_c;
    th->handle_nan = m->handle_nan;
    return AXM_OK;
}

void axm_smfg_theta_to_model(const axm_smfg_theta *th, axm_model *m)
{
    for (int i = 0; i < AXM_SMFG_NP; i++) {
        int k = kind_param(m, PARAMS[i].name);
        if (k >= 0) m->p[k] = th->p[i];
    }
    m->taps = th->taps;
    memcpy(m->stencil, th->w, sizeof m->stencil);
}

void axm_smfg_lump(const axm_smfg_theta *th, double D, axm_smfg_lumped *L)
{
    const double *p = th->p;
    double pi = p[AXM_SMFG_PI];
    L->axonD = p[AXM_SMFG_AXOND1] * D * D + p[AXM_SMFG_AXOND2] * D + p[AXM_SMFG_AXOND3];
    L->nodeD = (p[AXM_SMFG_NODED1] * D * D + p[AXM_SMFG_NODED2] * D + p[AXM_SMFG_NODED3]) / 1e4;
    L->deltax = (p[AXM_SMFG_DELTAX1] * D * D + p[AXM_SMFG_DELTAX2] * D + p[AXM_SMFG_DELTAX3]) / 1e4;
    L->area = pi * L->nodeD * (1 / 1e4);
    double sc = L->axonD / D;
    double rhoa_eff = p[AXM_SMFG_RHOA] / (sc * sc);
    L->ra = rhoa_eff * L->deltax / (pi * (D / 2e4) * (D / 2e4));
    L->cmg = p[AXM_SMFG_CMGAIN1] * D * D + p[AXM_SMFG_CMGAIN2] * D + p[AXM_SMFG_CMGAIN3];
    L->Cn = p[AXM_SMFG_CM] * L->area * L->cmg;
    L->gna = p[AXM_SMFG_GNABAR] * L->area;
    L->gnap = p[AXM_SMFG_GNAPBAR] * L->area;
    L->gk = p[AXM_SMFG_GKBAR] * L->area;
    L->gl = p[AXM_SMFG_GL] * L->area;
    double T = th->temp_c;
    L->q[0] = pow(p[AXM_SMFG_AQ10_1], (T - p[AXM_SMFG_BQ10_1]) / p[AXM_SMFG_CQ10_1]);
    L->q[1] = pow(p[AXM_SMFG_AQ10_2], (T - p[AXM_SMFG_BQ10_2]) / p[AXM_SMFG_CQ10_2]);
    L->q[2] = pow(p[AXM_SMFG_PQ10_1], (T - p[AXM_SMFG_BQ10_1]) / p[AXM_SMFG_CQ10_1]);
    L->q[3] = pow(p[AXM_SMFG_AQ10_3], (T - p[AXM_SMFG_BQ10_3]) / p[AXM_SMFG_CQ10_3]);
    int t = th->taps;
    memset(L->ws, 0, sizeof L->ws);
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < t; k++) L->ws[c][k] = (th->w[c][k] + th->w[c][t - 1 - k]) / 2;
    L->gve = p[AXM_SMFG_VEGAIN1] * D * D + p[AXM_SMFG_VEGAIN2] * D + p[AXM_SMFG_VEGAIN3];
}

void axm_smfg_grad_zero(axm_smfg_grad *g) { memset(g, 0, sizeof *g); }

void axm_smfg_grad_add(axm_smfg_grad *dst, const axm_smfg_grad *src)
{
    for (int i = 0; i < AXM_SMFG_NP; i++) dst->p[i] += src->p[i];
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < AXM_MAX_TAPS; k++) dst->w[c][k] += src->w[c][k];
}

/* dq/d(a,b,c) for q = a^((T-b)/c) */
static void q10_bwd(double gq, double a, double b, double c, double T, double *ga, double *gb,
                    double *gc)
{
    double e = (T - b) / c;
    double q = pow(a, e);
    double la = log(a);
    *ga += gq * e * pow(a, e - 1);
    *gb += gq * q * la * (-1 / c);
    *gc += gq * q * la * (-(T - b) / (c * c));
}

void axm_smfg_grad_flush_fiber(const axm_smfg_theta *th, double D, axm_smfg_grad *g)
{
    axm_smfg_lumped L;
    axm_smfg_lump(th, D, &L);
    const double *p = th->p;
    double *gp = g->p;
    double pi = p[AXM_SMFG_PI];
    double g_area = g->Cn * p[AXM_SMFG_CM] * L.cmg + g->gna * p[AXM_SMFG_GNABAR] +
                    g->gnap * p[AXM_SMFG_GNAPBAR] + g->gk * p[AXM_SMFG_GKBAR] + g->gl * p[AXM_SMFG_GL];
    gp[AXM_SMFG_CM] += g->Cn * L.area * L.cmg;
    double g_cmg = g->Cn * p[AXM_SMFG_CM] * L.area;
    gp[AXM_SMFG_CMGAIN1] += g_cmg * D * D;
    gp[AXM_SMFG_CMGAIN2] += g_cmg * D;
    gp[AXM_SMFG_CMGAIN3] += g_cmg;
    gp[AXM_SMFG_GNABAR] += g->gna * L.area;
    gp[AXM_SMFG_GNAPBAR] += g->gnap * L.area;
    gp[AXM_SMFG_GKBAR] += g->gk * L.area;
    gp[AXM_SMFG_GL] += g->gl * L.area;
    /* area = pi * nodeD / 1e4 */
    double g_nodeD = g_area * pi / 1e4;
    gp[AXM_SMFG_PI] += g_area * L.nodeD / 1e4;
    gp[AXM_SMFG_NODED1] += g_nodeD * D * D / 1e4;
    gp[AXM_SMFG_NODED2] += g_nodeD * D / 1e4;
    gp[AXM_SMFG_NODED3] += g_nodeD / 1e4;
    /* ra = rhoa * deltax / (pi * (axonD/2e4)^2) */
    double cross = pi * (L.axonD / 2e4) * (L.axonD / 2e4);
    gp[AXM_SMFG_RHOA] += g->ra * L.deltax / cross;
    double g_deltax = g->ra * p[AXM_SMFG_RHOA] / cross;
    double g_axonD = g->ra * (-2 * L.ra / L.axonD);
    gp[AXM_SMFG_PI] += g->ra * (-L.ra / pi);
    gp[AXM_SMFG_DELTAX1] += g_deltax * D * D / 1e4;
    gp[AXM_SMFG_DELTAX2] += g_deltax * D / 1e4;
    gp[AXM_SMFG_DELTAX3] += g_deltax / 1e4;
    gp[AXM_SMFG_AXOND1] += g_axonD * D * D;
    gp[AXM_SMFG_AXOND2] += g_axonD * D;
    gp[AXM_SMFG_AXOND3] += g_axonD;
    double T = th->temp_c;
    q10_bwd(g->q[0], p[AXM_SMFG_AQ10_1], p[AXM_SMFG_BQ10_1], p[AXM_SMFG_CQ10_1], T,
            &gp[AXM_SMFG_AQ10_1], &gp[AXM_SMFG_BQ10_1], &gp[AXM_SMFG_CQ10_1]);
    q10_bwd(g->q[1], p[AXM_SMFG_AQ10_2], p[AXM_SMFG_BQ10_2], p[AXM_SMFG_CQ10_2], T,
            &gp[AXM_SMFG_AQ10_2], &gp[AXM_SMFG_BQ10_2], &gp[AXM_SMFG_CQ10_2]);
    q10_bwd(g->q[2], p[AXM_SMFG_PQ10_1], p[AXM_SMFG_BQ10_1], p[AXM_SMFG_CQ10_1], T,
            &gp[AXM_SMFG_PQ10_1], &gp[AXM_SMFG_BQ10_1], &gp[AXM_SMFG_CQ10_1]);
    q10_bwd(g->q[3], p[AXM_SMFG_AQ10_3], p[AXM_SMFG_BQ10_3], p[AXM_SMFG_CQ10_3], T,
            &gp[AXM_SMFG_AQ10_3], &gp[AXM_SMFG_BQ10_3], &gp[AXM_SMFG_CQ10_3]);
    /* the ve weights of the fiber are gve * ws[1]: ws[1] and gve share their adjoint */
    int t = th->taps;
    double g_gve = 0;
    for (int k = 0; k < t; k++) g_gve += g->ws[1][k] * L.ws[1][k];
    gp[AXM_SMFG_VEGAIN1] += g_gve * D * D;
    gp[AXM_SMFG_VEGAIN2] += g_gve * D;
    gp[AXM_SMFG_VEGAIN3] += g_gve;
    for (int c = 0; c < 2; c++) {
        double f = c == 1 ? L.gve : 1;
        for (int k = 0; k < t; k++) g->w[c][k] += f * (g->ws[c][k] + g->ws[c][t - 1 - k]) / 2;
    }
    g->Cn = g->ra = g->gna = g->gnap = g->gk = g->gl = 0;
    memset(g->q, 0, sizeof g->q);
    memset(g->ws, 0, sizeof g->ws);
}

static int refl(int i, int W)
{
    while (i < 0 || i > W - 1) {
        if (i < 0) i = -i;
        if (i > W - 1) i = 2 * (W - 1) - i;
    }
    return i;
}

static void stencil(const axm_smfg_lumped *L, int taps, int W, const double *v, const double *ve,
                    double *d2v)
{
    int h = taps / 2;
    /* one sum in the engine's order, over the fiber's effective ve weights gve * ws[1] (a gain of 1
     * leaves them exactly as they are) */
    for (int j = 0; j < W; j++) {
        double a = 0;
        for (int k = 0; k < taps; k++) a += L->ws[0][k] * v[refl(j - h + k, W)];
        for (int k = 0; k < taps; k++) a += (L->gve * L->ws[1][k]) * ve[refl(j - h + k, W)];
        d2v[j] = a;
    }
}

size_t axm_smfg_scratch_doubles(int W) { return 2 * (size_t)W; }

void axm_smfg_ic(int W, double *s)
{
    static const double ic[AXM_SMFG_NS] = {0.0732093, 0.62069505, 0.20260409, 0.04302994, -80.0};
    for (int k = 0; k < AXM_SMFG_NS; k++)
        for (int j = 0; j < W; j++) s[k * W + j] = ic[k];
}

void axm_smfg_fwd_step(const axm_smfg_theta *th, const axm_smfg_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, double *s_new,
                      double *scratch)
{
    const double *vo = s_old + 4 * W;
    double *d2v = scratch;
    stencil(L, th->taps, W, vo, ve, d2v);
    for (int j = 0; j < W; j++) {
        double xo[5], xn[5];
        for (int k = 0; k < 5; k++) xo[k] = s_old[k * W + j];
        axm_smfg_node_fwd(th->p, th->handle_nan, th->round_f32, dt, L->Cn, L->ra, L->gna, L->gnap, L->gk, L->gl, L->q,
                          d2v[j], intra ? intra[j] : 0.0, xo, xn);
        for (int k = 0; k < 5; k++) s_new[k * W + j] = xn[k];
    }
}

void axm_smfg_bwd_step(const axm_smfg_theta *th, const axm_smfg_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, const double *gs_new,
                      double *gs_old, double *gve, double *gintra, axm_smfg_grad *gr,
                      double *scratch)
{
    const double *p = th->p;
    const double *vo = s_old + 4 * W;
    double *d2v = scratch, *gd2v = scratch + W;
    stencil(L, th->taps, W, vo, ve, d2v);
    int hn = th->handle_nan;
    double ena = p[AXM_SMFG_ENA], ek = p[AXM_SMFG_EK], el = p[AXM_SMFG_EL];
    for (int j = 0; j < W; j++) {
        double v = vo[j], x[4], E[4], xinf[4], S[4];
        axm_smfg_rate a[4], b[4];
        for (int g = 0; g < 4; g++) {
            axm_smfg_rate_eval(axm_smfg_rate_type(g, 0), p, axm_smfg_rate_ia(g, 0), v, hn, 1, &a[g]);
            axm_smfg_rate_eval(axm_smfg_rate_type(g, 1), p, axm_smfg_rate_ia(g, 1), v, hn, 1, &b[g]);
            S[g] = a[g].val + b[g].val;
            xinf[g] = S[g] != 0 ? a[g].val / S[g] : 0;
            E[g] = exp(-dt * (L->q[g] * S[g]));
            x[g] = xinf[g] - (xinf[g] - s_old[g * W + j]) * E[g];
        }
        double m = x[0], hh = x[1], pp = x[2], s = x[3];
        double m3 = m * m * m, p3 = pp * pp * pp;
        double I = L->gna * m3 * hh * (v - ena) + L->gnap * p3 * (v - ena) + L->gk * s * (v - ek) +
                   L->gl * (v - el);
        if (intra) I -= intra[j];
        double dv = dt * (1 / L->Cn) * ((1 / L->ra) * d2v[j] - I);
        double gv = gs_new[4 * W + j];
        if (hn && !isfinite(v + dv)) gv = 0;
        double gvo = gv;
        double g_inner = gv * dt / L->Cn;
        gr->Cn += gv * (-dv / L->Cn);
        gd2v[j] = g_inner / L->ra;
        gr->ra += -g_inner * d2v[j] / (L->ra * L->ra);
        double gI = -g_inner;
        if (gintra) gintra[j] += -gI;
        double G[4];
        G[0] = gs_new[0 * W + j] + gI * L->gna * 3 * m * m * hh * (v - ena);
        G[1] = gs_new[1 * W + j] + gI * L->gna * m3 * (v - ena);
        G[2] = gs_new[2 * W + j] + gI * L->gnap * 3 * pp * pp * (v - ena);
        G[3] = gs_new[3 * W + j] + gI * L->gk * (v - ek);
        gvo += gI * (L->gna * m3 * hh + L->gnap * p3 + L->gk * s + L->gl);
        gr->gna += gI * m3 * hh * (v - ena);
        gr->gnap += gI * p3 * (v - ena);
        gr->gk += gI * s * (v - ek);
        gr->gl += gI * (v - el);
        gr->p[AXM_SMFG_ENA] += -gI * (L->gna * m3 * hh + L->gnap * p3);
        gr->p[AXM_SMFG_EK] += -gI * L->gk * s;
        gr->p[AXM_SMFG_EL] += -gI * L->gl;
        for (int g = 0; g < 4; g++) {
            double xo = s_old[g * W + j];
            gs_old[g * W + j] = G[g] * E[g];
            double g_xinf = G[g] * (1 - E[g]);
            double g_r = G[g] * (xinf[g] - xo) * dt * E[g];
            double q = L->q[g];
            double g_S = g_r * q - g_xinf * a[g].val / (S[g] * S[g]);
            double g_a = g_xinf / S[g] + g_S, g_b = g_S;
            if (S[g] == 0) { /* x = xo + dt q (a - xo S) to first order at a = b = 0 */
                g_a = G[g] * dt * q * (1 - xo);
                g_b = -G[g] * dt * q * xo;
            }
            gr->q[g] += g_r * S[g];
            gvo += g_a * a[g].dv + g_b * b[g].dv;
            const int ia = axm_smfg_rate_ia(g, 0), ib = axm_smfg_rate_ia(g, 1);
            gr->p[ia] += g_a * a[g].dA;
            gr->p[ia + 1] += g_a * a[g].dB;
            gr->p[ia + 2] += g_a * a[g].dC;
            gr->p[ib] += g_b * b[g].dA;
            gr->p[ib + 1] += g_b * b[g].dB;
            gr->p[ib + 2] += g_b * b[g].dC;
            gr->p[AXM_SMFG_VTRAUB] += g_a * a[g].dT + g_b * b[g].dT;
        }
        gs_old[4 * W + j] = gvo;
    }
    int taps = th->taps, h = taps / 2;
    for (int j = 0; j < W; j++) {
        double gd = gd2v[j];
        for (int k = 0; k < taps; k++) {
            int i = refl(j - h + k, W);
            gs_old[4 * W + i] += gd * L->ws[0][k];
            if (gve) gve[i] += gd * (L->gve * L->ws[1][k]);
            gr->ws[0][k] += gd * vo[i];
            gr->ws[1][k] += gd * ve[i];
        }
    }
}
