/* SPDX-License-Identifier: MIT */
/* test-economics.c - dollars and joules per token (sim/economics.h, docs/models/cost.md): the
 * worked example, a replayed run checked against its own per-GPU busy times, unused GPUs not
 * counted, --price overrides, and the GPU files' price and power keys. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "sim/data-dir.h"
#include "sim/economics.h"
#include "sim/experiment.h"
#include "sim/json.h"
#include "sim/gpu-spec.h"
#include "tests/fault-test-helpers.h"
#include "tests/test-helpers.h"

/* A number of @o, asserted to be one. */
static double
num (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  cr_assert (cJSON_IsNumber (v), "%s is not a number", key);
  return v->valuedouble;
}

/* docs/models/cost.md "Worked example": 2 used H100s, 10 ms step, busy 6 and 4 ms, 256
 * sequences accepting 1.7 tokens per step. */
Test (economics, worked_example)
{
  const double busy[] = { 0.006, 0.004 };
  double e = afd_economics_step_energy_j (busy, 2, 0.010, 700, 75);
  cr_assert_float_eq (e, 7.75, 1e-12);
  cr_assert_float_eq (e / 0.010, 775.0, 1e-9);
  cr_assert_float_eq (e / (256 * 1.7), 0.017807904411764705, 1e-15);
  double usd = afd_economics_usd_per_million_tokens (2, 2.99, 0.010, 256 * 1.7);
  cr_assert_float_eq (usd, 0.038168913398692814, 1e-15);
  /* Busy time beyond the step is clamped: a GPU cannot draw more than TDP all step long. */
  const double over[] = { 0.02 };
  cr_assert_float_eq (afd_economics_step_energy_j (over, 1, 0.010, 700, 75), 7.0, 1e-12);
  cr_assert_eq (afd_economics_usd_per_million_tokens (2, 2.99, 0.010, 0), -1);
}

/* Runs tppp on a100-4x4-hdr with @tp GPUs of 16 used (options tp, pp 1, dp 1). */
static cJSON *
run_tppp (guint tp, const char *price, GError **error)
{
  g_autoptr (AfdExperiment) e = afd_experiment_new ();
  e->batch = 64;
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "tp", tp);
  cJSON_AddNumberToObject (o, "pp", 1);
  cJSON_AddNumberToObject (o, "dp", 1);
  afd_experiment_add_run (e, NULL, "tppp", o);
  if (price != NULL && !afd_experiment_add_price (e, price, "--price", AFD_ERROR_USAGE, error))
    return NULL;
  return afd_experiment_run (e, &plugins, NULL, error);
}

/* The summary's economics follow the formulas from the run's own per-GPU busy times; the 12
 * GPUs tppp leaves without ops are not counted. */
Test (economics, summary_matches_formula)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) s = run_tppp (4, NULL, &error);
  afd_assert_no_error (error);
  const cJSON *run = cJSON_GetArrayItem (cJSON_GetObjectItem (s, "runs"), 0);
  const cJSON *eco = cJSON_GetObjectItem (run, "economics");
  g_autoptr (AfdGpuSpec) a100 = afd_gpu_spec_load ("A100-SXM4-80GB", &error);
  afd_assert_no_error (error);
  double T = num (run, "iteration_time_s"), K = num (run, "tokens_per_s") * T;
  cr_assert_float_eq (K, 64.0, 1e-9);
  double energy = 0;
  guint used = 0;
  const cJSON *g;
  cJSON_ArrayForEach (g, cJSON_GetObjectItem (run, "gpus"))
    if (strcmp (cJSON_GetStringValue (cJSON_GetObjectItem (g, "role")), "idle") != 0)
      {
        used++;
        energy += a100->idle_power_w * T + (a100->tdp_w - a100->idle_power_w) * num (g, "busy_s");
      }
  cr_assert_eq (used, 4);
  cr_assert_eq (num (eco, "gpus_used"), 4);
  cr_assert_eq (num (eco, "price_usd_per_gpu_hour"), a100->price_usd_per_gpu_hour);
  cr_assert_float_eq (num (eco, "usd_per_hour"), 4 * a100->price_usd_per_gpu_hour, 1e-12);
  cr_assert_float_eq (num (eco, "usd_per_million_tokens"),
                      4 * a100->price_usd_per_gpu_hour / 3600 * T / K * 1e6, 1e-12);
  cr_assert_float_eq (num (eco, "energy_j_per_step"), energy, 1e-9);
  cr_assert_float_eq (num (eco, "joules_per_token"), energy / K, 1e-12);
  cr_assert_float_eq (num (eco, "mean_power_w"), energy / T, 1e-6);
  /* A single run repeats its economics at the top level; the workload names the price. */
  cr_assert_not_null (cJSON_GetObjectItem (s, "economics"));
  cr_assert_eq (num (cJSON_GetObjectItem (s, "workload"), "price_usd_per_gpu_hour"),
                a100->price_usd_per_gpu_hour);
}

/* --price replaces the file's price for the cluster's GPU; a price for another GPU is kept
 * but changes nothing. */
Test (economics, price_override)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) base = run_tppp (4, NULL, &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) cheap = run_tppp (4, "A100-SXM4-80GB=0.5", &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) other = run_tppp (4, "H200=9", &error);
  afd_assert_no_error (error);
  const cJSON *eb = cJSON_GetObjectItem (base, "economics");
  const cJSON *ec = cJSON_GetObjectItem (cheap, "economics");
  cr_assert_eq (num (ec, "price_usd_per_gpu_hour"), 0.5);
  cr_assert_float_eq (num (ec, "usd_per_million_tokens"),
                      num (eb, "usd_per_million_tokens") * 0.5 / num (eb, "price_usd_per_gpu_hour"),
                      1e-12);
  cr_assert_eq (num (ec, "joules_per_token"), num (eb, "joules_per_token"));
  cr_assert_eq (num (cJSON_GetObjectItem (other, "economics"), "usd_per_million_tokens"),
                num (eb, "usd_per_million_tokens"));
}

/* Bad --price specs fail with one message naming the flag and the problem. */
Test (economics, price_rejects_bad_specs)
{
  static const struct {
    const char *spec, *needle;
  } cases[] = {
    { "H200", "is not GPU=USD_PER_HOUR" },       { "=3", "is not GPU=USD_PER_HOUR" },
    { "H200=", "is not GPU=USD_PER_HOUR" },      { "H200=0", "> 0" },
    { "H200=-1", "> 0" },                        { "H200=nan", "finite" },
    { "H200=inf", "finite" },                    { "H200=3x", "finite" },
    { "Z9000=3", "unknown GPU 'Z9000'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdExperiment) e = afd_experiment_new ();
      cr_assert (!afd_experiment_add_price (e, cases[i].spec, "--price", AFD_ERROR_USAGE, &error),
                 "%s should fail", cases[i].spec);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error_contains (error, "--price");
      afd_assert_error_contains (error, cases[i].needle);
    }
}

/* Every shipped GPU file has a price and board powers (idle < TDP) with their citation. */
Test (economics, shipped_gpus_have_price_and_power)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = afd_data_list ("topologies/gpus", &error);
  afd_assert_no_error (error);
  cr_assert (names->len >= 7);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (names->pdata[i], &error);
      afd_assert_no_error (error);
      cr_assert (spec->price_usd_per_gpu_hour > 0, "%s: no price", spec->name);
      cr_assert (spec->idle_power_w > 0 && spec->idle_power_w < spec->tdp_w, "%s", spec->name);
      cr_assert_not_null (spec->price_power_source, "%s", spec->name);
      static const char *const keys[] = { "price_usd_per_gpu_hour", "tdp_w", "idle_power_w" };
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        cr_assert (strstr (spec->price_power_source, keys[k]) != NULL, "%s: %s not cited",
                   spec->name, keys[k]);
    }
}

/* Bad price or power keys in a GPU file fail with AFD_ERROR_TOPOLOGY naming file and key. */
Test (economics, gpu_file_rejects_bad_price_power)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src = afd_data_resolve ("topologies/gpus", "GPU", "H100-SXM", &error);
  afd_assert_no_error (error);
  g_autofree char *text = NULL;
  cr_assert (g_file_get_contents (src, &text, NULL, NULL));
  static const struct {
    const char *from, *to, *needle;
  } cases[] = {
    { "\"price_usd_per_gpu_hour\": 2.99", "\"price_usd_per_gpu_hour\": 0",
      "price_usd_per_gpu_hour: must be > 0" },
    { "\"price_usd_per_gpu_hour\": 2.99", "\"price_usd_per_gpu_hour\": -2",
      "price_usd_per_gpu_hour: must be > 0" },
    { "\"price_usd_per_gpu_hour\": 2.99", "\"price_usd_per_gpu_hour\": \"2.99\"",
      "price_usd_per_gpu_hour" },
    { "\"tdp_w\": 700", "\"tdp_w\": 1e999", "tdp_w" },
    { "\"idle_power_w\": 75", "\"idle_power_w\": 700", "idle_power_w: must be below tdp_w" },
    { "\"idle_power_w\": 75,", "", "give tdp_w and idle_power_w together" },
    { "\"price_power_source\"", "\"price_power_sauce\"", "price_power_sauce: unknown key" },
  };
  g_autofree char *dir = g_dir_make_tmp ("afd-economics-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      cr_assert (strstr (text, cases[i].from) != NULL, "case %u: '%s' not in H100-SXM.json", i,
                 cases[i].from);
      g_auto (GStrv) parts = g_strsplit (text, cases[i].from, 2);
      g_autofree char *bad = g_strjoin (cases[i].to, parts[0], parts[1], NULL);
      g_autofree char *path = g_build_filename (dir, "gpu-bad-price.json", NULL);
      cr_assert (g_file_set_contents (path, bad, -1, NULL));
      g_clear_error (&error);
      g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (path, &error);
      cr_assert_null (spec, "case %u should fail", i);
      afd_assert_error_contains (error, path);
      afd_assert_error_contains (error, cases[i].needle);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* A GPU file without price and powers gives null cost and energy (and a null workload
 * price); --price then fills in the cost alone. */
Test (economics, missing_price_and_power_are_null)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *gsrc = afd_data_resolve ("topologies/gpus", "GPU", "A100-SXM4-80GB", &error);
  g_autofree char *csrc = afd_data_resolve ("topologies/clusters", "cluster", "a100-4x4-hdr",
                                            &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) gpu = afd_json_parse_file (gsrc, AFD_ERROR_TOPOLOGY, &error);
  afd_assert_no_error (error);
  static const char *const keys[] = { "price_usd_per_gpu_hour", "tdp_w", "idle_power_w",
                                      "price_power_source" };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    cJSON_DeleteItemFromObjectCaseSensitive (gpu, keys[k]);
  g_autofree char *dir = g_dir_make_tmp ("afd-economics-XXXXXX", NULL);
  g_autofree char *gpath = g_build_filename (dir, "a100-unpriced.json", NULL);
  g_autofree char *gtext = cJSON_Print (gpu);
  cr_assert (g_file_set_contents (gpath, gtext, -1, NULL));
  g_autofree char *ctext = NULL;
  cr_assert (g_file_get_contents (csrc, &ctext, NULL, NULL));
  g_auto (GStrv) parts = g_strsplit (ctext, "\"gpu\": \"A100-SXM4-80GB\"", 2);
  cr_assert_not_null (parts[1]);
  g_autofree char *with = g_strdup_printf ("\"gpu\": \"%s\"", gpath);
  g_autofree char *cluster = g_strjoin (with, parts[0], parts[1], NULL);
  g_autofree char *cpath = g_build_filename (dir, "cluster-unpriced.json", NULL);
  cr_assert (g_file_set_contents (cpath, cluster, -1, NULL));
  for (guint priced = 0; priced < 2; priced++)
    {
      g_autoptr (AfdExperiment) e = afd_experiment_new ();
      g_free (e->cluster), e->cluster = g_strdup (cpath);
      afd_experiment_add_run (e, NULL, "masep", NULL);
      if (priced)
        cr_assert (afd_experiment_add_price (e, "A100-SXM4-80GB=1", "--price", AFD_ERROR_USAGE,
                                             &error));
      g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
      afd_assert_no_error (error);
      const cJSON *eco = cJSON_GetObjectItem (s, "economics");
      cr_assert_eq (num (eco, "gpus_used"), 16);
      cr_assert (cJSON_IsNull (cJSON_GetObjectItem (eco, "joules_per_token")));
      cr_assert (cJSON_IsNull (cJSON_GetObjectItem (eco, "tdp_w")));
      const cJSON *usd = cJSON_GetObjectItem (eco, "usd_per_million_tokens");
      const cJSON *wp = cJSON_GetObjectItem (cJSON_GetObjectItem (s, "workload"),
                                             "price_usd_per_gpu_hour");
      if (priced)
        cr_assert (cJSON_IsNumber (usd) && usd->valuedouble > 0 && cJSON_IsNumber (wp));
      else
        cr_assert (cJSON_IsNull (usd) && cJSON_IsNull (wp));
    }
  g_unlink (cpath);
  g_unlink (gpath);
  g_rmdir (dir);
}
