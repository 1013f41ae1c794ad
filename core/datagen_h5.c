/* The HDF5 side of the dataset generator (datagen_h5.h): the file in the original axonml layout and
 * the writer thread. */
#include "datagen_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "version.h"

static hid_t file_type(dtype t)
{
    return t == DT_F32 ? H5T_IEEE_F32LE : t == DT_F64 ? H5T_IEEE_F64LE : H5T_STD_I32LE;
}

static hid_t mem_type(dtype t)
{
    return t == DT_F32 ? H5T_NATIVE_FLOAT : t == DT_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32;
}

static int put_str_attr(hid_t obj, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &val);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc < 0 ? -1 : 0;
}

static int put_num_attr(hid_t obj, const char *name, int is_int, double d, long long i)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT)
                                       : H5Acreate2(obj, name, is_int ? H5T_STD_I64LE : H5T_IEEE_F64LE, sp,
                                                    H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : is_int ? H5Awrite(a, H5T_NATIVE_LLONG, &i) : H5Awrite(a, H5T_NATIVE_DOUBLE, &d);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static int get_int_attr(hid_t obj, const char *name, long long *out)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_LLONG, out);
    if (a >= 0) H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

/* Returns a malloc'ed copy of a string attribute, or NULL. */
static char *get_str_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *res = NULL;
    if (H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Aread(a, t, &s) >= 0 && s) {
            res = strdup(s);
            H5free_memory(s);
        }
        H5Tclose(t);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return res;
}

static const char *state_units(const char *kind, const char *name, char *buf, size_t n)
{
    if (!strcmp(kind, "mrg") || !strcmp(kind, "smf")) {
        if (!strcmp(name, "m")) return "1 (fast Na activation, axnode_myel m)";
        if (!strcmp(name, "h")) return "1 (fast Na inactivation, axnode_myel h)";
        if (!strcmp(name, "p")) return "1 (persistent Na activation, axnode_myel mp)";
        if (!strcmp(name, "s")) return "1 (slow K activation, axnode_myel s)";
    }
    snprintf(buf, n, "1 (gating variable %s of model %s)", name, kind);
    return buf;
}

static void add_ds(axm_dgfile *w, const char *name, dtype t, int rank, const hsize_t *tail, int compress,
                   const char *units, const char *axes)
{
    dsdef *d = &w->ds[w->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->type = t;
    d->rank = rank;
    d->dims[0] = (hsize_t)w->G;
    for (int i = 1; i < rank; i++) d->dims[i] = tail[i - 1];
    d->compress = compress;
    snprintf(d->units, sizeof d->units, "%s", units);
    snprintf(d->axes, sizeof d->axes, "%s", axes ? axes : "");
    d->id = -1;
}

/* The run-indexed datasets of a configuration, in the reference's names and order. */
void axm_dgfile_define(axm_dgfile *w, const axm_gendata_cfg *c, const axm_model_kind *k)
{
    hsize_t R = (hsize_t)c->rows, F = (hsize_t)c->fibers, W = (hsize_t)c->nodes, C = (hsize_t)c->contacts;
    hsize_t T = (hsize_t)axm_gendata_T(c);
    const char *ax5 = "n_idx, batch, axons, nodes, T", *ax3 = "n_idx, batch, axons";
    char buf[256];
    w->n = 0;
    hsize_t t_traces[4] = {R, F, W, T}, t3[2] = {R, F}, tpar[2] = {R, 2 * F}, tc[4] = {R, F, C, 3},
            tp[3] = {R, F, C}, tn[3] = {R, F, W}, tap[3] = {R, F, 2};
    snprintf(buf, sizeof buf,
             "1 if Vm crossed %g mV upward at the nodes nearest +-%g mm from the centre (cajal default MRG AP "
             "monitors; clipped to the end nodes for short fibers), else 0",
             c->threshold_mV, c->ap_monitor_um / 1000.0);
    add_ds(w, "activations", DT_F32, 3, t3, 0, buf, ax3);
    add_ds(w, "ap_monitor_nodes", DT_I32, 4, tap, 0, "node indices used for `activations`", NULL);
    add_ds(w, "contact_xyz_um", DT_F64, 5, tc, 0,
           "um; x, y (along fiber, centre node at 0), z of each point-source contact",
           "n_idx, batch, axons, contacts, xyz");
    add_ds(w, "diameters", DT_F32, 3, t3, 0, "um (fiber diameter)", ax3);
    add_ds(w, "e", DT_F32, 5, t_traces, c->gzip_level, "mV (extracellular potential e_extracellular applied at the node centre)", ax5);
    for (int s = 0; s < k->n_states; s++) {
        const char *nm = s == k->n_states - 1 ? "v" : k->state_names[s];
        const char *u = s == k->n_states - 1 ? "mV (membrane potential v = vi - vext at the node)"
                                             : state_units(k->name, nm, buf, sizeof buf);
        add_ds(w, nm, DT_F32, 5, t_traces, c->gzip_level, u, ax5);
    }
    snprintf(buf, sizeof buf, "um; node centre positions along the fiber (node %d at 0)", (c->nodes - 1) / 2);
    add_ds(w, "node_y_um", DT_F64, 4, tn, 0, buf, "n_idx, batch, axons, nodes");
    add_ds(w, "parameters", DT_F32, 3, tpar, 0,
           "interleaved [diameter_um, y_um] per axon, as cajal's NeuronModel parameters", "n_idx, batch, 2*axons");
    add_ds(w, "pulse_amp_mA", DT_F64, 4, tp, 0, "mA (negative = cathodic)", "n_idx, batch, axons, contacts");
    add_ds(w, "pulse_delay_ms", DT_F64, 4, tp, 0, "ms", "n_idx, batch, axons, contacts");
    if (axm_gendata_n_kinds(c) > 1 || c->mix[0] == 0) {
        add_ds(w, "pulse_freq_khz", DT_F64, 4, tp, 0, "kHz (sinusoid frequency; 0 for pulses)",
               "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_gap_ms", DT_F64, 4, tp, 0, "ms (biphasic interphase gap)", "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_kind", DT_I32, 4, tp, 0,
               "0 monophasic, 1 charge-balanced symmetric biphasic, 2 sinusoid (duration pw)",
               "n_idx, batch, axons, contacts");
        add_ds(w, "pulse_phase_rad", DT_F64, 4, tp, 0, "rad (sinusoid phase)", "n_idx, batch, axons, contacts");
    }
    add_ds(w, "pulse_pw_ms", DT_F64, 4, tp, 0, "ms (first phase width; sinusoid duration)",
           "n_idx, batch, axons, contacts");
    add_ds(w, "ys", DT_F32, 3, t3, 0,
           "um (longitudinal position of the fiber centre node; always 0 here, contacts carry the offsets)", ax3);
}

void axm_dgfile_close(axm_dgfile *w)
{
    axm_h5z_pool_destroy(w->pool);
    w->pool = NULL;
    for (int i = 0; i < w->n; i++)
        if (w->ds[i].id >= 0) H5Dclose(w->ds[i].id), w->ds[i].id = -1;
    if (w->f >= 0) H5Fclose(w->f);
    w->f = -1;
}

int axm_dgfile_create(axm_dgfile *w, const char *path, const axm_gendata_cfg *c, const char *gen_json, axm_err *err)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    w->f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (w->f < 0) return axm_fail(err, AXM_ERR_IO, "%s: cannot create the file", path);
    long long T = axm_gendata_T(c);
    int bad = put_num_attr(w->f, "T", 1, 0, T) | put_num_attr(w->f, "dt", 0, c->dt_ms, 0) |
              put_str_attr(w->f, "dt_units", "ms") | put_num_attr(w->f, "tstop", 0, c->tstop_ms, 0) |
              put_str_attr(w->f, "tstop_units", "ms") | put_num_attr(w->f, "seed", 1, 0, c->seed) |
              put_str_attr(w->f, "generator", gen_json) | put_str_attr(w->f, "model", c->model) |
              put_str_attr(w->f, "axonml_version", axm_version()) | put_num_attr(w->f, "n_runs", 1, 0, c->n_runs) |
              put_num_attr(w->f, "batches_complete", 1, 0, 0);
    for (int i = 0; i < w->n && !bad; i++) {
        dsdef *d = &w->ds[i];
        hsize_t cur[6], chunk[6];
        for (int j = 0; j < d->rank; j++) cur[j] = d->dims[j], chunk[j] = d->dims[j];
        cur[0] = 0, chunk[0] = 1;
        hid_t sp = H5Screate_simple(d->rank, cur, d->dims);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        H5Pset_chunk(dcpl, d->rank, chunk);
        if (d->compress) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)d->compress);
        }
        d->id = H5Dcreate2(w->f, d->name, file_type(d->type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Pclose(dcpl);
        H5Sclose(sp);
        if (d->id < 0) bad = 1;
        else if (d->axes[0]) bad |= put_str_attr(d->id, "axes", d->axes);
        if (!bad) bad |= put_str_attr(d->id, "units", d->units);
    }
    if (!bad) {
        hsize_t n = (hsize_t)T;
        double *t = malloc((size_t)T * sizeof *t);
        hid_t sp = H5Screate_simple(1, &n, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        hid_t d = H5Dcreate2(w->f, "t_ms", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (!t || d < 0) bad = 1;
        else {
            for (long long k = 0; k < T; k++) t[k] = (double)k * c->dt_ms;
            bad |= H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) < 0;
            bad |= put_str_attr(d, "units", "ms; time of each sample along the T axis");
        }
        if (d >= 0) H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(sp);
        free(t);
    }
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    if (bad) {
        axm_dgfile_close(w);
        return axm_fail(err, AXM_ERR_IO, "%s: cannot write the dataset layout", path);
    }
    return AXM_OK;
}

/* The parallel writer (HDF5 1.10 filters a dataset's chunks one after the other on the thread that
 * writes: ~60 MB/s of traces at gzip 4, a tenth of what 16 cores simulate). The trace datasets
 * whose chunks h5chunk can filter exactly as HDF5 get a pool of n_threads (<= 0: all CPUs)
 * compressing threads, as many as an eighth of the memory holds chunk buffers for. Not with
 * AXM_GENDATA_SERIAL_WRITER=1: HDF5's own filter path, kept as the reference the byte-identity
 * tests compare with. */
int axm_dgfile_start_pool(axm_dgfile *w, int n_threads, axm_err *err)
{
    const char *s = getenv("AXM_GENDATA_SERIAL_WRITER");
    if (s && *s && strcmp(s, "0")) return AXM_OK;
    double big = 0;
    for (int i = 0; i < w->n; i++) {
        dsdef *d = &w->ds[i];
        /* chunks (1, dims[1..]) are whole runs: no edge chunks, every write covers one chunk; the
         * pool takes the memory bytes as they are, so only where the file's floats are native */
        d->direct = d->compress && d->type == DT_F32 && H5Tequal(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE) > 0 &&
                    axm_h5chunk_plan(d->id, &d->esize, &d->level);
        double bytes = d->esize;
        for (int j = 1; j < d->rank; j++) bytes *= (double)d->dims[j];
        if (d->direct && bytes > big) big = bytes;
    }
    if (big == 0) return AXM_OK;
    long np = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    int nt = n_threads > 0 ? n_threads : np > 0 ? (int)np : 1;
    double phys = pages > 0 && psz > 0 ? (double)pages * (double)psz : 16e9;
    double fit = floor((phys / 8 / (big * 1.001) - 1) / 2); /* a shuffle buffer and ~1 result per thread */
    if (nt > fit) nt = fit < 1 ? 1 : (int)fit;
    w->pool = axm_h5z_pool_create(nt, err);
    return w->pool ? AXM_OK : err && err->code ? err->code : AXM_ERR_NOMEM;
}

/* Opens a partial dataset for appending: its settings must be ours; runs past batches_complete
 * (a run that was being written when the process died) are dropped. */
int axm_dgfile_open(axm_dgfile *w, const char *path, const char *gen_json, int writable, long *done, axm_err *err)
{
    w->f = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    if (w->f < 0) return axm_fail(err, AXM_ERR_INPUT, "%s: not a readable HDF5 file", path);
    char *g = get_str_attr(w->f, "generator");
    long long n = -1;
    int rc = AXM_OK;
    if (!g || get_int_attr(w->f, "batches_complete", &n) || n < 0)
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: not an axonml gendata file (no generator / batches_complete attribute)", path);
    else if (strcmp(g, gen_json))
        rc = axm_fail(err, AXM_ERR_INPUT, "%s: was generated with other settings than this configuration: "
                      "cannot continue it (use --force to start over)", path);
    free(g);
    for (int i = 0; i < w->n && !rc; i++) {
        dsdef *d = &w->ds[i];
        d->id = H5Dopen2(w->f, d->name, H5P_DEFAULT);
        if (d->id < 0) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s: dataset %s is missing", path, d->name);
            break;
        }
        if (writable) {
            hsize_t cur[6];
            for (int j = 0; j < d->rank; j++) cur[j] = d->dims[j];
            cur[0] = (hsize_t)n;
            if (H5Dset_extent(d->id, cur) < 0) rc = axm_fail(err, AXM_ERR_IO, "%s: cannot resize %s", path, d->name);
        }
    }
    if (rc) {
        axm_dgfile_close(w);
        return rc;
    }
    *done = (long)n;
    return AXM_OK;
}

static int dgfile_write_run(axm_dgfile *w, long g, const char *path, axm_err *err)
{
    int bad = 0;
    for (int i = 0; i < w->n && !bad; i++) {
        dsdef *d = &w->ds[i];
        hsize_t cur[6], start[6] = {0}, count[6];
        for (int j = 0; j < d->rank; j++) cur[j] = count[j] = d->dims[j];
        cur[0] = (hsize_t)g + 1, start[0] = (hsize_t)g, count[0] = 1;
        if (H5Dset_extent(d->id, cur) < 0) {
            bad = 1;
            break;
        }
        if (d->direct && w->pool) {
            /* the pool filtered this chunk as H5Dwrite would; written at the same point of the
             * sequence of HDF5 calls, it lands at the same file address */
            const void *z = NULL;
            size_t zn = 0;
            int got = axm_h5z_pool_next(w->pool, &z, &zn, err);
            if (got < 0) return AXM_ERR_RUNTIME;
            if (got) {
                bad |= H5Dwrite_chunk(d->id, H5P_DEFAULT, 0, start, zn, z) < 0;
                w->n_direct++;
                continue;
            }
        }
        hid_t fs = H5Dget_space(d->id);
        hid_t ms = H5Screate_simple(d->rank, count, NULL);
        bad |= H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0;
        if (!bad) bad |= H5Dwrite(d->id, mem_type(d->type), ms, fs, H5P_DEFAULT, d->buf) < 0;
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* the count is written after the data, so that a file whose count says n holds n runs */
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    if (!bad) bad = put_num_attr(w->f, "batches_complete", 1, 0, (long long)g + 1);
    if (!bad) bad = H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0;
    return bad ? axm_fail(err, AXM_ERR_IO, "%s: cannot write run %ld (disk full?)", path, g) : AXM_OK;
}

/* ================================================================================ writer */

/* Run b's data of dataset d: the batch's own arrays, or (small datasets) the writer's converted
 * copies that write_job fills. *s_idx counts the state datasets seen, in the kind's order. */
static const void *run_buf(const axm_dgwriter *wr, const dsdef *d, const axm_gendata_batch *b, int *s_idx)
{
    const char *n = d->name;
    size_t trace = (size_t)b->B * (size_t)b->W * (size_t)b->T;
    if (!strcmp(n, "activations")) return b->act;
    if (!strcmp(n, "ap_monitor_nodes")) return b->ap_nodes;
    if (!strcmp(n, "contact_xyz_um")) return b->contact_xyz_um;
    if (!strcmp(n, "diameters")) return wr->diam;
    if (!strcmp(n, "e")) return b->e;
    if (!strcmp(n, "node_y_um")) return b->node_y_um;
    if (!strcmp(n, "parameters")) return wr->par;
    if (!strcmp(n, "pulse_amp_mA")) return wr->amp;
    if (!strcmp(n, "pulse_delay_ms")) return wr->delay;
    if (!strcmp(n, "pulse_freq_khz")) return wr->freq;
    if (!strcmp(n, "pulse_gap_ms")) return wr->gap;
    if (!strcmp(n, "pulse_kind")) return wr->kind;
    if (!strcmp(n, "pulse_phase_rad")) return wr->phase;
    if (!strcmp(n, "pulse_pw_ms")) return wr->pw;
    if (!strcmp(n, "ys")) return wr->ys;
    return b->states + (size_t)((*s_idx)++) * trace; /* states, in the kind's order */
}

/* Hands the pool the trace chunks of runs b[0..n-1], in the order write_job will store them. */
static int begin_job_chunks(axm_dgwriter *wr, axm_gendata_batch *const *b, int n)
{
    axm_dgfile *w = wr->w;
    size_t need = (size_t)n * (size_t)w->n;
    if (wr->cap_tasks < need) {
        free(wr->tasks);
        wr->tasks = malloc(need * sizeof *wr->tasks);
        wr->cap_tasks = wr->tasks ? need : 0;
        if (!wr->tasks) return axm_fail(&wr->err, AXM_ERR_NOMEM, "gendata: out of memory");
    }
    int nt = 0;
    for (int r = 0; r < n; r++) {
        int s_idx = 0;
        for (int i = 0; i < w->n; i++) {
            const dsdef *d = &w->ds[i];
            const void *src = run_buf(wr, d, b[r], &s_idx);
            if (!d->direct) continue;
            size_t bytes = d->esize;
            for (int j = 1; j < d->rank; j++) bytes *= (size_t)d->dims[j];
            wr->tasks[nt++] = (axm_h5z_task){src, bytes, d->esize, d->level};
        }
    }
    return axm_h5z_pool_begin(w->pool, wr->tasks, nt, &wr->err);
}

static int write_job(axm_dgwriter *wr, long g, const axm_gendata_batch *b)
{
    size_t B = (size_t)b->B, BC = B * (size_t)b->C;
    if (wr->cap_b < B || wr->cap_bc < BC) {
        free(wr->diam), free(wr->ys), free(wr->par), free(wr->amp), free(wr->pw), free(wr->delay);
        free(wr->gap), free(wr->freq), free(wr->phase), free(wr->kind);
        wr->diam = malloc(B * sizeof(float)), wr->ys = calloc(B, sizeof(float)), wr->par = malloc(2 * B * sizeof(float));
        wr->amp = malloc(BC * sizeof(double)), wr->pw = malloc(BC * sizeof(double));
        wr->delay = malloc(BC * sizeof(double)), wr->gap = malloc(BC * sizeof(double));
        wr->freq = malloc(BC * sizeof(double)), wr->phase = malloc(BC * sizeof(double));
        wr->kind = malloc(BC * sizeof(int));
        wr->cap_b = B, wr->cap_bc = BC;
        if (!wr->diam || !wr->ys || !wr->par || !wr->amp || !wr->pw || !wr->delay || !wr->gap || !wr->freq ||
            !wr->phase || !wr->kind) {
            wr->cap_b = wr->cap_bc = 0;
            return axm_fail(&wr->err, AXM_ERR_NOMEM, "gendata: out of memory");
        }
    }
    for (size_t i = 0; i < B; i++) {
        wr->diam[i] = (float)b->D_um[i];
        wr->par[2 * i] = (float)b->D_um[i];
        wr->par[2 * i + 1] = 0.0f;
    }
    for (size_t i = 0; i < BC; i++) {
        const axm_wave *wv = &b->waves[i];
        wr->amp[i] = wv->amp_mA;
        wr->pw[i] = wv->pw_ms;
        wr->delay[i] = wv->delay_ms;
        wr->gap[i] = wv->gap_ms;
        wr->freq[i] = wv->freq_khz;
        wr->phase[i] = wv->phase_rad;
        wr->kind[i] = wv->kind == AXM_WAVE_MONO ? 0 : wv->kind == AXM_WAVE_BIPHASIC ? 1 : 2;
    }
    int s_idx = 0;
    for (int i = 0; i < wr->w->n; i++) wr->w->ds[i].buf = run_buf(wr, &wr->w->ds[i], b, &s_idx);
    return dgfile_write_run(wr->w, g, wr->path, &wr->err);
}

static void *writer_main(void *p)
{
    axm_dgwriter *wr = p;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* per thread in thread-safe HDF5 builds */
    pthread_mutex_lock(&wr->mu);
    for (;;) {
        while (!wr->has_job && !wr->quit) pthread_cond_wait(&wr->cv, &wr->mu);
        if (!wr->has_job) break;
        long g = wr->g;
        axm_gendata_batch *const *b = wr->job;
        int n = wr->n_job;
        if (wr->w->pool && !wr->rc) {
            /* every trace chunk of the job is compressed on the pool's threads while this one
             * stores them in order */
            pthread_mutex_unlock(&wr->mu);
            int rc = begin_job_chunks(wr, b, n);
            pthread_mutex_lock(&wr->mu);
            if (rc) wr->rc = rc;
        }
        for (int i = 0; i < n && !wr->rc; i++) {
            pthread_mutex_unlock(&wr->mu);
            int rc = write_job(wr, g + i, b[i]);
            pthread_mutex_lock(&wr->mu);
            if (rc) wr->rc = rc;
            else wr->written = g + i + 1;
        }
        if (wr->w->pool) {
            /* the batches go back to the simulation only once no thread reads them */
            pthread_mutex_unlock(&wr->mu);
            axm_h5z_pool_end(wr->w->pool);
            pthread_mutex_lock(&wr->mu);
        }
        wr->has_job = 0;
        pthread_cond_broadcast(&wr->cv);
    }
    pthread_mutex_unlock(&wr->mu);
    return NULL;
}

int axm_dgwriter_start(axm_dgwriter *wr, axm_dgfile *w, const char *path, long done, axm_err *err)
{
    memset(wr, 0, sizeof *wr);
    wr->w = w, wr->path = path, wr->written = done;
    pthread_mutex_init(&wr->mu, NULL);
    pthread_cond_init(&wr->cv, NULL);
    if (pthread_create(&wr->th, NULL, writer_main, wr)) {
        pthread_mutex_destroy(&wr->mu);
        pthread_cond_destroy(&wr->cv);
        return axm_fail(err, AXM_ERR_RUNTIME, "gendata: cannot start the writer thread");
    }
    return AXM_OK;
}

/* Hands runs g..g+n-1 (b[0..n-1]) to the writer once it has finished the previous job; b and its
 * batches must stay untouched until the next submit or finish returns. */
int axm_dgwriter_submit(axm_dgwriter *wr, long g, axm_gendata_batch *const *b, int n, axm_err *err)
{
    pthread_mutex_lock(&wr->mu);
    while (wr->has_job) pthread_cond_wait(&wr->cv, &wr->mu);
    int rc = wr->rc;
    if (!rc) {
        wr->job = b, wr->n_job = n, wr->g = g, wr->has_job = 1;
        pthread_cond_broadcast(&wr->cv);
    } else if (err) {
        *err = wr->err;
    }
    pthread_mutex_unlock(&wr->mu);
    return rc;
}

/* Waits for the last run to be written and stops the thread; returns its first error. */
int axm_dgwriter_finish(axm_dgwriter *wr, axm_err *err)
{
    pthread_mutex_lock(&wr->mu);
    while (wr->has_job) pthread_cond_wait(&wr->cv, &wr->mu);
    wr->quit = 1;
    pthread_cond_broadcast(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
    pthread_join(wr->th, NULL);
    pthread_mutex_destroy(&wr->mu);
    pthread_cond_destroy(&wr->cv);
    if (wr->rc && err) *err = wr->err;
    free(wr->diam), free(wr->ys), free(wr->par), free(wr->amp), free(wr->pw), free(wr->delay);
    free(wr->gap), free(wr->freq), free(wr->phase), free(wr->kind);
    free(wr->tasks);
    return wr->rc;
}
