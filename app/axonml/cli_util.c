#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

void cli_out_name(cli_out *o, const char *path)
{
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", o->path, (long)getpid());
    o->f = NULL;
}

int cli_out_open(cli_out *o, const char *path)
{
    cli_out_name(o, path);
    o->f = fopen(o->tmp, "w");
    return o->f ? 0 : -1;
}

int cli_out_commit(cli_out *o)
{
    int bad = 0;
    if (o->f) {
        bad = ferror(o->f) != 0;
        if (fclose(o->f) != 0) bad = 1;
        o->f = NULL;
    }
    if (bad) {
        int e = errno ? errno : EIO;
        remove(o->tmp);
        errno = e;
        return -1;
    }
    if (rename(o->tmp, o->path) != 0) {
        int e = errno;
        remove(o->tmp);
        errno = e;
        return -1;
    }
    return 0;
}

void cli_out_abort(cli_out *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    remove(o->tmp);
}

void cli_csv_num(FILE *f, double v)
{
    if (isnan(v)) fputs("nan", f);
    else fprintf(f, "%.10g", v);
}

void cli_json_num(FILE *f, double v)
{
    if (!isfinite(v)) fputs("null", f);
    else fprintf(f, "%.10g", v);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int cli_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}
