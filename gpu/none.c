/* Stand-in for the CUDA backend in builds without nvcc (or with CUDA=0): every entry point of
 * axm_cuda.h exists and reports that the backend is not compiled in. */
#include <stddef.h>
#include <string.h>

#include "axm_cuda.h"

#define NOT_IN "CUDA backend not compiled in (built without nvcc or with CUDA=0)"

int axm_cuda_compiled(void) { return 0; }

int axm_cuda_available(axm_err *why)
{
    axm_fail(why, AXM_ERR_RUNTIME, NOT_IN);
    return 0;
}

int axm_cuda_devices(axm_cuda_device *out, int max, axm_err *err)
{
    (void)out;
    (void)max;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return 0;
}

axm_cuda_sim *axm_cuda_sim_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                                  int device, axm_err *err)
{
    (void)m; (void)B; (void)W; (void)D_um; (void)prec; (void)device;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

void axm_cuda_sim_destroy(axm_cuda_sim *s) { (void)s; }

int axm_cuda_sim_set_drive(axm_cuda_sim *s, const axm_drive *d, axm_err *err)
{
    (void)s; (void)d;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_sim_set_amp(axm_cuda_sim *s, const double *amp, axm_err *err)
{
    (void)s; (void)amp;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_sim_run(axm_cuda_sim *s, const axm_run_opts *o, axm_cuda_mon *const *mons, int n_mons,
                     axm_err *err)
{
    (void)s; (void)o; (void)mons; (void)n_mons;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_smf_gate_rates(const axm_model *m, axm_prec prec, const double *v, int n, double *fast, int *ok,
                            double *div, axm_err *err)
{
    (void)m; (void)prec; (void)v; (void)n; (void)fast; (void)ok; (void)div;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_sim_batch(const axm_cuda_sim *s) { (void)s; return 0; }
int axm_cuda_sim_nodes(const axm_cuda_sim *s) { (void)s; return 0; }
axm_prec axm_cuda_sim_prec(const axm_cuda_sim *s) { (void)s; return AXM_FP64; }
void axm_cuda_sim_set_packing(axm_cuda_sim *s, int mode) { (void)s; (void)mode; }
int axm_cuda_sim_packed_last(const axm_cuda_sim *s) { (void)s; return 0; }
const char *axm_cuda_sim_kernel_last(const axm_cuda_sim *s) { (void)s; return "none"; }
long axm_cuda_sim_step_index(const axm_cuda_sim *s) { (void)s; return 0; }

int axm_cuda_sim_state(const axm_cuda_sim *s, double *out, axm_err *err)
{
    (void)s; (void)out;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_sim_set_state(axm_cuda_sim *s, const double *state, axm_err *err)
{
    (void)s; (void)state;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

axm_cuda_mon *axm_cuda_active_create(const axm_detect *d, int mark_decided, axm_err *err)
{
    (void)d; (void)mark_decided;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

axm_cuda_mon *axm_cuda_apcount_create(const axm_detect *d, axm_err *err)
{
    (void)d;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

axm_cuda_mon *axm_cuda_raster_create(const axm_detect *d, int all_nodes, axm_err *err)
{
    (void)d; (void)all_nodes;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

axm_cuda_mon *axm_cuda_recorder_create(unsigned state_mask, const int *nodes, int n_nodes, int every,
                                       int max_only, axm_err *err)
{
    (void)state_mask; (void)nodes; (void)n_nodes; (void)every; (void)max_only;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

void axm_cuda_mon_reset(axm_cuda_mon *m) { (void)m; }
void axm_cuda_mon_destroy(axm_cuda_mon *m) { (void)m; }

const unsigned char *axm_cuda_active_result(const axm_cuda_mon *m) { (void)m; return NULL; }
const int *axm_cuda_apcount_counts(const axm_cuda_mon *m) { (void)m; return NULL; }
const double *axm_cuda_apcount_first_ms(const axm_cuda_mon *m) { (void)m; return NULL; }

const axm_spike *axm_cuda_raster_spikes(const axm_cuda_mon *m, long *n)
{
    (void)m;
    if (n) *n = 0;
    return NULL;
}

long axm_cuda_recorder_frames(const axm_cuda_mon *m) { (void)m; return 0; }

const double *axm_cuda_recorder_data(const axm_cuda_mon *m, int *n_states_rec, int *n_nodes_rec)
{
    (void)m;
    if (n_states_rec) *n_states_rec = 0;
    if (n_nodes_rec) *n_nodes_rec = 0;
    return NULL;
}

const double *axm_cuda_recorder_times(const axm_cuda_mon *m) { (void)m; return NULL; }
const double *axm_cuda_recorder_max(const axm_cuda_mon *m) { (void)m; return NULL; }

int axm_cuda_threshold(axm_cuda_sim *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err)
{
    (void)s; (void)o;
    if (res) {
        res->n = 0;
        res->upper = res->lower = NULL;
        res->status = NULL;
        res->n_sims = 0;
        res->iterations = 0;
    }
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

void axm_cuda_thresh_free(axm_thresh_result *r) { axm_thresh_result_free(r); }

axm_cuda_mrg *axm_cuda_mrg_create(const axm_model *m, int B, int W, const double *D_um, axm_prec prec,
                                  int device, axm_err *err)
{
    (void)m; (void)B; (void)W; (void)D_um; (void)prec; (void)device;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

void axm_cuda_mrg_destroy(axm_cuda_mrg *s) { (void)s; }

int axm_cuda_mrg_set_drive(axm_cuda_mrg *s, const axm_drive *d, axm_err *err)
{
    (void)s; (void)d;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_mrg_run(axm_cuda_mrg *s, const axm_run_opts *o, axm_prec rec_prec, void *rec, axm_err *err)
{
    (void)s; (void)o; (void)rec_prec; (void)rec;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

long axm_cuda_mrg_step_index(const axm_cuda_mrg *s) { (void)s; return 0; }

int axm_cuda_mrg_state(const axm_cuda_mrg *s, double *out, axm_err *err)
{
    (void)s; (void)out;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_mrg_set_state(axm_cuda_mrg *s, const double *state, axm_err *err)
{
    (void)s; (void)state;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_mrg_hidden(const axm_cuda_mrg *s, double *vm, double *vx, axm_err *err)
{
    (void)s; (void)vm; (void)vx;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_mrg_threshold(axm_cuda_mrg *s, const axm_thresh_opts *o, axm_thresh_result *res, axm_err *err)
{
    (void)s; (void)o;
    if (res) memset(res, 0, sizeof *res);
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

void axm_cuda_mrg_set_launch_steps(axm_cuda_mrg *s, long max_steps) { (void)s; (void)max_steps; }
int axm_cuda_mrg_set_lanes(axm_cuda_mrg *s, int lanes, axm_err *err)
{
    (void)s;
    (void)lanes;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}
int axm_cuda_mrg_lanes(const axm_cuda_mrg *s) { (void)s; return 1; }

/* ---- training ---- */

#include <math.h>

axm_cuda_train *axm_cuda_train_create(int device, axm_err *err)
{
    (void)device;
    axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
    return NULL;
}

void axm_cuda_train_destroy(axm_cuda_train *t) { (void)t; }

int axm_cuda_train_pin(axm_cuda_train *t, const void *p, size_t bytes, axm_err *err)
{
    (void)t; (void)p; (void)bytes;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

void axm_cuda_train_last_ms(const axm_cuda_train *t, double ms[3])
{
    (void)t;
    ms[0] = ms[1] = ms[2] = NAN;
}

int axm_cuda_train_chunk(axm_cuda_train *t, const axm_smfg_theta *th, const double *D, int B, int W, int L,
                         const double *ve, const double *target, const double w[5], double norm, double dt,
                         double *s_io, axm_smfg_grad *g, double *loss, axm_err *err)
{
    (void)t; (void)th; (void)D; (void)B; (void)W; (void)L; (void)ve; (void)target; (void)w;
    (void)norm; (void)dt; (void)s_io; (void)g;
    if (loss) *loss = NAN;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}

int axm_cuda_gendata_engine(void *ud, const axm_model *m, axm_gendata_batch *const *bs, int k, axm_prec prec,
                            const axm_drive *d,
                            double dt_ms, long n_steps, const volatile int *cancel,
                            void (*progress)(void *pud, long done, long total), void *progress_ud, axm_err *err)
{
    (void)ud; (void)m; (void)bs; (void)k; (void)prec; (void)d; (void)dt_ms; (void)n_steps; (void)cancel; (void)progress;
    (void)progress_ud;
    return axm_fail(err, AXM_ERR_RUNTIME, NOT_IN);
}
