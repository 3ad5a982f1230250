/* SPDX-License-Identifier: MIT */
/*
 * netsim.c - the flow-level network simulator: max-min fair sharing by progressive filling.
 *
 * Model (docs/models/network.md): at any instant every flow in flight has a rate; the rates
 * are the max-min fair allocation of the link capacities (no link over capacity, and no flow
 * can gain without taking from a flow with a smaller or equal rate). Progressive filling
 * finds it: raise all unfixed flows' rates together, fix the flows of the link that saturates
 * first, repeat (a few levels by linear scans, then a heap of links keyed by fair share with
 * lazily raised keys). Rates are recomputed once per instant at which flows start or finish
 * (a deferred event collects every change of that instant), and only where they can change:
 *   - links that can never saturate are left out: "dominated" switch/NIC hops whose capacity
 *     covers the sum of the root links (out of / into GPUs) feeding them (computed once), and
 *     links whose flows' route minima add up to at most their capacity (kept per link);
 *   - only the connected components (flows and remaining links) of the links whose flows
 *     changed are recomputed: max-min rates decompose over components;
 *   - flows slower than the lowest level the change can touch (theta: the rate of a finished
 *     flow, or capacity / flows on a started flow's links) keep their rate and cut the search.
 * Each flow drains lazily (remaining bytes as of its last rate change) and sits in a heap of
 * predicted completions, so an instant costs O(changed component + log F), not O(F).
 * Completion times are rounded to nanoseconds by round_ns(), the one place that calls
 * afd_time_from_seconds() here.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/error.h"
#include "sim/network.h"

enum {
  EV_RECOMPUTE = 0, /* recompute rates (deferred to the end of the instant's changes) */
  EV_WAKE,          /* the earliest predicted completion; arg = generation */
  EV_DELIVER,       /* deliveries; arg = the first delivery record of a chain (Record.next) */
};

typedef struct {
  /* What the rate passes read (the component search, fixing, the rate check) first: with
   * routes of up to 8 links it is one cache line; then what draining and completion read. */
  double rate;    /* bytes/s since since_ns */
  guint heap_pos; /* position in the completion heap, G_MAXUINT when not in it */
  /* Indices into links of the links that are not dominated, in route order: the only ones
   * a rate pass reads (dominated links never join one), so its loops skip the others. */
  guint8 nkey;
  guint8 key[AFD_NETWORK_MAX_HOPS];
  guint links[AFD_NETWORK_MAX_HOPS];
  double remaining; /* bytes not yet drained at since_ns */
  AfdTime since_ns; /* when remaining was last brought up to date (rates change only then) */
  double bytes;     /* wire bytes */
  AfdTime finish_ns; /* predicted completion: since_ns + remaining / rate, rounded */
  double cap;       /* smallest capacity on the route, bytes/s */
  AfdTime latency_ns;
  guint record; /* delivery record index */
  guint nlinks;
  guint desig;  /* index into links of the first link of capacity cap */
  guint active_pos;
  gboolean want_sent;
  guint pos[AFD_NETWORK_MAX_HOPS]; /* index of this flow in each link's flow list */
} Flow;

typedef struct {
  AfdTransferFunc func;
  gpointer user_data;
  guint64 tag;
  double bytes;
  guint next; /* the record delivered right after this one by the same event, or G_MAXUINT */
} Record;

typedef struct {
  double capacity; /* bytes/s */
  double latency_s; /* the cluster link's (read with capacity when a flow starts: one line) */
  guint *ids;      /* flow ids on the link (not kept on dominated links: no pass reads them) */
  guint n_ids, cap_ids; /* n_ids: flows on the link, dominated or not */
  guint active_pos;
  AfdTime busy_since;
  double busy_s;
  double bytes;
  double sum_cap; /* sum of the caps of its flows, bytes/s (0 exactly when it has none; not
                   * kept on dominated links, which are slack whatever it is) */
  guint n_desig;  /* flows whose designated (first smallest-capacity) link this is */
  gboolean dominated; /* never saturates, whatever the flows (see dominate_links()) */
  /* progressive filling scratch */
  double rem;
  guint unfixed;
  guint mark;     /* component search epoch */
  gboolean dirty; /* a flow started or finished on it since the last recomputation */
} LinkState;

typedef struct {
  double share;
  guint link;
} HeapItem;

/* A completion-heap entry: the key is kept inline (no flow lookup per comparison). */
typedef struct {
  AfdTime finish_ns;
  guint id;
} CEntry;

/* A growable array of guint (hot paths: no function call per push or pop). */
typedef struct {
  guint *v;
  guint len, cap;
} UVec;

static inline void
uvec_push (UVec *a, guint x)
{
  if (a->len == a->cap)
    {
      a->cap = MAX (16u, 2 * a->cap);
      a->v = g_renew (guint, a->v, a->cap);
    }
  a->v[a->len++] = x;
}

struct _AfdNetsim {
  char *horizon_error; /* (nullable) the first time past the horizon (afd_netsim_check_horizon) */
  AfdNetwork *network;
  const AfdCluster *cluster;
  AfdEngine *engine;
  guint32 handler;
  LinkState *links;
  guint n_links;
  GArray *flows;       /* Flow, slots reused through free_flows */
  UVec free_flows;
  GArray *records; /* Record, slots reused through free_records */
  UVec free_records;
  UVec active;       /* flow ids whose bytes are draining */
  UVec active_links; /* link ids with at least one flow */
  HeapItem *heap;
  guint heap_len, heap_cap;
  UVec finished; /* scratch */
  guchar *fixed;        /* per flow slot */
  double *new_rate;     /* per flow slot: the rate being computed, bytes/s */
  guint *flow_mark;     /* per flow slot: component search epoch */
  guint fixed_len;
  guchar *finish_mark; /* per flow slot: scratch of complete_flows(), all 0 between calls */
  guint finish_mark_len;
  UVec dirty_links;
  UVec comp_links, comp_flows, bfs; /* scratch of the component search */
  guint epoch;
  CEntry *cheap; /* completion heap: min (finish_ns, flow id) at the top */
  guint cheap_len, cheap_cap;
  AfdTime max_slop_ns; /* completion window: a bound of 1 ns + the byte tolerance, ns */
  double theta;         /* lowest rate a change of this instant can touch, bytes/s */
  double freeze;        /* flows below this rate keep it in the current pass, bytes/s */
  UVec started;         /* flows started this instant */
  gboolean recompute_pending;
  guint64 wake_generation;
  AfdNetsimStats stats;
};

/* The one place where this module turns seconds into nanoseconds. */
static inline AfdTime
round_ns (double seconds)
{
  /* Inline fast path with afd_time_from_seconds()'s result (round (seconds * 1e9), halves
   * away from zero): below 2^52 ns the truncation and the fraction ns - t are exact. */
  double ns = seconds * 1e9;
  if (ns >= 0 && ns < 4503599627370496.0)
    {
      AfdTime t = (AfdTime) ns;
      return ns - (double) t >= 0.5 ? t + 1 : t;
    }
  return afd_time_from_seconds (seconds);
}

static void handle_event (AfdEngine *engine, const AfdEvent *event, gpointer user_data);

/* Records the first time that would pass the simulated-time horizon (sim/types.h) and stops
 * the engine. */
static void
past_horizon (AfdNetsim *self, AfdTime now, double seconds, const char *what)
{
  if (self->horizon_error == NULL)
    self->horizon_error
        = g_strdup_printf ("flow network: %s of %.6g s at t = %.6g s passes the simulated-time "
                           "horizon (" AFD_TIME_HORIZON_TEXT "); the links are too slow or too "
                           "far for the traffic (check the cluster's bandwidth_bytes_per_s and "
                           "latency_s)",
                           what, seconds, afd_time_to_seconds (now));
  /* Nothing after this is meaningful: end the run after the current event. */
  afd_engine_stop (self->engine);
}

/* now + @seconds in nanoseconds. Past the horizon the first case is recorded and the horizon
 * itself returned, so no sum of times can overflow the clock; the run is then refused
 * (afd_netsim_check_horizon). @now is never past the horizon. */
static inline AfdTime
time_after (AfdNetsim *self, AfdTime now, double seconds, const char *what)
{
  if (G_LIKELY (seconds >= 0 && seconds * 1e9 < (double) (AFD_TIME_HORIZON_NS - now)))
    return now + round_ns (seconds);
  past_horizon (self, now, seconds, what);
  return AFD_TIME_HORIZON_NS;
}

/* The same for a duration already in nanoseconds. */
static inline AfdTime
time_after_ns (AfdNetsim *self, AfdTime now, AfdTime ns, const char *what)
{
  if (G_LIKELY (ns >= 0 && ns <= AFD_TIME_HORIZON_NS - now))
    return now + ns;
  past_horizon (self, now, afd_time_to_seconds (ns), what);
  return AFD_TIME_HORIZON_NS;
}

/* Bound state of the cover search. */
#define COVER_UNSET (-1.0)
#define COVER_BUSY (-2.0)

/* The capacity sum of a set of root links (links out of a GPU when @in_side, into one
 * otherwise) that every flow on link @l crosses: routes start and end at GPUs and never
 * revisit a vertex, so a flow on u→v entered u by one of u's other in-links (@in_side), or
 * leaves v by one of v's other out-links. Memoised in @memo; cycles give +inf (no bound). */
static double
cover_sum (const AfdCluster *c, const GPtrArray *const *adj, guint l, gboolean in_side,
           double *memo)
{
  if (memo[l] >= 0)
    return memo[l];
  if (memo[l] == COVER_BUSY)
    return G_MAXDOUBLE;
  const AfdLink *k = afd_cluster_link (c, l);
  guint end = in_side ? k->src : k->dst, other = in_side ? k->dst : k->src;
  if (afd_cluster_vertex_kind (c, end) == AFD_VERTEX_GPU)
    return memo[l] = k->bandwidth_bytes_per_s;
  memo[l] = COVER_BUSY;
  double sum = 0;
  const GPtrArray *a = adj[end];
  for (guint i = 0; i < a->len && sum < G_MAXDOUBLE; i++)
    {
      guint j = GPOINTER_TO_UINT (a->pdata[i]);
      const AfdLink *kj = afd_cluster_link (c, j);
      if ((in_side ? kj->src : kj->dst) == other)
        continue; /* the reverse of l: no route goes v→u→v */
      double x = cover_sum (c, adj, j, in_side, memo);
      sum = x >= G_MAXDOUBLE ? G_MAXDOUBLE : sum + x;
    }
  return memo[l] = sum;
}

/* Marks the links that can never saturate: not at a GPU, and a cover of root links (links
 * out of or into GPUs, which are always kept) has at most the link's capacity. Their
 * constraints follow from the roots', so progressive filling leaves them out. On a
 * rail-optimised or non-blocking fabric these are every switch and NIC hop. */
static void
dominate_links (AfdNetsim *self)
{
  const AfdCluster *c = self->cluster;
  guint nv = afd_cluster_vertex_count (c), nl = self->n_links;
  g_autofree GPtrArray **in = g_new0 (GPtrArray *, nv);
  g_autofree GPtrArray **out = g_new0 (GPtrArray *, nv);
  for (guint v = 0; v < nv; v++)
    {
      in[v] = g_ptr_array_new ();
      out[v] = g_ptr_array_new ();
    }
  for (guint l = 0; l < nl; l++)
    {
      const AfdLink *k = afd_cluster_link (c, l);
      g_ptr_array_add (in[k->dst], GUINT_TO_POINTER (l));
      g_ptr_array_add (out[k->src], GUINT_TO_POINTER (l));
    }
  g_autofree double *memo_in = g_new (double, nl);
  g_autofree double *memo_out = g_new (double, nl);
  for (guint l = 0; l < nl; l++)
    memo_in[l] = memo_out[l] = COVER_UNSET;
  for (guint l = 0; l < nl; l++)
    {
      const AfdLink *k = afd_cluster_link (c, l);
      if (afd_cluster_vertex_kind (c, k->src) == AFD_VERTEX_GPU
          || afd_cluster_vertex_kind (c, k->dst) == AFD_VERTEX_GPU)
        continue;
      double cap = k->bandwidth_bytes_per_s * (1 + 1e-12);
      const GPtrArray *const *ins = (const GPtrArray *const *) in;
      const GPtrArray *const *outs = (const GPtrArray *const *) out;
      self->links[l].dominated = cover_sum (c, ins, l, TRUE, memo_in) <= cap
                                 || cover_sum (c, outs, l, FALSE, memo_out) <= cap;
    }
  for (guint v = 0; v < nv; v++)
    {
      g_ptr_array_unref (in[v]);
      g_ptr_array_unref (out[v]);
    }
}

AfdNetsim *
afd_netsim_new (AfdNetwork *network, AfdEngine *engine)
{
  g_return_val_if_fail (network != NULL && engine != NULL, NULL);
  AfdNetsim *self = g_new0 (AfdNetsim, 1);
  self->network = network;
  self->cluster = afd_network_cluster (network);
  self->engine = engine;
  self->handler = afd_engine_register (engine, handle_event, self);
  self->n_links = afd_cluster_link_count (self->cluster);
  self->links = g_new0 (LinkState, self->n_links);
  for (guint l = 0; l < self->n_links; l++)
    {
      self->links[l].capacity = afd_cluster_link (self->cluster, l)->bandwidth_bytes_per_s;
      self->links[l].latency_s = afd_cluster_link (self->cluster, l)->latency_s;
    }
  dominate_links (self);
  self->flows = g_array_new (FALSE, FALSE, sizeof (Flow));
  self->records = g_array_new (FALSE, FALSE, sizeof (Record));
  self->theta = G_MAXDOUBLE;
  return self;
}

void
afd_netsim_free (AfdNetsim *self)
{
  if (self == NULL)
    return;
  g_free (self->horizon_error);
  for (guint l = 0; l < self->n_links; l++)
    g_free (self->links[l].ids);
  g_free (self->links);
  g_array_unref (self->flows);
  g_free (self->free_flows.v);
  g_array_unref (self->records);
  g_free (self->free_records.v);
  g_free (self->active.v);
  g_free (self->active_links.v);
  g_free (self->heap);
  g_free (self->finished.v);
  g_free (self->fixed);
  g_free (self->new_rate);
  g_free (self->flow_mark);
  g_free (self->finish_mark);
  g_free (self->dirty_links.v);
  g_free (self->comp_links.v);
  g_free (self->comp_flows.v);
  g_free (self->bfs.v);
  g_free (self->cheap);
  g_free (self->started.v);
  g_free (self);
}

AfdEngine *
afd_netsim_engine (const AfdNetsim *self)
{
  return self->engine;
}

AfdNetwork *
afd_netsim_network (const AfdNetsim *self)
{
  return self->network;
}

/* Schedules one of this module's events. */
static void
schedule (AfdNetsim *self, AfdTime at_ns, guint32 kind, guint64 arg)
{
  AfdEvent ev = { self->handler, kind, arg };
  afd_engine_schedule_at (self->engine, at_ns, &ev);
}

/* Returns: %TRUE when link @ls can never be saturated by its flows: no flow has it as its
 * designated link and the flows' caps add up to at most its capacity (max-min rates never
 * exceed a flow's cap, so the link's constraint holds by itself and can be left out). */
static inline gboolean
link_slack (const LinkState *ls)
{
  return ls->dominated || (ls->n_desig == 0 && ls->sum_cap <= ls->capacity * (1 + 1e-12));
}

/* Completion heap order: (finish_ns, flow id). */
static inline gboolean
cheap_less (const CEntry *a, const CEntry *b)
{
  return a->finish_ns < b->finish_ns || (a->finish_ns == b->finish_ns && a->id < b->id);
}

/* Moves the entry at completion-heap position @i up or down to its place. */
static void
cheap_fix (AfdNetsim *self, Flow *flows, guint i)
{
  CEntry *h = self->cheap;
  CEntry x = h[i];
  while (i > 0)
    {
      guint p = (i - 1) / 2;
      if (!cheap_less (&x, &h[p]))
        break;
      h[i] = h[p];
      flows[h[i].id].heap_pos = i;
      i = p;
    }
  guint n = self->cheap_len;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && cheap_less (&h[c + 1], &h[c]))
        c++;
      if (!cheap_less (&h[c], &x))
        break;
      h[i] = h[c];
      flows[h[i].id].heap_pos = i;
      i = c;
    }
  h[i] = x;
  flows[x.id].heap_pos = i;
}

/* Inserts flow @id into the completion heap, or moves it after its finish_ns changed. */
static void
cheap_update (AfdNetsim *self, Flow *flows, guint id)
{
  if (flows[id].heap_pos == G_MAXUINT)
    {
      if (self->cheap_len == self->cheap_cap)
        {
          self->cheap_cap = MAX (64u, 2 * self->cheap_cap);
          self->cheap = g_renew (CEntry, self->cheap, self->cheap_cap);
        }
      flows[id].heap_pos = self->cheap_len++;
    }
  CEntry *e = &self->cheap[flows[id].heap_pos];
  e->finish_ns = flows[id].finish_ns;
  e->id = id;
  cheap_fix (self, flows, flows[id].heap_pos);
}

/* Removes flow @id from the completion heap (if it is in it). */
static void
cheap_remove (AfdNetsim *self, Flow *flows, guint id)
{
  guint i = flows[id].heap_pos;
  if (i == G_MAXUINT)
    return;
  flows[id].heap_pos = G_MAXUINT;
  CEntry last = self->cheap[--self->cheap_len];
  if (i < self->cheap_len)
    {
      self->cheap[i] = last;
      flows[last.id].heap_pos = i;
      cheap_fix (self, flows, i);
    }
}

/* Notes that the flows on @l changed, so its component needs new rates (a dominated link
 * constrains nobody, before or after the change: not noted). */
static inline void
dirty_link (AfdNetsim *self, guint l)
{
  if (!self->links[l].dirty && !self->links[l].dominated)
    {
      self->links[l].dirty = TRUE;
      uvec_push (&self->dirty_links, l);
    }
}

/* Asks for a rate recomputation at the end of this instant. */
static void
mark_dirty (AfdNetsim *self)
{
  if (self->recompute_pending)
    return;
  self->recompute_pending = TRUE;
  schedule (self, afd_engine_now (self->engine), EV_RECOMPUTE, 0);
}

/* Allocates a delivery record. */
static guint
new_record (AfdNetsim *self, AfdTransferFunc func, gpointer user_data, guint64 tag, double bytes)
{
  Record r = { func, user_data, tag, bytes, G_MAXUINT };
  guint id;
  if (self->free_records.len > 0)
    {
      id = self->free_records.v[--self->free_records.len];
      g_array_index (self->records, Record, id) = r;
    }
  else
    {
      id = self->records->len;
      g_array_append_val (self->records, r);
    }
  return id;
}

void
afd_netsim_start_transfer (AfdNetsim *self, guint src, guint dst, double bytes,
                           double extra_latency_s, gboolean want_sent, AfdTransferFunc func,
                           gpointer user_data, guint64 tag)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (bytes >= 0 && extra_latency_s >= 0);
  guint ngpu = afd_cluster_gpu_count (self->cluster);
  g_return_if_fail (src < ngpu && dst < ngpu);
  AfdTime now = afd_engine_now (self->engine);
  self->stats.flows_started++;
  guint record = new_record (self, func, user_data, tag, bytes);
  if (src == dst || bytes <= 0)
    {
      /* Nothing crosses a link: sent now, delivered after the latency. */
      double lat = extra_latency_s;
      if (src != dst)
        {
          double path_lat;
          afd_network_path (self->network, src, dst, NULL, &path_lat);
          lat += path_lat;
        }
      self->stats.flows_finished++;
      if (want_sent && func != NULL)
        func (self, AFD_TRANSFER_SENT, user_data, tag);
      schedule (self, time_after (self, now, lat, "a transfer's latency"), EV_DELIVER, record);
      return;
    }
  guint id;
  if (self->free_flows.len > 0)
    id = self->free_flows.v[--self->free_flows.len];
  else
    {
      id = self->flows->len;
      g_array_set_size (self->flows, id + 1);
    }
  Flow *f = &g_array_index (self->flows, Flow, id);
  memset (f, 0, sizeof *f);
  f->bytes = f->remaining = bytes;
  f->record = record;
  f->want_sent = want_sent;
  f->since_ns = now;
  f->heap_pos = G_MAXUINT;
  f->nlinks = afd_network_route (self->network, src, dst, f->links);
  f->cap = self->links[f->links[0]].capacity;
  for (guint k = 1; k < f->nlinks; k++)
    if (self->links[f->links[k]].capacity < f->cap)
      {
        f->cap = self->links[f->links[k]].capacity;
        f->desig = k;
      }
  self->links[f->links[f->desig]].n_desig++;
  double lat = extra_latency_s;
  for (guint k = 0; k < f->nlinks; k++)
    {
      guint l = f->links[k];
      LinkState *ls = &self->links[l];
      lat += ls->latency_s;
      if (!ls->dominated)
        {
          f->key[f->nkey++] = (guint8) k;
          ls->sum_cap += f->cap;
          if (ls->n_ids == ls->cap_ids)
            {
              ls->cap_ids = MAX (4u, 2 * ls->cap_ids);
              ls->ids = g_renew (guint, ls->ids, ls->cap_ids);
            }
          f->pos[k] = ls->n_ids;
          ls->ids[ls->n_ids] = id;
          dirty_link (self, l);
        }
      ls->n_ids++;
      if (ls->n_ids == 1)
        {
          ls->busy_since = now;
          ls->active_pos = self->active_links.len;
          uvec_push (&self->active_links, l);
        }
    }
  f->latency_ns = time_after (self, 0, lat, "a route's latency");
  uvec_push (&self->started, id);
  f->active_pos = self->active.len;
  uvec_push (&self->active, id);
  self->stats.max_active = MAX (self->stats.max_active, self->active.len);
  mark_dirty (self);
}

/* Removes flow @id from its links and from the active list. */
static void
detach_flow (AfdNetsim *self, guint id)
{
  Flow *flows = (Flow *) self->flows->data;
  Flow *f = &flows[id];
  AfdTime now = afd_engine_now (self->engine);
  cheap_remove (self, flows, id);
  self->theta = MIN (self->theta, f->rate);
  self->links[f->links[f->desig]].n_desig--;
  for (guint k = 0; k < f->nlinks; k++)
    {
      LinkState *ls = &self->links[f->links[k]];
      if (!ls->dominated)
        {
          ls->sum_cap -= f->cap;
          guint *lf = ls->ids;
          guint last = lf[ls->n_ids - 1];
          guint p = f->pos[k];
          if (last != id)
            {
              lf[p] = last;
              Flow *g = &flows[last];
              for (guint j = 0; j < g->nlinks; j++)
                if (g->links[j] == f->links[k])
                  {
                    g->pos[j] = p;
                    break;
                  }
            }
          dirty_link (self, f->links[k]);
        }
      ls->n_ids--;
      ls->bytes += f->bytes;
      if (ls->n_ids == 0)
        {
          ls->sum_cap = 0; /* no drift across busy periods */
          ls->busy_s += afd_time_to_seconds (now - ls->busy_since);
          guint *al = self->active_links.v;
          guint lastl = al[self->active_links.len - 1];
          al[ls->active_pos] = lastl;
          self->links[lastl].active_pos = ls->active_pos;
          self->active_links.len--;
        }
    }
  guint *act = self->active.v;
  guint lastf = act[self->active.len - 1];
  act[f->active_pos] = lastf;
  flows[lastf].active_pos = f->active_pos;
  self->active.len--;
  uvec_push (&self->free_flows, id);
}

/* Binary-heap push (min-heap on share). */
static void
heap_push (AfdNetsim *self, double share, guint link)
{
  if (self->heap_len == self->heap_cap)
    {
      self->heap_cap = MAX (64u, 2 * self->heap_cap);
      self->heap = g_renew (HeapItem, self->heap, self->heap_cap);
    }
  HeapItem *h = self->heap;
  guint i = self->heap_len++;
  h[i].share = share;
  h[i].link = link;
  while (i > 0)
    {
      guint p = (i - 1) / 2;
      if (h[p].share < h[i].share || (h[p].share == h[i].share && h[p].link <= h[i].link))
        break;
      HeapItem t = h[p];
      h[p] = h[i];
      h[i] = t;
      i = p;
    }
}

/* Restores the heap order below position @i (ties: smallest link id, for determinism). */
static void
heap_sift_down (AfdNetsim *self, guint i)
{
  HeapItem *h = self->heap;
  guint n = self->heap_len;
  HeapItem x = h[i];
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n
          && (h[c + 1].share < h[c].share
              || (h[c + 1].share == h[c].share && h[c + 1].link < h[c].link)))
        c++;
      if (!(h[c].share < x.share || (h[c].share == x.share && h[c].link < x.link)))
        break;
      h[i] = h[c];
      i = c;
    }
  h[i] = x;
}

/* Binary-heap pop of the smallest share. */
static HeapItem
heap_pop (AfdNetsim *self)
{
  HeapItem top = self->heap[0];
  self->heap[0] = self->heap[--self->heap_len];
  if (self->heap_len > 0)
    heap_sift_down (self, 0);
  return top;
}

/* Adds flow @id to the component under construction, and its non-slack links to the search. */
static inline void
visit_flow (AfdNetsim *self, const Flow *flows, guint id, guint epoch)
{
  if (self->flow_mark[id] == epoch)
    return;
  if (flows[id].rate < self->freeze && flows[id].heap_pos != G_MAXUINT)
    return; /* frozen: keeps its rate (see recompute()) */
  self->flow_mark[id] = epoch;
  uvec_push (&self->comp_flows, id);
  const Flow *f = &flows[id];
  for (guint k = 0; k < f->nkey; k++)
    {
      guint l = f->links[f->key[k]];
      LinkState *o = &self->links[l];
      if (o->mark != epoch && !link_slack (o))
        {
          o->mark = epoch;
          uvec_push (&self->comp_links, l);
          uvec_push (&self->bfs, l);
        }
    }
}

/* Collects into comp_links / comp_flows the components reachable from the dirty links. The
 * components are those of the graph of flows and non-slack links (slack links constrain
 * nobody); a dirty link's flows are all included, whatever the link's state, since the
 * change may have made it slack or not. */
static void
collect_components (AfdNetsim *self)
{
  Flow *flows = (Flow *) self->flows->data;
  if (++self->epoch == 0)
    {
      /* Epoch wrapped: clear every mark once. */
      for (guint l = 0; l < self->n_links; l++)
        self->links[l].mark = 0;
      memset (self->flow_mark, 0, sizeof (guint) * self->fixed_len);
      self->epoch = 1;
    }
  guint epoch = self->epoch;
  self->comp_links.len = self->comp_flows.len = self->bfs.len = 0;
  for (guint i = 0; i < self->dirty_links.len; i++)
    {
      guint l0 = self->dirty_links.v[i];
      LinkState *ls0 = &self->links[l0];
      ls0->dirty = FALSE;
      if (ls0->mark == epoch || ls0->n_ids == 0 || ls0->dominated)
        continue; /* a dominated link constrains nobody, before or after the change */
      ls0->mark = epoch;
      if (!link_slack (ls0))
        uvec_push (&self->comp_links, l0);
      uvec_push (&self->bfs, l0);
      while (self->bfs.len > 0)
        {
          const LinkState *ls = &self->links[self->bfs.v[--self->bfs.len]];
          for (guint j = 0; j < ls->n_ids; j++)
            visit_flow (self, flows, ls->ids[j], epoch);
        }
    }
  self->dirty_links.len = 0;
}

/* Levels scanned linearly before the progressive filling switches to the heap. */
#define LEVEL_SCANS 8

/* Fixes every unfixed flow of link @ls at @share; returns how many it fixed. */
static inline guint
fix_link (AfdNetsim *self, Flow *flows, LinkState *ls, double share)
{
  guint n = 0;
  const guint *lf = ls->ids;
  for (guint i = 0; i < ls->n_ids; i++)
    {
      guint id = lf[i];
      if (self->fixed[id])
        continue;
      self->fixed[id] = 1;
      n++;
      self->new_rate[id] = share;
      /* Slack links are not in the pass: their scratch is written, never read (dominated
       * ones are skipped). */
      const Flow *f = &flows[id];
      for (guint k = 0; k < f->nkey; k++)
        {
          LinkState *o = &self->links[f->links[f->key[k]]];
          o->rem -= share;
          o->unfixed--;
        }
    }
  return n;
}

/* Progressive filling over the changed components; their flows' predicted completions. */
static void
recompute (AfdNetsim *self)
{
  self->stats.rate_updates++;
  Flow *flows = (Flow *) self->flows->data;
  if (self->fixed_len < self->flows->len)
    {
      guint old = self->fixed_len;
      self->fixed_len = MAX (self->flows->len, 2 * self->fixed_len);
      self->fixed = g_realloc (self->fixed, self->fixed_len);
      self->new_rate = g_renew (double, self->new_rate, self->fixed_len);
      self->flow_mark = g_renew (guint, self->flow_mark, self->fixed_len);
      memset (self->flow_mark + old, 0, sizeof (guint) * (self->fixed_len - old));
    }
  /* Levels below theta keep their flows: progressive filling reaches the old and the new
   * flow sets' levels below theta identically, since a finished flow f only loaded links
   * that saturate at or above its rate, and a started flow g gets at least
   * min over its links of capacity / flows (no link of g saturates below that). So flows
   * whose rate is below theta keep it, and the pass works on the others, with the links'
   * capacities less the frozen flows' rates. */
  for (guint i = 0; i < self->started.len; i++)
    {
      const Flow *g = &flows[self->started.v[i]];
      for (guint k = 0; k < g->nlinks; k++)
        {
          const LinkState *ls = &self->links[g->links[k]];
          self->theta = MIN (self->theta, ls->capacity / ls->n_ids);
        }
    }
  self->started.len = 0;
  self->freeze = self->theta < G_MAXDOUBLE ? self->theta * (1 - 1e-9) : 0;
  self->theta = G_MAXDOUBLE;
  collect_components (self);
  const guint *cf = self->comp_flows.v;
  for (guint i = 0; i < self->comp_flows.len; i++)
    self->fixed[cf[i]] = 0;
  /* The component's non-slack links at their initial state. */
  const guint *al = self->comp_links.v;
  guint nl = self->comp_links.len;
  guint epoch = self->epoch;
  for (guint i = 0; i < nl; i++)
    {
      LinkState *ls = &self->links[al[i]];
      ls->rem = ls->capacity;
      ls->unfixed = ls->n_ids;
      for (guint j = 0; j < ls->n_ids; j++)
        {
          guint id = ls->ids[j];
          if (self->flow_mark[id] != epoch)
            {
              /* frozen */
              self->fixed[id] = 1;
              ls->rem -= flows[id].rate;
              ls->unfixed--;
            }
        }
    }
  guint unfixed_flows = self->comp_flows.len;
  /* Level by level: the smallest fair share m among the links with unfixed flows, then, in
   * the list's order, every link whose current share is still m (fixing flows at the level
   * never lowers another link's share below m) fixes its unfixed flows at its share. A few
   * levels cover most components; past LEVEL_SCANS the rest goes to the heap. */
  guint *scan = self->bfs.v; /* scratch: the links with unfixed flows */
  guint ns = 0;
  if (self->bfs.cap < nl)
    {
      self->bfs.cap = MAX (nl, 2 * self->bfs.cap);
      self->bfs.v = g_renew (guint, self->bfs.v, self->bfs.cap);
      scan = self->bfs.v;
    }
  memcpy (scan, al, sizeof (guint) * nl);
  ns = nl;
  for (guint level = 0; level < LEVEL_SCANS && unfixed_flows > 0 && ns > 0; level++)
    {
      double m = G_MAXDOUBLE;
      guint keep = 0;
      for (guint i = 0; i < ns; i++)
        {
          const LinkState *ls = &self->links[scan[i]];
          if (ls->unfixed == 0)
            continue;
          scan[keep++] = scan[i];
          double cur = MAX (ls->rem, 0.0) / ls->unfixed;
          m = MIN (m, cur);
        }
      ns = keep;
      for (guint i = 0; i < ns; i++)
        {
          LinkState *ls = &self->links[scan[i]];
          if (ls->unfixed == 0)
            continue;
          double cur = MAX (ls->rem, 0.0) / ls->unfixed;
          if (cur > m * (1 + 1e-12))
            continue;
          unfixed_flows -= fix_link (self, flows, ls, MAX (cur, 1e-12 * ls->capacity));
        }
    }
  if (unfixed_flows > 0)
    {
      /* Many levels: the links left, heapified in O(L) (Floyd), then popped by share. */
      guint nh = 0;
      if (self->heap_cap < ns)
        {
          self->heap_cap = MAX (ns, 2 * self->heap_cap);
          self->heap = g_renew (HeapItem, self->heap, self->heap_cap);
        }
      for (guint i = 0; i < ns; i++)
        {
          const LinkState *ls = &self->links[scan[i]];
          if (ls->unfixed == 0)
            continue;
          self->heap[nh].share = MAX (ls->rem, 0.0) / ls->unfixed;
          self->heap[nh++].link = scan[i];
        }
      self->heap_len = nh;
      for (guint i = nh / 2; i-- > 0;)
        heap_sift_down (self, i);
    }
  else
    self->heap_len = 0;
  while (self->heap_len > 0 && unfixed_flows > 0)
    {
      HeapItem it = heap_pop (self);
      LinkState *ls = &self->links[it.link];
      if (ls->unfixed == 0)
        continue;
      /* Fixing flows only raises other links' fair shares, so heap keys are lower bounds:
       * a link whose share grew since it was pushed goes back with its current share
       * (lazy increase-key), and the first link popped at its current share is the
       * bottleneck. */
      double cur = MAX (ls->rem, 0.0) / ls->unfixed;
      if (cur > it.share * (1 + 1e-12))
        {
          heap_push (self, cur, it.link);
          continue;
        }
      unfixed_flows -= fix_link (self, flows, ls, MAX (cur, 1e-12 * ls->capacity));
    }
  /* Flows whose rate changed: drained up to now at the old rate, then a new predicted
   * completion (the completion window covers the byte tolerance too). Flows whose rate is
   * unchanged keep their prediction. */
  AfdTime now = afd_engine_now (self->engine);
  for (guint i = 0; i < self->comp_flows.len; i++)
    {
      guint id = cf[i];
      Flow *f = &flows[id];
      double r = self->new_rate[id];
      if (r == f->rate && f->heap_pos != G_MAXUINT)
        continue;
      if (f->since_ns != now)
        {
          f->remaining -= f->rate * afd_time_to_seconds (now - f->since_ns);
          f->since_ns = now;
        }
      f->rate = r;
      f->finish_ns = time_after (self, now, MAX (f->remaining, 0.0) / r, "a flow's transfer");
      /* ceil (q) + 2 > M exactly when q > M - 2 (M an integer): ceil only when it grows. */
      double q = f->bytes / r;
      if (q > (double) (self->max_slop_ns - 2))
        {
          double tol_ns = ceil (q) + 2;
          self->max_slop_ns = tol_ns < 1e15 ? (AfdTime) tol_ns : (AfdTime) 1e15;
        }
      cheap_update (self, flows, id);
    }
  /* The earliest completion decides the next wake-up. */
  self->wake_generation++;
  if (self->cheap_len > 0)
    schedule (self, MAX (self->cheap[0].finish_ns, now), EV_WAKE,
              self->wake_generation);
}

/* Orders finished flows by their place in the active list. */
static int
cmp_active_pos (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Flow *flows = user_data;
  guint pa = flows[*(const guint *) a].active_pos, pb = flows[*(const guint *) b].active_pos;
  return pa < pb ? -1 : pa > pb;
}

/* Finishes every flow whose bytes have drained (within one nanosecond of its rate). */
static void
complete_flows (AfdNetsim *self)
{
  Flow *flows = (Flow *) self->flows->data;
  AfdTime now = afd_engine_now (self->engine);
  self->finished.len = 0;
  /* Candidates: every flow predicted to finish within the window (the heap entries with a
   * key up to the window's end form a subtree at the root: walked depth-first, in place);
   * the test itself is the drained-bytes one, at now. Only the flows that pass leave the
   * heap; the order they are found in does not matter (sorted below). */
  UVec *stack = &self->bfs;
  stack->len = 0;
  AfdTime window = now + self->max_slop_ns;
  if (self->cheap_len > 0 && self->cheap[0].finish_ns <= window)
    uvec_push (stack, 0);
  while (stack->len > 0)
    {
      guint i = stack->v[--stack->len];
      guint id = self->cheap[i].id;
      const Flow *f = &flows[id];
      double rem = f->remaining - f->rate * afd_time_to_seconds (now - f->since_ns);
      if (rem <= f->rate * 1e-9 + 1e-9 * f->bytes)
        uvec_push (&self->finished, id);
      for (guint c = 2 * i + 1; c <= 2 * i + 2 && c < self->cheap_len; c++)
        if (self->cheap[c].finish_ns <= window)
          uvec_push (stack, c);
    }
  for (guint i = 0; i < self->finished.len; i++)
    cheap_remove (self, flows, self->finished.v[i]);
  guint n = self->finished.len;
  /* The order of the active list (the order of the former full scan). */
  if (n > 16 && (guint64) n * g_bit_storage (n) > self->active.len)
    {
      /* Many finish at once (a symmetric all-to-all finishes a whole step in one instant):
       * one pass over the active list picks them in its order, instead of an n log n sort. */
      if (self->finish_mark_len < self->flows->len)
        {
          guint old = self->finish_mark_len;
          self->finish_mark_len = MAX (self->flows->len, 2 * old);
          self->finish_mark = g_realloc (self->finish_mark, self->finish_mark_len);
          memset (self->finish_mark + old, 0, self->finish_mark_len - old);
        }
      for (guint i = 0; i < n; i++)
        self->finish_mark[self->finished.v[i]] = 1;
      guint k = 0;
      for (guint i = 0; i < self->active.len && k < n; i++)
        {
          guint id = self->active.v[i];
          if (self->finish_mark[id])
            {
              self->finish_mark[id] = 0;
              self->finished.v[k++] = id;
            }
        }
      g_assert (k == n);
    }
  else if (n > 16)
    g_qsort_with_data (self->finished.v, (gint) n, sizeof (guint), cmp_active_pos, flows);
  else
    for (guint i = 1; i < n; i++)
      {
        /* Insertion sort (positions are distinct: the same order as the sort above). */
        guint *v = self->finished.v, x = v[i], j = i;
        for (; j > 0 && flows[v[j - 1]].active_pos > flows[x].active_pos; j--)
          v[j] = v[j - 1];
        v[j] = x;
      }
  /* A private copy: sender callbacks below may re-enter and reuse the scratch vector (on
   * the stack when small: most instants finish one flow). */
  guint small[32], gh_small[32], gt_small[32];
  AfdTime gtime_small[32];
  gboolean many = n > G_N_ELEMENTS (small);
  g_autofree guint *big = many ? g_new (guint, 3 * n) : NULL;
  g_autofree AfdTime *gtime_big = many ? g_new (AfdTime, n) : NULL;
  guint *done = many ? big : small;
  /* Deliveries due at the same time go out as one event: a chain of records in this loop's
   * order (Record.next). One event per flow would have run them back to back in that order
   * (consecutive sequence numbers at one time, and what their callbacks schedule comes
   * after all of them), so nothing changes but the number of events. */
  guint *ghead = many ? big + n : gh_small, *gtail = many ? big + 2 * n : gt_small;
  AfdTime *gtime = many ? gtime_big : gtime_small;
  guint n_groups = 0;
  memcpy (done, self->finished.v, sizeof (guint) * n);
  guint n_sent = 0;
  for (guint i = 0; i < n; i++)
    {
      guint id = done[i];
      Flow *f = &g_array_index (self->flows, Flow, id);
      self->stats.flows_finished++;
      AfdTime at = time_after_ns (self, now, f->latency_ns, "a route's latency");
      guint g = 0;
      while (g < n_groups && gtime[g] != at)
        g++;
      if (g == n_groups)
        {
          gtime[n_groups] = at;
          ghead[n_groups++] = f->record;
        }
      else
        g_array_index (self->records, Record, gtail[g]).next = f->record;
      gtail[g] = f->record;
      if (f->want_sent)
        done[n_sent++] = f->record; /* n_sent <= i: reuses slots already read */
      detach_flow (self, id);
    }
  for (guint g = 0; g < n_groups; g++)
    schedule (self, gtime[g], EV_DELIVER, ghead[g]);
  if (self->active.len == 0)
    self->max_slop_ns = 0;
  if (n > 0 || self->active.len > 0)
    mark_dirty (self);
  /* Sender-side callbacks last: they may start new flows (and reuse flow slots). The
   * records stay valid until their delivery event, which comes later. */
  for (guint i = 0; i < n_sent; i++)
    {
      Record r = g_array_index (self->records, Record, done[i]);
      if (r.func != NULL)
        r.func (self, AFD_TRANSFER_SENT, r.user_data, r.tag);
    }
}

/* The engine handler for all of this module's events. */
static void
handle_event (AfdEngine *engine, const AfdEvent *event, gpointer user_data)
{
  AfdNetsim *self = user_data;
  switch (event->target)
    {
    case EV_RECOMPUTE:
      self->recompute_pending = FALSE;
      recompute (self);
      break;
    case EV_WAKE:
      if (event->arg == self->wake_generation)
        complete_flows (self);
      break;
    case EV_DELIVER:
      /* Each record is read and freed before its callback, which may reuse it. */
      for (guint id = (guint) event->arg; id != G_MAXUINT;)
        {
          Record r = g_array_index (self->records, Record, id);
          uvec_push (&self->free_records, id);
          self->stats.bytes_delivered += r.bytes;
          if (r.func != NULL)
            r.func (self, AFD_TRANSFER_DELIVERED, r.user_data, r.tag);
          id = r.next;
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

void
afd_netsim_link_stats (const AfdNetsim *self, guint link, AfdLinkStats *out_stats)
{
  g_return_if_fail (link < self->n_links);
  const LinkState *ls = &self->links[link];
  out_stats->bytes = ls->bytes;
  out_stats->busy_s = ls->busy_s;
  if (ls->n_ids > 0)
    out_stats->busy_s += afd_time_to_seconds (afd_engine_now (self->engine) - ls->busy_since);
}

void
afd_netsim_stats (const AfdNetsim *self, AfdNetsimStats *out_stats)
{
  *out_stats = self->stats;
}

guint
afd_netsim_active_flows (const AfdNetsim *self)
{
  return self->active.len;
}

gboolean
afd_netsim_check_horizon (const AfdNetsim *self, GError **error)
{
  if (self->horizon_error == NULL)
    return TRUE;
  g_set_error_literal (error, AFD_ERROR, AFD_ERROR_CONFIG, self->horizon_error);
  return FALSE;
}
