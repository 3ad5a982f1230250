/* SPDX-License-Identifier: MIT */
/*
 * mpi-sweep.c - the sweep's MPI transport (built with --with-mpi; sim/mpi-stub.c otherwise).
 *
 * MPI starts only when the launcher's environment says so (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
 * PMIX_RANK), so a plain `afdsim sweep` never initialises MPI. Only the main thread calls MPI
 * (MPI_THREAD_FUNNELED): ranks > 0 send each finished point's line to rank 0 as one message
 * (tag 1, the point index in the first 8 bytes, then the text); rank 0 polls for them with
 * MPI_Iprobe and writes lines in point order (sim/sweep.c). This file is the only one in sim/
 * that includes <mpi.h> (tests/check-layering.sh).
 */
#include "config.h"

#include <mpi.h>
#include <string.h>

#include "sim/error.h"
#include "sim/sweep.h"

#define LINE_TAG 1

static gboolean initialised;

/* Returns TRUE when a launcher started this process. */
static gboolean
launched (void)
{
  return g_getenv ("OMPI_COMM_WORLD_SIZE") != NULL || g_getenv ("PMI_SIZE") != NULL
         || g_getenv ("PMIX_RANK") != NULL;
}

gboolean
afd_sweep_mpi_init (guint *out_rank, guint *out_size, GError **error)
{
  *out_rank = 0;
  *out_size = 1;
  if (!launched ())
    return TRUE;
  int provided = 0, rank = 0, size = 1;
  if (MPI_Init_thread (NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED, "MPI_Init_thread failed");
      return FALSE;
    }
  initialised = TRUE;
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &size);
  *out_rank = (guint) rank;
  *out_size = (guint) size;
  return TRUE;
}

void
afd_sweep_mpi_finalize (void)
{
  if (initialised)
    MPI_Finalize ();
  initialised = FALSE;
}

gboolean
afd_sweep_mpi_built (void)
{
  return TRUE;
}

void
afd_sweep_mpi_bcast_u64 (guint64 *value)
{
  if (initialised)
    MPI_Bcast (value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
}

void
afd_sweep_mpi_send_line (guint64 index, const char *line)
{
  gsize len = strlen (line);
  g_autofree char *buf = g_malloc (8 + len);
  memcpy (buf, &index, 8);
  memcpy (buf + 8, line, len);
  MPI_Send (buf, (int) (8 + len), MPI_BYTE, 0, LINE_TAG, MPI_COMM_WORLD);
}

gboolean
afd_sweep_mpi_poll_line (guint64 *out_index, char **out_line)
{
  if (!initialised)
    return FALSE;
  int flag = 0, count = 0;
  MPI_Status st;
  MPI_Iprobe (MPI_ANY_SOURCE, LINE_TAG, MPI_COMM_WORLD, &flag, &st);
  if (!flag)
    return FALSE;
  MPI_Get_count (&st, MPI_BYTE, &count);
  g_autofree char *buf = g_malloc ((gsize) count + 1);
  MPI_Recv (buf, count, MPI_BYTE, st.MPI_SOURCE, LINE_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  g_assert (count >= 8);
  memcpy (out_index, buf, 8);
  *out_line = g_strndup (buf + 8, (gsize) count - 8);
  return TRUE;
}

void
afd_sweep_mpi_abort (void)
{
  if (initialised)
    MPI_Abort (MPI_COMM_WORLD, 1);
}
