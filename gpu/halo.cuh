/* The stencil rows' reflected halo, shared by the forward and the training kernels: a row of W node
 * values at row[0..W-1] with h halo cells on each side holds row[-q] = row[q] and
 * row[W - 1 + q] = row[W - 1 - q] (q <= h: one reflection, W > h), so that a stencil reads its
 * neighbours without index arithmetic. */
#ifndef AXM_HALO_CUH
#define AXM_HALO_CUH

/* The halo cell that reflects node j (relative to node 0), or 0 for none (0 is never one: a
 * reflection lies left of the row or right of it). The left one when a node has two (W <= 2h + 1). */
__device__ __forceinline__ int halo_mirror(int j, int W, int h)
{
    return j >= 1 && j <= h ? -j : j >= W - 1 - h && j < W - 1 ? 2 * (W - 1) - j : 0;
}

/* Node j's value into the row and, for the nodes within h of an end, into the halo. */
template <typename T> __device__ __forceinline__ void halo_put(T *row, int j, int W, int h, T x)
{
    row[j] = x;
    if (j >= 1 && j <= h) row[-j] = x;
    if (j >= W - 1 - h && j < W - 1) row[2 * (W - 1) - j] = x;
}

/* Each slot's value into its precomputed cells: its own and its reflection's (a spare cell where it
 * has none, so that no store needs a test). Only for W > 2h + 1, where a node has at most one
 * reflection; halo_put otherwise. */
template <typename T, int N>
__device__ __forceinline__ void halo_store(T *row, const int (&own)[N], const int (&mir)[N], const T (&x)[N])
{
#pragma unroll
    for (int i = 0; i < N; i++) {
        row[own[i]] = x[i];
        row[mir[i]] = x[i];
    }
}

#endif
