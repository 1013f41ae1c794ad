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

#endif
