/* SPDX-License-Identifier: MIT */
/*
 * cmd-calibrate.c - `afdsim calibrate`: measure this machine's GPUs into a profile JSON.
 *
 * Parses the flags (numbers as strings, converted with afd_cli_parse_*), probes the CUDA
 * backend, runs afd_cuda_calibrate() and writes the profile atomically. Progress lines go to
 * stderr; the final summary to stdout. Without --enable-cuda, or without a GPU, it fails with
 * one AFD_ERROR_BACKEND_UNAVAILABLE message (docs/backends/cuda.md).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "backends/calibrate-nodes.h"
#include "backends/cuda/cuda-calibrate.h"
#include "backends/profile.h"
#include "cli/commands.h"
#include "sim/error.h"
#include "sim/json.h"

/* Compares two doubles for g_array_sort. */
static gint
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Prints one progress line to stderr. */
static void
print_progress (const char *line, gpointer user_data)
{
  fprintf (stderr, "calibrate: %s\n", line);
  fflush (stderr);
}

/* Prints the verification table and the median |error| per op to stdout. */
static void
print_verification (const cJSON *checks)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) ops = g_ptr_array_new ();
  printf ("%-30s %-48s %12s %12s %8s\n", "op", "shape", "measured_us", "predicted_us", "error");
  for (const cJSON *c = checks->child; c != NULL; c = c->next)
    {
      const char *op = cJSON_GetStringValue (cJSON_GetObjectItem (c, "op"));
      printf ("%-30s %-48s %12.2f %12.2f %+7.1f%%\n", op,
              cJSON_GetStringValue (cJSON_GetObjectItem (c, "shape")),
              cJSON_GetObjectItem (c, "measured_s")->valuedouble * 1e6,
              cJSON_GetObjectItem (c, "predicted_s")->valuedouble * 1e6,
              cJSON_GetObjectItem (c, "error_rel")->valuedouble * 100);
      if (g_hash_table_add (seen, (gpointer) op))
        g_ptr_array_add (ops, (gpointer) op);
    }
  for (guint i = 0; i < ops->len; i++)
    {
      g_autoptr (GArray) errs = g_array_new (FALSE, FALSE, sizeof (double));
      for (const cJSON *c = checks->child; c != NULL; c = c->next)
        if (g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItem (c, "op")), ops->pdata[i]) == 0)
          {
            double e = fabs (cJSON_GetObjectItem (c, "error_rel")->valuedouble);
            g_array_append_val (errs, e);
          }
      g_array_sort (errs, compare_double);
      guint n = errs->len;
      double med = n % 2 ? g_array_index (errs, double, n / 2)
                         : 0.5 * (g_array_index (errs, double, n / 2 - 1)
                                  + g_array_index (errs, double, n / 2));
      printf ("median |error| %-24s %6.1f%% over %u checks\n", (char *) ops->pdata[i],
              med * 100, n);
    }
}

/* Runs the command. */
static int
cmd_calibrate (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
               GError **error)
{
  g_autofree char *min_text = NULL;
  g_autofree char *gpus_text = NULL, *out = NULL, *reps_text = NULL, *warmup_text = NULL,
                  *timeout_text = NULL;
  gboolean quick = FALSE, verify = FALSE, two_nodes = FALSE;
  GOptionEntry entries[] = {
    { "gpus", 'g', 0, G_OPTION_ARG_STRING, &gpus_text,
      "GPUs to use (default 1; 2 or more adds NCCL collectives over 2, 4, … N GPUs)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "profile file to write (default afdsim-profile.json)", "FILE" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "a small grid: a smoke test of about a minute",
      NULL },
    { "repetitions", 'r', 0, G_OPTION_ARG_STRING, &reps_text,
      "timed repetitions per point (default 30; 10 with --quick)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_STRING, &warmup_text,
      "untimed warm-up repetitions per point (default 5; 3 with --quick)", "N" },
    { "collective-min-gpus", 0, 0, G_OPTION_ARG_STRING, &min_text,
      "smallest NCCL group measured (default 2; 1 checks the NCCL path on one GPU)", "N" },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify,
      "re-measure off-grid shapes and record the profile's prediction error in the file", NULL },
    { "two-nodes", 0, 0, G_OPTION_ARG_NONE, &two_nodes,
      "only NCCL collectives over two node groups of --gpus/2 GPUs, one process each with its "
      "own NCCL_HOSTID (NCCL's net transport between them; docs/validation.md)", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &timeout_text,
      "deadline of every wait on a GPU or on NCCL, seconds (default 120)", "S" },
    { NULL },
  };
  /* The command line as typed, for the provenance block (before GOption edits argv). */
  g_autoptr (GString) command = g_string_new ("afdsim");
  for (int i = 0; i < argc; i++)
    g_string_append_printf (command, " %s", argv[i]);

  if (!afd_cli_parse_command (&afd_command_calibrate, afd_command_calibrate.summary, entries,
                              &argc, &argv, error))
    return 2;
  gint64 gpus = 1, min_gpus = 2, reps = quick ? 10 : 30, warmup = quick ? 3 : 5;
  double timeout_s = 120.0;
  if (!afd_cli_parse_int ("--gpus", gpus_text, 1, 16, &gpus, error)
      || !afd_cli_parse_int ("--collective-min-gpus", min_text, 1, 16, &min_gpus, error)
      || !afd_cli_parse_int ("--repetitions", reps_text, 1, 10000, &reps, error)
      || !afd_cli_parse_int ("--warmup", warmup_text, 0, 10000, &warmup, error)
      || !afd_cli_parse_double ("--timeout", timeout_text, 1.0, 86400.0, &timeout_s, error))
    return 2;
  const char *path = out != NULL ? out : "afdsim-profile.json";
  if (two_nodes && verify)
    {
      g_set_error_literal (error, AFD_ERROR, AFD_ERROR_USAGE,
                           "calibrate: --two-nodes measures only collectives: no --verify");
      return 2;
    }

  AfdCudaCalibrateOptions options = {
    .gpus = (guint) gpus,
    .collective_min_gpus = (guint) min_gpus,
    .quick = quick,
    .warmup = (guint) warmup,
    .repetitions = (guint) reps,
    .timeout_s = timeout_s,
    .command_line = command->str,
    .progress = print_progress,
  };
  g_autoptr (cJSON) profile = two_nodes ? afd_calibrate_two_nodes (&options, error)
                                         : afd_cuda_calibrate (&options, error);
  if (profile == NULL)
    {
      gboolean usage = g_error_matches (*error, AFD_ERROR, AFD_ERROR_USAGE);
      g_prefix_error (error, "calibrate: ");
      return usage ? 2 : 1;
    }
  if (!afd_json_write_file (path, profile, error))
    return 1;
  /* Read it back through the strict loader: what we ship must be what we can read. */
  g_autoptr (AfdProfile) check = afd_profile_load (path, error);
  if (check == NULL)
    {
      g_prefix_error (error, "calibrate wrote a profile it cannot read back: ");
      return 1;
    }
  if (verify)
    {
      g_autoptr (cJSON) checks = afd_cuda_verify (path, &options, error);
      if (checks == NULL)
        {
          g_prefix_error (error, "calibrate --verify: ");
          return 1;
        }
      print_verification (checks);
      cJSON_AddItemToObject (profile, "verification", g_steal_pointer (&checks));
      if (!afd_json_write_file (path, profile, error))
        return 1;
    }
  printf ("wrote %s (%s, %u GPU%s)\n", path, afd_profile_get_device_name (check),
          (guint) gpus, gpus == 1 ? "" : "s");
  return 0;
}

const AfdCommand afd_command_calibrate = {
  "calibrate", "measure GEMMs, attention, memory and NCCL collectives on this machine's GPUs "
               "into a profile",
  cmd_calibrate, NULL, 0
};
