/* CUDA backend throughput next to the original axonml's figures (issue 5) and the CPU backend run in
 * this process:
 *   S-MF forward, 101 nodes x 1000 steps, B = 1 .. 50000, fp32 and fp64 (node-steps/s);
 *   threshold search, 1000 conditions x 51 nodes, resolution 0.1 % (thresholds/s);
 *   training step (BPTT chunk), 64 fibers x 53 nodes x 50 steps, fp64 (ms per step).
 * The CPU runs only the smaller batches (its rate is flat in B once the threads are busy).
 * Without a CUDA device it says so and exits 0. AXM_BENCH_QUICK=1 shrinks the largest cases;
 * AXM_BENCH_PROFILE=1 runs only B = 10000 forwards (a target for ncu: fp32 packed, fp32 a warp per
 * fiber, fp64 the default);
 * AXM_BENCH_FORWARD=1 only the forward at B = 10000 and 50000, packed and a warp per fiber, 101
 * nodes, then 21 and 130 nodes fp32, then B = 1, 100 and 1000 (to compare kernel variants).
 * The forward rows run the default kernel; a second table runs fibers packed into the lanes against
 * one warp per fiber for several fiber lengths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axm_cuda.h"
#include "axonml.h"
#include "train.h"
#include "bench_util.h"

static void die(const char *what, const axm_err *e)
{
    fprintf(stderr, "bench_cuda: %s: %s\n", what, e->msg);
    exit(1);
}

/* A drive of one point source per fiber (distance varying with the fiber) and one monophasic
 * cathodic pulse, as in the original's benchmarks (a fiber driven near threshold). */
typedef struct drive_buf {
    axm_source *src;
    int *wave_of;
    double *wave;
    const double *waves[1];
    axm_drive d;
} drive_buf;

static void drive_make(drive_buf *db, int B, long T, double dt)
{
    db->src = calloc((size_t)B, sizeof *db->src);
    db->wave_of = calloc((size_t)B, sizeof *db->wave_of);
    db->wave = calloc((size_t)T, sizeof *db->wave);
    for (int b = 0; b < B; b++) {
        db->src[b].kind = AXM_SRC_POINT;
        db->src[b].x_um = 500 + 1000.0 * (b % 97) / 97.0;
        db->src[b].rho_ohm_cm = 500;
    }
    for (long k = 0; k < T; k++) {
        double t = (double)k * dt;
        db->wave[k] = (t > 0.5 && t <= 0.6) ? -1.0 : 0.0;
    }
    db->waves[0] = db->wave;
    memset(&db->d, 0, sizeof db->d);
    db->d.n_contacts = 1;
    db->d.sources = db->src;
    db->d.n_waves = 1;
    db->d.waves = db->waves;
    db->d.wave_len = T;
    db->d.wave_of = db->wave_of;
}

static void drive_free(drive_buf *db)
{
    free(db->src);
    free(db->wave_of);
    free(db->wave);
}

static axm_model *model(int stable)
{
    axm_err e;
    axm_model *m = axm_model_create("smf", &e);
    if (!m) die("model", &e);
    /* the defaults fire spontaneously; gl = 0.1 gives a fiber at rest, so thresholds exist */
    if (stable && axm_model_set(m, "gl", 0.1, &e)) die("model", &e);
    m->handle_nan = 1;
    return m;
}

/* reps timed runs after a warm-up (best of them); reps = 0: the warm-up alone, timed. pack: an
 * AXM_PACK_* mode (axm_cuda_sim_set_packing; ALWAYS packs even where AUTO would not). kernel (if
 * not NULL): the kernel the runs took (axm_cuda_sim_kernel_last, a string constant of the library). */
static double gpu_forward_k(const axm_model *m, int B, int W, long T, axm_prec prec, int reps, int pack,
                            const char **kernel)
{
    axm_err e;
    double *D = malloc(sizeof(double) * B);
    for (int b = 0; b < B; b++) D[b] = 5.7 + 8.3 * (b % 13) / 13.0;
    drive_buf db;
    drive_make(&db, B, T, 0.005);
    axm_cuda_sim *s = axm_cuda_sim_create(m, B, W, D, prec, -1, &e);
    if (!s) die("gpu sim", &e);
    axm_cuda_sim_set_packing(s, pack);
    if (axm_cuda_sim_set_drive(s, &db.d, &e)) die("gpu drive", &e);
    double amp = 0.3;
    double *a = malloc(sizeof(double) * B);
    for (int b = 0; b < B; b++) a[b] = amp;
    if (axm_cuda_sim_set_amp(s, a, &e)) die("gpu amp", &e);
    axm_run_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = 0.005;
    o.n_steps = T;
    o.reinit = 1;
    o.allow_diverged = 1; /* throughput: the untrained defaults fire spontaneously */
    double best = INFINITY, t0 = bench_wall();
    if (axm_cuda_sim_run(s, &o, NULL, 0, &e)) die("gpu run", &e); /* warm-up: module load, first touch */
    if (reps == 0) best = bench_wall() - t0;
    if (kernel) *kernel = axm_cuda_sim_kernel_last(s);
    for (int r = 0; r < reps; r++) {
        double t1 = bench_wall();
        if (axm_cuda_sim_run(s, &o, NULL, 0, &e)) die("gpu run", &e);
        double t = bench_wall() - t1;
        if (t < best) best = t;
    }
    axm_cuda_sim_destroy(s);
    drive_free(&db);
    free(a);
    free(D);
    return (double)B * W * T / best;
}

static double gpu_forward_p(const axm_model *m, int B, int W, long T, axm_prec prec, int reps, int pack)
{
    return gpu_forward_k(m, B, W, T, prec, reps, pack, NULL);
}

/* The kernel a forward of gpu_forward_p's problem takes (a one-step run). */
static const char *gpu_kernel(const axm_model *m, int B, int W, axm_prec prec, int pack)
{
    const char *k = NULL;
    gpu_forward_k(m, B, W, 1, prec, 0, pack, &k);
    return k;
}

static double gpu_forward(const axm_model *m, int B, int W, long T, axm_prec prec, int reps)
{
    return gpu_forward_p(m, B, W, T, prec, reps, AXM_PACK_AUTO);
}

/* The packed kernel against one warp per fiber, in this process (node-steps/s and their ratio), for
 * fiber lengths whose warp-per-fiber lane use differs: 21 (21 of 32 lanes), 41 (41 of 64), 51, 101
 * (101 of 128), 130 (130 of 256). Where pack_geom declines a length both columns run the warp kernel. */
static void packing_rows(const axm_model *m, long T, int quick)
{
    const int Ws[] = {21, 41, 51, 101, 130};
    const int B = quick ? 10000 : 50000;
    printf("\nS-MF forward, fibers packed into the lanes vs one warp per fiber, B = %d x %ld steps (node-steps/s)\n", B,
           T);
    printf("%8s %5s %12s %12s %7s\n", "nodes", "prec", "packed", "warp/fiber", "ratio");
    for (size_t i = 0; i < sizeof Ws / sizeof Ws[0]; i++) {
        for (int p = 0; p < 2; p++) {
            axm_prec prec = p ? AXM_FP64 : AXM_FP32;
            double pk = gpu_forward_p(m, B, Ws[i], T, prec, 3, AXM_PACK_ALWAYS);
            double wk = gpu_forward_p(m, B, Ws[i], T, prec, 3, AXM_PACK_OFF);
            printf("%8d %5s %12.3g %12.3g %6.2fx\n", Ws[i], p ? "fp64" : "fp32", pk, wk, pk / wk);
        }
    }
}

static double cpu_forward(const axm_model *m, int B, int W, long T, axm_prec prec)
{
    axm_err e;
    double *D = malloc(sizeof(double) * B);
    for (int b = 0; b < B; b++) D[b] = 5.7 + 8.3 * (b % 13) / 13.0;
    drive_buf db;
    drive_make(&db, B, T, 0.005);
    axm_sim *s = axm_sim_create(m, B, W, D, prec, 0, &e);
    if (!s) die("cpu sim", &e);
    if (axm_sim_set_drive(s, &db.d, &e)) die("cpu drive", &e);
    double *a = malloc(sizeof(double) * B);
    for (int b = 0; b < B; b++) a[b] = 0.3;
    axm_sim_set_amp(s, a);
    axm_run_opts o;
    memset(&o, 0, sizeof o);
    o.dt_ms = 0.005;
    o.n_steps = T;
    o.reinit = 1;
    o.allow_diverged = 1; /* throughput: the untrained defaults fire spontaneously */
    double t0 = bench_wall();
    if (axm_sim_run(s, &o, NULL, 0, &e)) die("cpu run", &e);
    double t = bench_wall() - t0;
    axm_sim_destroy(s);
    drive_free(&db);
    free(a);
    free(D);
    return (double)B * W * T / t;
}

typedef struct th_case {
    int B, W;
    double *D;
    drive_buf db;
} th_case;

static double thresholds(const axm_model *m, int B, int W, axm_prec prec, int gpu, int *n_ok)
{
    axm_err e;
    th_case c;
    c.B = B;
    c.W = W;
    c.D = malloc(sizeof(double) * B);
    for (int b = 0; b < B; b++) c.D[b] = 5.7 + 8.3 * (b % 11) / 11.0;
    drive_make(&c.db, B, 1000, 0.005);
    axm_thresh_opts o = axm_thresh_opts_default();
    o.tstop_ms = 5.0;
    o.resolution = 0.001;
    axm_thresh_result r;
    double t;
    if (gpu) {
        axm_cuda_sim *s = axm_cuda_sim_create(m, B, W, c.D, prec, -1, &e);
        if (!s) die("gpu sim", &e);
        if (axm_cuda_sim_set_drive(s, &c.db.d, &e)) die("gpu drive", &e);
        if (axm_cuda_threshold(s, &o, &r, &e)) die("gpu threshold", &e); /* warm-up */
        axm_cuda_thresh_free(&r);
        double t0 = bench_wall();
        if (axm_cuda_threshold(s, &o, &r, &e)) die("gpu threshold", &e);
        t = bench_wall() - t0;
        axm_cuda_sim_destroy(s);
    } else {
        axm_sim *s = axm_sim_create(m, B, W, c.D, prec, 0, &e);
        if (!s) die("cpu sim", &e);
        if (axm_sim_set_drive(s, &c.db.d, &e)) die("cpu drive", &e);
        double t0 = bench_wall();
        if (axm_threshold(s, &o, &r, &e)) die("cpu threshold", &e);
        t = bench_wall() - t0;
        axm_sim_destroy(s);
    }
    *n_ok = 0;
    for (int b = 0; b < B; b++) *n_ok += r.status[b] == AXM_TH_OK;
    axm_thresh_result_free(&r);
    drive_free(&c.db);
    free(c.D);
    return B / t;
}

/* One BPTT training step as the trainer does it (core/train.c axm_train_chunk): B fibers x W nodes x
 * L steps, forward + loss + backward + gradient; a driven random problem. Returns ms per step (the
 * GPU: the mean of reps after a warm-up, transfers included; the CPU: 2 threads, one run). */
static double train_step_ms(int gpu, int B, int W, int L, int reps, double phase_ms[3])
{
    axm_smfg_theta th;
    axm_smfg_theta_defaults(&th);
    size_t n5 = 5 * (size_t)W;
    double *D = malloc(sizeof(double) * B), *ve = malloc(sizeof(double) * L * B * W);
    double *tgt = malloc(sizeof(double) * (L + 1) * B * n5), *s0 = malloc(sizeof(double) * B * n5);
    double *s = malloc(sizeof(double) * B * n5);
    if (!D || !ve || !tgt || !s0 || !s) {
        fprintf(stderr, "bench_cuda: out of memory\n");
        exit(1);
    }
    unsigned long long r = 88172645463325252ULL;
#define RND() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, (double)(r >> 11) * (1.0 / 9007199254740992.0))
    for (int b = 0; b < B; b++) {
        D[b] = 5 + 10 * RND();
        axm_smfg_ic(W, s0 + b * n5);
    }
    for (size_t i = 0; i < (size_t)L * B * W; i++) ve[i] = 40 * (RND() - 0.5);
    for (int t = 0; t <= L; t++)
        for (size_t i = 0; i < (size_t)B * n5; i++)
            tgt[t * B * n5 + i] = s0[i] + ((i % n5) >= 4 * (size_t)W ? 5.0 : 0.05) * (RND() - 0.5);
#undef RND
    const double w[5] = {1, 1, 1, 1, 1e-4};
    double norm = (double)(L + 1) * B * n5, ms;
    axm_smfg_grad g;
    axm_smfg_grad_zero(&g);
    axm_err e;
    if (gpu) {
        axm_cuda_train *ctx = axm_cuda_train_create(0, &e);
        if (!ctx) die("axm_cuda_train_create", &e);
        /* as axonml train does with its chunk buffers */
        if (axm_cuda_train_pin(ctx, ve, sizeof(double) * L * B * W, &e) ||
            axm_cuda_train_pin(ctx, tgt, sizeof(double) * (L + 1) * B * n5, &e))
            die("axm_cuda_train_pin", &e);
        double loss, t0 = 0;
        for (int i = 0; i <= reps; i++) {
            if (i == 1) t0 = bench_wall(); /* the first call allocates */
            memcpy(s, s0, sizeof(double) * B * n5);
            if (axm_cuda_train_chunk(ctx, &th, D, B, W, L, ve, tgt, w, norm, 0.005, s, &g, &loss, &e))
                die("axm_cuda_train_chunk", &e);
        }
        ms = 1e3 * (bench_wall() - t0) / reps;
        axm_cuda_train_last_ms(ctx, phase_ms);
        axm_cuda_train_destroy(ctx);
    } else {
        memcpy(s, s0, sizeof(double) * B * n5);
        double t0 = bench_wall();
        axm_train_chunk(&th, D, B, W, L, ve, tgt, w, norm, 0.005, s, &g, 2);
        ms = 1e3 * (bench_wall() - t0);
    }
    free(D);
    free(ve);
    free(tgt);
    free(s0);
    free(s);
    return ms;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a run stopped by check.sh's timeout keeps the rows so far */
    axm_err why;
    axm_err_clear(&why);
    if (!axm_cuda_available(&why)) {
        printf("bench_cuda: no CUDA device (%s)\n", why.msg);
        return 0;
    }
    axm_cuda_device dev;
    if (axm_cuda_devices(&dev, 1, &why) < 1) {
        printf("bench_cuda: no CUDA device (%s)\n", why.msg);
        return 0;
    }
    int quick = getenv("AXM_BENCH_QUICK") && !strcmp(getenv("AXM_BENCH_QUICK"), "1");
    if (getenv("AXM_BENCH_FORWARD") && !strcmp(getenv("AXM_BENCH_FORWARD"), "1")) {
        axm_model *fm = model(0);
        printf("kernels (101 nodes, B = 10000): fp32 %s, %s; fp64 %s, %s; ", gpu_kernel(fm, 10000, 101, AXM_FP32, AXM_PACK_OFF),
               gpu_kernel(fm, 10000, 101, AXM_FP32, AXM_PACK_ALWAYS), gpu_kernel(fm, 10000, 101, AXM_FP64, AXM_PACK_OFF),
               gpu_kernel(fm, 10000, 101, AXM_FP64, AXM_PACK_ALWAYS));
        for (int B = 10000; B <= 50000; B += 40000)
            printf("forward B=%d: fp32 packed %.3g warp/fiber %.3g, fp64 packed %.3g warp/fiber %.3g node-steps/s\n", B,
                   gpu_forward_p(fm, B, 101, 1000, AXM_FP32, 3, AXM_PACK_ALWAYS),
                   gpu_forward_p(fm, B, 101, 1000, AXM_FP32, 3, AXM_PACK_OFF),
                   gpu_forward_p(fm, B, 101, 1000, AXM_FP64, 3, AXM_PACK_ALWAYS),
                   gpu_forward_p(fm, B, 101, 1000, AXM_FP64, 3, AXM_PACK_OFF));
        printf("forward B=50000 fp32, packed / warp per fiber: 21 nodes %.3g / %.3g, 130 nodes %.3g / %.3g\n",
               gpu_forward_p(fm, 50000, 21, 1000, AXM_FP32, 3, AXM_PACK_ALWAYS),
               gpu_forward_p(fm, 50000, 21, 1000, AXM_FP32, 3, AXM_PACK_OFF),
               gpu_forward_p(fm, 50000, 130, 1000, AXM_FP32, 3, AXM_PACK_ALWAYS),
               gpu_forward_p(fm, 50000, 130, 1000, AXM_FP32, 3, AXM_PACK_OFF));
        /* the batches that leave the card part idle, where latency rules (the default kernels) */
        printf("forward small B = 1 / 100 / 1000, 101 nodes: fp32 %.3g / %.3g / %.3g, fp64 %.3g / %.3g / %.3g\n",
               gpu_forward(fm, 1, 101, 1000, AXM_FP32, 5), gpu_forward(fm, 100, 101, 1000, AXM_FP32, 5),
               gpu_forward(fm, 1000, 101, 1000, AXM_FP32, 5), gpu_forward(fm, 1, 101, 1000, AXM_FP64, 5),
               gpu_forward(fm, 100, 101, 1000, AXM_FP64, 5), gpu_forward(fm, 1000, 101, 1000, AXM_FP64, 5));
        axm_model_destroy(fm);
        return 0;
    }
    if (getenv("AXM_BENCH_PROFILE") && !strcmp(getenv("AXM_BENCH_PROFILE"), "1")) {
        axm_model *pm = model(0);
        /* in this order (tests/gpu/profile.sh picks the launches by it): not as printf's arguments,
         * whose order of evaluation C leaves open (gcc took the fp64 one first) */
        double r_packed = gpu_forward_p(pm, 10000, 101, 1000, AXM_FP32, 0, AXM_PACK_ALWAYS);
        double r_warp = gpu_forward_p(pm, 10000, 101, 1000, AXM_FP32, 0, AXM_PACK_OFF);
        double r_64 = gpu_forward(pm, 10000, 101, 1000, AXM_FP64, 0);
        printf("profile: fp32 packed %.3g, warp/fiber %.3g; fp64 %.3g node-steps/s (B = 10000, 101 nodes, 1000 "
               "steps)\n", r_packed, r_warp, r_64);
        axm_model_destroy(pm);
        return 0;
    }
    printf("bench_cuda on %s (%d SMs, %.0f GiB)\n", dev.name, dev.sms, dev.mem_bytes / 1073741824.0);
    axm_model *m = model(0);
    const int W = 101;
    const long T = 1000;
    const int Bs[] = {1, 100, 1000, 10000, 50000};
    const double orig[] = {2.2e5, 1.8e7, 1.6e8, 1.7e9, 5.75e9};
    printf("\nS-MF forward, %d nodes x %ld steps (node-steps/s)\n", W, T);
    printf("%8s %12s %12s %12s %12s %12s %9s\n", "B", "original", "gpu fp32", "gpu fp64", "cpu fp32", "cpu fp64",
           "gpu/orig");
    double goal_fwd = NAN; /* fp32 at B = 50000: the forward goal */
    for (int i = 0; i < 5; i++) {
        int B = Bs[i];
        if (quick && B > 10000) B = 10000;
        int reps = B <= 1000 ? 5 : 3;
        double g32 = gpu_forward(m, B, W, T, AXM_FP32, reps);
        if (B == 50000) goal_fwd = g32;
        double g64 = gpu_forward(m, B, W, T, AXM_FP64, reps);
        char c32[32] = "-", c64[32] = "-";
        if (B <= 1000) {
            snprintf(c32, sizeof c32, "%.3g", cpu_forward(m, B, W, T, AXM_FP32));
            snprintf(c64, sizeof c64, "%.3g", cpu_forward(m, B, W, T, AXM_FP64));
        }
        printf("%8d %12.3g %12.3g %12.3g %12s %12s %8.1fx\n", B, orig[i], g32, g64, c32, c64, g32 / orig[i]);
    }
    printf("(kernels at B = 1 / 50000: fp32 %s / %s, fp64 %s / %s)\n", gpu_kernel(m, 1, W, AXM_FP32, AXM_PACK_AUTO),
           gpu_kernel(m, 50000, W, AXM_FP32, AXM_PACK_AUTO), gpu_kernel(m, 1, W, AXM_FP64, AXM_PACK_AUTO),
           gpu_kernel(m, 50000, W, AXM_FP64, AXM_PACK_AUTO));
    packing_rows(m, T, quick);
    axm_model_destroy(m);

    m = model(1);
    int nb = quick ? 200 : 1000, ok_g = 0, ok_g64 = 0, ok_c = 0;
    double g = thresholds(m, nb, 51, AXM_FP32, 1, &ok_g);
    double g64 = thresholds(m, nb, 51, AXM_FP64, 1, &ok_g64);
    int nc = 40;
    double c = thresholds(m, nc, 51, AXM_FP32, 0, &ok_c);
    printf("\nthreshold search, %d conditions x 51 nodes, resolution 0.1 %% (thresholds/s)\n", nb);
    printf("%12s %12s %12s %14s %9s\n", "original", "gpu fp32", "gpu fp64", "cpu fp32 (40)", "gpu/orig");
    printf("%12.3g %12.3g %12.3g %14.3g %8.1fx   (status ok: gpu %d/%d, fp64 %d/%d, cpu %d/%d)\n", 66.0, g, g64, c,
           g / 66.0, ok_g, nb, ok_g64, nb, ok_c, nc);
    double ph[3] = {NAN, NAN, NAN}; /* the GPU's last step: axm_cuda_train_last_ms's phases */
    double tg = train_step_ms(1, 64, 53, 50, 20, ph), tc = train_step_ms(0, 64, 53, 50, 1, ph);
    printf("\ntraining step (TBPTT), 64 fibers x 53 nodes x 50 steps, fp64 (ms per step)\n");
    printf("%12s %12s %14s %9s\n", "original", "gpu fp64", "cpu fp64 (2t)", "orig/gpu");
    printf("%12.3g %12.3g %14.3g %8.1fx   (gpu: inputs up %.3g, kernels %.3g (targets up meanwhile), results + reduce %.3g ms)\n\n", 148.0,
           tg, tc, 148.0 / tg, ph[0], ph[1], ph[2]);
    /* issue 5's goals, one line each, for tests/gpu/check.sh's summary */
    if (isnan(goal_fwd))
        printf("goal S-MF forward fp32 >= 1.5e11 node-steps/s at B = 50000: not judged (AXM_BENCH_QUICK caps B)\n");
    else
        printf("goal S-MF forward fp32 >= 1.5e11 node-steps/s at B = 50000: %.3g (%.0f %%): %s\n", goal_fwd,
               100 * goal_fwd / 1.5e11, goal_fwd >= 1.5e11 ? "met" : "not met");
    printf("goal thresholds >= 2e4/s (%d conditions, 51 nodes, 0.1 %%, fp32): %.3g/s, %d/%d ok: %s\n", nb, g, ok_g, nb,
           nb < 1000 ? "not judged (AXM_BENCH_QUICK: 200 conditions)" : g >= 2e4 && ok_g == nb ? "met" : "not met");
    printf("goal training step <= 1 ms (64 x 53 x 50): %.3g ms: %s\n", tg, tg <= 1.0 ? "met" : "not met");
    axm_model_destroy(m);
    return 0;
}
