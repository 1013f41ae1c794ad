/* Fiber models behind one interface.
 *
 * A model kind (S-MF, Sundt C-fiber, MRG, ...) is a table of parameters and a handful of
 * operations that the simulation engine (sim.h) calls for a range of fibers at a time. The engine
 * owns the batch, the stimulus, threads and monitors; a kind only knows how to initialize and
 * advance its fibers one step. Adding a fiber model is one new file that defines an
 * axm_model_kind, plus one line in the registry (model.c).
 *
 * Layout conventions (shared with the CUDA backend):
 *   node state   (B, S, W) contiguous, in the run's precision; state S-1 is vm in mV.
 *   ve           the extracellular potential at the kind's n_comp(W) compartments, mV.
 *   intra        intracellular current at the W nodes, mA, positive = depolarizing.
 */
#ifndef AXM_MODEL_H
#define AXM_MODEL_H

#include <stddef.h>

#include "err.h"

#define AXM_MAX_TAPS 9 /* stencil taps per channel (odd); the S-MF uses 3 */

typedef struct axm_param_def {
    const char *name;
    const char *group;   /* "conductances", "membrane", "rate_constants", ... */
    double def;
    const char *unit;
    int trainable;       /* in the default to_train selection */
} axm_param_def;

/* Which potential a step uses: the sample at t_k (S-MF, as the original) or the average of the
 * samples at t_k and t_{k+1} (NEURON's Vector.play continuous at mid-step; MRG). */
typedef enum axm_ve_timing { AXM_VE_SAMPLE = 0, AXM_VE_MIDSTEP = 1 } axm_ve_timing;

typedef struct axm_model axm_model;

typedef struct axm_model_kind {
    const char *name;                 /* "smf", "sundt", "mrg" */
    const char *summary;
    int n_states;                     /* node-level states reported to monitors; vm last */
    const char *const *state_names;   /* e.g. {"m","h","p","s","v"} */
    int n_params;
    const axm_param_def *params;
    int has_stencil;                  /* learned vm/ve stencil (S-MF family) */
    axm_ve_timing ve_timing;
    int min_nodes;

    /* Number of compartments where ve is applied, and their axial positions in µm relative to
     * the fiber centre (the centre node (W-1)/2 at 0 for odd W; nodes spaced by the fiber's
     * node-to-node distance). */
    int (*n_comp)(const axm_model *m, int W);
    int (*positions)(const axm_model *m, double D_um, int W, double *y_um, axm_err *err);

    /* Per-run workspace for B fibers of W nodes with diameters D_um[B]: lumped parameters and
     * any hidden state (MRG internodes). Read/written only per fiber, so the engine may call
     * init/step concurrently for disjoint fiber ranges. */
    void *(*ws_create)(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                       axm_err *err);
    void (*ws_destroy)(void *ws);
    size_t (*scratch_bytes)(const axm_model *m, int W); /* per-thread scratch for step(); may be 0 */

    /* Initial state of fibers [b0,b1): node states into state (B,S,W), hidden state into ws. */
    void (*init)(void *ws, int b0, int b1, void *state);
    /* Advance fibers [b0,b1) by one step of dt ms. ve: (b1-b0) x n_comp values for this step (see
     * ve_timing); intra: (b1-b0) x W values or NULL when no current flows; both in the run's
     * precision. scratch: scratch_bytes(W) bytes owned by the calling thread. */
    void (*step)(void *ws, int b0, int b1, void *state, const void *ve, const void *intra,
                 double dt, void *scratch);
    /* Optional (NULL: no limit): the largest time step in ms for which the explicit step of the
     * linear part stays stable, lowest over the ws's fibers; *fiber gets the fiber that sets it.
     * The engine refuses longer steps with a clear error instead of producing garbage. */
    double (*max_dt_ms)(const void *ws, int *fiber);
} axm_model_kind;

/* MRG geometry methods (mrg-model.md §4). */
enum { AXM_GEOM_METHOD1 = 1, AXM_GEOM_METHOD2 = 2, AXM_GEOM_METHOD3 = 3,
       AXM_GEOM_CLASSIC = 4, AXM_GEOM_PIECEWISE = 5 };

/* A model instance: a kind plus its current parameter values and options. Owns p. */
struct axm_model {
    const axm_model_kind *kind;
    double *p;                            /* [kind->n_params] */
    int taps;                             /* stencil taps per channel, odd, <= AXM_MAX_TAPS */
    double stencil[2][AXM_MAX_TAPS];      /* [0] vm channel, [1] ve channel (raw, symmetrized on use) */
    double temp_c;                        /* 37 */
    int handle_nan;                       /* S-MF NaN handling (smf-model.md §3, §5) */
    /* MRG only */
    int geometry;                         /* AXM_GEOM_*; default METHOD1 */
    int geom_fit;                         /* method 2: 0 combined, 1 fazan_proximal, 2 fazan_distal, 3 berthold, 4 friede */
    int lemella_fit;                      /* method 2: 0 or 1 */
    int passive_end_nodes;                /* 0 default */
    /* provenance of the loaded weights */
    int trained;                          /* 0 for the untrained defaults */
    char weights_path[512];
};

const axm_model_kind *axm_model_kind_find(const char *name);
const axm_model_kind *const *axm_model_kinds(int *n);

/* Creates a model with default parameters (and the default [1,-2,1] stencils). */
axm_model *axm_model_create(const char *kind_name, axm_err *err);
axm_model *axm_model_clone(const axm_model *m, axm_err *err);
void axm_model_destroy(axm_model *m);
int axm_model_param_index(const axm_model *m, const char *name); /* -1 if unknown */
double axm_model_get(const axm_model *m, const char *name);     /* NaN if unknown */
int axm_model_set(axm_model *m, const char *name, double v, axm_err *err);
/* Symmetrized stencil weights w_sym[c][j] = (w[c][j] + w[c][taps-1-j])/2. */
void axm_model_stencil_sym(const axm_model *m, double out[2][AXM_MAX_TAPS]);

/* Weights files (JSON): {"format":"axonml-weights","version":1,"model":"smf","trained":false,
 * "params":{name:value,...},"stencil":{"taps":3,"vm":[..],"ve":[..]},"provenance":{...}}.
 * Unknown parameter names are errors naming the file and key. */
int axm_model_load_weights(axm_model *m, const char *path, axm_err *err);
/* provenance_json: a JSON object text (or NULL). Written to a temp file and renamed. */
int axm_model_save_weights(const axm_model *m, const char *path, const char *provenance_json,
                           axm_err *err);

/* MRG method-1 node-to-node distance in µm (what node positions use for every node-only model,
 * so that surrogate nodes coincide with MRG nodes): fields-and-stimuli.md §5, mrg-model.md §4.3. */
double axm_deltax_method1_um(double D_um);

#endif
