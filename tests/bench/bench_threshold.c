/* Threshold-search throughput: a 210-condition sweep (7 diameters x 3 distances x 5 pulse widths x
 * 2 polarities, 51-node S-MF fibers, point source, 5 ms at dt 5 us, resolution 0.01) in thresholds
 * per second, against
 *   (a) the original algorithm (smf-model.md §10: every iteration simulates every condition for the
 *       full duration; the first bound fix repeats the initial test) run on the same engine in the
 *       same process, and
 *   (b) the original's published 7.4 thresholds/s (goal: >= 10x).
 * The S-MF uses gl = 0.1 S/cm2: its default (untrained) parameters fire spontaneously and have no
 * threshold. Usage: bench_threshold [--quick] [--threads N] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario.h"
#include "bench_util.h"

#define ORIGINAL_RATE 7.4

/* Per-iteration log: how many fibers each run simulated and how long it took, to see whether a
 * run over the full batch with decided fibers masked costs in proportion to the undecided ones. */
typedef struct it_log {
    int n, B, last_decided;
    double t_last, c_last;
    int sims[256];
    double secs[256], cpu[256];
} it_log;

static void on_it(void *ud, int n_decided, int n_total, int it)
{
    it_log *l = ud;
    (void)n_total;
    double t = bench_wall(), c = bench_cpu();
    if (l->n < 256) {
        l->sims[l->n] = l->B - l->last_decided;
        l->secs[l->n] = t - l->t_last;
        l->cpu[l->n] = c - l->c_last;
        l->n++;
    }
    (void)it;
    l->last_decided = n_decided;
    l->t_last = t;
    l->c_last = c;
}

static const char *sweep =
    "{\"model\": {\"name\": \"smf\", \"precision\": \"fp32\", \"params\": {\"gl\": 0.1}},"
    " \"fiber\": {\"nodes\": 51, \"diameter_um\": %s},"
    " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": [0.5, 1.0, 2.0]},"
    " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": [0.05, 0.1, 0.2, 0.5, 1.0], \"delay_ms\": 0.5,"
    " \"polarity\": [\"cathodic\", \"anodic\"]},"
    " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 5.0}, \"detect\": {\"nodes\": [5, -5]},"
    " \"threshold\": {\"resolution\": 0.01}}";

/* One full-batch activity test as the original does it: every fiber, every step. */
static int test_all(axm_sim *s, const axm_thresh_opts *o, const double *amp, unsigned char *act, double *maxvm,
                    long *n_sims)
{
    axm_err err;
    axm_err_clear(&err);
    int B = axm_sim_batch(s), S = axm_sim_n_states(s);
    axm_monitor *a = axm_active_create(&o->detect, 0, &err);
    axm_monitor *r = maxvm ? axm_recorder_create(1u << (S - 1), NULL, 0, 1, 1, &err) : NULL;
    axm_monitor *mons[2] = {a, r};
    axm_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.dt_ms = o->dt_ms;
    ro.n_steps = lround(o->tstop_ms / o->dt_ms);
    ro.reinit = 1;
    axm_sim_set_amp(s, amp);
    int rc = axm_sim_run(s, &ro, mons, r ? 2 : 1, &err);
    if (rc) fprintf(stderr, "bench: %s\n", err.msg);
    memcpy(act, axm_active_result(a), (size_t)B);
    if (maxvm) {
        const double *mx = axm_recorder_max(r);
        for (int b = 0; b < B; b++) maxvm[b] = mx[(size_t)b * S + S - 1];
    }
    *n_sims += B;
    axm_monitor_destroy(a);
    if (r) axm_monitor_destroy(r);
    return rc;
}

/* smf-model.md §10, as written (max_tries_thresh 25). */
static int original(axm_sim *s, const axm_thresh_opts *o, double *ub, long *n_sims)
{
    int B = axm_sim_batch(s);
    double *lb = calloc((size_t)B, sizeof(double)), *amp = malloc((size_t)B * sizeof(double));
    double *mv = malloc((size_t)B * sizeof(double));
    unsigned char *act = malloc((size_t)B), *msk = malloc((size_t)B);
    for (int b = 0; b < B; b++) ub[b] = o->ub_init[b];
    int rc = test_all(s, o, ub, act, mv, n_sims), tries = 0;
    for (;;) {
        int any = 0;
        for (int b = 0; b < B; b++) any |= !act[b];
        if (!any || rc) break;
        if (tries >= o->max_tries_bound_fix) {
            for (int b = 0; b < B; b++)
                if (!act[b]) ub[b] = lb[b] = 1;
            break;
        }
        rc = test_all(s, o, ub, act, mv, n_sims);
        for (int b = 0; b < B; b++)
            if (!act[b]) ub[b] *= mv[b] < o->detect.threshold_mV ? o->fix_bound_up : o->fix_bound_down;
        tries++;
    }
    tries = 0;
    for (;;) {
        int any = 0;
        for (int b = 0; b < B; b++) any |= msk[b] = (ub[b] - lb[b]) / ub[b] >= o->resolution;
        if (!any || tries >= 25 || rc) break;
        for (int b = 0; b < B; b++) amp[b] = 0.5 * (ub[b] + lb[b]);
        rc = test_all(s, o, amp, act, NULL, n_sims);
        for (int b = 0; b < B; b++)
            if (msk[b]) {
                if (act[b]) ub[b] = amp[b];
                else lb[b] = amp[b];
            }
        tries++;
    }
    free(lb);
    free(amp);
    free(mv);
    free(act);
    free(msk);
    return rc;
}

int main(int argc, char **argv)
{
    int quick = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    }
    char text[2048];
    snprintf(text, sizeof text, sweep, quick ? "[5.7]" : "[5.7, 7.3, 8.7, 10.0, 11.5, 12.8, 14.0]");
    axm_err err;
    axm_err_clear(&err);
    axm_scenario *sc = axm_scenario_parse(text, "bench_threshold", NULL, &err);
    if (!sc) {
        fprintf(stderr, "bench_threshold: %s\n", err.msg);
        return 1;
    }
    axm_setup_opts so = {1, threads, 0};
    axm_setup *su = axm_setup_create(sc, &so, &err);
    if (!su) {
        fprintf(stderr, "bench_threshold: %s\n", err.msg);
        return 1;
    }
    int B = su->n_cond;
    axm_thresh_opts o = axm_setup_thresh_opts(su);
    axm_thresh_result r;
    it_log lg;
    memset(&lg, 0, sizeof lg);
    lg.B = B;
    o.progress = on_it;
    o.progress_ud = &lg;
    double t0 = bench_wall(), c0 = bench_cpu();
    lg.t_last = t0;
    lg.c_last = c0;
    if (axm_threshold(su->sim, &o, &r, &err)) {
        fprintf(stderr, "bench_threshold: %s\n", err.msg);
        return 1;
    }
    double t_new = bench_wall() - t0, c_new = bench_cpu() - c0;
    int ok = 0;
    for (int b = 0; b < B; b++) ok += r.status[b] == AXM_TH_OK;

    double *ub = malloc((size_t)B * sizeof(double));
    long n_orig = 0;
    t0 = bench_wall();
    c0 = bench_cpu();
    int rc = original(su->sim, &o, ub, &n_orig);
    double t_orig = bench_wall() - t0, c_orig = bench_cpu() - c0;
    int agree = 0;
    for (int b = 0; b < B; b++)
        if (r.status[b] == AXM_TH_OK && fabs(ub[b] / r.upper[b] - 1) <= 2 * o.resolution) agree++;

    double rate = B / t_new, rate_orig = B / t_orig;
    printf("bench_threshold: %d conditions (S-MF fp32, 51 nodes, 1000 steps, resolution %g), %d threads\n", B,
           o.resolution, threads);
    printf("  axonml   : %.2f s, %ld fiber-sims (%.1f per condition), %d iterations, %d ok -> %.1f thresholds/s\n",
           t_new, r.n_sims, (double)r.n_sims / B, r.iterations, ok, rate);
    printf("  original algorithm on this engine: %.2f s, %ld fiber-sims -> %.1f thresholds/s%s\n", t_orig, n_orig,
           rate_orig, rc ? " (failed)" : "");
    printf("  speed-up vs the original algorithm: %.2fx; thresholds agree within 2x resolution: %d/%d\n",
           rate / rate_orig, agree, ok);
    printf("  CPU time: axonml %.2f s (%.1f thresholds per CPU-second), original algorithm %.2f s (%.1f); ratio %.2fx\n",
           c_new, B / c_new, c_orig, B / c_orig, c_orig / c_new);
    printf("  per iteration (fibers simulated: CPU ms per fiber-sim):");
    for (int i = 0; i < lg.n; i++) printf(" %d:%.2f", lg.sims[i], lg.sims[i] ? 1e3 * lg.cpu[i] / lg.sims[i] : 0.0);
    printf("\n");
    printf("  vs the original's published %.1f thresholds/s: %.1fx (goal >= 10x)\n", ORIGINAL_RATE,
           rate / ORIGINAL_RATE);
    free(ub);
    axm_thresh_result_free(&r);
    axm_setup_destroy(su);
    axm_scenario_destroy(sc);
    return ok == B ? 0 : 1;
}
