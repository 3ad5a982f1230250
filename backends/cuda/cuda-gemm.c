/* SPDX-License-Identifier: MIT */
/*
 * cuda-gemm.c - dense and grouped (expert) GEMM microbenchmarks through cuBLASLt.
 *
 * Convention: Y[M×N] = X[M×K] · W[N×K]ᵀ, M tokens, weights stored [N][K] (the "TN" layout that
 * cuBLASLt needs for fp8 on Hopper), fp32 accumulation, bf16 output. FLOPs = 2·M·N·K. Weights
 * are rotated over several copies so that the working set exceeds L2 and a small GEMM is not
 * timed out of cache (in a real model the next layer's weights are never in L2). The algorithm
 * is cuBLASLt's first heuristic choice, as a framework calling cuBLASLt would get. Grouped
 * expert GEMMs are a loop of such GEMMs, one per expert with tokens, over uneven token counts
 * (docs/backends/cuda.md). Nothing here prints.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backends/cuda/cuda-private.h"
#include "sim/json.h"

/* Weight copies are rotated until they span this many bytes (H100: 50 MiB L2, H200: 60). */
#define ROTATE_BYTES ((size_t) 256 << 20)
#define MAX_COPIES 16

void
afd_cuda_lt_gemm_clear (AfdCudaLtGemm *g)
{
  if (g->op)
    cublasLtMatmulDescDestroy (g->op);
  if (g->a)
    cublasLtMatrixLayoutDestroy (g->a);
  if (g->b)
    cublasLtMatrixLayoutDestroy (g->b);
  if (g->c)
    cublasLtMatrixLayoutDestroy (g->c);
  memset (g, 0, sizeof *g);
}

/* Returns the CUDA type of the operands of @dtype. */
static cudaDataType_t
cuda_type (AfdDtype dtype)
{
  return dtype == AFD_DTYPE_FP8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
}

gboolean
afd_cuda_lt_gemm_prepare (AfdCudaContext *ctx, AfdDtype dtype, guint64 m, guint64 n, guint64 k,
                          AfdCudaLtGemm *g, GError **error)
{
  memset (g, 0, sizeof *g);
  cublasOperation_t trans = CUBLAS_OP_T, notrans = CUBLAS_OP_N;
  cudaDataType_t t = cuda_type (dtype);
  AFD_CUBLAS_CHECK (cublasLtMatmulDescCreate (&g->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), error,
                    FALSE);
  AFD_CUBLAS_CHECK (cublasLtMatmulDescSetAttribute (g->op, CUBLASLT_MATMUL_DESC_TRANSA, &trans,
                                                    sizeof trans),
                    error, FALSE);
  AFD_CUBLAS_CHECK (cublasLtMatmulDescSetAttribute (g->op, CUBLASLT_MATMUL_DESC_TRANSB, &notrans,
                                                    sizeof notrans),
                    error, FALSE);
  /* cuBLAS is column-major: Yᵀ[n×m] = W[k×n]ᵀ-as-stored · Xᵀ[k×m]. */
  AFD_CUBLAS_CHECK (cublasLtMatrixLayoutCreate (&g->a, t, k, n, k), error, FALSE);
  AFD_CUBLAS_CHECK (cublasLtMatrixLayoutCreate (&g->b, t, k, m, k), error, FALSE);
  AFD_CUBLAS_CHECK (cublasLtMatrixLayoutCreate (&g->c, CUDA_R_16BF, n, m, n), error, FALSE);
  cublasLtMatmulPreference_t pref = NULL;
  AFD_CUBLAS_CHECK (cublasLtMatmulPreferenceCreate (&pref), error, FALSE);
  size_t ws = ctx->workspace_bytes;
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute (
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  int found = 0;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasLtMatmulAlgoGetHeuristic (ctx->lt, g->op, g->a, g->b, g->c, g->c, pref, 1, &g->algo,
                                        &found);
  cublasLtMatmulPreferenceDestroy (pref);
  AFD_CUBLAS_CHECK (s, error, FALSE);
  if (found == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                   "cuBLASLt has no algorithm for %s GEMM M=%" G_GUINT64_FORMAT
                   " N=%" G_GUINT64_FORMAT " K=%" G_GUINT64_FORMAT,
                   afd_dtype_name (dtype), m, n, k);
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_cuda_lt_gemm_run (AfdCudaContext *ctx, cudaStream_t stream, const AfdCudaLtGemm *g,
                      const void *w, const void *x, void *y, GError **error)
{
  const float alpha = 1.0f, beta = 0.0f;
  AFD_CUBLAS_CHECK (cublasLtMatmul (ctx->lt, g->op, &alpha, w, g->a, x, g->b, &beta, y, g->c, y,
                                    g->c, &g->algo.algo, ctx->workspace, ctx->workspace_bytes,
                                    stream),
                    error, FALSE);
  return TRUE;
}

/* State of one dense GEMM point; the weight copies belong to the caller. */
typedef struct {
  AfdCudaLtGemm g;
  void *const *w;
  guint copies;
  void *x, *y;
} DenseRun;

/* Launches one repetition, rotating the weight copies. */
static gboolean
dense_launch (AfdCudaContext *ctx, guint rep, gpointer data, GError **error)
{
  DenseRun *r = data;
  return afd_cuda_lt_gemm_run (ctx, ctx->stream, &r->g, r->w[rep % r->copies], r->x, r->y,
                               error);
}

/* Measures one GEMM shape over the weight copies @w. */
static gboolean
measure_dense (AfdCudaContext *ctx, AfdDtype dtype, guint64 m, guint64 n, guint64 k,
               void *const *w, guint copies, AfdCudaStats *out, GError **error)
{
  DenseRun r = { .w = w, .copies = copies };
  double elt = afd_dtype_bytes (dtype);
  gboolean ok = afd_cuda_lt_gemm_prepare (ctx, dtype, m, n, k, &r.g, error);
  if (ok)
    ok = (r.x = afd_cuda_alloc_random (ctx, (size_t) (m * k * elt), dtype, error)) != NULL;
  if (ok)
    ok = (r.y = afd_cuda_alloc_random (ctx, (size_t) (m * n * 2), AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = afd_cuda_time (ctx, dense_launch, &r, out, error);
  afd_cuda_lt_gemm_clear (&r.g);
  if (r.x)
    cudaFree (r.x);
  if (r.y)
    cudaFree (r.y);
  if (!ok)
    g_prefix_error (error, "%s GEMM M=%" G_GUINT64_FORMAT " N=%" G_GUINT64_FORMAT
                    " K=%" G_GUINT64_FORMAT ": ",
                    afd_dtype_name (dtype), m, n, k);
  return ok;
}

gboolean
afd_cuda_measure_gemm (AfdCudaContext *ctx, AfdDtype dtype, guint64 m, guint64 n, guint64 k,
                       AfdCudaStats *out_stats, GError **error)
{
  if (dtype != AFD_DTYPE_BF16 && dtype != AFD_DTYPE_FP8)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "the CUDA backend measures bf16 and fp8 GEMMs, not %s", afd_dtype_name (dtype));
      return FALSE;
    }
  if (dtype == AFD_DTYPE_FP8 && ctx->compute_major * 10 + ctx->compute_minor < 89)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "fp8 GEMMs need compute capability 8.9 or newer (this GPU: %d.%d)",
                   ctx->compute_major, ctx->compute_minor);
      return FALSE;
    }
  size_t w_bytes = (size_t) ((double) (n * k) * afd_dtype_bytes (dtype));
  guint copies = (guint) CLAMP ((ROTATE_BYTES + w_bytes - 1) / w_bytes, 1, MAX_COPIES);
  void *w[MAX_COPIES] = { 0 };
  gboolean ok = TRUE;
  for (guint c = 0; ok && c < copies; c++)
    ok = (w[c] = afd_cuda_alloc_random (ctx, w_bytes, dtype, error)) != NULL;
  if (ok)
    ok = measure_dense (ctx, dtype, m, n, k, w, copies, out_stats, error);
  for (guint c = 0; c < copies; c++)
    if (w[c])
      cudaFree (w[c]);
  return ok;
}

/* N×K weight shapes of the grid: the seed model (hidden 4096, 32 heads), DeepSeek-V3-like
 * expert shapes (hidden 7168, expert width 2048), routers and an LM head. */
static const guint64 full_nk[][2] = {
  { 4096, 4096 },  { 12288, 4096 }, { 6144, 4096 },  { 28672, 4096 }, { 14336, 4096 },
  { 4096, 14336 }, { 1024, 4096 },  { 4096, 1024 },  { 4096, 2048 },  { 2048, 4096 },
  { 4096, 7168 },  { 7168, 2048 },  { 2048, 7168 },  { 7168, 7168 },  { 8192, 8192 },
  /* Routers (16 experts over hidden 4096; DeepSeek-V3's 256 over 7168) and the seed model's
   * LM head (vocabulary 32000): shapes far from the others, where scaling by N·K misleads. */
  { 16, 4096 },    { 256, 7168 },   { 32000, 4096 },
};
static const guint64 quick_nk[][2] = { { 4096, 4096 }, { 14336, 4096 } };
static const guint64 full_m[] = { 1,    2,    4,    8,    16,   24,   32,   48,   64,
                                  96,   128,  192,  256,  384,  512,  768,  1024, 1536,
                                  2048, 3072, 4096, 6144, 8192, 12288, 16384 };
static const guint64 quick_m[] = { 1, 16, 256, 4096 };

/* Grouped (expert) GEMM cases: experts, N, K. */
static const guint64 grouped_shapes[][3] = { { 16, 4096, 4096 }, { 16, 14336, 4096 },
                                             { 16, 4096, 14336 }, { 8, 4096, 7168 } };
static const guint64 full_avg_tokens[] = { 1, 4, 16, 64, 256, 1024 };
static const guint64 quick_avg_tokens[] = { 4, 64 };

/* Splits @total tokens over @experts: balanced, or skewed by a fixed Zipf-like law (s = 1.2)
 * with a seeded multinomial draw. */
static void
split_tokens (guint64 total, guint experts, gboolean skewed, GRand *rand, guint64 *out)
{
  if (!skewed)
    {
      for (guint e = 0; e < experts; e++)
        out[e] = total / experts + (e < total % experts ? 1 : 0);
      return;
    }
  double weights[64], sum = 0.0;
  g_assert (experts <= G_N_ELEMENTS (weights));
  for (guint e = 0; e < experts; e++)
    sum += weights[e] = pow (e + 1.0, -1.2);
  memset (out, 0, experts * sizeof *out);
  for (guint64 t = 0; t < total; t++)
    {
      double u = g_rand_double (rand) * sum, acc = 0.0;
      guint e = 0;
      for (; e + 1 < experts; e++)
        if ((acc += weights[e]) > u)
          break;
      out[e]++;
    }
}

/* State of one grouped GEMM point. */
typedef struct {
  guint experts;
  guint64 tokens[64];
  AfdCudaLtGemm g[64];
  void *w[64];
  void *x, *y;
} GroupedRun;

/* Launches one repetition: one GEMM per expert that received tokens. */
static gboolean
grouped_launch (AfdCudaContext *ctx, guint rep, gpointer data, GError **error)
{
  GroupedRun *r = data;
  for (guint e = 0; e < r->experts; e++)
    if (r->tokens[e] > 0
        && !afd_cuda_lt_gemm_run (ctx, ctx->stream, &r->g[e], r->w[e], r->x, r->y, error))
      return FALSE;
  return TRUE;
}

/* Measures one grouped case and appends a point to @points. */
static gboolean
measure_grouped (AfdCudaContext *ctx, GroupedRun *r, guint64 n, guint64 k, void *const *w,
                 cJSON *points, GError **error)
{
  guint64 total = 0, max_tokens = 0;
  gboolean ok = TRUE;
  for (guint e = 0; e < r->experts; e++)
    {
      total += r->tokens[e];
      max_tokens = MAX (max_tokens, r->tokens[e]);
      r->w[e] = w[e];
    }
  size_t x_bytes = (size_t) (max_tokens * k * 2), y_bytes = (size_t) (max_tokens * n * 2);
  for (guint e = 0; ok && e < r->experts; e++)
    if (r->tokens[e] > 0)
      ok = afd_cuda_lt_gemm_prepare (ctx, AFD_DTYPE_BF16, r->tokens[e], n, k, &r->g[e], error);
  if (ok)
    ok = (r->x = afd_cuda_alloc_random (ctx, x_bytes, AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = (r->y = afd_cuda_alloc_random (ctx, y_bytes, AFD_DTYPE_BF16, error)) != NULL;
  AfdCudaStats st;
  if (ok)
    ok = afd_cuda_time (ctx, grouped_launch, r, &st, error);
  for (guint e = 0; e < r->experts; e++)
    afd_cuda_lt_gemm_clear (&r->g[e]);
  if (r->x)
    cudaFree (r->x);
  if (r->y)
    cudaFree (r->y);
  r->x = r->y = NULL;
  if (!ok)
    return FALSE;
  cJSON *p = cJSON_CreateObject ();
  cJSON_AddNumberToObject (p, "tokens_total", (double) total);
  cJSON_AddNumberToObject (p, "tokens_max", (double) max_tokens);
  cJSON *arr = cJSON_AddArrayToObject (p, "tokens_per_expert");
  for (guint e = 0; e < r->experts; e++)
    cJSON_AddItemToArray (arr, cJSON_CreateNumber ((double) r->tokens[e]));
  afd_json_add_number (p, "flop", 2.0 * (double) total * n * k);
  afd_cuda_stats_to_json (&st, p);
  afd_json_add_number (p, "flop_per_s", 2.0 * (double) total * n * k / st.median_s);
  cJSON_AddItemToArray (points, p);
  return TRUE;
}

/* Runs the grouped GEMM cases. */
static gboolean
bench_grouped (AfdCudaContext *ctx, const AfdCudaCalibrateOptions *options, cJSON *out_grouped,
               GError **error)
{
  guint n_shapes = options->quick ? 1 : G_N_ELEMENTS (grouped_shapes);
  const guint64 *avg = options->quick ? quick_avg_tokens : full_avg_tokens;
  guint n_avg = options->quick ? G_N_ELEMENTS (quick_avg_tokens) : G_N_ELEMENTS (full_avg_tokens);
  for (guint s = 0; s < n_shapes; s++)
    {
      guint experts = (guint) grouped_shapes[s][0];
      guint64 n = grouped_shapes[s][1], k = grouped_shapes[s][2];
      void *w[64] = { 0 };
      gboolean ok = TRUE;
      for (guint e = 0; ok && e < experts; e++)
        ok = (w[e] = afd_cuda_alloc_random (ctx, (size_t) (n * k * 2), AFD_DTYPE_BF16, error))
             != NULL;
      for (int skewed = 0; ok && skewed <= 1; skewed++)
        {
          cJSON *table = cJSON_CreateObject ();
          cJSON_AddStringToObject (table, "dtype", "bf16");
          cJSON_AddStringToObject (table, "method", "cublaslt-loop");
          cJSON_AddNumberToObject (table, "experts", experts);
          cJSON_AddNumberToObject (table, "n", (double) n);
          cJSON_AddNumberToObject (table, "k", (double) k);
          cJSON_AddStringToObject (table, "distribution", skewed ? "zipf-1.2" : "balanced");
          cJSON *points = cJSON_AddArrayToObject (table, "points");
          cJSON_AddItemToArray (out_grouped, table);
          for (guint a = 0; ok && a < n_avg; a++)
            {
              GroupedRun r = { .experts = experts };
              split_tokens (avg[a] * experts, experts, skewed, ctx->rand, r.tokens);
              ok = measure_grouped (ctx, &r, n, k, w, points, error);
            }
          afd_cuda_progress (options, "grouped GEMM E=%u N=%" G_GUINT64_FORMAT
                             " K=%" G_GUINT64_FORMAT " %s: done",
                             experts, n, k, skewed ? "skewed" : "balanced");
        }
      for (guint e = 0; e < experts; e++)
        if (w[e])
          cudaFree (w[e]);
      if (!ok)
        {
          g_prefix_error (error, "grouped GEMM E=%u N=%" G_GUINT64_FORMAT " K=%" G_GUINT64_FORMAT
                          ": ", experts, n, k);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
afd_cuda_bench_gemm (AfdCudaContext *ctx, const AfdCudaCalibrateOptions *options,
                     cJSON *out_gemm, cJSON *out_grouped, GError **error)
{
  AfdDtype dtypes[2] = { AFD_DTYPE_BF16, AFD_DTYPE_FP8 };
  /* fp8 tensor cores exist from sm_89 (Ada) on. */
  guint n_dtypes = ctx->compute_major * 10 + ctx->compute_minor >= 89 ? 2 : 1;
  const guint64(*nk)[2] = options->quick ? quick_nk : full_nk;
  guint n_nk = options->quick ? G_N_ELEMENTS (quick_nk) : G_N_ELEMENTS (full_nk);
  const guint64 *ms = options->quick ? quick_m : full_m;
  guint n_m = options->quick ? G_N_ELEMENTS (quick_m) : G_N_ELEMENTS (full_m);
  for (guint d = 0; d < n_dtypes; d++)
    for (guint s = 0; s < n_nk; s++)
      {
        guint64 n = nk[s][0], k = nk[s][1];
        size_t w_bytes = (size_t) ((double) (n * k) * afd_dtype_bytes (dtypes[d]));
        guint copies = (guint) CLAMP ((ROTATE_BYTES + w_bytes - 1) / w_bytes, 1, MAX_COPIES);
        void *w[MAX_COPIES] = { 0 };
        gboolean ok = TRUE;
        for (guint c = 0; ok && c < copies; c++)
          ok = (w[c] = afd_cuda_alloc_random (ctx, w_bytes, dtypes[d], error)) != NULL;
        cJSON *table = cJSON_CreateObject ();
        cJSON_AddStringToObject (table, "dtype", afd_dtype_name (dtypes[d]));
        cJSON_AddNumberToObject (table, "n", (double) n);
        cJSON_AddNumberToObject (table, "k", (double) k);
        cJSON *points = cJSON_AddArrayToObject (table, "points");
        cJSON_AddItemToArray (out_gemm, table);
        for (guint i = 0; ok && i < n_m; i++)
          {
            AfdCudaStats st;
            if (!(ok = measure_dense (ctx, dtypes[d], ms[i], n, k, w, copies, &st, error)))
              break;
            double flop = 2.0 * (double) ms[i] * (double) n * (double) k;
            cJSON *p = cJSON_CreateObject ();
            cJSON_AddNumberToObject (p, "m", (double) ms[i]);
            afd_json_add_number (p, "flop", flop);
            afd_cuda_stats_to_json (&st, p);
            afd_json_add_number (p, "flop_per_s", flop / st.median_s);
            cJSON_AddItemToArray (points, p);
          }
        for (guint c = 0; c < copies; c++)
          if (w[c])
            cudaFree (w[c]);
        if (!ok)
          return FALSE;
        afd_cuda_progress (options, "GEMM %s N=%" G_GUINT64_FORMAT " K=%" G_GUINT64_FORMAT
                           ": done", afd_dtype_name (dtypes[d]), n, k);
      }
  return bench_grouped (ctx, options, out_grouped, error);
}
