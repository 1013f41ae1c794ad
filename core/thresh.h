/* Batched threshold search (smf-model.md §10, with its defects fixed): every condition of a sweep
 * is one fiber of one simulation batch; bisection on the per-fiber amplitude factor runs for all
 * conditions at once, and decided conditions are not simulated again.
 *
 * The sim's drive defines the stimulus at amplitude factor 1 (waveforms of unit amplitude with the
 * polarity's sign); thresholds are amplitude factors (mA for unit-amplitude waveforms). */
#ifndef AXM_THRESH_H
#define AXM_THRESH_H

#include "monitor.h"
#include "sim.h"

typedef enum axm_thresh_status {
    AXM_TH_OK = 0,
    AXM_TH_NO_ACTIVATION = 1,   /* no activation up to max_amp */
    AXM_TH_BLOCK = 2,           /* depolarized but never activated at the checked nodes, bounds exhausted */
    AXM_TH_ACTIVE_AT_ZERO = 3,  /* fires without stimulus (unstable model) */
    AXM_TH_NOT_CONVERGED = 4,   /* max_tries reached before the resolution */
    AXM_TH_NAN = 5,             /* the simulation produced NaN or diverged (sim.h, axm_sim_diverged) */
    AXM_TH_CANCELLED = 6
} axm_thresh_status;

typedef struct axm_thresh_opts {
    double dt_ms, tstop_ms;
    axm_detect detect;
    double resolution;         /* relative: stop when (ub - lb)/ub < resolution; 0.01 */
    double fix_bound_up;       /* 5 */
    double fix_bound_down;     /* 0.1 */
    int max_tries_bound_fix;   /* 10 */
    int max_tries;             /* bisection iterations; 50 */
    double max_amp;            /* give up above this amplitude factor; 1e3 */
    const double *ub_init;     /* [B] or NULL: 0.2 / (D/5)^2 with D from D_um */
    const double *D_um;        /* [B] fiber diameters for the default ub_init; NULL: ub_init 0.2 */
    const volatile int *cancel;
    void (*progress)(void *ud, int n_decided, int n_total, int iteration);
    void *progress_ud;
} axm_thresh_opts;

axm_thresh_opts axm_thresh_opts_default(void);
/* AXM_OK, or AXM_ERR_INPUT with a message naming the first option out of range (every engine's
 * search checks its options with this). */
int axm_thresh_opts_check(const axm_thresh_opts *o, axm_err *err);

typedef struct axm_thresh_result {
    int n;
    double *upper;            /* [n] smallest activating factor found (the threshold); NaN if not */
    double *lower;            /* [n] largest non-activating factor tried; NaN if not */
    int *status;              /* [n] axm_thresh_status */
    long n_sims;              /* fiber-simulations run */
    int iterations;
} axm_thresh_result;

/* Runs on the sim's current drive. Fills res (allocated here; free with axm_thresh_result_free). */
int axm_threshold(axm_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err);
void axm_thresh_result_free(axm_thresh_result *r);

/* One round of the search, for another engine (the GPU): simulate every condition b with skip[b] == 0
 * at amplitude factor amp[b] (scaling the extracellular stimulus as axm_sim_set_amp), from the initial
 * state, for lround(tstop_ms / dt_ms) steps, detecting activity as an Active monitor with o->detect
 * (monitor.h) and stopping each fiber when it becomes active. Fill, for those b: act[b] (active),
 * bad[b] (a vm of the final state, at activation or tstop, is not finite) and, when need_vmax, vmax[b]
 * (max of vm over all nodes from the initial state to the last state before activation; NaN when any
 * was NaN). Return an axm_code (AXM_ERR_CANCELLED stops the search as cancelled). */
typedef int (*axm_thresh_round_fn)(void *ud, const axm_thresh_opts *o, const double *amp,
                                   const unsigned char *skip, int need_vmax, unsigned char *act,
                                   unsigned char *bad, double *vmax, axm_err *err);
/* axm_threshold's search (bounds, phases, statuses, cancel, progress) over B conditions whose
 * simulations the round function runs; axm_threshold is this with the CPU engine. */
int axm_threshold_rounds(int B, axm_thresh_round_fn run_round, void *ud, const axm_thresh_opts *o,
                         axm_thresh_result *res, axm_err *err);
const char *axm_thresh_status_name(int status);

#endif
