/* SPDX-License-Identifier: MIT */
/*
 * profile.h - a measured GPU profile (written by `afdsim calibrate`) and the lookups that
 * price ops from it (docs/user/profile-format.md, docs/backends/cuda.md).
 *
 * A profile holds tables of measured medians: dense GEMMs per dtype and weight shape over M,
 * grouped expert GEMMs, decode attention per attention kind, causal prefill attention, device
 * memory copies, and NCCL collectives per op, GPU count and tier with α-β fits per size range.
 * The loader is strict (unknown keys, unsorted or non-positive points are AFD_ERROR_CONFIG
 * naming the file and the JSON path) and copies everything into typed arrays; no cJSON pointer
 * is kept. The lookups interpolate (formulas in docs/user/profile-format.md) and never read a
 * clock or a global. The `profile` cost backend (afd_cost_model_profile_class) wraps them.
 */
#ifndef AFD_BACKENDS_PROFILE_H
#define AFD_BACKENDS_PROFILE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cost-model.h"
#include "sim/gpu-spec.h"

G_BEGIN_DECLS

/* The profile file format this code reads and writes. */
#define AFD_PROFILE_FORMAT "afdsim-profile"
#define AFD_PROFILE_FORMAT_VERSION 1

typedef struct _AfdProfile AfdProfile;

/**
 * afd_profile_load:
 * @path: a profile JSON file
 *
 * Returns: (transfer full) (nullable): the profile, or %NULL with AFD_ERROR_IO or
 *   AFD_ERROR_CONFIG ("FILE: path.key: problem")
 */
AfdProfile *afd_profile_load (const char *path, GError **error);

void afd_profile_free (AfdProfile *profile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdProfile, afd_profile_free)

/* Returns: (transfer none): provenance.device_name of the profile. */
const char *afd_profile_get_device_name (const AfdProfile *profile);

/* Returns: (transfer none) (nullable): provenance.nccl_net_transport ("NET/Socket", "NET/IB":
 * the transport NCCL chose between the node groups of `calibrate --two-nodes`), or %NULL. */
const char *afd_profile_get_net_transport (const AfdProfile *profile);

/* Returns: (transfer none): the file the profile was loaded from. */
const char *afd_profile_get_path (const AfdProfile *profile);

/**
 * afd_profile_gemm_time:
 * @m: rows (tokens), @n: output columns, @k: reduction dimension; all >= 1
 * @out_s: (out): the time of one GEMM Y[m×n] = X[m×k]·W[n×k]ᵀ, seconds
 *
 * Picks the table of @dtype whose (N, K) is nearest in log space and interpolates its
 * achieved FLOP/s log-log over M (below the smallest measured M the smallest M's time, above
 * the largest M a constant rate), giving the table's time tₜ(m); the part above the GEMM
 * kernel's fixed cost t₀ scales with N·K: t = t₀ + (tₜ(m) − t₀)·n·k/(Nₜ·Kₜ), and t is never
 * below the smallest GEMM time measured for the dtype (afd_profile_gemm_fixed_cost()).
 * fp8 falls back to the bf16 tables when the profile has no fp8 table.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the profile has no GEMM table for @dtype
 */
gboolean afd_profile_gemm_time (const AfdProfile *profile, AfdDtype dtype, double m, double n,
                                double k, double *out_s, GError **error);

/**
 * afd_profile_gemm_fixed_cost:
 * @out_fixed_s: (out) (optional): t₀, the fixed cost of one GEMM kernel: the intercept of the
 *   least-squares line of each table's smallest-M time against N·K, clamped to [0, floor]
 *   (0 when the tables have fewer than two distinct N·K)
 * @out_floor_s: (out) (optional): the smallest median time of any GEMM of @dtype measured
 *
 * Returns: %FALSE when the profile has no GEMM table of @dtype (outputs untouched)
 */
gboolean afd_profile_gemm_fixed_cost (const AfdProfile *profile, AfdDtype dtype,
                                      double *out_fixed_s, double *out_floor_s);

/**
 * afd_profile_decode_attention_time:
 * @heads_q: query heads on the GPU; @heads_kv: KV heads (1 for MLA's latent)
 * @head_dim_qk, @head_dim_v: head dimensions; MLA is recognised by head_dim_qk > head_dim_v
 *   with one KV head (one latent cache read, K and V share it)
 * @query_tokens: new tokens per sequence (1 for plain decode)
 *
 * Interpolates achieved KV-cache bytes/s log-log over the KV bytes read, in the table of the
 * same attention kind whose query rows per KV head and head dimension are nearest.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the profile has no decode attention table
 */
gboolean afd_profile_decode_attention_time (const AfdProfile *profile, guint heads_q,
                                            guint heads_kv, guint head_dim_qk, guint head_dim_v,
                                            double batch, double context, double query_tokens,
                                            double *out_s, GError **error);

/**
 * afd_profile_prefill_attention_time:
 * @causal_flop: the FLOPs of the causal attention core (both GEMMs), as the op counts them
 *
 * Interpolates achieved FLOP/s of the full-square emulation log-log over FLOPs, looked up at
 * 2·@causal_flop (the full square of the same length), and returns @causal_flop / rate.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the profile has no prefill table
 */
gboolean afd_profile_prefill_attention_time (const AfdProfile *profile, double causal_flop,
                                             double *out_s, GError **error);

/**
 * afd_profile_memory_time:
 * @bytes: bytes read plus bytes written by a memory-bound op
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the profile has no memory-copy table
 */
gboolean afd_profile_memory_time (const AfdProfile *profile, double bytes, double *out_s,
                                  GError **error);

/**
 * afd_profile_collective_time:
 * @op: "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv"
 * @gpus: ranks in the group (>= 2)
 * @size_bytes: the size as nccl-tests defines it (see docs/backends/cuda.md)
 *
 * Uses the α-β fit of the size range that holds @size_bytes in the table of @op over @gpus
 * ranks; for a GPU count that was not measured, the nearest measured count's fit with β scaled
 * by the ratio of bus factors.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG when the profile has no table for @op
 */
gboolean afd_profile_collective_time (const AfdProfile *profile, const char *op, guint gpus,
                                      double size_bytes, double *out_s, GError **error);

/**
 * afd_profile_fit_alpha_beta:
 * @sizes_bytes: (array length=n): message sizes
 * @times_s: (array length=n): measured times
 * @n: at least 2 points with distinct sizes
 *
 * Least-squares fit of t = α + β·s minimising the squared *relative* error Σ((α + β·sᵢ − tᵢ)/tᵢ)².
 *
 * Returns: %FALSE (outputs untouched) when fewer than two distinct sizes are given
 */
gboolean afd_profile_fit_alpha_beta (const double *sizes_bytes, const double *times_s, guint n,
                                     double *out_alpha_s, double *out_beta_s_per_byte);

/**
 * afd_profile_fits_to_json:
 * @sizes_bytes: (array length=n): ascending sizes
 *
 * One α-β fit per size range between consecutive measured sizes (exact at both ends), as
 * written in a profile's "fits" array.
 *
 * Returns: (transfer full): a JSON array of {size_min_bytes, size_max_bytes, alpha_s,
 *   beta_s_per_byte}
 */
cJSON *afd_profile_fits_to_json (const double *sizes_bytes, const double *times_s, guint n);

/**
 * afd_profile_get_grouped_factor:
 *
 * Returns: f, the median over the profile's grouped GEMM measurements of measured time /
 *   Σₑ GEMM(tokensₑ) (the sum-of-GEMMs model); 1 when the profile has none. The cost backend
 *   prices a grouped expert GEMM as f · Σₑ GEMM(tokensₑ).
 */
double afd_profile_get_grouped_factor (const AfdProfile *profile);

/**
 * afd_profile_take_warnings:
 * @out: (element-type utf8): receives the warnings queued since the last call (g_free them)
 *
 * Moves the out-of-grid warnings (one per op shape, in the order they arose) to @out.
 * Thread-safe.
 *
 * Returns: the number of distinct op shapes warned about since the profile was loaded
 */
guint afd_profile_take_warnings (AfdProfile *profile, GPtrArray *out);

/* The `profile` cost backend: {"file": PROFILE_JSON} (a shipped name or a path). */
extern const AfdCostModelClass afd_cost_model_profile_class;

G_END_DECLS

#endif /* AFD_BACKENDS_PROFILE_H */
