/* The simulation engine: a batch of B fibers of W nodes (each its own diameter) driven by a
 * stimulus, advanced by a model kind's step on CPU threads, observed by monitors.
 *
 * The stimulus is separable (sum over contacts of field x waveform) and never materialized as a
 * T x B x W array: phi is computed once per drive at the model's compartments, and the potential
 * of a step is amp[b] * sum_c wave[c](t_k) * phi[b][c][:]. A materialized node potential is
 * accepted too (node-only models).
 *
 * Time is absolute: a run continues the previous one (state and step counter) unless reinit is
 * set, so waveform samples and monitors see one time line across chunked runs. The first run,
 * and the first run after a cancelled one, always starts from the initial state.
 *
 * The sim refers to the model (which must outlive it) and picks up changed parameters or options
 * at the next run that starts from the initial state. Results do not depend on the number of
 * threads. */
#ifndef AXM_SIM_H
#define AXM_SIM_H

#include "diverged.h" /* AXM_VM_DIVERGED */
#include "err.h"
#include "field.h"
#include "model.h"

/* Intracellular current pulse, on for delay <= t < delay + dur (t = t_k for AXM_VE_SAMPLE kinds,
 * t_k + dt/2 for AXM_VE_MIDSTEP kinds, as NEURON's IClamp). */
typedef struct axm_pulse {
    int fiber;          /* -1: every fiber */
    int node;           /* negative counts from the end */
    double delay_ms, dur_ms;
    double amp_mA;      /* positive = depolarizing; 2 nA = 2e-6 mA */
} axm_pulse;

typedef struct axm_drive {
    /* separable extracellular stimulus */
    int n_contacts;                 /* C */
    const axm_source *sources;      /* [B*C]: contact c of fiber b at sources[b*C + c] */
    int n_waves;
    const double *const *waves;     /* [n_waves][wave_len] mA, sample k at t_k = k*dt */
    long wave_len;                  /* samples past the end: linear extrapolation for one sample, then 0 */
    const int *wave_of;             /* [B*C] index into waves, -1 = contact off */
    /* or a materialized node potential (node-only models), mV, (T, B, W); added to the separable
     * part when both are given; same timing and end rule as the waves; scaled by amp too */
    const double *ve_nodes;
    long ve_len;                    /* T */
    /* intracellular current */
    int n_pulses;
    const axm_pulse *pulses;
} axm_drive;

typedef struct axm_monitor axm_monitor; /* monitor.h */

typedef struct axm_run_opts {
    double dt_ms;
    long n_steps;
    int reinit;                     /* start from the initial state at t = 0 */
    int stop_when_decided;          /* skip fibers a monitor has marked decided (threshold search) */
    int allow_diverged;             /* a diverged fiber (axm_sim_diverged) is not an error of the run */
    const volatile int *cancel;     /* polled; when nonzero the run stops with AXM_ERR_CANCELLED */
    void (*progress)(void *ud, long steps_done, long steps_total);
    void *progress_ud;
} axm_run_opts;

typedef struct axm_sim axm_sim;

/* Copies D_um. n_threads <= 0: all online CPUs. */
axm_sim *axm_sim_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                        int n_threads, axm_err *err);
void axm_sim_destroy(axm_sim *s);

/* Binds a stimulus (the drive's arrays must outlive the runs); computes phi. NULL = no stimulus. */
int axm_sim_set_drive(axm_sim *s, const axm_drive *d, axm_err *err);
/* Per-fiber amplitude factor applied to the extracellular stimulus; NULL = all 1. Copied. */
void axm_sim_set_amp(axm_sim *s, const double *amp);

int axm_sim_run(axm_sim *s, const axm_run_opts *o, axm_monitor *const *mons, int n_mons,
                axm_err *err);

/* Steps between two divergence checks of a fiber (the engine's time tile); the last step of a
 * run is always checked. */
#define AXM_SIM_CHECK_STEPS 32

/* Whether fiber b diverged in the last run: a state became NaN or infinite, or |vm| reached
 * AXM_VM_DIVERGED. Checked every AXM_SIM_CHECK_STEPS steps, per fiber; an explicit step past its stability
 * limit (a spike or a strong stimulus lowers it) grows a node-to-node sawtooth that gets there
 * within a few steps. Such a run fails with a message naming the fiber, the time, the state and
 * the dt to use, unless allow_diverged is set (the threshold search marks those conditions).
 * Returns 0 or 1, and when 1 fills the optional outputs: step index, node, state and value of the
 * first bad state seen. */
int axm_sim_diverged(const axm_sim *s, int b, long *k, int *node, int *state, double *value);

/* The explicit step's linear stability limit (ms) over the sim's fibers, for the model as it is
 * now (the workspace is rebuilt when the model changed); *fiber (may be NULL) gets the fiber that
 * sets it. +inf for implicit kinds. Meeting the limit is not enough: a spike adds conductance,
 * and the S-MF was seen to blow up from 0.74-0.86 times it (0.7 with the untrained weights;
 * README, "Explicit time-step limit"), so setups note steps past AXM_EXPLICIT_HEADROOM of it. */
#define AXM_EXPLICIT_HEADROOM 0.75

int axm_sim_max_dt(axm_sim *s, int *fiber, double *max_dt_ms, axm_err *err);

int axm_sim_batch(const axm_sim *s);
int axm_sim_nodes(const axm_sim *s);
int axm_sim_n_states(const axm_sim *s);
axm_prec axm_sim_prec(const axm_sim *s);
long axm_sim_step_index(const axm_sim *s);          /* absolute steps done since the last reinit */
const axm_model *axm_sim_model(const axm_sim *s);
/* Node state (B,S,W) in the sim's precision (float or double). */
const void *axm_sim_state(const axm_sim *s);
/* Copies out one value as double. */
double axm_sim_state_at(const axm_sim *s, int b, int state, int node);
/* Per-fiber phi at the model's compartments for contact c, mV/mA (n_comp values), or NULL. */
const double *axm_sim_phi(const axm_sim *s, int b, int c);
int axm_sim_n_comp(const axm_sim *s);

#endif
