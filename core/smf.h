/* S-MF internals that tests and other model code may inspect (smf-model.md §2.2, §3). */
#ifndef AXM_SMF_H
#define AXM_SMF_H

#include "model.h"

/* Lumped per-node quantities of an S-MF fiber of diameter D (smf-model.md §2.2). */
typedef struct axm_smf_lumped {
    double axon_d_um, node_d_um, deltax_um; /* from the model's polynomials */
    double area_cm2, ra_ohm, cn_mF;
    double gna_S, gnap_S, gk_S, gl_S;
    double ve_gain; /* factor on the ve channel of the stencil (1 in the original S-MF) */
    double cm_gain; /* factor on the node capacitance: cn_mF = cm * area * cm_gain (1 in the original) */
} axm_smf_lumped;

/* Fails (AXM_ERR_INPUT) when D is not a positive finite number or gives a non-positive area,
 * deltax, axonD, Cn or ve gain. */
int axm_smf_lumped_eval(const axm_model *m, double D_um, axm_smf_lumped *out, axm_err *err);

/* Q10 factors at the model's temperature: q[0] = m, q[1] = p, q[2] = h, q[3] = s. */
void axm_smf_q10(const axm_model *m, double q[4]);

#endif
