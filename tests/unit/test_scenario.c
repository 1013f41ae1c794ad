/* Scenario files: parsing, defaults, expansion order, every error path (scenario.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_dir(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/axm_test_scenario.XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    char p[512];
    snprintf(p, sizeof p, "%s/weights", tmpdir);
    mkdir(p, 0700);
    write_file("weights/smf-default.json",
               "{\"format\":\"axonml-weights\",\"version\":1,\"model\":\"smf\",\"trained\":false,\"params\":{}}\n");
    write_file("wave.csv", "t_ms,value_mA\n0,0\n0.5,0\n0.6,-1\n0.7,0\n");
    write_file("field.csv", "y_um,row0,row1\n-20000,1,0.5\n-10000,2,1\n0,10,5\n10000,2,1\n20000,1,0.5\n");
    return 0;
}

static int teardown_dir(void **st)
{
    (void)st;
    const char *f[] = {"weights/smf-default.json", "wave.csv", "field.csv", "s.json"};
    char p[512];
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, f[i]);
        remove(p);
    }
    snprintf(p, sizeof p, "%s/weights", tmpdir);
    rmdir(p);
    rmdir(tmpdir);
    return 0;
}

static axm_scenario *parse(const char *text, axm_err *err)
{
    axm_err_clear(err);
    return axm_scenario_parse(text, "s.json", tmpdir, err);
}

/* The example, verbatim. */
static const char *example =
    "{\"model\": {\"name\": \"smf\", \"weights\": \"weights/smf-default.json\", \"precision\": \"fp32\"},\n"
    " \"fiber\": {\"nodes\": 51, \"diameter_um\": [5.7, 10.0]},\n"
    " \"electrode\": {\"kind\": \"point\", \"rho_ohm_cm\": 500, \"distance_mm\": [1.0], \"offset_mm\": 0.0},\n"
    " \"waveform\": {\"kind\": \"mono\", \"pw_ms\": [0.1, 0.5], \"delay_ms\": 0.5, \"polarity\": [\"cathodic\", "
    "\"anodic\"], \"amplitude_mA\": 0.2},\n"
    " \"sim\": {\"dt_ms\": 0.005, \"tstop_ms\": 5.0, \"device\": \"cpu\"},\n"
    " \"detect\": {\"threshold_mV\": 0.0, \"nodes\": [5, -5], \"t_start_ms\": 0.0, \"at_least\": 1},\n"
    " \"threshold\": {\"resolution\": 0.001}}\n";

static void test_example(void **st)
{
    (void)st;
    axm_err err;
    axm_scenario *sc = parse(example, &err);
    assert_non_null(sc);
    assert_string_equal(sc->model_name, "smf");
    assert_non_null(strstr(sc->weights, "weights/smf-default.json"));
    assert_int_equal(sc->prec, AXM_FP32);
    assert_int_equal(sc->nodes, 51);
    assert_int_equal(sc->n_diam, 2);
    assert_int_equal(sc->n_elec, 1);
    assert_int_equal(sc->elec[0].kind, AXM_SRC_POINT);
    assert_true(sc->elec[0].rho_ohm_cm == 500);
    assert_non_null(sc->wave);
    assert_int_equal(sc->wave->n_pw, 2);
    assert_int_equal(sc->wave->n_pol, 2);
    assert_true(sc->wave->amplitude_mA == 0.2);
    assert_true(sc->dt_ms == 0.005 && sc->tstop_ms == 5.0);
    assert_int_equal(sc->device, AXM_DEV_CPU);
    assert_int_equal(sc->detect.n_nodes, 2);
    assert_int_equal(sc->detect.nodes[0], 5);
    assert_int_equal(sc->detect.nodes[1], -5);
    assert_true(sc->resolution == 0.001);
    /* expansion: diameter outermost, then distance, pw, polarity innermost */
    int n = axm_scenario_n_conditions(sc);
    assert_int_equal(n, 8);
    axm_condition c[8];
    axm_scenario_expand(sc, c);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(c[i].index, i);
        assert_true(c[i].diameter_um == (i < 4 ? 5.7 : 10.0));
        assert_true(c[i].distance_mm == 1.0);
        assert_true(c[i].pw_ms == ((i / 2) % 2 ? 0.5 : 0.1));
        assert_int_equal(c[i].polarity, i % 2 ? 1 : -1);
    }
    assert_string_equal(axm_scenario_wave_name(sc), "mono");
    assert_string_equal(axm_polarity_name(c[0].polarity), "cathodic");
    axm_scenario_destroy(sc);
}

static void test_defaults(void **st)
{
    (void)st;
    axm_err err;
    axm_scenario *sc = parse("{\"fiber\": {\"nodes\": 21, \"diameter_um\": 10}}", &err);
    assert_non_null(sc);
    assert_string_equal(sc->model_name, "smf");
    assert_string_equal(sc->weights, "");
    assert_true(sc->dt_ms == 0.005 && sc->tstop_ms == 5.0);
    assert_int_equal(sc->n_elec, 0);
    assert_null(sc->wave);
    assert_int_equal(axm_scenario_n_conditions(sc), 1);
    assert_true(sc->resolution == 0.01);
    assert_true(isnan(sc->ub_mA));
    assert_int_equal(sc->detect.nodes[0], 5);
    assert_int_equal(sc->detect.nodes[1], -5);
    assert_int_equal(sc->seed, -1);
    assert_int_equal(sc->handle_nan, 1);
    axm_condition c;
    axm_scenario_expand(sc, &c);
    assert_true(isnan(c.distance_mm) && isnan(c.pw_ms) && c.polarity == 0);
    axm_scenario_destroy(sc);
}

static void test_everything(void **st)
{
    (void)st;
    axm_err err;
    const char *t =
        "{\"description\": \"all keys\", \"seed\": 7,\n"
        " \"model\": {\"name\": \"mrg\", \"precision\": \"fp64\", \"geometry\": \"classic\", \"passive_end_nodes\": 1},\n"
        " \"fiber\": {\"nodes\": 41, \"diameter_um\": [8.7]},\n"
        " \"electrode\": {\"kind\": \"point_aniso\", \"rho_ohm_cm\": [1000, 300, 1000], \"distance_mm\": [0.5, 1, 2],"
        " \"medium\": \"semi_infinite\"},\n"
        " \"electrodes\": [{\"kind\": \"line\", \"points_mm\": [[0,-1,0],[0,1,0]], \"distance_mm\": 1, \"weight\": -0.5},\n"
        "   {\"kind\": \"table\", \"file\": \"field.csv\", \"row\": 0, \"interpolation\": \"quadratic\", \"fill\":"
        " \"extrapolate\", \"truncate\": 0.0, \"center_um\": 0,\n"
        "    \"waveform\": {\"kind\": \"sine\", \"freq_khz\": 5, \"amplitude_mA\": 1}},\n"
        "   {\"kind\": \"point\", \"distance_mm\": 2, \"waveform\": {\"kind\": \"samples\", \"file\": \"wave.csv\"}}],\n"
        " \"waveform\": {\"kind\": \"biphasic\", \"pw_ms\": [0.1, 0.2], \"gap_ms\": 0.05, \"polarity\": \"anodic\"},\n"
        " \"intra\": [{\"node\": 5, \"delay_ms\": 1, \"dur_ms\": 0.1, \"amp_nA\": 2}],\n"
        " \"sim\": {\"dt_ms\": 0.01, \"tstop_ms\": 3, \"device\": \"auto\"},\n"
        " \"threshold\": {\"resolution\": 0.05, \"ub_mA\": 0.3, \"fix_bound_up\": 2, \"fix_bound_down\": 0.5,"
        " \"max_tries\": 30, \"max_tries_bound_fix\": 4, \"max_amp_mA\": 50}}";
    axm_scenario *sc = parse(t, &err);
    if (!sc) fail_msg("%s", err.msg);
    assert_string_equal(sc->description, "all keys");
    assert_int_equal(sc->seed, 7);
    assert_int_equal(sc->geometry, AXM_GEOM_CLASSIC);
    assert_int_equal(sc->passive_end_nodes, 1);
    assert_int_equal(sc->prec, AXM_FP64);
    assert_int_equal(sc->n_elec, 4);
    assert_true(sc->elec[0].rho3[1] == 300 && sc->elec[0].semi_infinite == 1);
    assert_int_equal(sc->elec[1].kind, AXM_SRC_LINE);
    assert_int_equal(sc->elec[1].n_pts, 2);
    assert_true(sc->elec[1].weight == -0.5);
    assert_int_equal(sc->elec[2].kind, AXM_SRC_TABLE);
    assert_non_null(sc->elec[2].table);
    assert_int_equal(sc->elec[2].interp, AXM_INTERP_QUADRATIC);
    assert_int_equal(sc->elec[2].fill, AXM_FILL_EXTRAPOLATE);
    assert_non_null(sc->elec[2].wave);
    assert_int_equal(sc->elec[2].wave->kind, AXM_WAVE_SINE);
    assert_int_equal(sc->elec[3].wave->kind, AXM_WAVE_SAMPLES);
    assert_int_equal(sc->elec[3].wave->n_samples, 4);
    assert_null(sc->elec[1].wave);
    assert_int_equal(sc->n_intra, 1);
    assert_true(fabs(sc->intra[0].amp_mA - 2e-6) < 1e-15);
    assert_int_equal(sc->intra[0].fiber, -1);
    assert_int_equal(sc->device, AXM_DEV_AUTO);
    assert_true(sc->ub_mA == 0.3 && sc->max_tries == 30 && sc->max_tries_bound_fix == 4 && sc->max_amp_mA == 50);
    assert_int_equal(axm_scenario_n_conditions(sc), 3 * 2);
    assert_string_equal(axm_scenario_wave_name(sc), "biphasic");
    axm_scenario_destroy(sc);
}

/* Each bad document gives AXM_ERR_INPUT and one line naming the file and the key. */
static const struct {
    const char *json, *want1, *want2;
} bad_docs[] = {
    {"{\"fiber\": {\"nodes\": 51,, \"diameter_um\": 5}}", "s.json:1:", "malformed JSON"},
    {"{\n\"fiber\": {\n\"nodes\": 51\n\"diameter_um\": 5}}", "s.json:4:", "malformed JSON"},
    {"", "s.json:1:", "malformed JSON"},
    {"[1, 2]", "(top level)", "expected a JSON object"},
    {"{\"fibre\": {\"nodes\": 51, \"diameter_um\": 5}}", "s.json: fibre:", "unknown key"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5, \"length\": 3}}", "fiber.length:", "unknown key"},
    {"{\"fiber\": {\"nodes\": \"51\", \"diameter_um\": 5}}", "fiber.nodes: expected an integer", "got \"51\""},
    {"{\"fiber\": {\"nodes\": 2, \"diameter_um\": 5}}", "fiber.nodes: expected an integer", "got 2"},
    {"{\"fiber\": {\"nodes\": 5.5, \"diameter_um\": 5}}", "fiber.nodes: expected an integer", "got 5.5"},
    {"{\"fiber\": {\"diameter_um\": 5}}", "fiber.nodes", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": [5.7, -1]}}", "fiber.diameter_um[1]: expected a number > 0", "got -1"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": -3}}", "fiber.diameter_um: expected a number > 0", "got -3"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": []}}", "fiber.diameter_um: expected a non-empty list", "got an array"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": \"big\"}}", "fiber.diameter_um: expected a number > 0", "got \"big\""},
    {"{\"fiber\": 3}", "fiber: expected an object", "got 3"},
    {"{\"model\": {\"name\": \"hh\"}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}", "model.name: expected one of",
     "got \"hh\""},
    {"{\"model\": {\"precision\": \"fp16\"}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}", "model.precision",
     "got \"fp16\""},
    {"{\"model\": {\"weights\": \"nope/missing.json\"}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}",
     "model.weights: expected a readable file", "missing.json"},
    {"{\"model\": {\"weights\": 5}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}", "model.weights: expected a file name",
     "got 5"},
    {"{\"model\": {\"params\": {\"nonsense\": 1}}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}",
     "model.params.nonsense", "unknown parameter"},
    {"{\"model\": {\"handle_nan\": 1}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}",
     "model.handle_nan: expected true or false", "got 1"},
    {"{\"model\": {\"geometry\": \"classic\"}, \"fiber\": {\"nodes\": 51, \"diameter_um\": 5}}", "model.geometry",
     "only with model.name \"mrg\""},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"sim\": {\"dt_ms\": 0}}", "sim.dt_ms: expected a number > 0",
     "got 0"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"sim\": {\"dt_ms\": -0.01}}", "sim.dt_ms", "got -0.01"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"sim\": {\"dt_ms\": 0.01, \"tstop_ms\": 0.01}}",
     "sim.tstop_ms: expected a number > dt_ms", "got 0.01"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"sim\": {\"device\": \"tpu\"}}", "sim.device", "got \"tpu\""},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"threshold\": {\"resolution\": 1}}",
     "threshold.resolution: expected a number in (0, 1)", "got 1"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"threshold\": {\"resolution\": 0}}", "threshold.resolution",
     "got 0"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"threshold\": {\"fix_bound_up\": 0.5}}",
     "threshold.fix_bound_up: expected a number > 1", "got 0.5"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"detect\": {\"nodes\": [5, 60]}}",
     "detect.nodes[1]: expected a node index in [-51, 50]", "got 60"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"detect\": {\"nodes\": [5, -5], \"at_least\": 3}}",
     "detect.at_least: expected an integer in [1, 2]", "got 3"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"waveform\": {\"kind\": \"mono\"}}", "electrode: expected an "
     "electrode", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}}", "waveform: expected a "
     "waveform", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": {\"kind\": "
     "\"square\"}}", "waveform.kind: expected one of", "got \"square\""},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"polarity\": \"up\"}}", "waveform.polarity: expected \"cathodic\"", "got \"up\""},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"polarity\": [\"cathodic\", 3]}}", "waveform.polarity[1]", "got 3"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"pw_ms\": [0.1, 0]}}", "waveform.pw_ms[1]: expected a number > 0", "got 0"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"kind\": \"mono\", \"freq_khz\": 1}}", "waveform.freq_khz", "unknown key"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"kind\": \"sine\"}}", "waveform.freq_khz: expected a number > 0", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1}, \"waveform\": "
     "{\"kind\": \"samples\", \"file\": \"nothere.csv\"}}", "waveform.file: expected a readable file", "nothere.csv"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": -1}, \"waveform\": {}}",
     "electrode.distance_mm: expected a number > 0", "got -1"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"kind\": \"point_aniso\", \"rho_ohm_cm\": 500},"
     " \"waveform\": {}}", "electrode.rho_ohm_cm: expected a list of 3", "got 500"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"kind\": \"table\", \"file\": \"nofield.csv\"},"
     " \"waveform\": {}}", "electrode.file: expected a readable file", "nofield.csv"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"kind\": \"table\", \"file\": \"field.csv\", "
     "\"row\": 5}, \"waveform\": {}}", "electrode.row: expected an integer in [0, 1]", "got 5"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"kind\": \"line\"}, \"waveform\": {}}",
     "electrode.points_mm: expected a list of >= 2 points", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {}, \"electrodes\": [{\"distance_mm\": [1, 2]}],"
     " \"waveform\": {}}", "electrodes[0].distance_mm: expected a number > 0 (only the main", "got an array"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"electrode\": {\"distance_mm\": 1, \"distance_mm\": 2}, "
     "\"waveform\": {}}", "electrode.distance_mm: expected each key once", NULL},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"intra\": [{\"node\": 0, \"dur_ms\": 0.1}]}",
     "intra[0].amp_nA: expected a number", "got nothing"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"intra\": [{\"node\": 99, \"dur_ms\": 0.1, \"amp_nA\": 1}]}",
     "intra[0].node: expected a node index", "got 99"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"seed\": -1}", "seed: expected an integer >= 0", "got -1"},
    {"{\"fiber\": {\"nodes\": 51, \"diameter_um\": 5}, \"description\": 5}", "description: expected a string", "got 5"},
};

static void test_errors(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
        axm_err err;
        axm_scenario *sc = parse(bad_docs[i].json, &err);
        if (sc) fail_msg("case %zu accepted: %s", i, bad_docs[i].json);
        if (err.code != AXM_ERR_INPUT) fail_msg("case %zu: code %d (%s)", i, err.code, err.msg);
        if (!strstr(err.msg, bad_docs[i].want1) || (bad_docs[i].want2 && !strstr(err.msg, bad_docs[i].want2)))
            fail_msg("case %zu: message \"%s\" lacks \"%s\" / \"%s\"", i, err.msg, bad_docs[i].want1,
                     bad_docs[i].want2 ? bad_docs[i].want2 : "");
        if (strncmp(err.msg, "s.json", 6)) fail_msg("case %zu: message does not start with the file: %s", i, err.msg);
        if (strchr(err.msg, '\n')) fail_msg("case %zu: more than one line: %s", i, err.msg);
    }
}

static void test_load_file(void **st)
{
    (void)st;
    axm_err err;
    axm_err_clear(&err);
    assert_null(axm_scenario_load("/nonexistent/dir/x.json", &err));
    assert_int_equal(err.code, AXM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.json"));
    /* relative files resolve next to the scenario file */
    write_file("s.json", "{\"fiber\": {\"nodes\": 21, \"diameter_um\": 10}, \"electrode\": {}, \"waveform\": "
                         "{\"kind\": \"samples\", \"file\": \"wave.csv\"}}");
    char p[512];
    snprintf(p, sizeof p, "%s/s.json", tmpdir);
    axm_scenario *sc = axm_scenario_load(p, &err);
    if (!sc) fail_msg("%s", err.msg);
    assert_int_equal(sc->wave->n_samples, 4);
    assert_string_equal(sc->path, p);
    axm_scenario_destroy(sc);
}

/* The setup builds one fiber per condition; the drive's waveforms carry the polarity's sign and
 * unit (threshold) or given (simulate) amplitude; phi follows the point-source formula. */
static void test_setup(void **st)
{
    (void)st;
    axm_err err;
    const char *t =
        "{\"model\": {\"name\": \"mrg\"}, \"fiber\": {\"nodes\": 21, \"diameter_um\": [6, 9]},\n"
        " \"electrode\": {\"rho_ohm_cm\": 500, \"distance_mm\": [1, 2]},\n"
        " \"waveform\": {\"pw_ms\": 0.1, \"polarity\": [\"cathodic\", \"anodic\"], \"amplitude_mA\": 0.25},\n"
        " \"sim\": {\"tstop_ms\": 1, \"device\": \"cuda\"}, \"detect\": {\"nodes\": [2, -3]}}";
    axm_scenario *sc = parse(t, &err);
    if (!sc) fail_msg("%s", err.msg);
    for (int unit = 0; unit <= 1; unit++) {
        axm_setup_opts o = {unit, 1, 0};
        axm_setup *su = axm_setup_create(sc, &o, &err);
        if (!su) fail_msg("%s", err.msg);
        assert_int_equal(su->n_cond, 8);
        assert_int_equal(axm_sim_batch(su->sim), 8);
        assert_int_equal(su->n_steps, 200);
        assert_string_equal(su->notes, ""); /* MRG: no untrained-weights warning */
        for (int b = 0; b < 8; b++) {
            const double *w = su->waves[su->wave_of[b]];
            double want = (su->cond[b].polarity) * (unit ? 1.0 : 0.25);
            assert_true(w[0] == 0 && w[100] == 0);
            assert_true(fabs(w[101] - want) < 1e-12 && fabs(w[120] - want) < 1e-12 && w[121] == 0);
            /* the potential at the centre node is rho/(4 pi r) per mA */
            const double *phi = axm_sim_phi(su->sim, b, 0);
            assert_non_null(phi);
            int nc = axm_sim_n_comp(su->sim);
            double r_um = 1000 * su->cond[b].distance_mm, expect = 1e4 * 500 / (4 * M_PI * r_um);
            double best = 0;
            for (int i = 0; i < nc; i++)
                if (phi[i] > best) best = phi[i];
            assert_true(fabs(best - expect) < 1e-9 * expect);
        }
        axm_thresh_opts to = axm_setup_thresh_opts(su);
        assert_true(to.resolution == sc->resolution && to.ub_init == su->ub);
        assert_true(fabs(su->ub[0] - 0.2 / (1.2 * 1.2)) < 1e-12);
        axm_setup_destroy(su);
    }
    axm_scenario_destroy(sc);
}

static void test_model_weights(void **st)
{
    (void)st;
    axm_err err;
    axm_scenario *sc = parse(example, &err);
    if (!sc) fail_msg("%s", err.msg);
    axm_model *m = axm_scenario_model(sc, &err);
    if (!m) fail_msg("%s", err.msg);
    assert_string_equal(m->kind->name, "smf");
    assert_non_null(axm_model_untrained_warning(m));
    axm_model_destroy(m);
    axm_scenario_destroy(sc);
    sc = parse("{\"model\": {\"name\": \"mrg\"}, \"fiber\": {\"nodes\": 21, \"diameter_um\": 10}}", &err);
    if (!sc) fail_msg("%s", err.msg);
    m = axm_scenario_model(sc, &err);
    assert_non_null(m);
    assert_null(axm_model_untrained_warning(m));
    axm_model_destroy(m);
    axm_scenario_destroy(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),  cmocka_unit_test(test_defaults),   cmocka_unit_test(test_everything),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_load_file),  cmocka_unit_test(test_setup),
        cmocka_unit_test(test_model_weights),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
