/* SPDX-License-Identifier: MIT */
/* Tests for backends/analytic.c: the hand-worked roofline examples of
 * docs/models/roofline.md on an A100-SXM4-80GB (tests/data/cost-gpu-a100.json: bf16 peak
 * 312 TFLOP/s, HBM 2.039 TB/s, 108 SMs, launch 4 µs, gemm_max_fraction 0.869, gemm_half_m 128,
 * memory_fraction 0.79, attention_max_fraction 0.7). */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "models/ops.h"
#include "sim/cost-model.h"
#include "sim/json.h"
#include "tests/test-helpers.h"

static AfdGpuSpec *gpu;
static AfdCostModel *model;
static AfdLlm *masep;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  gpu = afd_gpu_spec_load (TEST_DATA "/cost-gpu-a100.json", &error);
  afd_assert_no_error (error);
  const AfdCostModelClass *klass = afd_cost_model_lookup ("analytic", &error);
  afd_assert_no_error (error);
  model = afd_cost_model_new (klass, NULL, &error);
  afd_assert_no_error (error);
  masep = afd_llm_load ("masep-4l", &error);
  afd_assert_no_error (error);
}

static void
teardown (void)
{
  g_clear_pointer (&gpu, afd_gpu_spec_free);
  g_clear_pointer (&model, afd_cost_model_free);
  g_clear_pointer (&masep, afd_llm_free);
}

TestSuite (cost_analytic, .init = setup, .fini = teardown);

/* Prices @op on GPU 0 and fails the test on error. */
static double
price (const AfdOp *op)
{
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { gpu, 0 };
  double s = -1;
  cr_assert (afd_cost_model_op_time (model, op, &where, &s, &error));
  afd_assert_no_error (error);
  return s;
}

/* A plain GEMM m×n×k with bf16 weights, inputs and outputs. */
static AfdOp *
gemm (guint64 m, guint64 n, guint64 k)
{
  AfdOp *op = afd_op_new (AFD_OP_OUT_PROJ, "gemm");
  op->dtype = AFD_DTYPE_BF16;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape){ m, n, k, 1 };
  op->flops = 2.0 * m * n * k;
  op->bytes_read = 2.0 * (n * k + m * k);
  op->bytes_written = 2.0 * m * n;
  return op;
}

/* Worked example 1 (compute-bound): 4096³ bf16 GEMM. Tiles 32·32 = 1024 over 108 SMs fill
 * 10 waves: wave 1024/1080 = 0.948148; efficiency 0.869·4096/4224·0.948148 = 0.798973;
 * compute 2·4096³/(312e12·0.798973) = 551.345 µs > memory 3·4096²·2/(2.039e12·0.79)
 * = 62.49 µs; + 4 µs launch = 555.345 µs. */
Test (cost_analytic, large_gemm_compute_bound)
{
  g_autoptr (AfdOp) op = gemm (4096, 4096, 4096);
  cr_assert_float_eq (price (op), 555.3447322e-6, 1e-12, "1 ps: rounding of the hand value");
}

/* Worked example 2 (memory-bound decode): masep-4l qkv_proj for 8 tokens on 3 heads
 * (m 8, n 1152, k 4096). 9 tiles < 108 SMs: split-K min(⌊108/9⌋, ⌊4096/256⌋) = 12 fills one
 * wave; efficiency 0.869·8/136 = 0.0511176; compute 4.734 µs < memory
 * 9,521,152/(2.039e12·0.79) = 5.911 µs; + 4 µs = 9.911 µs. */
Test (cost_analytic, decode_qkv_memory_bound)
{
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 8;
  p.context_tokens = 2047;
  p.head_count = 3;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  g_autoptr (GError) error = NULL;
  cr_assert (afd_ops_attention_block (masep, &p, ops, &error));
  cr_assert_float_eq (price (ops->pdata[1]), 9.910785257e-6, 1e-14);
  /* Example 3: attention_decode reads 25,190,400 B: 15.638 µs ≫ compute
   * 25,165,824/(312e12·0.7) = 0.115 µs; + 4 µs = 19.638 µs. */
  cr_assert_float_eq (price (ops->pdata[2]), 19.63834344e-6, 1e-14);
}

/* Worked example 4: grouped GEMM of masep experts with {10, 0, 5, 1} tokens. Small-M
 * weighting Σ(m_e + 128)/Σ m_e = 400/16; 3·2·128 = 768 tiles, wave 768/864; compute
 * 4,294,967,296·25/(312e12·0.869·0.888889) = 445.53 µs < memory 806,551,552/(2.039e12·0.79)
 * = 500.71 µs; + 4 µs = 504.71 µs. */
Test (cost_analytic, grouped_gemm_by_hand)
{
  const guint64 counts[] = { 10, 0, 5, 1 };
  g_autoptr (AfdOp) op = afd_ops_expert_grouped_gemm (masep, 0, counts, 4);
  cr_assert_float_eq (price (op), 504.7117860e-6, 1e-12);
}

/* Spreading the same tokens over more experts costs more: each used expert adds gemm_half_m
 * rows of small-M inefficiency and its weights to read (256 tokens on 1 expert: weighting
 * 384/256 = 1.5; on 4 experts of 64: 768/256 = 3.0). */
Test (cost_analytic, spreading_tokens_costs_more)
{
  const guint64 one[] = { 256, 0, 0, 0 }, spread[] = { 64, 64, 64, 64 };
  g_autoptr (AfdOp) a = afd_ops_expert_grouped_gemm (masep, 0, one, 4);
  g_autoptr (AfdOp) b = afd_ops_expert_grouped_gemm (masep, 0, spread, 4);
  cr_assert_gt (b->bytes_read, a->bytes_read);
  cr_assert_gt (price (b), price (a));
  a->bytes_read = b->bytes_read = a->bytes_written = b->bytes_written = 0;
  cr_assert_gt (price (b), price (a), "compute side alone");
}

/* A dtype the GPU has no tensor-core path for (fp8 on A100) runs at the bf16 peak. */
Test (cost_analytic, fp8_falls_back_to_bf16_on_a100)
{
  g_autoptr (AfdOp) a = gemm (4096, 4096, 4096);
  g_autoptr (AfdOp) b = gemm (4096, 4096, 4096);
  b->dtype = AFD_DTYPE_FP8;
  cr_assert_float_eq (price (a), price (b), 1e-15);
}

/* An op with no work still costs one launch. */
Test (cost_analytic, empty_op_costs_a_launch)
{
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_ELEMENTWISE, "noop");
  cr_assert_float_eq (price (op), 4e-6, 1e-15);
}

/* A launch overhead per kernel class (docs/models/roofline.md): with 8/10/3 µs for GEMM,
 * attention and memory ops, the empty GEMM, attention core and elementwise op cost exactly
 * their class's launch; the 4096³ GEMM of example 1 costs 551.345 + 8 µs. An fp8 ceiling is
 * ignored on A100 (no fp8 path: bf16 peak and ceiling). */
Test (cost_analytic, launch_overhead_per_class)
{
  g_autoptr (AfdGpuSpec) g = afd_gpu_spec_copy (gpu);
  g->launch_overhead_gemm_s = 8e-6;
  g->launch_overhead_attention_s = 10e-6;
  g->launch_overhead_memory_s = 3e-6;
  g->efficiency.gemm_max_fraction_fp8 = 0.5;
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { g, 0 };
  g_autoptr (AfdOp) mm = gemm (0, 0, 0);
  g_autoptr (AfdOp) att = afd_op_new (AFD_OP_ATTENTION_DECODE, "att");
  g_autoptr (AfdOp) ew = afd_op_new (AFD_OP_ELEMENTWISE, "ew");
  g_autoptr (AfdOp) big = gemm (4096, 4096, 4096);
  g_autoptr (AfdOp) big8 = gemm (4096, 4096, 4096);
  big8->dtype = AFD_DTYPE_FP8;
  const AfdOp *ops[] = { mm, att, ew, big, big8 };
  const double want[] = { 8e-6, 10e-6, 3e-6, 559.3447322e-6, 559.3447322e-6 };
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      double s = -1;
      cr_assert (afd_cost_model_op_time (model, ops[i], &where, &s, &error));
      cr_assert_float_eq (s, want[i], 1e-12, "op %u: %g", i, s);
    }
}

/* gemm_max_fraction_fp8 sets the ceiling of fp8 GEMMs on a GPU with an fp8 peak: the 4096³
 * GEMM on an H200-like spec (bf16 989, fp8 1979 TFLOP/s, 132 SMs: 1024 tiles in 8 waves of
 * 132, wave 1024/1056) with ceilings 0.8 (bf16) and 0.6 (fp8): compute
 * 2·4096³/(1979e12·0.6·4096/4097·0.969697) = 119.3 µs against 2·4096³/(989e12·0.8·…) =
 * 179.1 µs in bf16; the ratio is (989·0.8)/(1979·0.6) exactly (both compute-bound). */
Test (cost_analytic, fp8_gemm_ceiling)
{
  g_autoptr (AfdGpuSpec) g = afd_gpu_spec_copy (gpu);
  g->peak_flop_per_s[AFD_DTYPE_BF16] = 989e12;
  g->peak_flop_per_s[AFD_DTYPE_FP8] = 1979e12;
  g->sm_count = 132;
  g->hbm_bandwidth_bytes_per_s = 4.8e12;
  g->efficiency.gemm_max_fraction = 0.8;
  g->efficiency.gemm_max_fraction_fp8 = 0.6;
  g->efficiency.gemm_half_m = 1;
  g->launch_overhead_s = 0;
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { g, 0 };
  g_autoptr (AfdOp) a = gemm (4096, 4096, 4096);
  g_autoptr (AfdOp) b = gemm (4096, 4096, 4096);
  b->dtype = AFD_DTYPE_FP8;
  double ta = 0, tb = 0;
  cr_assert (afd_cost_model_op_time (model, a, &where, &ta, &error));
  cr_assert (afd_cost_model_op_time (model, b, &where, &tb, &error));
  cr_assert_float_eq (ta / tb, (1979e12 * 0.6) / (989e12 * 0.8), 1e-12);
  cr_assert_float_eq (tb, 2.0 * 4096 * 4096 * 4096 / (1979e12 * 0.6 * 4096 / 4097 * 1024 / 1056),
                      1e-15);
  /* Without the key fp8 takes the bf16 ceiling. */
  g->efficiency.gemm_max_fraction_fp8 = 0;
  cr_assert (afd_cost_model_op_time (model, b, &where, &tb, &error));
  cr_assert_float_eq (ta / tb, 1979.0 / 989.0, 1e-12);
}

/* "launch_overhead": false drops the launch term. */
Test (cost_analytic, launch_overhead_switch)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) params = cJSON_Parse ("{\"launch_overhead\": false}");
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&afd_cost_model_analytic_class, params, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdOp) op = gemm (4096, 4096, 4096);
  AfdPlacement where = { gpu, 0 };
  double s = 0;
  cr_assert (afd_cost_model_op_time (m, op, &where, &s, &error));
  cr_assert_float_eq (s, 551.3447322e-6, 1e-12);
  g_autoptr (GString) text = g_string_new (NULL);
  afd_cost_model_describe (m, text);
  cr_assert (strstr (text->str, "launch overhead off") != NULL, "%s", text->str);
}

/* Communication ops are the network model's: AFD_ERROR_CONFIG naming the op. */
Test (cost_analytic, rejects_comm_ops)
{
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_COMM_DISPATCH, "layer0.dispatch");
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { gpu, 0 };
  double s = 0;
  cr_assert_not (afd_cost_model_op_time (model, op, &where, &s, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "layer0.dispatch");
}

/* Bad parameters are AFD_ERROR_CONFIG naming the key. */
Test (cost_analytic, rejects_bad_params)
{
  static const char *const bad[]
      = { "{\"tile_m\": 0}", "{\"tile_n\": -128}", "{\"small_tile_m\": 256}",
          "{\"split_k_min\": 1.5}", "{\"launch_overhead\": 1}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (cJSON) params = cJSON_Parse (bad[i]);
      g_autoptr (AfdCostModel) m
          = afd_cost_model_new (&afd_cost_model_analytic_class, params, &error);
      cr_assert_null (m, "%s should be rejected", bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
    }
}

/* Every op of a masep-4l decode block prices to a finite positive time on every shipped GPU. */
Test (cost_analytic, prices_every_op_on_shipped_gpus)
{
  static const char *const gpus[] = { "A100-SXM4-80GB", "H100-SXM", "H20", "B200" };
  AfdOpsParams p;
  afd_ops_params_init (&p, AFD_PHASE_DECODE);
  p.n_sequences = 64;
  p.context_tokens = 2000;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify)afd_op_free);
  g_autoptr (GError) error = NULL;
  cr_assert (afd_ops_attention_block (masep, &p, ops, &error));
  g_ptr_array_add (ops, afd_ops_router (masep, 0, 64));
  g_ptr_array_add (ops, afd_ops_lm_head (masep, 64, 1));
  g_ptr_array_add (ops, afd_ops_dense_ffn (masep, 0, 64, 2));
  for (guint g = 0; g < G_N_ELEMENTS (gpus); g++)
    {
      g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (gpus[g], &error);
      afd_assert_no_error (error);
      AfdPlacement where = { spec, 3 };
      double launch = spec->launch_overhead_s; /* the least launch of any kernel class */
      for (int c = AFD_KERNEL_CLASS_GEMM; c <= AFD_KERNEL_CLASS_MEMORY; c++)
        launch = fmin (launch, afd_gpu_spec_launch_overhead_s (spec, (AfdKernelClass) c));
      for (guint i = 0; i < ops->len; i++)
        {
          double s = -1;
          cr_assert (afd_cost_model_op_time (model, ops->pdata[i], &where, &s, &error));
          cr_assert (isfinite (s) && s >= launch, "%s on %s: %g",
                     ((AfdOp *)ops->pdata[i])->name, gpus[g], s);
        }
    }
}

/* A grouped GEMM m_e×1536×4096 over the experts of @tokens (count 1) in @dtype, with the
 * bytes of afdsim cost grouped-gemm: weights of used experts, inputs and outputs. */
static AfdOp *
grouped (const guint64 *tokens, guint n_experts, AfdDtype dtype)
{
  const double n = 1536, k = 4096, e = afd_dtype_bytes (dtype);
  double total = 0, used = 0;
  for (guint i = 0; i < n_experts; i++)
    {
      total += (double) tokens[i];
      used += tokens[i] > 0;
    }
  AfdOp *op = afd_op_new (AFD_OP_EXPERT_GROUPED_GEMM, "experts");
  op->dtype = dtype;
  op->has_gemm = TRUE;
  op->gemm = (AfdGemmShape) { (guint64) ceil (total / n_experts), 1536, 4096, 1 };
  op->flops = 2 * total * n * k;
  op->bytes_read = used * n * k * e + total * k * e;
  op->bytes_written = total * n * (dtype == AFD_DTYPE_FP8 ? 2.0 : e);
  afd_op_set_expert_tokens (op, tokens, n_experts);
  return op;
}

/* The grouped block (docs/models/roofline.md "Grouped expert GEMMs") on the A100 test GPU
 * with max_fraction_bf16 0.65, max_fraction_fp8 0.5, stream_fraction 0.6 (L2 40 MiB).
 * W = 1536·4096·2 = 12,582,912 B per expert, each streamed once.
 * Balanced {53,53,53,53}: 4 row tiles of 64; weights 4W/(2.039e12·0.6) = 41.141 µs, inputs
 * and outputs 212·5632·2 B/(2.039e12·0.79) = 1.482 µs; compute 2·256·1536·4096 /
 * (312e12·0.65·96/108) = 17.87 µs (48 tiles, split-K 2); t = 4 + 42.623 = 46.623 µs.
 * Skewed {200,4,4,4}, the same 212 tokens: the hot expert has 2 row tiles of 128 (rows 256);
 * padded rows 448, 60 tiles (one wave of 108: 60/108); compute 2·448·1536·4096 /
 * (312e12·0.65·60/108) = 50.034 µs > memory 42.623 µs, so t = 54.034 µs: skew costs 15.9 %
 * more for the same tokens. */
Test (cost_analytic, grouped_block_tiles_and_skew_by_hand)
{
  g_autoptr (AfdGpuSpec) g = afd_gpu_spec_copy (gpu);
  g->efficiency.grouped_max_fraction_bf16 = 0.65;
  g->efficiency.grouped_max_fraction_fp8 = 0.5;
  g->efficiency.grouped_stream_fraction = 0.6;
  g->efficiency.grouped_stream_fraction_fp8 = 0.6;
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { g, 0 };
  const guint64 bal[] = { 53, 53, 53, 53 }, skew[] = { 200, 4, 4, 4 };
  g_autoptr (AfdOp) a = grouped (bal, 4, AFD_DTYPE_BF16);
  g_autoptr (AfdOp) b = grouped (skew, 4, AFD_DTYPE_BF16);
  double ta, tb;
  cr_assert (afd_cost_model_op_time (model, a, &where, &ta, &error));
  cr_assert (afd_cost_model_op_time (model, b, &where, &tb, &error));
  const double W = 1536.0 * 4096 * 2, bw = 2.039e12;
  const double rest = 212.0 * (4096 + 1536) * 2 / (bw * 0.79);
  double want_a = 4e-6 + 4 * W / (bw * 0.6) + rest;
  double mem_b = 4 * W / (bw * 0.6) + rest;
  double comp_b = 2.0 * 448 * 1536 * 4096 / (312e12 * 0.65 * 60.0 / 108.0);
  double want_b = 4e-6 + fmax (comp_b, mem_b);
  cr_assert_float_eq (ta, want_a, 1e-12 * want_a + 1e-15, "balanced %.9g vs %.9g", ta, want_a);
  cr_assert_float_eq (tb, want_b, 1e-12 * want_b + 1e-15, "skewed %.9g vs %.9g", tb, want_b);
  cr_assert_float_eq (ta, 46.623e-6, 0.001e-6);
  cr_assert_float_eq (tb, 54.034e-6, 0.001e-6);
  cr_assert_gt (tb, 1.1 * ta, "skew costs more than balanced at the same total");
}

/* fp8 grouped kernels have their own ceiling: one expert of 4096 tokens (compute-bound;
 * 384 tiles, 4 waves) on a GPU with an fp8 peak of 624e12 takes (t − launch) in the ratio
 * (312e12·0.65)/(624e12·0.5) = 0.65 of the bf16 time, not 0.5 (twice the peak alone). */
Test (cost_analytic, grouped_block_fp8_ceiling)
{
  g_autoptr (AfdGpuSpec) g = afd_gpu_spec_copy (gpu);
  g->efficiency.grouped_max_fraction_bf16 = 0.65;
  g->efficiency.grouped_max_fraction_fp8 = 0.5;
  g->efficiency.grouped_stream_fraction = 0.6;
  g->efficiency.grouped_stream_fraction_fp8 = 0.6;
  g->peak_flop_per_s[AFD_DTYPE_FP8] = 624e12;
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { g, 0 };
  const guint64 one[] = { 4096 };
  g_autoptr (AfdOp) bf = grouped (one, 1, AFD_DTYPE_BF16);
  g_autoptr (AfdOp) f8 = grouped (one, 1, AFD_DTYPE_FP8);
  double tb, tf;
  cr_assert (afd_cost_model_op_time (model, bf, &where, &tb, &error));
  cr_assert (afd_cost_model_op_time (model, f8, &where, &tf, &error));
  cr_assert_float_eq ((tf - 4e-6) / (tb - 4e-6), 0.65, 1e-9);
  cr_assert_float_eq (tb - 4e-6, 2.0 * 4096 * 1536 * 4096 / (312e12 * 0.65 * 384 / 432), 1e-15);
}

/* fp8 weights stream at their own fraction (stream_fraction_fp8; the H100 measurements of
 * tools/data/grouped-gemm-h100: fp8 grouped kernels stream below bf16 ones). Memory-bound
 * {4, 4, 4, 4} in fp8 (W = 1536·4096 B per expert): the weight term is 4W/(bw·s8), so with
 * s8 = 0.5 instead of 0.6 it grows by 0.6/0.5 exactly; bf16 keeps stream_fraction. */
Test (cost_analytic, grouped_block_fp8_stream_fraction)
{
  g_autoptr (AfdGpuSpec) g = afd_gpu_spec_copy (gpu);
  g->efficiency.grouped_max_fraction_bf16 = 0.65;
  g->efficiency.grouped_max_fraction_fp8 = 0.5;
  g->efficiency.grouped_stream_fraction = 0.6;
  g->efficiency.grouped_stream_fraction_fp8 = 0.6;
  g->peak_flop_per_s[AFD_DTYPE_FP8] = 624e12;
  g_autoptr (GError) error = NULL;
  AfdPlacement where = { g, 0 };
  const guint64 few[] = { 4, 4, 4, 4 };
  g_autoptr (AfdOp) f8 = grouped (few, 4, AFD_DTYPE_FP8);
  g_autoptr (AfdOp) bf = grouped (few, 4, AFD_DTYPE_BF16);
  double t_same, t_low, b_same, b_low;
  cr_assert (afd_cost_model_op_time (model, f8, &where, &t_same, &error));
  cr_assert (afd_cost_model_op_time (model, bf, &where, &b_same, &error));
  g->efficiency.grouped_stream_fraction_fp8 = 0.5;
  cr_assert (afd_cost_model_op_time (model, f8, &where, &t_low, &error));
  cr_assert (afd_cost_model_op_time (model, bf, &where, &b_low, &error));
  const double W8 = 1536.0 * 4096, bw = 2.039e12;
  cr_assert_float_eq (t_low - t_same, 4 * W8 / bw * (1 / 0.5 - 1 / 0.6), 1e-15,
                      "fp8 weight term %.9g", t_low - t_same);
  cr_assert (b_low == b_same, "bf16 must keep stream_fraction");
}
