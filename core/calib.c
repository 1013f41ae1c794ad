/* Calibration (calib.h): the settings file, the residuals of a surrogate against its teacher on
 * threshold grids, CVs, rest and pulse trains, and the search (axm_lm, lm.c). */
#include "calib.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"
#include "fileio.h"
#include "jsonget.h"
#include "monitor.h"
#include "scenario.h"
#include "sim.h"
#include "thresh.h"

/* ---------------------------------------------------------------- configuration */

void axm_calib_cfg_default(axm_calib_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->w_cv = 1;
    c->w_rest = 0.05;
    c->rest_tol_mV = 0.8;
    c->w_train = 1;
    c->v_rest_mV = -80;
    snprintf(c->method, sizeof c->method, "lm");
    c->lm = axm_lm_opts_default();
    c->coord_step = 0.06;
    c->coord_sweeps = 6;
    c->stable_dt_ms = 0.005;
    c->stable_margin = 0.8;
    c->w_stable = 1;
}

static int get_str(const cJSON *it, const char *path, const char *key, char *out, size_t n, axm_err *err)
{
    if (!cJSON_IsString(it) || strlen(it->valuestring) >= n)
        return axm_j_expected(err, path, key, it, "a string of at most %zu characters", n - 1);
    memcpy(out, it->valuestring, strlen(it->valuestring) + 1);
    return AXM_OK;
}

/* Scenario paths: an array of 1 to max strings, or with one_ok also a single string; *n gets how
 * many were read. */
static int get_paths(const cJSON *it, const char *path, const char *key, int one_ok, char (*out)[512], int max, int *n,
                     axm_err *err)
{
    *n = 0;
    if (one_ok && !cJSON_IsArray(it)) {
        int rc = get_str(it, path, key, out[0], sizeof out[0], err);
        *n = rc ? 0 : 1;
        return rc;
    }
    int m = cJSON_GetArraySize(it);
    if (!cJSON_IsArray(it) || m < 1 || m > max)
        return axm_fail(err, AXM_ERR_INPUT,
                        one_ok ? "%s: %s: expected a scenario file or an array of 1 to %d"
                               : "%s: %s: expected 1 to %d scenario files",
                        path, key, max);
    char item[64];
    snprintf(item, sizeof item, "%s[]", key);
    const cJSON *g;
    cJSON_ArrayForEach(g, it)
    {
        int rc = get_str(g, path, item, out[*n], sizeof out[0], err);
        if (rc) return rc;
        (*n)++;
    }
    return AXM_OK;
}

static int get_num(const cJSON *it, const char *path, const char *key, double lo, double *out, axm_err *err)
{
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !(it->valuedouble >= lo))
        return axm_j_expected(err, path, key, it, "a number >= %g", lo);
    *out = it->valuedouble;
    return AXM_OK;
}

static int parse_param(const char *s, char *name, double *scale)
{
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    if (len == 0 || len >= 64) return -1;
    memcpy(name, s, len);
    name[len] = 0;
    *scale = 1;
    if (colon) {
        char *end;
        *scale = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !(*scale > 0) || !isfinite(*scale)) return -1;
    }
    return 0;
}

int axm_calib_cfg_load(axm_calib_cfg *c, const char *path, axm_err *err)
{
    char *text = axm_read_text_file(path, "calibration config", NULL, err);
    if (!text) return err ? err->code : AXM_ERR_IO;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON object", path);
    }
    int rc = axm_j_unique_keys(err, path, "", root);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        if (!strcmp(k, "description")) {
            continue;
        } else if (!strcmp(k, "grids")) {
            rc = get_paths(it, path, k, 0, c->grids, AXM_CALIB_MAX_GRIDS, &c->n_grids, err);
        } else if (!strcmp(k, "cv_grid")) {
            rc = get_str(it, path, k, c->cv_grid, sizeof c->cv_grid, err);
        } else if (!strcmp(k, "rest")) {
            rc = get_str(it, path, k, c->rest, sizeof c->rest, err);
        } else if (!strcmp(k, "train")) {
            /* one file or several (each rate shows other failures) */
            rc = get_paths(it, path, k, 1, c->train, AXM_CALIB_MAX_TRAINS, &c->n_trains, err);
        } else if (!strcmp(k, "w_train")) {
            rc = get_num(it, path, k, 0, &c->w_train, err);
        } else if (!strcmp(k, "params")) {
            int n = cJSON_GetArraySize(it);
            if (!cJSON_IsArray(it) || n < 1 || n > AXM_CALIB_MAX_PARAMS) {
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: params: expected 1 to %d names (NAME or NAME:SCALE)", path,
                              AXM_CALIB_MAX_PARAMS);
                break;
            }
            c->n_params = 0;
            const cJSON *p;
            cJSON_ArrayForEach(p, it)
            {
                if (!cJSON_IsString(p) || parse_param(p->valuestring, c->params[c->n_params], &c->scale[c->n_params])) {
                    rc = axm_fail(err, AXM_ERR_INPUT, "%s: params: expected NAME or NAME:SCALE (SCALE > 0), got %s",
                                  path, cJSON_IsString(p) ? p->valuestring : "a non-string");
                    break;
                }
                c->n_params++;
            }
        } else if (!strcmp(k, "w_cv")) {
            rc = get_num(it, path, k, 0, &c->w_cv, err);
        } else if (!strcmp(k, "w_rest")) {
            rc = get_num(it, path, k, 0, &c->w_rest, err);
        } else if (!strcmp(k, "rest_tol_mV")) {
            rc = get_num(it, path, k, 0, &c->rest_tol_mV, err);
        } else if (!strcmp(k, "v_rest_mV")) {
            rc = get_num(it, path, k, -200, &c->v_rest_mV, err);
        } else if (!strcmp(k, "method")) {
            rc = get_str(it, path, k, c->method, sizeof c->method, err);
            if (!rc && strcmp(c->method, "lm") && strcmp(c->method, "coord"))
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: method: expected \"lm\" or \"coord\", got \"%s\"", path, c->method);
        } else if (!strcmp(k, "h")) {
            rc = get_num(it, path, k, 1e-9, &c->lm.h, err);
        } else if (!strcmp(k, "iters") || !strcmp(k, "sweeps")) {
            double v = 0;
            rc = get_num(it, path, k, 0, &v, err);
            if (!rc && (v != floor(v) || v > 1000))
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected a whole number in [0, 1000]", path, k);
            if (!rc) *(!strcmp(k, "iters") ? &c->lm.iters : &c->coord_sweeps) = (int)v;
        } else if (!strcmp(k, "step")) {
            rc = get_num(it, path, k, 1e-9, &c->coord_step, err);
        } else if (!strcmp(k, "stable_D_um")) {
            int n = cJSON_GetArraySize(it);
            if (!cJSON_IsArray(it) || n < 1 || n > AXM_CALIB_MAX_GRIDS) {
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: stable_D_um: expected 1 to %d diameters (um)", path,
                              AXM_CALIB_MAX_GRIDS);
                break;
            }
            c->n_stable = 0;
            const cJSON *d;
            cJSON_ArrayForEach(d, it)
            {
                if ((rc = get_num(d, path, "stable_D_um[]", 1e-9, &c->stable_D_um[c->n_stable], err))) break;
                c->n_stable++;
            }
        } else if (!strcmp(k, "stable_dt_ms")) {
            rc = get_num(it, path, k, 1e-9, &c->stable_dt_ms, err);
        } else if (!strcmp(k, "stable_margin")) {
            rc = get_num(it, path, k, 1e-9, &c->stable_margin, err);
        } else if (!strcmp(k, "w_stable")) {
            rc = get_num(it, path, k, 0, &c->w_stable, err);
        } else if (!strcmp(k, "taps")) {
            double v = 0;
            rc = get_num(it, path, k, 0, &v, err);
            if (!rc && (v != floor(v) || v < 3 || v > AXM_MAX_TAPS || (int)v % 2 == 0))
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: taps: expected an odd whole number from 3 to %d", path,
                              AXM_MAX_TAPS);
            if (!rc) c->taps = (int)v;
        } else {
            rc = axm_fail(err, AXM_ERR_INPUT,
                          "%s: unknown key \"%s\" (expected grids, cv_grid, rest, train, params, w_cv, w_rest, "
                          "rest_tol_mV, w_train, v_rest_mV, method, h, iters, step, sweeps, taps, stable_D_um, "
                          "stable_dt_ms, stable_margin, w_stable)",
                          path, k);
        }
        if (rc) break;
    }
    cJSON_Delete(root);
    if (!rc) { /* the scenarios by axm_find_file's rule (next to this config, ...); errors name them as given */
        char *files[AXM_CALIB_MAX_GRIDS + AXM_CALIB_MAX_TRAINS + 2];
        int nf = 0;
        for (int i = 0; i < c->n_grids; i++) files[nf++] = c->grids[i];
        for (int i = 0; i < c->n_trains; i++) files[nf++] = c->train[i];
        files[nf++] = c->cv_grid;
        files[nf++] = c->rest;
        for (int i = 0; i < nf; i++) {
            char found[512];
            if (files[i][0] && axm_find_file_near(files[i], path, found, sizeof found)) memcpy(files[i], found, sizeof found);
        }
    }
    if (!rc && c->n_grids == 0) rc = axm_fail(err, AXM_ERR_INPUT, "%s: grids: missing (threshold scenarios)", path);
    if (!rc && c->n_params == 0) rc = axm_fail(err, AXM_ERR_INPUT, "%s: params: missing (names to fit)", path);
    return rc;
}

/* ---------------------------------------------------------------- the problem */

static const double KNOTS[3] = {6.0, 10.0, 14.0};
enum { N_POLY = 4 };
static const char *const POLY[N_POLY][4] = {{"axonD", "axond1", "axond2", "axond3"},
                                            {"nodeD", "noded1", "noded2", "noded3"},
                                            {"veGain", "vegain1", "vegain2", "vegain3"},
                                            {"cmGain", "cmgain1", "cmgain2", "cmgain3"}};

void axm_calib_quad_through_knots(const double y[3], double coef[3])
{
    /* Newton form of the interpolating quadratic, expanded */
    double x0 = KNOTS[0], x1 = KNOTS[1], x2 = KNOTS[2];
    double d01 = (y[1] - y[0]) / (x1 - x0), d12 = (y[2] - y[1]) / (x2 - x1);
    double a = (d12 - d01) / (x2 - x0), b = d01 - a * (x0 + x1);
    coef[0] = a;
    coef[1] = b;
    coef[2] = y[0] - a * x0 * x0 - b * x0;
}

/* A searched parameter: a params key (index), a knot of a polynomial, a stencil tap, or a
 * sum-preserving pair of taps. */
enum { P_PLAIN, P_KNOT, P_STENCIL, P_SHAPE };
typedef struct cparam {
    int kind, index;          /* P_PLAIN: param index; P_KNOT: poly*3 + knot; P_STENCIL: ch*2 + (0 out, 1 mid);
                               * P_SHAPE: ch*AXM_MAX_TAPS + K */
    double v0, scale;
} cparam;

typedef struct grid {
    axm_scenario *sc;         /* with the surrogate as its model */
    axm_setup *su;
    double *truth;            /* [n_cond] teacher thresholds */
} grid;

struct axm_calib {
    axm_calib_cfg cfg;
    const volatile int *cancel;
    axm_model *base;          /* the starting weights */
    cparam p[AXM_CALIB_MAX_PARAMS];
    double knot0[N_POLY][3];  /* polynomial values at the knots of the starting weights */
    int n_grids;
    grid g[AXM_CALIB_MAX_GRIDS];
    int n_thr;
    int n_cv, cv_nodes;
    double cv_dt_ms, cv_tstop_ms;
    double *cv_D, *cv_truth;
    axm_model *cv_model;
    axm_scenario *rest_sc;
    axm_setup *rest_su;
    axm_monitor *rest_rec;
    int n_rest;
    /* the pulse-train runs: surrogate setups, their AP counters, the teacher's counts (all
     * trains' conditions x detect nodes, one after the other) */
    int n_trains;
    axm_scenario *train_sc[AXM_CALIB_MAX_TRAINS];
    axm_setup *train_su[AXM_CALIB_MAX_TRAINS];
    axm_monitor *train_ap[AXM_CALIB_MAX_TRAINS];
    int n_train;              /* their total */
    double *train_truth;
    /* the stability term: a sim of the stability diameters (its model is ours) */
    axm_model *stab_model;
    axm_sim *stab_sim;
    int n_stab;               /* 1 with stable_D_um, else 0 */
    /* the last point evaluated and its raw errors (the search asks for the stats of the point it
     * just accepted) */
    int have_last;
    double last_x[AXM_CALIB_MAX_PARAMS];
    double *last_raw;
};

static void polyval(const axm_model *m, int poly, double out[3])
{
    double c1 = axm_model_get(m, POLY[poly][1]), c2 = axm_model_get(m, POLY[poly][2]),
           c3 = axm_model_get(m, POLY[poly][3]);
    for (int k = 0; k < 3; k++) out[k] = c1 * KNOTS[k] * KNOTS[k] + c2 * KNOTS[k] + c3;
}

void axm_calib_values(const axm_calib *c, const double *x, double *v)
{
    for (int k = 0; k < c->cfg.n_params; k++)
        v[k] = c->p[k].kind == P_SHAPE ? c->p[k].v0 + x[k] * c->p[k].scale : c->p[k].v0 * exp(x[k] * c->p[k].scale);
}

/* Writes the parameters at x into m (a copy of the base model). */
static int apply(const axm_calib *c, const double *x, axm_model *m, axm_err *err)
{
    double v[AXM_CALIB_MAX_PARAMS], knots[N_POLY][3];
    axm_calib_values(c, x, v);
    memcpy(m->p, c->base->p, (size_t)c->base->kind->n_params * sizeof(double));
    memcpy(m->stencil, c->base->stencil, sizeof m->stencil);
    m->taps = c->base->taps;
    memcpy(knots, c->knot0, sizeof knots);
    for (int k = 0; k < c->cfg.n_params; k++) {
        const cparam *p = &c->p[k];
        if (p->kind == P_PLAIN) {
            m->p[p->index] = v[k];
        } else if (p->kind == P_KNOT) {
            knots[p->index / 3][p->index % 3] = v[k];
        } else if (p->kind == P_SHAPE) {
            int ch = p->index / AXM_MAX_TAPS, K = p->index % AXM_MAX_TAPS, mid = m->taps / 2;
            m->stencil[ch][mid] -= 2 * (v[k] - p->v0);
            m->stencil[ch][mid - K] = m->stencil[ch][mid + K] = v[k];
        } else {
            int ch = p->index / 2, t = m->taps;
            if (p->index % 2) {
                m->stencil[ch][t / 2] = v[k];
            } else {
                m->stencil[ch][0] = m->stencil[ch][t - 1] = v[k];
            }
        }
    }
    for (int poly = 0; poly < N_POLY; poly++) {
        if (axm_model_param_index(m, POLY[poly][1]) < 0) continue;
        double coef[3];
        axm_calib_quad_through_knots(knots[poly], coef);
        for (int j = 0; j < 3; j++) {
            int rc = axm_model_set(m, POLY[poly][1 + j], coef[j], err);
            if (rc) return rc;
        }
    }
    return AXM_OK;
}

static int teacher_thresholds(const axm_scenario *sc, int n_threads, const volatile int *cancel, double *out,
                              axm_err *err)
{
    axm_setup_opts so = {1, n_threads, 0};
    axm_setup *su = axm_setup_create(sc, &so, err);
    if (!su) return err ? err->code : AXM_ERR_RUNTIME;
    axm_thresh_opts to = axm_setup_thresh_opts(su);
    to.cancel = cancel;
    axm_thresh_result r;
    int rc = axm_threshold(su->sim, &to, &r, err);
    if (!rc) {
        for (int i = 0; i < r.n; i++) {
            if (r.status[i] != AXM_TH_OK) {
                rc = axm_fail(err, AXM_ERR_RUNTIME, "%s: teacher (%s) threshold of condition %d: %s", sc->path,
                              sc->model_name, i, axm_thresh_status_name(r.status[i]));
                break;
            }
            out[i] = r.upper[i];
        }
        axm_thresh_result_free(&r);
    }
    axm_setup_destroy(su);
    return rc;
}

/* AP counts (conditions x detect nodes) of one run of su at the scenario's amplitudes; a fiber
 * that diverged counts 1000 (parameters the search must leave, not a reason to stop it). */
static int train_counts(axm_setup *su, axm_monitor *ap, const volatile int *cancel, double *out, axm_err *err)
{
    axm_monitor_reset(ap);
    axm_run_opts ro = axm_setup_run_opts(su, cancel);
    ro.allow_diverged = 1;
    int rc = axm_sim_run(su->sim, &ro, &ap, 1, err);
    if (rc) return rc;
    const int *n = axm_apcount_counts(ap);
    int nd = su->sc->detect.n_nodes;
    for (int i = 0; i < su->n_cond * nd; i++)
        out[i] = axm_sim_diverged(su->sim, i / nd, NULL, NULL, NULL, NULL) ? 1000 : n[i];
    return AXM_OK;
}

/* Appends the teacher's counts of the train scenario at path to *truth (*n entries so far). */
static int teacher_train(const char *path, int n_threads, const volatile int *cancel, double **truth, int *n,
                         axm_err *err)
{
    axm_scenario *sc = axm_scenario_load(path, err);
    if (!sc) return err ? err->code : AXM_ERR_INPUT;
    axm_setup_opts so = {0, n_threads, 0};
    axm_setup *su = axm_setup_create(sc, &so, err);
    axm_monitor *ap = su ? axm_apcount_create(&sc->detect, err) : NULL;
    int rc = ap ? AXM_OK : err ? err->code : AXM_ERR_RUNTIME;
    int n0 = *n, nt = su ? su->n_cond * sc->detect.n_nodes : 0;
    if (!rc) {
        double *t = realloc(*truth, (size_t)(n0 + nt) * sizeof *t);
        if (t) *truth = t;
        rc = t ? train_counts(su, ap, cancel, t + n0, err) : axm_fail(err, AXM_ERR_NOMEM, "out of memory");
    }
    if (!rc) *n = n0 + nt;
    for (int i = 0; !rc && i < nt; i++)
        if ((*truth)[n0 + i] < 1)
            rc = axm_fail(err, AXM_ERR_INPUT, "%s: the teacher (%s) fires no action potential in condition %d: expected "
                          "a train that it follows", path, sc->model_name, i / sc->detect.n_nodes);
    if (ap) axm_monitor_destroy(ap);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    return rc;
}

/* The scenario at path with the surrogate (weights) as its model. */
static axm_scenario *as_surrogate(const char *path, const char *weights, const char *kind, axm_err *err)
{
    axm_scenario *sc = axm_scenario_load(path, err);
    if (!sc) return NULL;
    snprintf(sc->model_name, sizeof sc->model_name, "%s", kind);
    if (strlen(weights) >= sizeof sc->weights) {
        axm_scenario_destroy(sc);
        axm_fail(err, AXM_ERR_INPUT, "%s: path too long", weights);
        return NULL;
    }
    snprintf(sc->weights, sizeof sc->weights, "%s", weights);
    sc->n_params = 0; /* the grid's own model parameters belong to the teacher */
    sc->prec = AXM_FP64;
    return sc;
}

/* The channel of a stencil parameter name "stencil.vm.*" (0) or "stencil.ve.*" (1); -1 if neither. */
static int stencil_channel(const char *nm)
{
    return !strncmp(nm, "stencil.vm.", 11) ? 0 : !strncmp(nm, "stencil.ve.", 11) ? 1 : -1;
}

static int resolve_params(axm_calib *c, axm_err *err)
{
    for (int k = 0; k < c->cfg.n_params; k++) {
        const char *nm = c->cfg.params[k];
        cparam *p = &c->p[k];
        p->scale = c->cfg.scale[k];
        const char *at = strchr(nm, '@');
        if (at) {
            int poly = -1, knot = -1;
            for (int q = 0; q < N_POLY; q++)
                if ((size_t)(at - nm) == strlen(POLY[q][0]) && !strncmp(nm, POLY[q][0], (size_t)(at - nm)) &&
                    axm_model_param_index(c->base, POLY[q][1]) >= 0)
                    poly = q;
            double X = atof(at + 1);
            for (int j = 0; j < 3; j++)
                if (X == KNOTS[j]) knot = j;
            if (poly < 0 || knot < 0)
                return axm_fail(err, AXM_ERR_INPUT, "calibration: parameter %s: expected axonD@X, nodeD@X, veGain@X or cmGain@X with X = 6, 10 or 14",
                                nm);
            p->kind = P_KNOT;
            p->index = poly * 3 + knot;
            p->v0 = c->knot0[poly][knot];
        } else if (!strncmp(nm, "stencil.", 8) && strlen(nm) > 12 && nm[11] == 'd') {
            int ch = stencil_channel(nm), t = c->base->taps;
            char *end = NULL;
            long K = strtol(nm + 12, &end, 10);
            if (ch < 0 || *end || K < 1 || K > t / 2 || !c->base->kind->has_stencil)
                return axm_fail(err, AXM_ERR_INPUT,
                                "calibration: parameter %s: expected stencil.vm.dK or stencil.ve.dK with K from 1 to %d "
                                "(a model with a %d-tap stencil; \"taps\" widens it)",
                                nm, t / 2, t);
            p->kind = P_SHAPE;
            p->index = ch * AXM_MAX_TAPS + (int)K;
            /* the symmetrized value: apply() writes both taps */
            p->v0 = 0.5 * (c->base->stencil[ch][t / 2 - K] + c->base->stencil[ch][t / 2 + K]);
            continue;
        } else if (!strncmp(nm, "stencil.", 8)) {
            int ch = stencil_channel(nm);
            int mid = ch >= 0 && !strcmp(nm + 11, "mid"), out = ch >= 0 && !strcmp(nm + 11, "out");
            if ((!mid && !out) || !c->base->kind->has_stencil || c->base->taps != 3)
                return axm_fail(err, AXM_ERR_INPUT,
                                "calibration: parameter %s: expected stencil.vm.out, stencil.vm.mid, stencil.ve.out or "
                                "stencil.ve.mid (a model with a 3-tap stencil)",
                                nm);
            p->kind = P_STENCIL;
            p->index = ch * 2 + mid;
            p->v0 = c->base->stencil[ch][mid ? 1 : 0];
        } else {
            int i = axm_model_param_index(c->base, nm);
            if (i < 0) return axm_fail(err, AXM_ERR_INPUT, "calibration: unknown %s parameter \"%s\"", c->base->kind->name, nm);
            p->kind = P_PLAIN;
            p->index = i;
            p->v0 = c->base->p[i];
        }
        if (!(p->v0 != 0) || !isfinite(p->v0))
            return axm_fail(err, AXM_ERR_INPUT, "calibration: parameter %s starts at %g; expected a finite nonzero value "
                            "(the search scales it)", nm, p->v0);
    }
    return AXM_OK;
}

axm_calib *axm_calib_create(const axm_calib_cfg *cfg, const char *weights_path, const volatile int *cancel,
                            axm_err *err)
{
    axm_calib *c = calloc(1, sizeof *c);
    if (!c) {
        axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->cancel = cancel;
    c->cfg.lm.cancel = cancel;
    int rc = AXM_OK;
    char kind[32] = "smf";
    {
        /* the kind comes from the weights file */
        char *text = axm_read_text_file(weights_path, "weights", NULL, err);
        if (!text) goto fail;
        cJSON *w = cJSON_Parse(text);
        free(text);
        const cJSON *mk = w ? cJSON_GetObjectItemCaseSensitive(w, "model") : NULL;
        if (cJSON_IsString(mk) && strlen(mk->valuestring) < sizeof kind) snprintf(kind, sizeof kind, "%s", mk->valuestring);
        cJSON_Delete(w);
    }
    c->base = axm_model_create(kind, err);
    if (!c->base) goto fail;
    if ((rc = axm_model_load_weights(c->base, weights_path, err))) goto fail;
    if (cfg->taps && cfg->taps < c->base->taps) {
        rc = axm_fail(err, AXM_ERR_INPUT, "calibration: taps: %d is fewer than the %d of %s (it only widens)", cfg->taps,
                      c->base->taps, weights_path);
        goto fail;
    }
    if (cfg->taps > c->base->taps) {
        if (!c->base->kind->has_stencil) {
            rc = axm_fail(err, AXM_ERR_INPUT, "calibration: taps: the %s model has no stencil to widen", kind);
            goto fail;
        }
        int sh = (cfg->taps - c->base->taps) / 2;
        for (int ch = 0; ch < 2; ch++) {
            memmove(c->base->stencil[ch] + sh, c->base->stencil[ch], (size_t)c->base->taps * sizeof(double));
            for (int j = 0; j < sh; j++) c->base->stencil[ch][j] = c->base->stencil[ch][cfg->taps - 1 - j] = 0;
        }
        c->base->taps = cfg->taps;
    }
    for (int poly = 0; poly < N_POLY; poly++) {
        if (axm_model_param_index(c->base, POLY[poly][1]) < 0) continue;
        polyval(c->base, poly, c->knot0[poly]);
    }
    if ((rc = resolve_params(c, err))) goto fail;

    for (int i = 0; i < cfg->n_grids; i++) {
        grid *g = &c->g[i];
        axm_scenario *teacher = axm_scenario_load(cfg->grids[i], err);
        if (!teacher) goto fail;
        int n = axm_scenario_n_conditions(teacher);
        g->truth = calloc((size_t)n, sizeof(double));
        rc = g->truth ? teacher_thresholds(teacher, cfg->n_threads, cancel, g->truth, err)
                      : axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        axm_scenario_destroy(teacher);
        if (rc) goto fail;
        c->n_grids++;
        if (!(g->sc = as_surrogate(cfg->grids[i], weights_path, kind, err))) goto fail;
        axm_setup_opts so = {1, cfg->n_threads, 0};
        if (!(g->su = axm_setup_create(g->sc, &so, err))) goto fail;
        c->n_thr += n;
    }
    if (cfg->cv_grid[0]) {
        axm_scenario *sc = axm_scenario_load(cfg->cv_grid, err);
        if (!sc) goto fail;
        c->n_cv = sc->n_diam;
        c->cv_nodes = 51; /* the protocol's fiber (reference/mrg_neuron README §5) */
        c->cv_D = calloc((size_t)c->n_cv, sizeof(double));
        c->cv_truth = calloc((size_t)c->n_cv, sizeof(double));
        axm_cv_result *res = calloc((size_t)c->n_cv, sizeof *res);
        axm_model *tm = NULL;
        if (!c->cv_D || !c->cv_truth || !res) rc = axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        else if (!(tm = axm_scenario_model(sc, err))) rc = err ? err->code : AXM_ERR_RUNTIME;
        else {
            memcpy(c->cv_D, sc->diameter_um, (size_t)c->n_cv * sizeof(double));
            axm_cv_opts o = axm_cv_opts_default();
            o.dt_ms = c->cv_dt_ms = sc->dt_ms;
            o.tstop_ms = c->cv_tstop_ms = sc->tstop_ms;
            o.n_threads = cfg->n_threads;
            o.cancel = cancel;
            rc = axm_cv(tm, c->n_cv, c->cv_D, c->cv_nodes, AXM_FP64, &o, res, err);
            for (int i = 0; !rc && i < c->n_cv; i++) {
                c->cv_truth[i] = res[i].cv_m_per_s;
                if (!isfinite(c->cv_truth[i]))
                    rc = axm_fail(err, AXM_ERR_RUNTIME, "%s: teacher CV at D = %g um did not propagate", cfg->cv_grid,
                                  c->cv_D[i]);
            }
        }
        free(res);
        axm_model_destroy(tm);
        if (!rc) {
            c->cv_model = axm_model_clone(c->base, err);
            if (!c->cv_model) rc = err ? err->code : AXM_ERR_NOMEM;
        }
        axm_scenario_destroy(sc);
        if (rc) goto fail;
    }
    if (cfg->rest[0]) {
        if (!(c->rest_sc = as_surrogate(cfg->rest, weights_path, kind, err))) goto fail;
        axm_setup_opts so = {0, cfg->n_threads, 1};
        if (!(c->rest_su = axm_setup_create(c->rest_sc, &so, err))) goto fail;
        int vm_bit = axm_sim_n_states(c->rest_su->sim) - 1;
        c->rest_rec = axm_recorder_create(1u << vm_bit, NULL, 0, 100, 0, err);
        if (!c->rest_rec) goto fail;
        c->n_rest = c->rest_su->n_cond;
    }
    for (int i = 0; i < cfg->n_trains; i++) {
        c->n_trains = i + 1; /* destroy frees what this one got */
        if ((rc = teacher_train(cfg->train[i], cfg->n_threads, cancel, &c->train_truth, &c->n_train, err))) goto fail;
        if (!(c->train_sc[i] = as_surrogate(cfg->train[i], weights_path, kind, err))) goto fail;
        axm_setup_opts so = {0, cfg->n_threads, 0};
        if (!(c->train_su[i] = axm_setup_create(c->train_sc[i], &so, err))) goto fail;
        if (!(c->train_ap[i] = axm_apcount_create(&c->train_sc[i]->detect, err))) goto fail;
    }
    if (cfg->n_stable) {
        if (!(c->stab_model = axm_model_clone(c->base, err))) goto fail;
        if (!(c->stab_sim = axm_sim_create(c->stab_model, cfg->n_stable, 51, cfg->stable_D_um, AXM_FP64, 1, err)))
            goto fail;
        c->n_stab = 1;
    }
    return c;
fail:
    axm_calib_destroy(c);
    return NULL;
}

void axm_calib_destroy(axm_calib *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_grids; i++) {
        axm_setup_destroy(c->g[i].su);
        axm_scenario_destroy(c->g[i].sc);
        free(c->g[i].truth);
    }
    /* a grid that failed half way */
    if (c->n_grids < AXM_CALIB_MAX_GRIDS) {
        grid *g = &c->g[c->n_grids];
        axm_setup_destroy(g->su);
        axm_scenario_destroy(g->sc);
        free(g->truth);
    }
    free(c->cv_D);
    free(c->cv_truth);
    axm_model_destroy(c->cv_model);
    if (c->rest_rec) axm_monitor_destroy(c->rest_rec);
    axm_setup_destroy(c->rest_su);
    axm_scenario_destroy(c->rest_sc);
    for (int i = 0; i < c->n_trains; i++) {
        if (c->train_ap[i]) axm_monitor_destroy(c->train_ap[i]);
        axm_setup_destroy(c->train_su[i]);
        axm_scenario_destroy(c->train_sc[i]);
    }
    free(c->train_truth);
    axm_sim_destroy(c->stab_sim);
    axm_model_destroy(c->stab_model);
    axm_model_destroy(c->base);
    free(c->last_raw);
    free(c);
}

void axm_calib_set_cancel(axm_calib *c, const volatile int *cancel)
{
    c->cancel = cancel;
    c->cfg.lm.cancel = cancel;
}

int axm_calib_n_residuals(const axm_calib *c)
{
    return c->n_thr + c->n_cv + c->n_rest + c->n_train + c->n_stab;
}

static int raw_eval(axm_calib *c, const double *x, double *et, double *ec, double *er, double *ea, axm_err *err);

/* Raw errors at x: ln ratios of thresholds and CVs, rest deviations in mV, AP count differences,
 * ln(stable_dt / limit) (et, ec, er, ea, es contiguous). */
static int raw(axm_calib *c, const double *x, double *et, axm_err *err)
{
    int m = axm_calib_n_residuals(c), n = c->cfg.n_params;
    if (c->have_last && !memcmp(c->last_x, x, (size_t)n * sizeof *x)) {
        memcpy(et, c->last_raw, (size_t)m * sizeof *et);
        return AXM_OK;
    }
    c->have_last = 0;
    int rc = raw_eval(c, x, et, et + c->n_thr, et + c->n_thr + c->n_cv, et + c->n_thr + c->n_cv + c->n_rest, err);
    if (rc) return rc;
    if (!c->last_raw && !(c->last_raw = malloc((size_t)(m > 0 ? m : 1) * sizeof(double)))) return AXM_OK;
    memcpy(c->last_raw, et, (size_t)m * sizeof *et);
    memcpy(c->last_x, x, (size_t)n * sizeof *x);
    c->have_last = 1;
    return AXM_OK;
}

static int raw_eval(axm_calib *c, const double *x, double *et, double *ec, double *er, double *ea, axm_err *err)
{
    int rc, o = 0;
    if (c->n_stab) {
        /* first: the grids' runs refuse a step past the limit itself */
        double lim;
        if ((rc = apply(c, x, c->stab_model, err)) || (rc = axm_sim_max_dt(c->stab_sim, NULL, &lim, err))) return rc;
        ea[c->n_train] = log(c->cfg.stable_dt_ms / lim);
    }
    for (int i = 0; i < c->n_grids; i++) {
        grid *g = &c->g[i];
        if ((rc = apply(c, x, g->su->model, err))) return rc;
        axm_thresh_opts to = axm_setup_thresh_opts(g->su);
        to.cancel = c->cancel;
        axm_thresh_result r;
        if ((rc = axm_threshold(g->su->sim, &to, &r, err))) return rc;
        for (int j = 0; j < r.n; j++) {
            double u = r.upper[j];
            et[o++] = r.status[j] == AXM_TH_OK && u > 0 && isfinite(u) ? log(u / g->truth[j]) : log(2.0);
        }
        axm_thresh_result_free(&r);
    }
    if (c->n_cv) {
        if ((rc = apply(c, x, c->cv_model, err))) return rc;
        axm_cv_result res[64];
        if (c->n_cv > 64) return axm_fail(err, AXM_ERR_INPUT, "%s: at most 64 CV diameters", c->cfg.cv_grid);
        axm_cv_opts o2 = axm_cv_opts_default();
        o2.dt_ms = c->cv_dt_ms;
        o2.tstop_ms = c->cv_tstop_ms;
        o2.n_threads = c->cfg.n_threads;
        o2.cancel = c->cancel;
        if ((rc = axm_cv(c->cv_model, c->n_cv, c->cv_D, c->cv_nodes, AXM_FP64, &o2, res, err))) return rc;
        for (int j = 0; j < c->n_cv; j++) {
            double v = res[j].cv_m_per_s;
            ec[j] = v > 0 && isfinite(v) ? log(v / c->cv_truth[j]) : log(2.0);
        }
    }
    if (c->n_rest) {
        axm_setup *su = c->rest_su;
        if ((rc = apply(c, x, su->model, err))) return rc;
        axm_monitor_reset(c->rest_rec);
        axm_run_opts ro = axm_setup_run_opts(su, c->cancel);
        ro.allow_diverged = 1; /* shows as a large deviation */
        if ((rc = axm_sim_run(su->sim, &ro, &c->rest_rec, 1, err))) return rc;
        int ns, nn;
        const double *d = axm_recorder_data(c->rest_rec, &ns, &nn);
        long F = axm_recorder_frames(c->rest_rec);
        int B = c->n_rest;
        for (int b = 0; b < B; b++) {
            double dev = 0;
            for (long f = 0; f < F; f++)
                for (int k = 0; k < nn; k++) {
                    double v = d[((size_t)f * B + b) * (size_t)ns * nn + k];
                    double e = isfinite(v) ? fabs(v - c->cfg.v_rest_mV) : 1e3;
                    if (e > dev) dev = e;
                }
            er[b] = axm_sim_diverged(su->sim, b, NULL, NULL, NULL, NULL) ? 1e3 : dev;
        }
    }
    for (int i = 0, o2 = 0; i < c->n_trains; i++) {
        axm_setup *su = c->train_su[i];
        if ((rc = apply(c, x, su->model, err))) return rc;
        if ((rc = train_counts(su, c->train_ap[i], c->cancel, ea + o2, err))) return rc;
        o2 += su->n_cond * su->sc->detect.n_nodes;
    }
    for (int i = 0; i < c->n_train; i++) ea[i] -= c->train_truth[i];
    return AXM_OK;
}

int axm_calib_residuals(axm_calib *c, const double *x, double *r, axm_err *err)
{
    double *et = r, *ec = r + c->n_thr, *er = r + c->n_thr + c->n_cv, *ea = er + c->n_rest;
    int rc = raw(c, x, et, err);
    if (rc) return rc;
    for (int i = 0; i < c->n_thr; i++) et[i] /= sqrt((double)c->n_thr);
    for (int i = 0; i < c->n_cv; i++) ec[i] *= sqrt(c->cfg.w_cv / c->n_cv);
    for (int i = 0; i < c->n_rest; i++) {
        double e = er[i] - c->cfg.rest_tol_mV;
        er[i] = (e > 0 ? e : 0) * c->cfg.w_rest;
    }
    for (int i = 0; i < c->n_train; i++) ea[i] *= sqrt(c->cfg.w_train / c->n_train) / c->train_truth[i];
    if (c->n_stab) {
        double e = ea[c->n_train] - log(c->cfg.stable_margin);
        ea[c->n_train] = (e > 0 ? e : 0) * sqrt(c->cfg.w_stable);
    }
    return AXM_OK;
}

int axm_calib_stats_at(axm_calib *c, const double *x, axm_calib_stats *s, axm_err *err)
{
    int m = axm_calib_n_residuals(c);
    double *r = malloc((size_t)(m > 0 ? m : 1) * sizeof *r);
    if (!r) return axm_fail(err, AXM_ERR_NOMEM, "out of memory");
    int rc = raw(c, x, r, err);
    if (!rc) {
        memset(s, 0, sizeof *s);
        s->n_thr = c->n_thr;
        s->n_cv = c->n_cv;
        s->n_rest = c->n_rest;
        s->n_train = c->n_train;
        s->n_stable = c->n_stab;
        double stab_excess = 0;
        if (c->n_stab) {
            double e = r[c->n_thr + c->n_cv + c->n_rest + c->n_train];
            s->stable_ratio = exp(e);
            if (e > log(c->cfg.stable_margin)) stab_excess = e - log(c->cfg.stable_margin);
        }
        double train_rel = 0;
        for (int i = 0; i < c->n_train; i++) {
            double d = fabs(r[c->n_thr + c->n_cv + c->n_rest + i]);
            train_rel += d / c->train_truth[i] / c->n_train;
            if (d > s->train_max_diff) s->train_max_diff = (int)d;
        }
        for (int i = 0; i < c->n_thr; i++) {
            s->thr_mean_pct += fabs(r[i]) / c->n_thr;
            if (fabs(r[i]) > s->thr_max_pct) s->thr_max_pct = fabs(r[i]);
        }
        for (int i = 0; i < c->n_cv; i++) {
            double e = fabs(r[c->n_thr + i]);
            s->cv_mean_pct += e / c->n_cv;
            if (e > s->cv_max_pct) s->cv_max_pct = e;
        }
        for (int i = 0; i < c->n_rest; i++)
            if (r[c->n_thr + c->n_cv + i] > s->rest_max_mV) s->rest_max_mV = r[c->n_thr + c->n_cv + i];
        double excess = s->rest_max_mV - c->cfg.rest_tol_mV;
        s->objective = s->thr_mean_pct + c->cfg.w_cv * s->cv_mean_pct + (c->n_rest && excess > 0 ? c->cfg.w_rest * excess : 0) +
                       c->cfg.w_train * train_rel + c->cfg.w_stable * stab_excess;
        s->thr_mean_pct *= 100;
        s->thr_max_pct *= 100;
        s->cv_mean_pct *= 100;
        s->cv_max_pct *= 100;
    }
    free(r);
    return rc;
}

const axm_model *axm_calib_model_at(axm_calib *c, const double *x, axm_err *err)
{
    axm_model *m = c->n_grids ? c->g[0].su->model : c->cv_model ? c->cv_model : c->rest_su ? c->rest_su->model : NULL;
    if (!m) {
        axm_fail(err, AXM_ERR_INPUT, "calibration: no grid, CV or rest run");
        return NULL;
    }
    return apply(c, x, m, err) ? NULL : m;
}

static int resid_cb(void *ud, const double *x, double *r, axm_err *err)
{
    return axm_calib_residuals(ud, x, r, err);
}

static int coord_search(axm_calib *c, double *x, int *n_evals, axm_err *err)
{
    int n = c->cfg.n_params, evals = 0, rc;
    axm_calib_stats best, s;
    if ((rc = axm_calib_stats_at(c, x, &best, err))) return rc;
    evals++;
    double step = c->cfg.coord_step, q[AXM_CALIB_MAX_PARAMS];
    for (int sweep = 0; sweep < c->cfg.coord_sweeps; sweep++) {
        int improved = 0;
        for (int k = 0; k < n; k++) {
            /* multiplicative steps 1 + step and 1 / (1 + step) on the scaled parameter */
            double dx[2] = {log(1 + step * c->p[k].scale) / c->p[k].scale,
                            -log(1 + step * c->p[k].scale) / c->p[k].scale};
            for (int dir = 0; dir < 2; dir++) {
                int moved = 0;
                for (int rep = 0; rep < 4; rep++) { /* keep going while the same move helps */
                    if (c->cancel && *c->cancel) {
                        if (n_evals) *n_evals = evals;
                        return axm_fail(err, AXM_ERR_CANCELLED, "calibration cancelled");
                    }
                    memcpy(q, x, (size_t)n * sizeof *x);
                    q[k] += dx[dir];
                    if ((rc = axm_calib_stats_at(c, q, &s, err))) return rc;
                    evals++;
                    if (!(s.objective < best.objective - 1e-6)) break;
                    memcpy(x, q, (size_t)n * sizeof *x);
                    best = s;
                    improved = moved = 1;
                }
                if (moved) break;
            }
        }
        if (!improved) step /= 2;
        if (c->cfg.lm.progress) c->cfg.lm.progress(c->cfg.lm.progress_ud, sweep, x, best.objective, step);
    }
    if (n_evals) *n_evals = evals;
    return AXM_OK;
}

int axm_calib_search(axm_calib *c, double *x, int *n_evals, axm_err *err)
{
    for (int k = 0; k < c->cfg.n_params; k++) x[k] = 0;
    if (!strcmp(c->cfg.method, "coord")) return coord_search(c, x, n_evals, err);
    double cost;
    return axm_lm(c->cfg.n_params, axm_calib_n_residuals(c), resid_cb, c, x, &c->cfg.lm, &cost, n_evals, err);
}
