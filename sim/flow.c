/* SPDX-License-Identifier: MIT */
/*
 * flow.c - the flow-level network simulator: max-min fair sharing by progressive filling.
 *
 * Model (docs/models/network.md): at any instant every flow in flight has a rate; the rates
 * are the max-min fair allocation of the link capacities (no link over capacity, and no flow
 * can gain without taking from a flow with a smaller or equal rate). Progressive filling
 * finds it: raise all unfixed flows' rates together, fix the flows of the link that saturates
 * first, repeat. A heap of links keyed by their fair share (remaining capacity / unfixed
 * flows; built in O(L), keys raised lazily when popped; the pass stops once every flow is
 * fixed) makes one pass about O(E + L log L) for E flow-link incidences and L busy links.
 * Rates are recomputed once per instant at which flows start or finish (a deferred event
 * collects every change of that instant), and only over the connected components (of the
 * flow-link graph) that contain a link whose flows changed: max-min rates decompose over
 * components, so flows elsewhere keep theirs. Draining and the search for the next
 * completion are one O(F) loop each per instant. Completion times are rounded to nanoseconds
 * by round_ns(), the one place that calls afd_time_from_seconds() here.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/network.h"

enum {
  EV_RECOMPUTE = 0, /* recompute rates (deferred to the end of the instant's changes) */
  EV_WAKE,          /* the earliest predicted completion; arg = generation */
  EV_DELIVER,       /* a flow's delivery; arg = delivery record */
};

typedef struct {
  double bytes;     /* wire bytes */
  double remaining; /* bytes not yet drained */
  double rate;      /* bytes/s */
  AfdTime latency_ns;
  guint record; /* delivery record index */
  guint nlinks;
  guint active_pos;
  gboolean want_sent;
  guint links[AFD_NETWORK_MAX_HOPS];
  guint pos[AFD_NETWORK_MAX_HOPS]; /* index of this flow in each link's flow list */
} Flow;

typedef struct {
  AfdTransferFunc func;
  gpointer user_data;
  guint64 tag;
  double bytes;
} Record;

typedef struct {
  double capacity; /* bytes/s */
  guint *ids;      /* flow ids on the link */
  guint n_ids, cap_ids;
  guint active_pos;
  AfdTime busy_since;
  double busy_s;
  double bytes;
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
  AfdNetwork *network;
  const AfdCluster *cluster;
  AfdEngine *engine;
  guint32 handler;
  LinkState *links;
  const AfdLink *cluster_links; /* contiguous (sim/cluster.h) */
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
  guint *flow_mark;     /* per flow slot: component search epoch */
  guint fixed_len;
  UVec dirty_links;
  UVec comp_links, comp_flows, bfs; /* scratch of the component search */
  guint epoch;
  AfdTime last_advance_ns;
  gboolean recompute_pending;
  guint64 wake_generation;
  AfdNetsimStats stats;
};

/* The one place where this module turns seconds into nanoseconds. */
static AfdTime
round_ns (double seconds)
{
  return afd_time_from_seconds (seconds);
}

static void handle_event (AfdEngine *engine, const AfdEvent *event, gpointer user_data);

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
  self->cluster_links = self->n_links > 0 ? afd_cluster_link (self->cluster, 0) : NULL;
  for (guint l = 0; l < self->n_links; l++)
    {
      self->links[l].capacity = afd_cluster_link (self->cluster, l)->bandwidth_bytes_per_s;
    }
  self->flows = g_array_new (FALSE, FALSE, sizeof (Flow));
  self->records = g_array_new (FALSE, FALSE, sizeof (Record));
  self->last_advance_ns = afd_engine_now (engine);
  return self;
}

void
afd_netsim_free (AfdNetsim *self)
{
  if (self == NULL)
    return;
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
  g_free (self->flow_mark);
  g_free (self->dirty_links.v);
  g_free (self->comp_links.v);
  g_free (self->comp_flows.v);
  g_free (self->bfs.v);
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

/* Drains every active flow at its current rate up to now. */
static void
advance (AfdNetsim *self)
{
  AfdTime now = afd_engine_now (self->engine);
  if (now == self->last_advance_ns)
    return;
  double dt = afd_time_to_seconds (now - self->last_advance_ns);
  Flow *flows = (Flow *) self->flows->data;
  const guint *act = self->active.v;
  for (guint i = 0; i < self->active.len; i++)
    {
      Flow *f = &flows[act[i]];
      f->remaining -= f->rate * dt;
    }
  self->last_advance_ns = now;
}

/* Notes that the flows on @l changed, so its component needs new rates. */
static inline void
dirty_link (AfdNetsim *self, guint l)
{
  if (!self->links[l].dirty)
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
  Record r = { func, user_data, tag, bytes };
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
      schedule (self, now + round_ns (lat), EV_DELIVER, record);
      return;
    }
  advance (self);
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
  f->nlinks = afd_network_route (self->network, src, dst, f->links);
  double lat = extra_latency_s;
  for (guint k = 0; k < f->nlinks; k++)
    {
      guint l = f->links[k];
      LinkState *ls = &self->links[l];
      lat += self->cluster_links[l].latency_s;
      if (ls->n_ids == ls->cap_ids)
        {
          ls->cap_ids = MAX (4u, 2 * ls->cap_ids);
          ls->ids = g_renew (guint, ls->ids, ls->cap_ids);
        }
      f->pos[k] = ls->n_ids;
      ls->ids[ls->n_ids++] = id;
      dirty_link (self, l);
      if (ls->n_ids == 1)
        {
          ls->busy_since = now;
          ls->active_pos = self->active_links.len;
          uvec_push (&self->active_links, l);
        }
    }
  f->latency_ns = round_ns (lat);
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
  for (guint k = 0; k < f->nlinks; k++)
    {
      LinkState *ls = &self->links[f->links[k]];
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
      ls->n_ids--;
      ls->bytes += f->bytes;
      dirty_link (self, f->links[k]);
      if (ls->n_ids == 0)
        {
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

/* Collects into comp_links / comp_flows the components reachable from the dirty links. */
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
      self->links[l0].dirty = FALSE;
      if (self->links[l0].mark == epoch || self->links[l0].n_ids == 0)
        continue;
      self->links[l0].mark = epoch;
      uvec_push (&self->bfs, l0);
      while (self->bfs.len > 0)
        {
          guint l = self->bfs.v[--self->bfs.len];
          LinkState *ls = &self->links[l];
          uvec_push (&self->comp_links, l);
          for (guint j = 0; j < ls->n_ids; j++)
            {
              guint id = ls->ids[j];
              if (self->flow_mark[id] == epoch)
                continue;
              self->flow_mark[id] = epoch;
              uvec_push (&self->comp_flows, id);
              const Flow *f = &flows[id];
              for (guint k = 0; k < f->nlinks; k++)
                if (self->links[f->links[k]].mark != epoch)
                  {
                    self->links[f->links[k]].mark = epoch;
                    uvec_push (&self->bfs, f->links[k]);
                  }
            }
        }
    }
  self->dirty_links.len = 0;
}

/* Progressive filling over the changed components, then schedules the next completion. */
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
      self->flow_mark = g_renew (guint, self->flow_mark, self->fixed_len);
      memset (self->flow_mark + old, 0, sizeof (guint) * (self->fixed_len - old));
    }
  collect_components (self);
  const guint *cf = self->comp_flows.v;
  for (guint i = 0; i < self->comp_flows.len; i++)
    self->fixed[cf[i]] = 0;
  /* The component's links at their initial share, heapified in O(L) (Floyd). */
  const guint *al = self->comp_links.v;
  guint nl = self->comp_links.len;
  if (self->heap_cap < nl)
    {
      self->heap_cap = MAX (nl, 2 * self->heap_cap);
      self->heap = g_renew (HeapItem, self->heap, self->heap_cap);
    }
  for (guint i = 0; i < nl; i++)
    {
      LinkState *ls = &self->links[al[i]];
      ls->rem = ls->capacity;
      ls->unfixed = ls->n_ids;
      self->heap[i].share = ls->rem / ls->unfixed;
      self->heap[i].link = al[i];
    }
  self->heap_len = nl;
  for (guint i = nl / 2; i-- > 0;)
    heap_sift_down (self, i);
  guint unfixed_flows = self->comp_flows.len;
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
      double share = MAX (cur, 1e-12 * ls->capacity);
      const guint *lf = ls->ids;
      for (guint i = 0; i < ls->n_ids; i++)
        {
          guint id = lf[i];
          if (self->fixed[id])
            continue;
          self->fixed[id] = 1;
          unfixed_flows--;
          Flow *f = &flows[id];
          f->rate = share;
          for (guint k = 0; k < f->nlinks; k++)
            {
              LinkState *o = &self->links[f->links[k]];
              o->rem -= share;
              o->unfixed--;
            }
        }
    }
  /* The earliest completion decides the next wake-up. */
  AfdTime now = afd_engine_now (self->engine), next = AFD_TIME_MAX;
  const guint *act = self->active.v;
  for (guint i = 0; i < self->active.len; i++)
    {
      const Flow *f = &flows[act[i]];
      AfdTime t = now + round_ns (MAX (f->remaining, 0.0) / f->rate);
      next = MIN (next, t);
    }
  self->wake_generation++;
  if (next != AFD_TIME_MAX)
    schedule (self, next, EV_WAKE, self->wake_generation);
}

/* Finishes every flow whose bytes have drained (within one nanosecond of its rate). */
static void
complete_flows (AfdNetsim *self)
{
  advance (self);
  Flow *flows = (Flow *) self->flows->data;
  const guint *act = self->active.v;
  self->finished.len = 0;
  for (guint i = 0; i < self->active.len; i++)
    {
      const Flow *f = &flows[act[i]];
      if (f->remaining <= f->rate * 1e-9 + 1e-9 * f->bytes)
        uvec_push (&self->finished, act[i]);
    }
  AfdTime now = afd_engine_now (self->engine);
  guint n = self->finished.len;
  /* A private copy: sender callbacks below may re-enter and reuse the scratch vector. */
  g_autofree guint *done = g_memdup2 (self->finished.v, sizeof (guint) * MAX (n, 1));
  guint n_sent = 0;
  for (guint i = 0; i < n; i++)
    {
      guint id = done[i];
      Flow *f = &g_array_index (self->flows, Flow, id);
      self->stats.flows_finished++;
      schedule (self, now + f->latency_ns, EV_DELIVER, f->record);
      if (f->want_sent)
        done[n_sent++] = f->record; /* n_sent <= i: reuses slots already read */
      detach_flow (self, id);
    }
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
      advance (self);
      recompute (self);
      break;
    case EV_WAKE:
      if (event->arg == self->wake_generation)
        complete_flows (self);
      break;
    case EV_DELIVER:
      {
        guint id = (guint) event->arg;
        Record r = g_array_index (self->records, Record, id);
        uvec_push (&self->free_records, id);
        self->stats.bytes_delivered += r.bytes;
        if (r.func != NULL)
          r.func (self, AFD_TRANSFER_DELIVERED, r.user_data, r.tag);
        break;
      }
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
