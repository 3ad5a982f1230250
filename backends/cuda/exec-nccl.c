/* SPDX-License-Identifier: MIT */
/*
 * exec-nccl.c - the NCCL half of real execution (exec-private.h): one set of nonblocking
 * communicators per distinct group of GPUs in the graph (rank = position of the GPU in the
 * sorted group), created together, and the NCCL call of every collective pattern.
 *
 * Byte counts follow the op graph (sim/opgraph.h add_comm): all-reduce and broadcast the
 * buffer, all-gather the gathered output, reduce-scatter the input, all-to-all-v the pair
 * matrix (grouped ncclSend/ncclRecv; the diagonal stays local and is not sent), send/recv the
 * message. Reductions run on bf16, everything else on bytes (ncclUint8). One host thread
 * drives every GPU, so each collective is one ncclGroupStart/End over its members. Every wait
 * polls ncclCommGetAsyncError against a deadline. Nothing here prints.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backends/cuda/exec-private.h"

/* One group's communicators. */
typedef struct {
  guint n;
  guint *gpus;  /* sorted */
  ncclComm_t *comms;
} Group;

struct _AfdExecComms {
  const AfdExecPlan *plan;
  const AfdOpGraph *graph;
  GPtrArray *groups;   /* Group* */
  guint *comm_group;   /* collective -> index in groups */
  gint world;          /* index of the all-GPU group, -1 with one GPU */
  double timeout_s;
};

/* Frees one group (aborting its communicators). */
static void
group_free (gpointer p)
{
  Group *g = p;
  for (guint r = 0; r < g->n; r++)
    if (g->comms[r] != NULL)
      ncclCommAbort (g->comms[r]);
  g_free (g->gpus);
  g_free (g->comms);
  g_free (g);
}

/* Compares two guints for sorting. */
static int
cmp_guint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* Returns the index of the group with exactly the GPUs @gpus (sorted), adding it if new. */
static guint
group_find_or_add (AfdExecComms *self, const guint *gpus, guint n)
{
  for (guint i = 0; i < self->groups->len; i++)
    {
      const Group *g = self->groups->pdata[i];
      if (g->n == n && memcmp (g->gpus, gpus, n * sizeof (guint)) == 0)
        return i;
    }
  Group *g = g_new0 (Group, 1);
  g->n = n;
  g->gpus = g_memdup2 (gpus, n * sizeof (guint));
  g->comms = g_new0 (ncclComm_t, n);
  g_ptr_array_add (self->groups, g);
  return self->groups->len - 1;
}

/* Returns the rank of @gpu in @g. */
static int
rank_of (const Group *g, guint gpu)
{
  for (guint r = 0; r < g->n; r++)
    if (g->gpus[r] == gpu)
      return (int) r;
  return -1;
}

gboolean
afd_exec_comms_check (AfdExecComms *self, gboolean *out_busy, GError **error)
{
  *out_busy = FALSE;
  for (guint i = 0; i < self->groups->len; i++)
    {
      const Group *g = self->groups->pdata[i];
      for (guint r = 0; r < g->n; r++)
        {
          if (g->comms[r] == NULL)
            continue;
          ncclResult_t st = ncclSuccess;
          ncclResult_t q = ncclCommGetAsyncError (g->comms[r], &st);
          if (q != ncclSuccess || (st != ncclSuccess && st != ncclInProgress))
            {
              const char *last = ncclGetLastError (g->comms[r]);
              g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                           "NCCL error on GPU %u: %s%s%s", g->gpus[r],
                           ncclGetErrorString (q != ncclSuccess ? q : st),
                           last && *last ? ": " : "", last ? last : "");
              return FALSE;
            }
          *out_busy |= st == ncclInProgress;
        }
    }
  return TRUE;
}

/* Polls until no communicator is in progress, or fails at the deadline. */
static gboolean
comms_settle (AfdExecComms *self, const char *what, GError **error)
{
  gint64 deadline_us = g_get_monotonic_time () + (gint64) (self->timeout_s * 1e6);
  for (;;)
    {
      gboolean busy;
      if (!afd_exec_comms_check (self, &busy, error))
        {
          g_prefix_error (error, "%s: ", what);
          return FALSE;
        }
      if (!busy)
        return TRUE;
      if (g_get_monotonic_time () > deadline_us)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "%s: NCCL did not complete within %.0f s (timeout; communicators "
                       "aborted; check NCCL_DEBUG=WARN output and the GPUs' peer access)",
                       what, self->timeout_s);
          return FALSE;
        }
      g_usleep (20);
    }
}

AfdExecComms *
afd_exec_comms_new (const AfdExecPlan *plan, guint n_gpus, double timeout_s, GError **error)
{
  AfdExecComms *self = g_new0 (AfdExecComms, 1);
  self->plan = plan;
  self->graph = afd_exec_plan_graph (plan);
  self->timeout_s = timeout_s;
  self->groups = g_ptr_array_new_with_free_func (group_free);
  guint n_comms = afd_opgraph_n_comms (self->graph);
  self->comm_group = g_new0 (guint, MAX (n_comms, 1u));
  self->world = -1;
  g_autofree guint *all = g_new (guint, n_gpus);
  for (guint g = 0; g < n_gpus; g++)
    all[g] = g;
  if (n_gpus >= 2)
    self->world = (gint) group_find_or_add (self, all, n_gpus);
  for (guint c = 0; c < n_comms; c++)
    {
      const AfdOpGraphComm *cm = afd_opgraph_comm (self->graph, c);
      if (cm->n_members < 2)
        continue;
      g_autofree guint *sorted = g_memdup2 (afd_opgraph_comm_gpus (self->graph, c),
                                            cm->n_members * sizeof (guint));
      qsort (sorted, cm->n_members, sizeof (guint), cmp_guint);
      self->comm_group[c] = group_find_or_add (self, sorted, cm->n_members);
    }
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  for (guint i = 0; i < self->groups->len; i++)
    {
      Group *g = self->groups->pdata[i];
      ncclUniqueId id;
      AFD_NCCL_CHECK (ncclGetUniqueId (&id), error, (afd_exec_comms_free (self), NULL));
      AFD_NCCL_CHECK (ncclGroupStart (), error, (afd_exec_comms_free (self), NULL));
      for (guint r = 0; r < g->n; r++)
        {
          AFD_CUDA_CHECK (cudaSetDevice ((int) g->gpus[r]), error,
                          (ncclGroupEnd (), afd_exec_comms_free (self), NULL));
          AFD_NCCL_CHECK (ncclCommInitRankConfig (&g->comms[r], (int) g->n, id, (int) r, &config),
                          error, (ncclGroupEnd (), afd_exec_comms_free (self), NULL));
        }
      AFD_NCCL_CHECK (ncclGroupEnd (), error, (afd_exec_comms_free (self), NULL));
      if (!comms_settle (self, "NCCL communicator set-up", error))
        {
          afd_exec_comms_free (self);
          return NULL;
        }
    }
  return self;
}

void
afd_exec_comms_free (AfdExecComms *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->groups);
  g_free (self->comm_group);
  g_free (self);
}

gboolean
afd_exec_comms_barrier (AfdExecComms *self, AfdExecGpuComm *gpus, GError **error)
{
  if (self->world < 0)
    return TRUE;
  Group *g = self->groups->pdata[self->world];
  AFD_NCCL_CHECK (ncclGroupStart (), error, FALSE);
  for (guint r = 0; r < g->n; r++)
    {
      AfdExecGpuComm *gc = &gpus[g->gpus[r]];
      AFD_CUDA_CHECK (cudaSetDevice ((int) g->gpus[r]), error, (ncclGroupEnd (), FALSE));
      AFD_NCCL_CHECK (ncclAllReduce (gc->comm_send, gc->comm_recv, 2, ncclBfloat16, ncclSum,
                                     g->comms[r], gc->streams[AFD_OPGRAPH_STREAM_COMPUTE]),
                      error, (ncclGroupEnd (), FALSE));
    }
  AFD_NCCL_CHECK (ncclGroupEnd (), error, FALSE);
  return comms_settle (self, "NCCL barrier", error);
}

/* Enqueues member @i's part of collective @comm (inside an open NCCL group). */
static gboolean
issue_member (AfdExecComms *self, guint comm, guint i, const Group *grp, AfdExecGpuComm *gpus,
              GError **error)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self->graph, comm);
  const guint *members = afd_opgraph_comm_gpus (self->graph, comm);
  const guint *ops = afd_opgraph_comm_ops (self->graph, comm);
  guint gpu = members[i], n = c->n_members;
  const AfdOpGraphOp *op = afd_opgraph_op (self->graph, ops[i]);
  AfdExecGpuComm *gc = &gpus[gpu];
  cudaStream_t s = gc->streams[op->stream];
  ncclComm_t nc = grp->comms[rank_of (grp, gpu)];
  size_t bytes = (size_t) ceil (MAX (c->bytes, 0.0));
  AFD_CUDA_CHECK (cudaSetDevice ((int) gpu), error, FALSE);
  switch (c->pattern)
    {
    case AFD_COMM_ALL_REDUCE:
      AFD_NCCL_CHECK (ncclAllReduce (gc->comm_send, gc->comm_recv, MAX (bytes / 2, 1u),
                                     ncclBfloat16, ncclSum, nc, s),
                      error, FALSE);
      break;
    case AFD_COMM_BARRIER:
    case AFD_COMM_N_PATTERNS:
      AFD_NCCL_CHECK (ncclAllReduce (gc->comm_send, gc->comm_recv, 2, ncclBfloat16, ncclSum, nc,
                                     s),
                      error, FALSE);
      break;
    case AFD_COMM_ALL_GATHER:
      AFD_NCCL_CHECK (ncclAllGather (gc->comm_send, gc->comm_recv, MAX (bytes / n, 1u), ncclUint8,
                                     nc, s),
                      error, FALSE);
      break;
    case AFD_COMM_REDUCE_SCATTER:
      AFD_NCCL_CHECK (ncclReduceScatter (gc->comm_send, gc->comm_recv,
                                         MAX (bytes / 2 / n, 1u), ncclBfloat16, ncclSum, nc, s),
                      error, FALSE);
      break;
    case AFD_COMM_BROADCAST:
      AFD_NCCL_CHECK (ncclBroadcast (gc->comm_send, gc->comm_recv, MAX (bytes, 1u), ncclUint8,
                                     rank_of (grp, members[0]), nc, s),
                      error, FALSE);
      break;
    case AFD_COMM_SEND_RECV:
      if (i == 0)
        AFD_NCCL_CHECK (ncclSend (gc->comm_send, MAX (bytes, 1u), ncclUint8,
                                  rank_of (grp, members[1]), nc, s),
                        error, FALSE);
      else if (i == 1)
        AFD_NCCL_CHECK (ncclRecv (gc->comm_recv, MAX (bytes, 1u), ncclUint8,
                                  rank_of (grp, members[0]), nc, s),
                        error, FALSE);
      break;
    case AFD_COMM_ALL_TO_ALL:
      {
        const double *p = afd_opgraph_comm_pairs (self->graph, comm);
        size_t send_off = 0, recv_off = 0;
        for (guint j = 0; j < n; j++)
          {
            if (j == i)
              continue;
            size_t out = p != NULL ? (size_t) ceil (p[i * n + j]) : bytes / n;
            size_t in = p != NULL ? (size_t) ceil (p[j * n + i]) : bytes / n;
            int peer = rank_of (grp, members[j]);
            if (out > 0)
              AFD_NCCL_CHECK (ncclSend ((char *) gc->comm_send + send_off, out, ncclUint8, peer,
                                        nc, s),
                              error, FALSE);
            if (in > 0)
              AFD_NCCL_CHECK (ncclRecv ((char *) gc->comm_recv + recv_off, in, ncclUint8, peer,
                                        nc, s),
                              error, FALSE);
            send_off += out;
            recv_off += in;
          }
        break;
      }
    }
  return TRUE;
}

gboolean
afd_exec_comms_issue (AfdExecComms *self, guint comm, AfdExecGpuComm *gpus, GError **error)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self->graph, comm);
  if (c->n_members < 2)
    return TRUE;
  const Group *grp = self->groups->pdata[self->comm_group[comm]];
  AFD_NCCL_CHECK (ncclGroupStart (), error, FALSE);
  for (guint i = 0; i < c->n_members; i++)
    if (!issue_member (self, comm, i, grp, gpus, error))
      {
        ncclGroupEnd ();
        g_prefix_error (error, "collective %s: ", c->name);
        return FALSE;
      }
  AFD_NCCL_CHECK (ncclGroupEnd (), error, FALSE);
  g_autofree char *what = g_strdup_printf ("collective %s", c->name);
  return comms_settle (self, what, error);
}

char *
afd_exec_comms_version (void)
{
  int v = 0;
  if (ncclGetVersion (&v) != ncclSuccess)
    return g_strdup ("NCCL (version unknown)");
  return g_strdup_printf ("NCCL %d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
}
