/* Chunks filtered off HDF5's thread (h5chunk.h): the shuffle against its definition (H5Zshuffle.c:
 * byte j*n + i of the output is byte i*s + j of the input, leftover bytes last), the stored bytes
 * against the raw chunks HDF5 itself writes through its filter pipeline (read back with
 * H5Dread_chunk), which datasets qualify, and the pool: results in list order, equal to the
 * one-thread filter, for any number of threads, ended early or reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "h5chunk"
#include "tmpdir.h"
#include <hdf5.h>
#include <zlib.h>

#include "h5chunk.h"

/* Smooth float traces with noise in the low bits: what gendata compresses. */
static void fill_trace(float *x, size_t n, unsigned seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = -80.0f + 30.0f * (float)((i % 997) / 997.0) + (float)(s >> 8) * 1e-7f;
    }
}

static unsigned char *inflate_all(const void *z, size_t zn, size_t n)
{
    unsigned char *out = malloc(n + 1);
    uLongf on = (uLongf)n;
    assert_int_equal(uncompress(out, &on, z, (uLong)zn), Z_OK);
    assert_int_equal((size_t)on, n);
    return out;
}

/* ------------------------------------------------------------------------------ filter */

static void test_shuffle_matches_its_definition(void **state)
{
    (void)state;
    /* element sizes 1, 2, 4, 8, 3; byte counts with and without leftovers; a single element */
    const unsigned es[] = {1, 2, 4, 8, 3, 4, 8};
    const size_t nb[] = {1000, 1001, 4000, 8003, 301, 4, 9};
    for (size_t c = 0; c < sizeof es / sizeof *es; c++) {
        size_t n = nb[c];
        unsigned char *src = malloc(n), *tmp = malloc(n), *out = malloc(axm_h5z_bound(n)), *want = malloc(n);
        for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 131u + (i >> 3) * 7u);
        size_t ne = n / es[c], zn = 0;
        if (es[c] > 1 && ne > 1) {
            for (size_t i = 0; i < ne; i++)
                for (unsigned j = 0; j < es[c]; j++) want[(size_t)j * ne + i] = src[i * es[c] + j];
            memcpy(want + ne * es[c], src + ne * es[c], n - ne * es[c]);
        } else {
            memcpy(want, src, n); /* HDF5 leaves 1-byte elements and single elements alone */
        }
        assert_int_equal(axm_h5z_filter(src, n, es[c], 4, tmp, out, &zn), 0);
        assert_true(zn > 0 && zn <= axm_h5z_bound(n));
        unsigned char *back = inflate_all(out, zn, n);
        assert_memory_equal(back, want, n);
        free(back), free(src), free(tmp), free(out), free(want);
    }
}

/* A dataset of nc chunks of `chunk` elements of `type`, written by HDF5 with shuffle + deflate
 * (level) in one H5Dwrite; returns the file's handle and the dataset's through *d. */
static hid_t write_hdf5(const char *path, hid_t type, hsize_t nc, hsize_t chunk, int level, int shuffle,
                        const void *data, hid_t mem, hid_t *d)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims[2] = {nc, chunk}, cdims[2] = {1, chunk};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, cdims);
    if (shuffle) H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, (unsigned)level);
    *d = H5Dcreate2(f, "x", type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(*d >= 0);
    assert_true(H5Dwrite(*d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Pclose(dcpl), H5Sclose(sp);
    assert_true(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0);
    return f;
}

static void test_filter_gives_hdf5s_stored_chunks(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/ref.h5", tmpdir);
    const hsize_t nc = 3;
    /* float32 chunks below and above the 1 MB chunk cache, float64, levels 1, 4, 9 */
    struct { hid_t ft, mt; size_t es; hsize_t chunk; int level; } cs[] = {
        {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, 5000, 4},
        {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, 300000, 4},
        {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, 300000, 1},
        {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, 70001, 9},
        {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, 20000, 4},
    };
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        size_t n = (size_t)(nc * cs[c].chunk), cb = (size_t)cs[c].chunk * cs[c].es;
        float *x = malloc(n * cs[c].es);
        fill_trace(x, n * cs[c].es / sizeof(float), (unsigned)c);
        hid_t d, f = write_hdf5(path, cs[c].ft, nc, cs[c].chunk, cs[c].level, 1, x, cs[c].mt, &d);
        unsigned char *tmp = malloc(cb), *out = malloc(axm_h5z_bound(cb)), *raw = malloc(cb + 64);
        for (hsize_t k = 0; k < nc; k++) {
            hsize_t off[2] = {k, 0}, stored = 0;
            uint32_t mask = 99;
            size_t zn = 0;
            assert_true(H5Dget_chunk_storage_size(d, off, &stored) >= 0);
            assert_true(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, raw) >= 0);
            assert_int_equal(mask, 0);
            assert_int_equal(axm_h5z_filter((const char *)x + k * cb, cb, (unsigned)cs[c].es, cs[c].level, tmp, out,
                                            &zn), 0);
            assert_int_equal(zn, (size_t)stored);
            assert_memory_equal(out, raw, zn);
        }
        free(tmp), free(out), free(raw), free(x);
        H5Dclose(d), H5Fclose(f);
    }
}

static void test_plan_takes_big_shuffled_deflated_chunks_only(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/plan.h5", tmpdir);
    size_t big = 300000; /* 1.2 MB of float: above the default 1 MB chunk cache */
    float *x = calloc(2 * big, sizeof *x);
    unsigned es = 0;
    int lv = -1;
    hid_t d, f = write_hdf5(path, H5T_IEEE_F32LE, 2, big, 6, 1, x, H5T_NATIVE_FLOAT, &d);
    assert_int_equal(axm_h5chunk_plan(d, &es, &lv), 1);
    assert_int_equal(es, 4);
    assert_int_equal(lv, 6);
    H5Dclose(d), H5Fclose(f);
    /* a chunk the cache holds: HDF5 allocates it only on eviction, elsewhere in the file */
    f = write_hdf5(path, H5T_IEEE_F32LE, 2, 1000, 6, 1, x, H5T_NATIVE_FLOAT, &d);
    assert_int_equal(axm_h5chunk_plan(d, &es, &lv), 0);
    H5Dclose(d), H5Fclose(f);
    /* deflate alone */
    f = write_hdf5(path, H5T_IEEE_F32LE, 2, big, 6, 0, x, H5T_NATIVE_FLOAT, &d);
    assert_int_equal(axm_h5chunk_plan(d, &es, &lv), 0);
    H5Dclose(d), H5Fclose(f);
    /* contiguous */
    f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = big;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    d = H5Dcreate2(f, "y", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_int_equal(axm_h5chunk_plan(d, &es, &lv), 0);
    H5Dclose(d), H5Sclose(sp), H5Fclose(f);
    free(x);
}

/* ------------------------------------------------------------------------------ pool */

static void test_pool_hands_out_results_in_order(void **state)
{
    (void)state;
    enum { NT = 23 };
    axm_h5z_task t[NT];
    float *data[NT];
    unsigned char *want[NT];
    size_t wn[NT];
    for (int i = 0; i < NT; i++) {
        size_t n = 1000 + (size_t)(i % 7) * 30011; /* uneven: later tasks finish before earlier ones */
        data[i] = malloc(n * sizeof(float));
        fill_trace(data[i], n, (unsigned)i);
        t[i] = (axm_h5z_task){data[i], n * sizeof(float), 4, 1 + i % 9};
        unsigned char *tmp = malloc(t[i].nbytes);
        want[i] = malloc(axm_h5z_bound(t[i].nbytes));
        assert_int_equal(axm_h5z_filter(t[i].src, t[i].nbytes, 4, t[i].level, tmp, want[i], &wn[i]), 0);
        free(tmp);
    }
    axm_err e;
    for (int nt = 1; nt <= 4; nt++) {
        axm_h5z_pool *p = axm_h5z_pool_create(nt, &e);
        assert_non_null(p);
        for (int rep = 0; rep < 2; rep++) {
            assert_int_equal(axm_h5z_pool_begin(p, t, NT, &e), AXM_OK);
            assert_int_not_equal(axm_h5z_pool_begin(p, t, NT, &e), AXM_OK); /* one list at a time */
            for (int i = 0; i < NT; i++) {
                const void *z = NULL;
                size_t zn = 0;
                assert_int_equal(axm_h5z_pool_next(p, &z, &zn, &e), 1);
                assert_int_equal(zn, wn[i]);
                assert_memory_equal(z, want[i], zn);
            }
            const void *z;
            size_t zn;
            assert_int_equal(axm_h5z_pool_next(p, &z, &zn, &e), -1);
            axm_h5z_pool_end(p);
        }
        /* ended after 3 results: the rest is dropped and the pool takes the next list */
        assert_int_equal(axm_h5z_pool_begin(p, t, NT, &e), AXM_OK);
        for (int i = 0; i < 3; i++) {
            const void *z;
            size_t zn;
            assert_int_equal(axm_h5z_pool_next(p, &z, &zn, &e), 1);
        }
        axm_h5z_pool_end(p);
        assert_int_equal(axm_h5z_pool_begin(p, t + 5, 2, &e), AXM_OK);
        const void *z;
        size_t zn;
        assert_int_equal(axm_h5z_pool_next(p, &z, &zn, &e), 1);
        assert_memory_equal(z, want[5], wn[5]);
        axm_h5z_pool_destroy(p); /* with a list in progress */
    }
    for (int i = 0; i < NT; i++) free(data[i]), free(want[i]);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shuffle_matches_its_definition),
        cmocka_unit_test(test_filter_gives_hdf5s_stored_chunks),
        cmocka_unit_test(test_plan_takes_big_shuffled_deflated_chunks_only),
        cmocka_unit_test(test_pool_hands_out_results_in_order),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
