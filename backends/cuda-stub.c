/* SPDX-License-Identifier: MIT */
/*
 * cuda-stub.c - compiled in place of backends/cuda/ when configure ran without --enable-cuda.
 *
 * Defines the same symbols as the real backend (the `cuda` cost backend class, the probe and
 * the calibrate entry point) so the registry and the commands need no #ifdef; each fails with
 * AFD_ERROR_BACKEND_UNAVAILABLE: "afdsim was built without --enable-cuda" (STYLE §2.5).
 */
#include "config.h"

#include "backends/cuda/cuda-calibrate.h"
#include "backends/cuda/cuda-exec.h"
#include "sim/error.h"

#define NOT_BUILT "afdsim was built without --enable-cuda (reconfigure with --enable-cuda " \
                  "--with-nccl on a machine with the CUDA toolkit; docs/backends/cuda.md)"

gboolean
afd_cuda_probe (guint min_gpus, guint *out_count, GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return FALSE;
}

cJSON *
afd_cuda_calibrate (const AfdCudaCalibrateOptions *options, GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return NULL;
}

cJSON *
afd_cuda_calibrate_node (const AfdCudaCalibrateOptions *options, const AfdCudaNodeGroup *group,
                         GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return NULL;
}

cJSON *
afd_cuda_verify (const char *profile_path, const AfdCudaCalibrateOptions *options,
                 GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return NULL;
}

/* Fails at once: no CUDA in this build (real execution, backends/cuda/cuda-exec.c). */
AfdCudaExecResult *
afd_cuda_exec (const AfdExecPlan *plan, const AfdCudaExecOptions *options, GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return NULL;
}

/* Fails: no CUDA in this build. */
static gboolean
stub_probe (GError **error)
{
  return afd_cuda_probe (1, NULL, error);
}

/* Fails like the probe (create is reached only when a caller skips the probe). */
static gpointer
stub_create (const cJSON *params, GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return NULL;
}

static void
stub_destroy (gpointer state)
{
}

/* Never reached: create always fails. */
static gboolean
stub_op_time (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out_seconds,
              GError **error)
{
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, NOT_BUILT);
  return FALSE;
}

const AfdCostModelClass afd_cost_model_cuda_class = {
  .name = "cuda",
  .summary = "measures each op shape on a real GPU (not built: needs --enable-cuda)",
  .probe = stub_probe,
  .create = stub_create,
  .destroy = stub_destroy,
  .op_time = stub_op_time,
  .describe = NULL,
};
