#include "h5chunk.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ================================================================================ plan */

int axm_h5chunk_plan(hid_t dset, unsigned *esize, int *level)
{
    int ok = 0;
    hid_t dcpl = H5Dget_create_plist(dset), dapl = H5Dget_access_plist(dset), type = H5Dget_type(dset);
    if (dcpl < 0 || dapl < 0 || type < 0) goto out;
    if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_nfilters(dcpl) != 2) goto out;
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, dims);
    size_t tsize = H5Tget_size(type);
    if (rank <= 0 || tsize == 0) goto out;
    unsigned flags, cd[8];
    size_t ncd = 8;
    char name[64];
    if (H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, sizeof name, name, NULL) != H5Z_FILTER_SHUFFLE) goto out;
    /* the dataset's own pipeline carries the element size its set_local callback stored */
    if (ncd != 1 || cd[0] != tsize) goto out;
    ncd = 8;
    if (H5Pget_filter2(dcpl, 1, &flags, &ncd, cd, sizeof name, name, NULL) != H5Z_FILTER_DEFLATE) goto out;
    if (ncd != 1 || cd[0] > 9) goto out;
    double bytes = (double)tsize;
    for (int i = 0; i < rank; i++) bytes *= (double)dims[i];
    size_t nslots = 0, nbytes = 0;
    double w0 = 0;
    if (H5Pget_chunk_cache(dapl, &nslots, &nbytes, &w0) < 0) goto out;
    if (!(bytes > (double)nbytes) || bytes >= 4294967296.0) goto out;
    *esize = (unsigned)tsize;
    *level = (int)cd[0];
    ok = 1;
out:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (dapl >= 0) H5Pclose(dapl);
    if (type >= 0) H5Tclose(type);
    return ok;
}

/* ================================================================================ filters */

size_t axm_h5z_bound(size_t nbytes)
{
    /* H5Zdeflate.c's H5Z_DEFLATE_SIZE_ADJUST: the output buffer HDF5 gives compress2 (never below
     * zlib's compressBound, so compress2 cannot run out of room in either) */
    return (size_t)ceil((double)nbytes * 1.001) + 12;
}

static void shuffle(const unsigned char *src, size_t nbytes, unsigned es, unsigned char *dst)
{
    size_t n = nbytes / es;
    if (es == 4) {
        unsigned char *d0 = dst, *d1 = dst + n, *d2 = dst + 2 * n, *d3 = dst + 3 * n;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *s = src + 4 * i;
            d0[i] = s[0], d1[i] = s[1], d2[i] = s[2], d3[i] = s[3];
        }
    } else {
        for (unsigned j = 0; j < es; j++)
            for (size_t i = 0; i < n; i++) dst[(size_t)j * n + i] = src[i * es + j];
    }
    memcpy(dst + n * es, src + n * es, nbytes - n * es);
}

int axm_h5z_filter(const void *src, size_t nbytes, unsigned esize, int level, void *tmp, void *out,
                   size_t *out_n)
{
    const void *in = src;
    if (esize > 1 && nbytes / esize > 1) {
        shuffle(src, nbytes, esize, tmp);
        in = tmp;
    }
    uLongf dn = (uLongf)axm_h5z_bound(nbytes);
    if ((size_t)(uLong)nbytes != nbytes || (size_t)dn != axm_h5z_bound(nbytes)) return -1;
    if (compress2(out, &dn, in, (uLong)nbytes, level) != Z_OK) return -1;
    *out_n = (size_t)dn;
    return 0;
}

/* ================================================================================ pool */

enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE, SLOT_FAILED };

typedef struct slot {
    unsigned char *buf;
    size_t cap, n;
    int state;
} slot;

struct axm_h5z_pool {
    int nt, window, started;
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    const axm_h5z_task *tasks;
    int n_tasks;
    int next_start;   /* next task a worker takes */
    int next_out;     /* next task axm_h5z_pool_next hands out */
    int released;     /* tasks below this no longer hold their slot */
    int running;
    int quit;
    slot *slots;      /* task i uses slot i % window */
};

static void *worker_main(void *arg)
{
    axm_h5z_pool *p = arg;
    unsigned char *tmp = NULL;
    size_t tmp_cap = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && !(p->next_start < p->n_tasks && p->next_start < p->released + p->window))
            pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->quit) break;
        int i = p->next_start++;
        p->running++;
        slot *s = &p->slots[i % p->window];
        s->state = SLOT_BUSY;
        axm_h5z_task t = p->tasks[i];
        pthread_mutex_unlock(&p->mu);

        int ok = 1;
        size_t need = axm_h5z_bound(t.nbytes);
        if (s->cap < need) {
            free(s->buf);
            s->buf = malloc(need);
            s->cap = s->buf ? need : 0;
            ok = s->buf != NULL;
        }
        if (ok && tmp_cap < t.nbytes) {
            free(tmp);
            tmp = malloc(t.nbytes);
            tmp_cap = tmp ? t.nbytes : 0;
            ok = tmp != NULL;
        }
        if (ok) ok = !axm_h5z_filter(t.src, t.nbytes, t.esize, t.level, tmp, s->buf, &s->n);

        pthread_mutex_lock(&p->mu);
        s->state = ok ? SLOT_DONE : SLOT_FAILED;
        p->running--;
        pthread_cond_broadcast(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    free(tmp);
    return NULL;
}

axm_h5z_pool *axm_h5z_pool_create(int n_threads, axm_err *err)
{
    if (n_threads < 1) n_threads = 1;
    axm_h5z_pool *p = calloc(1, sizeof *p);
    if (!p) {
        axm_fail(err, AXM_ERR_NOMEM, "h5chunk: out of memory");
        return NULL;
    }
    p->nt = n_threads;
    /* one result more than workers: they keep going while the caller writes the one it holds */
    p->window = n_threads + 1;
    p->th = calloc((size_t)n_threads, sizeof *p->th);
    p->slots = calloc((size_t)p->window, sizeof *p->slots);
    if (!p->th || !p->slots) {
        free(p->th), free(p->slots), free(p);
        axm_fail(err, AXM_ERR_NOMEM, "h5chunk: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    for (; p->started < n_threads; p->started++)
        if (pthread_create(&p->th[p->started], NULL, worker_main, p)) break;
    if (p->started == 0) {
        axm_h5z_pool_destroy(p);
        axm_fail(err, AXM_ERR_RUNTIME, "h5chunk: cannot start a compression thread");
        return NULL;
    }
    return p;
}

void axm_h5z_pool_end(axm_h5z_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->n_tasks = p->next_start;
    while (p->running) pthread_cond_wait(&p->cv_done, &p->mu);
    p->tasks = NULL;
    p->n_tasks = p->next_start = p->next_out = p->released = 0;
    for (int i = 0; i < p->window; i++) p->slots[i].state = SLOT_FREE;
    pthread_mutex_unlock(&p->mu);
}

void axm_h5z_pool_destroy(axm_h5z_pool *p)
{
    if (!p) return;
    axm_h5z_pool_end(p);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    for (int i = 0; i < p->window; i++) free(p->slots[i].buf);
    free(p->slots);
    free(p->th);
    free(p);
}

int axm_h5z_pool_begin(axm_h5z_pool *p, const axm_h5z_task *tasks, int n, axm_err *err)
{
    pthread_mutex_lock(&p->mu);
    int busy = p->tasks != NULL;
    if (!busy) {
        p->tasks = tasks;
        p->n_tasks = n > 0 ? n : 0;
        p->next_start = p->next_out = p->released = 0;
        pthread_cond_broadcast(&p->cv_work);
    }
    pthread_mutex_unlock(&p->mu);
    return busy ? axm_fail(err, AXM_ERR_RUNTIME, "h5chunk: a list is already in progress") : AXM_OK;
}

int axm_h5z_pool_next(axm_h5z_pool *p, const void **out, size_t *out_n, axm_err *err)
{
    pthread_mutex_lock(&p->mu);
    int rc;
    if (!p->tasks || p->next_out >= p->n_tasks) {
        rc = -1;
    } else {
        /* the result handed out last time is the caller's no more */
        if (p->released < p->next_out) {
            p->slots[(p->next_out - 1) % p->window].state = SLOT_FREE;
            p->released = p->next_out;
            pthread_cond_broadcast(&p->cv_work);
        }
        slot *s = &p->slots[p->next_out % p->window];
        while (s->state != SLOT_DONE && s->state != SLOT_FAILED) pthread_cond_wait(&p->cv_done, &p->mu);
        rc = s->state == SLOT_DONE;
        *out = s->buf;
        *out_n = rc ? s->n : 0;
        p->next_out++;
    }
    pthread_mutex_unlock(&p->mu);
    if (rc < 0) axm_fail(err, AXM_ERR_RUNTIME, "h5chunk: no task left in the list");
    return rc;
}
