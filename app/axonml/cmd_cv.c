/* axonml cv — not implemented yet (placeholder so that the CLI links). */
#include <stdio.h>

#include "cmds.h"

int cmd_cv(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "axonml cv: not implemented yet\n");
    return 1;
}
