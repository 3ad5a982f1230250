/* SPDX-License-Identifier: MIT */
/*
 * test-sweep.c - `afdsim sweep` internals (sim/sweep.h, docs/user/sweep.md): axis parsing,
 * the Cartesian product, point identity, resume skipping, partial-line recovery, statuses,
 * what-if overrides, sweep files, CSV, and output independent of the number of threads.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/cost-model.h"
#include "sim/json.h"
#include "sim/sweep.h"
#include "tests/test-helpers.h"

/* The composition root's cost-model factory, as cli/main.c builds it. */
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

/* Returns config[key] (or config.options[key]) as a number. */
static double
cfg_num (const cJSON *config, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (config, key);
  if (v == NULL)
    v = cJSON_GetObjectItemCaseSensitive (cJSON_GetObjectItemCaseSensitive (config, "options"),
                                          key);
  cr_assert (cJSON_IsNumber (v), "no number %s", key);
  return v->valuedouble;
}

/* Folders made by temp_path() in this test (each Criterion test runs in its own process). */
static GPtrArray *temp_dirs;

/* A temporary file path in a fresh folder, removed when the test ends. */
static char *
temp_path (const char *name)
{
  char *dir = g_dir_make_tmp ("test-sweep-XXXXXX", NULL);
  cr_assert_not_null (dir);
  if (temp_dirs == NULL)
    temp_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (temp_dirs, dir);
  return g_build_filename (dir, name, NULL);
}

/* Removes the folders temp_path() made, with the files in them. */
static void
remove_temps (void)
{
  for (guint i = 0; temp_dirs != NULL && i < temp_dirs->len; i++)
    {
      g_autoptr (GDir) d = g_dir_open (temp_dirs->pdata[i], 0, NULL);
      const char *f;
      while (d != NULL && (f = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (temp_dirs->pdata[i], f, NULL);
          g_remove (p);
        }
      g_rmdir (temp_dirs->pdata[i]);
    }
  g_clear_pointer (&temp_dirs, g_ptr_array_unref);
}

TestSuite (sweep, .fini = remove_temps);

/* Ranges expand inclusively with an optional step; lists keep their order. */
Test (sweep, axis_ranges_and_lists)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--attn-gpus", "attn_gpus", "1..15", &error));
  afd_assert_no_error (error);
  cr_assert_eq (afd_sweep_point_count (s), 15);
  cr_assert (afd_sweep_add_axis (s, "--batch", "batch", "64..320/128,1024", &error));
  cr_assert_eq (afd_sweep_point_count (s), 15 * 4);
  const double batches[] = { 64, 192, 320, 1024 };
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (cJSON) c = afd_sweep_point_config (s, i);
      cr_assert_float_eq (cfg_num (c, "batch"), batches[i], 0);
      cr_assert_float_eq (cfg_num (c, "attn_gpus"), 1, 0);
    }
}

/* Bad axis values are usage errors naming the flag. */
Test (sweep, axis_errors)
{
  static const char *const bad[][3] = {
    { "--batch", "batch", "5..1" },       { "--batch", "batch", "1,,2" },
    { "--batch", "batch", "abc" },        { "--batch", "batch", "0" },
    { "--ratio", "ratio", "3:0" },        { "--ratio", "ratio", "3" },
    { "--phase", "phase", "both" },       { "--set x", "bad key!", "1" },
    { "--set json", "json", "a" },        { "--set tp", "tp", "1e400" },
    { "--attn-gpus", "attn_gpus", "1..4/0" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
      cr_assert_not (afd_sweep_add_axis (s, bad[i][0], bad[i][1], bad[i][2], &error), "%s %s",
                     bad[i][0], bad[i][2]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error_contains (error, bad[i][0]);
    }
}

/* The product enumerates the first axis slowest and the last fastest. */
Test (sweep, cartesian_order)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--strategy", "strategy", "masep,tppp,ep", NULL));
  cr_assert (afd_sweep_add_axis (s, "--seed", "seed", "7,8", NULL));
  cr_assert_eq (afd_sweep_point_count (s), 6);
  const char *strategies[] = { "masep", "masep", "tppp", "tppp", "ep", "ep" };
  for (guint i = 0; i < 6; i++)
    {
      g_autoptr (cJSON) c = afd_sweep_point_config (s, i);
      cr_assert_str_eq (cJSON_GetObjectItem (c, "strategy")->valuestring, strategies[i]);
      cr_assert_float_eq (cfg_num (c, "seed"), 7 + i % 2, 0);
    }
}

/* A point's id depends on its configuration only, not on which axis or default set a value. */
Test (sweep, point_identity)
{
  g_autoptr (AfdSweep) a = afd_sweep_new (afd_strategy_list ());
  g_autoptr (AfdSweep) b = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (a, "--batch", "batch", "64,128", NULL));
  cr_assert (afd_sweep_add_axis (a, "--set tp", "tp", "2", NULL));
  cr_assert (afd_sweep_set (b, "--set tp", "tp", "2", NULL));
  cr_assert (afd_sweep_add_axis (b, "--batch", "batch", "128", NULL));
  g_autoptr (cJSON) ca = afd_sweep_point_config (a, 1);
  g_autoptr (cJSON) cb = afd_sweep_point_config (b, 0);
  g_autoptr (cJSON) c0 = afd_sweep_point_config (a, 0);
  g_autofree char *ia = afd_sweep_config_id (ca);
  g_autofree char *ib = afd_sweep_config_id (cb);
  g_autofree char *i0 = afd_sweep_config_id (c0);
  cr_assert_eq (strlen (ia), 16);
  cr_assert_str_eq (ia, ib);
  cr_assert_str_neq (ia, i0);
}

/* A ratio that does not split the GPUs into whole numbers is reported infeasible, not dropped;
 * a ratio that does becomes attn_gpus/moe_gpus and runs. */
Test (sweep, ratio_statuses)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_set (s, "--total-gpus", "total_gpus", "16", NULL));
  cr_assert (afd_sweep_add_axis (s, "--ratio", "ratio", "2:1,3:1", NULL));
  g_autoptr (cJSON) bad = afd_sweep_run_point (s, 0, &plugins);
  g_autoptr (cJSON) good = afd_sweep_run_point (s, 1, &plugins);
  cr_assert_str_eq (cJSON_GetObjectItem (bad, "status")->valuestring, "infeasible");
  cr_assert_not_null (strstr (cJSON_GetObjectItem (bad, "message")->valuestring, "2:1"));
  cr_assert_str_eq (cJSON_GetObjectItem (good, "status")->valuestring, "ok");
  const cJSON *roles = cJSON_GetObjectItem (good, "roles");
  cr_assert_float_eq (cJSON_GetObjectItem (roles, "attention")->valuedouble, 12, 0);
  cr_assert_float_eq (cJSON_GetObjectItem (roles, "moe")->valuedouble, 4, 0);
  cr_assert_gt (cJSON_GetObjectItem (good, "tpot_s")->valuedouble, 0);
}

/* A what-if GPU override reaches the simulation (more HBM bandwidth: shorter decode step), and
 * an override path that does not exist is an "error" point naming the key. */
Test (sweep, overrides)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--set", "gpu.hbm_bandwidth_bytes_per_s", "2e12,4e12", NULL));
  g_autoptr (cJSON) slow = afd_sweep_run_point (s, 0, &plugins);
  g_autoptr (cJSON) fast = afd_sweep_run_point (s, 1, &plugins);
  cr_assert_str_eq (cJSON_GetObjectItem (slow, "status")->valuestring, "ok");
  cr_assert_str_eq (cJSON_GetObjectItem (fast, "status")->valuestring, "ok");
  cr_assert_lt (cJSON_GetObjectItem (fast, "tpot_s")->valuedouble,
                cJSON_GetObjectItem (slow, "tpot_s")->valuedouble);

  g_autoptr (AfdSweep) t = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (t, "--set", "cluster.generator.nope.x", "1", NULL));
  g_autoptr (cJSON) err = afd_sweep_run_point (t, 0, &plugins);
  cr_assert_str_eq (cJSON_GetObjectItem (err, "status")->valuestring, "error");
  cr_assert_not_null (strstr (cJSON_GetObjectItem (err, "message")->valuestring,
                              "cluster.generator.nope.x"));
}

/* Resume counts the complete lines of the same sweep and truncates a partial last line. */
Test (sweep, resume_and_partial_line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--batch", "batch", "64,128,256,512", NULL));
  g_autofree char *path = temp_path ("out.jsonl");
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (cJSON) line = afd_sweep_run_point (s, i, &plugins);
      g_autofree char *t = cJSON_PrintUnformatted (line);
      g_string_append_printf (text, "%s\n", t);
    }
  gsize complete = text->len;
  g_string_append (text, "{\"index\":2,\"id\":\"abc"); /* killed mid-write */
  cr_assert (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  guint64 done = 99;
  cr_assert (afd_sweep_resume (s, path, &done, &error));
  afd_assert_no_error (error);
  cr_assert_eq (done, 2);
  g_autofree char *after = NULL;
  gsize len = 0;
  cr_assert (g_file_get_contents (path, &after, &len, NULL));
  cr_assert_eq (len, complete);

  /* A missing file means nothing done. */
  g_autofree char *none = temp_path ("none.jsonl");
  cr_assert (afd_sweep_resume (s, none, &done, &error));
  cr_assert_eq (done, 0);
}

/* Resuming with different axes is refused with a message naming the file and line. */
Test (sweep, resume_refuses_other_sweep)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--batch", "batch", "64,128", NULL));
  g_autofree char *path = temp_path ("out.jsonl");
  g_autoptr (cJSON) line = afd_sweep_run_point (s, 0, &plugins);
  g_autofree char *t = cJSON_PrintUnformatted (line);
  g_autofree char *text = g_strdup_printf ("%s\n", t);
  cr_assert (g_file_set_contents (path, text, -1, NULL));

  g_autoptr (AfdSweep) other = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (other, "--batch", "batch", "32,128", NULL));
  g_autoptr (GError) error = NULL;
  guint64 done = 0;
  cr_assert_not (afd_sweep_resume (other, path, &done, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "line 1");
  afd_assert_error_contains (error, "different sweep");

  g_autoptr (GError) error2 = NULL;
  cr_assert (g_file_set_contents (path, "not json\n", -1, NULL));
  cr_assert_not (afd_sweep_resume (s, path, &done, &error2));
  afd_assert_error_contains (error2, "line 1");
}

/* Runs @s into a fresh file with @jobs threads and returns the file's text. */
static char *
run_to_text (AfdSweep *s, guint jobs, const char *csv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = temp_path ("run.jsonl");
  AfdSweepRunOptions opts = { .output = path, .csv = csv, .jobs = jobs, .size = 1 };
  AfdSweepStats stats = { 0 };
  cr_assert (afd_sweep_run (s, &plugins, &opts, &stats, &error), "%s",
             error ? error->message : "");
  cr_assert_eq (stats.computed, afd_sweep_point_count (s));
  afd_sweep_stats_clear (&stats);
  char *text = NULL;
  cr_assert (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* Output is byte-identical whatever the number of worker threads, one line per point. */
Test (sweep, threads_do_not_change_output)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_set (s, "--total-gpus", "total_gpus", "16", NULL));
  cr_assert (afd_sweep_add_axis (s, "--attn-gpus", "attn_gpus", "1..15", NULL));
  cr_assert (afd_sweep_add_axis (s, "--batch", "batch", "256,1024", NULL));
  g_autofree char *one = run_to_text (s, 1, NULL);
  g_autofree char *three = run_to_text (s, 3, NULL);
  cr_assert_str_eq (one, three);
  guint lines = 0;
  for (const char *c = one; *c != '\0'; c++)
    lines += *c == '\n';
  cr_assert_eq (lines, 30);
}

/* The CSV has one row per point with the configuration and metric columns. */
Test (sweep, csv_columns)
{
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_add_axis (s, "--ratio", "ratio", "3:1,7:1", NULL));
  g_autofree char *csv = temp_path ("out.csv");
  g_autofree char *text = run_to_text (s, 2, csv);
  g_autofree char *table = NULL;
  cr_assert (g_file_get_contents (csv, &table, NULL, NULL));
  g_auto (GStrv) rows = g_strsplit (table, "\n", -1);
  cr_assert_eq (g_strv_length (rows), 4); /* header, 2 rows, empty after the last newline */
  cr_assert (g_str_has_prefix (rows[0], "index,id,status,cluster,model,strategy,"));
  cr_assert_not_null (strstr (rows[0], ",ratio,"));
  cr_assert_not_null (strstr (rows[0], ",tpot_s,"));
  cr_assert (g_str_has_prefix (rows[1], "0,"));
  cr_assert_not_null (strstr (rows[1], ",ok,"));
  cr_assert_not_null (strstr (rows[1], "attention:12;moe:4"));
  cr_assert_not_null (strstr (rows[2], "attention:14;moe:2"));
}

/* A sweep file: experiment keys are the base, runs and sweep.axes/points are axes. */
Test (sweep, load_file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = temp_path ("sweep.json");
  const char *json = "{\"description\": \"t\", \"batch\": 64,"
                     " \"runs\": [{\"strategy\": \"masep\", \"attn_gpus\": 12,"
                     "             \"claims\": {\"tpot_s\": 1}},"
                     "            {\"strategy\": \"tppp\", \"tp\": 8, \"pp\": 2}],"
                     " \"sweep\": {\"axes\": {\"seed\": \"1..3\", \"routing\": [\"uniform\","
                     " \"zipf:1.2\"]}, \"points\": [{\"context\": 512}, {\"context\": 1024}]}}";
  cr_assert (g_file_set_contents (path, json, -1, NULL));
  g_autoptr (AfdSweep) s = afd_sweep_new (afd_strategy_list ());
  cr_assert (afd_sweep_load (s, path, &error), "%s", error ? error->message : "");
  cr_assert_eq (afd_sweep_point_count (s), 2 * 3 * 2 * 2);
  g_autoptr (cJSON) last = afd_sweep_point_config (s, 23);
  cr_assert_str_eq (cJSON_GetObjectItem (last, "strategy")->valuestring, "tppp");
  cr_assert_str_eq (cJSON_GetObjectItem (last, "routing")->valuestring, "zipf:1.2");
  cr_assert_float_eq (cfg_num (last, "batch"), 64, 0);
  cr_assert_float_eq (cfg_num (last, "seed"), 3, 0);
  cr_assert_float_eq (cfg_num (last, "context"), 1024, 0);
  cr_assert_float_eq (cfg_num (last, "tp"), 8, 0);

  const char *bad[] = { "{\"sweep\": {\"axes\": {\"batch\": [\"x\"]}}}",
                        "{\"sweep\": {\"axis\": {}}}", "{\"json\": \"out.json\"}",
                        "{\"sweep\": {\"points\": []}}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (AfdSweep) t = afd_sweep_new (afd_strategy_list ());
      cr_assert (g_file_set_contents (path, bad[i], -1, NULL));
      cr_assert_not (afd_sweep_load (t, path, &e), "%s", bad[i]);
      afd_assert_error (e, AFD_ERROR, AFD_ERROR_CONFIG);
      afd_assert_error_contains (e, path);
    }
}
