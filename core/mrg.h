/* MRG double-cable myelinated fiber (McIntyre, Richardson & Grill 2002) as NEURON runs it
 * (mrg-model.md): the model kind "mrg" behind model.h, plus its geometry and membrane kinetics for
 * tests and tools.
 *
 * The kind integrates the reduced 2-unknown system of mrg-model.md §3.3 (outer layer := e, node
 * periaxonal potential := e) with NEURON's fixed-step backward Euler (gates frozen during the
 * voltage solve, cnexp gate update with the new vm), in double precision. With prec = fp32 the
 * node states are stored as float; the hidden internodal state stays double. Node states are
 * m, h, p, s, v (v = vm, mV). The node state array is authoritative for the node gates and vm:
 * step() reads them from it, so a caller may edit or restore them between steps. */
#ifndef AXM_MRG_H
#define AXM_MRG_H

#include "err.h"
#include "model.h"

extern const axm_model_kind axm_kind_mrg;

/* Geometry of one fiber diameter (mrg-model.md §4), lengths and diameters in µm, periaxonal
 * longitudinal resistances in MΩ/cm. */
typedef struct axm_mrg_geom {
    double D, axonD, nodeD, paraD1, paraD2, deltax, paralength2, nl, interlength;
    double Rpn0, Rpn1, Rpn2, Rpx;
} axm_mrg_geom;

/* method: AXM_GEOM_*; geom_fit/lemella_fit are used by method 2 (and by PIECEWISE for D <= 5.7).
 * CLASSIC needs D to be one of the tabulated diameters exactly. Fails on deltax <= 0 or a
 * non-positive compartment length or diameter. */
int axm_mrg_geometry(double D_um, int method, int geom_fit, int lemella_fit, axm_mrg_geom *g,
                     axm_err *err);
/* Geometry by a model's options (geometry 0 = METHOD1). */
int axm_mrg_geometry_model(const axm_model *m, double D_um, axm_mrg_geom *g, axm_err *err);

/* Compartment types along an internode: chain index c = 11 i + j, j = 0 node, 1 MYSA, 2 FLUT,
 * 3..8 STIN, 9 FLUT, 10 MYSA. */
enum { AXM_MRG_NODE = 0, AXM_MRG_MYSA = 1, AXM_MRG_FLUT = 2, AXM_MRG_STIN = 3,
       AXM_MRG_END_NODE = 4 /* passive end node option, mrg-model.md §2.4 */ };

/* NEURON section parameters (mrg-model.md §2.2) and their lumped values (NEURON units in, lumped
 * SI-ish units out: area cm², C and Cmy mF, Gpas and Gmy S, half-compartment resistances Ω). */
typedef struct axm_mrg_sec {
    double L, diam, Ra, cm, g_pas, xraxial0, xg0, xc0;  /* µm, µm, Ω·cm, µF/cm², S/cm², MΩ/cm, S/cm², µF/cm² */
    double area, C, Gpas, Gmy, Cmy, Ri_half, Rx_half;
} axm_mrg_sec;

/* Section of type t (AXM_MRG_*) for geometry g. Node: g_pas 0 (active membrane), xg0 1e10. */
void axm_mrg_section(const axm_mrg_geom *g, int type, axm_mrg_sec *s);

/* Node membrane (mrg-model.md §1). Rates in 1/ms including the Q10 factor at temp_c, in the order
 * p, m, h, s. */
void axm_mrg_rates(double v_mV, double temp_c, double alpha[4], double beta[4]);
/* Outward node current densities (mA/cm²) with the default conductances and reversal potentials:
 * out[0..4] = i_Na, i_NaP, i_K, i_L, sum. */
void axm_mrg_node_currents(double v_mV, double m, double h, double p, double s, double out[5]);

/* Hidden compartment state of fiber b in a workspace made by axm_kind_mrg.ws_create: vm and the
 * periaxonal potential vx (mV) at chain index c (0 <= c < 11W-10). */
void axm_mrg_hidden(const void *ws, int b, int c, double *vm, double *vx);

#endif
