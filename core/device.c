#include "device.h"

#include <string.h>

const char *const axm_device_names[] = {"auto", "cpu", "cuda", NULL};

const char *axm_device_name(axm_device d) { return (int)d >= 0 && (int)d < 3 ? axm_device_names[d] : "?"; }

int axm_device_parse(const char *name, axm_device *out)
{
    for (int i = 0; axm_device_names[i]; i++)
        if (!strcmp(name, axm_device_names[i])) {
            *out = (axm_device)i;
            return 0;
        }
    return -1;
}
