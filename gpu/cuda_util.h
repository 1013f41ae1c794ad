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

#endif
