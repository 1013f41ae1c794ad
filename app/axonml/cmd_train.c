/* axonml train — not implemented yet (placeholder so that the CLI links). */
#include <stdio.h>

#include "cmds.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "axonml train: not implemented yet\n");
    return 1;
}
