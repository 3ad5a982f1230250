/* SPDX-License-Identifier: MIT */
/*
 * replay.c - runs an operator graph on AfdGpuSet streams (see sim/replay.h).
 *
 * Graph op i becomes GPU-set op i (ops are enqueued in graph order, so the ids match and every
 * wait points backwards). Comm member ops are external-duration ops: their start callback
 * counts arrivals at the collective; the last arrival starts the transfer (an engine event at
 * now + analytic duration, or the flow network's start function), and the end finishes every
 * member at the same instant.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "sim/error.h"
#include "sim/replay.h"
#include "sim/gpu-set.h"

struct _AfdReplay {
  const AfdOpGraph *graph;
  AfdEngine *engine;
  AfdReplayConfig config;
  AfdGpuSet *set;
  guint32 finish_handler;
  AfdTime *duration_ns;   /* per op (compute), -1 for comm */
  AfdTime *comm_ns;       /* per collective: analytic duration, or -1 */
  AfdTime *comm_start_ns; /* per collective: rendezvous time, -1 until then */
  guint *arrivals;        /* per collective */
  guint *prev_in_stream;  /* per op */
  gboolean ran;
  AfdTime makespan;       /* -1 until computed */
  AfdReplayGpuTimes *times; /* per GPU, computed on first use */
};

/* Prices one compute op: its fixed duration or the configured function. */
static gboolean
price_op (AfdReplay *self, guint i, GError **error)
{
  const AfdOpGraphOp *op = afd_opgraph_op (self->graph, i);
  double s = op->fixed_duration_s;
  if (s < 0)
    {
      if (self->config.op_time == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "op %u (%s on GPU %u) has no fixed duration and no cost model was given",
                       i, op->name, op->gpu);
          return FALSE;
        }
      if (!self->config.op_time (self->config.op_time_data, self->graph, i, &s, error))
        {
          g_prefix_error (error, "op %s on GPU %u: ", op->name, op->gpu);
          return FALSE;
        }
    }
  if (!isfinite (s) || s < 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                   "op %s on GPU %u: duration %g s is not a finite non-negative number",
                   op->name, op->gpu, s);
      return FALSE;
    }
  if (!afd_time_within_horizon (s))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
                   "op %s on GPU %u: duration %g s is beyond the simulated-time horizon ("
                   AFD_TIME_HORIZON_TEXT ")",
                   op->name, op->gpu, s);
      return FALSE;
    }
  self->duration_ns[i] = afd_time_from_seconds (s);
  return TRUE;
}

/*
 * The iteration's makespan is at most the sum of all its durations (some op runs at every
 * instant before the last one ends), so a sum within the horizon keeps every event time
 * within it. Reports the longest op or collective when the sum is beyond.
 */
static gboolean
check_total (AfdReplay *self, GError **error)
{
  guint n_ops = afd_opgraph_n_ops (self->graph), n_comms = afd_opgraph_n_comms (self->graph);
  AfdTime total = 0, longest = -1;
  const char *name = NULL;
  guint gpu = 0;
  gboolean is_comm = FALSE;
  for (guint i = 0; i < n_ops + n_comms; i++)
    {
      AfdTime d = i < n_ops ? self->duration_ns[i] : self->comm_ns[i - n_ops];
      if (d < 0)
        continue;
      if (d > longest)
        {
          longest = d;
          is_comm = i >= n_ops;
          if (is_comm)
            name = afd_opgraph_comm (self->graph, i - n_ops)->name;
          else
            {
              name = afd_opgraph_op (self->graph, i)->name;
              gpu = afd_opgraph_op (self->graph, i)->gpu;
            }
        }
      total = d > AFD_TIME_HORIZON_NS - total ? AFD_TIME_HORIZON_NS + 1 : total + d;
    }
  if (total <= AFD_TIME_HORIZON_NS)
    return TRUE;
  g_autofree char *what = is_comm ? g_strdup_printf ("collective %s", name)
                                  : g_strdup_printf ("op %s on GPU %u", name, gpu);
  g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
               "the iteration's op and collective durations add up to more than the "
               "simulated-time horizon (" AFD_TIME_HORIZON_TEXT "); the longest is %s, %g s",
               what, afd_time_to_seconds (longest));
  return FALSE;
}

/* Engine handler: collective event->target's transfer ends now. */
static void
on_comm_end (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  afd_replay_comm_finished (user_data, event->target);
}

/* Stream callback: a comm member op reached the head of its stream (arrival). */
static void
on_member_start (AfdGpuSet *set, guint op, AfdTime start_ns, gpointer user_data)
{
  AfdReplay *self = user_data;
  guint comm = afd_opgraph_op (self->graph, op)->comm;
  const AfdOpGraphComm *c = afd_opgraph_comm (self->graph, comm);
  if (++self->arrivals[comm] < c->n_members)
    return;
  self->comm_start_ns[comm] = start_ns;
  if (self->config.comm_start != NULL)
    self->config.comm_start (self->config.comm_start_data, self, self->graph, comm);
  else
    {
      AfdEvent ev = { self->finish_handler, comm, 0 };
      afd_engine_schedule_at (self->engine, start_ns + self->comm_ns[comm], &ev);
    }
}

void
afd_replay_comm_finished (AfdReplay *self, guint comm)
{
  g_return_if_fail (comm < afd_opgraph_n_comms (self->graph));
  const AfdOpGraphComm *c = afd_opgraph_comm (self->graph, comm);
  const guint *ops = afd_opgraph_comm_ops (self->graph, comm);
  for (guint m = 0; m < c->n_members; m++)
    afd_gpu_set_finish_op (self->set, ops[m]);
}

AfdReplay *
afd_replay_new (const AfdOpGraph *graph, AfdEngine *engine, const AfdReplayConfig *config,
                GError **error)
{
  g_return_val_if_fail (graph != NULL && engine != NULL && config != NULL, NULL);
  g_return_val_if_fail ((config->comm_time != NULL) != (config->comm_start != NULL), NULL);
  g_autoptr (AfdReplay) self = g_new0 (AfdReplay, 1);
  self->graph = graph;
  self->engine = engine;
  self->config = *config;
  guint n_ops = afd_opgraph_n_ops (graph), n_comms = afd_opgraph_n_comms (graph);
  self->duration_ns = g_new (AfdTime, n_ops);
  self->prev_in_stream = g_new (guint, n_ops);
  self->comm_ns = g_new (AfdTime, MAX (n_comms, 1));
  self->comm_start_ns = g_new (AfdTime, MAX (n_comms, 1));
  self->arrivals = g_new0 (guint, MAX (n_comms, 1));
  for (guint i = 0; i < n_ops; i++)
    {
      self->duration_ns[i] = -1;
      if (afd_opgraph_op (graph, i)->kind == AFD_OPGRAPH_COMPUTE && !price_op (self, i, error))
        return NULL;
    }
  for (guint c = 0; c < n_comms; c++)
    {
      self->comm_start_ns[c] = -1;
      self->comm_ns[c] = -1;
      if (config->comm_time == NULL)
        continue;
      double s = 0;
      if (!config->comm_time (config->comm_time_data, graph, c, &s, error))
        return NULL;
      if (!isfinite (s) || s < 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                       "collective %s: duration %g s is not finite and non-negative",
                       afd_opgraph_comm (graph, c)->name, s);
          return NULL;
        }
      if (!afd_time_within_horizon (s))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
                       "collective %s: duration %g s is beyond the simulated-time horizon ("
                       AFD_TIME_HORIZON_TEXT ")",
                       afd_opgraph_comm (graph, c)->name, s);
          return NULL;
        }
      self->comm_ns[c] = afd_time_from_seconds (s);
    }
  if (!check_total (self, error))
    return NULL;
  self->finish_handler = afd_engine_register (engine, on_comm_end, self);
  self->makespan = -1;
  return g_steal_pointer (&self);
}

void
afd_replay_free (AfdReplay *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->set, afd_gpu_set_free);
  g_free (self->duration_ns);
  g_free (self->prev_in_stream);
  g_free (self->comm_ns);
  g_free (self->comm_start_ns);
  g_free (self->arrivals);
  g_free (self->times);
  g_free (self);
}

gboolean
afd_replay_run (AfdReplay *self, GError **error)
{
  g_return_val_if_fail (!self->ran, FALSE);
  self->ran = TRUE;
  const AfdOpGraph *graph = self->graph;
  guint n_gpus = afd_opgraph_n_gpus (graph), n_ops = afd_opgraph_n_ops (graph);
  self->set = afd_gpu_set_new (self->engine, NULL);
  g_autofree guint *tails = g_new (guint, (gsize) n_gpus * AFD_OPGRAPH_N_STREAMS);
  for (guint g = 0; g < n_gpus; g++)
    {
      g_autofree char *name = g_strdup_printf ("gpu%u", g);
      afd_gpu_set_add_gpu (self->set, name);
      afd_gpu_set_add_stream (self->set, g, "compute");
      afd_gpu_set_add_stream (self->set, g, "comm");
      for (guint s = 0; s < AFD_OPGRAPH_N_STREAMS; s++)
        tails[g * AFD_OPGRAPH_N_STREAMS + s] = AFD_OPGRAPH_NONE;
    }
  const guint *deps = afd_opgraph_deps (graph);
  for (guint i = 0; i < n_ops; i++)
    {
      const AfdOpGraphOp *op = afd_opgraph_op (graph, i);
      guint *tail = &tails[op->gpu * AFD_OPGRAPH_N_STREAMS + op->stream];
      self->prev_in_stream[i] = *tail;
      *tail = i;
      AfdOpSpec spec = {
        .gpu = op->gpu,
        .stream = op->stream,
        .name = op->name,
        .flops = op->flops,
        .bytes = op->kind == AFD_OPGRAPH_COMM ? op->send_bytes : op->hbm_bytes,
      };
      if (op->kind == AFD_OPGRAPH_COMM)
        {
          spec.duration_ns = AFD_OP_DURATION_EXTERNAL;
          spec.on_start = on_member_start;
          spec.user_data = self;
          spec.category = "comm";
        }
      else
        {
          spec.duration_ns = self->duration_ns[i];
          spec.category = "compute";
        }
      guint id = afd_gpu_set_enqueue (self->set, &spec, deps + op->dep_offset, op->n_deps);
      g_assert (id == i);
    }
  afd_engine_run (self->engine, AFD_TIME_MAX, 0);
  if (afd_gpu_set_n_unfinished (self->set) > 0)
    {
      for (guint i = 0; i < n_ops; i++)
        if (afd_gpu_set_op_end (self->set, i) < 0)
          {
            const AfdOpGraphOp *op = afd_opgraph_op (graph, i);
            g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                         "replay stalled: %u ops never finished, first: op %u (%s on GPU %u)",
                         afd_gpu_set_n_unfinished (self->set), i, op->name, op->gpu);
            return FALSE;
          }
    }
  return TRUE;
}

AfdTime
afd_replay_op_start (const AfdReplay *self, guint op)
{
  return afd_gpu_set_op_start (self->set, op);
}

AfdTime
afd_replay_op_end (const AfdReplay *self, guint op)
{
  return afd_gpu_set_op_end (self->set, op);
}

AfdTime
afd_replay_comm_start (const AfdReplay *self, guint comm)
{
  g_return_val_if_fail (comm < afd_opgraph_n_comms (self->graph), -1);
  return self->comm_start_ns[comm];
}

AfdTime
afd_replay_makespan (const AfdReplay *self)
{
  if (self->makespan >= 0)
    return self->makespan;
  AfdTime end = 0;
  for (guint i = 0; i < afd_opgraph_n_ops (self->graph); i++)
    end = MAX (end, afd_gpu_set_op_end (self->set, i));
  /* A cache, not an observable change: the replay is logically const after the run. */
  ((AfdReplay *) self)->makespan = end;
  return end;
}

/* The interval an op really occupies its resource: comm ops from their rendezvous. */
static void
busy_interval (const AfdReplay *self, guint i, AfdTime *out_start, AfdTime *out_end)
{
  const AfdOpGraphOp *op = afd_opgraph_op (self->graph, i);
  *out_start = afd_gpu_set_op_start (self->set, i);
  *out_end = afd_gpu_set_op_end (self->set, i);
  if (op->kind == AFD_OPGRAPH_COMM)
    *out_start = MAX (*out_start, self->comm_start_ns[op->comm]);
}

typedef struct {
  AfdTime start, end;
} Interval;

/* qsort comparator: by start, then end. */
static int
cmp_interval (const void *a, const void *b)
{
  const Interval *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* Computes every GPU's time split in one pass over the ops (grouped by GPU). */
static void
compute_times (AfdReplay *self)
{
  const AfdOpGraph *graph = self->graph;
  guint n_gpus = afd_opgraph_n_gpus (graph), n_ops = afd_opgraph_n_ops (graph);
  AfdTime span = afd_replay_makespan (self);
  self->times = g_new0 (AfdReplayGpuTimes, n_gpus);
  /* Counting sort of the op ids by GPU keeps each GPU's ops in graph order. */
  g_autofree guint *start = g_new0 (guint, n_gpus + 1);
  g_autofree guint *by_gpu = g_new (guint, MAX (n_ops, 1u));
  for (guint i = 0; i < n_ops; i++)
    start[afd_opgraph_op (graph, i)->gpu + 1]++;
  for (guint g = 0; g < n_gpus; g++)
    start[g + 1] += start[g];
  g_autofree guint *fill = g_memdup2 (start, sizeof (guint) * (n_gpus + 1));
  for (guint i = 0; i < n_ops; i++)
    by_gpu[fill[afd_opgraph_op (graph, i)->gpu]++] = i;
  g_autoptr (GArray) iv = g_array_new (FALSE, FALSE, sizeof (Interval));
  for (guint g = 0; g < n_gpus; g++)
    {
      AfdReplayGpuTimes *out = &self->times[g];
      AfdTime compute = 0, comm = 0, wait = 0;
      g_array_set_size (iv, 0);
      for (guint k = start[g]; k < start[g + 1]; k++)
        {
          guint i = by_gpu[k];
          const AfdOpGraphOp *op = afd_opgraph_op (graph, i);
          Interval x;
          busy_interval (self, i, &x.start, &x.end);
          if (op->kind == AFD_OPGRAPH_COMPUTE)
            {
              compute += x.end - x.start;
              out->flops += op->flops;
            }
          else
            {
              comm += x.end - x.start;
              wait += x.start - afd_gpu_set_op_start (self->set, i);
            }
          if (x.end > x.start)
            g_array_append_val (iv, x);
        }
      g_array_sort (iv, cmp_interval);
      AfdTime busy = 0, cur_s = -1, cur_e = -1;
      for (guint k = 0; k < iv->len; k++)
        {
          Interval x = g_array_index (iv, Interval, k);
          if (x.start > cur_e)
            {
              busy += cur_e - cur_s;
              cur_s = x.start;
              cur_e = x.end;
            }
          else
            cur_e = MAX (cur_e, x.end);
        }
      busy += cur_e - cur_s;
      out->compute_busy_s = afd_time_to_seconds (compute);
      out->comm_busy_s = afd_time_to_seconds (comm);
      out->comm_wait_s = afd_time_to_seconds (wait);
      out->busy_s = afd_time_to_seconds (busy);
      out->idle_s = afd_time_to_seconds (span - busy);
    }
}

void
afd_replay_gpu_times (const AfdReplay *self, guint gpu, AfdReplayGpuTimes *out)
{
  g_return_if_fail (self->ran && out != NULL && gpu < afd_opgraph_n_gpus (self->graph));
  /* A cache filled on first use; the replay is logically const after the run. */
  if (self->times == NULL)
    compute_times ((AfdReplay *) self);
  *out = self->times[gpu];
}

GArray *
afd_replay_critical_path (const AfdReplay *self)
{
  GArray *path = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n_ops = afd_opgraph_n_ops (self->graph);
  if (!self->ran || n_ops == 0)
    return path;
  const guint *deps = afd_opgraph_deps (self->graph);
  guint cur = 0;
  for (guint i = 1; i < n_ops; i++)
    if (afd_gpu_set_op_end (self->set, i) > afd_gpu_set_op_end (self->set, cur))
      cur = i;
  /* Each step moves to a dependency or stream predecessor (a smaller op id) of the current op
   * or of the collective's last-arriving member, so the walk terminates. A collective is
   * listed once, by the member the walk reached. */
  while (cur != AFD_OPGRAPH_NONE)
    {
      g_array_append_val (path, cur);
      const AfdOpGraphOp *op = afd_opgraph_op (self->graph, cur);
      guint from = cur;
      if (op->kind == AFD_OPGRAPH_COMM)
        {
          /* The transfer started when its last member arrived: continue from that member. */
          const guint *members = afd_opgraph_comm_ops (self->graph, op->comm);
          const AfdOpGraphComm *c = afd_opgraph_comm (self->graph, op->comm);
          for (guint m = 0; m < c->n_members; m++)
            if (afd_gpu_set_op_start (self->set, members[m])
                > afd_gpu_set_op_start (self->set, from))
              from = members[m];
        }
      const AfdOpGraphOp *f = afd_opgraph_op (self->graph, from);
      guint best = self->prev_in_stream[from];
      AfdTime best_end = best == AFD_OPGRAPH_NONE ? -1 : afd_gpu_set_op_end (self->set, best);
      for (guint d = 0; d < f->n_deps; d++)
        {
          guint dep = deps[f->dep_offset + d];
          AfdTime e = afd_gpu_set_op_end (self->set, dep);
          if (e > best_end)
            {
              best = dep;
              best_end = e;
            }
        }
      cur = best;
    }
  /* Reverse into time order. */
  for (guint i = 0, j = path->len ? path->len - 1 : 0; i < j; i++, j--)
    {
      guint t = g_array_index (path, guint, i);
      g_array_index (path, guint, i) = g_array_index (path, guint, j);
      g_array_index (path, guint, j) = t;
    }
  return path;
}

void
afd_replay_write_trace (const AfdReplay *self, AfdTraceWriter *trace)
{
  g_return_if_fail (self->ran);
  const AfdOpGraph *graph = self->graph;
  guint n_gpus = afd_opgraph_n_gpus (graph), n_ops = afd_opgraph_n_ops (graph);
  for (guint g = 0; g < n_gpus; g++)
    {
      g_autofree char *name = g_strdup_printf ("gpu%u node%u %s", g,
                                               afd_opgraph_gpu_node (graph, g),
                                               afd_opgraph_gpu_role (graph, g));
      afd_trace_writer_process_name (trace, g, name);
      afd_trace_writer_thread_name (trace, g, AFD_OPGRAPH_STREAM_COMPUTE, "compute");
      afd_trace_writer_thread_name (trace, g, AFD_OPGRAPH_STREAM_COMM, "comm");
    }
  const guint *deps = afd_opgraph_deps (graph);
  guint64 flow_id = 1;
  for (guint i = 0; i < n_ops; i++)
    {
      const AfdOpGraphOp *op = afd_opgraph_op (graph, i);
      AfdTime s, e;
      busy_interval (self, i, &s, &e);
      cJSON *args = cJSON_CreateObject ();
      cJSON_AddNumberToObject (args, "op", i);
      if (op->layer != AFD_OPGRAPH_NONE)
        cJSON_AddNumberToObject (args, "layer", op->layer);
      cJSON_AddNumberToObject (args, "micro_batch", op->micro_batch);
      if (op->kind == AFD_OPGRAPH_COMPUTE)
        {
          cJSON_AddNumberToObject (args, "flops", op->flops);
          cJSON_AddNumberToObject (args, "hbm_bytes", op->hbm_bytes);
        }
      else
        {
          const AfdOpGraphComm *c = afd_opgraph_comm (graph, op->comm);
          cJSON_AddStringToObject (args, "pattern", afd_comm_pattern_name (c->pattern));
          cJSON_AddNumberToObject (args, "group_size", c->n_members);
          cJSON_AddNumberToObject (args, "send_bytes", op->send_bytes);
          cJSON_AddNumberToObject (args, "recv_bytes", op->recv_bytes);
          cJSON_AddNumberToObject (args, "wait_ns",
                                   (double) (s - afd_gpu_set_op_start (self->set, i)));
        }
      afd_trace_writer_complete (trace, op->gpu, op->stream, op->name,
                                 op->kind == AFD_OPGRAPH_COMM ? "comm" : "compute", s, e - s,
                                 args);
      for (guint d = 0; d < op->n_deps; d++)
        {
          const AfdOpGraphOp *dop = afd_opgraph_op (graph, deps[op->dep_offset + d]);
          if (dop->gpu == op->gpu)
            continue;
          AfdTime ds = afd_gpu_set_op_start (self->set, deps[op->dep_offset + d]);
          AfdTime de = afd_gpu_set_op_end (self->set, deps[op->dep_offset + d]);
          afd_trace_writer_flow (trace, flow_id++, "dep", dop->gpu, dop->stream,
                                 MAX (ds, de - 1), op->gpu, op->stream,
                                 afd_gpu_set_op_start (self->set, i));
        }
    }
}

/* Number of nodes a group spans and the most members any one node holds. */
static void
group_shape (const AfdReplayLinks *links, const guint *gpus, guint n, guint *out_nodes,
             guint *out_per_node)
{
  g_autoptr (GHashTable) counts = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint max = 0;
  for (guint i = 0; i < n; i++)
    {
      gpointer key = GUINT_TO_POINTER (gpus[i] / links->gpus_per_node + 1);
      guint c = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) + 1;
      g_hash_table_insert (counts, key, GUINT_TO_POINTER (c));
      max = MAX (max, c);
    }
  *out_nodes = g_hash_table_size (counts);
  *out_per_node = max;
}

gboolean
afd_replay_links_comm_time (gpointer user_data, const AfdOpGraph *graph, guint comm,
                            double *out_seconds, GError **error)
{
  const AfdReplayLinks *links = user_data;
  const AfdOpGraphComm *c = afd_opgraph_comm (graph, comm);
  const guint *gpus = afd_opgraph_comm_gpus (graph, comm);
  double n = c->n_members, S = c->bytes;
  double bi = links->intra_bandwidth_bytes_per_s, bx = links->inter_bandwidth_bytes_per_s;
  double ai = links->intra_latency_s, ax = links->inter_latency_s;
  guint nodes = 1, l = 1;
  group_shape (links, gpus, c->n_members, &nodes, &l);
  double N = nodes, L = l, t = 0;
  if (c->n_members <= 1 && c->pattern != AFD_COMM_SEND_RECV)
    {
      *out_seconds = 0;
      return TRUE;
    }
  switch (c->pattern)
    {
    case AFD_COMM_ALL_REDUCE:
    case AFD_COMM_ALL_GATHER:
    case AFD_COMM_REDUCE_SCATTER:
      {
        /* An all-reduce is a reduce-scatter plus an all-gather: each phase moves (n-1)/n·S. */
        double phases = c->pattern == AFD_COMM_ALL_REDUCE ? 2.0 : 1.0;
        if (nodes == 1)
          t = phases * (n - 1) * (ai + S / (n * bi));
        else
          t = phases * ((L - 1) * (ai + S / (L * bi)) + (N - 1) * (ax + S / (L * N * bx)));
        break;
      }
    case AFD_COMM_BROADCAST:
      t = (nodes == 1 ? ai + S / bi : ax + S / bx) + (n - 1) * (nodes == 1 ? ai : ax);
      break;
    case AFD_COMM_SEND_RECV:
      {
        gboolean same = gpus[0] / links->gpus_per_node == gpus[1] / links->gpus_per_node;
        t = same ? ai + S / bi : ax + S / bx;
        break;
      }
    case AFD_COMM_ALL_TO_ALL:
      {
        const double *p = afd_opgraph_comm_pairs (graph, comm);
        double worst = 0;
        gboolean any_inter = FALSE;
        for (guint i = 0; i < c->n_members; i++)
          {
            double io = 0, ii = 0, xo = 0, xi = 0;
            for (guint j = 0; j < c->n_members; j++)
              {
                if (i == j)
                  continue;
                double out = p ? p[(gsize) i * c->n_members + j] : S / n;
                double in = p ? p[(gsize) j * c->n_members + i] : S / n;
                if (gpus[i] / links->gpus_per_node == gpus[j] / links->gpus_per_node)
                  {
                    io += out;
                    ii += in;
                  }
                else
                  {
                    xo += out;
                    xi += in;
                  }
              }
            any_inter = any_inter || xo > 0 || xi > 0;
            worst = MAX (worst, MAX (MAX (io, ii) / bi, MAX (xo, xi) / bx));
          }
        t = worst + (any_inter ? ax : ai);
        break;
      }
    case AFD_COMM_BARRIER:
      t = nodes == 1 ? ai : ax;
      break;
    case AFD_COMM_N_PATTERNS:
      g_assert_not_reached ();
    }
  *out_seconds = t;
  return TRUE;
}
