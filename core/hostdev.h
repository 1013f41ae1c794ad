/* The qualifier of the small pure functions core/ shares with the CUDA backend (gpu/), so that the
 * CPU reference and the kernels compute them from one definition: static inline in C11, and also
 * __host__ __device__ (always inlined, as the kernels' own helpers) when nvcc compiles the
 * including file. */
#ifndef AXM_HOSTDEV_H
#define AXM_HOSTDEV_H

#ifdef __CUDACC__
#define AXM_HD static __host__ __device__ __forceinline__
#else
#define AXM_HD static inline
#endif

#endif
