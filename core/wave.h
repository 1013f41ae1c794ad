/* Stimulus waveforms I(t) in mA (fields-and-stimuli.md §6), sampled on t_k = k*dt, k = 0..n-1.
 * Pulse edges follow cajal's inequalities on the floating-point grid: a monophasic pulse is on for
 * delay < t_k <= delay + pw (dt 0.005: delay 0.5, pw 0.1 -> samples 101..120). */
#ifndef AXM_WAVE_H
#define AXM_WAVE_H

#include "err.h"

typedef enum axm_wave_kind {
    AXM_WAVE_MONO = 0,      /* amp on (delay, delay+pw] */
    AXM_WAVE_BIPHASIC = 1,  /* amp on (delay, delay+pw], 0 for gap, -amp*pw/pw2 on the second phase */
    AXM_WAVE_SINE = 2,      /* amp*sin(2 pi f (t-delay) + phase) for t >= delay (+ offset) */
    AXM_WAVE_TRAIN = 3,     /* monophasic or biphasic pulses repeated at freq_khz, from delay */
    AXM_WAVE_SAMPLES = 4    /* arbitrary (t, value) samples, linear interpolation, 0 outside */
} axm_wave_kind;

typedef struct axm_wave {
    axm_wave_kind kind;
    double amp_mA;      /* signed: cathodic < 0 */
    double pw_ms;       /* first phase width */
    double pw2_ms;      /* second phase width (biphasic); 0 = same as pw (symmetric) */
    double gap_ms;      /* interphase gap (biphasic) */
    double delay_ms;
    double freq_khz;    /* sine, train */
    double phase_rad;   /* sine */
    double offset_mA;   /* sine: added at all times */
    double dur_ms;      /* sine/train: stop after delay + dur (0 = never); the sinusoid is on
                         * [delay, delay+dur] (SinusoidPulse's window), the offset at all times;
                         * a train is Repeat(pulse with delay 0, freq, delay) cut off after delay+dur */
    int train_biphasic; /* train: each pulse biphasic */
    int n_samples;      /* samples */
    const double *t_ms, *v_mA;
} axm_wave;

int axm_wave_check(const axm_wave *w, axm_err *err);
/* out[k] = I(k*dt), k = 0..n-1. */
int axm_wave_sample(const axm_wave *w, double dt_ms, long n, double *out, axm_err *err);
/* Reads a two-column CSV (t_ms, value_mA, optional header) into freshly allocated arrays. */
int axm_wave_load_csv(const char *path, double **t_ms, double **v_mA, int *n, axm_err *err);
const char *axm_wave_kind_name(axm_wave_kind k);

#endif
