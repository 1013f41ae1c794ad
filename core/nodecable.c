/* Common inputs, step limit and initial state of the node-cable kinds (nodecable.h). */
#include "nodecable.h"

#include <math.h>
#include <stdlib.h>

int axm_nodecable_setup(axm_nodecable *c, const char *kind, const axm_model *m, int B, int W, axm_prec prec,
                        axm_err *err)
{
    if (W < 2) return axm_fail(err, AXM_ERR_INPUT, "%s: nodes: expected >= 2 (got %d)", kind, W);
    if (m->taps < 1 || m->taps % 2 == 0 || m->taps > AXM_MAX_TAPS || m->taps / 2 > W - 1)
        return axm_fail(err, AXM_ERR_INPUT,
                        "%s: stencil taps: expected odd, <= %d and <= 2*nodes-1 (got %d with %d nodes)", kind,
                        AXM_MAX_TAPS, m->taps, W);
    *c = (axm_nodecable){.B = B, .W = W, .taps = m->taps, .hn = m->handle_nan != 0, .prec = prec,
                         .max_dt = INFINITY, .max_dt_fiber = 0};
    return AXM_OK;
}

void axm_nodecable_limit(axm_nodecable *c, int b, double limit_ms)
{
    if (limit_ms < c->max_dt) {
        c->max_dt = limit_ms;
        c->max_dt_fiber = b;
    }
}

void axm_nodecable_init(const axm_nodecable *c, int n_states, const double *ic, int b0, int b1, void *state)
{
    int W = c->W;
    for (int b = b0; b < b1; b++)
        for (int s = 0; s < n_states; s++)
            for (int j = 0; j < W; j++) {
                size_t i = ((size_t)b * n_states + s) * W + j;
                if (c->prec == AXM_FP32)
                    ((float *)state)[i] = (float)ic[s];
                else
                    ((double *)state)[i] = ic[s];
            }
}

double axm_nodecable_max_dt(const void *ws, int *fiber)
{
    const axm_nodecable *c = ws;
    *fiber = c->max_dt_fiber;
    return c->max_dt;
}

int axm_nodecable_isa(void)
{
#if AXM_NC_X86
    const char *cap = getenv("AXM_SMF_ISA");
    int max = cap && *cap >= '0' && *cap <= '2' ? *cap - '0' : 2;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") && max >= 2)
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && max >= 1) return 1;
#endif
    return 0;
}
