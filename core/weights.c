/* Model weights files (JSON, format in model.h). */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "jsonget.h"
#include "model.h"

static int read_taps(const char *path, const cJSON *arr, const char *key, int taps, double *out,
                     axm_err *err)
{
    char p[64];
    snprintf(p, sizeof p, "stencil.%s", key);
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != taps)
        return axm_j_expected(err, path, p, arr, "an array of %d numbers (stencil.taps)%s", taps,
                              cJSON_IsArray(arr) ? " of another length" : "");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            snprintf(p, sizeof p, "stencil.%s[%d]", key, i);
            return axm_j_expected(err, path, p, e, "a finite number");
        }
        out[i++] = e->valuedouble;
    }
    return AXM_OK;
}

int axm_model_load_weights(axm_model *m, const char *path, axm_err *err)
{
    if (!m || !path) return axm_fail(err, AXM_ERR_INPUT, "weights: no model or path");
    char *text = axm_read_text_file(path, "weights file", NULL, err);
    if (!text) return err ? err->code : AXM_ERR_INPUT;
    cJSON *root = cJSON_Parse(text);
    free(text);
    int rc = AXM_OK;
    axm_model tmp = *m; /* applied only when the whole file is valid */
    double *p = NULL;
    if (!root || !cJSON_IsObject(root)) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: not a JSON object (weights file expected)", path);
        goto out;
    }
    /* cJSON keeps a key given twice, and the loops below would let the later one win silently */
    if ((rc = axm_j_unique_keys(err, path, "", root))) goto out;
    p = malloc((size_t)m->kind->n_params * sizeof *p + 1);
    if (!p) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(p, m->p, (size_t)m->kind->n_params * sizeof *p);
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        if (strcmp(k, "format") == 0) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, "axonml-weights") != 0) {
                rc = axm_j_expected(err, path, k, it, "\"axonml-weights\"");
                goto out;
            }
        } else if (strcmp(k, "version") == 0) {
            if (!cJSON_IsNumber(it) || it->valuedouble != 1) {
                rc = axm_j_expected(err, path, k, it, "1");
                goto out;
            }
        } else if (strcmp(k, "model") == 0) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, m->kind->name) != 0) {
                rc = axm_j_expected(err, path, k, it, "\"%s\"", m->kind->name);
                goto out;
            }
        } else if (strcmp(k, "trained") == 0) {
            if (!cJSON_IsBool(it)) {
                rc = axm_j_expected(err, path, k, it, "true or false");
                goto out;
            }
            tmp.trained = cJSON_IsTrue(it);
        } else if (strcmp(k, "params") == 0) {
            if (!cJSON_IsObject(it)) {
                rc = axm_j_expected(err, path, k, it, "an object of name: number");
                goto out;
            }
            if ((rc = axm_j_unique_keys(err, path, k, it))) goto out;
            const cJSON *e;
            cJSON_ArrayForEach(e, it)
            {
                int i = axm_model_param_index(m, e->string);
                if (i < 0) {
                    rc = axm_fail(err, AXM_ERR_INPUT, "%s: params.%s: unknown parameter of model %s", path,
                                  e->string, m->kind->name);
                    goto out;
                }
                if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
                    char pp[128];
                    axm_j_path(pp, sizeof pp, "params", e->string);
                    rc = axm_j_expected(err, path, pp, e, "a finite number");
                    goto out;
                }
                p[i] = e->valuedouble;
            }
        } else if (strcmp(k, "stencil") == 0) {
            if (!cJSON_IsObject(it)) {
                rc = axm_j_expected(err, path, k, it, "an object {taps, vm, ve}");
                goto out;
            }
            if ((rc = axm_j_unique_keys(err, path, k, it))) goto out;
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "taps");
            if (!cJSON_IsNumber(t) || t->valuedouble != (int)t->valuedouble || (int)t->valuedouble < 1 ||
                (int)t->valuedouble % 2 == 0 || (int)t->valuedouble > AXM_MAX_TAPS) {
                rc = axm_j_expected(err, path, "stencil.taps", t, "an odd integer 1..%d", AXM_MAX_TAPS);
                goto out;
            }
            const cJSON *e;
            cJSON_ArrayForEach(e, it)
            {
                if (strcmp(e->string, "taps") && strcmp(e->string, "vm") && strcmp(e->string, "ve")) {
                    rc = axm_fail(err, AXM_ERR_INPUT, "%s: stencil.%s: unknown key (expected taps, vm, ve)", path,
                                  e->string);
                    goto out;
                }
            }
            tmp.taps = (int)t->valuedouble;
            memset(tmp.stencil, 0, sizeof tmp.stencil);
            rc = read_taps(path, cJSON_GetObjectItemCaseSensitive(it, "vm"), "vm", tmp.taps, tmp.stencil[0], err);
            if (rc == AXM_OK)
                rc = read_taps(path, cJSON_GetObjectItemCaseSensitive(it, "ve"), "ve", tmp.taps, tmp.stencil[1], err);
            if (rc != AXM_OK) goto out;
        } else if (strcmp(k, "provenance") == 0) {
            if (!cJSON_IsObject(it)) {
                rc = axm_j_expected(err, path, k, it, "an object");
                goto out;
            }
        } else {
            rc = axm_fail(err, AXM_ERR_INPUT,
                          "%s: %s: unknown key (expected format, version, model, trained, params, stencil, provenance)",
                          path, k);
            goto out;
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(root, "model")) {
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: model: missing (expected \"%s\")", path, m->kind->name);
        goto out;
    }
    memcpy(m->p, p, (size_t)m->kind->n_params * sizeof *p);
    m->taps = tmp.taps;
    memcpy(m->stencil, tmp.stencil, sizeof m->stencil);
    m->trained = tmp.trained;
    snprintf(m->weights_path, sizeof m->weights_path, "%s", path);
out:
    free(p);
    cJSON_Delete(root);
    return rc;
}

int axm_model_save_weights(const axm_model *m, const char *path, const char *provenance_json,
                           axm_err *err)
{
    if (!m || !path) return axm_fail(err, AXM_ERR_INPUT, "weights: no model or path");
    cJSON *prov = NULL;
    if (provenance_json) {
        prov = cJSON_Parse(provenance_json);
        if (!prov || !cJSON_IsObject(prov)) {
            cJSON_Delete(prov);
            return axm_fail(err, AXM_ERR_INPUT, "%s: provenance: expected a JSON object", path);
        }
    } else {
        prov = cJSON_CreateObject();
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *params = cJSON_CreateObject();
    cJSON *st = cJSON_CreateObject();
    int rc = AXM_OK;
    if (!root || !params || !st || !prov) {
        cJSON_Delete(root);
        cJSON_Delete(params);
        cJSON_Delete(st);
        cJSON_Delete(prov);
        return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
    }
    cJSON_AddStringToObject(root, "format", "axonml-weights");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "model", m->kind->name);
    cJSON_AddBoolToObject(root, "trained", m->trained != 0);
    for (int i = 0; i < m->kind->n_params; i++) cJSON_AddNumberToObject(params, m->kind->params[i].name, m->p[i]);
    cJSON_AddItemToObject(root, "params", params);
    cJSON_AddNumberToObject(st, "taps", m->taps);
    cJSON_AddItemToObject(st, "vm", cJSON_CreateDoubleArray(m->stencil[0], m->taps));
    cJSON_AddItemToObject(st, "ve", cJSON_CreateDoubleArray(m->stencil[1], m->taps));
    cJSON_AddItemToObject(root, "stencil", st);
    cJSON_AddItemToObject(root, "provenance", prov);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
    rc = axm_write_text_file_atomic(path, text, "weights file", err);
    free(text);
    return rc;
}
