#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct axm_progress {
    char label[64], unit[32];
    long total, done;
    FILE *out;
    int draw;
    double t0, last;
};

double axm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

axm_progress *axm_progress_create(const char *label, const char *unit, long total, FILE *out)
{
    axm_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "it");
    p->total = total > 0 ? total : 1;
    p->out = out ? out : stderr;
    p->draw = isatty(fileno(p->out));
    p->t0 = axm_now_s();
    p->last = -1.0;
    return p;
}

void axm_progress_force(axm_progress *p, int on)
{
    if (p) p->draw = on;
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 359999) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

void axm_progress_update(axm_progress *p, long done, const char *postfix)
{
    if (!p) return;
    p->done = done;
    if (!p->draw) return;
    double now = axm_now_s();
    if (done < p->total && p->last >= 0 && now - p->last < 0.1) return;
    p->last = now;
    double el = now - p->t0, frac = (double)done / (double)p->total;
    if (frac > 1) frac = 1;
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32], elapsed[32], bar[33];
    fmt_time(rate > 0 ? (double)(p->total - done) / rate : -1, eta, sizeof eta);
    fmt_time(el, elapsed, sizeof elapsed);
    int filled = (int)(frac * 30 + 0.5);
    for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    fprintf(p->out, "\r%s [%s] %3.0f%% %ld/%ld %.3g %s/s %s<%s%s%s\033[K", p->label, bar, 100 * frac, done,
            p->total, rate, p->unit, elapsed, eta, postfix ? " " : "", postfix ? postfix : "");
    fflush(p->out);
}

void axm_progress_finish(axm_progress *p)
{
    if (!p) return;
    if (p->draw) {
        double el = axm_now_s() - p->t0;
        char elapsed[32];
        fmt_time(el, elapsed, sizeof elapsed);
        fprintf(p->out, "\r%s: %ld %s in %s (%.3g %s/s)\033[K\n", p->label, p->done, p->unit, elapsed,
                el > 0 ? (double)p->done / el : 0.0, p->unit);
        fflush(p->out);
    }
    free(p);
}
