/* Pure plotting helpers for the terminal views: a pixel canvas rendered as UTF-8 braille (2x4 dots
 * per cell) or as ASCII (1x2 per cell), axis scaling (linear and log), raster binning, screen
 * layout and small formatters. Nothing here touches the terminal, so all of it is unit-tested. */
#ifndef AXM_PLOT_H
#define AXM_PLOT_H

#include <stddef.h>

/* ---- braille cells ---------------------------------------------------------------------- */

/* Dot bit of the braille pattern for sub-pixel (dx 0..1, dy 0..3 from the top) of a cell
 * (Unicode: dots 1,2,3,7 in the left column, 4,5,6,8 in the right). */
unsigned axm_braille_bit(int dx, int dy);
/* UTF-8 encoding of U+2800 + bits into out (4 bytes incl. the terminating NUL); returns 3. */
int axm_braille_utf8(unsigned bits, char out[4]);

/* ---- canvas ----------------------------------------------------------------------------- */

typedef enum axm_canvas_mode { AXM_CANVAS_BRAILLE = 0, AXM_CANVAS_ASCII = 1 } axm_canvas_mode;

typedef struct axm_canvas {
    int cols, rows;          /* cells */
    int px_w, px_h;          /* pixels: cols*2 x rows*4 (braille) or cols x rows*2 (ascii) */
    axm_canvas_mode mode;
    unsigned char *cells;    /* [rows][cols] dot bits */
    unsigned char *color;    /* [rows][cols] colour id of the last series drawn in the cell */
} axm_canvas;

axm_canvas *axm_canvas_create(int cols, int rows, axm_canvas_mode mode);
void axm_canvas_destroy(axm_canvas *c);
void axm_canvas_clear(axm_canvas *c);
/* Pixel coordinates: x from the left, y from the BOTTOM (plots grow upward). Out of range: ignored. */
void axm_canvas_set(axm_canvas *c, int x, int y, int color);
int axm_canvas_get(const axm_canvas *c, int x, int y);
void axm_canvas_line(axm_canvas *c, int x0, int y0, int x1, int y1, int color);
/* The text of one cell (UTF-8 braille, or one ASCII char); " " when empty. Returns out. */
const char *axm_canvas_cell(const axm_canvas *c, int col, int row, char out[8]);

/* ---- scales ----------------------------------------------------------------------------- */

typedef struct axm_scale {
    double lo, hi;
    int log;                 /* log10 axis; lo, hi > 0 */
} axm_scale;

/* Range covering the finite values (positive ones for log). Linear: padded by 5 %, or +-1 around
 * a constant. Log: widened to whole decades. Returns 0 when no value qualifies (scale = [0,1]
 * or [1,10]). */
int axm_scale_fit(axm_scale *s, const double *v, long n, int log);
/* Pixel (0..npix-1) of v, or -1 when v is not finite, out of range, or <= 0 on a log axis. */
int axm_scale_px(const axm_scale *s, double v, int npix);
/* Value at the centre of pixel p (inverse of axm_scale_px). */
double axm_scale_value(const axm_scale *s, int p, int npix);

/* Plots y[i] against x[i] (x NULL: x = i) as joined segments; points that do not map are gaps. */
void axm_canvas_plot(axm_canvas *c, const double *x, const double *y, long n, const axm_scale *xs,
                     const axm_scale *ys, int color);

/* ---- raster ----------------------------------------------------------------------------- */

/* Bins spikes (node, t) into a rows x cols grid: row r covers nodes [r*W/rows, (r+1)*W/rows)
 * with row 0 = node 0 at the top, column c covers times [c*t_end/cols, (c+1)*t_end/cols).
 * counts[r*cols + c] gets the number of spikes. Spikes outside [0, W) x [0, t_end] are ignored
 * (t == t_end goes into the last column). Returns the number binned. */
long axm_raster_bin(const int *node, const double *t_ms, long n, int W, double t_end_ms, int rows,
                    int cols, int *counts);

/* ---- layout ----------------------------------------------------------------------------- */

typedef struct axm_rect { int y, x, h, w; } axm_rect;

enum { AXM_VIEW_HELP = 0, AXM_VIEW_CONFIG = 1, AXM_VIEW_TRAIN = 2, AXM_VIEW_EXPLORE = 3,
       AXM_N_VIEWS = 4 };

/* Panes of the screen for a view. pane[] meanings per view:
 *   explore: 0 parameters, 1 waveform preview, 2 raster, 3 voltage traces
 *   train:   0 controls/progress, 1 loss plot, 2 side panel (parameters, checkpoints, events)
 *   config, help: 0 the list/text */
typedef struct axm_layout {
    axm_rect header, msg, fkeys;
    int n_panes;
    axm_rect pane[4];
    int too_small;           /* below 80x24: the views show a notice instead */
} axm_layout;

#define AXM_MIN_COLS 80
#define AXM_MIN_LINES 24

void axm_layout_compute(int cols, int lines, int view, axm_layout *out);
int axm_rect_overlap(const axm_rect *a, const axm_rect *b);

/* ---- formatting ------------------------------------------------------------------------- */

/* "12s", "3m05s", "1h02m", "2d03h"; "--" for negative or non-finite. */
const char *axm_fmt_duration(double s, char *buf, size_t n);
/* Compact number for axis labels: "1e-3", "0.25", "120", "1.5e4". */
const char *axm_fmt_num(double v, char *buf, size_t n);

#endif
