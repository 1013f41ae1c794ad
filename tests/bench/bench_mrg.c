/* MRG kind speed: one 5 ms simulation (dt 0.005 ms, 1000 steps) of a 51-node fiber on one core,
 * against NEURON 8.2.2's 0.34 s for the same run (goal: >= 5x faster); then fibers/s for a batch on
 * 1 and 2 threads. The stimulus is the NEURON reference trace's (D 9 µm, point source 1.5 mm,
 * cathodic 0.1 ms at 1.5x threshold), so every run fires and propagates. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "field.h"
#include "model.h"
#include "mrg.h"
#include "sim.h"
#include "bench_util.h"

#define NW 51
#define NSTEPS 1000
#define DT 0.005
#define NEURON_S BENCH_NEURON_MRG_S

typedef struct job {
    void *ws;
    int b0, b1, M;
    double *state, *ve, *phi;
    void *scratch;
} job;

/* sample s_k of the pulse: -0.389165 mA on k = 101..120; the step uses (s_k + s_k+1)/2 */
static double amp_at(long k)
{
    double a = (k >= 101 && k <= 120) ? -0.3891650 : 0, b = (k + 1 >= 101 && k + 1 <= 120) ? -0.3891650 : 0;
    return 0.5 * (a + b);
}

static void *run_job(void *p)
{
    job *j = p;
    int n = j->b1 - j->b0;
    axm_kind_mrg.init(j->ws, j->b0, j->b1, j->state);
    for (long k = 0; k < NSTEPS; k++) {
        double a = amp_at(k);
        /* what the engine does per step: ve = amp * phi at every compartment */
        for (int b = 0; b < n; b++) {
            double *v = j->ve + (size_t)b * j->M;
            const double *ph = j->phi + (size_t)(j->b0 + b) * j->M;
            for (int c = 0; c < j->M; c++) v[c] = a * ph[c];
        }
        axm_kind_mrg.step(j->ws, j->b0, j->b1, j->state, j->ve, NULL, DT, j->scratch);
    }
    return NULL;
}

typedef struct setup {
    axm_model m;
    double p[32];
    int B, M;
    void *ws;
    double *state, *phi, *D;
} setup;

static int setup_make(setup *s, int B)
{
    memset(s, 0, sizeof *s);
    s->m.kind = &axm_kind_mrg;
    for (int k = 0; k < axm_kind_mrg.n_params; k++) s->p[k] = axm_kind_mrg.params[k].def;
    s->m.p = s->p;
    s->m.temp_c = 37;
    s->m.geometry = AXM_GEOM_METHOD1;
    s->B = B;
    s->M = axm_kind_mrg.n_comp(&s->m, NW);
    s->D = malloc(B * sizeof(double));
    for (int b = 0; b < B; b++) s->D[b] = B == 1 ? 9.0 : 9.0 + 4.0 * b / B;
    axm_err e;
    s->ws = axm_kind_mrg.ws_create(&s->m, B, NW, s->D, AXM_FP64, &e);
    if (!s->ws) {
        fprintf(stderr, "bench_mrg: %s\n", e.msg);
        return 1;
    }
    s->state = calloc((size_t)B * 5 * NW, sizeof(double));
    s->phi = malloc((size_t)B * s->M * sizeof(double));
    double *y = malloc(s->M * sizeof(double));
    axm_source src = {.kind = AXM_SRC_POINT, .x_um = 1500, .rho_ohm_cm = 500};
    for (int b = 0; b < B; b++) {
        axm_kind_mrg.positions(&s->m, s->D[b], NW, y, &e);
        axm_source_eval(&src, y, s->M, s->phi + (size_t)b * s->M, &e);
    }
    free(y);
    return 0;
}

static void setup_free(setup *s)
{
    axm_kind_mrg.ws_destroy(s->ws);
    free(s->state);
    free(s->phi);
    free(s->D);
}

static job job_make(setup *s, int b0, int b1)
{
    job j = {s->ws, b0, b1, s->M, s->state, malloc((size_t)(b1 - b0) * s->M * sizeof(double)), s->phi,
             malloc(axm_kind_mrg.scratch_bytes(&s->m, NW))};
    return j;
}

/* seconds for the batch on nt threads (best of reps); *cpu: best CPU time of the calling thread
 * (meaningful for nt = 1) */
static double time_batch(setup *s, int nt, int reps, double *cpu)
{
    job jobs[8];
    pthread_t th[8];
    for (int t = 0; t < nt; t++) jobs[t] = job_make(s, s->B * t / nt, s->B * (t + 1) / nt);
    double best = 1e30, bestc = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_wall(), c0 = bench_thread_cpu();
        for (int t = 1; t < nt; t++) pthread_create(&th[t], NULL, run_job, &jobs[t]);
        run_job(&jobs[0]);
        bestc = fmin(bestc, bench_thread_cpu() - c0);
        for (int t = 1; t < nt; t++) pthread_join(th[t], NULL);
        best = fmin(best, bench_wall() - t0);
    }
    if (cpu) *cpu = bestc;
    for (int t = 0; t < nt; t++) {
        free(jobs[t].ve);
        free(jobs[t].scratch);
    }
    return best;
}

/* the same stimulus through the engine: B fibers (D 9-13 µm), nt threads; best wall and process
 * CPU seconds of reps runs */
static int engine_time(int B, int nt, int reps, double *wall, double *cpu)
{
    axm_err e;
    axm_model *m = axm_model_create("mrg", &e);
    if (!m) {
        fprintf(stderr, "bench_mrg: %s\n", e.msg);
        return 1;
    }
    double *D = malloc(B * sizeof(double)), w[NSTEPS] = {0};
    for (int b = 0; b < B; b++) D[b] = B == 1 ? 9.0 : 9.0 + 4.0 * b / B;
    for (int k = 101; k <= 120; k++) w[k] = -0.3891650;
    axm_sim *s = axm_sim_create(m, B, NW, D, AXM_FP64, nt, &e);
    axm_source *src = calloc(B, sizeof *src);
    int *wave_of = calloc(B, sizeof(int));
    const double *waves[1] = {w};
    for (int b = 0; b < B; b++) src[b] = (axm_source){.kind = AXM_SRC_POINT, .x_um = 1500, .rho_ohm_cm = 500};
    axm_drive d = {.n_contacts = 1, .sources = src, .n_waves = 1, .waves = waves, .wave_len = NSTEPS,
                   .wave_of = wave_of};
    int rc = !s || axm_sim_set_drive(s, &d, &e) != AXM_OK;
    *wall = *cpu = 1e30;
    for (int r = 0; r < reps && !rc; r++) {
        axm_run_opts o = {.dt_ms = DT, .n_steps = NSTEPS, .reinit = 1};
        double t0 = bench_wall(), c0 = bench_cpu();
        rc = axm_sim_run(s, &o, NULL, 0, &e) != AXM_OK;
        *cpu = fmin(*cpu, bench_cpu() - c0);
        *wall = fmin(*wall, bench_wall() - t0);
        if (!rc && axm_sim_state_at(s, 0, 4, 5) != axm_sim_state_at(s, 0, 4, 5)) rc = 1;
    }
    if (rc) fprintf(stderr, "bench_mrg: %s\n", e.msg);
    axm_sim_destroy(s);
    axm_model_destroy(m);
    free(D);
    free(src);
    free(wave_of);
    return rc;
}

int main(void)
{
    setup one;
    if (setup_make(&one, 1)) return 1;
    double c1, t1 = time_batch(&one, 1, 15, &c1);
    printf("mrg: one 5 ms run, 51 nodes (%d compartments), dt 0.005 ms, 1 core: %.2f ms CPU (%.2f ms wall)\n",
           one.M, c1 * 1e3, t1 * 1e3);
    printf("mrg: NEURON 8.2.2 for the same run: %.0f ms -> %.1fx faster (goal >= 5x)\n", NEURON_S * 1e3,
           NEURON_S / c1);
    setup_free(&one);

    double ew, ec;
    if (engine_time(1, 1, 15, &ew, &ec)) return 1;
    printf("mrg: the same run through the engine (sim.h, 1 thread): %.2f ms CPU (%.2f ms wall) -> %.1fx NEURON\n",
           ec * 1e3, ew * 1e3, NEURON_S / ec);
    const int BE = 32;
    double w1, c1e, w2, c2e;
    if (engine_time(BE, 1, 3, &w1, &c1e) || engine_time(BE, 2, 3, &w2, &c2e)) return 1;
    printf("mrg: engine, %d fibers (D 9-13 µm) x 5 ms: 1 thread %.1f fibers/s, 2 threads %.1f fibers/s "
           "(scaling %.2fx wall; CPU %.3f s vs %.3f s)\n",
           BE, BE / w1, BE / w2, w1 / w2, c1e, c2e);

    setup bat;
    const int B = 32;
    if (setup_make(&bat, B)) return 1;
    double tb1 = time_batch(&bat, 1, 3, NULL), tb2 = time_batch(&bat, 2, 3, NULL);
    printf("mrg: kind ops directly, %d fibers (D 9-13 µm) x 5 ms: 1 thread %.1f fibers/s, 2 threads %.1f fibers/s "
           "(scaling %.2fx)\n",
           B, B / tb1, B / tb2, tb1 / tb2);
    setup_free(&bat);
    return 0;
}
