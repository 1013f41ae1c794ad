/* Where a scenario runs: sim.device "cpu" always on the CPU; "cuda" and "auto" on the GPU when the
 * CUDA backend is compiled in, a device is usable and the run is one the GPU kernels take (S-MF,
 * nodes <= AXM_CUDA_MAX_NODES); otherwise on the CPU with a one-line note on stderr. */
#ifndef AXM_CLI_DEVICE_H
#define AXM_CLI_DEVICE_H

#include "scenario.h"

/* 1: run on the GPU. 0: CPU (the note, if any, is already printed with prog as prefix). */
int cli_use_gpu(const axm_scenario *sc, int gpu_capable_command, const char *prog);

#endif
