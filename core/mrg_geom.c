/* MRG geometry (mrg-model.md §4) and per-section electrical parameters (§2.2, §2.4). */
#include "mrg.h"

#include <math.h>

#define RHOA_OHM_UM 0.7e6
#define NODE_LEN 1.0
#define MYSA_LEN 3.0
#define SPACE_P1 0.002
#define SPACE_P2 0.004
#define SPACE_I 0.004

/* McIntyre 2002 table: D, axonD, nodeD, paraD1, paraD2, deltax, paralength2, nl. */
static const double classic[][8] = {
    {1.0, 0.8, 0.7, 0.7, 0.8, 100, 5, 15},
    {2.0, 1.6, 1.4, 1.4, 1.6, 200, 10, 30},
    {5.7, 3.4, 1.9, 1.9, 3.4, 500, 35, 80},
    {7.3, 4.6, 2.4, 2.4, 4.6, 750, 38, 100},
    {8.7, 5.8, 2.8, 2.8, 5.8, 1000, 40, 110},
    {10.0, 6.9, 3.3, 3.3, 6.9, 1150, 46, 120},
    {11.5, 8.1, 3.7, 3.7, 8.1, 1250, 50, 130},
    {12.8, 9.2, 4.2, 4.2, 9.2, 1350, 54, 135},
    {14.0, 10.4, 4.7, 4.7, 10.4, 1400, 56, 140},
    {15.0, 11.5, 5.0, 5.0, 11.5, 1450, 58, 145},
    {16.0, 12.7, 5.5, 5.5, 12.7, 1500, 60, 150},
};

static void method1(double D, axm_mrg_geom *g)
{
    g->axonD = 1.876226e-02 * D * D + 4.787487e-01 * D + 1.203613e-01;
    double fit = 6.303781e-03 * D * D + 2.070544e-01 * D + 5.339006e-01;
    g->nodeD = D > 1.5 ? fit : g->axonD * 1.9 / 3.4;
    g->paraD1 = fit; /* the fit even for D <= 1.5, as cajal does */
    g->paraD2 = g->axonD;
    g->deltax = D >= 5.26 ? -8.215284 * D * D + 2.724201e02 * D - 7.802411e02 : (500.0 / 5.7) * D;
    g->paralength2 = -1.989947e-02 * D * D + 3.016265 * D + 1.743604e01;
    g->nl = -3.889695e-01 * D * D + 1.487838e01 * D + 9.721088;
}

static void method2(double D, int geom_fit, int lemella_fit, axm_mrg_geom *g)
{
    switch (geom_fit) {
    case 1: g->axonD = 0.553 * D - 0.024; break;                   /* fazan_proximal */
    case 2: g->axonD = 0.688 * D - 0.337; break;                   /* fazan_distal */
    case 3: g->axonD = 0.0156 * D * D + 0.392 * D + 0.188; break;  /* berthold */
    case 4: g->axonD = 0.684 * D + 0.0821; break;                  /* friede */
    default: g->axonD = 0.621 * D - 0.121; break;                  /* combined */
    }
    g->nodeD = 0.321 * g->axonD + 0.37;
    g->paraD1 = g->nodeD;
    g->paraD2 = g->axonD;
    g->deltax = -3.22 * D * D + 148 * D - 128;
    g->paralength2 = -0.171 * D * D + 6.48 * D - 0.935;
    g->nl = lemella_fit == 1 ? floor(-1.17 * g->axonD * g->axonD + 24.9 * g->axonD + 17.7)
                             : floor(17.4 * g->axonD - 1.74);
}

static void method3(double D, axm_mrg_geom *g)
{
    g->axonD = 0.889 * D - 1.9104;
    g->nodeD = 0.3449 * D - 0.1484;
    g->paraD1 = 0.3527 * D - 0.1804;
    g->paraD2 = g->axonD;
    g->deltax = 969.3 * log(D) - 1144.6;
    g->paralength2 = 2.5811 * D + 19.59;
    g->nl = 65.897 * log(D) - 32.666;
}

static double rp(double d, double space)
{
    return RHOA_OHM_UM * 0.01 / (M_PI * ((d / 2 + space) * (d / 2 + space) - (d / 2) * (d / 2)));
}

int axm_mrg_geometry(double D, int method, int geom_fit, int lemella_fit, axm_mrg_geom *g,
                     axm_err *err)
{
    if (!(D > 0) || !isfinite(D))
        return axm_fail(err, AXM_ERR_INPUT, "mrg: fiber diameter must be > 0 um (got %g)", D);
    if (geom_fit < 0 || geom_fit > 4)
        return axm_fail(err, AXM_ERR_INPUT,
                        "mrg: geom_fit must be 0..4 (combined, fazan_proximal, fazan_distal, berthold, friede), got %d",
                        geom_fit);
    if (lemella_fit != 0 && lemella_fit != 1)
        return axm_fail(err, AXM_ERR_INPUT, "mrg: lemella_fit must be 0 or 1, got %d", lemella_fit);
    g->D = D;
    switch (method) {
    case 0:
    case AXM_GEOM_METHOD1: method1(D, g); break;
    case AXM_GEOM_METHOD2: method2(D, geom_fit, lemella_fit, g); break;
    case AXM_GEOM_METHOD3: method3(D, g); break;
    case AXM_GEOM_PIECEWISE:
        if (D > 5.7)
            method1(D, g);
        else
            method2(D, geom_fit, lemella_fit, g);
        break;
    case AXM_GEOM_CLASSIC: {
        int n = (int)(sizeof classic / sizeof classic[0]), k = -1;
        for (int i = 0; i < n; i++)
            if (fabs(D - classic[i][0]) < 1e-9) k = i;
        if (k < 0)
            return axm_fail(err, AXM_ERR_INPUT,
                            "mrg: classic geometry needs a tabulated diameter (1, 2, 5.7, 7.3, 8.7, 10, 11.5, 12.8, 14, 15, 16 um), got %g",
                            D);
        g->axonD = classic[k][1];
        g->nodeD = classic[k][2];
        g->paraD1 = classic[k][3];
        g->paraD2 = classic[k][4];
        g->deltax = classic[k][5];
        g->paralength2 = classic[k][6];
        g->nl = classic[k][7];
        break;
    }
    default:
        return axm_fail(err, AXM_ERR_INPUT, "mrg: geometry must be 1, 2, 3 (methods), 4 (classic) or 5 (piecewise), got %d",
                        method);
    }
    if (!(g->deltax > 0))
        return axm_fail(err, AXM_ERR_INPUT, "mrg: node spacing deltax = %g um <= 0 for D = %g um", g->deltax, D);
    g->interlength = (g->deltax - NODE_LEN - 2 * MYSA_LEN - 2 * g->paralength2) / 6;
    g->Rpn0 = rp(g->nodeD, SPACE_P1);
    g->Rpn1 = rp(g->paraD1, SPACE_P1);
    g->Rpn2 = rp(g->paraD2, SPACE_P2);
    g->Rpx = rp(g->axonD, SPACE_I);
    /* cajal checks only deltax; a non-positive length, diameter or lamella count would give
     * negative areas or conductances, so it is refused here */
    if (!(g->interlength > 0 && g->paralength2 > 0 && g->axonD > 0 && g->nodeD > 0 && g->paraD1 > 0 &&
          g->paraD2 > 0 && g->nl > 0))
        return axm_fail(err, AXM_ERR_INPUT,
                        "mrg: D = %g um gives a non-positive geometry (axonD %g, nodeD %g, paraD1 %g, FLUT length %g, STIN length %g, nl %g)",
                        D, g->axonD, g->nodeD, g->paraD1, g->paralength2, g->interlength, g->nl);
    return AXM_OK;
}

int axm_mrg_geometry_model(const axm_model *m, double D, axm_mrg_geom *g, axm_err *err)
{
    return axm_mrg_geometry(D, m->geometry, m->geom_fit, m->lemella_fit, g, err);
}

void axm_mrg_section(const axm_mrg_geom *g, int type, axm_mrg_sec *s)
{
    double D = g->D, myg = 0.001 / (2 * g->nl), myc = 0.1 / (2 * g->nl), secd = g->axonD, g0 = 0.0001;
    switch (type) {
    case AXM_MRG_NODE:
    case AXM_MRG_END_NODE:
        s->L = NODE_LEN;
        s->diam = g->nodeD;
        s->Ra = 70;
        s->cm = 2;
        if (type == AXM_MRG_NODE) {
            s->g_pas = 0;
            s->xraxial0 = g->Rpn0;
            s->xg0 = 1e10;
            s->xc0 = 0;
        } else {
            /* cajal leaves xraxial[0] at NEURON's default 1e9 MΩ/cm */
            s->g_pas = 0.0001;
            s->xraxial0 = 1e9;
            s->xg0 = myg;
            s->xc0 = myc;
        }
        break;
    default:
        if (type == AXM_MRG_MYSA) {
            secd = g->paraD1;
            g0 = 0.001;
            s->L = MYSA_LEN;
            s->xraxial0 = g->Rpn1;
        } else if (type == AXM_MRG_FLUT) {
            secd = g->paraD2;
            s->L = g->paralength2;
            s->xraxial0 = g->Rpn2;
        } else {
            s->L = g->interlength;
            s->xraxial0 = g->Rpx;
        }
        s->diam = D;
        s->Ra = 70 * (D / secd) * (D / secd);
        s->cm = 2 * secd / D;
        s->g_pas = g0 * secd / D;
        s->xg0 = myg;
        s->xc0 = myc;
        break;
    }
    s->area = M_PI * s->diam * s->L * 1e-8;
    s->C = s->cm * 1e-3 * s->area;
    s->Gpas = s->g_pas * s->area;
    s->Gmy = s->xg0 * s->area;
    s->Cmy = s->xc0 * 1e-3 * s->area;
    s->Ri_half = s->Ra * 1e4 * (s->L / 2) / (M_PI * s->diam * s->diam / 4);
    s->Rx_half = s->xraxial0 * (s->L / 2) * 1e-4 * 1e6;
}
