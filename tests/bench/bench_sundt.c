/* Sundt C-fiber engine throughput: node-steps per second for B = 256 fibers x 51 compartments
 * (dx 50 um, D 0.5-1.5 um) x 1000 steps of 0.005 ms, fp32 and fp64, 1 and 2 threads, with an
 * intracellular pulse, best of 3 runs. Baseline in the same process: the §8 step written out
 * literally (tests/unit/sundt_ref.h: one node at a time, libm exp, fp64, 1 thread). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "sim.h"
#include "../unit/sundt_ref.h"
#include "bench_util.h"

#define W 51
#define B 256
#define STEPS 1000
#define REPS 3

static double diam(int b) { return 0.5 + 1.0 * b / B; }

static double ref_rate(const axm_model *m)
{
    enum { NB = 16 };
    static double st[NB][5 * W], ve[W], intra[W];
    ref_sundt r[NB];
    static const double ic[5] = {0.00401, 0.98147, 0.00208, 0.57421, -65.0};
    for (int b = 0; b < NB; b++) {
        ref_setup(&r[b], m, W, diam(b * (B / NB)));
        for (int s = 0; s < 5; s++)
            for (int j = 0; j < W; j++) st[b][s * W + j] = ic[s];
    }
    double best = 1e300;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = bench_wall();
        for (int k = 0; k < 300; k++) {
            intra[2] = k >= 20 && k < 60 ? 2e-6 : 0.0;
            for (int b = 0; b < NB; b++) ref_step(&r[b], st[b], ve, intra, 0.005);
        }
        double t = bench_wall() - t0;
        if (t < best) best = t;
    }
    return (double)NB * W * 300 / best;
}

static double engine_rate(const axm_model *m, axm_prec prec, int threads)
{
    axm_err e;
    double D[B];
    for (int b = 0; b < B; b++) D[b] = diam(b);
    axm_sim *s = axm_sim_create(m, B, W, D, prec, threads, &e);
    if (!s) {
        fprintf(stderr, "bench_sundt: %s\n", e.msg);
        exit(1);
    }
    axm_pulse p = {.fiber = -1, .node = 2, .delay_ms = 0.1, .dur_ms = 0.2, .amp_mA = 2e-6};
    axm_drive d = {.n_pulses = 1, .pulses = &p};
    if (axm_sim_set_drive(s, &d, &e) != AXM_OK) {
        fprintf(stderr, "bench_sundt: %s\n", e.msg);
        exit(1);
    }
    axm_run_opts o = {.dt_ms = 0.005, .n_steps = STEPS, .reinit = 1};
    double best = 1e300;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = bench_wall();
        if (axm_sim_run(s, &o, NULL, 0, &e) != AXM_OK) {
            fprintf(stderr, "bench_sundt: %s\n", e.msg);
            exit(1);
        }
        double t = bench_wall() - t0;
        if (t < best) best = t;
    }
    axm_sim_destroy(s);
    return (double)B * W * STEPS / best;
}

int main(void)
{
    axm_err e;
    axm_model *m = axm_model_create("sundt", &e);
    if (!m || axm_model_set(m, "dx", 50.0, &e) != AXM_OK) {
        fprintf(stderr, "bench_sundt: %s\n", e.msg);
        return 1;
    }
    double ref = ref_rate(m);
    printf("Sundt engine, B=%d x %d compartments (dx 50 um) x %d steps, intracellular pulse (best of %d)\n", B,
           W, STEPS, REPS);
    printf("baseline: the literal step (libm exp, fp64, 1 thread): %.3g node-steps/s\n", ref);
    printf("%5s %8s %14s %10s\n", "prec", "threads", "node-steps/s", "x literal");
    for (int prec = 0; prec < 2; prec++)
        for (int th = 1; th <= 2; th++) {
            double r = engine_rate(m, (axm_prec)prec, th);
            printf("%5s %8d %14.3g %10.2f\n", prec ? "fp64" : "fp32", th, r, r / ref);
        }
    axm_model_destroy(m);
    return 0;
}
