/* Whole-file reading for the JSON inputs (scenarios, weights, training configs), and atomic
 * writing of outputs: a temp file beside the target, renamed over it only once complete, so a
 * reader never sees a half-written file and a failed write leaves the old file as it was. */
#ifndef AXM_FILEIO_H
#define AXM_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Reads the file into a NUL-terminated buffer the caller frees; *len (if not NULL) gets its size.
 * `what` names the file's role in the error ("scenario", "weights file", ...). A file that holds
 * a NUL byte is rejected as not text. Errors: AXM_ERR_INPUT (cannot open/read), AXM_ERR_NOMEM. */
char *axm_read_text_file(const char *path, const char *what, size_t *len, axm_err *err);

/* Where a file named in a config (a scenario's weights, a training config's datasets, a
 * calibration's grids) is looked for, in order: NAME as given (absolute, or relative to the
 * current folder), in the config's folder CFG_DIR, in CFG_DIR's parent, then in the axonml tree
 * the library was built from (axm_build_tree), so that a preset copied elsewhere still finds
 * weights/... . Writes the first readable one to out and returns 1; otherwise writes NAME and
 * returns 0 (errors then name the file as given: axm_find_file_places says where it looked).
 * cfg_dir may be NULL or "". A result that does not fit in n counts as not found. */
int axm_find_file(const char *name, const char *cfg_dir, char *out, size_t n);
/* axm_find_file next to the config file cfg_path itself (its folder; NULL or "": no config). */
int axm_find_file_near(const char *name, const char *cfg_path, char *out, size_t n);
/* "the current folder, DIR, DIR/.. and TREE": the places axm_find_file looks, for messages. */
void axm_find_file_places(const char *cfg_dir, char *out, size_t n);
/* The folder of a file's path: "." for a bare name, "/" for a file in the root. */
void axm_folder_of(const char *path, char *out, size_t n);

/* An output being written: write to f, then commit or abort (either one frees the handle).
 * The temp file is PATH.tmp.PID in PATH's folder (PATH.tmp.PID.N if that name is taken), created
 * with the usual 0666 & ~umask permissions. */
typedef struct axm_atomic_file {
    FILE *f;          /* NULL for a handle from axm_atomic_reserve */
    char *path, *tmp; /* the target and the temp file's name */
    char what[64];    /* the file's role, for errors ("checkpoint", "output") */
} axm_atomic_file;

/* Creates the temp file for PATH. `what` names the file's role in errors. NULL with AXM_ERR_IO
 * (folder missing, not writable, ...: the message names PATH) or AXM_ERR_NOMEM. */
axm_atomic_file *axm_atomic_open(const char *path, const char *what, axm_err *err);
/* As axm_atomic_open but for writers that create the file themselves by name (HDF5): the temp
 * file exists, empty, and f is NULL; the writer overwrites a->tmp, then commits or aborts. */
axm_atomic_file *axm_atomic_reserve(const char *path, const char *what, axm_err *err);
/* Flushes, syncs to disk, closes and renames the temp file over the target. Any failure (a
 * write error seen by the stream included) removes the temp file, leaves the target untouched
 * and returns AXM_ERR_IO naming the target. Frees a; a NULL a returns AXM_ERR_IO. */
int axm_atomic_commit(axm_atomic_file *a, axm_err *err);
/* Closes and removes the temp file; the target is untouched. Frees a; NULL is a no-op. */
void axm_atomic_abort(axm_atomic_file *a);

/* Writes text to PATH atomically, adding a final newline when a non-empty text lacks one. */
int axm_write_text_file_atomic(const char *path, const char *text, const char *what, axm_err *err);

#endif
