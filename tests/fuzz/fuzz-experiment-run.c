/* SPDX-License-Identifier: MIT */
/*
 * fuzz-experiment-run.c - libFuzzer target that loads an arbitrary experiment file and, when it
 * stays small, runs it: strategies, operator graphs, cost model, replay and metrics all see
 * fuzzed options (attention:MoE splits, TP/PP/EP sizes, micro-batches, routing, phases).
 *
 * Runs only experiments on shipped models and the shipped clusters of at most 16 GPUs (names,
 * not paths: a fuzzed path could name any file), with the analytic cost model, batch <= 256,
 * context <= 8192, at most 16384 prefill tokens and at most 4 runs, so one input takes well
 * under a second under ASan; output files are dropped. (Routing is sampled per token and per
 * MoE layer: a 1.4-million-token prefill of deepseek-v3 takes 25 s even in an -O2 build, and
 * the strategies check memory only after sampling: TODO(#8) in docs/reliability.md.) Rules checked: a failed run is an AFD_ERROR (config,
 * topology, I/O, unknown plugin, infeasible, limit, usage) with one valid UTF-8 line; a
 * successful one gives a summary object whose iteration times are finite and within the
 * simulated-time horizon (issue #14: 2^62 ns; beyond it the run must be refused with
 * AFD_ERROR_LIMIT at the duration's origin); no crash, sanitizer report, GLib critical or leak.
 */
#include "backends/registry.h"
#include "models/registry.h"
#include "sim/experiment.h"
#include "sim/json.h"
#include "sim/types.h"
#include "tests/fuzz/fuzz-common.h"

static const int load_codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };
static const int run_codes[] = { AFD_ERROR_CONFIG,          AFD_ERROR_TOPOLOGY,
                                 AFD_ERROR_IO,              AFD_ERROR_UNKNOWN_PLUGIN,
                                 AFD_ERROR_INFEASIBLE,      AFD_ERROR_LIMIT,
                                 AFD_ERROR_USAGE,           -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The analytic cost model only: other backends read files or need a GPU. */
static AfdCostModel *
cost_model_new (const char *spec, GError **error)
{
  const AfdCostModelClass *klass = afd_cost_model_lookup (spec, error);
  if (klass == NULL)
    return NULL;
  return afd_cost_model_new (klass, NULL, error);
}

static const AfdPlugins plugins = {
  .strategy_lookup = afd_strategy_lookup,
  .strategy_list = afd_strategy_list,
  .cost_model_new = cost_model_new,
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* TRUE for a shipped model name (no folder, no .json): the run never opens a fuzzed path. */
static gboolean
is_name (const char *s)
{
  return s != NULL && strchr (s, '/') == NULL && !g_str_has_suffix (s, ".json")
         && strcmp (s, "..") != 0;
}

/* TRUE for the shipped clusters of at most 16 GPUs (bigger ones take seconds under ASan). */
static gboolean
is_small_cluster (const char *s)
{
  static const char *const small[] = { "a100-4x4-hdr", "dgx-a100-x2", "h200-1x4" };
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (small); i++)
    if (strcmp (s, small[i]) == 0)
      return TRUE;
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("experiment.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) exp = afd_experiment_load (path, &error);
  if (exp == NULL)
    {
      fuzz_check_error (error, path, load_codes);
      return 0;
    }
  if (!is_small_cluster (exp->cluster) || !is_name (exp->model)
      || strcmp (exp->costs, "analytic") != 0 || exp->batch > 256 || exp->context_tokens > 8192
      || (exp->prefill && exp->batch * exp->context_tokens > 16384) || exp->runs->len > 4
      || (exp->routing != NULL && g_str_has_prefix (exp->routing, "file:")))
    return 0;
  g_clear_pointer (&exp->json, g_free);
  g_clear_pointer (&exp->trace, g_free);
  g_autoptr (cJSON) summary = afd_experiment_run (exp, &plugins, NULL, &error);
  if (summary == NULL)
    fuzz_check_error (error, NULL, run_codes);
  else
    {
      fuzz_assert (cJSON_IsObject (summary), "summary is not an object");
      const cJSON *run;
      cJSON_ArrayForEach (run, cJSON_GetObjectItemCaseSensitive (summary, "runs"))
        {
          const cJSON *t = cJSON_GetObjectItemCaseSensitive (run, "iteration_time_s");
          fuzz_assert (cJSON_IsNull (t)
                           || (cJSON_IsNumber (t) && afd_time_within_horizon (t->valuedouble)),
                       "iteration_time_s %g is not within the horizon",
                       cJSON_IsNumber (t) ? t->valuedouble : -1.0);
        }
    }
  return 0;
}
