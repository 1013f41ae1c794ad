#include "ui.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "version.h"

/* Signal handlers only reach file-scope state: whether curses owns the terminal, and the quit
 * request. Both are written by handlers and read by the main loop. */
static volatile sig_atomic_t curses_on;
static volatile sig_atomic_t quit_flag;

static void on_quit(int sig)
{
    if (quit_flag) {
        /* second Ctrl-C: leave at once, but never with the terminal in raw mode */
        if (curses_on) endwin();
        _exit(128 + sig);
    }
    quit_flag = 1;
}

static void on_crash(int sig)
{
    /* endwin is not async-signal-safe, but the process is dying anyway and a usable terminal is
     * worth the risk; then die of the same signal so that the exit status tells the truth. */
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
    static const char m[] = "axonml-tui: crashed; terminal restored\n";
    if (write(2, m, sizeof m - 1) < 0) { /* nothing more to do */ }
    signal(sig, SIG_DFL);
    raise(sig);
}

int axm_ui_quit_requested(void) { return quit_flag; }

static void init_colors(axm_ui *ui)
{
    start_color();
    use_default_colors();
    struct { int pair, fg, bg; } p[] = {
        {AXM_C_HEADER, COLOR_BLACK, COLOR_GREEN}, {AXM_C_FKEY, COLOR_WHITE, -1},
        {AXM_C_FLABEL, COLOR_BLACK, COLOR_CYAN},  {AXM_C_TITLE, COLOR_CYAN, -1},
        {AXM_C_ERROR, COLOR_RED, -1},             {AXM_C_OK, COLOR_GREEN, -1},
        {AXM_C_WARN, COLOR_YELLOW, -1},           {AXM_C_SEL, COLOR_BLACK, COLOR_CYAN},
        {AXM_C_DIM, COLOR_BLUE, -1},              {AXM_C_S1, COLOR_CYAN, -1},
        {AXM_C_S2, COLOR_YELLOW, -1},             {AXM_C_S3, COLOR_MAGENTA, -1},
        {AXM_C_S4, COLOR_GREEN, -1},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) init_pair((short)p[i].pair, (short)p[i].fg, (short)p[i].bg);
    (void)ui;
}

int axm_ui_start(axm_ui *ui, int force_ascii, int force_mono)
{
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    ui->utf8 = !force_ascii && cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_crash;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);

    if (!initscr()) return -1;
    curses_on = 1;
    cbreak(); /* Ctrl-C stays a signal, handled above */
    noecho();
    keypad(stdscr, TRUE);
    nonl();
    curs_set(0);
    set_escdelay(25);
    timeout(25); /* the main loop polls workers between keys */
    ui->color = !force_mono && has_colors();
    if (ui->color) init_colors(ui);
    ui->mouse = mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL) != 0;
    mouseinterval(0);
    axm_ui_resize(ui);
    return 0;
}

void axm_ui_stop(axm_ui *ui)
{
    (void)ui;
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

void axm_ui_resize(axm_ui *ui)
{
    int l, c;
    getmaxyx(stdscr, l, c);
    ui->lines = l;
    ui->cols = c;
    axm_layout_compute(c, l, ui->view, &ui->layout);
}

void axm_ui_set_view(axm_ui *ui, int view)
{
    ui->view = view;
    axm_layout_compute(ui->cols, ui->lines, view, &ui->layout);
}

void axm_ui_msg(axm_ui *ui, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->msg, sizeof ui->msg, fmt, ap);
    va_end(ap);
    ui->msg_kind = kind;
}

/* Monochrome stand-ins for colours that carry meaning. */
static int mono_attr(int pair)
{
    switch (pair) {
    case AXM_C_HEADER: case AXM_C_FLABEL: case AXM_C_SEL: return A_REVERSE;
    case AXM_C_ERROR: case AXM_C_TITLE: case AXM_C_FKEY: case AXM_C_WARN: return A_BOLD;
    case AXM_C_DIM: return A_DIM;
    default: return 0;
    }
}

int axm_ui_attr(const axm_ui *ui, int pair)
{
    if (pair <= 0) return 0;
    return ui->color ? (int)COLOR_PAIR(pair) : mono_attr(pair);
}

/* Bytes of s that fill at most w columns (one column per code point: our texts have no wide
 * characters). */
static int fit_bytes(const char *s, int w, int *cols)
{
    int b = 0, c = 0;
    while (s[b] && c < w) {
        unsigned char ch = (unsigned char)s[b];
        int len = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
        for (int i = 1; i < len; i++)
            if (!s[b + i]) { len = i; break; }
        b += len;
        c++;
    }
    if (cols) *cols = c;
    return b;
}

void axm_ui_text(const axm_ui *ui, int y, int x, int w, int pair, int attr, const char *s)
{
    if (w <= 0 || y < 0 || x < 0) return;
    int a = axm_ui_attr(ui, pair) | attr;
    attron(a);
    mvaddnstr(y, x, s, fit_bytes(s, w, NULL));
    attroff(a);
}

void axm_ui_textf(const axm_ui *ui, int y, int x, int w, int pair, int attr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    axm_ui_text(ui, y, x, w, pair, attr, buf);
}

void axm_ui_fill(const axm_rect *r)
{
    for (int i = 0; i < r->h; i++) {
        move(r->y + i, r->x);
        for (int j = 0; j < r->w; j++) addch(' ');
    }
}

static const char *sep(const axm_ui *ui)
{
    return ui->utf8 ? " \xe2\x94\x82 " : " | ";
}

void axm_ui_draw_frame(const axm_ui *ui)
{
    const axm_layout *L = &ui->layout;
    /* status line */
    int ha = axm_ui_attr(ui, AXM_C_HEADER);
    attron(ha);
    move(L->header.y, 0);
    for (int i = 0; i < ui->cols; i++) addch(' ');
    attroff(ha);
    char line[512];
    const char *s = sep(ui);
    snprintf(line, sizeof line, " axonml-tui %s%s%s%smodel %s%sweights %s%s%s", AXM_VERSION, s,
             ui->backend, s, ui->model, s, ui->weights, s, ui->precision);
    axm_ui_text(ui, L->header.y, 0, ui->cols, AXM_C_HEADER, 0, line);
    if (strstr(ui->weights, "UNTRAINED")) {
        /* the untrained surrogate fires spontaneously: say so loudly */
        const char *u = strstr(line, "UNTRAINED");
        int col = 0;
        fit_bytes(line, (int)(u - line) + 0, NULL);
        for (const char *p = line; p < u; p++)
            if (((unsigned char)*p & 0xc0) != 0x80) col++;
        axm_ui_text(ui, L->header.y, col, ui->cols - col, AXM_C_HEADER, A_BOLD | A_BLINK * 0, "UNTRAINED");
    }
    /* message line */
    move(L->msg.y, 0);
    clrtoeol();
    if (ui->msg[0]) axm_ui_text(ui, L->msg.y, 1, ui->cols - 2, ui->msg_kind, 0, ui->msg);
    /* key bar, htop style: key number plain, label on a coloured field */
    static const struct { const char *key, *label; int view; } keys[] = {
        {"F1", "Help", AXM_VIEW_HELP},     {"F2", "Config", AXM_VIEW_CONFIG},
        {"F3", "Train", AXM_VIEW_TRAIN},   {"F4", "Explore", AXM_VIEW_EXPLORE},
        {"F10", "Quit", -1},
    };
    move(L->fkeys.y, 0);
    clrtoeol();
    int x = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (i == sizeof keys / sizeof keys[0] - 1) {
            /* Quit sits at the right end when there is room, as in htop */
            int want = ui->cols - 12;
            if (want > x) x = want;
        }
        axm_ui_text(ui, L->fkeys.y, x, ui->cols - x, AXM_C_FKEY, 0, keys[i].key);
        x += (int)strlen(keys[i].key);
        char lab[16];
        snprintf(lab, sizeof lab, "%-8s", keys[i].label);
        int cur = keys[i].view == ui->view;
        axm_ui_text(ui, L->fkeys.y, x, ui->cols - x, cur ? AXM_C_HEADER : AXM_C_FLABEL,
                    cur ? A_BOLD : 0, lab);
        x += 8;
    }
}

axm_rect axm_ui_box(const axm_ui *ui, const axm_rect *r, const char *title, int focused)
{
    axm_rect in = {r->y + 1, r->x + 1, r->h - 2, r->w - 2};
    if (r->h < 2 || r->w < 2) {
        in.h = in.w = 0;
        return in;
    }
    int a = focused ? axm_ui_attr(ui, AXM_C_TITLE) : axm_ui_attr(ui, AXM_C_DIM);
    attron(a);
    if (ui->utf8) {
        mvhline(r->y, r->x + 1, ACS_HLINE, r->w - 2);
        mvhline(r->y + r->h - 1, r->x + 1, ACS_HLINE, r->w - 2);
        mvvline(r->y + 1, r->x, ACS_VLINE, r->h - 2);
        mvvline(r->y + 1, r->x + r->w - 1, ACS_VLINE, r->h - 2);
        mvaddch(r->y, r->x, ACS_ULCORNER);
        mvaddch(r->y, r->x + r->w - 1, ACS_URCORNER);
        mvaddch(r->y + r->h - 1, r->x, ACS_LLCORNER);
        mvaddch(r->y + r->h - 1, r->x + r->w - 1, ACS_LRCORNER);
    } else {
        mvhline(r->y, r->x + 1, '-', r->w - 2);
        mvhline(r->y + r->h - 1, r->x + 1, '-', r->w - 2);
        mvvline(r->y + 1, r->x, '|', r->h - 2);
        mvvline(r->y + 1, r->x + r->w - 1, '|', r->h - 2);
        mvaddch(r->y, r->x, '+');
        mvaddch(r->y, r->x + r->w - 1, '+');
        mvaddch(r->y + r->h - 1, r->x, '+');
        mvaddch(r->y + r->h - 1, r->x + r->w - 1, '+');
    }
    attroff(a);
    if (title && r->w > 4) {
        char t[128];
        snprintf(t, sizeof t, " %s ", title);
        axm_ui_text(ui, r->y, r->x + 2, r->w - 4, AXM_C_TITLE, focused ? A_BOLD : 0, t);
    }
    return in;
}

axm_canvas_mode axm_ui_canvas_mode(const axm_ui *ui)
{
    return ui->utf8 ? AXM_CANVAS_BRAILLE : AXM_CANVAS_ASCII;
}

void axm_ui_canvas(const axm_ui *ui, int y, int x, const axm_canvas *c)
{
    char cell[8];
    for (int r = 0; r < c->rows; r++) {
        move(y + r, x);
        for (int k = 0; k < c->cols; k++) {
            axm_canvas_cell(c, k, r, cell);
            int col = c->color[(size_t)r * c->cols + k];
            int a = cell[0] != ' ' && col ? axm_ui_attr(ui, AXM_C_S1 + (col - 1) % 4) : 0;
            if (!ui->color && col > 1 && cell[0] != ' ') a = A_BOLD; /* tell series apart */
            attron(a);
            addstr(cell);
            attroff(a);
        }
    }
}

void axm_ui_plot(const axm_ui *ui, const axm_rect *r, axm_canvas **cv, const axm_scale *xs,
                 const axm_scale *ys, const char *xunit,
                 void (*draw)(void *ud, axm_canvas *c, const axm_scale *xs, const axm_scale *ys),
                 void *ud)
{
    const int lw = 7;
    int cw = r->w - lw, ch = r->h - 1;
    if (cw < 4 || ch < 2) return;
    axm_canvas_mode mode = axm_ui_canvas_mode(ui);
    if (!*cv || (*cv)->cols != cw || (*cv)->rows != ch || (*cv)->mode != mode) {
        axm_canvas_destroy(*cv);
        *cv = axm_canvas_create(cw, ch, mode);
        if (!*cv) return;
    }
    axm_canvas_clear(*cv);
    draw(ud, *cv, xs, ys);
    axm_ui_canvas(ui, r->y, r->x + lw, *cv);
    /* y labels: top, bottom, and every decade between on log axes */
    char b[32];
    int dim = AXM_C_DIM;
    for (int row = 0; row < ch; row++) mvaddch(r->y + row, r->x + lw - 1, ui->utf8 ? ACS_VLINE : '|');
    axm_ui_textf(ui, r->y, r->x, lw - 1, dim, 0, "%6s", axm_fmt_num(ys->hi, b, sizeof b));
    axm_ui_textf(ui, r->y + ch - 1, r->x, lw - 1, dim, 0, "%6s", axm_fmt_num(ys->lo, b, sizeof b));
    if (ys->log) {
        int last = 0;
        for (double d = ys->lo * 10; d < ys->hi * 0.999; d *= 10) {
            int p = axm_scale_px(ys, d, ch); /* row from the bottom at cell resolution */
            int row = ch - 1 - p;
            if (row <= 0 || row >= ch - 1 || row == last) continue;
            axm_ui_textf(ui, r->y + row, r->x, lw - 1, dim, 0, "%6s", axm_fmt_num(d, b, sizeof b));
            last = row;
        }
    }
    /* x labels */
    int yl = r->y + ch;
    move(yl, r->x);
    for (int i = 0; i < r->w; i++) addch(' ');
    axm_ui_text(ui, yl, r->x + lw, cw, dim, 0, axm_fmt_num(xs->lo, b, sizeof b));
    char hi[48];
    snprintf(hi, sizeof hi, "%s %s", axm_fmt_num(xs->hi, b, sizeof b), xunit ? xunit : "");
    int n = (int)strlen(hi);
    axm_ui_text(ui, yl, r->x + r->w - n, n, dim, 0, hi);
}

void axm_ui_bar(const axm_ui *ui, int y, int x, int w, double f, int pair)
{
    if (w < 3) return;
    if (!(f >= 0)) f = 0;
    if (f > 1) f = 1;
    int inner = w - 2, full = (int)(f * inner + 0.5);
    mvaddch(y, x, '[');
    int a = axm_ui_attr(ui, pair);
    attron(a);
    for (int i = 0; i < inner; i++) {
        if (i < full)
            addstr(ui->utf8 ? "\xe2\x96\x88" : "#");
        else {
            attroff(a);
            addch(ui->utf8 ? ' ' : '.');
            attron(a);
        }
    }
    attroff(a);
    addch(']');
}

/* ---- line editor ---- */

void axm_lineedit_begin(axm_lineedit *e, const char *init)
{
    e->active = 1;
    snprintf(e->buf, sizeof e->buf, "%s", init ? init : "");
    e->len = (int)strlen(e->buf);
    e->pos = e->len;
}

int axm_lineedit_key(axm_lineedit *e, int ch)
{
    switch (ch) {
    case '\n': case '\r': case KEY_ENTER:
        e->active = 0;
        return 1;
    case AXM_KEY_ESC:
        e->active = 0;
        return -1;
    case KEY_LEFT: if (e->pos > 0) e->pos--; return 0;
    case KEY_RIGHT: if (e->pos < e->len) e->pos++; return 0;
    case KEY_HOME: case AXM_KEY_CTRL('a'): e->pos = 0; return 0;
    case KEY_END: case AXM_KEY_CTRL('e'): e->pos = e->len; return 0;
    case AXM_KEY_CTRL('u'): e->len = e->pos = 0; e->buf[0] = 0; return 0;
    case KEY_BACKSPACE: case 127: case 8:
        if (e->pos > 0) {
            memmove(e->buf + e->pos - 1, e->buf + e->pos, (size_t)(e->len - e->pos + 1));
            e->pos--;
            e->len--;
        }
        return 0;
    case KEY_DC:
        if (e->pos < e->len) {
            memmove(e->buf + e->pos, e->buf + e->pos + 1, (size_t)(e->len - e->pos));
            e->len--;
        }
        return 0;
    default:
        if (ch >= 32 && ch < 127 && e->len < (int)sizeof e->buf - 1) {
            memmove(e->buf + e->pos + 1, e->buf + e->pos, (size_t)(e->len - e->pos + 1));
            e->buf[e->pos++] = (char)ch;
            e->len++;
        }
        return 0;
    }
}

void axm_lineedit_draw(const axm_lineedit *e, int y, int x, int w)
{
    if (w < 2) return;
    int start = e->pos >= w ? e->pos - w + 1 : 0;
    move(y, x);
    attron(A_UNDERLINE);
    for (int i = 0; i < w; i++) {
        int k = start + i;
        int c = k < e->len ? (unsigned char)e->buf[k] : ' ';
        if (k == e->pos) attron(A_REVERSE);
        addch((chtype)c);
        if (k == e->pos) attroff(A_REVERSE);
    }
    attroff(A_UNDERLINE);
}
