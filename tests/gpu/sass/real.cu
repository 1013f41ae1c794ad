/* The S-MF run kernels themselves (gpu/smf_kernel.cuh, K_LITE and K_BARE, 4 slots per lane: 65-128 nodes;
 * fp32 packed, 2 slots per thread), for count.sh's whole-kernel counts and spills: every path
 * counts (other drives, monitors, the division branch unless -DAXM_SMF_COUNT_FAST). */
#include "smf_packed.cuh"

namespace axmcu {
template __global__ void smf_kernel<float, 4, K_LITE>(const KArgs<float>);
template __global__ void smf_kernel<double, 4, K_LITE>(const KArgs<double>);
template __global__ void smf_kernel<float, 4, K_BARE>(const KArgs<float>);
template __global__ void smf_kernel<double, 4, K_BARE>(const KArgs<double>);
template __global__ void smf_packed_kernel<float, 2>(const KArgs<float>, int, int);
template __global__ void smf_packed_kernel<float, 1>(const KArgs<float>, int, int);
template __global__ void smf_packed_kernel<float, 2, true>(const KArgs<float>, int, int);
template __global__ void smf_packed_kernel<float, 1, true>(const KArgs<float>, int, int);
} // namespace axmcu
