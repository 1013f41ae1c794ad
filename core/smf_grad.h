/* Reverse-mode gradients of the S-MF time step (smf-model.md §2-§5), in fp64, for training.
 *
 * This module keeps its own copy of the S-MF equations so that the backward pass can recompute
 * whatever it needs from the state before a step (no tape): the training loop stores the states
 * of a truncation chunk and walks them backwards. The forward here follows §5 in the same order as
 * the engine's step (core/smf.c); tests check that both agree.
 *
 * Parameters live in an axm_smfg_theta, indexed by AXM_SMFG_* below; axm_smfg_theta_from_model maps
 * a model's parameters by name, so the engine's table order does not matter. */
#ifndef AXM_SMF_GRAD_H
#define AXM_SMF_GRAD_H

#include "err.h"
#include "model.h"

enum {
    AXM_SMFG_GNABAR, AXM_SMFG_GKBAR, AXM_SMFG_GNAPBAR, AXM_SMFG_GL,
    AXM_SMFG_ENA, AXM_SMFG_EK, AXM_SMFG_EL,
    AXM_SMFG_CM, AXM_SMFG_RHOA,
    AXM_SMFG_AMPA, AXM_SMFG_AMPB, AXM_SMFG_AMPC, AXM_SMFG_BMPA, AXM_SMFG_BMPB, AXM_SMFG_BMPC,
    AXM_SMFG_AMA, AXM_SMFG_AMB, AXM_SMFG_AMC, AXM_SMFG_BMA, AXM_SMFG_BMB, AXM_SMFG_BMC,
    AXM_SMFG_AHA, AXM_SMFG_AHB, AXM_SMFG_AHC, AXM_SMFG_BHA, AXM_SMFG_BHB, AXM_SMFG_BHC,
    AXM_SMFG_ASA, AXM_SMFG_ASB, AXM_SMFG_ASC, AXM_SMFG_BSA, AXM_SMFG_BSB, AXM_SMFG_BSC,
    AXM_SMFG_AXOND1, AXM_SMFG_AXOND2, AXM_SMFG_AXOND3,
    AXM_SMFG_NODED1, AXM_SMFG_NODED2, AXM_SMFG_NODED3,
    AXM_SMFG_DELTAX1, AXM_SMFG_DELTAX2, AXM_SMFG_DELTAX3,
    AXM_SMFG_VTRAUB,
    AXM_SMFG_AQ10_1, AXM_SMFG_PQ10_1, AXM_SMFG_AQ10_2, AXM_SMFG_AQ10_3,
    AXM_SMFG_BQ10_1, AXM_SMFG_BQ10_2, AXM_SMFG_BQ10_3,
    AXM_SMFG_CQ10_1, AXM_SMFG_CQ10_2, AXM_SMFG_CQ10_3,
    AXM_SMFG_PI,
    AXM_SMFG_VEGAIN1, AXM_SMFG_VEGAIN2, AXM_SMFG_VEGAIN3,
    AXM_SMFG_CMGAIN1, AXM_SMFG_CMGAIN2, AXM_SMFG_CMGAIN3,
    AXM_SMFG_NP
};

#define AXM_SMFG_NS 5 /* m, h, p, s, v */

/* Name, group and default of parameter i (smf-model.md §2.1). */
const char *axm_smfg_param_name(int i);
const char *axm_smfg_param_group(int i);
double axm_smfg_param_default(int i);
int axm_smfg_param_find(const char *name); /* -1 if unknown */

typedef struct axm_smfg_theta {
    double p[AXM_SMFG_NP];
    int taps;                            /* odd, <= AXM_MAX_TAPS */
    double w[2][AXM_MAX_TAPS];           /* raw stencil weights; symmetrized on use */
    double temp_c;
    int handle_nan;
    int round_f32;                       /* round each new state to float32 (straight-through) */
} axm_smfg_theta;

void axm_smfg_theta_defaults(axm_smfg_theta *th);
/* Reads every parameter by name ("pi" falls back to float32(π), the ve and cm gains to 1 when the
 * kind has none). Errors
 * when the model is not an S-MF (a parameter of §2.1 missing). */
int axm_smfg_theta_from_model(axm_smfg_theta *th, const axm_model *m, axm_err *err);
/* Writes parameters and stencil back into the model (by name). */
void axm_smfg_theta_to_model(const axm_smfg_theta *th, axm_model *m);

/* Per-fiber lumped quantities (§2.2) and the Q10 factors (§3). */
typedef struct axm_smfg_lumped {
    double axonD, nodeD, deltax, area, ra, Cn, gna, gnap, gk, gl;
    double cmg;                 /* cm gain: Cn = cm * area * cmg */
    double q[4]; /* m, h, p, s */
    double ws[2][AXM_MAX_TAPS]; /* symmetrized stencil (the same for every fiber) */
    double gve;                 /* ve gain: d2v = ws[0] * vm + gve * (ws[1] * ve) */
} axm_smfg_lumped;
void axm_smfg_lump(const axm_smfg_theta *th, double D_um, axm_smfg_lumped *L);

/* Gradient accumulator: parameters and raw stencil, plus per-fiber lumped adjoints that
 * axm_smfg_grad_flush_fiber chains into the parameters (call once per fiber after its steps).
 * ws[1] is the adjoint of the fiber's effective ve weights gve * L.ws[1]. */
typedef struct axm_smfg_grad {
    double p[AXM_SMFG_NP];
    double w[2][AXM_MAX_TAPS];
    /* per fiber, flushed */
    double Cn, ra, gna, gnap, gk, gl, q[4], ws[2][AXM_MAX_TAPS];
} axm_smfg_grad;
void axm_smfg_grad_zero(axm_smfg_grad *g);
void axm_smfg_grad_flush_fiber(const axm_smfg_theta *th, double D_um, axm_smfg_grad *g);
void axm_smfg_grad_add(axm_smfg_grad *dst, const axm_smfg_grad *src); /* p and w only */

/* Scratch for one fiber: this many doubles. */
size_t axm_smfg_scratch_doubles(int W);

/* One step of one fiber (§5): s_old, s_new are (5, W) (may not alias); ve, intra (W) or intra NULL. */
void axm_smfg_fwd_step(const axm_smfg_theta *th, const axm_smfg_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, double *s_new,
                      double *scratch);

/* Vector-Jacobian product of that step: given gs_new = dLoss/ds_new (5, W), writes gs_old =
 * dLoss/ds_old (5, W), adds to gve and gintra (W each, may be NULL) and accumulates the
 * parameter adjoints into g (lumped per-fiber parts included). */
void axm_smfg_bwd_step(const axm_smfg_theta *th, const axm_smfg_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, const double *gs_new,
                      double *gs_old, double *gve, double *gintra, axm_smfg_grad *g,
                      double *scratch);

/* Initial condition of §6.4 for one fiber (5, W). */
void axm_smfg_ic(int W, double *s);

#endif
