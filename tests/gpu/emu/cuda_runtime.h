/* A CPU emulation of the small part of the CUDA runtime and device language the backend uses, so
 * that the kernels' logic can be checked against the CPU engine on machines without a GPU
 * (tests/gpu/emu.sh). One OS thread per GPU thread, blocks one after another; warps synchronize
 * through per-warp barriers. Not a performance tool. */
#ifndef AXM_CUDA_EMU_RUNTIME_H
#define AXM_CUDA_EMU_RUNTIME_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmath>
#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

using std::isfinite;
using std::isinf;
using std::isnan;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidValue = 1
} cudaError_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int multiProcessorCount, major, minor;
};

namespace axmemu {
struct warp_sync {
    pthread_barrier_t bar;
    uint64_t slot[32];
};
struct ctx {
    dim3 tid, bid, bdim, gdim;
    warp_sync *w;
    pthread_barrier_t *blk; /* the block's barrier (__syncthreads) */
    unsigned char *dsm;     /* the block's dynamic shared memory */
};
inline ctx &cur()
{
    static thread_local ctx c;
    return c;
}
inline void sync(warp_sync *w) { pthread_barrier_wait(&w->bar); }
} // namespace axmemu

#define threadIdx (axmemu::cur().tid)
#define blockIdx (axmemu::cur().bid)
#define blockDim (axmemu::cur().bdim)
#define gridDim (axmemu::cur().gdim)

inline void __syncwarp(unsigned = 0xffffffffu) { axmemu::sync(axmemu::cur().w); }
inline void __syncthreads(void) { pthread_barrier_wait(axmemu::cur().blk); }
inline unsigned __ballot_sync(unsigned, int p)
{
    axmemu::warp_sync *w = axmemu::cur().w;
    int lane = threadIdx.x & 31;
    w->slot[lane] = p != 0;
    axmemu::sync(w);
    unsigned r = 0;
    for (int i = 0; i < 32; i++) r |= (unsigned)w->slot[i] << i;
    axmemu::sync(w);
    return r;
}
inline int __any_sync(unsigned m, int p) { return __ballot_sync(m, p) != 0; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int o)
{
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    axmemu::warp_sync *w = axmemu::cur().w;
    int lane = threadIdx.x & 31;
    uint64_t u = 0;
    memcpy(&u, &v, sizeof v);
    w->slot[lane] = u;
    axmemu::sync(w);
    uint64_t r = w->slot[lane ^ o];
    axmemu::sync(w);
    T out;
    memcpy(&out, &r, sizeof out);
    return out;
}
template <typename T> inline T atomicAdd(T *p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
template <typename T> inline T atomicMin(T *p, T v)
{
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
template <typename T> inline T __ldg(const T *p) { return *p; }
/* the fast intrinsics as their exact counterparts: the emulator checks logic, not rounding */
inline float __expf(float x) { return expf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline int __float_as_int(float x)
{
    int i;
    memcpy(&i, &x, sizeof i);
    return i;
}
inline float __int_as_float(int i)
{
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}
inline int min(int a, int b) { return a < b ? a : b; }

namespace axmemu {
inline cudaError_t &last()
{
    static cudaError_t e = cudaSuccess;
    return e;
}
/* Runs fn for every thread of the grid: blocks in turn, each block's threads concurrently. */
inline void launch(dim3 grid, dim3 block, const std::function<void()> &fn, size_t dyn_smem = 0)
{
    std::vector<double> dsm(dyn_smem / sizeof(double) + 2); /* aligned for any element type */
    for (unsigned bx = 0; bx < grid.x; bx++) {
        std::fill(dsm.begin(), dsm.end(), NAN); /* as undefined as a GPU's: a read before a write shows */
        unsigned nw = (block.x + 31) / 32;
        std::vector<warp_sync> ws(nw);
        for (auto &w : ws) pthread_barrier_init(&w.bar, NULL, 32);
        pthread_barrier_t blk;
        pthread_barrier_init(&blk, NULL, block.x);
        std::vector<std::thread> th;
        for (unsigned t = 0; t < block.x; t++)
            th.emplace_back([&, t] {
                ctx &c = cur();
                c.tid = dim3(t);
                c.bid = dim3(bx);
                c.bdim = block;
                c.gdim = grid;
                c.w = &ws[t / 32];
                c.blk = &blk;
                c.dsm = (unsigned char *)dsm.data();
                fn();
            });
        for (auto &x : th) x.join();
        for (auto &w : ws) pthread_barrier_destroy(&w.bar);
        pthread_barrier_destroy(&blk);
    }
}
} // namespace axmemu

inline cudaError_t cudaGetDeviceCount(int *n)
{
    *n = getenv("AXM_EMU_NODEV") ? 0 : 1;
    return getenv("AXM_EMU_NODEV") ? cudaErrorNoDevice : cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int)
{
    memset(p, 0, sizeof *p);
    strcpy(p->name, "CPU emulation");
    p->totalGlobalMem = (size_t)1 << 30;
    p->multiProcessorCount = 1;
    p->major = 9;
    return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
/* one block of any kernel per (emulated) multiprocessor */
template <typename K> inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *n, K, int, size_t)
{
    *n = 1;
    return cudaSuccess;
}
inline cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = malloc(n);
    if (*p) memset(*p, 0xA5, n); /* poison: an unwritten output shows */
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFree(void *p)
{
    free(p);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
    memmove(d, s, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemset(void *d, int v, size_t n)
{
    memset(d, v, n);
    return cudaSuccess;
}
inline cudaError_t cudaGetLastError(void)
{
    cudaError_t e = axmemu::last();
    axmemu::last() = cudaSuccess;
    return e;
}
inline cudaError_t cudaPeekAtLastError(void) { return axmemu::last(); }
inline cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
/* Streams and events: the emulation runs every call when it is made, in the caller's order, which
 * is one order that streams allow; events keep the host time of their record. */
typedef struct axmemu_stream *cudaStream_t;
typedef struct axmemu_event {
    double t_ms;
} *cudaEvent_t;
#define cudaStreamNonBlocking 0x01u
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
    static char dummy;
    *s = (cudaStream_t)&dummy;
    return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
inline cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    *e = new axmemu_event{0};
    return cudaSuccess;
}
inline cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    delete e;
    return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = NULL)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->t_ms = 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
    return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
    *ms = (float)(b->t_ms - a->t_ms);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t = NULL)
{
    return cudaMemcpy(d, s, n, k);
}
#define cudaHostRegisterDefault 0u
inline cudaError_t cudaHostRegister(void *, size_t, unsigned) { return cudaSuccess; }
inline cudaError_t cudaHostUnregister(void *) { return cudaSuccess; }
inline const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated error"; }
inline const char *cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorEmu"; }

#endif
