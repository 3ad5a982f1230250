/* SPDX-License-Identifier: MIT */
/*
 * analytic.c - the `analytic` cost backend: a roofline with shape-dependent efficiency.
 *
 *   time = launch(class(op))
 *          + max( FLOPs / (peak(dtype) · compute_efficiency(op)),
 *                 (bytes_read + bytes_written) / (hbm_bandwidth · memory_fraction) )
 *
 *   launch(c) = the GPU file's efficiency.launch_overhead_per_class_s.gemm, .attention or
 *               .memory for the op's class c (GEMMs dense and grouped; attention cores; every
 *               other op), launch_overhead_s where the file gives none.
 *               It is the fixed cost of one kernel of that class as a profile measures it
 *               from the host: launch latency plus the kernel's prologue, epilogue and tail
 *               (a GEMM's split-K reduction and a tiled epilogue are dearer than a copy's),
 *               which differ by class (source: the measured profiles, e.g. the shipped H200
 *               profile: a 4 KiB cudaMemcpyAsync takes 4.7 µs, the smallest GEMM 8.5 µs, the
 *               smallest decode core, two batched GEMMs, 8.8 µs); fitted per class by
 *               `afdsim fit` (backends/fit.h, docs/models/roofline.md)
 *
 *   GEMM:       compute_efficiency = ceiling(dtype) · m/(m + gemm_half_m) · wave(tiles)
 *               ceiling = gemm_max_fraction_fp8 for fp8/fp4 math where the file gives it
 *               (fp8 tensor-core GEMMs sustain a lower fraction of their doubled peak: H200
 *               MAMF fp8 73.4 % vs bf16 80.3 %, the GPU file's [MEAS] source; fitted to the
 *               shipped profiles, 0.87 of the bf16 fraction), else gemm_max_fraction
 *   grouped:    per expert e with m_e > 0 tokens, FLOPs_e / (m_e/(m_e + gemm_half_m)),
 *               summed, then / (peak · ceiling(dtype) · wave(Σ tiles))
 *   attention:  compute_efficiency = attention_max_fraction
 *   other ops:  CUDA-core work at the fp32 peak · gemm_max_fraction
 *   wave(t)  = t / (⌈t / sm_count⌉ · sm_count)       (last partial wave of tiles)
 *   tiles    = count · ⌈m / tile_m⌉ · ⌈n / tile_n⌉ · split, tile_m = 64 when m <= 64, else
 *              128; tile_n = 128; split-K: when the tiles fill less than one wave,
 *              split = max(1, min(⌊sm_count / tiles⌋, ⌊k / split_k_min⌋)), split_k_min = 256
 * Grouped expert GEMMs on a GPU with the "grouped_gemm" efficiency block (sim/gpu-spec.h),
 * as fused MoE kernels run them (one launch over all local experts):
 *   compute  = 2·count·Σₑ pad(mₑ)·n·k / (peak(dtype) · ceiling(dtype) · wave(Σₑ tilesₑ))
 *              pad(m) = m rounded up to whole tile rows (64 when m <= 64, else 128): each
 *              expert's last tile runs whole, so skew (more partly filled tiles) costs more;
 *              ceiling = max_fraction_fp8 for fp8/fp4 math, max_fraction_bf16 otherwise
 *   memory   = used·W / (bw · stream_fraction) + (other bytes) / (bw · memory_fraction),
 *              W = count·n·k·bytes(dtype) one expert's weights, used = experts with tokens
 *              (each streamed once: an expert's row tiles share them through L2);
 *              stream_fraction: fused grouped kernels stream weights below the copy
 *              bandwidth (stream_fraction_fp8 for fp8/fp4 weights, default the same)
 *   time     = launch + max(compute, memory); the weight-streaming efficiency as a function
 *              of tokens per expert, W / (bw · time), is stream_fraction while the weights
 *              dominate and falls as the compute term takes over (docs/models/roofline.md)
 * Without the block grouped GEMMs are priced as below (the model before issue #17).
 * A dtype without a tensor-core path on the GPU (peak 0, e.g. fp8 on A100) runs at the bf16
 * peak. Parameters come from the GPU spec's "efficiency" block (sim/gpu-spec.h); the tile
 * sizes and the launch overhead switch can be overridden in the backend's JSON object.
 * Documented with a worked example in docs/models/roofline.md, checked by
 * tests/test-cost-analytic.c. Communication ops are the network model's; they are rejected.
 */
#include "config.h"

#include <math.h>

#include "backends/registry.h"
#include "sim/error.h"
#include "sim/json.h"

typedef struct
{
  double tile_m;            /* GEMM tile rows for m > small_tile_m */
  double small_tile_m;      /* tile rows used when m <= small_tile_m */
  double tile_n;            /* GEMM tile columns */
  double split_k_min;       /* smallest K chunk of a split-K GEMM */
  gboolean launch_overhead; /* add the GPU's launch_overhead_s to every op */
} Analytic;

/* Validates the backend's JSON parameters and copies them. */
static gpointer
analytic_create (const cJSON *params, GError **error)
{
  const AfdJsonWhere where = { "analytic backend parameters", "", AFD_ERROR_CONFIG };
  static const char *const allowed[]
      = { "tile_m", "small_tile_m", "tile_n", "split_k_min", "launch_overhead", NULL };
  Analytic tmp = { 128, 64, 128, 256, TRUE };
  gint64 tile_m = 128, small = 64, tile_n = 128, split_k_min = 256;
  if (!afd_json_check_object (params, &where, allowed, error)
      || !afd_json_get_int (params, &where, "tile_m", AFD_JSON_POSITIVE, 1, 65536, &tile_m, error)
      || !afd_json_get_int (params, &where, "small_tile_m", AFD_JSON_POSITIVE, 1, 65536, &small,
                            error)
      || !afd_json_get_int (params, &where, "tile_n", AFD_JSON_POSITIVE, 1, 65536, &tile_n, error)
      || !afd_json_get_int (params, &where, "split_k_min", AFD_JSON_POSITIVE, 1, 1 << 24,
                            &split_k_min, error)
      || !afd_json_get_bool (params, &where, "launch_overhead", AFD_JSON_OPTIONAL,
                             &tmp.launch_overhead, error))
    return NULL;
  if (small > tile_m)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: small_tile_m (%" G_GINT64_FORMAT ") must be <= tile_m (%" G_GINT64_FORMAT
                   ")",
                   where.file, small, tile_m);
      return NULL;
    }
  tmp.tile_m = (double)tile_m;
  tmp.small_tile_m = (double)small;
  tmp.tile_n = (double)tile_n;
  tmp.split_k_min = (double)split_k_min;
  return g_memdup2 (&tmp, sizeof tmp);
}

static void
analytic_destroy (gpointer state)
{
  g_free (state);
}

/* Tiles of one m×n GEMM output. */
static double
gemm_tiles (const Analytic *self, double m, double n)
{
  if (m <= 0 || n <= 0)
    return 0;
  double tm = m <= self->small_tile_m ? self->small_tile_m : self->tile_m;
  return ceil (m / tm) * ceil (n / self->tile_n);
}

/* Fraction of SM slots the tiles fill over whole waves, t / (⌈t/sm⌉·sm), after splitting K
 * (chunks of at least split_k_min) when the tiles fill less than one wave. */
static double
wave_efficiency (const Analytic *self, double tiles, double k, double sm_count)
{
  if (tiles <= 0)
    return 1.0;
  if (tiles < sm_count)
    {
      double split = fmin (floor (sm_count / tiles), floor (k / self->split_k_min));
      tiles *= fmax (1.0, split);
    }
  return tiles / (ceil (tiles / sm_count) * sm_count);
}

/* Peak FLOP/s of @dtype on @gpu, falling back to bf16 where the GPU has no path. */
static double
peak_for (const AfdGpuSpec *gpu, AfdDtype dtype)
{
  double peak = gpu->peak_flop_per_s[dtype];
  return peak > 0 ? peak : gpu->peak_flop_per_s[AFD_DTYPE_BF16];
}

/* The dense GEMM ceiling of @dtype math (file header): gemm_max_fraction_fp8 for fp8/fp4 on a
 * GPU with a peak for it, when the file gives one, else gemm_max_fraction. */
static double
gemm_ceiling (const AfdGpuSpec *gpu, AfdDtype dtype)
{
  const AfdGpuEfficiency *eff = &gpu->efficiency;
  if ((dtype == AFD_DTYPE_FP8 || dtype == AFD_DTYPE_FP4) && gpu->peak_flop_per_s[dtype] > 0
      && eff->gemm_max_fraction_fp8 > 0)
    return eff->gemm_max_fraction_fp8;
  return eff->gemm_max_fraction;
}

/* Whether @gpu has the grouped expert GEMM block (sim/gpu-spec.h). */
static gboolean
has_grouped_block (const AfdGpuSpec *gpu)
{
  return gpu->efficiency.grouped_max_fraction_bf16 > 0;
}

/* Rows one expert's tiles cover: m rounded up to whole tiles (small tiles when m is small). */
static double
padded_rows (const Analytic *self, double m)
{
  double tm = m <= self->small_tile_m ? self->small_tile_m : self->tile_m;
  return ceil (m / tm) * tm;
}

/* Grouped expert GEMM with the GPU's grouped block (file header): the roofline time
 * max(compute, memory) without the launch. */
static double
grouped_seconds (const Analytic *self, const AfdOp *op, const AfdGpuSpec *gpu)
{
  const AfdGpuEfficiency *eff = &gpu->efficiency;
  const double count = op->gemm.count > 0 ? (double) op->gemm.count : 1.0;
  const double n = (double) op->gemm.n, k = (double) op->gemm.k;
  const gboolean low_precision = (op->dtype == AFD_DTYPE_FP8 || op->dtype == AFD_DTYPE_FP4)
                                 && gpu->peak_flop_per_s[op->dtype] > 0;
  const double ceiling
      = low_precision ? eff->grouped_max_fraction_fp8 : eff->grouped_max_fraction_bf16;
  const double bw = gpu->hbm_bandwidth_bytes_per_s;
  const double w_expert = count * n * k * afd_dtype_bytes (op->dtype);
  double padded = 0, tiles = 0, w_total = 0;
  for (guint e = 0; e < op->n_experts; e++)
    {
      double m = (double) op->expert_tokens[e];
      if (m <= 0)
        continue;
      double rows = padded_rows (self, m);
      double tm = m <= self->small_tile_m ? self->small_tile_m : self->tile_m;
      padded += rows;
      tiles += count * (rows / tm) * ceil (n / self->tile_n);
      w_total += w_expert;
    }
  /* The row tiles of one expert run in the same waves and share its weights through L2:
   * each expert's weights are streamed once. */
  const double stream = (op->dtype == AFD_DTYPE_FP8 || op->dtype == AFD_DTYPE_FP4)
                            ? eff->grouped_stream_fraction_fp8
                            : eff->grouped_stream_fraction;
  double t_weights = w_total / (bw * stream);
  double t_compute = 2.0 * count * padded * n * k
                     / (peak_for (gpu, op->dtype) * ceiling
                        * wave_efficiency (self, tiles, k, gpu->sm_count));
  double rest = fmax (0.0, op->bytes_read + op->bytes_written - w_total);
  double t_memory = t_weights + rest / (bw * eff->memory_fraction);
  return fmax (t_compute, t_memory);
}

/* Seconds of compute for @op on @gpu. */
static double
compute_seconds (const Analytic *self, const AfdOp *op, const AfdGpuSpec *gpu)
{
  const AfdGpuEfficiency *eff = &gpu->efficiency;
  const double sm = gpu->sm_count;
  if (op->flops <= 0)
    return 0.0;
  if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL)
    {
      /* Each expert's rows see their own small-M efficiency; the tiles of all experts
       * share one launch, so one wave quantisation over their sum. */
      double tokens = 0, weighted = 0, tiles = 0;
      for (guint e = 0; e < op->n_experts; e++)
        {
          double m = (double)op->expert_tokens[e];
          if (m <= 0)
            continue;
          tokens += m;
          weighted += m + eff->gemm_half_m;
          tiles += (double)op->gemm.count * gemm_tiles (self, m, (double)op->gemm.n);
        }
      if (tokens <= 0)
        return 0.0;
      /* FLOPs are proportional to tokens: Σ FLOPs_e/(m_e/(m_e+h)) = FLOPs·Σ(m_e+h)/Σ m_e. */
      double flops_scaled = op->flops * weighted / tokens;
      return flops_scaled
             / (peak_for (gpu, op->dtype) * gemm_ceiling (gpu, op->dtype)
                * wave_efficiency (self, tiles, (double)op->gemm.k, sm));
    }
  if (op->has_gemm)
    {
      const double m = (double)op->gemm.m;
      const double count = op->gemm.count > 0 ? (double)op->gemm.count : 1.0;
      if (m <= 0)
        return 0.0;
      double fraction = gemm_ceiling (gpu, op->dtype) * m / (m + eff->gemm_half_m)
                        * wave_efficiency (self, count * gemm_tiles (self, m, (double)op->gemm.n),
                                           (double)op->gemm.k, sm);
      return op->flops / (peak_for (gpu, op->dtype) * fraction);
    }
  if (op->has_attention || op->kind == AFD_OP_ATTENTION_DECODE
      || op->kind == AFD_OP_ATTENTION_PREFILL)
    return op->flops / (peak_for (gpu, op->dtype) * eff->attention_max_fraction);
  return op->flops / (peak_for (gpu, AFD_DTYPE_FP32) * eff->gemm_max_fraction);
}

/* The class whose launch overhead @op pays (file header), in compute_seconds()'s order. */
static AfdKernelClass
kernel_class (const AfdOp *op)
{
  if (op->has_gemm || op->kind == AFD_OP_EXPERT_GROUPED_GEMM)
    return AFD_KERNEL_CLASS_GEMM;
  if (op->has_attention || op->kind == AFD_OP_ATTENTION_DECODE
      || op->kind == AFD_OP_ATTENTION_PREFILL)
    return AFD_KERNEL_CLASS_ATTENTION;
  return AFD_KERNEL_CLASS_MEMORY;
}

/* The roofline time of @op on the GPU of @where. */
static gboolean
analytic_op_time (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out_seconds,
                  GError **error)
{
  const Analytic *self = state;
  const AfdGpuSpec *gpu = where->gpu;
  if (afd_op_kind_is_comm (op->kind))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "analytic: op %s is a communication op (%s); the network model prices it",
                   op->name, afd_op_kind_name (op->kind));
      return FALSE;
    }
  if ((int)op->dtype < 0 || op->dtype >= AFD_DTYPE_COUNT)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "analytic: op %s has an invalid dtype",
                   op->name);
      return FALSE;
    }
  double roofline;
  if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL && op->has_gemm
      && has_grouped_block (gpu))
    roofline = grouped_seconds (self, op, gpu);
  else
    {
      double t_compute = compute_seconds (self, op, gpu);
      double t_memory = (op->bytes_read + op->bytes_written)
                        / (gpu->hbm_bandwidth_bytes_per_s * gpu->efficiency.memory_fraction);
      roofline = fmax (t_compute, t_memory);
    }
  *out_seconds
      = (self->launch_overhead ? afd_gpu_spec_launch_overhead_s (gpu, kernel_class (op)) : 0.0)
        + roofline;
  return TRUE;
}

/* Writes the tile sizes and the launch-overhead switch. */
static void
analytic_describe (gpointer state, GString *out)
{
  const Analytic *self = state;
  g_string_append_printf (out,
                          "roofline, GEMM tiles %.0fx%.0f (%.0f rows when m <= %.0f), "
                          "split-K chunks >= %.0f, launch overhead %s",
                          self->tile_m, self->tile_n, self->small_tile_m, self->small_tile_m,
                          self->split_k_min, self->launch_overhead ? "on" : "off");
}

const AfdCostModelClass afd_cost_model_analytic_class = {
  .name = "analytic",
  .summary = "roofline: launch + max(FLOPs/(peak x efficiency(M,N,K)), bytes/(HBM bw x eff))",
  .probe = NULL,
  .create = analytic_create,
  .destroy = analytic_destroy,
  .op_time = analytic_op_time,
  .describe = analytic_describe,
};
