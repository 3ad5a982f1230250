/* SPDX-License-Identifier: MIT */
/*
 * fit.h - fit a GPU file's analytic efficiency parameters to measured op times (`afdsim fit`,
 * cli/cmd-fit.c; docs/backends/analytical.md, "Fitting the parameters to a profile").
 *
 * The parameters θ = (gemm_max_fraction, gemm_half_m, memory_fraction, attention_max_fraction,
 * launch_overhead_s) minimise a least-squares objective in log space, every op family weighing
 * the same whatever its number of points:
 *   J(θ) = Σ_f (1/n_f) Σ_{i ∈ f} ln²( t_analytic(op_i; θ) / t_measured_i )
 * by cyclic coordinate search: each parameter in turn takes the best value of a grid over its
 * range (fractions in steps of 0.0025 in [0.05, 1]; gemm_half_m on 97 log-spaced values in
 * [1, 4096]; launch_overhead_s in steps of 0.1 µs in [0, 20 µs]), the others held, until a full
 * cycle changes nothing (at most 30 cycles). Deterministic; the analytic backend itself
 * (backends/analytic.c) prices every op, so the fit can only be as good as its formula.
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

/**
 * afd_fit_efficiency:
 * @gpu: the starting point (its efficiency block and launch overhead)
 * @fit_grouped: include AFD_FIT_GROUPED samples in the objective
 * @out_fitted: (out): @gpu's efficiency and launch_overhead_s replaced by the fitted values
 *   (the other fields are the caller's, not copied: only efficiency and launch_overhead_s are
 *   written)
 *
 * Returns: %FALSE with the analytic backend's error, or AFD_ERROR_CONFIG when no family has
 *   samples
 */
gboolean afd_fit_efficiency (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                             gboolean fit_grouped, AfdGpuEfficiency *out_efficiency,
                             double *out_launch_overhead_s, GError **error);

G_END_DECLS

#endif /* AFD_BACKENDS_FIT_H */
