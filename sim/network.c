/* SPDX-License-Identifier: MIT */
/*
 * network.c - routing: shortest paths (hop count) that never transit a GPU; among those,
 * the widest (largest bottleneck bandwidth); ECMP by a stable hash on the remaining ties.
 * Per destination, one breadth-first search over the reversed graph gives every vertex its
 * distance to the destination and its candidate next hops; routes then take one candidate
 * per hop. When vertices × GPUs is small enough the next hops live in one vertex-major
 * matrix, one column per destination built on first use (cache-friendly for many routes at
 * once); otherwise (large clusters) every column is built once, on the first route, and each
 * vertex's row of next hops over the destinations is stored run-length encoded: a run is a
 * first destination and the entry every destination up to the next run shares, found by
 * binary search. Rows are short (a spine's row changes once per leaf, a NIC's once or twice),
 * so the whole index stays in cache where the matrix (V × GPUs entries: 579 MB at 8192 GPUs)
 * cost a cache and TLB miss per hop. Both modes store the same entries, so they give the same
 * routes (test network/compressed_routes_match_dense). Routes asked for more than once are
 * also kept per GPU pair (bounded, clusters of up to 4096 GPUs), since collectives on the flow
 * network route the same pairs layer after layer.
 */
#include "config.h"

#include <string.h>

#include "sim/network.h"

struct _AfdNetwork {
  const AfdCluster *cluster;
  guint vertex_count;
  AfdNetworkRouteMode mode; /* DENSE or COMPRESSED */
  guint *dist, *queue; /* scratch */
  double *width;       /* scratch: bottleneck bandwidth toward the destination */
  const AfdLink *links; /* the cluster's directed links, contiguous (hot loops index it) */
  /* Dense mode (V × GPUs small enough): next[v * ngpu + dst] = the next link from v toward
   * dst, or DENSE_MULTI | offset into ovf ([count, link, link, …]) on ECMP ties. Vertex-major
   * so that routes toward consecutive destinations through a shared switch touch
   * consecutive memory. */
  guint *next;
  gboolean *built;
  GArray *ovf;
  guint *cand_scratch; /* max out-degree entries */
  /* Compressed mode: row v's runs are runs[2k], runs[2k + 1] for k in [run_start[v],
   * run_start[v + 1]), first destinations increasing from 0; the entry toward dst is that of
   * the last run starting at or before dst (entries as in dense mode, sharing ovf). Built on
   * the first route. */
  guint *run_start, *runs; /* runs[2k]: first destination, runs[2k + 1]: entry */
  guint *run_last;          /* per vertex: the run its last lookup found (a hint only) */
  guint *link_dst;          /* per link: its head vertex (4 B a link: stays in cache) */
  /* Route cache per GPU pair (collectives route the same pairs again and again): state[src *
   * ngpu + dst] is 0 before the first request, 1 after it, n + 1 once the n-link route is
   * stored in rows[src] (stored from the second request on, so pairs asked once cost no
   * memory). Rows are allocated per source, within ROUTE_CACHE_MAX_BYTES in all; past it,
   * routes are walked as without the cache. The cached route is the walked one. */
  guint8 *route_state;
  guint **route_rows;
  gsize route_bytes;
};

#define DENSE_MULTI 0x80000000u
#define DENSE_MAX_ENTRIES (4u << 20) /* 16 MiB of next hops; past it, compressed rows */
#define ROUTE_CACHE_HOPS 8                 /* longer routes are not cached */
#define ROUTE_CACHE_MAX_GPUS 4096          /* pair states: at most 16 MiB */
#define ROUTE_CACHE_MAX_BYTES (64u << 20) /* cached routes, all rows */

const char *
afd_network_fidelity_name (AfdNetworkFidelity fidelity)
{
  return fidelity == AFD_NETWORK_FLOW ? "flow" : "analytic";
}

gboolean
afd_network_fidelity_from_name (const char *name, AfdNetworkFidelity *out_fidelity)
{
  if (g_strcmp0 (name, "analytic") == 0)
    *out_fidelity = AFD_NETWORK_ANALYTIC;
  else if (g_strcmp0 (name, "flow") == 0)
    *out_fidelity = AFD_NETWORK_FLOW;
  else
    return FALSE;
  return TRUE;
}

AfdNetwork *
afd_network_new_with_mode (const AfdCluster *cluster, AfdNetworkRouteMode mode)
{
  g_return_val_if_fail (cluster != NULL, NULL);
  AfdNetwork *self = g_new0 (AfdNetwork, 1);
  guint g = afd_cluster_gpu_count (cluster);
  self->cluster = cluster;
  self->vertex_count = afd_cluster_vertex_count (cluster);
  self->dist = g_new (guint, self->vertex_count);
  self->queue = g_new (guint, self->vertex_count);
  self->width = g_new (double, self->vertex_count);
  self->links = afd_cluster_link_count (cluster) > 0 ? afd_cluster_link (cluster, 0) : NULL;
  self->link_dst = g_new (guint, MAX (1u, afd_cluster_link_count (cluster)));
  for (guint l = 0; l < afd_cluster_link_count (cluster); l++)
    self->link_dst[l] = self->links[l].dst;
  guint max_degree = 1;
  for (guint v = 0; v < self->vertex_count; v++)
    {
      guint n_out;
      afd_cluster_out_links (cluster, v, &n_out);
      max_degree = MAX (max_degree, n_out);
    }
  self->cand_scratch = g_new (guint, max_degree);
  if (mode == AFD_NETWORK_ROUTES_AUTO)
    mode = (guint64) self->vertex_count * g <= DENSE_MAX_ENTRIES ? AFD_NETWORK_ROUTES_DENSE
                                                                 : AFD_NETWORK_ROUTES_COMPRESSED;
  self->mode = mode;
  self->ovf = g_array_new (FALSE, FALSE, sizeof (guint));
  if (mode == AFD_NETWORK_ROUTES_DENSE)
    {
      self->next = g_new (guint, (gsize) self->vertex_count * g);
      self->built = g_new0 (gboolean, g);
    }
  if (g <= ROUTE_CACHE_MAX_GPUS)
    {
      self->route_state = g_new0 (guint8, (gsize) g * g);
      self->route_rows = g_new0 (guint *, g);
    }
  return self;
}

AfdNetwork *
afd_network_new (const AfdCluster *cluster)
{
  return afd_network_new_with_mode (cluster, AFD_NETWORK_ROUTES_AUTO);
}

AfdNetworkRouteMode
afd_network_route_mode (const AfdNetwork *self)
{
  return self->mode;
}

gsize
afd_network_route_bytes (const AfdNetwork *self)
{
  gsize g = afd_cluster_gpu_count (self->cluster), bytes = self->ovf->len * sizeof (guint);
  if (self->next != NULL)
    bytes += sizeof (guint) * self->vertex_count * g;
  if (self->run_start != NULL)
    bytes += sizeof (guint)
             * (self->vertex_count + 1 + 2 * (gsize) self->run_start[self->vertex_count]);
  if (self->route_state != NULL)
    bytes += g * g + self->route_bytes;
  return bytes;
}

void
afd_network_free (AfdNetwork *self)
{
  if (self == NULL)
    return;
  g_free (self->dist);
  g_free (self->queue);
  g_free (self->width);
  g_free (self->next);
  g_free (self->built);
  g_free (self->cand_scratch);
  g_free (self->run_start);
  g_free (self->runs);
  g_free (self->run_last);
  g_free (self->link_dst);
  if (self->route_rows != NULL)
    for (guint i = 0; i < afd_cluster_gpu_count (self->cluster); i++)
      g_free (self->route_rows[i]);
  g_free (self->route_rows);
  g_free (self->route_state);
  if (self->ovf != NULL)
    g_array_unref (self->ovf);
  g_free (self);
}

const AfdCluster *
afd_network_cluster (const AfdNetwork *self)
{
  return self->cluster;
}

/* Breadth-first search from GPU @dst over the reversed graph (links come in pairs, so the
 * reverse of an out-link is an in-link of the same capacity): fills self->dist and the
 * discovery order self->queue; returns how many vertices were reached. */
static guint
search_from (AfdNetwork *self, guint dst)
{
  const AfdCluster *c = self->cluster;
  guint nv = self->vertex_count, ngpu = afd_cluster_gpu_count (c);
  guint *dist = self->dist, *queue = self->queue;
  for (guint v = 0; v < nv; v++)
    dist[v] = G_MAXUINT;
  guint head = 0, tail = 0;
  dist[dst] = 0;
  queue[tail++] = dst;
  while (head < tail)
    {
      guint v = queue[head++];
      if (v != dst && v < ngpu)
        continue; /* GPUs are endpoints: never expand through them */
      guint n_out;
      const guint *out = afd_cluster_out_links (c, v, &n_out);
      for (guint k = 0; k < n_out; k++)
        {
          guint w = self->links[out[k]].dst;
          if (dist[w] == G_MAXUINT)
            {
              dist[w] = dist[v] + 1;
              queue[tail++] = w;
            }
        }
    }
  return tail;
}

/* The widest bottleneck from @v toward dst over its shortest-path next hops (self->width of
 * the next hops must be known: vertices are visited in discovery order). */
static inline double
widest_next (AfdNetwork *self, guint v, guint dst, guint ngpu)
{
  const guint *dist = self->dist;
  guint n_out;
  const guint *out = afd_cluster_out_links (self->cluster, v, &n_out);
  double best = 0;
  for (guint k = 0; k < n_out; k++)
    {
      const AfdLink *l = &self->links[out[k]];
      if (dist[l->dst] + 1 == dist[v] && (l->dst == dst || l->dst >= ngpu))
        best = MAX (best, MIN (l->bandwidth_bytes_per_s, self->width[l->dst]));
    }
  return best;
}

/* A stable 64-bit mix (splitmix64 finaliser) of the ECMP key. */
static guint64
ecmp_hash (guint src, guint dst, guint v)
{
  guint64 z = ((guint64) src << 40) ^ ((guint64) dst << 20) ^ v;
  z += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Computes column @dst of the next-hop matrix: out[v * stride] for every vertex v, G_MAXUINT
 * where there is no next hop (dst itself, vertices that cannot reach it), the one link, or
 * DENSE_MULTI | offset into ovf ([count, link, link, …]) on ECMP ties. With @prev (compressed
 * mode: each row's last entry), a tie with the same candidates as prev[v] reuses its ovf
 * entry, so equal rows stay one run. */
static void
build_column (AfdNetwork *self, guint dst, guint *out, gsize stride, const guint *prev)
{
  guint ngpu = afd_cluster_gpu_count (self->cluster), nv = self->vertex_count;
  guint tail = search_from (self, dst);
  for (guint v = 0; v < nv; v++)
    if (self->dist[v] == G_MAXUINT)
      out[v * stride] = G_MAXUINT;
  out[dst * stride] = G_MAXUINT;
  self->width[dst] = G_MAXDOUBLE;
  guint *cand = self->cand_scratch;
  for (guint i = 1; i < tail; i++)
    {
      guint v = self->queue[i];
      double best = widest_next (self, v, dst, ngpu);
      self->width[v] = best;
      guint n_out, n = 0;
      const guint *o = afd_cluster_out_links (self->cluster, v, &n_out);
      for (guint k = 0; k < n_out; k++)
        {
          const AfdLink *l = &self->links[o[k]];
          if (self->dist[l->dst] + 1 == self->dist[v] && (l->dst == dst || l->dst >= ngpu)
              && MIN (l->bandwidth_bytes_per_s, self->width[l->dst]) >= best * (1 - 1e-12))
            cand[n++] = o[k];
        }
      guint e = G_MAXUINT;
      if (n == 1)
        e = cand[0];
      else if (n > 1)
        {
          if (prev != NULL && prev[v] != G_MAXUINT && (prev[v] & DENSE_MULTI))
            {
              const guint *p = &g_array_index (self->ovf, guint, prev[v] & ~DENSE_MULTI);
              if (p[0] == n && memcmp (p + 1, cand, sizeof (guint) * n) == 0)
                e = prev[v];
            }
          if (e == G_MAXUINT)
            {
              e = DENSE_MULTI | self->ovf->len;
              g_array_append_val (self->ovf, n);
              g_array_append_vals (self->ovf, cand, n);
            }
        }
      out[v * stride] = e;
    }
}

/* Compressed mode: builds every column once, in destination order, appending a run to a
 * row wherever its entry changes. */
static void
build_runs (AfdNetwork *self)
{
  guint ngpu = afd_cluster_gpu_count (self->cluster), nv = self->vertex_count;
  g_autofree guint *col = g_new (guint, nv);
  g_autofree guint *prev = g_new (guint, nv);
  g_autofree GArray **rows = g_new (GArray *, nv); /* per vertex: (dst, entry) pairs */
  for (guint v = 0; v < nv; v++)
    rows[v] = g_array_new (FALSE, FALSE, sizeof (guint) * 2);
  for (guint dst = 0; dst < ngpu; dst++)
    {
      build_column (self, dst, col, 1, dst > 0 ? prev : NULL);
      for (guint v = 0; v < nv; v++)
        if (dst == 0 || col[v] != prev[v])
          {
            guint run[2] = { dst, col[v] };
            g_array_append_val (rows[v], run);
            prev[v] = col[v];
          }
    }
  gsize total = 0;
  for (guint v = 0; v < nv; v++)
    total += rows[v]->len;
  if (total >= G_MAXUINT / 2)
    g_error ("afd_network: cluster %s needs %" G_GSIZE_FORMAT " route runs, more than the "
             "index holds (2^31)", afd_cluster_name (self->cluster), total);
  self->run_start = g_new (guint, nv + 1);
  self->runs = g_new (guint, 2 * total);
  guint k = 0;
  for (guint v = 0; v < nv; v++)
    {
      self->run_start[v] = k;
      memcpy (self->runs + 2 * (gsize) k, rows[v]->data, sizeof (guint) * 2 * rows[v]->len);
      k += rows[v]->len;
      g_array_free (rows[v], TRUE);
    }
  self->run_start[nv] = k;
  self->run_last = g_memdup2 (self->run_start, sizeof (guint) * nv);
}

/* Compressed mode: the entry of vertex @v toward @dst. The run found last time at v is
 * tried first (most hops stay in long runs: a GPU's or NIC's uplink, a leaf's uplink), then
 * a binary search. */
static inline guint
run_entry (AfdNetwork *self, guint v, guint dst)
{
  guint lo = self->run_start[v], hi = self->run_start[v + 1];
  if (lo == hi)
    return G_MAXUINT;
  const guint *runs = self->runs;
  guint k = self->run_last[v];
  if (runs[2 * (gsize) k] <= dst && (k + 1 == hi || runs[2 * (gsize) k + 2] > dst))
    return runs[2 * (gsize) k + 1];
  /* The last run starting at or before dst: the first run starts at 0, so lo qualifies. */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;
      if (runs[2 * (gsize) mid] <= dst)
        lo = mid;
      else
        hi = mid;
    }
  self->run_last[v] = lo;
  return runs[2 * (gsize) lo + 1];
}

/* Asked for a route the cluster does not have: a programming error (the loader checks every
 * GPU pair; a fault's cluster may leave GPUs cut off, sim/fault.h, and those get no op). */
G_GNUC_NORETURN static void
no_route (const AfdNetwork *self, guint src, guint dst)
{
  g_error ("afd_network_route: cluster %s has no route from GPU '%s' to GPU '%s' (a GPU cut "
           "off by failed links counts as failed and must get no op)",
           afd_cluster_name (self->cluster), afd_cluster_vertex_name (self->cluster, src),
           afd_cluster_vertex_name (self->cluster, dst));
}

/* Walks the route from @src to @dst (no cache). */
static guint
route_walk (AfdNetwork *self, guint src, guint dst, guint *out_links)
{
  guint ngpu = afd_cluster_gpu_count (self->cluster);
  gboolean dense = self->next != NULL;
  if (dense && !self->built[dst])
    {
      build_column (self, dst, self->next + dst, ngpu, NULL);
      self->built[dst] = TRUE;
    }
  else if (!dense && self->run_start == NULL)
    build_runs (self);
  guint v = src, n = 0;
  while (v != dst)
    {
      guint e = dense ? self->next[(gsize) v * ngpu + dst] : run_entry (self, v, dst), link;
      if (e == G_MAXUINT)
        no_route (self, src, dst);
      g_assert (n < AFD_NETWORK_MAX_HOPS); /* loader checked routes */
      if (e & DENSE_MULTI)
        {
          const guint *o = &g_array_index (self->ovf, guint, e & ~DENSE_MULTI);
          link = o[1 + (guint) (ecmp_hash (src, dst, v) % o[0])];
        }
      else
        link = e;
      out_links[n++] = link;
      v = self->link_dst[link];
    }
  return n;
}

guint
afd_network_route (AfdNetwork *self, guint src, guint dst, guint *out_links)
{
  guint ngpu = afd_cluster_gpu_count (self->cluster);
  g_return_val_if_fail (src < ngpu && dst < ngpu && src != dst, 0);
  if (self->route_state == NULL)
    return route_walk (self, src, dst, out_links);
  guint8 *state = &self->route_state[(gsize) src * ngpu + dst];
  if (*state > 1)
    {
      guint n = *state - 1u;
      memcpy (out_links, &self->route_rows[src][(gsize) dst * ROUTE_CACHE_HOPS],
              sizeof (guint) * n);
      return n;
    }
  guint n = route_walk (self, src, dst, out_links);
  if (*state == 0)
    *state = 1;
  else if (n <= ROUTE_CACHE_HOPS)
    {
      if (self->route_rows[src] == NULL)
        {
          gsize row = sizeof (guint) * ROUTE_CACHE_HOPS * ngpu;
          if (self->route_bytes + row > ROUTE_CACHE_MAX_BYTES)
            return n;
          self->route_bytes += row;
          self->route_rows[src] = g_new (guint, (gsize) ROUTE_CACHE_HOPS * ngpu);
        }
      memcpy (&self->route_rows[src][(gsize) dst * ROUTE_CACHE_HOPS], out_links,
              sizeof (guint) * n);
      *state = (guint8) (n + 1);
    }
  return n;
}

gboolean
afd_network_path (AfdNetwork *self, guint src, guint dst, double *out_bandwidth_bytes_per_s,
                  double *out_latency_s)
{
  guint links[AFD_NETWORK_MAX_HOPS];
  guint n = afd_network_route (self, src, dst, links);
  double bw = G_MAXDOUBLE, lat = 0;
  gboolean out = FALSE;
  for (guint i = 0; i < n; i++)
    {
      const AfdLink *l = afd_cluster_link (self->cluster, links[i]);
      bw = MIN (bw, l->bandwidth_bytes_per_s);
      lat += l->latency_s;
      out = out || l->scale_out;
    }
  if (out_bandwidth_bytes_per_s != NULL)
    *out_bandwidth_bytes_per_s = bw;
  if (out_latency_s != NULL)
    *out_latency_s = lat;
  return out;
}
