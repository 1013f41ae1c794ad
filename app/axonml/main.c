/* axonml: the headless CLI. Thin: each subcommand parses its arguments, calls the core, prints. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"simulate", cmd_simulate, "run a scenario and write voltage traces (CSV or HDF5)"},
    {"threshold", cmd_threshold, "activation thresholds for every condition of a scenario"},
    {"cv", cmd_cv, "conduction velocity for every diameter of a scenario"},
    {"gendata", cmd_gendata, "generate an MRG training/validation dataset (HDF5)"},
    {"train", cmd_train, "train the surrogate by truncated BPTT"},
    {"calibrate", cmd_calibrate, "fit a few surrogate parameters to the teacher's thresholds, CVs and rest"},
    {"info", cmd_info, "version, build, backends and devices"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: axonml <command> [options]   (axonml <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("axonml %s\n", axm_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "axonml: unknown command '%s' (expected one of simulate, threshold, cv, gendata, train, calibrate, info)\n",
            argv[1]);
    return 2;
}
