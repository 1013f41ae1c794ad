/* Reader of axonml training datasets (smf-model.md §9.2, consolidated layout): datasets e, m, h,
 * p, s, v of shape (G runs, R rows, F fibers, W nodes, T samples) float32 and diameters (G, R, F).
 * Reads one block of rows of one run at a time, so a dataset larger than memory works.
 *
 * Not thread-safe (libhdf5 serial): use one reader per thread, or read from one thread only. */
#ifndef AXM_DATASET_H
#define AXM_DATASET_H

#include "err.h"

typedef struct axm_dataset axm_dataset;

axm_dataset *axm_dataset_open(const char *path, axm_err *err);
void axm_dataset_close(axm_dataset *ds);

typedef struct axm_dataset_dims {
    int G, R, F, W, T;
    double dt_ms; /* file attribute "dt", or 0 when absent */
} axm_dataset_dims;
axm_dataset_dims axm_dataset_get_dims(const axm_dataset *ds);
const char *axm_dataset_path(const axm_dataset *ds);

/* Number of samples kept with subsampling s >= 1: samples 0, s, 2s, ... < T. */
int axm_dataset_samples(const axm_dataset *ds, int sampling);

/* Rows [r0, r1) of run g: B = (r1-r0)*F fibers, fiber index (r-r0)*F + f. With n = samples(s):
 *   ve     (n, B, W)       mV, sample k*s
 *   states (n, B, 5, W)    m, h, p, s, v (any of ve/states/D may be NULL)
 *   D      (B)             um */
int axm_dataset_read(axm_dataset *ds, int g, int r0, int r1, int sampling, double *ve,
                     double *states, double *D, axm_err *err);

#endif
