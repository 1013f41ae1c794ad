/* One training step of the S-MF (64 fibers x 53 nodes x 50 steps, fp64, forward + backward) on
 * the CPU, against baselines run in the same process: the training forward alone and the engine's
 * S-MF step (core/smf.c) over the same fibers and steps. The original took 148 ms per step on an
 * H200 (PyTorch autograd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "train.h"
#include "bench_util.h"

/* CPU time of the process: on a loaded machine wall time measures the queue, not the code (for
 * one thread both agree on an idle machine; with 2 threads it is the sum over threads) */
enum { B = 64, W = 53, L = 50 };

int main(void)
{
    axm_smfg_theta th;
    axm_smfg_theta_defaults(&th);
    th.handle_nan = 1;
    static double D[B], ve[L * B * W], tgt[(L + 1) * B * 5 * W], s[B * 5 * W];
    for (int b = 0; b < B; b++) D[b] = 5.7 + 8.3 * b / (B - 1);
    for (int k = 0; k < L; k++)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < W; j++) ve[(k * B + b) * W + j] = 5.0 * ((j * 7 + b * 3 + k) % 11 - 5) / 5.0;
    for (int t = 0; t <= L; t++)
        for (int b = 0; b < B; b++) axm_smfg_ic(W, tgt + (t * B + b) * 5 * W);
    const double w[5] = {1, 1, 1, 1, 1e-4};
    double norm = (double)(L + 1) * B * 5 * W;
    int reps = 5;
    double t_fb[3] = {0}, t_f[3] = {0}, w_fb2 = 1e9;
    for (int th_n = 1; th_n <= 2; th_n++) {
        for (int mode = 0; mode < 2; mode++) {
            double best = 1e9;
            for (int r = 0; r < reps; r++) {
                for (int b = 0; b < B; b++) axm_smfg_ic(W, s + b * 5 * W);
                axm_smfg_grad g;
                axm_smfg_grad_zero(&g);
                double t0 = bench_cpu(), w0 = bench_wall();
                axm_train_chunk(&th, D, B, W, L, ve, tgt, w, norm, 0.005, s, mode ? &g : NULL, th_n);
                double dt = bench_cpu() - t0;
                if (th_n == 2 && mode && bench_wall() - w0 < w_fb2) w_fb2 = bench_wall() - w0;
                if (dt < best) best = dt;
            }
            if (mode)
                t_fb[th_n] = best;
            else
                t_f[th_n] = best;
        }
    }
    /* engine step, fp64, one thread, same fibers and steps */
    axm_err e;
    axm_err_clear(&e);
    axm_model *m = axm_model_create("smf", &e);
    m->handle_nan = 1;
    const axm_model_kind *k = m->kind;
    void *ws = k->ws_create(m, B, W, D, AXM_FP64, &e);
    void *scr = malloc(k->scratch_bytes(m, W) + 64);
    double best_e = 1e9;
    static double veb[B * W];
    for (int r = 0; r < reps; r++) {
        k->init(ws, 0, B, s);
        double t0 = bench_cpu();
        for (int n = 0; n < L; n++) {
            memcpy(veb, ve + (size_t)n * B * W, sizeof veb);
            k->step(ws, 0, B, s, veb, NULL, 0.005, scr);
        }
        double dt = bench_cpu() - t0;
        if (dt < best_e) best_e = dt;
    }
    free(scr);
    k->ws_destroy(ws);
    axm_model_destroy(m);
    printf("bench_train: one step = %d fibers x %d nodes x %d steps, fp64 (best of %d, CPU time)\n", B, W, L, reps);
    printf("  forward+backward, 1 thread : %8.1f ms/step  (%.0f ns per node-step)\n", 1e3 * t_fb[1],
           1e9 * t_fb[1] / ((double)B * W * L));
    printf("  forward+backward, 2 threads: %8.1f ms/step CPU, %.1f ms wall\n", 1e3 * t_fb[2], 1e3 * w_fb2);
    printf("  training forward, 1 thread : %8.1f ms   (backward/forward ratio %.2f)\n", 1e3 * t_f[1],
           (t_fb[1] - t_f[1]) / t_f[1]);
    printf("  engine S-MF step, 1 thread : %8.1f ms   (training step / engine forward %.1fx)\n",
           1e3 * best_e, t_fb[1] / best_e);
    printf("  original (PyTorch, H200)   :    148.0 ms/step\n");
    return 0;
}
