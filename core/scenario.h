/* Scenario files: one JSON document that describes a fiber model, a sweep of fibers and stimuli,
 * the time grid, spike detection and threshold-search settings. Used by the CLI (simulate,
 * threshold, cv) and the TUI.
 *
 *   axm_scenario_load()    parse + validate a file (every error is "FILE: key.path: expected ...,
 *                          got ..." with AXM_ERR_INPUT; malformed JSON names the line and column)
 *   axm_scenario_expand()  the Cartesian product of the swept values -> conditions
 *   axm_setup_create()     model (weights loaded) + one axm_sim (CPU) with one fiber per condition +
 *                          the drive (fields, waveforms, intracellular pulses), ready to run; the
 *                          drive can be bound to a GPU simulator as well (sim.device is the
 *                          caller's choice: the CLI uses the CUDA backend when it can)
 *   axm_setup_thresh_opts()  axm_threshold options from the scenario
 *
 * Form (every key except "fiber" optional; defaults in brackets):
 *   "description": text
 *   "model": {"name": "smf"|"sundt"|"mrg" [smf], "weights": FILE, "precision": "fp32"|"fp64"
 *             [fp32], "params": {NAME: number, ...} (overrides after the weights),
 *             "handle_nan": bool [true] (surrogates: replace the 0/0 points of the rate functions by
 *             their limits, smf-model.md §3, as the original's examples do),
 *             mrg only: "geometry": "method1"|"method2"|"method3"|"classic"|"piecewise" [method1],
 *             "passive_end_nodes": int >= 0 [0]}
 *   "fiber": {"nodes": int >= max(3, model minimum), "diameter_um": number | [numbers > 0]}
 *   "electrode": ELECTRODE           the main contact (contact 0); its distance_mm may be swept
 *   "electrodes": [ELECTRODE, ...]   further contacts, superposed (distance_mm a single value)
 *   ELECTRODE = {"kind": "point"|"point_aniso"|"line"|"table" [point],
 *     "rho_ohm_cm": number > 0 [1000] (point_aniso: [rho_x, rho_y, rho_z], y = fiber axis),
 *     "distance_mm": number | [numbers] [1] (perpendicular distance from the fiber axis, along x),
 *     "offset_mm": number [0] (shift along the fiber from the centre node (nodes-1)/2 at y = 0),
 *     "medium": "infinite"|"semi_infinite" [infinite], "weight": number [1] (scale of the contact),
 *     line: "points_mm": [[x,y,z], ...] (>= 2 points, relative to (distance_mm, offset_mm, 0)),
 *     table: "file": CSV|H5 (axm_field_table_load), "row": int [0], "units": "mV/mA"|"V/mA"
 *            [mV/mA], "interpolation": "linear"|"quadratic" [linear], "fill":
 *            "point_source"|"extrapolate" [point_source], "truncate": number in [0, 0.4] [0],
 *            "center_um": table coordinate of the fiber centre [midpoint of the table's range],
 *     "waveform": WAVEFORM (its own, not swept) — absent: the contact shares the main "waveform"}
 *   "waveform": WAVEFORM              the main waveform; pw_ms and polarity may be swept
 *   WAVEFORM = {"kind": "mono"|"biphasic"|"sine"|"train"|"samples" [mono],
 *     "pw_ms": number | [numbers > 0] [0.1] (biphasic: per phase), "polarity": "cathodic"|"anodic"
 *     or a list [cathodic] (sign of the first phase; cathodic = negative current),
 *     "amplitude_mA": number >= 0 [0.1] (simulate; the threshold search ignores it and reports the
 *     amplitude in mA), "delay_ms" [0.5], biphasic: "gap_ms" [0], "pw2_ms" [= pw_ms, charge
 *     balanced], sine: "freq_khz" > 0, "phase_rad" [0], "offset_mA" [0] (added at all times; the threshold
 *     search scales it with the amplitude: offset_mA/amplitude_mA per mA), "dur_ms" [0 = to the end],
 *     train: "freq_khz" > 0, "dur_ms" [0], "biphasic": bool [false], "gap_ms" [0],
 *     samples: "file": CSV (t_ms, value) — the file's values times amplitude_mA and the sign}
 *   "intra": [{"node": int (negative from the end), "delay_ms", "dur_ms" > 0, "amp_nA"}, ...]
 *            intracellular pulses into every fiber (positive = depolarizing)
 *   "sim": {"dt_ms": > 0 [0.005], "tstop_ms": > dt [5], "device": "auto"|"cpu"|"cuda" [cpu]}
 *   "detect": {"threshold_mV" [0], "nodes": [int, ...] [5, -5], "t_start_ms" [0], "at_least" [1]}
 *   "threshold": {"resolution": in (0,1) [0.01], "ub_mA": initial upper bound [0.2/(D/5)^2],
 *            "fix_bound_up" > 1 [5], "fix_bound_down" in (0,1) [0.1], "max_tries_bound_fix" [10],
 *            "max_tries" [50], "max_amp_mA" [1000]}
 *   "seed": int >= 0 (reserved for stochastic stimuli; recorded in outputs)
 *
 * Relative file names are looked up in the current directory first, then next to the scenario
 * file, then in its parent directory (so presets/x.json may name "weights/smf-default.json").
 *
 * Conditions: the swept values are diameter_um (fiber), distance_mm (main electrode), pw_ms and
 * polarity (main waveform). Conditions are their Cartesian product in this order, diameter
 * outermost and polarity innermost:
 *   index = ((i_diameter * n_distance + i_distance) * n_pw + i_pw) * n_polarity + i_polarity
 * Condition i is fiber i of the setup's sim. */
#ifndef AXM_SCENARIO_H
#define AXM_SCENARIO_H

#include <stdio.h>

#include "err.h"
#include "field.h"
#include "device.h"
#include "model.h"
#include "monitor.h"
#include "sim.h"
#include "thresh.h"
#include "wave.h"

#define AXM_SC_PATH 512

typedef struct axm_sc_wave {
    axm_wave_kind kind;
    int n_pw;
    double *pw_ms;            /* [n_pw]; one NaN entry for kinds without a pulse width */
    int n_pol;
    int *polarity;            /* [n_pol], -1 cathodic, +1 anodic */
    double amplitude_mA;      /* magnitude; the sign comes from the polarity */
    double pw2_ms, gap_ms, delay_ms, freq_khz, phase_rad, offset_mA, dur_ms; 
    int train_biphasic;
    char file[AXM_SC_PATH];   /* samples: the resolved CSV path */
    int n_samples;
    double *t_ms, *v_mA;      /* samples: owned */
} axm_sc_wave;

typedef struct axm_sc_electrode {
    axm_src_kind kind;
    int n_dist;
    double *distance_mm;      /* [n_dist]; swept for contact 0 only; NaN for tables */
    double offset_mm;
    double rho_ohm_cm, rho3[3];
    int semi_infinite;
    double weight;
    int n_pts;
    double *pts_mm;           /* line: [n_pts][3], relative to (distance, offset, 0) */
    char file[AXM_SC_PATH];   /* table: resolved path */
    axm_field_table *table;   /* table: owned, loaded by the parser */
    int row;
    double center_um;         /* NaN = midpoint of the table's range */
    axm_interp interp;
    axm_fill fill;
    double truncate;
    axm_sc_wave *wave;        /* own waveform (owned) or NULL = the main waveform */
} axm_sc_electrode;

typedef struct axm_scenario {
    char path[AXM_SC_PATH];   /* as given to the loader */
    char *description;        /* or NULL */
    /* model */
    char model_name[32];
    char weights[AXM_SC_PATH]; /* resolved path, "" = the model's default parameters */
    axm_prec prec;
    int geometry;             /* AXM_GEOM_* (mrg) */
    int passive_end_nodes;
    int handle_nan;
    int n_params;
    char (*param_name)[64];
    double *param_value;
    /* fiber */
    int nodes;
    int n_diam;
    double *diameter_um;
    /* stimulus */
    axm_sc_wave *wave;        /* main waveform or NULL */
    int n_elec;
    axm_sc_electrode *elec;   /* contact 0 is "electrode" when given, else electrodes[0] */
    int n_intra;
    axm_pulse *intra;         /* amp in mA (the file's nA converted), fiber = -1 */
    /* time and device */
    double dt_ms, tstop_ms;
    axm_device device;
    /* detection and threshold search */
    axm_detect detect;
    double resolution, ub_mA, fix_bound_up, fix_bound_down, max_amp_mA; /* ub_mA NaN = default */
    int max_tries, max_tries_bound_fix;
    long seed;                /* -1 = none given */
} axm_scenario;

/* One point of the sweep. */
typedef struct axm_condition {
    int index;
    int i_diam, i_dist, i_pw, i_pol;
    double diameter_um;
    double distance_mm;       /* NaN when contact 0 has no distance (table) or there is none */
    double pw_ms;             /* NaN when the main waveform has none */
    int polarity;             /* -1 cathodic, +1 anodic, 0 no main waveform */
} axm_condition;

/* Parses and validates; relative paths resolved as described above; field tables and sample
 * files loaded. NULL on error (err filled, code AXM_ERR_INPUT or AXM_ERR_NOMEM). */
axm_scenario *axm_scenario_load(const char *path, axm_err *err);
/* The same from text; name is used in messages and dir (may be NULL) for relative paths. */
axm_scenario *axm_scenario_parse(const char *text, const char *name, const char *dir, axm_err *err);
void axm_scenario_destroy(axm_scenario *sc);

int axm_scenario_n_conditions(const axm_scenario *sc);
/* Fills out[axm_scenario_n_conditions(sc)] in the documented order. */
void axm_scenario_expand(const axm_scenario *sc, axm_condition *out);
/* "mono", "biphasic", ... of the main waveform, or "none". */
const char *axm_scenario_wave_name(const axm_scenario *sc);
const char *axm_polarity_name(int polarity);   /* "cathodic", "anodic", "" */

/* Creates the model of a scenario (defaults, then weights, then "params", then MRG options). */
axm_model *axm_scenario_model(const axm_scenario *sc, axm_err *err);
/* The loud warning for a surrogate running on untrained weights, or NULL. */
const char *axm_model_untrained_warning(const axm_model *m);

/* A scenario ready to run: one fiber per condition. */
typedef struct axm_setup {
    const axm_scenario *sc;   /* borrowed: must outlive the setup */
    axm_model *model;
    axm_sim *sim;
    int n_cond;
    axm_condition *cond;
    double *diameter_um;      /* [n_cond] */
    long n_steps;             /* round(tstop / dt) */
    int unit_amplitude;
    axm_drive drive;
    char notes[1024];         /* warnings for the user (untrained weights), one per line */
    /* storage behind drive (owned) */
    axm_source *sources;
    double **waves;
    int n_waves;
    int *wave_of;
    double **line_pts;
    int n_line_pts;
    double *ub;               /* [n_cond] initial upper bounds for the threshold search */
} axm_setup;

typedef struct axm_setup_opts {
    /* 1: waveforms of unit amplitude with the polarity's sign (the threshold search's amplitude
     * factor is then in mA); 0: waveforms at amplitude_mA (simulate). */
    int unit_amplitude;
    int n_threads;            /* <= 0: all CPUs */
    int no_stimulus;          /* 1: no extracellular contacts (cv) */
} axm_setup_opts;

axm_setup *axm_setup_create(const axm_scenario *sc, const axm_setup_opts *o, axm_err *err);
void axm_setup_destroy(axm_setup *su);
/* Threshold-search options from the scenario (ub_init and D_um point into su). */
axm_thresh_opts axm_setup_thresh_opts(const axm_setup *su);
/* Options of one run of the whole scenario (tstop) from the initial state. */
axm_run_opts axm_setup_run_opts(const axm_setup *su, const volatile int *cancel);
/* Writes the setup's notes, each line prefixed with prog (e.g. "axonml"), to f. */
void axm_setup_print_notes(const axm_setup *su, const char *prog, FILE *f);

#endif
