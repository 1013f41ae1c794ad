/* axonml simulate: run a scenario once (every condition one fiber) and write the traces. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axm_cuda.h"
#include "cli_device.h"
#include "cli_util.h"
#include "cmds.h"
#include "interrupt.h"
#include "progress.h"
#include "scenario.h"
#include "version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: axonml simulate CONFIG [--record v|all] [--every K] [--out FILE.csv|FILE.h5] [--json]\n"
            "                       [--threads N] [--device D] [--quiet] [--check]\n"
            "  Runs every condition of the scenario CONFIG (one fiber each) at waveform.amplitude_mA for\n"
            "  sim.tstop_ms and prints, per condition, whether it fired at the detect nodes.\n"
            "  --record v|all  what --out holds: vm only (default) or every state variable\n"
            "  --every K       record every K-th step (default 1; the initial state is always recorded)\n"
            "  --out FILE.csv  columns fiber,t_ms,v_node0..v_node{W-1} (all: <state>_node<i> for every\n"
            "                  state), one row per fiber and recorded time, fiber-major\n"
            "  --out FILE.h5   datasets t_ms (F), one (F, B, W) dataset per recorded state, and per fiber\n"
            "                  diameter_um, distance_mm, pw_ms, polarity, active; attributes dt_ms,\n"
            "                  tstop_ms, every, model, precision, scenario, version, units\n"
            "  --json          print the summary as JSON\n"
            "  --threads N     CPU threads (default: all)\n"
            "  --device D      auto, cpu or cuda in place of the scenario's sim.device\n"
            "  --quiet         no progress bar\n"
            "  --check         validate CONFIG, print the number of conditions and exit\n"
            "  Exit status: 0 ok, 1 run-time failure or interrupted, 2 bad input.\n");
}

typedef struct prog_ud {
    axm_progress *bar;
} prog_ud;

static void on_progress(void *ud, long done, long total)
{
    prog_ud *p = ud;
    (void)total;
    if (p->bar) axm_progress_update(p->bar, done, NULL);
}

typedef struct rec_view {
    long F;
    int B, S, W;
    unsigned mask;
    const double *data, *t;
    const axm_model_kind *kind;
} rec_view;

static void write_csv(FILE *f, const rec_view *v)
{
    fprintf(f, "fiber,t_ms");
    for (int s = 0; s < v->kind->n_states; s++) {
        if (!(v->mask & (1u << s))) continue;
        const char *name = s == v->kind->n_states - 1 ? "v" : v->kind->state_names[s];
        for (int w = 0; w < v->W; w++) fprintf(f, ",%s_node%d", name, w);
    }
    fputc('\n', f);
    for (int b = 0; b < v->B; b++)
        for (long k = 0; k < v->F; k++) {
            fprintf(f, "%d,%.10g", b, v->t[k]);
            const double *row = v->data + ((size_t)k * v->B + b) * (size_t)v->S * v->W;
            for (int i = 0; i < v->S * v->W; i++) {
                fputc(',', f);
                cli_csv_num(f, row[i]);
            }
            fputc('\n', f);
        }
}

static int h5_attr_d(hid_t loc, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return bad ? -1 : 0;
}

static int h5_attr_s(hid_t loc, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, t, v) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return bad ? -1 : 0;
}

static int h5_ds(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data,
                 const char *units, const char *axes)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int bad = d < 0 || H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
    if (!bad && units) bad = h5_attr_s(d, "units", units);
    if (!bad && axes) bad = h5_attr_s(d, "axes", axes);
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return bad ? -1 : 0;
}

static int write_h5(const char *path, const rec_view *v, const axm_setup *su, const unsigned char *active,
                    int every)
{
    const axm_scenario *sc = su->sc;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    int bad = 0;
    hsize_t dt[1] = {(hsize_t)v->F};
    bad |= h5_ds(f, "t_ms", H5T_NATIVE_DOUBLE, 1, dt, v->t, "ms", "time");
    double *buf = malloc((size_t)v->F * v->B * v->W * sizeof(double));
    if (!buf) bad = 1;
    int si = 0;
    for (int s = 0; s < v->kind->n_states && !bad; s++) {
        if (!(v->mask & (1u << s))) continue;
        for (long k = 0; k < v->F; k++)
            for (int b = 0; b < v->B; b++)
                memcpy(buf + ((size_t)k * v->B + b) * v->W,
                       v->data + (((size_t)k * v->B + b) * v->S + si) * v->W, (size_t)v->W * sizeof(double));
        hsize_t d3[3] = {(hsize_t)v->F, (hsize_t)v->B, (hsize_t)v->W};
        int is_v = s == v->kind->n_states - 1;
        bad |= h5_ds(f, is_v ? "v" : v->kind->state_names[s], H5T_NATIVE_DOUBLE, 3, d3, buf, is_v ? "mV" : "1",
                     "time,fiber,node");
        si++;
    }
    free(buf);
    int B = su->n_cond;
    double *col = malloc((size_t)B * sizeof(double));
    int *icol = malloc((size_t)B * sizeof(int));
    if (!col || !icol) bad = 1;
    hsize_t db[1] = {(hsize_t)B};
    for (int q = 0; q < 3 && !bad; q++) {
        for (int b = 0; b < B; b++)
            col[b] = q == 0 ? su->cond[b].diameter_um : q == 1 ? su->cond[b].distance_mm : su->cond[b].pw_ms;
        bad |= h5_ds(f, q == 0 ? "diameter_um" : q == 1 ? "distance_mm" : "pw_ms", H5T_NATIVE_DOUBLE, 1, db, col,
                     q == 0 ? "um" : q == 1 ? "mm" : "ms", "fiber");
    }
    if (!bad) {
        for (int b = 0; b < B; b++) icol[b] = su->cond[b].polarity;
        bad |= h5_ds(f, "polarity", H5T_NATIVE_INT, 1, db, icol, "-1 cathodic, +1 anodic", "fiber");
        for (int b = 0; b < B; b++) icol[b] = active[b];
        bad |= h5_ds(f, "active", H5T_NATIVE_INT, 1, db, icol, "1 = spike at the detect nodes", "fiber");
    }
    free(col);
    free(icol);
    if (!bad) {
        bad |= h5_attr_d(f, "dt_ms", sc->dt_ms);
        bad |= h5_attr_d(f, "tstop_ms", sc->tstop_ms);
        bad |= h5_attr_d(f, "every", every);
        bad |= h5_attr_d(f, "amplitude_mA", sc->wave ? sc->wave->amplitude_mA : 0);
        bad |= h5_attr_s(f, "model", sc->model_name);
        bad |= h5_attr_s(f, "weights", sc->weights);
        bad |= h5_attr_s(f, "precision", axm_prec_name(sc->prec));
        bad |= h5_attr_s(f, "waveform", axm_scenario_wave_name(sc));
        bad |= h5_attr_s(f, "scenario", sc->path);
        bad |= h5_attr_s(f, "version", axm_version());
    }
    if (H5Fclose(f) < 0) bad = 1;
    return bad ? -1 : 0;
}

int cmd_simulate(int argc, char **argv)
{
    static const char *const own[] = {"--record", "--every", NULL};
    cli_args ca;
    int rc0 = cli_parse_args("simulate", "scenario", argc, argv, own, usage, &ca);
    if (rc0 >= 0) return rc0;
    const char *out = ca.out, *record = ca.extra[0] ? ca.extra[0] : "v";
    int json = ca.json, quiet = ca.quiet, check = ca.check;
    long threads = ca.threads, every = 1;
    if (strcmp(record, "v") && strcmp(record, "all")) {
        fprintf(stderr, "axonml simulate: --record: expected v or all, got '%s'\n", record);
        return 2;
    }
    if (ca.extra[1] && cli_int(ca.extra[1], 1, 100000000L, &every)) {
        fprintf(stderr, "axonml simulate: --every: expected a positive integer, got '%s'\n", ca.extra[1]);
        return 2;
    }
    int h5 = out && (cli_ends_with(out, ".h5") || cli_ends_with(out, ".hdf5"));
    if (out && !h5 && !cli_ends_with(out, ".csv")) {
        fprintf(stderr, "axonml simulate: --out: expected FILE.csv or FILE.h5, got '%s'\n", out);
        return 2;
    }
    axm_scenario *sc;
    int rc1 = cli_scenario_load("simulate", &ca, &sc);
    if (rc1 >= 0) return rc1;
    axm_err err;
    axm_err_clear(&err);
    axm_setup_opts so = {0, (int)threads, 0};
    axm_setup *su = NULL;
    axm_monitor *rec = NULL, *ap = NULL;
    axm_cuda_sim *gs = NULL;
    axm_cuda_mon *gap = NULL, *grec = NULL;
    int status = 0;
    const axm_model_kind *kind = axm_model_kind_find(sc->model_name);
    int S = kind->n_states, W = sc->nodes;
    unsigned mask = !strcmp(record, "all") ? (S >= 32 ? 0xffffffffu : (1u << S) - 1) : 1u << (S - 1);
    int n_rec = !strcmp(record, "all") ? S : 1;
    long n_steps = lround(sc->tstop_ms / sc->dt_ms);
    double bytes = (double)(n_steps / every + 2) * axm_scenario_n_conditions(sc) * n_rec * W * 8.0;
    if (out && bytes > 4e9) {
        fprintf(stderr, "axonml simulate: %s: expected at most 4 GB of traces, got %.1f GB (use --every, --record v "
                "or fewer conditions)\n", ca.config, bytes / 1e9);
        axm_scenario_destroy(sc);
        return 2;
    }
    su = axm_setup_create(sc, &so, &err);
    if (!su) {
        fprintf(stderr, "axonml simulate: %s\n", err.msg);
        axm_scenario_destroy(sc);
        return axm_exit_status(err.code);
    }
    axm_setup_print_notes(su, "axonml simulate", stderr);
    if (check) return cli_check_done(sc, su);
    ap = axm_apcount_create(&sc->detect, &err);
    if (ap && out) rec = axm_recorder_create(mask, NULL, 0, (int)every, 0, &err);
    if (!ap || (out && !rec)) {
        fprintf(stderr, "axonml simulate: %s\n", err.msg);
        status = axm_exit_status(err.code ? err.code : AXM_ERR_RUNTIME);
        goto done;
    }
    if (cli_use_gpu(sc, CLI_GPU_SMF, "axonml simulate")) {
        gs = axm_cuda_sim_create(su->model, su->n_cond, sc->nodes, su->diameter_um, sc->prec, -1, &err);
        if (gs && axm_cuda_sim_set_drive(gs, &su->drive, &err) == AXM_OK) {
            gap = axm_cuda_apcount_create(&sc->detect, &err);
            if (gap && out) grec = axm_cuda_recorder_create(mask, NULL, 0, (int)every, 0, &err);
        }
        if (!gs || !gap || (out && !grec)) {
            fprintf(stderr, "axonml simulate: note: GPU set-up failed (%s); running on the CPU\n", err.msg);
            axm_err_clear(&err);
            if (grec) axm_cuda_mon_destroy(grec);
            if (gap) axm_cuda_mon_destroy(gap);
            axm_cuda_sim_destroy(gs);
            gs = NULL;
            gap = grec = NULL;
        }
    }
    prog_ud pu = {NULL};
    if (!quiet) pu.bar = axm_progress_create("simulate", "steps", su->n_steps, stderr);
    axm_run_opts ro = axm_setup_run_opts(su, axm_interrupt_install());
    ro.progress = on_progress;
    ro.progress_ud = &pu;
    axm_monitor *mons[2] = {ap, rec};
    axm_cuda_mon *gmons[2] = {gap, grec};
    double t0 = axm_now_s();
    int rc = gs ? axm_cuda_sim_run(gs, &ro, gmons, grec ? 2 : 1, &err) : axm_sim_run(su->sim, &ro, mons, rec ? 2 : 1, &err);
    double secs = axm_now_s() - t0;
    if (pu.bar) axm_progress_finish(pu.bar);
    if (rc) {
        fprintf(stderr, "axonml simulate: %s\n", rc == AXM_ERR_CANCELLED ? "interrupted; nothing written" : err.msg);
        status = axm_exit_status(rc);
        goto done;
    }
    const int *counts = gs ? axm_cuda_apcount_counts(gap) : axm_apcount_counts(ap);
    const double *first = gs ? axm_cuda_apcount_first_ms(gap) : axm_apcount_first_ms(ap);
    int nn = sc->detect.n_nodes, B = su->n_cond;
    unsigned char *active = calloc((size_t)B, 1);
    if (!active) {
        fprintf(stderr, "axonml simulate: out of memory\n");
        status = 1;
        goto done;
    }
    for (int b = 0; b < B; b++) {
        int seen = 0;
        for (int j = 0; j < nn; j++) seen += counts[(size_t)b * nn + j] > 0;
        active[b] = seen >= sc->detect.at_least;
    }
    if (out) {
        rec_view v;
        int sr = 0, wr = 0;
        v.F = gs ? axm_cuda_recorder_frames(grec) : axm_recorder_frames(rec);
        v.data = gs ? axm_cuda_recorder_data(grec, &sr, &wr) : axm_recorder_data(rec, &sr, &wr);
        v.t = gs ? axm_cuda_recorder_times(grec) : axm_recorder_times(rec);
        v.B = B;
        v.S = sr;
        v.W = wr;
        v.mask = mask;
        v.kind = kind;
        axm_err we;
        axm_atomic_file *o = h5 ? axm_atomic_reserve(out, "output", &we) : axm_atomic_open(out, "output", &we);
        int bad = !o;
        if (o && h5 && write_h5(o->tmp, &v, su, active, (int)every) != 0) {
            axm_atomic_abort(o);
            axm_fail(&we, AXM_ERR_IO, "%s: cannot write the output: HDF5 error", out);
            bad = 1;
        } else if (o) {
            if (!h5) write_csv(o->f, &v);
            bad = axm_atomic_commit(o, &we) != AXM_OK;
        }
        if (bad) {
            fprintf(stderr, "axonml simulate: %s\n", we.msg);
            status = 1;
        }
    }
    if (json) {
        printf("{\"scenario\":");
        cli_json_str(stdout, sc->path);
        printf(",\"model\":");
        cli_json_str(stdout, sc->model_name);
        printf(",\"seconds\":%.3f,\"steps\":%ld,\"out\":", secs, su->n_steps);
        if (out) cli_json_str(stdout, out);
        else printf("null");
        printf(",\"conditions\":[");
        for (int b = 0; b < B; b++) {
            const axm_condition *c = &su->cond[b];
            printf("%s{\"fiber\":%d,\"diameter_um\":", b ? "," : "", b);
            cli_json_num(stdout, c->diameter_um);
            printf(",\"distance_mm\":");
            cli_json_num(stdout, c->distance_mm);
            printf(",\"pw_ms\":");
            cli_json_num(stdout, c->pw_ms);
            printf(",\"polarity\":");
            cli_json_str(stdout, axm_polarity_name(c->polarity));
            printf(",\"active\":%s,\"spikes\":[", active[b] ? "true" : "false");
            for (int j = 0; j < nn; j++) printf("%s%d", j ? "," : "", counts[(size_t)b * nn + j]);
            printf("],\"first_ms\":[");
            for (int j = 0; j < nn; j++) {
                if (j) putchar(',');
                cli_json_num(stdout, first[(size_t)b * nn + j]);
            }
            printf("]}");
        }
        printf("]}\n");
    } else {
        printf("fiber,diameter_um,distance_mm,waveform,pw_ms,polarity,amplitude_mA,active,spikes,first_spike_ms\n");
        for (int b = 0; b < B; b++) {
            const axm_condition *c = &su->cond[b];
            int tot = 0;
            double t1 = NAN;
            for (int j = 0; j < nn; j++) {
                tot += counts[(size_t)b * nn + j];
                double t = first[(size_t)b * nn + j];
                if (!isnan(t) && (isnan(t1) || t < t1)) t1 = t;
            }
            printf("%d,", b);
            cli_csv_num(stdout, c->diameter_um);
            putchar(',');
            cli_csv_num(stdout, c->distance_mm);
            printf(",%s,", axm_scenario_wave_name(sc));
            cli_csv_num(stdout, c->pw_ms);
            printf(",%s,", axm_polarity_name(c->polarity));
            cli_csv_num(stdout, sc->wave ? sc->wave->amplitude_mA : NAN);
            printf(",%d,%d,", active[b], tot);
            cli_csv_num(stdout, t1);
            putchar('\n');
        }
    }
    free(active);
done:
    if (grec) axm_cuda_mon_destroy(grec);
    if (gap) axm_cuda_mon_destroy(gap);
    axm_cuda_sim_destroy(gs);
    if (rec) axm_monitor_destroy(rec);
    if (ap) axm_monitor_destroy(ap);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    return status;
}
