/* axonml info: version, build, backends and devices. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "axm_cuda.h"
#include "cmds.h"
#include "version.h"

int cmd_info(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: axonml info [--json]\n  version, build, compiled backends, CPUs and GPUs\n");
            return 0;
        } else {
            fprintf(stderr, "axonml info: unknown option '%s' (expected --json)\n", argv[i]);
            return 2;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (json)
        printf("{\"version\":\"%s\",\"revision\":\"%s\",\"build\":\"%s\",\"backends\":\"%s\",\"cpus\":%ld,"
               "\"cuda_compiled\":%s}\n",
               axm_version(), axm_build_rev(), axm_build_flags(), axm_build_backends(), cpus,
               axm_cuda_compiled() ? "true" : "false");
    else
        printf("axonml %s (rev %s, %s)\nbackends: %s\ncpus: %ld\ncuda: %s\n", axm_version(), axm_build_rev(),
               axm_build_flags(), axm_build_backends(), cpus,
               axm_cuda_compiled() ? "compiled in" : "not compiled in");
    return 0;
}
