/* Extracellular field sources: transfer functions phi(y) in mV per mA of source current at points
 * on a fiber's axis (fields-and-stimuli.md §2-§5).
 *
 * Fiber coordinates: the fiber lies on the y axis with its centre at y = 0 (x = z = 0); a source's
 * position is given relative to that. */
#ifndef AXM_FIELD_H
#define AXM_FIELD_H

#include "err.h"

typedef enum axm_src_kind {
    AXM_SRC_POINT = 0,        /* isotropic homogeneous point source */
    AXM_SRC_POINT_ANISO = 1,  /* anisotropic homogeneous point source (rho3) */
    AXM_SRC_LINE = 2,         /* polyline source (Holt 1998), correct r^2 */
    AXM_SRC_TABLE = 3         /* tabulated field along the fiber (FEM), interpolated */
} axm_src_kind;

typedef enum axm_interp { AXM_INTERP_LINEAR = 0, AXM_INTERP_QUADRATIC = 1 } axm_interp;
typedef enum axm_fill { AXM_FILL_POINT_SOURCE = 0, AXM_FILL_EXTRAPOLATE = 1 } axm_fill;

/* A field table: n_rows fibers' potentials sampled at n_samples ascending axial coordinates. */
typedef struct axm_field_table {
    int n_rows, n_samples;
    double *y_um;   /* [n_samples], ascending */
    double *v;      /* [n_rows][n_samples], mV per mA */
    char path[512];
} axm_field_table;

/* Loads a table from .csv (first line: header "y_um,row0,row1,..." or no header; one sample per
 * line, first column y in µm, then one column per row) or .h5 (datasets "y_um" (n_samples) and
 * "v" (n_rows, n_samples) (1-D = one row), any numeric type, string attribute "units" of v =
 * "mV/mA" (the default when absent) or "V/mA" (x1000)). Values are multiplied by scale. */
axm_field_table *axm_field_table_load(const char *path, double scale, axm_err *err);
void axm_field_table_destroy(axm_field_table *t);

typedef struct axm_source {
    axm_src_kind kind;
    double x_um, y_um, z_um;  /* position (point) relative to the fiber centre */
    double rho_ohm_cm;        /* isotropic medium resistivity */
    double rho3[3];           /* anisotropic (x, y, z); y is the fiber axis */
    int semi_infinite;        /* 1: source on the surface of an insulating half space */
    /* line */
    int n_pts;
    const double *pts;        /* [n_pts][3], µm, relative to the fiber centre */
    /* table */
    const axm_field_table *table;
    int row;
    double y_center_um;       /* table coordinate of the fiber centre */
    axm_interp interp;
    axm_fill fill;
    double truncate;          /* fraction dropped at each end, 0 = none, <= 0.4 */
} axm_source;

/* phi at the n axial positions y_um (ascending) in mV per mA. A table source is evaluated at the
 * table coordinates y_um + y_center_um. */
int axm_source_eval(const axm_source *s, const double *y_um, int n, double *phi, axm_err *err);

/* Row `row` of a table at the n ascending table coordinates q_um, as cajal's
 * PreComputedInterpolate1D (§4): drop int(n_samples*truncate) samples at each end (none when that
 * is 0), interpolate (linear as interp1d; quadratic = interp1d's quadratic B-spline through all
 * samples), then outside the kept range either extrapolate with the interpolant or apply the
 * point-source fill; a fill that would be NaN (peak not above the end value) is an error. */
int axm_field_table_interp(const axm_field_table *t, int row, axm_interp interp, axm_fill fill,
                           double truncate, const double *q_um, int n, double *out, axm_err *err);

/* cajal's polyline trajectories for line sources (§3), written to pts[samples][3] in µm. */
void axm_line_helix(double y_start, double y_end, double radius, double orbits, double phase_rad,
                    int samples, double *pts);
void axm_line_arc(double y, double radius, double orbit, double phase_rad, int samples, double *pts);
void axm_line_3d(const double start[3], const double end[3], int samples, double *pts);

#endif
