/* Helpers shared by the axonml subcommands: option values, JSON/CSV numbers. Output files are
 * written atomically with fileio.h (axm_atomic_open/commit), which this header brings in. */
#ifndef AXM_CLI_UTIL_H
#define AXM_CLI_UTIL_H

#include <stdio.h>

#include "fileio.h"
#include "scenario.h"

/* Parses a whole decimal integer in [lo, hi]; 0 on success. */
int cli_int(const char *s, long lo, long hi, long *out);

/* The options every scenario subcommand takes: CONFIG, --out FILE, --json, --quiet/-q, --check,
 * --threads N, --device auto|cpu|cuda, --help/-h. A command's own options that take a value are
 * listed in `valued` (NULL-terminated, at most 4); their values land in extra[] in that order (NULL
 * if absent). kind names the CONFIG in the error for a missing one ("scenario", "calibration"). */
typedef struct cli_args {
    const char *config, *out;
    int json, quiet, check;
    long threads;              /* 0 = all CPUs */
    int has_device;            /* --device given: it replaces the scenario's sim.device */
    axm_device device;
    const char *extra[4];
} cli_args;
/* Returns -1 to go on, or the exit status: 0 after --help, 2 after a one-line error on stderr. */
int cli_parse_args(const char *cmd, const char *kind, int argc, char **argv, const char *const *valued,
                   void (*usage)(FILE *), cli_args *a);

/* Numbers: CSV prints NaN as "nan", JSON as null. */
void cli_csv_num(FILE *f, double v);
void cli_json_num(FILE *f, double v);
void cli_json_str(FILE *f, const char *s);
int cli_ends_with(const char *s, const char *suffix);

/* Loads the scenario a->config for subcommand cmd, with a's --device in place of its sim.device:
 * -1 to go on (*sc set), or the exit status after a one-line "axonml CMD: ..." error on stderr. */
int cli_scenario_load(const char *cmd, const cli_args *a, axm_scenario **sc);

/* --check: one line saying the scenario is valid and what it would run; frees su and sc. */
int cli_check_done(axm_scenario *sc, axm_setup *su);

#endif
