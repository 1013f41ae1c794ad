/* Reverse-mode gradients of the S-MF time step (smf-model.md §2-§5), in fp64, for training.
 *
 * This module keeps its own copy of the S-MF equations so that the backward pass can recompute
 * whatever it needs from the state before a step (no tape): the training loop stores the states
 * of a truncation chunk and walks them backwards. The forward here follows §5 in the same order as
 * the engine's step (core/smf.c); tests check that both agree.
 *
 * Parameters live in an axm_smf_theta, indexed by AXM_SMF_* below; axm_smf_theta_from_model maps
 * a model's parameters by name, so the engine's table order does not matter. */
#ifndef AXM_SMF_GRAD_H
#define AXM_SMF_GRAD_H

#include "err.h"
#include "model.h"

enum {
    AXM_SMF_GNABAR, AXM_SMF_GKBAR, AXM_SMF_GNAPBAR, AXM_SMF_GL,
    AXM_SMF_ENA, AXM_SMF_EK, AXM_SMF_EL,
    AXM_SMF_CM, AXM_SMF_RHOA,
    AXM_SMF_AMPA, AXM_SMF_AMPB, AXM_SMF_AMPC, AXM_SMF_BMPA, AXM_SMF_BMPB, AXM_SMF_BMPC,
    AXM_SMF_AMA, AXM_SMF_AMB, AXM_SMF_AMC, AXM_SMF_BMA, AXM_SMF_BMB, AXM_SMF_BMC,
    AXM_SMF_AHA, AXM_SMF_AHB, AXM_SMF_AHC, AXM_SMF_BHA, AXM_SMF_BHB, AXM_SMF_BHC,
    AXM_SMF_ASA, AXM_SMF_ASB, AXM_SMF_ASC, AXM_SMF_BSA, AXM_SMF_BSB, AXM_SMF_BSC,
    AXM_SMF_AXOND1, AXM_SMF_AXOND2, AXM_SMF_AXOND3,
    AXM_SMF_NODED1, AXM_SMF_NODED2, AXM_SMF_NODED3,
    AXM_SMF_DELTAX1, AXM_SMF_DELTAX2, AXM_SMF_DELTAX3,
    AXM_SMF_VTRAUB,
    AXM_SMF_AQ10_1, AXM_SMF_PQ10_1, AXM_SMF_AQ10_2, AXM_SMF_AQ10_3,
    AXM_SMF_BQ10_1, AXM_SMF_BQ10_2, AXM_SMF_BQ10_3,
    AXM_SMF_CQ10_1, AXM_SMF_CQ10_2, AXM_SMF_CQ10_3,
    AXM_SMF_PI,
    AXM_SMF_NP
};

#define AXM_SMF_NS 5 /* m, h, p, s, v */

/* Name, group and default of parameter i (smf-model.md §2.1). */
const char *axm_smf_param_name(int i);
const char *axm_smf_param_group(int i);
double axm_smf_param_default(int i);
int axm_smf_param_find(const char *name); /* -1 if unknown */

typedef struct axm_smf_theta {
    double p[AXM_SMF_NP];
    int taps;                            /* odd, <= AXM_MAX_TAPS */
    double w[2][AXM_MAX_TAPS];           /* raw stencil weights; symmetrized on use */
    double temp_c;
    int handle_nan;
    int round_f32;                       /* round each new state to float32 (straight-through) */
} axm_smf_theta;

void axm_smf_theta_defaults(axm_smf_theta *th);
/* Reads every parameter by name ("pi" falls back to float32(π) when the kind has none). Errors
 * when the model is not an S-MF (a parameter of §2.1 missing). */
int axm_smf_theta_from_model(axm_smf_theta *th, const axm_model *m, axm_err *err);
/* Writes parameters and stencil back into the model (by name). */
void axm_smf_theta_to_model(const axm_smf_theta *th, axm_model *m);

/* Per-fiber lumped quantities (§2.2) and the Q10 factors (§3). */
typedef struct axm_smf_lumped {
    double axonD, nodeD, deltax, area, ra, Cn, gna, gnap, gk, gl;
    double q[4]; /* m, h, p, s */
    double ws[2][AXM_MAX_TAPS]; /* symmetrized stencil */
} axm_smf_lumped;
void axm_smf_lump(const axm_smf_theta *th, double D_um, axm_smf_lumped *L);

/* Gradient accumulator: parameters and raw stencil, plus per-fiber lumped adjoints that
 * axm_smf_grad_flush_fiber chains into the parameters (call once per fiber after its steps). */
typedef struct axm_smf_grad {
    double p[AXM_SMF_NP];
    double w[2][AXM_MAX_TAPS];
    /* per fiber, flushed */
    double Cn, ra, gna, gnap, gk, gl, q[4], ws[2][AXM_MAX_TAPS];
} axm_smf_grad;
void axm_smf_grad_zero(axm_smf_grad *g);
void axm_smf_grad_flush_fiber(const axm_smf_theta *th, double D_um, axm_smf_grad *g);
void axm_smf_grad_add(axm_smf_grad *dst, const axm_smf_grad *src); /* p and w only */

/* Scratch for one fiber: this many doubles. */
size_t axm_smf_scratch_doubles(int W);

/* One step of one fiber (§5): s_old, s_new are (5, W) (may not alias); ve, intra (W) or intra NULL. */
void axm_smf_fwd_step(const axm_smf_theta *th, const axm_smf_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, double *s_new,
                      double *scratch);

/* Vector-Jacobian product of that step: given gs_new = dLoss/ds_new (5, W), writes gs_old =
 * dLoss/ds_old (5, W), adds to gve and gintra (W each, may be NULL) and accumulates the
 * parameter adjoints into g (lumped per-fiber parts included). */
void axm_smf_bwd_step(const axm_smf_theta *th, const axm_smf_lumped *L, int W, const double *s_old,
                      const double *ve, const double *intra, double dt, const double *gs_new,
                      double *gs_old, double *gve, double *gintra, axm_smf_grad *g,
                      double *scratch);

/* Initial condition of §6.4 for one fiber (5, W). */
void axm_smf_ic(int W, double *s);

#endif
