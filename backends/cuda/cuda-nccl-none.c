/* SPDX-License-Identifier: MIT */
/*
 * cuda-nccl-none.c - stands in for cuda-nccl.c when configure ran with --enable-cuda but
 * without --with-nccl: collective benchmarks fail with one clear message.
 */
#include "config.h"

#include "backends/cuda/cuda-private.h"

gboolean
afd_cuda_bench_collectives (const AfdCudaCalibrateOptions *options, guint gpus,
                            cJSON *out_collectives, GError **error)
{
  g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
               "collective benchmarks need NCCL: afdsim was built without --with-nccl "
               "(use --gpus 1, or reconfigure with --enable-cuda --with-nccl)");
  return FALSE;
}

gboolean
afd_cuda_nccl_unique_id (guint8 *out_id, GError **error)
{
  return afd_cuda_bench_collectives (NULL, 0, NULL, error);
}

gboolean
afd_cuda_bench_collectives_nodes (const AfdCudaCalibrateOptions *options, guint local_gpus,
                                  guint nranks, guint rank0, const guint8 *id,
                                  cJSON *out_collectives, GError **error)
{
  return afd_cuda_bench_collectives (options, nranks, out_collectives, error);
}

char *
afd_cuda_nccl_version (void)
{
  return NULL;
}
