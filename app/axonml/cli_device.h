/* Where a scenario runs: sim.device "cpu" always on the CPU; "cuda" and "auto" on the GPU when the
 * CUDA backend is compiled in, a device is usable and the run is one the GPU kernels take (a model
 * the command runs on the GPU, nodes <= AXM_CUDA_MAX_NODES); otherwise on the CPU with a one-line
 * note on stderr. */
#ifndef AXM_CLI_DEVICE_H
#define AXM_CLI_DEVICE_H

#include "scenario.h"

/* The models a command runs on the GPU (bits; 0: the command runs on the CPU only). */
enum { CLI_GPU_SMF = 1, CLI_GPU_MRG = 2 };

/* 1: run on the GPU. 0: CPU (the note, if any, is already printed with prog as prefix). */
int cli_use_gpu(const axm_scenario *sc, int gpu_models, const char *prog);

#endif
