/* Training and validation datasets: random fibers and stimuli simulated with a model kind (MRG by
 * default) and written in the original axonml HDF5 layout (smf-model.md §9.1-§9.2; the reference
 * files of reference/mrg_neuron/README.md §8 are the layout we mirror).
 *
 * A dataset has G runs ("n_idx") of R rows ("batch") x F fibers ("axons"). Run g is one simulation
 * of B = R*F fibers and one HDF5 chunk (1, R, F, W, T) of every trace dataset. Runs are written in
 * order; after each one the file is flushed and its attribute batches_complete says how many runs
 * it holds, and every run-indexed dataset has exactly that many entries along its first axis (the
 * datasets grow to G). An engine may simulate several runs per call (runs_per_call below); they are
 * still written one by one, in order. A killed or interrupted generation therefore leaves a valid, smaller
 * dataset that --resume continues.
 *
 * Random numbers: xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64. Run g draws
 * from its own stream (seed, g), so any run can be regenerated without replaying the runs before
 * it, and results do not depend on threads. Draw order per fiber (b = row*F + fiber): D, then per
 * contact r[C], theta[C], y[C], amp[C], pw[C], delay[C]; then, only when the waveform mix has more
 * than one kind, kind[C]; when biphasic pulses are enabled gap[C]; when sinusoids are enabled
 * freq[C], phase[C]. */
#ifndef AXM_DATAGEN_H
#define AXM_DATAGEN_H

#include <stdint.h>

#include "device.h"
#include "err.h"
#include "model.h"
#include "rng.h"
#include "sim.h"
#include "wave.h"

/* ---- configuration ----------------------------------------------------------------------- */

#define AXM_GD_MAX_CONTACTS 32

enum { AXM_POL_MIXED = 0, AXM_POL_CATHODIC = 1, AXM_POL_ANODIC = 2 };

/* Every setting of a generation. Defaults (axm_gendata_defaults) are the original's / the
 * reference README §8: MRG, 53 nodes, 5 ms at 0.005 ms, D ~ U[5.7, 14), 6 point contacts in
 * 500 ohm cm at r ~ U[500, 3000] um and y ~ U[-2, 2]*deltax(D), monophasic pulses amp
 * U[-0.2, 0.2) mA, pw U[0, 2) ms, delay U[0, 2) ms; 64 runs x 32 rows x 32 fibers. */
typedef struct axm_gendata_cfg {
    char model[32];           /* model kind; "mrg" */
    char weights[512];        /* optional weights file for the model ("" = defaults) */
    int nodes;                /* W */
    double dt_ms, tstop_ms;   /* T = tstop/dt + 1 samples */
    int n_runs, rows, fibers; /* G, R, F */
    int64_t seed;             /* >= 0 */
    axm_prec prec;            /* simulation precision (files are float32 as the original) */
    double diam_um[2];        /* uniform [lo, hi) */
    int contacts;             /* C */
    double rho_ohm_cm;
    double dist_um[2];        /* radial distance of each contact */
    double offset_deltax[2];  /* longitudinal offset in units of the node-to-node distance */
    double amp_mA[2], pw_ms[2], delay_ms[2];
    int polarity;             /* AXM_POL_*: mixed keeps the sign of the amp draw */
    double mix[3];            /* relative weights of monophasic, biphasic, sinusoid */
    double gap_ms[2];         /* biphasic interphase gap */
    double freq_khz[2];       /* sinusoid frequency; its duration is the pw draw, phase U[0, 2pi) */
    double ap_monitor_um;     /* AP monitors at the nodes nearest +-this from the centre (14000) */
    double threshold_mV;      /* AP detection threshold (0) */
    int gzip_level;           /* trace compression (with shuffle), 0..9; 4 as the reference files */
    axm_device device;        /* where `axonml gendata` runs the fibers ("device", default cpu; its
                               * --device overrides); not stored in the file: the data are the same */
} axm_gendata_cfg;

void axm_gendata_defaults(axm_gendata_cfg *c);
/* Applies the keys of a JSON object (top level, or its "gendata" member) over c. Unknown keys and
 * bad values are errors naming `where` (the file) and the key. */
int axm_gendata_parse(axm_gendata_cfg *c, const char *json_text, const char *where, axm_err *err);
int axm_gendata_load(axm_gendata_cfg *c, const char *path, axm_err *err);
int axm_gendata_check(const axm_gendata_cfg *c, axm_err *err);
/* The canonical JSON text of every setting that determines the data (the file's "generator"
 * attribute; --resume requires it to match). Caller frees. */
char *axm_gendata_to_json(const axm_gendata_cfg *c);
int axm_gendata_T(const axm_gendata_cfg *c); /* samples per trace, incl. t = 0 */
int axm_gendata_n_kinds(const axm_gendata_cfg *c); /* waveform kinds drawn (nonzero mix shares) */

/* ---- one run (R x F fibers) -------------------------------------------------------------- */

typedef struct axm_gendata_batch {
    int R, F, B, W, C, T, S;      /* B = R*F; S = states of the model kind (vm last) */
    double *D_um;                 /* [B] */
    double *contact_xyz_um;       /* [B][C][3], relative to the fiber's centre node */
    axm_wave *waves;              /* [B][C] */
    double *node_y_um;            /* [B][W] */
    int *ap_nodes;                /* [B][2] */
    float *states;                /* [S][B][W][T] */
    float *e;                     /* [B][W][T]: e[..., k] = sample k; e[..., T-1] repeats T-2 */
    float *act;                   /* [B]: 1 if vm crossed threshold upward at an AP monitor node */
} axm_gendata_batch;

axm_gendata_batch *axm_gendata_batch_create(const axm_gendata_cfg *c, int n_states, axm_err *err);
void axm_gendata_batch_destroy(axm_gendata_batch *b);
/* Fills D, node positions, AP monitor nodes, contacts and waves of run g from the configuration's
 * random stream (the longitudinal offsets scale with the model's node spacing). */
int axm_gendata_draw(const axm_gendata_cfg *c, const axm_model *m, long g, axm_gendata_batch *b,
                     axm_err *err);
/* Simulates the fibers of b (D, contacts, waves as set, by draw or by hand) and fills node_y_um,
 * ap_nodes, states, e and act. n_threads <= 0: all CPUs. progress (may be NULL) gets fibers done out of b->B. */
int axm_gendata_simulate(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b,
                         int n_threads, const volatile int *cancel,
                         void (*progress)(void *ud, long done, long total), void *progress_ud,
                         axm_err *err);

/* An alternative simulation engine for axm_gendata_simulate_many (the CUDA backend's, axm_cuda.h):
 * integrates the fibers of the k runs bs[0..k-1] (all of one shape) together as one batch of
 * sum(B) fibers, run 0's first: fiber i of d (its sources and waves) is fiber i - off_j of run j,
 * off_j the fibers of the runs before j; diameters bs[j]->D_um, model m, precision prec. It runs
 * n_steps of dt_ms from the initial state and stores every node state as float into each run's
 * states [S][B][W][T], frame 0 the initial state, frame k+1 the state after step k. A fiber's
 * result must not depend on the other fibers of the call (so k runs per call give the bytes of one
 * run per call). progress (may be NULL) gets steps done out of n_steps; *cancel raised:
 * AXM_ERR_CANCELLED. ud: the engine's own settings. */
typedef int (*axm_gendata_engine)(void *ud, const axm_model *m, axm_gendata_batch *const *bs, int k, axm_prec prec,
                                  const axm_drive *d, double dt_ms, long n_steps, const volatile int *cancel,
                                  void (*progress)(void *pud, long done, long total), void *progress_ud,
                                  axm_err *err);
/* axm_gendata_simulate with the simulation itself done by engine (NULL: the CPU engine). */
int axm_gendata_simulate_with(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err);
/* The k runs bs[0..k-1] (each drawn as for axm_gendata_simulate) simulated in one engine call (NULL:
 * the CPU engine, one axm_sim of all their fibers). Each run's node_y_um, ap_nodes, states, e and
 * act are those axm_gendata_simulate_with gives it alone. progress gets fibers done out of sum(B). */
int axm_gendata_simulate_many(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *const *bs, int k,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err);

/* Runs per engine call (axm_gendata_opts.runs_per_call = 0). A GPU runs one thread per fiber and
 * needs tens of thousands of fibers to fill its SMs (H200, MRG 53 nodes: 4.9e7 node-steps/s at 1024
 * fibers, 5.6e8 at 32768), so an engine gets ceil(AXM_GD_TARGET_FIBERS / B) runs per call, as many
 * as the host memory budget allows: a call holds the float traces of its k runs ((S+1) B W T x 4
 * bytes each: 1.3 GB for the default 32 x 32 fibers, 53 nodes, 1001 samples), and the writer
 * compresses the previous call's k runs meanwhile, so about 2 x budget is in use. budget_bytes <= 0:
 * the default, an eighth of the physical memory clamped to [2, 16] GB (16 GB on a 128 GB GPU
 * host: 12 runs of the default 1024 fibers per call). At least 1, at most n_runs. */
#define AXM_GD_TARGET_FIBERS 32768
int axm_gendata_runs_per_call(const axm_gendata_cfg *c, int n_states, double budget_bytes);

/* ---- whole datasets ---------------------------------------------------------------------- */

typedef struct axm_gendata_opts {
    const char *out_path;     /* FILE.h5; written as FILE.h5.part, renamed when complete */
    int force;                /* replace an existing FILE.h5 / FILE.h5.part */
    int resume;               /* continue FILE.h5.part */
    long max_batches;         /* stop after this many new runs (0 = no limit) */
    int n_threads;
    axm_gendata_engine engine;    /* NULL: the CPU engine (sim.h) */
    void *engine_ud;
    /* Runs simulated together per engine call (the file is the same for any value): 0 = one for
     * the CPU engine (it is parallel over fibers already), axm_gendata_runs_per_call(c, S,
     * call_mem_bytes) for an engine. */
    int runs_per_call;
    double call_mem_bytes;    /* host memory budget of one call's traces; 0 = the default */
    const volatile int *cancel;
    /* Fibers done and to do in this invocation. */
    void (*progress)(void *ud, long done, long total);
    void *progress_ud;
    /* out */
    long start_batch;         /* runs already in the file when this invocation began */
    long batches_done;        /* runs in the file when it returned */
    int complete;             /* the dataset is complete and renamed to out_path */
    /* Trace chunks this invocation compressed on several threads and stored with H5Dwrite_chunk
     * (h5chunk.h; the same file bytes as HDF5's own filters, which write the others). */
    long chunks_direct;
} axm_gendata_opts;

/* Generates (or continues) a dataset. Refuses to replace files without force (AXM_ERR_INPUT);
 * returns AXM_ERR_CANCELLED, with every finished run kept, when *cancel is raised (the runs of the
 * engine call in flight are dropped; --resume redoes them). */
int axm_gendata_run(const axm_gendata_cfg *c, axm_gendata_opts *o, axm_err *err);

#endif
