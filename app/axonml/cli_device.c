#include "cli_device.h"

#include <stdio.h>
#include <string.h>

#include "axm_cuda.h"

int cli_use_gpu(const axm_scenario *sc, int gpu_capable_command, const char *prog)
{
    if (sc->device == AXM_DEV_CPU) return 0;
    const char *dev = axm_device_name(sc->device);
    axm_err why;
    axm_err_clear(&why);
    if (!gpu_capable_command)
        fprintf(stderr, "%s: note: device \"%s\": this command runs on the CPU\n", prog, dev);
    else if (!axm_cuda_available(&why))
        fprintf(stderr, "%s: note: device \"%s\": %s; running on the CPU\n", prog, dev, why.msg);
    else if (strcmp(sc->model_name, "smf"))
        fprintf(stderr, "%s: note: device \"%s\": only the S-MF runs on the GPU; running \"%s\" on the CPU\n", prog,
                dev, sc->model_name);
    else if (sc->nodes > AXM_CUDA_MAX_NODES)
        fprintf(stderr, "%s: note: device \"%s\": the GPU kernels take at most %d nodes; running on the CPU\n", prog,
                dev, AXM_CUDA_MAX_NODES);
    else
        return 1;
    return 0;
}
