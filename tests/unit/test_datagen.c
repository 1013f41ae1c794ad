/* Dataset generator: RNG, configuration, draws, the written HDF5 layout (against the reference
 * files of reference/mrg_neuron/README.md §8), values (initial state, e against an independent
 * point-source computation), resume/cancel/overwrite, and (MRG, slow) our traces against the
 * stored NEURON traces of the reference training file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "datagen"
#include "tmpdir.h"
#include <hdf5.h>
#include <math.h>

#include "datagen.h"
#include "dataset.h"
#include "model.h"

/* ------------------------------------------------------------------------------ helpers */

static const char *shared_dir(void)
{
    const char *s = getenv("AXM_SHARED");
    return s && *s ? s : "../shared";
}

static int slow_ok(void)
{
    const char *s = getenv("AXM_SLOW");
    return !(s && !strcmp(s, "0"));
}

static void ref_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/reference/datasets/%s", shared_dir(), name);
}

/* The model the tests generate with: MRG when it is built in, else the S-MF. */
static const char *test_kind(void) { return axm_model_kind_find("mrg") ? "mrg" : "smf"; }

/* Reads a whole dataset as doubles (or ints); returns the element count, dims filled. */
static double *read_f64(hid_t f, const char *name, int *rank, hsize_t *dims, size_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    *rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    *n = (size_t)H5Sget_simple_extent_npoints(sp);
    double *buf = malloc(*n * sizeof *buf + 8);
    assert_non_null(buf);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

static int *read_i32(hid_t f, const char *name, size_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(sp);
    int *buf = malloc(*n * sizeof *buf + 8);
    assert_true(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

static long long attr_i64(hid_t obj, const char *name)
{
    long long v = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0);
    H5Aclose(a);
    return v;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static int same_bytes(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* A small configuration: 2 runs x 2 rows x 3 fibers, 53 nodes, 1 ms. */
static void small_cfg(axm_gendata_cfg *c)
{
    axm_gendata_defaults(c);
    snprintf(c->model, sizeof c->model, "%s", test_kind());
    c->n_runs = 2, c->rows = 2, c->fibers = 3;
    c->tstop_ms = 1.0;
    c->seed = 42;
    c->delay_ms[1] = 0.5; /* pulses inside the short window */
    c->pw_ms[1] = 0.5;
}

static int gen(const axm_gendata_cfg *c, const char *path, int force, int resume, long max_batches, axm_err *err)
{
    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = path;
    o.force = force, o.resume = resume, o.max_batches = max_batches;
    o.n_threads = 2;
    return axm_gendata_run(c, &o, err);
}

/* ------------------------------------------------------------------------------ RNG */

static void test_rng_reference_vectors(void **state)
{
    (void)state;
    /* splitmix64 from state 1234567, and xoshiro256** from {1,2,3,4}: the published test
     * vectors of the reference implementations (Vigna), checked with an independent Python
     * implementation. */
    uint64_t st = 1234567;
    assert_true(axm_splitmix64(&st) == 6457827717110365317ull);
    assert_true(axm_splitmix64(&st) == 3203168211198807973ull);
    assert_true(axm_splitmix64(&st) == 9817491932198370423ull);
    axm_rng r = {{1, 2, 3, 4}};
    const uint64_t want[6] = {11520ull, 0ull, 1509978240ull, 1215971899390074240ull, 1216172134540287360ull,
                              607988272756665600ull};
    for (int i = 0; i < 6; i++) assert_true(axm_rng_next(&r) == want[i]);
}

static void test_rng_streams_and_uniform(void **state)
{
    (void)state;
    axm_rng a, b, c;
    axm_rng_seed(&a, 5, 0);
    axm_rng_seed(&b, 5, 0);
    axm_rng_seed(&c, 5, 1);
    int differ = 0;
    double sum = 0, sum2 = 0, lo = 1, hi = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        uint64_t x = axm_rng_next(&a), y = axm_rng_next(&b), z = axm_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
        double u = axm_rng_uniform(&a);
        axm_rng_uniform(&b);
        axm_rng_next(&c);
        assert_true(u >= 0 && u < 1);
        sum += u, sum2 += u * u;
        lo = u < lo ? u : lo, hi = u > hi ? u : hi;
    }
    assert_true(differ > n - 5);
    /* mean 1/2 and variance 1/12 within ~5 standard errors */
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n));
    assert_true(fabs(var - 1.0 / 12) < 0.002);
    assert_true(lo < 1e-4 && hi > 1 - 1e-4);
    double x = axm_rng_range(&a, -2, 3);
    assert_true(x >= -2 && x < 3);
}

/* ------------------------------------------------------------------------------ config */

static void test_defaults_are_the_originals(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_gendata_defaults(&c);
    assert_string_equal(c.model, "mrg");
    assert_int_equal(c.nodes, 53);
    assert_true(c.dt_ms == 0.005 && c.tstop_ms == 5.0);
    assert_int_equal(axm_gendata_T(&c), 1001);
    assert_int_equal(c.n_runs, 64);
    assert_int_equal(c.rows, 32);
    assert_int_equal(c.fibers, 32);
    assert_true(c.diam_um[0] == 5.7 && c.diam_um[1] == 14.0);
    assert_int_equal(c.contacts, 6);
    assert_true(c.rho_ohm_cm == 500.0);
    assert_true(c.dist_um[0] == 500.0 && c.dist_um[1] == 3000.0);
    assert_true(c.offset_deltax[0] == -2.0 && c.offset_deltax[1] == 2.0);
    assert_true(c.amp_mA[0] == -0.2 && c.amp_mA[1] == 0.2);
    assert_true(c.pw_ms[0] == 0.0 && c.pw_ms[1] == 2.0);
    assert_true(c.delay_ms[0] == 0.0 && c.delay_ms[1] == 2.0);
    assert_true(c.ap_monitor_um == 14000.0 && c.threshold_mV == 0.0);
    axm_err e;
    assert_int_equal(axm_gendata_check(&c, &e), AXM_OK);
}

static void test_parse_and_json_round_trip(void **state)
{
    (void)state;
    axm_gendata_cfg c, d;
    axm_err e;
    axm_gendata_defaults(&c);
    const char *js = "{\"gendata\": {\"model\": \"smf\", \"nodes\": 21, \"n_runs\": 3, \"rows\": 4, \"fibers\": 5,"
                     " \"seed\": 99, \"diameter_um\": [8, 9], \"polarity\": \"cathodic\", \"precision\": \"fp32\","
                     " \"waveforms\": {\"monophasic\": 1, \"biphasic\": 2, \"sinusoid\": 0.5},"
                     " \"gap_ms\": [0, 0.1], \"freq_khz\": [1, 4], \"contacts\": 2}}";
    assert_int_equal(axm_gendata_parse(&c, js, "x.json", &e), AXM_OK);
    assert_string_equal(c.model, "smf");
    assert_int_equal(c.nodes, 21);
    assert_int_equal(c.rows, 4);
    assert_true(c.seed == 99);
    assert_int_equal(c.polarity, AXM_POL_CATHODIC);
    assert_int_equal(c.prec, AXM_FP32);
    assert_true(c.mix[1] == 2 && c.mix[2] == 0.5);
    assert_int_equal(c.contacts, 2);
    char *j1 = axm_gendata_to_json(&c);
    axm_gendata_defaults(&d);
    assert_int_equal(axm_gendata_parse(&d, j1, "generator", &e), AXM_OK);
    char *j2 = axm_gendata_to_json(&d);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
}

static void expect_bad(const char *js, const char *needle)
{
    axm_gendata_cfg c;
    axm_err e;
    axm_err_clear(&e);
    axm_gendata_defaults(&c);
    int rc = axm_gendata_parse(&c, js, "bad.json", &e);
    if (rc != AXM_ERR_INPUT || !strstr(e.msg, needle) || !strstr(e.msg, "bad.json") || strchr(e.msg, '\n'))
        fail_msg("config %s: rc %d, message '%s' (expected to name '%s')", js, rc, e.msg, needle);
}

static void test_bad_configs_name_the_key(void **state)
{
    (void)state;
    expect_bad("{\"rows\": 0}", "rows");
    expect_bad("{\"rows\": 2, \"rows\": 3}", "rows: expected each key once, got it twice");
    expect_bad("{\"waveforms\": {\"biphasic\": 1, \"biphasic\": 2}}", "waveforms.biphasic: expected each key once");
    expect_bad("{\"nodes\": \"many\"}", "nodes: expected an integer in [3, 100000], got \"many\"");
    expect_bad("{\"precision\": 32}", "precision: expected \"fp64\" or \"fp32\", got 32");
    expect_bad("{\"rowz\": 3}", "rowz");
    expect_bad("{\"amp_mA\": [0.1]}", "amp_mA");
    expect_bad("{\"diameter_um\": [9, 8]}", "diameter_um");
    expect_bad("{\"diameter_um\": [0, 8]}", "diameter_um");
    expect_bad("{\"distance_um\": [0, 8]}", "distance_um");
    expect_bad("{\"tstop_ms\": 1.0012}", "tstop_ms");
    expect_bad("{\"seed\": -1}", "seed");
    expect_bad("{\"seed\": 1.5}", "seed");
    expect_bad("{\"polarity\": \"up\"}", "polarity");
    expect_bad("{\"precision\": \"fp16\"}", "precision");
    expect_bad("{\"waveforms\": {\"square\": 1}}", "waveforms.square");
    expect_bad("{\"waveforms\": {\"monophasic\": 0}}", "waveforms");
    expect_bad("{\"contacts\": 100}", "contacts");
    expect_bad("{\"nodes\": \"53\"}", "nodes");
    expect_bad("{\"rows\": 32,", "line 1");
    expect_bad("[1, 2]", "object");
    expect_bad("{\"rows\": 4000, \"fibers\": 4000}", "4 GB");
}

/* ------------------------------------------------------------------------------ draws */

static void test_draws_follow_the_distributions(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_err e;
    axm_gendata_defaults(&c);
    snprintf(c.model, sizeof c.model, "%s", test_kind());
    c.rows = 8, c.fibers = 32, c.tstop_ms = 0.05;
    axm_model *m = axm_model_create(c.model, &e);
    assert_non_null(m);
    axm_gendata_batch *b = axm_gendata_batch_create(&c, m->kind->n_states, &e);
    assert_non_null(b);
    assert_int_equal(axm_gendata_draw(&c, m, 3, b, &e), AXM_OK);
    double dsum = 0, neg = 0;
    for (int f = 0; f < b->B; f++) {
        double D = b->D_um[f];
        assert_true(D >= 5.7 && D < 14.0);
        dsum += D;
        /* node spacing: the MRG method-1 fit (mrg-model.md §4.3), centre node at 0 */
        double dx = -8.215284 * D * D + 272.4201 * D - 780.2411;
        const double *ny = b->node_y_um + (size_t)f * b->W;
        assert_true(fabs(ny[26]) < 1e-9);
        assert_true(fabs(ny[27] - ny[26] - dx) < 2e-6 * dx);
        for (int k = 0; k < b->C; k++) {
            const double *p = b->contact_xyz_um + ((size_t)f * b->C + k) * 3;
            double r = hypot(p[0], p[2]);
            assert_true(r >= 500.0 - 1e-9 && r <= 3000.0 + 1e-9);
            assert_true(fabs(p[1]) <= 2 * dx + 1e-9);
            const axm_wave *w = &b->waves[(size_t)f * b->C + k];
            assert_int_equal(w->kind, AXM_WAVE_MONO);
            assert_true(w->amp_mA >= -0.2 && w->amp_mA < 0.2);
            assert_true(w->pw_ms >= 0 && w->pw_ms < 2.0);
            assert_true(w->delay_ms >= 0 && w->delay_ms < 2.0);
            neg += w->amp_mA < 0;
        }
        /* AP monitors: the nodes nearest -+14 mm */
        for (int s = 0; s < 2; s++) {
            double t = s ? 14000.0 : -14000.0;
            int a = b->ap_nodes[2 * f + s];
            for (int w = 0; w < b->W; w++) assert_true(fabs(ny[a] - t) <= fabs(ny[w] - t));
        }
    }
    assert_true(fabs(dsum / b->B - 9.85) < 0.6);          /* 256 draws: sd of the mean 0.15 */
    assert_true(neg > 0.35 * b->B * b->C && neg < 0.65 * b->B * b->C);

    /* the same run redraws identically; another run differs */
    double D0 = b->D_um[0], y0 = b->contact_xyz_um[1];
    assert_int_equal(axm_gendata_draw(&c, m, 3, b, &e), AXM_OK);
    assert_true(b->D_um[0] == D0 && b->contact_xyz_um[1] == y0);
    assert_int_equal(axm_gendata_draw(&c, m, 4, b, &e), AXM_OK);
    assert_true(b->D_um[0] != D0);

    /* cathodic polarity and a waveform mix */
    c.polarity = AXM_POL_CATHODIC;
    c.mix[0] = 1, c.mix[1] = 1, c.mix[2] = 1;
    assert_int_equal(axm_gendata_draw(&c, m, 3, b, &e), AXM_OK);
    int count[3] = {0, 0, 0};
    for (int i = 0; i < b->B * b->C; i++) {
        const axm_wave *w = &b->waves[i];
        assert_true(w->amp_mA <= 0);
        count[w->kind == AXM_WAVE_MONO ? 0 : w->kind == AXM_WAVE_BIPHASIC ? 1 : 2]++;
        if (w->kind == AXM_WAVE_SINE) assert_true(w->freq_khz >= 0.5 && w->freq_khz < 10 && w->dur_ms == w->pw_ms);
    }
    for (int i = 0; i < 3; i++) assert_true(count[i] > b->B * b->C / 5);
    axm_gendata_batch_destroy(b);
    axm_model_destroy(m);
}

/* ------------------------------------------------------------------------------ layout */

typedef struct names {
    int n;
    char name[64][64];
} names;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *ud)
{
    (void)g, (void)info;
    names *n = ud;
    if (n->n < 64) snprintf(n->name[n->n++], 64, "%s", name);
    return 0;
}

static void list_names(hid_t f, names *n)
{
    n->n = 0;
    assert_true(H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, n) >= 0);
}

static int has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

static void test_layout_matches_reference(void **state)
{
    (void)state;
    char ref[512], out[512];
    ref_path(ref, sizeof ref, "train_small.h5");
    if (!exists(ref)) {
        print_message("reference dataset %s not found: skipped\n", ref);
        skip();
    }
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    snprintf(out, sizeof out, "%s/layout.h5", tmpdir);
    if (gen(&c, out, 0, 0, 0, &e)) fail_msg("gendata: %s", e.msg);
    assert_true(exists(out));

    hid_t fr = H5Fopen(ref, H5F_ACC_RDONLY, H5P_DEFAULT), fo = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(fr >= 0 && fo >= 0);
    names nr, no;
    list_names(fr, &nr);
    list_names(fo, &no);
    assert_int_equal(nr.n, no.n);
    for (int i = 0; i < nr.n; i++) assert_string_equal(nr.name[i], no.name[i]);
    const char *fattrs[] = {"T", "dt", "dt_units", "tstop", "tstop_units", "seed", "generator"};
    for (size_t i = 0; i < sizeof fattrs / sizeof *fattrs; i++) {
        assert_true(has_attr(fo, fattrs[i]));
        hid_t ar = H5Aopen(fr, fattrs[i], H5P_DEFAULT), ao = H5Aopen(fo, fattrs[i], H5P_DEFAULT);
        hid_t tr = H5Aget_type(ar), to = H5Aget_type(ao);
        assert_int_equal(H5Tget_class(tr), H5Tget_class(to));
        if (H5Tget_class(tr) != H5T_STRING) assert_true(H5Tequal(tr, to) > 0);
        H5Tclose(tr), H5Tclose(to), H5Aclose(ar), H5Aclose(ao);
    }
    assert_int_equal(attr_i64(fo, "T"), 201);
    assert_int_equal(attr_i64(fo, "seed"), 42);
    assert_int_equal(attr_i64(fo, "batches_complete"), 2);

    for (int i = 0; i < nr.n; i++) {
        const char *n = nr.name[i];
        hid_t dr = H5Dopen2(fr, n, H5P_DEFAULT), dd = H5Dopen2(fo, n, H5P_DEFAULT);
        hid_t tr = H5Dget_type(dr), to = H5Dget_type(dd);
        if (H5Tequal(tr, to) <= 0) fail_msg("dataset %s: dtype differs from the reference", n);
        hid_t sr = H5Dget_space(dr), so = H5Dget_space(dd);
        int rank = H5Sget_simple_extent_ndims(sr);
        if (rank != H5Sget_simple_extent_ndims(so)) fail_msg("dataset %s: rank differs from the reference", n);
        hsize_t dims[8], maxd[8], rdims[8];
        H5Sget_simple_extent_dims(so, dims, maxd);
        H5Sget_simple_extent_dims(sr, rdims, NULL);
        for (int j = 0; j < rank; j++) assert_true(dims[j] == maxd[j]);
        if (rank >= 3) {
            /* run-indexed: (G, R, F, ...) with the reference's trailing axes where they do not
             * depend on the sizes */
            assert_true(dims[0] == 2 && dims[1] == 2);
            assert_true(dims[2] == (strcmp(n, "parameters") ? 3u : 6u));
            if (rank >= 4) assert_true(dims[rank - 1] == (rdims[rank - 1] == 1001 ? 201u : rdims[rank - 1]));
        }
        for (const char *a = "units"; a; a = strcmp(a, "units") ? NULL : "axes")
            if (has_attr(dr, a) && !has_attr(dd, a)) fail_msg("dataset %s: attribute %s missing", n, a);
        hid_t pr = H5Dget_create_plist(dr), po = H5Dget_create_plist(dd);
        if (H5Pget_layout(pr) == H5D_CHUNKED) {
            /* the reference's chunks are one run: (1, R, F, ...) */
            hsize_t ch[8];
            assert_int_equal(H5Pget_layout(po), H5D_CHUNKED);
            assert_int_equal(H5Pget_chunk(po, 8, ch), rank);
            assert_true(ch[0] == 1);
            for (int j = 1; j < rank; j++) assert_true(ch[j] == dims[j]);
            int nf = H5Pget_nfilters(pr);
            assert_int_equal(H5Pget_nfilters(po), nf);
            for (int j = 0; j < nf; j++) {
                unsigned fl, cv[4];
                size_t nc = 4;
                char nm[64];
                H5Z_filter_t a = H5Pget_filter2(pr, (unsigned)j, &fl, &nc, cv, sizeof nm, nm, NULL);
                nc = 4;
                H5Z_filter_t b = H5Pget_filter2(po, (unsigned)j, &fl, &nc, cv, sizeof nm, nm, NULL);
                assert_int_equal(a, b);
                if (b == H5Z_FILTER_DEFLATE) assert_int_equal(cv[0], 4);
            }
        }
        H5Pclose(pr), H5Pclose(po), H5Sclose(sr), H5Sclose(so), H5Tclose(tr), H5Tclose(to);
        H5Dclose(dr), H5Dclose(dd);
    }
    H5Fclose(fr);
    H5Fclose(fo);
}

/* ------------------------------------------------------------------------------ values */

static void test_values_are_consistent(void **state)
{
    (void)state;
    char out[512];
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    snprintf(out, sizeof out, "%s/values.h5", tmpdir);
    if (gen(&c, out, 1, 0, 0, &e)) fail_msg("gendata: %s", e.msg);
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int rank;
    hsize_t d[8];
    size_t n;
    double *v = read_f64(f, "v", &rank, d, &n), *ev = read_f64(f, "e", &rank, d, &n);
    double *m = read_f64(f, "m", &rank, d, &n), *h = read_f64(f, "h", &rank, d, &n);
    double *p = read_f64(f, "p", &rank, d, &n), *s = read_f64(f, "s", &rank, d, &n);
    double *D = read_f64(f, "diameters", &rank, d, &n), *par = read_f64(f, "parameters", &rank, d, &n);
    double *ys = read_f64(f, "ys", &rank, d, &n), *act = read_f64(f, "activations", &rank, d, &n);
    double *xyz = read_f64(f, "contact_xyz_um", &rank, d, &n), *amp = read_f64(f, "pulse_amp_mA", &rank, d, &n);
    double *pw = read_f64(f, "pulse_pw_ms", &rank, d, &n), *del = read_f64(f, "pulse_delay_ms", &rank, d, &n);
    double *ny = read_f64(f, "node_y_um", &rank, d, &n), *t = read_f64(f, "t_ms", &rank, d, &n);
    int *apn = read_i32(f, "ap_monitor_nodes", &n);
    const int G = 2, B = 6, W = 53, T = 201, C = 6;
    for (int k = 0; k < T; k++) assert_true(fabs(t[k] - k * 0.005) < 1e-12);
    int fired = 0;
    for (int fb = 0; fb < G * B; fb++) {
        /* t = 0: vm = -80 mV and the MRG gates at x_inf(-80 mV) (smf-model.md §6) */
        for (int w = 0; w < W; w++) {
            size_t i0 = ((size_t)fb * W + w) * T;
            assert_true(v[i0] == -80.0);
            assert_true(fabs(m[i0] - 0.0732093) < 1e-6 && fabs(h[i0] - 0.62069505) < 1e-6);
            assert_true(fabs(p[i0] - 0.20260409) < 1e-6 && fabs(s[i0] - 0.04302994) < 1e-6);
        }
        assert_true(par[2 * fb] == D[fb] && par[2 * fb + 1] == 0 && ys[fb] == 0);
        double dx = -8.215284 * D[fb] * D[fb] + 272.4201 * D[fb] - 780.2411;
        double emax = 0, errmax = 0;
        for (int w = 0; w < W; w++) {
            double y = ny[(size_t)fb * W + w];
            /* method-1 spacing; cajal's float32 geometry is ~1e-6 relative off */
            assert_true(fabs(y - (w - 26) * dx) < 1e-3 + 2e-6 * fabs(y));
            /* e against the point-source formula (fields-and-stimuli.md §2.1) and the
             * monophasic sampling rule amp on (delay, delay + pw] */
            double phi[6];
            for (int k = 0; k < C; k++) {
                const double *q = xyz + ((size_t)fb * C + k) * 3;
                double r = sqrt(q[0] * q[0] + (y - q[1]) * (y - q[1]) + q[2] * q[2]);
                phi[k] = 1e4 * 500.0 / (4 * M_PI * r);
            }
            for (int k = 0; k < T; k++) {
                int kk = k < T - 1 ? k : T - 2;
                double tk = kk * 0.005, want = 0;
                for (int j = 0; j < C; j++) {
                    size_t i = (size_t)fb * C + j;
                    if (tk > del[i] && tk <= del[i] + pw[i]) want += amp[i] * phi[j];
                }
                double got = ev[((size_t)fb * W + w) * T + k];
                emax = fmax(emax, fabs(want));
                errmax = fmax(errmax, fabs(got - want) / (fabs(want) + 1e-3));
            }
        }
        assert_true(emax > 0);
        if (errmax > 1e-5) fail_msg("fiber %d: e differs from the point-source drive by %g (relative)", fb, errmax);
        /* activations: an upward 0 mV crossing after the first step at a monitor node */
        int a = 0;
        for (int sde = 0; sde < 2; sde++) {
            int node = apn[2 * fb + sde];
            assert_true(node >= 0 && node < W);
            for (int k = 2; k < T; k++) {
                size_t i = ((size_t)fb * W + node) * T + k;
                a |= v[i] >= 0 && v[i - 1] < 0;
            }
        }
        assert_true(act[fb] == (double)a);
        fired += a;
        for (size_t i = (size_t)fb * W * T; i < (size_t)(fb + 1) * W * T; i++) assert_true(isfinite(v[i]));
    }
    print_message("values: %d of %d fibers fire (%s)\n", fired, G * B, c.model);
    free(v), free(ev), free(m), free(h), free(p), free(s), free(D), free(par), free(ys), free(act), free(xyz);
    free(amp), free(pw), free(del), free(ny), free(t), free(apn);
    H5Fclose(f);
}

/* The trainer's reader (dataset.h) takes our files: same dims, and its ve/states are our e and
 * traces, in its (sample, fiber, [state,] node) order. */
static void test_trainer_reads_it(void **state)
{
    (void)state;
    char out[512];
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    snprintf(out, sizeof out, "%s/reader.h5", tmpdir);
    if (gen(&c, out, 1, 0, 0, &e)) fail_msg("gendata: %s", e.msg);
    axm_dataset *ds = axm_dataset_open(out, &e);
    if (!ds) fail_msg("dataset reader: %s", e.msg);
    axm_dataset_dims d = axm_dataset_get_dims(ds);
    assert_int_equal(d.G, 2);
    assert_int_equal(d.R, 2);
    assert_int_equal(d.F, 3);
    assert_int_equal(d.W, 53);
    assert_int_equal(d.T, 201);
    assert_true(d.dt_ms == 0.005);
    const int B = 3, W = 53, T = 201;
    double *ve = malloc(sizeof(double) * T * B * W), *st = malloc(sizeof(double) * T * B * 5 * W), D[3];
    assert_int_equal(axm_dataset_read(ds, 1, 1, 2, 1, ve, st, D, &e), AXM_OK);
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rank;
    hsize_t dims[8];
    size_t n;
    double *ev = read_f64(f, "e", &rank, dims, &n), *v = read_f64(f, "v", &rank, dims, &n);
    double *m = read_f64(f, "m", &rank, dims, &n), *Dm = read_f64(f, "diameters", &rank, dims, &n);
    H5Fclose(f);
    for (int b = 0; b < B; b++) {
        size_t fib = (size_t)(1 * 2 + 1) * 3 + b; /* run 1, row 1 */
        assert_true(D[b] == Dm[fib]);
        for (int k = 0; k < T; k += 7)
            for (int w = 0; w < W; w += 5) {
                size_t src = (fib * W + w) * T + k;
                assert_true(ve[((size_t)k * B + b) * W + w] == ev[src]);
                assert_true(st[(((size_t)k * B + b) * 5 + 4) * W + w] == v[src]);
                assert_true(st[(((size_t)k * B + b) * 5 + 0) * W + w] == m[src]);
            }
    }
    free(ve), free(st), free(ev), free(v), free(m), free(Dm);
    axm_dataset_close(ds);
}

/* The wide preset (biphasic and sinusoidal drives): the extra pulse datasets are written and e
 * follows each contact's waveform, recomputed here from fields-and-stimuli.md §6. */
static void test_wide_preset_waveforms(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_err e;
    axm_gendata_defaults(&c);
    if (axm_gendata_load(&c, "presets/gendata-wide.json", &e)) fail_msg("%s", e.msg);
    assert_true(c.mix[1] > 0 && c.mix[2] > 0);
    snprintf(c.model, sizeof c.model, "%s", test_kind());
    c.n_runs = 1, c.rows = 2, c.fibers = 4, c.tstop_ms = 2.0;
    char out[512];
    snprintf(out, sizeof out, "%s/wide.h5", tmpdir);
    if (gen(&c, out, 1, 0, 0, &e)) fail_msg("gendata: %s", e.msg);
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int rank;
    hsize_t d[8];
    size_t n;
    double *ev = read_f64(f, "e", &rank, d, &n), *xyz = read_f64(f, "contact_xyz_um", &rank, d, &n);
    double *amp = read_f64(f, "pulse_amp_mA", &rank, d, &n), *pw = read_f64(f, "pulse_pw_ms", &rank, d, &n);
    double *del = read_f64(f, "pulse_delay_ms", &rank, d, &n), *gap = read_f64(f, "pulse_gap_ms", &rank, d, &n);
    double *fr = read_f64(f, "pulse_freq_khz", &rank, d, &n), *ph = read_f64(f, "pulse_phase_rad", &rank, d, &n);
    double *ny = read_f64(f, "node_y_um", &rank, d, &n);
    int *kind = read_i32(f, "pulse_kind", &n);
    H5Fclose(f);
    const int B = 8, W = 53, T = 401, C = 6;
    int seen[3] = {0, 0, 0};
    double errmax = 0;
    for (int fb = 0; fb < B; fb++)
        for (int w = 0; w < W; w += 4)
            for (int k = 0; k < T - 1; k++) {
                double t = k * 0.005, want = 0;
                for (int j = 0; j < C; j++) {
                    size_t i = (size_t)fb * C + j;
                    const double *q = xyz + 3 * i;
                    double y = ny[(size_t)fb * W + w];
                    double phi = 1e4 * 500.0 / (4 * M_PI * sqrt(q[0] * q[0] + (y - q[1]) * (y - q[1]) + q[2] * q[2]));
                    double a = amp[i], I = 0;
                    assert_true(kind[i] >= 0 && kind[i] <= 2);
                    seen[kind[i]]++;
                    if (kind[i] == 0) {
                        I = t > del[i] && t <= del[i] + pw[i] ? a : 0;
                    } else if (kind[i] == 1) { /* symmetric, charge-balanced, interphase gap */
                        double s2 = del[i] + pw[i] + gap[i];
                        I = t > del[i] && t <= del[i] + pw[i] ? a : t > s2 && t <= s2 + pw[i] ? -a : 0;
                    } else { /* sinusoid on [delay, delay + pw] */
                        I = t >= del[i] && t <= del[i] + pw[i] ? a * sin(2 * M_PI * fr[i] * (t - del[i]) + ph[i]) : 0;
                    }
                    want += I * phi;
                }
                double got = ev[((size_t)fb * W + w) * T + k];
                errmax = fmax(errmax, fabs(got - want) / (fabs(want) + 1e-3));
            }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    if (errmax > 1e-5) fail_msg("e differs from the waveforms by %g (relative)", errmax);
    free(ev), free(xyz), free(amp), free(pw), free(del), free(gap), free(fr), free(ph), free(ny), free(kind);
}

/* ------------------------------------------------------------------------------ resume */

static int cancel_flag;
static long cancel_at;

/* progress callback: cancels once more than cancel_at fibers are done */
static void cancel_past(void *ud, long done, long total)
{
    (void)ud, (void)total;
    if (done > cancel_at) cancel_flag = 1;
}

static void test_resume_and_cancel_give_the_same_bytes(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    c.n_runs = 3;
    char full[512], part[512], cut[512], cutpart[560];
    snprintf(full, sizeof full, "%s/full.h5", tmpdir);
    snprintf(cut, sizeof cut, "%s/cut.h5", tmpdir);
    snprintf(part, sizeof part, "%s/part.h5", tmpdir);
    snprintf(cutpart, sizeof cutpart, "%s.part", cut);
    if (gen(&c, full, 1, 0, 0, &e)) fail_msg("gendata: %s", e.msg);

    /* stop after one run, continue twice */
    assert_int_equal(gen(&c, part, 1, 0, 1, &e), AXM_OK);
    char pp[560];
    snprintf(pp, sizeof pp, "%s.part", part);
    assert_false(exists(part));
    assert_true(exists(pp));
    hid_t f = H5Fopen(pp, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(attr_i64(f, "batches_complete"), 1);
    hid_t d = H5Dopen2(f, "v", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[5], maxd[5];
    H5Sget_simple_extent_dims(sp, dims, maxd);
    assert_true(dims[0] == 1 && maxd[0] == 3); /* the partial file is a valid 1-run dataset */
    H5Sclose(sp), H5Dclose(d), H5Fclose(f);
    /* without --resume or --force an unfinished file is not touched */
    assert_int_equal(gen(&c, part, 0, 0, 0, &e), AXM_ERR_INPUT);
    assert_true(strstr(e.msg, "--resume") != NULL);
    assert_int_equal(gen(&c, part, 0, 1, 1, &e), AXM_OK);
    assert_int_equal(gen(&c, part, 0, 1, 0, &e), AXM_OK);
    assert_true(exists(part) && !exists(pp));
    assert_true(same_bytes(full, part));

    /* cancelled during the second run: the first is kept, resume completes it identically */
    long B = (long)c.rows * c.fibers;
    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = cut;
    o.force = 1;
    o.n_threads = 2;
    cancel_flag = 0;
    o.cancel = &cancel_flag;
    cancel_at = B; /* during the second run */
    o.progress = cancel_past;
    assert_int_equal(axm_gendata_run(&c, &o, &e), AXM_ERR_CANCELLED);
    assert_true(strstr(e.msg, "1 of 3") != NULL);
    assert_int_equal(o.batches_done, 1);
    assert_true(exists(cutpart));
    /* a resume with other settings is refused */
    c.seed++;
    assert_int_equal(gen(&c, cut, 0, 1, 0, &e), AXM_ERR_INPUT);
    c.seed--;
    assert_int_equal(gen(&c, cut, 0, 1, 0, &e), AXM_OK);
    assert_true(same_bytes(full, cut));

    /* a finished file is not overwritten without force; resuming it is a no-op */
    assert_int_equal(gen(&c, full, 0, 0, 0, &e), AXM_ERR_INPUT);
    assert_true(strstr(e.msg, "--force") != NULL);
    assert_true(same_bytes(full, cut));
    assert_int_equal(gen(&c, full, 0, 1, 0, &e), AXM_OK);
    assert_true(same_bytes(full, cut));
}

/* ------------------------------------------------------------------------------ runs per call */

static int gen_k(const axm_gendata_cfg *c, const char *path, int force, int resume, long max_batches, int k,
                 axm_err *err)
{
    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = path;
    o.force = force, o.resume = resume, o.max_batches = max_batches;
    o.n_threads = 2;
    o.runs_per_call = k;
    return axm_gendata_run(c, &o, err);
}

/* Several runs per simulation call (one simulation of all their fibers) write the bytes of one run
 * per call: whole groups, a partial last group, --batches and --resume inside a group, and a
 * cancel during the second group keeping the first. */
static void test_runs_per_call_give_the_same_bytes(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    c.n_runs = 5;
    char one[512], three[512], steps[512], cut[512];
    snprintf(one, sizeof one, "%s/k1.h5", tmpdir);
    snprintf(three, sizeof three, "%s/k3.h5", tmpdir);
    snprintf(steps, sizeof steps, "%s/kmix.h5", tmpdir);
    snprintf(cut, sizeof cut, "%s/kcut.h5", tmpdir);
    if (gen_k(&c, one, 1, 0, 0, 1, &e)) fail_msg("gendata k=1: %s", e.msg);
    if (gen_k(&c, three, 1, 0, 0, 3, &e)) fail_msg("gendata k=3: %s", e.msg);
    assert_true(same_bytes(one, three)); /* groups of 3 and 2 */

    /* 2 runs of a group of 3, then 2 more from run 2, then the rest 4 at a time */
    assert_int_equal(gen_k(&c, steps, 1, 0, 2, 3, &e), AXM_OK);
    assert_int_equal(gen_k(&c, steps, 0, 1, 2, 3, &e), AXM_OK);
    assert_false(exists(steps));
    assert_int_equal(gen_k(&c, steps, 0, 1, 0, 4, &e), AXM_OK);
    assert_true(same_bytes(one, steps));

    /* cancelled inside the second group of 2: the first group's runs are kept */
    long B = (long)c.rows * c.fibers;
    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = cut;
    o.force = 1;
    o.n_threads = 2;
    o.runs_per_call = 2;
    cancel_flag = 0;
    cancel_at = 2 * B + 1;
    o.cancel = &cancel_flag;
    o.progress = cancel_past;
    assert_int_equal(axm_gendata_run(&c, &o, &e), AXM_ERR_CANCELLED);
    assert_int_equal(o.batches_done, 2);
    assert_true(strstr(e.msg, "2 of 5") != NULL);
    assert_int_equal(gen_k(&c, cut, 0, 1, 0, 2, &e), AXM_OK);
    assert_true(same_bytes(one, cut));

    /* k runs simulated together: each run's traces are those of the run alone */
    axm_model *m = axm_model_create(c.model, &e);
    assert_non_null(m);
    int S = m->kind->n_states;
    axm_gendata_batch *solo = axm_gendata_batch_create(&c, S, &e), *bs[3];
    assert_non_null(solo);
    for (int j = 0; j < 3; j++) {
        bs[j] = axm_gendata_batch_create(&c, S, &e);
        assert_non_null(bs[j]);
        assert_int_equal(axm_gendata_draw(&c, m, 7 + j, bs[j], &e), AXM_OK);
    }
    assert_int_equal(axm_gendata_simulate_many(&c, m, bs, 3, NULL, NULL, 2, NULL, NULL, NULL, &e), AXM_OK);
    size_t nt = (size_t)S * solo->B * solo->W * solo->T, ne = (size_t)solo->B * solo->W * solo->T;
    for (int j = 0; j < 3; j++) {
        assert_int_equal(axm_gendata_draw(&c, m, 7 + j, solo, &e), AXM_OK);
        assert_int_equal(axm_gendata_simulate(&c, m, solo, 1, NULL, NULL, NULL, &e), AXM_OK);
        assert_memory_equal(solo->states, bs[j]->states, nt * sizeof(float));
        assert_memory_equal(solo->e, bs[j]->e, ne * sizeof(float));
        assert_memory_equal(solo->act, bs[j]->act, (size_t)solo->B * sizeof(float));
        assert_memory_equal(solo->ap_nodes, bs[j]->ap_nodes, (size_t)solo->B * 2 * sizeof(int));
        axm_gendata_batch_destroy(bs[j]);
    }
    /* runs of different shapes are refused */
    axm_gendata_cfg c2 = c;
    c2.fibers = 2;
    bs[0] = solo;
    bs[1] = axm_gendata_batch_create(&c2, S, &e);
    assert_int_equal(axm_gendata_simulate_many(&c, m, bs, 2, NULL, NULL, 1, NULL, NULL, NULL, &e), AXM_ERR_INPUT);
    axm_gendata_batch_destroy(bs[1]);
    axm_gendata_batch_destroy(solo);
    axm_model_destroy(m);
}

/* The automatic runs per call: enough runs for AXM_GD_TARGET_FIBERS fibers, as many as the budget
 * holds of (S+1) float traces [B][W][T] per run, at least 1, at most n_runs. */
/* ------------------------------------------------------------------------------ parallel writer */

static int gen_w(const axm_gendata_cfg *c, const char *path, int serial, int force, int resume, long max_batches,
                 int k, int threads, long *direct, axm_err *err)
{
    if (serial) setenv("AXM_GENDATA_SERIAL_WRITER", "1", 1);
    else unsetenv("AXM_GENDATA_SERIAL_WRITER");
    axm_gendata_opts o;
    memset(&o, 0, sizeof o);
    o.out_path = path;
    o.force = force, o.resume = resume, o.max_batches = max_batches;
    o.n_threads = threads;
    o.runs_per_call = k;
    int rc = axm_gendata_run(c, &o, err);
    unsetenv("AXM_GENDATA_SERIAL_WRITER");
    *direct = o.chunks_direct;
    return rc;
}

/* The trace chunks compressed on several threads and stored with H5Dwrite_chunk give the very
 * file HDF5's own filter pipeline writes (AXM_GENDATA_SERIAL_WRITER=1): whole files compared byte
 * for byte, with one and several runs per call, --batches and --resume between, other gzip
 * levels; chunks the chunk cache would hold (below 1 MB) stay on HDF5's path. */
static void test_parallel_writer_gives_the_same_bytes(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_err e;
    small_cfg(&c);
    c.n_runs = 3;
    c.tstop_ms = 5.0; /* 2 x 3 fibers x 53 nodes x 1001 samples x 4 bytes = 1.27 MB per chunk */
    axm_model *m = axm_model_create(c.model, &e);
    assert_non_null(m);
    long traces = m->kind->n_states + 1; /* the states and e */
    axm_model_destroy(m);
    char ser[512], par[512], park[512];
    snprintf(ser, sizeof ser, "%s/w_serial.h5", tmpdir);
    snprintf(par, sizeof par, "%s/w_par.h5", tmpdir);
    snprintf(park, sizeof park, "%s/w_park.h5", tmpdir);
    long direct = -1;
    if (gen_w(&c, ser, 1, 1, 0, 0, 1, 2, &direct, &e)) fail_msg("serial writer: %s", e.msg);
    assert_int_equal(direct, 0);
    if (gen_w(&c, par, 0, 1, 0, 0, 1, 3, &direct, &e)) fail_msg("parallel writer: %s", e.msg);
    assert_int_equal(direct, 3 * traces);
    assert_true(same_bytes(ser, par));

    /* 2 runs per call, stopped after 1 run and resumed (the reopened datasets get the pool too) */
    assert_int_equal(gen_w(&c, park, 0, 1, 0, 1, 2, 2, &direct, &e), AXM_OK);
    assert_int_equal(direct, traces);
    assert_int_equal(gen_w(&c, park, 0, 0, 1, 0, 2, 1, &direct, &e), AXM_OK);
    assert_int_equal(direct, 2 * traces);
    assert_true(same_bytes(ser, park));

    /* other deflate levels: the level comes from the dataset, as HDF5's filter takes it */
    c.gzip_level = 9;
    c.n_runs = 2;
    assert_int_equal(gen_w(&c, ser, 1, 1, 0, 0, 1, 2, &direct, &e), AXM_OK);
    assert_int_equal(gen_w(&c, par, 0, 1, 0, 0, 2, 2, &direct, &e), AXM_OK);
    assert_int_equal(direct, 2 * traces);
    assert_true(same_bytes(ser, par));
    c.gzip_level = 0; /* no filters: nothing for the pool */
    assert_int_equal(gen_w(&c, par, 0, 1, 0, 0, 1, 2, &direct, &e), AXM_OK);
    assert_int_equal(direct, 0);

    /* chunks of 256 kB stay in HDF5's chunk cache until the flush: written by HDF5 */
    small_cfg(&c);
    assert_int_equal(gen_w(&c, ser, 1, 1, 0, 0, 1, 2, &direct, &e), AXM_OK);
    assert_int_equal(gen_w(&c, par, 0, 1, 0, 0, 1, 2, &direct, &e), AXM_OK);
    assert_int_equal(direct, 0);
    assert_true(same_bytes(ser, par));
}

static void test_runs_per_call_budget(void **state)
{
    (void)state;
    axm_gendata_cfg c;
    axm_gendata_defaults(&c); /* 32 x 32 fibers, 53 nodes, 1001 samples, MRG: 5 states */
    double run = 6.0 * 1024 * 53 * 1001 * 4;
    assert_int_equal(axm_gendata_runs_per_call(&c, 5, 2.5 * run), 2);
    assert_int_equal(axm_gendata_runs_per_call(&c, 5, 0.5 * run), 1);
    assert_int_equal(axm_gendata_runs_per_call(&c, 5, 1000 * run), 32); /* 32 x 1024 = 32768 fibers */
    c.n_runs = 5;
    assert_int_equal(axm_gendata_runs_per_call(&c, 5, 1000 * run), 5);
    c.n_runs = 100;
    c.rows = 10, c.fibers = 10; /* 100 fibers: 328 runs wanted, the budget decides */
    run = 6.0 * 100 * 53 * 1001 * 4;
    assert_int_equal(axm_gendata_runs_per_call(&c, 5, 1000 * run), 100);
    int k = axm_gendata_runs_per_call(&c, 5, 0); /* the default budget: 2..16 GB */
    assert_true(k >= (int)floor(2e9 / run) && k <= (int)floor(16e9 / run) + 1);
}

/* ------------------------------------------------------------------------------ reference */

/* Our traces for the reference training file's fibers (their diameters, contacts and pulses are
 * stored in it) against the stored NEURON traces. The e dataset (our field + waveform sampling)
 * is checked for any model kind; the traces only with MRG. */
static void test_reference_fibers(void **state)
{
    (void)state;
    char ref[512];
    ref_path(ref, sizeof ref, "train_small.h5");
    if (!exists(ref)) {
        print_message("reference dataset %s not found: skipped\n", ref);
        skip();
    }
    int mrg = axm_model_kind_find("mrg") != NULL;
    hid_t f = H5Fopen(ref, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    int rank;
    hsize_t d[8];
    size_t n;
    double *D = read_f64(f, "diameters", &rank, d, &n), *xyz = read_f64(f, "contact_xyz_um", &rank, d, &n);
    double *amp = read_f64(f, "pulse_amp_mA", &rank, d, &n), *pw = read_f64(f, "pulse_pw_ms", &rank, d, &n);
    double *del = read_f64(f, "pulse_delay_ms", &rank, d, &n), *ny = read_f64(f, "node_y_um", &rank, d, &n);
    double *e_ref = read_f64(f, "e", &rank, d, &n), *act = read_f64(f, "activations", &rank, d, &n);
    int *apn = read_i32(f, "ap_monitor_nodes", &n);
    const int R = 2, F = 8, W = 53, T = 1001, C = 6;
    /* run 0 of the file (16 fibers) */
    axm_gendata_cfg c;
    axm_err e;
    axm_gendata_defaults(&c);
    snprintf(c.model, sizeof c.model, "%s", mrg ? "mrg" : "smf");
    c.rows = R, c.fibers = F;
    if (!mrg || !slow_ok()) c.tstop_ms = 0.005 * 20; /* e and geometry only: a short run */
    int Tr = axm_gendata_T(&c);
    axm_model *m = axm_model_create(c.model, &e);
    assert_non_null(m);
    axm_gendata_batch *b = axm_gendata_batch_create(&c, m->kind->n_states, &e);
    assert_non_null(b);
    for (int fb = 0; fb < R * F; fb++) {
        b->D_um[fb] = D[fb];
        for (int k = 0; k < C; k++) {
            size_t i = (size_t)fb * C + k;
            for (int j = 0; j < 3; j++) b->contact_xyz_um[3 * i + j] = xyz[3 * i + j];
            axm_wave *w = &b->waves[i];
            memset(w, 0, sizeof *w);
            w->kind = AXM_WAVE_MONO;
            w->amp_mA = amp[i], w->pw_ms = pw[i], w->delay_ms = del[i];
        }
    }
    if (axm_gendata_simulate(&c, m, b, 2, NULL, NULL, NULL, &e)) fail_msg("simulate: %s", e.msg);
    double e_err = 0;
    for (int fb = 0; fb < R * F; fb++) {
        /* cajal computes the geometry in float32 (smf-model.md §9.1): ~1e-6 relative */
        for (int w = 0; w < W; w++) assert_true(fabs(b->node_y_um[fb * W + w] - ny[fb * W + w]) < 1e-3 + 2e-6 * fabs(ny[fb * W + w]));
        assert_int_equal(b->ap_nodes[2 * fb], apn[2 * fb]);
        assert_int_equal(b->ap_nodes[2 * fb + 1], apn[2 * fb + 1]);
        for (int w = 0; w < W; w++)
            for (int k = 0; k < Tr - 1; k++) {
                double want = e_ref[((size_t)fb * W + w) * T + k], got = b->e[((size_t)fb * W + w) * Tr + k];
                e_err = fmax(e_err, fabs(got - want) / (fabs(want) + 1e-3));
            }
    }
    print_message("reference e: max relative difference %.2e\n", e_err);
    assert_true(e_err < 1e-5);

    if (mrg && slow_ok()) {
        double *v_ref = read_f64(f, "v", &rank, d, &n);
        const float *v = b->states + (size_t)(b->S - 1) * R * F * W * T;
        double sum = 0, worst = 0, dt_worst = 0;
        size_t cnt = 0;
        int act_same = 0, spikes = 0;
        for (int fb = 0; fb < R * F; fb++) {
            for (size_t i = (size_t)fb * W * T; i < (size_t)(fb + 1) * W * T; i++) {
                double dv = fabs(v[i] - v_ref[i]);
                sum += dv, cnt++;
                worst = fmax(worst, dv);
            }
            act_same += b->act[fb] == act[fb];
            /* first upward 0 mV crossing at each monitor node, interpolated */
            for (int s = 0; s < 2; s++) {
                const float *x = v + ((size_t)fb * W + apn[2 * fb + s]) * T;
                const double *y = v_ref + ((size_t)fb * W + apn[2 * fb + s]) * T;
                double t1 = NAN, t2 = NAN;
                for (int k = 1; k < T && isnan(t1); k++)
                    if (x[k] >= 0 && x[k - 1] < 0) t1 = 0.005 * (k - 1 + x[k - 1] / (x[k - 1] - x[k]));
                for (int k = 1; k < T && isnan(t2); k++)
                    if (y[k] >= 0 && y[k - 1] < 0) t2 = 0.005 * (k - 1 + y[k - 1] / (y[k - 1] - y[k]));
                if (isnan(t1) != isnan(t2)) fail_msg("fiber %d node %d: spike in one model only", fb, apn[2 * fb + s]);
                if (!isnan(t1)) spikes++, dt_worst = fmax(dt_worst, fabs(t1 - t2));
            }
        }
        print_message("reference v (MRG vs NEURON, 16 fibers): mean |dv| %.2e mV, max %.2e mV; %d monitor spikes, "
                      "max spike-time difference %.2e ms; activations agree %d/16\n",
                      sum / (double)cnt, worst, spikes, dt_worst, act_same);
        assert_true(sum / (double)cnt < 1.0);
        assert_true(dt_worst < 0.02);
        assert_int_equal(act_same, R * F);
        free(v_ref);
    }
    axm_gendata_batch_destroy(b);
    axm_model_destroy(m);
    free(D), free(xyz), free(amp), free(pw), free(del), free(ny), free(e_ref), free(act), free(apn);
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_reference_vectors),
        cmocka_unit_test(test_rng_streams_and_uniform),
        cmocka_unit_test(test_defaults_are_the_originals),
        cmocka_unit_test(test_parse_and_json_round_trip),
        cmocka_unit_test(test_bad_configs_name_the_key),
        cmocka_unit_test(test_draws_follow_the_distributions),
        cmocka_unit_test(test_layout_matches_reference),
        cmocka_unit_test(test_values_are_consistent),
        cmocka_unit_test(test_trainer_reads_it),
        cmocka_unit_test(test_wide_preset_waveforms),
        cmocka_unit_test(test_resume_and_cancel_give_the_same_bytes),
        cmocka_unit_test(test_runs_per_call_give_the_same_bytes),
        cmocka_unit_test(test_runs_per_call_budget),
        cmocka_unit_test(test_parallel_writer_gives_the_same_bytes),
        cmocka_unit_test(test_reference_fibers),
    };
    return cmocka_run_group_tests_name("datagen", tests, setup_tmp, teardown_tmp);
}
