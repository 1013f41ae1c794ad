#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *axm_read_text_file(const char *path, const char *what, size_t *len, axm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot read the %s: %s", path, what, strerror(errno));
        return NULL;
    }
    /* grow by doubling rather than trusting ftell: works for pipes and files being written */
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n + 1 < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf) {
        axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory reading the %s", path, what);
        return NULL;
    }
    if (ioerr) {
        free(buf);
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot read the %s (I/O error)", path, what);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON text file for the %s, got binary data", path, what);
        return NULL;
    }
    if (len) *len = n;
    return buf;
}
