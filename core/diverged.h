/* The range a fiber's state must stay in (sim.h, axm_sim_diverged): every gate finite and |vm|
 * below AXM_VM_DIVERGED. One rule for the CPU engine's check and the CUDA backend's (the final
 * state of a run, the threshold test): plain C11 that also compiles as CUDA device code. */
#ifndef AXM_DIVERGED_H
#define AXM_DIVERGED_H

#include <math.h>

#include "hostdev.h"

/* |vm| at or past this (mV) is divergence, not physiology: the S-MF's NaN handling turns an
 * overflow into +-1e5 mV (smf-model.md §5). */
#define AXM_VM_DIVERGED 1e5

/* The bound |x| must stay strictly below: vm's, or a gate's (any finite value). */
AXM_HD double axm_state_bound(int is_vm) { return is_vm ? AXM_VM_DIVERGED : INFINITY; }

/* Whether x (of vm, or of a gate) is out of range; NaN is. */
AXM_HD int axm_state_out(double x, int is_vm) { return !(fabs(x) < axm_state_bound(is_vm)); }

#endif
