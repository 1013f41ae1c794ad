/* The CUDA backend's entry points, callable from C. Built from the .cu files in gpu/ when nvcc is found,
 * otherwise from gpu/none.c, whose functions report that no CUDA backend was compiled in. */
#ifndef AXM_CUDA_H
#define AXM_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the CUDA backend was compiled into this binary. */
int axm_cuda_compiled(void);

#ifdef __cplusplus
}
#endif

#endif
