/* What the benchmarks share: clocks and the CPU's name for their reports. */
#ifndef AXM_BENCH_UTIL_H
#define AXM_BENCH_UTIL_H

#include <stdio.h>
#include <string.h>
#include <time.h>

/* NEURON 8.2.2 on one core of this project's CPU machine: seconds for one 51-node MRG fiber, 1000
 * steps of 0.005 ms (bench_mrg's reference run); the MRG benchmarks' baseline */
#define BENCH_NEURON_MRG_S 0.34
#define BENCH_NEURON_MRG_NODES 51
#define BENCH_NEURON_MRG_STEPS 1000

static inline double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* wall time; CPU time of the process (all threads: rates per CPU-second stay comparable when
 * other work shares the cores); CPU time of the calling thread */
static inline double bench_wall(void) { return bench_clock(CLOCK_MONOTONIC); }
static inline double bench_cpu(void) { return bench_clock(CLOCK_PROCESS_CPUTIME_ID); }
static inline double bench_thread_cpu(void) { return bench_clock(CLOCK_THREAD_CPUTIME_ID); }

/* "model name" of /proc/cpuinfo, or "unknown CPU". */
static inline void bench_cpu_name(char *buf, size_t n)
{
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(buf, n, "%s", c + 2);
                buf[strcspn(buf, "\n")] = 0;
            }
            break;
        }
    fclose(f);
}

#endif
