/* axonml cv: conduction velocity for every fiber diameter of a scenario. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_device.h"
#include "cli_util.h"
#include "cmds.h"
#include "cv.h"
#include "interrupt.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: axonml cv CONFIG [--out FILE.csv] [--json] [--threads N] [--device D] [--quiet] [--check]\n"
            "  Conduction velocity of the scenario's model for every fiber.diameter_um: a 2 nA, 0.1 ms\n"
            "  intracellular pulse into node 0 from 0.5 ms (no extracellular field); CV = (x_40 - x_10) /\n"
            "  (t_40 - t_10) from the first upward crossings of 0 mV (linearly interpolated). Uses the\n"
            "  scenario's model, fiber.nodes (>= 41), sim.dt_ms, sim.tstop_ms and precision; the stimulus\n"
            "  keys are ignored.\n"
            "  Output (CSV on stdout, or FILE): diameter_um,cv_m_per_s,stim_nA,t_10_ms,t_40_ms\n"
            "  (cv nan when the pulse did not propagate to node 40).\n"
            "  --out FILE   write the CSV to FILE (atomically)\n"
            "  --json       print the results as JSON on stdout\n"
            "  --threads N  CPU threads (default: all)\n"
            "  --device D   in place of the scenario's sim.device (cv runs on the CPU: a note says so)\n"
            "  --quiet      accepted for symmetry with the other commands (cv prints no progress)\n"
            "  --check      validate CONFIG, print the number of diameters and exit\n"
            "  Exit status: 0 ok, 1 run-time failure or interrupted, 2 bad input.\n");
}

static void write_csv(FILE *f, const axm_scenario *sc, const axm_cv_result *r, double amp_nA)
{
    fprintf(f, "diameter_um,cv_m_per_s,stim_nA,t_10_ms,t_40_ms\n");
    for (int i = 0; i < sc->n_diam; i++) {
        cli_csv_num(f, sc->diameter_um[i]);
        fputc(',', f);
        cli_csv_num(f, r[i].cv_m_per_s);
        fputc(',', f);
        cli_csv_num(f, amp_nA);
        fputc(',', f);
        cli_csv_num(f, r[i].t_a_ms);
        fputc(',', f);
        cli_csv_num(f, r[i].t_b_ms);
        fputc('\n', f);
    }
}

int cmd_cv(int argc, char **argv)
{
    cli_args ca;
    int rc0 = cli_parse_args("cv", "scenario", argc, argv, NULL, usage, &ca);
    if (rc0 >= 0) return rc0;
    const char *out = ca.out;
    int json = ca.json;
    long threads = ca.threads;
    if (out && !cli_ends_with(out, ".csv")) {
        fprintf(stderr, "axonml cv: --out: expected a FILE.csv, got '%s'\n", out);
        return 2;
    }
    axm_scenario *sc;
    int rc1 = cli_scenario_load("cv", &ca, &sc);
    if (rc1 >= 0) return rc1;
    axm_err err;
    axm_err_clear(&err);
    axm_cv_opts o = axm_cv_opts_default();
    if (sc->nodes <= o.node_b) {
        fprintf(stderr, "axonml cv: %s: fiber.nodes: expected >= %d (CV is measured between nodes %d and %d), got %d\n",
                sc->path, o.node_b + 1, o.node_a, o.node_b, sc->nodes);
        axm_scenario_destroy(sc);
        return 2;
    }
    axm_model *m = axm_scenario_model(sc, &err);
    if (!m) {
        fprintf(stderr, "axonml cv: %s\n", err.msg);
        axm_scenario_destroy(sc);
        return axm_exit_status(err.code);
    }
    if (ca.check) {
        printf("%s: ok, %d diameters, model %s (%s), %d nodes\n", sc->path, sc->n_diam, sc->model_name,
               axm_prec_name(sc->prec), sc->nodes);
        axm_model_destroy(m);
        axm_scenario_destroy(sc);
        return 0;
    }
    if (axm_model_untrained_warning(m)) fprintf(stderr, "axonml cv: %s\n", axm_model_untrained_warning(m));
    cli_use_gpu(sc, 0, "axonml cv");
    o.dt_ms = sc->dt_ms;
    o.tstop_ms = sc->tstop_ms;
    o.n_threads = (int)threads;
    o.cancel = axm_interrupt_install();
    axm_cv_result *res = calloc((size_t)sc->n_diam, sizeof *res);
    if (!res) {
        fprintf(stderr, "axonml cv: out of memory\n");
        axm_model_destroy(m);
        axm_scenario_destroy(sc);
        return 1;
    }
    int rc = axm_cv(m, sc->n_diam, sc->diameter_um, sc->nodes, sc->prec, &o, res, &err);
    int status = 0;
    if (rc) {
        fprintf(stderr, "axonml cv: %s\n", rc == AXM_ERR_CANCELLED ? "interrupted" : err.msg);
        status = axm_exit_status(rc);
        goto done;
    }
    for (int i = 0; i < sc->n_diam; i++)
        if (isnan(res[i].cv_m_per_s))
            fprintf(stderr, "axonml cv: note: D = %g um: no propagated spike from node 10 to node 40 within %g ms\n",
                    sc->diameter_um[i], sc->tstop_ms);
    if (out) {
        axm_err we;
        axm_atomic_file *co = axm_atomic_open(out, "output", &we);
        if (co) write_csv(co->f, sc, res, o.amp_nA);
        if (!co || axm_atomic_commit(co, &we) != AXM_OK) {
            fprintf(stderr, "axonml cv: %s\n", we.msg);
            status = 1;
        }
    }
    if (json) {
        printf("{\"scenario\":");
        cli_json_str(stdout, sc->path);
        printf(",\"model\":");
        cli_json_str(stdout, sc->model_name);
        printf(",\"stim_nA\":%g,\"cv\":[", o.amp_nA);
        for (int i = 0; i < sc->n_diam; i++) {
            printf("%s{\"diameter_um\":", i ? "," : "");
            cli_json_num(stdout, sc->diameter_um[i]);
            printf(",\"cv_m_per_s\":");
            cli_json_num(stdout, res[i].cv_m_per_s);
            printf(",\"t_10_ms\":");
            cli_json_num(stdout, res[i].t_a_ms);
            printf(",\"t_40_ms\":");
            cli_json_num(stdout, res[i].t_b_ms);
            printf("}");
        }
        printf("]}\n");
    } else if (!out) write_csv(stdout, sc, res, o.amp_nA);
done:
    free(res);
    axm_model_destroy(m);
    axm_scenario_destroy(sc);
    return status;
}
