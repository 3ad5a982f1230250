/* SPDX-License-Identifier: MIT */
/*
 * opgraph.c - storage of the per-iteration operator graph (see sim/opgraph.h).
 *
 * Ops and collectives live in flat arrays; dependency edges are appended as (op, dep) pairs
 * and turned into a compressed index (CSR) by afd_opgraph_finish(), so a 400k-op graph costs
 * a few tens of bytes per op. Names are interned in one string chunk.
 */
#include "config.h"

#include <string.h>

#include "sim/opgraph.h"

typedef struct {
  guint op;
  guint dep;
} Edge;

typedef struct {
  guint node;
  const char *role;
  double memory_bytes;
  guint tail;
  guint stream_tail[AFD_OPGRAPH_N_STREAMS];
} Gpu;

/* A compact all-to-all-v (afd_opgraph_add_comm_even). */
typedef struct {
  guint64 *counts;
  double unit;
  gboolean transpose;
} Even;

static void
even_free (gpointer p)
{
  Even *e = p;
  g_free (e->counts);
  g_free (e);
}

/* Fills @out (n x n, row = sender) with a compact collective's pairs, row by row: each
 * count's quotient and remainder are computed once and every write is sequential (this
 * runs for every wide all-to-all-v, 320^2 pairs in DeepSeek-V3 EP320). */
static void
even_fill (const Even *e, guint n, double *out)
{
  g_autofree double *base = g_new (double, n);
  g_autofree guint64 *rem = g_new (guint64, n);
  for (guint a = 0; a < n; a++)
    {
      base[a] = e->unit * (double) (e->counts[a] / n);
      rem[a] = e->counts[a] % n;
    }
  for (guint i = 0; i < n; i++)
    {
      double *row = out + (gsize) i * n;
      guint r = i; /* (i + j) mod n for j = 0 */
      for (guint j = 0; j < n; j++)
        {
          /* Dispatch: column j's count; combine: row i's count. */
          guint a = e->transpose ? i : j;
          row[j] = base[a] + (r < rem[a] ? e->unit : 0);
          if (++r == n)
            r = 0;
        }
    }
}

struct _AfdOpGraph {
  guint n_gpus;
  Gpu *gpus;
  GArray *ops;          /* AfdOpGraphOp */
  GArray *comms;        /* AfdOpGraphComm */
  GArray *member_gpus;  /* guint */
  GArray *member_ops;   /* guint */
  GPtrArray *pairs;     /* one n×n double block per all-to-all-v (no realloc copies) */
  GPtrArray *evens;     /* Even, one per compact all-to-all-v */
  double *scratch;      /* materialised compact matrix (afd_opgraph_comm_pairs) */
  gsize scratch_len;
  GArray *edges;        /* Edge, until finish */
  GArray *deps;         /* guint, after finish */
  GArray *payloads;     /* AfdOp by value: name interned, expert_tokens = NULL */
  GArray *payload_tokens_at; /* guint: offset of each payload's expert tokens */
  GArray *expert_tokens; /* guint64 */
  GStringChunk *strings;
  gboolean finished;
  double model_flops;
};

static const char *const pattern_names[AFD_COMM_N_PATTERNS] = {
  "all-reduce", "all-gather", "reduce-scatter", "broadcast", "all-to-all", "send-recv", "barrier",
};

const char *
afd_comm_pattern_name (AfdCommPattern pattern)
{
  g_return_val_if_fail ((guint) pattern < AFD_COMM_N_PATTERNS, NULL);
  return pattern_names[pattern];
}

AfdOpGraph *
afd_opgraph_new (guint n_gpus)
{
  g_return_val_if_fail (n_gpus > 0, NULL);
  AfdOpGraph *self = g_new0 (AfdOpGraph, 1);
  self->n_gpus = n_gpus;
  self->gpus = g_new0 (Gpu, n_gpus);
  self->strings = g_string_chunk_new (4096);
  const char *idle = g_string_chunk_insert_const (self->strings, "idle");
  for (guint g = 0; g < n_gpus; g++)
    {
      self->gpus[g].role = idle;
      self->gpus[g].tail = AFD_OPGRAPH_NONE;
      for (guint s = 0; s < AFD_OPGRAPH_N_STREAMS; s++)
        self->gpus[g].stream_tail[s] = AFD_OPGRAPH_NONE;
    }
  self->ops = g_array_new (FALSE, TRUE, sizeof (AfdOpGraphOp));
  self->comms = g_array_new (FALSE, TRUE, sizeof (AfdOpGraphComm));
  self->member_gpus = g_array_new (FALSE, FALSE, sizeof (guint));
  self->member_ops = g_array_new (FALSE, FALSE, sizeof (guint));
  self->pairs = g_ptr_array_new_with_free_func (g_free);
  self->evens = g_ptr_array_new_with_free_func (even_free);
  self->edges = g_array_new (FALSE, FALSE, sizeof (Edge));
  self->deps = g_array_new (FALSE, FALSE, sizeof (guint));
  self->payloads = g_array_new (FALSE, FALSE, sizeof (AfdOp));
  self->payload_tokens_at = g_array_new (FALSE, FALSE, sizeof (guint));
  self->expert_tokens = g_array_new (FALSE, FALSE, sizeof (guint64));
  return self;
}

void
afd_opgraph_free (AfdOpGraph *self)
{
  if (self == NULL)
    return;
  g_free (self->gpus);
  g_array_unref (self->ops);
  g_array_unref (self->comms);
  g_array_unref (self->member_gpus);
  g_array_unref (self->member_ops);
  g_ptr_array_unref (self->pairs);
  g_ptr_array_unref (self->evens);
  g_free (self->scratch);
  g_array_unref (self->edges);
  g_array_unref (self->deps);
  g_array_unref (self->payloads);
  g_array_unref (self->payload_tokens_at);
  g_array_unref (self->expert_tokens);
  g_string_chunk_free (self->strings);
  g_free (self);
}

void
afd_opgraph_set_gpu (AfdOpGraph *self, guint gpu, guint node, const char *role,
                     double memory_bytes)
{
  g_return_if_fail (gpu < self->n_gpus && role != NULL);
  self->gpus[gpu].node = node;
  self->gpus[gpu].role = g_string_chunk_insert_const (self->strings, role);
  self->gpus[gpu].memory_bytes = memory_bytes;
}

void
afd_opgraph_add_dep (AfdOpGraph *self, guint op, guint dep)
{
  g_return_if_fail (!self->finished);
  if (dep == AFD_OPGRAPH_NONE)
    return;
  g_return_if_fail (op < self->ops->len && dep < op);
  Edge e = { op, dep };
  g_array_append_val (self->edges, e);
}

/* Appends one op (compute or comm member) and updates the GPU's tails. */
static guint
append_op (AfdOpGraph *self, const AfdOpGraphOp *op)
{
  g_assert (!self->finished);
  g_assert (op->gpu < self->n_gpus && op->stream < AFD_OPGRAPH_N_STREAMS);
  guint id = self->ops->len;
  g_array_append_val (self->ops, *op);
  self->gpus[op->gpu].tail = id;
  self->gpus[op->gpu].stream_tail[op->stream] = id;
  return id;
}

guint
afd_opgraph_add_compute (AfdOpGraph *self, guint gpu, guint stream, guint layer,
                         guint micro_batch, const AfdOp *op, const guint *deps, guint n_deps)
{
  g_return_val_if_fail (self != NULL && !self->finished && op != NULL, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (gpu < self->n_gpus && stream < AFD_OPGRAPH_N_STREAMS, AFD_OPGRAPH_NONE);
  AfdOp stored = *op;
  stored.name = (char *) g_string_chunk_insert_const (self->strings, op->name);
  stored.expert_tokens = NULL;
  guint at = self->expert_tokens->len;
  if (op->expert_tokens != NULL && op->n_experts > 0)
    g_array_append_vals (self->expert_tokens, op->expert_tokens, op->n_experts);
  else
    stored.n_experts = op->expert_tokens != NULL ? op->n_experts : 0;
  guint payload = self->payloads->len;
  g_array_append_val (self->payloads, stored);
  g_array_append_val (self->payload_tokens_at, at);

  AfdOpGraphOp o = { 0 };
  o.kind = AFD_OPGRAPH_COMPUTE;
  o.gpu = gpu;
  o.stream = stream;
  o.name = stored.name;
  o.layer = layer;
  o.micro_batch = micro_batch;
  o.op_kind = op->kind;
  o.flops = op->flops;
  o.hbm_bytes = op->bytes_read + op->bytes_written;
  o.fixed_duration_s = -1;
  o.payload = payload;
  o.comm = AFD_OPGRAPH_NONE;
  guint id = append_op (self, &o);
  for (guint i = 0; i < n_deps; i++)
    afd_opgraph_add_dep (self, id, deps[i]);
  return id;
}

guint
afd_opgraph_add_fixed (AfdOpGraph *self, guint gpu, guint stream, const char *name, guint layer,
                       guint micro_batch, double duration_s, double flops, const guint *deps,
                       guint n_deps)
{
  g_return_val_if_fail (self != NULL && !self->finished && name != NULL, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (gpu < self->n_gpus && stream < AFD_OPGRAPH_N_STREAMS, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (duration_s >= 0, AFD_OPGRAPH_NONE);
  AfdOpGraphOp o = { 0 };
  o.kind = AFD_OPGRAPH_COMPUTE;
  o.gpu = gpu;
  o.stream = stream;
  o.name = g_string_chunk_insert_const (self->strings, name);
  o.layer = layer;
  o.micro_batch = micro_batch;
  o.op_kind = AFD_OP_ELEMENTWISE;
  o.flops = flops;
  o.fixed_duration_s = duration_s;
  o.payload = AFD_OPGRAPH_NONE;
  o.comm = AFD_OPGRAPH_NONE;
  guint id = append_op (self, &o);
  for (guint i = 0; i < n_deps; i++)
    afd_opgraph_add_dep (self, id, deps[i]);
  return id;
}

gboolean
afd_opgraph_compute_op (const AfdOpGraph *self, guint op, AfdOp *out_view)
{
  const AfdOpGraphOp *o = afd_opgraph_op (self, op);
  if (o == NULL || o->kind != AFD_OPGRAPH_COMPUTE || o->payload == AFD_OPGRAPH_NONE)
    return FALSE;
  *out_view = g_array_index (self->payloads, AfdOp, o->payload);
  if (out_view->n_experts > 0)
    out_view->expert_tokens = &g_array_index (
        self->expert_tokens, guint64, g_array_index (self->payload_tokens_at, guint, o->payload));
  return TRUE;
}

/* Maps a collective pattern to the AfdOp kind its member ops report. */
static AfdOpKind
pattern_op_kind (AfdCommPattern pattern)
{
  switch (pattern)
    {
    case AFD_COMM_ALL_REDUCE:
      return AFD_OP_COMM_ALL_REDUCE;
    case AFD_COMM_ALL_GATHER:
    case AFD_COMM_BROADCAST:
      return AFD_OP_COMM_ALL_GATHER;
    case AFD_COMM_REDUCE_SCATTER:
      return AFD_OP_COMM_REDUCE_SCATTER;
    case AFD_COMM_SEND_RECV:
      return AFD_OP_COMM_SEND;
    case AFD_COMM_ALL_TO_ALL:
    case AFD_COMM_BARRIER:
    case AFD_COMM_N_PATTERNS:
      break;
    }
  return AFD_OP_COMM_ALL_TO_ALL;
}

/* Adds a collective; an all-to-all-v gives either @pair_bytes (dense) or @even (compact,
 * taken over). */
static guint
add_comm (AfdOpGraph *self, AfdCommPattern pattern, const char *name, guint layer,
          guint micro_batch, const guint *gpus, guint n_members, double bytes,
          const double *pair_bytes, Even *even, const guint *member_deps, guint *out_member_ops)
{
  g_return_val_if_fail (self != NULL && !self->finished, AFD_OPGRAPH_NONE);
  g_return_val_if_fail ((guint) pattern < AFD_COMM_N_PATTERNS && n_members > 0, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (pattern != AFD_COMM_SEND_RECV || n_members == 2, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (pair_bytes == NULL || pattern == AFD_COMM_ALL_TO_ALL, AFD_OPGRAPH_NONE);
  g_return_val_if_fail (bytes >= 0, AFD_OPGRAPH_NONE);

  AfdOpGraphComm c = { 0 };
  c.pattern = pattern;
  c.name = g_string_chunk_insert_const (self->strings, name);
  c.n_members = n_members;
  c.member_offset = self->member_gpus->len;
  c.bytes = bytes;
  c.has_pairs = pair_bytes != NULL || even != NULL;
  c.pairs_even = even != NULL;
  c.pair_offset = even != NULL ? self->evens->len : self->pairs->len;
  if (even != NULL)
    {
      g_ptr_array_add (self->evens, even);
      double total = 0;
      for (guint i = 0; i < n_members; i++)
        total += (double) even->counts[i];
      c.bytes = total * even->unit;
    }
  if (pair_bytes != NULL)
    {
      g_ptr_array_add (self->pairs,
                       g_memdup2 (pair_bytes, sizeof (double) * n_members * n_members));
      double total = 0;
      for (gsize i = 0; i < (gsize) n_members * n_members; i++)
        total += pair_bytes[i];
      c.bytes = total;
    }
  guint comm = self->comms->len;
  g_array_append_val (self->comms, c);
  g_array_append_vals (self->member_gpus, gpus, n_members);

  /* All-to-all-v: every member's off-diagonal row and column sums in one pass. */
  g_autofree double *row = NULL, *col = NULL;
  if (c.has_pairs)
    {
      row = g_new0 (double, n_members);
      col = g_new0 (double, n_members);
      const double *p = pair_bytes;
      if (even != NULL)
        {
          /* Reuse the graph's scratch: materialising costs no allocation after the first. */
          gsize len = (gsize) n_members * n_members;
          if (self->scratch_len < len)
            {
              g_free (self->scratch);
              self->scratch = g_new (double, len);
              self->scratch_len = len;
            }
          even_fill (even, n_members, self->scratch);
          p = self->scratch;
        }
      for (guint i = 0; i < n_members; i++)
        for (guint j = 0; j < n_members; j++)
          if (i != j)
            {
              double v = p[(gsize) i * n_members + j];
              row[i] += v;
              col[j] += v;
            }
    }
  for (guint m = 0; m < n_members; m++)
    {
      g_return_val_if_fail (gpus[m] < self->n_gpus, AFD_OPGRAPH_NONE);
      AfdOpGraphOp op = { 0 };
      op.kind = AFD_OPGRAPH_COMM;
      op.gpu = gpus[m];
      op.stream = AFD_OPGRAPH_STREAM_COMM;
      op.name = c.name;
      op.layer = layer;
      op.micro_batch = micro_batch;
      op.op_kind = pattern_op_kind (pattern);
      op.fixed_duration_s = -1;
      op.payload = AFD_OPGRAPH_NONE;
      op.comm = comm;
      op.member = m;
      if (c.has_pairs)
        {
          op.send_bytes = row[m];
          op.recv_bytes = col[m];
        }
      else
        afd_opgraph_member_bytes (self, comm, m, &op.send_bytes, &op.recv_bytes);
      guint id = append_op (self, &op);
      g_array_append_val (self->member_ops, id);
      if (member_deps != NULL)
        afd_opgraph_add_dep (self, id, member_deps[m]);
      if (out_member_ops != NULL)
        out_member_ops[m] = id;
    }
  return comm;
}

guint
afd_opgraph_add_comm (AfdOpGraph *self, AfdCommPattern pattern, const char *name, guint layer,
                      guint micro_batch, const guint *gpus, guint n_members, double bytes,
                      const double *pair_bytes, const guint *member_deps, guint *out_member_ops)
{
  return add_comm (self, pattern, name, layer, micro_batch, gpus, n_members, bytes, pair_bytes,
                   NULL, member_deps, out_member_ops);
}

guint
afd_opgraph_add_comm_even (AfdOpGraph *self, const char *name, guint layer, guint micro_batch,
                           const guint *gpus, guint n_members, const guint64 *counts,
                           double unit_bytes, gboolean transpose, const guint *member_deps,
                           guint *out_member_ops)
{
  g_return_val_if_fail (counts != NULL && n_members > 0 && unit_bytes >= 0, AFD_OPGRAPH_NONE);
  Even *e = g_new (Even, 1);
  e->counts = g_memdup2 (counts, sizeof (guint64) * n_members);
  e->unit = unit_bytes;
  e->transpose = transpose;
  return add_comm (self, AFD_COMM_ALL_TO_ALL, name, layer, micro_batch, gpus, n_members, 0, NULL,
                   e, member_deps, out_member_ops);
}

guint
afd_opgraph_gpu_tail (const AfdOpGraph *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->n_gpus, AFD_OPGRAPH_NONE);
  return self->gpus[gpu].tail;
}

guint
afd_opgraph_stream_tail (const AfdOpGraph *self, guint gpu, guint stream)
{
  g_return_val_if_fail (gpu < self->n_gpus && stream < AFD_OPGRAPH_N_STREAMS, AFD_OPGRAPH_NONE);
  return self->gpus[gpu].stream_tail[stream];
}

void
afd_opgraph_finish (AfdOpGraph *self)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  guint n = self->ops->len;
  AfdOpGraphOp *ops = (AfdOpGraphOp *) self->ops->data;
  /* Counting sort of the edges by op keeps each op's deps in the order they were added. */
  for (guint i = 0; i < self->edges->len; i++)
    ops[g_array_index (self->edges, Edge, i).op].n_deps++;
  guint offset = 0;
  for (guint i = 0; i < n; i++)
    {
      ops[i].dep_offset = offset;
      offset += ops[i].n_deps;
      ops[i].n_deps = 0;
    }
  g_array_set_size (self->deps, offset);
  guint *deps = (guint *) self->deps->data;
  for (guint i = 0; i < self->edges->len; i++)
    {
      Edge e = g_array_index (self->edges, Edge, i);
      deps[ops[e.op].dep_offset + ops[e.op].n_deps++] = e.dep;
    }
  g_array_set_size (self->edges, 0);
}

guint
afd_opgraph_n_gpus (const AfdOpGraph *self)
{
  return self->n_gpus;
}

gboolean *
afd_opgraph_gpus_used (const AfdOpGraph *self, guint *out_n_used)
{
  gboolean *used = g_new0 (gboolean, MAX (self->n_gpus, 1u));
  guint n_used = 0;
  for (guint o = 0; o < self->ops->len; o++)
    {
      guint g = afd_opgraph_op (self, o)->gpu;
      n_used += used[g] ? 0 : 1;
      used[g] = TRUE;
    }
  if (out_n_used != NULL)
    *out_n_used = n_used;
  return used;
}

guint
afd_opgraph_n_ops (const AfdOpGraph *self)
{
  return self->ops->len;
}

guint
afd_opgraph_n_comms (const AfdOpGraph *self)
{
  return self->comms->len;
}

const AfdOpGraphOp *
afd_opgraph_op (const AfdOpGraph *self, guint op)
{
  g_return_val_if_fail (op < self->ops->len, NULL);
  return &g_array_index (self->ops, AfdOpGraphOp, op);
}

const AfdOpGraphComm *
afd_opgraph_comm (const AfdOpGraph *self, guint comm)
{
  g_return_val_if_fail (comm < self->comms->len, NULL);
  return &g_array_index (self->comms, AfdOpGraphComm, comm);
}

const guint *
afd_opgraph_deps (const AfdOpGraph *self)
{
  g_return_val_if_fail (self->finished, NULL);
  return (const guint *) self->deps->data;
}

const guint *
afd_opgraph_comm_gpus (const AfdOpGraph *self, guint comm)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self, comm);
  return &g_array_index (self->member_gpus, guint, c->member_offset);
}

const guint *
afd_opgraph_comm_ops (const AfdOpGraph *self, guint comm)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self, comm);
  return &g_array_index (self->member_ops, guint, c->member_offset);
}

const double *
afd_opgraph_comm_pairs (const AfdOpGraph *self, guint comm)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self, comm);
  if (!c->has_pairs)
    return NULL;
  if (!c->pairs_even)
    return g_ptr_array_index (self->pairs, c->pair_offset);
  /* Materialise into the graph's one scratch buffer (a cache: the graph stays logically
   * const). */
  AfdOpGraph *mut = (AfdOpGraph *) self;
  gsize n = c->n_members, len = n * n;
  if (mut->scratch_len < len)
    {
      g_free (mut->scratch);
      mut->scratch = g_new (double, len);
      mut->scratch_len = len;
    }
  even_fill (g_ptr_array_index (self->evens, c->pair_offset), (guint) n, mut->scratch);
  return mut->scratch;
}

guint
afd_opgraph_gpu_node (const AfdOpGraph *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->n_gpus, 0);
  return self->gpus[gpu].node;
}

const char *
afd_opgraph_gpu_role (const AfdOpGraph *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->n_gpus, NULL);
  return self->gpus[gpu].role;
}

double
afd_opgraph_gpu_memory (const AfdOpGraph *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->n_gpus, 0);
  return self->gpus[gpu].memory_bytes;
}

void
afd_opgraph_member_bytes (const AfdOpGraph *self, guint comm, guint member,
                          double *out_send_bytes, double *out_recv_bytes)
{
  const AfdOpGraphComm *c = afd_opgraph_comm (self, comm);
  g_return_if_fail (member < c->n_members);
  double n = c->n_members, s = c->bytes, send = 0, recv = 0;
  switch (c->pattern)
    {
    case AFD_COMM_ALL_REDUCE:
      send = recv = n > 1 ? 2.0 * (n - 1) / n * s : 0;
      break;
    case AFD_COMM_ALL_GATHER:
    case AFD_COMM_REDUCE_SCATTER:
      send = recv = n > 1 ? (n - 1) / n * s : 0;
      break;
    case AFD_COMM_BROADCAST:
      /* Pipelined ring from the root: every member but the last forwards S, all but the root
       * receive S; summed, sends = receives = (n-1)·S. */
      send = member + 1 < c->n_members ? s : 0;
      recv = member > 0 ? s : 0;
      break;
    case AFD_COMM_ALL_TO_ALL:
      if (c->has_pairs)
        {
          const double *p = afd_opgraph_comm_pairs (self, comm);
          for (guint j = 0; j < c->n_members; j++)
            if (j != member)
              {
                send += p[(gsize) member * c->n_members + j];
                recv += p[(gsize) j * c->n_members + member];
              }
        }
      else
        send = recv = n > 1 ? s * (n - 1) / n : 0;
      break;
    case AFD_COMM_SEND_RECV:
      send = member == 0 ? s : 0;
      recv = member == 1 ? s : 0;
      break;
    case AFD_COMM_BARRIER:
    case AFD_COMM_N_PATTERNS:
      break;
    }
  if (out_send_bytes != NULL)
    *out_send_bytes = send;
  if (out_recv_bytes != NULL)
    *out_recv_bytes = recv;
}

double
afd_opgraph_total_flops (const AfdOpGraph *self, AfdOpKind kind)
{
  double total = 0;
  for (guint i = 0; i < self->ops->len; i++)
    {
      const AfdOpGraphOp *op = &g_array_index (self->ops, AfdOpGraphOp, i);
      if (op->kind == AFD_OPGRAPH_COMPUTE && (kind == AFD_OP_KIND_COUNT || op->op_kind == kind))
        total += op->flops;
    }
  return total;
}

void
afd_opgraph_set_model_flops (AfdOpGraph *self, double flops)
{
  self->model_flops = flops;
}

double
afd_opgraph_get_model_flops (const AfdOpGraph *self)
{
  return self->model_flops;
}
