/* F1: keys and what each view does. */
#include <curses.h>

#include "tui_int.h"

void axm_help_draw(axm_tui *t)
{
    static const char *const lines[] = {
        "#axonml-tui: simulate, train and explore myelinated fiber models",
        "",
        "#Global keys",
        "  F1 / h / ?   this help            F2   configuration (training and scenario keys)",
        "  F3           training             F4   stimulus explorer",
        "  F10 / q      quit                 Ctrl-L  redraw",
        "  Mouse: click the key bar to switch views; the wheel scrolls lists.",
        "",
        "#F2 Config",
        "  Up/Down PgUp/PgDn  move       Enter/e  edit the value (Esc cancels)",
        "  Del/d  reset to the default   s  save   S  save as   l  load a preset from presets/",
        "  Invalid values are refused in place with the reason; * marks unsaved changes.",
        "",
        "#F3 Train",
        "  s  start   p  pause/resume   x  stop   (runs in a worker thread; keys stay live)",
        "  Loss curves on a log axis (train and validation), progress with rate and ETA,",
        "  watched parameter values, checkpoints written and NaN events.",
        "",
        "#F4 Explore",
        "  Up/Down  choose a parameter   Left/Right or -/+  change it   Enter  type a value",
        "  r  run now (changes re-run automatically)   t  threshold of the set-up",
        "  n  choose the traced nodes    m  cycle the model (S-MF, Sundt, MRG)",
        "  The raster shows action potentials (node x time); traces show vm at chosen nodes.",
        "",
        "#Display",
        "  --ascii: no braille or box glyphs (automatic when the locale is not UTF-8)",
        "  --mono: no colours (automatic on monochrome terminals)",
    };
    const axm_rect *r = &t->ui.layout.pane[0];
    axm_rect in = axm_ui_box(&t->ui, r, "Help", 1);
    int n = (int)(sizeof lines / sizeof lines[0]);
    for (int i = 0; i < n && i < in.h; i++) {
        const char *s = lines[i];
        if (s[0] == '#')
            axm_ui_text(&t->ui, in.y + i, in.x + 1, in.w - 2, AXM_C_TITLE, A_BOLD, s + 1);
        else
            axm_ui_text(&t->ui, in.y + i, in.x + 1, in.w - 2, 0, 0, s);
    }
}
