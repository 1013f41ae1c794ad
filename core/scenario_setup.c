/* A scenario's conditions and setup (scenario.h): the grid of conditions, the model, and the fibers,
 * sim and drive for them, with the notes the CLI and the TUI print (axm_setup_*). Parsing in
 * scenario.c. */
#include "scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* conditions                                                                                 */

static int n_dist(const axm_scenario *sc) { return sc->n_elec ? sc->elec[0].n_dist : 1; }
static int n_pw(const axm_scenario *sc) { return sc->wave ? sc->wave->n_pw : 1; }
static int n_pol(const axm_scenario *sc) { return sc->wave ? sc->wave->n_pol : 1; }

int axm_scenario_n_conditions(const axm_scenario *sc)
{
    return sc->n_diam * n_dist(sc) * n_pw(sc) * n_pol(sc);
}

void axm_scenario_expand(const axm_scenario *sc, axm_condition *out)
{
    int nd = n_dist(sc), np = n_pw(sc), nq = n_pol(sc), k = 0;
    for (int a = 0; a < sc->n_diam; a++)
        for (int b = 0; b < nd; b++)
            for (int p = 0; p < np; p++)
                for (int q = 0; q < nq; q++, k++) {
                    axm_condition *c = &out[k];
                    c->index = k;
                    c->i_diam = a;
                    c->i_dist = b;
                    c->i_pw = p;
                    c->i_pol = q;
                    c->diameter_um = sc->diameter_um[a];
                    c->distance_mm = sc->n_elec ? sc->elec[0].distance_mm[b] : NAN;
                    c->pw_ms = sc->wave ? sc->wave->pw_ms[p] : NAN;
                    c->polarity = sc->wave ? sc->wave->polarity[q] : 0;
                }
}

const char *axm_polarity_name(int polarity) { return polarity < 0 ? "cathodic" : polarity > 0 ? "anodic" : ""; }

axm_model *axm_scenario_model(const axm_scenario *sc, axm_err *err)
{
    axm_model *m = axm_model_create(sc->model_name, err);
    if (!m) return NULL;
    if (sc->weights[0]) {
        axm_err e2;
        axm_err_clear(&e2);
        if (axm_model_load_weights(m, sc->weights, &e2)) {
            axm_fail(err, e2.code == AXM_ERR_NOMEM ? AXM_ERR_NOMEM : AXM_ERR_INPUT, "%s: model.weights: %s", sc->path,
                     e2.msg);
            axm_model_destroy(m);
            return NULL;
        }
    }
    for (int i = 0; i < sc->n_params; i++) {
        axm_err e2;
        axm_err_clear(&e2);
        if (axm_model_set(m, sc->param_name[i], sc->param_value[i], &e2)) {
            axm_fail(err, AXM_ERR_INPUT, "%s: model.params.%s: %s", sc->path, sc->param_name[i], e2.msg);
            axm_model_destroy(m);
            return NULL;
        }
    }
    m->handle_nan = sc->handle_nan;
    if (!strcmp(sc->model_name, "mrg")) {
        m->geometry = sc->geometry;
        m->passive_end_nodes = sc->passive_end_nodes;
    }
    return m;
}

const char *axm_model_untrained_warning(const axm_model *m)
{
    /* Only the S-MF's defaults are unusable (smf-model.md §6); Sundt's defaults are the
     * physiological C-fiber model and the MRG has nothing to train. */
    if (strcmp(m->kind->name, "smf") != 0 || m->trained) return NULL;
    return "WARNING: the surrogate runs with UNTRAINED weights (default parameters): the untrained S-MF fires "
           "spontaneously, so its results are meaningless; give trained weights in model.weights";
}

/* ------------------------------------------------------------------------------------------ */
/* setup                                                                                      */

/* The waveform at unit (unit = 1) or given amplitude times scale (the contact's weight), signed by pol. */
static void wave_at(const axm_sc_wave *w, int i_pw, int pol, int unit, double scale, axm_wave *t)
{
    memset(t, 0, sizeof *t);
    t->kind = w->kind;
    double a = unit ? 1.0 : w->amplitude_mA;
    t->amp_mA = pol * a * scale;
    t->pw_ms = isnan(w->pw_ms[i_pw]) ? 0 : w->pw_ms[i_pw];
    t->pw2_ms = w->pw2_ms;
    t->gap_ms = w->gap_ms;
    t->delay_ms = w->delay_ms;
    t->freq_khz = w->freq_khz;
    t->phase_rad = w->phase_rad;
    /* the polarity flips the whole waveform; the offset keeps its ratio to the amplitude */
    t->offset_mA = pol * scale * (unit ? (w->amplitude_mA > 0 ? w->offset_mA / w->amplitude_mA : 0) : w->offset_mA);
    t->dur_ms = w->dur_ms;
    t->train_biphasic = w->train_biphasic;
    t->n_samples = w->n_samples;
    t->t_ms = w->t_ms;
    t->v_mA = w->v_mA;
}

static void note(axm_setup *su, const char *fmt, const char *arg)
{
    size_t l = strlen(su->notes);
    snprintf(su->notes + l, sizeof su->notes - l, fmt, arg);
}

axm_setup *axm_setup_create(const axm_scenario *sc, const axm_setup_opts *o, axm_err *err)
{
    axm_setup_opts def = {0, 0, 0};
    if (!o) o = &def;
    axm_setup *su = calloc(1, sizeof *su);
    if (!su) {
        axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    su->sc = sc;
    su->unit_amplitude = o->unit_amplitude;
    su->n_steps = lround(sc->tstop_ms / sc->dt_ms);
    su->n_cond = axm_scenario_n_conditions(sc);
    int B = su->n_cond, W = sc->nodes;
    su->cond = calloc((size_t)B, sizeof *su->cond);
    su->diameter_um = calloc((size_t)B, sizeof(double));
    su->ub = calloc((size_t)B, sizeof(double));
    if (!su->cond || !su->diameter_um || !su->ub) goto nomem;
    axm_scenario_expand(sc, su->cond);
    for (int b = 0; b < B; b++) {
        double D = su->cond[b].diameter_um;
        su->diameter_um[b] = D;
        su->ub[b] = isnan(sc->ub_mA) ? 0.2 / ((D / 5) * (D / 5)) : sc->ub_mA;
    }
    su->model = axm_scenario_model(sc, err);
    if (!su->model) goto fail;
    if (axm_model_untrained_warning(su->model)) note(su, "%s\n", axm_model_untrained_warning(su->model));
    su->sim = axm_sim_create(su->model, B, W, su->diameter_um, sc->prec, o->n_threads, err);
    if (!su->sim) goto fail;
    {
        /* a step within the linear limit can still blow up in a spike (README, "Explicit time-step
         * limit"); past the limit itself the run refuses */
        double lim;
        int fb;
        if (axm_sim_max_dt(su->sim, &fb, &lim, err)) goto fail;
        if (sc->dt_ms > AXM_EXPLICIT_HEADROOM * lim && sc->dt_ms <= lim) {
            char line[256];
            snprintf(line, sizeof line,
                     "note: sim.dt_ms %g ms is %.2f of the explicit step's stability limit at D = %g um; from about "
                     "%.2f of it a spike can blow the step up: use dt <= %.3g ms",
                     sc->dt_ms, sc->dt_ms / lim, su->diameter_um[fb], AXM_EXPLICIT_HEADROOM,
                     AXM_EXPLICIT_HEADROOM * lim);
            note(su, "%s\n", line);
        }
    }

    int C = o->no_stimulus ? 0 : sc->n_elec;
    long L = su->n_steps + 1;
    if (C > 0) {
        int nd = n_dist(sc), np = n_pw(sc), nq = n_pol(sc);
        /* waves: for each contact, either one own waveform or the main waveform's np*nq variants
         * (each contact its own copy because its weight scales it) */
        int *wbase = calloc((size_t)C, sizeof(int));
        if (!wbase) goto nomem;
        int nw = 0;
        for (int c = 0; c < C; c++) {
            wbase[c] = nw;
            nw += sc->elec[c].wave ? 1 : np * nq;
        }
        su->waves = calloc((size_t)nw, sizeof(double *));
        su->n_waves = nw;
        if (!su->waves) {
            free(wbase);
            goto nomem;
        }
        for (int c = 0; c < C; c++) {
            const axm_sc_electrode *e = &sc->elec[c];
            const axm_sc_wave *w = e->wave ? e->wave : sc->wave;
            int nv = e->wave ? 1 : np * nq;
            for (int v = 0; v < nv; v++) {
                int ip = e->wave ? 0 : v / nq, pol = w->polarity[e->wave ? 0 : v % nq];
                double amp = o->unit_amplitude ? 1.0 : w->amplitude_mA;
                axm_wave t;
                wave_at(w, ip, pol, o->unit_amplitude, e->weight, &t);
                double *buf = malloc((size_t)L * sizeof(double));
                su->waves[wbase[c] + v] = buf;
                if (!buf) {
                    free(wbase);
                    goto nomem;
                }
                if (axm_wave_sample(&t, sc->dt_ms, L, buf, err)) {
                    free(wbase);
                    goto fail;
                }
                /* the waveform module plays samples as given: scale them here (linear in the values) */
                if (w->kind == AXM_WAVE_SAMPLES)
                    for (long k = 0; k < L; k++) buf[k] *= pol * amp * e->weight;
            }
        }
        /* line polylines shifted to each distance */
        su->n_line_pts = 0;
        for (int c = 0; c < C; c++)
            if (sc->elec[c].kind == AXM_SRC_LINE) su->n_line_pts += sc->elec[c].n_dist;
        su->line_pts = calloc((size_t)(su->n_line_pts ? su->n_line_pts : 1), sizeof(double *));
        int *lbase = calloc((size_t)C, sizeof(int));
        if (!su->line_pts || !lbase) {
            free(lbase);
            free(wbase);
            goto nomem;
        }
        int li = 0;
        for (int c = 0; c < C; c++) {
            const axm_sc_electrode *e = &sc->elec[c];
            if (e->kind != AXM_SRC_LINE) continue;
            lbase[c] = li;
            for (int k = 0; k < e->n_dist; k++, li++) {
                double *p = malloc((size_t)e->n_pts * 3 * sizeof(double));
                su->line_pts[li] = p;
                if (!p) {
                    free(lbase);
                    free(wbase);
                    goto nomem;
                }
                for (int i = 0; i < e->n_pts; i++) {
                    p[3 * i] = 1000 * (e->pts_mm[3 * i] + e->distance_mm[k]);
                    p[3 * i + 1] = 1000 * (e->pts_mm[3 * i + 1] + e->offset_mm);
                    p[3 * i + 2] = 1000 * e->pts_mm[3 * i + 2];
                }
            }
        }
        su->sources = calloc((size_t)B * C, sizeof *su->sources);
        su->wave_of = calloc((size_t)B * C, sizeof(int));
        if (!su->sources || !su->wave_of) {
            free(lbase);
            free(wbase);
            goto nomem;
        }
        for (int b = 0; b < B; b++) {
            const axm_condition *cd = &su->cond[b];
            for (int c = 0; c < C; c++) {
                const axm_sc_electrode *e = &sc->elec[c];
                axm_source *s = &su->sources[(size_t)b * C + c];
                int k = c == 0 ? cd->i_dist : 0;
                s->kind = e->kind;
                s->x_um = 1000 * e->distance_mm[k];
                s->y_um = 1000 * e->offset_mm;
                s->rho_ohm_cm = e->rho_ohm_cm;
                memcpy(s->rho3, e->rho3, sizeof s->rho3);
                s->semi_infinite = e->semi_infinite;
                if (e->kind == AXM_SRC_LINE) {
                    s->x_um = s->y_um = 0;
                    s->n_pts = e->n_pts;
                    s->pts = su->line_pts[lbase[c] + k];
                }
                if (e->kind == AXM_SRC_TABLE) {
                    s->x_um = s->y_um = 0;
                    s->table = e->table;
                    s->row = e->row;
                    const axm_field_table *t = e->table;
                    s->y_center_um = isnan(e->center_um) ? 0.5 * (t->y_um[0] + t->y_um[t->n_samples - 1]) : e->center_um;
                    s->interp = e->interp;
                    s->fill = e->fill;
                    s->truncate = e->truncate;
                }
                su->wave_of[(size_t)b * C + c] = wbase[c] + (e->wave ? 0 : cd->i_pw * nq + cd->i_pol);
            }
        }
        (void)nd;
        free(lbase);
        free(wbase);
        su->drive.n_contacts = C;
        su->drive.sources = su->sources;
        su->drive.n_waves = su->n_waves;
        su->drive.waves = (const double *const *)su->waves;
        su->drive.wave_len = L;
        su->drive.wave_of = su->wave_of;
    }
    su->drive.n_pulses = sc->n_intra;
    su->drive.pulses = sc->intra;
    if (C > 0 || sc->n_intra > 0) {
        axm_err e2;
        axm_err_clear(&e2);
        if (axm_sim_set_drive(su->sim, &su->drive, &e2)) {
            axm_fail(err, e2.code ? e2.code : AXM_ERR_INPUT, "%s: electrode: %s", sc->path, e2.msg);
            goto fail;
        }
    }
    return su;
nomem:
    axm_fail(err, AXM_ERR_NOMEM, "out of memory building the scenario's %d fibers", su->n_cond);
fail:
    axm_setup_destroy(su);
    return NULL;
}

void axm_setup_destroy(axm_setup *su)
{
    if (!su) return;
    axm_sim_destroy(su->sim);
    axm_model_destroy(su->model);
    free(su->cond);
    free(su->diameter_um);
    free(su->ub);
    for (int i = 0; su->waves && i < su->n_waves; i++) free(su->waves[i]);
    free(su->waves);
    for (int i = 0; su->line_pts && i < su->n_line_pts; i++) free(su->line_pts[i]);
    free(su->line_pts);
    free(su->sources);
    free(su->wave_of);
    free(su);
}

axm_run_opts axm_setup_run_opts(const axm_setup *su, const volatile int *cancel)
{
    axm_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.dt_ms = su->sc->dt_ms;
    ro.n_steps = su->n_steps;
    ro.reinit = 1;
    ro.cancel = cancel;
    return ro;
}

axm_thresh_opts axm_setup_thresh_opts(const axm_setup *su)
{
    const axm_scenario *sc = su->sc;
    axm_thresh_opts o = axm_thresh_opts_default();
    o.dt_ms = sc->dt_ms;
    o.tstop_ms = sc->tstop_ms;
    o.detect = sc->detect;
    o.resolution = sc->resolution;
    o.fix_bound_up = sc->fix_bound_up;
    o.fix_bound_down = sc->fix_bound_down;
    o.max_tries_bound_fix = sc->max_tries_bound_fix;
    o.max_tries = sc->max_tries;
    o.max_amp = sc->max_amp_mA;
    o.ub_init = su->ub;
    o.D_um = su->diameter_um;
    return o;
}

void axm_setup_print_notes(const axm_setup *su, const char *prog, FILE *f)
{
    const char *p = su->notes;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "%s: %.*s\n", prog, len, p);
        p += len + (nl ? 1 : 0);
    }
}
