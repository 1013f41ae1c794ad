/* F3: training in a worker thread (train.h), with live loss curves on a log axis, progress with
 * rate and ETA, the watched parameter values, checkpoints and NaN events. */
#include <curses.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <errno.h>

#include "datagen.h"
#include "fileio.h"
#include "train.h"
#include "tui_int.h"

enum { ST_IDLE = 0, ST_STARTING, ST_RUNNING, ST_PAUSED, ST_STOPPING, ST_DONE, ST_STOPPED, ST_ERROR,
       ST_GENDATA };
static const char *const state_names[] = {"idle", "starting", "running", "paused", "stopping",
                                          "done", "stopped", "error", "generating data"};

/* Where datasets are generated when the configured ones are missing (e.g. no ../shared). */
static const char *const gen_paths[2] = {"datasets/tui-train-small.h5", "datasets/tui-valid-small.h5"};

#define MAX_SHOWN 64
#define RING 6

/* Everything the worker reports, guarded by mu. */
typedef struct train_log {
    long n_steps, cap_steps;
    double *step_x, *step_loss;     /* per minibatch */
    long n_val, cap_val;
    double *val_x, *val_loss;
    int epoch, epochs;
    long batch, batches, step, total;
    int n_params;
    char names[MAX_SHOWN][32];
    double values[MAX_SHOWN];
    int n_ckpt;
    char ckpt[RING][256];
    int n_events, n_nan;
    char events[RING][160];
} train_log;

struct axm_train_view {
    pthread_t th;
    int have_thread;
    pthread_mutex_t mu;
    int state;                      /* ST_* (mu) */
    volatile int stop, pause;
    char err[512];
    train_log log;
    long seen_steps, seen_val;      /* what the UI drew last */
    int seen_state;
    double t_start, t_paused, pause_since;
    char *config_json;              /* the worker's input */
    char config_name[600];          /* the training config's file, for relative paths */
    int gen_which;                  /* 0 train, 1 valid (mu) */
    long gen_done, gen_total;       /* fibers (mu) */
    char gen_used[2][256];          /* generated datasets now in use, for the config view (mu) */
    int gen_applied;
    axm_canvas *cv;
    void *(*gpu_attach)(axm_trainer *t, const axm_train_config *c, char *note, size_t n); /* the tui's */
    void (*gpu_detach)(void *ctx);
    char device_note[600];          /* why a run asked for the GPU trains on the CPU (mu); "" none */
    int on_gpu;                     /* the current run trains on the GPU (mu) */
    int note_new;                   /* device_note not yet shown on the message line (mu) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int push(double **x, double **y, long *n, long *cap, double xv, double yv)
{
    if (*n == *cap) {
        long nc = *cap ? *cap * 2 : 256;
        double *nx = realloc(*x, sizeof(double) * (size_t)nc);
        if (!nx) return 0;
        *x = nx;
        double *ny = realloc(*y, sizeof(double) * (size_t)nc);
        if (!ny) return 0;
        *y = ny;
        *cap = nc;
    }
    (*x)[*n] = xv;
    (*y)[*n] = yv;
    (*n)++;
    return 1;
}

static void ring_add(char ring[][160], int *n, const char *s)
{
    snprintf(ring[*n % RING], 160, "%s", s);
    (*n)++;
}

static void on_event(void *ud, const axm_train_event *ev)
{
    axm_train_view *v = ud;
    train_log *L = &v->log;
    pthread_mutex_lock(&v->mu);
    L->epoch = ev->epoch;
    L->epochs = ev->epochs;
    L->batch = ev->batch;
    L->batches = ev->batches;
    L->step = ev->step;
    L->total = ev->total_steps;
    if (ev->n_params > 0 && ev->names && ev->values) {
        L->n_params = ev->n_params < MAX_SHOWN ? ev->n_params : MAX_SHOWN;
        for (int i = 0; i < L->n_params; i++) {
            snprintf(L->names[i], sizeof L->names[i], "%.31s", ev->names[i]);
            L->values[i] = ev->values[i];
        }
    }
    char msg[160];
    switch (ev->kind) {
    case AXM_TRAIN_EV_STEP:
        push(&L->step_x, &L->step_loss, &L->n_steps, &L->cap_steps, (double)ev->step, ev->train_loss);
        break;
    case AXM_TRAIN_EV_VALID:
        push(&L->val_x, &L->val_loss, &L->n_val, &L->cap_val, (double)ev->step, ev->val_loss);
        break;
    case AXM_TRAIN_EV_CHECKPOINT:
        snprintf(L->ckpt[L->n_ckpt % RING], sizeof L->ckpt[0], "%.255s", ev->path ? ev->path : "?");
        L->n_ckpt++;
        break;
    case AXM_TRAIN_EV_NAN:
        L->n_nan++;
        snprintf(msg, sizeof msg, "step %ld: %.140s", ev->step, ev->message ? ev->message : "NaN");
        ring_add(L->events, &L->n_events, msg);
        break;
    case AXM_TRAIN_EV_EPOCH:
        snprintf(msg, sizeof msg, "epoch %d/%d done", ev->epoch + 1, ev->epochs);
        ring_add(L->events, &L->n_events, msg);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&v->mu);
}

static void set_state(axm_train_view *v, int st, const char *err)
{
    pthread_mutex_lock(&v->mu);
    v->state = st;
    if (err) snprintf(v->err, sizeof v->err, "%s", err);
    pthread_mutex_unlock(&v->mu);
}

static void on_gen_progress(void *ud, long done, long total)
{
    axm_train_view *v = ud;
    pthread_mutex_lock(&v->mu);
    v->gen_done = done;
    v->gen_total = total;
    pthread_mutex_unlock(&v->mu);
}

/* The datasets the config names, or small generated ones in their place when they are missing
 * (generated once, with progress shown: 2 runs x 2 rows x 8 MRG fibers like the reference sets). */
static int ensure_datasets(axm_train_view *v, axm_err *err)
{
    static const char *const keys[2] = {"train_dset", "valid_dset"};
    cJSON *root = cJSON_Parse(v->config_json);
    if (!root) return axm_fail(err, AXM_ERR_INPUT, "config (train): malformed JSON");
    int changed = 0, rc = AXM_OK;
    for (int i = 0; i < 2 && rc == AXM_OK; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (!cJSON_IsString(it) || !it->valuestring[0]) continue;
        char dir[1024] = "", found[1200];
        if (v->config_name[0]) axm_folder_of(v->config_name, dir, sizeof dir);
        if (axm_find_file(it->valuestring, dir, found, sizeof found)) continue; /* the trainer's rule */
        if (access(gen_paths[i], R_OK) != 0) {
            pthread_mutex_lock(&v->mu);
            v->state = ST_GENDATA;
            v->gen_which = i;
            v->gen_done = 0;
            v->gen_total = 0;
            pthread_mutex_unlock(&v->mu);
            if (mkdir("datasets", 0777) != 0 && errno != EEXIST) {
                rc = axm_fail(err, AXM_ERR_IO, "datasets: cannot create the folder: %s", strerror(errno));
                break;
            }
            axm_gendata_cfg g;
            axm_gendata_defaults(&g);
            g.n_runs = 2;
            g.rows = 2;
            g.fibers = 8;
            g.seed = 20240101 + i;
            axm_gendata_opts o;
            memset(&o, 0, sizeof o);
            o.out_path = gen_paths[i];
            o.resume = access(gen_paths[i], R_OK) != 0; /* continue an interrupted .part */
            o.n_threads = 2;
            o.cancel = &v->stop;
            o.progress = on_gen_progress;
            o.progress_ud = v;
            char part[300];
            snprintf(part, sizeof part, "%s.part", gen_paths[i]);
            if (access(part, R_OK) != 0) o.resume = 0;
            rc = axm_gendata_run(&g, &o, err);
            if (rc != AXM_OK) break;
        }
        cJSON_ReplaceItemInObjectCaseSensitive(root, keys[i], cJSON_CreateString(gen_paths[i]));
        pthread_mutex_lock(&v->mu);
        snprintf(v->gen_used[i], sizeof v->gen_used[i], "%s", gen_paths[i]);
        pthread_mutex_unlock(&v->mu);
        changed = 1;
    }
    if (rc == AXM_OK && changed) {
        char *t = cJSON_Print(root);
        if (t) {
            free(v->config_json);
            v->config_json = t;
        }
    }
    cJSON_Delete(root);
    if (rc == AXM_OK) {
        pthread_mutex_lock(&v->mu);
        if (v->state == ST_GENDATA) v->state = ST_STARTING;
        pthread_mutex_unlock(&v->mu);
    }
    return rc;
}

static void *worker(void *arg)
{
    axm_train_view *v = arg;
    axm_err err;
    axm_err_clear(&err);
    int grc = ensure_datasets(v, &err);
    if (grc == AXM_ERR_CANCELLED) {
        set_state(v, ST_STOPPED, NULL);
        return NULL;
    }
    if (grc != AXM_OK) {
        set_state(v, ST_ERROR, err.msg);
        return NULL;
    }
    axm_train_config c;
    axm_train_config_defaults(&c);
    if (axm_train_config_parse(&c, v->config_json, v->config_name[0] ? v->config_name : "config (train)", &err) != AXM_OK) {
        set_state(v, ST_ERROR, err.msg);
        return NULL;
    }
    axm_trainer *tr = axm_trainer_create(&c, &err);
    if (!tr) {
        set_state(v, ST_ERROR, err.msg);
        return NULL;
    }
    axm_trainer_set_callback(tr, on_event, v);
    char note[600] = "";
    void *gpu = v->gpu_attach ? v->gpu_attach(tr, &c, note, sizeof note) : NULL;
    pthread_mutex_lock(&v->mu);
    snprintf(v->device_note, sizeof v->device_note, "%s", note);
    v->on_gpu = gpu != NULL;
    v->note_new = note[0] != 0;
    if (note[0]) ring_add(v->log.events, &v->log.n_events, note);
    else if (gpu) ring_add(v->log.events, &v->log.n_events, "training on the GPU");
    v->log.total = axm_trainer_total_steps(tr);
    if (v->state == ST_STARTING) v->state = ST_RUNNING;
    pthread_mutex_unlock(&v->mu);
    int rc = AXM_OK;
    while (!axm_trainer_done(tr) && !v->stop) {
        if (v->pause) {
            usleep(20000);
            continue;
        }
        rc = axm_trainer_step(tr, &v->stop, &err);
        if (rc != AXM_OK) break;
    }
    if (rc == AXM_OK && v->stop) rc = AXM_ERR_CANCELLED;
    if (rc == AXM_ERR_CANCELLED) {
        /* keep what was learned */
        char path[512];
        axm_err e2;
        if (axm_trainer_checkpoint(tr, path, sizeof path, &e2) == AXM_OK) {
            pthread_mutex_lock(&v->mu);
            snprintf(v->log.ckpt[v->log.n_ckpt % RING], sizeof v->log.ckpt[0], "%.255s", path);
            v->log.n_ckpt++;
            pthread_mutex_unlock(&v->mu);
        }
        set_state(v, ST_STOPPED, NULL);
    } else if (rc != AXM_OK) {
        set_state(v, ST_ERROR, err.msg);
    } else {
        set_state(v, ST_DONE, NULL);
    }
    if (gpu) v->gpu_detach(gpu);
    axm_trainer_destroy(tr);
    return NULL;
}

axm_train_view *axm_train_view_create(axm_tui *t)
{
    axm_train_view *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->gpu_attach = t->train_attach;
    v->gpu_detach = t->train_detach;
    pthread_mutex_init(&v->mu, NULL);
    v->seen_state = -1;
    return v;
}

static void join(axm_train_view *v)
{
    if (v->have_thread) {
        pthread_join(v->th, NULL);
        v->have_thread = 0;
    }
}

static void log_clear(train_log *L)
{
    free(L->step_x);
    free(L->step_loss);
    free(L->val_x);
    free(L->val_loss);
    memset(L, 0, sizeof *L);
}

void axm_train_view_destroy(axm_train_view *v)
{
    if (!v) return;
    v->stop = 1;
    v->pause = 0;
    join(v);
    log_clear(&v->log);
    free(v->config_json);
    axm_canvas_destroy(v->cv);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

static int get_state(axm_train_view *v)
{
    pthread_mutex_lock(&v->mu);
    int s = v->state;
    pthread_mutex_unlock(&v->mu);
    return s;
}

static void start(axm_tui *t)
{
    axm_train_view *v = t->tv;
    int st = get_state(v);
    if (st == ST_RUNNING || st == ST_PAUSED || st == ST_STARTING || st == ST_STOPPING || st == ST_GENDATA) {
        axm_ui_msg(&t->ui, AXM_C_WARN, "training is already running (x stops it)");
        return;
    }
    join(v);
    free(v->config_json);
    v->config_json = axm_cfg_train_json(t->cfg);
    snprintf(v->config_name, sizeof v->config_name, "%s", axm_cfg_path(t->cfg, AXM_CFG_TRAIN));
    v->gen_used[0][0] = v->gen_used[1][0] = 0;
    v->gen_applied = 0;
    if (!v->config_json) {
        axm_ui_msg(&t->ui, AXM_C_ERROR, "out of memory");
        return;
    }
    pthread_mutex_lock(&v->mu);
    log_clear(&v->log);
    v->state = ST_STARTING;
    v->err[0] = 0;
    pthread_mutex_unlock(&v->mu);
    v->stop = v->pause = 0;
    v->t_start = now_s();
    v->t_paused = 0;
    if (pthread_create(&v->th, NULL, worker, v) != 0) {
        set_state(v, ST_ERROR, "cannot start the training thread");
        return;
    }
    v->have_thread = 1;
    axm_ui_msg(&t->ui, AXM_C_OK, "training started (p pause, x stop)");
}

int axm_train_view_key(axm_tui *t, int ch)
{
    axm_train_view *v = t->tv;
    int st = get_state(v);
    switch (ch) {
    case 's': start(t); return 1;
    case 'p': case ' ':
        if (st == ST_RUNNING) {
            v->pause = 1;
            v->pause_since = now_s();
            set_state(v, ST_PAUSED, NULL);
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "paused after the current minibatch (p resumes)");
        } else if (st == ST_PAUSED) {
            v->t_paused += now_s() - v->pause_since;
            v->pause = 0;
            set_state(v, ST_RUNNING, NULL);
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "resumed");
        }
        return 1;
    case 'x':
        if (st == ST_RUNNING || st == ST_PAUSED || st == ST_STARTING || st == ST_GENDATA) {
            v->stop = 1;
            v->pause = 0;
            set_state(v, ST_STOPPING, NULL);
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "stopping: a checkpoint is written");
        }
        return 1;
    case 'u': {
        /* try the newest checkpoint in the explorer */
        char path[256] = "";
        pthread_mutex_lock(&v->mu);
        if (v->log.n_ckpt) snprintf(path, sizeof path, "%s", v->log.ckpt[(v->log.n_ckpt - 1) % RING]);
        pthread_mutex_unlock(&v->mu);
        if (!path[0]) {
            axm_ui_msg(&t->ui, AXM_C_WARN, "no checkpoint yet");
            return 1;
        }
        axm_explore_view_use_weights(t, "smf", path);
        axm_ui_set_view(&t->ui, AXM_VIEW_EXPLORE);
        axm_ui_msg(&t->ui, AXM_C_OK, "explore uses %s", path);
        return 1;
    }
    default:
        return 0;
    }
}

int axm_train_view_tick(axm_tui *t)
{
    axm_train_view *v = t->tv;
    pthread_mutex_lock(&v->mu);
    int changed = v->log.n_steps != v->seen_steps || v->log.n_val != v->seen_val || v->state != v->seen_state;
    v->seen_steps = v->log.n_steps;
    v->seen_val = v->log.n_val;
    if (v->state != v->seen_state && v->state == ST_ERROR) axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", v->err);
    if (v->state != v->seen_state && v->state == ST_DONE) axm_ui_msg(&t->ui, AXM_C_OK, "training done");
    if (v->note_new && v->state != ST_ERROR) {
        axm_ui_msg(&t->ui, AXM_C_WARN, "%s", v->device_note);
        v->note_new = 0;
    }
    v->seen_state = v->state;
    if (v->state == ST_GENDATA) changed = 1; /* progress */
    char used[2][256];
    memcpy(used, v->gen_used, sizeof used);
    pthread_mutex_unlock(&v->mu);
    if (!v->gen_applied && (used[0][0] || used[1][0])) {
        /* the config view shows the datasets actually used */
        axm_err e;
        if (used[0][0]) axm_cfg_set(t->cfg, axm_cfg_key_find("train.train_dset"), used[0], &e);
        if (used[1][0]) axm_cfg_set(t->cfg, axm_cfg_key_find("train.valid_dset"), used[1], &e);
        v->gen_applied = 1;
    }
    if (changed && t->ui.view != AXM_VIEW_TRAIN && v->seen_state != ST_ERROR) return 0;
    return changed;
}

/* ---- drawing (under the view's mutex: the worker appends concurrently) ---- */

static void draw_loss(void *ud, axm_canvas *c, const axm_scale *xs, const axm_scale *ys)
{
    const train_log *L = ud;
    axm_canvas_plot(c, L->step_x, L->step_loss, L->n_steps, xs, ys, 1);
    axm_canvas_plot(c, L->val_x, L->val_loss, L->n_val, xs, ys, 2);
    /* validation points are sparse: mark each one */
    for (long i = 0; i < L->n_val; i++) {
        int x = axm_scale_px(xs, L->val_x[i], c->px_w), y = axm_scale_px(ys, L->val_loss[i], c->px_h);
        if (x >= 0 && y >= 0)
            for (int d = -1; d <= 1; d++) {
                axm_canvas_set(c, x + d, y, 2);
                axm_canvas_set(c, x, y + d, 2);
            }
    }
}

void axm_train_view_draw(axm_tui *t)
{
    axm_train_view *v = t->tv;
    axm_ui *ui = &t->ui;
    const axm_layout *Ly = &ui->layout;
    pthread_mutex_lock(&v->mu);
    const train_log *L = &v->log;
    int st = v->state;

    /* controls and progress */
    axm_rect in = axm_ui_box(ui, &Ly->pane[0], "Training", 1);
    char dset[512];
    axm_cfg_get(t->cfg, axm_cfg_key_find("train.train_dset"), dset, sizeof dset);
    int pair = st == ST_ERROR ? AXM_C_ERROR : st == ST_RUNNING ? AXM_C_OK : st == ST_DONE ? AXM_C_OK : AXM_C_WARN;
    axm_ui_textf(ui, in.y, in.x + 1, 18, pair, A_BOLD, "[%s]", state_names[st]);
    axm_ui_textf(ui, in.y, in.x + 19, in.w - 20, 0, 0, "data %s%s", dset,
                 access(dset, R_OK) ? " (missing: s generates a small set)" : "");
    double el = now_s() - v->t_start - v->t_paused - (st == ST_PAUSED ? now_s() - v->pause_since : 0);
    long done = L->n_steps;
    double rate = done > 0 && el > 0 ? done / el : NAN;
    double eta = rate > 0 && L->total > 0 ? (L->total - done) / rate : NAN;
    char b1[32], b2[32];
    if (st == ST_GENDATA && in.h > 2) {
        axm_ui_textf(ui, in.y + 1, in.x + 1, in.w - 2, AXM_C_WARN, 0,
                     "dataset missing: generating %s with gendata (MRG): %ld/%ld fibers", gen_paths[v->gen_which],
                     v->gen_done, v->gen_total);
        axm_ui_bar(ui, in.y + 2, in.x + 1, in.w - 2, v->gen_total > 0 ? (double)v->gen_done / v->gen_total : 0, AXM_C_WARN);
    } else if (st != ST_IDLE && in.h > 1) {
        /* counters past the end (validation after the last minibatch, the done event) show the end */
        int ep = L->epoch + 1;
        long mb = L->batch + 1;
        if (st == ST_DONE || ep > L->epochs) {
            ep = L->epochs;
            mb = L->batches;
        }
        if (mb > L->batches) mb = L->batches;
        axm_ui_textf(ui, in.y + 1, in.x + 1, in.w - 2, 0, 0,
                     "epoch %d/%d  minibatch %ld/%ld  step %ld/%ld  %.2f steps/s  elapsed %s  ETA %s  on the %s",
                     ep, L->epochs, mb, L->batches, done, L->total, isfinite(rate) ? rate : 0.0,
                     axm_fmt_duration(el, b1, sizeof b1), axm_fmt_duration(st == ST_RUNNING ? eta : NAN, b2, sizeof b2),
                     v->on_gpu ? "GPU" : "CPU");
        if (in.h > 2) axm_ui_bar(ui, in.y + 2, in.x + 1, in.w - 2, L->total > 0 ? (double)done / L->total : 0, AXM_C_OK);
    } else if (in.h > 1) {
        axm_ui_text(ui, in.y + 1, in.x + 1, in.w - 2, AXM_C_DIM, 0,
                    "s start   p pause/resume   x stop   u explore the newest checkpoint   settings: F2");
    }

    /* loss plot */
    char title[160];
    snprintf(title, sizeof title, "Loss (log)  ~ train %s  + valid %s", L->n_steps ? axm_fmt_num(L->step_loss[L->n_steps - 1], b1, sizeof b1) : "-",
             L->n_val ? axm_fmt_num(L->val_loss[L->n_val - 1], b2, sizeof b2) : "-");
    axm_rect pi = axm_ui_box(ui, &Ly->pane[1], title, 0);
    if (L->n_steps || L->n_val) {
        axm_scale xs = {0, L->total > 0 ? (double)L->total : (double)(L->n_steps + 1), 0}, ys, yv;
        axm_scale_fit(&ys, L->step_loss, L->n_steps, 1);
        if (L->n_val && axm_scale_fit(&yv, L->val_loss, L->n_val, 1)) {
            if (!L->n_steps || yv.lo < ys.lo) ys.lo = yv.lo;
            if (!L->n_steps || yv.hi > ys.hi) ys.hi = yv.hi;
        }
        axm_ui_plot(ui, &pi, &v->cv, &xs, &ys, "steps", draw_loss, (void *)L);
    } else {
        axm_ui_text(ui, pi.y + pi.h / 2, pi.x + 2, pi.w - 4, AXM_C_DIM, 0,
                    st == ST_STARTING ? "opening the datasets..." : "no losses yet: press s to start training");
    }

    /* side panel: parameters, checkpoints, events */
    axm_rect si = axm_ui_box(ui, &Ly->pane[2], "Parameters", 0);
    int y = si.y, end = si.y + si.h;
    /* the postfix parameters first and bold, then the rest of the trained selection */
    char pf[256];
    axm_cfg_get(t->cfg, axm_cfg_key_find("train.postfix"), pf, sizeof pf);
    int shown[MAX_SHOWN] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < L->n_params && y < end - 4; i++) {
            if (shown[i]) continue;
            char pat[40];
            snprintf(pat, sizeof pat, "%s", L->names[i]);
            int in_pf = 0;
            for (const char *q = strstr(pf, pat); q; q = strstr(q + 1, pat)) {
                size_t l = strlen(pat);
                if ((q == pf || q[-1] == ' ' || q[-1] == ',') && (q[l] == 0 || q[l] == ',' || q[l] == ' ')) in_pf = 1;
            }
            if (pass == 0 && !in_pf) continue;
            shown[i] = 1;
            axm_ui_textf(ui, y++, si.x + 1, si.w - 2, pass == 0 ? AXM_C_S2 : 0, pass == 0 ? A_BOLD : 0, "%-10s %.6g",
                         L->names[i], L->values[i]);
        }
    if (y < end) axm_ui_textf(ui, y++, si.x, si.w, AXM_C_TITLE, A_BOLD, "Checkpoints (%d)", L->n_ckpt);
    for (int i = L->n_ckpt - 1; i >= 0 && i >= L->n_ckpt - RING && y < end - 2; i--) {
        const char *p = L->ckpt[i % RING], *b = strrchr(p, '/');
        axm_ui_text(ui, y++, si.x + 1, si.w - 2, 0, 0, b ? b + 1 : p);
    }
    if (y < end) axm_ui_textf(ui, y++, si.x, si.w, L->n_nan ? AXM_C_ERROR : AXM_C_TITLE, A_BOLD, "Events (NaN: %d)", L->n_nan);
    for (int i = L->n_events - 1; i >= 0 && i >= L->n_events - RING && y < end; i--)
        axm_ui_text(ui, y++, si.x + 1, si.w - 2, strstr(L->events[i % RING], "NaN") ? AXM_C_ERROR : AXM_C_DIM, 0,
                    L->events[i % RING]);
    pthread_mutex_unlock(&v->mu);
}
