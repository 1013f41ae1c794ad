/* F2: every training and scenario key in one list; edit in place, load and save presets. */
#include <curses.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_int.h"

enum { MODE_LIST = 0, MODE_EDIT, MODE_SAVEAS, MODE_LOAD };

#define MAX_PRESETS 64

struct axm_cfg_view {
    int sel, top;             /* selected key, first visible row */
    int mode;
    axm_lineedit ed;
    int n_presets, psel;
    char presets[MAX_PRESETS][sizeof "presets/" + 256];
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

axm_cfg_view *axm_cfg_view_create(axm_tui *t)
{
    (void)t;
    return calloc(1, sizeof(axm_cfg_view));
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

static void scan_presets(axm_cfg_view *v)
{
    v->n_presets = 0;
    DIR *d = opendir("presets");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && v->n_presets < MAX_PRESETS) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json"))
            snprintf(v->presets[v->n_presets++], sizeof v->presets[0], "presets/%s", e->d_name);
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
    char title[640];
    const char *path = axm_cfg_path(t->cfg);
    snprintf(title, sizeof title, "Configuration: %s%s", path[0] ? path : "(new)",
             axm_cfg_modified(t->cfg) ? " [modified]" : "");
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

    if (v->mode == MODE_LOAD) {
        axm_rect box = {in.y + 1, in.x + in.w / 4, v->n_presets + 3, in.w / 2};
        if (box.h > in.h - 1) box.h = in.h - 1;
        axm_ui_fill(&box);
        axm_rect li = axm_ui_box(ui, &box, "Load preset (Enter, Esc)", 1);
        if (!v->n_presets) axm_ui_text(ui, li.y, li.x + 1, li.w - 2, AXM_C_WARN, 0, "no presets/*.json here");
        for (int i = 0; i < v->n_presets && i < li.h; i++)
            axm_ui_text(ui, li.y + i, li.x + 1, li.w - 2, i == v->psel ? AXM_C_SEL : 0, 0, v->presets[i]);
    }
    if (v->mode == MODE_SAVEAS) {
        const axm_rect *m = &ui->layout.msg;
        move(m->y, 0);
        clrtoeol();
        axm_ui_text(ui, m->y, 1, 9, AXM_C_TITLE, A_BOLD, "Save as:");
        axm_lineedit_draw(&v->ed, m->y, 10, ui->cols - 12);
    }
}

static void save_to(axm_tui *t, const char *path)
{
    axm_err e;
    axm_err_clear(&e);
    if (axm_cfg_save(t->cfg, path, &e) == AXM_OK)
        axm_ui_msg(&t->ui, AXM_C_OK, "saved %s", path);
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
    if (v->mode == MODE_EDIT) {
        int r = axm_lineedit_key(&v->ed, ch);
        if (r == -1) {
            v->mode = MODE_LIST;
            axm_ui_msg(&t->ui, AXM_C_NORMAL, "edit cancelled");
        } else if (r == 1) {
            if (axm_cfg_set(t->cfg, k, v->ed.buf, &e) == AXM_OK) {
                v->mode = MODE_LIST;
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
            if (v->ed.buf[0]) save_to(t, v->ed.buf);
        }
        return 1;
    }
    if (v->mode == MODE_LOAD) {
        if (ch == KEY_UP && v->psel > 0) v->psel--;
        else if (ch == KEY_DOWN && v->psel + 1 < v->n_presets) v->psel++;
        else if (ch == AXM_KEY_ESC) v->mode = MODE_LIST;
        else if ((ch == '\n' || ch == '\r' || ch == KEY_ENTER) && v->n_presets) {
            v->mode = MODE_LIST;
            if (axm_cfg_load(t->cfg, v->presets[v->psel], &e) == AXM_OK) {
                axm_ui_msg(&t->ui, AXM_C_OK, "loaded %s", v->presets[v->psel]);
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
        axm_tui_update_status(t);
        axm_explore_view_config_changed(t);
        return 1;
    case 's':
        if (axm_cfg_path(t->cfg)[0]) {
            save_to(t, axm_cfg_path(t->cfg));
            return 1;
        }
        /* nothing loaded yet: ask for a name */
        __attribute__((fallthrough));
    case 'S':
        axm_lineedit_begin(&v->ed, axm_cfg_path(t->cfg)[0] ? axm_cfg_path(t->cfg) : "presets/my.json");
        v->mode = MODE_SAVEAS;
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
