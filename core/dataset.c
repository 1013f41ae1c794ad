#include "dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const VARS[6] = {"e", "m", "h", "p", "s", "v"};

struct axm_dataset {
    char path[1024];
    hid_t file;
    hid_t dset[6]; /* e m h p s v */
    hid_t diam;
    axm_dataset_dims d;
    float *buf;
    size_t buf_n;
};

static hid_t open_dset(hid_t f, const char *name)
{
    hid_t d = H5I_INVALID_HID;
    H5E_BEGIN_TRY
    {
        if (H5Lexists(f, name, H5P_DEFAULT) > 0) d = H5Dopen2(f, name, H5P_DEFAULT);
    }
    H5E_END_TRY;
    return d;
}

/* Minibatches walk the rows of one run in order, and a gzip chunk (one run) must be inflated
 * whole to read any row of it: a cache that holds one chunk inflates each run once instead of
 * once per minibatch. Bounded, so that huge chunks fall back to HDF5's direct reads. */
#define AXM_DS_CACHE_MAX ((size_t)256 << 20)

static hid_t reopen_cached(hid_t f, const char *name, hid_t d)
{
    hid_t cp = H5Dget_create_plist(d);
    hsize_t cd[8];
    size_t bytes = 0;
    if (cp >= 0 && H5Pget_layout(cp) == H5D_CHUNKED) {
        int n = H5Pget_chunk(cp, 8, cd);
        bytes = n > 0 ? H5Tget_size(H5T_NATIVE_FLOAT) : 0;
        for (int i = 0; i < n; i++) bytes *= (size_t)cd[i];
    }
    if (cp >= 0) H5Pclose(cp);
    if (bytes <= ((size_t)1 << 20) || bytes > AXM_DS_CACHE_MAX) return d;
    hid_t ap = H5Pcreate(H5P_DATASET_ACCESS);
    if (ap < 0) return d;
    H5Pset_chunk_cache(ap, 521, bytes + 4096, 1.0);
    hid_t d2 = H5I_INVALID_HID;
    H5E_BEGIN_TRY { d2 = H5Dopen2(f, name, ap); }
    H5E_END_TRY;
    H5Pclose(ap);
    if (d2 < 0) return d;
    H5Dclose(d);
    return d2;
}

static int dset_shape(hid_t d, hsize_t *dims, int max)
{
    hid_t sp = H5Dget_space(d);
    if (sp < 0) return -1;
    int n = H5Sget_simple_extent_ndims(sp);
    if (n > 0 && n <= max) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    return n;
}

void axm_dataset_close(axm_dataset *ds)
{
    if (!ds) return;
    for (int i = 0; i < 6; i++)
        if (ds->dset[i] >= 0) H5Dclose(ds->dset[i]);
    if (ds->diam >= 0) H5Dclose(ds->diam);
    if (ds->file >= 0) H5Fclose(ds->file);
    free(ds->buf);
    free(ds);
}

axm_dataset *axm_dataset_open(const char *path, axm_err *err)
{
    axm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        axm_fail(err, AXM_ERR_NOMEM, "dataset: out of memory");
        return NULL;
    }
    snprintf(ds->path, sizeof ds->path, "%s", path);
    ds->file = ds->diam = H5I_INVALID_HID;
    for (int i = 0; i < 6; i++) ds->dset[i] = H5I_INVALID_HID;
    H5E_BEGIN_TRY { ds->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
    H5E_END_TRY;
    if (ds->file < 0) {
        if (access(path, R_OK) != 0)
            axm_fail(err, AXM_ERR_INPUT, "%s: cannot read the dataset: %s", path, strerror(errno));
        else
            axm_fail(err, AXM_ERR_INPUT, "%s: expected an HDF5 dataset (axonml gendata writes them), got another kind of file", path);
        goto fail;
    }
    hsize_t ref[5] = {0}, dims[5];
    for (int i = 0; i < 6; i++) {
        ds->dset[i] = open_dset(ds->file, VARS[i]);
        if (ds->dset[i] < 0) {
            axm_fail(err, AXM_ERR_INPUT,
                     "%s: no dataset '%s' (expected the axonml layout: e, m, h, p, s, v of shape "
                     "(runs, rows, fibers, nodes, samples) and diameters (runs, rows, fibers))",
                     path, VARS[i]);
            goto fail;
        }
        ds->dset[i] = reopen_cached(ds->file, VARS[i], ds->dset[i]);
        int n = dset_shape(ds->dset[i], dims, 5);
        if (n != 5) {
            axm_fail(err, AXM_ERR_INPUT,
                     "%s: dataset '%s' has %d dimensions (expected 5: runs, rows, fibers, nodes, "
                     "samples)", path, VARS[i], n);
            goto fail;
        }
        if (i == 0)
            memcpy(ref, dims, sizeof ref);
        else if (memcmp(ref, dims, sizeof ref)) {
            axm_fail(err, AXM_ERR_INPUT, "%s: dataset '%s' shape differs from 'e'", path, VARS[i]);
            goto fail;
        }
    }
    ds->diam = open_dset(ds->file, "diameters");
    if (ds->diam < 0) {
        axm_fail(err, AXM_ERR_INPUT, "%s: no dataset 'diameters' (expected (runs, rows, fibers))",
                 path);
        goto fail;
    }
    if (dset_shape(ds->diam, dims, 3) != 3 || dims[0] != ref[0] || dims[1] != ref[1] ||
        dims[2] != ref[2]) {
        axm_fail(err, AXM_ERR_INPUT, "%s: dataset 'diameters': expected shape (%llu, %llu, %llu)",
                 path, (unsigned long long)ref[0], (unsigned long long)ref[1],
                 (unsigned long long)ref[2]);
        goto fail;
    }
    ds->d.G = (int)ref[0];
    ds->d.R = (int)ref[1];
    ds->d.F = (int)ref[2];
    ds->d.W = (int)ref[3];
    ds->d.T = (int)ref[4];
    if (ds->d.G < 1 || ds->d.R < 1 || ds->d.F < 1 || ds->d.W < 2 || ds->d.T < 2) {
        axm_fail(err, AXM_ERR_INPUT, "%s: empty dataset (runs %d, rows %d, fibers %d, nodes %d, samples %d)",
                 path, ds->d.G, ds->d.R, ds->d.F, ds->d.W, ds->d.T);
        goto fail;
    }
    H5E_BEGIN_TRY
    {
        if (H5Aexists(ds->file, "dt") > 0) {
            hid_t a = H5Aopen(ds->file, "dt", H5P_DEFAULT);
            double dt = 0;
            if (a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &dt) >= 0) ds->d.dt_ms = dt;
            if (a >= 0) H5Aclose(a);
        }
    }
    H5E_END_TRY;
    return ds;
fail:
    axm_dataset_close(ds);
    return NULL;
}

axm_dataset_dims axm_dataset_get_dims(const axm_dataset *ds) { return ds->d; }
const char *axm_dataset_path(const axm_dataset *ds) { return ds->path; }

int axm_dataset_samples(const axm_dataset *ds, int s)
{
    if (s < 1) s = 1;
    return (ds->d.T - 1) / s + 1;
}

/* Reads the hyperslab [g, r0:r1, :, ...] of a dataset of rank `rank` into dst (floats). */
static int read_block(axm_dataset *ds, hid_t d, int rank, int g, int r0, int r1, float *dst)
{
    hsize_t start[5] = {(hsize_t)g, (hsize_t)r0, 0, 0, 0};
    hsize_t count[5] = {1, (hsize_t)(r1 - r0), (hsize_t)ds->d.F, (hsize_t)ds->d.W,
                        (hsize_t)ds->d.T};
    hid_t fs = H5Dget_space(d);
    if (fs < 0) return -1;
    herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    if (rc >= 0 && ms >= 0) {
        H5E_BEGIN_TRY { rc = H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, dst); }
        H5E_END_TRY;
    } else {
        rc = -1;
    }
    if (ms >= 0) H5Sclose(ms);
    H5Sclose(fs);
    return rc < 0 ? -1 : 0;
}

int axm_dataset_read(axm_dataset *ds, int g, int r0, int r1, int sampling, double *ve,
                     double *states, double *D, axm_err *err)
{
    const axm_dataset_dims *d = &ds->d;
    if (g < 0 || g >= d->G || r0 < 0 || r1 > d->R || r0 >= r1)
        return axm_fail(err, AXM_ERR_INPUT, "%s: run %d rows [%d,%d) out of range (%d runs x %d rows)",
                        ds->path, g, r0, r1, d->G, d->R);
    int s = sampling < 1 ? 1 : sampling;
    int n = axm_dataset_samples(ds, s);
    int B = (r1 - r0) * d->F, W = d->W, T = d->T;
    size_t need = (size_t)B * W * T;
    if (need > ds->buf_n) {
        float *nb = realloc(ds->buf, need * sizeof *nb);
        if (!nb) return axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory reading run %d", ds->path, g);
        ds->buf = nb;
        ds->buf_n = need;
    }
    for (int v = 0; v < 6; v++) {
        if (v == 0 ? !ve : !states) continue;
        if (read_block(ds, ds->dset[v], 5, g, r0, r1, ds->buf) < 0)
            return axm_fail(err, AXM_ERR_INPUT, "%s: cannot read dataset '%s' run %d", ds->path,
                            VARS[v], g);
        /* file order (b, j, t) -> ours (k, b, [state,] j) */
        for (int b = 0; b < B; b++)
            for (int j = 0; j < W; j++) {
                const float *src = ds->buf + ((size_t)b * W + j) * T;
                if (v == 0)
                    for (int k = 0; k < n; k++) ve[((size_t)k * B + b) * W + j] = src[(size_t)k * s];
                else
                    for (int k = 0; k < n; k++)
                        states[(((size_t)k * B + b) * 5 + (v - 1)) * W + j] = src[(size_t)k * s];
            }
    }
    if (D) {
        hsize_t start[3] = {(hsize_t)g, (hsize_t)r0, 0};
        hsize_t count[3] = {1, (hsize_t)(r1 - r0), (hsize_t)d->F};
        hid_t fs = H5Dget_space(ds->diam);
        herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        hid_t ms = H5Screate_simple(3, count, NULL);
        if (rc >= 0) {
            H5E_BEGIN_TRY { rc = H5Dread(ds->diam, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, D); }
            H5E_END_TRY;
        }
        H5Sclose(ms);
        H5Sclose(fs);
        if (rc < 0)
            return axm_fail(err, AXM_ERR_INPUT, "%s: cannot read dataset 'diameters' run %d",
                            ds->path, g);
        for (int b = 0; b < B; b++)
            if (!(D[b] > 0))
                return axm_fail(err, AXM_ERR_INPUT, "%s: diameters[%d][%d][%d] = %g: expected > 0",
                                ds->path, g, r0 + b / d->F, b % d->F, D[b]);
    }
    return AXM_OK;
}
