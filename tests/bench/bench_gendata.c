/* gendata throughput: fibers/s of one run (R x F fibers, 53 nodes, 5 ms at 0.005 ms; MRG when it
 * is built in) on 1 and 2 threads, and the cost of writing it (HDF5, gzip) relative to simulating,
 * with HDF5 compressing on the writer thread and with the trace chunks compressed in parallel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datagen.h"
#include "h5chunk.h"
#include "model.h"
#include "bench_util.h"

static double sim_cpu; /* CPU seconds of the last simulate */

static double sim_rate(const axm_gendata_cfg *c, const axm_model *m, axm_gendata_batch *b, int threads)
{
    axm_err e;
    if (axm_gendata_draw(c, m, 0, b, &e)) {
        fprintf(stderr, "bench_gendata: %s\n", e.msg);
        exit(1);
    }
    double t0 = bench_wall(), c0 = bench_cpu();
    if (axm_gendata_simulate(c, m, b, threads, NULL, NULL, NULL, &e)) {
        fprintf(stderr, "bench_gendata: %s\n", e.msg);
        exit(1);
    }
    sim_cpu = bench_cpu() - c0;
    return (double)b->B / (bench_wall() - t0);
}

int main(void)
{
    axm_gendata_cfg c;
    axm_err e;
    axm_gendata_defaults(&c);
    snprintf(c.model, sizeof c.model, "%s", axm_model_kind_find("mrg") ? "mrg" : "smf");
    c.n_runs = 1, c.rows = 2, c.fibers = 8;
    axm_model *m = axm_model_create(c.model, &e);
    if (!m) {
        fprintf(stderr, "bench_gendata: %s\n", e.msg);
        return 1;
    }
    axm_gendata_batch *b = axm_gendata_batch_create(&c, m->kind->n_states, &e);
    if (!b) return 1;
    double r1 = sim_rate(&c, m, b, 1), r2 = sim_rate(&c, m, b, 2);
    printf("gendata %s, %d fibers x 53 nodes x 1000 steps: 1 thread %.2f fibers/s, 2 threads %.2f fibers/s "
           "(speed-up %.2fx)\n",
           c.model, b->B, r1, r2, r2 / r1);

    /* the writer's compression alone, on this run's traces (states and e, one chunk each): one
     * thread as HDF5's filter runs, and the pool on 2 threads */
    {
        int S = m->kind->n_states;
        size_t cb = (size_t)b->B * b->W * b->T * sizeof(float);
        axm_h5z_task t[16];
        int nt = 0;
        for (int s = 0; s < S && nt < 15; s++) t[nt++] = (axm_h5z_task){b->states + (size_t)s * cb / 4, cb, 4, c.gzip_level};
        t[nt++] = (axm_h5z_task){b->e, cb, 4, c.gzip_level};
        unsigned char *tmp = malloc(cb), *out = malloc(axm_h5z_bound(cb));
        size_t zn = 0, ztot = 0;
        double t0 = bench_wall();
        for (int i = 0; i < nt; i++) {
            if (axm_h5z_filter(t[i].src, cb, 4, c.gzip_level, tmp, out, &zn)) return 1;
            ztot += zn;
        }
        double t1 = bench_wall() - t0;
        free(tmp), free(out);
        axm_h5z_pool *p = axm_h5z_pool_create(2, &e);
        if (!p) return 1;
        t0 = bench_wall();
        if (axm_h5z_pool_begin(p, t, nt, &e)) return 1;
        for (int i = 0; i < nt; i++) {
            const void *z;
            if (axm_h5z_pool_next(p, &z, &zn, &e) != 1) return 1;
        }
        double t2 = bench_wall() - t0;
        axm_h5z_pool_end(p);
        axm_h5z_pool_destroy(p);
        double mb = nt * (double)cb / 1e6;
        printf("gendata trace compression (shuffle + gzip %d, ratio %.2f): 1 thread %.1f MB/s = %.1f fibers/s, "
               "pool of 2 threads %.1f MB/s (%.2fx)\n",
               c.gzip_level, nt * (double)cb / (double)ztot, mb / t1, b->B / t1, mb / t2, t1 / t2);
    }

    /* three runs written to a file (writing overlaps the next run's simulation), against
     * simulating alone: HDF5's own filters on the writer thread (AXM_GENDATA_SERIAL_WRITER=1, as
     * before the parallel writer), then the trace chunks compressed on 2 threads */
    c.n_runs = 3;
    double sim_cpu2 = sim_cpu, tsim = 3.0 * b->B / r2, rate[2] = {0, 0};
    for (int par = 0; par < 2; par++) {
        char path[] = "/tmp/axm_bench_gendata_XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) return 1;
        close(fd);
        unlink(path);
        axm_gendata_opts o;
        memset(&o, 0, sizeof o);
        o.out_path = path;
        o.n_threads = 2;
        if (!par) setenv("AXM_GENDATA_SERIAL_WRITER", "1", 1);
        double t0 = bench_wall(), c0 = bench_cpu();
        int rc = axm_gendata_run(&c, &o, &e);
        double tw = bench_wall() - t0, cw = bench_cpu() - c0;
        unsetenv("AXM_GENDATA_SERIAL_WRITER");
        unlink(path);
        if (rc) {
            fprintf(stderr, "bench_gendata: %s\n", e.msg);
            return 1;
        }
        rate[par] = 3.0 * b->B / tw;
        /* CPU time is the robust measure on a loaded machine; wall time shows the overlap */
        printf("gendata 3 runs with HDF5 output (gzip %d, 2 threads, %s writer, %ld chunks compressed in "
               "parallel): %.2f fibers/s (wall %+.0f%% vs simulating alone); CPU %.1f ms/fiber, of which writing "
               "%.1f ms/fiber (%.0f%% of the simulation's)\n",
               c.gzip_level, par ? "parallel" : "serial", o.chunks_direct, rate[par], 100.0 * (tw - tsim) / tsim,
               1e3 * cw / (3.0 * b->B), 1e3 * (cw - 3.0 * sim_cpu2) / (3.0 * b->B),
               100.0 * (cw - 3.0 * sim_cpu2) / (3.0 * sim_cpu2));
    }
    printf("gendata parallel / serial writer: %.2fx fibers/s\n", rate[1] / rate[0]);
    axm_gendata_batch_destroy(b);
    axm_model_destroy(m);
    return 0;
}
