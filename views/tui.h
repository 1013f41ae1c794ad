/* axonml-tui: the interactive terminal application (F1 help, F2 config, F3 train, F4 explore). */
#ifndef AXM_TUI_H
#define AXM_TUI_H

#include <stddef.h>

#include "err.h"

struct axm_trainer;
struct axm_train_config;

typedef struct axm_tui_opts {
    int n_files;            /* scenario and/or training config files (presets) to load */
    const char *files[4];
    int ascii;              /* no braille or box glyphs */
    int mono;               /* no colours */
    int start_view;         /* AXM_VIEW_* (plot.h); -1: explore */
    char gpu[128];          /* name of the usable GPU for the status line, "" if none */
    /* Training on the GPU, supplied by the program (views link without gpu/); NULL: the CPU. attach
     * plugs the GPU into a new trainer where the config's device asks for it and one can take the
     * run, and returns its context (NULL: the trainer stays on the CPU) and a one-line note (""
     * for none); detach runs before the trainer is destroyed. */
    void *(*train_attach)(struct axm_trainer *t, const struct axm_train_config *c, char *note, size_t n);
    void (*train_detach)(void *ctx);
} axm_tui_opts;

/* Runs until the user quits; returns a process exit status. */
int axm_tui_main(const axm_tui_opts *o, axm_err *err);

#endif
