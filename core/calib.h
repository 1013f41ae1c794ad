/* Calibration of a surrogate's few global parameters against a teacher model (stage 3 of
 * weights/train-smf-mrg.sh): thresholds on scenario grids, conduction velocities and rest.
 *
 * The teacher is each grid scenario's own model (mrg); the surrogate is the starting weights'
 * model. Searched parameters are named as in a weights file ("cm", "gl", ...), plus
 *   axonD@X, nodeD@X, veGain@X
 *                      the value of the axonD / nodeD / ve-gain polynomial at X = 6, 10 or 14 um
 *                      (the coefficients are the quadratic through the three knots, so each knot
 *                      moves one end or the middle of the diameter range)
 *   stencil.vm.out, stencil.vm.mid, stencil.ve.out, stencil.ve.mid
 *                      outer and centre taps of the symmetric 3-tap stencils;
 *   stencil.vm.dK, stencil.ve.dK (K = 1 .. taps/2)
 *                      the pair of taps K nodes from the centre, with the centre tap moving by
 *                      -2 times their change: the stencil's sum (its leak, or the drive a uniform
 *                      potential gives) stays as it was while its shape changes. "taps" widens
 *                      the starting stencils with zero taps (a 3-tap model fitted with
 *                      stencil.vm.d2 becomes a 5-tap one).
 * The search runs on x_k = ln(p_k / p0_k) / scale_k (signs are kept; a scale below 1 makes a
 * parameter move less per unit of x), except for the dK taps, which may start at zero: there
 * p_k = p0_k + x_k * scale_k.
 *
 * Residuals: ln(thr_surrogate / thr_teacher) of every grid condition, weighted 1/sqrt(N_thr);
 * ln(cv_surrogate / cv_teacher) at every CV diameter, weighted sqrt(w_cv / N_cv); per rest
 * fiber w_rest * max(0, max_t,node |vm - v_rest| - rest_tol); and per condition and detect node
 * of the "train" scenarios (pulse trains at their amplitudes) the difference of the action potential
 * counts (APCount at the scenario's detect threshold), relative to the teacher's count and
 * weighted sqrt(w_train / N_train), N_train over all of them: single-pulse thresholds alone let a
 * fit bend the kinetics that make a fiber follow a train, and each rate shows other failures
 * (slow rates: extra spikes between pulses; fast rates: missed pulses). With "stable_D_um", one more residual sqrt(w_stable) *
 * max(0, ln(stable_dt_ms / (stable_margin * limit))), limit the explicit step's linear
 * stability limit (axm_sim_max_dt) at those diameters: a fit may otherwise trade the time step's
 * headroom (capacitance, coupling) for accuracy until spikes blow the fiber up. A failed threshold or CV counts as ln 2. Minimising their
 * squares is a least-squares problem (axm_lm); the reported objective is the mean absolute log
 * error (thr + w_cv * cv) plus w_rest times the rest excess plus w_train times the mean relative
 * count error. */
#ifndef AXM_CALIB_H
#define AXM_CALIB_H

#include "err.h"
#include "lm.h"
#include "model.h"

/* ---- the calibration problem ---- */

#define AXM_CALIB_MAX_GRIDS 8
#define AXM_CALIB_MAX_TRAINS 4
#define AXM_CALIB_MAX_PARAMS AXM_LM_MAX_PARAMS

typedef struct axm_calib_cfg {
    int n_grids;
    char grids[AXM_CALIB_MAX_GRIDS][512];   /* threshold scenarios (teacher = their model) */
    char cv_grid[512];                      /* scenario whose diameters are the CV diameters; "" none */
    char rest[512];                         /* unstimulated scenario for the rest term; "" none */
    int n_trains;                           /* pulse-train scenarios for the AP-count term (0: none) */
    char train[AXM_CALIB_MAX_TRAINS][512];
    int n_params;
    char params[AXM_CALIB_MAX_PARAMS][64];
    double scale[AXM_CALIB_MAX_PARAMS];     /* 1 unless given as NAME:SCALE */
    double w_cv;                            /* 1 */
    double w_rest;                          /* 0.05 per mV */
    double rest_tol_mV;                     /* 0.8 */
    double w_train;                         /* 1 */
    double v_rest_mV;                       /* -80 */
    char method[16];                        /* "lm" or "coord" */
    axm_lm_opts lm;
    double coord_step;                      /* coordinate search: first relative step, 0.06 */
    int coord_sweeps;                       /* 6 */
    int taps;                               /* widen the stencils to this many taps; 0 keeps them */
    int n_stable;                           /* stability term: diameters (0: none) */
    double stable_D_um[AXM_CALIB_MAX_GRIDS];
    double stable_dt_ms;                    /* 0.005 */
    double stable_margin;                   /* dt <= margin * explicit limit; 0.8 */
    double w_stable;                        /* 1 */
    int n_threads;
} axm_calib_cfg;

/* Defaults; then read from a JSON config file: {"grids": [...], "cv_grid", "rest", "train" (a file or
 * an array of up to AXM_CALIB_MAX_TRAINS), "params":
 * ["cm", "stencil.vm.mid:0.01", ...], "w_cv", "w_rest", "rest_tol_mV", "w_train", "method", "h", "iters",
 * "step", "sweeps", "taps", "stable_D_um", "stable_dt_ms", "stable_margin", "w_stable"}; relative paths are taken as given (the repository root). Unknown keys and
 * bad values are errors naming the file and key. */
void axm_calib_cfg_default(axm_calib_cfg *c);
int axm_calib_cfg_load(axm_calib_cfg *c, const char *path, axm_err *err);

typedef struct axm_calib axm_calib;

/* What one point of the search gives. */
typedef struct axm_calib_stats {
    double objective;          /* thr_mean + w_cv * cv_mean + w_rest * max(0, rest_max - tol)
                                * + w_train * mean relative AP count error */
    double thr_mean_pct;       /* mean |ln thr ratio| x 100 */
    double thr_max_pct;
    double cv_mean_pct, cv_max_pct;
    double rest_max_mV;        /* largest |vm - v_rest| of the rest run (0 without one) */
    int train_max_diff;        /* largest |AP count difference| of the train run (0 without one) */
    double stable_ratio;       /* stable_dt_ms / limit at the stability diameters (0 without them) */
    int n_thr, n_cv, n_rest, n_train, n_stable;
} axm_calib_stats;

/* Loads the grids, runs the teacher (thresholds, CVs) once, and prepares the surrogate from
 * weights_path (its model must have the searched parameters). progress (may be NULL) is told
 * about the teacher runs. */
axm_calib *axm_calib_create(const axm_calib_cfg *cfg, const char *weights_path, const volatile int *cancel,
                            axm_err *err);
void axm_calib_destroy(axm_calib *c);
/* Replaces the cancel flag (NULL: none), e.g. to finish the statistics after an interrupt. */
void axm_calib_set_cancel(axm_calib *c, const volatile int *cancel);
int axm_calib_n_residuals(const axm_calib *c);
/* Residuals at x[cfg.n_params] (see the top of this file). */
int axm_calib_residuals(axm_calib *c, const double *x, double *r, axm_err *err);
int axm_calib_stats_at(axm_calib *c, const double *x, axm_calib_stats *s, axm_err *err);
/* The searched parameters' values at x (the start for x = 0). */
void axm_calib_values(const axm_calib *c, const double *x, double *values);
/* Runs the configured search from x = 0; x[n_params] gets the result. */
int axm_calib_search(axm_calib *c, double *x, int *n_evals, axm_err *err);
/* The surrogate model with the parameters at x (borrowed; valid until the next call). */
const axm_model *axm_calib_model_at(axm_calib *c, const double *x, axm_err *err);

/* The knot mapping on its own: the quadratic c1 D^2 + c2 D + c3 through (6, y0), (10, y1),
 * (14, y2). */
void axm_calib_quad_through_knots(const double y[3], double coef[3]);

#endif
