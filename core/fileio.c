#include "fileio.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *axm_read_text_file(const char *path, const char *what, size_t *len, axm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot read the %s: %s", path, what, strerror(errno));
        return NULL;
    }
    /* grow by doubling rather than trusting ftell: works for pipes and files being written */
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n + 1 < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf) {
        axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory reading the %s", path, what);
        return NULL;
    }
    if (ioerr) {
        free(buf);
        axm_fail(err, AXM_ERR_INPUT, "%s: cannot read the %s (I/O error)", path, what);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        axm_fail(err, AXM_ERR_INPUT, "%s: expected a JSON text file for the %s, got binary data", path, what);
        return NULL;
    }
    if (len) *len = n;
    return buf;
}

void axm_folder_of(const char *path, char *out, size_t n)
{
    const char *sl = strrchr(path, '/');
    if (!sl) snprintf(out, n, ".");
    else if (sl == path) snprintf(out, n, "/");
    else snprintf(out, n, "%.*s", (int)(sl - path), path);
}

/* ------------------------------------------------------------------------------ config lookup */

/* out = DIR/NAME (NAME alone for a NULL dir) if it fits and is readable */
static int readable_at(const char *dir, const char *name, char *out, size_t n)
{
    int k = dir ? snprintf(out, n, "%s/%s", dir, name) : snprintf(out, n, "%s", name);
    return k >= 0 && (size_t)k < n && access(out, R_OK) == 0;
}

int axm_find_file(const char *name, const char *cfg_dir, char *out, size_t n)
{
    if (!n) return 0;
    if (readable_at(NULL, name, out, n)) return 1;
    if (name[0] != '/') {
        const char *tree = axm_build_tree();
        char up[4096];
        int has_dir = cfg_dir && cfg_dir[0];
        int k = has_dir ? snprintf(up, sizeof up, "%s/..", cfg_dir) : -1;
        if (has_dir && (readable_at(cfg_dir, name, out, n) ||
                        (k >= 0 && (size_t)k < sizeof up && readable_at(up, name, out, n))))
            return 1;
        if (tree[0] && readable_at(tree, name, out, n)) return 1;
    }
    snprintf(out, n, "%s", name);
    return 0;
}

int axm_find_file_near(const char *name, const char *cfg_path, char *out, size_t n)
{
    char dir[4096] = "";
    if (cfg_path && cfg_path[0]) axm_folder_of(cfg_path, dir, sizeof dir);
    return axm_find_file(name, dir, out, n);
}

void axm_find_file_places(const char *cfg_dir, char *out, size_t n)
{
    const char *tree = axm_build_tree();
    size_t k = (size_t)snprintf(out, n, "the current folder");
    if (cfg_dir && cfg_dir[0] && k < n) k += (size_t)snprintf(out + k, n - k, ", %s, %s/..", cfg_dir, cfg_dir);
    if (tree[0] && k < n) snprintf(out + k, n - k, ", %s", tree);
}

/* ------------------------------------------------------------------------------ atomic writing */

static axm_atomic_file *atomic_create(const char *path, const char *what, int with_stream, axm_err *err)
{
    if (!what) what = "file";
    if (!path || !path[0]) {
        axm_fail(err, AXM_ERR_IO, "cannot write the %s: no file name", what);
        return NULL;
    }
    size_t pl = strlen(path), tl = pl + 48;
    axm_atomic_file *a = calloc(1, sizeof *a + pl + 1 + tl);
    if (!a) {
        axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory writing the %s", path, what);
        return NULL;
    }
    a->path = (char *)(a + 1);
    a->tmp = a->path + pl + 1;
    memcpy(a->path, path, pl + 1);
    snprintf(a->what, sizeof a->what, "%s", what);
    /* O_EXCL: never truncate or follow a file that is not ours (another writer's temp, a link) */
    int fd = -1;
    for (int k = 0; k < 100 && fd < 0; k++) {
        if (k == 0) snprintf(a->tmp, tl, "%s.tmp.%ld", path, (long)getpid());
        else snprintf(a->tmp, tl, "%s.tmp.%ld.%d", path, (long)getpid(), k);
        fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        char dir[1024];
        axm_folder_of(path, dir, sizeof dir);
        if (e == ENOENT || e == ENOTDIR)
            axm_fail(err, AXM_ERR_IO, "%s: cannot write the %s: folder '%s' does not exist", path, what, dir);
        else
            axm_fail(err, AXM_ERR_IO, "%s: cannot write the %s: cannot create a file in '%s': %s", path, what,
                     dir, strerror(e));
        free(a);
        return NULL;
    }
    if (!with_stream) {
        close(fd);
        return a;
    }
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int e = errno;
        close(fd);
        remove(a->tmp);
        axm_fail(err, AXM_ERR_IO, "%s: cannot write the %s: %s", path, what, strerror(e));
        free(a);
        return NULL;
    }
    return a;
}

axm_atomic_file *axm_atomic_open(const char *path, const char *what, axm_err *err)
{
    return atomic_create(path, what, 1, err);
}

axm_atomic_file *axm_atomic_reserve(const char *path, const char *what, axm_err *err)
{
    return atomic_create(path, what, 0, err);
}

/* fsync, where the file system supports it: a failure that means "not supported" is no error. */
static int sync_fd(int fd)
{
    if (fsync(fd) == 0) return 0;
    return errno == EINVAL || errno == EROFS || errno == ENOTSUP ? 0 : -1;
}

int axm_atomic_commit(axm_atomic_file *a, axm_err *err)
{
    if (!a) return axm_fail(err, AXM_ERR_IO, "cannot write: the output was not opened");
    const char *stage = NULL;
    int e = 0;
    if (a->f) {
        /* ferror first: a write that failed earlier (ENOSPC) may not fail again in fflush */
        if (ferror(a->f)) stage = "write error", e = EIO;
        else if (fflush(a->f) != 0) stage = "write error", e = errno;
        else if (sync_fd(fileno(a->f)) != 0) stage = "cannot sync to disk", e = errno;
        if (fclose(a->f) != 0 && !stage) stage = "write error", e = errno;
        a->f = NULL;
    } else {
        /* written by name (HDF5): sync it through a descriptor of our own */
        int fd = open(a->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0) stage = "the temporary file is gone", e = errno;
        else {
            if (sync_fd(fd) != 0) stage = "cannot sync to disk", e = errno;
            close(fd);
        }
    }
    if (!stage && rename(a->tmp, a->path) != 0) stage = "cannot rename the temporary file into place", e = errno;
    int rc = AXM_OK;
    if (stage) {
        remove(a->tmp);
        rc = axm_fail(err, AXM_ERR_IO, "%s: cannot write the %s: %s: %s", a->path, a->what, stage,
                      strerror(e ? e : EIO));
    }
    free(a);
    return rc;
}

void axm_atomic_abort(axm_atomic_file *a)
{
    if (!a) return;
    if (a->f) fclose(a->f);
    remove(a->tmp);
    free(a);
}

int axm_write_text_file_atomic(const char *path, const char *text, const char *what, axm_err *err)
{
    axm_atomic_file *a = axm_atomic_open(path, what, err);
    if (!a) return err ? err->code : AXM_ERR_IO;
    size_t n = text ? strlen(text) : 0;
    if (n) {
        fwrite(text, 1, n, a->f);
        if (text[n - 1] != '\n') fputc('\n', a->f);
    }
    return axm_atomic_commit(a, err);
}
