#include "train_gpu.h"

#include <stdio.h>
#include <stdlib.h>

#include "axm_cuda.h"

struct axm_app_train_gpu {
    axm_cuda_train *ctx;
};

/* The trainer's chunk function on the GPU (core only sees the pointer). */
static int gpu_chunk(void *ud, const axm_smfg_theta *th, const double *D, int B, int W, int L, const double *ve,
                     const double *target, const double w[5], double norm, double dt, double *s_io,
                     axm_smfg_grad *g, double *loss, axm_err *err)
{
    return axm_cuda_train_chunk(ud, th, D, B, W, L, ve, target, w, norm, dt, s_io, g, loss, err);
}

axm_app_train_gpu *axm_app_train_gpu_attach(axm_trainer *t, const axm_train_config *cfg, char *note, size_t n)
{
    char dummy[8];
    if (!note) {
        note = dummy;
        n = sizeof dummy;
    }
    note[0] = 0;
    if (cfg->device == AXM_DEV_CPU) return NULL;
    const char *dev = axm_device_name(cfg->device);
    axm_err why;
    axm_err_clear(&why);
    axm_cuda_train *ctx = NULL;
    if (!axm_cuda_available(&why)) {
        snprintf(note, n, "device \"%s\": %s; training on the CPU", dev, why.msg);
    } else if (cfg->nodes > AXM_CUDA_MAX_NODES) {
        snprintf(note, n, "device \"%s\": the GPU kernels take at most %d nodes; training on the CPU", dev,
                 AXM_CUDA_MAX_NODES);
    } else if (!(ctx = axm_cuda_train_create(-1, &why))) {
        snprintf(note, n, "device \"%s\": %s; training on the CPU", dev, why.msg);
    }
    if (!ctx) return NULL;
    axm_app_train_gpu *g = malloc(sizeof *g);
    if (!g) {
        axm_cuda_train_destroy(ctx);
        snprintf(note, n, "device \"%s\": out of memory; training on the CPU", dev);
        return NULL;
    }
    g->ctx = ctx;
    axm_trainer_set_chunk_fn(t, gpu_chunk, ctx);
    /* page-locked uploads; the context (detached before the trainer goes) unlocks them */
    const void *buf[2];
    size_t bytes[2];
    axm_trainer_chunk_buffers(t, buf, bytes);
    for (int i = 0; i < 2; i++)
        if (axm_cuda_train_pin(ctx, buf[i], bytes[i], &why) != AXM_OK && !note[0])
            snprintf(note, n, "device \"%s\": %s (uploads from pageable memory)", dev, why.msg);
    return g;
}

void axm_app_train_gpu_detach(axm_app_train_gpu *g)
{
    if (!g) return;
    axm_cuda_train_destroy(g->ctx);
    free(g);
}
