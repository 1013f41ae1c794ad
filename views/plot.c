#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned axm_braille_bit(int dx, int dy)
{
    static const unsigned char bits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    if (dx < 0 || dx > 1 || dy < 0 || dy > 3) return 0;
    return bits[dx][dy];
}

int axm_braille_utf8(unsigned bits, char out[4])
{
    unsigned cp = 0x2800u + (bits & 0xffu);
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    out[3] = 0;
    return 3;
}

axm_canvas *axm_canvas_create(int cols, int rows, axm_canvas_mode mode)
{
    if (cols < 1) cols = 1;
    if (rows < 1) rows = 1;
    axm_canvas *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cols = cols;
    c->rows = rows;
    c->mode = mode;
    c->px_w = mode == AXM_CANVAS_BRAILLE ? 2 * cols : cols;
    c->px_h = mode == AXM_CANVAS_BRAILLE ? 4 * rows : 2 * rows;
    c->cells = calloc((size_t)cols * rows, 1);
    c->color = calloc((size_t)cols * rows, 1);
    if (!c->cells || !c->color) {
        axm_canvas_destroy(c);
        return NULL;
    }
    return c;
}

void axm_canvas_destroy(axm_canvas *c)
{
    if (!c) return;
    free(c->cells);
    free(c->color);
    free(c);
}

void axm_canvas_clear(axm_canvas *c)
{
    memset(c->cells, 0, (size_t)c->cols * c->rows);
    memset(c->color, 0, (size_t)c->cols * c->rows);
}

/* Cell index and dot bit of a pixel; returns 0 when outside. */
static int locate(const axm_canvas *c, int x, int y, size_t *idx, unsigned *bit)
{
    if (x < 0 || y < 0 || x >= c->px_w || y >= c->px_h) return 0;
    int yt = c->px_h - 1 - y; /* from the top */
    if (c->mode == AXM_CANVAS_BRAILLE) {
        *idx = (size_t)(yt / 4) * c->cols + x / 2;
        *bit = axm_braille_bit(x % 2, yt % 4);
    } else {
        *idx = (size_t)(yt / 2) * c->cols + x;
        *bit = (yt % 2) ? 2u : 1u; /* 1 = upper half, 2 = lower half */
    }
    return 1;
}

void axm_canvas_set(axm_canvas *c, int x, int y, int color)
{
    size_t i;
    unsigned b;
    if (!locate(c, x, y, &i, &b)) return;
    c->cells[i] |= (unsigned char)b;
    c->color[i] = (unsigned char)color;
}

int axm_canvas_get(const axm_canvas *c, int x, int y)
{
    size_t i;
    unsigned b;
    if (!locate(c, x, y, &i, &b)) return 0;
    return (c->cells[i] & b) != 0;
}

void axm_canvas_line(axm_canvas *c, int x0, int y0, int x1, int y1, int color)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        axm_canvas_set(c, x0, y0, color);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

const char *axm_canvas_cell(const axm_canvas *c, int col, int row, char out[8])
{
    out[0] = ' ';
    out[1] = 0;
    if (col < 0 || row < 0 || col >= c->cols || row >= c->rows) return out;
    unsigned b = c->cells[(size_t)row * c->cols + col];
    if (!b) return out;
    if (c->mode == AXM_CANVAS_BRAILLE) {
        axm_braille_utf8(b, out);
    } else {
        out[0] = b == 3 ? ':' : b == 1 ? '\'' : '.';
    }
    return out;
}

/* ---- scales ---- */

int axm_scale_fit(axm_scale *s, const double *v, long n, int log)
{
    double lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < n; i++) {
        if (!isfinite(v[i]) || (log && v[i] <= 0)) continue;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    s->log = log;
    if (lo > hi) {
        s->lo = log ? 1 : 0;
        s->hi = log ? 10 : 1;
        return 0;
    }
    if (log) {
        s->lo = pow(10, floor(log10(lo)));
        s->hi = pow(10, ceil(log10(hi)));
        if (s->hi <= s->lo) s->hi = s->lo * 10;
    } else if (hi == lo) {
        s->lo = lo - 1;
        s->hi = hi + 1;
    } else {
        double pad = 0.05 * (hi - lo);
        s->lo = lo - pad;
        s->hi = hi + pad;
    }
    return 1;
}

int axm_scale_px(const axm_scale *s, double v, int npix)
{
    if (!isfinite(v) || npix <= 0) return -1;
    double a = s->lo, b = s->hi;
    if (s->log) {
        if (v <= 0 || a <= 0 || b <= 0) return -1;
        v = log10(v);
        a = log10(a);
        b = log10(b);
    }
    if (!(b > a)) return -1;
    double f = (v - a) / (b - a);
    double eps = 1e-9;
    if (f < -eps || f > 1 + eps) return -1;
    int p = (int)floor(f * npix);
    if (p < 0) p = 0;
    if (p >= npix) p = npix - 1;
    return p;
}

double axm_scale_value(const axm_scale *s, int p, int npix)
{
    double f = (p + 0.5) / npix;
    if (s->log) return pow(10, log10(s->lo) + f * (log10(s->hi) - log10(s->lo)));
    return s->lo + f * (s->hi - s->lo);
}

void axm_canvas_plot(axm_canvas *c, const double *x, const double *y, long n, const axm_scale *xs,
                     const axm_scale *ys, int color)
{
    int have = 0, px0 = 0, py0 = 0;
    for (long i = 0; i < n; i++) {
        int px = axm_scale_px(xs, x ? x[i] : (double)i, c->px_w);
        int py = axm_scale_px(ys, y[i], c->px_h);
        if (px < 0 || py < 0) {
            have = 0;
            continue;
        }
        if (have)
            axm_canvas_line(c, px0, py0, px, py, color);
        else
            axm_canvas_set(c, px, py, color);
        have = 1;
        px0 = px;
        py0 = py;
    }
}

/* ---- raster ---- */

long axm_raster_bin(const int *node, const double *t_ms, long n, int W, double t_end_ms, int rows,
                    int cols, int *counts)
{
    if (rows <= 0 || cols <= 0) return 0;
    memset(counts, 0, sizeof(int) * (size_t)rows * cols);
    if (W <= 0 || !(t_end_ms > 0)) return 0;
    long binned = 0;
    for (long i = 0; i < n; i++) {
        if (node[i] < 0 || node[i] >= W || !(t_ms[i] >= 0) || t_ms[i] > t_end_ms) continue;
        int r = (int)((long)node[i] * rows / W);
        int col = (int)(t_ms[i] / t_end_ms * cols);
        if (col >= cols) col = cols - 1;
        counts[r * cols + col]++;
        binned++;
    }
    return binned;
}

/* ---- layout ---- */

static axm_rect rect(int y, int x, int h, int w)
{
    axm_rect r = {y, x, h < 0 ? 0 : h, w < 0 ? 0 : w};
    return r;
}

void axm_layout_compute(int cols, int lines, int view, axm_layout *o)
{
    memset(o, 0, sizeof *o);
    o->header = rect(0, 0, 1, cols);
    o->fkeys = rect(lines - 1, 0, 1, cols);
    o->msg = rect(lines - 2, 0, 1, cols);
    o->too_small = cols < AXM_MIN_COLS || lines < AXM_MIN_LINES;
    if (o->too_small) return;
    int y0 = 1, h = lines - 3; /* between the header and the message line */
    switch (view) {
    case AXM_VIEW_EXPLORE: {
        int lw = cols / 4;
        if (lw < 32) lw = 32;
        if (lw > 40) lw = 40;
        int rw = cols - lw;
        int ph = h / 4;
        if (ph < 5) ph = 5;
        int th = (h - ph) / 2;
        int rh = h - ph - th;
        o->n_panes = 4;
        o->pane[0] = rect(y0, 0, h, lw);
        o->pane[1] = rect(y0, lw, ph, rw);
        o->pane[2] = rect(y0 + ph, lw, rh, rw);
        o->pane[3] = rect(y0 + ph + rh, lw, th, rw);
        break;
    }
    case AXM_VIEW_TRAIN: {
        int top = 5;
        int sw = cols / 3;
        if (sw < 28) sw = 28;
        o->n_panes = 3;
        o->pane[0] = rect(y0, 0, top, cols);
        o->pane[1] = rect(y0 + top, 0, h - top, cols - sw);
        o->pane[2] = rect(y0 + top, cols - sw, h - top, sw);
        break;
    }
    default:
        o->n_panes = 1;
        o->pane[0] = rect(y0, 0, h, cols);
        break;
    }
}

int axm_rect_overlap(const axm_rect *a, const axm_rect *b)
{
    if (a->w <= 0 || a->h <= 0 || b->w <= 0 || b->h <= 0) return 0;
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* ---- formatting ---- */

const char *axm_fmt_duration(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "--");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (t < 60)
        snprintf(buf, n, "%lds", t);
    else if (t < 3600)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else
        snprintf(buf, n, "%ldd%02ldh", t / 86400, (t % 86400) / 3600);
    return buf;
}

const char *axm_fmt_num(double v, char *buf, size_t n)
{
    double a = fabs(v);
    if (!isfinite(v)) {
        snprintf(buf, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    if (a != 0 && (a >= 1e4 || a < 1e-2)) {
        char tmp[32], out[32];
        snprintf(tmp, sizeof tmp, "%.1e", v);
        /* "1.0e+04" -> "1e4", "2.5e-03" -> "2.5e-3" */
        char *e = strchr(tmp, 'e');
        size_t k = (size_t)(e - tmp);
        if (k >= 2 && tmp[k - 1] == '0' && tmp[k - 2] == '.') k -= 2;
        memcpy(out, tmp, k);
        out[k++] = 'e';
        const char *p = e + 1;
        if (*p == '+') p++;
        else if (*p == '-') out[k++] = *p++;
        while (*p == '0' && p[1]) p++;
        snprintf(out + k, sizeof out - k, "%s", p);
        snprintf(buf, n, "%s", out);
        return buf;
    }
    snprintf(buf, n, "%.3g", v);
    return buf;
}
