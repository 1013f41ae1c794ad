/* axonml info: version, build, backends and devices. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "axm_cuda.h"
#include "cmds.h"
#include "version.h"

#define MAX_GPUS 16

/* Device names and driver messages go into JSON strings. */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

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
    axm_err why;
    axm_err_clear(&why);
    axm_cuda_device dev[MAX_GPUS];
    int n_dev = 0;
    int avail = axm_cuda_available(&why);
    if (avail) {
        n_dev = axm_cuda_devices(dev, MAX_GPUS, &why);
        if (n_dev > MAX_GPUS) n_dev = MAX_GPUS;
        if (n_dev <= 0) avail = 0;
    }
    if (json) {
        printf("{\"version\":\"%s\",\"revision\":\"%s\",\"build\":\"%s\",\"backends\":\"%s\",\"cpus\":%ld,"
               "\"cuda_compiled\":%s,\"cuda_available\":%s,\"tree\":",
               axm_version(), axm_build_rev(), axm_build_flags(), axm_build_backends(), cpus,
               axm_cuda_compiled() ? "true" : "false", avail ? "true" : "false");
        json_str(axm_build_tree());
        putchar(',');
        if (!avail) {
            printf("\"cuda_reason\":");
            json_str(why.msg);
            putchar(',');
        }
        printf("\"gpus\":[");
        for (int i = 0; i < n_dev; i++) {
            printf("%s{\"index\":%d,\"name\":", i ? "," : "", dev[i].index);
            json_str(dev[i].name);
            printf(",\"memory_bytes\":%zu,\"sms\":%d,\"compute_capability\":\"%d.%d\"}", dev[i].mem_bytes, dev[i].sms,
                   dev[i].cc_major, dev[i].cc_minor);
        }
        printf("]}\n");
    } else {
        printf("axonml %s (rev %s, %s)\ntree: %s (presets, weights; the last place relative file names are looked for)\n"
               "backends: %s\ncpus: %ld\n",
               axm_version(), axm_build_rev(), axm_build_flags(), axm_build_tree()[0] ? axm_build_tree() : "unknown",
               axm_build_backends(), cpus);
        if (!axm_cuda_compiled()) printf("cuda: not compiled in\n");
        else if (!avail) printf("cuda: compiled in, not available: %s\n", why.msg);
        else printf("cuda: %d device%s\n", n_dev, n_dev == 1 ? "" : "s");
        for (int i = 0; i < n_dev; i++)
            printf("gpu %d: %s, %.1f GiB, %d SMs, compute capability %d.%d\n", dev[i].index, dev[i].name,
                   dev[i].mem_bytes / (1024.0 * 1024 * 1024), dev[i].sms, dev[i].cc_major, dev[i].cc_minor);
    }
    return 0;
}
