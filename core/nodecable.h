/* What the node-cable model kinds share (internal to core/): S-MF and Sundt both step W
 * compartments of four gates and vm, coupled by one symmetric stencil, with an explicit vm update.
 * Their workspaces begin with an axm_nodecable; this module checks their common inputs, keeps the
 * explicit step limit (explicit_dt.h) and writes the initial state. */
#ifndef AXM_NODECABLE_H
#define AXM_NODECABLE_H

#include "err.h"
#include "model.h"

typedef struct axm_nodecable {
    int B, W, taps, hn;
    axm_prec prec;
    double max_dt;    /* explicit stability limit, lowest over fibers (ms) */
    int max_dt_fiber; /* the fiber that sets it */
} axm_nodecable;

/* Fills c for B fibers of W nodes of model m; kind names the model in errors. Rejects W < 2 and
 * stencils that are not odd, wider than AXM_MAX_TAPS or wider than the fiber. */
int axm_nodecable_setup(axm_nodecable *c, const char *kind, const axm_model *m, int B, int W, axm_prec prec,
                        axm_err *err);

/* Fiber b's explicit step limit (ms): c keeps the lowest. */
void axm_nodecable_limit(axm_nodecable *c, int b, double limit_ms);

/* Fibers [b0, b1) of state ([B][n_states][W] in c's precision) at the initial values ic. */
void axm_nodecable_init(const axm_nodecable *c, int n_states, const double *ic, int b0, int b1, void *state);

/* The model kind's max_dt_ms operation for any workspace that begins with an axm_nodecable. */
double axm_nodecable_max_dt(const void *ws, int *fiber);

/* The steps are compiled for AVX-512, AVX2+FMA and the baseline instruction set and chosen at run
 * time. With no FMA contraction (-std=c11) and only explicit, correctly rounded fma() calls, all
 * versions compute bit-identical results. The baseline version calls libm's fma and does not
 * vectorize: it is for CPUs older than Haswell. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define AXM_NC_X86 1
#define AXM_NC_T512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define AXM_NC_T256 __attribute__((target("avx2,fma")))
#else
#define AXM_NC_X86 0
#endif

/* The widest version this CPU runs: 2 AVX-512, 1 AVX2+FMA, 0 baseline. AXM_SMF_ISA=0|1|2 in the
 * environment caps the choice (tests compare the versions). */
int axm_nodecable_isa(void);

#endif
