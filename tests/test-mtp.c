/* SPDX-License-Identifier: MIT */
/* test-mtp.c - multi-token prediction / speculative decoding (--mtp N --accept L,
 * docs/models/mtp.md): TPOT = step / L, tokens/s counts accepted tokens, the draft module's
 * blocks are placed by every strategy like the model's own blocks, the LM head covers the
 * verified and drafted positions, the roofline's budget agrees with the run, and bad inputs
 * get one clear message. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "models/roofline.h"
#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "sim/experiment.h"
#include "sim/json.h"
#include "sim/llm.h"
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

static char *tmpdir;
static char *model_path; /* masep-4l with one MTP module */

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src = afd_data_resolve ("models/llm", "model", "masep-4l", &error);
  afd_assert_no_error (error);
  g_autofree char *text = NULL;
  cr_assert (g_file_get_contents (src, &text, NULL, NULL));
  g_auto (GStrv) parts = g_strsplit (text, "\"layers\": 4,", 2);
  cr_assert_not_null (parts[1]);
  g_autofree char *with = g_strjoin ("\"layers\": 4, \"mtp_layers\": 1,", parts[0], parts[1], NULL);
  tmpdir = g_dir_make_tmp ("afd-mtp-XXXXXX", NULL);
  model_path = g_build_filename (tmpdir, "masep-4l-mtp.json", NULL);
  cr_assert (g_file_set_contents (model_path, with, -1, NULL));
}

static void
teardown (void)
{
  g_unlink (model_path);
  g_rmdir (tmpdir);
  g_free (model_path);
  g_free (tmpdir);
}

TestSuite (mtp, .init = setup, .fini = teardown);

/* Runs @strategy (options @opts, JSON text) on a100-4x4-hdr with the MTP model. */
static cJSON *
run (const char *strategy, const char *opts, guint n, double l, GError **error)
{
  g_autoptr (AfdExperiment) e = afd_experiment_new ();
  g_free (e->model), e->model = g_strdup (model_path);
  e->batch = 256;
  e->mtp_draft_tokens = n;
  e->accept_tokens = l;
  afd_experiment_add_run (e, NULL, strategy, cJSON_Parse (opts));
  return afd_experiment_run (e, &plugins, NULL, error);
}

/* The only run of a summary. */
static const cJSON *
only_run (const cJSON *s)
{
  return cJSON_GetArrayItem (cJSON_GetObjectItem (s, "runs"), 0);
}

/* TPOT = step time / L and tokens/s = batch · L / step time; the workload records N and L. */
Test (mtp, tpot_and_tokens_count_accepted)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) s = run ("ep", "{}", 2, 2.5, &error);
  afd_assert_no_error (error);
  const cJSON *r = only_run (s);
  double t = num (r, "iteration_time_s");
  cr_assert_float_eq (num (r, "tpot_s"), t / 2.5, 1e-15);
  cr_assert_float_eq (num (r, "tokens_per_s"), 256 * 2.5 / t, 1e-9);
  const cJSON *wl = cJSON_GetObjectItem (s, "workload");
  cr_assert_eq (num (wl, "mtp_draft_tokens"), 2);
  cr_assert_eq (num (wl, "accept_tokens"), 2.5);
  /* The economics count accepted tokens too (docs/models/cost.md). */
  const cJSON *eco = cJSON_GetObjectItem (r, "economics");
  cr_assert_float_eq (num (eco, "joules_per_token"), num (eco, "energy_j_per_step") / (256 * 2.5),
                      1e-12);
}

/* Every strategy runs the draft: the MTP step takes longer than the plain one and does more
 * FLOPs, and with all drafts rejected (L = 1) its TPOT is worse; with L = N + 1 better. */
Test (mtp, every_strategy_runs_the_draft)
{
  static const struct {
    const char *name, *opts;
  } cases[] = {
    { "masep", "{}" }, { "ep", "{}" }, { "tppp", "{\"tp\": 4, \"pp\": 2, \"dp\": 2}" },
    { "afd", "{\"attn_nodes\": 2, \"ffn_nodes\": 2}" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (cJSON) plain = run (cases[i].name, cases[i].opts, 0, 1, &error);
      afd_assert_no_error (error);
      g_autoptr (cJSON) rej = run (cases[i].name, cases[i].opts, 1, 1, &error);
      afd_assert_no_error (error);
      g_autoptr (cJSON) acc = run (cases[i].name, cases[i].opts, 1, 2, &error);
      afd_assert_no_error (error);
      const cJSON *p = only_run (plain), *r = only_run (rej), *a = only_run (acc);
      cr_assert (num (r, "iteration_time_s") > num (p, "iteration_time_s"), "%s", cases[i].name);
      cr_assert (num (r, "total_flops") > 1.9 * num (p, "total_flops"),
                 "%s: 2 verified tokens and a draft block at least double the FLOPs",
                 cases[i].name);
      cr_assert (num (r, "tpot_s") > num (p, "tpot_s"), "%s", cases[i].name);
      cr_assert_eq (num (a, "iteration_time_s"), num (r, "iteration_time_s"), "%s",
                    cases[i].name);
      cr_assert (num (a, "tpot_s") < num (p, "tpot_s"), "%s", cases[i].name);
    }
}

/* The step's model appends N draft blocks (MoE, as DeepSeek-V3's MTP module), placed like
 * the last main block (same GPUs), and its LM head covers 1 + 2N positions per sequence. */
Test (mtp, draft_blocks_placed_like_the_model)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load (model_path, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdLlm) step = afd_llm_with_draft (llm, 2);
  cr_assert_eq (step->n_layers, 6);
  cr_assert_eq (step->draft_layers, 2);
  cr_assert (afd_llm_layer_is_moe (step, 4) && afd_llm_layer_is_moe (step, 5));
  cr_assert_eq (afd_llm_n_moe_layers (step), 6);
  g_autoptr (AfdCluster) cluster = afd_cluster_load ("a100-4x4-hdr", &error);
  afd_assert_no_error (error);
  double lm_flops[2] = { 0, 0 };
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (AfdExperiment) e = afd_experiment_new ();
      e->batch = 256;
      e->mtp_draft_tokens = k == 0 ? 0 : 2;
      AfdExperimentRun *r = afd_experiment_add_run (e, NULL, "ep", NULL);
      AfdStrategyInput in;
      g_autoptr (AfdStrategy) st = afd_experiment_run_strategy (e, r, &plugins, cluster,
                                                            k == 0 ? llm : step, NULL, &in,
                                                            &error);
      afd_assert_no_error (error);
      g_autoptr (AfdOpGraph) g = afd_strategy_build (st, &in, &error);
      afd_assert_no_error (error);
      guint n = afd_opgraph_n_gpus (g);
      g_autofree guint *last = g_new0 (guint, n), *draft = g_new0 (guint, n);
      for (guint o = 0; o < afd_opgraph_n_ops (g); o++)
        {
          const AfdOpGraphOp *op = afd_opgraph_op (g, o);
          if (op->layer == 3)
            last[op->gpu]++;
          if (op->layer == 4 || op->layer == 5)
            draft[op->gpu]++;
          if (strcmp (op->name, "lm_head") == 0)
            lm_flops[k] += op->flops;
        }
      for (guint gi = 0; gi < n; gi++)
        cr_assert_eq (draft[gi], k == 0 ? 0 : 2 * last[gi], "GPU %u", gi);
    }
  cr_assert_float_eq (lm_flops[1], 5 * lm_flops[0], 1e-6 * lm_flops[0]);
}

/* The roofline's budget (models/roofline.h) for the run's TPOT and L, with no gap and one
 * micro-batch, spans exactly the run's step: both read SLO · L as the step time. */
Test (mtp, roofline_budget_agrees_with_run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) s = run ("ep", "{}", 1, 1.7, &error);
  afd_assert_no_error (error);
  const cJSON *r = only_run (s);
  AfdRooflineBudget b = { .slo_s = num (r, "tpot_s"), .accept_length = 1.7, .gap_s = 0,
                          .n_layers = 4, .n_bo = 1 };
  double t_b = 0;
  cr_assert (afd_roofline_budget_s (&b, &t_b, &error));
  cr_assert_float_eq (t_b * 4, num (r, "iteration_time_s"), 1e-12);
}

/* Bad MTP inputs: one message naming the flag or key and the problem. */
Test (mtp, rejects_bad_inputs)
{
  static const struct {
    guint n;
    double l;
    const char *needle;
  } cases[] = {
    { 0, 1.5, "--accept: 1.5 accepted tokens per step needs --mtp N" },
    { 1, 2.5, "--accept: 2.5 accepted tokens per step: must be in [1, N + 1] = [1, 2]" },
    { 2, 0.5, "must be in [1, N + 1]" },
    { 17, 2, "--mtp: 17 draft tokens per step: must be in [0, 16]" },
    { 1, NAN, "--accept" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdExperiment) e = afd_experiment_new ();
      e->mtp_draft_tokens = cases[i].n;
      e->accept_tokens = cases[i].l;
      cr_assert (!afd_experiment_check_mtp (e, "--mtp", "--accept", AFD_ERROR_USAGE, &error));
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      afd_assert_error_contains (error, cases[i].needle);
    }
  /* A model without a draft module, and a prefill step, cannot use MTP. */
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = afd_experiment_new ();
  e->mtp_draft_tokens = 1;
  afd_experiment_add_run (e, NULL, "ep", NULL);
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  cr_assert_null (s);
  afd_assert_error_contains (error, "model masep-4l has no draft module");
  g_clear_error (&error);
  g_free (e->model), e->model = g_strdup (model_path);
  e->prefill = TRUE;
  e->context_tokens = 16;
  g_autoptr (cJSON) s2 = afd_experiment_run (e, &plugins, NULL, &error);
  cr_assert_null (s2);
  afd_assert_error_contains (error, "the phase is prefill");
}
