/* SPDX-License-Identifier: MIT */
/* metrics.c - iteration metrics and the summary JSON (see sim/metrics.h, docs/user/metrics.md). */
#include "config.h"

#include <string.h>

#include "sim/json.h"
#include "sim/metrics.h"

/* The peak FLOP/s HFU and MFU are measured against. */
static double
peak_flops (const AfdStrategyInput *in)
{
  double p = in->gpu->peak_flop_per_s[in->llm->dtypes.expert_weights];
  if (p <= 0)
    p = in->gpu->peak_flop_per_s[AFD_DTYPE_BF16];
  return p;
}

void
afd_metrics_compute (const AfdReplay *replay, const AfdOpGraph *graph, const AfdStrategyInput *in,
                     AfdMetrics *out)
{
  *out = (AfdMetrics) { 0 };
  double t = afd_time_to_seconds (afd_replay_makespan (replay));
  guint n = afd_opgraph_n_gpus (graph);
  /* Output tokens per sequence of the step: decode 1, or with MTP the mean accepted L
   * (docs/models/mtp.md). */
  double new_tokens = in->prefill                   ? (double) MAX (in->context_tokens, 1)
                      : in->accepted_tokens >= 1.0 ? in->accepted_tokens
                                                   : 1.0;
  out->iteration_time_s = t;
  out->tpot_s = t / new_tokens;
  out->peak_flop_per_s = peak_flops (in);
  /* Per-GPU figures are over the GPUs the placement uses (those with an op), not every GPU of
   * the cluster: a 48-GPU placement on a 320-GPU cluster is judged on its 48. */
  g_autofree gboolean *used = afd_opgraph_gpus_used (graph, &out->gpus_used);
  out->gpus_in_cluster = in->n_gpus;
  guint nu = MAX (out->gpus_used, 1u);
  for (guint g = 0; g < n; g++)
    {
      AfdReplayGpuTimes gt;
      afd_replay_gpu_times (replay, g, &gt);
      out->total_flops += gt.flops;
      if (t > 0 && used[g])
        {
          out->utilisation += gt.compute_busy_s / t / nu;
          out->comm_fraction += gt.comm_busy_s / t / nu;
        }
      out->max_memory_bytes = MAX (out->max_memory_bytes, afd_opgraph_gpu_memory (graph, g));
    }
  if (t > 0)
    {
      out->tokens_per_s = (double) in->batch * new_tokens / t;
      out->tokens_per_s_per_gpu = out->tokens_per_s / nu;
      out->hfu = out->total_flops / (t * nu * out->peak_flop_per_s);
      double model = afd_opgraph_get_model_flops (graph);
      if (model <= 0)
        model = out->total_flops;
      out->mfu = model / (t * nu * out->peak_flop_per_s);
    }
}

/* An op name without its "layerN." prefix, so a path aggregates over layers. */
static const char *
base_name (const char *name)
{
  if (g_str_has_prefix (name, "layer"))
    {
      const char *dot = strchr (name, '.');
      if (dot != NULL)
        return dot + 1;
    }
  return name;
}

/* Aggregated time of one op name on the critical path. */
typedef struct {
  const char *name;
  const char *kind;
  double seconds;
  guint count;
  double flops, hbm_bytes; /* compute ops: summed over the path's instances */
} PathItem;

/* The roofline bound of a critical-path item: communication for collectives; a compute op
 * whose arithmetic intensity (FLOPs / HBM bytes) is below the GPU's ridge point
 * (peak FLOP/s / HBM bytes/s) is memory-bound, at or above it compute-bound (Williams et
 * al., "Roofline", CACM 2009). Ops with no bytes count as compute-bound. */
static const char *
roofline_bound (const PathItem *it, double ridge_flop_per_byte)
{
  if (strcmp (it->kind, "comm") == 0)
    return "communication";
  if (it->hbm_bytes > 0 && it->flops / it->hbm_bytes < ridge_flop_per_byte)
    return "memory";
  return "compute";
}

cJSON *
afd_metrics_to_json (const AfdReplay *replay, const AfdOpGraph *graph, const AfdStrategyInput *in,
                     const AfdMetrics *m)
{
  cJSON *root = cJSON_CreateObject ();
  afd_json_add_number (root, "iteration_time_s", m->iteration_time_s);
  afd_json_add_number (root, "tpot_s", m->tpot_s);
  afd_json_add_number (root, "tokens_per_s", m->tokens_per_s);
  afd_json_add_number (root, "tokens_per_s_per_gpu", m->tokens_per_s_per_gpu);
  afd_json_add_number (root, "gpus_used", m->gpus_used);
  afd_json_add_number (root, "gpus_in_cluster", m->gpus_in_cluster);
  if (in->prefill)
    {
      /* One prefill iteration produces every sequence's first token. */
      afd_json_add_number (root, "ttft_s", m->iteration_time_s);
      afd_json_add_number (root, "prefill_tokens_per_s", m->tokens_per_s);
    }
  afd_json_add_number (root, "hfu", m->hfu);
  afd_json_add_number (root, "mfu", m->mfu);
  afd_json_add_number (root, "utilisation", m->utilisation);
  afd_json_add_number (root, "comm_fraction", m->comm_fraction);
  afd_json_add_number (root, "total_flops", m->total_flops);
  afd_json_add_number (root, "peak_flop_per_s", m->peak_flop_per_s);
  afd_json_add_number (root, "max_memory_bytes", m->max_memory_bytes);
  afd_json_add_number (root, "ops", afd_opgraph_n_ops (graph));
  afd_json_add_number (root, "collectives", afd_opgraph_n_comms (graph));

  cJSON *gpus = cJSON_AddArrayToObject (root, "gpus");
  for (guint g = 0; g < afd_opgraph_n_gpus (graph); g++)
    {
      AfdReplayGpuTimes gt;
      afd_replay_gpu_times (replay, g, &gt);
      cJSON *o = cJSON_CreateObject ();
      afd_json_add_number (o, "id", g);
      afd_json_add_number (o, "node", afd_opgraph_gpu_node (graph, g));
      cJSON_AddStringToObject (o, "role", afd_opgraph_gpu_role (graph, g));
      afd_json_add_number (o, "busy_s", gt.compute_busy_s);
      afd_json_add_number (o, "comm_s", gt.comm_busy_s);
      afd_json_add_number (o, "comm_wait_s", gt.comm_wait_s);
      afd_json_add_number (o, "idle_s", gt.idle_s);
      afd_json_add_number (o, "utilisation",
                           m->iteration_time_s > 0 ? gt.compute_busy_s / m->iteration_time_s : 0);
      afd_json_add_number (o, "memory_bytes", afd_opgraph_gpu_memory (graph, g));
      afd_json_add_number (o, "flops", gt.flops);
      cJSON_AddItemToArray (gpus, o);
    }

  /* Critical path: time each op name holds the path (comm from its rendezvous). */
  g_autoptr (GArray) path = afd_replay_critical_path (replay);
  g_autoptr (GArray) items = g_array_new (FALSE, TRUE, sizeof (PathItem));
  double compute_s = 0, comm_s = 0;
  for (guint i = 0; i < path->len; i++)
    {
      guint id = g_array_index (path, guint, i);
      const AfdOpGraphOp *op = afd_opgraph_op (graph, id);
      AfdTime s = afd_replay_op_start (replay, id), e = afd_replay_op_end (replay, id);
      if (op->kind == AFD_OPGRAPH_COMM)
        s = MAX (s, afd_replay_comm_start (replay, op->comm));
      double sec = afd_time_to_seconds (e - s);
      if (sec <= 0)
        continue;
      const char *name = base_name (op->name);
      const char *kind = op->kind == AFD_OPGRAPH_COMM ? "comm" : "compute";
      if (op->kind == AFD_OPGRAPH_COMM)
        comm_s += sec;
      else
        compute_s += sec;
      guint k;
      for (k = 0; k < items->len; k++)
        if (strcmp (g_array_index (items, PathItem, k).name, name) == 0)
          break;
      if (k == items->len)
        {
          PathItem it = { name, kind, 0, 0, 0, 0 };
          g_array_append_val (items, it);
        }
      PathItem *pi = &g_array_index (items, PathItem, k);
      pi->seconds += sec;
      pi->count++;
      if (op->kind != AFD_OPGRAPH_COMM)
        {
          pi->flops += op->flops;
          pi->hbm_bytes += op->hbm_bytes;
        }
    }
  double bw = in->gpu->hbm_bandwidth_bytes_per_s;
  double ridge = bw > 0 ? m->peak_flop_per_s / bw : 0;
  double memory_bound_s = 0, compute_bound_s = 0;
  for (guint k = 0; k < items->len; k++)
    {
      const PathItem *it = &g_array_index (items, PathItem, k);
      const char *b = roofline_bound (it, ridge);
      if (strcmp (b, "memory") == 0)
        memory_bound_s += it->seconds;
      else if (strcmp (b, "compute") == 0)
        compute_bound_s += it->seconds;
    }
  const char *bound = "compute";
  if (memory_bound_s > compute_bound_s && memory_bound_s >= comm_s)
    bound = "memory";
  else if (comm_s > compute_bound_s && comm_s > memory_bound_s)
    bound = "communication";
  cJSON *cp = cJSON_AddObjectToObject (root, "critical_path");
  afd_json_add_number (cp, "compute_s", compute_s);
  afd_json_add_number (cp, "comm_s", comm_s);
  afd_json_add_number (cp, "memory_bound_s", memory_bound_s);
  afd_json_add_number (cp, "compute_bound_s", compute_bound_s);
  afd_json_add_number (cp, "ridge_point_flop_per_byte", ridge);
  cJSON_AddStringToObject (cp, "bound_by", bound);
  cJSON_AddStringToObject (cp, "bound_by_stream", comm_s > compute_s ? "comm" : "compute");
  cJSON *arr = cJSON_AddArrayToObject (cp, "ops");
  for (guint k = 0; k < items->len; k++)
    {
      const PathItem *it = &g_array_index (items, PathItem, k);
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", it->name);
      cJSON_AddStringToObject (o, "kind", it->kind);
      cJSON_AddStringToObject (o, "bound", roofline_bound (it, ridge));
      if (strcmp (it->kind, "comm") != 0 && it->hbm_bytes > 0)
        afd_json_add_number (o, "arithmetic_intensity_flop_per_byte",
                             it->flops / it->hbm_bytes);
      afd_json_add_number (o, "count", it->count);
      afd_json_add_number (o, "seconds", it->seconds);
      afd_json_add_number (o, "share", m->iteration_time_s > 0 ? it->seconds / m->iteration_time_s
                                                               : 0);
      cJSON_AddItemToArray (arr, o);
    }
  return root;
}
