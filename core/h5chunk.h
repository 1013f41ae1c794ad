/* HDF5 chunks compressed on several threads, byte for byte as HDF5's own filter pipeline would.
 *
 * HDF5 (1.10) runs a dataset's filters on the thread that writes, one chunk after the other: for
 * gendata's traces (shuffle + deflate) that is ~60 MB/s, far below what the simulation produces.
 * Here the same two filters run on worker threads and the caller stores the results with
 * H5Dwrite_chunk, in its own order, so that the file is the one H5Dwrite would have written:
 *   shuffle (H5Zshuffle.c): n = nbytes / esize elements; output byte j*n + i = input byte
 *     i*esize + j, the nbytes % esize leftover bytes copied after them; nothing done when esize
 *     is 1 or n is 1 or less;
 *   deflate (H5Zdeflate.c): zlib compress2(level) into a buffer of ceil(1.001 nbytes) + 12
 *     bytes (the same zlib library HDF5 links, so the same bytes).
 * Both filters are optional in HDF5: if deflate fails there, the chunk is stored shuffled with
 * filter mask bit 1. We never guess that case: a chunk whose compression fails is reported as
 * not done, and the caller writes it through H5Dwrite instead.
 *
 * Only HDF5 calls in axm_h5chunk_plan (on the caller's thread); the pool threads run zlib only. */
#ifndef AXM_H5CHUNK_H
#define AXM_H5CHUNK_H

#include <stddef.h>

#include <hdf5.h>

#include "err.h"

/* Whether whole chunks of dset may be written with axm_h5z results and H5Dwrite_chunk with the
 * same file bytes as H5Dwrite: the dataset is chunked with exactly the filters shuffle then
 * deflate, and its chunk is larger than its chunk cache (HDF5 then filters, allocates and writes
 * each written chunk at once, as H5Dwrite_chunk does; a cached chunk would be allocated only when
 * it leaves the cache, at a place in the file that depends on the other datasets' writes). On 1,
 * *esize is the shuffle's element size and *level the deflate level. 0 on any doubt. */
int axm_h5chunk_plan(hid_t dset, unsigned *esize, int *level);

/* The two filters on one chunk: out (capacity axm_h5z_bound(nbytes)) gets the stored bytes and
 * *out_n their count; tmp (nbytes) holds the shuffled bytes. Returns 0, or -1 when compress2
 * failed (out is then undefined: write the chunk through HDF5). */
size_t axm_h5z_bound(size_t nbytes);
int axm_h5z_filter(const void *src, size_t nbytes, unsigned esize, int level, void *tmp, void *out,
                   size_t *out_n);

/* A pool of threads filtering a list of chunks, results handed out in list order. */
typedef struct axm_h5z_task {
    const void *src;
    size_t nbytes;
    unsigned esize;
    int level;
} axm_h5z_task;

typedef struct axm_h5z_pool axm_h5z_pool;

/* n_threads workers (>= 1). At most about 2 n_threads chunks are held at once (a shuffle buffer
 * per worker, a result per chunk done and not yet taken). */
axm_h5z_pool *axm_h5z_pool_create(int n_threads, axm_err *err);
/* Stops the workers (a list in progress is ended first). NULL is fine. */
void axm_h5z_pool_destroy(axm_h5z_pool *p);
/* Starts filtering tasks[0..n-1]; the array and the data it points to must stay untouched until
 * axm_h5z_pool_end. A previous list must have been ended. */
int axm_h5z_pool_begin(axm_h5z_pool *p, const axm_h5z_task *tasks, int n, axm_err *err);
/* Waits for the next task of the list, in order: 1 with *out / *out_n its stored bytes (valid
 * until the next call on p), 0 when its compression failed (write that chunk through HDF5),
 * -1 (err set) when memory ran out or the list is exhausted. */
int axm_h5z_pool_next(axm_h5z_pool *p, const void **out, size_t *out_n, axm_err *err);
/* Drops the tasks not started and waits for the running ones: afterwards no thread reads the
 * list's data. */
void axm_h5z_pool_end(axm_h5z_pool *p);

#endif
