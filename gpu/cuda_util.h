/* Internal to the CUDA backend (C++ only): error checks that name the source file and line. */
#ifndef AXM_CUDA_UTIL_H
#define AXM_CUDA_UTIL_H

#include <cuda_runtime.h>

#include "axm_cuda.h"

/* Returns from the calling function with AXM_ERR_RUNTIME and a message naming file, line and call. */
#define AXM_CK(call)                                                                              \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess)                                                                    \
            return axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: %s: %s", __FILE__, __LINE__, #call, \
                            cudaGetErrorString(e_));                                              \
    } while (0)

/* The device a create call asked for (device < 0: device 0), or -1 with err set: no usable CUDA
 * device, or an index past the last one. `who` prefixes the message ("cuda", "cuda mrg"). */
static inline int axm_cuda_pick_device(int device, const char *who, axm_err *err)
{
    if (!axm_cuda_available(err)) return -1;
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || device >= n) {
        cudaGetLastError();
        axm_fail(err, AXM_ERR_INPUT, "%s: device %d: expected 0..%d", who, device, n - 1);
        return -1;
    }
    return device < 0 ? 0 : device;
}

/* Device memory for the backends: allocation (0 bytes: NULL, no call), free, and copies that name
 * what they move and the caller's file and line in their error. */
static inline int axm_cu_dalloc(void **p, size_t bytes, const char *what, axm_err *err, const char *file, int line)
{
    *p = NULL;
    if (bytes == 0) return AXM_OK;
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        *p = NULL;
        cudaGetLastError();
        return axm_fail(err, AXM_ERR_NOMEM, "cuda: %s:%d: cudaMalloc(%s, %zu bytes): %s", file, line, what, bytes,
                        cudaGetErrorString(e));
    }
    return AXM_OK;
}

static inline int axm_cu_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, const char *what,
                              axm_err *err, const char *file, int line)
{
    if (bytes == 0) return AXM_OK;
    cudaError_t e = cudaMemcpy(dst, src, bytes, kind);
    if (e != cudaSuccess)
        return axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: %s of %s: %s", file, line,
                        kind == cudaMemcpyHostToDevice ? "upload" : "download", what, cudaGetErrorString(e));
    return AXM_OK;
}

#define dalloc(p, bytes, what, err) axm_cu_dalloc((p), (bytes), (what), (err), __FILE__, __LINE__)
#define h2d(dst, src, bytes, what, err) \
    axm_cu_copy((dst), (src), (bytes), cudaMemcpyHostToDevice, (what), (err), __FILE__, __LINE__)
#define d2h(dst, src, bytes, what, err) \
    axm_cu_copy((dst), (src), (bytes), cudaMemcpyDeviceToHost, (what), (err), __FILE__, __LINE__)

static inline void dfree(void *p)
{
    if (p) cudaFree(p);
}

/* Bytes per value of a precision. */
static inline size_t psize(axm_prec p) { return p == AXM_FP64 ? sizeof(double) : sizeof(float); }

#endif
