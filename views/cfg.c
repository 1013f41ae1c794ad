#include "cfg.h"
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#define NONE NAN
#define TRAIN_DEFAULT_TO_TRAIN "conductances, membrane, axon_d, node_d, aq10_1, pq10_1, aq10_2, aq10_3, ssd"

static const axm_cfg_key keys[] = {
    /* training (smf-model.md §9.4) */
    {"train.model", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "smf", "smf (defaults) or a weights file to start from"},
    {"train.device", AXM_CF_ENUM, NONE, NONE, 0, 0, "auto|cpu|cuda", "cpu", "where training runs (cuda, auto: the GPU if usable)"},
    {"train.fp32", AXM_CF_BOOL, NONE, NONE, 0, 0, NULL, "false", "single precision (default float64)"},
    {"train.nodes", AXM_CF_INT, 3, NONE, 0, 0, NULL, "53", "nodes per fiber in the dataset"},
    {"train.dt", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "0.005", "time step (ms)"},
    {"train.train_dset", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "../shared/reference/datasets/train_small.h5", "training set (HDF5)"},
    {"train.valid_dset", AXM_CF_OPTSTR, NONE, NONE, 0, 0, NULL, "../shared/reference/datasets/valid_small.h5", "validation set (HDF5; empty: off)"},
    {"train.states", AXM_CF_WORDS, NONE, NONE, 0, 0, "m|h|p|s|v", "m, h, p, s, v", "states in the loss"},
    {"train.epochs", AXM_CF_INT, 1, NONE, 0, 0, NULL, "5", "passes over the training set"},
    {"train.truncation_length", AXM_CF_INT, 1, NONE, 0, 0, NULL, "50", "TBPTT chunk length (steps)"},
    {"train.lr", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "3e-05", "Adam learning rate"},
    {"train.grad_accumulation", AXM_CF_BOOL, NONE, NONE, 0, 0, NULL, "false", "one optimizer step per minibatch"},
    {"train.train_n_idx", AXM_CF_INT, 1, NONE, 0, 0, NULL, "64", "runs drawn per epoch"},
    {"train.val_n_idx", AXM_CF_INT, 1, NONE, 0, 0, NULL, "8", "runs used for validation"},
    {"train.train_chunk_size", AXM_CF_INT, 1, NONE, 0, 0, NULL, "1", "parameter rows per training minibatch"},
    {"train.val_chunk_size", AXM_CF_INT, 1, NONE, 0, 0, NULL, "1", "parameter rows per validation minibatch"},
    {"train.sampling", AXM_CF_OPTINT, 1, NONE, 0, 0, NULL, "none", "state subsampling factor (none: off)"},
    {"train.postfix", AXM_CF_WORDS, NONE, NONE, 0, 0, NULL, "cm", "parameters shown during training"},
    {"train.save_every", AXM_CF_INT, 1, NONE, 0, 0, NULL, "1", "checkpoint every N minibatches"},
    {"train.save_dir", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "checkpoints", "checkpoint folder"},
    {"train.to_train", AXM_CF_WORDS, NONE, NONE, 0, 0, NULL, TRAIN_DEFAULT_TO_TRAIN, "parameter groups or names to fit"},
    {"train.seed", AXM_CF_INT, 0, NONE, 0, 0, NULL, "", "run-order shuffling seed"},
    {"train.threads", AXM_CF_INT, 1, NONE, 0, 0, NULL, "", "fiber-parallel threads"},
    {"train.handle_nan", AXM_CF_BOOL, NONE, NONE, 0, 0, NULL, "", "S-MF NaN handling in the forward pass"},
    /* scenario (scenario.h) */
    {"description", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "", "free text"},
    {"model.name", AXM_CF_ENUM, NONE, NONE, 0, 0, "smf|sundt|mrg", "smf", "fiber model"},
    {"model.weights", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "", "weights file (empty: untrained defaults)"},
    {"model.precision", AXM_CF_ENUM, NONE, NONE, 0, 0, "fp32|fp64", "fp32", "arithmetic precision"},
    {"model.geometry", AXM_CF_ENUM, NONE, NONE, 0, 0, "method1|method2|method3|classic|piecewise", "method1", "MRG geometry"},
    {"model.passive_end_nodes", AXM_CF_INT, 0, NONE, 0, 0, NULL, "0", "MRG passive end nodes"},
    {"fiber.nodes", AXM_CF_INT, 3, NONE, 0, 0, NULL, "", "nodes of Ranvier per fiber"},
    {"fiber.diameter_um", AXM_CF_NUMS, 0, NONE, 1, 0, NULL, "", "fiber diameter(s), um (list = sweep)"},
    {"electrode.kind", AXM_CF_ENUM, NONE, NONE, 0, 0, "point|point_aniso|line|table", "point", "source kind"},
    {"electrode.rho_ohm_cm", AXM_CF_NUMS, 0, NONE, 1, 0, NULL, "1000", "medium resistivity (aniso: x, y, z)"},
    {"electrode.distance_mm", AXM_CF_NUMS, 0, NONE, 1, 0, NULL, "1", "distance from the fiber axis, mm (list = sweep)"},
    {"electrode.offset_mm", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "0", "shift along the fiber, mm"},
    {"electrode.medium", AXM_CF_ENUM, NONE, NONE, 0, 0, "infinite|semi_infinite", "infinite", "medium"},
    {"electrode.weight", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "1", "contact scale"},
    {"electrode.file", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "", "table: field file (CSV or HDF5)"},
    {"electrode.row", AXM_CF_INT, 0, NONE, 0, 0, NULL, "0", "table: row (fiber) of the field"},
    {"electrode.units", AXM_CF_ENUM, NONE, NONE, 0, 0, "mV/mA|V/mA", "mV/mA", "table: units of the values"},
    {"electrode.interpolation", AXM_CF_ENUM, NONE, NONE, 0, 0, "linear|quadratic", "linear", "table: interpolation"},
    {"electrode.fill", AXM_CF_ENUM, NONE, NONE, 0, 0, "point_source|extrapolate", "point_source", "table: outside the samples"},
    {"electrode.truncate", AXM_CF_NUM, 0, 0.4, 0, 0, NULL, "0", "table: fraction dropped at each end"},
    {"electrode.center_um", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "", "table: coordinate of the fiber centre, um"},
    {"waveform.kind", AXM_CF_ENUM, NONE, NONE, 0, 0, "mono|biphasic|sine|train|samples", "mono", "waveform"},
    {"waveform.amplitude_mA", AXM_CF_NUM, 0, NONE, 0, 0, NULL, "0.1", "amplitude, mA"},
    {"waveform.pw_ms", AXM_CF_NUMS, 0, NONE, 1, 0, NULL, "0.1", "pulse width, ms (list = sweep)"},
    {"waveform.polarity", AXM_CF_WORDS, NONE, NONE, 0, 0, "cathodic|anodic", "cathodic", "first-phase sign (list = sweep)"},
    {"waveform.delay_ms", AXM_CF_NUM, 0, NONE, 0, 0, NULL, "0.5", "delay, ms"},
    {"waveform.gap_ms", AXM_CF_NUM, 0, NONE, 0, 0, NULL, "0", "interphase gap, ms"},
    {"waveform.pw2_ms", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "", "second phase width, ms (empty: = pw)"},
    {"waveform.freq_khz", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "", "frequency, kHz (sine, train)"},
    {"waveform.phase_rad", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "0", "phase, rad (sine)"},
    {"waveform.offset_mA", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "0", "offset, mA (sine)"},
    {"waveform.dur_ms", AXM_CF_NUM, 0, NONE, 0, 0, NULL, "0", "duration, ms (0: to the end)"},
    {"waveform.biphasic", AXM_CF_BOOL, NONE, NONE, 0, 0, NULL, "false", "train of biphasic pulses"},
    {"waveform.file", AXM_CF_STR, NONE, NONE, 0, 0, NULL, "", "samples CSV (t_ms, value)"},
    {"sim.dt_ms", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "0.005", "time step, ms"},
    {"sim.tstop_ms", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "5", "duration, ms"},
    {"sim.device", AXM_CF_ENUM, NONE, NONE, 0, 0, "auto|cpu|cuda", "cpu", "where axonml simulate and threshold run (the TUI: CPU)"},
    {"detect.threshold_mV", AXM_CF_NUM, NONE, NONE, 0, 0, NULL, "0", "spike threshold, mV"},
    {"detect.nodes", AXM_CF_INTS, NONE, NONE, 0, 0, NULL, "5, -5", "checked nodes (negative: from the end)"},
    {"detect.t_start_ms", AXM_CF_NUM, 0, NONE, 0, 0, NULL, "0", "ignore spikes before, ms"},
    {"detect.at_least", AXM_CF_INT, 1, NONE, 0, 0, NULL, "1", "checked nodes that must fire"},
    {"threshold.resolution", AXM_CF_NUM, 0, 1, 1, 1, NULL, "0.01", "relative bisection resolution"},
    {"threshold.ub_mA", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "", "initial upper bound, mA (empty: 0.2/(D/5)^2)"},
    {"threshold.fix_bound_up", AXM_CF_NUM, 1, NONE, 1, 0, NULL, "5", "bound growth factor"},
    {"threshold.fix_bound_down", AXM_CF_NUM, 0, 1, 1, 1, NULL, "0.1", "bound shrink factor"},
    {"threshold.max_tries_bound_fix", AXM_CF_INT, 1, NONE, 0, 0, NULL, "10", "bound fixing tries"},
    {"threshold.max_tries", AXM_CF_INT, 1, NONE, 0, 0, NULL, "50", "bisection iterations"},
    {"threshold.max_amp_mA", AXM_CF_NUM, 0, NONE, 1, 0, NULL, "1000", "give up above, mA"},
    {"seed", AXM_CF_INT, 0, NONE, 0, 0, NULL, "", "random seed"},
};

const axm_cfg_key *axm_cfg_keys(int *n)
{
    *n = (int)(sizeof keys / sizeof keys[0]);
    return keys;
}

const axm_cfg_key *axm_cfg_key_find(const char *path)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].path, path)) return &keys[i];
    return NULL;
}

int axm_cfg_key_is_train(const axm_cfg_key *k) { return !strncmp(k->path, "train.", 6); }
int axm_cfg_key_part(const axm_cfg_key *k) { return axm_cfg_key_is_train(k) ? AXM_CFG_TRAIN : AXM_CFG_SCENARIO; }

/* One JSON object: the scenario's keys, with the training config as its "train" member. */
struct axm_cfg {
    cJSON *doc, *saved;
    char path[2][512];
};

axm_cfg *axm_cfg_create(void)
{
    axm_cfg *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->doc = cJSON_CreateObject();
    c->saved = cJSON_CreateObject();
    if (!c->doc || !c->saved) {
        axm_cfg_destroy(c);
        return NULL;
    }
    return c;
}

void axm_cfg_destroy(axm_cfg *c)
{
    if (!c) return;
    cJSON_Delete(c->doc);
    cJSON_Delete(c->saved);
    free(c);
}


/* A training config has flat keys of train.h; a scenario has objects. */
static int is_train_config(const cJSON *d)
{
    static const char *const tk[] = {"train_dset", "valid_dset", "epochs", "lr", "truncation_length",
                                     "to_train", "train_n_idx", "save_dir", "grad_accumulation"};
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "train"))) return 0;
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "model"))) return 1;
    for (size_t i = 0; i < sizeof tk / sizeof tk[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(d, tk[i])) return 1;
    return 0;
}

/* The original's "cuda": true/false as the "device" it stands for (the key the TUI edits), so
 * that a config never holds both and an edit cannot leave them disagreeing. */
static void cuda_as_device(cJSON *t)
{
    cJSON *cu = cJSON_GetObjectItemCaseSensitive(t, "cuda");
    if (!cJSON_IsBool(cu)) return;
    if (!cJSON_GetObjectItemCaseSensitive(t, "device"))
        cJSON_AddItemToObject(t, "device", cJSON_CreateString(cJSON_IsTrue(cu) ? "cuda" : "cpu"));
    cJSON_DeleteItemFromObjectCaseSensitive(t, "cuda");
}

/* Puts part of src (a parsed file) into dst (a doc). */
static int merge_part(cJSON *dst, const cJSON *src, int train)
{
    cJSON *copy = cJSON_Duplicate(src, 1);
    if (!copy) return 0;
    cuda_as_device(train ? copy : cJSON_GetObjectItemCaseSensitive(copy, "train"));
    if (train) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, "train");
        cJSON_AddItemToObject(dst, "train", copy);
        return 1;
    }
    /* scenario: replace every key but "train", unless the file embeds one */
    cJSON *keep = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(copy, "train"))
                      ? NULL
                      : cJSON_DetachItemFromObjectCaseSensitive(dst, "train");
    while (dst->child) cJSON_Delete(cJSON_DetachItemViaPointer(dst, dst->child));
    while (copy->child) {
        cJSON *it = cJSON_DetachItemViaPointer(copy, copy->child);
        cJSON_AddItemToObject(dst, it->string, it);
    }
    cJSON_Delete(copy);
    if (keep) cJSON_AddItemToObject(dst, "train", keep);
    return 1;
}

int axm_cfg_load_text(axm_cfg *c, const char *text, const char *name, int *part, axm_err *err)
{
    const char *end = NULL;
    cJSON *d = cJSON_ParseWithOpts(text, &end, 0);
    if (!d) {
        int line = 1, col = 1;
        for (const char *p = text; end && p < end; p++) {
            if (*p == '\n') { line++; col = 1; } else col++;
        }
        return axm_fail(err, AXM_ERR_INPUT, "%s: malformed JSON at line %d, column %d", name, line, col);
    }
    if (!cJSON_IsObject(d)) {
        cJSON_Delete(d);
        return axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON object", name);
    }
    int train = is_train_config(d);
    cJSON *nd = cJSON_Duplicate(c->doc, 1), *ns = cJSON_Duplicate(c->saved, 1);
    if (!nd || !ns || !merge_part(nd, d, train) || !merge_part(ns, d, train)) {
        cJSON_Delete(d);
        cJSON_Delete(nd);
        cJSON_Delete(ns);
        return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", name);
    }
    int embedded = !train && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "train"));
    cJSON_Delete(d);
    cJSON_Delete(c->doc);
    cJSON_Delete(c->saved);
    c->doc = nd;
    c->saved = ns;
    if (part) *part = train ? AXM_CFG_TRAIN : AXM_CFG_SCENARIO;
    if (embedded) c->path[AXM_CFG_TRAIN][0] = 0; /* its training part has no file of its own */
    return AXM_OK;
}

int axm_cfg_load(axm_cfg *c, const char *path, int *part, axm_err *err)
{
    char *t = axm_read_text_file(path, "config", NULL, err);
    if (!t) return err ? err->code : AXM_ERR_INPUT;
    int pt = 0;
    int rc = axm_cfg_load_text(c, t, path, &pt, err);
    free(t);
    if (rc == AXM_OK) {
        snprintf(c->path[pt], sizeof c->path[pt], "%s", path);
        if (part) *part = pt;
    }
    return rc;
}

/* The part's JSON object (a new tree). */
static cJSON *part_tree(const cJSON *doc, int part)
{
    if (part == AXM_CFG_TRAIN) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "train");
        return cJSON_IsObject(t) ? cJSON_Duplicate(t, 1) : cJSON_CreateObject();
    }
    cJSON *d = cJSON_Duplicate(doc, 1);
    if (d) cJSON_DeleteItemFromObjectCaseSensitive(d, "train");
    return d;
}

int axm_cfg_save(axm_cfg *c, int part, const char *path, axm_err *err)
{
    cJSON *tree = part_tree(c->doc, part);
    char *t = tree ? cJSON_Print(tree) : NULL;
    cJSON_Delete(tree);
    if (!t) return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
    int rc = axm_write_text_file_atomic(path, t, part == AXM_CFG_TRAIN ? "training config" : "scenario", err);
    free(t);
    if (rc) return rc;
    /* the saved copy of this part becomes the current one */
    cJSON *cur = part_tree(c->doc, part);
    if (cur) merge_part(c->saved, cur, part == AXM_CFG_TRAIN);
    cJSON_Delete(cur);
    snprintf(c->path[part], sizeof c->path[part], "%s", path);
    return AXM_OK;
}

/* Item at a dotted path, or NULL. */
static cJSON *lookup(const cJSON *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = root;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        if (!cJSON_IsObject(cur)) return NULL;
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (!cur) return NULL;
    }
    return (cJSON *)cur;
}

int axm_cfg_has(const axm_cfg *c, const char *path) { return lookup(c->doc, path) != NULL; }

static void append(char *buf, size_t n, const char *s)
{
    size_t l = strlen(buf);
    if (l < n) snprintf(buf + l, n - l, "%s", s);
}

static void item_text(const cJSON *it, char *buf, size_t n)
{
    buf[0] = 0;
    if (cJSON_IsNumber(it)) {
        snprintf(buf, n, "%.10g", it->valuedouble);
    } else if (cJSON_IsString(it)) {
        snprintf(buf, n, "%s", it->valuestring);
    } else if (cJSON_IsBool(it)) {
        snprintf(buf, n, "%s", cJSON_IsTrue(it) ? "true" : "false");
    } else if (cJSON_IsNull(it)) {
        snprintf(buf, n, "none");
    } else if (cJSON_IsArray(it)) {
        const cJSON *e;
        int first = 1;
        cJSON_ArrayForEach(e, it) {
            char one[128];
            item_text(e, one, sizeof one);
            if (!first) append(buf, n, ", ");
            append(buf, n, one);
            first = 0;
        }
    } else {
        char *t = cJSON_PrintUnformatted(it);
        snprintf(buf, n, "%s", t ? t : "?");
        free(t);
    }
}

const char *axm_cfg_get(const axm_cfg *c, const axm_cfg_key *k, char *buf, size_t n)
{
    const cJSON *it = lookup(c->doc, k->path);
    if (!it) {
        snprintf(buf, n, "%s", k->def);
        return buf;
    }
    item_text(it, buf, n);
    return buf;
}

double axm_cfg_num(const axm_cfg *c, const char *path, double def)
{
    const cJSON *it = lookup(c->doc, path);
    if (cJSON_IsNumber(it)) return it->valuedouble;
    if (cJSON_IsArray(it) && cJSON_IsNumber(cJSON_GetArrayItem(it, 0)))
        return cJSON_GetArrayItem(it, 0)->valuedouble;
    return def;
}

/* "a number > 0", "an integer in [1, 10]" */
static void expect_text(const axm_cfg_key *k, const char *what, char *buf, size_t n)
{
    int has_lo = !isnan(k->lo), has_hi = !isnan(k->hi);
    if (has_lo && has_hi)
        snprintf(buf, n, "%s in %c%g, %g%c", what, k->lo_open ? '(' : '[', k->lo, k->hi, k->hi_open ? ')' : ']');
    else if (has_lo)
        snprintf(buf, n, "%s %s %g", what, k->lo_open ? ">" : ">=", k->lo);
    else if (has_hi)
        snprintf(buf, n, "%s %s %g", what, k->hi_open ? "<" : "<=", k->hi);
    else
        snprintf(buf, n, "%s", what);
}

static int in_range(const axm_cfg_key *k, double v)
{
    if (!isnan(k->lo) && (k->lo_open ? !(v > k->lo) : !(v >= k->lo))) return 0;
    if (!isnan(k->hi) && (k->hi_open ? !(v < k->hi) : !(v <= k->hi))) return 0;
    return 1;
}

static void trim(char *s)
{
    size_t l = strlen(s);
    while (l && isspace((unsigned char)s[l - 1])) s[--l] = 0;
    size_t i = 0;
    while (isspace((unsigned char)s[i])) i++;
    memmove(s, s + i, l - i + 1);
}

static int parse_num(const char *s, double *v, int integer)
{
    char *end;
    errno = 0;
    if (!*s) return 0;
    if (integer) {
        long x = strtol(s, &end, 10);
        if (*end || errno) return 0;
        *v = (double)x;
        return 1;
    }
    double x = strtod(s, &end);
    if (*end || errno || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

static int choice_ok(const char *choices, const char *w)
{
    if (!choices) return 1;
    size_t l = strlen(w);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t m = bar ? (size_t)(bar - p) : strlen(p);
        if (m == l && !strncmp(p, w, l)) return 1;
        p += m + (bar ? 1 : 0);
    }
    return 0;
}

static void choices_text(const char *choices, char *buf, size_t n)
{
    snprintf(buf, n, "one of ");
    for (const char *p = choices; *p; p++) {
        char ch[2] = {*p == '|' ? ',' : *p, 0};
        append(buf, n, ch);
        if (*p == '|') append(buf, n, " ");
    }
}

/* Builds the JSON value for text, or fails with the reason. */
static cJSON *parse_value(const axm_cfg_key *k, const char *text_in, axm_err *err)
{
    char text[256], exp[160];
    snprintf(text, sizeof text, "%s", text_in);
    trim(text);
    double v;
    switch (k->type) {
    case AXM_CF_INT:
    case AXM_CF_NUM: {
        int integer = k->type == AXM_CF_INT;
        expect_text(k, integer ? "an integer" : "a number", exp, sizeof exp);
        if (!parse_num(text, &v, integer) || !in_range(k, v)) {
            axm_fail(err, AXM_ERR_INPUT, "%s: expected %s, got '%s'", k->path, exp, text);
            return NULL;
        }
        return cJSON_CreateNumber(v);
    }
    case AXM_CF_OPTINT:
        if (!strcmp(text, "none") || !strcmp(text, "null")) return cJSON_CreateNull();
        expect_text(k, "an integer", exp, sizeof exp);
        if (!parse_num(text, &v, 1) || !in_range(k, v)) {
            axm_fail(err, AXM_ERR_INPUT, "%s: expected %s or none, got '%s'", k->path, exp, text);
            return NULL;
        }
        return cJSON_CreateNumber(v);
    case AXM_CF_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "on") || !strcmp(text, "1"))
            return cJSON_CreateBool(1);
        if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "off") || !strcmp(text, "0"))
            return cJSON_CreateBool(0);
        axm_fail(err, AXM_ERR_INPUT, "%s: expected true or false, got '%s'", k->path, text);
        return NULL;
    case AXM_CF_STR:
        return cJSON_CreateString(text);
    case AXM_CF_OPTSTR:
        if (!text[0] || !strcmp(text, "none")) return cJSON_CreateNull();
        return cJSON_CreateString(text);
    case AXM_CF_ENUM:
        if (!choice_ok(k->choices, text)) {
            choices_text(k->choices, exp, sizeof exp);
            axm_fail(err, AXM_ERR_INPUT, "%s: expected %s, got '%s'", k->path, exp, text);
            return NULL;
        }
        return cJSON_CreateString(text);
    case AXM_CF_NUMS:
    case AXM_CF_INTS:
    case AXM_CF_WORDS: {
        cJSON *arr = cJSON_CreateArray();
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(text, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
            cJSON *e;
            if (k->type == AXM_CF_WORDS) {
                if (!choice_ok(k->choices, tok)) {
                    choices_text(k->choices, exp, sizeof exp);
                    axm_fail(err, AXM_ERR_INPUT, "%s: expected %s, got '%s'", k->path, exp, tok);
                    cJSON_Delete(arr);
                    return NULL;
                }
                e = cJSON_CreateString(tok);
            } else {
                int integer = k->type == AXM_CF_INTS;
                expect_text(k, integer ? "integers" : "numbers", exp, sizeof exp);
                if (!parse_num(tok, &v, integer) || !in_range(k, v)) {
                    axm_fail(err, AXM_ERR_INPUT, "%s: expected %s separated by commas, got '%s'", k->path, exp, tok);
                    cJSON_Delete(arr);
                    return NULL;
                }
                e = cJSON_CreateNumber(v);
            }
            cJSON_AddItemToArray(arr, e);
            n++;
        }
        if (k->type == AXM_CF_NUMS) {
            if (n == 0) {
                expect_text(k, "a number", exp, sizeof exp);
                axm_fail(err, AXM_ERR_INPUT, "%s: expected %s (or a list), got nothing", k->path, exp);
                cJSON_Delete(arr);
                return NULL;
            }
            if (n == 1) { /* a single value stays a plain number */
                cJSON *one = cJSON_DetachItemFromArray(arr, 0);
                cJSON_Delete(arr);
                return one;
            }
        }
        return arr;
    }
    }
    axm_fail(err, AXM_ERR_INPUT, "%s: unsupported key type", k->path);
    return NULL;
}

int axm_cfg_set(axm_cfg *c, const axm_cfg_key *k, const char *text, axm_err *err)
{
    /* an empty text for a key without a list form means "back to the default", except where
     * empty means "off" (valid_dset: no validation; 'd' still restores the default) */
    char t[256];
    snprintf(t, sizeof t, "%s", text);
    trim(t);
    if (!t[0] && k->type != AXM_CF_WORDS && k->type != AXM_CF_INTS && k->type != AXM_CF_OPTSTR) {
        axm_cfg_unset(c, k);
        return AXM_OK;
    }
    cJSON *val = parse_value(k, t, err);
    if (!val) return err ? err->code : AXM_ERR_INPUT;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", k->path);
    cJSON *cur = c->doc;
    char *save = NULL, *tok = strtok_r(buf, ".", &save);
    for (char *next = strtok_r(NULL, ".", &save); next; next = strtok_r(NULL, ".", &save)) {
        cJSON *sub = cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (!cJSON_IsObject(sub)) {
            if (sub) cJSON_DeleteItemFromObjectCaseSensitive(cur, tok);
            sub = cJSON_AddObjectToObject(cur, tok);
        }
        cur = sub;
        tok = next;
    }
    if (cJSON_GetObjectItemCaseSensitive(cur, tok))
        cJSON_ReplaceItemInObjectCaseSensitive(cur, tok, val);
    else
        cJSON_AddItemToObject(cur, tok, val);
    return AXM_OK;
}

void axm_cfg_unset(axm_cfg *c, const axm_cfg_key *k)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", k->path);
    char *dot = strrchr(buf, '.');
    cJSON *parent = c->doc;
    const char *leaf = buf;
    if (dot) {
        *dot = 0;
        parent = lookup(c->doc, buf);
        leaf = dot + 1;
    }
    if (cJSON_IsObject(parent)) cJSON_DeleteItemFromObjectCaseSensitive(parent, leaf);
}

int axm_cfg_modified(const axm_cfg *c, int part)
{
    if (part == AXM_CFG_ANY) return axm_cfg_modified(c, AXM_CFG_SCENARIO) || axm_cfg_modified(c, AXM_CFG_TRAIN);
    cJSON *a = part_tree(c->doc, part), *b = part_tree(c->saved, part);
    int m = !a || !b || !cJSON_Compare(a, b, 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return m;
}

int axm_cfg_key_modified(const axm_cfg *c, const axm_cfg_key *k)
{
    const cJSON *a = lookup(c->doc, k->path), *b = lookup(c->saved, k->path);
    if (!a || !b) return a != b;
    return !cJSON_Compare(a, b, 1);
}

const char *axm_cfg_path(const axm_cfg *c, int part) { return c->path[part == AXM_CFG_TRAIN]; }

char *axm_cfg_json(const axm_cfg *c, int part)
{
    cJSON *d = part_tree(c->doc, part);
    if (!d) return NULL;
    char *t = cJSON_Print(d);
    cJSON_Delete(d);
    return t;
}

char *axm_cfg_train_json(const axm_cfg *c)
{
    const cJSON *t = lookup(c->doc, "train");
    cJSON *o = cJSON_IsObject(t) ? cJSON_Duplicate(t, 1) : cJSON_CreateObject();
    if (!o) return NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const axm_cfg_key *k = &keys[i];
        if (!axm_cfg_key_is_train(k) || !k->def[0]) continue;
        const char *leaf = k->path + 6;
        if (cJSON_GetObjectItemCaseSensitive(o, leaf)) continue;
        cJSON *v = parse_value(k, k->def, NULL);
        if (v) cJSON_AddItemToObject(o, leaf, v);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}
