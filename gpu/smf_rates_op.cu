/* The gate rates' op-level check (tests): the one-reciprocal form and the divisions on the device for
 * the same vm, so that a test can compare them (axm_cuda_smf_gate_rates). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smf_host.h"

using namespace axmcu;

/* Grid-stride: a few blocks cover any n (and keep the emulator's thread count small). */
template <typename T> __global__ void gate_rates_kernel(const SmfC<T> c, const T *v, int n, T *fast, int *ok, T *div)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        GateRates<T> R;
        ok[i] = gate_rates_rcp1(c, v[i], R);
        const T f[8] = {R.sm, R.im, R.sh, R.ih, R.sp, R.ip, R.ss, R.is};
        gate_rates_div(c, v[i], R);
        const T d[8] = {R.sm, R.im, R.sh, R.ih, R.sp, R.ip, R.ss, R.is};
        for (int q = 0; q < 8; q++) {
            fast[(size_t)i * 8 + q] = f[q];
            div[(size_t)i * 8 + q] = d[q];
        }
    }
}

template <typename T>
static int gate_rates_t(const axm_model *m, const double *v, int n, double *fast, int *ok, double *div, axm_err *err)
{
    SmfC<double> cd;
    int rc = smf_consts(m, 1.0, &cd, err);
    if (rc) return rc;
    const SmfC<T> c = cast_consts<T>(cd);
    const axm_prec prec = sizeof(T) == 8 ? AXM_FP64 : AXM_FP32;
    void *dv = NULL, *df = NULL, *dd = NULL, *dok = NULL;
    if (!(rc = dalloc(&dv, (size_t)n * sizeof(T), "gate test vm", err)) &&
        !(rc = dalloc(&df, (size_t)n * 8 * sizeof(T), "gate test rates", err)) &&
        !(rc = dalloc(&dd, (size_t)n * 8 * sizeof(T), "gate test rates", err)) &&
        !(rc = dalloc(&dok, (size_t)n * sizeof(int), "gate test flags", err)) && !(rc = upload(dv, v, (size_t)n, prec, err))) {
        dim3 grid(8), block(128);
#ifdef AXM_CUDA_EMU
        axmemu::launch(grid, block, [&] { gate_rates_kernel<T>(c, (const T *)dv, n, (T *)df, (int *)dok, (T *)dd); });
#else
        gate_rates_kernel<T><<<grid, block>>>(c, (const T *)dv, n, (T *)df, (int *)dok, (T *)dd);
#endif
        cudaError_t e = cudaGetLastError();
        if (e == cudaSuccess) e = cudaDeviceSynchronize();
        if (e != cudaSuccess)
            rc = axm_fail(err, AXM_ERR_RUNTIME, "cuda: %s:%d: gate_rates_kernel: %s", __FILE__, __LINE__, cudaGetErrorString(e));
        if (!rc) rc = download(fast, df, (size_t)n * 8, prec, err);
        if (!rc) rc = download(div, dd, (size_t)n * 8, prec, err);
        if (!rc) rc = d2h(ok, dok, (size_t)n * sizeof(int), "gate test flags", err);
    }
    dfree(dv);
    dfree(df);
    dfree(dd);
    dfree(dok);
    return rc;
}

extern "C" int axm_cuda_smf_gate_rates(const axm_model *m, axm_prec prec, const double *v, int n, double *fast,
                                       int *ok, double *div, axm_err *err)
{
    if (!m || !v || n < 1 || !fast || !ok || !div) return axm_fail(err, AXM_ERR_INPUT, "cuda: gate rates: no input");
    int dev = axm_cuda_pick_device(-1, "cuda", err);
    if (dev < 0) return AXM_ERR_RUNTIME;
    AXM_CK(cudaSetDevice(dev));
    return prec == AXM_FP64 ? gate_rates_t<double>(m, v, n, fast, ok, div, err)
                            : gate_rates_t<float>(m, v, n, fast, ok, div, err);
}
