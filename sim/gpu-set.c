/* SPDX-License-Identifier: MIT */
/*
 * gpu-set.c - simulated GPUs whose streams run ops in order (see sim/gpu-set.h).
 *
 * Ops live by value in one GArray, indexed by their id. Each stream keeps a FIFO of the ops
 * not yet started, threaded through Op.next_in_stream. A dependency "op w waits for op d" is
 * an edge in one shared GArray, threaded per d (first_waiter … last_waiter), and w counts
 * its unfinished dependencies in n_blocking. An op starts, at afd_engine_now(), as soon as
 * it is the head of its stream's FIFO, the stream is idle and n_blocking is 0: this check
 * runs when the op is enqueued, when a dependency ends and when the stream's previous op
 * ends, so every op costs O(1 + its waits). Every end goes through one engine event (fixed
 * durations at start + duration, external ones at the time afd_gpu_set_finish_op() is
 * called), so completions run in (time, sequence) order and never recurse. An external op
 * that can start at once starts inside afd_gpu_set_enqueue(), so its start callback may run
 * before enqueue returns.
 */
#include "config.h"

#include "sim/gpu-set.h"

#define NONE G_MAXUINT

/* Op states; only external ops pass through FINISHING. */
enum {
  OP_WAITING,
  OP_RUNNING,
  OP_FINISHING, /* external op whose end event is scheduled */
  OP_DONE,
};

typedef struct {
  AfdTime duration_ns; /* >= 0 or AFD_OP_DURATION_EXTERNAL */
  AfdTime start_ns;    /* -1 until started */
  AfdTime end_ns;      /* -1 until finished */
  AfdOpStartFunc on_start;
  AfdOpDoneFunc on_done;
  gpointer user_data;
  double flops;
  double bytes;
  const char *name;     /* interned in the set's string chunk; NULL when not tracing */
  const char *category; /* likewise */
  guint stream_id;      /* index into streams */
  guint n_blocking;     /* dependencies not finished yet */
  guint next_in_stream; /* next op of the same stream's FIFO, or NONE */
  guint first_waiter;   /* edges of ops waiting for this one, or NONE */
  guint last_waiter;
  guint first_wait; /* this op's own waits: wait_ids[first_wait … first_wait + n_waits) */
  guint n_waits;
  guint8 state;
} Op;

/* One "waiter waits for this op" edge. */
typedef struct {
  guint waiter;
  guint next;
} Edge;

typedef struct {
  guint gpu;
  guint index; /* on its GPU */
  guint head;  /* first op not started, or NONE */
  guint tail;
  gboolean busy;
  AfdTime busy_ns;
} Stream;

typedef struct {
  char *name;
  GArray *streams; /* of guint: global stream ids, by index on the GPU */
} Gpu;

struct _AfdGpuSet {
  AfdEngine *engine;
  AfdTraceWriter *trace;
  guint32 end_handler;
  GArray *ops;      /* of Op */
  GArray *edges;    /* of Edge */
  GArray *wait_ids; /* of guint */
  GArray *streams;  /* of Stream */
  GArray *gpus;     /* of Gpu */
  GStringChunk *names;
  guint n_unfinished;
  guint64 next_flow_id;
};

static inline Op *
op_at (const AfdGpuSet *self, guint id)
{
  return &g_array_index (self->ops, Op, id);
}

static inline Stream *
stream_at (const AfdGpuSet *self, guint id)
{
  return &g_array_index (self->streams, Stream, id);
}

static void on_op_end (AfdEngine *engine, const AfdEvent *event, gpointer user_data);

/* Frees one GPU's fields (GArray clear function). */
static void
gpu_clear (gpointer data)
{
  Gpu *gpu = data;
  g_free (gpu->name);
  g_array_unref (gpu->streams);
}

AfdGpuSet *
afd_gpu_set_new (AfdEngine *engine, AfdTraceWriter *trace)
{
  g_return_val_if_fail (engine != NULL, NULL);
  AfdGpuSet *self = g_new0 (AfdGpuSet, 1);
  self->engine = engine;
  self->trace = trace;
  self->end_handler = afd_engine_register (engine, on_op_end, self);
  self->ops = g_array_new (FALSE, FALSE, sizeof (Op));
  self->edges = g_array_new (FALSE, FALSE, sizeof (Edge));
  self->wait_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->streams = g_array_new (FALSE, FALSE, sizeof (Stream));
  self->gpus = g_array_new (FALSE, FALSE, sizeof (Gpu));
  g_array_set_clear_func (self->gpus, gpu_clear);
  self->names = g_string_chunk_new (4096);
  return self;
}

void
afd_gpu_set_free (AfdGpuSet *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->ops);
  g_array_unref (self->edges);
  g_array_unref (self->wait_ids);
  g_array_unref (self->streams);
  g_array_unref (self->gpus);
  g_string_chunk_free (self->names);
  g_free (self);
}

guint
afd_gpu_set_add_gpu (AfdGpuSet *self, const char *name)
{
  g_return_val_if_fail (self != NULL && name != NULL, NONE);
  Gpu gpu = { g_strdup (name), g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_array_append_val (self->gpus, gpu);
  guint index = self->gpus->len - 1;
  afd_trace_writer_process_name (self->trace, index, name);
  return index;
}

guint
afd_gpu_set_add_stream (AfdGpuSet *self, guint gpu, const char *name)
{
  g_return_val_if_fail (self != NULL && name != NULL, NONE);
  g_return_val_if_fail (gpu < self->gpus->len, NONE);
  Gpu *g = &g_array_index (self->gpus, Gpu, gpu);
  Stream s = { gpu, g->streams->len, NONE, NONE, FALSE, 0 };
  guint id = self->streams->len;
  g_array_append_val (self->streams, s);
  g_array_append_val (g->streams, id);
  afd_trace_writer_thread_name (self->trace, gpu, s.index, name);
  return s.index;
}

/* Starts op @id now: it is its stream's head, the stream is idle and nothing blocks it. */
static void
start_op (AfdGpuSet *self, guint id)
{
  Op *op = op_at (self, id);
  Stream *s = stream_at (self, op->stream_id);
  AfdTime now = afd_engine_now (self->engine);
  s->head = op->next_in_stream;
  if (s->head == NONE)
    s->tail = NONE;
  s->busy = TRUE;
  op->start_ns = now;
  op->state = OP_RUNNING;
  if (op->duration_ns >= 0)
    {
      AfdEvent ev = { self->end_handler, 0, id };
      afd_engine_schedule_at (self->engine, now + op->duration_ns, &ev);
    }
  else
    /* May enqueue more ops (the array may move) or finish this one: touch nothing after. */
    op->on_start (self, id, now, op->user_data);
}

/* Starts the head of stream @stream_id if it can start now. */
static void
try_start (AfdGpuSet *self, guint stream_id)
{
  Stream *s = stream_at (self, stream_id);
  if (s->busy || s->head == NONE)
    return;
  if (op_at (self, s->head)->n_blocking == 0)
    start_op (self, s->head);
}

guint
afd_gpu_set_enqueue (AfdGpuSet *self, const AfdOpSpec *spec, const guint *waits, guint n_waits)
{
  g_return_val_if_fail (self != NULL && spec != NULL, NONE);
  g_return_val_if_fail (spec->gpu < self->gpus->len, NONE);
  const Gpu *gpu = &g_array_index (self->gpus, Gpu, spec->gpu);
  g_return_val_if_fail (spec->stream < gpu->streams->len, NONE);
  g_return_val_if_fail (spec->duration_ns >= 0 || (spec->duration_ns == AFD_OP_DURATION_EXTERNAL
                                                    && spec->on_start != NULL),
                        NONE);
  g_return_val_if_fail (n_waits == 0 || waits != NULL, NONE);

  guint id = self->ops->len;
  g_return_val_if_fail (id < NONE, NONE);
  for (guint i = 0; i < n_waits; i++)
    g_return_val_if_fail (waits[i] < id, NONE);
  Op op = {
    .duration_ns = spec->duration_ns,
    .start_ns = -1,
    .end_ns = -1,
    .on_start = spec->on_start,
    .on_done = spec->on_done,
    .user_data = spec->user_data,
    .flops = spec->flops,
    .bytes = spec->bytes,
    .stream_id = g_array_index (gpu->streams, guint, spec->stream),
    .next_in_stream = NONE,
    .first_waiter = NONE,
    .last_waiter = NONE,
    .first_wait = self->wait_ids->len,
    .n_waits = n_waits,
    .state = OP_WAITING,
  };
  if (self->trace != NULL)
    {
      op.name = g_string_chunk_insert_const (self->names, spec->name != NULL ? spec->name : "op");
      op.category = g_string_chunk_insert_const (self->names,
                                                 spec->category != NULL ? spec->category : "");
    }
  for (guint i = 0; i < n_waits; i++)
    {
      guint dep = waits[i];
      g_array_append_val (self->wait_ids, dep);
      Op *d = op_at (self, dep);
      if (d->state == OP_DONE)
        continue;
      op.n_blocking++;
      Edge e = { id, NONE };
      guint edge = self->edges->len;
      g_array_append_val (self->edges, e);
      if (d->last_waiter == NONE)
        d->first_waiter = edge;
      else
        g_array_index (self->edges, Edge, d->last_waiter).next = edge;
      d->last_waiter = edge;
    }
  g_array_append_val (self->ops, op);
  self->n_unfinished++;

  Stream *s = stream_at (self, op.stream_id);
  if (s->tail == NONE)
    s->head = id;
  else
    op_at (self, s->tail)->next_in_stream = id;
  s->tail = id;
  try_start (self, op.stream_id);
  return id;
}

void
afd_gpu_set_finish_op (AfdGpuSet *self, guint op)
{
  g_return_if_fail (self != NULL && op < self->ops->len);
  Op *o = op_at (self, op);
  g_return_if_fail (o->duration_ns == AFD_OP_DURATION_EXTERNAL);
  g_return_if_fail (o->state == OP_RUNNING);
  o->state = OP_FINISHING;
  AfdEvent ev = { self->end_handler, 0, op };
  afd_engine_schedule (self->engine, 0, &ev);
}

/* Reports op @id and its cross-stream dependencies to the trace. */
static void
trace_op (AfdGpuSet *self, guint id)
{
  const Op *op = op_at (self, id);
  const Stream *s = stream_at (self, op->stream_id);
  cJSON *args = cJSON_CreateObject ();
  cJSON_AddNumberToObject (args, "op", id);
  if (op->flops > 0)
    cJSON_AddNumberToObject (args, "flops", op->flops);
  if (op->bytes > 0)
    cJSON_AddNumberToObject (args, "bytes", op->bytes);
  cJSON_AddBoolToObject (args, "external", op->duration_ns < 0);
  afd_trace_writer_complete (self->trace, s->gpu, s->index, op->name, op->category, op->start_ns,
                             op->end_ns - op->start_ns, args);
  for (guint i = 0; i < op->n_waits; i++)
    {
      const Op *dep = op_at (self, g_array_index (self->wait_ids, guint, op->first_wait + i));
      if (dep->stream_id == op->stream_id)
        continue;
      const Stream *ds = stream_at (self, dep->stream_id);
      /* Start the arrow just inside the dependency's slice so viewers bind it there. */
      AfdTime from_ns = MAX (dep->start_ns, dep->end_ns - 1);
      afd_trace_writer_flow (self->trace, self->next_flow_id++, "dep", ds->gpu, ds->index,
                             from_ns, s->gpu, s->index, op->start_ns);
    }
}

/* Engine handler: op event->arg ends now. */
static void
on_op_end (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  AfdGpuSet *self = user_data;
  guint id = (guint) event->arg;
  Op *op = op_at (self, id);
  AfdTime now = afd_engine_now (engine);
  op->end_ns = now;
  op->state = OP_DONE;
  self->n_unfinished--;
  guint stream_id = op->stream_id;
  Stream *s = stream_at (self, stream_id);
  s->busy = FALSE;
  s->busy_ns += now - op->start_ns;
  if (self->trace != NULL)
    trace_op (self, id);

  /* Release the waiters, in the order they were enqueued. Starting one may run an external
   * op's start callback, which may enqueue ops: re-read every pointer after a start. */
  for (guint e = op_at (self, id)->first_waiter; e != NONE;
       e = g_array_index (self->edges, Edge, e).next)
    {
      guint w = g_array_index (self->edges, Edge, e).waiter;
      if (--op_at (self, w)->n_blocking == 0)
        try_start (self, op_at (self, w)->stream_id);
    }
  try_start (self, stream_id);

  op = op_at (self, id);
  if (op->on_done != NULL)
    op->on_done (self, id, op->start_ns, op->end_ns, op->user_data);
}

AfdTime
afd_gpu_set_op_start (const AfdGpuSet *self, guint op)
{
  g_return_val_if_fail (self != NULL && op < self->ops->len, -1);
  return op_at (self, op)->start_ns;
}

AfdTime
afd_gpu_set_op_end (const AfdGpuSet *self, guint op)
{
  g_return_val_if_fail (self != NULL && op < self->ops->len, -1);
  return op_at (self, op)->end_ns;
}

AfdTime
afd_gpu_set_stream_busy (const AfdGpuSet *self, guint gpu, guint stream)
{
  g_return_val_if_fail (self != NULL && gpu < self->gpus->len, 0);
  const Gpu *g = &g_array_index (self->gpus, Gpu, gpu);
  g_return_val_if_fail (stream < g->streams->len, 0);
  return stream_at (self, g_array_index (g->streams, guint, stream))->busy_ns;
}

guint
afd_gpu_set_n_ops (const AfdGpuSet *self)
{
  return self->ops->len;
}

guint
afd_gpu_set_n_gpus (const AfdGpuSet *self)
{
  return self->gpus->len;
}

guint
afd_gpu_set_n_streams (const AfdGpuSet *self, guint gpu)
{
  g_return_val_if_fail (self != NULL && gpu < self->gpus->len, 0);
  return g_array_index (self->gpus, Gpu, gpu).streams->len;
}

guint
afd_gpu_set_n_unfinished (const AfdGpuSet *self)
{
  return self->n_unfinished;
}
