/* MRG forward on the GPU (axm_cuda_mrg_*) against the CPU engine in the same process: node-steps/s
 * for batches of 53-node fibers (gendata's default length) under a firing cathodic point-source pulse,
 * fp64 and fp32 node-state storage, and with every step's states recorded (float, as gendata keeps
 * them). Then MRG thresholds/s (axm_cuda_mrg_threshold against axm_threshold on a handful of the same
 * conditions, all cores): 51 nodes, 5 ms, resolution 1 %. Prints a note and exits 0 without a CUDA
 * device. Last, gendata's GPU engine (draws, e, simulation, traces into host memory; no file) with 1
 * and k runs of 1024 fibers per call. AXM_BENCH_QUICK=1: smaller batches (up to 1e4 fibers);
 * AXM_BENCH_ONLY=gendata: only the gendata rows; AXM_BENCH_FORWARD=1: only the fp64 forward rows
 * (tests/gpu/check.sh's kernel variants, a few seconds each); AXM_BENCH_PROFILE=1: one fp64 forward
 * of 1e4 fibers, 50 steps (one launch after the warm-up's: tests/gpu/profile.sh's target). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axm_cuda.h"
#include "axonml.h"
#include "bench_util.h"
#include "datagen.h"

#define NW 53
#define NSTEPS 500
#define DT 0.005
/* NEURON on one core (bench_util.h) as node-steps/s: the "x one NEURON core per fiber" */
#define NEURON_RATE (BENCH_NEURON_MRG_NODES * BENCH_NEURON_MRG_STEPS / BENCH_NEURON_MRG_S)

typedef struct stim {
    double *D, wave[NSTEPS + 1];
    const double *waves[1];
    axm_source *src;
    int *wave_of;
    axm_drive d;
} stim;

static void stim_init(stim *s, int B)
{
    memset(s, 0, sizeof *s);
    s->D = malloc(sizeof(double) * B);
    s->src = calloc((size_t)B, sizeof *s->src);
    s->wave_of = calloc((size_t)B, sizeof(int));
    for (int b = 0; b < B; b++) {
        s->D[b] = 5.7 + (16.0 - 5.7) * (b % 97) / 96.0;
        s->src[b].kind = AXM_SRC_POINT;
        s->src[b].z_um = 1000;
        s->src[b].rho_ohm_cm = 500;
    }
    for (int k = 0; k <= NSTEPS; k++) s->wave[k] = (k >= 40 && k < 60) ? -1.0 : 0.0;
    s->waves[0] = s->wave;
    s->d.n_contacts = 1;
    s->d.sources = s->src;
    s->d.n_waves = 1;
    s->d.waves = s->waves;
    s->d.wave_len = NSTEPS + 1;
    s->d.wave_of = s->wave_of;
}

static void stim_free(stim *s)
{
    free(s->D);
    free(s->src);
    free(s->wave_of);
}

/* node-steps/s of n_steps steps after 10 of warm-up; 0 on failure (printed). lanes: per fiber
 * (axm_cuda_mrg_set_lanes; 0: automatic). */
static double gpu_rate_n(const axm_model *m, int B, axm_prec prec, int record, int lanes, long n_steps)
{
    stim st;
    stim_init(&st, B);
    axm_err err;
    axm_err_clear(&err);
    double rate = 0;
    float *rec = record ? malloc(sizeof(float) * (size_t)n_steps * B * 5 * NW) : NULL;
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, B, NW, st.D, prec, -1, &err);
    if (g && axm_cuda_mrg_set_drive(g, &st.d, &err) == AXM_OK && axm_cuda_mrg_set_lanes(g, lanes, &err) == AXM_OK &&
        (!record || rec)) {
        axm_run_opts o;
        memset(&o, 0, sizeof o);
        o.dt_ms = DT;
        o.n_steps = 10;
        o.reinit = 1;
        if (axm_cuda_mrg_run(g, &o, AXM_FP32, NULL, &err) == AXM_OK) { /* warm-up */
            o.n_steps = n_steps;
            double t0 = bench_wall();
            if (axm_cuda_mrg_run(g, &o, AXM_FP32, rec, &err) == AXM_OK) rate = (double)B * NW * n_steps / (bench_wall() - t0);
        }
    }
    if (rate == 0) printf("  (B=%d: %s)\n", B, err.msg);
    axm_cuda_mrg_destroy(g);
    free(rec);
    stim_free(&st);
    return rate;
}

static double gpu_rate_l(const axm_model *m, int B, axm_prec prec, int record, int lanes)
{
    return gpu_rate_n(m, B, prec, record, lanes, NSTEPS);
}

static double gpu_rate(const axm_model *m, int B, axm_prec prec, int record)
{
    return gpu_rate_l(m, B, prec, record, 0);
}

static double cpu_rate(const axm_model *m, int B)
{
    stim st;
    stim_init(&st, B);
    axm_err err;
    axm_err_clear(&err);
    double rate = 0;
    axm_sim *s = axm_sim_create(m, B, NW, st.D, AXM_FP64, 0, &err);
    if (s && axm_sim_set_drive(s, &st.d, &err) == AXM_OK) {
        axm_run_opts o;
        memset(&o, 0, sizeof o);
        o.dt_ms = DT;
        o.n_steps = NSTEPS;
        o.reinit = 1;
        double t0 = bench_wall();
        if (axm_sim_run(s, &o, NULL, 0, &err) == AXM_OK) rate = (double)B * NW * NSTEPS / (bench_wall() - t0);
    }
    axm_sim_destroy(s);
    stim_free(&st);
    return rate;
}

/* ---- thresholds ---------------------------------------------------------------------------- */

#define TH_NW 51
#define TH_TSTOP 5.0
#define TH_NSTEPS 1000

typedef struct th_prob {
    int B;
    double *D, *wave[2];
    const double *waves[2];
    axm_source *src;
    int *wave_of;
    axm_drive d;
    axm_thresh_opts o;
} th_prob;

/* Condition b: diameter 5.7..16 um, a point source 0.5..2.5 mm away and up to half an internode off a
 * node, a 0.1 ms monophasic pulse from 0.1 ms, cathodic (anodic for every fourth condition). */
static void th_init(th_prob *p, int B)
{
    memset(p, 0, sizeof *p);
    p->B = B;
    p->D = malloc(sizeof(double) * B);
    p->src = calloc((size_t)B, sizeof *p->src);
    p->wave_of = calloc((size_t)B, sizeof(int));
    for (int q = 0; q < 2; q++) {
        p->wave[q] = malloc(sizeof(double) * (TH_NSTEPS + 1));
        for (int k = 0; k <= TH_NSTEPS; k++) p->wave[q][k] = (k >= 20 && k < 40) ? (q ? 1.0 : -1.0) : 0.0;
        p->waves[q] = p->wave[q];
    }
    for (int b = 0; b < B; b++) {
        p->D[b] = 5.7 + (16.0 - 5.7) * (b % 97) / 96.0;
        p->src[b].kind = AXM_SRC_POINT;
        p->src[b].y_um = 500.0 * ((b * 7) % 11) / 10.0;
        p->src[b].z_um = 500 + 2000.0 * ((b * 13) % 29) / 28.0;
        p->src[b].rho_ohm_cm = 500;
        p->wave_of[b] = b % 4 == 3;
    }
    p->d.n_contacts = 1;
    p->d.sources = p->src;
    p->d.n_waves = 2;
    p->d.waves = p->waves;
    p->d.wave_len = TH_NSTEPS + 1;
    p->d.wave_of = p->wave_of;
    p->o = axm_thresh_opts_default();
    p->o.dt_ms = DT;
    p->o.tstop_ms = TH_TSTOP;
    p->o.resolution = 0.01;
    p->o.D_um = p->D;
}

static void th_free(th_prob *p)
{
    free(p->D);
    free(p->src);
    free(p->wave_of);
    free(p->wave[0]);
    free(p->wave[1]);
}

static int th_ok(const axm_thresh_result *r)
{
    int ok = 0;
    for (int b = 0; b < r->n; b++) ok += r->status[b] == AXM_TH_OK;
    return ok;
}

/* thresholds/s of B conditions; 0 on failure (printed) */
static double th_rate_l(const axm_model *m, int B, int gpu, axm_prec prec, int lanes)
{
    th_prob p;
    th_init(&p, B);
    axm_err err;
    axm_err_clear(&err);
    axm_thresh_result r;
    memset(&r, 0, sizeof r);
    double rate = 0, t0 = 0, t1 = 0;
    int rc = -1;
    if (gpu) {
        axm_cuda_mrg *g = axm_cuda_mrg_create(m, B, TH_NW, p.D, prec, -1, &err);
        if (g && axm_cuda_mrg_set_drive(g, &p.d, &err) == AXM_OK && axm_cuda_mrg_set_lanes(g, lanes, &err) == AXM_OK) {
            if (lanes == 0) lanes = axm_cuda_mrg_lanes(g);
            t0 = bench_wall();
            rc = axm_cuda_mrg_threshold(g, &p.o, &r, &err);
            t1 = bench_wall();
        }
        axm_cuda_mrg_destroy(g);
    } else {
        axm_sim *s = axm_sim_create(m, B, TH_NW, p.D, prec, 0, &err);
        if (s && axm_sim_set_drive(s, &p.d, &err) == AXM_OK) {
            t0 = bench_wall();
            rc = axm_threshold(s, &p.o, &r, &err);
            t1 = bench_wall();
        }
        axm_sim_destroy(s);
    }
    if (rc == AXM_OK) {
        rate = B / (t1 - t0);
        char who[16] = "cpu";
        if (gpu) snprintf(who, sizeof who, "gpu/%d", lanes);
        printf("%-5s %4s %6d %9.2f %8d %9ld %8d %14.3g\n", who, prec == AXM_FP64 ? "fp64" : "fp32", B, t1 - t0,
               r.iterations, r.n_sims, th_ok(&r), rate);
    } else {
        printf("  (%s thresholds, B=%d: %s)\n", gpu ? "gpu" : "cpu", B, err.msg);
    }
    axm_thresh_result_free(&r);
    th_free(&p);
    return rate;
}

static double th_rate(const axm_model *m, int B, int gpu, axm_prec prec)
{
    return th_rate_l(m, B, gpu, prec, 0);
}

static void th_bench(const axm_model *m, int quick)
{
    printf("\nMRG thresholds: %d nodes, %.0f ms at dt %g ms, resolution 1 %%, point source 0.5-2.5 mm, 0.1 ms pulse\n",
           TH_NW, TH_TSTOP, DT);
    printf("%-5s %4s %6s %9s %8s %9s %8s %14s   (gpu/L: L lanes per fiber)\n", "", "prec", "B", "seconds", "rounds",
           "sims", "ok", "thresholds/s");
    double cpu = th_rate(m, quick ? 4 : 16, 0, AXM_FP64);
    double g1 = th_rate(m, quick ? 200 : 1000, 1, AXM_FP64);
    double g1_1 = th_rate_l(m, quick ? 200 : 1000, 1, AXM_FP64, 1); /* one thread per fiber, as before */
    if (g1 > 0 && g1_1 > 0) printf("lanes: the automatic choice %.2fx one lane per fiber\n", g1 / g1_1);
    if (!quick) {
        th_rate(m, 1000, 1, AXM_FP32);
        th_rate(m, 4000, 1, AXM_FP64);
    }
    if (cpu > 0 && g1 > 0)
        printf("thresholds/s: gpu fp64 (B=%d) %.3g, cpu fp64 (all cores) %.3g: %.1fx\n", quick ? 200 : 1000, g1, cpu,
               g1 / cpu);
}

/* gendata's engine: fibers/s of axm_gendata_simulate_many with k runs (32 x 32 fibers, 53 nodes,
 * 2.5 ms at 0.005 ms, the default draws) per call, over calls - 1 calls after a first one that
 * touches the traces' pages (gendata reuses its batches); 0 on failure (printed) */
static double gd_rate(const axm_model *m, int k, int calls)
{
    axm_gendata_cfg c;
    axm_err err;
    axm_err_clear(&err);
    axm_gendata_defaults(&c);
    c.tstop_ms = 2.5;
    c.n_runs = k * calls;
    axm_gendata_batch **bs = calloc((size_t)k, sizeof *bs);
    double t = 0;
    int rc = bs ? AXM_OK : AXM_ERR_NOMEM;
    for (int j = 0; j < k && !rc; j++)
        if (!(bs[j] = axm_gendata_batch_create(&c, 5, &err))) rc = AXM_ERR_NOMEM;
    for (int i = 0; i < calls && !rc; i++) {
        for (int j = 0; j < k && !rc; j++) rc = axm_gendata_draw(&c, m, (long)i * k + j, bs[j], &err);
        double t0 = bench_wall();
        if (!rc) rc = axm_gendata_simulate_many(&c, m, bs, k, axm_cuda_gendata_engine, NULL, 0, NULL, NULL, NULL, &err);
        if (i > 0) t += bench_wall() - t0;
    }
    for (int j = 0; bs && j < k; j++) axm_gendata_batch_destroy(bs[j]);
    free(bs);
    if (rc) {
        printf("  (gendata, %d runs per call: %s)\n", k, err.msg);
        return 0;
    }
    return (double)k * (calls - 1) * 1024 / t;
}

static void gd_bench(const axm_model *m, int quick)
{
    axm_gendata_cfg c;
    axm_gendata_defaults(&c);
    printf("\ngendata on the GPU (engine only, no file): 1024-fiber runs, 53 nodes, 500 steps, fp64\n");
    printf("(automatic runs per call for the default 5 ms runs on this host: %d)\n", axm_gendata_runs_per_call(&c, 5, 0));
    printf("%14s %8s %12s %10s\n", "runs per call", "fibers", "fibers/s", "vs 1");
    double r1 = gd_rate(m, 1, 3);
    printf("%14d %8d %12.4g %9.2fx\n", 1, 1024, r1, 1.0);
    const int ks[] = {4, 16, 32};
    for (int i = 0; i < 3; i++) {
        if (quick && ks[i] > 4) break;
        double r = gd_rate(m, ks[i], 2);
        printf("%14d %8d %12.4g %9.2fx\n", ks[i], ks[i] * 1024, r, r1 > 0 ? r / r1 : 0.0);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a run stopped by check.sh's timeout keeps the rows so far */
    axm_err why;
    axm_err_clear(&why);
    if (!axm_cuda_available(&why)) {
        printf("bench_cuda_mrg: no CUDA device (%s)\n", why.msg);
        return 0;
    }
    axm_cuda_device dev;
    if (axm_cuda_devices(&dev, 1, &why) < 1) {
        printf("bench_cuda_mrg: no CUDA device (%s)\n", why.msg);
        return 0;
    }
    int quick = getenv("AXM_BENCH_QUICK") && !strcmp(getenv("AXM_BENCH_QUICK"), "1");
    axm_model *m = axm_model_create("mrg", &why);
    if (!m) {
        printf("bench_cuda_mrg: %s\n", why.msg);
        return 1;
    }
    const char *only = getenv("AXM_BENCH_ONLY");
    if (only && !strcmp(only, "gendata")) {
        printf("bench_cuda_mrg on %s (%d SMs)\n", dev.name, dev.sms);
        gd_bench(m, quick);
        axm_model_destroy(m);
        return 0;
    }
    if (getenv("AXM_BENCH_PROFILE") && !strcmp(getenv("AXM_BENCH_PROFILE"), "1")) {
        double r = gpu_rate_n(m, 10000, AXM_FP64, 0, 0, 50);
        printf("MRG fp64 forward, 10000 fibers x %d nodes x 50 steps: %.3g node-steps/s\n", NW, r);
        axm_model_destroy(m);
        return 0;
    }
    if (getenv("AXM_BENCH_FORWARD") && !strcmp(getenv("AXM_BENCH_FORWARD"), "1")) {
        const int Fs[] = {1024, 8192, 10000, 32768, 65536};
        printf("MRG fp64 forward on %s, %d nodes x %d steps: B, node-steps/s, x NEURON\n", dev.name, NW, NSTEPS);
        for (int i = 0; i < 5 && !(quick && Fs[i] > 10000); i++) {
            double r = gpu_rate(m, Fs[i], AXM_FP64, 0);
            printf("%8d %12.3g %9.0fx\n", Fs[i], r, r / NEURON_RATE);
        }
        axm_model_destroy(m);
        return 0;
    }
    double cpu = cpu_rate(m, 32);
    printf("bench_cuda_mrg on %s (%d SMs): MRG forward, %d nodes x %d steps (node-steps/s)\n", dev.name, dev.sms, NW,
           NSTEPS);
    printf("cpu fp64 (32 fibers, all cores): %.3g node-steps/s = %.3g fibers/s at 1000 steps\n", cpu,
           cpu / NW / 1000);
    printf("%8s %12s %12s %14s %12s %10s %10s\n", "B", "gpu fp64", "gpu fp32", "fp32 + record", "fibers/s*", "gpu/cpu",
           "x NEURON");
    const int Bs[] = {128, 1024, 8192, 10000, 32768, 65536};
    double goal_x = HUGE_VAL; /* the least "x NEURON" of the rows from 1e4 fibers up: the goal */
    int goal_B = 0;
    for (int i = 0; i < 6; i++) {
        int B = Bs[i];
        if (quick && B > 10000) break;
        double r64 = gpu_rate(m, B, AXM_FP64, 0), r32 = gpu_rate(m, B, AXM_FP32, 0);
        const double x = r64 / NEURON_RATE;
        if (B >= 10000 && !isnan(goal_x) && (isnan(x) || x < goal_x)) goal_x = x, goal_B = B; /* a NaN stays */
        char rr[32] = "-";
        if (B <= 8192) snprintf(rr, sizeof rr, "%.3g", gpu_rate(m, B, AXM_FP32, 1));
        printf("%8d %12.3g %12.3g %14s %12.3g %9.1fx %9.0fx\n", B, r64, r32, rr, r64 / NW / 1000, r64 / cpu,
               r64 / NEURON_RATE);
    }
    printf("(* fp64 fibers/s for gendata's 1000-step runs; x NEURON: fp64 against NEURON 8.2.2 on one core,\n"
           "  %.3g node-steps/s, bench_mrg's figure: issue 5 asks >= 2000x at 1e4+ fibers)\n", NEURON_RATE);
    if (goal_B == 0)
        printf("goal MRG >= 2000x one NEURON core per fiber at 1e4+ fibers (fp64): not judged (no row from 10000 up)\n");
    else
        printf("goal MRG >= 2000x one NEURON core per fiber at 1e4+ fibers (fp64): %.0fx at B = %d, the least of the "
               "rows from 10000%s: %s\n", goal_x, goal_B, quick ? " (AXM_BENCH_QUICK: that row only)" : " up",
               goal_x >= 2000 ? "met" : "not met");
    /* lanes per fiber (the automatic choice against one thread per fiber, in this process) */
    printf("lanes per fiber, fp64 node-steps/s: B, 1 lane, 2 lanes, 4 lanes\n");
    const int Ls[] = {1024, 8192, 10000, 32768};
    for (int i = 0; i < 4; i++) {
        if (quick && Ls[i] > 10000) break;
        double r1 = gpu_rate_l(m, Ls[i], AXM_FP64, 0, 1), r2 = gpu_rate_l(m, Ls[i], AXM_FP64, 0, 2),
               r4 = gpu_rate_l(m, Ls[i], AXM_FP64, 0, 4);
        printf("%8d %12.3g %12.3g (%.2fx) %12.3g (%.2fx)\n", Ls[i], r1, r2, r2 / r1, r4, r4 / r1);
    }
    th_bench(m, quick);
    gd_bench(m, quick);
    axm_model_destroy(m);
    return 0;
}
