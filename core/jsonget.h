/* Reading a JSON settings file with errors that name the file, the key's path and what was expected,
 * one line each: "FILE: key.path: expected ..., got ...". The getters take an object, a key and
 * the object's own path ("" at the top); an absent key leaves *out as it was, so optional keys keep
 * their defaults. */
#ifndef AXM_JSONGET_H
#define AXM_JSONGET_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"

/* The file being read: its name for messages, its folder for relative file names. */
typedef struct axm_jctx {
    const char *file;
    const char *dir;
    axm_err *err;
} axm_jctx;

/* What a number must be (axm_j_num, axm_j_num_list). */
enum { AXM_J_ANY = 0, AXM_J_POS = 1, AXM_J_NONNEG = 2, AXM_J_UNIT_OPEN = 3 };

/* Fails with "FILE: path: expected EXPECTED, got <got as a value or its kind>". */
int axm_j_bad(axm_jctx *c, const char *path, const char *expected, const cJSON *got);
/* The same from its parts, the expectation printf-formatted: for the parsers that walk an object's
 * keys with checks of their own (datagen, train, calib settings). */
int axm_j_expected(axm_err *err, const char *file, const char *path, const cJSON *got, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* path.key, or key at the top. */
void axm_j_path(char *out, size_t n, const char *path, const char *key);
/* Rejects a key not in allowed (NULL-terminated) and a key given twice. */
int axm_j_keys(axm_jctx *c, const cJSON *obj, const char *path, const char *const *allowed);
/* Rejects a key given twice (cJSON keeps both, and a parser walking the keys would let the later
 * one win without a word). */
int axm_j_unique_keys(axm_err *err, const char *file, const char *path, const cJSON *obj);
/* 1 if v is finite and what AXM_J_* r asks. */
int axm_j_in_range(double v, int r);
int axm_j_num(axm_jctx *c, const cJSON *obj, const char *key, const char *path, int r, double *out);
/* An integer in [lo, hi] (hi >= 1e9: no upper bound in the message). */
int axm_j_int(axm_jctx *c, const cJSON *obj, const char *key, const char *path, long lo, long hi, int *out);
/* A number or (allow_list) a non-empty list of them, as a fresh array of *n; absent: [def]. */
int axm_j_num_list(axm_jctx *c, const cJSON *obj, const char *key, const char *path, int r, int allow_list,
                   double def, int *n, double **out);
/* A string from names (NULL-terminated); *out its index. */
int axm_j_enum(axm_jctx *c, const cJSON *obj, const char *key, const char *path, const char *const *names,
               int *out);
/* An object, or *out = NULL when absent. */
int axm_j_obj(axm_jctx *c, const cJSON *parent, const char *key, const char *path, const cJSON **out);
/* A required file name, found by axm_find_file's rule (as given, next to the file, its parent, the
 * axonml tree) into out; the error lists where it looked. */
int axm_j_file(axm_jctx *c, const cJSON *obj, const char *key, const char *path, char *out, size_t n);

#endif
