/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - what one replayed iteration tells a user (docs/user/metrics.md).
 *
 *   iteration_time_s  end of the last op of the iteration
 *   tpot_s            time per output token of one sequence: decode iteration time / new
 *                     tokens per sequence (1, or with MTP the mean accepted tokens L,
 *                     docs/models/mtp.md), i.e. the time of one decode step / L
 *   tokens_per_s      batch · new tokens per sequence / iteration_time_s (the cluster; with
 *                     MTP accepted tokens only)
 *   G                 gpus_used: the GPUs the placement uses (with at least one op), not
 *                     the cluster's gpus_in_cluster; every per-GPU figure is over these
 *   tokens_per_s_per_gpu  tokens_per_s / G
 *   hfu               Σ FLOPs of every executed op / (iteration_time_s · G · peak)
 *   mfu               model FLOPs (each token's FLOPs once, no redundant work) / (same)
 *   per GPU           compute busy, comm transfer, comm wait, idle = iteration - |busy ∪
 *                     transfer|, utilisation = compute busy / iteration (mean over G), memory
 *   bound_by          the critical path in roofline terms (Williams et al., CACM 2009):
 *                     "memory" (compute ops with FLOPs/HBM bytes below the ridge point
 *                     peak / HBM bandwidth), "compute" (at or above it) or "communication"
 *                     (collectives), whichever holds the path longest; bound_by_stream is
 *                     the stream split (compute or comm)
 *   prefill           ttft_s = iteration_time_s, prefill_tokens_per_s = tokens_per_s
 * peak is the GPU's dense peak FLOP/s of the model's expert dtype (bf16 when that has none).
 * This module builds the summary's cJSON; it prints nothing and writes no file.
 */
#ifndef AFD_SIM_METRICS_H
#define AFD_SIM_METRICS_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/replay.h"
#include "sim/strategy.h"

G_BEGIN_DECLS

/* The headline numbers of one run. */
typedef struct {
  double iteration_time_s;
  double tpot_s;
  double tokens_per_s;
  double tokens_per_s_per_gpu;
  double hfu;
  double mfu;
  double utilisation;      /* mean over the GPUs used of compute busy / iteration time */
  double comm_fraction;    /* mean over the GPUs used of comm transfer / iteration time */
  double total_flops;
  double peak_flop_per_s;  /* per GPU */
  double max_memory_bytes; /* largest per-GPU memory estimate */
  guint gpus_used;         /* GPUs with at least one op: the per-GPU figures' denominator */
  guint gpus_in_cluster;   /* GPUs of the cluster */
} AfdMetrics;

/**
 * afd_metrics_compute:
 * @in: (transfer none): the workload the graph was built for
 *
 * Fills @out from a finished replay.
 */
void afd_metrics_compute (const AfdReplay *replay, const AfdOpGraph *graph,
                          const AfdStrategyInput *in, AfdMetrics *out);

/**
 * afd_metrics_to_json:
 *
 * Returns: (transfer full): the summary object without provenance: the AfdMetrics keys, a
 *   "gpus" array (id, node, role, busy_s, comm_s, comm_wait_s, idle_s, utilisation,
 *   memory_bytes, flops) and "critical_path" (the ops that bound the iteration, aggregated
 *   by op name, with seconds and share)
 */
cJSON *afd_metrics_to_json (const AfdReplay *replay, const AfdOpGraph *graph,
                            const AfdStrategyInput *in, const AfdMetrics *metrics);

G_END_DECLS

#endif /* AFD_SIM_METRICS_H */
