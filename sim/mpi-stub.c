/* SPDX-License-Identifier: MIT */
/*
 * mpi-stub.c - the sweep's MPI transport when afdsim is built without --with-mpi: one rank.
 *
 * Started by mpirun/srun with several ranks, a binary without MPI refuses instead of running
 * the whole sweep once per rank (see sim/sweep.h).
 */
#include "config.h"

#include <stdlib.h>

#include "sim/error.h"
#include "sim/sweep.h"

/* Returns the number of ranks the launcher's environment announces, or 1. */
static guint
launcher_size (void)
{
  const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", NULL };
  for (guint i = 0; vars[i] != NULL; i++)
    {
      const char *v = g_getenv (vars[i]);
      if (v != NULL && atoi (v) > 1)
        return (guint) atoi (v);
    }
  return 1;
}

gboolean
afd_sweep_mpi_init (guint *out_rank, guint *out_size, GError **error)
{
  guint size = launcher_size ();
  if (size > 1)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE,
                   "started by mpirun/srun with %u ranks, but this afdsim was built without MPI "
                   "(configure --with-mpi)", size);
      return FALSE;
    }
  *out_rank = 0;
  *out_size = 1;
  return TRUE;
}

void
afd_sweep_mpi_finalize (void)
{
}

gboolean
afd_sweep_mpi_built (void)
{
  return FALSE;
}

void
afd_sweep_mpi_bcast_u64 (guint64 *value)
{
}

void
afd_sweep_mpi_send_line (guint64 index, const char *line)
{
  g_assert_not_reached (); /* only ranks > 0 send */
}

gboolean
afd_sweep_mpi_poll_line (guint64 *out_index, char **out_line)
{
  return FALSE;
}

void
afd_sweep_mpi_abort (void)
{
}
