/* Internal to the dataset generator (datagen.c): the HDF5 file of a generation in the original
 * axonml layout (axm_dgfile: datasets, attributes, the checks that let --resume continue a file)
 * and the thread that compresses and writes runs while the next are simulated (axm_dgwriter).
 * Nothing outside datagen.c includes this. */
#ifndef AXM_DATAGEN_H5_H
#define AXM_DATAGEN_H5_H

#include <hdf5.h>
#include <pthread.h>

#include "datagen.h"
#include "h5chunk.h"

#define MAX_DS 24

typedef enum { DT_F32, DT_F64, DT_I32 } dtype;

typedef struct dsdef {
    char name[32];
    dtype type;
    int rank;            /* including the run axis */
    hsize_t dims[6];     /* dims[0] = G */
    int compress;        /* gzip level (with shuffle); 0 = none */
    char units[256];
    char axes[96];       /* "" = no axes attribute (as the reference) */
    const void *buf;     /* this run's data */
    hid_t id;
    int direct;          /* chunks filtered by the pool and stored with H5Dwrite_chunk */
    unsigned esize;      /* their shuffle element size and deflate level */
    int level;
} dsdef;

typedef struct axm_dgfile {
    hid_t f;
    int n;
    dsdef ds[MAX_DS];
    long G;
    axm_h5z_pool *pool;  /* NULL: every chunk through H5Dwrite (HDF5's filters, one thread) */
    long n_direct;       /* chunks written with H5Dwrite_chunk */
} axm_dgfile;

/* The writer thread: all HDF5 calls of a generation happen on it (between create/open and close
 * on the calling thread), so that compressing the runs of one engine call overlaps simulating the
 * next call's. A job is n consecutive runs g, g+1, ..., written in order. */
typedef struct axm_dgwriter {
    axm_dgfile *w;
    const char *path;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int has_job, quit, rc;
    long g, written;
    axm_gendata_batch *const *job;
    int n_job;
    axm_err err;
    float *diam, *ys, *par;
    double *amp, *pw, *delay, *gap, *freq, *phase;
    int *kind;
    size_t cap_b, cap_bc;
    axm_h5z_task *tasks; /* the pool's list of the job in progress */
    size_t cap_tasks;
} axm_dgwriter;

/* The run-indexed datasets of configuration c for model kind k, in the reference's names and order
 * (w->G set first). */
void axm_dgfile_define(axm_dgfile *w, const axm_gendata_cfg *c, const axm_model_kind *k);
/* A new file at path with the generation's attributes (gen_json: axm_gendata_to_json) and empty
 * datasets; or an existing one whose settings must be gen_json's, *done set to the runs it holds
 * (writable: to append to it). */
int axm_dgfile_create(axm_dgfile *w, const char *path, const axm_gendata_cfg *c, const char *gen_json, axm_err *err);
int axm_dgfile_open(axm_dgfile *w, const char *path, const char *gen_json, int writable, long *done, axm_err *err);
/* The compression pool for the trace chunks (n_threads as axm_gendata_opts). */
int axm_dgfile_start_pool(axm_dgfile *w, int n_threads, axm_err *err);
/* Closes datasets and file (safe on a file never opened: f = -1). */
void axm_dgfile_close(axm_dgfile *w);

/* Starts the writer thread on an open file whose first done runs are written. */
int axm_dgwriter_start(axm_dgwriter *wr, axm_dgfile *w, const char *path, long done, axm_err *err);
/* Hands runs g..g+n-1 (b[0..n-1]) to the writer once it has finished the previous job; b and its
 * batches must stay untouched until the next submit or finish returns. */
int axm_dgwriter_submit(axm_dgwriter *wr, long g, axm_gendata_batch *const *b, int n, axm_err *err);
/* Waits for the last run to be written and stops the thread; returns its first error (err: NULL to
 * keep the caller's). */
int axm_dgwriter_finish(axm_dgwriter *wr, axm_err *err);

#endif
