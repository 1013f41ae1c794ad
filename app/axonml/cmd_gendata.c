/* axonml gendata CONFIG --out FILE.h5: training/validation datasets in the original axonml HDF5
 * layout, simulated with our own models (MRG by default). See core/datagen.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axm_cuda.h"
#include "cmds.h"
#include "datagen.h"
#include "interrupt.h"
#include "model.h"
#include "progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: axonml gendata CONFIG.json --out FILE.h5 [options]\n"
            "\n"
            "Simulates random fibers and stimuli (CONFIG: presets/gendata-*.json) and writes them in the\n"
            "original axonml HDF5 layout, one run (rows x fibers) after the other. The file is written as\n"
            "FILE.h5.part and renamed when complete; an interrupted run keeps every finished run.\n"
            "On the GPU several runs are simulated per call (the same bytes as one at a time) so\n"
            "that it sees ~32k fibers, as many as --call-mem allows.\n"
            "\n"
            "options:\n"
            "  --out FILE.h5     output file (required)\n"
            "  --check           validate CONFIG, print what it would generate and exit (no --out)\n"
            "  --force           overwrite FILE.h5 / start FILE.h5.part over\n"
            "  --resume          continue FILE.h5.part (same configuration)\n"
            "  --seed N          override the configuration's seed\n"
            "  --runs G          override the configuration's n_runs\n"
            "  --threads N       CPU threads (default: all)\n"
            "  --device D        cpu, cuda or auto (default: the config's \"device\", else cpu): the MRG on\n"
            "                    the GPU when the CUDA backend is compiled in and a device is usable, else\n"
            "                    the CPU with a one-line note\n"
            "  --batches N       stop after N runs (continue later with --resume)\n"
            "  --runs-per-call K runs simulated together per engine call (default: 1 on the CPU; on the\n"
            "                    GPU enough for 32768 fibers within --call-mem)\n"
            "  --call-mem GB     host memory for one call's float traces (default: 1/8 of the RAM,\n"
            "                    2..16 GB; about twice that is in use while the writer compresses)\n"
            "  --progress        draw the progress bar even when stderr is not a terminal\n"
            "  --quiet           no progress bar, no summary\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

typedef struct prog_ud {
    axm_progress *bar;
    const axm_gendata_opts *o;
    int G, force_bar;
    long B;
} prog_ud;

/* The bar is created on the first report: only then is it known where a resumed file starts. */
static void on_progress(void *ud, long done, long total)
{
    prog_ud *p = ud;
    if (!p->bar) {
        p->bar = axm_progress_create("gendata", "fibers", total, stderr);
        if (p->force_bar) axm_progress_force(p->bar, 1);
    }
    char post[64];
    long run = p->o->start_batch + (p->B > 0 ? done / p->B : 0);
    snprintf(post, sizeof post, "run %ld/%d", run < p->G ? run + 1 : p->G, p->G);
    axm_progress_update(p->bar, done, post);
}

int cmd_gendata(int argc, char **argv)
{
    const char *cfg_path = NULL, *out = NULL, *device = NULL; /* --device; else the config's */
    long seed = -1, runs = -1, threads = 0, batches = 0, per_call = 0;
    double call_gb = 0;
    int force = 0, resume = 0, quiet = 0, force_bar = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!has_val) goto missing;
            out = argv[++i];
        } else if (!strcmp(a, "--device")) {
            if (!has_val) goto missing;
            device = argv[++i];
            if (strcmp(device, "cpu") && strcmp(device, "cuda") && strcmp(device, "auto")) {
                fprintf(stderr, "axonml gendata: --device: expected cpu, cuda or auto (got '%s')\n", device);
                return 2;
            }
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--check")) {
            check = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--progress")) {
            force_bar = 1;
        } else if (!strcmp(a, "--runs-per-call")) {
            if (!has_val) goto missing;
            if (parse_long(argv[++i], 1, 100000000L, &per_call)) {
                fprintf(stderr, "axonml gendata: --runs-per-call: expected an integer >= 1 (got '%s')\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--call-mem")) {
            if (!has_val) goto missing;
            char *end;
            errno = 0;
            call_gb = strtod(argv[++i], &end);
            if (errno || end == argv[i] || *end || !(call_gb > 0) || call_gb > 1e6) {
                fprintf(stderr, "axonml gendata: --call-mem: expected a number of GB > 0 (got '%s')\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--seed") || !strcmp(a, "--runs") || !strcmp(a, "--threads") || !strcmp(a, "--batches")) {
            if (!has_val) goto missing;
            long *dst = !strcmp(a, "--seed") ? &seed : !strcmp(a, "--runs") ? &runs : !strcmp(a, "--threads") ? &threads : &batches;
            long lo = !strcmp(a, "--seed") || !strcmp(a, "--threads") ? 0 : 1;
            if (parse_long(argv[++i], lo, !strcmp(a, "--seed") ? 9007199254740991L : 100000000L, dst)) {
                fprintf(stderr, "axonml gendata: %s: expected an integer >= %ld (got '%s')\n", a, lo, argv[i]);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "axonml gendata: unknown option '%s' (see axonml gendata --help)\n", a);
            return 2;
        } else if (!cfg_path) {
            cfg_path = a;
        } else {
            fprintf(stderr, "axonml gendata: unexpected argument '%s' (one CONFIG.json)\n", a);
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "axonml gendata: %s needs a value\n", a);
        return 2;
    }
    if (!cfg_path || (!out && !check)) {
        fprintf(stderr, "axonml gendata: expected CONFIG.json and --out FILE.h5 (see axonml gendata --help)\n");
        return 2;
    }
    if (resume && force) {
        fprintf(stderr, "axonml gendata: --resume and --force exclude each other\n");
        return 2;
    }

    axm_gendata_cfg cfg;
    axm_err err;
    axm_err_clear(&err);
    axm_gendata_defaults(&cfg);
    if (axm_gendata_load(&cfg, cfg_path, &err)) {
        fprintf(stderr, "axonml gendata: %s\n", err.msg);
        return axm_exit_status(err.code);
    }
    if (!axm_model_kind_find(cfg.model)) {
        char list[256] = "";
        int n = 0;
        const axm_model_kind *const *k = axm_model_kinds(&n);
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", k[i]->name);
        fprintf(stderr, "axonml gendata: %s: model: unknown model kind '%s' (expected one of %s)\n", cfg_path,
                cfg.model, list);
        return 2;
    }
    if (seed >= 0) cfg.seed = seed;
    if (runs > 0) cfg.n_runs = (int)runs;
    if (check) {
        printf("%s: ok, model %s, %d runs x %d rows x %d fibers = %ld fibers, %d nodes, %d samples per trace, "
               "seed %lld, device %s\n",
               cfg_path, cfg.model, cfg.n_runs, cfg.rows, cfg.fibers, (long)cfg.n_runs * cfg.rows * cfg.fibers,
               cfg.nodes, axm_gendata_T(&cfg), (long long)cfg.seed, device ? device : axm_device_name(cfg.device));
        return 0;
    }

    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = out;
    o.force = force;
    o.resume = resume;
    o.max_batches = batches;
    o.n_threads = (int)threads;
    o.runs_per_call = (int)per_call;
    o.call_mem_bytes = call_gb * 1e9;
    if (!device) device = axm_device_name(cfg.device);
    if (strcmp(device, "cpu")) {
        /* the GPU when it can take the run, else the CPU with the note the other commands print */
        axm_err why;
        axm_err_clear(&why);
        if (!axm_cuda_available(&why))
            fprintf(stderr, "axonml gendata: note: device \"%s\": %s; running on the CPU\n", device, why.msg);
        else if (strcmp(cfg.model, "mrg"))
            fprintf(stderr, "axonml gendata: note: device \"%s\": only the MRG runs on the GPU here; running \"%s\" on the CPU\n",
                    device, cfg.model);
        else if (cfg.nodes > AXM_CUDA_MAX_NODES)
            fprintf(stderr, "axonml gendata: note: device \"%s\": the GPU kernels take at most %d nodes; running on the CPU\n",
                    device, AXM_CUDA_MAX_NODES);
        else
            o.engine = axm_cuda_gendata_engine; /* engine_ud NULL: device 0 */
    }
    o.cancel = axm_interrupt_install();
    long B = (long)cfg.rows * cfg.fibers;
    prog_ud pu = {NULL, &o, cfg.n_runs, force_bar, B};
    o.progress = quiet ? NULL : on_progress;
    o.progress_ud = &pu;
    double t0 = axm_now_s();
    int rc = axm_gendata_run(&cfg, &o, &err);
    double el = axm_now_s() - t0;
    if (pu.bar) axm_progress_finish(pu.bar);
    if (rc) {
        fprintf(stderr, "axonml gendata: %s\n", err.msg);
        return axm_exit_status(rc);
    }
    if (!quiet) {
        long made = o.batches_done - o.start_batch;
        if (o.complete && made == 0)
            printf("%s: complete (%ld runs); nothing to do\n", out, o.batches_done);
        else if (o.complete)
            printf("%s: %d runs x %d x %d fibers, %ld new in %.1f s (%.1f fibers/s)\n", out, cfg.n_runs, cfg.rows,
                   cfg.fibers, made, el, el > 0 ? (double)(made * B) / el : 0.0);
        else
            printf("%s.part: %ld of %d runs (stopped after --batches %ld; --resume continues)\n", out, o.batches_done,
                   cfg.n_runs, batches);
    }
    return 0;
}
