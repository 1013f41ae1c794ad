/* Internal to the CUDA S-MF backend (C++ only): what its files share. smf_cuda.cu owns the simulator
 * (create, state, drive), smf_monitor.cu the fused monitors, smf_run.cu the runs, smf_thresh.cu the
 * threshold search and smf_rates_op.cu the gate rates' op-level check; the kernels are in
 * smf_kernel.cuh and smf_packed.cuh. */
#ifndef AXM_SMF_HOST_H
#define AXM_SMF_HOST_H

#include <stddef.h>
#include <string.h>

#include <vector>

#include "cuda_util.h"
extern "C" {
#include "smf.h"
}
#include "smf_kernel.cuh"

struct axm_cuda_sim {
    int dev, B, W;
    axm_prec prec;
    axm_model model;               /* shallow copy with its own p */
    double *D;
    double *ic_h;                  /* (B,5,W) */
    double *fib_h;                 /* [NFIB][B] */
    void *d_state, *d_ic, *d_fib, *d_amp;
    unsigned char *d_decided;
    int *d_first_bad;              /* final_state_check's result */
    int has_amp;
    /* drive */
    int mode, C;
    void *d_phis, *d_waves, *d_ve;
    int *d_wave_of;
    long long wlen, ve_len;
    axm_pulse *pulses;
    int n_pulses;
    axmcu::DPulse *d_pulses;
    int n_dpulses;
    double pulses_dt;              /* dt the device pulses were resolved for */
    long long k;                   /* absolute steps since the last reinit */
    int fresh;                     /* no run yet: state is the initial condition */
    int pack;                      /* AXM_PACK_*: axm_cuda_sim_set_packing */
    int sms;                       /* the device's multiprocessors */
    int packed_last;               /* fibers per block of the last run's packed kernel, 0: none */
    const char *kernel_last;       /* axm_cuda_sim_kernel_last */
    int warp_res[2];               /* warp_resident for this sim's precision and length, K_LITE and
                                      K_BARE; -1: not yet */
};

struct axm_cuda_mon {
    int type;
    axm_detect d;
    int mark, all_nodes;
    unsigned mask;
    int rnodes[AXM_CUDA_MAX_NODES];
    int rn, every, max_only;
    /* bound to a sim's shape at the first run after creation or reset ("fresh") */
    int fresh, B, W, n;
    axm_prec prec;
    unsigned char *d_below, *d_seen, *d_active;
    int *d_count;
    double *d_first;
    void *d_mx;
    int *d_rnodes, *d_rec_of_node;
    /* host results */
    unsigned char *h_active;
    int *h_count;
    double *h_first, *h_max;
    std::vector<axm_spike> *spikes;
    std::vector<double> *rec_data, *rec_times;
    long long last_fj;   /* absolute step index of the last recorded frame */
    int ns_rec, nn_rec;
    long frames;
};

namespace axmcu {

enum { MON_ACTIVE = 1, MON_APCOUNT = 2, MON_RASTER = 3, MON_RECORDER = 4 };

/* Copies doubles to the device, or from it, as the run's precision. */
int upload(void *dst, const double *src, size_t n, axm_prec prec, axm_err *err);
int download(double *dst, const void *src, size_t n, axm_prec prec, axm_err *err);

/* The S-MF constants in double, in kernel form (the exponent factors in ex's unit: cast_consts). */
int smf_consts(const axm_model *m, double dt, SmfC<double> *c, axm_err *err);

template <typename T> SmfC<T> cast_consts(const SmfC<double> &d)
{
    SmfC<T> c;
    const double *src = &d.amA;
    T *dst = &c.amA;
    /* the leading members are all doubles / Ts up to wve; copy them one by one */
    int n = (int)(offsetof(SmfC<double>, taps) / sizeof(double));
    for (int i = 0; i < n; i++) dst[i] = (T)src[i];
    /* the exponent factors in ex's unit: the same member index in both (see above) */
#define AXM_EXPF(x) (offsetof(SmfC<double>, x) / sizeof(double))
    static const size_t ex_factors[] = {
        AXM_EXPF(amCi), AXM_EXPF(bmCi),  AXM_EXPF(ahCi), AXM_EXPF(bhCi), AXM_EXPF(ampCi),
        AXM_EXPF(bmpCi), AXM_EXPF(asCi), AXM_EXPF(bsCi), AXM_EXPF(dtqm), AXM_EXPF(dtqp),
        AXM_EXPF(dtqh), AXM_EXPF(dtqs),  AXM_EXPF(amAq), AXM_EXPF(bmAq), AXM_EXPF(ahAq),
        AXM_EXPF(bhAq), AXM_EXPF(ampAq), AXM_EXPF(bmpAq), AXM_EXPF(asAq), AXM_EXPF(bsAq),
        AXM_EXPF(bhBC), AXM_EXPF(asBC),  AXM_EXPF(bsBC)};
#undef AXM_EXPF
    for (size_t i = 0; i < sizeof ex_factors / sizeof ex_factors[0]; i++)
        dst[ex_factors[i]] = (T)(src[ex_factors[i]] * Num<T>::ELOG);
    c.taps = d.taps;
    c.hw = d.hw;
    c.handle_nan = d.handle_nan;
    return c;
}

/* First absolute step k whose state time (k+1) dt is inside the detection window (the CPU
 * monitors' predicate, t >= t_start - 1e-9 dt, evaluated on the same doubles). */
long long first_checked_step(double t_start, double dt);

/* Lanes per warp of a fiber of W nodes: the smallest power of two with 32 NPL >= W. */
int npl_for(int W);

/* smf_cuda.cu: the sim's pulses as absolute step ranges for this dt, on the device. */
int resolve_pulses(axm_cuda_sim *s, double dt, axm_err *err);

/* smf_monitor.cu: detection settings' check, a monitor bound to a sim's shape (fresh state
 * allocated), and an Active or APCount monitor's kernel arguments. */
int check_detect(const axm_detect *d, axm_err *err);
int mon_bind(axm_cuda_mon *m, const axm_cuda_sim *s, axm_err *err);
int fill_det(DetDev *dd, const axm_cuda_mon *m, int W, double dt, int arm, axm_err *err);

/* The warp kernel of mode MODE (K_TH, K_LITE, K_FULL, K_BARE) at NPL npl for n_warps fibers. */
template <typename T, int MODE> cudaError_t launch_m(const KArgs<T> &a, int npl, int n_warps)
{
    dim3 grid((unsigned)((n_warps + WPB - 1) / WPB)), block(WPB * 32);
#ifdef AXM_CUDA_EMU /* tests/gpu/emu.sh: the same kernels on CPU threads */
    switch (npl) {
    case 1: axmemu::launch(grid, block, [&] { smf_kernel<T, 1, MODE>(a); }); break;
    case 2: axmemu::launch(grid, block, [&] { smf_kernel<T, 2, MODE>(a); }); break;
    case 4: axmemu::launch(grid, block, [&] { smf_kernel<T, 4, MODE>(a); }); break;
    default: axmemu::launch(grid, block, [&] { smf_kernel<T, 8, MODE>(a); }); break;
    }
#else
    switch (npl) {
    case 1: smf_kernel<T, 1, MODE><<<grid, block>>>(a); break;
    case 2: smf_kernel<T, 2, MODE><<<grid, block>>>(a); break;
    case 4: smf_kernel<T, 4, MODE><<<grid, block>>>(a); break;
    default: smf_kernel<T, 8, MODE><<<grid, block>>>(a); break;
    }
#endif
    return cudaGetLastError();
}

/* A run's or a threshold round's kernel arguments from the sim (drive, state, fiber constants). */
template <typename T> void base_args(KArgs<T> *a, const axm_cuda_sim *s, const SmfC<double> &cd)
{
    memset(a, 0, sizeof *a);
    a->c = cast_consts<T>(cd);
    a->B = s->B;
    a->W = s->W;
    a->state = (T *)s->d_state;
    a->ic = (const T *)s->d_ic;
    a->fib = (const T *)s->d_fib;
    a->mode = s->mode;
    a->C = s->C;
    a->phis = (const T *)s->d_phis;
    a->waves = (const T *)s->d_waves;
    a->ve = (const T *)s->d_ve;
    a->wlen = s->wlen;
    a->ve_len = s->ve_len;
    a->wave_of = s->d_wave_of;
    a->amp = s->has_amp ? (const T *)s->d_amp : NULL;
    a->n_pulses = s->n_dpulses;
    a->pulses = s->d_pulses;
    a->decided = s->d_decided;
}

} // namespace axmcu

#endif
