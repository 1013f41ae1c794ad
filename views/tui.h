/* axonml-tui: the interactive terminal application (F1 help, F2 config, F3 train, F4 explore). */
#ifndef AXM_TUI_H
#define AXM_TUI_H

#include "err.h"

typedef struct axm_tui_opts {
    const char *scenario;   /* preset/scenario file to load, or NULL */
    int ascii;              /* no braille or box glyphs */
    int mono;               /* no colours */
    int start_view;         /* AXM_VIEW_* (plot.h); -1: explore */
} axm_tui_opts;

/* Runs until the user quits; returns a process exit status. */
int axm_tui_main(const axm_tui_opts *o, axm_err *err);

#endif
