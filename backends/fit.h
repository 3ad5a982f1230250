/* SPDX-License-Identifier: MIT */
/*
 * fit.h - fit a GPU file's analytic efficiency parameters to measured op times (`afdsim fit`,
 * cli/cmd-fit.c; docs/backends/analytical.md, "Fitting the parameters to a profile").
 *
 * The parameters θ = (gemm_max_fraction, gemm_max_fraction_fp8 (left 0, not given, when no
 * fp8 GEMM is measured), gemm_half_m, memory_fraction, attention_max_fraction, and the launch
 * overhead of each kernel class: the GPU file's efficiency.launch_overhead_per_class_s,
 * backends/analytic.c) minimise a least-squares objective in log space, every op family
 * weighing the same whatever its number of points:
 *   J(θ) = Σ_f (1/n_f) Σ_{i ∈ f} ln²( t_analytic(op_i; θ) / t_measured_i )
 * by cyclic coordinate search: each parameter in turn takes the best value of a grid over its
 * range (fractions in steps of 0.0025 in [0.05, 1]; gemm_half_m on 97 log-spaced values in
 * [1, 4096]; each launch overhead in steps of 0.1 µs in [0, 20 µs]), the others held, until a
 * full cycle changes nothing (at most 30 cycles). Deterministic; the analytic backend itself
 * (backends/analytic.c) prices every op, so the fit can only be as good as its formula.
 * A family's class is the kernel class the analytic backend charges it (GEMMs → gemm,
 * attention → attention, copies → memory); a class without samples keeps its start value.
 * afd_fit_split() draws the held-out half for an out-of-sample check (`afdsim fit --holdout`).
 * Checked by tests/test-fit.c (parameters recovered from synthetic times).
 */
#ifndef AFD_BACKENDS_FIT_H
#define AFD_BACKENDS_FIT_H

#include <glib.h>

#include "sim/gpu-spec.h"
#include "sim/op.h"

G_BEGIN_DECLS

/* Op families the fit weighs equally and reports on. */
typedef enum {
  AFD_FIT_GEMM_BF16 = 0, /* dense GEMMs in bf16/fp16 */
  AFD_FIT_GEMM_FP8,      /* dense GEMMs in fp8 */
  AFD_FIT_DECODE,        /* decode attention cores */
  AFD_FIT_PREFILL,       /* prefill attention cores */
  AFD_FIT_MEMORY,        /* copies (memory-bound ops) */
  AFD_FIT_GROUPED,       /* grouped expert GEMMs (reported; in the objective only if asked) */
  AFD_FIT_N_FAMILIES
} AfdFitFamily;

/* Returns: the family's name ("gemm_bf16", ...). */
const char *afd_fit_family_name (AfdFitFamily family);

/* One measured op. */
typedef struct {
  AfdFitFamily family;
  AfdOp *op;         /* (owned by the caller) */
  double measured_s; /* measured median time */
} AfdFitSample;

/* Prices every sample on @gpu with the analytic backend into @out_s (n values).
 * Returns: %FALSE with the backend's error. */
gboolean afd_fit_price (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                        double *out_s, GError **error);

/* Per-family error of the analytic backend against the samples. */
typedef struct {
  guint n;
  double median_abs_error_rel; /* median of |t_analytic − t_measured| / t_measured */
  double p90_abs_error_rel;    /* nearest rank */
  double median_error_rel;     /* signed median: > 0 means priced too slow */
} AfdFitFamilyError;

/**
 * afd_fit_errors:
 * @gpu: the GPU whose efficiency and launch overhead price the ops
 * @out: (array fixed-size=AFD_FIT_N_FAMILIES): per-family errors
 *
 * Returns: %FALSE with the analytic backend's error
 */
gboolean afd_fit_errors (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                         AfdFitFamilyError *out, GError **error);

/* The fitted parameters. */
typedef struct {
  AfdGpuEfficiency efficiency;
  double launch_overhead_s[3]; /* indexed by AfdKernelClass */
  double objective;            /* J at these values (afd_fit_efficiency() only) */
} AfdFitParams;

/* Returns: @gpu's current values of the fitted parameters (effective launch overheads). */
AfdFitParams afd_fit_params_of (const AfdGpuSpec *gpu);

/* Writes @params into @gpu (efficiency and the three launch_overhead_*_s). */
void afd_fit_params_apply (const AfdFitParams *params, AfdGpuSpec *gpu);

/**
 * afd_fit_efficiency:
 * @gpu: the starting point (its efficiency block and launch overheads)
 * @fit_grouped: include AFD_FIT_GROUPED samples in the objective
 * @hold_half_m: keep @gpu's gemm_half_m (to map the objective along it: `afdsim fit
 *   --gemm-half-m V`)
 * @out: (out): the fitted parameters
 *
 * Returns: %FALSE with the analytic backend's error, or AFD_ERROR_CONFIG when no family has
 *   samples
 */
gboolean afd_fit_efficiency (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                             gboolean fit_grouped, gboolean hold_half_m, AfdFitParams *out,
                             GError **error);

/**
 * afd_fit_split:
 * @seed: seeds GLib's GRand (Mersenne Twister; the same seed gives the same split everywhere)
 * @fit_half: (out): an array of AfdFitSample receiving the fitting half
 * @held_out: (out): an array of AfdFitSample receiving the other half
 *
 * Splits @samples family by family: each family's samples in a Fisher–Yates order drawn from
 * @seed, the first ⌈n_f/2⌉ to @fit_half, the rest to @held_out (both keep the input order).
 * The ops are shared with @samples, not copied.
 */
void afd_fit_split (const AfdFitSample *samples, guint n, guint32 seed, GArray *fit_half,
                    GArray *held_out);

G_END_DECLS

#endif /* AFD_BACKENDS_FIT_H */
