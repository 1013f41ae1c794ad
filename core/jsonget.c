/* JSON settings with path-naming errors (jsonget.h). */
#include "jsonget.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

static const char *jkind(const cJSON *j)
{
    if (!j) return "nothing";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNull(j)) return "null";
    return "an invalid value";
}

/* A short rendering of a value for messages: the value itself for scalars, its kind otherwise. */
static void jshow(const cJSON *j, char *buf, size_t n)
{
    if (!j) snprintf(buf, n, "nothing");
    else if (cJSON_IsNumber(j)) snprintf(buf, n, "%g", j->valuedouble);
    else if (cJSON_IsString(j)) snprintf(buf, n, "\"%.60s\"", j->valuestring);
    else if (cJSON_IsBool(j)) snprintf(buf, n, "%s", cJSON_IsTrue(j) ? "true" : "false");
    else snprintf(buf, n, "%s", jkind(j));
}

int axm_j_bad(axm_jctx *c, const char *path, const char *expected, const cJSON *got)
{
    return axm_j_expected(c->err, c->file, path, got, "%s", expected);
}

int axm_j_expected(axm_err *err, const char *file, const char *path, const cJSON *got, const char *fmt, ...)
{
    char e[512], g[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e, sizeof e, fmt, ap);
    va_end(ap);
    jshow(got, g, sizeof g);
    return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected %s, got %s", file, path, e, g);
}

void axm_j_path(char *out, size_t n, const char *path, const char *key)
{
    if (path && path[0]) snprintf(out, n, "%s.%s", path, key);
    else snprintf(out, n, "%s", key);
}

/* Rejects unknown and duplicate keys. */
int axm_j_keys(axm_jctx *c, const cJSON *obj, const char *path, const char *const *allowed)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(it->string, allowed[i])) ok = 1;
        char p[256];
        axm_j_path(p, sizeof p, path, it->string);
        if (!ok) {
            char list[400] = "";
            for (int i = 0; allowed[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", allowed[i]);
            }
            return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: expected one of the keys %s, got unknown key \"%s\"",
                            c->file, p, list, it->string);
        }
    }
    return axm_j_unique_keys(c->err, c->file, path, obj);
}

int axm_j_unique_keys(axm_err *err, const char *file, const char *path, const cJSON *obj)
{
    for (const cJSON *it = obj->child; it; it = it->next)
        for (const cJSON *o = obj->child; o != it; o = o->next)
            if (!strcmp(o->string, it->string)) {
                char p[256];
                axm_j_path(p, sizeof p, path, it->string);
                return axm_fail(err, AXM_ERR_INPUT, "%s: %s: expected each key once, got it twice", file, p);
            }
    return AXM_OK;
}

int axm_j_in_range(double v, int r)
{
    if (!isfinite(v)) return 0;
    switch (r) {
    case AXM_J_POS: return v > 0;
    case AXM_J_NONNEG: return v >= 0;
    case AXM_J_UNIT_OPEN: return v > 0 && v < 1;
    default: return 1;
    }
}

static const char *range_text(int r)
{
    switch (r) {
    case AXM_J_POS: return "a number > 0";
    case AXM_J_NONNEG: return "a number >= 0";
    case AXM_J_UNIT_OPEN: return "a number in (0, 1)";
    default: return "a finite number";
    }
}

/* Optional number; *out keeps its default when the key is absent. */
int axm_j_num(axm_jctx *c, const cJSON *obj, const char *key, const char *path, int r, double *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    axm_j_path(p, sizeof p, path, key);
    if (!j) return AXM_OK;
    if (!cJSON_IsNumber(j) || !axm_j_in_range(j->valuedouble, r)) return axm_j_bad(c, p, range_text(r), j);
    *out = j->valuedouble;
    return AXM_OK;
}

int axm_j_int(axm_jctx *c, const cJSON *obj, const char *key, const char *path, long lo, long hi, int *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], e[96];
    axm_j_path(p, sizeof p, path, key);
    if (!j) return AXM_OK;
    double v = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(v >= (double)lo && v <= (double)hi && v == floor(v))) {
        if (hi >= 1000000000L) snprintf(e, sizeof e, "an integer >= %ld", lo);
        else snprintf(e, sizeof e, "an integer in [%ld, %ld]", lo, hi);
        return axm_j_bad(c, p, e, j);
    }
    *out = (int)v;
    return AXM_OK;
}

/* Number or non-empty array of numbers -> fresh array. Absent: one default value. */
int axm_j_num_list(axm_jctx *c, const cJSON *obj, const char *key, const char *path, int r, int allow_list,
                        double def, int *n, double **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256], e[96];
    axm_j_path(p, sizeof p, path, key);
    *n = 0;
    *out = NULL;
    if (!j || cJSON_IsNumber(j)) {
        double v = j ? j->valuedouble : def;
        if (j && !axm_j_in_range(v, r)) return axm_j_bad(c, p, range_text(r), j);
        *out = malloc(sizeof(double));
        if (!*out) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
        (*out)[0] = v;
        *n = 1;
        return AXM_OK;
    }
    if (!allow_list || !cJSON_IsArray(j)) {
        snprintf(e, sizeof e, "%s%s", range_text(r), allow_list ? " or a list of them" : "");
        if (cJSON_IsArray(j))
            snprintf(e, sizeof e, "%s (only the main electrode and waveform take lists)", range_text(r));
        return axm_j_bad(c, p, e, j);
    }
    int m = cJSON_GetArraySize(j);
    if (m < 1) return axm_j_bad(c, p, "a non-empty list", j);
    *out = malloc((size_t)m * sizeof(double));
    if (!*out) return axm_fail(c->err, AXM_ERR_NOMEM, "out of memory");
    int i = 0;
    for (const cJSON *it = j->child; it; it = it->next, i++) {
        char pi[300];
        snprintf(pi, sizeof pi, "%s[%d]", p, i);
        if (!cJSON_IsNumber(it) || !axm_j_in_range(it->valuedouble, r)) return axm_j_bad(c, pi, range_text(r), it);
        (*out)[i] = it->valuedouble;
    }
    *n = m;
    return AXM_OK;
}

/* Optional string from a fixed set; *out = index. */
int axm_j_enum(axm_jctx *c, const cJSON *obj, const char *key, const char *path, const char *const *names,
                    int *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    axm_j_path(p, sizeof p, path, key);
    if (!j) return AXM_OK;
    if (cJSON_IsString(j))
        for (int i = 0; names[i]; i++)
            if (!strcmp(j->valuestring, names[i])) {
                *out = i;
                return AXM_OK;
            }
    char e[300] = "one of ";
    for (int i = 0; names[i]; i++) {
        size_t l = strlen(e);
        snprintf(e + l, sizeof e - l, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return axm_j_bad(c, p, e, j);
}

int axm_j_obj(axm_jctx *c, const cJSON *parent, const char *key, const char *path, const cJSON **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!j) return AXM_OK;
    char p[256];
    axm_j_path(p, sizeof p, path, key);
    if (!cJSON_IsObject(j)) return axm_j_bad(c, p, "an object", j);
    *out = j;
    return AXM_OK;
}

/* Finds a readable file by axm_find_file's rule (as given, next to the scenario, its parent, the
 * axonml tree). */
int axm_j_file(axm_jctx *c, const cJSON *obj, const char *key, const char *path, char *out, size_t n)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[256];
    axm_j_path(p, sizeof p, path, key);
    if (!j || !cJSON_IsString(j) || !j->valuestring[0]) return axm_j_bad(c, p, "a file name", j);
    const char *name = j->valuestring;
    if (axm_find_file(name, c->dir, out, n)) return AXM_OK;
    int e = errno;
    char places[1200];
    axm_find_file_places(name[0] == '/' ? NULL : c->dir, places, sizeof places);
    return axm_fail(c->err, AXM_ERR_INPUT, "%s: %s: expected a readable file, got \"%.200s\" (%s; looked in %s)",
                    c->file, p, name, strerror(e), name[0] == '/' ? "that path only" : places);
}
