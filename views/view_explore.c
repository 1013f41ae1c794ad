/* F4: stimulus explorer. The simulation engine is not in the library yet: this view says so. */
#include <stdlib.h>

#include "tui_int.h"

struct axm_explore_view { int unused; };

axm_explore_view *axm_explore_view_create(axm_tui *t)
{
    (void)t;
    return calloc(1, sizeof(axm_explore_view));
}

void axm_explore_view_destroy(axm_explore_view *v) { free(v); }

void axm_explore_view_draw(axm_tui *t)
{
    const axm_layout *L = &t->ui.layout;
    axm_rect in = axm_ui_box(&t->ui, &L->pane[0], "Stimulus", 1);
    axm_ui_text(&t->ui, in.y, in.x + 1, in.w - 2, AXM_C_WARN, 0, "engine not built in yet");
    axm_ui_box(&t->ui, &L->pane[1], "Waveform", 0);
    axm_ui_box(&t->ui, &L->pane[2], "Raster (node x time)", 0);
    axm_ui_box(&t->ui, &L->pane[3], "vm traces", 0);
}

int axm_explore_view_key(axm_tui *t, int ch)
{
    (void)t;
    (void)ch;
    return 0;
}

int axm_explore_view_tick(axm_tui *t)
{
    (void)t;
    return 0;
}

void axm_explore_view_config_changed(axm_tui *t) { (void)t; }
void axm_explore_view_status(axm_tui *t) { (void)t; }
