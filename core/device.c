#include "device.h"

#include <string.h>

static const char *const NAMES[] = {"auto", "cpu", "cuda"};

const char *axm_device_name(axm_device d) { return (int)d >= 0 && (int)d < 3 ? NAMES[d] : "?"; }

int axm_device_parse(const char *name, axm_device *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (axm_device)i;
            return 0;
        }
    return -1;
}
