/* axonml-tui: the interactive terminal application (F1 help, F2 config, F3 train, F4 explore). */
#ifndef AXM_TUI_H
#define AXM_TUI_H

#include "err.h"

typedef struct axm_tui_opts {
    int n_files;            /* scenario and/or training config files (presets) to load */
    const char *files[4];
    int ascii;              /* no braille or box glyphs */
    int mono;               /* no colours */
    int start_view;         /* AXM_VIEW_* (plot.h); -1: explore */
    char gpu[128];          /* name of the usable GPU for the status line, "" if none */
} axm_tui_opts;

/* Runs until the user quits; returns a process exit status. */
int axm_tui_main(const axm_tui_opts *o, axm_err *err);

#endif
