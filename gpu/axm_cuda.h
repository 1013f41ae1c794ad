/* The CUDA backend's entry points, callable from C. Built from the .cu files in gpu/ when nvcc is found,
 * otherwise from gpu/none.c, whose functions report that no CUDA backend was compiled in.
 *
 * The GPU simulator mirrors axm_sim (sim.h) for the S-MF model: same drive (separable stimulus with
 * absolute time, or a materialized node potential; intracellular pulses), same per-fiber amplitude,
 * same state layout (B,S,W), same run options. Monitors run fused inside the kernels, so they are GPU
 * objects of their own (axm_cuda_mon) whose results have the layout of the CPU monitors' accessors
 * (monitor.h). axm_cuda_threshold mirrors axm_threshold (thresh.h) with every bisection step on the GPU.
 *
 * Every function that can fail returns an axm_code and fills err with one line; CUDA errors name the
 * source file and line. Nothing here aborts when no GPU or driver is present: axm_cuda_available says
 * why, and callers fall back to the CPU. */
#ifndef AXM_CUDA_H
#define AXM_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "datagen.h"
#include "err.h"
#include "model.h"
#include "monitor.h"
#include "sim.h"
#include "thresh.h"

/* 1 if the CUDA backend was compiled into this binary. */
int axm_cuda_compiled(void);

/* 1 if the backend is compiled in and at least one CUDA device is usable; otherwise 0 and, when why
 * is not NULL, one line saying why ("CUDA backend not compiled in", "no CUDA driver: ...", ...). */
int axm_cuda_available(axm_err *why);

typedef struct axm_cuda_device {
    int index;
    char name[256];
    size_t mem_bytes;       /* total global memory */
    int sms;                /* multiprocessors */
    int cc_major, cc_minor; /* compute capability */
} axm_cuda_device;

/* Fills up to max devices; returns how many there are (0 with err set when none is usable). */
int axm_cuda_devices(axm_cuda_device *out, int max, axm_err *err);

/* Largest fiber length the kernels take (nodes per fiber). */
#define AXM_CUDA_MAX_NODES 256

/* ---- S-MF simulation ------------------------------------------------------------------------ */

typedef struct axm_cuda_sim axm_cuda_sim;
typedef struct axm_cuda_mon axm_cuda_mon;

/* Copies the model's parameters, stencil and options and D_um (later model changes need a new sim).
 * Only the S-MF kind runs on the GPU; W <= AXM_CUDA_MAX_NODES. device < 0: device 0. */
axm_cuda_sim *axm_cuda_sim_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                                  int device, axm_err *err);
void axm_cuda_sim_destroy(axm_cuda_sim *s);

/* Binds a stimulus (as axm_sim_set_drive): phi is evaluated on the host at the model's node positions
 * and uploaded with the waveforms; a materialized ve_nodes is uploaded whole. NULL = no stimulus. The
 * drive's arrays are copied: they need not outlive the call. */
int axm_cuda_sim_set_drive(axm_cuda_sim *s, const axm_drive *d, axm_err *err);
/* Per-fiber amplitude factor on the extracellular stimulus; NULL = all 1. */
int axm_cuda_sim_set_amp(axm_cuda_sim *s, const double *amp, axm_err *err);
/* How runs without Raster or Recorder place fibers: AXM_PACK_AUTO (the default) packs several
 * fibers into a block's lanes for the fiber lengths where that was measured faster than one warp
 * per fiber (lanes that fill much better: 21 nodes use 252 of 256 instead of 21 of 32);
 * AXM_PACK_OFF: one warp per fiber; AXM_PACK_ALWAYS: packed wherever it fills the lanes at all
 * better (tests, benchmarks). The same results every way. */
enum { AXM_PACK_OFF = 0, AXM_PACK_AUTO = 1, AXM_PACK_ALWAYS = 2 };
void axm_cuda_sim_set_packing(axm_cuda_sim *s, int mode);
/* Fibers per block of the last run's packed kernel; 0: one warp per fiber (or no run yet). */
int axm_cuda_sim_packed_last(const axm_cuda_sim *s);
/* The last run's kernel: a warp per fiber "bare" (no monitors, pulses or materialized potential, at
 * most one contact: the node steps alone), "lite" (the other runs without Raster or Recorder),
 * "full" (Raster or Recorder); fibers packed into the lanes "packed bare", "packed lite"; "none"
 * before the first run. For tests and benchmarks. */
const char *axm_cuda_sim_kernel_last(const axm_cuda_sim *s);

/* As axm_sim_run (the first run, and the first after a cancelled one, start from the initial state);
 * progress and cancel are polled between launches (each launch advances many steps). At most one
 * monitor of each type per run (plus one max-only Recorder). A fiber whose Active monitor marked it
 * decided stops computing with stop_when_decided; a Recorder or Raster keeps seeing its frozen state. */
int axm_cuda_sim_run(axm_cuda_sim *s, const axm_run_opts *o, axm_cuda_mon *const *mons, int n_mons,
                     axm_err *err);

int axm_cuda_sim_batch(const axm_cuda_sim *s);
int axm_cuda_sim_nodes(const axm_cuda_sim *s);
axm_prec axm_cuda_sim_prec(const axm_cuda_sim *s);
long axm_cuda_sim_step_index(const axm_cuda_sim *s);
/* Copies the node state (B,S,W) out as doubles (S = 5: m, h, p, s, vm). */
int axm_cuda_sim_state(const axm_cuda_sim *s, double *out, axm_err *err);
/* Overwrites the node state (B,S,W) (doubles); the step counter is kept. For tests and restarts. */
int axm_cuda_sim_set_state(axm_cuda_sim *s, const double *state, axm_err *err);

/* Op-level check of the kernels' gate rates (tests/gpu): for n membrane potentials v (mV), the
 * four gates' (m, h, p, s) rate sums and steady states as the S-MF kernels compute them in prec, both
 * ways: by one reciprocal per gate (fast[8 i + 2 g] = sum, fast[8 i + 2 g + 1] = x_inf; ok[i]: 1
 * where that way holds, which the kernels then take unless built with AXM_SMF_RCP1=0) and by the
 * divisions, the CPU's formulas with its NaN handling (div, same layout). */
int axm_cuda_smf_gate_rates(const axm_model *m, axm_prec prec, const double *v, int n, double *fast, int *ok,
                            double *div, axm_err *err);

/* ---- fused monitors (monitor.h semantics; results copied to the host after every run) -------- */

axm_cuda_mon *axm_cuda_active_create(const axm_detect *d, int mark_decided, axm_err *err);
axm_cuda_mon *axm_cuda_apcount_create(const axm_detect *d, axm_err *err);
axm_cuda_mon *axm_cuda_raster_create(const axm_detect *d, int all_nodes, axm_err *err);
axm_cuda_mon *axm_cuda_recorder_create(unsigned state_mask, const int *nodes, int n_nodes, int every,
                                       int max_only, axm_err *err);
void axm_cuda_mon_reset(axm_cuda_mon *m);
void axm_cuda_mon_destroy(axm_cuda_mon *m);

const unsigned char *axm_cuda_active_result(const axm_cuda_mon *m);     /* [B] */
const int *axm_cuda_apcount_counts(const axm_cuda_mon *m);              /* [B][n_nodes] */
const double *axm_cuda_apcount_first_ms(const axm_cuda_mon *m);         /* [B][n_nodes], NaN if none */
const axm_spike *axm_cuda_raster_spikes(const axm_cuda_mon *m, long *n); /* by time, fiber, node */
long axm_cuda_recorder_frames(const axm_cuda_mon *m);
const double *axm_cuda_recorder_data(const axm_cuda_mon *m, int *n_states_rec, int *n_nodes_rec);
const double *axm_cuda_recorder_times(const axm_cuda_mon *m);
const double *axm_cuda_recorder_max(const axm_cuda_mon *m);              /* max_only: [B][S] */

/* ---- threshold search ------------------------------------------------------------------------ */

/* As axm_threshold on the sim's current drive: each condition is one fiber; every bisection step
 * (simulation, activity test, bound update) runs on the GPU, and decided conditions are dropped from
 * the next launch. res is allocated here (free with axm_thresh_result_free or axm_cuda_thresh_free). */
int axm_cuda_threshold(axm_cuda_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err);
void axm_cuda_thresh_free(axm_thresh_result *r);

/* ---- MRG forward simulation (data generation) --------------------------------------------- */

/* The MRG kind (core/mrg.h) on the GPU: one thread per fiber runs exactly core/mrg.c's step
 * (NEURON backward Euler on the reduced double cable, internodes condensed when all nodes are
 * active), in double precision; with prec fp32 only the stored node states are float, as on the CPU.
 * Time is absolute and runs continue each other as with axm_sim (sim.h). No monitors: a run can
 * record every step's node states instead. */
typedef struct axm_cuda_mrg axm_cuda_mrg;

/* m must be of kind "mrg" (its parameters, temperature, geometry options and passive_end_nodes are
 * copied); 2 <= W <= AXM_CUDA_MAX_NODES; D_um[B] > 0 is copied. device < 0: device 0. Needs about
 * B * (4 (11W - 10) + 23 W) doubles of GPU memory (77 W instead of 23 W with passive end nodes). */
axm_cuda_mrg *axm_cuda_mrg_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                                  int device, axm_err *err);
void axm_cuda_mrg_destroy(axm_cuda_mrg *s);
/* As axm_sim_set_drive for the mrg kind: separable contacts x waveforms (ve at every compartment,
 * waveforms sampled at mid-step) and intracellular pulses; no ve_nodes. At most 32 contacts. The
 * drive's arrays are copied. NULL = no stimulus. */
int axm_cuda_mrg_set_drive(axm_cuda_mrg *s, const axm_drive *d, axm_err *err);
/* As axm_sim_run without monitors (stop_when_decided is ignored). rec, when not NULL, receives the
 * node states after each of the o->n_steps steps, (n_steps, B, 5, W), as float (rec_prec fp32) or
 * double (fp64). */
int axm_cuda_mrg_run(axm_cuda_mrg *s, const axm_run_opts *o, axm_prec rec_prec, void *rec, axm_err *err);
long axm_cuda_mrg_step_index(const axm_cuda_mrg *s);
/* Node states (B,5,W) as doubles (m, h, p, s, v). */
int axm_cuda_mrg_state(const axm_cuda_mrg *s, double *out, axm_err *err);
/* Overwrites the node states (B,5,W); the hidden internodal state and the step counter are kept (set
 * to the initial ones if no run happened yet). */
int axm_cuda_mrg_set_state(axm_cuda_mrg *s, const double *state, axm_err *err);
/* Hidden compartment state, [B][11W-10] each (as axm_mrg_hidden); either pointer may be NULL. */
int axm_cuda_mrg_hidden(const axm_cuda_mrg *s, double *vm, double *vx, axm_err *err);
/* As axm_threshold (thresh.h) on the sim's current drive: each fiber is one condition; the search
 * itself (bounds, phases, statuses, cancel, progress) is core/thresh.c's axm_threshold_rounds, and
 * each round runs every undecided condition on the GPU at its trial amplitude from the initial state,
 * with the Active detection of o->detect fused into the step and a fiber stopping once active. The
 * same amplitudes are tried as on the CPU; in fp64 the results match the CPU's up to rounding. res is
 * allocated here (free with axm_thresh_result_free). The sim's state afterwards is not meaningful: the
 * next run starts from the initial state. */
int axm_cuda_mrg_threshold(axm_cuda_mrg *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err);
/* Caps the steps per kernel launch of runs and threshold rounds (0: automatic, a fraction of a second
 * of work). Launch boundaries change nothing in the results; tests use small caps to cover them. */
void axm_cuda_mrg_set_launch_steps(axm_cuda_mrg *s, long max_steps);
/* Lanes per fiber of runs and threshold rounds: 0 (the default) picks by the batch's size
 * against the device (4 for up to 128 fibers per multiprocessor, 2 up to 256, else 1; always 1
 * with passive end nodes); 1, 2 or 4 forces it (tests, benchmarks). The same results every way.
 * axm_cuda_mrg_lanes: what runs take. */
int axm_cuda_mrg_set_lanes(axm_cuda_mrg *s, int lanes, axm_err *err);
int axm_cuda_mrg_lanes(const axm_cuda_mrg *s);
/* ---- training: the BPTT chunk (train.h axm_train_chunk) ------------------------------------ */

#include "smf_grad.h"

/* Device buffers reused from chunk to chunk (grown when a chunk is larger). device < 0: device 0. */
typedef struct axm_cuda_train axm_cuda_train;
axm_cuda_train *axm_cuda_train_create(int device, axm_err *err);
void axm_cuda_train_destroy(axm_cuda_train *t);

/* axm_train_chunk (train.h) on the GPU, fp64, same arguments and results: the loss goes to *loss,
 * the gradient is added to g->p / g->w (g NULL: loss only), s_io becomes the final state. Sums run
 * in a fixed order (per fiber on the GPU, then fibers in order on the host): the result does not
 * depend on the launch. W <= AXM_CUDA_MAX_NODES. Bad input: AXM_ERR_INPUT naming the argument. */
int axm_cuda_train_chunk(axm_cuda_train *t, const axm_smfg_theta *th, const double *D, int B, int W, int L,
                         const double *ve, const double *target, const double w[5], double norm, double dt,
                         double *s_io, axm_smfg_grad *g, double *loss, axm_err *err);
/* Page-locks bytes of host memory at p for the context's life (unlocked by axm_cuda_train_destroy,
 * so the memory must outlive the context): chunks whose ve and target lie there upload ~3x faster
 * than from pageable memory. Failure leaves the memory pageable and the chunks correct. At most 8. */
int axm_cuda_train_pin(axm_cuda_train *t, const void *p, size_t bytes, axm_err *err);
/* The last chunk's phases, ms (NaN before the first chunk), for benchmarks: [0] the forward's inputs
 * uploaded (and the targets, when only the loss is asked), [1] the kernels, with any wait for the
 * targets, which go up while the forward runs, [2] the results back and the host's per-fiber
 * reduction (the final state comes back while the backward runs). */
void axm_cuda_train_last_ms(const axm_cuda_train *t, double ms[3]);

/* gendata's simulation on the GPU (an axm_gendata_engine, datagen.h; MRG only): ud is NULL (device 0,
 * automatic chunks) or points to an axm_cuda_gendata_opts. The k runs' fibers are one GPU batch (one
 * thread per fiber, so k x B fibers fill the SMs); the recorded steps come back a chunk (<= 256 MB)
 * at a time and are transposed into the runs' traces on all host CPUs while the GPU runs the next
 * chunk. */
typedef struct axm_cuda_gendata_opts {
    int device;         /* < 0: device 0 */
    long launch_steps;  /* steps per launch and copy-back at most; 0 = automatic (tests set it small) */
} axm_cuda_gendata_opts;
int axm_cuda_gendata_engine(void *ud, const axm_model *m, axm_gendata_batch *const *bs, int k, axm_prec prec,
                            const axm_drive *d,
                            double dt_ms, long n_steps, const volatile int *cancel,
                            void (*progress)(void *pud, long done, long total), void *progress_ud, axm_err *err);

#ifdef __cplusplus
}
#endif

#endif
