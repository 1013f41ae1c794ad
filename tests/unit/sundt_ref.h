/* The Sundt C-fiber step (smf-model.md §8) written out literally, one node at a time with libm's
 * exp, in double: the reference the vectorized kind is tested (tests/unit/test_sundt.c) and
 * benchmarked (tests/bench/bench_sundt.c) against. Fibers of at most 128 nodes. */
#ifndef AXM_TEST_SUNDT_REF_H
#define AXM_TEST_SUNDT_REF_H

#include <math.h>

#include "model.h"

typedef struct ref_sundt {
    int W, taps;
    double w[2][AXM_MAX_TAPS], q[4], fz, inv_cn, inv_ra, gna, gk, gl;
    double mshift, hshift, am1, am2, am3, bm1, bm2, bm3, ah1, ah2, ah3, bh1, bh2, bh3, bh4;
    double zetan, gmn, vhalfn, a0n, zetal, gml, vhalfl, a0l, ena, ek, el;
} ref_sundt;

static void ref_setup(ref_sundt *r, const axm_model *m, int W, double D)
{
#define RP(n) axm_model_get(m, n)
    r->W = W;
    r->taps = m->taps;
    axm_model_stencil_sym(m, r->w);
    static const char *aq[4] = {"aq10_1", "aq10_2", "aq10_3", "aq10_4"}, *bq[4] = {"bq10_1", "bq10_2", "bq10_3", "bq10_4"},
                      *cq[4] = {"cq10_1", "cq10_2", "cq10_3", "cq10_4"};
    for (int i = 0; i < 4; i++) r->q[i] = pow(RP(aq[i]), (m->temp_c - RP(bq[i])) / RP(cq[i]));
    r->fz = 1e-3 * 9.648e4 / (8.315 * (273.16 + m->temp_c));
    double axonD = RP("axond1") * D * D + RP("axond2") * D + RP("axond3"), pi = RP("pi");
    double dx = RP("dx") / 1e4, area = pi * (RP("scale") * axonD / 1e4) * dx;
    r->inv_ra = 1 / (RP("rhoa") * dx / (pi * (axonD / 2e4) * (axonD / 2e4)));
    r->inv_cn = 1 / (RP("cm") * area);
    r->gna = RP("gnabar") * area;
    r->gk = RP("gkbar") * area;
    r->gl = RP("gl") * area;
    r->mshift = RP("mshift"), r->hshift = RP("hshift");
    r->am1 = RP("am1"), r->am2 = RP("am2"), r->am3 = RP("am3");
    r->bm1 = RP("bm1"), r->bm2 = RP("bm2"), r->bm3 = RP("bm3");
    r->ah1 = RP("ah1"), r->ah2 = RP("ah2"), r->ah3 = RP("ah3");
    r->bh1 = RP("bh1"), r->bh2 = RP("bh2"), r->bh3 = RP("bh3"), r->bh4 = RP("bh4");
    r->zetan = RP("zetan"), r->gmn = RP("gmn"), r->vhalfn = RP("vhalfn"), r->a0n = RP("a0n");
    r->zetal = RP("zetal"), r->gml = RP("gml"), r->vhalfl = RP("vhalfl"), r->a0l = RP("a0l");
    r->ena = RP("ena"), r->ek = RP("ek"), r->el = RP("el");
#undef RP
}

static double ref_tm_rate(double x, double y) { return x / (exp(x / y) - 1); }

/* One step of one fiber: st = m, h, n, l, v (W each). */
static void ref_step(const ref_sundt *r, double *st, const double *ve, const double *intra, double dt)
{
    int W = r->W, hw = r->taps / 2;
    double *mm = st, *hh = st + W, *nn = st + 2 * W, *ll = st + 3 * W, *v = st + 4 * W, d2v[128];
    for (int j = 0; j < W; j++) {
        double acc = 0;
        for (int c = 0; c < 2; c++)
            for (int t = 0; t < r->taps; t++) {
                int i = j + t - hw;
                i = i < 0 ? -i : (i > W - 1 ? 2 * (W - 1) - i : i);
                acc += r->w[c][t] * (c ? ve[i] : v[i]);
            }
        d2v[j] = acc;
    }
    for (int j = 0; j < W; j++) {
        double vo = v[j], u = vo + 65 + r->mshift;
        double a = r->am1 * ref_tm_rate(r->am2 - u, r->am3);
        double b = r->bm1 * ref_tm_rate(u - r->bm2, r->bm3);
        double inf = a / (a + b);
        mm[j] = inf - (inf - mm[j]) * exp(-dt * r->q[0] * (a + b));
        u = vo + 65 + r->hshift;
        a = r->ah1 * exp((r->ah2 - u) / r->ah3);
        b = r->bh1 / (exp((r->bh2 - u) / r->bh3) + r->bh4);
        inf = a / (a + b);
        hh[j] = inf - (inf - hh[j]) * exp(-dt * r->q[1] * (a + b));
        a = exp(r->fz * r->zetan * (vo - r->vhalfn));
        b = exp(r->fz * r->zetan * r->gmn * (vo - r->vhalfn));
        inf = 1 / (1 + a);
        nn[j] = inf - (inf - nn[j]) * exp(-dt * r->q[2] * r->a0n * (1 + a) / b);
        a = exp(r->fz * r->zetal * (vo - r->vhalfl));
        b = exp(r->fz * r->zetal * r->gml * (vo - r->vhalfl));
        inf = 1 / (1 + a);
        ll[j] = inf - (inf - ll[j]) * exp(-dt * r->q[3] * r->a0l * (1 + a) / b);
        double I = r->gna * mm[j] * mm[j] * mm[j] * hh[j] * (vo - r->ena) +
                   r->gk * nn[j] * nn[j] * nn[j] * ll[j] * (vo - r->ek) + r->gl * (vo - r->el) - intra[j];
        v[j] = vo + dt * r->inv_cn * (r->inv_ra * d2v[j] - I);
    }
}

#endif
