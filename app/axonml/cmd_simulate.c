/* axonml simulate — not implemented yet (placeholder so that the CLI links). */
#include <stdio.h>

#include "cmds.h"

int cmd_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "axonml simulate: not implemented yet\n");
    return 1;
}
