/* F2: every training and scenario key in one list; edit in place, load and save presets. */
#include <curses.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "tui_int.h"
#include "version.h"

enum { MODE_LIST = 0, MODE_EDIT, MODE_SAVEAS, MODE_LOAD, MODE_SEARCH };

#define MAX_PRESETS 64

struct axm_cfg_view {
    int sel, top;             /* selected key, first visible row */
    int mode;
    axm_lineedit ed;
    int n_presets, psel;
    int save_part;            /* AXM_CFG_SCENARIO or AXM_CFG_TRAIN, for save as */
    int check;                /* whole-scenario check: 0 none (no fiber yet), 1 valid, -1 invalid */
    char check_msg[512];
    char presets[MAX_PRESETS][768]; /* paths: presets/NAME or TREE/presets/NAME */
};

static const char *section_of(const char *path, char *buf, size_t n)
{
    static const struct { const char *prefix, *name; } s[] = {
        {"train.", "Training"},      {"model.", "Model"},        {"fiber.", "Fiber"},
        {"electrode.", "Electrode"}, {"waveform.", "Waveform"}, {"sim.", "Simulation"},
        {"detect.", "Spike detection"}, {"threshold.", "Threshold search"},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!strncmp(path, s[i].prefix, strlen(s[i].prefix))) {
            snprintf(buf, n, "%s", s[i].name);
            return buf;
        }
    snprintf(buf, n, "General");
    return buf;
}

/* Validates the scenario part as a whole (cross-key rules such as the keys a waveform kind
 * accepts) with the scenario parser the CLI uses. */
static void recheck(axm_tui *t)
{
    axm_cfg_view *v = t->cv;
    v->check = 0;
    v->check_msg[0] = 0;
    if (!axm_cfg_has(t->cfg, "fiber")) {
        snprintf(v->check_msg, sizeof v->check_msg, "no scenario yet (fiber.nodes and fiber.diameter_um are required)");
        return;
    }
    char *j = axm_cfg_json(t->cfg, AXM_CFG_SCENARIO);
    if (!j) return;
    char dir[512] = ".";
    const char *path = axm_cfg_path(t->cfg, AXM_CFG_SCENARIO);
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    axm_err e;
    axm_err_clear(&e);
    axm_scenario *sc = axm_scenario_parse(j, path[0] ? path : "config", dir, &e);
    free(j);
    if (sc) {
        v->check = 1;
        snprintf(v->check_msg, sizeof v->check_msg, "scenario valid: %d condition(s)", axm_scenario_n_conditions(sc));
        axm_scenario_destroy(sc);
    } else {
        v->check = -1;
        snprintf(v->check_msg, sizeof v->check_msg, "%s", e.msg);
    }
}

axm_cfg_view *axm_cfg_view_create(axm_tui *t)
{
    axm_cfg_view *v = calloc(1, sizeof(axm_cfg_view));
    if (!v) return NULL;
    t->cv = v;
    recheck(t);
    return v;
}

void axm_cfg_view_destroy(axm_cfg_view *v) { free(v); }

/* Display rows: a header before each new section, then the keys. Returns the row of key i. */
static int row_of_key(int i)
{
    int n;
    const axm_cfg_key *k = axm_cfg_keys(&n);
    int row = 0;
    char prev[32] = "", cur[32];
    for (int j = 0; j <= i && j < n; j++) {
        section_of(k[j].path, cur, sizeof cur);
        if (strcmp(cur, prev)) {
            row++;
            snprintf(prev, sizeof prev, "%s", cur);
        }
        if (j < i) row++;
    }
    return row;
}

/* the .json files of presets/ here, else of the axonml tree (started from another folder) */
static void scan_presets(axm_cfg_view *v)
{
    v->n_presets = 0;
    char dir[sizeof v->presets[0] - 256] = "presets";
    DIR *d = opendir(dir);
    if (!d && axm_build_tree()[0]) {
        snprintf(dir, sizeof dir, "%.*s/presets", (int)sizeof dir - 16, axm_build_tree());
        d = opendir(dir);
    }
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && v->n_presets < MAX_PRESETS) {
        size_t l = strlen(e->d_name);
        if (l > 5 && l < 250 && !strcmp(e->d_name + l - 5, ".json"))
            snprintf(v->presets[v->n_presets++], sizeof v->presets[0], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(v->presets, (size_t)v->n_presets, sizeof v->presets[0], (int (*)(const void *, const void *))strcmp);
}

void axm_cfg_view_draw(axm_tui *t)
{
    axm_cfg_view *v = t->cv;
    axm_ui *ui = &t->ui;
    int n;
    const axm_cfg_key *keys = axm_cfg_keys(&n);
    char title[1200];
    const char *ps = axm_cfg_path(t->cfg, AXM_CFG_SCENARIO), *pt = axm_cfg_path(t->cfg, AXM_CFG_TRAIN);
    snprintf(title, sizeof title, "Configuration: scenario %s%s, training %s%s", ps[0] ? ps : "(new)",
             axm_cfg_modified(t->cfg, AXM_CFG_SCENARIO) ? "*" : "", pt[0] ? pt : "(new)",
             axm_cfg_modified(t->cfg, AXM_CFG_TRAIN) ? "*" : "");
    if (axm_cfg_modified(t->cfg, AXM_CFG_ANY)) strncat(title, " [modified]", sizeof title - strlen(title) - 1);
    axm_rect in = axm_ui_box(ui, &t->ui.layout.pane[0], title, 1);
    if (in.h < 3) return;

    /* keep the selection visible */
    int srow = row_of_key(v->sel);
    if (srow < v->top + 1) v->top = srow > 0 ? srow - 1 : 0;
    if (srow >= v->top + in.h) v->top = srow - in.h + 1;

    int kw = 26, vw = in.w / 3;
    if (vw < 20) vw = 20;
    int hx = in.x + 2 + kw + vw + 1;
    int row = 0;
    char prev[32] = "", cur[32], val[512];
    for (int i = 0; i < n; i++) {
        section_of(keys[i].path, cur, sizeof cur);
        if (strcmp(cur, prev)) {
            int y = in.y + row - v->top;
            if (y >= in.y && y < in.y + in.h) axm_ui_text(ui, y, in.x, in.w, AXM_C_TITLE, A_BOLD, cur);
            snprintf(prev, sizeof prev, "%s", cur);
            row++;
        }
        int y = in.y + row - v->top;
        row++;
        if (y < in.y || y >= in.y + in.h) continue;
        const axm_cfg_key *k = &keys[i];
        int sel = i == v->sel;
        int has = axm_cfg_has(t->cfg, k->path);
        const char *shown = strchr(k->path, '.') ? strchr(k->path, '.') + 1 : k->path;
        if (sel) {
            attron(axm_ui_attr(ui, AXM_C_SEL));
            mvhline(y, in.x, ' ', in.w);
            attroff(axm_ui_attr(ui, AXM_C_SEL));
        }
        int mod = axm_cfg_key_modified(t->cfg, k);
        axm_ui_text(ui, y, in.x, 1, AXM_C_WARN, A_BOLD, mod ? "*" : " ");
        axm_ui_text(ui, y, in.x + 2, kw - 1, sel ? AXM_C_SEL : 0, 0, shown);
        if (sel && v->mode == MODE_EDIT) {
            axm_lineedit_draw(&v->ed, y, in.x + 2 + kw, vw);
        } else {
            axm_cfg_get(t->cfg, k, val, sizeof val);
            int pair = sel ? AXM_C_SEL : has ? 0 : AXM_C_DIM;
            axm_ui_text(ui, y, in.x + 2 + kw, vw, pair, has ? A_BOLD : 0, val[0] ? val : "-");
        }
        axm_ui_text(ui, y, hx, in.x + in.w - hx, sel ? AXM_C_SEL : AXM_C_DIM, 0, k->help);
    }

    if (v->check_msg[0]) {
        const axm_rect *p0 = &t->ui.layout.pane[0];
        char b[560];
        snprintf(b, sizeof b, " %s ", v->check_msg);
        axm_ui_text(ui, p0->y + p0->h - 1, p0->x + 2, p0->w - 4, v->check < 0 ? AXM_C_ERROR : v->check > 0 ? AXM_C_OK : AXM_C_DIM,
                    v->check < 0 ? A_BOLD : 0, b);
    }
    if (v->mode == MODE_LOAD) {
        axm_rect box = {in.y + 1, in.x + in.w / 4, v->n_presets + 3, in.w / 2};
        if (box.h > in.h - 1) box.h = in.h - 1;
        axm_ui_fill(&box);
        axm_rect li = axm_ui_box(ui, &box, "Load preset (Enter, Esc)", 1);
        if (!v->n_presets) axm_ui_text(ui, li.y, li.x + 1, li.w - 2, AXM_C_WARN, 0, "no presets/*.json here");
        for (int i = 0; i < v->n_presets && i < li.h; i++)
            axm_ui_text(ui, li.y + i, li.x + 1, li.w - 2, i == v->psel ? AXM_C_SEL : 0, 0, v->presets[i]);
    }
    if (v->mode == MODE_SAVEAS || v->mode == MODE_SEARCH) {
        const axm_rect *m = &ui->layout.msg;
        move(m->y, 0);
        clrtoeol();
        const char *lab = v->mode == MODE_SEARCH ? "Find key:" : v->save_part == AXM_CFG_TRAIN ? "Save training config as:" : "Save scenario as:";
        int lw = (int)strlen(lab) + 2;
        axm_ui_text(ui, m->y, 1, lw, AXM_C_TITLE, A_BOLD, lab);
        axm_lineedit_draw(&v->ed, m->y, lw + 1, ui->cols - lw - 3);
    }
}

static void save_to(axm_tui *t, int part, const char *path)
{
    axm_err e;
    axm_err_clear(&e);
    if (axm_cfg_save(t->cfg, part, path, &e) == AXM_OK)
        axm_ui_msg(&t->ui, AXM_C_OK, "saved %s (%s)", path, part == AXM_CFG_TRAIN ? "training config" : "scenario");
    else
        axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", e.msg);
}

int axm_cfg_view_key(axm_tui *t, int ch)
{
    axm_cfg_view *v = t->cv;
    int n;
    const axm_cfg_key *keys = axm_cfg_keys(&n);
    const axm_cfg_key *k = &keys[v->sel];
    axm_err e;
    axm_err_clear(&e);
    if (ch >= KEY_F(1) && ch <= KEY_F(12) && v->mode != MODE_LIST) {
        /* function keys always switch views, as in htop: leave the editor first */
        v->mode = MODE_LIST;
        v->ed.active = 0;
        return 0;
    }
    if (v->mode == MODE_EDIT) {
        int r = axm_lineedit_key(&v->ed, ch);
        if (r == -1) {
            v->mode = MODE_LIST;
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "edit cancelled");
        } else if (r == 1) {
            if (axm_cfg_set(t->cfg, k, v->ed.buf, &e) == AXM_OK) {
                v->mode = MODE_LIST;
                recheck(t);
                if (v->check < 0 && !axm_cfg_key_is_train(k))
                    axm_ui_msg(&t->ui, AXM_C_WARN, "%s set, but the scenario is not valid: %s", k->path, v->check_msg);
                else
                    axm_ui_msg(&t->ui, AXM_C_OK, "%s set", k->path);
                axm_tui_update_status(t);
                axm_explore_view_config_changed(t);
            } else {
                /* refused in place: stay in the editor with the reason shown */
                v->ed.active = 1;
                axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", e.msg);
            }
        }
        return 1;
    }
    if (v->mode == MODE_SAVEAS) {
        int r = axm_lineedit_key(&v->ed, ch);
        if (r == -1) v->mode = MODE_LIST;
        if (r == 1) {
            v->mode = MODE_LIST;
            if (v->ed.buf[0]) save_to(t, v->save_part, v->ed.buf);
        }
        return 1;
    }
    if (v->mode == MODE_SEARCH) {
        int r = axm_lineedit_key(&v->ed, ch);
        if (r == -1) v->mode = MODE_LIST;
        if (r == 1) {
            v->mode = MODE_LIST;
            /* the next key (after the selection, wrapping) whose path contains the text */
            for (int i = 1; v->ed.buf[0] && i <= n; i++) {
                int j = (v->sel + i) % n;
                if (strstr(keys[j].path, v->ed.buf)) {
                    v->sel = j;
                    return 1;
                }
            }
            axm_ui_msg(&t->ui, AXM_C_WARN, "no key matches '%s'", v->ed.buf);
        }
        return 1;
    }
    if (v->mode == MODE_LOAD) {
        if (ch == KEY_UP && v->psel > 0) v->psel--;
        else if (ch == KEY_DOWN && v->psel + 1 < v->n_presets) v->psel++;
        else if (ch == AXM_KEY_ESC) v->mode = MODE_LIST;
        else if ((ch == '\n' || ch == '\r' || ch == KEY_ENTER) && v->n_presets) {
            v->mode = MODE_LIST;
            int part = 0;
            if (axm_cfg_load(t->cfg, v->presets[v->psel], &part, &e) == AXM_OK) {
                axm_ui_msg(&t->ui, AXM_C_OK, "loaded %s as the %s", v->presets[v->psel],
                           part == AXM_CFG_TRAIN ? "training config" : "scenario");
                recheck(t);
                axm_tui_update_status(t);
                axm_explore_view_config_changed(t);
            } else {
                axm_ui_msg(&t->ui, AXM_C_ERROR, "%s", e.msg);
            }
        } else if (ch == 'q') {
            v->mode = MODE_LIST;
        }
        return 1;
    }
    int page = t->ui.layout.pane[0].h - 3;
    if (page < 1) page = 1;
    switch (ch) {
    case KEY_UP: case 'k': if (v->sel > 0) v->sel--; return 1;
    case KEY_DOWN: case 'j': if (v->sel + 1 < n) v->sel++; return 1;
    case KEY_PPAGE: v->sel = v->sel > page ? v->sel - page : 0; return 1;
    case KEY_NPAGE: v->sel = v->sel + page < n ? v->sel + page : n - 1; return 1;
    case KEY_HOME: v->sel = 0; return 1;
    case KEY_END: v->sel = n - 1; return 1;
    case '\n': case '\r': case KEY_ENTER: case 'e': {
        char val[256];
        axm_cfg_get(t->cfg, k, val, sizeof val);
        axm_lineedit_begin(&v->ed, val);
        v->mode = MODE_EDIT;
        axm_ui_msg(&t->ui, AXM_C_NORMAL, "%s: %s (Enter accepts, Esc cancels)", k->path, k->help);
        return 1;
    }
    case KEY_DC: case 'd':
        axm_cfg_unset(t->cfg, k);
        axm_ui_msg(&t->ui, AXM_C_NORMAL, "%s reset to its default", k->path);
        recheck(t);
        axm_tui_update_status(t);
        axm_explore_view_config_changed(t);
        return 1;
    case 's': case 'S': {
        /* the document of the selected key: the scenario or the training config */
        int part = axm_cfg_key_part(k);
        const char *p = axm_cfg_path(t->cfg, part);
        if (ch == 's' && p[0]) {
            save_to(t, part, p);
            return 1;
        }
        v->save_part = part;
        const char *dflt = part == AXM_CFG_TRAIN ? "presets/my-train.json" : "presets/my.json";
        if (access("presets", W_OK) != 0) dflt += strlen("presets/"); /* started outside the tree */
        axm_lineedit_begin(&v->ed, p[0] ? p : dflt);
        v->mode = MODE_SAVEAS;
        axm_ui_msg(&t->ui, AXM_C_NORMAL, " ");
        return 1;
    }
    case '/':
        axm_lineedit_begin(&v->ed, "");
        v->mode = MODE_SEARCH;
        return 1;
    case 'l':
        scan_presets(v);
        v->psel = 0;
        v->mode = MODE_LOAD;
        return 1;
    case KEY_MOUSE: {
        unsigned long b = t->ui.mouse_bstate;
        if ((b & BUTTON4_PRESSED) && v->sel > 0) v->sel--;
        if ((b & BUTTON5_PRESSED) && v->sel + 1 < n) v->sel++;
        return 1;
    }
    default:
        return 0;
    }
}
