/* Dataset generator and HDF5 writer (datagen.h). */
#include "datagen.h"
#include "fileio.h"

#include <cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "field.h"
#include "h5chunk.h"
#include "monitor.h"
#include "sim.h"
#include "version.h"

/* ================================================================================ random */

uint64_t axm_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void axm_rng_seed(axm_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t t = stream + 0x9E3779B97F4A7C15ull;
    uint64_t st = seed ^ axm_splitmix64(&t);
    for (int i = 0; i < 4; i++) r->s[i] = axm_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t axm_rng_next(axm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double axm_rng_uniform(axm_rng *r) { return (double)(axm_rng_next(r) >> 11) * 0x1.0p-53; }

double axm_rng_range(axm_rng *r, double lo, double hi) { return lo + axm_rng_uniform(r) * (hi - lo); }

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
        return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected a number", where, key);
    *out = v->valuedouble;
    return AXM_OK;
}

static int get_int(const cJSON *v, const char *where, const char *key, long lo, long hi, long *out,
                   axm_err *err)
{
    double d = 0;
    if (get_num(v, where, key, &d, err) || d != floor(d) || d < (double)lo || d > (double)hi)
        return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected an integer in [%ld, %ld]", where, key, lo, hi);
    *out = (long)d;
    return AXM_OK;
}

static int get_range(const cJSON *v, const char *where, const char *key, double out[2], axm_err *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(v, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(v, 1)))
        return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected [low, high] (two numbers)", where, key);
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
        return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected a string (at most %zu characters)", where, key, n - 1);
    snprintf(out, n, "%s", v->valuestring);
    return AXM_OK;
}

static int parse_obj(axm_gendata_cfg *c, const cJSON *o, const char *where, axm_err *err)
{
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
            else rc = axm_fail(err, AXM_ERR_INPUT, "%s: precision: expected \"fp64\" or \"fp32\"", where);
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
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: polarity: expected \"mixed\", \"cathodic\" or \"anodic\"", where);
            else c->polarity = found;
        } else if (!strcmp(k, "waveforms")) {
            if (!cJSON_IsObject(it))
                return axm_fail(err, AXM_ERR_INPUT,
                                "%s: waveforms: expected an object of weights {\"monophasic\": w, \"biphasic\": w, \"sinusoid\": w}",
                                where);
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
                if (mix[found] < 0) return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected a weight >= 0", where, key);
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
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: device: expected \"auto\", \"cpu\" or \"cuda\"", where);
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

static int n_kinds(const axm_gendata_cfg *c) { return (c->mix[0] > 0) + (c->mix[1] > 0) + (c->mix[2] > 0); }

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

/* ================================================================================ batches */

void axm_gendata_batch_destroy(axm_gendata_batch *b)
{
    if (!b) return;
    free(b->D_um);
    free(b->contact_xyz_um);
    free(b->waves);
    free(b->node_y_um);
    free(b->ap_nodes);
    free(b->states);
    free(b->e);
    free(b->act);
    free(b);
}

axm_gendata_batch *axm_gendata_batch_create(const axm_gendata_cfg *c, int n_states, axm_err *err)
{
    axm_gendata_batch *b = calloc(1, sizeof *b);
    if (!b) {
        axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        return NULL;
    }
    b->R = c->rows, b->F = c->fibers, b->B = c->rows * c->fibers, b->W = c->nodes, b->C = c->contacts;
    b->T = axm_gendata_T(c), b->S = n_states;
    size_t B = (size_t)b->B, W = (size_t)b->W, T = (size_t)b->T, C = (size_t)b->C, S = (size_t)n_states;
    b->D_um = calloc(B, sizeof *b->D_um);
    b->contact_xyz_um = calloc(B * C * 3, sizeof(double));
    b->waves = calloc(B * C, sizeof *b->waves);
    b->node_y_um = calloc(B * W, sizeof(double));
    b->ap_nodes = calloc(B * 2, sizeof(int));
    b->states = malloc(S * B * W * T * sizeof(float));
    b->e = malloc(B * W * T * sizeof(float));
    b->act = calloc(B, sizeof(float));
    if (!b->D_um || !b->contact_xyz_um || !b->waves || !b->node_y_um || !b->ap_nodes || !b->states || !b->e ||
        !b->act) {
        axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory for one run (%.3g GB): use fewer rows or fibers",
                 (double)((S + 1) * B * W * T * sizeof(float)) / 1e9);
        axm_gendata_batch_destroy(b);
        return NULL;
    }
    return b;
}

/* Node positions of fiber D: the kind's compartment positions at the node compartments, which a
 * kind with internodes lists every (n_comp - 1)/(W - 1) entries starting at 0. */
static int node_positions(const axm_model *m, double D, int W, double *ny, axm_err *err)
{
    int nc = m->kind->n_comp(m, W);
    if (nc < W || (nc - 1) % (W - 1))
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: model %s: %d compartments for %d nodes is not a node "
                        "every (n-1)/(W-1) compartments", m->kind->name, nc, W);
    double *y = malloc((size_t)nc * sizeof *y);
    if (!y) return axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
    int rc = m->kind->positions(m, D, W, y, err);
    int stride = (nc - 1) / (W - 1);
    for (int w = 0; !rc && w < W; w++) ny[w] = y[w * stride];
    free(y);
    return rc;
}

/* Node positions and AP monitor nodes of fiber f: the monitors are the nodes nearest
 * -+ap_monitor_um, which clamps them to the end nodes of short fibers (cajal). */
static int fiber_geometry(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b, int f, axm_err *err)
{
    int W = b->W;
    double *ny = b->node_y_um + (size_t)f * W;
    int rc = node_positions(m, b->D_um[f], W, ny, err);
    for (int side = 0; side < 2 && !rc; side++) {
        double target = side ? c->ap_monitor_um : -c->ap_monitor_um;
        int best = 0;
        for (int w = 1; w < W; w++)
            if (fabs(ny[w] - target) < fabs(ny[best] - target)) best = w;
        b->ap_nodes[2 * f + side] = best;
    }
    return rc;
}

int axm_gendata_draw(const axm_gendata_cfg *c, const axm_model *m, long g, axm_gendata_batch *b, axm_err *err)
{
    axm_rng r;
    axm_rng_seed(&r, (uint64_t)c->seed, (uint64_t)g);
    int C = b->C, kinds = n_kinds(c);
    double msum = c->mix[0] + c->mix[1] + c->mix[2];
    for (int f = 0; f < b->B; f++) {
        double v[6][AXM_GD_MAX_CONTACTS];
        b->D_um[f] = axm_rng_range(&r, c->diam_um[0], c->diam_um[1]);
        for (int j = 0; j < 6; j++) {
            const double *rg = j == 0 ? c->dist_um : j == 1 ? (const double[2]){0, 2 * M_PI}
                             : j == 2 ? c->offset_deltax : j == 3 ? c->amp_mA : j == 4 ? c->pw_ms : c->delay_ms;
            for (int k = 0; k < C; k++) v[j][k] = axm_rng_range(&r, rg[0], rg[1]);
        }
        double u_kind[AXM_GD_MAX_CONTACTS], gap[AXM_GD_MAX_CONTACTS], fr[AXM_GD_MAX_CONTACTS], ph[AXM_GD_MAX_CONTACTS];
        for (int k = 0; k < C; k++) u_kind[k] = 0, gap[k] = 0, fr[k] = 0, ph[k] = 0;
        if (kinds > 1)
            for (int k = 0; k < C; k++) u_kind[k] = axm_rng_uniform(&r);
        if (c->mix[1] > 0)
            for (int k = 0; k < C; k++) gap[k] = axm_rng_range(&r, c->gap_ms[0], c->gap_ms[1]);
        if (c->mix[2] > 0) {
            for (int k = 0; k < C; k++) fr[k] = axm_rng_range(&r, c->freq_khz[0], c->freq_khz[1]);
            for (int k = 0; k < C; k++) ph[k] = axm_rng_range(&r, 0, 2 * M_PI);
        }
        int rc = fiber_geometry(c, m, b, f, err);
        if (rc) return rc;
        double dx = fabs(b->node_y_um[(size_t)f * b->W + 1] - b->node_y_um[(size_t)f * b->W]);
        for (int k = 0; k < C; k++) {
            double *xyz = b->contact_xyz_um + ((size_t)f * C + k) * 3;
            xyz[0] = v[0][k] * cos(v[1][k]);
            xyz[1] = v[2][k] * dx;
            xyz[2] = v[0][k] * sin(v[1][k]);
            axm_wave *w = &b->waves[(size_t)f * C + k];
            memset(w, 0, sizeof *w);
            double amp = v[3][k];
            if (c->polarity == AXM_POL_CATHODIC) amp = -fabs(amp);
            else if (c->polarity == AXM_POL_ANODIC) amp = fabs(amp);
            int kind = 0;
            double acc = 0, u = u_kind[k] * msum;
            if (kinds > 1) {
                kind = 2;
                for (int i = 0; i < 3; i++) {
                    acc += c->mix[i];
                    if (c->mix[i] > 0 && u < acc) {
                        kind = i;
                        break;
                    }
                }
            } else {
                for (int i = 0; i < 3; i++)
                    if (c->mix[i] > 0) kind = i;
            }
            w->amp_mA = amp;
            w->pw_ms = v[4][k];
            w->delay_ms = v[5][k];
            if (kind == 0) {
                w->kind = AXM_WAVE_MONO;
            } else if (kind == 1) {
                w->kind = AXM_WAVE_BIPHASIC;
                w->gap_ms = gap[k];
            } else {
                w->kind = AXM_WAVE_SINE;
                w->freq_khz = fr[k];
                w->phase_rad = ph[k];
                w->dur_ms = v[4][k];
            }
        }
    }
    return AXM_OK;
}

/* The sink: a monitor that stores every state of every fiber straight into the batch's float
 * arrays (S, B, W, T), so a run never holds a double-precision copy of its traces. */
typedef struct sink {
    axm_monitor base;
    axm_gendata_batch *const *bs; /* the call's runs; simulation fiber f is fiber f % B of run f / B */
    int k;
    axm_prec prec;
} sink;

static void sink_store(sink *k, long frame, int b0, int b1, const void *state)
{
    const axm_gendata_batch *b0p = k->bs[0];
    if (frame < 0 || frame >= b0p->T) return;
    size_t S = (size_t)b0p->S, W = (size_t)b0p->W, T = (size_t)b0p->T, B = (size_t)b0p->B;
    for (int f = b0; f < b1; f++) {
        const axm_gendata_batch *b = k->bs[(size_t)f / B];
        size_t fl = (size_t)f % B;
        for (size_t s = 0; s < S; s++) {
            float *out = b->states + ((s * B + fl) * W) * T + (size_t)frame;
            size_t base = ((size_t)f * S + s) * W;
            if (k->prec == AXM_FP32) {
                const float *x = (const float *)state + base;
                for (size_t w = 0; w < W; w++) out[w * T] = x[w];
            } else {
                const double *x = (const double *)state + base;
                for (size_t w = 0; w < W; w++) out[w * T] = (float)x[w];
            }
        }
    }
}

static int sink_begin(axm_monitor *m, const axm_mon_run *r, const void *state, axm_err *err)
{
    sink *k = (sink *)m;
    if (r->B != k->k * k->bs[0]->B || r->W != k->bs[0]->W || r->S != k->bs[0]->S)
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: the simulation's shape does not match the dataset's");
    k->prec = r->prec;
    sink_store(k, r->k0, 0, r->B, state);
    return AXM_OK;
}

static void sink_observe(axm_monitor *m, long k, int b0, int b1, const void *state)
{
    sink_store((sink *)m, k + 1, b0, b1, state);
}

static void sink_noop(axm_monitor *m) { (void)m; }

static const axm_monitor_ops sink_ops = {"gendata-sink", sink_begin, sink_observe, sink_noop, sink_noop, sink_noop};

typedef struct prog_adapt {
    void (*fn)(void *, long, long);
    void *ud;
    long B;
} prog_adapt;

static void prog_steps(void *ud, long done, long total)
{
    prog_adapt *p = ud;
    if (p->fn && total > 0) p->fn(p->ud, (long)((double)p->B * (double)done / (double)total), p->B);
}

int axm_gendata_simulate(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b, int n_threads,
                         const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                         void *progress_ud, axm_err *err)
{
    return axm_gendata_simulate_with(c, m, b, NULL, NULL, n_threads, cancel, progress, progress_ud, err);
}

/* The preparation of fibers [f0, f1) of a call (Bt fibers, run ft / B): node positions and AP
 * monitors, sources, sampled waves and e at the nodes. Fibers are independent, so threads split them. */
typedef struct prep_job {
    const axm_gendata_cfg *c;
    const axm_model *m;
    axm_gendata_batch *const *bs;
    int B, f0, f1;
    axm_source *src;
    double *wbuf, *D;
    const double **wp;
    int *wave_of;
    int rc;
    axm_err err;
} prep_job;

static void *prep_main(void *p)
{
    prep_job *j = p;
    const axm_gendata_cfg *c = j->c;
    const int B = j->B, W = j->bs[0]->W, C = j->bs[0]->C, T = j->bs[0]->T;
    const long n_steps = T - 1;
    axm_err *err = &j->err;
    int rc = AXM_OK;
    double *phi = malloc((size_t)C * W * sizeof *phi);
    if (!phi) rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
    for (int ft = j->f0; ft < j->f1 && !rc; ft++) {
        axm_gendata_batch *b = j->bs[ft / B];
        int f = ft % B;
        if (j->D) j->D[ft] = b->D_um[f];
        double *ny = b->node_y_um + (size_t)f * W;
        if ((rc = fiber_geometry(c, j->m, b, f, err))) break;
        for (int q = 0; q < C && !rc; q++) {
            size_t il = (size_t)f * C + q, i = (size_t)ft * C + q;
            double *xyz = b->contact_xyz_um + 3 * il;
            axm_source *s = &j->src[i];
            s->kind = AXM_SRC_POINT;
            s->x_um = xyz[0], s->y_um = xyz[1], s->z_um = xyz[2];
            s->rho_ohm_cm = c->rho_ohm_cm;
            if ((rc = axm_wave_check(&b->waves[il], err))) break;
            if ((rc = axm_wave_sample(&b->waves[il], c->dt_ms, n_steps, j->wbuf + i * (size_t)n_steps, err))) break;
            j->wp[i] = j->wbuf + i * (size_t)n_steps;
            j->wave_of[i] = (int)i;
        }
        if (rc) break;
        /* e at the nodes: what the engine applies at the node compartments, sample by sample */
        for (int q = 0; q < C && !rc; q++) rc = axm_source_eval(&j->src[(size_t)ft * C + q], ny, W, phi + (size_t)q * W, err);
        for (int w = 0; w < W && !rc; w++) {
            float *e = b->e + ((size_t)f * W + w) * T;
            for (long t = 0; t < n_steps; t++) {
                double acc = 0;
                for (int q = 0; q < C; q++) acc += j->wp[(size_t)ft * C + q][t] * phi[(size_t)q * W + w];
                e[t] = (float)acc;
            }
            e[T - 1] = e[T - 2];
        }
    }
    free(phi);
    j->rc = rc;
    return NULL;
}

int axm_gendata_simulate_with(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err)
{
    axm_gendata_batch *one[1] = {b};
    return axm_gendata_simulate_many(c, m, one, 1, engine, engine_ud, n_threads, cancel, progress, progress_ud, err);
}

int axm_gendata_simulate_many(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *const *bs, int k,
                              axm_gendata_engine engine, void *engine_ud, int n_threads,
                              const volatile int *cancel, void (*progress)(void *ud, long done, long total),
                              void *progress_ud, axm_err *err)
{
    if (k < 1 || !bs) return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: expected at least one run (got %d)", k);
    const axm_gendata_batch *b0 = bs[0];
    int B = b0->B, W = b0->W, C = b0->C, T = b0->T;
    for (int j = 0; j < k; j++) {
        const axm_gendata_batch *b = bs[j];
        if (b->S != m->kind->n_states)
            return axm_fail(err, AXM_ERR_RUNTIME, "gendata: batch has %d states, model %s has %d", b->S, m->kind->name,
                            m->kind->n_states);
        if (b->B != B || b->W != W || b->C != C || b->T != T)
            return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: run %d of the call has another shape than run 0", j);
    }
    if ((double)k * B > 2147483647.0) return axm_fail(err, AXM_ERR_INPUT, "gendata: simulate: too many fibers in one call");
    const int Bt = k * B;
    long n_steps = T - 1;
    int rc = AXM_OK;
    axm_source *src = calloc((size_t)Bt * C, sizeof *src);
    double *wbuf = malloc((size_t)Bt * C * (size_t)n_steps * sizeof *wbuf);
    const double **wp = malloc((size_t)Bt * C * sizeof *wp);
    int *wave_of = malloc((size_t)Bt * C * sizeof *wave_of);
    double *D = k > 1 ? malloc((size_t)Bt * sizeof *D) : NULL;
    if (!src || !wbuf || !wp || !wave_of || (k > 1 && !D)) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    {
        int nt = n_threads;
        if (nt <= 0) {
            long np = sysconf(_SC_NPROCESSORS_ONLN);
            nt = np > 0 ? (int)np : 1;
        }
        /* a thread per ~64 fibers at most: the preparation is ~0.2 ms per fiber */
        if (nt > (Bt + 63) / 64) nt = (Bt + 63) / 64;
        if (nt > 64) nt = 64;
        if (nt < 1) nt = 1;
        prep_job jobs[64];
        pthread_t th[64];
        int started[64];
        for (int i = 0; i < nt; i++) {
            prep_job *j = &jobs[i];
            memset(j, 0, sizeof *j);
            j->c = c, j->m = m, j->bs = bs, j->B = B, j->src = src, j->wbuf = wbuf, j->wp = wp, j->wave_of = wave_of;
            j->D = D;
            j->f0 = (int)((long long)Bt * i / nt), j->f1 = (int)((long long)Bt * (i + 1) / nt);
            started[i] = i > 0 && !pthread_create(&th[i], NULL, prep_main, j);
        }
        for (int i = 0; i < nt; i++)
            if (!started[i]) prep_main(&jobs[i]); /* this thread's share, or a thread that did not start */
        for (int i = 0; i < nt; i++) {
            if (started[i]) pthread_join(th[i], NULL);
            if (jobs[i].rc && !rc) {
                rc = jobs[i].rc;
                if (err) *err = jobs[i].err;
            }
        }
    }
    if (rc) goto out;

    axm_drive d;
    memset(&d, 0, sizeof d);
    d.n_contacts = C;
    d.sources = src;
    d.n_waves = Bt * C;
    d.waves = wp;
    d.wave_len = n_steps;
    d.wave_of = wave_of;
    if (engine) {
        prog_adapt pa = {progress, progress_ud, Bt};
        rc = engine(engine_ud, m, bs, k, c->prec, &d, c->dt_ms, n_steps, cancel, progress ? prog_steps : NULL, &pa, err);
    } else {
        axm_sim *s = axm_sim_create(m, Bt, W, D ? D : b0->D_um, c->prec, n_threads, err);
        if (!s) {
            rc = err && err->code ? err->code : AXM_ERR_RUNTIME;
            goto out;
        }
        rc = axm_sim_set_drive(s, &d, err);
        if (!rc) {
            sink sk = {{&sink_ops}, bs, k, c->prec};
            prog_adapt pa = {progress, progress_ud, Bt};
            axm_run_opts ro;
            memset(&ro, 0, sizeof ro);
            ro.dt_ms = c->dt_ms;
            ro.n_steps = n_steps;
            ro.reinit = 1;
            ro.cancel = cancel;
            ro.progress = progress ? prog_steps : NULL;
            ro.progress_ud = &pa;
            axm_monitor *mons[1] = {&sk.base};
            rc = axm_sim_run(s, &ro, mons, 1, err);
        }
        axm_sim_destroy(s);
    }
    if (rc) goto out;

    /* activations: an upward threshold crossing at a monitor node. As cajal, a crossing in the
     * first step (t = dt) does not count. */
    for (int j = 0; j < k; j++) {
        axm_gendata_batch *b = bs[j];
        const float *v = b->states + (size_t)(b->S - 1) * B * W * T;
        for (int f = 0; f < B; f++) {
            int act = 0;
            for (int side = 0; side < 2 && !act; side++) {
                const float *x = v + ((size_t)f * W + b->ap_nodes[2 * f + side]) * T;
                for (int t = 2; t < T && !act; t++) act = x[t] >= c->threshold_mV && x[t - 1] < c->threshold_mV;
            }
            b->act[f] = (float)act;
        }
    }
out:
    free(src);
    free(wbuf);
    free(wp);
    free(wave_of);
    free(D);
    return rc;
}

int axm_gendata_runs_per_call(const axm_gendata_cfg *c, int n_states, double budget_bytes)
{
    if (!(budget_bytes > 0)) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        double phys = pages > 0 && psz > 0 ? (double)pages * (double)psz : 16e9;
        budget_bytes = phys / 8;
        if (budget_bytes < 2e9) budget_bytes = 2e9;
        if (budget_bytes > 16e9) budget_bytes = 16e9;
    }
    double B = (double)c->rows * c->fibers;
    double run = ((double)n_states + 1) * B * c->nodes * axm_gendata_T(c) * sizeof(float);
    double want = ceil(AXM_GD_TARGET_FIBERS / B), fit = floor(budget_bytes / run);
    double k = want < fit ? want : fit;
    if (k > c->n_runs) k = c->n_runs;
    if (k > 2147483647.0 / B) k = floor(2147483647.0 / B);
    return k < 1 ? 1 : (int)k;
}

/* ================================================================================ HDF5 */

#define MAX_DS 24

typedef enum { DT_F32, DT_F64, DT_I32 } dtype;

typedef struct dsdef {
    char name[32];
    dtype type;
    int rank;            /* including the run axis */
    hsize_t dims[6];     /* dims[0] = G */
    int compress;        /* gzip level (with shuffle); 0 = none */
    char units[256];
    char axes[96];       /* "" = no axes attribute (as the reference) */
    const void *buf;     /* this run's data */
    hid_t id;
    int direct;          /* chunks filtered by the pool and stored with H5Dwrite_chunk */
    unsigned esize;      /* their shuffle element size and deflate level */
    int level;
} dsdef;

typedef struct h5w {
    hid_t f;
    int n;
    dsdef ds[MAX_DS];
    long G;
    axm_h5z_pool *pool;  /* NULL: every chunk through H5Dwrite (HDF5's filters, one thread) */
    long n_direct;       /* chunks written with H5Dwrite_chunk */
} h5w;

static hid_t file_type(dtype t)
{
    return t == DT_F32 ? H5T_IEEE_F32LE : t == DT_F64 ? H5T_IEEE_F64LE : H5T_STD_I32LE;
}

static hid_t mem_type(dtype t)
{
    return t == DT_F32 ? H5T_NATIVE_FLOAT : t == DT_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
}

static int put_str_attr(hid_t obj, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &val);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc < 0 ? -1 : 0;
}

static int put_num_attr(hid_t obj, const char *name, int is_int, double d, long long i)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT)
                                       : H5Acreate2(obj, name, is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE, sp,
                                                    H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : is_int ? H5Awrite(a, H5T_NATIVE_LLONG, &i) : H5Awrite(a, H5T_NATIVE_DOUBLE, &d);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static int get_int_attr(hid_t obj, const char *name, long long *out)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_LLONG, out);
    if (a >= 0) H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

/* Returns a malloc'ed copy of a string attribute, or NULL. */
static char *get_str_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *res = NULL;
    if (H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Aread(a, t, &s) >= 0 && s) {
            res = strdup(s);
            H5free_memory(s);
        }
        H5Tclose(t);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return res;
}

static const char *state_units(const char *kind, const char *name, char *buf, size_t n)
{
    if (!strcmp(kind, "mrg") || !strcmp(kind, "smf")) {
        if (!strcmp(name, "m")) return "1 (fast Na activation, axnode_myel m)";
        if (!strcmp(name, "h")) return "1 (fast Na inactivation, axnode_myel h)";
        if (!strcmp(name, "p")) return "1 (persistent Na activation, axnode_myel mp)";
        if (!strcmp(name, "s")) return "1 (slow K activation, axnode_myel s)";
    }
    snprintf(buf, n, "1 (gating variable %s of model %s)", name, kind);
    return buf;
}

static void add_ds(h5w *w, const char *name, dtype t, int rank, const hsize_t *tail, int compress,
                   const char *units, const char *axes)
{
    dsdef *d = &w->ds[w->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->type = t;
    d->rank = rank;
    d->dims[0] = (hsize_t)w->G;
    for (int i = 1; i < rank; i++) d->dims[i] = tail[i - 1];
    d->compress = compress;
    snprintf(d->units, sizeof d->units, "%s", units);
    snprintf(d->axes, sizeof d->axes, "%s", axes ? axes : "");
    d->id = -1;
}

/* The run-indexed datasets of a configuration, in the reference's names and order. */
static void define_datasets(h5w *w, const axm_gendata_cfg *c, const axm_model_kind *k)
{
    hsize_t R = (hsize_t)c->rows, F = (hsize_t)c->fibers, W = (hsize_t)c->nodes, C = (hsize_t)c->contacts;
    hsize_t T = (hsize_t)axm_gendata_T(c);
    const char *ax5 = "n_idx, batch, axons, nodes, T", *ax3 = "n_idx, batch, axons";
    char buf[256];
    w->n = 0;
    hsize_t t_traces[4] = {R, F, W, T}, t3[2] = {R, F}, tpar[2] = {R, 2 * F}, tc[4] = {R, F, C, 3},
            tp[3] = {R, F, C}, tn[3] = {R, F, W}, tap[3] = {R, F, 2};
    snprintf(buf, sizeof buf,
             "1 if Vm crossed %g mV upward at the nodes nearest +-%g mm from the centre (cajal default MRG AP "
             "monitors; clipped to the end nodes for short fibers), else 0",
             c->threshold_mV, c->ap_monitor_um / 1000.0);
    add_ds(w, "activations", DT_F32, 3, t3, 0, buf, ax3);
    add_ds(w, "ap_monitor_nodes", DT_I32, 4, tap, 0, "node indices used for `activations`", NULL);
    add_ds(w, "contact_xyz_um", DT_F64, 5, tc, 0,
           "um; x, y (along fiber, centre node at 0), z of each point-source contact",
           "n_idx, batch, axons, contacts, xyz");
    add_ds(w, "diameters", DT_F32, 3, t3, 0, "um (fiber diameter)", ax3);
    add_ds(w, "e", DT_F32, 5, t_traces, c->gzip_level, "mV (extracellular potential e_extracellular applied at the node centre)", ax5);
    for (int s = 0; s < k->n_states; s++) {
        const char *nm = s == k->n_states - 1 ? "v" : k->state_names[s];
        const char *u = s == k->n_states - 1 ? "mV (membrane potential v = vi - vext at the node)"
                                             : state_units(k->name, nm, buf, sizeof buf);
        add_ds(w, nm, DT_F32, 5, t_traces, c->gzip_level, u, ax5);
    }
    snprintf(buf, sizeof buf, "um; node centre positions along the fiber (node %d at 0)", (c->nodes - 1) / 2);
    add_ds(w, "node_y_um", DT_F64, 4, tn, 0, buf, "n_idx, batch, axons, nodes");
    add_ds(w, "parameters", DT_F32, 3, tpar, 0,
           "interleaved [diameter_um, y_um] per axon, as cajal's NeuronModel parameters", "n_idx, batch, 2*axons");
    add_ds(w, "pulse_amp_mA", DT_F64, 4, tp, 0, "mA (negative = cathodic)", "n_idx, batch, axons, contacts");
    add_ds(w, "pulse_delay_ms", DT_F64, 4, tp, 0, "ms", "n_idx, batch, axons, contacts");
    if (n_kinds(c) > 1 || c->mix[0] == 0) {
        add_ds(w, "pulse_freq_khz", DT_F64, 4, tp, 0, "kHz (sinusoid frequency; 0 for pulses)",
               "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_gap_ms", DT_F64, 4, tp, 0, "ms (biphasic interphase gap)", "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_kind", DT_I32, 4, tp, 0,
               "0 monophasic, 1 charge-balanced symmetric biphasic, 2 sinusoid (duration pw)",
               "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_phase_rad", DT_F64, 4, tp, 0, "rad (sinusoid phase)", "n_idx, batch, axons, contacts");
    }
    add_ds(w, "pulse_pw_ms", DT_F64, 4, tp, 0, "ms (first phase width; sinusoid duration)",
           "n_idx, batch, axons, contacts");
    add_ds(w, "ys", DT_F32, 3, t3, 0,
           "um (longitudinal position of the fiber centre node; always 0 here, contacts carry the offsets)", ax3);
}

static void h5w_close(h5w *w)
{
    axm_h5z_pool_destroy(w->pool);
    w->pool = NULL;
    for (int i = 0; i < w->n; i++)
        if (w->ds[i].id >= 0) H5Dclose(w->ds[i].id), w->ds[i].id = -1;
    if (w->f >= 0) H5Fclose(w->f);
    w->f = -1;
}

static int h5w_create(h5w *w, const char *path, const axm_gendata_cfg *c, const char *gen_json, axm_err *err)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    w->f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (w->f < 0) return axm_fail(err, AXM_ERR_IO, "%s: cannot create the file", path);
    long long T = axm_gendata_T(c);
    int bad = put_num_attr(w->f, "T", 1, 0, T) | put_num_attr(w->f, "dt", 0, c->dt_ms, 0) |
              put_str_attr(w->f, "dt_units", "ms") | put_num_attr(w->f, "tstop", 0, c->tstop_ms, 0) |
              put_str_attr(w->f, "tstop_units", "ms") | put_num_attr(w->f, "seed", 1, 0, c->seed) |
              put_str_attr(w->f, "generator", gen_json) | put_str_attr(w->f, "model", c->model) |
              put_str_attr(w->f, "axonml_version", axm_version()) | put_num_attr(w->f, "n_runs", 1, 0, c->n_runs) |
              put_num_attr(w->f, "batches_complete", 1, 0, 0);
    for (int i = 0; i < w->n && !bad; i++) {
        dsdef *d = &w->ds[i];
        hsize_t cur[6], chunk[6];
        for (int j = 0; j < d->rank; j++) cur[j] = d->dims[j], chunk[j] = d->dims[j];
        cur[0] = 0, chunk[0] = 1;
        hid_t sp = H5Screate_simple(d->rank, cur, d->dims);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        H5Pset_chunk(dcpl, d->rank, chunk);
        if (d->compress) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)d->compress);
        }
        d->id = H5Dcreate2(w->f, d->name, file_type(d->type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Pclose(dcpl);
        H5Sclose(sp);
        if (d->id < 0) bad = 1;
        else if (d->axes[0]) bad |= put_str_attr(d->id, "axes", d->axes);
        if (!bad) bad |= put_str_attr(d->id, "units", d->units);
    }
    if (!bad) {
        hsize_t n = (hsize_t)T;
        double *t = malloc((size_t)T * sizeof *t);
        hid_t sp = H5Screate_simple(1, &n, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        hid_t d = H5Dcreate2(w->f, "t_ms", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (!t || d < 0) bad = 1;
        else {
            for (long long k = 0; k < T; k++) t[k] = (double)k * c->dt_ms;
            bad |= H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) < 0;
            bad |= put_str_attr(d, "units", "ms; time of each sample along the T axis");
        }
        if (d >= 0) H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(sp);
        free(t);
    }
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    if (bad) {
        h5w_close(w);
        return axm_fail(err, AXM_ERR_IO, "%s: cannot write the dataset layout", path);
    }
    return AXM_OK;
}

/* The parallel writer (HDF5 1.10 filters a dataset's chunks one after the other on the thread that
 * writes: ~60 MB/s of traces at gzip 4, a tenth of what 16 cores simulate). The trace datasets
 * whose chunks h5chunk can filter exactly as HDF5 get a pool of n_threads (<= 0: all CPUs)
 * compressing threads, as many as an eighth of the memory holds chunk buffers for. Not with
 * AXM_GENDATA_SERIAL_WRITER=1: HDF5's own filter path, kept as the reference the byte-identity
 * tests compare with. */
static int h5w_start_pool(h5w *w, int n_threads, axm_err *err)
{
    const char *s = getenv("AXM_GENDATA_SERIAL_WRITER");
    if (s && *s && strcmp(s, "0")) return AXM_OK;
    double big = 0;
    for (int i = 0; i < w->n; i++) {
        dsdef *d = &w->ds[i];
        /* chunks (1, dims[1..]) are whole runs: no edge chunks, every write covers one chunk; the
         * pool takes the memory bytes as they are, so only where the file's floats are native */
        d->direct = d->compress && d->type == DT_F32 && H5Tequal(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE) > 0 &&
                    axm_h5chunk_plan(d->id, &d->esize, &d->level);
        double bytes = d->esize;
        for (int j = 1; j < d->rank; j++) bytes *= (double)d->dims[j];
        if (d->direct && bytes > big) big = bytes;
    }
    if (big == 0) return AXM_OK;
    long np = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    int nt = n_threads > 0 ? n_threads : np > 0 ? (int)np : 1;
    double phys = pages > 0 && psz > 0 ? (double)pages * (double)psz : 16e9;
    double fit = floor((phys / 8 / (big * 1.001) - 1) / 2); /* a shuffle buffer and ~1 result per thread */
    if (nt > fit) nt = fit < 1 ? 1 : (int)fit;
    w->pool = axm_h5z_pool_create(nt, err);
    return w->pool ? AXM_OK : err && err->code ? err->code : AXM_ERR_NOMEM;
}

/* Opens a partial dataset for appending: its settings must be ours; runs past batches_complete
 * (a run that was being written when the process died) are dropped. */
static int h5w_open(h5w *w, const char *path, const char *gen_json, int writable, long *done, axm_err *err)
{
    w->f = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (w->f < 0) return axm_fail(err, AXM_ERR_INPUT, "%s: not a readable HDF5 file", path);
    char *g = get_str_attr(w->f, "generator");
    long long n = -1;
    int rc = AXM_OK;
    if (!g || get_int_attr(w->f, "batches_complete", &n) || n < 0)
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: not an axonml gendata file (no generator / batches_complete attribute)", path);
    else if (strcmp(g, gen_json))
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: was generated with other settings than this configuration: "
                      "cannot continue it (use --force to start over)", path);
    free(g);
    for (int i = 0; i < w->n && !rc; i++) {
        dsdef *d = &w->ds[i];
        d->id = H5Dopen2(w->f, d->name, H5P_DEFAULT);
        if (d->id < 0) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s: dataset %s is missing", path, d->name);
            break;
        }
        if (writable) {
            hsize_t cur[6];
            for (int j = 0; j < d->rank; j++) cur[j] = d->dims[j];
            cur[0] = (hsize_t)n;
            if (H5Dset_extent(d->id, cur) < 0) rc = axm_fail(err, AXM_ERR_IO, "%s: cannot resize %s", path, d->name);
        }
    }
    if (rc) {
        h5w_close(w);
        return rc;
    }
    *done = (long)n;
    return AXM_OK;
}

static int h5w_write_run(h5w *w, long g, const char *path, axm_err *err)
{
    int bad = 0;
    for (int i = 0; i < w->n && !bad; i++) {
        dsdef *d = &w->ds[i];
        hsize_t cur[6], start[6] = {0}, count[6];
        for (int j = 0; j < d->rank; j++) cur[j] = count[j] = d->dims[j];
        cur[0] = (hsize_t)g + 1, start[0] = (hsize_t)g, count[0] = 1;
        if (H5Dset_extent(d->id, cur) < 0) {
            bad = 1;
            break;
        }
        if (d->direct && w->pool) {
            /* the pool filtered this chunk as H5Dwrite would; written at the same point of the
             * sequence of HDF5 calls, it lands at the same file address */
            const void *z = NULL;
            size_t zn = 0;
            int got = axm_h5z_pool_next(w->pool, &z, &zn, err);
            if (got < 0) return AXM_ERR_RUNTIME;
            if (got) {
                bad |= H5Dwrite_chunk(d->id, H5P_DEFAULT, 0, start, zn, z) < 0;
                w->n_direct++;
                continue;
            }
        }
        hid_t fs = H5Dget_space(d->id);
        hid_t ms = H5Screate_simple(d->rank, count, NULL);
        bad |= H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0;
        if (!bad) bad |= H5Dwrite(d->id, mem_type(d->type), ms, fs, H5P_DEFAULT, d->buf) < 0;
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* the count is written after the data, so that a file whose count says n holds n runs */
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    if (!bad) bad = put_num_attr(w->f, "batches_complete", 1, 0, (long long)g + 1);
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    return bad ? axm_fail(err, AXM_ERR_IO, "%s: cannot write run %ld (disk full?)", path, g) : AXM_OK;
}

/* ================================================================================ writer */

/* The writer thread: all HDF5 calls of a generation happen on it (between create/open and close
 * on the calling thread), so that compressing the runs of one engine call overlaps simulating the
 * next call's. A job is n consecutive runs g, g+1, ..., written in order. */
typedef struct writer {
    h5w *w;
    const char *path;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int has_job, quit, rc;
    long g, written;
    axm_gendata_batch *const *job;
    int n_job;
    axm_err err;
    float *diam, *ys, *par;
    double *amp, *pw, *delay, *gap, *freq, *phase;
    int *kind;
    size_t cap_b, cap_bc;
    axm_h5z_task *tasks; /* the pool's list of the job in progress */
    size_t cap_tasks;
} writer;

/* Run b's data of dataset d: the batch's own arrays, or (small datasets) the writer's converted
 * copies that write_job fills. *s_idx counts the state datasets seen, in the kind's order. */
static const void *run_buf(const writer *wr, const dsdef *d, const axm_gendata_batch *b, int *s_idx)
{
    const char *n = d->name;
    size_t trace = (size_t)b->B * (size_t)b->W * (size_t)b->T;
    if (!strcmp(n, "activations")) return b->act;
    if (!strcmp(n, "ap_monitor_nodes")) return b->ap_nodes;
    if (!strcmp(n, "contact_xyz_um")) return b->contact_xyz_um;
    if (!strcmp(n, "diameters")) return wr->diam;
    if (!strcmp(n, "e")) return b->e;
    if (!strcmp(n, "node_y_um")) return b->node_y_um;
    if (!strcmp(n, "parameters")) return wr->par;
    if (!strcmp(n, "pulse_amp_mA")) return wr->amp;
    if (!strcmp(n, "pulse_delay_ms")) return wr->delay;
    if (!strcmp(n, "pulse_freq_khz")) return wr->freq;
    if (!strcmp(n, "pulse_gap_ms")) return wr->gap;
    if (!strcmp(n, "pulse_kind")) return wr->kind;
    if (!strcmp(n, "pulse_phase_rad")) return wr->phase;
    if (!strcmp(n, "pulse_pw_ms")) return wr->pw;
    if (!strcmp(n, "ys")) return wr->ys;
    return b->states + (size_t)((*s_idx)++) * trace; /* states, in the kind's order */
}

/* Hands the pool the trace chunks of runs b[0..n-1], in the order write_job will store them. */
static int begin_job_chunks(writer *wr, axm_gendata_batch *const *b, int n)
{
    h5w *w = wr->w;
    size_t need = (size_t)n * (size_t)w->n;
    if (wr->cap_tasks < need) {
        free(wr->tasks);
        wr->tasks = malloc(need * sizeof *wr->tasks);
        wr->cap_tasks = wr->tasks ? need : 0;
        if (!wr->tasks) return axm_fail(&wr->err, AXM_ERR_NOMEM, "gendata: out of memory");
    }
    int nt = 0;
    for (int r = 0; r < n; r++) {
        int s_idx = 0;
        for (int i = 0; i < w->n; i++) {
            const dsdef *d = &w->ds[i];
            const void *src = run_buf(wr, d, b[r], &s_idx);
            if (!d->direct) continue;
            size_t bytes = d->esize;
            for (int j = 1; j < d->rank; j++) bytes *= (size_t)d->dims[j];
            wr->tasks[nt++] = (axm_h5z_task){src, bytes, d->esize, d->level};
        }
    }
    return axm_h5z_pool_begin(w->pool, wr->tasks, nt, &wr->err);
}

static int write_job(writer *wr, long g, const axm_gendata_batch *b)
{
    size_t B = (size_t)b->B, BC = B * (size_t)b->C;
    if (wr->cap_b < B || wr->cap_bc < BC) {
        free(wr->diam), free(wr->ys), free(wr->par), free(wr->amp), free(wr->pw), free(wr->delay);
        free(wr->gap), free(wr->freq), free(wr->phase), free(wr->kind);
        wr->diam = malloc(B * sizeof(float)), wr->ys = calloc(B, sizeof(float)), wr->par = malloc(2 * B * sizeof(float));
        wr->amp = malloc(BC * sizeof(double)), wr->pw = malloc(BC * sizeof(double));
        wr->delay = malloc(BC * sizeof(double)), wr->gap = malloc(BC * sizeof(double));
        wr->freq = malloc(BC * sizeof(double)), wr->phase = malloc(BC * sizeof(double));
        wr->kind = malloc(BC * sizeof(int));
        wr->cap_b = B, wr->cap_bc = BC;
        if (!wr->diam || !wr->ys || !wr->par || !wr->amp || !wr->pw || !wr->delay || !wr->gap || !wr->freq ||
            !wr->phase || !wr->kind) {
            wr->cap_b = wr->cap_bc = 0;
            return axm_fail(&wr->err, AXM_ERR_NOMEM, "gendata: out of memory");
        }
    }
    for (size_t i = 0; i < B; i++) {
        wr->diam[i] = (float)b->D_um[i];
        wr->par[2 * i] = (float)b->D_um[i];
        wr->par[2 * i + 1] = 0.0f;
    }
    for (size_t i = 0; i < BC; i++) {
        const axm_wave *wv = &b->waves[i];
        wr->amp[i] = wv->amp_mA;
        wr->pw[i] = wv->pw_ms;
        wr->delay[i] = wv->delay_ms;
        wr->gap[i] = wv->gap_ms;
        wr->freq[i] = wv->freq_khz;
        wr->phase[i] = wv->phase_rad;
        wr->kind[i] = wv->kind == AXM_WAVE_MONO ? 0 : wv->kind == AXM_WAVE_BIPHASIC ? 1 : 2;
    }
    int s_idx = 0;
    for (int i = 0; i < wr->w->n; i++) wr->w->ds[i].buf = run_buf(wr, &wr->w->ds[i], b, &s_idx);
    return h5w_write_run(wr->w, g, wr->path, &wr->err);
}

static void *writer_main(void *p)
{
    writer *wr = p;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* per thread in thread-safe HDF5 builds */
    pthread_mutex_lock(&wr->mu);
    for (;;) {
        while (!wr->has_job && !wr->quit) pthread_cond_wait(&wr->cv, &wr->mu);
        if (!wr->has_job) break;
        long g = wr->g;
        axm_gendata_batch *const *b = wr->job;
        int n = wr->n_job;
        if (wr->w->pool && !wr->rc) {
            /* every trace chunk of the job is compressed on the pool's threads while this one
             * stores them in order */
            pthread_mutex_unlock(&wr->mu);
            int rc = begin_job_chunks(wr, b, n);
            pthread_mutex_lock(&wr->mu);
            if (rc) wr->rc = rc;
        }
        for (int i = 0; i < n && !wr->rc; i++) {
            pthread_mutex_unlock(&wr->mu);
            int rc = write_job(wr, g + i, b[i]);
            pthread_mutex_lock(&wr->mu);
            if (rc) wr->rc = rc;
            else wr->written = g + i + 1;
        }
        if (wr->w->pool) {
            /* the batches go back to the simulation only once no thread reads them */
            pthread_mutex_unlock(&wr->mu);
            axm_h5z_pool_end(wr->w->pool);
            pthread_mutex_lock(&wr->mu);
        }
        wr->has_job = 0;
        pthread_cond_broadcast(&wr->cv);
    }
    pthread_mutex_unlock(&wr->mu);
    return NULL;
}

static int writer_start(writer *wr, h5w *w, const char *path, long done, axm_err *err)
{
    memset(wr, 0, sizeof *wr);
    wr->w = w, wr->path = path, wr->written = done;
    pthread_mutex_init(&wr->mu, NULL);
    pthread_cond_init(&wr->cv, NULL);
    if (pthread_create(&wr->th, NULL, writer_main, wr)) {
        pthread_mutex_destroy(&wr->mu);
        pthread_cond_destroy(&wr->cv);
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: cannot start the writer thread");
    }
    return AXM_OK;
}

/* Hands runs g..g+n-1 (b[0..n-1]) to the writer once it has finished the previous job; b and its
 * batches must stay untouched until the next submit or finish returns. */
static int writer_submit(writer *wr, long g, axm_gendata_batch *const *b, int n, axm_err *err)
{
    pthread_mutex_lock(&wr->mu);
    while (wr->has_job) pthread_cond_wait(&wr->cv, &wr->mu);
    int rc = wr->rc;
    if (!rc) {
        wr->job = b, wr->n_job = n, wr->g = g, wr->has_job = 1;
        pthread_cond_broadcast(&wr->cv);
    } else if (err) {
        *err = wr->err;
    }
    pthread_mutex_unlock(&wr->mu);
    return rc;
}

/* Waits for the last run to be written and stops the thread; returns its first error. */
static int writer_finish(writer *wr, axm_err *err)
{
    pthread_mutex_lock(&wr->mu);
    while (wr->has_job) pthread_cond_wait(&wr->cv, &wr->mu);
    wr->quit = 1;
    pthread_cond_broadcast(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
    pthread_join(wr->th, NULL);
    pthread_mutex_destroy(&wr->mu);
    pthread_cond_destroy(&wr->cv);
    if (wr->rc && err) *err = wr->err;
    free(wr->diam), free(wr->ys), free(wr->par), free(wr->amp), free(wr->pw), free(wr->delay);
    free(wr->gap), free(wr->freq), free(wr->phase), free(wr->kind);
    free(wr->tasks);
    return wr->rc;
}

/* ================================================================================ run */

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

typedef struct run_prog {
    axm_gendata_opts *o;
    long base, total;
} run_prog;

static void run_prog_fn(void *ud, long done, long total)
{
    (void)total;
    run_prog *p = ud;
    if (p->o->progress) p->o->progress(p->o->progress_ud, p->base + done, p->total);
}

int axm_gendata_run(const axm_gendata_cfg *c, axm_gendata_opts *o, axm_err *err)
{
    o->start_batch = o->batches_done = 0;
    o->complete = 0;
    o->chunks_direct = 0;
    int rc = axm_gendata_check(c, err);
    if (rc) return rc;
    if (!o->out_path || !o->out_path[0]) return axm_fail(err, AXM_ERR_INPUT, "gendata: no output file given");
    axm_model *m = axm_model_create(c->model, err);
    if (!m) return err && err->code ? err->code : AXM_ERR_INPUT;
    if (c->weights[0] && (rc = axm_model_load_weights(m, c->weights, err))) {
        axm_model_destroy(m);
        return rc;
    }
    if (c->nodes < m->kind->min_nodes) {
        rc = axm_fail(err, AXM_ERR_INPUT, "nodes: model %s needs at least %d nodes (got %d)", c->model,
                      m->kind->min_nodes, c->nodes);
        axm_model_destroy(m);
        return rc;
    }

    size_t plen = strlen(o->out_path) + 6;
    char *part = malloc(plen);
    char *gen = axm_gendata_to_json(c);
    axm_gendata_batch *b = NULL;
    h5w w;
    memset(&w, 0, sizeof w);
    w.f = -1;
    w.G = c->n_runs;
    H5E_auto2_t efn;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efn, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!part || !gen) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    snprintf(part, plen, "%s.part", o->out_path);
    define_datasets(&w, c, m->kind);

    long done = 0;
    int have_out = file_exists(o->out_path), have_part = file_exists(part);
    if (o->resume && !have_part && have_out) {
        /* nothing unfinished: fine if the finished file is this configuration's */
        if (!(rc = h5w_open(&w, o->out_path, gen, 0, &done, err))) {
            if (done == c->n_runs) o->complete = 1, o->start_batch = o->batches_done = done;
            else rc = axm_fail(err, AXM_ERR_INPUT, "%s: holds %ld of %d runs but is not a partial file", o->out_path, done, c->n_runs);
        }
        goto out;
    }
    if (have_out && !o->force) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: exists (use --force to overwrite it)", o->out_path);
        goto out;
    }
    if (o->resume && have_part) {
        if ((rc = h5w_open(&w, part, gen, 1, &done, err))) goto out;
    } else {
        if (have_part && !o->force) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s: exists from an unfinished run (--resume continues it, --force starts over)", part);
            goto out;
        }
        if ((rc = h5w_create(&w, part, c, gen, err))) goto out;
    }
    o->start_batch = o->batches_done = done;
    if ((rc = h5w_start_pool(&w, o->n_threads, err))) goto out;

    b = axm_gendata_batch_create(c, m->kind->n_states, err);
    if (!b) {
        rc = err && err->code ? err->code : AXM_ERR_NOMEM;
        goto out;
    }
    long end = c->n_runs;
    if (o->max_batches > 0 && done + o->max_batches < end) end = done + o->max_batches;
    int k = o->runs_per_call > 0 ? o->runs_per_call
          : o->engine ? axm_gendata_runs_per_call(c, m->kind->n_states, o->call_mem_bytes) : 1;
    if (k > c->n_runs) k = c->n_runs;
    /* the runs of one call are simulated into one group while the writer compresses the other's */
    axm_gendata_batch **grp = calloc(2 * (size_t)k, sizeof *grp);
    if (!grp) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "gendata: out of memory");
        goto out;
    }
    grp[0] = b;
    b = NULL;
    writer wr;
    if ((rc = writer_start(&wr, &w, part, done, err))) {
        axm_gendata_batch_destroy(grp[0]);
        free(grp);
        goto out;
    }
    long B = (long)grp[0]->B;
    run_prog rp = {o, 0, (end - done) * B};
    int cur = 0;
    for (long g = done; g < end;) {
        if (o->cancel && *o->cancel) {
            rc = AXM_ERR_CANCELLED;
            break;
        }
        int n = end - g < k ? (int)(end - g) : k;
        axm_gendata_batch **gb = grp + (size_t)cur * k;
        for (int i = 0; i < n && !rc; i++) {
            if (!gb[i] && !(gb[i] = axm_gendata_batch_create(c, m->kind->n_states, err)))
                rc = err && err->code ? err->code : AXM_ERR_NOMEM;
            if (!rc) rc = axm_gendata_draw(c, m, g + i, gb[i], err);
        }
        if (rc) break;
        rp.base = (g - done) * B;
        if ((rc = axm_gendata_simulate_many(c, m, gb, n, o->engine, o->engine_ud, o->n_threads, o->cancel, run_prog_fn,
                                             &rp, err)))
            break;
        if ((rc = writer_submit(&wr, g, gb, n, err))) break;
        cur ^= 1;
        g += n;
        if (o->progress) o->progress(o->progress_ud, (g - done) * B, rp.total);
    }
    int wrc = writer_finish(&wr, rc ? NULL : err);
    if (!rc) rc = wrc;
    o->batches_done = wr.written;
    o->chunks_direct = w.n_direct;
    if (rc == AXM_ERR_CANCELLED)
        axm_fail(err, AXM_ERR_CANCELLED, "interrupted: %s holds %ld of %d runs (--resume continues it)", part,
                 o->batches_done, c->n_runs);
    for (size_t i = 0; i < 2 * (size_t)k; i++) axm_gendata_batch_destroy(grp[i]);
    free(grp);
out:
    h5w_close(&w);
    if (!rc && !o->complete && o->batches_done == c->n_runs) {
        if (rename(part, o->out_path))
            rc = axm_fail(err, AXM_ERR_IO, "%s: cannot rename %s to it", o->out_path, part);
        else o->complete = 1;
    }
    H5Eset_auto2(H5E_DEFAULT, efn, edata);
    axm_gendata_batch_destroy(b);
    axm_model_destroy(m);
    free(part);
    free(gen);
    return rc;
}
