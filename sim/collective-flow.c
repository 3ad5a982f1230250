/* SPDX-License-Identifier: MIT */
/*
 * collective-flow.c - collectives as flows on an AfdNetsim (docs/models/collectives.md).
 *
 * The tuner of sim/collective.c picks the algorithm and protocol; this file turns the choice
 * into flows:
 *   ring      C channels; channel c orders each node's members rotated by c × (members / C),
 *             so each channel leaves a node through a different GPU and NIC. Step k of rank r starts when
 *             r has received step k-1 and its own step k-1 has drained (NCCL's ring steps).
 *   chain     broadcast/reduce: the buffer in chunks, pipelined along the ring order.
 *   direct    all-to-all(-v): each rank walks its NVLink peers and its network peers as two
 *             concurrent sequences (peer r+1, r+2, …), one flow in flight per sequence.
 *   two-stage one flow per peer node to the GPU of the same local index, which forwards each
 *             piece over NVLink when it arrives (DeepEP-style node-limited dispatch).
 *   hierarchical  three phases: intra-node ring RS, inter-node ring AR per local index,
 *             intra-node ring AG.
 * Wire bytes = payload / (protocol factor × tier efficiency × the tuner's bandwidth fraction:
 * NCCL's LL/LL128/tree caps and channel reduction); each flow adds the NCCL per-step latency
 * of its tier (across nodes at least the network overhead) to the route latency. The
 * collective's base latency delays its start.
 *   tree      double binary tree: per tree half the buffer in pipelined chunks, reduced up to
 *             the root (a vertex forwards chunk j once every child's chunk j has arrived) and
 *             broadcast back down.
 * NVLS and NVLS-Tree take their analytic time as one delay (TODO(#3): in-switch reduction
 * as flows).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/collective-private.h"
#include "sim/error.h"

typedef struct _Coll Coll;

typedef enum {
  UNIT_TIMER = 0, /* a delay; done at delivery */
  UNIT_RING,
  UNIT_CHAIN,
  UNIT_PAIRWISE,
  UNIT_TREE,
} UnitKind;

#define TREES 2     /* NCCL's double binary tree: each tree carries half the buffer */
#define TREE_KIDS 3 /* at most: the next GPU of the node's chain + two child nodes */

typedef struct {
  UnitKind kind;
  Coll *coll;
  guint64 expected; /* deliveries that complete the unit */
  guint64 delivered;
  /* ring / chain */
  guint m;          /* members */
  guint channels;
  guint nsteps;     /* ring steps, or chain chunks */
  double chunk;     /* payload bytes per step per channel, or per chunk */
  guint *orders;    /* channels × m GPU ids */
  guint *started;   /* channels × m */
  guint *sent;      /* channels × m */
  guint *received;  /* channels × m */
  double last_chunk; /* chain: payload of the last chunk */
  /* pairwise (all-to-all direct / two-stage) */
  gboolean two_stage;
  guint *local;      /* per rank: its index in its node */
  guint *seq_e;      /* per rank × 2: the next step of each sequence (see next_peer()) */
  guint *seq_d;      /* per rank: the network sequence's node offset */
  GQueue *forward;    /* per rank: pending forwards (packed src<<32 | dst) */
  gboolean *fwd_busy; /* per rank */
  /* tree (all-reduce): per tree t and ring position i, index [t * m + i] */
  guint *parent;      /* position of the parent, G_MAXUINT at the root */
  guint *kids;        /* [(t * m + i) * TREE_KIDS + c] positions of the children */
  guint *n_kids;
  guint *up_have;     /* [(t * m + i) * nsteps + j]: children's chunk j received */
  guint *up_next;     /* next chunk to send to the parent */
  gboolean *up_busy;
  guint *down_have;   /* chunks available to send down (root: fully reduced ones) */
  guint *down_next;   /* [(t * m + i) * TREE_KIDS + c] */
  gboolean *down_busy;
} Unit;

struct _Coll {
  AfdNetsim *sim;
  AfdNetwork *network;
  AfdCollectiveParams p;
  AfdCollectiveChoice choice;
  AfdCollective c;  /* group and matrix point into owned copies */
  guint *group;
  double *matrix;       /* all-to-all-v only */
  double uniform_bytes; /* all-to-all: S / n per pair */
  AfdGroupInfo g;
  double analytic_s;
  AfdCollectiveDoneFunc done;
  gpointer user_data;
  guint phase;
  guint pending; /* units of the current phase not yet done */
  GPtrArray *units;
};

static void start_phase (Coll *co);

/* Payload bytes from position @i to position @j of an all-to-all(-v). A uniform all-to-all
 * keeps no matrix (n² doubles would dominate memory and cache at a thousand GPUs). */
static inline double
pair_bytes (const Coll *co, guint i, guint j)
{
  if (i == j)
    return 0;
  return co->matrix != NULL ? co->matrix[(gsize) i * co->g.n + j] : co->uniform_bytes;
}

static void
unit_free (gpointer data)
{
  Unit *u = data;
  g_free (u->orders);
  g_free (u->started);
  g_free (u->sent);
  g_free (u->received);
  g_free (u->local);
  g_free (u->seq_e);
  g_free (u->seq_d);
  if (u->forward != NULL)
    for (guint i = 0; i < u->m; i++)
      g_queue_clear (&u->forward[i]);
  g_free (u->forward);
  g_free (u->fwd_busy);
  g_free (u->parent);
  g_free (u->kids);
  g_free (u->n_kids);
  g_free (u->up_have);
  g_free (u->up_next);
  g_free (u->up_busy);
  g_free (u->down_have);
  g_free (u->down_next);
  g_free (u->down_busy);
  g_free (u);
}

static void
coll_free (Coll *co)
{
  g_ptr_array_unref (co->units);
  afd_group_info_clear (&co->g);
  g_free (co->group);
  g_free (co->matrix);
  g_free (co);
}

/* Wire bytes and extra latency of a payload from GPU @a to GPU @b in @row's tier table. */
static void
wire (Coll *co, AfdCollectiveAlgo row, guint a, guint b, double payload, double *out_bytes,
      double *out_extra_s)
{
  const AfdCollectiveParams *p = &co->p;
  AfdProtocol proto = co->choice.proto;
  /* Generated and validated clusters route intra-node pairs over NVLink only. */
  const AfdCluster *c = afd_network_cluster (co->network);
  gboolean out = afd_cluster_gpu_node (c, a) != afd_cluster_gpu_node (c, b);
  double eff = out ? p->scale_out_efficiency : p->scale_up_efficiency;
  /* NCCL's bandwidth caps and channel reduction (the tuner's fraction) slow the wire alike. */
  double frac = co->choice.bandwidth_fraction > 0 ? co->choice.bandwidth_fraction : 1.0;
  *out_bytes = payload / (p->protocol_factor[proto] * eff * frac);
  *out_extra_s = out ? p->inter_latency_s[row][proto] : p->intra_latency_s[row][proto];
  if (!out && row == AFD_ALGO_RING && co->g.nodes > 1)
    *out_extra_s = MAX (*out_extra_s,
                        p->net_overhead_s * (proto == AFD_PROTO_SIMPLE ? 3 : 1));
}

static void on_flow (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data, guint64 tag);

/* Marks a unit done; advances the phase when it was the last. */
static void
unit_done (Unit *u)
{
  Coll *co = u->coll;
  g_assert (co->pending > 0);
  if (--co->pending > 0)
    return;
  co->phase++;
  start_phase (co);
}

/* Counts one delivery of @u. */
static void
unit_delivered (Unit *u)
{
  if (++u->delivered == u->expected)
    unit_done (u);
}

/* Tag layout for ring/chain flows: channel (12 bits) | position (26) | step (26). */
static guint64
pack (guint channel, guint pos, guint step)
{
  return ((guint64) channel << 52) | ((guint64) pos << 26) | step;
}

/* Starts every ring step that is ready at position @pos of channel @ch. */
static void
ring_try (Unit *u, guint ch, guint pos)
{
  Coll *co = u->coll;
  guint i = ch * u->m + pos;
  while (u->started[i] < u->nsteps && u->started[i] == u->sent[i]
         && u->received[i] >= u->started[i])
    {
      guint a = u->orders[i], b = u->orders[ch * u->m + (pos + 1) % u->m];
      double bytes, extra;
      wire (co, AFD_ALGO_RING, a, b, u->chunk, &bytes, &extra);
      guint step = u->started[i]++;
      afd_netsim_start_transfer (co->sim, a, b, bytes, extra, TRUE, on_flow, u,
                                 pack (ch, pos, step));
    }
}

/* Starts every chain chunk of channel @ch ready at hop @pos (order[pos] -> order[pos+1]). */
static void
chain_try (Unit *u, guint ch, guint pos)
{
  Coll *co = u->coll;
  guint i = ch * u->m + pos;
  while (u->started[i] < u->nsteps && u->started[i] == u->sent[i]
         && u->received[i] > u->started[i])
    {
      guint chunk = u->started[i]++;
      double payload = chunk + 1 == u->nsteps ? u->last_chunk : u->chunk;
      double bytes, extra;
      wire (co, AFD_ALGO_RING, u->orders[i], u->orders[i + 1], payload, &bytes, &extra);
      afd_netsim_start_transfer (co->sim, u->orders[i], u->orders[i + 1], bytes, extra, TRUE,
                                 on_flow, u, pack (ch, pos, chunk));
    }
}

/* The next peer of rank @r's sequence @s (0: NVLink peers, 1: network peers), advancing it;
 * FALSE when the sequence is done. Shifted orders: at step e of the NVLink sequence rank
 * (A, l) targets (A, l+e); at step (d, e) of the network sequence it targets (A+d, l+e)
 * (two-stage: one message per peer node, to the GPU of the same local index). Every step is
 * then a permutation, so no receiver is targeted twice at once (no incast by schedule).
 * Pairs without bytes (nodes without bytes, two-stage) are skipped. Computed on the fly: a
 * stored n² peer list cost a cache miss per flow at thousands of GPUs. */
static gboolean
next_peer (Unit *u, guint r, guint s, guint *out_peer)
{
  const Coll *co = u->coll;
  const AfdGroupInfo *g = &co->g;
  guint A = g->node_of[r], l = u->local[r];
  if (s == 0)
    {
      guint cnt_a = g->node_start[A + 1] - g->node_start[A];
      for (guint *e = &u->seq_e[2 * r]; *e < cnt_a; (*e)++)
        {
          guint j = g->order[g->node_start[A] + (l + *e) % cnt_a];
          if (pair_bytes (co, r, j) > 0)
            {
              (*e)++;
              *out_peer = j;
              return TRUE;
            }
        }
      return FALSE;
    }
  guint *d = &u->seq_d[r], *e = &u->seq_e[2 * r + 1];
  for (; *d < g->nodes; (*d)++, *e = 0)
    {
      guint B = (A + *d) % g->nodes, lo = g->node_start[B];
      guint cnt_b = g->node_start[B + 1] - lo;
      if (u->two_stage)
        {
          if (*e > 0)
            continue;
          double sum = 0;
          for (guint q = lo; q < lo + cnt_b; q++)
            sum += pair_bytes (co, r, g->order[q]);
          if (sum <= 0)
            continue;
          *e = 1;
          *out_peer = g->order[lo + l % cnt_b];
          return TRUE;
        }
      for (; *e < cnt_b; (*e)++)
        {
          guint j = g->order[lo + (l + *e) % cnt_b];
          if (pair_bytes (co, r, j) > 0)
            {
              (*e)++;
              *out_peer = j;
              return TRUE;
            }
        }
    }
  return FALSE;
}

/* Starts the next flow of rank @r's sequence @s (0: NVLink peers, 1: network peers). */
static void
pairwise_next (Unit *u, guint r, guint s)
{
  Coll *co = u->coll;
  guint peer;
  if (!next_peer (u, r, s, &peer))
    return;
  guint a = co->group[r], b = co->group[peer];
  double payload;
  if (u->two_stage && s == 1)
    {
      /* Everything for the peer's node goes to the peer, which forwards it. */
      payload = 0;
      for (guint j = co->g.node_start[co->g.node_of[peer]];
           j < co->g.node_start[co->g.node_of[peer] + 1]; j++)
        payload += pair_bytes (co, r, co->g.order[j]);
    }
  else
    payload = pair_bytes (co, r, peer);
  double bytes, extra;
  wire (co, AFD_ALGO_DIRECT, a, b, payload, &bytes, &extra);
  afd_netsim_start_transfer (co->sim, a, b, bytes, 0, TRUE, on_flow, u,
                             ((guint64) s << 62) | ((guint64) r << 31) | peer);
}

/* Starts rank @r's next queued NVLink forward (two-stage), one at a time. */
static void
forward_next (Unit *u, guint r)
{
  Coll *co = u->coll;
  if (u->fwd_busy[r] || g_queue_is_empty (&u->forward[r]))
    return;
  guint64 item = GPOINTER_TO_SIZE (g_queue_pop_head (&u->forward[r]));
  guint src = (guint) (item >> 32), dst = (guint) (item & 0xffffffffu);
  double bytes, extra;
  wire (co, AFD_ALGO_DIRECT, co->group[r], co->group[dst], pair_bytes (co, src, dst), &bytes,
        &extra);
  u->fwd_busy[r] = TRUE;
  afd_netsim_start_transfer (co->sim, co->group[r], co->group[dst], bytes, 0, TRUE, on_flow, u,
                             (G_GUINT64_CONSTANT (2) << 62) | ((guint64) r << 31) | dst);
}

/* Tree tags: direction (1 bit: 0 up, 1 down) | tree instance (9) | position (24) | kid (2) |
 * chunk (28). */
static guint64
tree_tag (guint down, guint t, guint pos, guint kid, guint chunk)
{
  return ((guint64) down << 63) | ((guint64) t << 54) | ((guint64) pos << 30)
         | ((guint64) kid << 28) | chunk;
}

/* Sends every ready chunk of tree @t from position @i to its parent (one at a time). */
static void
tree_try_up (Unit *u, guint t, guint i)
{
  Coll *co = u->coll;
  guint ti = t * u->m + i;
  if (u->parent[ti] == G_MAXUINT)
    return;
  while (!u->up_busy[ti] && u->up_next[ti] < u->nsteps
         && u->up_have[(gsize) ti * u->nsteps + u->up_next[ti]] == u->n_kids[ti])
    {
      guint j = u->up_next[ti]++;
      guint a = u->orders[i], b = u->orders[u->parent[ti]];
      double bytes, extra;
      wire (co, AFD_ALGO_TREE, a, b, u->chunk / co->p.tree_efficiency, &bytes, &extra);
      u->up_busy[ti] = TRUE;
      afd_netsim_start_transfer (co->sim, a, b, bytes, extra, TRUE, on_flow, u,
                                 tree_tag (0, t, i, 0, j));
    }
}

/* Sends every available chunk of tree @t from position @i down to each child. */
static void
tree_try_down (Unit *u, guint t, guint i)
{
  Coll *co = u->coll;
  guint ti = t * u->m + i;
  for (guint c = 0; c < u->n_kids[ti]; c++)
    {
      guint k = ti * TREE_KIDS + c;
      while (!u->down_busy[k] && u->down_next[k] < u->down_have[ti])
        {
          guint j = u->down_next[k]++;
          guint a = u->orders[i], b = u->orders[u->kids[k]];
          double bytes, extra;
          wire (co, AFD_ALGO_TREE, a, b, u->chunk / co->p.tree_efficiency, &bytes, &extra);
          u->down_busy[k] = TRUE;
          afd_netsim_start_transfer (co->sim, a, b, bytes, extra, TRUE, on_flow, u,
                                     tree_tag (1, t, i, c, j));
        }
    }
}

/* A tree chunk event: @stage of the flow tagged @tag. */
static void
tree_event (Unit *u, AfdTransferStage stage, guint64 tag)
{
  guint down = (guint) (tag >> 63), t = (guint) ((tag >> 54) & 511);
  guint i = (guint) ((tag >> 30) & ((1u << 24) - 1)), c = (guint) ((tag >> 28) & 3);
  guint j = (guint) (tag & ((1u << 28) - 1));
  guint ti = t * u->m + i;
  if (stage == AFD_TRANSFER_SENT)
    {
      if (down)
        {
          u->down_busy[ti * TREE_KIDS + c] = FALSE;
          tree_try_down (u, t, i);
        }
      else
        {
          u->up_busy[ti] = FALSE;
          tree_try_up (u, t, i);
        }
      return;
    }
  if (down)
    {
      guint q = u->kids[ti * TREE_KIDS + c];
      u->down_have[t * u->m + q]++;
      tree_try_down (u, t, q);
    }
  else
    {
      guint p = u->parent[ti], tp = t * u->m + p;
      u->up_have[(gsize) tp * u->nsteps + j]++;
      if (u->parent[tp] == G_MAXUINT)
        {
          /* The root: chunks complete in order (each child sends in order). */
          while (u->down_have[tp] < u->nsteps
                 && u->up_have[(gsize) tp * u->nsteps + u->down_have[tp]] == u->n_kids[tp])
            u->down_have[tp]++;
          tree_try_down (u, t, p);
        }
      else
        tree_try_up (u, t, p);
    }
  unit_delivered (u);
}

/* The callback of every flow a collective starts. */
static void
on_flow (AfdNetsim *sim, AfdTransferStage stage, gpointer user_data, guint64 tag)
{
  Unit *u = user_data;
  switch (u->kind)
    {
    case UNIT_TIMER:
      if (stage == AFD_TRANSFER_DELIVERED)
        unit_delivered (u);
      break;
    case UNIT_RING:
      {
        guint ch = (guint) (tag >> 52), pos = (guint) ((tag >> 26) & ((1u << 26) - 1));
        if (stage == AFD_TRANSFER_SENT)
          {
            u->sent[ch * u->m + pos]++;
            ring_try (u, ch, pos);
          }
        else
          {
            guint next = (pos + 1) % u->m;
            u->received[ch * u->m + next]++;
            ring_try (u, ch, next);
            unit_delivered (u);
          }
        break;
      }
    case UNIT_CHAIN:
      {
        guint ch = (guint) (tag >> 52), pos = (guint) ((tag >> 26) & ((1u << 26) - 1));
        if (stage == AFD_TRANSFER_SENT)
          {
            u->sent[ch * u->m + pos]++;
            chain_try (u, ch, pos);
          }
        else
          {
            u->received[ch * u->m + pos + 1]++;
            if (pos + 2 < u->m)
              chain_try (u, ch, pos + 1);
            unit_delivered (u);
          }
        break;
      }
    case UNIT_TREE:
      tree_event (u, stage, tag);
      break;
    case UNIT_PAIRWISE:
      {
        guint s = (guint) (tag >> 62), r = (guint) ((tag >> 31) & 0x7fffffffu);
        guint peer = (guint) (tag & 0x7fffffffu);
        if (stage == AFD_TRANSFER_SENT)
          {
            if (s == 2)
              {
                u->fwd_busy[r] = FALSE;
                forward_next (u, r);
              }
            else
              pairwise_next (u, r, s);
            break;
          }
        if (u->two_stage && s == 1)
          {
            /* The peer forwards the pieces for its node-mates. */
            guint nd = u->coll->g.node_of[peer];
            for (guint j = u->coll->g.node_start[nd]; j < u->coll->g.node_start[nd + 1]; j++)
              {
                guint dst = u->coll->g.order[j];
                if (dst != peer && pair_bytes (u->coll, r, dst) > 0)
                  g_queue_push_tail (&u->forward[peer],
                                     GSIZE_TO_POINTER (((guint64) r << 32) | dst));
              }
            forward_next (u, peer);
          }
        unit_delivered (u);
        break;
      }
    }
}

/* Allocates a unit of @kind attached to @co's current phase. */
static Unit *
unit_new (Coll *co, UnitKind kind)
{
  Unit *u = g_new0 (Unit, 1);
  u->kind = kind;
  u->coll = co;
  g_ptr_array_add (co->units, u);
  co->pending++;
  return u;
}

/* A ring over @m GPUs in @order (per-channel rotation inside nodes), @nsteps steps of @chunk. */
static Unit *
ring_unit (Coll *co, const guint *gpus, guint m, guint channels, guint nsteps, double chunk)
{
  const AfdCluster *c = afd_network_cluster (co->network);
  Unit *u = unit_new (co, UNIT_RING);
  u->m = m;
  u->channels = channels;
  u->nsteps = nsteps;
  u->chunk = chunk;
  u->orders = g_new (guint, (gsize) channels * m);
  u->started = g_new0 (guint, (gsize) channels * m);
  u->sent = g_new0 (guint, (gsize) channels * m);
  u->received = g_new0 (guint, (gsize) channels * m);
  u->expected = (guint64) channels * m * nsteps;
  for (guint ch = 0; ch < channels; ch++)
    {
      /* Rotate each node's run of GPUs by ch so each channel crosses nodes elsewhere. */
      guint i = 0;
      while (i < m)
        {
          guint j = i;
          while (j < m && afd_cluster_gpu_node (c, gpus[j]) == afd_cluster_gpu_node (c, gpus[i]))
            j++;
          /* Spread the channels' starting GPUs evenly, so that with fewer NICs than GPUs
           * (several GPUs per NIC) every channel still crosses through its own NIC. */
          guint len = j - i, stride = MAX (1u, len / channels);
          for (guint k = 0; k < len; k++)
            u->orders[ch * m + i + k] = gpus[i + (k + ch * stride) % len];
          i = j;
        }
    }
  return u;
}

/* Double binary trees over the group, one pair per channel: inside each node a chain toward
 * the node's leader (channel c's leader is the member c × (members / channels), so channels
 * leave a node through different GPUs and NICs); across nodes a binary tree of the leaders
 * (the second tree of a pair mirrors the node order, so leaves of one tree are inner
 * vertices of the other). Each tree reduces its share of the buffer up to its root and
 * broadcasts it back, in pipelined chunks. */
static void
tree_unit (Coll *co, const guint *ring, double S, guint channels)
{
  const AfdGroupInfo *g = &co->g;
  guint n = g->n, N = g->nodes, T = TREES * MIN (channels, 256u);
  Unit *u = unit_new (co, UNIT_TREE);
  u->m = n;
  u->channels = T;
  u->orders = g_memdup2 (ring, sizeof (guint) * n);
  double share = S / T, chunk = MAX (co->p.chain_chunk_bytes, 1.0);
  guint K = (guint) CLAMP (ceil (share / chunk), 1.0, MAX (8.0, 512.0 / T));
  u->nsteps = K;
  u->chunk = share / K;
  u->parent = g_new (guint, T * n);
  u->kids = g_new0 (guint, T * n * TREE_KIDS);
  u->n_kids = g_new0 (guint, T * n);
  u->up_have = g_new0 (guint, (gsize) T * n * K);
  u->up_next = g_new0 (guint, T * n);
  u->up_busy = g_new0 (gboolean, T * n);
  u->down_have = g_new0 (guint, T * n);
  u->down_next = g_new0 (guint, T * n * TREE_KIDS);
  u->down_busy = g_new0 (gboolean, T * n * TREE_KIDS);
  for (guint t = 0; t < T; t++)
    {
      guint mirror = t % TREES, ch = t / TREES;
      for (guint k = 0; k < N; k++)
        {
          guint kk = mirror == 0 ? k : N - 1 - k; /* position of node k in this tree */
          guint lo = g->node_start[k], cnt = g->node_start[k + 1] - lo;
          guint stride = MAX (1u, cnt / (T / TREES)), rot = ch * stride;
          for (guint r = 0; r < cnt; r++)
            {
              guint i = lo + (r + rot) % cnt, ti = t * n + i;
              if (r > 0)
                u->parent[ti] = lo + (r - 1 + rot) % cnt;
              else if (kk == 0)
                u->parent[ti] = G_MAXUINT;
              else
                {
                  guint pk = (kk - 1) / 2, pnode = mirror == 0 ? pk : N - 1 - pk;
                  guint plo = g->node_start[pnode], pcnt = g->node_start[pnode + 1] - plo;
                  guint pstride = MAX (1u, pcnt / (T / TREES));
                  u->parent[ti] = plo + (ch * pstride) % pcnt;
                }
            }
        }
      for (guint i = 0; i < n; i++)
        {
          guint ti = t * n + i;
          if (u->parent[ti] != G_MAXUINT)
            {
              guint tp = t * n + u->parent[ti];
              g_assert (u->n_kids[tp] < TREE_KIDS);
              u->kids[tp * TREE_KIDS + u->n_kids[tp]++] = i;
            }
        }
    }
  u->expected = (guint64) T * K * 2 * (n - 1);
  for (guint t = 0; t < T; t++)
    for (guint i = 0; i < n; i++)
      tree_try_up (u, t, i);
}

/* Builds the units of phase @co->phase; returns FALSE when there is no such phase. */
static gboolean
build_phase (Coll *co)
{
  const AfdGroupInfo *g = &co->g;
  guint n = g->n;
  AfdCollectiveOp op = co->c.op;
  double S = co->c.bytes;
  g_autofree guint *ring = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    ring[i] = co->group[g->order[i]];
  if (co->phase == 0)
    {
      /* The base latency (or the whole analytic time for undecomposed algorithms). */
      Unit *u = unit_new (co, UNIT_TIMER);
      u->expected = 1;
      double delay;
      switch (co->choice.algo)
        {
        case AFD_ALGO_TREE:
          delay = co->p.base_latency_s[AFD_ALGO_TREE][co->choice.proto];
          break;
        case AFD_ALGO_NVLS:
        case AFD_ALGO_NVLS_TREE:
          delay = co->analytic_s;
          break;
        case AFD_ALGO_DIRECT:
        case AFD_ALGO_TWO_STAGE:
          delay = co->choice.latency_s;
          /* the route latency is added by the flows themselves */
          delay -= g->nodes > 1 ? g->inter_lat_s : g->intra_lat_s;
          if (co->choice.algo == AFD_ALGO_TWO_STAGE)
            delay -= g->intra_lat_s;
          break;
        default:
          delay = co->p.base_latency_s[AFD_ALGO_RING][co->choice.proto];
        }
      afd_netsim_start_transfer (co->sim, co->group[0], co->group[0], 0, MAX (delay, 0.0), FALSE,
                                 on_flow, u, 0);
      return TRUE;
    }
  if (co->choice.algo == AFD_ALGO_NVLS || co->choice.algo == AFD_ALGO_NVLS_TREE)
    return FALSE;
  guint channels = co->p.channels;
  if (channels == 0)
    channels = g->nodes > 1 ? MAX (1u, g->nics_min) : 1;
  channels = MIN (channels, 4095u);
  if (co->choice.algo == AFD_ALGO_TREE)
    {
      if (co->phase > 1)
        return FALSE;
      tree_unit (co, ring, S, channels);
      return TRUE;
    }
  switch (co->choice.algo)
    {
    case AFD_ALGO_RING:
      if (co->phase > 1)
        return FALSE;
      if (op == AFD_COLL_ALL_REDUCE)
        ring_unit (co, ring, n, channels, 2 * (n - 1), S / ((double) n * channels));
      else if (op == AFD_COLL_ALL_GATHER || op == AFD_COLL_REDUCE_SCATTER)
        ring_unit (co, ring, n, channels, n - 1, S / ((double) n * channels));
      else
        {
          /* One chain per channel: the channel's ring order started at the root (broadcast)
           * or ending at it (reduce), so channels cross nodes through different NICs. */
          Unit *r = ring_unit (co, ring, n, channels, 0, 0);
          r->kind = UNIT_CHAIN;
          guint root = co->group[0];
          g_autofree guint *tmp = g_new (guint, n);
          for (guint ch = 0; ch < channels; ch++)
            {
              guint *o = r->orders + (gsize) ch * n, root_pos = 0;
              for (guint i = 0; i < n; i++)
                if (o[i] == root)
                  root_pos = i;
              for (guint i = 0; i < n; i++)
                tmp[op == AFD_COLL_BROADCAST ? i : n - 1 - i] = o[(root_pos + i) % n];
              memcpy (o, tmp, sizeof (guint) * n);
            }
          double chunk = MAX (co->p.chain_chunk_bytes, 1.0);
          guint chunks = (guint) MIN (ceil (S / channels / chunk), 1024.0);
          chunks = MAX (chunks, 1u);
          r->nsteps = chunks;
          r->chunk = S / channels / chunks;
          r->last_chunk = S / channels - r->chunk * (chunks - 1);
          r->expected = (guint64) channels * (n - 1) * chunks;
          for (guint ch = 0; ch < channels; ch++)
            r->received[(gsize) ch * n] = chunks;
          for (guint ch = 0; ch < channels; ch++)
            chain_try (r, ch, 0);
          return TRUE;
        }
      break;
    case AFD_ALGO_HIERARCHICAL:
      {
        if (co->phase > 3)
          return FALSE;
        if (co->phase == 2)
          {
            /* Inter-node ring all-reduce among the GPUs of each local index. */
            for (guint l = 0; l < g->ppn; l++)
              {
                g_autofree guint *members = g_new (guint, g->nodes);
                guint m = 0;
                for (guint k = 0; k < g->nodes; k++)
                  if (g->node_start[k] + l < g->node_start[k + 1])
                    members[m++] = co->group[g->order[g->node_start[k] + l]];
                if (m >= 2)
                  ring_unit (co, members, m, 1, 2 * (m - 1), S / g->ppn / m);
              }
          }
        else
          for (guint k = 0; k < g->nodes; k++)
            {
              guint m = g->node_start[k + 1] - g->node_start[k];
              if (m >= 2)
                ring_unit (co, ring + g->node_start[k], m, 1, m - 1, S / m);
            }
        if (co->pending == 0)
          {
            /* Nothing to do in this phase (single-GPU nodes): an empty timer keeps order. */
            Unit *u = unit_new (co, UNIT_TIMER);
            u->expected = 1;
            afd_netsim_start_transfer (co->sim, co->group[0], co->group[0], 0, 0, FALSE, on_flow,
                                       u, 0);
            return TRUE;
          }
        break;
      }
    case AFD_ALGO_DIRECT:
    case AFD_ALGO_TWO_STAGE:
      {
        if (co->phase > 1)
          return FALSE;
        if (op == AFD_COLL_SEND_RECV)
          {
            Unit *u = unit_new (co, UNIT_TIMER);
            u->expected = 1;
            double bytes, extra;
            wire (co, AFD_ALGO_DIRECT, co->group[0], co->group[1], S, &bytes, &extra);
            afd_netsim_start_transfer (co->sim, co->group[0], co->group[1], bytes, 0, FALSE,
                                       on_flow, u, 0);
            return TRUE;
          }
        Unit *u = unit_new (co, UNIT_PAIRWISE);
        u->m = n;
        u->two_stage = co->choice.algo == AFD_ALGO_TWO_STAGE;
        u->local = g_new (guint, n);
        u->seq_e = g_new (guint, 2 * n);
        u->seq_d = g_new (guint, n);
        for (guint k = 0; k < g->nodes; k++)
          for (guint j = g->node_start[k]; j < g->node_start[k + 1]; j++)
            u->local[g->order[j]] = j - g->node_start[k];
        for (guint r = 0; r < n; r++)
          {
            u->seq_e[2 * r] = 1; /* NVLink peers: l+1, l+2, … */
            u->seq_e[2 * r + 1] = 0;
            u->seq_d[r] = 1; /* network peers: the next node on */
          }
        /* The deliveries that complete the unit: one per flow and, two-stage, one per
         * forwarded piece (every peer of a node but its target). */
        if (co->matrix == NULL)
          u->expected = co->uniform_bytes > 0 ? (guint64) n * (n - 1) : 0;
        else
          for (guint r = 0; r < n; r++)
            {
              guint A = g->node_of[r], l = u->local[r];
              for (guint j = g->node_start[A]; j < g->node_start[A + 1]; j++)
                if (pair_bytes (co, r, g->order[j]) > 0)
                  u->expected++;
              for (guint d = 1; d < g->nodes; d++)
                {
                  guint B = (A + d) % g->nodes, lo = g->node_start[B];
                  guint cnt_b = g->node_start[B + 1] - lo, target = g->order[lo + l % cnt_b];
                  double sum = 0;
                  guint64 pieces = 0;
                  for (guint q = lo; q < lo + cnt_b; q++)
                    {
                      double x = pair_bytes (co, r, g->order[q]);
                      sum += x;
                      /* Two-stage: the target's own piece rides on the message. */
                      if (x > 0 && (!u->two_stage || g->order[q] != target))
                        pieces++;
                    }
                  if (!u->two_stage)
                    u->expected += pieces;
                  else if (sum > 0)
                    u->expected += pieces + 1;
                }
            }
        if (u->two_stage)
          {
            u->forward = g_new0 (GQueue, n);
            u->fwd_busy = g_new0 (gboolean, n);
          }
        if (u->expected == 0)
          {
            u->kind = UNIT_TIMER;
            u->expected = 1;
            afd_netsim_start_transfer (co->sim, co->group[0], co->group[0], 0, 0, FALSE, on_flow,
                                       u, 0);
            return TRUE;
          }
        for (guint r = 0; r < n; r++)
          {
            pairwise_next (u, r, 0);
            pairwise_next (u, r, 1);
          }
        return TRUE;
      }
    default:
      return FALSE;
    }
  /* Kick every ring of the phase. */
  for (guint i = 0; i < co->units->len; i++)
    {
      Unit *u = co->units->pdata[i];
      if (u->kind != UNIT_RING)
        continue;
      for (guint ch = 0; ch < u->channels; ch++)
        for (guint pos = 0; pos < u->m; pos++)
          ring_try (u, ch, pos);
    }
  return TRUE;
}

/* Starts the current phase, or finishes the collective. */
static void
start_phase (Coll *co)
{
  /* Units of finished phases stay allocated until the end: in-flight deliveries of a
   * finished unit cannot exist, but freeing here would free the caller's frame. */
  if (build_phase (co))
    return;
  AfdCollectiveDoneFunc done = co->done;
  gpointer user_data = co->user_data;
  AfdNetsim *sim = co->sim;
  coll_free (co);
  if (done != NULL)
    done (sim, user_data);
}

gboolean
afd_netsim_start_collective (AfdNetsim *sim, const AfdCollective *coll,
                             const AfdCollectiveParams *params, AfdCollectiveDoneFunc done,
                             gpointer user_data, GError **error)
{
  g_return_val_if_fail (sim != NULL && coll != NULL, FALSE);
  Coll *co = g_new0 (Coll, 1);
  co->sim = sim;
  co->network = afd_netsim_network (sim);
  afd_collective_params_resolve (params, afd_network_cluster (co->network), &co->p);
  co->c = *coll;
  co->done = done;
  co->user_data = user_data;
  co->units = g_ptr_array_new_with_free_func (unit_free);
  gboolean grouped = afd_group_info_init (&co->g, co->network, coll, error);
  if (grouped)
    afd_collective_params_for_group (&co->p, params, afd_network_cluster (co->network), &co->g);
  if (!grouped
      || !afd_collective_tune (co->network, &co->g, coll, &co->p, &co->choice, &co->analytic_s,
                               error))
    {
      coll_free (co);
      return FALSE;
    }
  guint n = coll->group_size;
  co->group = g_memdup2 (coll->group, sizeof (guint) * n);
  co->c.group = co->group;
  if (coll->op == AFD_COLL_ALL_TO_ALL)
    co->uniform_bytes = coll->bytes / n;
  else if (coll->op == AFD_COLL_ALL_TO_ALL_V)
    {
      co->matrix = g_memdup2 (coll->matrix_bytes, sizeof (double) * n * n);
      co->c.matrix_bytes = co->matrix;
    }
  co->phase = 0;
  start_phase (co);
  return TRUE;
}
