/* Scenario files (scenario.h): JSON -> validated axm_scenario. Its conditions, model, sim and drive:
 * scenario_setup.c. */
#include "scenario.h"
#include "fileio.h"
#include "jsonget.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* sections                                                                                   */

static const char *const wave_kinds[] = {"mono", "biphasic", "sine", "train", "samples", NULL};

static void wave_free(axm_sc_wave *w)
{
    if (!w) return;
    free(w->pw_ms);
    free(w->polarity);
    free(w->t_ms);
    free(w->v_mA);
    free(w);
}

static int parse_polarity(axm_jctx *c, const cJSON *obj, const char *path, int allow_list, axm_sc_wave *w)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, "polarity");
    char p[256];
    axm_j_path(p, sizeof p, path, "polarity");
    const char *exp = allow_list ? "\"cathodic\", \"anodic\" or a list of them" : "\"cathodic\" or \"anodic\"";
    int m = !j ? 1 : cJSON_IsArray(j) ? cJSON_GetArraySize(j) : 1;
    if (j && cJSON_IsArray(j) && (!allow_list || m < 1)) return axm_j_bad(c, p, exp, j);
    w->polarity = malloc((size_t)m * sizeof(int));
    if (!w->polarity) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    w->n_pol = m;
    if (!j) {
        w->polarity[0] = -1;
        return AXM_OK;
    }
    int i = 0;
    const cJSON *it = cJSON_IsArray(j) ? j->child : j;
    for (; it && i < m; it = it->next, i++) {
        char pi[300];
        if (cJSON_IsArray(j)) snprintf(pi, sizeof pi, "%s[%d]", p, i);
        else snprintf(pi, sizeof pi, "%s", p);
        if (!cJSON_IsString(it)) return axm_j_bad(c, pi, exp, it);
        if (!strcmp(it->valuestring, "cathodic")) w->polarity[i] = -1;
        else if (!strcmp(it->valuestring, "anodic")) w->polarity[i] = 1;
        else return axm_j_bad(c, pi, exp, it);
    }
    return AXM_OK;
}

static int parse_wave(axm_jctx *c, const cJSON *o, const char *path, int allow_list, axm_sc_wave **out)
{
    static const char *const common[] = {"kind", "polarity", "amplitude_mA", "delay_ms"};
    static const char *const k_mono[] = {"pw_ms", NULL};
    static const char *const k_bi[] = {"pw_ms", "pw2_ms", "gap_ms", NULL};
    static const char *const k_sine[] = {"freq_khz", "phase_rad", "offset_mA", "dur_ms", NULL};
    static const char *const k_train[] = {"pw_ms", "freq_khz", "dur_ms", "biphasic", "gap_ms", NULL};
    static const char *const k_samp[] = {"file", NULL};
    static const char *const *const per_kind[] = {k_mono, k_bi, k_sine, k_train, k_samp};
    int rc;
    axm_sc_wave *w = calloc(1, sizeof *w);
    if (!w) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    *out = w;
    int kind = 0;
    if ((rc = axm_j_enum(c, o, "kind", path, wave_kinds, &kind))) return rc;
    w->kind = (axm_wave_kind)kind;
    const char *allowed[16];
    int na = 0;
    for (int i = 0; i < 4; i++) allowed[na++] = common[i];
    for (int i = 0; per_kind[kind][i]; i++) allowed[na++] = per_kind[kind][i];
    allowed[na] = NULL;
    if ((rc = axm_j_keys(c, o, path, allowed))) return rc;
    w->amplitude_mA = 0.1;
    w->delay_ms = 0.5;
    if ((rc = axm_j_num(c, o, "amplitude_mA", path, AXM_J_NONNEG, &w->amplitude_mA))) return rc;
    if ((rc = axm_j_num(c, o, "delay_ms", path, AXM_J_NONNEG, &w->delay_ms))) return rc;
    if ((rc = parse_polarity(c, o, path, allow_list, w))) return rc;
    int has_pw = w->kind == AXM_WAVE_MONO || w->kind == AXM_WAVE_BIPHASIC || w->kind == AXM_WAVE_TRAIN;
    if (has_pw) {
        if ((rc = axm_j_num_list(c, o, "pw_ms", path, AXM_J_POS, allow_list, 0.1, &w->n_pw, &w->pw_ms))) return rc;
    } else {
        w->pw_ms = malloc(sizeof(double));
        if (!w->pw_ms) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
        w->pw_ms[0] = NAN;
        w->n_pw = 1;
    }
    if ((rc = axm_j_num(c, o, "pw2_ms", path, AXM_J_POS, &w->pw2_ms))) return rc;
    if ((rc = axm_j_num(c, o, "gap_ms", path, AXM_J_NONNEG, &w->gap_ms))) return rc;
    if ((rc = axm_j_num(c, o, "phase_rad", path, AXM_J_ANY, &w->phase_rad))) return rc;
    if ((rc = axm_j_num(c, o, "offset_mA", path, AXM_J_ANY, &w->offset_mA))) return rc;
    if ((rc = axm_j_num(c, o, "dur_ms", path, AXM_J_NONNEG, &w->dur_ms))) return rc;
    if (w->kind == AXM_WAVE_SINE || w->kind == AXM_WAVE_TRAIN) {
        char p[256];
        axm_j_path(p, sizeof p, path, "freq_khz");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "freq_khz");
        if (!f) return axm_j_bad(c, p, "a number > 0 (required for this kind)", f);
        if ((rc = axm_j_num(c, o, "freq_khz", path, AXM_J_POS, &w->freq_khz))) return rc;
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "biphasic");
    if (b) {
        char p[256];
        axm_j_path(p, sizeof p, path, "biphasic");
        if (!cJSON_IsBool(b)) return axm_j_bad(c, p, "true or false", b);
        w->train_biphasic = cJSON_IsTrue(b);
    }
    if (w->kind == AXM_WAVE_TRAIN)
        for (int i = 0; i < w->n_pw; i++) {
            double period = 1.0 / w->freq_khz;
            double need = w->pw_ms[i] * (w->train_biphasic ? 2 : 1) + (w->train_biphasic ? w->gap_ms : 0);
            if (need > period) {
                char p[256];
                axm_j_path(p, sizeof p, path, "pw_ms");
                char e[128];
                snprintf(e, sizeof e, "pulses that fit the period 1/freq_khz = %g ms", period);
                return axm_j_bad(c, p, e, cJSON_GetObjectItemCaseSensitive(o, "pw_ms"));
            }
        }
    if (w->kind == AXM_WAVE_SAMPLES) {
        char p[256];
        axm_j_path(p, sizeof p, path, "file");
        if ((rc = axm_j_file(c, o, "file", path, w->file, sizeof w->file))) return rc;
        axm_err e2;
        axm_err_clear(&e2);
        if (axm_wave_load_csv(w->file, &w->t_ms, &w->v_mA, &w->n_samples, &e2))
            return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: %s", c->file, p, e2.msg);
    }
    /* Let the waveform module judge what it will be asked to sample. */
    for (int i = 0; i < w->n_pw; i++) {
        axm_wave t = {0};
        t.kind = w->kind;
        t.amp_mA = 1;
        t.pw_ms = w->pw_ms[i];
        t.pw2_ms = w->pw2_ms;
        t.gap_ms = w->gap_ms;
        t.delay_ms = w->delay_ms;
        t.freq_khz = w->freq_khz;
        t.phase_rad = w->phase_rad;
        t.offset_mA = w->offset_mA;
        t.dur_ms = w->dur_ms;
        t.train_biphasic = w->train_biphasic;
        t.n_samples = w->n_samples;
        t.t_ms = w->t_ms;
        t.v_mA = w->v_mA;
        if (!has_pw) t.pw_ms = 0;
        axm_err e2;
        axm_err_clear(&e2);
        if (axm_wave_check(&t, &e2)) return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: %s", c->file, path, e2.msg);
    }
    return AXM_OK;
}

static const char *const elec_kinds[] = {"point", "point_aniso", "line", "table", NULL};

static void elec_clear(axm_sc_electrode *e)
{
    free(e->distance_mm);
    free(e->pts_mm);
    axm_field_table_destroy(e->table);
    wave_free(e->wave);
}

static int parse_elec(axm_jctx *c, const cJSON *o, const char *path, int is_main, axm_sc_electrode *e)
{
    static const char *const k_point[] = {"kind", "rho_ohm_cm", "distance_mm", "offset_mm", "medium", "weight",
                                          "waveform", NULL};
    static const char *const k_line[] = {"kind", "rho_ohm_cm", "distance_mm", "offset_mm", "medium", "weight",
                                         "waveform", "points_mm", NULL};
    static const char *const k_table[] = {"kind", "file", "row", "units", "interpolation", "fill", "truncate",
                                          "center_um", "weight", "waveform", NULL};
    static const char *const media[] = {"infinite", "semi_infinite", NULL};
    static const char *const interps[] = {"linear", "quadratic", NULL};
    static const char *const fills[] = {"point_source", "extrapolate", NULL};
    static const char *const units[] = {"mV/mA", "V/mA", NULL};
    int rc, kind = 0;
    if (!cJSON_IsObject(o)) return axm_j_bad(c, path, "an electrode object", o);
    if ((rc = axm_j_enum(c, o, "kind", path, elec_kinds, &kind))) return rc;
    e->kind = (axm_src_kind)kind;
    e->weight = 1;
    e->rho_ohm_cm = 1000;
    e->center_um = NAN;
    const char *const *allowed = kind == AXM_SRC_TABLE ? k_table : kind == AXM_SRC_LINE ? k_line : k_point;
    if ((rc = axm_j_keys(c, o, path, allowed))) return rc;
    if ((rc = axm_j_num(c, o, "weight", path, AXM_J_ANY, &e->weight))) return rc;
    if ((rc = axm_j_num(c, o, "offset_mm", path, AXM_J_ANY, &e->offset_mm))) return rc;
    int medium = 0;
    if ((rc = axm_j_enum(c, o, "medium", path, media, &medium))) return rc;
    e->semi_infinite = medium;
    if (kind == AXM_SRC_POINT_ANISO) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "rho_ohm_cm");
        char p[256];
        axm_j_path(p, sizeof p, path, "rho_ohm_cm");
        const char *exp = "a list of 3 resistivities > 0 [x, y (fiber axis), z]";
        if (!r || !cJSON_IsArray(r) || cJSON_GetArraySize(r) != 3) return axm_j_bad(c, p, exp, r);
        int i = 0;
        for (const cJSON *it = r->child; it; it = it->next, i++) {
            if (!cJSON_IsNumber(it) || !axm_j_in_range(it->valuedouble, AXM_J_POS)) return axm_j_bad(c, p, exp, it);
            e->rho3[i] = it->valuedouble;
        }
    } else if (kind != AXM_SRC_TABLE) {
        if ((rc = axm_j_num(c, o, "rho_ohm_cm", path, AXM_J_POS, &e->rho_ohm_cm))) return rc;
    }
    if (kind == AXM_SRC_TABLE) {
        e->n_dist = 1;
        e->distance_mm = malloc(sizeof(double));
        if (!e->distance_mm) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
        e->distance_mm[0] = NAN;
    } else {
        int r = kind == AXM_SRC_LINE ? AXM_J_ANY : AXM_J_POS;
        if ((rc = axm_j_num_list(c, o, "distance_mm", path, r, is_main, 1.0, &e->n_dist, &e->distance_mm))) return rc;
    }
    if (kind == AXM_SRC_LINE) {
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(o, "points_mm");
        char p[256];
        axm_j_path(p, sizeof p, path, "points_mm");
        const char *exp = "a list of >= 2 points [x, y, z] in mm";
        if (!pl || !cJSON_IsArray(pl) || cJSON_GetArraySize(pl) < 2) return axm_j_bad(c, p, exp, pl);
        e->n_pts = cJSON_GetArraySize(pl);
        e->pts_mm = malloc((size_t)e->n_pts * 3 * sizeof(double));
        if (!e->pts_mm) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
        int i = 0;
        for (const cJSON *pt = pl->child; pt; pt = pt->next, i++) {
            char pi[300];
            snprintf(pi, sizeof pi, "%s[%d]", p, i);
            if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 3) return axm_j_bad(c, pi, "a point [x, y, z] in mm", pt);
            int k = 0;
            for (const cJSON *v = pt->child; v; v = v->next, k++) {
                if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return axm_j_bad(c, pi, "a point [x, y, z] in mm", v);
                e->pts_mm[3 * i + k] = v->valuedouble;
            }
        }
        for (i = 1; i < e->n_pts; i++) {
            const double *a = e->pts_mm + 3 * (i - 1), *b = e->pts_mm + 3 * i;
            if (a[0] == b[0] && a[1] == b[1] && a[2] == b[2]) {
                char pi[300];
                snprintf(pi, sizeof pi, "%s[%d]", p, i);
                return axm_j_bad(c, pi, "a point different from the previous one", cJSON_GetArrayItem(pl, i));
            }
        }
    }
    if (kind == AXM_SRC_TABLE) {
        char p[256];
        axm_j_path(p, sizeof p, path, "file");
        if ((rc = axm_j_file(c, o, "file", path, e->file, sizeof e->file))) return rc;
        int u = 0, interp = 0, fill = 0;
        if ((rc = axm_j_enum(c, o, "units", path, units, &u))) return rc;
        if ((rc = axm_j_enum(c, o, "interpolation", path, interps, &interp))) return rc;
        if ((rc = axm_j_enum(c, o, "fill", path, fills, &fill))) return rc;
        e->interp = (axm_interp)interp;
        e->fill = fill == 0 ? AXM_FILL_POINT_SOURCE : AXM_FILL_EXTRAPOLATE;
        e->truncate = 0;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "truncate");
        if (t) {
            char pt[256];
            axm_j_path(pt, sizeof pt, path, "truncate");
            if (!cJSON_IsNumber(t) || !(t->valuedouble >= 0 && t->valuedouble <= 0.4))
                return axm_j_bad(c, pt, "a number in [0, 0.4]", t);
            e->truncate = t->valuedouble;
        }
        if ((rc = axm_j_num(c, o, "center_um", path, AXM_J_ANY, &e->center_um))) return rc;
        axm_err e2;
        axm_err_clear(&e2);
        e->table = axm_field_table_load(e->file, u == 1 ? 1000.0 : 1.0, &e2);
        if (!e->table) return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: %s", c->file, p, e2.msg);
        if ((rc = axm_j_int(c, o, "row", path, 0, e->table->n_rows - 1, &e->row))) return rc;
    }
    const cJSON *wo = NULL;
    if ((rc = axm_j_obj(c, o, "waveform", path, &wo))) return rc;
    if (wo) {
        char p[256];
        axm_j_path(p, sizeof p, path, "waveform");
        if ((rc = parse_wave(c, wo, p, 0, &e->wave))) return rc;
    }
    return AXM_OK;
}

static int parse_model(axm_jctx *c, const cJSON *o, axm_scenario *sc)
{
    static const char *const keys[] = {"name", "weights", "precision", "params", "geometry", "passive_end_nodes",
                                       "handle_nan", NULL};
    static const char *const precs[] = {"fp32", "fp64", NULL};
    static const char *const geoms[] = {"method1", "method2", "method3", "classic", "piecewise", NULL};
    int rc;
    snprintf(sc->model_name, sizeof sc->model_name, "smf");
    sc->geometry = AXM_GEOM_METHOD1;
    sc->handle_nan = 1;
    if (!o) return AXM_OK;
    if ((rc = axm_j_keys(c, o, "model", keys))) return rc;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (n) {
        int nk = 0;
        const axm_model_kind *const *ks = axm_model_kinds(&nk);
        char e[256] = "one of ";
        for (int i = 0; i < nk; i++) {
            size_t l = strlen(e);
            snprintf(e + l, sizeof e - l, "%s\"%s\"", i ? ", " : "", ks[i]->name);
        }
        if (!cJSON_IsString(n) || !axm_model_kind_find(n->valuestring)) return axm_j_bad(c, "model.name", e, n);
        snprintf(sc->model_name, sizeof sc->model_name, "%s", n->valuestring);
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "weights"))
        if ((rc = axm_j_file(c, o, "weights", "model", sc->weights, sizeof sc->weights))) return rc;
    int prec = 0;
    if ((rc = axm_j_enum(c, o, "precision", "model", precs, &prec))) return rc;
    sc->prec = prec ? AXM_FP64 : AXM_FP32;
    const cJSON *hn = cJSON_GetObjectItemCaseSensitive(o, "handle_nan");
    if (hn && !cJSON_IsBool(hn)) return axm_j_bad(c, "model.handle_nan", "true or false", hn);
    if (hn) sc->handle_nan = cJSON_IsTrue(hn);
    int is_mrg = !strcmp(sc->model_name, "mrg");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "geometry");
    const cJSON *pe = cJSON_GetObjectItemCaseSensitive(o, "passive_end_nodes");
    if (!is_mrg && (g || pe))
        return axm_j_bad(c, g ? "model.geometry" : "model.passive_end_nodes", "this key only with model.name \"mrg\"",
                   g ? g : pe);
    int gi = 0;
    if ((rc = axm_j_enum(c, o, "geometry", "model", geoms, &gi))) return rc;
    sc->geometry = gi + 1;
    if ((rc = axm_j_int(c, o, "passive_end_nodes", "model", 0, 1000000000L, &sc->passive_end_nodes))) return rc;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(o, "params");
    if (ps) {
        if (!cJSON_IsObject(ps)) return axm_j_bad(c, "model.params", "an object {name: value}", ps);
        const axm_model_kind *k = axm_model_kind_find(sc->model_name);
        int m = cJSON_GetArraySize(ps);
        sc->param_name = calloc((size_t)(m ? m : 1), sizeof *sc->param_name);
        sc->param_value = calloc((size_t)(m ? m : 1), sizeof *sc->param_value);
        if (!sc->param_name || !sc->param_value) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
        for (const cJSON *it = ps->child; it; it = it->next) {
            char p[256];
            snprintf(p, sizeof p, "model.params.%s", it->string);
            int found = 0;
            for (int i = 0; k && i < k->n_params; i++)
                if (!strcmp(k->params[i].name, it->string)) found = 1;
            if (!found) {
                char e[128];
                snprintf(e, sizeof e, "a parameter of model \"%s\"", sc->model_name);
                return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: expected %s, got unknown parameter \"%s\"", c->file,
                                p, e, it->string);
            }
            if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return axm_j_bad(c, p, "a finite number", it);
            snprintf(sc->param_name[sc->n_params], 64, "%s", it->string);
            sc->param_value[sc->n_params++] = it->valuedouble;
        }
    }
    return AXM_OK;
}

static int check_node(axm_jctx *c, const cJSON *j, const char *path, int W, int *out)
{
    char e[96];
    snprintf(e, sizeof e, "a node index in [%d, %d] (negative counts from the end)", -W, W - 1);
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < -W ||
        j->valuedouble > W - 1)
        return axm_j_bad(c, path, e, j);
    *out = (int)j->valuedouble;
    return AXM_OK;
}

static int parse_detect(axm_jctx *c, const cJSON *o, axm_scenario *sc)
{
    static const char *const keys[] = {"threshold_mV", "nodes", "t_start_ms", "at_least", NULL};
    int rc;
    sc->detect = axm_detect_default();
    if (!o) {
        if (sc->nodes < 10) { /* the default {5, -5} would overlap or fall outside short fibers */
            sc->detect.n_nodes = 2;
            sc->detect.nodes[0] = 1;
            sc->detect.nodes[1] = -2;
        }
        return AXM_OK;
    }
    if ((rc = axm_j_keys(c, o, "detect", keys))) return rc;
    if ((rc = axm_j_num(c, o, "threshold_mV", "detect", AXM_J_ANY, &sc->detect.threshold_mV))) return rc;
    if ((rc = axm_j_num(c, o, "t_start_ms", "detect", AXM_J_NONNEG, &sc->detect.t_start_ms))) return rc;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "nodes");
    if (n) {
        if (!cJSON_IsArray(n) || cJSON_GetArraySize(n) < 1 || cJSON_GetArraySize(n) > 16)
            return axm_j_bad(c, "detect.nodes", "a list of 1 to 16 node indices", n);
        int i = 0;
        for (const cJSON *it = n->child; it; it = it->next, i++) {
            char p[64];
            snprintf(p, sizeof p, "detect.nodes[%d]", i);
            if ((rc = check_node(c, it, p, sc->nodes, &sc->detect.nodes[i]))) return rc;
        }
        sc->detect.n_nodes = i;
    } else {
        for (int i = 0; i < sc->detect.n_nodes; i++) {
            int v = sc->detect.nodes[i];
            if (v < -sc->nodes || v >= sc->nodes)
                return axm_fail(c->err, AXM_ERR_INPUT, "%s: detect.nodes: expected explicit nodes for a %d-node fiber, "
                                "got the default [5, -5]", c->file, sc->nodes);
        }
    }
    if ((rc = axm_j_int(c, o, "at_least", "detect", 1, sc->detect.n_nodes, &sc->detect.at_least))) return rc;
    return AXM_OK;
}

static int parse_threshold(axm_jctx *c, const cJSON *o, axm_scenario *sc)
{
    static const char *const keys[] = {"resolution", "ub_mA", "fix_bound_up", "fix_bound_down",
                                       "max_tries_bound_fix", "max_tries", "max_amp_mA", NULL};
    axm_thresh_opts d = axm_thresh_opts_default();
    int rc;
    sc->resolution = d.resolution;
    sc->fix_bound_up = d.fix_bound_up;
    sc->fix_bound_down = d.fix_bound_down;
    sc->max_tries = d.max_tries;
    sc->max_tries_bound_fix = d.max_tries_bound_fix;
    sc->max_amp_mA = d.max_amp;
    sc->ub_mA = NAN;
    if (!o) return AXM_OK;
    if ((rc = axm_j_keys(c, o, "threshold", keys))) return rc;
    if ((rc = axm_j_num(c, o, "resolution", "threshold", AXM_J_UNIT_OPEN, &sc->resolution))) return rc;
    if ((rc = axm_j_num(c, o, "ub_mA", "threshold", AXM_J_POS, &sc->ub_mA))) return rc;
    if ((rc = axm_j_num(c, o, "fix_bound_down", "threshold", AXM_J_UNIT_OPEN, &sc->fix_bound_down))) return rc;
    if ((rc = axm_j_num(c, o, "max_amp_mA", "threshold", AXM_J_POS, &sc->max_amp_mA))) return rc;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "fix_bound_up");
    if (u && (!cJSON_IsNumber(u) || !(u->valuedouble > 1) || !isfinite(u->valuedouble)))
        return axm_j_bad(c, "threshold.fix_bound_up", "a number > 1", u);
    if (u) sc->fix_bound_up = u->valuedouble;
    if ((rc = axm_j_int(c, o, "max_tries_bound_fix", "threshold", 0, 1000, &sc->max_tries_bound_fix))) return rc;
    if ((rc = axm_j_int(c, o, "max_tries", "threshold", 1, 1000, &sc->max_tries))) return rc;
    return AXM_OK;
}

static int parse_intra(axm_jctx *c, const cJSON *a, axm_scenario *sc)
{
    static const char *const keys[] = {"node", "delay_ms", "dur_ms", "amp_nA", NULL};
    int rc;
    if (!a) return AXM_OK;
    if (!cJSON_IsArray(a)) return axm_j_bad(c, "intra", "a list of pulses {node, delay_ms, dur_ms, amp_nA}", a);
    int m = cJSON_GetArraySize(a);
    sc->intra = calloc((size_t)(m ? m : 1), sizeof *sc->intra);
    if (!sc->intra) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    int i = 0;
    for (const cJSON *it = a->child; it; it = it->next, i++) {
        char p[64], pn[80];
        snprintf(p, sizeof p, "intra[%d]", i);
        if (!cJSON_IsObject(it)) return axm_j_bad(c, p, "a pulse {node, delay_ms, dur_ms, amp_nA}", it);
        if ((rc = axm_j_keys(c, it, p, keys))) return rc;
        axm_pulse *q = &sc->intra[i];
        q->fiber = -1;
        const cJSON *nd = cJSON_GetObjectItemCaseSensitive(it, "node");
        snprintf(pn, sizeof pn, "%s.node", p);
        if (!nd) return axm_j_bad(c, pn, "a node index", nd);
        if ((rc = check_node(c, nd, pn, sc->nodes, &q->node))) return rc;
        double amp = NAN, dur = NAN;
        q->delay_ms = 0;
        if ((rc = axm_j_num(c, it, "delay_ms", p, AXM_J_NONNEG, &q->delay_ms))) return rc;
        if ((rc = axm_j_num(c, it, "dur_ms", p, AXM_J_POS, &dur))) return rc;
        if ((rc = axm_j_num(c, it, "amp_nA", p, AXM_J_ANY, &amp))) return rc;
        snprintf(pn, sizeof pn, "%s.dur_ms", p);
        if (isnan(dur)) return axm_j_bad(c, pn, "a number > 0", NULL);
        snprintf(pn, sizeof pn, "%s.amp_nA", p);
        if (isnan(amp)) return axm_j_bad(c, pn, "a number (nA, positive = depolarizing)", NULL);
        q->dur_ms = dur;
        q->amp_mA = amp * 1e-6;
    }
    sc->n_intra = m;
    return AXM_OK;
}

static int parse_root(axm_jctx *c, const cJSON *root, axm_scenario *sc)
{
    static const char *const keys[] = {"description", "model", "fiber", "electrode", "electrodes", "waveform",
                                       "intra", "sim", "detect", "threshold", "seed", NULL};
    static const char *const fkeys[] = {"nodes", "diameter_um", NULL};
    static const char *const skeys[] = {"dt_ms", "tstop_ms", "device", NULL};
    int rc;
    if (!cJSON_IsObject(root)) return axm_j_bad(c, "(top level)", "a JSON object", root);
    if ((rc = axm_j_keys(c, root, "", keys))) return rc;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (d) {
        if (!cJSON_IsString(d)) return axm_j_bad(c, "description", "a string", d);
        sc->description = strdup(d->valuestring);
        if (!sc->description) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    }
    const cJSON *o;
    if ((rc = axm_j_obj(c, root, "model", "", &o))) return rc;
    if ((rc = parse_model(c, o, sc))) return rc;
    const axm_model_kind *kind = axm_model_kind_find(sc->model_name);
    if (!kind) return axm_fail(c->err, AXM_ERR_INPUT, "%s: model.name: model \"%s\" is not built in", c->file,
                               sc->model_name);

    if ((rc = axm_j_obj(c, root, "fiber", "", &o))) return rc;
    if (!o) return axm_j_bad(c, "fiber", "an object {\"nodes\": ..., \"diameter_um\": ...}", NULL);
    if ((rc = axm_j_keys(c, o, "fiber", fkeys))) return rc;
    int min_nodes = kind->min_nodes > 3 ? kind->min_nodes : 3;
    sc->nodes = 51;
    if (!cJSON_GetObjectItemCaseSensitive(o, "nodes")) return axm_j_bad(c, "fiber.nodes", "an integer >= 3", NULL);
    if ((rc = axm_j_int(c, o, "nodes", "fiber", min_nodes, 1000000, &sc->nodes))) return rc;
    if (!cJSON_GetObjectItemCaseSensitive(o, "diameter_um"))
        return axm_j_bad(c, "fiber.diameter_um", "a number > 0 or a list of them", NULL);
    if ((rc = axm_j_num_list(c, o, "diameter_um", "fiber", AXM_J_POS, 1, 0, &sc->n_diam, &sc->diameter_um))) return rc;
    if (sc->passive_end_nodes * 2 >= sc->nodes)
        return axm_fail(c->err, AXM_ERR_INPUT, "%s: model.passive_end_nodes: expected fewer than nodes/2 = %d, got %d",
                        c->file, sc->nodes / 2, sc->passive_end_nodes);

    if ((rc = axm_j_obj(c, root, "waveform", "", &o))) return rc;
    if (o && (rc = parse_wave(c, o, "waveform", 1, &sc->wave))) return rc;

    const cJSON *e1 = cJSON_GetObjectItemCaseSensitive(root, "electrode");
    const cJSON *es = cJSON_GetObjectItemCaseSensitive(root, "electrodes");
    if (es && (!cJSON_IsArray(es) || cJSON_GetArraySize(es) < 1))
        return axm_j_bad(c, "electrodes", "a non-empty list of electrodes", es);
    int ne = (e1 ? 1 : 0) + (es ? cJSON_GetArraySize(es) : 0);
    sc->elec = calloc((size_t)(ne ? ne : 1), sizeof *sc->elec);
    if (!sc->elec) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    if (e1) {
        sc->n_elec++; /* counted first so that a half-parsed contact is freed too */
        if ((rc = parse_elec(c, e1, "electrode", 1, &sc->elec[sc->n_elec - 1]))) return rc;
    }
    if (es) {
        int i = 0;
        for (const cJSON *it = es->child; it; it = it->next, i++) {
            char p[64];
            snprintf(p, sizeof p, "electrodes[%d]", i);
            sc->n_elec++;
            if ((rc = parse_elec(c, it, p, sc->n_elec == 1, &sc->elec[sc->n_elec - 1]))) return rc;
        }
    }
    for (int i = 0; i < sc->n_elec; i++)
        if (!sc->elec[i].wave && !sc->wave)
            return axm_j_bad(c, "waveform", "a waveform (an electrode without its own waveform uses it)", NULL);
    if (sc->wave && sc->n_elec == 0)
        return axm_j_bad(c, "electrode", "an electrode for the waveform", NULL);

    if ((rc = parse_intra(c, cJSON_GetObjectItemCaseSensitive(root, "intra"), sc))) return rc;

    if ((rc = axm_j_obj(c, root, "sim", "", &o))) return rc;
    sc->dt_ms = 0.005;
    sc->tstop_ms = 5.0;
    sc->device = AXM_DEV_CPU;
    if (o) {
        if ((rc = axm_j_keys(c, o, "sim", skeys))) return rc;
        if ((rc = axm_j_num(c, o, "dt_ms", "sim", AXM_J_POS, &sc->dt_ms))) return rc;
        if ((rc = axm_j_num(c, o, "tstop_ms", "sim", AXM_J_POS, &sc->tstop_ms))) return rc;
        int dv = 1;
        if ((rc = axm_j_enum(c, o, "device", "sim", axm_device_names, &dv))) return rc;
        sc->device = (axm_device)dv;
    }
    if (!(sc->tstop_ms > sc->dt_ms)) {
        char e[64];
        snprintf(e, sizeof e, "a number > dt_ms = %g", sc->dt_ms);
        return axm_j_bad(c, "sim.tstop_ms", e, cJSON_GetObjectItemCaseSensitive(o, "tstop_ms"));
    }
    if (sc->tstop_ms / sc->dt_ms > 1e8)
        return axm_j_bad(c, "sim.tstop_ms", "at most 1e8 time steps (tstop_ms / dt_ms)",
                   cJSON_GetObjectItemCaseSensitive(o, "tstop_ms"));

    if ((rc = axm_j_obj(c, root, "detect", "", &o))) return rc;
    if ((rc = parse_detect(c, o, sc))) return rc;
    if ((rc = axm_j_obj(c, root, "threshold", "", &o))) return rc;
    if ((rc = parse_threshold(c, o, sc))) return rc;
    sc->seed = -1;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (s) {
        if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble != floor(s->valuedouble) ||
            s->valuedouble > 9e15)
            return axm_j_bad(c, "seed", "an integer >= 0", s);
        sc->seed = (long)s->valuedouble;
    }
    long nc = (long)sc->n_diam;
    for (int i = 0; i < 3; i++) {
        long f = i == 0 ? (sc->n_elec ? sc->elec[0].n_dist : 1) : i == 1 ? (sc->wave ? sc->wave->n_pw : 1)
                                                                          : (sc->wave ? sc->wave->n_pol : 1);
        nc *= f;
        if (nc > 10000000L)
            return axm_fail(c->err, AXM_ERR_INPUT, "%s: fiber.diameter_um: expected at most 1e7 conditions in the "
                            "sweep, got more", c->file);
    }
    return AXM_OK;
}

/* ------------------------------------------------------------------------------------------ */

axm_scenario *axm_scenario_parse(const char *text, const char *name, const char *dir, axm_err *err)
{
    axm_jctx c = {name ? name : "(scenario)", dir, err};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line = 1, col = 1;
        const char *stop = end ? end : text + strlen(text);
        for (const char *q = text; q < stop && *q; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else col++;
        }
        char near[24] = "";
        if (stop && *stop) {
            int k = 0;
            for (const char *q = stop; *q && *q != '\n' && k < 16; q++) near[k++] = *q;
            near[k] = 0;
        }
        axm_fail(err, AXM_ERR_INPUT, "%s:%d:%d: expected valid JSON, got malformed JSON %s%s%s", c.file, line, col,
                 near[0] ? "near '" : "at the end of the file", near, near[0] ? "'" : "");
        return NULL;
    }
    axm_scenario *sc = calloc(1, sizeof *sc);
    if (!sc) {
        cJSON_Delete(root);
        axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(sc->path, sizeof sc->path, "%s", c.file);
    int rc = parse_root(&c, root, sc);
    cJSON_Delete(root);
    if (rc) {
        axm_scenario_destroy(sc);
        return NULL;
    }
    return sc;
}

axm_scenario *axm_scenario_load(const char *path, axm_err *err)
{
    char *buf = axm_read_text_file(path, "scenario", NULL, err);
    if (!buf) return NULL;
    char dir[AXM_SC_PATH];
    axm_folder_of(path, dir, sizeof dir);
    axm_scenario *sc = axm_scenario_parse(buf, path, dir, err);
    free(buf);
    return sc;
}

void axm_scenario_destroy(axm_scenario *sc)
{
    if (!sc) return;
    free(sc->description);
    free(sc->param_name);
    free(sc->param_value);
    free(sc->diameter_um);
    wave_free(sc->wave);
    for (int i = 0; i < sc->n_elec; i++) elec_clear(&sc->elec[i]);
    free(sc->elec);
    free(sc->intra);
    free(sc);
}

const char *axm_scenario_wave_name(const axm_scenario *sc)
{
    if (!sc->wave) return "none";
    return wave_kinds[sc->wave->kind];
}
