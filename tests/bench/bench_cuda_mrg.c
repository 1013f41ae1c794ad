/* MRG forward on the GPU (axm_cuda_mrg_*) against the CPU engine in the same process: node-steps/s
 * for batches of 53-node fibers (gendata's default length) under a firing cathodic point-source pulse,
 * fp64 and fp32 node-state storage, and with every step's states recorded (float, as gendata keeps
 * them). Prints a note and exits 0 without a CUDA device. AXM_BENCH_QUICK=1: smaller batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axm_cuda.h"
#include "axonml.h"
#include "bench_util.h"

#define NW 53
#define NSTEPS 500
#define DT 0.005

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

/* node-steps/s; 0 on failure (printed) */
static double gpu_rate(const axm_model *m, int B, axm_prec prec, int record)
{
    stim st;
    stim_init(&st, B);
    axm_err err;
    axm_err_clear(&err);
    double rate = 0;
    float *rec = record ? malloc(sizeof(float) * (size_t)NSTEPS * B * 5 * NW) : NULL;
    axm_cuda_mrg *g = axm_cuda_mrg_create(m, B, NW, st.D, prec, -1, &err);
    if (g && axm_cuda_mrg_set_drive(g, &st.d, &err) == AXM_OK && (!record || rec)) {
        axm_run_opts o;
        memset(&o, 0, sizeof o);
        o.dt_ms = DT;
        o.n_steps = 10;
        o.reinit = 1;
        if (axm_cuda_mrg_run(g, &o, AXM_FP32, NULL, &err) == AXM_OK) { /* warm-up */
            o.n_steps = NSTEPS;
            double t0 = bench_wall();
            if (axm_cuda_mrg_run(g, &o, AXM_FP32, rec, &err) == AXM_OK) rate = (double)B * NW * NSTEPS / (bench_wall() - t0);
        }
    }
    if (rate == 0) printf("  (B=%d: %s)\n", B, err.msg);
    axm_cuda_mrg_destroy(g);
    free(rec);
    stim_free(&st);
    return rate;
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

int main(void)
{
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
    double cpu = cpu_rate(m, 32);
    printf("bench_cuda_mrg on %s (%d SMs): MRG forward, %d nodes x %d steps (node-steps/s)\n", dev.name, dev.sms, NW,
           NSTEPS);
    printf("cpu fp64 (32 fibers, all cores): %.3g node-steps/s = %.3g fibers/s at 1000 steps\n", cpu,
           cpu / NW / 1000);
    printf("%8s %12s %12s %14s %12s %10s\n", "B", "gpu fp64", "gpu fp32", "fp32 + record", "fibers/s*", "gpu/cpu");
    const int Bs[] = {128, 1024, 8192, 32768, 65536};
    for (int i = 0; i < 5; i++) {
        int B = Bs[i];
        if (quick && B > 8192) break;
        double r64 = gpu_rate(m, B, AXM_FP64, 0), r32 = gpu_rate(m, B, AXM_FP32, 0);
        char rr[32] = "-";
        if (B <= 8192) snprintf(rr, sizeof rr, "%.3g", gpu_rate(m, B, AXM_FP32, 1));
        printf("%8d %12.3g %12.3g %14s %12.3g %9.1fx\n", B, r64, r32, rr, r64 / NW / 1000, r64 / cpu);
    }
    printf("(* fp64 fibers/s for gendata's 1000-step runs)\n");
    axm_model_destroy(m);
    return 0;
}
