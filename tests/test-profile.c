/* SPDX-License-Identifier: MIT */
/*
 * Tests for backends/profile.c: loading (bad files rejected with file, key and problem),
 * interpolation and fall-backs of every lookup, α-β fits, and the `profile` cost backend.
 * tests/data/profile-small.json holds hand-made numbers (not a measurement); each expected
 * value below is worked out from them in a comment, as docs/user/profile-format.md does.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backends/profile.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/op.h"
#include "tests/test-helpers.h"

#define SMALL TEST_DATA "/profile-small.json"
/* Relative tolerance: the lookups are a few exp/log operations on doubles. */
#define REL 1e-9

static AfdProfile *prof;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  prof = afd_profile_load (SMALL, &error);
  afd_assert_no_error (error);
}

static void
teardown (void)
{
  g_clear_pointer (&prof, afd_profile_free);
}

TestSuite (profile, .init = setup, .fini = teardown);

/* Asserts |got - want| <= REL·|want|. */
#define assert_rel(got, want)                                                               \
  cr_assert (fabs ((got) - (want)) <= REL * fabs (want), "got %.17g, want %.17g", (got),    \
             (want))

/* The provenance block is read: the device name is what the file says. */
Test (profile, loads_provenance)
{
  cr_assert_str_eq (afd_profile_get_device_name (prof), "Test GPU (hand-made numbers)");
  cr_assert_str_eq (afd_profile_get_path (prof), SMALL);
}

/* At a measured M of the exact (N, K) the GEMM time is the measured median. */
Test (profile, gemm_measured_point_is_exact)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_BF16, 256, 4096, 4096, &t, &error));
  assert_rel (t, 3.2e-5);
}

/* Between measured M the rate is log-log interpolated: at M = 1024, halfway in log between 256
 * and 4096, rate = sqrt(r256·r4096), so t = 1024·2NK / sqrt(r256·r4096)
 * = sqrt(t256·t4096·1024²/(256·4096)) = sqrt(3.2e-5 · 1.6e-4) = 7.1554e-5 s. */
Test (profile, gemm_interpolates_log_log_in_m)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_BF16, 1024, 4096, 4096, &t, &error));
  assert_rel (t, sqrt (3.2e-5 * 1.6e-4));
}

/* Above the largest M the rate saturates: M = 8192 takes twice M = 4096 (3.2e-4 s). Below
 * the smallest M the time is the smallest M's, scaled by N·K: N = 8192 doubles the weights,
 * so M = 1 takes 2 · 2e-5 = 4e-5 s (the nearest table is N = K = 4096). */
Test (profile, gemm_clamps_and_scales_by_weights)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_BF16, 8192, 4096, 4096, &t, &error));
  assert_rel (t, 3.2e-4);
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_BF16, 1, 8192, 4096, &t, &error));
  assert_rel (t, 4e-5);
}

/* tests/data/profile-floor.json: bf16 tables 4096×4096 (M = 1: 2e-5 s) and 1024×4096 (M = 1:
 * 1.1e-5 s). The fixed cost t₀ is the intercept of the line through (N·K, smallest-M time):
 * slope = (2e-5 − 1.1e-5)/(16777216 − 4194304), t₀ = 1.1e-5 − slope·4194304 = 8e-6 s; the
 * floor is the smallest measured time, 1.1e-5 s. A single-table profile has t₀ = 0. */
Test (profile, gemm_fixed_cost_is_the_fitted_intercept)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) fl = afd_profile_load (TEST_DATA "/profile-floor.json", &error);
  afd_assert_no_error (error);
  double fixed = -1, floor_s = -1;
  cr_assert (afd_profile_gemm_fixed_cost (fl, AFD_DTYPE_BF16, &fixed, &floor_s));
  cr_assert_float_eq (fixed, 8e-6, 1e-15);
  assert_rel (floor_s, 1.1e-5);
  cr_assert (afd_profile_gemm_fixed_cost (prof, AFD_DTYPE_BF16, &fixed, &floor_s));
  cr_assert_float_eq (fixed, 0.0, 0.0);
  assert_rel (floor_s, 2e-5);
  cr_assert_not (afd_profile_gemm_fixed_cost (prof, AFD_DTYPE_FP32, &fixed, &floor_s));
}

/* Only the time above t₀ scales with N·K: N = 3072, K = 4096, M = 1 (nearest table 4096×4096)
 * takes t₀ + (2e-5 − t₀)·3/4 = 8e-6 + 9e-6 = 1.7e-5 s (pure N·K scaling would say 1.5e-5). */
Test (profile, gemm_scales_only_time_above_fixed_cost)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) fl = afd_profile_load (TEST_DATA "/profile-floor.json", &error);
  afd_assert_no_error (error);
  double t = 0;
  cr_assert (afd_profile_gemm_time (fl, AFD_DTYPE_BF16, 1, 3072, 4096, &t, &error));
  assert_rel (t, 1.7e-5);
}

/* No GEMM is priced below the fastest GEMM measured: a router (N = 16, K = 4096, M = 64;
 * nearest table 1024×4096) would be t₀ + (1.1e-5 − t₀)·16/1024 ≈ 8.05e-6 s, and FLOP
 * scaling alone 1.1e-5·16/1024 ≈ 1.7e-7 s; both are clamped to the floor, 1.1e-5 s. The
 * single-table profile clamps to its own floor (2e-5 s). */
Test (profile, gemm_never_below_measured_floor)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) fl = afd_profile_load (TEST_DATA "/profile-floor.json", &error);
  afd_assert_no_error (error);
  double t = 0;
  cr_assert (afd_profile_gemm_time (fl, AFD_DTYPE_BF16, 64, 16, 4096, &t, &error));
  assert_rel (t, 1.1e-5);
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_BF16, 64, 16, 4096, &t, &error));
  assert_rel (t, 2e-5);
}

/* fp8 without fp8 tables falls back to bf16 (documented); fp32 has no table: a clear error. */
Test (profile, gemm_dtype_fallback_and_missing_table)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_gemm_time (prof, AFD_DTYPE_FP8, 256, 4096, 4096, &t, &error));
  assert_rel (t, 3.2e-5);
  cr_assert_not (afd_profile_gemm_time (prof, AFD_DTYPE_FP32, 256, 4096, 4096, &t, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "no fp32 GEMM table");
}

/* Decode: one curve per batch. Batch 4, context 128 lies halfway (in log) between the measured
 * contexts 16 and 1024 and between the measured batches 1 and 16, so the rate is the geometric
 * mean of four measured rates: r = (rA16·rA1024·rB16·rB1024)^(1/4) with rA16 = 262144/1e-5,
 * rA1024 = 16777216/1e-4 (batch 1), rB16 = 4194304/2e-5, rB1024 = 268435456/4e-4 (batch 16);
 * KV bytes = 4·32·128·(128 + 128)·2 = 8388608 and t = 8388608 / r. */
Test (profile, decode_attention_interpolates_context_and_batch)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_decode_attention_time (prof, 32, 32, 128, 128, 4, 128, 1, &t, &error));
  afd_assert_no_error (error);
  double r = pow (262144 / 1e-5 * (16777216 / 1e-4) * (4194304 / 2e-5) * (268435456 / 4e-4),
                  0.25);
  assert_rel (t, 8388608 / r);
}

/* At a measured batch and context the time is the measured median; beyond the largest batch
 * the largest batch's rate holds (batch 32 at context 1024: 2 · 4e-4 s). */
Test (profile, decode_attention_measured_point_and_clamp)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_decode_attention_time (prof, 32, 32, 128, 128, 16, 1024, 1, &t, &error));
  assert_rel (t, 4e-4);
  cr_assert (afd_profile_decode_attention_time (prof, 32, 32, 128, 128, 32, 1024, 1, &t, &error));
  assert_rel (t, 8e-4);
}

/* A GQA shape with no GQA table falls back to the nearest table of another kind, indexed by
 * P = batch·heads_kv: 32 query heads over 8 KV heads, batch 16, context 1024 read
 * 16·8·1024·256·2 = 2^26 bytes; P = 128 lies halfway (in log) between the measured P = 32
 * (batch 1 × 32 heads, rate 2^24/1e-4 at context 1024) and P = 512 (rate 2^28/4e-4), so
 * rate = sqrt(2^24/1e-4 · 2^28/4e-4) = 2^26/2e-4 and t = 2e-4 s. */
Test (profile, decode_attention_falls_back_across_kinds)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_decode_attention_time (prof, 32, 8, 128, 128, 16, 1024, 1, &t, &error));
  assert_rel (t, 2e-4);
}

/* Prefill: the causal F = 5e11 FLOPs is looked up at 2F = 1e12 (rate 4e14): t = 1.25e-3 s. */
Test (profile, prefill_charges_causal_half_at_full_square_rate)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_prefill_attention_time (prof, 5e11, &t, &error));
  assert_rel (t, 1.25e-3);
}

/* Memory: B = 2e9 bytes moved is a copy of 1e9 (rate 2e9/4e-4 = 5e12): 4e-4 s; a tiny op costs
 * the smallest copy's time, 1e-5 s. */
Test (profile, memory_time_from_copy_bandwidth)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_memory_time (prof, 2e9, &t, &error));
  assert_rel (t, 4e-4);
  cr_assert (afd_profile_memory_time (prof, 2e3, &t, &error));
  assert_rel (t, 1e-5);
}

/* Collectives: exact at measured sizes, latency floor below the smallest, β scaled by the bus
 * factor for an unmeasured GPU count: 8 GPUs vs 4 scale β by (2·7/8)/(2·3/4) = 7/6. */
Test (profile, collective_alpha_beta_per_range)
{
  double t = 0;
  g_autoptr (GError) error = NULL;
  cr_assert (afd_profile_collective_time (prof, "all_reduce", 4, 1048576, &t, &error));
  assert_rel (t, 2e-5);
  cr_assert (afd_profile_collective_time (prof, "all_reduce", 4, 100, &t, &error));
  assert_rel (t, 1e-5);
  cr_assert (afd_profile_collective_time (prof, "all_reduce", 8, 1073741824, &t, &error));
  double beta = (5e-3 - 2e-5) / (1073741824.0 - 1048576.0);
  double alpha = 2e-5 - beta * 1048576.0;
  assert_rel (t, alpha + beta * 7.0 / 6.0 * 1073741824.0);
  cr_assert_not (afd_profile_collective_time (prof, "all_gather", 4, 1024, &t, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "no all_gather measurements");
}

/* The weighted least-squares fit recovers a line exactly and refuses a single size. */
Test (profile, fit_alpha_beta_recovers_a_line)
{
  const double s[] = { 1e3, 1e6, 1e9 }, t[] = { 2e-6 + 1e-12 * 1e3, 2e-6 + 1e-12 * 1e6,
                                                2e-6 + 1e-12 * 1e9 };
  double a = 0, b = 0;
  cr_assert (afd_profile_fit_alpha_beta (s, t, 3, &a, &b));
  cr_assert_float_eq (a, 2e-6, 1e-15); /* exact data: only rounding */
  cr_assert_float_eq (b, 1e-12, 1e-20);
  const double one[] = { 5.0, 5.0 }, tt[] = { 1.0, 2.0 };
  cr_assert_not (afd_profile_fit_alpha_beta (one, tt, 2, &a, &b));
}

/* fits_to_json writes one exact segment per pair of sizes, and a noisy decrease is flat. */
Test (profile, fits_to_json_segments)
{
  const double s[] = { 1024, 4096, 16384 }, t[] = { 1e-5, 9e-6, 2e-5 };
  g_autoptr (cJSON) fits = afd_profile_fits_to_json (s, t, 3);
  cr_assert_eq (cJSON_GetArraySize (fits), 2);
  cJSON *f0 = cJSON_GetArrayItem (fits, 0), *f1 = cJSON_GetArrayItem (fits, 1);
  cr_assert_float_eq (cJSON_GetObjectItem (f0, "beta_s_per_byte")->valuedouble, 0.0, 0.0);
  cr_assert_float_eq (cJSON_GetObjectItem (f0, "alpha_s")->valuedouble, 9.5e-6, 1e-18);
  double a1 = cJSON_GetObjectItem (f1, "alpha_s")->valuedouble;
  double b1 = cJSON_GetObjectItem (f1, "beta_s_per_byte")->valuedouble;
  assert_rel (a1 + b1 * 4096, 9e-6);
  assert_rel (a1 + b1 * 16384, 2e-5);
}

/* Loads @name from tests/data and expects AFD_ERROR_CONFIG mentioning @needle. */
static void
expect_bad (const char *name, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (TEST_DATA, name, NULL);
  g_autoptr (AfdProfile) p = afd_profile_load (path, &error);
  cr_assert_null (p, "%s should be rejected", name);
  afd_assert_error (error, AFD_ERROR, code);
  afd_assert_error_contains (error, name);
  afd_assert_error_contains (error, needle);
}

/* Bad profiles are rejected with one message naming the file, the key and the problem. */
Test (profile, rejects_bad_files)
{
  expect_bad ("profile-unknown-key.json", AFD_ERROR_CONFIG, "gemm[0]");
  expect_bad ("profile-unknown-key.json", AFD_ERROR_CONFIG, "nn");
  expect_bad ("profile-unsorted.json", AFD_ERROR_CONFIG, "strictly ascending m");
  expect_bad ("profile-wrong-format.json", AFD_ERROR_CONFIG, "not an afdsim profile");
  expect_bad ("profile-future-version.json", AFD_ERROR_CONFIG, "format_version");
  expect_bad ("profile-negative-time.json", AFD_ERROR_CONFIG, "memory_copy.points[1]");
  expect_bad ("profile-no-fits.json", AFD_ERROR_CONFIG, "collectives[0].fits");
  expect_bad ("profile-bad-kind.json", AFD_ERROR_CONFIG, "unknown attention kind 'mqa'");
  expect_bad ("profile-no-provenance.json", AFD_ERROR_CONFIG, "provenance");
  expect_bad ("profile-syntax.json", AFD_ERROR_CONFIG, "line");
}

/* A `calibrate --two-nodes` profile loads: the net transport NCCL chose is kept, and its
 * inter-node send/recv table prices 1 MiB as the file's fit, α + β·s = 4.956e-5 + 4.296e-10 ·
 * 1048576 = 5e-4 s (the measured median). A transport that is not a string is rejected. */
Test (profile, two_nodes_transport_and_inter_node_table)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) p = afd_profile_load (TEST_DATA "/profile-two-nodes.json", &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (afd_profile_get_net_transport (p), "NET/Socket");
  cr_assert_null (afd_profile_get_net_transport (prof), "profile-small has no transport");
  double t = 0;
  cr_assert (afd_profile_collective_time (p, "send_recv", 4, 1048576, &t, &error));
  afd_assert_no_error (error);
  cr_assert (fabs (t - 5e-4) <= 1e-12, "got %.17g", t);
  expect_bad ("profile-bad-transport.json", AFD_ERROR_CONFIG, "provenance.nccl_net_transport");
}

/* The shipped two-nodes profile (measured on 4×H200) loads, names a NET transport, and the
 * h200-2x2-loopback cluster's scale-out bandwidth is its measured cross-group send/recv
 * bandwidth: within 10% of 1 GiB divided by the profile's send/recv time at 1 GiB. */
Test (profile, shipped_two_nodes_profile_matches_loopback_cluster)
{
  g_autoptr (GError) error = NULL;
  const char *top = TEST_DATA "/../..";
  g_autofree char *path = g_strdup_printf ("%s/topologies/profiles/H200-2x2-loopback.json", top);
  g_autofree char *cluster = g_strdup_printf ("%s/topologies/clusters/h200-2x2-loopback.json",
                                              top);
  g_autoptr (AfdProfile) p = afd_profile_load (path, &error);
  afd_assert_no_error (error);
  cr_assert (g_str_has_prefix (afd_profile_get_net_transport (p), "NET/"));
  double t = 0, gib = 1073741824.0;
  cr_assert (afd_profile_collective_time (p, "send_recv", 4, gib, &t, &error));
  g_autoptr (cJSON) c = afd_json_parse_file (cluster, AFD_ERROR_TOPOLOGY, &error);
  afd_assert_no_error (error);
  const cJSON *out = cJSON_GetObjectItem (cJSON_GetObjectItem (c, "generator"), "scale_out");
  double nic = cJSON_GetNumberValue (cJSON_GetObjectItem (out, "nic_bandwidth_bytes_per_s"));
  cr_assert (fabs (nic / (gib / t) - 1.0) <= 0.10, "cluster %.3g B/s, measured %.3g B/s", nic,
             gib / t);
}

/* A missing file is an I/O error naming the path. */
Test (profile, rejects_missing_file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) p = afd_profile_load (TEST_DATA "/no-such-profile.json", &error);
  cr_assert_null (p);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "no-such-profile.json");
}

/* Creates the cost backend on profile-small.json. */
static AfdCostModel *
new_backend (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) params = cJSON_CreateObject ();
  cJSON_AddStringToObject (params, "file", SMALL);
  AfdCostModel *m = afd_cost_model_new (&afd_cost_model_profile_class, params, &error);
  afd_assert_no_error (error);
  return m;
}

/* The backend prices a GEMM op (×count), a grouped expert GEMM (sum over experts with tokens)
 * and an all-reduce exactly as the lookups do. */
Test (profile, backend_prices_ops)
{
  g_autoptr (AfdCostModel) m = new_backend ();
  g_autoptr (GError) error = NULL;
  AfdGpuSpec gpu = { .name = (char *) "test" };
  AfdPlacement where = { .gpu = &gpu, .gpu_index = 0 };
  double t = 0;

  g_autoptr (AfdOp) qkv = afd_op_new (AFD_OP_QKV_PROJ, "qkv");
  qkv->has_gemm = TRUE;
  qkv->gemm = (AfdGemmShape){ .m = 256, .n = 4096, .k = 4096, .count = 3 };
  cr_assert (afd_cost_model_op_time (m, qkv, &where, &t, &error));
  assert_rel (t, 3 * 3.2e-5);

  /* Experts with 256, 0 and 4096 tokens: 3.2e-5 + 0 + 1.6e-4, times count 2. */
  g_autoptr (AfdOp) moe = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "experts");
  moe->has_gemm = TRUE;
  moe->gemm = (AfdGemmShape){ .m = 1451, .n = 4096, .k = 4096, .count = 2 };
  const guint64 tokens[] = { 256, 0, 4096 };
  afd_op_set_expert_tokens (moe, tokens, 3);
  cr_assert (afd_cost_model_op_time (m, moe, &where, &t, &error));
  assert_rel (t, 2 * (3.2e-5 + 1.6e-4));

  g_autoptr (AfdOp) ar = afd_op_new (AFD_OP_COMM_ALL_REDUCE, "ar");
  ar->comm_bytes = 1048576;
  ar->comm_group_size = 4;
  cr_assert (afd_cost_model_op_time (m, ar, &where, &t, &error));
  assert_rel (t, 2e-5);

  /* A norm has no shape: memory-bound, B = 2e9 bytes -> 4e-4 s. */
  g_autoptr (AfdOp) norm = afd_op_new (AFD_OP_NORM, "norm");
  norm->bytes_read = 1e9;
  norm->bytes_written = 1e9;
  cr_assert (afd_cost_model_op_time (m, norm, &where, &t, &error));
  assert_rel (t, 4e-4);
}

/* The backend's parameters are checked: {} and unknown keys are AFD_ERROR_CONFIG. */
Test (profile, backend_rejects_bad_params)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) empty = cJSON_CreateObject ();
  g_autoptr (AfdCostModel) a = afd_cost_model_new (&afd_cost_model_profile_class, empty, &error);
  cr_assert_null (a);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  g_clear_error (&error);
  g_autoptr (cJSON) extra = cJSON_Parse ("{\"file\": \"x.json\", \"no_such_key\": 1}");
  g_autoptr (AfdCostModel) b = afd_cost_model_new (&afd_cost_model_profile_class, extra, &error);
  cr_assert_null (b);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "no_such_key");
}

/* The shipped, measured profiles load and price a large bf16 GEMM (M = N = K = 4096: the
 * measured point; 2·4096³ FLOPs) at a rate between 100 TFLOP/s and the 989 TFLOP/s dense
 * peak of H100/H200 — a sanity bound, not a hard-coded result. */
Test (profile, shipped_profiles_load_and_are_sane)
{
  const char *names[] = { "H100-SXM", "H200" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_strdup_printf ("%s/../../topologies/profiles/%s.json", TEST_DATA,
                                               names[i]);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_autoptr (AfdProfile) p = afd_profile_load (path, &error);
      afd_assert_no_error (error);
      double t = 0;
      cr_assert (afd_profile_gemm_time (p, AFD_DTYPE_BF16, 4096, 4096, 4096, &t, &error));
      double rate = 2.0 * 4096.0 * 4096.0 * 4096.0 / t;
      cr_assert (rate > 100e12 && rate < 989.5e12, "%s: %.3g FLOP/s", names[i], rate);
      g_autofree char *model = g_strndup (names[i], 4); /* "H100", "H200" */
      cr_assert (strstr (afd_profile_get_device_name (p), model) != NULL, "%s",
                 afd_profile_get_device_name (p));
    }
}

/* The grouped factor is the median of measured / sum-of-GEMMs over the grouped points: in
 * profile-small.json 4e-5 / (2 · 2e-5) = 1; in profile-grouped.json (the same point measured at
 * 3e-5 s) 0.75, and the backend scales a grouped op by it: experts with 256 and 4096 tokens,
 * count 1, cost 0.75 · (3.2e-5 + 1.6e-4) s. */
Test (profile, grouped_factor_scales_grouped_ops)
{
  g_autoptr (GError) error = NULL;
  cr_assert_float_eq (afd_profile_get_grouped_factor (prof), 1.0, 1e-12);
  g_autoptr (cJSON) params = cJSON_CreateObject ();
  cJSON_AddStringToObject (params, "file", TEST_DATA "/profile-grouped.json");
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&afd_cost_model_profile_class, params, &error);
  afd_assert_no_error (error);
  AfdGpuSpec gpu = { .name = (char *) "test" };
  AfdPlacement where = { .gpu = &gpu, .gpu_index = 0 };
  g_autoptr (AfdOp) moe = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "experts");
  moe->has_gemm = TRUE;
  moe->gemm = (AfdGemmShape){ .m = 2176, .n = 4096, .k = 4096, .count = 1 };
  const guint64 tokens[] = { 256, 4096 };
  afd_op_set_expert_tokens (moe, tokens, 2);
  double t = 0;
  cr_assert (afd_cost_model_op_time (m, moe, &where, &t, &error));
  assert_rel (t, 0.75 * (3.2e-5 + 1.6e-4));
}

/* Prices @op with a profile backend over @file; returns the new warnings, and the count of
 * warned-about shapes in @out_total. */
static GPtrArray *
price_and_warn (AfdCostModel *m, const AfdOp *op, double *out_s, guint *out_total)
{
  g_autoptr (GError) error = NULL;
  AfdGpuSpec gpu = { .name = (char *) "test" };
  AfdPlacement where = { .gpu = &gpu, .gpu_index = 0 };
  cr_assert (afd_cost_model_op_time (m, op, &where, out_s, &error));
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);
  *out_total = afd_cost_model_take_warnings (m, w);
  return w;
}

static AfdOp *
gemm_op (guint64 m, guint64 n, guint64 k)
{
  AfdOp *op = afd_op_new (AFD_OP_OUT_PROJ, "layer0.out_proj");
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape){ .m = m, .n = n, .k = k, .count = 1 };
  op->flops = 2.0 * m * n * k;
  return op;
}

/* profile-small.json measures one bf16 GEMM table, n = k = 4096 at m = 1..4096. A lookup
 * inside (m = 256) warns about nothing; m = 8192 (above the grid) warns once, naming the op
 * and the nearest measured table, and a second lookup of the same shape adds no warning; a
 * new shape (n = 16384: 4× the nearest n) adds one. The price does not change with the
 * warning: m = 8192 still costs 2 · t(4096) = 3.2e-4 s. */
Test (profile, out_of_grid_lookups_warn_once_per_shape)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) params = cJSON_CreateObject ();
  cJSON_AddStringToObject (params, "file", SMALL);
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&afd_cost_model_profile_class, params, &error);
  afd_assert_no_error (error);
  double t = 0;
  guint total = 0;
  g_autoptr (AfdOp) inside = gemm_op (256, 4096, 4096);
  g_autoptr (GPtrArray) w0 = price_and_warn (m, inside, &t, &total);
  cr_assert_eq (w0->len, 0);
  cr_assert_eq (total, 0);

  g_autoptr (AfdOp) above = gemm_op (8192, 4096, 4096);
  g_autoptr (GPtrArray) w1 = price_and_warn (m, above, &t, &total);
  assert_rel (t, 3.2e-4);
  cr_assert_eq (w1->len, 1);
  cr_assert_eq (total, 1);
  const char *msg = w1->pdata[0];
  cr_assert (strstr (msg, "out_proj bf16 m=8192 n=4096 k=4096 is outside the measured grid")
                 != NULL,
             "%s", msg);
  cr_assert (strstr (msg, "nearest measured: bf16 GEMM n=4096 k=4096, m=1..4096") != NULL, "%s",
             msg);

  g_autoptr (GPtrArray) w2 = price_and_warn (m, above, &t, &total);
  cr_assert_eq (w2->len, 0);
  cr_assert_eq (total, 1);

  g_autoptr (AfdOp) wide = gemm_op (256, 16384, 4096);
  g_autoptr (GPtrArray) w3 = price_and_warn (m, wide, &t, &total);
  cr_assert_eq (w3->len, 1);
  cr_assert_eq (total, 2);
}

/* A grouped GEMM is checked against the grouped measurements (profile-small.json: 2 experts
 * of n = k = 4096 at 1 token each): 2 experts of 1 token is inside; 8 experts (4× the
 * measured count) is outside, once for the experts×n×k shape whatever the token counts. */
Test (profile, out_of_grid_grouped_keyed_by_experts_n_k)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) params = cJSON_CreateObject ();
  cJSON_AddStringToObject (params, "file", SMALL);
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&afd_cost_model_profile_class, params, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOp) moe = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "layer0.experts");
  moe->has_gemm = TRUE;
  moe->gemm = (AfdGemmShape){ .m = 1, .n = 4096, .k = 4096, .count = 1 };
  const guint64 two[] = { 1, 1 };
  afd_op_set_expert_tokens (moe, two, 2);
  double t = 0;
  guint total = 0;
  g_autoptr (GPtrArray) w0 = price_and_warn (m, moe, &t, &total);
  cr_assert_eq (w0->len, 0);
  const guint64 eight[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
  afd_op_set_expert_tokens (moe, eight, 8);
  g_autoptr (GPtrArray) w1 = price_and_warn (m, moe, &t, &total);
  cr_assert_eq (w1->len, 1);
  cr_assert (strstr (w1->pdata[0], "expert_grouped_gemm bf16 8 experts n=4096 k=4096") != NULL,
             "%s", (char *) w1->pdata[0]);
  cr_assert (strstr (w1->pdata[0], "bf16 grouped GEMM of 2 experts n=4096 k=4096") != NULL,
             "%s", (char *) w1->pdata[0]);
  const guint64 eight_more[] = { 2, 1, 1, 1, 1, 1, 1, 1 };
  afd_op_set_expert_tokens (moe, eight_more, 8);
  g_autoptr (GPtrArray) w2 = price_and_warn (m, moe, &t, &total);
  cr_assert_eq (w2->len, 0);
  cr_assert_eq (total, 1);
}

/* Decode attention: profile-small.json measures MHA 32/32, d = 128, batch 1 and 16, context
 * 16..1024. Batch 4 at context 512 is inside; context 4096 is outside; copies of 1 KB are
 * below the copy table (1 MB..1 GB). The analytic backend never warns. */
Test (profile, out_of_grid_decode_and_copy)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) params = cJSON_CreateObject ();
  cJSON_AddStringToObject (params, "file", SMALL);
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&afd_cost_model_profile_class, params, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOp) att = afd_op_new (AFD_OP_ATTENTION_DECODE, "layer0.attention_decode");
  att->has_attention = TRUE;
  att->attention = (AfdAttentionShape){ 32, 32, 128, 128, 4, 1, 511 };
  double t = 0;
  guint total = 0;
  g_autoptr (GPtrArray) w0 = price_and_warn (m, att, &t, &total);
  cr_assert_eq (w0->len, 0, "%s", w0->len ? (char *) w0->pdata[0] : "");
  att->attention.context_tokens = 4095;
  g_autoptr (GPtrArray) w1 = price_and_warn (m, att, &t, &total);
  cr_assert_eq (w1->len, 1);
  cr_assert (strstr (w1->pdata[0], "context 16..1024") != NULL, "%s", (char *) w1->pdata[0]);
  g_autoptr (AfdOp) copy = afd_op_new (AFD_OP_ELEMENTWISE, "copy");
  copy->bytes_read = copy->bytes_written = 1000;
  g_autoptr (GPtrArray) w2 = price_and_warn (m, copy, &t, &total);
  cr_assert_eq (w2->len, 1);
  cr_assert (strstr (w2->pdata[0], "memory copy at 1000 bytes") != NULL, "%s",
             (char *) w2->pdata[0]);
  cr_assert_eq (total, 2);
}

/* Loads profile-grouped.json with the @nth (0-based) occurrence of @from replaced by @to;
 * expects AFD_ERROR_CONFIG naming @key, and no GLib critical (the suite runs with
 * G_DEBUG=fatal-warnings, so one would abort the test). */
static void
expect_field_refused (const char *from, guint nth, const char *to, const char *key)
{
  g_autofree char *text = NULL;
  cr_assert (g_file_get_contents (TEST_DATA "/profile-grouped.json", &text, NULL, NULL));
  char *at = text;
  for (guint i = 0; at != NULL && i <= nth; i++)
    at = strstr (i == 0 ? at : at + 1, from);
  cr_assert_not_null (at, "'%s' #%u not in the file", from, nth);
  g_autoptr (GString) edited = g_string_new_len (text, at - text);
  g_string_append (edited, to);
  g_string_append (edited, at + strlen (from));
  g_autofree char *dir = g_dir_make_tmp ("afd-profile-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "p.json", NULL);
  cr_assert (g_file_set_contents (path, edited->str, (gssize) edited->len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) p = afd_profile_load (path, &error);
  g_unlink (path);
  g_rmdir (dir);
  cr_assert_null (p, "%s -> %s accepted", from, to);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, key);
}

/* Issue #14: every profile field is typed and ranged (n: 0.5 reached the pricing with two
 * GLib criticals; experts, bus_factor, heads, head_dim took "x", null or {}). */
Test (profile, every_field_typed_and_ranged)
{
  expect_field_refused ("\"n\": 4096", 1, "\"n\": 0.5", "grouped_gemm[0].n");
  expect_field_refused ("\"n\": 4096", 0, "\"n\": 0.5", "gemm[0].n");
  expect_field_refused ("\"experts\": 2", 0, "\"experts\": \"x\"", "grouped_gemm[0].experts");
  expect_field_refused ("\"experts\": 2", 0, "\"experts\": null", "grouped_gemm[0].experts");
  expect_field_refused ("\"bus_factor\": 1.5", 0, "\"bus_factor\": {}", "bus_factor");
  expect_field_refused ("\"bus_factor\": 1.5", 0, "\"bus_factor\": -1", "bus_factor");
  expect_field_refused ("\"heads\": 32", 0, "\"heads\": \"x\"", "attention_prefill[0].heads");
  expect_field_refused ("\"head_dim\": 128", 0, "\"head_dim\": null", "head_dim");
  expect_field_refused ("\"method\": \"cublaslt-loop\"", 0, "\"method\": 3", "method");
  expect_field_refused ("\"time_median_s\": 2e-05", 0, "\"time_median_s\": 1e19",
                        "simulated-time horizon");
}
