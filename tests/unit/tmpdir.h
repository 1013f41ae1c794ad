/* A scratch directory for one test program: define AXM_TEST_TMP_NAME ("datagen", ...) and include
 * this after cmocka.h; it gives `tmpdir` and the cmocka group set-up / tear-down setup_tmp and
 * teardown_tmp, which make it (mkdtemp under $TMPDIR when that is short, else /tmp) and remove it
 * with what the tests left in it. The name is short so that the tests' fixed path buffers hold
 * any file name under it. */
#ifndef AXM_TEST_TMPDIR_H
#define AXM_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef AXM_TEST_TMP_NAME
#error "define AXM_TEST_TMP_NAME before including tmpdir.h"
#endif

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/axm_test_%s_XXXXXX", base && *base ? base : "/tmp", AXM_TEST_TMP_NAME);
    if (n < 0 || (size_t)n >= sizeof tmpdir)
        snprintf(tmpdir, sizeof tmpdir, "/tmp/axm_test_%s_XXXXXX", AXM_TEST_TMP_NAME);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
