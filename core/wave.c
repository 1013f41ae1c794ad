/* Stimulus waveforms (fields-and-stimuli.md §6).
 *
 * Sample times are t_k = k*dt computed in double, as numpy's arange(0, tstop, dt), and pulse edges
 * use cajal's inequalities (on for start < t <= end) with a tolerance of 1e-6*dt. Exact float
 * comparisons make the windows depend on rounding: 140*0.005 > 0.5 + 0.2, so a 0.2 ms phase from
 * 0.5 ms would keep 39 samples, while the NEURON reference (and cajal, whose parameters pass through
 * float32) uses samples 101..140. With the tolerance every window holds round(pw/dt) samples when
 * the edges lie on the grid; off-grid edges (random draws) are unaffected. */
#include "wave.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *axm_wave_kind_name(axm_wave_kind k)
{
    switch (k) {
    case AXM_WAVE_MONO: return "mono";
    case AXM_WAVE_BIPHASIC: return "biphasic";
    case AXM_WAVE_SINE: return "sine";
    case AXM_WAVE_TRAIN: return "train";
    case AXM_WAVE_SAMPLES: return "samples";
    }
    return "unknown";
}

static int need_pos(const char *kind, const char *field, double v, axm_err *err)
{
    if (!(v > 0) || !isfinite(v))
        return axm_fail(err, AXM_ERR_INPUT, "%s wave: %s must be > 0 (got %g)", kind, field, v);
    return AXM_OK;
}

static int need_nonneg(const char *kind, const char *field, double v, axm_err *err)
{
    if (!(v >= 0) || !isfinite(v))
        return axm_fail(err, AXM_ERR_INPUT, "%s wave: %s must be >= 0 (got %g)", kind, field, v);
    return AXM_OK;
}

static int need_finite(const char *kind, const char *field, double v, axm_err *err)
{
    if (!isfinite(v)) return axm_fail(err, AXM_ERR_INPUT, "%s wave: %s must be finite (got %g)", kind, field, v);
    return AXM_OK;
}

/* Second phase width and amplitude of a biphasic pulse (charge balanced). */
static void second_phase(const axm_wave *w, double *pw2, double *amp2)
{
    if (w->pw2_ms == 0 || w->pw2_ms == w->pw_ms) {
        *pw2 = w->pw_ms;
        *amp2 = -w->amp_mA;
    } else {
        *pw2 = w->pw2_ms;
        *amp2 = -w->amp_mA * w->pw_ms / w->pw2_ms;
    }
}

int axm_wave_check(const axm_wave *w, axm_err *err)
{
    if (!w) return axm_fail(err, AXM_ERR_INPUT, "wave: missing");
    const char *k = axm_wave_kind_name(w->kind);
    int rc;
    switch (w->kind) {
    case AXM_WAVE_MONO:
    case AXM_WAVE_BIPHASIC:
    case AXM_WAVE_TRAIN:
        if ((rc = need_finite(k, "amp_mA", w->amp_mA, err)) || (rc = need_finite(k, "delay_ms", w->delay_ms, err)) ||
            (rc = need_pos(k, "pw_ms", w->pw_ms, err)))
            return rc;
        if (w->kind == AXM_WAVE_BIPHASIC || (w->kind == AXM_WAVE_TRAIN && w->train_biphasic))
            if ((rc = need_nonneg(k, "pw2_ms", w->pw2_ms, err)) || (rc = need_nonneg(k, "gap_ms", w->gap_ms, err)))
                return rc;
        if (w->kind == AXM_WAVE_TRAIN) {
            if ((rc = need_pos(k, "freq_khz", w->freq_khz, err)) || (rc = need_nonneg(k, "dur_ms", w->dur_ms, err)))
                return rc;
            double len = w->pw_ms, pw2, amp2;
            if (w->train_biphasic) {
                second_phase(w, &pw2, &amp2);
                len += w->gap_ms + pw2;
            }
            if (len > 1.0 / w->freq_khz)
                return axm_fail(err, AXM_ERR_INPUT,
                                "train wave: pulse length %g ms exceeds the period 1/freq_khz = %g ms", len,
                                1.0 / w->freq_khz);
        }
        return AXM_OK;
    case AXM_WAVE_SINE:
        if ((rc = need_finite(k, "amp_mA", w->amp_mA, err)) || (rc = need_finite(k, "delay_ms", w->delay_ms, err)) ||
            (rc = need_pos(k, "freq_khz", w->freq_khz, err)) || (rc = need_finite(k, "phase_rad", w->phase_rad, err)) ||
            (rc = need_finite(k, "offset_mA", w->offset_mA, err)) || (rc = need_nonneg(k, "dur_ms", w->dur_ms, err)))
            return rc;
        return AXM_OK;
    case AXM_WAVE_SAMPLES:
        if (w->n_samples < 2 || !w->t_ms || !w->v_mA)
            return axm_fail(err, AXM_ERR_INPUT, "samples wave: needs >= 2 (t_ms, v_mA) samples (got %d)", w->n_samples);
        for (int i = 0; i < w->n_samples; i++) {
            if (!isfinite(w->t_ms[i]) || !isfinite(w->v_mA[i]))
                return axm_fail(err, AXM_ERR_INPUT, "samples wave: sample %d is not finite (t %g, v %g)", i,
                                w->t_ms[i], w->v_mA[i]);
            if (i && !(w->t_ms[i] > w->t_ms[i - 1]))
                return axm_fail(err, AXM_ERR_INPUT, "samples wave: t_ms must increase (sample %d: %g after %g)", i,
                                w->t_ms[i], w->t_ms[i - 1]);
        }
        return AXM_OK;
    }
    return axm_fail(err, AXM_ERR_INPUT, "wave: unknown kind %d", (int)w->kind);
}

/* One pulse with its start at 0, at local time tau: cajal's MonophasicPulse / Biphasic with
 * delay 0 (edges computed as sums in the same order). */
static double pulse_at(const axm_wave *w, int biphasic, double delay, double t, double tol)
{
    double e1 = delay + w->pw_ms;
    if (t > delay + tol && t <= e1 + tol) return w->amp_mA;
    if (!biphasic) return 0.0;
    double pw2, amp2;
    second_phase(w, &pw2, &amp2);
    double s2 = e1 + w->gap_ms;
    if (t > s2 + tol && t <= s2 + pw2 + tol) return amp2;
    return 0.0;
}

int axm_wave_sample(const axm_wave *w, double dt_ms, long n, double *out, axm_err *err)
{
    int rc = axm_wave_check(w, err);
    if (rc) return rc;
    if (!(dt_ms > 0) || !isfinite(dt_ms))
        return axm_fail(err, AXM_ERR_INPUT, "%s wave: dt_ms must be > 0 (got %g)", axm_wave_kind_name(w->kind), dt_ms);
    if (n < 0 || (n > 0 && !out))
        return axm_fail(err, AXM_ERR_INPUT, "%s wave: bad sample count %ld", axm_wave_kind_name(w->kind), n);
    double period = w->kind == AXM_WAVE_TRAIN || w->kind == AXM_WAVE_SINE ? 1.0 / w->freq_khz : 0;
    int seg = 0;
    const double tol = 1e-6 * dt_ms;
    for (long k = 0; k < n; k++) {
        double t = (double)k * dt_ms, v = 0.0;
        switch (w->kind) {
        case AXM_WAVE_MONO: v = pulse_at(w, 0, w->delay_ms, t, tol); break;
        case AXM_WAVE_BIPHASIC: v = pulse_at(w, 1, w->delay_ms, t, tol); break;
        case AXM_WAVE_SINE:
            /* sinusoid on [delay, delay + dur] (SinusoidPulse's closed window), offset always */
            if (t >= w->delay_ms - tol && (w->dur_ms == 0 || t <= w->delay_ms + w->dur_ms + tol))
                v = w->amp_mA * sin(2.0 * M_PI * w->freq_khz * (t - w->delay_ms) + w->phase_rad);
            v += w->offset_mA;
            break;
        case AXM_WAVE_TRAIN:
            /* cajal's Repeat: 0 before delay, else the pulse at (t - delay) mod period */
            /* local time in [-tol, period - tol): a pulse start that rounding puts just below a
             * period boundary still counts as that boundary */
            if (t >= w->delay_ms - tol && (w->dur_ms == 0 || t <= w->delay_ms + w->dur_ms + tol))
                v = pulse_at(w, w->train_biphasic, 0.0, fmod(t - w->delay_ms + tol, period) - tol, tol);
            break;
        case AXM_WAVE_SAMPLES: {
            /* interp1d(kind="linear", fill_value=0): inside [t0, tN] inclusive, 0 outside */
            const double *x = w->t_ms, *y = w->v_mA;
            int m = w->n_samples;
            if (t < x[0] || t > x[m - 1]) break;
            while (seg < m - 2 && x[seg + 1] < t) seg++;
            double slope = (y[seg + 1] - y[seg]) / (x[seg + 1] - x[seg]);
            v = slope * (t - x[seg]) + y[seg];
            break;
        }
        }
        out[k] = v;
    }
    return AXM_OK;
}

/* Parses one number field; returns the end pointer or NULL. */
static const char *parse_num(const char *p, double *v)
{
    while (*p == ' ' || *p == '\t') p++;
    char *end;
    errno = 0;
    *v = strtod(p, &end);
    if (end == p || errno == ERANGE) return NULL;
    return end;
}

int axm_wave_load_csv(const char *path, double **t_ms, double **v_mA, int *n, axm_err *err)
{
    *t_ms = *v_mA = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return axm_fail(err, AXM_ERR_INPUT, "%s: cannot open waveform file: %s", path, strerror(errno));
    char line[1024];
    int cap = 0, cnt = 0, lineno = 0, rc = AXM_OK, seen_data = 0, header = 0;
    double *t = NULL, *v = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '\0' || *p == '#') continue;
        double a, b;
        const char *q = parse_num(p, &a);
        if (q) {
            while (*q == ' ' || *q == '\t') q++;
            if (*q == ',' || *q == ';') q++;
            q = parse_num(q, &b);
        }
        if (q)
            while (isspace((unsigned char)*q)) q++;
        if (!q || *q != '\0') {
            if (!seen_data && !header) { /* one header line before the data */
                header = 1;
                continue;
            }
            rc = axm_fail(err, AXM_ERR_INPUT, "%s:%d: expected two numbers t_ms,value_mA", path, lineno);
            break;
        }
        if (!isfinite(a) || !isfinite(b)) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s:%d: values must be finite", path, lineno);
            break;
        }
        if (cnt && !(a > t[cnt - 1])) {
            rc = axm_fail(err, AXM_ERR_INPUT, "%s:%d: t_ms must increase (%g after %g)", path, lineno, a, t[cnt - 1]);
            break;
        }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            double *nt = realloc(t, sizeof *t * (size_t)cap);
            if (nt) t = nt;
            double *nv = nt ? realloc(v, sizeof *v * (size_t)cap) : NULL;
            if (nv) v = nv;
            if (!nt || !nv) {
                rc = axm_fail(err, AXM_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
        }
        t[cnt] = a;
        v[cnt] = b;
        cnt++;
        seen_data = 1;
    }
    if (!rc && ferror(f)) rc = axm_fail(err, AXM_ERR_INPUT, "%s: read error", path);
    fclose(f);
    if (!rc && cnt < 2) rc = axm_fail(err, AXM_ERR_INPUT, "%s: needs at least 2 samples (got %d)", path, cnt);
    if (rc) {
        free(t);
        free(v);
        return rc;
    }
    *t_ms = t;
    *v_mA = v;
    *n = cnt;
    return AXM_OK;
}
