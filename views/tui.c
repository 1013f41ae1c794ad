#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "fileio.h"
#include "tui_int.h"
#include "version.h"

/* Training settings used when none were given (the small reference datasets). */
#define AXM_TUI_TRAIN_PRESET "presets/train-small.json"

/* Bounded copy that truncates silently (status fields are for display). */
static void copy(char *d, size_t n, const char *s)
{
    size_t l = strlen(s);
    if (l >= n) l = n - 1;
    memcpy(d, s, l);
    d[l] = 0;
}

void axm_tui_update_status(axm_tui *t)
{
    char buf[512];
    const axm_cfg_key *k = axm_cfg_key_find("model.name");
    copy(t->ui.model, sizeof t->ui.model, axm_cfg_get(t->cfg, k, buf, sizeof buf));
    axm_cfg_get(t->cfg, axm_cfg_key_find("model.weights"), buf, sizeof buf);
    if (!buf[0]) {
        snprintf(t->ui.weights, sizeof t->ui.weights, "%s",
                 strcmp(t->ui.model, "mrg") ? "UNTRAINED" : "(ground truth)");
    } else {
        /* whether the file holds trained weights: looked up (where the scenario loader finds it:
         * next to the scenario, ..., the axonml tree) and read once per name and scenario, not on
         * every redraw */
        const char *sc = axm_cfg_path(t->cfg, AXM_CFG_SCENARIO);
        char key[1100];
        snprintf(key, sizeof key, "%s\n%s", buf, sc);
        if (strcmp(key, t->w_cache_key)) {
            copy(t->w_cache_key, sizeof t->w_cache_key, key);
            char dir[512] = "", path[1024];
            if (sc[0]) axm_folder_of(sc, dir, sizeof dir);
            int found = axm_find_file(buf, dir, path, sizeof path);
            t->w_cache_state = found ? 0 : -2;
            axm_err e;
            axm_model *m = found ? axm_model_create(t->ui.model, &e) : NULL;
            if (m && axm_model_load_weights(m, path, &e) == AXM_OK) t->w_cache_state = m->trained ? 1 : -1;
            axm_model_destroy(m);
        }
        const char *base = strrchr(buf, '/');
        char w[160];
        snprintf(w, sizeof w, "%.100s%s", base ? base + 1 : buf,
                 t->w_cache_state > 0    ? " (trained)"
                 : t->w_cache_state == -1 ? " UNTRAINED"
                 : t->w_cache_state == -2 ? " (not found)"
                                          : " (unreadable)");
        copy(t->ui.weights, sizeof t->ui.weights, w);
    }
    axm_cfg_get(t->cfg, axm_cfg_key_find("model.precision"), buf, sizeof buf);
    copy(t->ui.precision, sizeof t->ui.precision, buf);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(t->ui.backend, sizeof t->ui.backend, "CPU x%ld%s%.40s", ncpu > 0 ? ncpu : 1L, t->gpu[0] ? " + GPU " : "",
             t->gpu);
}

static void draw(axm_tui *t)
{
    erase();
    axm_tui_update_status(t);
    if (t->ui.view == AXM_VIEW_EXPLORE) axm_explore_view_status(t);
    axm_ui_draw_frame(&t->ui);
    if (t->ui.layout.too_small) {
        axm_ui_textf(&t->ui, 2, 1, t->ui.cols - 2, AXM_C_WARN, A_BOLD,
                     "Terminal %dx%d is too small: axonml-tui needs %dx%d.", t->ui.cols, t->ui.lines,
                     AXM_MIN_COLS, AXM_MIN_LINES);
        axm_ui_text(&t->ui, 3, 1, t->ui.cols - 2, 0, 0, "Enlarge the window, or press F10/q to quit.");
    } else {
        switch (t->ui.view) {
        case AXM_VIEW_HELP: axm_help_draw(t); break;
        case AXM_VIEW_CONFIG: axm_cfg_view_draw(t); break;
        case AXM_VIEW_TRAIN: axm_train_view_draw(t); break;
        default: axm_explore_view_draw(t); break;
        }
    }
    refresh();
}

/* The key-bar entry under column x, as the key it stands for (0: none). */
static int fkey_at(const axm_ui *ui, int x)
{
    static const int keys[] = {KEY_F(1), KEY_F(2), KEY_F(3), KEY_F(4)};
    if (x >= 0 && x < 40) return keys[x / 10];
    int q = ui->cols - 12;
    if (q < 40) q = 40;
    if (x >= q && x < q + 11) return KEY_F(10);
    return 0;
}

static int view_key(axm_tui *t, int ch)
{
    switch (t->ui.view) {
    case AXM_VIEW_CONFIG: return axm_cfg_view_key(t, ch);
    case AXM_VIEW_TRAIN: return axm_train_view_key(t, ch);
    case AXM_VIEW_EXPLORE: return axm_explore_view_key(t, ch);
    default: return axm_help_key(t, ch);
    }
}

int axm_tui_main(const axm_tui_opts *o, axm_err *err)
{
    axm_tui t;
    memset(&t, 0, sizeof t);
    t.cfg = axm_cfg_create();
    if (!t.cfg) return axm_fail(err, AXM_ERR_NOMEM, "axonml-tui: out of memory");
    for (int i = 0; i < o->n_files; i++)
        if (axm_cfg_load(t.cfg, o->files[i], NULL, err) != AXM_OK) {
            axm_cfg_destroy(t.cfg);
            return err->code;
        }
    /* training works out of the box: the small-data training preset when none was given */
    char loaded_train[600] = "", tp[512];
    /* here, or in the axonml tree when started elsewhere */
    if (!axm_cfg_path(t.cfg, AXM_CFG_TRAIN)[0] && !axm_cfg_has(t.cfg, "train") &&
        axm_find_file(AXM_TUI_TRAIN_PRESET, NULL, tp, sizeof tp)) {
        axm_err e2;
        int part = -1;
        axm_cfg *probe = axm_cfg_create();
        if (probe && axm_cfg_load(probe, tp, &part, &e2) == AXM_OK && part == AXM_CFG_TRAIN &&
            axm_cfg_load(t.cfg, tp, NULL, &e2) == AXM_OK)
            snprintf(loaded_train, sizeof loaded_train, "training settings from %.500s", tp);
        axm_cfg_destroy(probe);
    }
    t.ui.view = o->start_view >= 0 ? o->start_view : AXM_VIEW_EXPLORE;
    snprintf(t.gpu, sizeof t.gpu, "%s", o->gpu);
    t.train_attach = o->train_attach;
    t.train_detach = o->train_detach;
    axm_tui_update_status(&t);
    t.cv = axm_cfg_view_create(&t);
    t.tv = axm_train_view_create(&t);
    t.ev = axm_explore_view_create(&t);
    if (!t.cv || !t.tv || !t.ev) {
        axm_cfg_view_destroy(t.cv);
        axm_train_view_destroy(t.tv);
        axm_explore_view_destroy(t.ev);
        axm_cfg_destroy(t.cfg);
        return axm_fail(err, AXM_ERR_NOMEM, "axonml-tui: out of memory");
    }
    if (axm_ui_start(&t.ui, o->ascii, o->mono) != 0) {
        axm_cfg_view_destroy(t.cv);
        axm_train_view_destroy(t.tv);
        axm_explore_view_destroy(t.ev);
        axm_cfg_destroy(t.cfg);
        return axm_fail(err, AXM_ERR_RUNTIME, "axonml-tui: cannot initialize the terminal");
    }
    axm_ui_set_view(&t.ui, t.ui.view);
    if (loaded_train[0])
        axm_ui_msg(&t.ui, AXM_C_NORMAL, "F1 help, F2 config, F3 train, F4 explore, F10 quit; %s", loaded_train);
    if (!t.ui.msg[0])
        axm_ui_msg(&t.ui, AXM_C_NORMAL, "axonml-tui %s: F1 help, F2 config, F3 train, F4 explore, F10 or q quit",
                   AXM_VERSION);
    int dirty = 1;
    while (!t.quit) {
        if (dirty) {
            draw(&t);
            dirty = 0;
        }
        int ch = getch();
        if (axm_ui_quit_requested()) break;
        dirty |= axm_train_view_tick(&t);
        dirty |= axm_explore_view_tick(&t);
        if (ch == ERR) continue;
        dirty = 1;
        if (ch == KEY_RESIZE) {
            axm_ui_resize(&t.ui);
            continue;
        }
        if (ch == KEY_MOUSE) {
            MEVENT me;
            if (getmouse(&me) != OK) continue;
            t.ui.mouse_y = me.y;
            t.ui.mouse_x = me.x;
            t.ui.mouse_bstate = (unsigned long)me.bstate;
            if (me.y == t.ui.layout.fkeys.y && (me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
                ch = fkey_at(&t.ui, me.x);
            if (ch == KEY_MOUSE) {
                view_key(&t, ch); /* wheel and clicks inside a view */
                continue;
            }
            if (!ch) continue;
        }
        if (ch == KEY_F(10)) break;
        if (!t.ui.layout.too_small && view_key(&t, ch)) continue;
        switch (ch) {
        case KEY_F(1): case 'h': case '?': axm_ui_set_view(&t.ui, AXM_VIEW_HELP); break;
        case KEY_F(2): axm_ui_set_view(&t.ui, AXM_VIEW_CONFIG); break;
        case KEY_F(3): axm_ui_set_view(&t.ui, AXM_VIEW_TRAIN); break;
        case KEY_F(4): axm_ui_set_view(&t.ui, AXM_VIEW_EXPLORE); break;
        case 'q': case 'Q': t.quit = 1; break;
        case AXM_KEY_CTRL('l'): clearok(curscr, TRUE); break;
        default: break;
        }
    }
    axm_ui_stop(&t.ui);
    /* views stop and join their workers */
    axm_train_view_destroy(t.tv);
    axm_explore_view_destroy(t.ev);
    axm_cfg_view_destroy(t.cv);
    axm_cfg_destroy(t.cfg);
    return AXM_OK;
}
