/* SPDX-License-Identifier: MIT */
/*
 * exec-nccl-none.c - the NCCL half of real execution in a build with CUDA but without NCCL
 * (configure --enable-cuda without --with-nccl): one-GPU graphs without collectives run; any
 * graph over several GPUs fails with AFD_ERROR_BACKEND_UNAVAILABLE.
 */
#include "config.h"

#include "backends/cuda/exec-private.h"

struct _AfdExecComms {
  int unused;
};

AfdExecComms *
afd_exec_comms_new (const AfdExecPlan *plan, guint n_gpus, double timeout_s, GError **error)
{
  const AfdOpGraph *graph = afd_exec_plan_graph (plan);
  for (guint c = 0; c < afd_opgraph_n_comms (graph); c++)
    if (afd_opgraph_comm (graph, c)->n_members >= 2)
      n_gpus = MAX (n_gpus, 2u);
  if (n_gpus >= 2)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "afdsim was built without NCCL: executing a graph over %u GPUs needs "
                   "--with-nccl (docs/backends/cuda.md)", n_gpus);
      return NULL;
    }
  return g_new0 (AfdExecComms, 1);
}

void
afd_exec_comms_free (AfdExecComms *comms)
{
  g_free (comms);
}

gboolean
afd_exec_comms_barrier (AfdExecComms *comms, AfdExecGpuComm *gpus, GError **error)
{
  return TRUE;
}

gboolean
afd_exec_comms_issue (AfdExecComms *comms, guint comm, AfdExecGpuComm *gpus, GError **error)
{
  return TRUE;
}

gboolean
afd_exec_comms_check (AfdExecComms *comms, gboolean *out_busy, GError **error)
{
  *out_busy = FALSE;
  return TRUE;
}

char *
afd_exec_comms_version (void)
{
  return g_strdup ("no NCCL");
}
