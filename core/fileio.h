/* Whole-file reading for the JSON inputs (scenarios, weights, training configs). */
#ifndef AXM_FILEIO_H
#define AXM_FILEIO_H

#include <stddef.h>

#include "err.h"

/* Reads the file into a NUL-terminated buffer the caller frees; *len (if not NULL) gets its size.
 * `what` names the file's role in the error ("scenario", "weights file", ...). A file that holds
 * a NUL byte is rejected as not text. Errors: AXM_ERR_INPUT (cannot open/read), AXM_ERR_NOMEM. */
char *axm_read_text_file(const char *path, const char *what, size_t *len, axm_err *err);

#endif
