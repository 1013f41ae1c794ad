/* Training on the GPU for the programs (core and views stay CUDA-free): where a training config's
 * device is "cuda" or "auto", plugs the CUDA backend's BPTT chunk (axm_cuda_train_chunk) into a
 * trainer, with page-locked uploads; where no GPU can take the run, the trainer stays on the CPU
 * and a one-line note says why. */
#ifndef AXM_APP_TRAIN_GPU_H
#define AXM_APP_TRAIN_GPU_H

#include <stddef.h>

#include "train.h"

typedef struct axm_app_train_gpu axm_app_train_gpu;

/* The GPU context now driving t's chunks, or NULL: device "cpu" (note ""), or no GPU for this run
 * (note: 'device "cuda": <why>; training on the CPU'). Notes about page-locking that failed (the
 * uploads then come from pageable memory) do not stop it. note may be NULL. */
axm_app_train_gpu *axm_app_train_gpu_attach(axm_trainer *t, const axm_train_config *cfg, char *note, size_t n);
/* Before axm_trainer_destroy(t): it unlocks the trainer's buffers. NULL is a no-op. */
void axm_app_train_gpu_detach(axm_app_train_gpu *g);

#endif
