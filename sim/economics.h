/* SPDX-License-Identifier: MIT */
/*
 * economics.h - what one replayed step costs in dollars and joules (docs/models/cost.md).
 *
 * Only the GPUs the placement uses count: a GPU is used when the operator graph puts at least
 * one op (compute or collective) on it. With G used GPUs, price p (US dollars per GPU-hour),
 * step time T (s), tokens per step K (output tokens: batch × accepted tokens per sequence in
 * decode), board power P_tdp and P_idle (W) and busy_g the compute-busy time of GPU g in the
 * step (s, at most T):
 *
 *   usd_per_hour             = G · p
 *   usd_per_million_tokens   = G · p / 3600 · T / K · 1e6
 *   energy_j_per_step        = Σ_g used [P_idle · T + (P_tdp − P_idle) · busy_g]
 *   joules_per_token         = energy_j_per_step / K
 *   mean_power_w             = energy_j_per_step / T
 *
 * The power model is linear in utilisation between idle and TDP (the "linear power model" of
 * Fan, Weber and Barroso, "Power provisioning for a warehouse-sized computer", ISCA 2007,
 * applied per GPU board; a GPU running kernels is taken at its TDP). Prices and powers come
 * from the GPU file (sim/gpu-spec.h) or --price; a missing one gives null. Nothing here
 * prints.
 */
#ifndef AFD_SIM_ECONOMICS_H
#define AFD_SIM_ECONOMICS_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/gpu-spec.h"
#include "sim/metrics.h"
#include "sim/opgraph.h"
#include "sim/replay.h"

G_BEGIN_DECLS

/**
 * afd_economics_step_energy_j:
 * @busy_s: (array length=n_gpus): compute-busy seconds of each used GPU (clamped to [0, T])
 * @step_s: the step time T, seconds
 *
 * Returns: Σ_g [idle_w · T + (tdp_w − idle_w) · busy_g], joules
 */
double afd_economics_step_energy_j (const double *busy_s, guint n_gpus, double step_s,
                                    double tdp_w, double idle_w);

/**
 * afd_economics_usd_per_million_tokens:
 *
 * Returns: gpus · usd_per_gpu_hour / 3600 · step_s / tokens_per_step · 1e6, or -1 when
 *   tokens_per_step <= 0
 */
double afd_economics_usd_per_million_tokens (guint gpus, double usd_per_gpu_hour, double step_s,
                                             double tokens_per_step);

/**
 * afd_economics_add_json:
 * @gpu: (transfer none): the spec of every GPU (its tdp_w and idle_power_w)
 * @usd_per_gpu_hour: the price in force (the file's or a --price override), 0 when none
 * @metrics: the step's metrics (iteration time and tokens/s)
 *
 * Adds the "economics" object to @out: gpus_used, price_usd_per_gpu_hour, usd_per_hour,
 * usd_per_million_tokens, tdp_w, idle_power_w, energy_j_per_step, mean_power_w,
 * joules_per_token (null where the GPU file gives no price or power).
 */
void afd_economics_add_json (cJSON *out, const AfdReplay *replay, const AfdOpGraph *graph,
                             const AfdGpuSpec *gpu, double usd_per_gpu_hour,
                             const AfdMetrics *metrics);

G_END_DECLS

#endif /* AFD_SIM_ECONOMICS_H */
