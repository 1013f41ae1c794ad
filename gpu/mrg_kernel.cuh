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
#define AXM_MRG_BLOCK 128 /* threads per block at most (mrg_block picks fewer for small batches) */
/* The threshold kernel's register cap: 7 blocks of 128 threads per SM (72 registers, as the forward
 * kernel needs) instead of the 80-96 the detection would otherwise take */
#define AXM_MRG_TH_MIN_BLOCKS 7

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

    /* cnexp gate update of node i with its new vm (state slots m h p s from rates p m h s) */
    __device__ __forceinline__ void gates(int i, double vnew, double dt) const
    {
        double al[4], be[4];
        axm_mrg_rates_raw(vnew, al, be);
        const int slot[4] = {2, 0, 1, 3};
        for (int q = 0; q < 4; q++) {
            double sum = al[q] + be[q];
            double inf = al[q] / sum;
            double x = st(slot[q], i);
            set(slot[q], i, inf + (x - inf) * exp(-dt * a.q[q] * sum));
        }
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
        for (int j = sub; j < M; j += L) {
            double acc = 0.0;
            for (int c = 0; c < C; c++)
                if (on[c]) acc += w[c] * a.phi[ix((size_t)c * M + j)];
            a.ve[ix((size_t)j)] = any ? (double)(T)(am * acc) : 0.0;
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
        for (int i = 0; i < a.W; i++) {
            double v = st(4, i);
            if (v != v) return v;
            if (v > m) m = v;
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
 * (core/mrg.c step_fiber). Scratch: 7 rows per compartment. */
template <typename T> __device__ void Fib<T>::step_general(long long kk, int has_in) const
{
    const int M = a.M, W = a.W, pe = a.pe;
    const double dt = a.dt;
    double Cdt[N_TYPES], Cmydt[N_TYPES];
    for (int t = 0; t < N_TYPES; t++) {
        Cdt[t] = k(K_C + t) / dt;
        Cmydt[t] = k(K_CMY + t) / dt;
    }
    axm_mrg_blk blk = {0, 0, 0, 0, 0};
    double gip = 0, gxp = 0;
    int shp = 0;
    double ep_prev = 0;
    for (int c = 0, j = 0, i = 0; c < M; c++) {
        int t = type_of(j);
        int endn = (j == 0 && (i == 0 || i == W - 1));
        if (endn && pe) t = T_END;
        int sh = (t == T_NODE);
        double e = ve(c);
        double v = j == 0 ? st(4, i) : a.vm[ix((size_t)c)];
        double gion, jion;
        if (sh) {
            double mm = st(0, i), hh = st(1, i), pp = st(2, i), ss = st(3, i);
            double gna = a.gna * mm * mm * mm * hh, gnap = a.gnap * pp * pp * pp, gk = a.gk * ss;
            double A = k(K_A);
            gion = A * (gna + gnap + gk + a.gl);
            jion = A * ((gna + gnap) * a.ena + gk * a.ek + a.gl * a.el);
        } else {
            gion = k(K_GPAS + t);
            jion = gion * a.epas;
        }
        double aa = Cdt[t] + gion;
        double common = Cdt[t] * v + jion;
        double gin = 0, gxn = 0;
        int shn = 0;
        if (c < M - 1) {
            gin = k(K_GI + j);
            gxn = k(K_GX + j);
            if (pe && (c == 0 || c == M - 2)) gxn = c == 0 ? k(K_GXF) : k(K_GXL);
            shn = (j == 10 && !(pe && i + 1 == W - 1));
        }
        double D11 = aa + gip + gin, D12, D22, r1 = common, r2;
        if (j == 0 && has_in) r1 += intra(kk, i);
        double gxe_p = gxp, gxe_n = gxn;
        if (sh) {
            D12 = 0;
            D22 = 1;
            r1 += aa * e;
            r2 = e;
            gxe_p = gxe_n = 0;
        } else {
            D12 = -aa;
            D22 = aa + Cmydt[t] + k(K_GMY + t) + gxp + gxn;
            r2 = -common + k(K_GMY + t) * e + Cmydt[t] * (e + a.vx[ix((size_t)c)] - a.ep[ix((size_t)c)]);
            if (shp) {
                r2 += gxp * ep_prev;
                gxe_p = 0;
            }
            if (shn) {
                r2 += gxn * ve(c + 1);
                gxe_n = 0;
            }
        }
        axm_mrg_thomas_fwd(D11, D12, D22, r1, r2, gip, gxe_p, &blk);
        axm_mrg_thomas_store(a.sc + b, (size_t)c * 7, (size_t)a.B, &blk, gin, gxe_n);
        gip = gin;
        gxp = gxn;
        shp = sh;
        ep_prev = e;
        if (++j == 11) {
            j = 0;
            i++;
        }
    }
    double x1 = 0, x2 = 0;
    for (int c = M - 1; c >= 0; c--) {
        axm_mrg_thomas_back(a.sc + b, (size_t)c * 7, (size_t)a.B, &x1, &x2);
        double vnew = x1 - x2;
        a.vm[ix((size_t)c)] = vnew;
        a.vx[ix((size_t)c)] = x2;
        a.ep[ix((size_t)c)] = ve(c);
        if (c % 11 == 0) {
            int i = c / 11;
            set(4, i, vnew);
            if (pe && (i == 0 || i == W - 1)) continue;
            gates(i, vnew, dt);
        }
    }
}

/* All nodes active: internodes condensed onto a tridiagonal node system with the cached factors
 * (core/mrg.c step_fiber_condensed). Scratch rows: z0 [20][W-1], then nd [W][3]. L lanes per fiber
 * (lane sub; live: the lane has a fiber, else it only meets the others at the barriers): the
 * internodes i = sub + L n and nodes alike, the node chain's Thomas solve on lane 0. Each element's operations are the one-lane step's, in its order, so the
 * result does not depend on L. Expects this step's ve complete (the caller's build_ve and a
 * barrier); ends with a barrier. */
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
    /* each internode's 20 unknowns: right-hand sides, then the elimination down and back up the
     * internode's 10 compartment pairs (independent across internodes: lane sub takes the same
     * internodes in all three loops) */
    const int i0 = live ? sub : NI; /* a lane without a fiber skips the loops */
    for (int i = i0; i < NI; i += L) {
        int c0 = 11 * i;
        for (int q = 0; q < 10; q++) {
            int c = c0 + 1 + q;
            int t = type_of(q + 1);
            double e = ve(c);
            double common = Cdt[t] * a.vm[ix((size_t)c)] + k(K_GPAS + t) * a.epas;
            sc((size_t)(2 * q) * NI + i) = common;
            sc((size_t)(2 * q + 1) * NI + i) =
                -common + k(K_GMY + t) * e + Cmydt[t] * (e + a.vx[ix((size_t)c)] - a.ep[ix((size_t)c)]);
        }
        sc((size_t)1 * NI + i) += k(K_GX + 0) * ve(c0);
        sc((size_t)19 * NI + i) += k(K_GX + 10) * ve(c0 + 11);
    }
    for (int q = 0; q < 10; q++) {
        const double s11 = live ? k(K_S + 3 * q) : 0, s12 = live ? k(K_S + 3 * q + 1) : 0,
                     s22 = live ? k(K_S + 3 * q + 2) : 0;
        const size_t r1 = (size_t)(2 * q) * NI, r2 = r1 + NI;
        if (q) {
            const double gik = live ? k(K_GI + q) : 0, gxk = live ? k(K_GX + q) : 0;
            for (int i = i0; i < NI; i += L) {
                double a1 = sc(r1 + i) + gik * sc(r1 - 2 * NI + i), a2 = sc(r2 + i) + gxk * sc(r1 - NI + i);
                sc(r1 + i) = s11 * a1 + s12 * a2;
                sc(r2 + i) = s12 * a1 + s22 * a2;
            }
        } else {
            for (int i = i0; i < NI; i += L) {
                double a1 = sc(r1 + i), a2 = sc(r2 + i);
                sc(r1 + i) = s11 * a1 + s12 * a2;
                sc(r2 + i) = s12 * a1 + s22 * a2;
            }
        }
    }
    for (int q = 8; q >= 0; q--) {
        const size_t x1 = (size_t)(2 * q) * NI, x2 = x1 + NI, n1 = x1 + 2 * NI, n2 = x1 + 3 * NI;
        const double s11 = live ? k(K_S + 3 * q) : 0, s12 = live ? k(K_S + 3 * q + 1) : 0,
                     s22 = live ? k(K_S + 3 * q + 2) : 0;
        const double gin = live ? k(K_GI + q + 1) : 0, gxn = live ? k(K_GX + q + 1) : 0;
        for (int i = i0; i < NI; i += L) {
            double t1 = gin * sc(n1 + i), t2 = gxn * sc(n2 + i);
            sc(x1 + i) += s11 * t1 + s12 * t2;
            sc(x2 + i) += s12 * t1 + s22 * t2;
        }
    }
    lanes_sync<L>();
    /* the node chain's rows (each node reads the internodes on both sides) */
    if (live) {
        const double A = k(K_A), CdtN = Cdt[T_NODE];
        for (int i = sub; i < W; i += L) {
            double v = st(4, i);
            double mm = st(0, i), hh = st(1, i), pp = st(2, i), ss = st(3, i);
            double gna = a.gna * mm * mm * mm * hh, gnap = a.gnap * pp * pp * pp, gk = a.gk * ss;
            double gion = A * (gna + gnap + gk + a.gl);
            double jion = A * ((gna + gnap) * a.ena + gk * a.ek + a.gl * a.el);
            double aa = CdtN + gion, e = ve(11 * i);
            double d = aa, rhs = CdtN * v + jion + aa * e;
            if (has_in) rhs += intra(kk, i);
            if (i < W - 1) {
                d += g - g * g * P;
                rhs += g * sc((size_t)i);
            }
            if (i > 0) {
                d += g - g * g * R;
                rhs += g * sc((size_t)18 * NI + (i - 1));
            }
            sc(ND + 3 * i) = d;
            sc(ND + 3 * i + 1) = rhs;
        }
    }
    lanes_sync<L>();
    if (live && sub == 0) { /* the chain: sequential */
        const double off = -g * g * Q;
        for (int i = 0; i < W; i++) {
            double d = sc(ND + 3 * i), rhs = sc(ND + 3 * i + 1);
            if (i) {
                double cp = sc(ND + 3 * (i - 1) + 2);
                d -= off * cp;
                rhs -= off * sc(ND + 3 * (i - 1) + 1);
            }
            sc(ND + 3 * i + 1) = rhs / d;
            sc(ND + 3 * i + 2) = off / d;
            sc(ND + 3 * i) = d;
        }
        for (int i = W - 2; i >= 0; i--) sc(ND + 3 * i + 1) -= sc(ND + 3 * i + 2) * sc(ND + 3 * (i + 1) + 1);
    }
    lanes_sync<L>();
    /* back into the internodes and the nodes */
    for (int i = sub; live && i < NI; i += L) {
        double gl = g * sc(ND + 3 * i + 1), gr = g * sc(ND + 3 * (i + 1) + 1);
        int c0 = 11 * i;
        for (int q = 0; q < 10; q++) {
            int c = c0 + 1 + q;
            double xi = sc((size_t)(2 * q) * NI + i) + gl * k(K_Z1 + 2 * q) + gr * k(K_Z2 + 2 * q);
            double xx = sc((size_t)(2 * q + 1) * NI + i) + gl * k(K_Z1 + 2 * q + 1) + gr * k(K_Z2 + 2 * q + 1);
            a.vm[ix((size_t)c)] = xi - xx;
            a.vx[ix((size_t)c)] = xx;
            a.ep[ix((size_t)c)] = ve(c);
        }
    }
    for (int i = sub; live && i < W; i += L) {
        int c = 11 * i;
        double e = ve(c);
        double vnew = sc(ND + 3 * i + 1) - e;
        a.vm[ix((size_t)c)] = vnew;
        a.vx[ix((size_t)c)] = e;
        a.ep[ix((size_t)c)] = e;
        set(4, i, vnew);
        gates(i, vnew, dt);
    }
    lanes_sync<L>();
}

/* A run chunk. L = 1: a thread per fiber. L = 2, 4 (the condensed path only): L consecutive lanes
 * per fiber, for batches too small to keep the card's memory system busy one thread per fiber
 * (mrg_cuda.cu, mrg_lanes); lanes past the batch take part in the barriers only. */
template <typename T, int L = 1> __global__ void __launch_bounds__(AXM_MRG_BLOCK) mrg_kernel(const MArgs<T> a)
{
    const int g = (int)(blockIdx.x * blockDim.x + threadIdx.x), b = g / L, sub = g % L;
    const bool live = b < a.B;
    if (L == 1 && !live) return;
    Fib<T> f(a, live ? b : 0);
    for (long long j = 0; j < a.n_steps; j++) {
        long long kk = a.k0 + j;
        if (live) f.template build_ve<L>(kk, 1.0, sub);
        lanes_sync<L>();
        int has_in = pulses_on(a, kk);
        if (L == 1 && a.pe)
            f.step_general(kk, has_in);
        else
            f.template step_condensed<L>(kk, has_in, sub, live);
        if (a.rec && live) {
            T *r = a.rec + (size_t)j * 5 * a.W * a.B;
            for (int s = sub; s < 5 * a.W; s += L) r[(size_t)s * a.B + b] = a.st[(size_t)s * a.B + b];
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
template <typename T, int L = 1>
__global__ void __launch_bounds__(AXM_MRG_BLOCK, L == 1 ? AXM_MRG_TH_MIN_BLOCKS : 4) mrg_th_kernel(const MArgs<T> a)
{
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
        if (L == 1 && a.pe)
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
