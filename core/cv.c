/* Conduction velocity (cv.h). */
#include "cv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "sim.h"

axm_cv_opts axm_cv_opts_default(void)
{
    axm_cv_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = 0.005;
    o.tstop_ms = 5.0;
    o.amp_nA = 2.0;
    o.delay_ms = 0.5;
    o.dur_ms = 0.1;
    o.stim_node = 0;
    o.node_a = 10;
    o.node_b = 40;
    o.threshold_mV = 0.0;
    return o;
}

/* Axial position of node k: the model's compartment positions hold the W nodes evenly spread
 * among the compartments (every compartment a node for node-only models). */
static int node_x(const axm_model *m, double D, int W, int ka, int kb, double *dx, axm_err *err)
{
    int nc = m->kind->n_comp(m, W);
    double *y = malloc((size_t)nc * sizeof(double));
    if (!y) return axm_fail(err, AXM_ERR_NOMEM, "cv: out of memory");
    int rc = m->kind->positions(m, D, W, y, err);
    if (!rc) {
        if (nc == W) *dx = y[kb] - y[ka];
        else if ((nc - 1) % (W - 1) == 0) {
            int per = (nc - 1) / (W - 1);
            *dx = y[kb * per] - y[ka * per];
        } else *dx = (kb - ka) * axm_deltax_method1_um(D);
    }
    free(y);
    return rc;
}

int axm_cv(const axm_model *m, int n, const double *D_um, int W, axm_prec prec, const axm_cv_opts *o,
           axm_cv_result *out, axm_err *err)
{
    axm_cv_opts def = axm_cv_opts_default();
    if (!o) o = &def;
    int ka = o->node_a < 0 ? W + o->node_a : o->node_a, kb = o->node_b < 0 ? W + o->node_b : o->node_b;
    int need = (ka > kb ? ka : kb) + 1;
    if (ka < 0 || kb < 0 || ka >= W || kb >= W || ka == kb)
        return axm_fail(err, AXM_ERR_INPUT, "cv: expected fiber.nodes >= %d (CV is measured between nodes %d and %d), "
                        "got %d", need, o->node_a, o->node_b, W);
    if (!(o->dt_ms > 0) || !(o->tstop_ms > o->dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "cv: expected dt_ms > 0 and tstop_ms > dt_ms, got %g and %g", o->dt_ms,
                        o->tstop_ms);
    for (int i = 0; i < n; i++) {
        out[i].cv_m_per_s = out[i].t_a_ms = out[i].t_b_ms = NAN;
        int rc = node_x(m, D_um[i], W, ka, kb, &out[i].dx_um, err);
        if (rc) return rc;
    }
    axm_sim *s = axm_sim_create(m, n, W, D_um, prec, o->n_threads, err);
    if (!s) return err ? err->code : AXM_ERR_RUNTIME;
    axm_pulse p = {-1, o->stim_node, o->delay_ms, o->dur_ms, o->amp_nA * 1e-6};
    axm_drive d;
    memset(&d, 0, sizeof d);
    d.n_pulses = 1;
    d.pulses = &p;
    axm_detect det = axm_detect_default();
    det.threshold_mV = o->threshold_mV;
    det.t_start_ms = 0;
    det.n_nodes = 2;
    det.nodes[0] = ka;
    det.nodes[1] = kb;
    det.at_least = 1;
    axm_monitor *ap = NULL;
    int rc = axm_sim_set_drive(s, &d, err);
    if (!rc) {
        ap = axm_apcount_create(&det, err);
        if (!ap) rc = err ? err->code : AXM_ERR_RUNTIME;
    }
    if (!rc) {
        axm_run_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.dt_ms = o->dt_ms;
        ro.n_steps = lround(o->tstop_ms / o->dt_ms);
        ro.reinit = 1;
        ro.cancel = o->cancel;
        ro.allow_diverged = 1; /* no CV for that fiber (below), not an error for the others */
        rc = axm_sim_run(s, &ro, &ap, 1, err);
    }
    if (!rc) {
        const double *first = axm_apcount_first_ms(ap);
        for (int i = 0; i < n; i++) {
            double ta = first[2 * i], tb = first[2 * i + 1];
            out[i].t_a_ms = ta;
            out[i].t_b_ms = tb;
            /* µm/ms = 1e-3 m/s; a pulse that travels the wrong way (or not at all) has no CV */
            long kd;
            int div = axm_sim_diverged(s, i, &kd, NULL, NULL, NULL) &&
                      (double)(kd + 1) * o->dt_ms <= tb + AXM_SIM_CHECK_STEPS * o->dt_ms;
            if (isfinite(ta) && isfinite(tb) && (tb - ta) * (kb - ka) > 0 && !div)
                out[i].cv_m_per_s = 1e-3 * out[i].dx_um / (tb - ta);
        }
    }
    if (ap) axm_monitor_destroy(ap);
    axm_sim_destroy(s);
    return rc;
}
