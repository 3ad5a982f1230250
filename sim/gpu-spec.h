/* SPDX-License-Identifier: MIT */
/*
 * gpu-spec.h - one GPU model's limits, loaded from topologies/gpus/NAME.json.
 *
 * Every field carries its unit in its name, as the JSON keys do (docs/user/topology-format.md).
 * Peak FLOP/s are dense (no 2:4 sparsity); 0 means the GPU has no tensor-core path for that
 * dtype. The efficiency parameters are the analytic cost backend's (docs/models/roofline.md);
 * the network model uses nvlink_bandwidth_bytes_per_s and the optional nvlink_efficiency and
 * nvls_efficiency (docs/models/collectives.md). The optional price_usd_per_gpu_hour, tdp_w and
 * idle_power_w (with their citation in price_power_source) feed the cost and energy model
 * (sim/economics.h, docs/models/cost.md). The loader rejects unknown keys, missing keys and
 * non-positive quantities, naming the file and key.
 */
#ifndef AFD_SIM_GPU_SPEC_H
#define AFD_SIM_GPU_SPEC_H

#include <glib.h>

G_BEGIN_DECLS

/* Element types of tensors and of tensor-core math. */
typedef enum {
  AFD_DTYPE_FP32 = 0,
  AFD_DTYPE_TF32,
  AFD_DTYPE_BF16,
  AFD_DTYPE_FP16,
  AFD_DTYPE_FP8,
  AFD_DTYPE_FP4,
  AFD_DTYPE_COUNT
} AfdDtype;

/* Returns: the JSON/CLI name ("bf16"), or NULL for an invalid value. */
const char *afd_dtype_name (AfdDtype dtype);
/* Returns: bytes per element (fp4: 0.5). */
double afd_dtype_bytes (AfdDtype dtype);
/* Parses "bf16" etc.; returns FALSE (no error set) for an unknown name. */
gboolean afd_dtype_from_name (const char *name, AfdDtype *out_dtype);

/* Parameters of the analytic backend's efficiency curves (docs/models/roofline.md). */
typedef struct {
  double gemm_max_fraction;   /* achievable fraction of peak FLOP/s for large GEMMs, (0,1] */
  double gemm_max_fraction_fp8; /* optional: the same for fp8/fp4 math (0 = not given: the
                                 * analytic backend uses gemm_max_fraction) */
  double gemm_half_m;         /* rows M at which small-M GEMMs reach half that fraction */
  double memory_fraction;     /* achievable fraction of HBM bandwidth, (0,1] */
  double attention_max_fraction; /* achievable fraction of peak for attention kernels, (0,1] */
  /* Optional "grouped_gemm" block (all 0 when absent: grouped expert GEMMs are then priced
   * like dense GEMMs; docs/models/roofline.md, "Grouped expert GEMMs"): */
  double grouped_max_fraction_bf16;   /* ceiling of the bf16/fp16 peak, (0,1] */
  double grouped_max_fraction_fp8;    /* ceiling of the fp8 peak, (0,1] */
  double grouped_stream_fraction;     /* weight streaming, fraction of HBM bandwidth, (0,1] */
  double grouped_stream_fraction_fp8; /* the same for fp8/fp4 weights (optional key
                                       * "stream_fraction_fp8"; absent: stream_fraction) */
} AfdGpuEfficiency;

typedef struct {
  char *name;                                 /* "A100-SXM4-80GB" */
  char *source;                               /* citation of the numbers */
  double peak_flop_per_s[AFD_DTYPE_COUNT];    /* dense peak per dtype, FLOP/s; 0 = none */
  double hbm_bytes;                           /* device memory capacity, bytes */
  double hbm_bandwidth_bytes_per_s;           /* peak HBM bandwidth, bytes/s */
  double nvlink_bandwidth_bytes_per_s;        /* NVLink per GPU per direction, bytes/s (0: none) */
  guint sm_count;                             /* streaming multiprocessors */
  double launch_overhead_s;                   /* per-kernel launch overhead, seconds */
  /* Optional fixed cost of one kernel per op class, seconds, from the JSON object
   * "efficiency.launch_overhead_per_class_s" {"gemm", "attention", "memory"} (0 = not given:
   * the analytic backend then uses launch_overhead_s; docs/models/roofline.md, "Launch overhead per op
   * class"). afd_gpu_spec_launch_overhead_s() picks the one that applies. */
  double launch_overhead_gemm_s;              /* GEMMs (dense and grouped) */
  double launch_overhead_attention_s;         /* attention cores (decode, prefill) */
  double launch_overhead_memory_s;            /* every other op: copies, elementwise, norms */
  double l2_bytes;                            /* L2 cache, bytes */
  AfdGpuEfficiency efficiency;
  /* Optional (0 = not given; the collective model then uses its own defaults): */
  double nvlink_efficiency;                   /* NCCL ring busbw / NVLink line rate, (0,1] */
  double nvls_efficiency;                     /* NVLS all-reduce algbw / NVLink line rate, (0,1] */
  /* Optional "nvlink_efficiency_by_gpus" {"N": e, ...}: the ring efficiency with N GPUs of a
   * group on one node (afd_gpu_spec_nvlink_efficiency()); n_nvlink_by_gpus = 0 when absent. */
  guint n_nvlink_by_gpus;
  guint nvlink_by_gpus_count[16];             /* N, ascending, 2..1024 */
  double nvlink_by_gpus_efficiency[16];       /* e(N), (0,1] */
  /* Optional cost and power (0 = not given; the summary then reports null, docs/models/cost.md): */
  double price_usd_per_gpu_hour;              /* rental price, US dollars per GPU-hour */
  double tdp_w;                               /* board power limit (TDP), watts */
  double idle_power_w;                        /* board power with no kernel running, watts; < tdp_w */
  char *price_power_source;                   /* (nullable) citation of the three numbers above */
} AfdGpuSpec;

/**
 * afd_gpu_spec_load:
 * @name_or_file: a shipped GPU name (topologies/gpus/NAME.json) or a JSON file path
 *
 * Returns: (transfer full) (nullable): the spec, or %NULL with AFD_ERROR_TOPOLOGY /
 *   AFD_ERROR_IO / AFD_ERROR_CONFIG naming the file and key
 */
AfdGpuSpec *afd_gpu_spec_load (const char *name_or_file, GError **error);

/* Op classes with their own launch overhead (AfdGpuSpec.launch_overhead_*_s). */
typedef enum {
  AFD_KERNEL_CLASS_GEMM = 0,
  AFD_KERNEL_CLASS_ATTENTION,
  AFD_KERNEL_CLASS_MEMORY
} AfdKernelClass;

/* Returns: @spec's launch overhead for @kernel_class, seconds: the class's own value when the
 * file gives it, else launch_overhead_s. */
double afd_gpu_spec_launch_overhead_s (const AfdGpuSpec *spec, AfdKernelClass kernel_class);

/* Returns: the NVLink ring efficiency of a group with @gpus_per_node members on one node:
 * nvlink_efficiency when the file gives no nvlink_efficiency_by_gpus or @gpus_per_node < 2;
 * else linear in N between the table's points and (8, nvlink_efficiency) when the table has
 * no 8 and nvlink_efficiency is given, the first point's value below it, nvlink_efficiency
 * (or the last point's value when it is not given) above the last (docs/models/collectives.md,
 * "NVLink efficiency per GPU count"). 0 when neither is given. */
double afd_gpu_spec_nvlink_efficiency (const AfdGpuSpec *spec, guint gpus_per_node);

/* Returns: (transfer full): a deep copy. */
AfdGpuSpec *afd_gpu_spec_copy (const AfdGpuSpec *spec);

void afd_gpu_spec_free (AfdGpuSpec *spec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdGpuSpec, afd_gpu_spec_free)

G_END_DECLS

#endif /* AFD_SIM_GPU_SPEC_H */
