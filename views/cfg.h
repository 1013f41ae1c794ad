/* The configuration edited by the TUI's config view: a scenario document (scenario.h) plus a
 * "train" object with the training settings (smf-model.md §9.4), held as JSON so that keys the
 * view does not know survive a load/save round trip.
 *
 * Every editable key is described by a schema entry (path, type, range, choices, default, help).
 * Setting a key from text validates it against its entry first and refuses bad values with one
 * line naming the key and the expected value. Nothing here touches the terminal. */
#ifndef AXM_CFG_H
#define AXM_CFG_H

#include <stddef.h>

#include "err.h"

typedef enum axm_cf_type {
    AXM_CF_INT = 0,
    AXM_CF_NUM,
    AXM_CF_BOOL,
    AXM_CF_STR,
    AXM_CF_ENUM,      /* one of choices ("a|b|c") */
    AXM_CF_NUMS,      /* a number or a comma-separated list (stored as number or array) */
    AXM_CF_INTS,      /* a comma-separated list of integers (array) */
    AXM_CF_WORDS,     /* a comma-separated list of words from choices when given (array); "" = [] */
    AXM_CF_OPTINT,    /* an integer or "none" (null) */
    AXM_CF_OPTSTR     /* a string, or "none"/empty text for null (off: valid_dset) */
} axm_cf_type;

typedef struct axm_cfg_key {
    const char *path;     /* "train.lr", "waveform.pw_ms" */
    axm_cf_type type;
    double lo, hi;        /* numeric range; NaN = unbounded */
    int lo_open, hi_open; /* 1: the bound is excluded */
    const char *choices;  /* "smf|sundt|mrg" */
    const char *def;      /* the default as text ("" = none) */
    const char *help;
} axm_cfg_key;

/* The schema: training keys first (section "train"), then the scenario keys. */
const axm_cfg_key *axm_cfg_keys(int *n);
const axm_cfg_key *axm_cfg_key_find(const char *path);
/* "train" for training keys, "scenario" for the others. */
int axm_cfg_key_is_train(const axm_cfg_key *k);

typedef struct axm_cfg axm_cfg;

/* The two documents behind the configuration, each saved in the format its CLI command reads:
 * the scenario (axonml simulate/threshold/cv) and the training config (axonml train, flat keys). */
enum { AXM_CFG_SCENARIO = 0, AXM_CFG_TRAIN = 1, AXM_CFG_ANY = -1 };
int axm_cfg_key_part(const axm_cfg_key *k);

axm_cfg *axm_cfg_create(void);
void axm_cfg_destroy(axm_cfg *c);
/* Loads a JSON object into the part its keys say (*part, may be NULL): a training config (flat
 * keys such as train_dset, epochs, lr; "model" a string), or else a scenario, which may embed a
 * "train" object (then both parts are loaded). The other part is kept. On error nothing changes. */
int axm_cfg_load(axm_cfg *c, const char *path, int *part, axm_err *err);
int axm_cfg_load_text(axm_cfg *c, const char *text, const char *name, int *part, axm_err *err);
/* Writes one part in its own format (temp file + rename) and marks it saved. */
int axm_cfg_save(axm_cfg *c, int part, const char *path, axm_err *err);

/* Whether the key is present in the document (otherwise its default applies). */
int axm_cfg_has(const axm_cfg *c, const char *path);
/* Text form of the value ("5.7, 8.7", "true", "none"), or the default when absent. */
const char *axm_cfg_get(const axm_cfg *c, const axm_cfg_key *k, char *buf, size_t n);
double axm_cfg_num(const axm_cfg *c, const char *path, double def);
/* Validates text against k and stores it; on error the document is unchanged. An empty text
 * removes the key (back to its default), except for list keys (an empty list) and AXM_CF_OPTSTR
 * keys (null: switched off). */
int axm_cfg_set(axm_cfg *c, const axm_cfg_key *k, const char *text, axm_err *err);
/* Removes the key (back to its default). */
void axm_cfg_unset(axm_cfg *c, const axm_cfg_key *k);

/* A part (or AXM_CFG_ANY) modified since its last load/save; per key: differs from the loaded value. */
int axm_cfg_modified(const axm_cfg *c, int part);
int axm_cfg_key_modified(const axm_cfg *c, const axm_cfg_key *k);
/* The file a part was last loaded from or saved to, "" if none. */
const char *axm_cfg_path(const axm_cfg *c, int part);

/* One part as JSON text in its file format (caller frees). */
char *axm_cfg_json(const axm_cfg *c, int part);

/* The "train" object with every training key made explicit (the schema's defaults for absent
 * ones), as JSON text for axm_train_config_parse (caller frees). */
char *axm_cfg_train_json(const axm_cfg *c);

#endif
