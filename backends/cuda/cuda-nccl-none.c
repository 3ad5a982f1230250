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

char *
afd_cuda_nccl_version (void)
{
  return NULL;
}
