/* SPDX-License-Identifier: MIT */
/*
 * cuda-attention.c - decode and prefill attention emulated with strided-batched GEMMs, and
 * device-to-device copy bandwidth.
 *
 * Decode, per sequence and KV head (g = heads_q / heads_kv query heads share one KV head):
 *   S[g×L] = Q[g×d_qk] · K[L×d_qk]ᵀ and O[g×d_v] = S[g×L] · V[L×d_v], bf16, fp32 accumulation,
 *   batched over batch·heads_kv. The KV cache (batch·heads_kv·L·(d_qk + d_v) elements; MLA
 *   reads one latent cache of d_qk = 576 whose first 512 columns are V) is read once per step,
 *   as a fused kernel does. Softmax and scaling are not run: they are an elementwise pass over
 *   S (g·L per KV head), small beside the KV read for g ≤ 128 (TODO(#7): a fused kernel).
 * Prefill: the same two GEMMs over S[L×L] per head, for the full (non-causal) square; the
 *   profile backend charges causal attention for half of these FLOPs at the measured rate.
 * Memory: cudaMemcpyAsync device to device; bandwidth counts bytes read plus bytes written.
 * Nothing here prints.
 */
#include "config.h"

#include <string.h>

#include "backends/cuda/cuda-private.h"
#include "sim/json.h"

/* Skip points whose buffers would exceed this many bytes (keeps --quick and H100 safe). */
#define MAX_BUFFER_BYTES ((size_t) 12 << 30)

/* One attention problem: batched Q·Kᵀ then S·V. */
typedef struct {
  int g;         /* query rows per KV head (decode) or sequence length (prefill) */
  int l;         /* KV length */
  int d_qk, d_v; /* head dims */
  int ld_kv;     /* row stride of the K and V caches, elements */
  int batch;     /* batched problems: batch·heads_kv (decode) or heads (prefill) */
  int ld_s;      /* row stride of S, elements: l rounded up to 64 (128-byte rows, as a fused
                  * kernel's tiles are; an unaligned stride would time a slow cuBLAS path) */
  long long stride_kv;
  void *q, *k, *v, *s, *o;
} AttnRun;

/* Enqueues S = Q·Kᵀ then O = S·V for every problem of the batch. */
static gboolean
attn_launch (AfdCudaContext *ctx, guint rep, gpointer data, GError **error)
{
  AttnRun *r = data;
  const float alpha = 1.0f, beta = 0.0f;
  /* Column-major: Sᵀ[L×g] = (K stored [L][ld])ᵀᵀ … i.e. op(K)=T over a ld×L matrix. */
  AFD_CUBLAS_CHECK (cublasGemmStridedBatchedEx (
                        ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, r->l, r->g, r->d_qk, &alpha, r->k,
                        CUDA_R_16BF, r->ld_kv, r->stride_kv, r->q, CUDA_R_16BF, r->d_qk,
                        (long long) r->g * r->d_qk, &beta, r->s, CUDA_R_16BF, r->ld_s,
                        (long long) r->ld_s * r->g, r->batch, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT),
                    error, FALSE);
  /* Oᵀ[d_v×g] = V(as stored, ld×L, first d_v rows) · Sᵀ[L×g]. */
  AFD_CUBLAS_CHECK (cublasGemmStridedBatchedEx (
                        ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, r->d_v, r->g, r->l, &alpha, r->v,
                        CUDA_R_16BF, r->ld_kv, r->stride_kv, r->s, CUDA_R_16BF, r->ld_s,
                        (long long) r->ld_s * r->g, &beta, r->o, CUDA_R_16BF, r->d_v,
                        (long long) r->d_v * r->g, r->batch, CUBLAS_COMPUTE_32F,
                        CUBLAS_GEMM_DEFAULT),
                    error, FALSE);
  return TRUE;
}

/* Frees the buffers of @r. */
static void
attn_clear (AttnRun *r)
{
  void *bufs[] = { r->q, r->k, r->s, r->o };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    if (bufs[i])
      cudaFree (bufs[i]);
  if (r->v && r->v != r->k)
    {
      /* v points into k for MLA; separate otherwise */
      cudaFree (r->v);
    }
  memset (r, 0, sizeof *r);
}

/* Allocates and measures @r (buffers are made here; @shared_kv: V is K's first d_v columns). */
static gboolean
attn_measure (AfdCudaContext *ctx, AttnRun *r, gboolean shared_kv, AfdCudaStats *out,
              GError **error)
{
  size_t kv = (size_t) r->batch * (size_t) r->stride_kv * 2;
  r->ld_s = (r->l + 63) / 64 * 64;
  gboolean ok = (r->q = afd_cuda_alloc_random (ctx, (size_t) r->batch * r->g * r->d_qk * 2,
                                               AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = (r->k = afd_cuda_alloc_random (ctx, kv, AFD_DTYPE_BF16, error)) != NULL;
  if (ok && shared_kv)
    r->v = r->k;
  else if (ok)
    ok = (r->v = afd_cuda_alloc_random (ctx, kv, AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = (r->s = afd_cuda_alloc_random (ctx, (size_t) r->batch * r->g * r->ld_s * 2,
                                        AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = (r->o = afd_cuda_alloc_random (ctx, (size_t) r->batch * r->g * r->d_v * 2,
                                        AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = afd_cuda_time (ctx, attn_launch, r, out, error);
  attn_clear (r);
  return ok;
}

gboolean
afd_cuda_measure_attention (AfdCudaContext *ctx, guint heads_q, guint heads_kv, guint d_qk,
                            guint d_v, guint64 batch, guint64 query_rows, guint64 kv_len,
                            gboolean shared_kv, AfdCudaStats *out_stats, GError **error)
{
  AttnRun r = { .g = (int) (heads_q / MAX (heads_kv, 1u) * query_rows), .l = (int) kv_len,
                .d_qk = (int) d_qk, .d_v = (int) d_v, .ld_kv = (int) d_qk,
                .batch = (int) (batch * MAX (heads_kv, 1u)) };
  r.stride_kv = (long long) r.l * r.ld_kv;
  return attn_measure (ctx, &r, shared_kv, out_stats, error);
}

/* Decode attention kinds measured: per-GPU head counts of common layouts. */
typedef struct {
  const char *kind;
  int heads_q, heads_kv, d_qk, d_v;
} DecodeKind;

static const DecodeKind decode_kinds[] = {
  { "mha", 32, 32, 128, 128 }, /* the seed model, 32 heads of 128 */
  { "mha", 8, 8, 128, 128 },   /* the same under TP4 */
  { "gqa", 32, 8, 128, 128 },  /* Llama-3-8B-like */
  { "gqa", 8, 2, 128, 128 },
  { "mla", 128, 1, 576, 512 }, /* DeepSeek-V3 absorbed: latent 512 + rope 64 */
  { "mla", 16, 1, 576, 512 },
};
static const int full_batches[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
static const int full_contexts[] = { 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768 };
static const int quick_batches[] = { 16 };
static const int quick_contexts[] = { 2048 };
static const int full_prefill[] = { 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192 };
static const int quick_prefill[] = { 1024 };

gboolean
afd_cuda_bench_attention (AfdCudaContext *ctx, const AfdCudaCalibrateOptions *options,
                          cJSON *out_decode, cJSON *out_prefill, GError **error)
{
  guint n_kinds = options->quick ? 3 : G_N_ELEMENTS (decode_kinds);
  const int *batches = options->quick ? quick_batches : full_batches;
  guint n_b = options->quick ? G_N_ELEMENTS (quick_batches) : G_N_ELEMENTS (full_batches);
  const int *ctxs = options->quick ? quick_contexts : full_contexts;
  guint n_c = options->quick ? G_N_ELEMENTS (quick_contexts) : G_N_ELEMENTS (full_contexts);
  for (guint i = 0; i < n_kinds; i++)
    {
      /* --quick measures mha 32, gqa 32/8 and mla 128 (entries 0, 2, 4). */
      const DecodeKind *dk = &decode_kinds[options->quick ? 2 * i : i];
      gboolean mla = strcmp (dk->kind, "mla") == 0;
      for (guint b = 0; b < n_b; b++)
        {
          cJSON *table = cJSON_CreateObject ();
          cJSON_AddStringToObject (table, "kind", dk->kind);
          cJSON_AddStringToObject (table, "dtype", "bf16");
          cJSON_AddNumberToObject (table, "heads_q", dk->heads_q);
          cJSON_AddNumberToObject (table, "heads_kv", dk->heads_kv);
          cJSON_AddNumberToObject (table, "head_dim_qk", dk->d_qk);
          cJSON_AddNumberToObject (table, "head_dim_v", dk->d_v);
          cJSON_AddNumberToObject (table, "batch", batches[b]);
          cJSON *points = cJSON_AddArrayToObject (table, "points");
          for (guint c = 0; c < n_c; c++)
            {
              AttnRun r = { .g = dk->heads_q / dk->heads_kv, .l = ctxs[c], .d_qk = dk->d_qk,
                            .d_v = dk->d_v, .batch = batches[b] * dk->heads_kv };
              r.ld_kv = r.d_qk;
              r.stride_kv = (long long) r.l * r.ld_kv;
              /* KV bytes actually read: MLA reads one latent cache, others K and V. */
              double kv_bytes
                  = (double) r.batch * r.l * (mla ? dk->d_qk : dk->d_qk + dk->d_v) * 2;
              double s_bytes = (double) r.batch * r.g * r.l * 2;
              if (kv_bytes > (double) MAX_BUFFER_BYTES || s_bytes > (double) MAX_BUFFER_BYTES)
                continue;
              AfdCudaStats st;
              if (!attn_measure (ctx, &r, mla, &st, error))
                {
                  cJSON_Delete (table);
                  g_prefix_error (error, "decode attention %s batch=%d context=%d: ", dk->kind,
                                  batches[b], ctxs[c]);
                  return FALSE;
                }
              double flop
                  = 2.0 * batches[b] * dk->heads_q * (double) ctxs[c] * (dk->d_qk + dk->d_v);
              cJSON *p = cJSON_CreateObject ();
              cJSON_AddNumberToObject (p, "context", ctxs[c]);
              afd_json_add_number (p, "kv_bytes", kv_bytes);
              afd_json_add_number (p, "flop", flop);
              afd_cuda_stats_to_json (&st, p);
              afd_json_add_number (p, "kv_bytes_per_s", kv_bytes / st.median_s);
              cJSON_AddItemToArray (points, p);
            }
          /* A batch whose every context was too large has no table. */
          if (cJSON_GetArraySize (points) > 0)
            cJSON_AddItemToArray (out_decode, table);
          else
            cJSON_Delete (table);
        }
      afd_cuda_progress (options, "decode attention %s %d/%d: done", dk->kind, dk->heads_q,
                         dk->heads_kv);
    }

  const int *seqs = options->quick ? quick_prefill : full_prefill;
  guint n_s = options->quick ? G_N_ELEMENTS (quick_prefill) : G_N_ELEMENTS (full_prefill);
  const int heads = 32, d = 128;
  cJSON *table = cJSON_CreateObject ();
  cJSON_AddStringToObject (table, "kind", "mha");
  cJSON_AddStringToObject (table, "dtype", "bf16");
  cJSON_AddNumberToObject (table, "heads", heads);
  cJSON_AddNumberToObject (table, "head_dim", d);
  cJSON_AddStringToObject (table, "emulation", "full-square");
  cJSON *points = cJSON_AddArrayToObject (table, "points");
  cJSON_AddItemToArray (out_prefill, table);
  for (guint i = 0; i < n_s; i++)
    {
      int l = seqs[i];
      AttnRun r = { .g = l, .l = l, .d_qk = d, .d_v = d, .ld_kv = d, .batch = heads,
                    .stride_kv = (long long) l * d };
      AfdCudaStats st;
      if ((double) heads * l * l * 2 > (double) MAX_BUFFER_BYTES)
        continue;
      if (!attn_measure (ctx, &r, FALSE, &st, error))
        {
          g_prefix_error (error, "prefill attention seq=%d: ", l);
          return FALSE;
        }
      /* Full square: 2 GEMMs of 2·L·L·d FLOPs per head. */
      double flop = 4.0 * heads * (double) l * l * d;
      cJSON *p = cJSON_CreateObject ();
      cJSON_AddNumberToObject (p, "seq_len", l);
      afd_json_add_number (p, "flop", flop);
      afd_cuda_stats_to_json (&st, p);
      afd_json_add_number (p, "flop_per_s", flop / st.median_s);
      cJSON_AddItemToArray (points, p);
    }
  afd_cuda_progress (options, "prefill attention: done");
  return TRUE;
}

/* State of one copy point. */
typedef struct {
  void *src, *dst;
  size_t bytes;
} CopyRun;

/* Enqueues one device-to-device copy. */
static gboolean
copy_launch (AfdCudaContext *ctx, guint rep, gpointer data, GError **error)
{
  CopyRun *r = data;
  AFD_CUDA_CHECK (cudaMemcpyAsync (r->dst, r->src, r->bytes, cudaMemcpyDeviceToDevice,
                                   ctx->stream),
                  error, FALSE);
  return TRUE;
}

gboolean
afd_cuda_bench_memory (AfdCudaContext *ctx, const AfdCudaCalibrateOptions *options,
                       cJSON *out_table, GError **error)
{
  size_t max_bytes = (size_t) 1 << (options->quick ? 28 : 30);
  CopyRun r = { 0 };
  r.src = afd_cuda_alloc_random (ctx, max_bytes, AFD_DTYPE_BF16, error);
  if (r.src == NULL)
    return FALSE;
  r.dst = afd_cuda_alloc_random (ctx, max_bytes, AFD_DTYPE_BF16, error);
  if (r.dst == NULL)
    {
      cudaFree (r.src);
      return FALSE;
    }
  cJSON_AddStringToObject (out_table, "method", "cudaMemcpyAsync-d2d");
  cJSON_AddStringToObject (out_table, "bandwidth_counts", "read+write");
  cJSON *points = cJSON_AddArrayToObject (out_table, "points");
  gboolean ok = TRUE;
  for (size_t bytes = 4096; ok && bytes <= max_bytes; bytes *= 4)
    {
      AfdCudaStats st;
      r.bytes = bytes;
      if (!(ok = afd_cuda_time (ctx, copy_launch, &r, &st, error)))
        break;
      cJSON *p = cJSON_CreateObject ();
      cJSON_AddNumberToObject (p, "size_bytes", (double) bytes);
      afd_cuda_stats_to_json (&st, p);
      afd_json_add_number (p, "bandwidth_bytes_per_s", 2.0 * (double) bytes / st.median_s);
      cJSON_AddItemToArray (points, p);
    }
  cudaFree (r.src);
  cudaFree (r.dst);
  if (ok)
    afd_cuda_progress (options, "memory copy: done");
  return ok;
}

gboolean
afd_cuda_measure_copy (AfdCudaContext *ctx, size_t bytes, AfdCudaStats *out_stats,
                       GError **error)
{
  CopyRun r = { .bytes = MAX (bytes, (size_t) 1) };
  gboolean ok = (r.src = afd_cuda_alloc_random (ctx, r.bytes, AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = (r.dst = afd_cuda_alloc_random (ctx, r.bytes, AFD_DTYPE_BF16, error)) != NULL;
  if (ok)
    ok = afd_cuda_time (ctx, copy_launch, &r, out_stats, error);
  if (r.src)
    cudaFree (r.src);
  if (r.dst)
    cudaFree (r.dst);
  return ok;
}
