#include "explore.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "model.h"
#include "monitor.h"
#include "scenario.h"
#include "sim.h"
#include "thresh.h"

void axm_ex_params_default(axm_ex_params *p)
{
    memset(p, 0, sizeof *p);
    /* MRG rests; the untrained S-MF fires spontaneously (smf-model.md §6), so it is the default
     * only in a library without MRG (the view then says so loudly) */
    int mrg = axm_model_kind_find("mrg") != NULL;
    snprintf(p->model, sizeof p->model, "%s", mrg ? "mrg" : "smf");
    snprintf(p->precision, sizeof p->precision, "%s", mrg ? "fp64" : "fp32");
    p->wave = AXM_EX_MONO;
    p->amp_mA = 0.5;
    p->pw_ms = 0.1;
    p->delay_ms = 0.5;
    p->freq_khz = 1;
    p->gap_ms = 0;
    p->dist_mm = 1;
    p->offset_mm = 0;
    p->rho_ohm_cm = 1000;
    p->diam_um = 10;
    p->nodes = 51;
    p->dt_ms = 0.005;
    p->tstop_ms = 5;
    p->threshold_mV = 0;
    p->n_trace = 3;
    p->trace_nodes[0] = 25;
    p->trace_nodes[1] = 5;
    p->trace_nodes[2] = -6;
}

const char *axm_ex_wave_name(int wave)
{
    static const char *const n[] = {"mono", "biphasic", "sine", "train"};
    return wave >= 0 && wave < AXM_EX_N_WAVES ? n[wave] : "?";
}

char *axm_ex_scenario_json(const axm_ex_params *p)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(m, "name", p->model);
    if (p->weights[0]) cJSON_AddStringToObject(m, "weights", p->weights);
    cJSON_AddStringToObject(m, "precision", p->precision);
    cJSON *f = cJSON_AddObjectToObject(r, "fiber");
    cJSON_AddNumberToObject(f, "nodes", p->nodes);
    cJSON_AddNumberToObject(f, "diameter_um", p->diam_um);
    cJSON *e = cJSON_AddObjectToObject(r, "electrode");
    cJSON_AddStringToObject(e, "kind", "point");
    cJSON_AddNumberToObject(e, "rho_ohm_cm", p->rho_ohm_cm);
    cJSON_AddNumberToObject(e, "distance_mm", p->dist_mm);
    cJSON_AddNumberToObject(e, "offset_mm", p->offset_mm);
    cJSON *w = cJSON_AddObjectToObject(r, "waveform");
    /* only the keys the scenario accepts for each kind */
    cJSON_AddStringToObject(w, "kind", p->wave == AXM_EX_SINE ? "sine" : p->wave == AXM_EX_TRAIN ? "train"
                                       : p->wave == AXM_EX_BIPHASIC ? "biphasic" : "mono");
    cJSON_AddStringToObject(w, "polarity", p->anodic ? "anodic" : "cathodic");
    cJSON_AddNumberToObject(w, "amplitude_mA", p->amp_mA);
    cJSON_AddNumberToObject(w, "delay_ms", p->delay_ms);
    if (p->wave != AXM_EX_SINE) cJSON_AddNumberToObject(w, "pw_ms", p->pw_ms);
    if (p->wave == AXM_EX_BIPHASIC) cJSON_AddNumberToObject(w, "gap_ms", p->gap_ms);
    if (p->wave == AXM_EX_SINE || p->wave == AXM_EX_TRAIN) cJSON_AddNumberToObject(w, "freq_khz", p->freq_khz);
    cJSON *s = cJSON_AddObjectToObject(r, "sim");
    cJSON_AddNumberToObject(s, "dt_ms", p->dt_ms);
    cJSON_AddNumberToObject(s, "tstop_ms", p->tstop_ms);
    cJSON *d = cJSON_AddObjectToObject(r, "detect");
    cJSON_AddNumberToObject(d, "threshold_mV", p->threshold_mV);
    char *t = cJSON_Print(r);
    cJSON_Delete(r);
    return t;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void axm_ex_result_free(axm_ex_result *r)
{
    free(r->spk_node);
    free(r->spk_t);
    free(r->t_ms);
    free(r->vm);
    memset(r, 0, sizeof *r);
}

/* One run of the set-up at amplitude factor amp (NULL: the drive as built), collecting the raster
 * and the vm traces into r. */
static int run_once(axm_setup *su, const axm_ex_params *p, const double *amp, const volatile int *cancel,
                    axm_ex_result *r, axm_err *err)
{
    axm_sim *sim = su->sim;
    int W = axm_sim_nodes(sim), S = axm_sim_n_states(sim);
    r->W = W;
    r->n_trace = 0;
    for (int i = 0; i < p->n_trace && i < AXM_EX_MAX_TRACES; i++) {
        int n = p->trace_nodes[i] < 0 ? W + p->trace_nodes[i] : p->trace_nodes[i];
        if (n < 0 || n >= W) continue;
        r->trace_nodes[r->n_trace++] = n;
    }
    axm_detect d = su->sc->detect;
    long every = su->n_steps / 500 > 1 ? su->n_steps / 500 : 1;
    axm_monitor *mons[2] = {axm_raster_create(&d, 1, err), NULL};
    if (!mons[0]) return err->code;
    if (r->n_trace) {
        mons[1] = axm_recorder_create(1u << (S - 1), r->trace_nodes, r->n_trace, (int)every, 0, err);
        if (!mons[1]) {
            axm_monitor_destroy(mons[0]);
            return err->code;
        }
    }
    if (amp) axm_sim_set_amp(sim, amp);
    axm_run_opts o = axm_setup_run_opts(su, cancel);
    int rc = axm_sim_run(sim, &o, mons, r->n_trace ? 2 : 1, err);
    if (rc == AXM_OK) {
        long n;
        const axm_spike *sp = axm_raster_spikes(mons[0], &n);
        r->n_spikes = 0;
        r->spk_node = malloc(sizeof(int) * (size_t)(n + 1));
        r->spk_t = malloc(sizeof(double) * (size_t)(n + 1));
        if (!r->spk_node || !r->spk_t) {
            rc = axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        } else {
            for (long i = 0; i < n; i++) {
                if (sp[i].fiber != 0) continue;
                r->spk_node[r->n_spikes] = sp[i].node;
                r->spk_t[r->n_spikes] = sp[i].t_ms;
                r->n_spikes++;
            }
        }
        if (rc == AXM_OK && mons[1]) {
            int ns, nn;
            long fr = axm_recorder_frames(mons[1]);
            const double *data = axm_recorder_data(mons[1], &ns, &nn);
            const double *tt = axm_recorder_times(mons[1]);
            r->n_frames = fr;
            r->t_ms = malloc(sizeof(double) * (size_t)(fr + 1));
            r->vm = malloc(sizeof(double) * (size_t)(fr + 1) * (size_t)r->n_trace);
            if (!r->t_ms || !r->vm) {
                rc = axm_fail(err, AXM_ERR_NOMEM, "out of memory");
            } else {
                /* data: [frame][B][ns][nn]; one fiber, one state */
                for (long k = 0; k < fr; k++) {
                    r->t_ms[k] = tt[k];
                    for (int j = 0; j < r->n_trace && j < nn; j++) r->vm[(size_t)j * fr + k] = data[(size_t)k * ns * nn + j];
                }
            }
        }
    }
    axm_monitor_destroy(mons[0]);
    if (mons[1]) axm_monitor_destroy(mons[1]);
    return rc;
}

int axm_ex_run(const axm_ex_params *p, int threshold, const volatile int *cancel, axm_ex_result *r,
               axm_err *err)
{
    double t0 = now_ms();
    memset(r, 0, sizeof *r);
    r->thresh_mA = NAN;
    r->tstop_ms = p->tstop_ms;
    r->amp_mA = p->amp_mA;
    char *json = axm_ex_scenario_json(p);
    if (!json) {
        axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        snprintf(r->msg, sizeof r->msg, "%s", err->msg);
        return AXM_ERR_NOMEM;
    }
    axm_scenario *sc = axm_scenario_parse(json, "explore", ".", err);
    free(json);
    if (!sc) {
        snprintf(r->msg, sizeof r->msg, "%s", err->msg);
        return err->code;
    }
    axm_setup_opts so;
    memset(&so, 0, sizeof so);
    so.unit_amplitude = threshold;
    so.n_threads = 1; /* one fiber: threads would only add overhead */
    axm_setup *su = axm_setup_create(sc, &so, err);
    if (!su) {
        snprintf(r->msg, sizeof r->msg, "%s", err->msg);
        axm_scenario_destroy(sc);
        return err->code;
    }
    if (su->notes[0]) {
        snprintf(r->note, sizeof r->note, "%.250s", su->notes);
        char *nl = strchr(r->note, '\n');
        if (nl) *nl = 0;
    }
    int rc = AXM_OK;
    if (threshold) {
        r->threshold = 1;
        axm_thresh_opts to = axm_setup_thresh_opts(su);
        to.cancel = cancel;
        axm_thresh_result tr;
        memset(&tr, 0, sizeof tr);
        rc = axm_threshold(su->sim, &to, &tr, err);
        if (rc == AXM_OK) {
            r->thresh_status = tr.status[0];
            r->thresh_mA = tr.upper[0];
            if (tr.status[0] == AXM_TH_OK && isfinite(tr.upper[0])) {
                double a = tr.upper[0];
                r->amp_mA = a;
                rc = run_once(su, p, &a, cancel, r, err);
            } else {
                /* nothing to show at threshold: show the set-up at its own amplitude */
                double a = p->amp_mA;
                rc = run_once(su, p, &a, cancel, r, err);
            }
        }
        axm_thresh_result_free(&tr);
    } else {
        rc = run_once(su, p, NULL, cancel, r, err);
    }
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    r->elapsed_ms = now_ms() - t0;
    r->ok = rc == AXM_OK;
    if (!r->ok) snprintf(r->msg, sizeof r->msg, "%s", err->msg);
    return rc;
}

/* ---- worker ---- */

struct axm_ex_worker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    volatile int cancel;      /* raised when a newer request arrives */
    int pending, busy;
    axm_ex_params req;
    int req_threshold;
    long req_gen, gen;
    int have_result;
    axm_ex_result result;
};

static void *worker_main(void *arg)
{
    axm_ex_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit) break;
        axm_ex_params p = w->req;
        int th = w->req_threshold;
        long gen = w->req_gen;
        w->pending = 0;
        w->busy = 1;
        w->cancel = 0;
        pthread_mutex_unlock(&w->mu);

        axm_ex_result r;
        axm_err err;
        axm_err_clear(&err);
        axm_ex_run(&p, th, &w->cancel, &r, &err);
        r.gen = gen;

        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        if (err.code == AXM_ERR_CANCELLED || w->quit) {
            axm_ex_result_free(&r);
            continue;
        }
        if (w->have_result) axm_ex_result_free(&w->result);
        w->result = r;
        w->have_result = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

axm_ex_worker *axm_ex_worker_create(void)
{
    axm_ex_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    return w;
}

void axm_ex_worker_destroy(axm_ex_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    w->cancel = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    if (w->have_result) axm_ex_result_free(&w->result);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

long axm_ex_worker_submit(axm_ex_worker *w, const axm_ex_params *p, int threshold)
{
    pthread_mutex_lock(&w->mu);
    w->req = *p;
    w->req_threshold = threshold;
    w->req_gen = ++w->gen;
    w->pending = 1;
    if (w->busy) w->cancel = 1;
    pthread_cond_signal(&w->cv);
    long g = w->req_gen;
    pthread_mutex_unlock(&w->mu);
    return g;
}

int axm_ex_worker_poll(axm_ex_worker *w, axm_ex_result *r)
{
    int got = 0;
    pthread_mutex_lock(&w->mu);
    if (w->have_result) {
        axm_ex_result_free(r);
        *r = w->result;
        memset(&w->result, 0, sizeof w->result);
        w->have_result = 0;
        got = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return got;
}

int axm_ex_worker_busy(axm_ex_worker *w)
{
    pthread_mutex_lock(&w->mu);
    int b = w->busy || w->pending;
    pthread_mutex_unlock(&w->mu);
    return b;
}
