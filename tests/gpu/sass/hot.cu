/* The hot path of gpu/smf_kernel.cuh's run kernel (K_LITE: one separable contact, no pulses, no
 * monitors, HOT_TAPS taps, NPL slots), written out alone so that its SASS can be counted without a GPU
 * (count.sh): the real kernel's loop also holds the code of every path a run may take, which a
 * static count cannot tell from the path taken. It calls the kernel's own node step, stencil and
 * halo code; what it repeats (the loop around them) must follow smf_kernel.cuh's. */
#include "smf_kernel.cuh"

#ifndef HOT_TAPS
#define HOT_TAPS 3
#endif
#ifndef AXM_STEP_UNROLL
#define AXM_STEP_UNROLL 1
#endif

using namespace axmcu;

template <typename T, int NPL> __global__ void __launch_bounds__(WPB * 32, MinBlocks<T, NPL, K_LITE>::n) hot(const KArgs<T> a)
{
    constexpr int HALO = AXM_MAX_TAPS / 2;
    __shared__ T rows[WPB][32 * NPL + 2 * HALO + 1];
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const int b = blockIdx.x * WPB + wid, B = a.B, W = a.W;
    T *row = rows[wid] + HALO;
    const SmfC<T> &c = a.c;
    const StepK<T> fk = make_stepk(a.c, a.dt, a.fib[b], a.fib[B + b], a.fib[2 * B + b], a.fib[3 * B + b],
                                   a.fib[4 * B + b], a.fib[5 * B + b]);
    const T ampv = a.amp[b];
    const int hw = c.hw, spare = 32 * NPL + HALO;
    T m[NPL], h[NPL], p[NPL], s[NPL], v[NPL], ph0[NPL];
    int jc[NPL], hown[NPL], hmir[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int j = i * 32 + lane;
        jc[i] = min(j, W - 1);
        hown[i] = j < W ? j : spare;
        const int r = halo_mirror(j, W, hw);
        hmir[i] = j >= W || !r ? spare : r;
        const T *x = a.state + (size_t)b * 5 * W + jc[i];
        m[i] = x[0]; h[i] = x[W]; p[i] = x[2 * W]; s[i] = x[3 * W]; v[i] = x[4 * W];
        ph0[i] = a.phis[(size_t)b * W + jc[i]];
        row[hown[i]] = v[i];
        row[hmir[i]] = v[i];
    }
    __syncwarp();
    const int w0 = a.wave_of[b];
    constexpr int UN = AXM_STEP_UNROLL;
#pragma unroll UN
    for (long long k = a.k0; k < a.n_steps; k++) {
        T co = ampv * series_at(a.waves + (long long)w0 * a.wlen, a.wlen, k);
        T e[NPL];
#pragma unroll
        for (int i = 0; i < NPL; i++) e[i] = co * ph0[i];
        stencil_add<HOT_TAPS>(e, row, jc, c.wvm);
#pragma unroll
        for (int i = 0; i < NPL; i++)
            smf_node_step<T, AXM_SMF_DIVLOOP32, false>(c, m[i], h[i], p[i], s[i], v[i], e[i], (T)0, fk);
        fix_nonfinite(c, v);
        __syncwarp();
        halo_store(row, hown, hmir, v);
        __syncwarp();
    }
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        T *x = a.state + (size_t)b * 5 * W + jc[i];
        if (i * 32 + lane < W) {
            x[0] = m[i]; x[W] = h[i]; x[2 * W] = p[i]; x[3 * W] = s[i]; x[4 * W] = v[i];
        }
    }
}

template __global__ void hot<float, 4>(const KArgs<float>);
template __global__ void hot<double, 4>(const KArgs<double>);
