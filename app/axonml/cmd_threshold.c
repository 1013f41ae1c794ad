/* axonml threshold: activation thresholds for every condition of a scenario (batched bisection). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "axm_cuda.h"
#include "cli_device.h"
#include "cli_util.h"
#include "cmds.h"
#include "interrupt.h"
#include "progress.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: axonml threshold CONFIG [--out FILE.csv] [--json] [--threads N] [--device D] [--quiet] [--check]\n"
            "  Finds the activation threshold of every condition of the scenario CONFIG (the Cartesian\n"
            "  product of fiber.diameter_um x electrode.distance_mm x waveform.pw_ms x waveform.polarity)\n"
            "  by bisection on the stimulus amplitude, all conditions in one batch.\n"
            "  Output (CSV on stdout, or FILE): condition,diameter_um,distance_mm,waveform,pw_ms,polarity,\n"
            "  threshold_mA,lower_mA,status — threshold_mA is the smallest activating amplitude found\n"
            "  (magnitude, mA), lower_mA the largest non-activating one; status is ok, no_activation,\n"
            "  block, active_at_zero, not_converged, nan or cancelled (then both are nan).\n"
            "  --out FILE   write the CSV to FILE (atomically) and print a summary\n"
            "  --json       print the results as JSON on stdout\n"
            "  --threads N  CPU threads (default: all)\n"
            "  --device D   auto, cpu or cuda in place of the scenario's sim.device\n"
            "  --quiet      no progress bar\n"
            "  --check      validate CONFIG, print the number of conditions and exit\n"
            "  Exit status: 0 ok, 1 run-time failure or interrupted, 2 bad input.\n");
}

typedef struct prog_ud {
    axm_progress *bar;
} prog_ud;

static void on_progress(void *ud, int n_decided, int n_total, int iteration)
{
    prog_ud *p = ud;
    char post[48];
    snprintf(post, sizeof post, "iteration %d", iteration);
    (void)n_total;
    if (p->bar) axm_progress_update(p->bar, n_decided, post);
}

static void write_csv(FILE *f, const axm_setup *su, const axm_thresh_result *r)
{
    const char *wn = axm_scenario_wave_name(su->sc);
    fprintf(f, "condition,diameter_um,distance_mm,waveform,pw_ms,polarity,threshold_mA,lower_mA,status\n");
    for (int i = 0; i < su->n_cond; i++) {
        const axm_condition *c = &su->cond[i];
        fprintf(f, "%d,", i);
        cli_csv_num(f, c->diameter_um);
        fputc(',', f);
        cli_csv_num(f, c->distance_mm);
        fprintf(f, ",%s,", wn);
        cli_csv_num(f, c->pw_ms);
        fprintf(f, ",%s,", axm_polarity_name(c->polarity));
        cli_csv_num(f, r->upper[i]);
        fputc(',', f);
        cli_csv_num(f, r->lower[i]);
        fprintf(f, ",%s\n", axm_thresh_status_name(r->status[i]));
    }
}

static void write_json(FILE *f, const axm_setup *su, const axm_thresh_result *r, double secs)
{
    fprintf(f, "{\"scenario\":");
    cli_json_str(f, su->sc->path);
    fprintf(f, ",\"model\":");
    cli_json_str(f, su->sc->model_name);
    fprintf(f, ",\"n_conditions\":%d,\"n_sims\":%ld,\"iterations\":%d,\"seconds\":%.3f,\"thresholds\":[", su->n_cond,
            r->n_sims, r->iterations, secs);
    for (int i = 0; i < su->n_cond; i++) {
        const axm_condition *c = &su->cond[i];
        fprintf(f, "%s{\"condition\":%d,\"diameter_um\":", i ? "," : "", i);
        cli_json_num(f, c->diameter_um);
        fprintf(f, ",\"distance_mm\":");
        cli_json_num(f, c->distance_mm);
        fprintf(f, ",\"waveform\":");
        cli_json_str(f, axm_scenario_wave_name(su->sc));
        fprintf(f, ",\"pw_ms\":");
        cli_json_num(f, c->pw_ms);
        fprintf(f, ",\"polarity\":");
        cli_json_str(f, axm_polarity_name(c->polarity));
        fprintf(f, ",\"threshold_mA\":");
        cli_json_num(f, r->upper[i]);
        fprintf(f, ",\"lower_mA\":");
        cli_json_num(f, r->lower[i]);
        fprintf(f, ",\"status\":");
        cli_json_str(f, axm_thresh_status_name(r->status[i]));
        fputc('}', f);
    }
    fprintf(f, "]}\n");
}

int cmd_threshold(int argc, char **argv)
{
    cli_args ca;
    int rc0 = cli_parse_args("threshold", "scenario", argc, argv, NULL, usage, &ca);
    if (rc0 >= 0) return rc0;
    const char *out = ca.out;
    int json = ca.json, quiet = ca.quiet, check = ca.check;
    long threads = ca.threads;
    if (out && !cli_ends_with(out, ".csv")) {
        fprintf(stderr, "axonml threshold: --out: expected a FILE.csv, got '%s'\n", out);
        return 2;
    }
    axm_scenario *sc;
    int rc1 = cli_scenario_load("threshold", &ca, &sc);
    if (rc1 >= 0) return rc1;
    axm_err err;
    axm_err_clear(&err);
    axm_setup_opts so = {1, (int)threads, 0};
    axm_setup *su = axm_setup_create(sc, &so, &err);
    if (!su) {
        fprintf(stderr, "axonml threshold: %s\n", err.msg);
        axm_scenario_destroy(sc);
        return axm_exit_status(err.code);
    }
    axm_setup_print_notes(su, "axonml threshold", stderr);
    if (check) return cli_check_done(sc, su);
    const volatile int *cancel = axm_interrupt_install();
    axm_thresh_opts to = axm_setup_thresh_opts(su);
    prog_ud pu = {NULL};
    if (!quiet) pu.bar = axm_progress_create("threshold", "conditions", su->n_cond, stderr);
    to.progress = on_progress;
    to.progress_ud = &pu;
    to.cancel = cancel;
    axm_thresh_result r;
    memset(&r, 0, sizeof r);
    double t0 = axm_now_s();
    int rc = -1;
    if (cli_use_gpu(sc, CLI_GPU_SMF | CLI_GPU_MRG, "axonml threshold")) {
        if (!strcmp(sc->model_name, "mrg")) {
            axm_cuda_mrg *g =
                axm_cuda_mrg_create(su->model, su->n_cond, sc->nodes, su->diameter_um, sc->prec, -1, &err);
            if (g && axm_cuda_mrg_set_drive(g, &su->drive, &err) == AXM_OK)
                rc = axm_cuda_mrg_threshold(g, &to, &r, &err);
            axm_cuda_mrg_destroy(g);
        } else {
            axm_cuda_sim *g =
                axm_cuda_sim_create(su->model, su->n_cond, sc->nodes, su->diameter_um, sc->prec, -1, &err);
            if (g && axm_cuda_sim_set_drive(g, &su->drive, &err) == AXM_OK) rc = axm_cuda_threshold(g, &to, &r, &err);
            axm_cuda_sim_destroy(g);
        }
        if (rc != AXM_OK && rc != AXM_ERR_CANCELLED) {
            fprintf(stderr, "axonml threshold: note: GPU run failed (%s); running on the CPU\n", err.msg);
            axm_thresh_result_free(&r);
            axm_err_clear(&err);
            rc = -1;
        }
    }
    if (rc == -1) rc = axm_threshold(su->sim, &to, &r, &err);
    double secs = axm_now_s() - t0;
    if (pu.bar) axm_progress_finish(pu.bar);
    int status = 0;
    if (rc && rc != AXM_ERR_CANCELLED) {
        fprintf(stderr, "axonml threshold: %s\n", err.msg);
        status = axm_exit_status(rc);
        goto done;
    }
    /* a condition that did not converge has no threshold, whichever backend ran it */
    for (int i = 0; i < r.n; i++)
        if (r.status[i] != AXM_TH_OK) r.upper[i] = r.lower[i] = NAN;
    if (rc == AXM_ERR_CANCELLED) {
        fprintf(stderr, "axonml threshold: interrupted; writing the thresholds decided so far\n");
        status = 1;
    }
    if (out) {
        axm_err we;
        axm_atomic_file *o = axm_atomic_open(out, "output", &we);
        if (o) write_csv(o->f, su, &r);
        if (!o || axm_atomic_commit(o, &we) != AXM_OK) {
            fprintf(stderr, "axonml threshold: %s\n", we.msg);
            status = 1;
        }
    }
    if (json) write_json(stdout, su, &r, secs);
    else if (!out) write_csv(stdout, su, &r);
    else {
        int ok = 0;
        for (int i = 0; i < r.n; i++) ok += r.status[i] == AXM_TH_OK;
        printf("%d thresholds (%d ok) in %.2f s, %ld fiber simulations -> %s\n", r.n, ok, secs, r.n_sims, out);
    }
    axm_thresh_result_free(&r);
done:
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    return status;
}
