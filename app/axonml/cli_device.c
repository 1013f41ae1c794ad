#include "cli_device.h"

#include <stdio.h>
#include <string.h>

#include "axm_cuda.h"

int cli_use_gpu(const axm_scenario *sc, int gpu_models, const char *prog)
{
    if (sc->device == AXM_DEV_CPU) return 0;
    const char *dev = axm_device_name(sc->device);
    axm_err why;
    axm_err_clear(&why);
    int on_gpu = (!strcmp(sc->model_name, "smf") && (gpu_models & CLI_GPU_SMF)) ||
                 (!strcmp(sc->model_name, "mrg") && (gpu_models & CLI_GPU_MRG));
    if (!gpu_models)
        fprintf(stderr, "%s: note: device \"%s\": this command runs on the CPU\n", prog, dev);
    else if (!axm_cuda_available(&why))
        fprintf(stderr, "%s: note: device \"%s\": %s; running on the CPU\n", prog, dev, why.msg);
    else if (!on_gpu)
        fprintf(stderr, "%s: note: device \"%s\": only %s runs on the GPU here; running \"%s\" on the CPU\n", prog,
                dev, gpu_models & CLI_GPU_MRG ? "the S-MF or the MRG" : "the S-MF", sc->model_name);
    else if (sc->nodes > AXM_CUDA_MAX_NODES)
        fprintf(stderr, "%s: note: device \"%s\": the GPU kernels take at most %d nodes; running on the CPU\n", prog,
                dev, AXM_CUDA_MAX_NODES);
    else
        return 1;
    return 0;
}
