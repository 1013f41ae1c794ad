/* F3: training. The trainer (core/train.h) is not in the library yet: this view says so. */
#include <stdlib.h>

#include "tui_int.h"

struct axm_train_view { int unused; };

axm_train_view *axm_train_view_create(axm_tui *t)
{
    (void)t;
    return calloc(1, sizeof(axm_train_view));
}

void axm_train_view_destroy(axm_train_view *v) { free(v); }

void axm_train_view_draw(axm_tui *t)
{
    const axm_layout *L = &t->ui.layout;
    axm_rect in = axm_ui_box(&t->ui, &L->pane[0], "Training", 1);
    axm_ui_text(&t->ui, in.y, in.x + 1, in.w - 2, AXM_C_WARN, 0, "the trainer is not built into this version yet");
    axm_ui_box(&t->ui, &L->pane[1], "Loss (log)", 0);
    axm_ui_box(&t->ui, &L->pane[2], "Parameters", 0);
}

int axm_train_view_key(axm_tui *t, int ch)
{
    (void)t;
    (void)ch;
    return 0;
}

int axm_train_view_tick(axm_tui *t)
{
    (void)t;
    return 0;
}
