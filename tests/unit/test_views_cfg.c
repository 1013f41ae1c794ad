/* The config model behind the F2 view: validation of every key type, defaults, modified marks,
 * preset save/load round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "train.h"

static const axm_cfg_key *K(const char *p)
{
    const axm_cfg_key *k = axm_cfg_key_find(p);
    assert_non_null(k);
    return k;
}

static void test_every_training_key_is_editable(void **state)
{
    (void)state;
    /* smf-model.md §9.4 and the list */
    const char *train[] = {"model", "device", "fp32", "nodes", "dt", "train_dset", "valid_dset", "states",
                           "epochs", "truncation_length", "lr", "grad_accumulation", "train_n_idx",
                           "val_n_idx", "train_chunk_size", "val_chunk_size", "sampling", "postfix",
                           "save_every", "save_dir", "to_train"};
    for (size_t i = 0; i < sizeof train / sizeof train[0]; i++) {
        char p[64];
        snprintf(p, sizeof p, "train.%s", train[i]);
        assert_non_null(axm_cfg_key_find(p));
        assert_true(axm_cfg_key_is_train(axm_cfg_key_find(p)));
    }
    assert_false(axm_cfg_key_is_train(K("waveform.pw_ms")));
}

static void test_defaults_and_numbers(void **state)
{
    (void)state;
    axm_cfg *c = axm_cfg_create();
    axm_err e;
    char b[256];
    assert_string_equal(axm_cfg_get(c, K("train.epochs"), b, sizeof b), "5");
    assert_string_equal(axm_cfg_get(c, K("train.lr"), b, sizeof b), "3e-05");
    assert_false(axm_cfg_has(c, "train.lr"));
    assert_false(axm_cfg_modified(c, AXM_CFG_ANY));

    assert_int_equal(axm_cfg_set(c, K("train.lr"), "1e-3", &e), AXM_OK);
    assert_true(axm_cfg_has(c, "train.lr"));
    assert_float_equal(axm_cfg_num(c, "train.lr", 0), 1e-3, 0);
    assert_true(axm_cfg_modified(c, AXM_CFG_TRAIN));
    assert_false(axm_cfg_modified(c, AXM_CFG_SCENARIO));
    assert_true(axm_cfg_key_modified(c, K("train.lr")));
    assert_false(axm_cfg_key_modified(c, K("train.epochs")));

    /* lr > 0: zero, negative and garbage are refused and leave the value alone */
    assert_int_equal(axm_cfg_set(c, K("train.lr"), "0", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "train.lr: expected a number > 0, got '0'");
    assert_int_equal(axm_cfg_set(c, K("train.lr"), "abc", &e), AXM_ERR_INPUT);
    assert_int_equal(axm_cfg_set(c, K("train.lr"), "nan", &e), AXM_ERR_INPUT);
    assert_float_equal(axm_cfg_num(c, "train.lr", 0), 1e-3, 0);
    /* integers */
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), "2.5", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "train.epochs: expected an integer >= 1, got '2.5'");
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), " 3 ", &e), AXM_OK);
    assert_string_equal(axm_cfg_get(c, K("train.epochs"), b, sizeof b), "3");
    assert_int_equal(axm_cfg_set(c, K("train.val_n_idx"), "0", &e), AXM_ERR_INPUT);
    assert_int_equal(axm_cfg_set(c, K("train.val_n_idx"), "2", &e), AXM_OK);
    /* open interval (0, 1) */
    assert_int_equal(axm_cfg_set(c, K("threshold.resolution"), "1", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "threshold.resolution: expected a number in (0, 1), got '1'");
    assert_int_equal(axm_cfg_set(c, K("threshold.resolution"), "0.02", &e), AXM_OK);
    /* nested scenario keys create their objects */
    assert_int_equal(axm_cfg_set(c, K("fiber.nodes"), "51", &e), AXM_OK);
    assert_float_equal(axm_cfg_num(c, "fiber.nodes", 0), 51, 0);
    /* empty text: back to the default */
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), "", &e), AXM_OK);
    assert_false(axm_cfg_has(c, "train.epochs"));
    axm_cfg_destroy(c);
}

static void test_enums_bools_lists(void **state)
{
    (void)state;
    axm_cfg *c = axm_cfg_create();
    axm_err e;
    char b[256];
    assert_int_equal(axm_cfg_set(c, K("model.name"), "mrg", &e), AXM_OK);
    /* the trainer's config gets every training key, defaults included */
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), "9", &e), AXM_OK);
    char *tj = axm_cfg_train_json(c);
    assert_non_null(strstr(tj, "\"epochs\":\t9"));
    assert_non_null(strstr(tj, "\"train_dset\":\t\"../shared/reference/datasets/train_small.h5\""));
    assert_non_null(strstr(tj, "\"sampling\":\tnull"));
    assert_null(strstr(tj, "model.name"));
    free(tj);
    assert_int_equal(axm_cfg_set(c, K("model.name"), "hh", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "model.name: expected one of smf, sundt, mrg, got 'hh'");
    assert_int_equal(axm_cfg_set(c, K("train.fp32"), "yes", &e), AXM_OK);
    assert_string_equal(axm_cfg_get(c, K("train.fp32"), b, sizeof b), "true");
    assert_int_equal(axm_cfg_set(c, K("train.fp32"), "maybe", &e), AXM_ERR_INPUT);
    /* a single number stays a number, several make a list (a sweep) */
    assert_int_equal(axm_cfg_set(c, K("fiber.diameter_um"), "5.7", &e), AXM_OK);
    assert_string_equal(axm_cfg_get(c, K("fiber.diameter_um"), b, sizeof b), "5.7");
    assert_int_equal(axm_cfg_set(c, K("fiber.diameter_um"), "5.7, 8.7 14", &e), AXM_OK);
    assert_string_equal(axm_cfg_get(c, K("fiber.diameter_um"), b, sizeof b), "5.7, 8.7, 14");
    assert_int_equal(axm_cfg_set(c, K("fiber.diameter_um"), "5.7, -1", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "fiber.diameter_um: expected numbers > 0 separated by commas, got '-1'");
    assert_int_equal(axm_cfg_set(c, K("detect.nodes"), "5, -5", &e), AXM_OK);
    assert_int_equal(axm_cfg_set(c, K("detect.nodes"), "5, x", &e), AXM_ERR_INPUT);
    assert_int_equal(axm_cfg_set(c, K("train.states"), "v, m", &e), AXM_OK);
    assert_int_equal(axm_cfg_set(c, K("train.states"), "v, q", &e), AXM_ERR_INPUT);
    assert_string_equal(e.msg, "train.states: expected one of m, h, p, s, v, got 'q'");
    assert_int_equal(axm_cfg_set(c, K("train.sampling"), "none", &e), AXM_OK);
    assert_string_equal(axm_cfg_get(c, K("train.sampling"), b, sizeof b), "none");
    assert_int_equal(axm_cfg_set(c, K("train.sampling"), "0", &e), AXM_ERR_INPUT);
    assert_int_equal(axm_cfg_set(c, K("train.sampling"), "4", &e), AXM_OK);
    axm_cfg_destroy(c);
}

/* The original's "cuda": true/false is edited as the "device" it means, and a saved config holds
 * only "device", so the two keys can never disagree (axonml train refuses that). */
static void test_cuda_key_becomes_device(void **state)
{
    (void)state;
    static const struct {
        const char *text, *dev;
    } cases[] = {
        {"{\"train_dset\": \"a.h5\", \"cuda\": true}", "cuda"},
        {"{\"train_dset\": \"a.h5\", \"cuda\": false}", "cpu"},
        {"{\"train_dset\": \"a.h5\", \"device\": \"auto\", \"cuda\": true}", "auto"},
        {"{\"fiber\": {\"nodes\": 21}, \"train\": {\"train_dset\": \"a.h5\", \"cuda\": true}}", "cuda"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        axm_cfg *c = axm_cfg_create();
        axm_err e;
        char b[64];
        assert_int_equal(axm_cfg_load_text(c, cases[i].text, "t.json", NULL, &e), AXM_OK);
        assert_string_equal(axm_cfg_get(c, K("train.device"), b, sizeof b), cases[i].dev);
        char *j = axm_cfg_json(c, AXM_CFG_TRAIN);
        assert_null(strstr(j, "\"cuda\":"));
        free(j);
        assert_int_equal(axm_cfg_set(c, K("train.device"), "cpu", &e), AXM_OK);
        j = axm_cfg_train_json(c);
        assert_non_null(strstr(j, "\"device\":\t\"cpu\""));
        assert_null(strstr(j, "\"cuda\":"));
        free(j);
        assert_int_equal(axm_cfg_set(c, K("train.device"), "gpu", &e), AXM_ERR_INPUT);
        assert_string_equal(e.msg, "train.device: expected one of auto, cpu, cuda, got 'gpu'");
        axm_cfg_destroy(c);
    }
}

static void test_preset_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/axm-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sp[128], tp[128];
    snprintf(sp, sizeof sp, "%s/s.json", dir);
    snprintf(tp, sizeof tp, "%s/t.json", dir);
    axm_cfg *c = axm_cfg_create();
    axm_err e;
    int part = -1;
    /* a scenario with an embedded training object: both parts; unknown keys survive */
    assert_int_equal(axm_cfg_load_text(c, "{\"fiber\":{\"nodes\":21,\"diameter_um\":10},\"extra\":{\"x\":1},"
                                          "\"train\":{\"epochs\":3}}", "t", &part, &e), AXM_OK);
    assert_int_equal(part, AXM_CFG_SCENARIO);
    assert_float_equal(axm_cfg_num(c, "train.epochs", 0), 3, 0);
    assert_false(axm_cfg_modified(c, AXM_CFG_ANY));
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), "7", &e), AXM_OK);
    assert_int_equal(axm_cfg_set(c, K("fiber.nodes"), "31", &e), AXM_OK);
    assert_true(axm_cfg_modified(c, AXM_CFG_SCENARIO) && axm_cfg_modified(c, AXM_CFG_TRAIN));
    /* each part is saved in its own format: the scenario without "train", the training flat */
    assert_int_equal(axm_cfg_save(c, AXM_CFG_SCENARIO, sp, &e), AXM_OK);
    assert_false(axm_cfg_modified(c, AXM_CFG_SCENARIO));
    assert_true(axm_cfg_modified(c, AXM_CFG_TRAIN));
    assert_int_equal(axm_cfg_save(c, AXM_CFG_TRAIN, tp, &e), AXM_OK);
    assert_false(axm_cfg_modified(c, AXM_CFG_ANY));
    assert_string_equal(axm_cfg_path(c, AXM_CFG_SCENARIO), sp);
    assert_string_equal(axm_cfg_path(c, AXM_CFG_TRAIN), tp);
    char *j = axm_cfg_json(c, AXM_CFG_SCENARIO);
    assert_null(strstr(j, "train"));
    assert_non_null(strstr(j, "extra"));
    free(j);
    j = axm_cfg_json(c, AXM_CFG_TRAIN);
    assert_non_null(strstr(j, "\"epochs\":\t7"));
    assert_null(strstr(j, "fiber"));
    free(j);

    /* loading them back: each file goes to its part, the other part is kept */
    axm_cfg *d = axm_cfg_create();
    assert_int_equal(axm_cfg_load(d, tp, &part, &e), AXM_OK);
    assert_int_equal(part, AXM_CFG_TRAIN);
    assert_float_equal(axm_cfg_num(d, "train.epochs", 0), 7, 0);
    assert_false(axm_cfg_has(d, "fiber"));
    assert_int_equal(axm_cfg_load(d, sp, &part, &e), AXM_OK);
    assert_int_equal(part, AXM_CFG_SCENARIO);
    assert_float_equal(axm_cfg_num(d, "fiber.nodes", 0), 31, 0);
    assert_float_equal(axm_cfg_num(d, "train.epochs", 0), 7, 0); /* kept */
    assert_true(axm_cfg_has(d, "extra.x"));
    assert_false(axm_cfg_modified(d, AXM_CFG_ANY));
    /* a flat training config (axonml train's format) is recognised by its keys */
    assert_int_equal(axm_cfg_load_text(d, "{\"model\": \"smf\", \"train_dset\": \"x.h5\"}", "tc", &part, &e), AXM_OK);
    assert_int_equal(part, AXM_CFG_TRAIN);
    assert_float_equal(axm_cfg_num(d, "fiber.nodes", 0), 31, 0);
    /* malformed JSON: the line is named and the config is unchanged */
    assert_int_equal(axm_cfg_load_text(d, "{\n\"a\": 1,\n}", "bad.json", NULL, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "bad.json: malformed JSON at line 3"));
    assert_float_equal(axm_cfg_num(d, "fiber.nodes", 0), 31, 0);
    assert_int_equal(axm_cfg_load(d, "/nonexistent/x.json", NULL, &e), AXM_ERR_INPUT);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json"));
    axm_cfg_destroy(c);
    axm_cfg_destroy(d);
    unlink(sp);
    unlink(tp);
    rmdir(dir);
}

/* The trainer's view of the TUI's training config. */
static int parse_train(const axm_cfg *c, axm_train_config *tc)
{
    char *tj = axm_cfg_train_json(c);
    assert_non_null(tj);
    axm_err e;
    axm_train_config_defaults(tc);
    int rc = axm_train_config_parse(tc, tj, "config (train)", &e);
    if (rc) print_error("%s\n", e.msg);
    free(tj);
    return rc;
}

/* Emptying valid_dset in the config view switches validation off (before, an empty text put the
 * default back); 'd' (unset) restores the default set; a loaded "" or null also means off. */
static void test_validation_off(void **state)
{
    (void)state;
    axm_cfg *c = axm_cfg_create();
    axm_err e;
    char b[256];
    axm_train_config tc;
    const axm_cfg_key *k = K("train.valid_dset");
    assert_int_equal(parse_train(c, &tc), AXM_OK);
    assert_non_null(strstr(tc.valid_dset, "valid_small.h5")); /* the default: validation on */

    assert_int_equal(axm_cfg_set(c, k, "", &e), AXM_OK);
    assert_true(axm_cfg_has(c, "train.valid_dset"));
    assert_string_equal(axm_cfg_get(c, k, b, sizeof b), "none");
    assert_int_equal(parse_train(c, &tc), AXM_OK);
    assert_string_equal(tc.valid_dset, "");

    assert_int_equal(axm_cfg_set(c, k, "v.h5", &e), AXM_OK);
    assert_int_equal(parse_train(c, &tc), AXM_OK);
    assert_non_null(strstr(tc.valid_dset, "v.h5"));
    assert_int_equal(axm_cfg_set(c, k, " none ", &e), AXM_OK);
    assert_int_equal(parse_train(c, &tc), AXM_OK);
    assert_string_equal(tc.valid_dset, "");

    axm_cfg_unset(c, k);
    assert_int_equal(parse_train(c, &tc), AXM_OK);
    assert_non_null(strstr(tc.valid_dset, "valid_small.h5"));

    /* training configs from files: "" and null are both off */
    const char *off[] = {"{\"train_dset\": \"x.h5\", \"valid_dset\": \"\"}",
                         "{\"train_dset\": \"x.h5\", \"valid_dset\": null}"};
    for (int i = 0; i < 2; i++) {
        int part = -1;
        assert_int_equal(axm_cfg_load_text(c, off[i], "t.json", &part, &e), AXM_OK);
        assert_int_equal(part, AXM_CFG_TRAIN);
        assert_int_equal(parse_train(c, &tc), AXM_OK);
        assert_string_equal(tc.valid_dset, "");
    }
    /* the empty text still means "default" for other text keys */
    assert_int_equal(axm_cfg_set(c, K("train.save_dir"), "", &e), AXM_OK);
    assert_false(axm_cfg_has(c, "train.save_dir"));
    axm_cfg_destroy(c);
}

/* Saving into a folder that does not exist: one line naming the file; nothing is created. */
static void test_save_error(void **state)
{
    (void)state;
    char dir[] = "/tmp/axm-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[160];
    snprintf(p, sizeof p, "%s/no/such/t.json", dir);
    axm_cfg *c = axm_cfg_create();
    axm_err e;
    assert_int_equal(axm_cfg_set(c, K("train.epochs"), "7", &e), AXM_OK);
    assert_int_equal(axm_cfg_save(c, AXM_CFG_TRAIN, p, &e), AXM_ERR_IO);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "training config"));
    assert_null(strchr(e.msg, '\n'));
    assert_true(axm_cfg_modified(c, AXM_CFG_TRAIN)); /* not marked saved */
    assert_string_equal(axm_cfg_path(c, AXM_CFG_TRAIN), "");
    axm_cfg_destroy(c);
    assert_int_equal(rmdir(dir), 0); /* empty: no temp file either */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_training_key_is_editable),
        cmocka_unit_test(test_defaults_and_numbers),
        cmocka_unit_test(test_enums_bools_lists),
        cmocka_unit_test(test_cuda_key_becomes_device),
        cmocka_unit_test(test_preset_round_trip),
        cmocka_unit_test(test_validation_off),
        cmocka_unit_test(test_save_error),
    };
    return cmocka_run_group_tests_name("views_cfg", tests, NULL, NULL);
}
