/* Atomic output files (fileio.h): the target changes only on commit, in one step, and no temp
 * file is ever left behind, whichever way a write ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define AXM_TEST_TMP_NAME "fileio"
#include "tmpdir.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "version.h"

/* Entries of the test folder; each test starts from an empty one. */
static int count_entries(int *tmps)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    if (tmps) *tmps = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (tmps && strstr(e->d_name, ".tmp")) ++*tmps;
    }
    closedir(d);
    return n;
}

static void empty_dir(void)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        if (remove(p) != 0) fail_msg("cannot clean %s", p);
    }
    closedir(d);
}

static char *slurp(const char *path)
{
    axm_err e;
    char *t = axm_read_text_file(path, "test file", NULL, &e);
    if (!t) fail_msg("%s", e.msg);
    return t;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_commit_writes(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/out.csv", tmpdir);
    axm_err e;
    axm_atomic_file *a = axm_atomic_open(p, "output", &e);
    assert_non_null(a);
    assert_non_null(a->f);
    /* the temp file sits beside the target (same folder: rename stays within one file system) */
    assert_int_equal(strncmp(a->tmp, p, strlen(p)), 0);
    assert_non_null(strstr(a->tmp, ".tmp."));
    assert_int_equal(access(p, F_OK), -1); /* nothing at the target until commit */
    fprintf(a->f, "t_ms,v\n0,1.5\n");
    assert_int_equal(axm_atomic_commit(a, &e), AXM_OK);
    char *t = slurp(p);
    assert_string_equal(t, "t_ms,v\n0,1.5\n");
    free(t);
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
}

static void test_abort_leaves_nothing(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/x.json", tmpdir);
    axm_err e;
    axm_atomic_file *a = axm_atomic_open(p, "output", &e);
    assert_non_null(a);
    fputs("{\"half\": ", a->f);
    axm_atomic_abort(a);
    assert_int_equal(count_entries(NULL), 0);
    axm_atomic_abort(NULL); /* no-op */
}

static void test_missing_folder(void **st)
{
    (void)st;
    empty_dir();
    char p[160];
    snprintf(p, sizeof p, "%s/nope/deeper/w.json", tmpdir);
    axm_err e;
    axm_err_clear(&e);
    assert_null(axm_atomic_open(p, "weights file", &e));
    assert_int_equal(e.code, AXM_ERR_IO);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "weights file"));
    assert_non_null(strstr(e.msg, "does not exist"));
    assert_null(strchr(e.msg, '\n'));
    assert_int_equal(axm_write_text_file_atomic(p, "x", "weights file", &e), AXM_ERR_IO);
    assert_non_null(strstr(e.msg, p));
    assert_int_equal(count_entries(NULL), 0);
    /* a commit of nothing (a failed open) is an error, not a crash */
    assert_int_equal(axm_atomic_commit(NULL, &e), AXM_ERR_IO);
}

static void test_replaces_only_on_commit(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/cfg.json", tmpdir);
    put(p, "old\n");
    axm_err e;
    axm_atomic_file *a = axm_atomic_open(p, "training config", &e);
    assert_non_null(a);
    fputs("new\n", a->f);
    fflush(a->f); /* the new bytes are on disk, in the temp file */
    char *t = slurp(p);
    assert_string_equal(t, "old\n");
    free(t);
    t = slurp(a->tmp);
    assert_string_equal(t, "new\n");
    free(t);
    assert_int_equal(axm_atomic_commit(a, &e), AXM_OK);
    t = slurp(p);
    assert_string_equal(t, "new\n");
    free(t);
    /* an aborted rewrite keeps what was there */
    a = axm_atomic_open(p, "training config", &e);
    assert_non_null(a);
    fputs("newer\n", a->f);
    axm_atomic_abort(a);
    t = slurp(p);
    assert_string_equal(t, "new\n");
    free(t);
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
}

/* A commit that cannot rename (the target is a folder) fails naming the target, removes the temp
 * file and leaves the target alone. */
static void test_failed_commit_cleans_up(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/taken", tmpdir);
    assert_int_equal(mkdir(p, 0777), 0);
    axm_err e;
    axm_atomic_file *a = axm_atomic_open(p, "checkpoint", &e);
    assert_non_null(a);
    fputs("data\n", a->f);
    assert_int_equal(axm_atomic_commit(a, &e), AXM_ERR_IO);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "checkpoint"));
    assert_null(strchr(e.msg, '\n'));
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
    assert_int_equal(rmdir(p), 0);
}

static void test_text_helper(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/t.json", tmpdir);
    axm_err e;
    /* a JSON dump without a final newline gets one; a text that has it is not doubled */
    assert_int_equal(axm_write_text_file_atomic(p, "{\"a\": 1}", "weights file", &e), AXM_OK);
    char *t = slurp(p);
    assert_string_equal(t, "{\"a\": 1}\n");
    free(t);
    assert_int_equal(axm_write_text_file_atomic(p, "line\n", "weights file", &e), AXM_OK);
    t = slurp(p);
    assert_string_equal(t, "line\n");
    free(t);
    assert_int_equal(axm_write_text_file_atomic(p, "", "weights file", &e), AXM_OK);
    t = slurp(p);
    assert_string_equal(t, "");
    free(t);
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
}

/* Outputs get the permissions of a plain fopen (0666 less the umask), not a private temp file's. */
static void test_permissions(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/perm.csv", tmpdir);
    mode_t old = umask(022);
    axm_err e;
    int rc = axm_write_text_file_atomic(p, "x\n", "output", &e);
    umask(old);
    assert_int_equal(rc, AXM_OK);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
}

/* Two writers of one path in one process get distinct temp files; the last commit wins. */
static void test_two_writers(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/both.txt", tmpdir);
    axm_err e;
    axm_atomic_file *a = axm_atomic_open(p, "output", &e), *b = axm_atomic_open(p, "output", &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a->tmp, b->tmp);
    fputs("a\n", a->f);
    fputs("b\n", b->f);
    assert_int_equal(axm_atomic_commit(a, &e), AXM_OK);
    assert_int_equal(axm_atomic_commit(b, &e), AXM_OK);
    char *t = slurp(p);
    assert_string_equal(t, "b\n");
    free(t);
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
}

/* Writers that create the file by name (HDF5) write the reserved temp path, then commit. */
static void test_reserve(void **st)
{
    (void)st;
    empty_dir();
    char p[128];
    snprintf(p, sizeof p, "%s/rec.h5", tmpdir);
    axm_err e;
    axm_atomic_file *a = axm_atomic_reserve(p, "output", &e);
    assert_non_null(a);
    assert_null(a->f);
    assert_int_equal(access(a->tmp, F_OK), 0);
    put(a->tmp, "by name\n");
    assert_int_equal(axm_atomic_commit(a, &e), AXM_OK);
    char *t = slurp(p);
    assert_string_equal(t, "by name\n");
    free(t);
    a = axm_atomic_reserve(p, "output", &e);
    assert_non_null(a);
    put(a->tmp, "half");
    axm_atomic_abort(a);
    t = slurp(p);
    assert_string_equal(t, "by name\n");
    free(t);
    int tmps;
    assert_int_equal(count_entries(&tmps), 1);
    assert_int_equal(tmps, 0);
}

/* A file named in a config: as given, next to the config, in its parent, then in the axonml tree;
 * the first readable one wins, and a miss leaves the name as given. */
static void test_find_file(void **st)
{
    (void)st;
    empty_dir();
    char a[600], ab[600], p[700], out[1024], cwd[1024];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(ab, sizeof ab, "%s/a/b", tmpdir);
    assert_int_equal(mkdir(a, 0777), 0);
    assert_int_equal(mkdir(ab, 0777), 0);
    snprintf(p, sizeof p, "%s/near.txt", ab);
    put(p, "near");
    snprintf(p, sizeof p, "%s/up.txt", a);
    put(p, "up");
    snprintf(p, sizeof p, "%s/both.txt", a);
    put(p, "parent");
    snprintf(p, sizeof p, "%s/both.txt", ab);
    put(p, "near");
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    put("here.txt", "cwd");
    put("b", "a file named like the folder");

    assert_int_equal(axm_find_file("here.txt", ab, out, sizeof out), 1);
    assert_string_equal(out, "here.txt");
    assert_int_equal(axm_find_file("near.txt", ab, out, sizeof out), 1);
    snprintf(p, sizeof p, "%s/near.txt", ab);
    assert_string_equal(out, p);
    assert_int_equal(axm_find_file("up.txt", ab, out, sizeof out), 1);
    snprintf(p, sizeof p, "%s/../up.txt", ab);
    assert_string_equal(out, p);
    assert_int_equal(axm_find_file("both.txt", ab, out, sizeof out), 1); /* next to it before the parent */
    snprintf(p, sizeof p, "%s/both.txt", ab);
    assert_string_equal(out, p);
    /* the tree: a preset named from a folder that has none */
    const char *tree = axm_build_tree();
    assert_true(tree[0] == '/');
    assert_int_equal(axm_find_file("presets/default.json", ab, out, sizeof out), 1);
    snprintf(p, sizeof p, "%s/presets/default.json", tree);
    assert_string_equal(out, p);
    assert_int_equal(axm_find_file("presets/default.json", NULL, out, sizeof out), 1);
    assert_string_equal(out, p);
    /* misses: the name as given */
    assert_int_equal(axm_find_file("nowhere.txt", ab, out, sizeof out), 0);
    assert_string_equal(out, "nowhere.txt");
    assert_int_equal(axm_find_file("/nowhere/near.txt", ab, out, sizeof out), 0);
    assert_string_equal(out, "/nowhere/near.txt");
    /* a candidate that does not fit is no match (never a truncated path that happens to exist:
     * "DIR/near.txt" cut after "DIR" would be the folder a/b, or the file b cut further) */
    assert_int_equal(axm_find_file("near.txt", ab, out, strlen(ab) + 2), 0);
    assert_int_equal(axm_find_file("near.txt", "a/b", out, 4), 0);
    /* next to a config file: its folder */
    snprintf(p, sizeof p, "%s/config.json", ab);
    assert_int_equal(axm_find_file_near("near.txt", p, out, sizeof out), 1);
    snprintf(p, sizeof p, "%s/near.txt", ab);
    assert_string_equal(out, p);
    assert_int_equal(axm_find_file_near("near.txt", NULL, out, sizeof out), 0);
    assert_string_equal(out, "near.txt");
    assert_int_equal(axm_find_file_near("here.txt", "", out, sizeof out), 1);
    assert_string_equal(out, "here.txt");

    char places[2048];
    axm_find_file_places(ab, places, sizeof places);
    assert_non_null(strstr(places, "the current folder"));
    assert_non_null(strstr(places, ab));
    assert_non_null(strstr(places, tree));

    remove("here.txt");
    remove("b");
    assert_int_equal(chdir(cwd), 0);
    snprintf(p, sizeof p, "%s/near.txt", ab);
    remove(p);
    snprintf(p, sizeof p, "%s/both.txt", ab);
    remove(p);
    snprintf(p, sizeof p, "%s/both.txt", a);
    remove(p);
    snprintf(p, sizeof p, "%s/up.txt", a);
    remove(p);
    assert_int_equal(rmdir(ab), 0);
    assert_int_equal(rmdir(a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_writes),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_missing_folder),
        cmocka_unit_test(test_replaces_only_on_commit),
        cmocka_unit_test(test_failed_commit_cleans_up),
        cmocka_unit_test(test_text_helper),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_find_file),
    };
    return cmocka_run_group_tests_name("fileio", tests, setup_tmp, teardown_tmp);
}
