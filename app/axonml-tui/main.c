/* axonml-tui: interactive terminal front end (views/ does the work). */
#include <stdio.h>
#include <string.h>

#include "axm_cuda.h"
#include "err.h"
#include "plot.h"
#include "train_gpu.h"
#include "tui.h"
#include "version.h"

/* the TUI's training view on the GPU where its config's device asks for it (train_gpu.h) */
static void *train_attach(struct axm_trainer *t, const struct axm_train_config *c, char *note, size_t n)
{
    return axm_app_train_gpu_attach(t, c, note, n);
}

static void train_detach(void *g) { axm_app_train_gpu_detach(g); }

static void usage(FILE *f)
{
    fprintf(f, "usage: axonml-tui [SCENARIO.json] [TRAIN.json] [--ascii] [--mono] [--view help|config|train|explore]\n"
               "  SCENARIO.json  a scenario (presets/*.json) to start from\n"
               "  TRAIN.json     a training config (axonml train's; default presets/train-small.json when present)\n"
               "  --ascii        no braille or box-drawing glyphs (automatic without a UTF-8 locale)\n"
               "  --mono         no colours\n"
               "  --view NAME    the view shown first (default explore)\n"
               "keys: F1 help, F2 config, F3 train, F4 explore, F10 or q quit\n");
}

int main(int argc, char **argv)
{
    axm_tui_opts o;
    memset(&o, 0, sizeof o);
    o.start_view = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--ascii")) o.ascii = 1;
        else if (!strcmp(a, "--mono")) o.mono = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--version")) { printf("axonml-tui %s\n", axm_version()); return 0; }
        else if (!strcmp(a, "--view") && i + 1 < argc) {
            const char *v = argv[++i];
            static const char *const names[] = {"help", "config", "train", "explore"};
            o.start_view = -2;
            for (int k = 0; k < AXM_N_VIEWS; k++)
                if (!strcmp(v, names[k])) o.start_view = k;
            if (o.start_view == -2) {
                fprintf(stderr, "axonml-tui: --view: expected help, config, train or explore, got '%s'\n", v);
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "axonml-tui: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (o.n_files < 2) {
            o.files[o.n_files++] = a;
        } else {
            fprintf(stderr, "axonml-tui: at most a scenario and a training config, got a third file '%s'\n", a);
            return 2;
        }
    }
    axm_err e;
    axm_err_clear(&e);
    /* the status line names the GPU when the CUDA backend has one (views link without gpu/) */
    if (axm_cuda_available(NULL)) {
        axm_cuda_device d;
        if (axm_cuda_devices(&d, 1, NULL) > 0) snprintf(o.gpu, sizeof o.gpu, "%.120s", d.name);
    }
    o.train_attach = train_attach;
    o.train_detach = train_detach;
    int rc = axm_tui_main(&o, &e);
    if (rc != AXM_OK) fprintf(stderr, "%s\n", e.msg);
    return axm_exit_status(rc);
}
