/* Device discovery and availability. Nothing here aborts without a driver: the runtime's error becomes
 * the reason string. */
#include <stdio.h>
#include <string.h>

#include "cuda_util.h"

extern "C" int axm_cuda_compiled(void) { return 1; }

extern "C" int axm_cuda_available(axm_err *why)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) {
        axm_fail(why, AXM_ERR_RUNTIME, "no CUDA device or driver (%s: %s)", cudaGetErrorName(e),
                 cudaGetErrorString(e));
        cudaGetLastError();
        return 0;
    }
    if (e != cudaSuccess) {
        axm_fail(why, AXM_ERR_RUNTIME, "no usable CUDA device: %s (%s)", cudaGetErrorString(e),
                 cudaGetErrorName(e));
        cudaGetLastError(); /* a failed driver probe must not poison later calls */
        return 0;
    }
    if (n <= 0) {
        axm_fail(why, AXM_ERR_RUNTIME, "no usable CUDA device: the driver reports 0 devices");
        return 0;
    }
    return 1;
}

extern "C" int axm_cuda_devices(axm_cuda_device *out, int max, axm_err *err)
{
    if (!axm_cuda_available(err)) return 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaGetDeviceCount: %s", __FILE__, __LINE__,
                 cudaGetErrorString(e));
        return 0;
    }
    for (int i = 0; i < n && i < max && out; i++) {
        cudaDeviceProp p;
        e = cudaGetDeviceProperties(&p, i);
        if (e != cudaSuccess) {
            axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: cudaGetDeviceProperties(%d): %s", __FILE__,
                     __LINE__, i, cudaGetErrorString(e));
            return 0;
        }
        memset(&out[i], 0, sizeof out[i]);
        out[i].index = i;
        snprintf(out[i].name, sizeof out[i].name, "%s", p.name);
        out[i].mem_bytes = p.totalGlobalMem;
        out[i].sms = p.multiProcessorCount;
        out[i].cc_major = p.major;
        out[i].cc_minor = p.minor;
    }
    return n;
}
