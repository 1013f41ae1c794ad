/* Internal interface between the TUI's main loop and its views. */
#ifndef AXM_TUI_INT_H
#define AXM_TUI_INT_H

#include "cfg.h"
#include "tui.h"
#include "ui.h"

typedef struct axm_cfg_view axm_cfg_view;
typedef struct axm_train_view axm_train_view;
typedef struct axm_explore_view axm_explore_view;

typedef struct axm_tui {
    axm_ui ui;
    axm_cfg *cfg;
    int quit;
    int help_top;           /* first help line shown */
    char gpu[128];          /* GPU name for the status line, "" if none */
    void *(*train_attach)(struct axm_trainer *t, const struct axm_train_config *c, char *note, size_t n);
    void (*train_detach)(void *ctx); /* axm_tui_opts' */
    char w_cache_key[1100]; /* weights name and scenario path last checked for the status line */
    int w_cache_state;      /* 1 trained, -1 untrained, 0 unreadable, -2 not found */
    axm_cfg_view *cv;
    axm_train_view *tv;
    axm_explore_view *ev;
} axm_tui;

/* Each view: create/destroy, draw into t->ui.layout's panes, key (returns 1 when consumed, so
 * that global keys such as q do not fire while the view edits text), tick (polls workers; returns
 * 1 when the screen must be redrawn). */
void axm_help_draw(axm_tui *t);
int axm_help_key(axm_tui *t, int ch);

axm_cfg_view *axm_cfg_view_create(axm_tui *t);
void axm_cfg_view_destroy(axm_cfg_view *v);
void axm_cfg_view_draw(axm_tui *t);
int axm_cfg_view_key(axm_tui *t, int ch);

axm_train_view *axm_train_view_create(axm_tui *t);
void axm_train_view_destroy(axm_train_view *v);
void axm_train_view_draw(axm_tui *t);
int axm_train_view_key(axm_tui *t, int ch);
int axm_train_view_tick(axm_tui *t);

axm_explore_view *axm_explore_view_create(axm_tui *t);
void axm_explore_view_destroy(axm_explore_view *v);
void axm_explore_view_draw(axm_tui *t);
int axm_explore_view_key(axm_tui *t, int ch);
int axm_explore_view_tick(axm_tui *t);
/* Called when the config changed (a preset was loaded). */
void axm_explore_view_config_changed(axm_tui *t);
/* Makes the explorer use a model kind with a weights file (e.g. a training checkpoint). */
void axm_explore_view_use_weights(axm_tui *t, const char *kind, const char *path);
/* Puts the explorer's model into the status line fields. */
void axm_explore_view_status(axm_tui *t);

/* Status line fields from the configuration (model, weights, precision, backend). */
void axm_tui_update_status(axm_tui *t);

#endif
