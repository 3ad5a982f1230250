/* SPDX-License-Identifier: MIT */
/*
 * Tests for the CUDA backend's behaviour in bad environments (backends/cuda/ or
 * backends/cuda-stub.c, whichever configure chose): on a machine without a GPU, or in a build
 * without --enable-cuda, probing and calibrating fail at once with one clear
 * AFD_ERROR_BACKEND_UNAVAILABLE message — no hang, no crash. Tests that need a GPU skip and
 * say why when there is none.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>
#include <sys/wait.h>

#include "backends/calibrate-nodes.h"
#include "backends/cuda/cuda-calibrate.h"
#include "backends/registry.h"
#include "sim/error.h"
#include "sim/json.h"
#include "tests/test-helpers.h"

/* Skips the current test, saying why, unless a GPU is usable. */
static void
require_gpu (guint n)
{
  g_autoptr (GError) error = NULL;
  if (!afd_cuda_probe (n, NULL, &error))
    cr_skip_test ("needs %u GPU(s): %s", n, error->message);
}

/* Returns TRUE when the probe succeeds (a GPU machine). */
static gboolean
have_gpu (void)
{
  return afd_cuda_probe (1, NULL, NULL);
}

/* Without a GPU (or without CUDA built in) the probe fails with BACKEND_UNAVAILABLE and a
 * message that says what is missing. */
Test (cuda_nogpu, probe_fails_clearly_without_gpu)
{
  if (have_gpu ())
    cr_skip_test ("a GPU is visible: this test checks the no-GPU path");
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_cuda_probe (1, NULL, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
  cr_assert (strstr (error->message, "--enable-cuda") != NULL
                 || strstr (error->message, "CUDA device") != NULL,
             "unhelpful message: %s", error->message);
  cr_assert_null (strchr (error->message, '\n'), "one line: %s", error->message);
}

/* Calibrate without a GPU returns at once with the same error and no profile. */
Test (cuda_nogpu, calibrate_fails_clearly_without_gpu, .timeout = 60)
{
  if (have_gpu ())
    cr_skip_test ("a GPU is visible: this test checks the no-GPU path");
  g_autoptr (GError) error = NULL;
  AfdCudaCalibrateOptions options = { .gpus = 1, .quick = TRUE, .warmup = 1, .repetitions = 1,
                                      .timeout_s = 5, .command_line = "test" };
  g_autoptr (cJSON) profile = afd_cuda_calibrate (&options, &error);
  cr_assert_null (profile);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
}

/* The `cuda` cost backend is registered in every build and refuses to start without a GPU. */
Test (cuda_nogpu, cost_backend_registered_and_refuses)
{
  g_autoptr (GError) error = NULL;
  const AfdCostModelClass *klass = afd_cost_model_lookup ("cuda", &error);
  afd_assert_no_error (error);
  cr_assert_not_null (klass);
  if (have_gpu ())
    cr_skip_test ("a GPU is visible: this test checks the no-GPU path");
  g_autoptr (AfdCostModel) m = afd_cost_model_new (klass, NULL, &error);
  cr_assert_null (m);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
}

/* Asking for more GPUs than are visible fails with a count, never a hang. */
Test (cuda_nogpu, too_many_gpus_fails_clearly, .timeout = 60)
{
  require_gpu (1);
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_cuda_probe (1000, NULL, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
  afd_assert_error_contains (error, "1000 CUDA device(s) needed");
}

/* On a GPU: a quick calibration yields a profile whose GEMM table has positive times. */
Test (cuda_nogpu, quick_calibration_on_gpu, .timeout = 300)
{
  require_gpu (1);
  g_autoptr (GError) error = NULL;
  AfdCudaCalibrateOptions options = { .gpus = 1, .quick = TRUE, .warmup = 1, .repetitions = 3,
                                      .timeout_s = 60, .command_line = "test" };
  g_autoptr (cJSON) profile = afd_cuda_calibrate (&options, &error);
  afd_assert_no_error (error);
  cJSON *gemm = cJSON_GetObjectItem (profile, "gemm");
  cr_assert (cJSON_GetArraySize (gemm) > 0);
  cJSON *p0 = cJSON_GetArrayItem (cJSON_GetObjectItem (cJSON_GetArrayItem (gemm, 0), "points"), 0);
  cr_assert (cJSON_GetObjectItem (p0, "time_median_s")->valuedouble > 0);
}

/* A progress callback that keeps the lines. */
static void
collect_line (const char *line, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (line));
}

/* calibrate --two-nodes without a GPU: both forked node groups fail at their probe, the
 * parent collects the first group's error through its pipe, reaps both children and returns
 * one BACKEND_UNAVAILABLE message naming the group and its GPUs — no hang, no profile. */
Test (cuda_nogpu, two_nodes_bootstrap_fails_clearly_without_gpu, .timeout = 60)
{
  if (have_gpu ())
    cr_skip_test ("a GPU is visible: this test checks the no-GPU path");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  AfdCudaCalibrateOptions options = { .gpus = 4, .warmup = 1, .repetitions = 1,
                                      .timeout_s = 5, .command_line = "test",
                                      .progress = collect_line, .progress_data = lines };
  g_autoptr (cJSON) profile = afd_calibrate_two_nodes (&options, &error);
  cr_assert_null (profile);
  /* Each group's progress line arrived whole, and its error line after it was still read. */
  g_ptr_array_add (lines, NULL);
  g_autofree char *all = g_strjoinv ("|", (char **) lines->pdata);
  cr_assert (strstr (all, "node 0: started: NCCL_HOSTID=afd-node0 CUDA_VISIBLE_DEVICES=0,1")
                 != NULL, "%s", all);
  cr_assert (strstr (all, "node 1: started: NCCL_HOSTID=afd-node1 CUDA_VISIBLE_DEVICES=2,3")
                 != NULL, "%s", all);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
  afd_assert_error_contains (error, "node group 0 (GPUs 0-1): ");
  cr_assert_null (strchr (error->message, '\n'), "one line: %s", error->message);
  /* Both children were reaped: no child of this process is left. */
  cr_assert_eq (waitpid (-1, NULL, WNOHANG), -1);
}

/* --two-nodes needs an even GPU count: an odd one is a usage error, before any fork. */
Test (cuda_nogpu, two_nodes_rejects_odd_gpu_count)
{
  g_autoptr (GError) error = NULL;
  AfdCudaCalibrateOptions options = { .gpus = 3, .repetitions = 1, .timeout_s = 5 };
  g_autoptr (cJSON) profile = afd_calibrate_two_nodes (&options, &error);
  cr_assert_null (profile);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
  afd_assert_error_contains (error, "even number of GPUs");
}

/* On 2+ GPUs with NCCL: two node groups of one GPU each measure collectives through NCCL's net
 * transport, and the profile names it (skips on a machine without 2 GPUs). */
Test (cuda_nogpu, two_nodes_on_gpus, .timeout = 300)
{
  /* No probe here: this process must not touch CUDA before the fork. */
  g_autoptr (GError) error = NULL;
  AfdCudaCalibrateOptions options = { .gpus = 2, .quick = TRUE, .warmup = 1, .repetitions = 2,
                                      .timeout_s = 60, .command_line = "test" };
  g_autoptr (cJSON) profile = afd_calibrate_two_nodes (&options, &error);
  if (profile == NULL && g_error_matches (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE))
    cr_skip_test ("%s", error->message);
  afd_assert_no_error (error);
  const cJSON *prov = cJSON_GetObjectItem (profile, "provenance");
  cr_assert (g_str_has_prefix (cJSON_GetStringValue (cJSON_GetObjectItem (prov,
                                                                          "nccl_net_transport")),
                               "NET/"));
  cr_assert (cJSON_GetArraySize (cJSON_GetObjectItem (profile, "collectives")) > 0);
}
