/* The MRG step on the GPU (mrg-model.md §3.3; what core/mrg.c's step does, operation for operation):
 * one thread per fiber (or, for small batches, 2 or 4 lanes per fiber on the condensed path), all of
 * its hidden state in global memory laid out [quantity][fiber] so that consecutive threads touch
 * consecutive addresses. Everything is double; T is only the storage type
 * of the node states (float with prec fp32, as the CPU kind stores them). */
#ifndef AXM_MRG_KERNEL_CUH
#define AXM_MRG_KERNEL_CUH

#include "mrg_rates.h"
#include "mrg_thomas.h"

namespace axmmrg {

enum { T_NODE = 0, T_MYSA = 1, T_FLUT = 2, T_STIN = 3, T_END = 4, N_TYPES = 5 };

/* Per-fiber constants, rows of the [N_K][B] table: node area, C, Gpas, Gmy, Cmy per type, the 11
 * axial and periaxonal links of an internode period, the periaxonal end links (passive end nodes),
 * then the dt-dependent internode factorization S[10][3] and unit responses z1, z2 (condensed path). */
enum {
    K_A = 0,
    K_C = 1,
    K_GPAS = K_C + N_TYPES,
    K_GMY = K_GPAS + N_TYPES,
    K_CMY = K_GMY + N_TYPES,
    K_GI = K_CMY + N_TYPES,
    K_GX = K_GI + 11,
    K_GXF = K_GX + 11,
    K_GXL = K_GXF + 1,
    K_S = K_GXL + 1,
    K_Z1 = K_S + 30,
    K_Z2 = K_Z1 + 20,
    N_K = K_Z2 + 20
};

#define AXM_MRG_MAX_CONTACTS 32
/* Elements per batch of the loops that load, compute and store (step_condensed says why): nodes,
 * and compartments of build_ve and of the recorder's copy (2 and 1 round trips per batch) */
#define AXM_MRG_NB 4
#define AXM_MRG_VB 16
#define AXM_MRG_GB 6 /* compartments per batch of step_general's back substitution */
#define AXM_MRG_BLOCK 128 /* threads per block at most (mrg_block picks fewer for small batches) */
/* Blocks of AXM_MRG_BLOCK threads per SM the kernels are compiled for, MINB1 with one lane per
 * fiber, MINBL with 2 or 4: 3 gives 168 registers, at which the batched step (step_condensed) keeps
 * an internode's loads in flight with next to no spills inside its loops (ptxas, nvcc 13, sm_90:
 * 48-140 B of spill loads per condensed kernel, at most 7 spill instructions per internode; the
 * passive-end kernels 224-328 B); at 4 (128 registers) 312-428 B, 68 per internode, and twice the
 * memory round trips there (sass.py --mem).
 * mrg_lanes keeps a batch within 3 blocks per SM where lanes are its choice. */
#ifndef AXM_MRG_MINB1
#define AXM_MRG_MINB1 3
#endif
#ifndef AXM_MRG_MINBL
#define AXM_MRG_MINBL 3
#endif

struct MPulse {
    int fiber, node;
    long long k_on, k_off;
    double amp;
};

template <typename T> struct MArgs {
    int B, W, M, pe, C;
    long long wlen;
    double gna, gnap, gk, gl, ena, ek, el, epas;
    double q[4];              /* Q10 factors of p m h s */
    const double *fc;         /* [N_K][B] */
    T *st;                    /* [5][W][B] node states m h p s v */
    double *vm, *vx, *ep;     /* [M][B] hidden state */
    double *ve;               /* [M][B] this step's potential (rounded to T as the CPU's ve buffer) */
    double *sc;               /* [scratch rows][B] */
    const double *phi;        /* [C][M][B] mV/mA */
    const double *waves;      /* [n_waves][wlen] */
    const int *wave_of;       /* [B][C] */
    const MPulse *pulses;
    int n_pulses;
    T *rec;                   /* [n_steps][5][W][B] or NULL */
    long long k0, n_steps;
    double dt;
    /* threshold rounds only (mrg_th_kernel) */
    const double *amp;        /* [B] amplitude factor of the extracellular stimulus */
    const T *ic;              /* [5][W][B] initial node states */
    double vinit;             /* initial hidden vm */
    unsigned *det;            /* [B] per checked node q: armed bit q, seen bit 16 + q */
    unsigned char *flag;      /* [B] TH_SKIP | TH_ACT | TH_BAD */
    double *vmax;             /* [B] max of vm over nodes and time, NaN sticks; NULL: not tracked */
    double thr, t_start;
    int n_chk, at_least;
    int chk[16];              /* resolved checked nodes */
    long long k_end;          /* the round's number of steps */
};

enum { TH_SKIP = 1, TH_ACT = 2, TH_BAD = 4 };

__device__ __forceinline__ int type_of(int j)
{
    return j == 0 ? T_NODE : (j == 1 || j == 10) ? T_MYSA : (j == 2 || j == 9) ? T_FLUT : T_STIN;
}

__device__ __forceinline__ double series_at(const double *w, long long len, long long k)
{
    if (k < len) return w[k];
    if (k == len && len >= 2) return 2 * w[len - 1] - w[len - 2];
    if (k == len && len == 1) return w[0];
    return 0.0;
}

template <typename T> struct Fib {
    const MArgs<T> &a;
    int b;
    __device__ Fib(const MArgs<T> &a_, int b_) : a(a_), b(b_) {}
    __device__ __forceinline__ size_t ix(size_t r) const { return r * (size_t)a.B + (size_t)b; }
    __device__ __forceinline__ double k(int r) const { return a.fc[ix((size_t)r)]; }
    __device__ __forceinline__ double st(int s, int i) const { return (double)a.st[ix((size_t)s * a.W + i)]; }
    __device__ __forceinline__ void set(int s, int i, double v) const { a.st[ix((size_t)s * a.W + i)] = (T)v; }
    __device__ __forceinline__ double &sc(size_t r) const { return a.sc[ix(r)]; }
    __device__ __forceinline__ double ve(int c) const { return a.ve[ix((size_t)c)]; }

    /* node i's gate states, in the rates' order p m h s (state slots 2 0 1 3) */
    __device__ __forceinline__ void gates_load(int i, double x[4]) const
    {
        x[0] = st(2, i);
        x[1] = st(0, i);
        x[2] = st(1, i);
        x[3] = st(3, i);
    }
    __device__ __forceinline__ void gates_store(int i, const double x[4]) const
    {
        set(2, i, x[0]);
        set(0, i, x[1]);
        set(1, i, x[2]);
        set(3, i, x[3]);
    }
    /* the cnexp update of gate states x (gates_load's order) with the node's new vm */
    __device__ __forceinline__ void gates_next(double vnew, double dt, double x[4]) const
    {
        double al[4], be[4];
        axm_mrg_rates_raw(vnew, al, be);
        for (int q = 0; q < 4; q++) {
            double sum = al[q] + be[q];
            double inf = al[q] / sum;
            x[q] = inf + (x[q] - inf) * exp(-dt * a.q[q] * sum);
        }
    }
    __device__ __forceinline__ void gates(int i, double vnew, double dt) const
    {
        double x[4];
        gates_load(i, x);
        gates_next(vnew, dt, x);
        gates_store(i, x);
    }

    /* ve of step kk at every compartment, as the CPU engine builds it (midstep waveform samples,
     * silent contacts skipped, the sum times the amplitude factor am rounded to the run's precision,
     * exactly 0 when no contact is on); with L lanes per fiber, lane sub's compartments sub + L n */
    template <int L = 1> __device__ void build_ve(long long kk, double am, int sub = 0) const
    {
        const int C = a.C, M = a.M;
        double w[AXM_MRG_MAX_CONTACTS];
        int on[AXM_MRG_MAX_CONTACTS];
        int any = 0;
        for (int c = 0; c < C; c++) {
            int wi = a.wave_of[(size_t)b * C + c];
            w[c] = 0;
            if (wi >= 0) {
                const double *wv = a.waves + (size_t)wi * (size_t)a.wlen;
                w[c] = 0.5 * (series_at(wv, a.wlen, kk) + series_at(wv, a.wlen, kk + 1));
            }
            on[c] = wi >= 0 && w[c] != 0.0;
            any |= on[c];
        }
        for (int j0 = sub; j0 < M; j0 += L * AXM_MRG_VB) { /* a batch's loads before its stores */
            double acc[AXM_MRG_VB] = {};
            for (int c = 0; c < C; c++) {
                if (!on[c]) continue;
#pragma unroll
                for (int u = 0; u < AXM_MRG_VB; u++)
                    if (j0 + u * L < M) acc[u] += w[c] * a.phi[ix((size_t)c * M + j0 + u * L)];
            }
#pragma unroll
            for (int u = 0; u < AXM_MRG_VB; u++)
                if (j0 + u * L < M) a.ve[ix((size_t)(j0 + u * L))] = any ? (double)(T)(am * acc[u]) : 0.0;
        }
    }

    /* intracellular current at node i for step kk, in the run's precision; 0 when none */
    __device__ __forceinline__ double intra(long long kk, int i) const
    {
        T in = (T)0;
        for (int p = 0; p < a.n_pulses; p++) {
            const MPulse &q = a.pulses[p];
            if (kk < q.k_on || kk >= q.k_off || (q.fiber >= 0 && q.fiber != b) || q.node != i) continue;
            in = (T)((double)in + q.amp);
        }
        return (double)in;
    }

    /* threshold rounds: back to the initial state (as axm_cuda_mrg's reset: hidden vm = v_init,
     * vx = ep = 0, node states from ic) */
    __device__ void reset() const
    {
        for (int c = 0; c < a.M; c++) {
            a.vm[ix((size_t)c)] = a.vinit;
            a.vx[ix((size_t)c)] = 0.0;
            a.ep[ix((size_t)c)] = 0.0;
        }
        for (int r = 0; r < 5 * a.W; r++) a.st[ix((size_t)r)] = a.ic[ix((size_t)r)];
    }
    /* max of m and vm over the nodes (core/thresh.c's vmax monitor: NaN sticks) */
    __device__ double vmax_with(double m) const
    {
        if (m != m) return m;
        for (int i0 = 0; i0 < a.W; i0 += AXM_MRG_VB) { /* batches: the loads clamped, so all issue at once */
            double v[AXM_MRG_VB];
#pragma unroll
            for (int u = 0; u < AXM_MRG_VB; u++) v[u] = st(4, min(i0 + u, a.W - 1));
#pragma unroll
            for (int u = 0; u < AXM_MRG_VB; u++) m = (v[u] != v[u] || v[u] > m) ? v[u] : m; /* a NaN stays */
            if (m != m) return m;
        }
        return m;
    }
    __device__ int vm_finite() const
    {
        for (int i = 0; i < a.W; i++)
            if (!isfinite(st(4, i))) return 0;
        return 1;
    }

    __device__ void step_general(long long kk, int has_in) const;
    __device__ void general_back(int lo, int hi, double &x1, double &x2, double dt) const;
    template <int L = 1>
    __device__ void step_condensed(long long kk, int has_in, int sub = 0, bool live = true) const;
};

/* The lanes of a fiber (L > 1) meet between the phases of a step: each phase's writes to the
 * fiber's global rows are then seen by the lanes that read them next. A no-op for one lane. */
template <int L> __device__ __forceinline__ void lanes_sync()
{
    if constexpr (L > 1) __syncwarp();
}

/* Any pulse on in step kk, for any fiber (the CPU adds a zero current then, which changes nothing) */
template <typename T> __device__ __forceinline__ int pulses_on(const MArgs<T> &a, long long kk)
{
    for (int p = 0; p < a.n_pulses; p++)
        if (kk >= a.pulses[p].k_on && kk < a.pulses[p].k_off) return 1;
    return 0;
}

/* Passive end nodes: the full 2-unknown block-tridiagonal elimination along the chain
 * (core/mrg.c step_fiber). Scratch: 7 rows per compartment. The chain is sequential, but its inputs
 * are not: a period (node i and its internode's 10 compartments) loads them all before its first
 * store, and the back substitution loads the factors of up to AXM_MRG_GB compartments (and the
 * node's gate states) at a time, so that a period waits out ~11 memory round trips (sass.py --mem;
 * most of them the period's loads that ptxas parks in L1 at 168 registers) instead of ~16 per
 * compartment (step_condensed says why). */
template <typename T> __device__ void Fib<T>::step_general(long long kk, int has_in) const
{
    const int M = a.M, W = a.W, pe = a.pe;
    const double dt = a.dt;
    double Cdt[N_TYPES], Cmydt[N_TYPES], gpas[N_TYPES], gmy[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        Cdt[t] = k(K_C + t) / dt;
        Cmydt[t] = k(K_CMY + t) / dt;
        gpas[t] = k(K_GPAS + t);
        gmy[t] = k(K_GMY + t);
    }
    axm_mrg_blk blk = {0, 0, 0, 0, 0};
    double gip = 0, gxp = 0;
    int shp = 0;
    double ep_prev = 0;
    for (int i = 0; i < W; i++) {
        const int c0 = 11 * i, n = i < W - 1 ? 11 : 1; /* the last node has no internode after it */
        /* the period's inputs: ve (and the next node's), potentials, hidden vx and previous ve,
         * the node's states and the per-fiber constants its compartments use */
        double e[12], v[11], x[11], p[11], s[4], gi[11], gx[11];
#pragma unroll
        for (int j = 0; j < 11; j++) {
            const int c = c0 + (j < n ? j : 0);
            e[j] = ve(c);
            v[j] = j == 0 ? st(4, i) : a.vm[ix((size_t)c)];
            x[j] = a.vx[ix((size_t)c)]; /* a node's too: a passive end node is a two-unknown block */
            p[j] = a.ep[ix((size_t)c)];
            gi[j] = k(K_GI + j);
            gx[j] = k(K_GX + j);
        }
        e[11] = ve(n == 11 ? c0 + 11 : c0);
        for (int q = 0; q < 4; q++) s[q] = st(q, i);
        const double gxf = k(K_GXF), gxl = k(K_GXL), A = k(K_A);
#pragma unroll
        for (int j = 0; j < 11; j++) {
            if (j >= n) break;
            const int c = c0 + j;
            int t = type_of(j);
            int endn = (j == 0 && (i == 0 || i == W - 1));
            if (endn && pe) t = T_END;
            int sh = (t == T_NODE);
            double gion, jion;
            if (sh) {
                double mm = s[0], hh = s[1], pp = s[2], ss = s[3];
                double gna = a.gna * mm * mm * mm * hh, gnap = a.gnap * pp * pp * pp, gk = a.gk * ss;
                gion = A * (gna + gnap + gk + a.gl);
                jion = A * ((gna + gnap) * a.ena + gk * a.ek + a.gl * a.el);
            } else {
                gion = gpas[t];
                jion = gion * a.epas;
            }
            double aa = Cdt[t] + gion;
            double common = Cdt[t] * v[j] + jion;
            double gin = 0, gxn = 0;
            int shn = 0;
            if (c < M - 1) {
                gin = gi[j];
                gxn = gx[j];
                if (pe && (c == 0 || c == M - 2)) gxn = c == 0 ? gxf : gxl;
                shn = (j == 10 && !(pe && i + 1 == W - 1));
            }
            double D11 = aa + gip + gin, D12, D22, r1 = common, r2;
            if (j == 0 && has_in) r1 += intra(kk, i);
            double gxe_p = gxp, gxe_n = gxn;
            if (sh) {
                D12 = 0;
                D22 = 1;
                r1 += aa * e[j];
                r2 = e[j];
                gxe_p = gxe_n = 0;
            } else {
                D12 = -aa;
                D22 = aa + Cmydt[t] + gmy[t] + gxp + gxn;
                r2 = -common + gmy[t] * e[j] + Cmydt[t] * (e[j] + x[j] - p[j]);
                if (shp) {
                    r2 += gxp * ep_prev;
                    gxe_p = 0;
                }
                if (shn) {
                    r2 += gxn * e[11];
                    gxe_n = 0;
                }
            }
            axm_mrg_thomas_fwd(D11, D12, D22, r1, r2, gip, gxe_p, &blk);
            axm_mrg_thomas_store(a.sc + b, (size_t)c * 7, (size_t)a.B, &blk, gin, gxe_n);
            gip = gin;
            gxp = gxn;
            shp = sh;
            ep_prev = e[j];
        }
    }
    double x1 = 0, x2 = 0;
    for (int i = W - 1; i >= 0; i--) {
        const int c0 = 11 * i;
        if (i < W - 1) general_back(c0 + 6, c0 + 10, x1, x2, dt);
        general_back(c0, i < W - 1 ? c0 + 5 : c0, x1, x2, dt);
    }
}

/* step_general's back substitution of compartments hi down to lo (at most AXM_MRG_GB; lo is a
 * node or inside an internode): every load first (clamped to the range, so that all issue), then
 * the chain, the stores, and at a node its potential and gates */
template <typename T>
__device__ __forceinline__ void Fib<T>::general_back(int lo, int hi, double &x1, double &x2, double dt) const
{
    double f[AXM_MRG_GB][7], e[AXM_MRG_GB], g[4] = {0, 0, 0, 0};
    const int i = lo / 11;
    const bool node = lo % 11 == 0, gated = node && !(a.pe && (i == 0 || i == a.W - 1));
#pragma unroll
    for (int u = 0; u < AXM_MRG_GB; u++) {
        const int c = hi - u < lo ? lo : hi - u;
        for (int q = 0; q < 7; q++) f[u][q] = a.sc[ix((size_t)c * 7 + q)];
        e[u] = ve(c);
    }
    if (gated) gates_load(i, g);
#pragma unroll
    for (int u = 0; u < AXM_MRG_GB; u++) {
        const int c = hi - u;
        if (c < lo) break;
        axm_mrg_thomas_back_f(f[u], &x1, &x2);
        double vnew = x1 - x2;
        a.vm[ix((size_t)c)] = vnew;
        a.vx[ix((size_t)c)] = x2;
        a.ep[ix((size_t)c)] = e[u];
        if (node && c == lo) {
            set(4, i, vnew);
            if (gated) {
                gates_next(vnew, dt, g);
                gates_store(i, g);
            }
        }
    }
}

/* All nodes active: internodes condensed onto a tridiagonal node system with the cached factors
 * (core/mrg.c step_fiber_condensed). Scratch rows: z0 [20][W-1], then nd [W][3]. L lanes per fiber
 * (lane sub; live: the lane has a fiber, else it only meets the others at the barriers): the
 * internodes i = sub + L n and nodes alike, the node chain's Thomas solve on lane 0. Each element's
 * operations are the one-lane step's, in its order, so the result does not depend on L. Expects
 * this step's ve complete (the caller's build_ve and a barrier); ends with a barrier.
 *
 * Why the phases hold their elements in registers and load in batches: the state lives in global
 * memory, and the compiler must assume that any store through one of the argument pointers may
 * change what a later load through another reads, so a load is never moved above an earlier store.
 * A loop that loads, computes and stores one element at a time then waits out a whole memory
 * latency per element: ~6300 round trips per step of a 51-node fiber written that way (sass.py
 * --mem's counts per loop times the trips), which at the 2.1 ms per step measured for 8192 fibers
 * on an H200 is ~0.33 us each: a small batch was bound by latency, not bandwidth. Here an
 * internode's 20 unknowns go through their right-hand sides and both eliminations in registers
 * (its loads all come before its stores: 3 round trips), the node loops take AXM_MRG_NB nodes per
 * batch with every load first, and the chain carries its previous values in registers instead of
 * reading back what it just stored: ~320 round trips per step with one lane, ~100 on lane 0 of 4. */
template <typename T>
template <int L>
__device__ void Fib<T>::step_condensed(long long kk, int has_in, int sub_, bool live_) const
{
    /* constants for one lane, so that its code is the one-thread step's */
    const int sub = L == 1 ? 0 : sub_;
    const bool live = L == 1 || live_;
    const int W = a.W, NI = W - 1;
    const double dt = a.dt;
    const size_t ND = (size_t)20 * NI;
    double Cdt[N_TYPES], Cmydt[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        Cdt[t] = live ? k(K_C + t) / dt : 0.0;
        Cmydt[t] = live ? k(K_CMY + t) / dt : 0.0;
    }
    const double g = live ? k(K_GI + 0) : 0.0;
    const double P = live ? k(K_Z1 + 0) : 0.0, Q = live ? k(K_Z1 + 18) : 0.0, R = live ? k(K_Z2 + 18) : 0.0;
    /* each internode's 20 unknowns with its nodes held at zero: right-hand sides, the elimination
     * down the internode's 10 compartment pairs and back up (independent across internodes) */
    for (int i = live ? sub : NI; i < NI; i += L) {
        const int c0 = 11 * i;
        double z[20];
#pragma unroll
        for (int q = 0; q < 10; q++) {
            const int c = c0 + 1 + q, t = type_of(q + 1);
            const double e = ve(c);
            const double common = Cdt[t] * a.vm[ix((size_t)c)] + k(K_GPAS + t) * a.epas;
            z[2 * q] = common;
            z[2 * q + 1] = -common + k(K_GMY + t) * e + Cmydt[t] * (e + a.vx[ix((size_t)c)] - a.ep[ix((size_t)c)]);
        }
        z[1] += k(K_GX + 0) * ve(c0);
        z[19] += k(K_GX + 10) * ve(c0 + 11);
#pragma unroll
        for (int q = 0; q < 10; q++) {
            const double s11 = k(K_S + 3 * q), s12 = k(K_S + 3 * q + 1), s22 = k(K_S + 3 * q + 2);
            double a1 = z[2 * q], a2 = z[2 * q + 1];
            if (q) {
                a1 = z[2 * q] + k(K_GI + q) * z[2 * q - 2];
                a2 = z[2 * q + 1] + k(K_GX + q) * z[2 * q - 1];
            }
            z[2 * q] = s11 * a1 + s12 * a2;
            z[2 * q + 1] = s12 * a1 + s22 * a2;
        }
#pragma unroll
        for (int q = 8; q >= 0; q--) {
            const double s11 = k(K_S + 3 * q), s12 = k(K_S + 3 * q + 1), s22 = k(K_S + 3 * q + 2);
            const double t1 = k(K_GI + q + 1) * z[2 * q + 2], t2 = k(K_GX + q + 1) * z[2 * q + 3];
            z[2 * q] += s11 * t1 + s12 * t2;
            z[2 * q + 1] += s12 * t1 + s22 * t2;
        }
#pragma unroll
        for (int r = 0; r < 20; r++) sc((size_t)r * NI + i) = z[r];
    }
    lanes_sync<L>();
    /* the node chain's rows (each node reads the internodes on both sides) */
    if (live) {
        const double A = k(K_A), CdtN = Cdt[T_NODE];
        for (int i = sub; i < W; i += L * AXM_MRG_NB) {
            double x[AXM_MRG_NB][5] = {}, e[AXM_MRG_NB] = {}, zr[AXM_MRG_NB] = {}, zl[AXM_MRG_NB] = {};
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB; u++) {
                const int n = i + u * L;
                if (n >= W) break;
                for (int s = 0; s < 5; s++) x[u][s] = st(s, n);
                e[u] = ve(11 * n);
                if (n < W - 1) zr[u] = sc((size_t)n);
                if (n > 0) zl[u] = sc((size_t)18 * NI + (n - 1));
            }
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB; u++) {
                const int n = i + u * L;
                if (n >= W) break;
                const double mm = x[u][0], hh = x[u][1], pp = x[u][2], ss = x[u][3];
                const double gna = a.gna * mm * mm * mm * hh, gnap = a.gnap * pp * pp * pp, gk = a.gk * ss;
                const double gion = A * (gna + gnap + gk + a.gl);
                const double jion = A * ((gna + gnap) * a.ena + gk * a.ek + a.gl * a.el);
                const double aa = CdtN + gion;
                double d = aa, rhs = CdtN * x[u][4] + jion + aa * e[u];
                if (has_in) rhs += intra(kk, n);
                if (n < W - 1) {
                    d += g - g * g * P;
                    rhs += g * zr[u];
                }
                if (n > 0) {
                    d += g - g * g * R;
                    rhs += g * zl[u];
                }
                sc(ND + 3 * n) = d;
                sc(ND + 3 * n + 1) = rhs;
            }
        }
    }
    lanes_sync<L>();
    if (live && sub == 0) { /* the chain: sequential, its carried values in registers */
        const double off = -g * g * Q;
        double cp = 0, rp = 0; /* c' = off / d' and rhs' of the node before */
        for (int i = 0; i < W; i += AXM_MRG_NB) {
            double d[AXM_MRG_NB] = {}, rhs[AXM_MRG_NB] = {};
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB && i + u < W; u++) {
                d[u] = sc(ND + 3 * (i + u));
                rhs[u] = sc(ND + 3 * (i + u) + 1);
            }
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB && i + u < W; u++) {
                const int n = i + u;
                if (n) {
                    d[u] -= off * cp;
                    rhs[u] -= off * rp;
                }
                rp = rhs[u] / d[u];
                cp = off / d[u];
                sc(ND + 3 * n + 1) = rp;
                sc(ND + 3 * n + 2) = cp;
            }
        }
        double xn = rp; /* the last node's value */
        for (int i = W - 2; i >= 0; i -= AXM_MRG_NB) {
            double rhs[AXM_MRG_NB] = {}, c[AXM_MRG_NB] = {};
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB && i - u >= 0; u++) {
                rhs[u] = sc(ND + 3 * (i - u) + 1);
                c[u] = sc(ND + 3 * (i - u) + 2);
            }
#pragma unroll
            for (int u = 0; u < AXM_MRG_NB && i - u >= 0; u++) {
                rhs[u] -= c[u] * xn;
                xn = rhs[u];
                sc(ND + 3 * (i - u) + 1) = xn;
            }
        }
    }
    lanes_sync<L>();
    /* back into the internodes: every load of one before its stores */
    for (int i = sub; live && i < NI; i += L) {
        const double gl = g * sc(ND + 3 * i + 1), gr = g * sc(ND + 3 * (i + 1) + 1);
        const int c0 = 11 * i;
        double vi[10], vx[10], e[10];
#pragma unroll
        for (int q = 0; q < 10; q++) {
            const double xi = sc((size_t)(2 * q) * NI + i) + gl * k(K_Z1 + 2 * q) + gr * k(K_Z2 + 2 * q);
            const double xx =
                sc((size_t)(2 * q + 1) * NI + i) + gl * k(K_Z1 + 2 * q + 1) + gr * k(K_Z2 + 2 * q + 1);
            vi[q] = xi - xx;
            vx[q] = xx;
            e[q] = ve(c0 + 1 + q);
        }
#pragma unroll
        for (int q = 0; q < 10; q++) {
            const size_t c = (size_t)(c0 + 1 + q);
            a.vm[ix(c)] = vi[q];
            a.vx[ix(c)] = vx[q];
            a.ep[ix(c)] = e[q];
        }
    }
    /* the nodes: potentials and gates */
    for (int i = sub; live && i < W; i += L * AXM_MRG_NB) {
        double x[AXM_MRG_NB][4] = {}, e[AXM_MRG_NB] = {}, vn[AXM_MRG_NB] = {};
#pragma unroll
        for (int u = 0; u < AXM_MRG_NB; u++) {
            const int n = i + u * L;
            if (n >= W) break;
            e[u] = ve(11 * n);
            vn[u] = sc(ND + 3 * n + 1);
            gates_load(n, x[u]);
        }
#pragma unroll
        for (int u = 0; u < AXM_MRG_NB; u++) {
            const int n = i + u * L;
            if (n >= W) break;
            const size_t c = (size_t)11 * n;
            const double vnew = vn[u] - e[u];
            a.vm[ix(c)] = vnew;
            a.vx[ix(c)] = e[u];
            a.ep[ix(c)] = e[u];
            set(4, n, vnew);
            gates_next(vnew, dt, x[u]);
            gates_store(n, x[u]);
        }
    }
    lanes_sync<L>();
}

/* A run chunk. L = 1: a thread per fiber. L = 2, 4 (the condensed path only): L consecutive lanes
 * per fiber, for batches too small to keep the card's memory system busy one thread per fiber
 * (mrg_cuda.cu, mrg_lanes); lanes past the batch take part in the barriers only. PE: passive end
 * nodes (step_general, one lane), a kernel of its own so that its registers do not crowd the
 * condensed step's (in one kernel the one-lane condensed step spilled 520 B). */
template <typename T, int L = 1, bool PE = false>
__global__ void __launch_bounds__(AXM_MRG_BLOCK, L == 1 ? AXM_MRG_MINB1 : AXM_MRG_MINBL) mrg_kernel(const MArgs<T> a)
{
    static_assert(!PE || L == 1, "passive end nodes step one lane per fiber");
    const int g = (int)(blockIdx.x * blockDim.x + threadIdx.x), b = g / L, sub = g % L;
    const bool live = b < a.B;
    if (L == 1 && !live) return;
    Fib<T> f(a, live ? b : 0);
    for (long long j = 0; j < a.n_steps; j++) {
        long long kk = a.k0 + j;
        if (live) f.template build_ve<L>(kk, 1.0, sub);
        lanes_sync<L>();
        int has_in = pulses_on(a, kk);
        if constexpr (PE)
            f.step_general(kk, has_in);
        else
            f.template step_condensed<L>(kk, has_in, sub, live);
        if (a.rec && live) {
            T *r = a.rec + (size_t)j * 5 * a.W * a.B;
            for (int s0 = sub; s0 < 5 * a.W; s0 += L * AXM_MRG_VB) {
                T x[AXM_MRG_VB] = {};
#pragma unroll
                for (int u = 0; u < AXM_MRG_VB; u++)
                    if (s0 + u * L < 5 * a.W) x[u] = a.st[(size_t)(s0 + u * L) * a.B + b];
#pragma unroll
                for (int u = 0; u < AXM_MRG_VB; u++)
                    if (s0 + u * L < 5 * a.W) r[(size_t)(s0 + u * L) * a.B + b] = x[u];
            }
        }
    }
}

/* One threshold round (core/thresh.h axm_thresh_round_fn), chunk [k0, k0 + n_steps) of k_end steps:
 * the forward step with the fiber's amplitude factor, then the Active detection of the state after
 * step kk at time (kk + 1) dt exactly as core/monitor.c's (a checked node counts when vm reaches thr
 * from below inside the window; its armed bit follows every sample), the fiber leaving as soon as
 * at_least checked nodes have fired, and the vm maximum of the bound fix's block test over the states
 * the CPU engine observes (the initial one, each later one up to the step before activation). The
 * first chunk starts from the initial state; det, vmax and flag carry a fiber across chunks and stay in
 * global memory during the step (one access each per step, registers kept for the step). L lanes
 * per fiber as mrg_kernel (the condensed path; lane 0 of a fiber resets it, tests it and keeps det,
 * vmax and flag); a fiber's lanes leave the step loop together once it fired (they read its det
 * word after a barrier), and a warp leaves once none of its fibers steps. */
template <typename T, int L = 1, bool PE = false>
__global__ void __launch_bounds__(AXM_MRG_BLOCK, L == 1 ? AXM_MRG_MINB1 : AXM_MRG_MINBL) mrg_th_kernel(const MArgs<T> a)
{
    static_assert(!PE || L == 1, "passive end nodes step one lane per fiber");
    const int g = (int)(blockIdx.x * blockDim.x + threadIdx.x), b = g / L, sub = g % L;
    const bool mine = b < a.B && !(a.flag[b] & (TH_SKIP | TH_ACT)); /* a fiber this round steps */
    if (L == 1 && !mine) return;
    Fib<T> f(a, mine ? b : 0);
    if (a.k0 == 0 && mine && sub == 0) {
        f.reset();
        unsigned det = 0;
        for (int q = 0; q < a.n_chk; q++)
            if (!(f.st(4, a.chk[q]) >= a.thr)) det |= 1u << q;
        a.det[b] = det;
        if (a.vmax) a.vmax[b] = f.vmax_with(-INFINITY);
    }
    lanes_sync<L>();
    bool live = mine;
    int act = 0;
    for (long long j = 0; j < a.n_steps; j++) {
        if constexpr (L > 1) {
            if (!__any_sync(0xffffffffu, live)) break;
        }
        long long kk = a.k0 + j;
        if (live) f.template build_ve<L>(kk, a.amp[b], sub);
        lanes_sync<L>();
        int has_in = pulses_on(a, kk);
        if constexpr (PE)
            f.step_general(kk, has_in);
        else
            f.template step_condensed<L>(kk, has_in, sub, live);
        const int in_window = (double)(kk + 1) * a.dt >= a.t_start - 1e-9 * a.dt;
        unsigned det = 0;
        if (live && sub == 0) {
            det = a.det[b];
            for (int q = 0; q < a.n_chk; q++) {
                const unsigned bit = 1u << q;
                const int ge = f.st(4, a.chk[q]) >= a.thr;
                if (ge && (det & bit) && in_window) det |= bit << 16;
                det = ge ? det & ~bit : det | bit;
            }
            a.det[b] = det;
        }
        lanes_sync<L>();
        if (live && sub != 0) det = a.det[b]; /* the other lanes read lane 0's word */
        if (live && __popc(det >> 16) >= a.at_least) {
            act = 1;
            if (L == 1) break;
            live = false;
            continue;
        }
        if (live && sub == 0 && a.vmax) a.vmax[b] = f.vmax_with(a.vmax[b]);
    }
    if (mine && sub == 0 && (act || a.k0 + a.n_steps >= a.k_end))
        a.flag[b] = (unsigned char)((act ? TH_ACT : 0) | (f.vm_finite() ? 0 : TH_BAD));
}

} // namespace axmmrg

#endif
