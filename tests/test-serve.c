/* SPDX-License-Identifier: MIT */
/*
 * test-serve.c - request-level serving (sim/serve-workload.h, sim/serve-steps.h, sim/serve.h;
 * docs/user/serve.md, docs/models/serving.md): workload parsing and validation, the step-time
 * cache's interpolation error, Little's law, the low-load and saturation limits, the worked
 * example, prefill/decode disaggregation and bit-identical results for a seed.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/cost-model.h"
#include "sim/json.h"
#include "sim/serve.h"
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

/* The test pool: Mixtral-8x7B, TP=4 on one 4-GPU H200 node (small and quick to simulate). */
static AfdServeSteps *
model_pool (const char *name, const char *model)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) opts = cJSON_Parse ("{\"tp\": 4}");
  AfdServePoolSpec spec = { .name = name, .cluster = "h200-1x4", .model = model,
                            .strategy = "tppp", .options = opts, .costs = "analytic",
                            .routing = "uniform", .network = AFD_NETWORK_ANALYTIC, .seed = 1 };
  AfdServeSteps *steps = afd_serve_steps_new (&spec, &plugins, &error);
  afd_assert_no_error (error);
  return steps;
}

static AfdServeSteps *
test_pool (const char *name)
{
  return model_pool (name, "mixtral-8x7b");
}

static AfdServeConfig
colocated (AfdServeSteps *steps)
{
  return (AfdServeConfig) { .colocated = steps, .max_batch = 64, .max_tokens = 2048,
                            .chunked_prefill = TRUE, .ttft_slo_s = 1, .tpot_slo_s = 0.1 };
}

static double
num (const cJSON *o, const char *a, const char *b)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, a);
  if (b != NULL)
    v = cJSON_GetObjectItemCaseSensitive (v, b);
  cr_assert (cJSON_IsNumber (v), "%s.%s missing", a, b ? b : "");
  return v->valuedouble;
}

static GArray *
generate (double rate, guint64 n, const char *prompt, const char *output, guint64 seed)
{
  AfdServeWorkloadSpec ws = { .arrival = AFD_SERVE_ARRIVAL_POISSON, .cv = 1, .rate_per_s = rate,
                              .n_requests = n, .seed = seed };
  cr_assert (afd_serve_length_parse ("p", prompt, AFD_ERROR_USAGE, &ws.prompt, NULL));
  cr_assert (afd_serve_length_parse ("o", output, AFD_ERROR_USAGE, &ws.output, NULL));
  return afd_serve_workload_generate (&ws, NULL);
}

/* --- workload --- */

Test (serve, length_specs_parse_and_reject)
{
  AfdServeLength l;
  cr_assert (afd_serve_length_parse ("--prompt", "512", AFD_ERROR_USAGE, &l, NULL));
  cr_assert (l.kind == AFD_SERVE_LENGTH_FIXED && l.a == 512);
  cr_assert (afd_serve_length_parse ("--prompt", "uniform:10:20", AFD_ERROR_USAGE, &l, NULL));
  cr_assert (l.kind == AFD_SERVE_LENGTH_UNIFORM && l.a == 10 && l.b == 20);
  cr_assert (afd_serve_length_parse ("--prompt", "lognormal:1024:0.5", AFD_ERROR_USAGE, &l, NULL));
  static const char *const bad[] = { "", "0", "1.5", "-3", "uniform:20:10", "uniform:5",
                                     "lognormal:100:-1", "zipf:3", "fixed:x", "2000000" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      cr_assert_not (afd_serve_length_parse ("--prompt", bad[i], AFD_ERROR_USAGE, &l, &error),
                     "'%s' accepted", bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_USAGE);
      cr_assert (strstr (error->message, "--prompt") != NULL, "%s", error->message);
    }
  AfdServeArrivalKind k;
  double cv;
  cr_assert (afd_serve_arrival_parse ("--arrival", "gamma:2", AFD_ERROR_USAGE, &k, &cv, NULL));
  cr_assert (k == AFD_SERVE_ARRIVAL_GAMMA && cv == 2);
  cr_assert_not (afd_serve_arrival_parse ("--arrival", "gamma:0", AFD_ERROR_USAGE, &k, &cv, NULL));
  cr_assert_not (afd_serve_arrival_parse ("--arrival", "bursty", AFD_ERROR_USAGE, &k, &cv, NULL));
}

/* The gaps have mean 1/rate and the asked CV (100 000 draws: the standard error of the mean is
 * CV/√n = 0.3 % at CV 1, so 2 % is > 6 σ; the CV's own error is a few tenths of a percent). */
Test (serve, arrivals_have_the_asked_rate_and_cv)
{
  const double cvs[] = { 1.0, 2.0, 0.5 };
  for (guint c = 0; c < G_N_ELEMENTS (cvs); c++)
    {
      AfdServeWorkloadSpec ws = { .arrival = c == 0 ? AFD_SERVE_ARRIVAL_POISSON
                                                    : AFD_SERVE_ARRIVAL_GAMMA,
                                  .cv = cvs[c], .rate_per_s = 5, .n_requests = 100000, .seed = 7,
                                  .prompt = { AFD_SERVE_LENGTH_FIXED, 1, 0 },
                                  .output = { AFD_SERVE_LENGTH_LOGNORMAL, 100, 0.5 } };
      g_autoptr (GArray) r = afd_serve_workload_generate (&ws, NULL);
      double sum = 0, sum2 = 0, prev = 0;
      for (guint i = 0; i < r->len; i++)
        {
          double t = afd_time_to_seconds (g_array_index (r, AfdServeRequest, i).arrival_ns);
          sum += t - prev;
          sum2 += (t - prev) * (t - prev);
          prev = t;
        }
      double mean = sum / r->len, sd = sqrt (sum2 / r->len - mean * mean);
      cr_assert_float_eq (mean, 0.2, 0.2 * 0.02, "cv %g: mean gap %g", cvs[c], mean);
      cr_assert_float_eq (sd / mean, cvs[c], cvs[c] * 0.03, "cv %g: measured %g", cvs[c],
                          sd / mean);
    }
}

Test (serve, workload_is_seeded_per_stream)
{
  g_autoptr (GArray) a = generate (3, 1000, "uniform:1:4000", "lognormal:200:1", 5);
  g_autoptr (GArray) b = generate (3, 1000, "uniform:1:4000", "lognormal:200:1", 5);
  g_autoptr (GArray) c = generate (3, 1000, "uniform:1:4000", "lognormal:200:1", 6);
  g_autoptr (GArray) d = generate (3, 1000, "uniform:1:4000", "10", 5);
  cr_assert (memcmp (a->data, b->data, a->len * sizeof (AfdServeRequest)) == 0);
  cr_assert (memcmp (a->data, c->data, a->len * sizeof (AfdServeRequest)) != 0);
  /* Changing the output distribution leaves the arrivals and prompts alone. */
  for (guint i = 0; i < a->len; i++)
    {
      const AfdServeRequest *x = &g_array_index (a, AfdServeRequest, i);
      const AfdServeRequest *y = &g_array_index (d, AfdServeRequest, i);
      cr_assert (x->arrival_ns == y->arrival_ns && x->prompt_tokens == y->prompt_tokens);
    }
}

Test (serve, loads_the_shipped_and_azure_traces)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) r = afd_serve_workload_load_csv (TEST_DATA "/../../experiments/serve-seeds/trace.csv", &error);
  afd_assert_no_error (error);
  cr_assert_eq (r->len, 8);
  cr_assert_eq (g_array_index (r, AfdServeRequest, 1).arrival_ns, 120000000);
  cr_assert_eq (g_array_index (r, AfdServeRequest, 7).prompt_tokens, 4096);
  g_autoptr (GArray) az = afd_serve_workload_load_csv (TEST_DATA "/serve-azure.csv", &error);
  afd_assert_no_error (error);
  cr_assert_eq (az->len, 4);
  /* Sorted, relative to the earliest row: 46.68059 s -> 0, the 48.1 s row comes second; a leap
   * day is a day (2024-02-29 is 9 006 253.32 s after 2023-11-16 18:15:46.68, by Python's
   * calendar.timegm). */
  cr_assert_eq (g_array_index (az, AfdServeRequest, 0).arrival_ns, 0);
  cr_assert_eq (g_array_index (az, AfdServeRequest, 1).prompt_tokens, 91);
  cr_assert_eq (g_array_index (az, AfdServeRequest, 1).arrival_ns, 1419410000);
  cr_assert_eq (g_array_index (az, AfdServeRequest, 3).output_tokens, 155);
  g_autofree char *dir = g_dir_make_tmp ("serve-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "leap.csv", NULL);
  cr_assert (g_file_set_contents (path, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                        "2023-11-16 18:15:46.68,5,5\n2024-02-29 00:00:00,5,5\n",
                                  -1, NULL));
  g_autoptr (GArray) leap = afd_serve_workload_load_csv (path, &error);
  afd_assert_no_error (error);
  cr_assert_eq (g_array_index (leap, AfdServeRequest, 1).arrival_ns, G_GINT64_CONSTANT (9006253320000000));
  g_unlink (path);
  g_rmdir (dir);
}

Test (serve, rejects_bad_trace_rows_naming_line_and_column)
{
  static const struct { const char *text, *needle; } cases[] = {
    { "", "empty trace" },
    { "arrival_s,prompt_tokens\n0,1\n", "no column 'output_tokens'" },
    { "arrival_s,prompt_tokens,output_tokens\n", "no requests" },
    { "arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,x,5\n", ":3: column 'prompt_tokens'" },
    { "arrival_s,prompt_tokens,output_tokens\n-1,10,5\n", ":2: column 'arrival_s'" },
    { "arrival_s,prompt_tokens,output_tokens\n0,10,0\n", ":2: column 'output_tokens'" },
    { "arrival_s,prompt_tokens,output_tokens\n0,10\n", ":2: 2 fields, the header has 3" },
    { "arrival_s,prompt_tokens,output_tokens\n0,99999999999,5\n", "column 'prompt_tokens'" },
    { "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-01 00:00:00,5,5\n", "column 'TIMESTAMP'" },
    { "TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,5,5\n", ":2: column 'TIMESTAMP'" },
    { "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-02-29 00:00:00,5,5\n", "column 'TIMESTAMP'" },
    { "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-01-01 24:00:00,5,5\n", "column 'TIMESTAMP'" },
    { "arrival_s,prompt_tokens,output_tokens\n0,\xb0,5\n", "column 'prompt_tokens': '\\260'" },
    { "TIMESTAMP,ContextTokens,GeneratedTokens\n7940-11-16 18:15:46.6,5,5\n"
      "2023-11-16 18:15:46.6,5,5\n", "the rows span more than 1e+09 s" },
    { "arrival_s,arrival_s,prompt_tokens,output_tokens\n", "appears twice" },
  };
  g_autofree char *dir = g_dir_make_tmp ("serve-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.csv", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      cr_assert (g_file_set_contents (path, cases[i].text, -1, NULL));
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) r = afd_serve_workload_load_csv (path, &error);
      cr_assert_null (r, "case %u accepted", i);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      cr_assert (strstr (error->message, cases[i].needle) != NULL, "case %u: %s", i,
                 error->message);
      cr_assert (strstr (error->message, path) != NULL, "case %u names no file: %s", i,
                 error->message);
    }
  g_autoptr (GError) error = NULL;
  cr_assert_null (afd_serve_workload_load_csv ("/nonexistent/t.csv", &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  g_unlink (path);
  g_rmdir (dir);
}

/* --- step-time cache --- */

/* The cache's bilinear interpolation against direct simulation on an off-grid test grid, both
 * phases: the largest relative error stays within 2 % (issue 19, point 3). */
Test (serve, cache_error_within_2_percent)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  static const guint64 batches[] = { 1, 3, 7, 19, 23, 45, 77, 150, 201 };
  static const guint64 contexts[] = { 3, 13, 100, 333, 777, 1500, 3001, 7777 };
  double worst = 0;
  for (guint ph = 0; ph < 2; ph++)
    for (guint i = 0; i < G_N_ELEMENTS (batches); i++)
      for (guint j = 0; j < G_N_ELEMENTS (contexts); j++)
        {
          gboolean prefill = ph == 1;
          guint64 b = batches[i], c = contexts[j];
          if (prefill && b * c > 65536)
            continue; /* prefill steps above the max-tokens budgets serve uses */
          g_autoptr (GError) error = NULL;
          AfdTime cached_ns;
          double direct_s;
          cr_assert (afd_serve_steps_time (steps, prefill, b, c, &cached_ns, &error), "%s",
                     error ? error->message : "");
          cr_assert (afd_serve_steps_direct (steps, prefill, b, c, &direct_s, &error), "%s",
                     error ? error->message : "");
          double rel = fabs (afd_time_to_seconds (cached_ns) - direct_s) / direct_s;
          if (rel > worst)
            cr_log_info ("new worst: %s b %" G_GUINT64_FORMAT " c %" G_GUINT64_FORMAT " %.3f%%", prefill ? "prefill" : "decode", b, c, 100 * rel);
          worst = MAX (worst, rel);
          cr_assert (rel <= 0.02, "%s batch %" G_GUINT64_FORMAT " context %" G_GUINT64_FORMAT
                     ": cached %g s, direct %g s (%.2f%%)", prefill ? "prefill" : "decode", b, c,
                     afd_time_to_seconds (cached_ns), direct_s, 100 * rel);
        }
  cr_log_info ("worst interpolation error %.3f%%", 100 * worst);
}

/* --- the scheduler's checks --- */

/* Little's law: the time-average number of requests in the system (integrated over the event
 * timeline) = the arrival rate (as configured) × the mean time in system (from the per-request
 * records), within 2 % over 20 000 requests at about 60 % load. */
Test (serve, littles_law_holds)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  g_autoptr (GArray) reqs = generate (8, 20000, "lognormal:512:0.6", "lognormal:64:0.6", 3);
  AfdServeConfig cfg = colocated (steps);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
  double L = num (r, "mean_requests_in_system", NULL), W = num (r, "mean_e2e_s", NULL);
  double lw = 8 * W;
  cr_log_info ("Little: L %g, lambda W %g (%.2f%%)", L, lw, 100 * fabs (L - lw) / lw);
  cr_assert (fabs (L - lw) / lw <= 0.02, "L %g, lambda W %g", L, lw);
  cr_assert (L > 1, "the load is too light to test anything (L %g)", L);
}

/* At low load every request is alone: its TTFT is the prefill step of its prompt, as the
 * iteration simulator gives it (within the cache's 2 %). */
Test (serve, low_load_ttft_is_the_prefill_step)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  g_autoptr (GArray) reqs = generate (0.01, 40, "1500", "8", 4);
  AfdServeConfig cfg = colocated (steps);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  double direct;
  cr_assert (afd_serve_steps_direct (steps, TRUE, 1, 1500, &direct, &error));
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
  double p50 = num (r, "ttft_s", "p50"), p99 = num (r, "ttft_s", "p99");
  cr_log_info ("low load: p50 TTFT %g s, p99 %g s, prefill step %g s", p50, p99, direct);
  cr_assert (fabs (p50 - direct) / direct <= 0.02, "p50 TTFT %g, prefill step %g", p50, direct);
  cr_assert (fabs (p99 - direct) / direct <= 0.02, "p99 TTFT %g, prefill step %g", p99, direct);
}

/* At saturation (all requests at once, short prompts, no chunking) the decode throughput tends
 * to the iteration simulator's at the max batch: B / T_decode(B, mean context). Prefill steps
 * (16-token prompts, 1 in 128 steps) and the batch's tail take a few percent: 5 %. */
Test (serve, saturation_throughput_is_the_iteration_simulators)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  g_autoptr (GArray) reqs = generate (1e6, 64 * 20, "16", "256", 2);
  AfdServeConfig cfg = colocated (steps);
  cfg.chunked_prefill = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  /* Mean context of a decode: prompt 16 + tokens 1..255 so far: 16 + 128 = 144. */
  double t;
  cr_assert (afd_serve_steps_direct (steps, FALSE, 64, 144, &t, &error));
  double iter_tokens_per_s = 64 / t;
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
  double got = num (r, "output_tokens_per_s", NULL);
  cr_log_info ("saturation: serve %g tokens/s, iteration simulator %g (%.2f%%)", got,
               iter_tokens_per_s, 100 * (got - iter_tokens_per_s) / iter_tokens_per_s);
  cr_assert (fabs (got - iter_tokens_per_s) / iter_tokens_per_s <= 0.05,
             "serve %g tokens/s, iteration simulator %g", got, iter_tokens_per_s);
}

static char *
run_json (guint64 seed, gboolean disagg)
{
  g_autoptr (AfdServeSteps) a = test_pool ("a");
  g_autoptr (AfdServeSteps) b = disagg ? test_pool ("b") : NULL;
  g_autoptr (GArray) reqs = generate (20, 2000, "lognormal:700:0.8", "lognormal:100:0.8", seed);
  AfdServeConfig cfg = colocated (a);
  if (disagg)
    {
      cfg.colocated = NULL;
      cfg.prefill = a;
      cfg.decode = b;
      cfg.kv_cluster = "dgx-a100-x2";
      cfg.kv_streams = 4;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  return cJSON_PrintUnformatted (afd_serve_result_json (res));
}

Test (serve, bit_identical_for_a_seed)
{
  for (guint d = 0; d < 2; d++)
    {
      g_autofree char *x = run_json (11, d), *y = run_json (11, d), *z = run_json (12, d);
      cr_assert_str_eq (x, y);
      cr_assert (strcmp (x, z) != 0);
    }
}

/* The worked example of docs/models/serving.md: one request (prompt 512, output 4) alone on the
 * test pool. TTFT = T_prefill(1, 512); then three decode steps at contexts 513, 514, 515:
 * E2E = TTFT + T_d(1, 513) + T_d(1, 514) + T_d(1, 515), TPOT = (E2E − TTFT)/3. The step times
 * are the iteration simulator's (the values the docs quote, to the nanosecond). */
Test (serve, worked_example)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  AfdServeRequest one = { 1000000, 512, 4 };
  g_autoptr (GArray) reqs = g_array_new (FALSE, FALSE, sizeof (AfdServeRequest));
  g_array_append_val (reqs, one);
  AfdServeConfig cfg = colocated (steps);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  AfdTime tp, d[3];
  cr_assert (afd_serve_steps_time (steps, TRUE, 1, 512, &tp, &error));
  for (guint k = 0; k < 3; k++)
    cr_assert (afd_serve_steps_time (steps, FALSE, 1, 513 + k, &d[k], &error));
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
  double ttft = num (r, "ttft_s", "p50"), e2e = num (r, "e2e_s", "p50");
  cr_assert_float_eq (ttft, afd_time_to_seconds (tp), 1e-12);
  cr_assert_float_eq (e2e, afd_time_to_seconds (tp + d[0] + d[1] + d[2]), 1e-12);
  cr_assert_float_eq (num (r, "tpot_s", "p50"), afd_time_to_seconds (d[0] + d[1] + d[2]) / 3,
                      1e-12);
  cr_log_info ("prefill %" G_GINT64_FORMAT " ns, decode %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
               " %" G_GINT64_FORMAT " ns", tp, d[0], d[1], d[2]);
  /* The numbers docs/models/serving.md quotes (ns). */
  cr_assert_eq (tp, 13356809, "prefill step %" G_GINT64_FORMAT " ns", tp);
  cr_assert_eq (d[0], 4572657, "decode step 1 %" G_GINT64_FORMAT " ns", d[0]);
  cr_assert_eq (d[1], 4572665, "decode step 2 %" G_GINT64_FORMAT " ns", d[1]);
  cr_assert_eq (d[2], 4572674, "decode step 3 %" G_GINT64_FORMAT " ns", d[2]);
}

/* Chunked prefill splits a 5000-token prompt over the 2048-token budget: TTFT = 2·T_p(1, 2048) +
 * T_p(1, 904); without chunking it is one step, T_p(1, 5000). */
Test (serve, chunked_prefill_splits_a_long_prompt)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  AfdServeRequest one = { 0, 5000, 2 };
  g_autoptr (GArray) reqs = g_array_new (FALSE, FALSE, sizeof (AfdServeRequest));
  g_array_append_val (reqs, one);
  g_autoptr (GError) error = NULL;
  AfdTime full, chunk, tail;
  cr_assert (afd_serve_steps_time (steps, TRUE, 1, 2048, &chunk, &error));
  cr_assert (afd_serve_steps_time (steps, TRUE, 1, 904, &tail, &error));
  cr_assert (afd_serve_steps_time (steps, TRUE, 1, 5000, &full, &error));
  for (guint c = 0; c < 2; c++)
    {
      AfdServeConfig cfg = colocated (steps);
      cfg.chunked_prefill = c == 1;
      g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
      afd_assert_no_error (error);
      const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
      double want = afd_time_to_seconds (c == 1 ? 2 * chunk + tail : full);
      cr_assert_float_eq (num (r, "ttft_s", "p50"), want, 1e-12, "chunked %u: TTFT %g, want %g",
                          c, num (r, "ttft_s", "p50"), want);
    }
}

/* Admission waits while the KV cache is full: with room for one request (3000 tokens, each
 * needs 2000), the second of two simultaneous requests is admitted only when the first
 * finishes, so its TTFT exceeds the first's E2E; the cache is then 2000/3000 full throughout. */
Test (serve, admission_waits_for_kv)
{
  g_autoptr (AfdServeSteps) steps = test_pool ("test");
  AfdServeRequest r1 = { 0, 1000, 1000 };
  g_autoptr (GArray) reqs = g_array_new (FALSE, FALSE, sizeof (AfdServeRequest));
  g_array_append_val (reqs, r1);
  g_array_append_val (reqs, r1);
  AfdServeConfig cfg = colocated (steps);
  cfg.kv_limit_tokens = 3000;
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (res), "results");
  double ttft_max = num (r, "ttft_s", "p99"), e2e_min = cJSON_GetNumberValue (
      cJSON_GetObjectItemCaseSensitive (cJSON_GetObjectItemCaseSensitive (r, "e2e_s"), "p50"));
  cr_assert (ttft_max > e2e_min, "second TTFT %g, first E2E %g", ttft_max, e2e_min);
  cr_assert_float_eq (num (r, "mean_kv_occupancy", NULL), 2000.0 / 3000.0, 1e-9);
  /* Without the cap both run together: the second TTFT is far below the first E2E. */
  cfg.kv_limit_tokens = 0;
  g_autoptr (AfdServeResult) both = afd_serve_run (&cfg, reqs, &error);
  r = cJSON_GetObjectItemCaseSensitive (afd_serve_result_json (both), "results");
  cr_assert (num (r, "ttft_s", "p99") < num (r, "e2e_s", "p50") / 10);
}

/* Disaggregated: every request's KV cache crosses the KV link; its transfer time is the
 * network model's send/recv of prompt · kv_bytes_per_token / streams, and the decode pool only
 * starts once it has arrived (TTFT is the prefill's, unchanged by the transfer). */
Test (serve, disaggregated_moves_the_kv_cache)
{
  g_autoptr (AfdServeSteps) a = test_pool ("prefill"), b = test_pool ("decode");
  g_autoptr (GArray) reqs = generate (0.01, 5, "1024", "8", 9);
  AfdServeConfig cfg = { .prefill = a, .decode = b, .kv_cluster = "dgx-a100-x2",
                         .kv_streams = 1, .max_batch = 64, .max_tokens = 4096,
                         .ttft_slo_s = 1, .tpot_slo_s = 0.1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  afd_assert_no_error (error);
  const cJSON *root = afd_serve_result_json (res);
  const cJSON *r = cJSON_GetObjectItemCaseSensitive (root, "results");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive (root, "config");
  /* Mixtral-8x7B: 32 layers x 2 x 8 KV heads x 128 x 2 bytes = 131072 bytes per token; over one
   * 25 GB/s HDR NIC a token takes 131072 / 25e9 = 5.24 us (plus the NIC's protocol factors). */
  double per_token = num (c, "kv_transfer_s_per_token", NULL);
  cr_assert (per_token >= 131072 / 25e9 && per_token < 2 * 131072 / 25e9, "%g s/token",
             per_token);
  cr_assert_float_eq (num (r, "mean_kv_transfer_s", NULL),
                      num (c, "kv_transfer_latency_s", NULL) + 1024 * per_token, 2e-9);
  double direct;
  cr_assert (afd_serve_steps_direct (a, TRUE, 1, 1024, &direct, &error));
  cr_assert (fabs (num (r, "ttft_s", "p50") - direct) / direct <= 0.02);
  /* E2E = TTFT + transfer + 7 decode steps: more than TTFT + transfer. */
  cr_assert (num (r, "e2e_s", "p50") > num (r, "ttft_s", "p50") + num (r, "mean_kv_transfer_s", NULL));
}

Test (serve, rejects_a_request_larger_than_the_kv_cache)
{
  /* Mixtral-8x22B on 4 H200: about 1.2 M tokens of KV, less than this request's 2 M. */
  g_autoptr (AfdServeSteps) steps = model_pool ("test", "mixtral-8x22b");
  AfdServeRequest huge = { 0, AFD_SERVE_MAX_TOKENS, AFD_SERVE_MAX_TOKENS };
  g_autoptr (GArray) reqs = g_array_new (FALSE, FALSE, sizeof (AfdServeRequest));
  g_array_append_val (reqs, huge);
  AfdServeConfig cfg = colocated (steps);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdServeResult) res = afd_serve_run (&cfg, reqs, &error);
  cr_assert_null (res);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  cr_assert (strstr (error->message, "request 0 needs") != NULL, "%s", error->message);
}
