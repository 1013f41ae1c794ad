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

int cli_parse_args(const char *cmd, const char *kind, int argc, char **argv, const char *const *valued,
                   void (*usage)(FILE *), cli_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int own = -1;
        for (int k = 0; valued && valued[k] && k < 4; k++)
            if (!strcmp(s, valued[k])) own = k;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(s, "--json")) a->json = 1;
        else if (!strcmp(s, "--check")) a->check = 1;
        else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) a->quiet = 1;
        else if (own >= 0 || !strcmp(s, "--out") || !strcmp(s, "--threads") || !strcmp(s, "--device")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "axonml %s: %s: expected a value, got nothing\n", cmd, s);
                return 2;
            }
            const char *v = argv[++i];
            if (own >= 0) a->extra[own] = v;
            else if (!strcmp(s, "--out")) a->out = v;
            else if (!strcmp(s, "--device")) {
                if (axm_device_parse(v, &a->device)) {
                    fprintf(stderr, "axonml %s: --device: expected auto, cpu or cuda, got '%s'\n", cmd, v);
                    return 2;
                }
                a->has_device = 1;
            } else if (cli_int(v, 1, 4096, &a->threads)) {
                fprintf(stderr, "axonml %s: --threads: expected an integer in [1, 4096], got '%s'\n", cmd, v);
                return 2;
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "axonml %s: unknown option '%s' (see axonml %s --help)\n", cmd, s, cmd);
            return 2;
        } else if (!a->config) a->config = s;
        else {
            fprintf(stderr, "axonml %s: expected one CONFIG, got a second one '%s'\n", cmd, s);
            return 2;
        }
    }
    if (!a->config) {
        fprintf(stderr, "axonml %s: expected a %s CONFIG (see axonml %s --help)\n", cmd, kind, cmd);
        return 2;
    }
    return -1;
}

int cli_scenario_load(const char *cmd, const cli_args *a, axm_scenario **sc)
{
    axm_err err;
    axm_err_clear(&err);
    *sc = axm_scenario_load(a->config, &err);
    if (*sc) {
        if (a->has_device) (*sc)->device = a->device;
        return -1;
    }
    fprintf(stderr, "axonml %s: %s\n", cmd, err.msg);
    return axm_exit_status(err.code);
}

int cli_check_done(axm_scenario *sc, axm_setup *su)
{
    printf("%s: ok, %d conditions, model %s (%s), %d nodes, %ld steps\n", sc->path, su->n_cond, sc->model_name,
           axm_prec_name(sc->prec), sc->nodes, su->n_steps);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    return 0;
}
