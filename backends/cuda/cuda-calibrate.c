/* SPDX-License-Identifier: MIT */
/*
 * cuda-calibrate.c - the CUDA backend's entry points: probe the devices, run every
 * microbenchmark and assemble the profile JSON with its provenance block.
 *
 * The format is docs/user/profile-format.md (format "afdsim-profile", version 1); the timing
 * method is docs/backends/cuda.md. This file only orchestrates: the benchmarks live in
 * cuda-gemm.c, cuda-attention.c and cuda-nccl.c. Nothing here prints.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/cuda/cuda-private.h"
#include "backends/profile.h"
#include "sim/json.h"

gboolean
afd_cuda_probe (guint min_gpus, guint *out_count, GError **error)
{
  int count = 0;
  cudaError_t status = cudaGetDeviceCount (&count);
  if (status != cudaSuccess)
    {
      (void) cudaGetLastError ();
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "no usable CUDA device: cudaGetDeviceCount: %s (no NVIDIA GPU or driver on "
                   "this machine?)",
                   cudaGetErrorString (status));
      return FALSE;
    }
  if ((guint) count < MAX (min_gpus, 1u))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "%u CUDA device(s) needed, %d visible (check CUDA_VISIBLE_DEVICES)",
                   MAX (min_gpus, 1u), count);
      return FALSE;
    }
  if (out_count != NULL)
    *out_count = (guint) count;
  return TRUE;
}

/* Returns the kernel driver's release ("580.159.04"): the first word of the "NVRM version"
 * line of /proc/driver/nvidia/version that looks like a dotted version number; or NULL. */
static char *
kernel_driver_release (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/driver/nvidia/version", &text, NULL, NULL))
    return NULL;
  char *eol = strchr (text, '\n');
  if (eol != NULL)
    *eol = '\0';
  g_auto (GStrv) words = g_strsplit_set (text, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *w = words[i];
      gboolean digits = g_ascii_isdigit (w[0]), dot = FALSE;
      for (const char *c = w; digits && *c; c++)
        {
          dot |= *c == '.';
          digits = g_ascii_isdigit (*c) || *c == '.';
        }
      if (digits && dot)
        return g_strdup (w);
    }
  return NULL;
}

/* Formats a CUDA version number (13000 -> "13.0"). */
static char *
cuda_version_string (int v)
{
  return g_strdup_printf ("%d.%d", v / 1000, (v % 1000) / 10);
}

/* Builds the provenance block for device @dev. */
static gboolean
add_provenance (cJSON *root, const AfdCudaCalibrateOptions *options, guint visible,
                GError **error)
{
  struct cudaDeviceProp prop;
  int driver = 0, runtime = 0;
  AFD_CUDA_CHECK (cudaGetDeviceProperties (&prop, 0), error, FALSE);
  AFD_CUDA_CHECK (cudaDriverGetVersion (&driver), error, FALSE);
  AFD_CUDA_CHECK (cudaRuntimeGetVersion (&runtime), error, FALSE);
  cJSON *p = cJSON_AddObjectToObject (root, "provenance");
  cJSON_AddStringToObject (p, "device_name", prop.name);
  g_autofree char *cc = g_strdup_printf ("%d.%d", prop.major, prop.minor);
  cJSON_AddStringToObject (p, "compute_capability", cc);
  cJSON_AddNumberToObject (p, "sm_count", prop.multiProcessorCount);
  afd_json_add_number (p, "memory_bytes", (double) prop.totalGlobalMem);
  afd_json_add_number (p, "l2_bytes", (double) prop.l2CacheSize);
  cJSON_AddNumberToObject (p, "gpu_count_visible", visible);
  cJSON_AddNumberToObject (p, "gpus_used", options->gpus);
  g_autofree char *release = kernel_driver_release ();
  g_autofree char *drv_api = cuda_version_string (driver);
  g_autofree char *drv = release ? g_strdup_printf ("%s (CUDA %s)", release, drv_api)
                                 : g_strdup_printf ("CUDA %s", drv_api);
  cJSON_AddStringToObject (p, "driver_version", drv);
  g_autofree char *rt = cuda_version_string (runtime);
  cJSON_AddStringToObject (p, "cuda_runtime_version", rt);
  size_t lt = cublasLtGetVersion ();
  g_autofree char *blas = g_strdup_printf ("%zu.%zu.%zu", lt / 10000, (lt % 10000) / 100, lt % 100);
  cJSON_AddStringToObject (p, "cublas_version", blas);
  g_autofree char *nccl = afd_cuda_nccl_version ();
  if (nccl != NULL)
    cJSON_AddStringToObject (p, "nccl_version", nccl);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format_iso8601 (now);
  cJSON_AddStringToObject (p, "date_utc", date);
  cJSON_AddStringToObject (p, "command", options->command_line ? options->command_line : "");
  cJSON_AddStringToObject (p, "host", g_get_host_name ());
  cJSON_AddStringToObject (p, "afdsim_version", PACKAGE_VERSION);
  cJSON_AddStringToObject (p, "git_revision", AFD_GIT_REVISION);
  cJSON_AddStringToObject (p, "features", AFD_FEATURES);
  cJSON_AddNumberToObject (p, "warmup", options->warmup);
  cJSON_AddNumberToObject (p, "repetitions", options->repetitions);
  cJSON_AddBoolToObject (p, "quick", options->quick);
  afd_json_add_number (p, "timeout_s", options->timeout_s);
  return TRUE;
}

cJSON *
afd_cuda_calibrate (const AfdCudaCalibrateOptions *options, GError **error)
{
  guint visible = 0;
  g_return_val_if_fail (options != NULL && options->repetitions > 0, NULL);
  if (!afd_cuda_probe (options->gpus, &visible, error))
    return NULL;
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "format", AFD_PROFILE_FORMAT);
  cJSON_AddNumberToObject (root, "format_version", AFD_PROFILE_FORMAT_VERSION);
  if (!add_provenance (root, options, visible, error))
    return NULL;
  {
    g_autoptr (AfdCudaContext) ctx =
        afd_cuda_context_new (0, options->warmup, options->repetitions, options->timeout_s, error);
    if (ctx == NULL)
      return NULL;
    afd_cuda_progress (options, "GPU 0 ready; measuring memory copies");
    cJSON *memory = cJSON_AddObjectToObject (root, "memory_copy");
    if (!afd_cuda_bench_memory (ctx, options, memory, error))
      return NULL;
    cJSON *gemm = cJSON_AddArrayToObject (root, "gemm");
    cJSON *grouped = cJSON_AddArrayToObject (root, "grouped_gemm");
    if (!afd_cuda_bench_gemm (ctx, options, gemm, grouped, error))
      return NULL;
    cJSON *decode = cJSON_AddArrayToObject (root, "attention_decode");
    cJSON *prefill = cJSON_AddArrayToObject (root, "attention_prefill");
    if (!afd_cuda_bench_attention (ctx, options, decode, prefill, error))
      return NULL;
  }
  if (options->gpus >= 2 || options->collective_min_gpus == 1)
    {
      cJSON *coll = cJSON_AddArrayToObject (root, "collectives");
      if (!afd_cuda_bench_collectives (options, options->gpus, coll, error))
        return NULL;
    }
  return g_steal_pointer (&root);
}

/* Reads exactly @len bytes from pipe @fd before @timeout_s has passed. */
static gboolean
read_id (int fd, guint8 *buf, size_t len, double timeout_s, GError **error)
{
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (timeout_s * 1e6);
  size_t got = 0;
  while (got < len)
    {
      gint64 left_ms = (deadline_us - g_get_monotonic_time ()) / 1000;
      if (left_ms <= 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "the NCCL id from node group 0 did not arrive within %.0f s", timeout_s);
          return FALSE;
        }
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, (int) MIN (left_ms, 1000));
      if (r == 0 || (r < 0 && errno == EINTR))
        continue;
      ssize_t k = r < 0 ? -1 : read (fd, buf + got, len - got);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        {
          g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                               "node group 0 ended before sending the NCCL id");
          return FALSE;
        }
      got += (size_t) k;
    }
  return TRUE;
}

/* Returns the distinct net transports ("NET/Socket", "NET/IB") of the "via NET/…" lines of
 * NCCL's INFO log at @path, comma-separated in order of appearance; or NULL when none. */
static char *
net_transport_from_log (const char *path)
{
  g_autofree char *text = NULL;
  if (path == NULL || !g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  for (const char *at = strstr (text, "via NET/"); at != NULL; at = strstr (at + 1, "via NET/"))
    {
      const char *name = at + 4, *end = name + 4;
      while (*end != '\0' && *end != '/' && !g_ascii_isspace (*end))
        end++;
      g_autofree char *t = g_strndup (name, (gsize) (end - name));
      g_autofree char *key = g_strdup_printf (",%s,", t);
      g_autofree char *have = g_strdup_printf (",%s,", out->str);
      if (strstr (have, key) == NULL)
        g_string_append_printf (out, "%s%s", out->len ? "," : "", t);
    }
  return out->len ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

cJSON *
afd_cuda_calibrate_node (const AfdCudaCalibrateOptions *options, const AfdCudaNodeGroup *group,
                         GError **error)
{
  guint visible = 0;
  guint8 id[AFD_CUDA_NCCL_ID_BYTES];
  g_return_val_if_fail (options != NULL && group != NULL && group->nodes >= 2, NULL);
  if (!afd_cuda_probe (group->gpus_per_node, &visible, error))
    return NULL;
  if (group->node == 0)
    {
      if (!afd_cuda_nccl_unique_id (id, error))
        return NULL;
      for (guint i = 1; i < group->nodes; i++)
        if (write (group->id_fd, id, sizeof id) != (ssize_t) sizeof id)
          {
            g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                         "cannot pass the NCCL id to the other node groups: %s",
                         g_strerror (errno));
            return NULL;
          }
    }
  else if (!read_id (group->id_fd, id, sizeof id, options->timeout_s, error))
    return NULL;
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  if (group->node == 0)
    {
      cJSON_AddStringToObject (root, "format", AFD_PROFILE_FORMAT);
      cJSON_AddNumberToObject (root, "format_version", AFD_PROFILE_FORMAT_VERSION);
      if (!add_provenance (root, options, visible, error))
        return NULL;
    }
  cJSON *coll = cJSON_AddArrayToObject (root, "collectives");
  if (!afd_cuda_bench_collectives_nodes (options, group->gpus_per_node,
                                         group->gpus_per_node * group->nodes,
                                         group->node * group->gpus_per_node, id, coll, error))
    return NULL;
  if (group->node == 0)
    {
      fflush (NULL); /* NCCL's debug file */
      g_autofree char *net = net_transport_from_log (group->nccl_log_path);
      cJSON_AddStringToObject (cJSON_GetObjectItem (root, "provenance"), "nccl_net_transport",
                               net ? net : "none seen (no \"via NET/\" line in NCCL's INFO log)");
    }
  return g_steal_pointer (&root);
}

/* Off-grid shapes re-measured by afd_cuda_verify(): none of them is a grid point. */
typedef struct {
  AfdDtype dtype;
  guint64 m, n, k;
} VerifyGemm;

static const VerifyGemm verify_gemm[] = {
  { AFD_DTYPE_BF16, 3, 5120, 4096 },   { AFD_DTYPE_BF16, 40, 4096, 4096 },
  { AFD_DTYPE_BF16, 100, 12288, 4096 }, { AFD_DTYPE_BF16, 700, 7168, 2048 },
  { AFD_DTYPE_BF16, 3000, 2048, 7168 }, { AFD_DTYPE_BF16, 12000, 4096, 4096 },
  { AFD_DTYPE_BF16, 56, 4096, 5120 },  { AFD_DTYPE_BF16, 320, 14336, 4096 },
  { AFD_DTYPE_FP8, 40, 4096, 4096 },   { AFD_DTYPE_FP8, 700, 14336, 4096 },
  { AFD_DTYPE_FP8, 3000, 7168, 2048 },
};

typedef struct {
  guint heads_q, heads_kv, d_qk, d_v;
  guint64 batch, context;
} VerifyDecode;

static const VerifyDecode verify_decode[] = {
  { 32, 32, 128, 128, 6, 3000 }, { 32, 8, 128, 128, 24, 6000 }, { 128, 1, 576, 512, 48, 1500 },
  { 8, 8, 128, 128, 100, 1000 }, { 8, 2, 128, 128, 12, 12000 }, { 16, 1, 576, 512, 200, 700 },
};

/* Appends one verification record. */
static void
add_check (cJSON *arr, const char *op, const char *shape, double measured_s, double predicted_s)
{
  cJSON *c = cJSON_CreateObject ();
  cJSON_AddStringToObject (c, "op", op);
  cJSON_AddStringToObject (c, "shape", shape);
  afd_json_add_number (c, "measured_s", measured_s);
  afd_json_add_number (c, "predicted_s", predicted_s);
  afd_json_add_number (c, "error_rel", (predicted_s - measured_s) / measured_s);
  cJSON_AddItemToArray (arr, c);
}

cJSON *
afd_cuda_verify (const char *profile_path, const AfdCudaCalibrateOptions *options,
                 GError **error)
{
  g_autoptr (AfdProfile) prof = afd_profile_load (profile_path, error);
  if (prof == NULL)
    return NULL;
  g_autoptr (cJSON) root = afd_json_parse_file (profile_path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return NULL;
  g_autoptr (AfdCudaContext) ctx =
      afd_cuda_context_new (0, options->warmup, options->repetitions, options->timeout_s, error);
  if (ctx == NULL)
    return NULL;
  g_autoptr (cJSON) out = cJSON_CreateArray ();
  gboolean fp8 = ctx->compute_major * 10 + ctx->compute_minor >= 89;
  for (guint i = 0; i < G_N_ELEMENTS (verify_gemm); i++)
    {
      const VerifyGemm *v = &verify_gemm[i];
      AfdCudaStats st;
      double pred = 0;
      if (v->dtype == AFD_DTYPE_FP8 && !fp8)
        continue;
      if (!afd_cuda_measure_gemm (ctx, v->dtype, v->m, v->n, v->k, &st, error)
          || !afd_profile_gemm_time (prof, v->dtype, (double) v->m, (double) v->n, (double) v->k,
                                     &pred, error))
        return NULL;
      g_autofree char *shape = g_strdup_printf ("%s M=%" G_GUINT64_FORMAT " N=%" G_GUINT64_FORMAT
                                                " K=%" G_GUINT64_FORMAT, afd_dtype_name (v->dtype),
                                                v->m, v->n, v->k);
      add_check (out, "gemm", shape, st.median_s, pred);
    }
  for (guint i = 0; i < G_N_ELEMENTS (verify_decode); i++)
    {
      const VerifyDecode *v = &verify_decode[i];
      AfdCudaStats st;
      double pred = 0;
      gboolean mla = v->heads_kv == 1 && v->d_qk > v->d_v;
      if (!afd_cuda_measure_attention (ctx, v->heads_q, v->heads_kv, v->d_qk, v->d_v, v->batch, 1,
                                       v->context, mla, &st, error)
          || !afd_profile_decode_attention_time (prof, v->heads_q, v->heads_kv, v->d_qk, v->d_v,
                                                 (double) v->batch, (double) v->context, 1, &pred,
                                                 error))
        return NULL;
      g_autofree char *shape = g_strdup_printf ("heads %u/%u d=%u/%u batch=%" G_GUINT64_FORMAT
                                                " context=%" G_GUINT64_FORMAT, v->heads_q,
                                                v->heads_kv, v->d_qk, v->d_v, v->batch,
                                                v->context);
      add_check (out, "attention_decode", shape, st.median_s, pred);
    }
  {
    /* Full-square prefill at an off-grid length: the profile predicts 2F / rate(2F). */
    const guint64 seq = 1500;
    AfdCudaStats st;
    double full = 4.0 * 32 * (double) seq * seq * 128, pred = 0;
    if (!afd_cuda_measure_attention (ctx, 32, 32, 128, 128, 1, seq, seq, FALSE, &st, error)
        || !afd_profile_prefill_attention_time (prof, full / 2.0, &pred, error))
      return NULL;
    add_check (out, "attention_prefill_full_square", "heads 32 d=128 seq=1500", st.median_s,
               2.0 * pred);
  }
  const double copies[] = { 3e6, 3e8 };
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    {
      AfdCudaStats st;
      double pred = 0;
      if (!afd_cuda_measure_copy (ctx, (size_t) copies[i], &st, error)
          || !afd_profile_memory_time (prof, 2.0 * copies[i], &pred, error))
        return NULL;
      g_autofree char *shape = g_strdup_printf ("copy of %.0f bytes", copies[i]);
      add_check (out, "memory", shape, st.median_s, pred);
    }
  /* Grouped GEMMs: the measured tables against the sum-of-GEMMs model (no new measurement). */
  const cJSON *grouped = cJSON_GetObjectItem (root, "grouped_gemm");
  for (const cJSON *t = grouped ? grouped->child : NULL; t != NULL; t = t->next)
    {
      double n = cJSON_GetObjectItem (t, "n")->valuedouble;
      double k = cJSON_GetObjectItem (t, "k")->valuedouble;
      const char *dist = cJSON_GetStringValue (cJSON_GetObjectItem (t, "distribution"));
      for (const cJSON *p = cJSON_GetObjectItem (t, "points")->child; p != NULL; p = p->next)
        {
          double pred = 0, one = 0;
          const cJSON *tokens = cJSON_GetObjectItem (p, "tokens_per_expert");
          for (const cJSON *e = tokens->child; e != NULL; e = e->next)
            {
              if (e->valuedouble <= 0)
                continue;
              if (!afd_profile_gemm_time (prof, AFD_DTYPE_BF16, e->valuedouble, n, k, &one,
                                          error))
                return NULL;
              pred += one;
            }
          g_autofree char *shape = g_strdup_printf (
              "E=%d N=%.0f K=%.0f %s tokens=%.0f", cJSON_GetArraySize (tokens), n, k, dist,
              cJSON_GetObjectItem (p, "tokens_total")->valuedouble);
          /* In-sample: the factor is fitted on these very points. */
          add_check (out, "grouped_gemm_in_sample", shape,
                     cJSON_GetObjectItem (p, "time_median_s")->valuedouble,
                     pred * afd_profile_get_grouped_factor (prof));
        }
    }
  afd_cuda_progress (options, "verification: %d off-grid checks done", cJSON_GetArraySize (out));
  return g_steal_pointer (&out);
}
