/* axonml train CONFIG [--progress bar|jsonl|none] [--resume CKPT]: truncated BPTT of the S-MF
 * on an axonml HDF5 dataset (core/train.h). Checkpoints go to the config's save_dir; Ctrl-C saves
 * one and exits with status 130. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "interrupt.h"
#include "progress.h"
#include "train_gpu.h"
#include "train.h"

typedef struct cli_state {
    int jsonl;
    axm_progress *bar;
    long start_step;
    const axm_train_config *cfg;
    char last_ckpt[1300];
    double last_train, last_val;
} cli_state;

static const char *EV_NAMES[] = {"start", "step", "validation", "checkpoint", "epoch", "nan", "done"};

static void json_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void on_event(void *ud, const axm_train_event *ev)
{
    cli_state *S = ud;
    if (ev->kind == AXM_TRAIN_EV_STEP) S->last_train = ev->train_loss;
    if (isfinite(ev->val_loss)) S->last_val = ev->val_loss;
    if (ev->kind == AXM_TRAIN_EV_CHECKPOINT && ev->path)
        snprintf(S->last_ckpt, sizeof S->last_ckpt, "%s", ev->path);
    if (S->jsonl) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", EV_NAMES[ev->kind]);
        cJSON_AddNumberToObject(o, "epoch", ev->epoch);
        cJSON_AddNumberToObject(o, "epochs", ev->epochs);
        cJSON_AddNumberToObject(o, "batch", (double)ev->batch);
        cJSON_AddNumberToObject(o, "batches", (double)ev->batches);
        cJSON_AddNumberToObject(o, "step", (double)ev->step);
        cJSON_AddNumberToObject(o, "total_steps", (double)ev->total_steps);
        json_num(o, "train_loss", ev->train_loss);
        json_num(o, "val_loss", ev->val_loss);
        cJSON *p = cJSON_AddObjectToObject(o, "params");
        for (int i = 0; i < ev->n_params; i++) json_num(p, ev->names[i], ev->values[i]);
        if (ev->path) cJSON_AddStringToObject(o, "path", ev->path);
        if (ev->message) cJSON_AddStringToObject(o, "message", ev->message);
        char *s = cJSON_PrintUnformatted(o);
        if (s) printf("%s\n", s);
        fflush(stdout);
        cJSON_free(s);
        cJSON_Delete(o);
        return;
    }
    if (ev->kind == AXM_TRAIN_EV_NAN && ev->message) {
        fprintf(stderr, "\nwarning: %s\n", ev->message);
        if (strstr(ev->message, "became NaN")) /* as the original: every value, for the post-mortem */
            for (int i = 0; i < ev->n_params; i++)
                fprintf(stderr, "  %-12s %.17g\n", ev->names[i], ev->values[i]);
    }
    if (ev->kind == AXM_TRAIN_EV_START && ev->message) fprintf(stderr, "axonml train: %s\n", ev->message);
    if (!S->bar || (ev->kind != AXM_TRAIN_EV_STEP && ev->kind != AXM_TRAIN_EV_VALID)) return;
    char post[512];
    int n = snprintf(post, sizeof post, "loss=%.4g", S->last_train);
    if (isfinite(S->last_val)) n += snprintf(post + n, sizeof post - (size_t)n, " val=%.4g", S->last_val);
    for (int k = 0; k < S->cfg->n_postfix && n < (int)sizeof post - 40; k++)
        for (int i = 0; i < ev->n_params; i++)
            if (!strcmp(ev->names[i], S->cfg->postfix[k]))
                n += snprintf(post + n, sizeof post - (size_t)n, " %s=%.5g", ev->names[i], ev->values[i]);
    axm_progress_update(S->bar, ev->step - S->start_step, post);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: axonml train CONFIG [--progress bar|jsonl|none] [--resume CHECKPOINT] [--check]\n"
               "  CONFIG       training config (JSON; see presets/train-small.json)\n"
               "  --progress   bar: progress bar on a terminal (default); jsonl: one JSON event per\n"
               "               line on stdout; none: quiet\n"
               "  --resume     continue from a checkpoint written by axonml train\n"
               "  --check      validate CONFIG and its datasets, print the plan and exit\n"
               "  Exit status: 0 ok, 1 run-time failure, 2 bad input, 130 interrupted.\n");
}

int cmd_train(int argc, char **argv)
{
    const char *cfg_path = NULL, *resume = NULL, *progress = "bar";
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--check")) {
            check = 1;
        } else if (!strcmp(argv[i], "--progress") || !strcmp(argv[i], "--resume")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "axonml train: %s: expected a value, got nothing\n", argv[i]);
                return 2;
            }
            if (!strcmp(argv[i], "--progress")) progress = argv[++i];
            else resume = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "axonml train: unknown option '%s' (see axonml train --help)\n", argv[i]);
            return 2;
        } else if (cfg_path) {
            fprintf(stderr, "axonml train: expected one CONFIG, got a second one '%s'\n", argv[i]);
            return 2;
        } else {
            cfg_path = argv[i];
        }
    }
    if (!cfg_path) {
        fprintf(stderr, "axonml train: expected a training CONFIG (see axonml train --help)\n");
        return 2;
    }
    if (strcmp(progress, "bar") && strcmp(progress, "jsonl") && strcmp(progress, "none")) {
        fprintf(stderr, "axonml train: --progress '%s': expected bar, jsonl or none\n", progress);
        return 2;
    }
    axm_err err;
    axm_err_clear(&err);
    axm_train_config cfg;
    if (axm_train_config_load(&cfg, cfg_path, &err)) {
        fprintf(stderr, "axonml train: %s\n", err.msg);
        return axm_exit_status(err.code);
    }
    axm_trainer *t = axm_trainer_create(&cfg, &err);
    if (!t) {
        fprintf(stderr, "axonml train: %s\n", err.msg);
        return axm_exit_status(err.code);
    }
    if (check) {
        printf("%s: ok, %ld minibatches (%d epoch%s), %d nodes, train %s, validation %s, device %s\n", cfg_path,
               axm_trainer_total_steps(t), cfg.epochs, cfg.epochs == 1 ? "" : "s", cfg.nodes, cfg.train_dset,
               cfg.valid_dset[0] ? cfg.valid_dset : "none", axm_device_name(cfg.device));
        axm_trainer_destroy(t);
        return 0;
    }
    char note[600];
    axm_app_train_gpu *gpu = axm_app_train_gpu_attach(t, &cfg, note, sizeof note);
    if (note[0]) fprintf(stderr, "axonml train: note: %s\n", note);
    if (resume && axm_trainer_resume(t, resume, &err)) {
        fprintf(stderr, "axonml train: %s\n", err.msg);
        axm_app_train_gpu_detach(gpu);
        axm_trainer_destroy(t);
        return axm_exit_status(err.code);
    }
    cli_state S = {0};
    S.jsonl = !strcmp(progress, "jsonl");
    S.cfg = &cfg;
    S.last_train = S.last_val = NAN;
    S.start_step = axm_trainer_steps_done(t);
    if (!strcmp(progress, "bar"))
        S.bar = axm_progress_create("train", "batches",
                                    axm_trainer_total_steps(t) - S.start_step, stderr);
    axm_trainer_set_callback(t, on_event, &S);
    const volatile int *stop = axm_interrupt_install();
    int rc = axm_trainer_run(t, stop, NULL, &err);
    if (S.bar) axm_progress_finish(S.bar);
    int status = 0;
    if (rc == AXM_ERR_CANCELLED) {
        fprintf(stderr, "axonml train: interrupted; checkpoint %s (resume with --resume)\n",
                S.last_ckpt[0] ? S.last_ckpt : "(none)");
        status = 130;
    } else if (rc) {
        fprintf(stderr, "axonml train: %s\n", err.msg);
        status = axm_exit_status(rc);
    } else if (!S.jsonl) {
        char val[64];
        if (cfg.valid_dset[0]) snprintf(val, sizeof val, "validation loss %.6g", S.last_val);
        else snprintf(val, sizeof val, "no validation set");
        fprintf(stderr, "axonml train: done: %ld minibatches, train loss %.6g, %s, last checkpoint %s\n",
                axm_trainer_steps_done(t), S.last_train, val, S.last_ckpt);
    }
    axm_app_train_gpu_detach(gpu);
    axm_trainer_destroy(t);
    return status;
}
