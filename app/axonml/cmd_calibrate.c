/* axonml calibrate: fits a few global surrogate parameters to the teacher's thresholds, CVs and
 * rest (core/calib.h), stage 3 of weights/train-smf-mrg.sh. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "cli_util.h"
#include "cmds.h"
#include "interrupt.h"
#include "progress.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: axonml calibrate CONFIG --weights IN.json --out OUT.json [--threads N] [--quiet] [--check]\n"
            "  Fits the parameters listed in CONFIG (a JSON calibration config, e.g.\n"
            "  weights/eval/calibrate-smf-mrg.json) so that the surrogate of IN.json matches the teacher\n"
            "  (each grid scenario's own model, e.g. mrg): thresholds on the \"grids\" scenarios, conduction\n"
            "  velocities at the \"cv_grid\" diameters, an unstimulated \"rest\" run and the action\n"
            "  potential counts of pulse-train scenarios (\"train\": a file or an array of up to 4;\n"
            "  weight \"w_train\"), and the explicit step's headroom at \"stable_D_um\" (dt <=\n"
            "  stable_margin x limit). Search: \"lm\"\n"
            "  (Levenberg-Marquardt on the log ratios, finite-difference Jacobian) or \"coord\"\n"
            "  (coordinate search on the mean absolute log error). Parameters: S-MF params keys,\n"
            "  axonD@X / nodeD@X / veGain@X / cmGain@X (polynomial value at X = 6, 10, 14 um),\n"
            "  stencil.vm.out|mid, stencil.ve.out|mid (3 taps), stencil.vm.dK, stencil.ve.dK (the taps K\n"
            "  nodes out, sum kept; \"taps\": N widens the stencils); NAME:SCALE scales a parameter's steps.\n"
            "  OUT.json: the weights with the fitted values; its provenance.calibration list gets one record\n"
            "  (config, fitted names, start and end values, objective, evaluations).\n"
            "  --weights IN  starting weights (required)\n"
            "  --out OUT     calibrated weights (required; written atomically)\n"
            "  --threads N   CPU threads (default: all)\n"
            "  --quiet       no progress lines\n"
            "  --check       validate CONFIG and IN, print what would be fitted and exit\n"
            "  Ctrl-C stops at the next evaluation and writes the best point so far (marked interrupted).\n"
            "  Exit status: 0 ok, 1 run-time failure or interrupted, 2 bad input.\n");
}

typedef struct prog {
    axm_calib *c;
    int quiet, lm;
    double t0;
} prog;

static void on_progress(void *ud, int it, const double *x, double cost, double lam)
{
    prog *p = ud;
    if (p->quiet) return;
    axm_calib_stats s;
    axm_err err;
    axm_err_clear(&err);
    if (axm_calib_stats_at(p->c, x, &s, &err)) return;
    if (it < 0)
        fprintf(stderr, "start: ");
    else
        fprintf(stderr, "%s %d: ", p->lm ? "iteration" : "sweep", it);
    if (p->lm) fprintf(stderr, "rms %.4f, lambda %.3g, ", sqrt(cost), lam);
    else fprintf(stderr, "step %.4f, ", lam);
    fprintf(stderr, "objective %.4f (thr %.2f %%, cv %.2f %%, cv max %.2f %%, rest max %.2f mV", s.objective,
            s.thr_mean_pct, s.cv_mean_pct, s.cv_max_pct, s.rest_max_mV);
    if (s.n_train) fprintf(stderr, ", train max |dAP| %d", s.train_max_diff);
    if (s.n_stable) fprintf(stderr, ", dt/limit %.3f", s.stable_ratio);
    fprintf(stderr, ")  %.0f s\n", axm_now_s() - p->t0);
}

static cJSON *stats_json(const axm_calib_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "objective", s->objective);
    cJSON_AddNumberToObject(o, "thr_mean_abs_log_pct", s->thr_mean_pct);
    cJSON_AddNumberToObject(o, "thr_max_abs_log_pct", s->thr_max_pct);
    cJSON_AddNumberToObject(o, "cv_mean_abs_log_pct", s->cv_mean_pct);
    cJSON_AddNumberToObject(o, "cv_max_abs_log_pct", s->cv_max_pct);
    cJSON_AddNumberToObject(o, "rest_max_dev_mV", s->rest_max_mV);
    if (s->n_train) cJSON_AddNumberToObject(o, "train_max_ap_count_diff", s->train_max_diff);
    if (s->n_stable) cJSON_AddNumberToObject(o, "dt_over_explicit_limit", s->stable_ratio);
    return o;
}

int cmd_calibrate(int argc, char **argv)
{
    static const char *const valued[] = {"--weights", NULL};
    cli_args ca;
    int rc0 = cli_parse_args("calibrate", "calibration", argc, argv, valued, usage, &ca);
    if (rc0 >= 0) return rc0;
    const char *win = ca.extra[0], *out = ca.out;
    if (ca.has_device) {
        fprintf(stderr, "axonml calibrate: --device: calibrate runs on the CPU (expected no --device)\n");
        return 2;
    }
    if (!win) {
        fprintf(stderr, "axonml calibrate: --weights: expected the starting weights IN.json, got nothing\n");
        return 2;
    }
    if (!ca.check && (!out || !cli_ends_with(out, ".json"))) {
        fprintf(stderr, "axonml calibrate: --out: expected an OUT.json, got '%s'\n", out ? out : "nothing");
        return 2;
    }
    axm_err err;
    axm_err_clear(&err);
    axm_calib_cfg cfg;
    axm_calib_cfg_default(&cfg);
    if (axm_calib_cfg_load(&cfg, ca.config, &err)) {
        fprintf(stderr, "axonml calibrate: %s\n", err.msg);
        return axm_exit_status(err.code);
    }
    cfg.n_threads = (int)ca.threads;
    prog p = {NULL, ca.quiet, strcmp(cfg.method, "lm") == 0, axm_now_s()};
    cfg.lm.progress = on_progress;
    cfg.lm.progress_ud = &p;
    const volatile int *cancel = axm_interrupt_install();
    if (!ca.quiet) fprintf(stderr, "axonml calibrate: teacher thresholds and CVs...\n");
    axm_calib *c = axm_calib_create(&cfg, win, cancel, &err);
    if (!c) {
        fprintf(stderr, "axonml calibrate: %s\n", err.msg);
        return axm_exit_status(err.code);
    }
    p.c = c;
    int n = cfg.n_params;
    if (ca.check) {
        printf("%s: ok, %d parameters, %d residuals (method %s)\n", ca.config, n, axm_calib_n_residuals(c), cfg.method);
        axm_calib_destroy(c);
        return 0;
    }
    double x[AXM_CALIB_MAX_PARAMS], x0[AXM_CALIB_MAX_PARAMS] = {0};
    axm_calib_stats s0, s1;
    int rc = axm_calib_stats_at(c, x0, &s0, &err);
    if (!rc && !p.lm) on_progress(&p, -1, x0, 0, 0);
    int evals = 0;
    if (!rc) rc = axm_calib_search(c, x, &evals, &err);
    int interrupted = rc == AXM_ERR_CANCELLED;
    if (interrupted) {
        fprintf(stderr, "axonml calibrate: interrupted; writing the best point so far\n");
        rc = AXM_OK;
        axm_calib_set_cancel(c, NULL); /* the last statistics must run to the end */
    }
    const axm_model *m = NULL;
    if (!rc) {
        rc = axm_calib_stats_at(c, x, &s1, &err);
    }
    if (!rc) m = axm_calib_model_at(c, x, &err);
    if (!m) rc = rc ? rc : err.code;
    char *prov_text = NULL;
    if (!rc) {
        char *text = axm_read_text_file(win, "weights", NULL, &err);
        cJSON *w = text ? cJSON_Parse(text) : NULL;
        free(text);
        cJSON *prov = w ? cJSON_DetachItemFromObjectCaseSensitive(w, "provenance") : NULL;
        if (!cJSON_IsObject(prov)) {
            cJSON_Delete(prov);
            prov = cJSON_CreateObject();
        }
        cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(prov, "calibration");
        if (cJSON_IsObject(list)) { /* an earlier single record becomes the first of the list */
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, list);
            list = a;
        } else if (!cJSON_IsArray(list)) {
            cJSON_Delete(list);
            list = cJSON_CreateArray();
        }
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "tool", "axonml calibrate");
        cJSON_AddStringToObject(rec, "config", ca.config);
        cJSON_AddStringToObject(rec, "method", cfg.method);
        cJSON *g = cJSON_AddArrayToObject(rec, "grids");
        for (int i = 0; i < cfg.n_grids; i++) cJSON_AddItemToArray(g, cJSON_CreateString(cfg.grids[i]));
        cJSON_AddStringToObject(rec, "cv_grid", cfg.cv_grid);
        cJSON_AddStringToObject(rec, "rest", cfg.rest);
        cJSON_AddNumberToObject(rec, "w_cv", cfg.w_cv);
        cJSON_AddNumberToObject(rec, "w_rest", cfg.w_rest);
        cJSON_AddNumberToObject(rec, "rest_tol_mV", cfg.rest_tol_mV);
        if (cfg.n_trains == 1) {
            cJSON_AddStringToObject(rec, "train", cfg.train[0]);
        } else if (cfg.n_trains > 1) {
            cJSON *t = cJSON_AddArrayToObject(rec, "train");
            for (int i = 0; i < cfg.n_trains; i++) cJSON_AddItemToArray(t, cJSON_CreateString(cfg.train[i]));
        }
        if (cfg.n_trains) cJSON_AddNumberToObject(rec, "w_train", cfg.w_train);
        double v0[AXM_CALIB_MAX_PARAMS], v1[AXM_CALIB_MAX_PARAMS];
        axm_calib_values(c, x0, v0);
        axm_calib_values(c, x, v1);
        cJSON *fit = cJSON_AddArrayToObject(rec, "fitted"), *st = cJSON_AddObjectToObject(rec, "start"),
              *en = cJSON_AddObjectToObject(rec, "end");
        for (int k = 0; k < n; k++) {
            char nm[96];
            if (cfg.scale[k] != 1) snprintf(nm, sizeof nm, "%s:%g", cfg.params[k], cfg.scale[k]);
            else snprintf(nm, sizeof nm, "%s", cfg.params[k]);
            cJSON_AddItemToArray(fit, cJSON_CreateString(nm));
            cJSON_AddNumberToObject(st, cfg.params[k], v0[k]);
            cJSON_AddNumberToObject(en, cfg.params[k], v1[k]);
        }
        cJSON_AddItemToObject(rec, "stats_start", stats_json(&s0));
        cJSON_AddItemToObject(rec, "stats_end", stats_json(&s1));
        cJSON_AddNumberToObject(rec, "evaluations", evals);
        if (interrupted) cJSON_AddBoolToObject(rec, "interrupted", 1);
        cJSON_AddItemToArray(list, rec);
        cJSON_AddItemToObject(prov, "calibration", list);
        prov_text = cJSON_PrintUnformatted(prov);
        cJSON_Delete(prov);
        cJSON_Delete(w);
        rc = axm_model_save_weights(m, out, prov_text, &err);
    }
    free(prov_text);
    if (rc) {
        fprintf(stderr, "axonml calibrate: %s\n", err.msg);
    } else if (!ca.quiet) {
        fprintf(stderr,
                "axonml calibrate: objective %.4f -> %.4f (thr %.2f %% -> %.2f %%, cv %.2f %% -> %.2f %%, cv max %.2f %% -> "
                "%.2f %%, rest max %.2f -> %.2f mV, train max |dAP| %d -> %d), %d evaluations -> %s\n",
                s0.objective, s1.objective, s0.thr_mean_pct, s1.thr_mean_pct, s0.cv_mean_pct, s1.cv_mean_pct,
                s0.cv_max_pct, s1.cv_max_pct, s0.rest_max_mV, s1.rest_max_mV, s0.train_max_diff, s1.train_max_diff,
                evals, out);
    }
    axm_calib_destroy(c);
    if (rc) return axm_exit_status(rc);
    return interrupted ? 1 : 0;
}
