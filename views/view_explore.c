/* F4: interactive stimulus editor with waveform preview, AP raster (node x time) and vm traces.
 * Runs happen in a worker thread (explore.h); any change re-runs after a short debounce. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explore.h"
#include "fileio.h"
#include "model.h"
#include "scenario.h"
#include "thresh.h"
#include "tui_int.h"
#include "wave.h"

#define DEBOUNCE_S 0.04

enum { R_MODEL = 0, R_WAVE, R_AMP, R_POL, R_PW, R_DELAY, R_FREQ, R_GAP, R_DIST, R_OFFSET, R_DIAM,
       R_NODES, R_TRACES, N_ROWS };

struct axm_explore_view {
    axm_ex_params p;
    int sel;
    axm_lineedit ed;
    axm_ex_worker *worker;
    axm_ex_result res;
    int have_res;
    double due;             /* when a debounced re-run is due (0: none) */
    long last_gen;
    int running_threshold;
    axm_canvas *wave_cv, *trace_cv;
    char cfg_note[128];     /* why the configuration's model was not taken */
    char last_msg[256];     /* the message line as this view last set it */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A file named in a scenario, by the scenario loader's rule (axm_find_file). Returns 1 and the
 * path found. */
static int resolve(const char *name, const char *scenario, char *out, size_t n)
{
    char dir[512] = "";
    if (scenario[0]) axm_folder_of(scenario, dir, sizeof dir);
    return axm_find_file(name, dir, out, n);
}

/* Set-up from the configuration's scenario keys that are present. The model is taken only when it
 * rests (MRG, or a surrogate with trained weights): the untrained S-MF fires spontaneously. */
static void params_from_cfg(axm_explore_view *v, const axm_cfg *c)
{
    axm_ex_params *p = &v->p;
    char b[512];
    v->cfg_note[0] = 0;
    if (axm_cfg_has(c, "model.name")) {
        axm_cfg_get(c, axm_cfg_key_find("model.name"), b, sizeof b);
        char w[512] = "", path[1100] = "";
        if (axm_cfg_has(c, "model.weights")) axm_cfg_get(c, axm_cfg_key_find("model.weights"), w, sizeof w);
        int take = !strcmp(b, "mrg");
        if (!take && w[0]) {
            axm_err e;
            axm_model *m = axm_model_create(b, &e);
            const char *base = strrchr(w, '/') ? strrchr(w, '/') + 1 : w;
            if (!resolve(w, axm_cfg_path(c, AXM_CFG_SCENARIO), path, sizeof path))
                snprintf(v->cfg_note, sizeof v->cfg_note, "%.60s missing", base);
            else if (m && axm_model_load_weights(m, path, &e) == AXM_OK && m->trained)
                take = 1;
            else
                snprintf(v->cfg_note, sizeof v->cfg_note, "%.60s untrained", base);
            axm_model_destroy(m);
        } else if (!take) {
            snprintf(v->cfg_note, sizeof v->cfg_note, "%.40s without weights is untrained", b);
        }
        if (take && axm_model_kind_find(b)) {
            snprintf(p->model, sizeof p->model, "%.15s", b);
            snprintf(p->weights, sizeof p->weights, "%.500s", path);
            /* the precision belongs to the model it was chosen for */
            if (axm_cfg_has(c, "model.precision"))
                axm_cfg_get(c, axm_cfg_key_find("model.precision"), p->precision, sizeof p->precision);
        }
    }
    p->nodes = (int)axm_cfg_num(c, "fiber.nodes", p->nodes);
    p->diam_um = axm_cfg_num(c, "fiber.diameter_um", p->diam_um);
    p->dist_mm = axm_cfg_num(c, "electrode.distance_mm", p->dist_mm);
    p->offset_mm = axm_cfg_num(c, "electrode.offset_mm", p->offset_mm);
    if (axm_cfg_has(c, "electrode.kind")) {
        axm_cfg_get(c, axm_cfg_key_find("electrode.kind"), b, sizeof b);
        if (!strcmp(b, "point")) p->rho_ohm_cm = axm_cfg_num(c, "electrode.rho_ohm_cm", p->rho_ohm_cm);
    } else {
        p->rho_ohm_cm = axm_cfg_num(c, "electrode.rho_ohm_cm", p->rho_ohm_cm);
    }
    if (axm_cfg_has(c, "waveform.kind")) {
        axm_cfg_get(c, axm_cfg_key_find("waveform.kind"), b, sizeof b);
        for (int k = 0; k < AXM_EX_N_WAVES; k++)
            if (!strcmp(b, axm_ex_wave_name(k))) p->wave = k;
    }
    p->amp_mA = axm_cfg_num(c, "waveform.amplitude_mA", p->amp_mA);
    p->pw_ms = axm_cfg_num(c, "waveform.pw_ms", p->pw_ms);
    p->delay_ms = axm_cfg_num(c, "waveform.delay_ms", p->delay_ms);
    p->freq_khz = axm_cfg_num(c, "waveform.freq_khz", p->freq_khz);
    p->gap_ms = axm_cfg_num(c, "waveform.gap_ms", p->gap_ms);
    if (axm_cfg_has(c, "waveform.polarity")) {
        axm_cfg_get(c, axm_cfg_key_find("waveform.polarity"), b, sizeof b);
        p->anodic = !strncmp(b, "anodic", 6);
    }
    p->dt_ms = axm_cfg_num(c, "sim.dt_ms", p->dt_ms);
    p->tstop_ms = axm_cfg_num(c, "sim.tstop_ms", p->tstop_ms);
    p->threshold_mV = axm_cfg_num(c, "detect.threshold_mV", p->threshold_mV);
}

axm_explore_view *axm_explore_view_create(axm_tui *t)
{
    axm_explore_view *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    axm_ex_params_default(&v->p);
    params_from_cfg(v, t->cfg);
    v->worker = axm_ex_worker_create();
    if (!v->worker) {
        free(v);
        return NULL;
    }
    v->due = now_s(); /* first picture right away */
    v->sel = R_AMP;
    return v;
}

void axm_explore_view_destroy(axm_explore_view *v)
{
    if (!v) return;
    axm_ex_worker_destroy(v->worker);
    axm_ex_result_free(&v->res);
    axm_canvas_destroy(v->wave_cv);
    axm_canvas_destroy(v->trace_cv);
    free(v);
}

void axm_explore_view_config_changed(axm_tui *t)
{
    params_from_cfg(t->ev, t->cfg);
    t->ev->due = now_s() + DEBOUNCE_S;
}

static int row_applies(const axm_ex_params *p, int r)
{
    switch (r) {
    case R_PW: return p->wave != AXM_EX_SINE;
    case R_FREQ: return p->wave == AXM_EX_SINE || p->wave == AXM_EX_TRAIN;
    case R_GAP: return p->wave == AXM_EX_BIPHASIC;
    default: return 1;
    }
}

static void row_text(const axm_ex_params *p, int r, const char **label, char *val, size_t n)
{
    static const char *const labels[N_ROWS] = {"model", "waveform", "amplitude", "polarity", "pulse width",
                                               "delay", "frequency", "interphase gap", "distance",
                                               "offset", "fiber diameter", "nodes", "traced nodes"};
    *label = labels[r];
    switch (r) {
    case R_MODEL: snprintf(val, n, "%s", !strcmp(p->model, "smf") ? "S-MF" : !strcmp(p->model, "mrg") ? "MRG" : "Sundt"); break;
    case R_WAVE: snprintf(val, n, "%s", p->wave == AXM_EX_TRAIN ? "pulse train" : p->wave == AXM_EX_SINE ? "sinusoid" : axm_ex_wave_name(p->wave)); break;
    case R_AMP: snprintf(val, n, "%.4g mA", p->amp_mA); break;
    case R_POL: snprintf(val, n, "%s", p->anodic ? "anodic" : "cathodic"); break;
    case R_PW: snprintf(val, n, "%.4g ms", p->pw_ms); break;
    case R_DELAY: snprintf(val, n, "%.4g ms", p->delay_ms); break;
    case R_FREQ: snprintf(val, n, "%.4g kHz", p->freq_khz); break;
    case R_GAP: snprintf(val, n, "%.4g ms", p->gap_ms); break;
    case R_DIST: snprintf(val, n, "%.4g mm", p->dist_mm); break;
    case R_OFFSET: snprintf(val, n, "%.4g mm", p->offset_mm); break;
    case R_DIAM: snprintf(val, n, "%.4g um", p->diam_um); break;
    case R_NODES: snprintf(val, n, "%d", p->nodes); break;
    default: {
        val[0] = 0;
        for (int i = 0; i < p->n_trace; i++) {
            char one[16];
            snprintf(one, sizeof one, i ? ",%d" : "%d", p->trace_nodes[i]);
            strncat(val, one, n - strlen(val) - 1);
        }
        break;
    }
    }
}

static void cycle_model(axm_ex_params *p, int dir)
{
    static const char *const m[] = {"mrg", "smf", "sundt"};
    int i = 0;
    for (int k = 0; k < 3; k++)
        if (!strcmp(p->model, m[k])) i = k;
    /* the next kind this library has */
    for (int tries = 0; tries < 3; tries++) {
        i = (i + dir + 3) % 3;
        if (axm_model_kind_find(m[i])) break;
    }
    snprintf(p->model, sizeof p->model, "%s", m[i]);
    p->weights[0] = 0; /* the preset's weights belong to the preset's model */
    /* MRG is stiff in fp32; the surrogates were trained for fp32 inference */
    snprintf(p->precision, sizeof p->precision, "%s", i == 0 ? "fp64" : "fp32");
}

/* Left/right on a row: enums cycle, magnitudes scale by 1.25, positions step. */
static void adjust(axm_ex_params *p, int r, int dir)
{
    double f = dir > 0 ? 1.25 : 1 / 1.25;
    switch (r) {
    case R_MODEL: cycle_model(p, dir); break;
    case R_WAVE: p->wave = (p->wave + dir + AXM_EX_N_WAVES) % AXM_EX_N_WAVES; break;
    case R_AMP: p->amp_mA *= f; break;
    case R_POL: p->anodic = !p->anodic; break;
    case R_PW: p->pw_ms *= f; break;
    case R_DELAY: p->delay_ms = fmax(0, p->delay_ms + 0.1 * dir); break;
    case R_FREQ: p->freq_khz *= f; break;
    case R_GAP: p->gap_ms = fmax(0, p->gap_ms + 0.05 * dir); break;
    case R_DIST: p->dist_mm *= f; break;
    case R_OFFSET: p->offset_mm += 0.1 * dir; break;
    case R_DIAM: p->diam_um = fmax(1, p->diam_um + 0.5 * dir); break;
    case R_NODES: p->nodes = p->nodes + 2 * dir < 5 ? 5 : p->nodes + 2 * dir; break;
    default: break;
    }
}

/* Typed value for a row; returns an error text or NULL. */
static const char *set_typed(axm_ex_params *p, int r, const char *s)
{
    char *end;
    if (r == R_TRACES) {
        axm_ex_params q = *p;
        q.n_trace = 0;
        const char *c = s;
        while (*c && q.n_trace < AXM_EX_MAX_TRACES) {
            long n = strtol(c, &end, 10);
            if (end == c) return "traced nodes: expected up to 4 node indices separated by commas (negative: from the end)";
            q.trace_nodes[q.n_trace++] = (int)n;
            c = end;
            while (*c == ',' || *c == ' ') c++;
        }
        if (*c) return "traced nodes: at most 4 nodes";
        *p = q;
        return NULL;
    }
    if (r == R_MODEL) {
        if (!strcmp(s, "mrg") || !strcmp(s, "smf") || !strcmp(s, "sundt")) {
            snprintf(p->model, sizeof p->model, "%.15s", s);
            p->weights[0] = 0;
            return NULL;
        }
        return "model: expected one of mrg, smf, sundt";
    }
    if (r == R_WAVE) {
        for (int k = 0; k < AXM_EX_N_WAVES; k++)
            if (!strcmp(s, axm_ex_wave_name(k))) {
                p->wave = k;
                return NULL;
            }
        return "waveform: expected one of mono, biphasic, sine, train";
    }
    if (r == R_POL) {
        if (!strcmp(s, "cathodic") || !strcmp(s, "anodic")) {
            p->anodic = s[0] == 'a';
            return NULL;
        }
        return "polarity: expected cathodic or anodic";
    }
    double x = strtod(s, &end);
    while (*end == ' ') end++;
    if (end == s || !isfinite(x)) return "expected a number";
    /* units typed after the number are tolerated */
    switch (r) {
    case R_AMP: if (x < 0) return "amplitude: expected a number >= 0 (mA; the sign is the polarity)"; p->amp_mA = x; break;
    case R_PW: if (x <= 0) return "pulse width: expected a number > 0 (ms)"; p->pw_ms = x; break;
    case R_DELAY: if (x < 0) return "delay: expected a number >= 0 (ms)"; p->delay_ms = x; break;
    case R_FREQ: if (x <= 0) return "frequency: expected a number > 0 (kHz)"; p->freq_khz = x; break;
    case R_GAP: if (x < 0) return "interphase gap: expected a number >= 0 (ms)"; p->gap_ms = x; break;
    case R_DIST: if (x <= 0) return "distance: expected a number > 0 (mm)"; p->dist_mm = x; break;
    case R_OFFSET: p->offset_mm = x; break;
    case R_DIAM: if (x <= 0) return "fiber diameter: expected a number > 0 (um)"; p->diam_um = x; break;
    case R_NODES: if (x < 5 || x != floor(x) || x > 1001) return "nodes: expected an integer in [5, 1001]"; p->nodes = (int)x; break;
    default: break;
    }
    return NULL;
}

static void submit(axm_explore_view *v, int threshold)
{
    v->last_gen = axm_ex_worker_submit(v->worker, &v->p, threshold);
    v->running_threshold = threshold;
    v->due = 0;
}

int axm_explore_view_tick(axm_tui *t)
{
    axm_explore_view *v = t->ev;
    int redraw = 0;
    if (v->due > 0 && now_s() >= v->due) {
        submit(v, 0);
        redraw = 1;
    }
    if (axm_ex_worker_poll(v->worker, &v->res)) {
        v->have_res = 1;
        if (!v->res.ok)
            axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", v->res.msg);
        else if (v->res.threshold && v->res.thresh_status == AXM_TH_OK)
            axm_ui_msg(&t->ui, AXM_C_OK, "threshold %.4g mA (%.0f ms); the raster shows the fiber at threshold",
                       v->res.thresh_mA, v->res.elapsed_ms);
        else if (v->res.threshold)
            axm_ui_msg(&t->ui, AXM_C_ERROR, "threshold search: %s", axm_thresh_status_name(v->res.thresh_status));
        else if (!strcmp(t->ui.msg, v->last_msg) || !strcmp(t->ui.msg, "running..."))
            /* only a message of this view's own is replaced (an error of another view stays) */
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "%s", v->res.note[0] ? v->res.note : " ");
        snprintf(v->last_msg, sizeof v->last_msg, "%s", t->ui.msg);
        redraw = 1;
    }
    return redraw;
}

int axm_explore_view_key(axm_tui *t, int ch)
{
    axm_explore_view *v = t->ev;
    if (v->ed.active && ch >= KEY_F(1) && ch <= KEY_F(12)) {
        v->ed.active = 0; /* function keys always switch views */
        return 0;
    }
    if (v->ed.active) {
        int r = axm_lineedit_key(&v->ed, ch);
        if (r == 1) {
            const char *e = set_typed(&v->p, v->sel, v->ed.buf);
            if (e) {
                v->ed.active = 1; /* refused in place */
                axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", e);
            } else {
                axm_ui_msg(&t->ui, AXM_C_NORMAL, " ");
                v->due = now_s() + DEBOUNCE_S;
            }
        }
        return 1;
    }
    switch (ch) {
    case KEY_UP: case 'k': v->sel = (v->sel + N_ROWS - 1) % N_ROWS; return 1;
    case KEY_DOWN: case 'j': v->sel = (v->sel + 1) % N_ROWS; return 1;
    case KEY_LEFT: case '-': case KEY_RIGHT: case '+': case '=':
        if (v->sel == R_TRACES) return 1;
        adjust(&v->p, v->sel, ch == KEY_LEFT || ch == '-' ? -1 : 1);
        v->due = now_s() + DEBOUNCE_S;
        return 1;
    case '\n': case '\r': case KEY_ENTER: case 'e': {
        const char *label;
        char val[128];
        row_text(&v->p, v->sel, &label, val, sizeof val);
        char *sp = strchr(val, ' ');
        if (sp && v->sel != R_WAVE) *sp = 0; /* edit the number without its unit */
        if (v->sel == R_MODEL) snprintf(val, sizeof val, "%s", v->p.model);
        if (v->sel == R_WAVE) snprintf(val, sizeof val, "%s", axm_ex_wave_name(v->p.wave));
        axm_lineedit_begin(&v->ed, val);
        axm_ui_msg(&t->ui, AXM_C_NORMAL, "%s: type a value, Enter accepts, Esc cancels", label);
        return 1;
    }
    case 'm': adjust(&v->p, R_MODEL, 1); v->due = now_s() + DEBOUNCE_S; return 1;
    case 'w': adjust(&v->p, R_WAVE, 1); v->due = now_s() + DEBOUNCE_S; return 1;
    case 'n': {
        v->sel = R_TRACES;
        const char *label;
        char val[128];
        row_text(&v->p, v->sel, &label, val, sizeof val);
        axm_lineedit_begin(&v->ed, val);
        axm_ui_msg(&t->ui, AXM_C_NORMAL, "traced nodes: up to 4, comma separated, negative from the end");
        return 1;
    }
    case KEY_MOUSE: {
        /* click a row to select it; the wheel moves the selection */
        const axm_rect *p0 = &t->ui.layout.pane[0];
        int row = t->ui.mouse_y - p0->y - 1;
        if ((t->ui.mouse_bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) && t->ui.mouse_x >= p0->x &&
            t->ui.mouse_x < p0->x + p0->w && row >= 0 && row < N_ROWS)
            v->sel = row;
        if (t->ui.mouse_bstate & BUTTON4_PRESSED) v->sel = (v->sel + N_ROWS - 1) % N_ROWS;
        if (t->ui.mouse_bstate & BUTTON5_PRESSED) v->sel = (v->sel + 1) % N_ROWS;
        return 1;
    }
    case 'r': submit(v, 0); axm_ui_msg(&t->ui, AXM_C_NORMAL, "running..."); return 1;
    case 't': submit(v, 1); axm_ui_msg(&t->ui, AXM_C_NORMAL, "searching the threshold..."); return 1;
    default: return 0;
    }
}

/* ---- drawing ---- */

typedef struct { const double *t, *y; long n; int color; } series;

static void draw_wave(void *ud, axm_canvas *c, const axm_scale *xs, const axm_scale *ys)
{
    const series *s = ud;
    /* the zero line, dotted */
    int y0 = axm_scale_px(ys, 0, c->px_h);
    for (int x = 0; x < c->px_w; x += 4) axm_canvas_set(c, x, y0, 4);
    axm_canvas_plot(c, s->t, s->y, s->n, xs, ys, s->color);
}

typedef struct { const axm_ex_result *r; } traces_ud;

static void draw_traces(void *ud, axm_canvas *c, const axm_scale *xs, const axm_scale *ys)
{
    const axm_ex_result *r = ((const traces_ud *)ud)->r;
    int y0 = axm_scale_px(ys, 0, c->px_h);
    for (int x = 0; x < c->px_w; x += 4) axm_canvas_set(c, x, y0, 4);
    for (int j = 0; j < r->n_trace; j++) axm_canvas_plot(c, r->t_ms, r->vm + (size_t)j * r->n_frames, r->n_frames, xs, ys, j + 1);
}

static void draw_params(axm_tui *t, const axm_rect *pane)
{
    axm_explore_view *v = t->ev;
    axm_ui *ui = &t->ui;
    axm_rect in = axm_ui_box(ui, pane, "Stimulus set-up", 1);
    int y = in.y;
    for (int r = 0; r < N_ROWS && y < in.y + in.h; r++, y++) {
        const char *label;
        char val[128];
        row_text(&v->p, r, &label, val, sizeof val);
        int sel = r == v->sel, on = row_applies(&v->p, r);
        if (sel) {
            attron(axm_ui_attr(ui, AXM_C_SEL));
            mvhline(y, in.x, ' ', in.w);
            attroff(axm_ui_attr(ui, AXM_C_SEL));
        }
        int pair = sel ? AXM_C_SEL : on ? 0 : AXM_C_DIM;
        axm_ui_text(ui, y, in.x + 1, 15, pair, 0, label);
        if (sel && v->ed.active)
            axm_lineedit_draw(&v->ed, y, in.x + 16, in.w - 17);
        else
            axm_ui_text(ui, y, in.x + 16, in.w - 17, pair, on ? A_BOLD : 0, on ? val : "-");
    }
    y++;
    /* results */
    const axm_ex_result *r = &v->res;
    int busy = axm_ex_worker_busy(v->worker) || v->due > 0;
    if (busy) axm_ui_text(ui, y, in.x + 1, in.w - 2, AXM_C_WARN, 0, v->running_threshold ? "threshold search..." : "running...");
    else if (v->have_res && r->ok) axm_ui_textf(ui, y, in.x + 1, in.w - 2, AXM_C_DIM, 0, "run %.0f ms", r->elapsed_ms);
    y++;
    if (v->have_res && r->ok && r->threshold && y < in.y + in.h) {
        if (r->thresh_status == AXM_TH_OK)
            axm_ui_textf(ui, y, in.x + 1, in.w - 2, AXM_C_OK, A_BOLD, "threshold %.4g mA", r->thresh_mA);
        else
            axm_ui_textf(ui, y, in.x + 1, in.w - 2, AXM_C_ERROR, A_BOLD, "threshold: %s", axm_thresh_status_name(r->thresh_status));
        y++;
    }
    int untrained_file = v->p.weights[0] && v->have_res && v->res.ok && strstr(v->res.note, "UNTRAINED");
    if (strcmp(v->p.model, "mrg") && (!v->p.weights[0] || untrained_file) && y < in.y + in.h) {
        axm_ui_text(ui, y++, in.x + 1, in.w - 2, AXM_C_ERROR, A_BOLD, "UNTRAINED weights:");
        if (y < in.y + in.h)
            axm_ui_text(ui, y++, in.x + 1, in.w - 2, AXM_C_ERROR, 0,
                        !strcmp(v->p.model, "smf") ? "fires without stimulus" : "default parameters");
    }
    if (v->cfg_note[0] && y + 1 < in.y + in.h) {
        axm_ui_text(ui, y++, in.x + 1, in.w - 2, AXM_C_WARN, 0, "config model not used:");
        axm_ui_text(ui, y++, in.x + 1, in.w - 2, AXM_C_WARN, 0, v->cfg_note);
    }
    if (y < in.y + in.h) axm_ui_text(ui, in.y + in.h - 1, in.x + 1, in.w - 2, AXM_C_DIM, 0, "r run  t threshold  m model");
}

static void draw_preview(axm_tui *t, const axm_rect *pane)
{
    axm_explore_view *v = t->ev;
    axm_rect in = axm_ui_box(&t->ui, pane, "Waveform (mA)", 0);
    const axm_ex_params *p = &v->p;
    axm_wave w;
    memset(&w, 0, sizeof w);
    w.kind = p->wave == AXM_EX_SINE ? AXM_WAVE_SINE : p->wave == AXM_EX_TRAIN ? AXM_WAVE_TRAIN
             : p->wave == AXM_EX_BIPHASIC ? AXM_WAVE_BIPHASIC : AXM_WAVE_MONO;
    w.amp_mA = p->anodic ? p->amp_mA : -p->amp_mA;
    w.pw_ms = p->pw_ms;
    w.gap_ms = p->gap_ms;
    w.delay_ms = p->delay_ms;
    w.freq_khz = p->freq_khz;
    long n = (long)(p->tstop_ms / p->dt_ms + 0.5);
    if (n < 2 || n > 10000000) return;
    double *y = malloc(sizeof(double) * (size_t)n), *x = malloc(sizeof(double) * (size_t)n);
    axm_err e;
    if (y && x && axm_wave_sample(&w, p->dt_ms, n, y, &e) == AXM_OK) {
        for (long k = 0; k < n; k++) x[k] = k * p->dt_ms;
        /* the range of the samples and zero, so that a one-sided pulse fills the pane */
        double lo = 0, hi = 0;
        for (long k = 0; k < n; k++) {
            if (y[k] < lo) lo = y[k];
            if (y[k] > hi) hi = y[k];
        }
        if (hi - lo <= 0) {
            lo = -1;
            hi = 1;
        }
        double pad = 0.1 * (hi - lo);
        axm_scale xs = {0, p->tstop_ms, 0}, ys = {lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0, 0};
        series s = {x, y, n, 2};
        axm_ui_plot(&t->ui, &in, &v->wave_cv, &xs, &ys, "ms", draw_wave, &s);
    } else if (y && x) {
        axm_ui_text(&t->ui, in.y, in.x + 1, in.w - 2, AXM_C_ERROR, 0, e.msg);
    }
    free(x);
    free(y);
}

static void draw_raster(axm_tui *t, const axm_rect *pane)
{
    axm_explore_view *v = t->ev;
    axm_ui *ui = &t->ui;
    const axm_ex_result *r = &v->res;
    char title[160];
    if (v->have_res && r->ok)
        snprintf(title, sizeof title, "Raster: %d nodes x %g ms, %ld spikes%s", r->W, r->tstop_ms, r->n_spikes,
                 r->threshold && r->thresh_status == AXM_TH_OK ? " (at threshold)" : "");
    else
        snprintf(title, sizeof title, "Raster (node x time)");
    axm_rect in = axm_ui_box(ui, pane, title, 0);
    if (!v->have_res || !r->ok || in.h < 2) return;
    const int lw = 4;
    int rows = in.h - 1 < r->W ? in.h - 1 : r->W;
    int cols = in.w - lw;
    if (rows < 1 || cols < 2) return;
    int *cnt = calloc((size_t)rows * cols, sizeof(int));
    if (!cnt) return;
    axm_raster_bin(r->spk_node, r->spk_t, r->n_spikes, r->W, r->tstop_ms, rows, cols, cnt);
    int a = axm_ui_attr(ui, AXM_C_S3) | A_BOLD;
    for (int i = 0; i < rows; i++) {
        move(in.y + i, in.x + lw);
        for (int c = 0; c < cols; c++) {
            if (cnt[i * cols + c]) {
                attron(a);
                addch(cnt[i * cols + c] > 1 ? '#' : '|');
                attroff(a);
            } else {
                addch(' ');
            }
        }
    }
    free(cnt);
    char b[32];
    axm_ui_textf(ui, in.y, in.x, lw - 1, AXM_C_DIM, 0, "%3d", 0);
    axm_ui_textf(ui, in.y + rows - 1, in.x, lw - 1, AXM_C_DIM, 0, "%3d", r->W - 1);
    int yl = in.y + rows;
    axm_ui_text(ui, yl, in.x + lw, 2, AXM_C_DIM, 0, "0");
    snprintf(b, sizeof b, "%g ms", r->tstop_ms);
    int n = (int)strlen(b);
    axm_ui_text(ui, yl, in.x + in.w - n, n, AXM_C_DIM, 0, b);
    if (r->n_spikes == 0) axm_ui_text(ui, in.y + rows / 2, in.x + lw + cols / 2 - 6, 14, AXM_C_DIM, 0, "(no spikes)");
}

static void draw_traces_pane(axm_tui *t, const axm_rect *pane)
{
    axm_explore_view *v = t->ev;
    const axm_ex_result *r = &v->res;
    char title[128] = "vm (mV)";
    for (int j = 0; v->have_res && r->ok && j < r->n_trace; j++) {
        char one[24];
        snprintf(one, sizeof one, " %c n%d", "~*+o"[j], r->trace_nodes[j]);
        strncat(title, one, sizeof title - strlen(title) - 1);
    }
    axm_rect in = axm_ui_box(&t->ui, pane, title, 0);
    /* legend colours: the series colours of the title's markers */
    if (!v->have_res || !r->ok || !r->n_frames) return;
    axm_scale xs = {0, r->tstop_ms, 0}, ys;
    axm_scale_fit(&ys, r->vm, (long)r->n_trace * r->n_frames, 0);
    if (ys.lo > -100) ys.lo = -100;
    if (ys.hi < 50) ys.hi = 50;
    traces_ud ud = {r};
    axm_ui_plot(&t->ui, &in, &v->trace_cv, &xs, &ys, "ms", draw_traces, &ud);
}

void axm_explore_view_draw(axm_tui *t)
{
    const axm_layout *L = &t->ui.layout;
    draw_params(t, &L->pane[0]);
    draw_preview(t, &L->pane[1]);
    draw_raster(t, &L->pane[2]);
    draw_traces_pane(t, &L->pane[3]);
}

void axm_explore_view_use_weights(axm_tui *t, const char *kind, const char *path)
{
    axm_explore_view *v = t->ev;
    snprintf(v->p.model, sizeof v->p.model, "%.15s", kind);
    snprintf(v->p.weights, sizeof v->p.weights, "%.500s", path);
    snprintf(v->p.precision, sizeof v->p.precision, "fp32");
    v->due = now_s() + DEBOUNCE_S;
}

void axm_explore_view_status(axm_tui *t)
{
    axm_explore_view *v = t->ev;
    snprintf(t->ui.model, sizeof t->ui.model, "%s", v->p.model);
    if (v->p.weights[0]) {
        /* trained or not is known once a run has loaded the file */
        const char *b = strrchr(v->p.weights, '/');
        int untrained = v->have_res && v->res.ok && strstr(v->res.note, "UNTRAINED");
        snprintf(t->ui.weights, sizeof t->ui.weights, "%.70s%s", b ? b + 1 : v->p.weights,
                 untrained ? " UNTRAINED" : v->have_res && v->res.ok ? " (trained)" : "");
    } else {
        snprintf(t->ui.weights, sizeof t->ui.weights, "%s", strcmp(v->p.model, "mrg") ? "UNTRAINED" : "(ground truth)");
    }
    snprintf(t->ui.precision, sizeof t->ui.precision, "%s", v->p.precision);
}
