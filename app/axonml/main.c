/* axonml: the headless CLI (placeholder until the subcommands land). */
#include <stdio.h>
#include <string.h>

#include "axonml.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "info") == 0) {
        printf("axonml %s (%s) backends: %s\n", axm_version(), axm_build_rev(), axm_build_backends());
        return 0;
    }
    fprintf(stderr, "usage: axonml info\n");
    return 2;
}
