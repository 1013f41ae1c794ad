/* One condition of the threshold search (thresh.h): its bounds and phase, and the decision after
 * each test. The CPU search (thresh.c) and the GPU's per-fiber search (gpu/smf_kernel.cuh) both
 * call axm_thc_update, so that they take the same steps and give the same bounds; the header is
 * plain C11 and also compiles as CUDA device code. */
#ifndef AXM_THRESH_COND_H
#define AXM_THRESH_COND_H

#include <math.h>

#include "thresh.h"

#ifdef __CUDACC__
#define AXM_THC_FN static inline __host__ __device__
#else
#define AXM_THC_FN static inline
#endif

/* Phases: fix the bounds (test ub, move it up or down until one amplitude activates), bisect,
 * and once, after a long run of activations with lb still 0, test amplitude 0 itself. */
enum { AXM_THC_FIX = 0, AXM_THC_BISECT = 1, AXM_THC_ZERO = 2, AXM_THC_DONE = 3 };

#define AXM_THC_ZERO_CHECK_AFTER 10 /* activations in a row with lb = 0 before the zero test */

typedef struct axm_thc {
    double ub, lb;
    int phase, tries_fix, tries, streak, zero_done;
} axm_thc;

/* The search's settings (from axm_thresh_opts) as the update needs them. */
typedef struct axm_thc_cfg {
    double up, down, max_amp, resolution, thr_mV;
    int max_tries_fix, max_tries;
} axm_thc_cfg;

/* The amplitude the condition tests next. */
AXM_THC_FN double axm_thc_amp(const axm_thc *c)
{
    return c->phase == AXM_THC_FIX ? c->ub : c->phase == AXM_THC_BISECT ? 0.5 * (c->ub + c->lb) : 0.0;
}

/* The update after a test at axm_thc_amp(c): act = it activated; bad = the run blew up (the
 * final vm, or the max vm when measured, not finite); mv = the max of vm over time and nodes,
 * read only in the bound fix. Returns the final status (AXM_TH_*; the phase becomes DONE) or -1
 * while the search goes on. */
AXM_THC_FN int axm_thc_update(axm_thc *c, const axm_thc_cfg *g, int act, int bad, double mv)
{
    double amp = axm_thc_amp(c);
    int st = -1;
    if (bad) {
        /* an explicit model can blow up when the bound fix overshoots: step back towards the last
         * quiet amplitude and retry; elsewhere a blow-up is final */
        if (c->phase == AXM_THC_FIX && c->tries_fix < g->max_tries_fix && c->ub > c->lb * 1.0001) {
            c->ub = c->lb > 0 ? c->lb + 0.25 * (c->ub - c->lb) : 0.5 * c->ub;
            c->tries_fix++;
        } else {
            st = AXM_TH_NAN;
        }
    } else if (c->phase == AXM_THC_FIX) {
        if (act) {
            c->phase = AXM_THC_BISECT;
            c->streak = 0;
        } else if (c->tries_fix >= g->max_tries_fix) {
            st = mv >= g->thr_mV ? AXM_TH_BLOCK : AXM_TH_NO_ACTIVATION;
        } else if (mv < g->thr_mV) {
            c->lb = c->ub;
            c->ub *= g->up;
            c->tries_fix++;
            if (c->ub > g->max_amp) st = AXM_TH_NO_ACTIVATION;
        } else {
            c->ub *= g->down;
            if (c->lb >= c->ub) c->lb = 0;
            c->tries_fix++;
        }
    } else if (c->phase == AXM_THC_ZERO) {
        if (act) {
            st = AXM_TH_ACTIVE_AT_ZERO;
        } else {
            c->zero_done = 1;
            c->phase = AXM_THC_BISECT;
        }
    } else if (c->phase == AXM_THC_BISECT) {
        if (act) {
            c->ub = amp;
            c->streak++;
        } else {
            c->lb = amp;
            c->streak = 0;
        }
        c->tries++;
        if ((c->ub - c->lb) / c->ub < g->resolution)
            st = AXM_TH_OK;
        else if (c->tries >= g->max_tries)
            st = AXM_TH_NOT_CONVERGED;
        else if (c->lb == 0 && !c->zero_done && c->streak >= AXM_THC_ZERO_CHECK_AFTER)
            c->phase = AXM_THC_ZERO;
    }
    if (st >= 0) c->phase = AXM_THC_DONE;
    return st;
}

#endif
