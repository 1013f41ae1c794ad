/* A training run's settings (train.h): defaults, the JSON file's parser with errors naming the key,
 * and loading it (paths resolved against the file's folder). */
#include "train.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "jsonget.h"

static const char *const STATE_NAMES[5] = {"m", "h", "p", "s", "v"};

/* ======================================================================================= config */

void axm_train_config_defaults(axm_train_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "smf");
    c->nodes = 53;
    c->dt = 0.005;
    for (int s = 0; s < 5; s++) {
        c->state_on[s] = 1;
        /* gates live in 0..1, v spans ~100 mV: weighting v by 1/(100 mV)^2 makes a 10 mV error
         * count like a gate error of 0.1, so the fit is not decided by v alone */
        c->state_weights[s] = s == 4 ? 1e-4 : 1.0;
    }
    c->epochs = 5;
    c->truncation_length = 50;
    c->lr = 3e-5;
    c->train_n_idx = 64;
    c->val_n_idx = 8;
    c->train_chunk_size = 1;
    c->val_chunk_size = 1;
    c->sampling = 1;
    c->n_postfix = 1;
    snprintf(c->postfix[0], sizeof c->postfix[0], "cm");
    c->save_every = 1;
    snprintf(c->save_dir, sizeof c->save_dir, "checkpoints");
    static const char *const dflt[] = {"conductances", "membrane", "axon_d", "node_d", "aq10_1",
                                       "pq10_1",       "aq10_2",   "aq10_3", "ssd"};
    c->n_to_train = (int)(sizeof dflt / sizeof dflt[0]);
    for (int i = 0; i < c->n_to_train; i++)
        snprintf(c->to_train[i], sizeof c->to_train[i], "%s", dflt[i]);
    c->threads = 2;
    c->device = AXM_DEV_CPU;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
}

/* Relative paths by axm_find_file's rule (as given, next to the config, its parent, the axonml
 * tree); a leading "../shared/" follows AXM_SHARED when set (tests point it at their own data). */
static void resolve_path(const char *cfg_path, const char *in, char *out, size_t n)
{
    const char *sh = getenv("AXM_SHARED");
    if (sh && *sh && !strncmp(in, "../shared/", 10)) {
        snprintf(out, n, "%s/%s", sh, in + 10);
        return;
    }
    axm_find_file_near(in, cfg_path, out, n);
}

static int want_int(const cJSON *it, const char *name, const char *key, int lo, int *out,
                    axm_err *err)
{
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < lo ||
        it->valuedouble > 1e9)
        return axm_j_expected(err, name, key, it, "an integer >= %d", lo);
    *out = (int)it->valuedouble;
    return AXM_OK;
}

static int want_pos(const cJSON *it, const char *name, const char *key, double *out, axm_err *err)
{
    if (!cJSON_IsNumber(it) || !(it->valuedouble > 0) || !isfinite(it->valuedouble))
        return axm_j_expected(err, name, key, it, "a number > 0");
    *out = it->valuedouble;
    return AXM_OK;
}

static int want_bool(const cJSON *it, const char *name, const char *key, int *out, axm_err *err)
{
    if (!cJSON_IsBool(it))
        return axm_j_expected(err, name, key, it, "true or false");
    *out = cJSON_IsTrue(it);
    return AXM_OK;
}

static int want_str(const cJSON *it, const char *name, const char *key, char *out, size_t n,
                    axm_err *err)
{
    if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= n)
        return axm_j_expected(err, name, key, it, "a non-empty string");
    snprintf(out, n, "%s", it->valuestring);
    return AXM_OK;
}

/* A list of names: a JSON array of strings, a single string, or null (empty). */
static int want_names(const cJSON *it, const char *name, const char *key,
                      char out[][32], int *n_out, axm_err *err)
{
    *n_out = 0;
    if (cJSON_IsNull(it)) return AXM_OK;
    if (cJSON_IsString(it)) {
        if (strlen(it->valuestring) >= 32)
            return axm_fail(err, AXM_ERR_INPUT, "%s: %s: name too long", name, key);
        snprintf(out[0], 32, "%s", it->valuestring);
        *n_out = 1;
        return AXM_OK;
    }
    if (!cJSON_IsArray(it))
        return axm_j_expected(err, name, key, it, "a list of names");
    const cJSON *e;
    cJSON_ArrayForEach(e, it)
    {
        if (!cJSON_IsString(e) || strlen(e->valuestring) >= 32 || *n_out >= AXM_TRAIN_MAX_SEL)
            return axm_j_expected(err, name, key, e, "a list of at most %d names", AXM_TRAIN_MAX_SEL);
        snprintf(out[(*n_out)++], 32, "%s", e->valuestring);
    }
    return AXM_OK;
}

static int state_index(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, STATE_NAMES[i])) return i;
    return -1;
}

int axm_train_config_parse(axm_train_config *c, const char *text, const char *name, axm_err *err)
{
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return axm_fail(err, AXM_ERR_INPUT, "%s: invalid JSON near '%.20s'", name, at ? at : "");
    }
    int rc = AXM_OK;
    if (!cJSON_IsObject(root)) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON object", name);
        goto out;
    }
    if ((rc = axm_j_unique_keys(err, name, "", root))) goto out;
    char tmp[1024];
    const char *dev_key = NULL; /* "device" or "cuda", once one is read */
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        if (!strcmp(k, "model")) {
            rc = want_str(it, name, k, tmp, sizeof tmp, err);
            if (!rc) {
                if (!strcasecmp(tmp, "smf"))
                    snprintf(c->model, sizeof c->model, "smf");
                else
                    resolve_path(c->path, tmp, c->model, sizeof c->model);
            }
        } else if (!strcmp(k, "cuda") || !strcmp(k, "device")) {
            /* the "device" and the original's "cuda" say the same: both only if they agree */
            axm_device d = AXM_DEV_CPU;
            int on = 0;
            if (!strcmp(k, "device")) {
                if (!cJSON_IsString(it) || axm_device_parse(it->valuestring, &d))
                    rc = axm_j_expected(err, name, k, it, "\"auto\", \"cpu\" or \"cuda\"");
            } else if (!(rc = want_bool(it, name, k, &on, err))) {
                d = on ? AXM_DEV_CUDA : AXM_DEV_CPU;
            }
            if (!rc && dev_key && d != c->device)
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: %s: says \"%s\" where %s said \"%s\" (give one of them)", name,
                              k, axm_device_name(d), dev_key, axm_device_name(c->device));
            if (!rc) {
                c->device = d;
                dev_key = k;
            }
        } else if (!strcmp(k, "fp32")) {
            rc = want_bool(it, name, k, &c->fp32, err);
        } else if (!strcmp(k, "nodes")) {
            rc = want_int(it, name, k, 2, &c->nodes, err);
        } else if (!strcmp(k, "dt")) {
            rc = want_pos(it, name, k, &c->dt, err);
        } else if (!strcmp(k, "train_dset")) {
            rc = want_str(it, name, k, tmp, sizeof tmp, err);
            if (!rc) resolve_path(c->path, tmp, c->train_dset, sizeof c->train_dset);
        } else if (!strcmp(k, "valid_dset")) {
            /* null and "" both switch validation off (the TUI's config view writes either) */
            if (cJSON_IsNull(it) || (cJSON_IsString(it) && !it->valuestring[0])) {
                c->valid_dset[0] = 0;
            } else if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof tmp) {
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected a file name, \"\" or null (no validation)",
                              name, k);
            } else {
                resolve_path(c->path, it->valuestring, c->valid_dset, sizeof c->valid_dset);
            }
        } else if (!strcmp(k, "states")) {
            char names[AXM_TRAIN_MAX_SEL][32];
            int n;
            rc = want_names(it, name, k, names, &n, err);
            if (!rc && n == 0) rc = axm_fail(err, AXM_ERR_INPUT, "%s: states: expected at least one of m, h, p, s, v", name);
            for (int s = 0; s < 5 && !rc; s++) c->state_on[s] = 0;
            for (int i = 0; i < n && !rc; i++) {
                int s = state_index(names[i]);
                if (s < 0)
                    rc = axm_fail(err, AXM_ERR_INPUT, "%s: states: '%s': expected m, h, p, s or v",
                                  name, names[i]);
                else
                    c->state_on[s] = 1;
            }
        } else if (!strcmp(k, "state_weights")) {
            if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 5) {
                for (int s = 0; s < 5 && !rc; s++) {
                    const cJSON *e = cJSON_GetArrayItem(it, s);
                    if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0))
                        rc = axm_fail(err, AXM_ERR_INPUT, "%s: state_weights[%d]: expected a number >= 0", name, s);
                    else
                        c->state_weights[s] = e->valuedouble;
                }
            } else if (cJSON_IsObject(it)) {
                const cJSON *e;
                cJSON_ArrayForEach(e, it)
                {
                    int s = state_index(e->string);
                    if (s < 0 || !cJSON_IsNumber(e) || !(e->valuedouble >= 0)) {
                        rc = axm_fail(err, AXM_ERR_INPUT,
                                      "%s: state_weights.%s: expected one of m, h, p, s, v with a number >= 0",
                                      name, e->string);
                        break;
                    }
                    c->state_weights[s] = e->valuedouble;
                }
            } else {
                rc = axm_fail(err, AXM_ERR_INPUT,
                              "%s: state_weights: expected {\"v\": 1e-4, ...} or a list of 5 numbers (m, h, p, s, v)",
                              name);
            }
        } else if (!strcmp(k, "epochs")) {
            rc = want_int(it, name, k, 0, &c->epochs, err);
        } else if (!strcmp(k, "truncation_length")) {
            rc = want_int(it, name, k, 1, &c->truncation_length, err);
        } else if (!strcmp(k, "lr")) {
            rc = want_pos(it, name, k, &c->lr, err);
        } else if (!strcmp(k, "grad_accumulation")) {
            rc = want_bool(it, name, k, &c->grad_accumulation, err);
        } else if (!strcmp(k, "train_n_idx")) {
            rc = want_int(it, name, k, 1, &c->train_n_idx, err);
        } else if (!strcmp(k, "val_n_idx")) {
            rc = want_int(it, name, k, 1, &c->val_n_idx, err);
        } else if (!strcmp(k, "train_chunk_size")) {
            rc = want_int(it, name, k, 1, &c->train_chunk_size, err);
        } else if (!strcmp(k, "val_chunk_size")) {
            rc = want_int(it, name, k, 1, &c->val_chunk_size, err);
        } else if (!strcmp(k, "sampling")) {
            if (cJSON_IsNull(it))
                c->sampling = 1;
            else
                rc = want_int(it, name, k, 1, &c->sampling, err);
        } else if (!strcmp(k, "postfix")) {
            rc = want_names(it, name, k, c->postfix, &c->n_postfix, err);
        } else if (!strcmp(k, "save_every")) {
            rc = want_int(it, name, k, 1, &c->save_every, err);
        } else if (!strcmp(k, "save_dir")) {
            rc = want_str(it, name, k, c->save_dir, sizeof c->save_dir, err);
        } else if (!strcmp(k, "to_train")) {
            rc = want_names(it, name, k, c->to_train, &c->n_to_train, err);
        } else if (!strcmp(k, "seed")) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble != floor(it->valuedouble))
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: seed: expected an integer >= 0", name);
            else
                c->seed = (unsigned long long)it->valuedouble;
        } else if (!strcmp(k, "threads")) {
            rc = want_int(it, name, k, 1, &c->threads, err);
        } else if (!strcmp(k, "handle_nan")) {
            rc = want_bool(it, name, k, &c->handle_nan, err);
        } else if (!strcmp(k, "adam_betas")) {
            const cJSON *a = cJSON_GetArrayItem(it, 0), *b = cJSON_GetArrayItem(it, 1);
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2 || !cJSON_IsNumber(a) ||
                !cJSON_IsNumber(b) || !(a->valuedouble >= 0 && a->valuedouble < 1) ||
                !(b->valuedouble >= 0 && b->valuedouble < 1))
                rc = axm_fail(err, AXM_ERR_INPUT, "%s: adam_betas: expected [b1, b2] in [0, 1)", name);
            else {
                c->beta1 = a->valuedouble;
                c->beta2 = b->valuedouble;
            }
        } else if (!strcmp(k, "adam_eps")) {
            rc = want_pos(it, name, k, &c->eps, err);
        } else if (!strcmp(k, "comment") || !strcmp(k, "_comment")) {
            /* free text */
        } else {
            rc = axm_fail(err, AXM_ERR_INPUT,
                          "%s: %s: unknown key (expected model, device, cuda, fp32, nodes, dt, train_dset, "
                          "valid_dset, states, state_weights, epochs, truncation_length, lr, "
                          "grad_accumulation, train_n_idx, val_n_idx, train_chunk_size, "
                          "val_chunk_size, sampling, postfix, save_every, save_dir, to_train, seed, "
                          "threads, handle_nan, adam_betas, adam_eps)",
                          name, k);
        }
        if (rc) goto out;
    }
    if (!c->train_dset[0]) rc = axm_fail(err, AXM_ERR_INPUT, "%s: train_dset: missing (the training HDF5 file)", name);
out:
    cJSON_Delete(root);
    return rc;
}

int axm_train_config_load(axm_train_config *c, const char *path, axm_err *err)
{
    axm_train_config_defaults(c);
    snprintf(c->path, sizeof c->path, "%s", path);
    char *s = axm_read_text_file(path, "training config", NULL, err);
    if (!s) return AXM_ERR_INPUT;
    int rc = axm_train_config_parse(c, s, path, err);
    free(s);
    return rc;
}
