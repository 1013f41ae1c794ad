/* Levenberg-Marquardt and a dense solve (lm.h). */
#include "lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

axm_lm_opts axm_lm_opts_default(void)
{
    axm_lm_opts o;
    memset(&o, 0, sizeof o);
    o.h = 0.02;
    o.iters = 6;
    o.max_step = 0.3;
    o.lambda0 = 1e-2;
    o.max_tries = 6;
    return o;
}

int axm_solve_dense(int n, double *a, double *b, axm_err *err)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i * n + c]) > fabs(a[p * n + c])) p = i;
        if (!(fabs(a[p * n + c]) > 0)) return axm_fail(err, AXM_ERR_RUNTIME, "solve: singular matrix (column %d)", c);
        if (p != c) {
            for (int j = 0; j < n; j++) {
                double t = a[c * n + j];
                a[c * n + j] = a[p * n + j];
                a[p * n + j] = t;
            }
            double t = b[c];
            b[c] = b[p];
            b[p] = t;
        }
        for (int i = c + 1; i < n; i++) {
            double f = a[i * n + c] / a[c * n + c];
            for (int j = c; j < n; j++) a[i * n + j] -= f * a[c * n + j];
            b[i] -= f * b[c];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int j = i + 1; j < n; j++) s -= a[i * n + j] * b[j];
        b[i] = s / a[i * n + i];
    }
    return AXM_OK;
}

static double sumsq(int m, const double *r)
{
    double s = 0;
    for (int i = 0; i < m; i++) s += r[i] * r[i];
    return s;
}

int axm_lm(int n, int m, axm_resid_fn f, void *ud, double *x, const axm_lm_opts *o, double *cost,
           int *n_evals, axm_err *err)
{
    axm_lm_opts def = axm_lm_opts_default();
    if (!o) o = &def;
    int evals = 0, rc = AXM_OK;
    double *r = malloc((size_t)m * sizeof *r), *rn = malloc((size_t)m * sizeof *rn);
    double *J = malloc((size_t)n * (size_t)m * sizeof *J); /* column k at J + k*m */
    double *A = malloc((size_t)n * (size_t)n * sizeof *A), *g = malloc((size_t)n * sizeof *g);
    double *xt = malloc((size_t)n * sizeof *xt), *d = malloc((size_t)n * sizeof *d);
    if (!r || !rn || !J || !A || !g || !xt || !d) {
        rc = axm_fail(err, AXM_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = f(ud, x, r, err);
    evals++;
    if (rc) goto out;
    double c0 = sumsq(m, r), lam = o->lambda0;
    if (o->progress) o->progress(o->progress_ud, -1, x, c0, lam);
    for (int it = 0; it < o->iters; it++) {
        for (int k = 0; k < n; k++) {
            if (o->cancel && *o->cancel) {
                rc = axm_fail(err, AXM_ERR_CANCELLED, "calibration cancelled");
                goto out;
            }
            memcpy(xt, x, (size_t)n * sizeof *x);
            xt[k] += o->h;
            rc = f(ud, xt, rn, err);
            evals++;
            if (rc) goto out;
            for (int i = 0; i < m; i++) J[(size_t)k * m + i] = (rn[i] - r[i]) / o->h;
        }
        double jtj[AXM_LM_MAX_PARAMS * AXM_LM_MAX_PARAMS], jtr[AXM_LM_MAX_PARAMS];
        double *JtJ = n <= AXM_LM_MAX_PARAMS ? jtj : NULL;
        if (!JtJ) {
            rc = axm_fail(err, AXM_ERR_INPUT, "lm: at most %d parameters, got %d", AXM_LM_MAX_PARAMS, n);
            goto out;
        }
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                double s = 0;
                for (int i = 0; i < m; i++) s += J[(size_t)a * m + i] * J[(size_t)b * m + i];
                JtJ[a * n + b] = s;
            }
            double s = 0;
            for (int i = 0; i < m; i++) s += J[(size_t)a * m + i] * r[i];
            jtr[a] = s;
        }
        int accepted = 0;
        for (int t = 0; t < o->max_tries && !accepted; t++) {
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) A[a * n + b] = JtJ[a * n + b];
                A[a * n + a] += lam * (JtJ[a * n + a] > 1e-12 ? JtJ[a * n + a] : 1e-12);
                d[a] = -jtr[a];
            }
            rc = axm_solve_dense(n, A, d, err);
            if (rc) goto out;
            double big = 0;
            for (int a = 0; a < n; a++)
                if (fabs(d[a]) > big) big = fabs(d[a]);
            for (int a = 0; a < n; a++) xt[a] = x[a] + (big > o->max_step ? d[a] * o->max_step / big : d[a]);
            if (o->cancel && *o->cancel) {
                rc = axm_fail(err, AXM_ERR_CANCELLED, "calibration cancelled");
                goto out;
            }
            rc = f(ud, xt, rn, err);
            evals++;
            if (rc) goto out;
            double cn = sumsq(m, rn);
            if (cn < c0) {
                memcpy(x, xt, (size_t)n * sizeof *x);
                memcpy(r, rn, (size_t)m * sizeof *r);
                c0 = cn;
                lam /= 3;
                accepted = 1;
            } else {
                lam *= 4;
            }
        }
        if (!accepted) break;
        if (o->progress) o->progress(o->progress_ud, it, x, c0, lam);
    }
    if (cost) *cost = c0;
out:
    if (n_evals) *n_evals = evals;
    free(r);
    free(rn);
    free(J);
    free(A);
    free(g);
    free(xt);
    free(d);
    return rc;
}
