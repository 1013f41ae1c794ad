/* A generation's settings (datagen.h): defaults, the JSON file's parser and checks, and the settings
 * as the JSON a dataset stores in its generator attribute. */
#include "datagen.h"
#include "fileio.h"
#include "jsonget.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================================ config */

void axm_gendata_defaults(axm_gendata_cfg *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "mrg");
    c->nodes = 53;
    c->dt_ms = 0.005;
    c->tstop_ms = 5.0;
    c->n_runs = 64;
    c->rows = 32;
    c->fibers = 32;
    c->seed = 1;
    c->device = AXM_DEV_CPU;
    c->prec = AXM_FP64;
    c->diam_um[0] = 5.7, c->diam_um[1] = 14.0;
    c->contacts = 6;
    c->rho_ohm_cm = 500.0;
    c->dist_um[0] = 500.0, c->dist_um[1] = 3000.0;
    c->offset_deltax[0] = -2.0, c->offset_deltax[1] = 2.0;
    c->amp_mA[0] = -0.2, c->amp_mA[1] = 0.2;
    c->pw_ms[0] = 0.0, c->pw_ms[1] = 2.0;
    c->delay_ms[0] = 0.0, c->delay_ms[1] = 2.0;
    c->polarity = AXM_POL_MIXED;
    c->mix[0] = 1.0;
    c->freq_khz[0] = 0.5, c->freq_khz[1] = 10.0;
    c->ap_monitor_um = 14000.0;
    c->threshold_mV = 0.0;
    c->gzip_level = 4;
}

static const char *const pol_names[] = {"mixed", "cathodic", "anodic"};
static const char *const mix_names[] = {"monophasic", "biphasic", "sinusoid"};

static int get_num(const cJSON *v, const char *where, const char *key, double *out, axm_err *err)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return axm_j_expected(err, where, key, v, "a number");
    *out = v->valuedouble;
    return AXM_OK;
}

static int get_int(const cJSON *v, const char *where, const char *key, long lo, long hi, long *out,
                   axm_err *err)
{
    double d = 0;
    if (get_num(v, where, key, &d, err) || d != floor(d) || d < (double)lo || d > (double)hi)
        return axm_j_expected(err, where, key, v, "an integer in [%ld, %ld]", lo, hi);
    *out = (long)d;
    return AXM_OK;
}

static int get_range(const cJSON *v, const char *where, const char *key, double out[2], axm_err *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(v, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(v, 1)))
        return axm_j_expected(err, where, key, v, "[low, high] (two numbers)");
    double lo = cJSON_GetArrayItem(v, 0)->valuedouble, hi = cJSON_GetArrayItem(v, 1)->valuedouble;
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected [low, high] with low <= high (got [%g, %g])",
                        where, key, lo, hi);
    out[0] = lo, out[1] = hi;
    return AXM_OK;
}

static int get_str(const cJSON *v, const char *where, const char *key, char *out, size_t n, axm_err *err)
{
    if (cJSON_IsNull(v)) {
        out[0] = '\0';
        return AXM_OK;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
        return axm_j_expected(err, where, key, v, "a string (at most %zu characters)", n - 1);
    snprintf(out, n, "%s", v->valuestring);
    return AXM_OK;
}

static int parse_obj(axm_gendata_cfg *c, const cJSON *o, const char *where, axm_err *err)
{
    if (axm_j_unique_keys(err, where, "", o)) return AXM_ERR_INPUT;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string;
        long n = 0;
        int rc = AXM_OK;
        if (!strcmp(k, "description") || !strcmp(k, "notes") || !strcmp(k, "format") || !strcmp(k, "version")) {
            continue;
        } else if (!strcmp(k, "model")) {
            rc = get_str(it, where, k, c->model, sizeof c->model, err);
            if (!rc && !c->model[0]) rc = axm_fail(err, AXM_ERR_INPUT, "%s: model: expected a model kind name", where);
        } else if (!strcmp(k, "weights")) {
            rc = get_str(it, where, k, c->weights, sizeof c->weights, err);
        } else if (!strcmp(k, "nodes")) {
            if (!(rc = get_int(it, where, k, 3, 100000, &n, err))) c->nodes = (int)n;
        } else if (!strcmp(k, "dt_ms")) {
            rc = get_num(it, where, k, &c->dt_ms, err);
        } else if (!strcmp(k, "tstop_ms")) {
            rc = get_num(it, where, k, &c->tstop_ms, err);
        } else if (!strcmp(k, "n_runs")) {
            if (!(rc = get_int(it, where, k, 1, 100000000, &n, err))) c->n_runs = (int)n;
        } else if (!strcmp(k, "rows")) {
            if (!(rc = get_int(it, where, k, 1, 1000000, &n, err))) c->rows = (int)n;
        } else if (!strcmp(k, "fibers")) {
            if (!(rc = get_int(it, where, k, 1, 1000000, &n, err))) c->fibers = (int)n;
        } else if (!strcmp(k, "seed")) {
            /* JSON numbers are doubles: seeds stay below 2^53 so they survive a round trip */
            if (!(rc = get_int(it, where, k, 0, 9007199254740991L, &n, err))) c->seed = n;
        } else if (!strcmp(k, "precision")) {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, "fp64")) c->prec = AXM_FP64;
            else if (cJSON_IsString(it) && !strcmp(it->valuestring, "fp32")) c->prec = AXM_FP32;
            else rc = axm_j_expected(err, where, k, it, "\"fp64\" or \"fp32\"");
        } else if (!strcmp(k, "diameter_um")) {
            rc = get_range(it, where, k, c->diam_um, err);
        } else if (!strcmp(k, "contacts")) {
            if (!(rc = get_int(it, where, k, 1, AXM_GD_MAX_CONTACTS, &n, err))) c->contacts = (int)n;
        } else if (!strcmp(k, "rho_ohm_cm")) {
            rc = get_num(it, where, k, &c->rho_ohm_cm, err);
        } else if (!strcmp(k, "distance_um")) {
            rc = get_range(it, where, k, c->dist_um, err);
        } else if (!strcmp(k, "offset_deltax")) {
            rc = get_range(it, where, k, c->offset_deltax, err);
        } else if (!strcmp(k, "amp_mA")) {
            rc = get_range(it, where, k, c->amp_mA, err);
        } else if (!strcmp(k, "pw_ms")) {
            rc = get_range(it, where, k, c->pw_ms, err);
        } else if (!strcmp(k, "delay_ms")) {
            rc = get_range(it, where, k, c->delay_ms, err);
        } else if (!strcmp(k, "gap_ms")) {
            rc = get_range(it, where, k, c->gap_ms, err);
        } else if (!strcmp(k, "freq_khz")) {
            rc = get_range(it, where, k, c->freq_khz, err);
        } else if (!strcmp(k, "polarity")) {
            int found = -1;
            for (int i = 0; i < 3; i++)
                if (cJSON_IsString(it) && !strcmp(it->valuestring, pol_names[i])) found = i;
            if (found < 0)
                rc = axm_j_expected(err, where, k, it, "\"mixed\", \"cathodic\" or \"anodic\"");
            else c->polarity = found;
        } else if (!strcmp(k, "waveforms")) {
            if (!cJSON_IsObject(it))
                return axm_fail(err, AXM_ERR_INPUT,
                                "%s: waveforms: expected an object of weights {\"monophasic\": w, \"biphasic\": w, \"sinusoid\": w}",
                                where);
            if (axm_j_unique_keys(err, where, k, it)) return AXM_ERR_INPUT;
            double mix[3] = {0, 0, 0};
            for (const cJSON *w = it->child; w; w = w->next) {
                int found = -1;
                for (int i = 0; i < 3; i++)
                    if (!strcmp(w->string, mix_names[i])) found = i;
                char key[96];
                snprintf(key, sizeof key, "waveforms.%s", w->string);
                if (found < 0)
                    return axm_fail(err, AXM_ERR_INPUT, "%s: %s: unknown waveform (expected monophasic, biphasic or sinusoid)",
                                    where, key);
                if ((rc = get_num(w, where, key, &mix[found], err))) return rc;
                if (mix[found] < 0) return axm_j_expected(err, where, key, w, "a weight >= 0");
            }
            memcpy(c->mix, mix, sizeof mix);
        } else if (!strcmp(k, "ap_monitor_um")) {
            rc = get_num(it, where, k, &c->ap_monitor_um, err);
        } else if (!strcmp(k, "threshold_mV")) {
            rc = get_num(it, where, k, &c->threshold_mV, err);
        } else if (!strcmp(k, "gzip_level")) {
            if (!(rc = get_int(it, where, k, 0, 9, &n, err))) c->gzip_level = (int)n;
        } else if (!strcmp(k, "device")) {
            if (!cJSON_IsString(it) || axm_device_parse(it->valuestring, &c->device))
                rc = axm_j_expected(err, where, k, it, "\"auto\", \"cpu\" or \"cuda\"");
        } else {
            return axm_fail(err, AXM_ERR_INPUT,
                            "%s: unknown key \"%s\" (expected model, weights, nodes, dt_ms, tstop_ms, n_runs, rows, "
                            "fibers, seed, precision, diameter_um, contacts, rho_ohm_cm, distance_um, offset_deltax, "
                            "amp_mA, pw_ms, delay_ms, polarity, waveforms, gap_ms, freq_khz, ap_monitor_um, threshold_mV, "
                            "gzip_level, device)",
                            where, k);
        }
        if (rc) return rc;
    }
    return AXM_OK;
}

int axm_gendata_parse(axm_gendata_cfg *c, const char *json_text, const char *where, axm_err *err)
{
    cJSON *root = cJSON_Parse(json_text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = json_text; at && p < at && *p; p++) line += *p == '\n';
        return axm_fail(err, AXM_ERR_INPUT, "%s: line %d: not valid JSON", where, line);
    }
    int rc;
    if (!cJSON_IsObject(root)) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON object", where);
    } else {
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, "gendata");
        rc = sub ? (cJSON_IsObject(sub) ? parse_obj(c, sub, where, err)
                                        : axm_fail(err, AXM_ERR_INPUT, "%s: gendata: expected an object", where))
                 : parse_obj(c, root, where, err);
    }
    cJSON_Delete(root);
    if (rc) return rc;
    axm_err e2;
    if (axm_gendata_check(c, &e2)) return axm_fail(err, AXM_ERR_INPUT, "%s: %s", where, e2.msg);
    return AXM_OK;
}

int axm_gendata_load(axm_gendata_cfg *c, const char *path, axm_err *err)
{
    char *buf = axm_read_text_file(path, "gendata configuration", NULL, err);
    if (!buf) return err ? err->code : AXM_ERR_INPUT;
    int rc = axm_gendata_parse(c, buf, path, err);
    free(buf);
    if (rc == AXM_OK && c->weights[0]) { /* by axm_find_file's rule; an error names it as given */
        char found[sizeof c->weights];
        if (axm_find_file_near(c->weights, path, found, sizeof found)) memcpy(c->weights, found, sizeof found);
    }
    return rc;
}

int axm_gendata_T(const axm_gendata_cfg *c) { return (int)lround(c->tstop_ms / c->dt_ms) + 1; }

int axm_gendata_check(const axm_gendata_cfg *c, axm_err *err)
{
    if (!(c->dt_ms > 0) || !(c->tstop_ms > 0) || !isfinite(c->dt_ms) || !isfinite(c->tstop_ms))
        return axm_fail(err, AXM_ERR_INPUT, "dt_ms and tstop_ms: expected numbers > 0");
    double n = c->tstop_ms / c->dt_ms;
    if (n < 1 || n > 1e7 || fabs(n - round(n)) > 1e-6 * n)
        return axm_fail(err, AXM_ERR_INPUT, "tstop_ms: expected a whole number of steps of dt_ms (got %g / %g = %g)",
                        c->tstop_ms, c->dt_ms, n);
    if (c->nodes < 3) return axm_fail(err, AXM_ERR_INPUT, "nodes: expected >= 3 (got %d)", c->nodes);
    if (c->n_runs < 1 || c->rows < 1 || c->fibers < 1)
        return axm_fail(err, AXM_ERR_INPUT, "n_runs, rows, fibers: expected integers >= 1");
    double chunk = 4.0 * c->rows * c->fibers * c->nodes * (n + 1);
    if (chunk >= 4294967295.0)
        return axm_fail(err, AXM_ERR_INPUT,
                        "rows x fibers x nodes x samples: one run's chunk would be %.3g GB (HDF5 allows < 4 GB): "
                        "use fewer rows or fibers",
                        chunk / 1e9);
    if (c->seed < 0) return axm_fail(err, AXM_ERR_INPUT, "seed: expected an integer >= 0");
    if (!(c->diam_um[0] > 0)) return axm_fail(err, AXM_ERR_INPUT, "diameter_um: expected [low, high] with low > 0");
    if (c->contacts < 1 || c->contacts > AXM_GD_MAX_CONTACTS)
        return axm_fail(err, AXM_ERR_INPUT, "contacts: expected 1..%d (got %d)", AXM_GD_MAX_CONTACTS, c->contacts);
    if (!(c->rho_ohm_cm > 0)) return axm_fail(err, AXM_ERR_INPUT, "rho_ohm_cm: expected > 0 (got %g)", c->rho_ohm_cm);
    if (!(c->dist_um[0] > 0))
        return axm_fail(err, AXM_ERR_INPUT, "distance_um: expected [low, high] with low > 0 (a contact on the axis has infinite potential)");
    if (c->pw_ms[0] < 0 || c->delay_ms[0] < 0 || c->gap_ms[0] < 0)
        return axm_fail(err, AXM_ERR_INPUT, "pw_ms, delay_ms, gap_ms: expected ranges >= 0");
    if (!(c->mix[0] >= 0 && c->mix[1] >= 0 && c->mix[2] >= 0 && c->mix[0] + c->mix[1] + c->mix[2] > 0))
        return axm_fail(err, AXM_ERR_INPUT, "waveforms: expected weights >= 0 with a positive sum");
    if (c->mix[2] > 0 && !(c->freq_khz[0] > 0))
        return axm_fail(err, AXM_ERR_INPUT, "freq_khz: expected [low, high] with low > 0 when sinusoids are drawn");
    if (c->polarity < 0 || c->polarity > 2) return axm_fail(err, AXM_ERR_INPUT, "polarity: expected mixed, cathodic or anodic");
    if (!(c->ap_monitor_um >= 0)) return axm_fail(err, AXM_ERR_INPUT, "ap_monitor_um: expected >= 0");
    if (c->gzip_level < 0 || c->gzip_level > 9) return axm_fail(err, AXM_ERR_INPUT, "gzip_level: expected 0..9");
    return AXM_OK;
}

static cJSON *range_json(const double r[2])
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(r[0]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(r[1]));
    return a;
}

int axm_gendata_n_kinds(const axm_gendata_cfg *c) { return (c->mix[0] > 0) + (c->mix[1] > 0) + (c->mix[2] > 0); }

char *axm_gendata_to_json(const axm_gendata_cfg *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "axonml-gendata");
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "model", c->model);
    if (c->weights[0]) cJSON_AddStringToObject(o, "weights", c->weights);
    else cJSON_AddNullToObject(o, "weights");
    cJSON_AddNumberToObject(o, "nodes", c->nodes);
    cJSON_AddNumberToObject(o, "dt_ms", c->dt_ms);
    cJSON_AddNumberToObject(o, "tstop_ms", c->tstop_ms);
    cJSON_AddNumberToObject(o, "n_runs", c->n_runs);
    cJSON_AddNumberToObject(o, "rows", c->rows);
    cJSON_AddNumberToObject(o, "fibers", c->fibers);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddStringToObject(o, "precision", axm_prec_name(c->prec));
    cJSON_AddItemToObject(o, "diameter_um", range_json(c->diam_um));
    cJSON_AddNumberToObject(o, "contacts", c->contacts);
    cJSON_AddNumberToObject(o, "rho_ohm_cm", c->rho_ohm_cm);
    cJSON_AddItemToObject(o, "distance_um", range_json(c->dist_um));
    cJSON_AddItemToObject(o, "offset_deltax", range_json(c->offset_deltax));
    cJSON_AddItemToObject(o, "amp_mA", range_json(c->amp_mA));
    cJSON_AddItemToObject(o, "pw_ms", range_json(c->pw_ms));
    cJSON_AddItemToObject(o, "delay_ms", range_json(c->delay_ms));
    cJSON_AddStringToObject(o, "polarity", pol_names[c->polarity]);
    cJSON *mix = cJSON_AddObjectToObject(o, "waveforms");
    for (int i = 0; i < 3; i++) cJSON_AddNumberToObject(mix, mix_names[i], c->mix[i]);
    cJSON_AddItemToObject(o, "gap_ms", range_json(c->gap_ms));
    cJSON_AddItemToObject(o, "freq_khz", range_json(c->freq_khz));
    cJSON_AddNumberToObject(o, "ap_monitor_um", c->ap_monitor_um);
    cJSON_AddNumberToObject(o, "threshold_mV", c->threshold_mV);
    cJSON_AddNumberToObject(o, "gzip_level", c->gzip_level);
    cJSON *n = cJSON_AddObjectToObject(o, "notes");
    cJSON_AddStringToObject(n, "simulator", "axonml (C), own implementation of the model kind; fixed step dt_ms");
    cJSON_AddStringToObject(n, "medium", "infinite homogeneous isotropic, point-source contacts");
    cJSON_AddStringToObject(n, "contact_position",
                            "x = r cos(theta), z = r sin(theta), r ~ U(distance_um), theta ~ U[0, 2pi); "
                            "y ~ U(offset_deltax) * node-to-node distance, about the centre node");
    cJSON_AddStringToObject(n, "pulse",
                            "per contact; monophasic amp on (delay, delay+pw]; biphasic charge-balanced symmetric with "
                            "gap; sinusoid amp sin(2 pi f (t - delay) + phase) for delay <= t <= delay + pw; "
                            "polarity mixed keeps the sign of the amp draw; contacts superposed");
    cJSON_AddStringToObject(n, "recorded",
                            "every model state (vm as v) and e at the nodes, at t = 0 and after every step; "
                            "e[..., k] = sample k of the applied potential, e[..., T-1] repeats sample T-2");
    cJSON_AddStringToObject(n, "rng",
                            "xoshiro256** seeded by splitmix64; run g uses stream (seed, g); per fiber: D, r[C], "
                            "theta[C], y[C], amp[C], pw[C], delay[C], then kind[C] if several waveforms, gap[C] if "
                            "biphasic, freq[C] and phase[C] if sinusoids");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
