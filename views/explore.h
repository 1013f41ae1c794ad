/* The explore view's model, without the terminal: a stimulus set-up (one fiber, one point
 * electrode, one waveform) turned into a scenario (scenario.h), run with a raster and a vm
 * recorder, or searched for its threshold and run again at threshold; and a worker thread that
 * runs the latest request while the UI stays responsive. */
#ifndef AXM_EXPLORE_H
#define AXM_EXPLORE_H

#include "err.h"

enum { AXM_EX_MONO = 0, AXM_EX_BIPHASIC, AXM_EX_SINE, AXM_EX_TRAIN, AXM_EX_N_WAVES };
#define AXM_EX_MAX_TRACES 4

typedef struct axm_ex_params {
    char model[16];          /* "smf", "sundt", "mrg" */
    char weights[512];       /* "" = the kind's defaults */
    char precision[8];       /* "fp32", "fp64" */
    int wave;                /* AXM_EX_* */
    double amp_mA;           /* magnitude */
    int anodic;              /* 0 cathodic (first phase negative), 1 anodic */
    double pw_ms, delay_ms, freq_khz, gap_ms;
    double dist_mm, offset_mm, rho_ohm_cm;
    double diam_um;
    int nodes;
    double dt_ms, tstop_ms;
    double threshold_mV;     /* spike detection */
    int n_trace;
    int trace_nodes[AXM_EX_MAX_TRACES]; /* negative: from the end */
} axm_ex_params;

void axm_ex_params_default(axm_ex_params *p);
const char *axm_ex_wave_name(int wave);
/* The scenario text for p (caller frees). unit_amplitude: amplitude 1 mA (threshold search). */
char *axm_ex_scenario_json(const axm_ex_params *p);

typedef struct axm_ex_result {
    int ok;                  /* 0: msg holds the error */
    char msg[512];
    char note[256];          /* warnings (untrained weights) */
    long gen;                /* the request this answers */
    int W;
    double tstop_ms, amp_mA; /* amplitude of the run shown (threshold: the threshold) */
    long n_spikes;
    int *spk_node;
    double *spk_t;
    int n_trace;
    int trace_nodes[AXM_EX_MAX_TRACES]; /* resolved, 0..W-1 */
    long n_frames;
    double *t_ms;            /* [n_frames] */
    double *vm;              /* [n_trace][n_frames] */
    int threshold;           /* 1: a threshold search ran */
    double thresh_mA;        /* NaN if none found */
    int thresh_status;       /* axm_thresh_status */
    double elapsed_ms;       /* wall time of the whole request */
} axm_ex_result;

/* Runs p at its amplitude, or (threshold) finds the threshold and runs at it. cancel may be NULL. */
int axm_ex_run(const axm_ex_params *p, int threshold, const volatile int *cancel, axm_ex_result *r,
               axm_err *err);
void axm_ex_result_free(axm_ex_result *r);

/* Worker: one thread; a newer request cancels the one running. */
typedef struct axm_ex_worker axm_ex_worker;
axm_ex_worker *axm_ex_worker_create(void);
void axm_ex_worker_destroy(axm_ex_worker *w);
long axm_ex_worker_submit(axm_ex_worker *w, const axm_ex_params *p, int threshold);
/* Moves the newest finished result into *r (freeing what *r held); 1 if there was one. */
int axm_ex_worker_poll(axm_ex_worker *w, axm_ex_result *r);
int axm_ex_worker_busy(axm_ex_worker *w);

#endif
