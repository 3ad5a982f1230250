/* SPDX-License-Identifier: MIT */
/*
 * economics.c - dollars and joules of one step (formulas and sources in sim/economics.h and
 * docs/models/cost.md; the worked example is checked by tests/test-economics.c).
 */
#include "config.h"

#include "sim/economics.h"
#include "sim/json.h"

double
afd_economics_step_energy_j (const double *busy_s, guint n_gpus, double step_s, double tdp_w,
                             double idle_w)
{
  double e = 0;
  for (guint g = 0; g < n_gpus; g++)
    e += idle_w * step_s + (tdp_w - idle_w) * CLAMP (busy_s[g], 0.0, step_s);
  return e;
}

double
afd_economics_usd_per_million_tokens (guint gpus, double usd_per_gpu_hour, double step_s,
                                      double tokens_per_step)
{
  if (!(tokens_per_step > 0))
    return -1;
  return (double) gpus * usd_per_gpu_hour / 3600.0 * step_s / tokens_per_step * 1e6;
}

/* Adds @v under @key, or null when @known is FALSE. */
static void
add_or_null (cJSON *o, const char *key, gboolean known, double v)
{
  if (known)
    afd_json_add_number (o, key, v);
  else
    cJSON_AddNullToObject (o, key);
}

void
afd_economics_add_json (cJSON *out, const AfdReplay *replay, const AfdOpGraph *graph,
                        const AfdGpuSpec *gpu, double usd_per_gpu_hour, const AfdMetrics *m)
{
  guint n = afd_opgraph_n_gpus (graph);
  g_autofree gboolean *used = afd_opgraph_gpus_used (graph, NULL);
  g_autofree double *busy = g_new0 (double, MAX (n, 1u));
  guint n_used = 0;
  for (guint g = 0; g < n; g++)
    {
      if (!used[g])
        continue;
      AfdReplayGpuTimes gt;
      afd_replay_gpu_times (replay, g, &gt);
      busy[n_used++] = gt.compute_busy_s;
    }
  double T = m->iteration_time_s;
  double tokens = m->tokens_per_s * T; /* output tokens per step */
  gboolean priced = usd_per_gpu_hour > 0;
  gboolean powered = gpu->tdp_w > 0 && gpu->idle_power_w > 0;
  gboolean timed = T > 0 && tokens > 0;
  double usd_mtok = afd_economics_usd_per_million_tokens (n_used, usd_per_gpu_hour, T, tokens);
  double energy = afd_economics_step_energy_j (busy, n_used, T, gpu->tdp_w, gpu->idle_power_w);

  cJSON *e = cJSON_AddObjectToObject (out, "economics");
  afd_json_add_number (e, "gpus_used", n_used);
  add_or_null (e, "price_usd_per_gpu_hour", priced, usd_per_gpu_hour);
  add_or_null (e, "usd_per_hour", priced, n_used * usd_per_gpu_hour);
  add_or_null (e, "usd_per_million_tokens", priced && timed, usd_mtok);
  add_or_null (e, "tdp_w", powered, gpu->tdp_w);
  add_or_null (e, "idle_power_w", powered, gpu->idle_power_w);
  add_or_null (e, "energy_j_per_step", powered, energy);
  add_or_null (e, "mean_power_w", powered && T > 0, T > 0 ? energy / T : 0);
  add_or_null (e, "joules_per_token", powered && timed, timed ? energy / tokens : 0);
}
