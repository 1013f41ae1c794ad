/* Stand-in for the CUDA backend in builds without nvcc (or with CUDA=0). */
#include "axm_cuda.h"

int axm_cuda_compiled(void) { return 0; }
