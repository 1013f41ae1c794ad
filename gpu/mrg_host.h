/* Internal to the CUDA MRG backend (C++ only): what its files share. mrg_cuda.cu owns the simulation
 * (create, state, drive, the dt-dependent device data), mrg_run.cu the runs (axm_cuda_mrg_run and
 * gendata's engine), mrg_thresh.cu the threshold search; the kernels are in mrg_kernel.cuh. */
#ifndef AXM_MRG_HOST_H
#define AXM_MRG_HOST_H

#include <string.h>

#include <vector>

#include "cuda_util.h"
extern "C" {
#include "mrg.h"
#include "mrg_internode.h"
}
#include "mrg_kernel.cuh"

struct axm_cuda_mrg {
    int dev, B, W, M, pe, n_scratch;
    int sms;                       /* the device's multiprocessors */
    int lanes;                     /* axm_cuda_mrg_set_lanes (0: mrg_lanes' rule) */
    axm_prec prec;
    axm_model model;               /* shallow copy with its own p */
    double par[8];                 /* gna gnap gk gl ena ek el epas */
    double vinit, q[4];
    double *D;
    double *ic_h;                  /* (B,5,W) initial node states */
    std::vector<double> *fc_h;     /* [B][N_K] */
    double fact_dt;                /* dt the uploaded factorization belongs to; 0 = none */
    void *d_st;                    /* [5][W][B] in prec */
    double *d_fc, *d_vm, *d_vx, *d_ep, *d_ve, *d_sc;
    /* drive */
    int C;
    long long wlen;
    double *d_phi, *d_waves;
    int *d_wave_of;
    std::vector<axm_pulse> *pulses;
    axmmrg::MPulse *d_pulses;
    double pulses_dt;
    long long k;
    int fresh;                     /* next run starts from the initial state */
    long long max_launch;          /* steps per launch cap; 0 = automatic */
};

namespace axmmrg {

/* Fiber-steps of work per launch (about 1e5 compartment-steps each at W = 101): a launch lasts a
 * fraction of a second at full occupancy, so cancel and progress are polled often enough. */
const double FIBER_NODE_STEPS_PER_LAUNCH = 2e8;
/* Device buffer for recorded states per launch. */
const double REC_BYTES_PER_LAUNCH = 256e6;

/* Threads per block of a launch over B threads (mrg_cuda.cu says why). */
int mrg_block(int B, int sms);
/* Lanes per fiber of a run: want if set, else the rule in mrg_cuda.cu. */
int mrg_lanes(int B, int sms, int pe, int want);
/* The initial state (step counter 0), and the dt-dependent device data (mrg_cuda.cu). */
int reset_state(axm_cuda_mrg *s, axm_err *err);
int prepare(axm_cuda_mrg *s, double dt, axm_err *err);

/* mrg_kernel (TH: mrg_th_kernel) with L lanes per fiber (PE: passive end nodes) */
template <typename T, int L, bool TH, bool PE = false> cudaError_t launch_l(const MArgs<T> &a, int sms)
{
    const int n = a.B * L, blk = mrg_block(n, sms); /* blk a multiple of 32: a fiber's lanes in one warp */
    dim3 grid((unsigned)((n + blk - 1) / blk)), block((unsigned)blk);
#ifdef AXM_CUDA_EMU /* tests/gpu/emu.sh: the same kernel on CPU threads */
    axmemu::launch(grid, block, [&] {
        if constexpr (TH) mrg_th_kernel<T, L, PE>(a);
        else mrg_kernel<T, L, PE>(a);
    });
#else
    if constexpr (TH) mrg_th_kernel<T, L, PE><<<grid, block>>>(a); /* constexpr: mrg_run.cu and mrg_thresh.cu */
    else mrg_kernel<T, L, PE><<<grid, block>>>(a);                  /* each compile their own kernels only */
#endif
    return cudaGetLastError();
}

/* a run chunk (TH: a threshold round's) with the sim's lanes per fiber (mrg_lanes) */
template <typename T, bool TH = false> cudaError_t launch(const MArgs<T> &a, const axm_cuda_mrg *s)
{
    if (a.pe) return launch_l<T, 1, TH, true>(a, s->sms);
    const int L = mrg_lanes(a.B, s->sms, s->pe, s->lanes);
    return L == 4   ? launch_l<T, 4, TH>(a, s->sms)
           : L == 2 ? launch_l<T, 2, TH>(a, s->sms)
                    : launch_l<T, 1, TH>(a, s->sms);
}

/* The kernel arguments every launch shares: shapes, model, device buffers, drive. */
template <typename T> void base_args(const axm_cuda_mrg *s, MArgs<T> &a, double dt)
{
    memset(&a, 0, sizeof a);
    a.B = s->B;
    a.W = s->W;
    a.M = s->M;
    a.pe = s->pe;
    a.C = s->C;
    a.wlen = s->wlen;
    a.gna = s->par[0];
    a.gnap = s->par[1];
    a.gk = s->par[2];
    a.gl = s->par[3];
    a.ena = s->par[4];
    a.ek = s->par[5];
    a.el = s->par[6];
    a.epas = s->par[7];
    for (int i = 0; i < 4; i++) a.q[i] = s->q[i];
    a.fc = s->d_fc;
    a.st = (T *)s->d_st;
    a.vm = s->d_vm;
    a.vx = s->d_vx;
    a.ep = s->d_ep;
    a.ve = s->d_ve;
    a.sc = s->d_sc;
    a.phi = s->d_phi;
    a.waves = s->d_waves;
    a.wave_of = s->d_wave_of;
    a.pulses = s->d_pulses;
    a.n_pulses = (int)s->pulses->size();
    a.dt = dt;
}

} // namespace axmmrg

#endif
