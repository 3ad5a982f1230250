/* SPDX-License-Identifier: MIT */
/*
 * test-sweep-hfu.c - consistency of the two views of AFD (issue #6): over a sweep of AFD
 * configurations run by the simulator (sim/sweep.h), the simulated HFU of the FFN GPUs never
 * exceeds the communication roofline's bound (models/roofline.h, docs/models/afd-roofline.md)
 * for the same model, the same hardware and the same budget.
 *
 * Same model: H, M, E, TopK, n_moe and the dtypes of the model file. Same hardware: the
 * cluster's GPU spec (peak of the dtype the simulator's metrics use, HBM), its NVLink bandwidth
 * per GPU (BW_su), its NIC bandwidth per GPU (BW_so) and GPUs per node (g). Same budget: the
 * simulated iteration spread over every layer and micro-batch, t_B = iteration_time_s /
 * (N_layers · micro_batches), with N_F the FFN nodes of the point. Why it must hold: each
 * token-expert pair an FFN GPU computes (6·H·M FLOPs) first crosses its NIC with (d + c)·H
 * bytes, so its FLOP rate is at most 6·M·BW_so/(d + c) <= HFU_comm(N_F)·peak; and each
 * (layer, micro-batch) streams the GPU's expert weights from HBM, which caps the rate at OFU(I)
 * for the tokens the link delivers within t_B (docs/user/sweep.md, "Consistency with the
 * roofline").
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "models/roofline.h"
#include "sim/cluster.h"
#include "sim/cost-model.h"
#include "sim/json.h"
#include "sim/llm.h"
#include "sim/sweep.h"
#include "tests/test-helpers.h"

static AfdCostModel *
cost_model_new (const char *spec, GError **error)
{
  const AfdCostModelClass *klass = afd_cost_model_lookup (spec, error);
  return klass != NULL ? afd_cost_model_new (klass, NULL, error) : NULL;
}

static const AfdPlugins plugins = {
  .strategy_lookup = afd_strategy_lookup,
  .strategy_list = afd_strategy_list,
  .cost_model_new = cost_model_new,
};

static double
get (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  cr_assert (cJSON_IsNumber (v), "missing number %s", key);
  return v->valuedouble;
}

/* The roofline's HFU bound for a finished sweep point, from the same inputs. */
static double
roofline_bound (const cJSON *line, double *out_hfu_comm)
{
  g_autoptr (GError) error = NULL;
  const cJSON *config = cJSON_GetObjectItem (line, "config");
  const cJSON *options = cJSON_GetObjectItem (config, "options");
  g_autoptr (AfdCluster) cluster =
      afd_cluster_load (cJSON_GetObjectItem (config, "cluster")->valuestring, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdLlm) llm = afd_llm_load (cJSON_GetObjectItem (config, "model")->valuestring,
                                         &error);
  afd_assert_no_error (error);
  const AfdGpuSpec *spec = afd_cluster_gpu_spec (cluster);
  guint gpn = afd_cluster_gpus_per_node (cluster);
  AfdRooflineModel model = {
    .hidden = llm->hidden_size,
    .expert_hidden = llm->expert_intermediate_size,
    .n_experts = llm->n_routed_experts,
    .top_k = llm->top_k,
    .n_shared = llm->n_shared_experts,
    .n_moe_layers = afd_llm_n_moe_layers (llm),
    .weight_bytes = afd_dtype_bytes (llm->dtypes.expert_weights),
    .dispatch_bytes = afd_dtype_bytes (llm->dtypes.dispatch),
    .combine_bytes = afd_dtype_bytes (llm->dtypes.combine),
  };
  AfdRooflineHardware hw = {
    .peak_flop_per_s = get (line, "peak_flop_per_s"),
    .hbm_bandwidth_bytes_per_s = spec->hbm_bandwidth_bytes_per_s,
    .hbm_bytes = spec->hbm_bytes,
    .scale_up_bytes_per_s = spec->nvlink_bandwidth_bytes_per_s,
    .scale_out_bytes_per_s = afd_cluster_gpu_nic_bandwidth (cluster, 0, NULL),
    .gpus_per_node = gpn,
  };
  cr_assert (afd_roofline_check (&model, &hw, &error), "%s", error ? error->message : "");
  guint nodes = afd_cluster_gpu_count (cluster) / gpn;
  guint n_a = (guint) get (options, "attn_nodes");
  guint n_f = nodes - n_a;
  double t_b_s = get (line, "iteration_time_s") / (llm->n_layers * get (options, "micro_batches"));
  AfdRooflinePoint p;
  afd_roofline_point (&model, &hw, t_b_s, n_f, &p);
  *out_hfu_comm = p.hfu_comm_bound;
  return p.hfu_bound;
}

/* The simulated HFU of the FFN GPUs never exceeds the roofline's HFU bound (nor its
 * communication bound) for the same model, hardware and budget, over a sweep of AFD points. */
Test (sweep_hfu, afd_simulation_below_roofline)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--cluster", "cluster", "a100-4x4-hdr,dgx-h100-x4", &error));
  cr_assert (afd_sweep_add_axis (s, "--model", "model", "masep-4l,mixtral-8x7b", &error));
  cr_assert (afd_sweep_add_axis (s, "--strategy", "strategy", "afd", &error));
  cr_assert (afd_sweep_add_axis (s, "--attn-nodes", "attn_nodes", "1..3", &error));
  cr_assert (afd_sweep_add_axis (s, "--micro-batches", "micro_batches", "2..4", &error));
  cr_assert (afd_sweep_add_axis (s, "--batch", "batch", "256,1024,4096", &error));
  cr_assert (afd_sweep_add_axis (s, "--routing", "routing", "uniform,zipf:1.2", &error));
  afd_assert_no_error (error);
  guint64 n = afd_sweep_point_count (s), ok = 0;
  double worst = 0;
  for (guint64 i = 0; i < n; i++)
    {
      g_autoptr (cJSON) line = afd_sweep_run_point (s, i, &plugins);
      const char *status = cJSON_GetObjectItem (line, "status")->valuestring;
      cr_assert (strcmp (status, "error") != 0, "point %" G_GUINT64_FORMAT ": %s", i,
                 cJSON_GetObjectItem (line, "message")->valuestring);
      if (strcmp (status, "ok") != 0)
        continue;
      ok++;
      double comm = 0;
      double bound = roofline_bound (line, &comm);
      double ffn = get (cJSON_GetObjectItem (line, "hfu_by_role"), "ffn");
      g_autofree char *text = cJSON_PrintUnformatted (cJSON_GetObjectItem (line, "config"));
      cr_assert_gt (ffn, 0, "%s", text);
      cr_assert_leq (ffn, bound * (1 + 1e-9), "FFN HFU %g > roofline bound %g for %s", ffn, bound,
                     text);
      cr_assert_leq (ffn, comm * (1 + 1e-9), "FFN HFU %g > HFU_comm %g for %s", ffn, comm, text);
      worst = MAX (worst, ffn / bound);
    }
  /* The property must not hold vacuously: most of the grid runs. */
  cr_assert_geq (ok, n / 2, "only %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " points ran", ok,
                 n);
  cr_log_info ("%" G_GUINT64_FORMAT " AFD points ran; the highest FFN HFU / bound is %.3f", ok,
               worst);
}
