/* The MRG model kind (mrg-model.md §1-§6): NEURON's fixed-step backward Euler on the reduced
 * double cable of §3.3, one 2x2-block tridiagonal solve per fiber and step. */
#include "mrg.h"
#include "mrg_internode.h"
#include "mrg_rates.h"
#include "mrg_thomas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { P_GNA, P_GNAP, P_GK, P_GL, P_ENA, P_EK, P_EL, P_EPAS, P_VINIT, N_PARAMS };

static const axm_param_def params[N_PARAMS] = {
    {"gnabar", "conductances", 3.0, "S/cm2", 0},
    {"gnapbar", "conductances", 0.01, "S/cm2", 0},
    {"gkbar", "conductances", 0.08, "S/cm2", 0},
    {"gl", "conductances", 0.007, "S/cm2", 0},
    {"ena", "reversal", 50.0, "mV", 0},
    {"ek", "reversal", -90.0, "mV", 0},
    {"el", "reversal", -90.0, "mV", 0},
    {"e_pas", "reversal", -80.0, "mV", 0},
    {"v_init", "membrane", -80.0, "mV", 0},
};

static const char *const state_names[5] = {"m", "h", "p", "s", "v"};

/* ---- node membrane ---------------------------------------------------------------------- */

static void q10s(double temp_c, double q[4])
{
    q[0] = q[1] = pow(2.2, (temp_c - 20) / 10);
    q[2] = pow(2.9, (temp_c - 20) / 10);
    q[3] = pow(3.0, (temp_c - 36) / 10);
}

void axm_mrg_rates(double v, double temp_c, double alpha[4], double beta[4])
{
    double q[4];
    q10s(temp_c, q);
    axm_mrg_rates_raw(v, alpha, beta);
    for (int k = 0; k < 4; k++) {
        alpha[k] *= q[k];
        beta[k] *= q[k];
    }
}

void axm_mrg_node_currents(double v, double m, double h, double p, double s, double out[5])
{
    out[0] = params[P_GNA].def * m * m * m * h * (v - params[P_ENA].def);
    out[1] = params[P_GNAP].def * p * p * p * (v - params[P_ENA].def);
    out[2] = params[P_GK].def * s * (v - params[P_EK].def);
    out[3] = params[P_GL].def * (v - params[P_EL].def);
    out[4] = out[0] + out[1] + out[2] + out[3];
}

/* ---- workspace -------------------------------------------------------------------------- */

#define N_TYPES 5

typedef struct fiber_c {
    double A[N_TYPES], C[N_TYPES], Gpas[N_TYPES], Gmy[N_TYPES], Cmy[N_TYPES];
    double gi[11], gx[11];      /* link between chain index 11i+j and 11i+j+1 */
    double gx_first, gx_last;   /* periaxonal links at passive end nodes */
    /* Static condensation of one internode (its 10 compartments, 20 unknowns) for the shorted-node
     * case: the internal matrix T depends only on dt, so its block factorization (S) and the
     * responses to unit vi at both ends (z1, z2) are cached; each step then solves T once per
     * internode and a tridiagonal system in the node vi. */
    double dt_fact;             /* dt the factors below belong to; 0 = none yet */
    double S[10][3];            /* inv(D'_k), symmetric (11, 12, 22) */
    double z1[20], z2[20];      /* T^-1 e(vi of compartment 1), T^-1 e(vi of compartment 10) */
} fiber_c;

typedef struct mrg_ws {
    int B, W, M;
    axm_prec prec;
    int passive_end;
    double gna, gnap, gk, gl, ena, ek, el, epas, vinit;
    double q[4];                /* Q10 factors of p m h s */
    double ginf[4];             /* p m h s at v_init */
    fiber_c *fc;                /* [B] */
    double *vm, *vx, *eprev;    /* [B][M] hidden compartment state */
} mrg_ws;

static int n_comp(const axm_model *m, int W)
{
    (void)m;
    return 11 * W - 10;
}

static int positions(const axm_model *m, double D, int W, double *y, axm_err *err)
{
    axm_mrg_geom g;
    int rc = axm_mrg_geometry_model(m, D, &g, err);
    if (rc) return rc;
    double off[11];
    off[0] = 0;
    off[1] = 0.5 + 1.5;
    off[2] = 0.5 + 3 + g.paralength2 / 2;
    for (int k = 0; k < 6; k++) off[3 + k] = 0.5 + 3 + g.paralength2 + (k + 0.5) * g.interlength;
    off[9] = 0.5 + 3 + g.paralength2 + 6 * g.interlength + g.paralength2 / 2;
    off[10] = 0.5 + 3 + 2 * g.paralength2 + 6 * g.interlength + 1.5;
    for (int i = 0; i < W; i++) {
        double yn = (i - (W - 1) / 2.0) * g.deltax;
        for (int j = 0; j < (i < W - 1 ? 11 : 1); j++) y[11 * i + j] = yn + off[j];
    }
    return AXM_OK;
}

static int fiber_consts(const axm_model *m, double D, fiber_c *f, axm_err *err)
{
    axm_mrg_geom g;
    int rc = axm_mrg_geometry_model(m, D, &g, err);
    if (rc) return rc;
    axm_mrg_sec s[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        axm_mrg_section(&g, t, &s[t]);
        f->A[t] = s[t].area;
        f->C[t] = s[t].C;
        f->Gpas[t] = s[t].Gpas;
        f->Gmy[t] = s[t].Gmy;
        f->Cmy[t] = s[t].Cmy;
    }
    static const int type_of[11] = {AXM_MRG_NODE, AXM_MRG_MYSA, AXM_MRG_FLUT, AXM_MRG_STIN, AXM_MRG_STIN,
                                    AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_FLUT,
                                    AXM_MRG_MYSA};
    for (int j = 0; j < 11; j++) {
        const axm_mrg_sec *a = &s[type_of[j]], *b = &s[type_of[(j + 1) % 11]];
        f->gi[j] = 1.0 / (a->Ri_half + b->Ri_half);
        f->gx[j] = 1.0 / (a->Rx_half + b->Rx_half);
    }
    f->gx_first = f->gx_last = 1.0 / (s[AXM_MRG_END_NODE].Rx_half + s[AXM_MRG_MYSA].Rx_half);
    f->dt_fact = 0;
    return AXM_OK;
}

static void ws_destroy(void *p)
{
    mrg_ws *w = p;
    if (!w) return;
    free(w->fc);
    free(w->vm);
    free(w->vx);
    free(w->eprev);
    free(w);
}

static void *ws_create(const axm_model *m, int B, int W, const double *D, axm_prec prec, axm_err *err)
{
    if (W < 2) {
        axm_fail(err, AXM_ERR_INPUT, "mrg: a fiber needs at least 2 nodes (got %d)", W);
        return NULL;
    }
    if (B < 1) {
        axm_fail(err, AXM_ERR_INPUT, "mrg: batch must be >= 1 (got %d)", B);
        return NULL;
    }
    mrg_ws *w = calloc(1, sizeof *w);
    if (!w) {
        axm_fail(err, AXM_ERR_NOMEM, "mrg: out of memory");
        return NULL;
    }
    w->B = B;
    w->W = W;
    w->M = 11 * W - 10;
    w->prec = prec;
    w->passive_end = m->passive_end_nodes != 0;
    const double *p = m->p;
    w->gna = p[P_GNA];
    w->gnap = p[P_GNAP];
    w->gk = p[P_GK];
    w->gl = p[P_GL];
    w->ena = p[P_ENA];
    w->ek = p[P_EK];
    w->el = p[P_EL];
    w->epas = p[P_EPAS];
    w->vinit = p[P_VINIT];
    q10s(m->temp_c, w->q);
    double a[4], b[4];
    axm_mrg_rates_raw(w->vinit, a, b);
    for (int k = 0; k < 4; k++) w->ginf[k] = a[k] / (a[k] + b[k]);
    size_t n = (size_t)B * (size_t)w->M;
    w->fc = malloc((size_t)B * sizeof *w->fc);
    w->vm = malloc(n * sizeof(double));
    w->vx = malloc(n * sizeof(double));
    w->eprev = malloc(n * sizeof(double));
    if (!w->fc || !w->vm || !w->vx || !w->eprev) {
        ws_destroy(w);
        axm_fail(err, AXM_ERR_NOMEM, "mrg: out of memory for %d fibers of %d nodes", B, W);
        return NULL;
    }
    for (int i = 0; i < B; i++) {
        if (fiber_consts(m, D[i], &w->fc[i], err)) {
            ws_destroy(w);
            return NULL;
        }
    }
    return w;
}

static size_t scratch_bytes(const axm_model *m, int W)
{
    (void)m;
    size_t general = (size_t)(11 * W - 10) * 7, condensed = (size_t)(W - 1) * 20 + (size_t)W * 3;
    return (general > condensed ? general : condensed) * sizeof(double);
}

/* node state slot s of fiber b, node i */
static inline double st_get(const mrg_ws *w, const void *state, int b, int s, int i)
{
    size_t k = ((size_t)b * 5 + (size_t)s) * (size_t)w->W + (size_t)i;
    return w->prec == AXM_FP32 ? (double)((const float *)state)[k] : ((const double *)state)[k];
}

static inline void st_set(const mrg_ws *w, void *state, int b, int s, int i, double v)
{
    size_t k = ((size_t)b * 5 + (size_t)s) * (size_t)w->W + (size_t)i;
    if (w->prec == AXM_FP32)
        ((float *)state)[k] = (float)v;
    else
        ((double *)state)[k] = v;
}

static void init(void *p, int b0, int b1, void *state)
{
    mrg_ws *w = p;
    for (int b = b0; b < b1; b++) {
        size_t o = (size_t)b * (size_t)w->M;
        for (int c = 0; c < w->M; c++) {
            w->vm[o + c] = w->vinit;
            w->vx[o + c] = 0;     /* NEURON initializes vext to 0 whatever e(0) is */
            w->eprev[o + c] = 0;
        }
        for (int i = 0; i < w->W; i++) {
            st_set(w, state, b, 0, i, w->ginf[1]); /* m */
            st_set(w, state, b, 1, i, w->ginf[2]); /* h */
            st_set(w, state, b, 2, i, w->ginf[0]); /* p */
            st_set(w, state, b, 3, i, w->ginf[3]); /* s */
            st_set(w, state, b, 4, i, w->vinit);
        }
    }
}

static inline double ld(const void *a, axm_prec prec, size_t k)
{
    return prec == AXM_FP32 ? (double)((const float *)a)[k] : ((const double *)a)[k];
}

/* Node i's gates over dt at its new vm v, cnexp as the .mod's BREAKPOINT (gpu/mrg_kernel.cuh's
 * gates() is the same; kept apart there, as an array of the four states costs the kernel registers). */
static void node_gates(const mrg_ws *w, void *state, int b, int i, double v, double dt)
{
    double al[4], be[4];
    axm_mrg_rates_raw(v, al, be);
    static const int slot[4] = {2, 0, 1, 3}; /* p m h s -> state m h p s */
    for (int k = 0; k < 4; k++) {
        double sum = al[k] + be[k];
        double inf = al[k] / sum;
        double x = st_get(w, state, b, slot[k], i);
        st_set(w, state, b, slot[k], i, inf + (x - inf) * exp(-dt * w->q[k] * sum));
    }
}

static void step_fiber(mrg_ws *w, int b, void *state, const void *ve, size_t ve_off, const void *intra,
                       size_t in_off, double dt, double *sc)
{
    const fiber_c *f = &w->fc[b];
    const int M = w->M, W = w->W, pe = w->passive_end;
    double *vm = w->vm + (size_t)b * M, *vx = w->vx + (size_t)b * M, *ep = w->eprev + (size_t)b * M;
    double Cdt[N_TYPES], Cmydt[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        Cdt[t] = f->C[t] / dt;
        Cmydt[t] = f->Cmy[t] / dt;
    }
    static const unsigned char type_of[11] = {AXM_MRG_NODE, AXM_MRG_MYSA, AXM_MRG_FLUT, AXM_MRG_STIN,
                                              AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN, AXM_MRG_STIN,
                                              AXM_MRG_STIN, AXM_MRG_FLUT, AXM_MRG_MYSA};
    /* forward elimination; per compartment the scratch keeps inv(D'_c) (3), y_c (2) and the
     * effective links to c+1 (2) */
    axm_mrg_blk blk = {0, 0, 0, 0, 0};
    double gip = 0, gxp = 0;
    int shp = 0;         /* previous compartment shorted (active node: vx = e) */
    double ep_prev = 0;  /* e at the previous compartment */
    for (int c = 0, j = 0, i = 0; c < M; c++) {
        int t = type_of[j];
        int endn = (j == 0 && (i == 0 || i == W - 1));
        if (endn && pe) t = AXM_MRG_END_NODE;
        int sh = (t == AXM_MRG_NODE);
        double e = ld(ve, w->prec, ve_off + (size_t)c);
        double v = j == 0 ? st_get(w, state, b, 4, i) : vm[c];
        double gion, jion;
        if (sh) {
            double mm = st_get(w, state, b, 0, i), hh = st_get(w, state, b, 1, i);
            double pp = st_get(w, state, b, 2, i), ss = st_get(w, state, b, 3, i);
            double gna = w->gna * mm * mm * mm * hh, gnap = w->gnap * pp * pp * pp, gk = w->gk * ss;
            double A = f->A[AXM_MRG_NODE];
            gion = A * (gna + gnap + gk + w->gl);
            jion = A * ((gna + gnap) * w->ena + gk * w->ek + w->gl * w->el);
        } else {
            gion = f->Gpas[t];
            jion = gion * w->epas;
        }
        double a = Cdt[t] + gion;
        double common = Cdt[t] * v + jion;
        /* links to c+1 */
        double gin = 0, gxn = 0;
        int shn = 0;
        if (c < M - 1) {
            gin = f->gi[j];
            gxn = f->gx[j];
            if (pe && (c == 0 || c == M - 2)) gxn = c == 0 ? f->gx_first : f->gx_last;
            shn = (j == 10 && !(pe && i + 1 == W - 1));
        }
        double D11 = a + gip + gin, D12, D22, r1 = common, r2;
        if (j == 0 && intra) r1 += ld(intra, w->prec, in_off + (size_t)i);
        double gxe_p = gxp, gxe_n = gxn;
        if (sh) {
            D12 = 0;
            D22 = 1;
            r1 += a * e;
            r2 = e;
            gxe_p = gxe_n = 0;
        } else {
            D12 = -a;
            D22 = a + Cmydt[t] + f->Gmy[t] + gxp + gxn;
            r2 = -common + f->Gmy[t] * e + Cmydt[t] * (e + vx[c] - ep[c]);
            if (shp) {
                r2 += gxp * ep_prev;
                gxe_p = 0;
            }
            if (shn) {
                r2 += gxn * ld(ve, w->prec, ve_off + (size_t)c + 1);
                gxe_n = 0;
            }
        }
        axm_mrg_thomas_fwd(D11, D12, D22, r1, r2, gip, gxe_p, &blk);
        axm_mrg_thomas_store(sc, (size_t)c * 7, 1, &blk, gin, gxe_n);
        gip = gin;
        gxp = gxn;
        shp = sh;
        ep_prev = e;
        if (++j == 11) {
            j = 0;
            i++;
        }
    }
    /* back substitution, then vm, vx, e_prev and the node gates */
    double x1 = 0, x2 = 0;
    for (int c = M - 1; c >= 0; c--) {
        axm_mrg_thomas_back(sc, (size_t)c * 7, 1, &x1, &x2);
        double vnew = x1 - x2;
        vm[c] = vnew;
        vx[c] = x2;
        ep[c] = ld(ve, w->prec, ve_off + (size_t)c);
        if (c % 11 == 0) {
            int i = c / 11;
            st_set(w, state, b, 4, i, vnew);
            if (pe && (i == 0 || i == W - 1)) continue; /* passive: gates unused, left as they are */
            node_gates(w, state, b, i, vnew, dt);
        }
    }
}

/* All nodes active (vx = e at every node): internodes condensed onto a tridiagonal node system. */
static void step_fiber_condensed(mrg_ws *w, int b, void *state, const void *ve, size_t ve_off,
                                 const void *intra, size_t in_off, double dt, double *sc)
{
    fiber_c *f = &w->fc[b];
    const int M = w->M, W = w->W;
    double *vm = w->vm + (size_t)b * M, *vx = w->vx + (size_t)b * M, *ep = w->eprev + (size_t)b * M;
    if (f->dt_fact != dt) {
        axm_mrg_internode_factor(f->C, f->Gpas, f->Cmy, f->Gmy, f->gi, f->gx, dt, &f->S[0][0], f->z1, f->z2);
        f->dt_fact = dt;
    }
    /* z0[j][i]: unknown j (vi, vx of internal compartment j/2) of internode i; laid out across
     * internodes so that the solves below run over independent internodes in the inner loop
     * instead of along one serial elimination chain */
    const int NI = W - 1;
    double *restrict z0 = sc;                         /* [20][NI] */
    double *restrict nd = sc + (size_t)20 * NI;       /* [W][3]: diag, rhs, then Thomas values */
    const double g = f->gi[0];                        /* node-MYSA link, both sides */
    const double P = f->z1[0], Q = f->z1[18], R = f->z2[18];
    const axm_prec prec = w->prec;
    double Cdt[N_TYPES], Cmydt[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        Cdt[t] = f->C[t] / dt;
        Cmydt[t] = f->Cmy[t] / dt;
    }
    /* internodes: right-hand sides */
    for (int i = 0; i < NI; i++) {
        size_t c0 = (size_t)11 * i;
        for (int k = 0; k < 10; k++) {
            size_t c = c0 + 1 + k;
            int t = axm_mrg_internode_type[k];
            double e = ld(ve, prec, ve_off + c);
            double common = Cdt[t] * vm[c] + f->Gpas[t] * w->epas;
            z0[(size_t)(2 * k) * NI + i] = common;
            z0[(size_t)(2 * k + 1) * NI + i] = -common + f->Gmy[t] * e + Cmydt[t] * (e + vx[c] - ep[c]);
        }
        z0[(size_t)1 * NI + i] += f->gx[0] * ld(ve, prec, ve_off + c0);
        z0[(size_t)19 * NI + i] += f->gx[10] * ld(ve, prec, ve_off + c0 + 11);
    }
    /* T z = r for every internode at once (axm_mrg_internode_solve, transposed) */
    for (int k = 0; k < 10; k++) {
        double *restrict r1 = z0 + (size_t)(2 * k) * NI, *restrict r2 = r1 + NI;
        const double s11 = f->S[k][0], s12 = f->S[k][1], s22 = f->S[k][2];
        if (k) {
            const double *restrict p1 = r1 - 2 * NI, *restrict p2 = r1 - NI;
            const double gik = f->gi[k], gxk = f->gx[k];
            for (int i = 0; i < NI; i++) {
                double a1 = r1[i] + gik * p1[i], a2 = r2[i] + gxk * p2[i];
                r1[i] = s11 * a1 + s12 * a2;
                r2[i] = s12 * a1 + s22 * a2;
            }
        } else {
            for (int i = 0; i < NI; i++) {
                double a1 = r1[i], a2 = r2[i];
                r1[i] = s11 * a1 + s12 * a2;
                r2[i] = s12 * a1 + s22 * a2;
            }
        }
    }
    for (int k = 8; k >= 0; k--) {
        double *restrict x1 = z0 + (size_t)(2 * k) * NI, *restrict x2 = x1 + NI;
        const double *restrict n1 = x1 + 2 * NI, *restrict n2 = x1 + 3 * NI;
        const double s11 = f->S[k][0], s12 = f->S[k][1], s22 = f->S[k][2];
        const double gin = f->gi[k + 1], gxn = f->gx[k + 1];
        for (int i = 0; i < NI; i++) {
            double t1 = gin * n1[i], t2 = gxn * n2[i];
            x1[i] += s11 * t1 + s12 * t2;
            x2[i] += s12 * t1 + s22 * t2;
        }
    }
    /* node rows, condensed */
    const double A = f->A[AXM_MRG_NODE], CdtN = Cdt[AXM_MRG_NODE];
    for (int i = 0; i < W; i++) {
        double v = st_get(w, state, b, 4, i);
        double mm = st_get(w, state, b, 0, i), hh = st_get(w, state, b, 1, i);
        double pp = st_get(w, state, b, 2, i), ss = st_get(w, state, b, 3, i);
        double gna = w->gna * mm * mm * mm * hh, gnap = w->gnap * pp * pp * pp, gk = w->gk * ss;
        double gion = A * (gna + gnap + gk + w->gl);
        double jion = A * ((gna + gnap) * w->ena + gk * w->ek + w->gl * w->el);
        double a = CdtN + gion, e = ld(ve, prec, ve_off + (size_t)11 * i);
        double d = a, rhs = CdtN * v + jion + a * e;
        if (intra) rhs += ld(intra, prec, in_off + (size_t)i);
        if (i < W - 1) {
            d += g - g * g * P;
            rhs += g * z0[i];
        }
        if (i > 0) {
            d += g - g * g * R;
            rhs += g * z0[(size_t)18 * NI + (i - 1)];
        }
        nd[3 * i] = d;
        nd[3 * i + 1] = rhs;
    }
    /* Thomas on the node vi; off-diagonal -g^2 Q everywhere */
    const double off = -g * g * Q;
    for (int i = 0; i < W; i++) {
        double d = nd[3 * i], rhs = nd[3 * i + 1];
        if (i) {
            double cp = nd[3 * (i - 1) + 2]; /* previous c' = off / d'_(i-1) */
            d -= off * cp;
            rhs -= off * nd[3 * (i - 1) + 1];
        }
        nd[3 * i + 1] = rhs / d;
        nd[3 * i + 2] = off / d;
        nd[3 * i] = d;
    }
    for (int i = W - 2; i >= 0; i--) nd[3 * i + 1] -= nd[3 * i + 2] * nd[3 * (i + 1) + 1];
    /* internal unknowns, then states and gates */
    for (int i = 0; i < NI; i++) {
        double gl = g * nd[3 * i + 1], gr = g * nd[3 * (i + 1) + 1];
        size_t c0 = (size_t)11 * i;
        for (int k = 0; k < 10; k++) {
            size_t c = c0 + 1 + k;
            double xi = z0[(size_t)(2 * k) * NI + i] + gl * f->z1[2 * k] + gr * f->z2[2 * k];
            double xx = z0[(size_t)(2 * k + 1) * NI + i] + gl * f->z1[2 * k + 1] + gr * f->z2[2 * k + 1];
            vm[c] = xi - xx;
            vx[c] = xx;
            ep[c] = ld(ve, prec, ve_off + c);
        }
    }
    for (int i = 0; i < W; i++) {
        size_t c = (size_t)11 * i;
        double e = ld(ve, prec, ve_off + c);
        double vnew = nd[3 * i + 1] - e;
        vm[c] = vnew;
        vx[c] = e;
        ep[c] = e;
        st_set(w, state, b, 4, i, vnew);
        node_gates(w, state, b, i, vnew, dt);
    }
}

static void step(void *p, int b0, int b1, void *state, const void *ve, const void *intra, double dt,
                 void *scratch)
{
    mrg_ws *w = p;
    for (int b = b0; b < b1; b++)
        (w->passive_end ? step_fiber : step_fiber_condensed)(w, b, state, ve, (size_t)(b - b0) * (size_t)w->M, intra, (size_t)(b - b0) * (size_t)w->W,
                   dt, scratch);
}

void axm_mrg_hidden(const void *p, int b, int c, double *vm, double *vx)
{
    const mrg_ws *w = p;
    size_t k = (size_t)b * (size_t)w->M + (size_t)c;
    if (vm) *vm = w->vm[k];
    if (vx) *vx = w->vx[k];
}

const axm_model_kind axm_kind_mrg = {
    .name = "mrg",
    .summary = "MRG double-cable myelinated fiber (McIntyre 2002), NEURON backward Euler",
    .n_states = 5,
    .state_names = state_names,
    .n_params = N_PARAMS,
    .params = params,
    .has_stencil = 0,
    .ve_timing = AXM_VE_MIDSTEP,
    .min_nodes = 2,
    .n_comp = n_comp,
    .positions = positions,
    .ws_create = ws_create,
    .ws_destroy = ws_destroy,
    .scratch_bytes = scratch_bytes,
    .init = init,
    .step = step,
};
