/* F1: keys and what each view does (scrolls with Up/Down/PgUp/PgDn). */
#include <curses.h>

#include "tui_int.h"

static const char *const lines[] = {
    "#axonml-tui: simulate, train and explore myelinated fiber models",
    "",
    "#Global keys",
    "  F1 h ?    this help               F2   configuration (all keys)",
    "  F3        training                F4   stimulus explorer",
    "  F10 q     quit                    Ctrl-L  redraw the screen",
    "  Mouse: click the key bar to switch views; the wheel scrolls lists.",
    "",
    "#F2 Config: training keys and every scenario key",
    "  Up/Down PgUp/PgDn  move           Enter e  edit (Esc cancels)",
    "  Del d  back to the default        s  save   S  save as",
    "  l  load a preset (presets/*.json)   /  find a key by name",
    "  Bad values are refused in place with the reason; * marks changes.",
    "",
    "#F3 Train: truncated BPTT of the S-MF in a worker thread",
    "  s  start    p / space  pause, resume    x  stop (writes a checkpoint)",
    "  Loss curves on a log axis: ~ train (per minibatch), + validation.",
    "  Progress with rate and ETA, trained parameters (postfix ones first),",
    "  checkpoints written and NaN events.  u  explore the newest checkpoint.",
    "",
    "#F4 Explore: one fiber, one point electrode, one waveform",
    "  Up/Down  choose a row             Left/Right or -/+  change it",
    "  Enter e  type a value             m  next model    w  next waveform",
    "  r  run now (any change re-runs)   t  threshold, shown with its raster",
    "  n  traced nodes (up to 4, negative counts from the end)",
    "  Raster: action potentials, node (rows) x time; # = several in a cell.",
    "  The untrained S-MF fires without stimulus: MRG is the default model.",
    "",
    "#Display",
    "  --ascii  no braille or box glyphs (automatic without a UTF-8 locale)",
    "  --mono   no colours (automatic on monochrome terminals)",
};

#define N_LINES ((int)(sizeof lines / sizeof lines[0]))

void axm_help_draw(axm_tui *t)
{
    const axm_rect *r = &t->ui.layout.pane[0];
    axm_rect in = axm_ui_box(&t->ui, r, N_LINES > r->h - 2 ? "Help (Up/Down scroll)" : "Help", 1);
    if (t->help_top > N_LINES - in.h) t->help_top = N_LINES - in.h;
    if (t->help_top < 0) t->help_top = 0;
    for (int i = 0; i < in.h && t->help_top + i < N_LINES; i++) {
        const char *s = lines[t->help_top + i];
        if (s[0] == '#')
            axm_ui_text(&t->ui, in.y + i, in.x + 1, in.w - 2, AXM_C_TITLE, A_BOLD, s + 1);
        else
            axm_ui_text(&t->ui, in.y + i, in.x + 1, in.w - 2, 0, 0, s);
    }
}

int axm_help_key(axm_tui *t, int ch)
{
    int page = t->ui.layout.pane[0].h - 3;
    switch (ch) {
    case KEY_UP: case 'k': t->help_top--; return 1;
    case KEY_DOWN: case 'j': t->help_top++; return 1;
    case KEY_PPAGE: t->help_top -= page; return 1;
    case KEY_NPAGE: case ' ': t->help_top += page; return 1;
    case KEY_HOME: t->help_top = 0; return 1;
    case KEY_END: t->help_top = N_LINES; return 1;
    case KEY_MOUSE:
        if (t->ui.mouse_bstate & BUTTON4_PRESSED) t->help_top--;
        if (t->ui.mouse_bstate & BUTTON5_PRESSED) t->help_top++;
        return 1;
    default: return 0;
    }
}
