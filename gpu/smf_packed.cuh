/* S-MF run kernel with several fibers packed into one block's lanes (K_LITE and K_BARE runs).
 *
 * The warp-per-fiber kernel (smf_kernel.cuh) gives each fiber 32 NPL lane-slots: at W = 101 nodes
 * 27 of 128 slots compute nothing, and every instruction is issued for them all the same. Here a
 * block of PT threads and NPL slots per thread holds F fibers end to end: slot i of thread t is
 * node g % W of the block's fiber g / W, g = i PT + t (slot-major, so that a slot's 32 lanes are
 * 32 consecutive nodes and the stencil's shared-memory reads stay conflict-free). At W = 101 that
 * is 5 fibers in 505 of 512 slots (NPL 2). The price: the fibers' constants come from shared memory each
 * step, and the steps are separated by block barriers instead of __syncwarp.
 *
 * Used for plain runs (no Raster, no full or max-only Recorder) where it fills the lanes better
 * (run_t, pack_geom); the results are the warp kernel's: the same node step, stencil and halo
 * code, the same monitor logic with a fiber's checked nodes on a group of nq lanes (the
 * warp kernel's lanes 0..n-1). Per step:
 *   slots: stencil and node step of every fiber not stopped   | barrier |
 *   slots: new vm into the rows; the next step's drive samples | barrier |
 *   monitors read the rows; a fiber that stops is marked        | barrier (only if one can stop) | */
#ifndef AXM_SMF_PACKED_CUH
#define AXM_SMF_PACKED_CUH

#include "smf_kernel.cuh"

namespace axmcu {

/* Threads per packed block, and 1 or 2 slots per thread: 4 slots (PT 128) give the same lane use,
 * but their per-slot fiber indices and constants push ptxas past 128 registers into ~300 B of
 * spills (fp32), where 2 slots stay at ~130. Resident blocks per SM asked of ptxas: fp32 3 (80
 * registers, ~190 B of spill loads, 24 warps; measured against 2 blocks (128 registers) on an
 * H200, B = 5e4: 1.08e11 / 9.8e10 node-steps/s at 101 nodes, 8.5e10 / 7.9e10 at 21, 9.1e10 / 7.9e10
 * at 130), fp64 1 (~190 registers, 8 warps). A second buffer of rows, for one block barrier per step
 * instead of two, measured the same (9.81e10 / 9.77e10 at 101 nodes) and was dropped. With the
 * one-reciprocal gates (v5) fp32 spills ~230 B of loads at 3 blocks and none at 2 (127 registers),
 * and 3 blocks still measured faster: 1.12e11 against 1.06e11 at 101 nodes, B = 5e4 (H200). */
#ifndef AXM_SMF_PT
#define AXM_SMF_PT 256
#endif
/* threads per block: fp32 AXM_SMF_PT (a build knob: 512 gives 5 fibers of 101 nodes one slot per
 * thread, in half the registers per thread of 2 slots; 7 % slower at B = 5e4, H200), fp64 256 */
template <typename T> struct Pt {
    static constexpr int n = sizeof(T) == 4 ? AXM_SMF_PT : 256;
};
/* The division branch of the packed node step as a loop over the gates (gate_rates_div), as v4:
 * at 80 registers the unrolled form spills more, and the loop measured faster here, B = 5e4 fp32
 * (v5, H200, 2026-11-27): 101 nodes 1.18e11 against 1.12e11, 130 nodes 9.86e10 against 9.43e10;
 * the ULDCs it brings (see gate_rates_div) cost less than the spills. */
#ifndef AXM_SMF_PDIVLOOP32
#define AXM_SMF_PDIVLOOP32 1
#endif
/* What the bare kernel does with slots that hold no fiber to step (idle, past B, decided before):
 * 0 steps them with the others (no test in the loop); 2 skips a slot's node step where none of the
 * warp's lanes has a fiber in it (a uniform branch per slot); 1 skips both slots' steps only where
 * none of the warp's slots has one (one branch around them). Measured 2 against 0 (H200, 101
 * nodes, session 22): B = 1 fp32 1.87e8 / 1.28e8, fp64 6.5e7 / 3.45e7 node-steps/s, but B = 100
 * and 1000 5 % slower, 5e4 1.2 %: the branch between the slots' steps takes away their
 * interleaving, which the batches that leave the SMs half idle lived on. 1 keeps it (predicted:
 * half of 2's gain at B = 1, nothing lost elsewhere; not yet measured). Default 0. */
#ifndef AXM_SMF_PSKIP
#define AXM_SMF_PSKIP 0
#endif
/* fibers per packed block at most: their monitor groups (<= 16 lanes) fill the block */
template <typename T> struct PMaxF {
    static constexpr int n = Pt<T>::n / 16;
};
#ifndef AXM_SMF_PMINB32
#define AXM_SMF_PMINB32 (AXM_SMF_PT == 256 ? 3 : 1)
#endif
template <typename T> struct PackedMinB {
    static constexpr int n = sizeof(T) == 4 ? AXM_SMF_PMINB32 : 1;
};
/* per-fiber constants in shared memory, in Ts: the node step's (StepK), the amplitude */
template <typename T> struct Pcf {
    static constexpr int n = (int)(sizeof(StepK<T>) / sizeof(T)) + 1;
};

/* Shared-memory bytes of a packed block: constants, drive samples, rows with halos and a spare
 * cell, then the fibers' flags; for F fibers and an idle one (fiber F: the slots past the last
 * fiber compute it and store into its row, so that no slot needs a test). */
template <typename T> static inline size_t packed_smem(int F, int W, int C)
{
    constexpr int HALO = AXM_MAX_TAPS / 2;
    const size_t F1 = (size_t)F + 1; /* + the idle slots' fiber */
    size_t nT = F1 * Pcf<T>::n + F1 * (C > 0 ? C : 1) + F1 * (W + 2 * HALO) + 1;
    return nT * sizeof(T) + (2 * F1 + 1) * sizeof(int);
}

/* BARE: a run that the warp kernel would take as K_BARE (no monitors, pulses or materialized
 * potential, at most one contact): the loop without their code and state */
template <typename T, int NPL, bool BARE = false>
__global__ void __launch_bounds__(Pt<T>::n, PackedMinB<T>::n) smf_packed_kernel(const KArgs<T> a, int F, int nq)
{
    constexpr int PT = Pt<T>::n;
    constexpr int HALO = AXM_MAX_TAPS / 2;
#ifdef AXM_CUDA_EMU
    unsigned char *smem_raw = axmemu::cur().dsm;
#else
    extern __shared__ __align__(16) unsigned char smem_raw[];
#endif
    const int B = a.B, W = a.W, C = a.C, tid = threadIdx.x, lane = tid & 31;
    const int RW = W + 2 * HALO; /* a fiber's row with its halos */
    const int b0 = blockIdx.x * F;
    const int F1 = F + 1;                       /* fiber F: the idle slots' */
    StepK<T> *kf = (StepK<T> *)smem_raw;        /* [F1] the node step's constants */
    T *famp = (T *)(kf + F1);                   /* [F1] amplitude */
    T *co = famp + F1;                          /* [F1][C] this step's amplitude x waveform sample */
    T *rows = co + F1 * (C > 0 ? C : 1);        /* [F1][RW] + spare */
    int *done = (int *)(rows + F1 * RW + 1);    /* [F1]: not stepped (decided before, or stopped) */
    int *skip = done + F1;                      /* [F1]: decided before this launch, past B, or idle */
    int *n_done = skip + F1;
    const SmfC<T> &c = a.c;
    const int hw = c.hw, taps = c.taps;
    const int spare = F1 * RW;                  /* rows[spare]: the cell for stores that have no place */
    const int sep = (a.mode & DRIVE_SEP) && C > 0;

    /* per-fiber set-up */
    if (tid == 0) *n_done = 0;
    for (int f = tid; f < F1; f += PT) {
        const int b = b0 + f, live = f < F && b < B;
        T x[6] = {(T)0, (T)0, (T)0, (T)0, (T)0, (T)0};
        for (int r = 0; live && r < 6; r++) x[r] = a.fib[r * B + b];
        kf[f] = make_stepk(a.c, a.dt, x[0], x[1], x[2], x[3], x[4], x[5]);
        famp[f] = live ? (a.amp ? a.amp[b] : (T)1) : (T)0;
    }
    for (int f = tid; f < F1; f += PT) {
        int b = b0 + f, sk = f == F || b >= B || (a.stop_when_decided && a.decided[b]);
        skip[f] = sk;
        done[f] = sk;
    }
    for (int q = tid; q < F1 * RW + 1; q += PT) rows[q] = (T)-80; /* the idle row's values stay harmless */
    for (int q = tid; q < F1 * (C > 0 ? C : 1); q += PT) co[q] = (T)0;
    __syncthreads();
    if (tid == 0)
        for (int f = 0; f < F; f++) *n_done += done[f];

    /* slots: fiber (F: idle), the node's cell in the rows (stencil centre and store) and its
     * reflection's (spare if none, as hmir in smf_kernel); the node index is sctr - f RW - HALO */
    int sf[NPL], sctr[NPL], hmir[NPL];
    T m[NPL], h[NPL], p[NPL], s[NPL], v[NPL], ph0[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        int g = i * PT + tid, f = g / W, j = g % W;
        int live = f < F && b0 + f < B;
        if (!live) {
            f = F;
            j = 0;
        }
        sf[i] = f;
        sctr[i] = f * RW + HALO + j;
        const int r = halo_mirror(j, W, hw);
        hmir[i] = !live || !r ? spare : f * RW + HALO + r;
        const int b = live ? b0 + f : 0;
        if (live) {
            state_load(a.state, b, W, j, m[i], h[i], p[i], s[i], v[i]);
        } else {
            m[i] = h[i] = p[i] = s[i] = (T)0.5;
            v[i] = (T)-80;
        }
        const int w0 = sep ? __ldg(a.wave_of + b * C) : -1;
        ph0[i] = live && w0 >= 0 ? __ldg(a.phis + (long long)b * C * W + j) : (T)0;
        rows[sctr[i]] = v[i];
        rows[hmir[i]] = v[i];
    }
#define SJ(i) (sctr[i] - sf[i] * RW - HALO) /* slot i's node */
    const int hfast = COUNT_FAST || W > 2 * hw + 1; /* else a node can have two reflections: halo_put */
    if (!hfast) {
        __syncthreads();
#pragma unroll
        for (int i = 0; i < NPL; i++)
            if (sf[i] < F) halo_put(rows + sf[i] * RW + HALO, SJ(i), W, hw, v[i]);
    }

    /* the drive samples of step k: co[f][cc] = amp x waveform (0 for no waveform), thread f C + cc
     * (F C <= PT: pack_geom's caller) */
    const T *swave = NULL;
    T samp = (T)0;
    if (tid < F * C && sep && b0 + tid / C < B) {
        int wi = __ldg(a.wave_of + (b0 + tid / C) * C + tid % C);
        if (wi >= 0) {
            swave = a.waves + (long long)wi * a.wlen;
            samp = famp[tid / C];
        }
    }
    /* the warp kernel's fast path for a sample inside the waveform: the other warps wait at the
     * next barrier for the one that loads the samples */
    auto samples = [&](long long k) {
        if (tid < F * C)
            co[tid] = swave ? samp * (COUNT_FAST || k < a.wlen ? __ldg(swave + k) : series_at(swave, a.wlen, k)) : (T)0;
    };
    const long long n_steps = a.n_steps, k0 = a.k0;
    samples(k0);
    __syncthreads();

    /* monitor tasks: thread t checks node q = t % nq of fiber t / nq (the warp kernel's lane q) */
    const int mf = tid / nq, mq = tid % nq, mb = b0 + mf;
    const int mlive = mf < F && mb < B && !skip[mf < F ? mf : 0];
    const unsigned gmask = (nq >= 32 ? FULL_MASK : ((1u << nq) - 1u) << (lane & ~(nq - 1)));
    T *mrow = rows + (mf < F ? mf : 0) * RW + HALO;
    const int act_on = !BARE && a.act.on;
    const int ap_on = !BARE && a.ap.on;
    const int arm_act = a.first_launch && a.act.arm;
    DetLane act, ap;
    int active = 0;
    if (act_on && mlive) {
        if (mq < a.act.n) det_load(act, a.act, mb, mq, mrow, arm_act, DET_ACTIVE);
        active = a.act.active[mb];
    }
    if (ap_on && mlive && mq < a.ap.n) det_load(ap, a.ap, mb, mq, mrow, a.first_launch && a.ap.arm, DET_APCOUNT);
    const int can_stop = act_on && a.act.mark && a.stop_when_decided;
    const int more_drive = !BARE && ((sep && C > 1) || (a.mode & DRIVE_MAT) || a.n_pulses > 0);
    const double dt_d = a.dt;
    /* BARE: nothing stops during the launch, so every slot steps, those of fibers decided before it
     * and the idle ones too (their rows are their own, their state is not stored: a test per slot
     * and step less), and the fibers' constants stay in registers (the lite kernel reads them from
     * shared memory each step: registers it has not) */
    StepK<T> kc[NPL];
#pragma unroll
    for (int i = 0; i < NPL; i++) kc[i] = BARE ? kf[sf[i]] : StepK<T>();
    /* ... unless AXM_SMF_PSKIP says to skip the slots of the warp that hold none (see there) */
    int wlive[NPL], wany = 1, lany = 0;
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        wlive[i] = !BARE || AXM_SMF_PSKIP != 2 || __any_sync(FULL_MASK, !skip[sf[i]]);
        lany |= !skip[sf[i]];
    }
    if (BARE && AXM_SMF_PSKIP == 1) wany = __any_sync(FULL_MASK, lany);

    for (long long st = 0; st < n_steps; st++) {
        const long long k = k0 + st;
        T e[NPL], intra[NPL];
        int on[NPL];
#pragma unroll
        for (int i = 0; i < NPL; i++) {
            const int f = sf[i];
            on[i] = BARE || !done[f];
            e[i] = sep ? co[f * C] * ph0[i] : (T)0;
            intra[i] = (T)0;
        }
        if (more_drive && sep) {
            for (int cc = 1; cc < C; cc++) {
#pragma unroll
                for (int i = 0; i < NPL; i++) {
                    const int b = b0 + sf[i];
                    if (on[i]) e[i] += co[sf[i] * C + cc] * __ldg(a.phis + ((long long)b * C + cc) * W + SJ(i));
                }
            }
        }
        if (more_drive && (a.mode & DRIVE_MAT) && k <= a.ve_len) {
            const long long stride = (long long)B * W;
#pragma unroll
            for (int i = 0; i < NPL; i++) {
                if (!on[i]) continue;
                const int b = b0 + sf[i];
                const T *vb = a.ve + (long long)b * W;
                T acc = (T)0;
#pragma unroll
                for (int t = 0; t < AXM_MAX_TAPS; t++)
                    if (t < taps) acc += c.wve[t] * series_at(vb + reflect(SJ(i) + t - hw, W), a.ve_len, k, stride);
                e[i] += famp[sf[i]] * (a.fib[6 * B + b] * acc);
            }
        }
        for (int q = 0; more_drive && q < a.n_pulses; q++) {
            const DPulse &P = a.pulses[q];
            if (k >= P.k_on && k < P.k_off) {
#pragma unroll
                for (int i = 0; i < NPL; i++)
                    if (SJ(i) == P.node && (P.fiber < 0 || P.fiber == b0 + sf[i])) intra[i] += (T)P.amp;
            }
        }
        if (COUNT_FAST || taps == 3) stencil_add<3>(e, rows, sctr, c.wvm);
        else if (taps == 5) stencil_add<5>(e, rows, sctr, c.wvm);
        else stencil_add<0>(e, rows, sctr, c.wvm, taps);
#pragma unroll
        for (int i = 0; wany && i < NPL; i++) {
            if (!on[i] || !wlive[i]) continue;
            smf_node_step<T, AXM_SMF_PDIVLOOP32, !BARE>(c, m[i], h[i], p[i], s[i], v[i], e[i], intra[i],
                                                        BARE ? kc[i] : kf[sf[i]]);
        }
        fix_nonfinite(c, v, BARE ? NULL : on);
        __syncthreads(); /* every stencil read and drive sample of step k done */
        if (hfast) {
            halo_store(rows, sctr, hmir, v);
        } else {
#pragma unroll
            for (int i = 0; i < NPL; i++)
                if (sf[i] < F) halo_put(rows + sf[i] * RW + HALO, SJ(i), W, hw, v[i]);
        }
        samples(k + 1);
        __syncthreads(); /* the rows hold the state at (k+1) dt */

        /* monitors see the state at time (k+1) dt */
        /* a fiber's group reads its stop flag before its leader may set it (below, after __syncwarp) */
        const int mon = mlive && !done[mf < F ? mf : 0];
        int stop = 0;
        if (act_on) {
            if (mon && mq < a.act.n) act_step(act, a.act, mrow, k);
            unsigned bal = __ballot_sync(FULL_MASK, mon && act.seen) & gmask;
            if (mon && !active && __popc(bal) >= a.act.at_least) active = 1;
            if (mon && active && can_stop) stop = 1;
        }
        if (ap_on && mon && mq < a.ap.n) ap_step(ap, a.ap, mrow, k, dt_d);
        if (can_stop) {
            __syncwarp();
            if (stop && mq == 0) {
                done[mf] = 1;
                atomicAdd(n_done, 1);
            }
            __syncthreads(); /* the stop flags reach every slot before the next step */
            if (*n_done >= F) break;
        }
    }

    /* store the state and the monitors' persistent state (not of fibers decided before) */
#pragma unroll
    for (int i = 0; i < NPL; i++) {
        const int j = SJ(i), b = b0 + sf[i];
        if (!skip[sf[i]]) state_store(a.state, b, W, j, m[i], h[i], p[i], s[i], v[i]);
    }
#undef SJ
    if (!mlive) return;
    if (act_on) act_store(act, a.act, mb, mq, active, a.decided);
    if (ap_on && mq < a.ap.n) ap_store(ap, a.ap, mb, mq);
}

/* How much better packing must fill the lanes than a warp per fiber (npl_warp slots per lane)
 * before AXM_PACK_AUTO takes it for a large batch, for plain runs (bare: the node steps alone) and
 * the others (lite). Packed / warp per fiber measured on an H200 (bench_cuda, B = 5e4, 1000 steps),
 * at 21, 41, 51, 101 and 130 nodes (lane use gained +0.33, +0.32, +0.20, +0.20, +0.25):
 * - bare (session 22, 2026-11-27): fp32 1.26x, 1.22x, 1.03x, 1.04x, 1.56x (at B = 1e4 and 101
 *   nodes 1.00x); fp64 1.33x, 1.40x, 1.18x, 0.85x, 1.32x (0.83x at B = 1e4). Packing wins wherever it
 *   fills the lanes better but in fp64 at 65-128 nodes, where the warp kernel's 4 independent
 *   slots per lane hide the double pipe's latency better than the packed kernel's 2.
 * - lite (v5, session 17; earlier: 2 blocks per SM, then 3, gained 8-14 %): fp32 1.10x, 0.94x,
 *   0.79x, 0.82x, 1.30x; fp64 0.81x, 1.15x, 0.97x, 0.83x, 1.44x. The monitors' shared state and
 *   barriers cost the packed kernel more: it packs where the gain is large (at 41 nodes fp32
 *   packs, 6 % slower; fp64 does not, 15 % slower: close enough that one run does not settle it).
 * 0.15 for bare lies between the measured gains (0.20 wins) and no measured case. */
template <typename T> static inline double pack_min_gain(int npl_warp, int bare)
{
    constexpr double never = 2.0; /* lane use is at most 1 */
    if (bare) return sizeof(T) == 8 && npl_warp == 4 ? never : 0.15;
    if (sizeof(T) == 8) return npl_warp == 8 ? 0.0 : never;
    return 0.25;
}

/* Packed launch geometry for W nodes and C contacts: slots per thread and fibers per block, or
 * npl = 0 when packing would not fill the lanes more than min_gain better than a warp per fiber
 * (npl_warp slots per lane) or the block would not hold it (48 KB of shared memory; one thread per
 * fiber and contact takes the drive samples). nq: lanes per fiber for the monitors (a power of two
 * >= the checked nodes). */
struct PackGeom {
    int npl, F, nq;
};
template <typename T> static inline PackGeom pack_geom(int W, int C, int n_checked, int npl_warp, double min_gain)
{
    constexpr int PT = Pt<T>::n, PMAXF = PMaxF<T>::n;
    PackGeom best = {0, 0, 1};
    int nq = 1;
    while (nq < n_checked) nq *= 2;
    if (nq > 16) return best;
    double use_warp = (double)W / (32.0 * npl_warp), use_best = use_warp + min_gain;
    for (int npl = 1; npl <= 2; npl *= 2) {
        int F = PT * npl / W;
        if (F > PMAXF) F = PMAXF;
        if (F > PT / nq) F = PT / nq;
        if (F < 2) continue;
        double use = (double)F * W / (PT * npl);
        if (use > use_best) {
            best = {npl, F, nq};
            use_best = use;
        }
    }
    if (best.npl && (packed_smem<T>(best.F, W, C) > 48 * 1024 || best.F * C > PT)) best.npl = 0;
    return best;
}

} // namespace axmcu

#endif
