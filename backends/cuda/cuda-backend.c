/* SPDX-License-Identifier: MIT */
/*
 * cuda-backend.c - the `cuda` cost backend: prices an op by running its shape on a real GPU.
 *
 * Each distinct shape is measured once (the microbenchmarks of cuda-gemm.c and
 * cuda-attention.c: median of the timed repetitions) and cached, so one run prices the same op
 * the same way every time. GEMM ops run their GEMM (×count; grouped experts: one GEMM per
 * expert with tokens); decode attention runs the batched-GEMM emulation; prefill runs the full
 * square and charges the causal half; everything else is charged as a device copy of its
 * bytes. Communication ops are the network model's (AFD_ERROR_CONFIG here). Real execution of
 * a whole strategy timeline with NCCL is TODO(#7).
 */
#include "config.h"

#include <string.h>

#include "backends/cuda/cuda-exec.h"
#include "backends/cuda/cuda-private.h"
#include "sim/json.h"
#include "sim/op.h"

typedef struct {
  AfdCudaContext *ctx;
  int device;
  GHashTable *cache; /* shape key -> double seconds (boxed); lookups only */
} CudaState;

/* Probes for one visible GPU. */
static gboolean
cuda_probe (GError **error)
{
  return afd_cuda_probe (1, NULL, error);
}

static void
cuda_destroy (gpointer state)
{
  CudaState *s = state;
  if (s == NULL)
    return;
  g_clear_pointer (&s->ctx, afd_cuda_context_free);
  g_clear_pointer (&s->cache, g_hash_table_unref);
  g_free (s);
}

/* Creates the backend from {"device": N, "repetitions": N, "warmup": N, "timeout_s": S}. */
static gpointer
cuda_create (const cJSON *params, GError **error)
{
  static const char *const keys[] = { "device", "repetitions", "warmup", "timeout_s", NULL };
  AfdJsonWhere w = { "cost model cuda", "", AFD_ERROR_CONFIG };
  gint64 device = 0, reps = 10, warmup = 3;
  double timeout_s = 120.0;
  if (params != NULL
      && (!afd_json_check_object (params, &w, keys, error)
          || !afd_json_get_int (params, &w, "device", AFD_JSON_OPTIONAL, 0, 255, &device, error)
          || !afd_json_get_int (params, &w, "repetitions", AFD_JSON_OPTIONAL, 1, 10000, &reps,
                                error)
          || !afd_json_get_int (params, &w, "warmup", AFD_JSON_OPTIONAL, 0, 10000, &warmup, error)
          || !afd_json_get_number (params, &w, "timeout_s", AFD_JSON_POSITIVE, &timeout_s, error)))
    return NULL;
  guint count = 0;
  if (!afd_cuda_probe ((guint) device + 1, &count, error))
    return NULL;
  CudaState *s = g_new0 (CudaState, 1);
  s->device = (int) device;
  s->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->ctx = afd_cuda_context_new ((int) device, (guint) warmup, (guint) reps, timeout_s, error);
  if (s->ctx == NULL)
    {
      cuda_destroy (s);
      return NULL;
    }
  return s;
}

/* Looks @key up in the cache; on a miss measures with @measure and stores the median. */
static gboolean
cached (CudaState *s, char *key, double *out_s)
{
  double *hit = g_hash_table_lookup (s->cache, key);
  if (hit == NULL)
    return FALSE;
  *out_s = *hit;
  g_free (key);
  return TRUE;
}

/* Stores a measured time under @key (takes @key). */
static void
store (CudaState *s, char *key, double seconds)
{
  double *v = g_new (double, 1);
  *v = seconds;
  g_hash_table_replace (s->cache, key, v);
}

/* Returns the median time of one GEMM, measured once per shape. */
static gboolean
gemm_time (CudaState *s, AfdDtype dtype, guint64 m, guint64 n, guint64 k, double *out_s,
           GError **error)
{
  /* N and K rounded up as real execution runs them (AFD_EXEC_GEMM_ALIGN, exec-plan.c). */
  n = (n + AFD_EXEC_GEMM_ALIGN - 1) / AFD_EXEC_GEMM_ALIGN * AFD_EXEC_GEMM_ALIGN;
  k = (k + AFD_EXEC_GEMM_ALIGN - 1) / AFD_EXEC_GEMM_ALIGN * AFD_EXEC_GEMM_ALIGN;
  char *key = g_strdup_printf ("gemm %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                               " %" G_GUINT64_FORMAT, (int) dtype, m, n, k);
  if (cached (s, key, out_s))
    return TRUE;
  AfdCudaStats st;
  if (!afd_cuda_measure_gemm (s->ctx, dtype, m, n, k, &st, error))
    {
      g_free (key);
      return FALSE;
    }
  store (s, key, st.median_s);
  *out_s = st.median_s;
  return TRUE;
}

/* Prices one op on the GPU (see the file comment). */
static gboolean
cuda_op_time (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out_seconds,
              GError **error)
{
  CudaState *s = state;
  if (afd_op_kind_is_comm (op->kind))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "op %s: the cuda cost backend prices compute ops; %s is the network "
                   "model's",
                   op->name, afd_op_kind_name (op->kind));
      return FALSE;
    }
  if ((op->kind == AFD_OP_ATTENTION_DECODE || op->kind == AFD_OP_ATTENTION_PREFILL)
      && op->has_attention)
    {
      const AfdAttentionShape *a = &op->attention;
      gboolean prefill = op->kind == AFD_OP_ATTENTION_PREFILL;
      guint kv_heads = MAX (a->n_kv_heads, 1u);
      gboolean mla = kv_heads == 1 && a->head_dim_qk > a->head_dim_v && a->n_heads > 1;
      guint64 kv_len = a->context_tokens + a->query_tokens;
      guint64 rows = MAX (a->query_tokens, G_GUINT64_CONSTANT (1));
      char *key = g_strdup_printf ("attn %d %u %u %u %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                   " %" G_GUINT64_FORMAT, prefill, a->n_heads, kv_heads,
                                   a->head_dim_qk, a->head_dim_v, a->n_sequences, rows, kv_len);
      if (cached (s, key, out_seconds))
        return TRUE;
      AfdCudaStats st;
      if (!afd_cuda_measure_attention (s->ctx, a->n_heads, kv_heads, a->head_dim_qk,
                                       a->head_dim_v, MAX (a->n_sequences, 1), rows, kv_len,
                                       mla, &st, error))
        {
          g_free (key);
          g_prefix_error (error, "op %s: ", op->name);
          return FALSE;
        }
      /* The emulation computes the full rectangle; causal prefill does about half of it. */
      double t = prefill && a->context_tokens == 0 ? 0.5 * st.median_s : st.median_s;
      store (s, key, t);
      *out_seconds = t;
      return TRUE;
    }
  if (op->has_gemm && op->gemm.n > 0 && op->gemm.k > 0)
    {
      double count = (double) MAX (op->gemm.count, G_GUINT64_CONSTANT (1)), total = 0, t = 0;
      if (op->kind == AFD_OP_EXPERT_GROUPED_GEMM && op->expert_tokens != NULL)
        {
          for (guint e = 0; e < op->n_experts; e++)
            {
              if (op->expert_tokens[e] == 0)
                continue;
              if (!gemm_time (s, op->dtype, op->expert_tokens[e], op->gemm.n, op->gemm.k, &t,
                              error))
                return FALSE;
              total += t;
            }
        }
      else if (op->gemm.m > 0)
        {
          if (!gemm_time (s, op->dtype, op->gemm.m, op->gemm.n, op->gemm.k, &total, error))
            {
              g_prefix_error (error, "op %s: ", op->name);
              return FALSE;
            }
        }
      *out_seconds = count * total;
      return TRUE;
    }
  double bytes = op->bytes_read + op->bytes_written;
  if (bytes <= 0)
    {
      *out_seconds = 0.0;
      return TRUE;
    }
  /* A memory-bound op moving B bytes is timed as a copy of B/2 bytes (read B/2, write B/2). */
  guint64 half = (guint64) (bytes / 2.0);
  char *key = g_strdup_printf ("copy %" G_GUINT64_FORMAT, half);
  if (cached (s, key, out_seconds))
    return TRUE;
  AfdCudaStats st;
  if (!afd_cuda_measure_copy (s->ctx, (size_t) half, &st, error))
    {
      g_free (key);
      return FALSE;
    }
  store (s, key, st.median_s);
  *out_seconds = st.median_s;
  return TRUE;
}

/* Names the device and the repetition counts. */
static void
cuda_describe (gpointer state, GString *out)
{
  CudaState *s = state;
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties (&prop, s->device) != cudaSuccess)
    prop.name[0] = '\0';
  g_string_append_printf (out, "device=%d (%s) warmup=%u repetitions=%u median", s->device,
                          prop.name, s->ctx->warmup, s->ctx->repetitions);
}

const AfdCostModelClass afd_cost_model_cuda_class = {
  .name = "cuda",
  .summary = "measures each op shape on a real GPU (cuBLASLt GEMMs, batched-GEMM attention, "
             "copies); median of CUDA-event timings",
  .probe = cuda_probe,
  .create = cuda_create,
  .destroy = cuda_destroy,
  .op_time = cuda_op_time,
  .describe = cuda_describe,
};
