/* Monitors observe a run (smf-model.md §7): Recorder, Active (with at_least), APCount, Raster.
 *
 * Crossing detection: a checked node counts a spike when vm reaches threshold_mV from below at a
 * state time t >= t_start_ms. The armed/below flag of every fiber and checked node persists across
 * continued runs and is re-armed only on reinit, so a spike that straddles a chunk boundary is
 * counted once (unlike the original, which re-armed on every run call). Results accumulate until
 * axm_monitor_reset(). Node indices may be negative (counting from the end). */
#ifndef AXM_MONITOR_H
#define AXM_MONITOR_H

#include "err.h"

typedef struct axm_monitor axm_monitor;

/* What the engine tells a monitor at the start of every run. */
typedef struct axm_mon_run {
    int B, W, S;
    axm_prec prec;
    double dt_ms;
    long k0;              /* absolute step index of the run's initial state */
    long n_steps;
    int reinit;
    unsigned char *decided; /* [B], the engine's per-fiber "decided" flags (monitors may set) */
} axm_mon_run;

typedef struct axm_monitor_ops {
    const char *name;
    int (*begin)(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err);
    /* After a step, for fibers [b0,b1); state is the whole (B,S,W) array at time (k+1)*dt where k
     * is the absolute index of the step just taken. Called concurrently for disjoint ranges. */
    void (*observe)(axm_monitor *m, long k, int b0, int b1, const void *state);
    void (*end)(axm_monitor *m);
    void (*reset)(axm_monitor *m);
    void (*destroy)(axm_monitor *m);
} axm_monitor_ops;

struct axm_monitor {
    const axm_monitor_ops *ops;
};

void axm_monitor_reset(axm_monitor *m);
void axm_monitor_destroy(axm_monitor *m);

/* Detection settings shared by Active, APCount and Raster. */
typedef struct axm_detect {
    double threshold_mV;   /* 0 */
    double t_start_ms;     /* 0 */
    int n_nodes;
    int nodes[16];         /* default {5, -5} */
    int at_least;          /* Active: number of checked nodes that must see a spike; >= 1 */
} axm_detect;

axm_detect axm_detect_default(void);

/* Recorder: states (bitmask over state index, bit S-1 = vm) at nodes (NULL = all), every k-th
 * step, including the initial state of each run; or, with max_only, the maximum over time and
 * nodes of every state. Frames lie on the absolute grid j = 0, every, 2*every, ... (state time
 * j*dt), so chunked runs form one time line; a run's initial state is recorded on reinit, on the
 * recorder's first run, or when it lies on that grid and is not already the last frame (a
 * continued run never duplicates a frame). max_only ignores the mask and `every`: it covers
 * every state (all S) at the selected nodes after every step, initial states included. */
axm_monitor *axm_recorder_create(unsigned state_mask, const int *nodes, int n_nodes, int every,
                                 int max_only, axm_err *err);
/* Frames recorded so far; data is [frame][B][n_states_rec][n_nodes_rec] doubles. */
long axm_recorder_frames(const axm_monitor *m);
const double *axm_recorder_data(const axm_monitor *m, int *n_states_rec, int *n_nodes_rec);
const double *axm_recorder_times(const axm_monitor *m);       /* [frames], ms */
const double *axm_recorder_max(const axm_monitor *m);         /* max_only: [B][S] */

/* Active: per fiber, did at least `at_least` checked nodes spike. With mark_decided, a fiber that
 * became active is flagged decided (the engine may stop simulating it). */
axm_monitor *axm_active_create(const axm_detect *d, int mark_decided, axm_err *err);
const unsigned char *axm_active_result(const axm_monitor *m); /* [B] */

/* APCount: spikes per fiber and checked node, and the first crossing time (linear interpolation
 * between samples; NaN if none). */
axm_monitor *axm_apcount_create(const axm_detect *d, axm_err *err);
const int *axm_apcount_counts(const axm_monitor *m);          /* [B][n_nodes] */
const double *axm_apcount_first_ms(const axm_monitor *m);     /* [B][n_nodes] */

/* Raster: every spike as (fiber, node, time), at d's nodes or (all_nodes) at every node; the time
 * is interpolated as APCount's, nodes are reported as absolute indices, and the list is sorted by
 * time, then fiber, then node (merged in end()). */
typedef struct axm_spike { int fiber, node; double t_ms; } axm_spike;
axm_monitor *axm_raster_create(const axm_detect *d, int all_nodes, axm_err *err);
const axm_spike *axm_raster_spikes(const axm_monitor *m, long *n);

#endif
