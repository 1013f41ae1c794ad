/* Training of the S-MF surrogate by truncated back-propagation through time (smf-model.md §9),
 * with the original's defects fixed (§9.5): every chunk of every trace counts, the model state is
 * carried across chunks (detached) and reset at the start of each trace, validation divides by
 * the number of validation minibatches.
 *
 * A trainer is driven either by axm_trainer_run (CLI) or one minibatch at a time by
 * axm_trainer_step (a TUI worker thread); events go to a callback. */
#ifndef AXM_TRAIN_H
#define AXM_TRAIN_H

#include <stddef.h>

#include "device.h"
#include "err.h"
#include "model.h"
#include "smf_grad.h"

#define AXM_TRAIN_MAX_SEL 64

typedef struct axm_train_config {
    char path[1024];          /* the config file (for messages and relative paths); may be "" */
    char model[1024];         /* "smf" (defaults) or a weights file */
    axm_device device;        /* where `axonml train` runs the chunks (device.h): "device" auto|cpu|cuda,
                               * or the original's "cuda": true (cuda) / false (cpu); default cpu */
    int fp32;                 /* round the state to float32 after each step (straight-through) */
    int nodes;                /* W; must match the datasets */
    double dt;                /* ms */
    char train_dset[1024], valid_dset[1024]; /* valid_dset "" = no validation (JSON: "", null
                                              * or absent); checkpoints are then named NNNNN.json */
    int state_on[5];          /* "states": which of m, h, p, s, v enter the loss */
    double state_weights[5];  /* per-state loss weights (default 1 for gates, 1e-4 for v) */
    int epochs, truncation_length;
    double lr;
    int grad_accumulation;
    int train_n_idx, val_n_idx, train_chunk_size, val_chunk_size, sampling;
    int n_postfix;
    char postfix[AXM_TRAIN_MAX_SEL][32];
    int save_every;
    char save_dir[1024];
    int n_to_train;
    char to_train[AXM_TRAIN_MAX_SEL][32];
    /* extensions */
    unsigned long long seed;  /* run-order shuffling */
    int threads;              /* fiber-parallel threads (default 2) */
    int handle_nan;           /* S-MF NaN handling in the training forward (default false) */
    double beta1, beta2, eps; /* Adam */
} axm_train_config;

void axm_train_config_defaults(axm_train_config *c);
/* Parses a JSON config; every key optional except train_dset; unknown keys are errors naming
 * the file and key. Relative paths resolve against the working directory, then the config's
 * folder. */
int axm_train_config_load(axm_train_config *c, const char *path, axm_err *err);
int axm_train_config_parse(axm_train_config *c, const char *text, const char *name, axm_err *err);

/* ---- the BPTT kernel ---- */

/* Loss of one truncation chunk and (g != NULL) its gradient, for B fibers of W nodes, L steps:
 *   ve      (L, B, W)         mV, step k uses ve[k]
 *   target  (L+1, B, 5, W)    recorded states; entry 0 pairs with the chunk's initial state
 *   s_io    (B, 5, W)         in: initial state (detached), out: final state
 * loss = sum_t sum_b sum_s w_s sum_j (pred - target)^2 / norm. Gradients are added to g->p/g->w.
 * Fibers are split over n_threads threads. Returns the loss (NaN/inf propagate). */
double axm_train_chunk(const axm_smfg_theta *th, const double *D, int B, int W, int L,
                       const double *ve, const double *target, const double w[5], double norm,
                       double dt, double *s_io, axm_smfg_grad *g, int n_threads);

/* ---- Adam (PyTorch semantics) ---- */
void axm_adam_update(int n, double *p, const double *g, double *m, double *v, long t, double lr,
                     double b1, double b2, double eps);

/* ---- trainer ---- */

typedef enum axm_train_event_kind {
    AXM_TRAIN_EV_START = 0,
    AXM_TRAIN_EV_STEP,       /* a minibatch done: train_loss = its mean chunk loss */
    AXM_TRAIN_EV_VALID,      /* val_loss */
    AXM_TRAIN_EV_CHECKPOINT, /* path */
    AXM_TRAIN_EV_EPOCH,      /* an epoch done */
    AXM_TRAIN_EV_NAN,        /* message: a NaN loss skipped, or a NaN parameter (training stops) */
    AXM_TRAIN_EV_DONE
} axm_train_event_kind;

typedef struct axm_train_event {
    axm_train_event_kind kind;
    int epoch, epochs;          /* epoch is 0-based */
    long batch, batches;        /* minibatch within the epoch (0-based) and per epoch */
    long step, total_steps;     /* minibatches done overall */
    double train_loss;          /* STEP: this minibatch; CHECKPOINT: mean since the last one */
    double val_loss;            /* NaN when there is no validation set (yet) */
    int n_params;               /* the trained values, in selection order */
    const char *const *names;
    const double *values;
    const char *path;
    const char *message;
} axm_train_event;

typedef void (*axm_train_cb)(void *ud, const axm_train_event *ev);

typedef struct axm_trainer axm_trainer;

/* Opens the datasets, builds the model and the parameter selection. */
axm_trainer *axm_trainer_create(const axm_train_config *c, axm_err *err);
void axm_trainer_destroy(axm_trainer *t);
void axm_trainer_set_callback(axm_trainer *t, axm_train_cb cb, void *ud);
/* Called with the gradient of the selection before each optimizer update (may modify it). */
void axm_trainer_set_grad_hook(axm_trainer *t, void (*hook)(void *ud, int n, double *g), void *ud);

/* A replacement for axm_train_chunk with its arguments and results (the loss in *loss), e.g. the
 * GPU's (axm_cuda_train_chunk), passed in by the caller so that core stays CUDA-free. A nonzero
 * return stops the minibatch (axm_trainer_step returns it with err); during validation it makes the
 * validation loss NaN. NULL: axm_train_chunk on cfg.threads threads. */
typedef int (*axm_train_chunk_fn)(void *ud, const axm_smfg_theta *th, const double *D, int B, int W,
                                  int L, const double *ve, const double *target, const double w[5],
                                  double norm, double dt, double *s_io, axm_smfg_grad *g,
                                  double *loss, axm_err *err);
void axm_trainer_set_chunk_fn(axm_trainer *t, axm_train_chunk_fn fn, void *ud);
/* The two host arrays every chunk's ve and target point into (allocated once, for the trainer's
 * life): a GPU chunk function pins them so that its uploads run at the bus's full rate. */
void axm_trainer_chunk_buffers(const axm_trainer *t, const void *buf[2], size_t bytes[2]);

/* Restores parameters, optimizer state and position from a checkpoint written by this trainer. */
int axm_trainer_resume(axm_trainer *t, const char *ckpt, axm_err *err);

/* One minibatch (all its chunks), then validation + checkpoint when due. AXM_ERR_CANCELLED when
 * *stop became nonzero mid-minibatch (the minibatch is redone on resume). */
int axm_trainer_step(axm_trainer *t, const volatile int *stop, axm_err *err);
int axm_trainer_done(const axm_trainer *t);
/* Runs to the end. While *pause is nonzero it waits; when *stop becomes nonzero it saves a
 * checkpoint and returns AXM_ERR_CANCELLED. A NaN parameter: the last good parameters are saved
 * and AXM_ERR_RUNTIME returned. */
int axm_trainer_run(axm_trainer *t, const volatile int *stop, const volatile int *pause,
                    axm_err *err);
/* Validation loss over the validation set (full traces from the initial state); NaN if none. */
double axm_trainer_validate(axm_trainer *t, axm_err *err);
/* Writes a checkpoint now ({save_dir}/{index:05d}-{val:.3f}.json); path_out may be NULL. */
int axm_trainer_checkpoint(axm_trainer *t, char *path_out, size_t n, axm_err *err);

/* The current parameters (write them into a model with axm_smfg_theta_to_model). */
const axm_smfg_theta *axm_trainer_theta(const axm_trainer *t);
long axm_trainer_steps_done(const axm_trainer *t);
long axm_trainer_total_steps(const axm_trainer *t);
int axm_trainer_n_selected(const axm_trainer *t);
const char *axm_trainer_selected_name(const axm_trainer *t, int i);
double axm_trainer_selected_value(const axm_trainer *t, int i);
/* Sets one value of the selection by name (e.g. from a TUI); AXM_ERR_INPUT if not selected. */
int axm_trainer_set_value(axm_trainer *t, const char *name, double v, axm_err *err);

#endif
