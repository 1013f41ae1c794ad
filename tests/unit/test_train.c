/* Training (core/train.c): chunk gradients against finite differences, loss decrease on the
 * small reference dataset, checkpoint round trip and identical resume, NaN handling, config
 * errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "train"
#include "tmpdir.h"
#include <dirent.h>
#include <math.h>
#include <unistd.h>

#include <cJSON.h>

#include "fileio.h"
#include "model.h"
#include "train.h"

static void shared_path(char *out, size_t n, const char *rel)
{
    const char *sh = getenv("AXM_SHARED");
    snprintf(out, n, "%s/%s", sh && *sh ? sh : "../shared", rel);
}

static uint64_t rs = 12345;
static double urand(void)
{
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rs >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- the chunk loss: gradient vs central differences, threads agree ---- */

#define B_ 3
#define W_ 6
#define L_ 12

typedef struct chunk_prob {
    axm_smfg_theta th;
    double D[B_], ve[L_ * B_ * W_], tgt[(L_ + 1) * B_ * 5 * W_], s0[B_ * 5 * W_];
    double w[5];
} chunk_prob;

static double chunk_loss(const chunk_prob *P, axm_smfg_grad *g, int threads)
{
    double s[B_ * 5 * W_];
    memcpy(s, P->s0, sizeof s);
    double norm = (double)(L_ + 1) * B_ * 5 * W_;
    return axm_train_chunk(&P->th, P->D, B_, W_, L_, P->ve, P->tgt, P->w, norm, 0.005, s, g,
                           threads);
}

static void test_chunk_gradient(void **st)
{
    (void)st;
    static chunk_prob P;
    axm_smfg_theta_defaults(&P.th);
    P.th.handle_nan = 1;
    for (int b = 0; b < B_; b++) {
        P.D[b] = 6 + 7 * urand();
        axm_smfg_ic(W_, P.s0 + b * 5 * W_);
    }
    for (int i = 0; i < L_ * B_ * W_; i++) P.ve[i] = 40 * (urand() - 0.5);
    for (int t = 0; t <= L_; t++)
        for (int b = 0; b < B_; b++)
            for (int k = 0; k < 5; k++)
                for (int j = 0; j < W_; j++)
                    P.tgt[((t * B_ + b) * 5 + k) * W_ + j] =
                        P.s0[(b * 5 + k) * W_ + j] + (k == 4 ? 5.0 : 0.05) * (urand() - 0.5);
    const double w[5] = {1, 1, 1, 1, 1e-4};
    memcpy(P.w, w, sizeof w);
    axm_smfg_grad g1, g2;
    axm_smfg_grad_zero(&g1);
    axm_smfg_grad_zero(&g2);
    double l1 = chunk_loss(&P, &g1, 1), l2 = chunk_loss(&P, &g2, 2);
    assert_true(isfinite(l1) && l1 > 0);
    assert_float_equal(l1, l2, 1e-14 * l1);
    const int idx[] = {AXM_SMFG_GNABAR, AXM_SMFG_GKBAR, AXM_SMFG_GL, AXM_SMFG_CM, AXM_SMFG_RHOA,
                       AXM_SMFG_AXOND2, AXM_SMFG_NODED3, AXM_SMFG_AQ10_1, AXM_SMFG_ASC, AXM_SMFG_EL};
    for (size_t n = 0; n < sizeof idx / sizeof idx[0]; n++) {
        int i = idx[n];
        assert_float_equal(g1.p[i], g2.p[i], 1e-12 * fabs(g1.p[i]) + 1e-300);
        double x0 = P.th.p[i], h = 1e-4 * fabs(x0);
        double f[4];
        const double o[4] = {-2, -1, 1, 2};
        for (int k = 0; k < 4; k++) {
            P.th.p[i] = x0 + o[k] * h;
            f[k] = chunk_loss(&P, NULL, 1);
        }
        P.th.p[i] = x0;
        double fd = (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * h);
        double rel = fabs(fd - g1.p[i]) / fmax(fabs(fd), fabs(g1.p[i]));
        if (rel > 1e-6) print_error("%s: analytic %.10e fd %.10e\n", axm_smfg_param_name(i), g1.p[i], fd);
        assert_true(rel <= 1e-6);
    }
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 3; k++) {
            double x0 = P.th.w[c][k], h = 1e-5;
            double f[4];
            const double o[4] = {-2, -1, 1, 2};
            for (int q = 0; q < 4; q++) {
                P.th.w[c][k] = x0 + o[q] * h;
                f[q] = chunk_loss(&P, NULL, 1);
            }
            P.th.w[c][k] = x0;
            double fd = (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * h);
            assert_true(fabs(fd - g1.w[c][k]) <= 1e-6 * fmax(fabs(fd), fabs(g1.w[c][k])));
        }
}

static void test_adam(void **st)
{
    (void)st;
    /* first step of Adam moves each parameter by lr against the sign of its gradient */
    double p[3] = {1, 2, 3}, g[3] = {0.5, -4, 1e-3}, m[3] = {0}, v[3] = {0};
    axm_adam_update(3, p, g, m, v, 1, 0.1, 0.9, 0.999, 1e-12);
    assert_float_equal(p[0], 0.9, 1e-9);
    assert_float_equal(p[1], 2.1, 1e-9);
    assert_float_equal(p[2], 2.9, 1e-8);
    /* second step with the same gradient: again lr (bias-corrected moments equal g, g^2) */
    axm_adam_update(3, p, g, m, v, 2, 0.1, 0.9, 0.999, 1e-12);
    assert_float_equal(p[0], 0.8, 1e-9);
}

/* ---- trainer on the small reference dataset ---- */

static void base_config(axm_train_config *c, const char *dir)
{
    axm_train_config_defaults(c);
    shared_path(c->train_dset, sizeof c->train_dset, "reference/datasets/train_small.h5");
    c->valid_dset[0] = 0;
    c->epochs = 1;
    c->train_n_idx = 2;
    c->lr = 1e-4;
    c->handle_nan = 1;
    c->save_every = 2;
    c->seed = 7;
    c->threads = 2;
    snprintf(c->save_dir, sizeof c->save_dir, "%s", dir);
}

typedef struct rec {
    int n_ckpt, n_nan, n_step;
    char ckpt[8][1300];
    double ck_val[8][80];
    int n_vals;
    char nan_msg[256];
} rec;

static void on_ev(void *ud, const axm_train_event *ev)
{
    rec *r = ud;
    if (ev->kind == AXM_TRAIN_EV_STEP) r->n_step++;
    if (ev->kind == AXM_TRAIN_EV_NAN) {
        r->n_nan++;
        snprintf(r->nan_msg, sizeof r->nan_msg, "%s", ev->message);
    }
    if (ev->kind == AXM_TRAIN_EV_CHECKPOINT && r->n_ckpt < 8) {
        snprintf(r->ckpt[r->n_ckpt], sizeof r->ckpt[0], "%s", ev->path);
        for (int i = 0; i < ev->n_params && i < 80; i++) r->ck_val[r->n_ckpt][i] = ev->values[i];
        r->n_vals = ev->n_params;
        r->n_ckpt++;
    }
}

static void test_loss_decreases(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/dec", tmpdir);
    const char *slow = getenv("AXM_SLOW");
    if (slow && !strcmp(slow, "0")) {
        print_message("skipped (AXM_SLOW=0)\n");
        return;
    }
    base_config(&c, dir);
    c.train_n_idx = 1;
    c.lr = 2e-4;
    /* validation on the training file itself: the loss of the fit over full traces */
    snprintf(c.valid_dset, sizeof c.valid_dset, "%s", c.train_dset);
    c.val_chunk_size = 2;
    c.val_n_idx = 1;
    c.save_every = 100;
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *t = axm_trainer_create(&c, &e);
    assert_non_null(t);
    double l0 = axm_trainer_validate(t, &e);
    assert_true(isfinite(l0) && l0 > 0);
    for (int k = 0; k < 2; k++) assert_int_equal(axm_trainer_step(t, NULL, &e), AXM_OK);
    assert_true(axm_trainer_done(t));
    double l1 = axm_trainer_validate(t, &e);
    print_message("full-trace loss on train_small: untrained %.5f, after 2 minibatches (40 updates) %.5f\n", l0, l1);
    assert_true(l1 < 0.8 * l0);
    axm_trainer_destroy(t);
}

/* A short run that checkpoints after every minibatch, in tmpdir/sub: epochs of 2 minibatches (one
 * run, two rows); every 4th sample keeps the traces short (the mechanics do not depend on dt
 * matching the data). *c is its config; the events go to *r. */
static axm_trainer *run_checkpointing(axm_train_config *c, char *dir, size_t n, const char *sub, int epochs, rec *r)
{
    snprintf(dir, n, "%s/%s", tmpdir, sub);
    base_config(c, dir);
    c->epochs = epochs;
    c->train_n_idx = 1;
    c->save_every = 1;
    c->sampling = 4;
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *a = axm_trainer_create(c, &e);
    assert_non_null(a);
    memset(r, 0, sizeof *r);
    axm_trainer_set_callback(a, on_ev, r);
    assert_int_equal(axm_trainer_run(a, NULL, NULL, &e), AXM_OK);
    return a;
}

static void test_checkpoint_resume_identical(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    static rec ra;
    axm_trainer *a = run_checkpointing(&c, dir, sizeof dir, "res", 2, &ra); /* a checkpoint after each minibatch */
    axm_err e;
    axm_err_clear(&e);
    assert_int_equal(ra.n_step, 4);
    assert_int_equal(ra.n_ckpt, 4);
    int n = axm_trainer_n_selected(a);
    double final_a[80];
    for (int i = 0; i < n; i++) final_a[i] = axm_trainer_selected_value(a, i);
    /* checkpoint 0 (after minibatch 1, mid-epoch 0) holds exactly the values of that moment */
    axm_trainer *b = axm_trainer_create(&c, &e);
    assert_non_null(b);
    assert_int_equal(axm_trainer_resume(b, ra.ckpt[0], &e), AXM_OK);
    assert_int_equal(axm_trainer_steps_done(b), 1);
    for (int i = 0; i < n; i++) {
        if (axm_trainer_selected_value(b, i) != ra.ck_val[0][i])
            print_error("%s: %.17g vs %.17g\n", axm_trainer_selected_name(b, i), axm_trainer_selected_value(b, i), ra.ck_val[0][i]);
        assert_true(axm_trainer_selected_value(b, i) == ra.ck_val[0][i]);
    }
    /* and continuing from it ends bit-identical to the uninterrupted run */
    static rec rb;
    memset(&rb, 0, sizeof rb);
    axm_trainer_set_callback(b, on_ev, &rb);
    assert_int_equal(axm_trainer_run(b, NULL, NULL, &e), AXM_OK);
    assert_int_equal(rb.n_step, 3);
    for (int i = 0; i < n; i++) {
        if (axm_trainer_selected_value(b, i) != final_a[i])
            print_error("%s: %.17g vs %.17g\n", axm_trainer_selected_name(b, i),
                        axm_trainer_selected_value(b, i), final_a[i]);
        assert_true(axm_trainer_selected_value(b, i) == final_a[i]);
    }
    /* a resume across an epoch boundary (checkpoint 1: after the last minibatch of epoch 0) */
    axm_trainer *d = axm_trainer_create(&c, &e);
    assert_non_null(d);
    assert_int_equal(axm_trainer_resume(d, ra.ckpt[1], &e), AXM_OK);
    assert_int_equal(axm_trainer_steps_done(d), 2);
    assert_int_equal(axm_trainer_run(d, NULL, NULL, &e), AXM_OK);
    for (int i = 0; i < n; i++) assert_true(axm_trainer_selected_value(d, i) == final_a[i]);
    /* a checkpoint is a weights file: the model loader reads it, with the same values */
    axm_model *m = axm_model_create("smf", &e);
    assert_int_equal(axm_model_load_weights(m, ra.ckpt[0], &e), AXM_OK);
    assert_true(m->trained);
    for (int i = 0; i < n; i++) {
        const char *nm = axm_trainer_selected_name(a, i);
        if (!strncmp(nm, "ssd.", 4)) continue;
        assert_true(axm_model_get(m, nm) == ra.ck_val[0][i]);
    }
    axm_model_destroy(m);
    /* checkpoint names: {index:05d}.json without a validation set */
    assert_non_null(strstr(ra.ckpt[0], "/00000.json"));
    assert_non_null(strstr(ra.ckpt[1], "/00001.json"));
    /* written atomically: only the checkpoints are in the folder, no temp files */
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    int files = 0;
    for (struct dirent *de = readdir(dh); de; de = readdir(dh)) {
        if (de->d_name[0] == '.') continue;
        files++;
        if (strstr(de->d_name, ".tmp")) fail_msg("temp file left behind: %s", de->d_name);
    }
    closedir(dh);
    assert_int_equal(files, 4);
    axm_trainer_destroy(a);
    axm_trainer_destroy(b);
    axm_trainer_destroy(d);
}

/* A checkpoint with one value spoiled (set at a path of object keys and array indices; NULL value:
 * the key removed) is refused with one line naming the file, the key and what it got, and the
 * trainer is left as it was. */
static void resume_bad(const axm_train_config *c, const char *ckpt, const char *const *path, const char *json,
                       const char *needle)
{
    axm_err e;
    char *text = axm_read_text_file(ckpt, "checkpoint", NULL, &e);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *o = root;
    int k = 0;
    for (; path[k + 1]; k++) o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(path[k])) : cJSON_GetObjectItemCaseSensitive(o, path[k]);
    assert_non_null(o);
    if (cJSON_IsArray(o)) {
        assert_non_null(json);
        cJSON_ReplaceItemInArray(o, atoi(path[k]), cJSON_Parse(json));
    } else if (json) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, path[k], cJSON_Parse(json));
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(o, path[k]);
    }
    char bad[512];
    snprintf(bad, sizeof bad, "%s/spoiled.json", tmpdir);
    text = cJSON_Print(root);
    cJSON_Delete(root);
    assert_int_equal(axm_write_text_file_atomic(bad, text, "checkpoint", &e), AXM_OK);
    free(text);
    axm_trainer *t = axm_trainer_create(c, &e);
    assert_non_null(t);
    const double v0 = axm_trainer_selected_value(t, 0);
    int rc = axm_trainer_resume(t, bad, &e);
    if (rc != AXM_ERR_INPUT) fail_msg("%s: resumed (rc %d)", needle, rc);
    if (!strstr(e.msg, "spoiled.json") || !strstr(e.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
    assert_null(strchr(e.msg, '\n'));
    assert_int_equal(axm_trainer_steps_done(t), 0);
    assert_true(axm_trainer_selected_value(t, 0) == v0);
    axm_trainer_destroy(t);
}

static void test_resume_rejects_bad_checkpoints(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    static rec ra;
    axm_trainer *a = run_checkpointing(&c, dir, sizeof dir, "badck", 1, &ra);
    assert_true(ra.n_ckpt >= 1);
    axm_trainer_destroy(a);
    const char *ck = ra.ckpt[0];
    resume_bad(&c, ck, (const char *const[]){"params", "gl", NULL}, "\"x\"", "params.gl: expected a finite number, got \"x\"");
    resume_bad(&c, ck, (const char *const[]){"stencil", "vm", "0", NULL}, "null", "stencil.vm[0]: expected a finite number, got null");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "adam_m", "0", NULL}, "\"x\"",
               "provenance.trainer.adam_m[0]: expected a finite number, got \"x\"");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "adam_v", "0", NULL}, "-1",
               "provenance.trainer.adam_v[0]: expected a finite number >= 0, got -1");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "adam_m", NULL}, "[1]",
               "provenance.trainer.adam_m: expected an array of");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "order", "0", NULL}, "7",
               "provenance.trainer.order[0]: expected each run index");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "epoch", NULL}, NULL,
               "provenance.trainer.epoch: expected an integer >= 0, got nothing");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "steps_done", NULL}, "1.5",
               "provenance.trainer.steps_done: expected an integer >= 0, got 1.5");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", "rng", NULL}, "\"12x\"",
               "provenance.trainer.rng: expected the generator's state as a decimal string, got \"12x\"");
    resume_bad(&c, ck, (const char *const[]){"provenance", "trainer", NULL}, NULL,
               "provenance.trainer: expected an object (a checkpoint of axonml train), got nothing");
}

static void inject_inf(void *ud, int n, double *g)
{
    int *calls = ud;
    if (++*calls == 3 && n > 0) g[0] = INFINITY;
}

static void test_nan_parameter_stops(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/nan", tmpdir);
    base_config(&c, dir);
    c.sampling = 4;
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *t = axm_trainer_create(&c, &e);
    assert_non_null(t);
    static rec r;
    memset(&r, 0, sizeof r);
    int calls = 0;
    axm_trainer_set_callback(t, on_ev, &r);
    axm_trainer_set_grad_hook(t, inject_inf, &calls);
    double before[80];
    int rc = axm_trainer_run(t, NULL, NULL, &e);
    assert_int_equal(rc, AXM_ERR_RUNTIME);
    assert_non_null(strstr(e.msg, "NaN"));
    assert_true(axm_trainer_done(t));
    assert_true(r.n_nan >= 1);
    assert_non_null(strstr(r.nan_msg, "gnabar"));
    /* the saved parameters are the last good (finite) ones: those after update 2 */
    assert_true(r.n_ckpt >= 1);
    int n = axm_trainer_n_selected(t);
    for (int i = 0; i < n; i++) {
        before[i] = axm_trainer_selected_value(t, i);
        assert_true(isfinite(before[i]));
        assert_true(r.ck_val[r.n_ckpt - 1][i] == before[i]);
    }
    axm_trainer_destroy(t);
}

static void test_nan_loss_skipped(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/nanloss", tmpdir);
    base_config(&c, dir);
    c.handle_nan = 0;
    c.epochs = 1;
    c.train_n_idx = 1;
    c.sampling = 4;
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *t = axm_trainer_create(&c, &e);
    assert_non_null(t);
    /* a tiny capacitance makes forward Euler unstable: the trace overflows to NaN */
    assert_int_equal(axm_trainer_set_value(t, "cm", 1e-5, &e), AXM_OK);
    static rec r;
    memset(&r, 0, sizeof r);
    axm_trainer_set_callback(t, on_ev, &r);
    assert_int_equal(axm_trainer_step(t, NULL, &e), AXM_OK);
    assert_true(r.n_nan > 0);
    assert_non_null(strstr(r.nan_msg, "NaN loss"));
    for (int i = 0; i < axm_trainer_n_selected(t); i++)
        assert_true(isfinite(axm_trainer_selected_value(t, i)));
    axm_trainer_destroy(t);
}

static void test_config_errors(void **st)
{
    (void)st;
    axm_train_config c;
    axm_err e;
    axm_train_config_defaults(&c);
    axm_err_clear(&e);
    assert_int_equal(axm_train_config_parse(&c, "{\"train_dset\":\"x.h5\",\"epoch\":3}", "cfg.json", &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "cfg.json: epoch: unknown key"));
    axm_train_config_defaults(&c);
    assert_int_equal(axm_train_config_parse(&c, "{\"train_dset\":\"x.h5\",\"lr\":-1}", "cfg.json", &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "cfg.json: lr: expected a number > 0, got -1"));
    axm_train_config_defaults(&c);
    assert_int_equal(axm_train_config_parse(&c, "{\"train_dset\":\"x.h5\",\"lr\":0.1,\"lr\":0.2}", "cfg.json", &e),
                     AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "cfg.json: lr: expected each key once, got it twice"));
    axm_train_config_defaults(&c);
    assert_int_equal(axm_train_config_parse(&c, "{\"train_dset\":\"x.h5\",\"states\":[\"v\",\"q\"]}", "cfg.json", &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "states: 'q'"));
    axm_train_config_defaults(&c);
    assert_int_equal(axm_train_config_parse(&c, "{\"nodes\": 53", "cfg.json", &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "cfg.json: invalid JSON"));
    /* every key of the original's config is accepted */
    axm_train_config_defaults(&c);
    const char *full =
        "{\"model\":\"SMF\",\"cuda\":false,\"fp32\":false,\"nodes\":53,\"dt\":0.005,"
        "\"train_dset\":\"a.h5\",\"valid_dset\":\"b.h5\",\"states\":[\"m\",\"h\",\"p\",\"s\",\"v\"],"
        "\"epochs\":5,\"truncation_length\":50,\"lr\":3e-5,\"grad_accumulation\":false,"
        "\"train_n_idx\":64,\"val_n_idx\":8,\"train_chunk_size\":1,\"val_chunk_size\":1,"
        "\"sampling\":null,\"postfix\":[\"cm\"],\"save_every\":1,\"save_dir\":\"checkpoints\","
        "\"to_train\":[\"conductances\",\"membrane\",\"axon_d\",\"node_d\",\"aq10_1\",\"pq10_1\","
        "\"aq10_2\",\"aq10_3\",\"ssd\"]}";
    assert_int_equal(axm_train_config_parse(&c, full, "cfg.json", &e), AXM_OK);
    assert_int_equal(c.truncation_length, 50);
    assert_string_equal(c.valid_dset, "b.h5");
    /* no validation: valid_dset absent, null or "" (the TUI's way to switch it off) */
    const char *off[] = {"{\"train_dset\":\"a.h5\"}", "{\"train_dset\":\"a.h5\",\"valid_dset\":null}",
                         "{\"train_dset\":\"a.h5\",\"valid_dset\":\"\"}"};
    for (int i = 0; i < 3; i++) {
        axm_train_config_defaults(&c);
        snprintf(c.valid_dset, sizeof c.valid_dset, "earlier.h5"); /* a value the file overrides */
        assert_int_equal(axm_train_config_parse(&c, off[i], "cfg.json", &e), AXM_OK);
        assert_string_equal(c.valid_dset, i == 0 ? "earlier.h5" : "");
    }
    axm_train_config_defaults(&c);
    assert_string_equal(c.valid_dset, ""); /* the default: none */
    /* but a valid_dset that is neither a string nor null is refused */
    assert_int_equal(axm_train_config_parse(&c, "{\"train_dset\":\"a.h5\",\"valid_dset\":3}", "cfg.json", &e),
                     AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "cfg.json: valid_dset: expected a file name, \"\" or null (no validation)"));
    assert_string_equal(c.model, "smf");
    /* where it trains: "device" (the key), or the original's "cuda"; both only if they agree */
    static const struct {
        const char *json;
        int rc;
        axm_device dev;
        const char *msg;
    } dv[] = {
        {"{}", AXM_OK, AXM_DEV_CPU, NULL},
        {"{\"device\":\"auto\"}", AXM_OK, AXM_DEV_AUTO, NULL},
        {"{\"device\":\"cpu\"}", AXM_OK, AXM_DEV_CPU, NULL},
        {"{\"device\":\"cuda\"}", AXM_OK, AXM_DEV_CUDA, NULL},
        {"{\"cuda\":true}", AXM_OK, AXM_DEV_CUDA, NULL},
        {"{\"cuda\":false}", AXM_OK, AXM_DEV_CPU, NULL},
        {"{\"cuda\":true,\"device\":\"cuda\"}", AXM_OK, AXM_DEV_CUDA, NULL},
        {"{\"device\":\"gpu\"}", AXM_ERR_INPUT, 0, "cfg.json: device: expected \"auto\", \"cpu\" or \"cuda\""},
        {"{\"device\":1}", AXM_ERR_INPUT, 0, "cfg.json: device: expected \"auto\""},
        {"{\"cuda\":\"yes\"}", AXM_ERR_INPUT, 0, "cfg.json: cuda: expected true or false"},
        {"{\"cuda\":false,\"device\":\"auto\"}", AXM_ERR_INPUT, 0,
         "cfg.json: device: says \"auto\" where cuda said \"cpu\" (give one of them)"},
    };
    for (size_t i = 0; i < sizeof dv / sizeof dv[0]; i++) {
        char json[200]; /* with the one key every config needs */
        snprintf(json, sizeof json, "{\"train_dset\":\"a.h5\"%s%s", dv[i].json[1] == '}' ? "" : ",", dv[i].json + 1);
        axm_train_config_defaults(&c);
        axm_err_clear(&e);
        assert_int_equal(axm_train_config_parse(&c, json, "cfg.json", &e), dv[i].rc);
        if (dv[i].rc == AXM_OK) assert_int_equal(c.device, dv[i].dev);
        else if (!strstr(e.msg, dv[i].msg)) fail_msg("%s: \"%s\" lacks \"%s\"", dv[i].json, e.msg, dv[i].msg);
    }
    /* nodes must match the dataset; to_train names must exist */
    base_config(&c, tmpdir);
    c.nodes = 21;
    snprintf(c.path, sizeof c.path, "my.json");
    assert_null(axm_trainer_create(&c, &e));
    assert_non_null(strstr(e.msg, "my.json: nodes 21, but"));
    assert_non_null(strstr(e.msg, "53 nodes"));
    base_config(&c, tmpdir);
    snprintf(c.to_train[0], sizeof c.to_train[0], "gnabarr");
    assert_null(axm_trainer_create(&c, &e));
    assert_non_null(strstr(e.msg, "to_train: 'gnabarr'"));
}

/* Gradient accumulation: one optimizer update per minibatch. */
static void acc_count(void *ud, int n, double *g)
{
    (void)n;
    (void)g;
    ++*(int *)ud;
}

static void test_grad_accumulation(void **st)
{
    (void)st;
    axm_train_config c;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/acc", tmpdir);
    base_config(&c, dir);
    c.grad_accumulation = 1;
    c.train_n_idx = 1;
    c.sampling = 4;
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *t = axm_trainer_create(&c, &e);
    if (!t) fail_msg("%s", e.msg);
    int n = 0;
    axm_trainer_set_grad_hook(t, acc_count, &n);
    assert_int_equal(axm_trainer_step(t, NULL, &e), AXM_OK);
    assert_int_equal(n, 1);
    axm_trainer_destroy(t);
    c.grad_accumulation = 0;
    t = axm_trainer_create(&c, &e);
    if (!t) fail_msg("%s", e.msg);
    n = 0;
    axm_trainer_set_grad_hook(t, acc_count, &n);
    assert_int_equal(axm_trainer_step(t, NULL, &e), AXM_OK);
    assert_int_equal(n, 5); /* 250 steps / truncation 50: every chunk counts */
    axm_trainer_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_gradient),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_grad_accumulation),
        cmocka_unit_test(test_loss_decreases),
        cmocka_unit_test(test_checkpoint_resume_identical),
        cmocka_unit_test(test_resume_rejects_bad_checkpoints),
        cmocka_unit_test(test_nan_parameter_stops),
        cmocka_unit_test(test_nan_loss_skipped),
    };
    return cmocka_run_group_tests_name("train", tests, setup_tmp, teardown_tmp);
}
