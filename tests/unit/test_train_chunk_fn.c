/* The trainer's replaceable chunk function (axm_trainer_set_chunk_fn, how the CLI puts the GPU's
 * in): a replacement that does what axm_train_chunk does gives the very same training step and
 * validation loss, every chunk goes through it, and its failure stops the step with its message
 * (validation: NaN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "chunkfn"
#include "tmpdir.h"
#include <math.h>
#include <unistd.h>

#include "train.h"

static void shared_path(char *out, size_t n, const char *rel)
{
    const char *sh = getenv("AXM_SHARED");
    snprintf(out, n, "%s/%s", sh && *sh ? sh : "../shared", rel);
}

typedef struct spy {
    int calls, with_grad, fail;
} spy;

static int spy_chunk(void *ud, const axm_smfg_theta *th, const double *D, int B, int W, int L,
                     const double *ve, const double *target, const double w[5], double norm, double dt,
                     double *s_io, axm_smfg_grad *g, double *loss, axm_err *err)
{
    spy *s = ud;
    s->calls++;
    s->with_grad += g != NULL;
    if (s->fail) return axm_fail(err, AXM_ERR_RUNTIME, "spy: device lost");
    /* the trainer's own threads = 1 below: the same sums in the same order */
    *loss = axm_train_chunk(th, D, B, W, L, ve, target, w, norm, dt, s_io, g, 1);
    return AXM_OK;
}

static int config(axm_train_config *c, const char *sub)
{
    axm_train_config_defaults(c);
    shared_path(c->train_dset, sizeof c->train_dset, "reference/datasets/train_small.h5");
    shared_path(c->valid_dset, sizeof c->valid_dset, "reference/datasets/valid_small.h5");
    if (access(c->train_dset, R_OK) || access(c->valid_dset, R_OK)) {
        printf("skip: no %s\n", c->train_dset);
        return 0;
    }
    c->epochs = 1;
    c->train_n_idx = 1;
    c->val_n_idx = 1;
    c->sampling = 4;
    c->lr = 1e-4;
    c->handle_nan = 1;
    c->seed = 7;
    c->threads = 1;
    snprintf(c->save_dir, sizeof c->save_dir, "%s/%s", tmpdir, sub);
    return 1;
}

static void test_same_step(void **st)
{
    (void)st;
    axm_train_config c;
    if (!config(&c, "plain")) skip();
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *a = axm_trainer_create(&c, &e);
    if (!a) fail_msg("%s", e.msg);
    config(&c, "spy");
    axm_trainer *b = axm_trainer_create(&c, &e);
    if (!b) fail_msg("%s", e.msg);
    spy s = {0};
    axm_trainer_set_chunk_fn(b, spy_chunk, &s);
    assert_int_equal(axm_trainer_step(a, NULL, &e), AXM_OK);
    assert_int_equal(axm_trainer_step(b, NULL, &e), AXM_OK);
    /* the first step validates (loss only), then trains 250 / 4 steps in chunks of 50 */
    assert_true(s.with_grad >= 1);
    assert_true(s.calls > s.with_grad);
    int n = axm_trainer_n_selected(a);
    assert_int_equal(n, axm_trainer_n_selected(b));
    assert_true(n > 0);
    for (int i = 0; i < n; i++) assert_true(axm_trainer_selected_value(a, i) == axm_trainer_selected_value(b, i));
    double va = axm_trainer_validate(a, &e), vb = axm_trainer_validate(b, &e);
    assert_true(isfinite(va) && va == vb);
    axm_trainer_destroy(a);
    axm_trainer_destroy(b);
}

static void test_failure_stops(void **st)
{
    (void)st;
    axm_train_config c;
    if (!config(&c, "fail")) skip();
    axm_err e;
    axm_err_clear(&e);
    axm_trainer *t = axm_trainer_create(&c, &e);
    if (!t) fail_msg("%s", e.msg);
    spy s = {0, 0, 1};
    axm_trainer_set_chunk_fn(t, spy_chunk, &s);
    assert_true(isnan(axm_trainer_validate(t, &e)));
    assert_non_null(strstr(e.msg, "spy: device lost"));
    axm_err_clear(&e);
    assert_int_equal(axm_trainer_step(t, NULL, &e), AXM_ERR_RUNTIME);
    assert_non_null(strstr(e.msg, "spy: device lost"));
    assert_int_equal(axm_trainer_steps_done(t), 0);
    axm_trainer_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_step),
        cmocka_unit_test(test_failure_stops),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
