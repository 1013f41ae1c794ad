/* Small dense least squares: Levenberg-Marquardt with a forward-difference Jacobian (the
 * calibration's search, calib.h) and the dense solve under it. */
#ifndef AXM_LM_H
#define AXM_LM_H

#include "err.h"

/* Most parameters axm_lm takes (its normal equations live on the stack). */
#define AXM_LM_MAX_PARAMS 32

/* Fills r[m] for x[n]; returns an axm_code. */
typedef int (*axm_resid_fn)(void *ud, const double *x, double *r, axm_err *err);

typedef struct axm_lm_opts {
    double h;                  /* forward-difference step in x; 0.02 */
    int iters;                 /* Jacobians; 6 */
    double max_step;           /* largest |dx_k| of one step; 0.3 */
    double lambda0;            /* initial damping (relative to diag(J'J)); 1e-2 */
    int max_tries;             /* damping increases per iteration before giving up; 6 */
    const volatile int *cancel;
    /* after each iteration (and once at it = -1 with the start): cost = sum r^2 */
    void (*progress)(void *ud, int it, const double *x, double cost, double lambda);
    void *progress_ud;
} axm_lm_opts;

axm_lm_opts axm_lm_opts_default(void);

/* Levenberg-Marquardt from x (in/out) on n parameters and m residuals: forward-difference
 * Jacobian, (J'J + lambda diag(J'J)) dx = -J'r, steps clipped to max_step, accepted when the
 * cost decreases (lambda / 3) else retried with lambda * 4. Stops after iters Jacobians or when
 * no damping gives a decrease. *cost gets the final sum r^2; *n_evals the residual evaluations.
 * AXM_ERR_CANCELLED leaves the best x so far. */
int axm_lm(int n, int m, axm_resid_fn f, void *ud, double *x, const axm_lm_opts *o, double *cost,
           int *n_evals, axm_err *err);

/* Solves the n x n system a x = b (row-major a, overwritten; b overwritten with x) by Gaussian
 * elimination with partial pivoting. AXM_ERR_RUNTIME when singular. */
int axm_solve_dense(int n, double *a, double *b, axm_err *err);

#endif
