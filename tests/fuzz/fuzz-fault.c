/* SPDX-License-Identifier: MIT */
/*
 * fuzz-fault.c - libFuzzer target for sim/fault.c: fault specs as typed after --fault
 * (afd_fault_parse) or written in an experiment's "faults" array (afd_fault_from_json), then
 * checked against and applied to a shipped 16-GPU cluster (dgx-a100-x2).
 *
 * Input starting with '{', '[' or '"' is JSON (the array's items, or the one value); anything
 * else is a spec string. Rules checked: a refused spec is AFD_ERROR_USAGE (flag) or
 * AFD_ERROR_CONFIG (file) with one valid UTF-8 line; an accepted link fault has a fraction in
 * [0, 1) (0: failed; a degraded link keeps 0 < F < 1), a straggler a finite factor in (1, 1e6], every fault an iteration <= AFD_FAULT_MAX_ITERATIONS
 * (0 for @t=TIME / "time_s" faults, whose time is in [0, AFD_FAULT_MAX_TIME_S]); checking it on the
 * cluster either refuses with AFD_ERROR_CONFIG or lets afd_fault_derive_cluster give a cluster
 * with as many GPUs (or AFD_ERROR_TOPOLOGY when the cut disconnects GPUs); the GPUs it cuts off
 * (afd_fault_cut_off_gpus) leave at least one GPU, none when the strict derivation succeeds,
 * and with them exempt the derivation succeeds or is AFD_ERROR_TOPOLOGY; straggler scales
 * are finite and >= 1.
 */
#include <math.h>

#include "sim/fault.h"
#include "sim/json.h"
#include "tests/fuzz/fuzz-common.h"

static const int usage_codes[] = { AFD_ERROR_USAGE, -1 };
static const int config_codes[] = { AFD_ERROR_CONFIG, -1 };
static const int derive_codes[] = { AFD_ERROR_TOPOLOGY, -1 };

static AfdCluster *cluster = NULL;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  g_autoptr (GError) error = NULL;
  cluster = afd_cluster_load ("dgx-a100-x2", &error);
  if (cluster == NULL)
    fuzz_fail ("cannot load dgx-a100-x2: %s", error->message);
  return 0;
}

/* Checks an accepted fault and applies it to the cluster. */
static void
apply (AfdFault *fault)
{
  fuzz_assert (fault->kind != AFD_FAULT_LINK || (fault->fraction >= 0 && fault->fraction < 1),
               "fraction %g", fault->fraction);
  fuzz_assert (fault->kind != AFD_FAULT_STRAGGLER
                 || (isfinite (fault->factor) && fault->factor > 1 && fault->factor <= 1e6),
               "factor %g", fault->factor);
  fuzz_assert (fault->iteration <= AFD_FAULT_MAX_ITERATIONS, "iteration %u", fault->iteration);
  fuzz_assert (!fault->at_time
                 || (fault->iteration == 0 && fault->time_ns >= 0
                     && fault->time_ns <= (AfdTime) (AFD_FAULT_MAX_TIME_S * 1e9)),
               "time %" G_GINT64_FORMAT " ns, iteration %u", fault->time_ns, fault->iteration);
  fuzz_assert (fault->spec != NULL && fuzz_is_one_line (fault->spec), "spec not one line");
  g_autoptr (GError) error = NULL;
  if (!afd_fault_check (fault, cluster, &error))
    {
      fuzz_check_error (error, NULL, config_codes);
      return;
    }
  AfdFault *faults[] = { fault };
  g_autoptr (AfdCluster) derived = afd_fault_derive_cluster (cluster, faults, 1, &error);
  if (derived == NULL)
    fuzz_check_error (error, NULL, derive_codes);
  else
    fuzz_assert (afd_cluster_gpu_count (derived) == afd_cluster_gpu_count (cluster),
                 "derived cluster has %u GPUs", afd_cluster_gpu_count (derived));
  guint n = afd_cluster_gpu_count (cluster);
  g_autofree guint8 *cut = g_new (guint8, n);
  guint n_cut = afd_fault_cut_off_gpus (cluster, faults, 1, cut);
  fuzz_assert (n_cut < n && (derived == NULL || n_cut == 0), "%u of %u GPUs cut off", n_cut, n);
  g_clear_error (&error);
  g_autoptr (AfdCluster) exempt
      = afd_fault_derive_cluster_full (cluster, faults, 1, AFD_FAULT_CUT_EXEMPT, &error);
  if (exempt == NULL)
    fuzz_check_error (error, NULL, derive_codes);
  g_autofree double *scale = g_new0 (double, n);
  afd_fault_compute_scale (faults, 1, n, scale);
  for (guint g = 0; g < n; g++)
    fuzz_assert (isfinite (scale[g]) && scale[g] >= 1, "scale[%u] = %g", g, scale[g]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr (GError) error = NULL;
  if (text[0] == '{' || text[0] == '[' || text[0] == '"')
    {
      g_autoptr (cJSON) root = afd_json_parse_text (text, "faults.json", AFD_ERROR_CONFIG, &error);
      if (root == NULL)
        return 0;
      guint i = 0;
      const cJSON *item = cJSON_IsArray (root) ? root->child : root;
      for (; item != NULL && i < 8; item = cJSON_IsArray (root) ? item->next : NULL, i++)
        {
          g_autoptr (GError) e = NULL;
          g_autofree char *path = afd_json_path_index ("faults", i);
          g_autoptr (AfdFault) fault = afd_fault_from_json (item, "faults.json", path, &e);
          if (fault == NULL)
            fuzz_check_error (e, "faults.json", config_codes);
          else
            apply (fault);
        }
      return 0;
    }
  g_autoptr (AfdFault) fault = afd_fault_parse (text, AFD_ERROR_USAGE, &error);
  if (fault == NULL)
    {
      if (fuzz_is_one_line (text))
        fuzz_check_error (error, NULL, usage_codes);
      return 0;
    }
  apply (fault);
  return 0;
}
