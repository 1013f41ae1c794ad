/* The terminal layer of axonml-tui: ncurses start/stop, colours with a monochrome fallback,
 * UTF-8 detection with an ASCII fallback, the frame (status line, message line, function-key
 * bar), boxes, canvases and a one-line text editor. Only views/ talks to the terminal. */
#ifndef AXM_UI_H
#define AXM_UI_H

#include <stddef.h>

#include "plot.h"

/* Colour pairs (attributes only when monochrome). */
enum {
    AXM_C_NORMAL = 0,
    AXM_C_HEADER,    /* status line */
    AXM_C_FKEY,      /* the "F1" part of the key bar */
    AXM_C_FLABEL,    /* its label */
    AXM_C_TITLE,     /* box titles */
    AXM_C_ERROR,
    AXM_C_OK,
    AXM_C_WARN,
    AXM_C_SEL,       /* selected row */
    AXM_C_DIM,
    AXM_C_S1,        /* plot series */
    AXM_C_S2,
    AXM_C_S3,
    AXM_C_S4,
    AXM_C_N
};

typedef struct axm_ui {
    int utf8;               /* braille and box glyphs */
    int color;
    int mouse;
    int mouse_y, mouse_x;     /* the last mouse event (KEY_MOUSE) */
    unsigned long mouse_bstate;
    int cols, lines;
    int view;               /* AXM_VIEW_* */
    axm_layout layout;
    char msg[256];
    int msg_kind;           /* AXM_C_NORMAL, AXM_C_ERROR, AXM_C_OK, AXM_C_WARN */
    /* status line fields, set by the application */
    char backend[96], model[32], weights[96], precision[16];
} axm_ui;

/* Starts curses (locale, keypad, 50 ms input timeout, colours, optional mouse). force_ascii and
 * force_mono override what the terminal supports. Installs handlers so that SIGINT/SIGTERM raise
 * the quit flag and SIGSEGV/SIGABRT/SIGBUS/SIGFPE restore the terminal before dying. */
int axm_ui_start(axm_ui *ui, int force_ascii, int force_mono);
void axm_ui_stop(axm_ui *ui);
/* Nonzero once SIGINT or SIGTERM arrived. */
int axm_ui_quit_requested(void);
/* Re-reads the terminal size and recomputes the layout (after KEY_RESIZE). */
void axm_ui_resize(axm_ui *ui);
void axm_ui_set_view(axm_ui *ui, int view);

void axm_ui_msg(axm_ui *ui, int kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Frame: status line, message line, key bar (the current view highlighted). */
void axm_ui_draw_frame(const axm_ui *ui);
/* A box with a title; returns the inner rectangle. */
axm_rect axm_ui_box(const axm_ui *ui, const axm_rect *r, const char *title, int focused);
void axm_ui_fill(const axm_rect *r);
/* Curses attributes of a colour pair: the colour, or a monochrome stand-in. */
int axm_ui_attr(const axm_ui *ui, int pair);
/* Text clipped to width w at (y, x) with a colour pair and extra attributes. */
void axm_ui_text(const axm_ui *ui, int y, int x, int w, int pair, int attr, const char *s);
void axm_ui_textf(const axm_ui *ui, int y, int x, int w, int pair, int attr, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
/* Draws a canvas whose cell (0,0) goes to (y, x); a cell's colour is the series colour. */
void axm_ui_canvas(const axm_ui *ui, int y, int x, const axm_canvas *c);
axm_canvas_mode axm_ui_canvas_mode(const axm_ui *ui);
/* A plot inside r: y-axis labels on the left (decades on log axes), the canvas filled by the
 * caller through draw(), x-axis labels on the last line. The canvas is sized to the free area and
 * reused between frames (*cv is created or resized as needed). */
void axm_ui_plot(const axm_ui *ui, const axm_rect *r, axm_canvas **cv, const axm_scale *xs,
                 const axm_scale *ys, const char *xunit,
                 void (*draw)(void *ud, axm_canvas *c, const axm_scale *xs, const axm_scale *ys),
                 void *ud);
/* Horizontal bar of fraction f in [0,1] of width w. */
void axm_ui_bar(const axm_ui *ui, int y, int x, int w, double f, int pair);

/* One-line editor. */
typedef struct axm_lineedit {
    int active;
    char buf[256];
    int len, pos;
} axm_lineedit;

void axm_lineedit_begin(axm_lineedit *e, const char *init);
/* Returns 1 on Enter (accepted), -1 on Esc (cancelled), 0 otherwise (key consumed). */
int axm_lineedit_key(axm_lineedit *e, int ch);
void axm_lineedit_draw(const axm_lineedit *e, int y, int x, int w);

/* Keys. */
#define AXM_KEY_ESC 27
#define AXM_KEY_CTRL(c) ((c) & 0x1f)

#endif
