/* Conduction velocity (cajal's protocol, reference/mrg_neuron README §5): an intracellular pulse
 * (2 nA, 0.1 ms, from 0.5 ms) into node 0 of an unstimulated fiber; CV = (x_40 - x_10) /
 * (t_40 - t_10), where t_k is the first upward crossing of 0 mV at node k (linearly interpolated
 * between samples, APCount) and x_k the node's axial position from the model (model.h positions).
 * All diameters run as one batch. */
#ifndef AXM_CV_H
#define AXM_CV_H

#include "err.h"
#include "model.h"

typedef struct axm_cv_opts {
    double dt_ms, tstop_ms;            /* 0.005, 5 */
    double amp_nA, delay_ms, dur_ms;   /* 2, 0.5, 0.1 */
    int stim_node;                     /* 0 */
    int node_a, node_b;                /* 10, 40 (negative counts from the end) */
    double threshold_mV;               /* 0 */
    int n_threads;                     /* <= 0: all CPUs */
    const volatile int *cancel;
} axm_cv_opts;

axm_cv_opts axm_cv_opts_default(void);

typedef struct axm_cv_result {
    double cv_m_per_s;                 /* NaN when node_a or node_b did not fire (or fired out of order),
                                        * or the fiber diverged (axm_sim_diverged) before node_b fired */
    double t_a_ms, t_b_ms;             /* first crossing times, NaN if none */
    double dx_um;                      /* x_b - x_a */
} axm_cv_result;

/* Fills out[n] for the n diameters D_um on W-node fibers (W must exceed both measuring nodes). */
int axm_cv(const axm_model *m, int n, const double *D_um, int W, axm_prec prec, const axm_cv_opts *o,
           axm_cv_result *out, axm_err *err);

#endif
