/* SPDX-License-Identifier: MIT */
/*
 * cluster.c - cluster graphs: the generator, the JSON loader (both forms) and validation.
 *
 * The generator expands N nodes x G GPUs with an NVSwitch or an NVLink mesh inside each node
 * and NICs on a single switch, a two-level fat-tree (leaves and spines, with an
 * oversubscription ratio) or rails. The format is documented in
 * docs/user/topology-format.md. Nothing here routes or times anything (sim/network.c does).
 */
#include "config.h"

#include <string.h>

#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/types.h"

typedef struct {
  char *name;
  AfdVertexKind kind;
  gboolean network; /* switch kind "network" (scale-out) rather than an NVSwitch */
} Vertex;

struct _AfdCluster {
  char *name;
  AfdGpuSpec *gpu;
  gboolean nvls;
  gboolean links_scaled; /* a fault copy with some link scaled or removed: not uniform */
  guint gpu_count;
  guint node_count;
  guint *gpu_node;   /* per GPU */
  guint *gpu_local;  /* per GPU: index inside its node */
  guint *node_first; /* per node: first GPU */
  guint *node_gpus;  /* per node: GPU count */
  guint max_gpus_per_node;
  GArray *vertices; /* Vertex */
  GArray *links;    /* AfdLink */
  guint *adj_start; /* CSR: out links of v are adj[adj_start[v] .. adj_start[v+1]) */
  guint *adj;
};

void
afd_cluster_free (AfdCluster *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  afd_gpu_spec_free (self->gpu);
  g_free (self->gpu_node);
  g_free (self->gpu_local);
  g_free (self->node_first);
  g_free (self->node_gpus);
  if (self->vertices != NULL)
    {
      for (guint i = 0; i < self->vertices->len; i++)
        g_free (g_array_index (self->vertices, Vertex, i).name);
      g_array_unref (self->vertices);
    }
  if (self->links != NULL)
    g_array_unref (self->links);
  g_free (self->adj_start);
  g_free (self->adj);
  g_free (self);
}

/* Starts an empty cluster with @gpu_count GPUs spread over nodes of @node_sizes. */
static AfdCluster *
cluster_new (const char *name, guint node_count, const guint *node_sizes)
{
  AfdCluster *c = g_new0 (AfdCluster, 1);
  c->name = g_strdup (name);
  c->node_count = node_count;
  c->node_first = g_new0 (guint, node_count);
  c->node_gpus = g_new0 (guint, node_count);
  for (guint n = 0; n < node_count; n++)
    {
      c->node_first[n] = c->gpu_count;
      c->node_gpus[n] = node_sizes[n];
      c->gpu_count += node_sizes[n];
      c->max_gpus_per_node = MAX (c->max_gpus_per_node, node_sizes[n]);
    }
  c->gpu_node = g_new0 (guint, c->gpu_count);
  c->gpu_local = g_new0 (guint, c->gpu_count);
  for (guint n = 0; n < node_count; n++)
    for (guint i = 0; i < node_sizes[n]; i++)
      {
        c->gpu_node[c->node_first[n] + i] = n;
        c->gpu_local[c->node_first[n] + i] = i;
      }
  c->vertices = g_array_new (FALSE, TRUE, sizeof (Vertex));
  c->links = g_array_new (FALSE, TRUE, sizeof (AfdLink));
  return c;
}

/* Appends a vertex; takes ownership of @name. Returns its index. */
static guint
add_vertex (AfdCluster *c, char *name, AfdVertexKind kind, gboolean network)
{
  Vertex v = { name, kind, network };
  g_array_append_val (c->vertices, v);
  return c->vertices->len - 1;
}

/* Appends both directions of a physical link. */
static void
add_link (AfdCluster *c, guint a, guint b, double bandwidth_bytes_per_s, double latency_s)
{
  const Vertex *va = &g_array_index (c->vertices, Vertex, a);
  const Vertex *vb = &g_array_index (c->vertices, Vertex, b);
  gboolean out = va->kind == AFD_VERTEX_NIC || vb->kind == AFD_VERTEX_NIC || va->network
                 || vb->network;
  AfdLink ab = { a, b, bandwidth_bytes_per_s, latency_s, out };
  AfdLink ba = { b, a, bandwidth_bytes_per_s, latency_s, out };
  g_array_append_val (c->links, ab);
  g_array_append_val (c->links, ba);
}

/* Builds the CSR adjacency once all links are known. */
static void
build_adjacency (AfdCluster *c)
{
  guint nv = c->vertices->len;
  c->adj_start = g_new0 (guint, nv + 1);
  c->adj = g_new0 (guint, MAX (c->links->len, 1));
  for (guint l = 0; l < c->links->len; l++)
    c->adj_start[g_array_index (c->links, AfdLink, l).src + 1]++;
  for (guint v = 0; v < nv; v++)
    c->adj_start[v + 1] += c->adj_start[v];
  g_autofree guint *fill = g_memdup2 (c->adj_start, sizeof (guint) * nv);
  for (guint l = 0; l < c->links->len; l++)
    c->adj[fill[g_array_index (c->links, AfdLink, l).src]++] = l;
}

void
afd_cluster_generator_init (AfdClusterGenerator *gen)
{
  memset (gen, 0, sizeof *gen);
  gen->name = "generated";
  gen->nodes = 1;
  gen->gpus_per_node = 1;
  gen->scale_up_kind = AFD_SCALE_UP_NVSWITCH;
  gen->scale_out_topology = AFD_SCALE_OUT_SINGLE_SWITCH;
  gen->oversubscription = 1.0;
  gen->leaf_ports = 32;
  gen->spines = 1;
}

/* Refuses a generator beyond AFD_CLUSTER_MAX_GPUS / AFD_CLUSTER_MAX_LINKS with the
 * estimate of its memory; @where names the file or cluster ("FILE: generator"). */
static gboolean
check_size (const AfdClusterGenerator *g, const char *where, GError **error)
{
  double gpus = (double) g->nodes * g->gpus_per_node;
  double per_node = g->scale_up_kind == AFD_SCALE_UP_MESH
                        ? (double) g->gpus_per_node * (g->gpus_per_node - 1)
                        : 2.0 * g->gpus_per_node;
  double links = g->nodes * (per_node + 2.0 * g->nics_per_node + 2.0 * g->gpus_per_node);
  if (gpus <= AFD_CLUSTER_MAX_GPUS && links <= AFD_CLUSTER_MAX_LINKS)
    return TRUE;
  double bytes = gpus * AFD_CLUSTER_GPU_BYTES + links * AFD_CLUSTER_LINK_BYTES;
  g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
               "%s.%s: a cluster of %.0f GPUs (%u nodes x %u) and about %.3g links would need "
               "about %.3g GB; the limit is %d GPUs and %d links",
               where, gpus > AFD_CLUSTER_MAX_GPUS ? "nodes" : "gpus_per_node", gpus, g->nodes,
               g->gpus_per_node, links, bytes / 1e9, AFD_CLUSTER_MAX_GPUS,
               AFD_CLUSTER_MAX_LINKS);
  return FALSE;
}

/*
 * A link's bandwidth and latency within what the clock represents (issue #14): at least
 * AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S, and a latency within the simulated-time horizon
 * (sim/types.h). Slower links gave infinite collective times.
 */
static gboolean
link_values_ok (double bw, double lat, const char *file, const char *path, GError **error)
{
  if (!(bw >= AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S))
    g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                 "%s: %s.bandwidth_bytes_per_s: must be >= %g (got %g)", file, path,
                 AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S, bw);
  else if (!afd_time_within_horizon (lat))
    g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                 "%s: %s.latency_s: %g s is beyond the simulated-time horizon ("
                 AFD_TIME_HORIZON_TEXT ")", file, path, lat);
  else
    return TRUE;
  return FALSE;
}

/* Checks the generator's numbers; messages name the generator key. */
static gboolean
check_generator (const AfdClusterGenerator *g, GError **error)
{
  const char *bad = NULL;
  if (g->nodes < 1)
    bad = "nodes must be >= 1";
  else if (g->gpus_per_node < 1)
    bad = "gpus_per_node must be >= 1";
  else if (g->gpus_per_node > 1 && !(g->scale_up_bandwidth_bytes_per_s > 0))
    bad = "scale_up.bandwidth_bytes_per_s must be > 0";
  else if (!(g->scale_up_latency_s >= 0) || !(g->scale_out_latency_s >= 0))
    bad = "latency_s must be >= 0";
  else if (!afd_time_within_horizon (g->scale_up_latency_s)
           || !afd_time_within_horizon (g->scale_out_latency_s))
    bad = "latency_s must be within the simulated-time horizon (" AFD_TIME_HORIZON_TEXT ")";
  else if (g->nodes > 1 && g->nics_per_node < 1)
    bad = "scale_out.nics_per_node must be >= 1 when nodes > 1";
  else if (g->nics_per_node > 0 && !(g->nic_bandwidth_bytes_per_s > 0))
    bad = "scale_out.nic_bandwidth_bytes_per_s must be > 0";
  else if (!(g->oversubscription >= 1.0))
    bad = "scale_out.oversubscription must be >= 1";
  else if ((g->gpus_per_node > 1
            && !(g->scale_up_bandwidth_bytes_per_s >= AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S))
           || (g->nics_per_node > 0
               && !(g->nic_bandwidth_bytes_per_s >= AFD_CLUSTER_MIN_BANDWIDTH_BYTES_PER_S)))
    bad = "bandwidth_bytes_per_s must be >= 1 (byte/s)";
  else if (g->leaf_ports < 1 || g->spines < 1)
    bad = "scale_out.leaf_ports and scale_out.spines must be >= 1";
  if (bad != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "cluster %s: generator: %s",
                   g->name ? g->name : "?", bad);
      return FALSE;
    }
  g_autofree char *where = g_strdup_printf ("cluster %s: generator", g->name ? g->name : "?");
  return check_size (g, where, error);
}

/* Adds the scale-out fabric: NICs, their GPU attachments and the switches. */
static void
generate_scale_out (AfdCluster *c, const AfdClusterGenerator *g)
{
  guint G = g->gpus_per_node, K = g->nics_per_node, N = g->nodes;
  double bw = g->nic_bandwidth_bytes_per_s, lat = g->scale_out_latency_s;
  g_autofree guint *nic = g_new0 (guint, (gsize) N * K);
  for (guint n = 0; n < N; n++)
    for (guint i = 0; i < K; i++)
      {
        guint v = add_vertex (c, g_strdup_printf ("n%u.nic%u", n, i), AFD_VERTEX_NIC, FALSE);
        nic[(gsize) n * K + i] = v;
        /* NIC i serves GPUs [i*G/K, (i+1)*G/K) when K <= G, else GPU i*G/K. The PCIe hop is
         * given the NIC's bandwidth and no latency: the NIC is the bottleneck we model. */
        guint lo = (guint) ((guint64) i * G / K), hi = (guint) ((guint64) (i + 1) * G / K);
        if (hi == lo)
          hi = lo + 1;
        for (guint gi = lo; gi < hi && gi < G; gi++)
          add_link (c, c->node_first[n] + gi, v, bw, 0.0);
      }
  if (g->scale_out_topology == AFD_SCALE_OUT_SINGLE_SWITCH
      || (g->scale_out_topology == AFD_SCALE_OUT_FAT_TREE && (guint64) N * K <= g->leaf_ports))
    {
      guint sw = add_vertex (c, g_strdup ("net.switch"), AFD_VERTEX_SWITCH, TRUE);
      for (guint j = 0; j < N * K; j++)
        add_link (c, nic[j], sw, bw, lat);
      return;
    }
  guint groups, per_group;
  if (g->scale_out_topology == AFD_SCALE_OUT_FAT_TREE)
    {
      per_group = g->leaf_ports;
      groups = (N * K + per_group - 1) / per_group;
    }
  else
    {
      per_group = N;
      groups = K;
    }
  g_autofree guint *spine = g_new0 (guint, g->spines);
  for (guint s = 0; s < g->spines; s++)
    spine[s] = add_vertex (c, g_strdup_printf ("net.spine%u", s), AFD_VERTEX_SWITCH, TRUE);
  for (guint l = 0; l < groups; l++)
    {
      const char *what = g->scale_out_topology == AFD_SCALE_OUT_FAT_TREE ? "leaf" : "rail";
      guint leaf = add_vertex (c, g_strdup_printf ("net.%s%u", what, l), AFD_VERTEX_SWITCH, TRUE);
      guint members = 0;
      for (guint j = 0; j < N * K; j++)
        {
          gboolean in = g->scale_out_topology == AFD_SCALE_OUT_FAT_TREE ? j / per_group == l
                                                                         : j % K == l;
          if (in)
            {
              add_link (c, nic[j], leaf, bw, lat);
              members++;
            }
        }
      /* Uplink capacity = downlink capacity / oversubscription, split over the spines. */
      double up = members * bw / g->oversubscription / g->spines;
      for (guint s = 0; s < g->spines; s++)
        add_link (c, leaf, spine[s], up, lat);
    }
}

AfdCluster *
afd_cluster_generate (const AfdClusterGenerator *g, GError **error)
{
  g_return_val_if_fail (g != NULL, NULL);
  if (!check_generator (g, error))
    return NULL;
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (g->gpu, error);
  if (spec == NULL)
    return NULL;
  g_autofree guint *sizes = g_new (guint, g->nodes);
  for (guint n = 0; n < g->nodes; n++)
    sizes[n] = g->gpus_per_node;
  g_autoptr (AfdCluster) c = cluster_new (g->name, g->nodes, sizes);
  c->gpu = g_steal_pointer (&spec);
  c->nvls = g->scale_up_nvls && g->scale_up_kind == AFD_SCALE_UP_NVSWITCH;
  guint G = g->gpus_per_node;
  for (guint n = 0; n < g->nodes; n++)
    for (guint i = 0; i < G; i++)
      add_vertex (c, g_strdup_printf ("n%u.gpu%u", n, i), AFD_VERTEX_GPU, FALSE);
  for (guint n = 0; n < g->nodes && G > 1; n++)
    {
      guint first = c->node_first[n];
      if (g->scale_up_kind == AFD_SCALE_UP_NVSWITCH)
        {
          guint sw = add_vertex (c, g_strdup_printf ("n%u.nvswitch", n), AFD_VERTEX_SWITCH, FALSE);
          for (guint i = 0; i < G; i++)
            add_link (c, first + i, sw, g->scale_up_bandwidth_bytes_per_s,
                      g->scale_up_latency_s);
        }
      else
        {
          double bw = g->scale_up_bandwidth_bytes_per_s / (G - 1);
          for (guint i = 0; i < G; i++)
            for (guint j = i + 1; j < G; j++)
              add_link (c, first + i, first + j, bw, g->scale_up_latency_s);
        }
    }
  if (g->nics_per_node > 0)
    generate_scale_out (c, g);
  build_adjacency (c);
  return g_steal_pointer (&c);
}

/* Checks that an id can be shown in a one-line message: UTF-8, no control characters. */
static gboolean
check_id (const char *id, const char *file, const char *path, GError **error)
{
  gboolean ok = g_utf8_validate (id, -1, NULL);
  for (const char *p = id; ok && *p; p++)
    ok = (guchar) *p >= 0x20 && *p != 0x7f;
  if (!ok)
    g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                 "%s: %s: must be UTF-8 text without control characters", file, path);
  return ok;
}

/* Parses an enum-like string value among @names. */
static gboolean
get_choice (const cJSON *obj, const AfdJsonWhere *w, const char *key, AfdJsonFlags flags,
            const char *const *names, guint *inout_value, GError **error)
{
  g_autofree char *s = NULL;
  if (!afd_json_get_string (obj, w, key, flags, &s, error))
    return FALSE;
  if (s == NULL)
    return TRUE;
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (s, names[i]) == 0)
      {
        *inout_value = i;
        return TRUE;
      }
  g_autofree char *path = afd_json_path (w->path, key);
  g_autofree char *list = g_strjoinv ("|", (char **) names);
  g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s: unknown value '%s' (expected %s)",
               w->file, path, s, list);
  return FALSE;
}

/* Reads an integer into a guint. */
static gboolean
get_uint (const cJSON *obj, const AfdJsonWhere *w, const char *key, AfdJsonFlags flags,
          gint64 min, guint *inout_value, GError **error)
{
  gint64 v = *inout_value;
  if (!afd_json_get_int (obj, w, key, flags, min, 1 << 22, &v, error))
    return FALSE;
  *inout_value = (guint) v;
  return TRUE;
}

/* Reads the "generator" block into @g (strings borrowed from the tree). */
static gboolean
read_generator (const cJSON *gen, const char *file, AfdClusterGenerator *g, GError **error)
{
  const AfdJsonWhere w = { file, "generator", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = { "nodes", "gpus_per_node", "gpu", "scale_up",
                                         "scale_out", NULL };
  static const char *const up_keys[] = { "kind", "bandwidth_bytes_per_s", "latency_s", "nvls",
                                         NULL };
  static const char *const out_keys[] = { "nics_per_node", "nic_bandwidth_bytes_per_s",
                                          "latency_s",     "topology",
                                          "oversubscription", "leaf_ports",
                                          "spines",        NULL };
  static const char *const up_kinds[] = { "nvswitch", "mesh", NULL };
  static const char *const topologies[] = { "single-switch", "fat-tree", "rail", NULL };
  const cJSON *up = NULL, *out = NULL;
  const cJSON *gpu = cJSON_GetObjectItemCaseSensitive (gen, "gpu");
  if (!afd_json_check_object (gen, &w, allowed, error)
      || !get_uint (gen, &w, "nodes", AFD_JSON_REQUIRED, 1, &g->nodes, error)
      || !get_uint (gen, &w, "gpus_per_node", AFD_JSON_REQUIRED, 1, &g->gpus_per_node, error)
      || !afd_json_get_child (gen, &w, "gpu", AFD_JSON_REQUIRED, cJSON_String, &gpu, error)
      || !afd_json_get_child (gen, &w, "scale_up", g->gpus_per_node > 1 ? AFD_JSON_REQUIRED : 0,
                              cJSON_Object, &up, error)
      || !afd_json_get_child (gen, &w, "scale_out", g->nodes > 1 ? AFD_JSON_REQUIRED : 0,
                              cJSON_Object, &out, error))
    return FALSE;
  if (!check_id (gpu->valuestring, file, "generator.gpu", error))
    return FALSE;
  g->gpu = gpu->valuestring;
  if (up != NULL)
    {
      const AfdJsonWhere uw = { file, "generator.scale_up", AFD_ERROR_TOPOLOGY };
      guint kind = 0;
      if (!afd_json_check_object (up, &uw, up_keys, error)
          || !get_choice (up, &uw, "kind", AFD_JSON_REQUIRED, up_kinds, &kind, error)
          || !afd_json_get_number (up, &uw, "bandwidth_bytes_per_s",
                                   AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                   &g->scale_up_bandwidth_bytes_per_s, error)
          || !afd_json_get_number (up, &uw, "latency_s", AFD_JSON_REQUIRED | AFD_JSON_NONNEGATIVE,
                                   &g->scale_up_latency_s, error)
          || !afd_json_get_bool (up, &uw, "nvls", 0, &g->scale_up_nvls, error))
        return FALSE;
      g->scale_up_kind = kind;
    }
  if (out != NULL)
    {
      const AfdJsonWhere ow = { file, "generator.scale_out", AFD_ERROR_TOPOLOGY };
      guint topo = 0;
      if (!afd_json_check_object (out, &ow, out_keys, error)
          || !get_uint (out, &ow, "nics_per_node", AFD_JSON_REQUIRED, 1, &g->nics_per_node, error)
          || !afd_json_get_number (out, &ow, "nic_bandwidth_bytes_per_s",
                                   AFD_JSON_REQUIRED | AFD_JSON_POSITIVE,
                                   &g->nic_bandwidth_bytes_per_s, error)
          || !afd_json_get_number (out, &ow, "latency_s",
                                   AFD_JSON_REQUIRED | AFD_JSON_NONNEGATIVE,
                                   &g->scale_out_latency_s, error)
          || !get_choice (out, &ow, "topology", AFD_JSON_REQUIRED, topologies, &topo, error)
          || !afd_json_get_number (out, &ow, "oversubscription", AFD_JSON_POSITIVE,
                                   &g->oversubscription, error)
          || !get_uint (out, &ow, "leaf_ports", 0, 1, &g->leaf_ports, error)
          || !get_uint (out, &ow, "spines", 0, 1, &g->spines, error))
        return FALSE;
      g->scale_out_topology = topo;
      if (g->oversubscription < 1.0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                       "%s: generator.scale_out.oversubscription: must be >= 1 (got %g)", file,
                       g->oversubscription);
          return FALSE;
        }
    }
  g_autofree char *where = g_strdup_printf ("%s: generator", file);
  return check_size (g, where, error);
}

/* Looks an id up in @ids; reports an unknown id at @path. */
static gboolean
lookup_id (GHashTable *ids, const char *id, const char *file, const char *path, guint *out,
           GError **error)
{
  gpointer v;
  if (!check_id (id, file, path, error))
    return FALSE;
  if (!g_hash_table_lookup_extended (ids, id, NULL, &v))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s: unknown id '%s'", file, path,
                   id);
      return FALSE;
    }
  *out = GPOINTER_TO_UINT (v);
  return TRUE;
}

/* Registers a new id; reports a duplicate at @path. */
static gboolean
register_id (GHashTable *ids, const char *id, guint vertex, const char *file, const char *path,
             GError **error)
{
  if (!check_id (id, file, path, error))
    return FALSE;
  if (g_hash_table_contains (ids, id))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s: duplicate id '%s'", file, path,
                   id);
      return FALSE;
    }
  g_hash_table_insert (ids, (gpointer) id, GUINT_TO_POINTER (vertex));
  return TRUE;
}

/* Checks that the graph is connected and that every GPU pair has a route (no GPU transit).
 * With @skip_isolated, vertices left without links (a failed NIC, sim/fault.h) are ignored.
 * With @exempt (per GPU, nullable; GPUs cut off by failed links, sim/fault.h) only the other
 * GPUs must be connected (from the first of them; any other vertex may be cut off) and only
 * pairs of them need a route. */
static gboolean
check_routes_ex (const AfdCluster *c, const char *file, gboolean skip_isolated,
                 const guint8 *exempt, GError **error)
{
  guint nv = c->vertices->len;
  g_autofree guint *seen = g_new0 (guint, nv);
  g_autofree guint *queue = g_new (guint, nv);
  guint first = 0, checked = c->gpu_count;
  if (exempt != NULL)
    {
      checked = 0;
      for (guint gpu = c->gpu_count; gpu-- > 0;)
        if (!exempt[gpu])
          {
            first = gpu;
            checked++;
          }
      if (checked < 2)
        return TRUE; /* no pair of GPUs to route */
    }
  for (guint gpu = 0; gpu < c->gpu_count; gpu++)
    {
      guint n_out;
      afd_cluster_out_links (c, gpu, &n_out);
      if (n_out == 0 && (exempt == NULL || !exempt[gpu]))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                       "%s: links: GPU '%s' has no link, so no route to any other GPU", file,
                       afd_cluster_vertex_name (c, gpu));
          return FALSE;
        }
    }
  /* Whole-graph connectivity (GPUs may be crossed here). */
  guint mark = 1, head = 0, tail = 0;
  queue[tail++] = first;
  seen[first] = mark;
  while (head < tail)
    {
      guint v = queue[head++];
      for (guint k = c->adj_start[v]; k < c->adj_start[v + 1]; k++)
        {
          guint w = g_array_index (c->links, AfdLink, c->adj[k]).dst;
          if (seen[w] != mark)
            {
              seen[w] = mark;
              queue[tail++] = w;
            }
        }
    }
  for (guint v = 0; v < nv; v++)
    if (seen[v] != mark && !(skip_isolated && c->adj_start[v + 1] == c->adj_start[v])
        && (exempt == NULL || (v < c->gpu_count && !exempt[v])))
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                     "%s: links: the graph is disconnected ('%s' is not connected to '%s')", file,
                     afd_cluster_vertex_name (c, v), afd_cluster_vertex_name (c, first));
        return FALSE;
      }
  /* Routes: from each GPU, a search that does not pass through other GPUs; the hop count of
   * every shortest route must fit AFD_CLUSTER_MAX_ROUTE_HOPS. */
  g_autofree guint *hops = g_new0 (guint, nv);
  for (guint src = 0; src < c->gpu_count; src++)
    {
      if (exempt != NULL && exempt[src])
        continue;
      mark++;
      head = tail = 0;
      queue[tail++] = src;
      seen[src] = mark;
      hops[src] = 0;
      while (head < tail)
        {
          guint v = queue[head++];
          if (v != src && v < c->gpu_count)
            continue;
          for (guint k = c->adj_start[v]; k < c->adj_start[v + 1]; k++)
            {
              guint w = g_array_index (c->links, AfdLink, c->adj[k]).dst;
              if (seen[w] != mark)
                {
                  seen[w] = mark;
                  hops[w] = hops[v] + 1;
                  queue[tail++] = w;
                }
            }
        }
      for (guint dst = 0; dst < c->gpu_count; dst++)
        {
          if (exempt != NULL && exempt[dst])
            continue;
          if (seen[dst] != mark)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                           "%s: links: no route from GPU '%s' to GPU '%s' (routes never pass "
                           "through a GPU)",
                           file, afd_cluster_vertex_name (c, src),
                           afd_cluster_vertex_name (c, dst));
              return FALSE;
            }
          if (hops[dst] > AFD_CLUSTER_MAX_ROUTE_HOPS)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                           "%s: links: the route from GPU '%s' to GPU '%s' has %u links (at most "
                           "%d)",
                           file, afd_cluster_vertex_name (c, src),
                           afd_cluster_vertex_name (c, dst), hops[dst],
                           AFD_CLUSTER_MAX_ROUTE_HOPS);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
check_routes (const AfdCluster *c, const char *file, GError **error)
{
  return check_routes_ex (c, file, FALSE, NULL, error);
}

/* Reads the explicit form: nodes, switches, nics, links. */
static AfdCluster *
read_explicit (const cJSON *root, const char *file, const char *name, GError **error)
{
  const AfdJsonWhere w = { file, "", AFD_ERROR_TOPOLOGY };
  const cJSON *nodes = NULL, *switches = NULL, *nics = NULL, *links = NULL;
  g_autofree char *gpu_name = NULL;
  gboolean nvls = FALSE;
  if (!afd_json_get_string (root, &w, "gpu", AFD_JSON_REQUIRED, &gpu_name, error)
      || !afd_json_get_child (root, &w, "nodes", AFD_JSON_REQUIRED, cJSON_Array, &nodes, error)
      || !afd_json_get_child (root, &w, "switches", 0, cJSON_Array, &switches, error)
      || !afd_json_get_child (root, &w, "nics", 0, cJSON_Array, &nics, error)
      || !afd_json_get_child (root, &w, "links", AFD_JSON_REQUIRED, cJSON_Array, &links, error)
      || !afd_json_get_bool (root, &w, "nvls", 0, &nvls, error))
    return NULL;
  guint n_nodes = (guint) cJSON_GetArraySize (nodes);
  if (n_nodes == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: nodes: must not be empty", file);
      return NULL;
    }
  g_autofree guint *sizes = g_new0 (guint, n_nodes);
  static const char *const node_keys[] = { "id", "gpus", NULL };
  for (guint n = 0; n < n_nodes; n++)
    {
      g_autofree char *path = afd_json_path_index ("nodes", n);
      const AfdJsonWhere nw = { file, path, AFD_ERROR_TOPOLOGY };
      const cJSON *node = cJSON_GetArrayItem (nodes, (int) n), *gpus = NULL;
      if (!afd_json_check_object (node, &nw, node_keys, error)
          || !afd_json_get_child (node, &nw, "gpus", AFD_JSON_REQUIRED, cJSON_Array, &gpus,
                                  error))
        return NULL;
      sizes[n] = (guint) cJSON_GetArraySize (gpus);
      if (sizes[n] == 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s.gpus: must not be empty",
                       file, path);
          return NULL;
        }
    }
  g_autoptr (AfdCluster) c = cluster_new (name, n_nodes, sizes);
  c->nvls = nvls;
  {
    g_autoptr (GError) local = NULL;
    c->gpu = afd_gpu_spec_load (gpu_name, &local);
    if (c->gpu == NULL)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: gpu: %s", file, local->message);
        return NULL;
      }
  }
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  /* Node ids live in their own namespace check (nodes are not vertices). */
  g_autoptr (GHashTable) node_ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint n = 0; n < n_nodes; n++)
    {
      g_autofree char *path = afd_json_path_index ("nodes", n);
      const AfdJsonWhere nw = { file, path, AFD_ERROR_TOPOLOGY };
      const cJSON *node = cJSON_GetArrayItem (nodes, (int) n);
      const cJSON *id = NULL, *gpus = cJSON_GetObjectItemCaseSensitive (node, "gpus");
      if (!afd_json_get_child (node, &nw, "id", AFD_JSON_REQUIRED, cJSON_String, &id, error))
        return NULL;
      g_autofree char *idpath = afd_json_path (path, "id");
      if (!register_id (node_ids, id->valuestring, n, file, idpath, error))
        return NULL;
      for (guint i = 0; i < sizes[n]; i++)
        {
          const cJSON *gid = cJSON_GetArrayItem (gpus, (int) i);
          g_autofree char *gp = g_strdup_printf ("%s.gpus[%u]", path, i);
          if (!cJSON_IsString (gid) || gid->valuestring[0] == '\0')
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                           "%s: %s: must be a non-empty string", file, gp);
              return NULL;
            }
          guint v = add_vertex (c, g_strdup (gid->valuestring), AFD_VERTEX_GPU, FALSE);
          if (!register_id (ids, g_array_index (c->vertices, Vertex, v).name, v, file, gp, error))
            return NULL;
        }
    }
  static const char *const sw_keys[] = { "id", "kind", NULL };
  static const char *const sw_kinds[] = { "nvswitch", "network", NULL };
  for (guint s = 0; switches && s < (guint) cJSON_GetArraySize (switches); s++)
    {
      g_autofree char *path = afd_json_path_index ("switches", s);
      const AfdJsonWhere sw = { file, path, AFD_ERROR_TOPOLOGY };
      const cJSON *obj = cJSON_GetArrayItem (switches, (int) s), *id = NULL;
      guint kind = 0;
      if (!afd_json_check_object (obj, &sw, sw_keys, error)
          || !afd_json_get_child (obj, &sw, "id", AFD_JSON_REQUIRED, cJSON_String, &id, error)
          || !get_choice (obj, &sw, "kind", AFD_JSON_REQUIRED, sw_kinds, &kind, error))
        return NULL;
      guint v = add_vertex (c, g_strdup (id->valuestring), AFD_VERTEX_SWITCH, kind == 1);
      g_autofree char *idpath = afd_json_path (path, "id");
      if (!register_id (ids, g_array_index (c->vertices, Vertex, v).name, v, file, idpath, error))
        return NULL;
    }
  static const char *const nic_keys[] = { "id", NULL };
  for (guint s = 0; nics && s < (guint) cJSON_GetArraySize (nics); s++)
    {
      g_autofree char *path = afd_json_path_index ("nics", s);
      const AfdJsonWhere nw = { file, path, AFD_ERROR_TOPOLOGY };
      const cJSON *obj = cJSON_GetArrayItem (nics, (int) s), *id = NULL;
      if (!afd_json_check_object (obj, &nw, nic_keys, error)
          || !afd_json_get_child (obj, &nw, "id", AFD_JSON_REQUIRED, cJSON_String, &id, error))
        return NULL;
      guint v = add_vertex (c, g_strdup (id->valuestring), AFD_VERTEX_NIC, FALSE);
      g_autofree char *idpath = afd_json_path (path, "id");
      if (!register_id (ids, g_array_index (c->vertices, Vertex, v).name, v, file, idpath, error))
        return NULL;
    }
  static const char *const link_keys[] = { "a", "b", "bandwidth_bytes_per_s", "latency_s", NULL };
  for (guint l = 0; l < (guint) cJSON_GetArraySize (links); l++)
    {
      g_autofree char *path = afd_json_path_index ("links", l);
      const AfdJsonWhere lw = { file, path, AFD_ERROR_TOPOLOGY };
      const cJSON *obj = cJSON_GetArrayItem (links, (int) l), *a = NULL, *b = NULL;
      double bw = 0, lat = 0;
      guint va, vb;
      g_autofree char *pa = afd_json_path (path, "a");
      g_autofree char *pb = afd_json_path (path, "b");
      if (!afd_json_check_object (obj, &lw, link_keys, error)
          || !afd_json_get_child (obj, &lw, "a", AFD_JSON_REQUIRED, cJSON_String, &a, error)
          || !afd_json_get_child (obj, &lw, "b", AFD_JSON_REQUIRED, cJSON_String, &b, error)
          || !afd_json_get_number (obj, &lw, "bandwidth_bytes_per_s",
                                   AFD_JSON_REQUIRED | AFD_JSON_POSITIVE, &bw, error)
          || !afd_json_get_number (obj, &lw, "latency_s", AFD_JSON_REQUIRED | AFD_JSON_NONNEGATIVE,
                                   &lat, error)
          || !lookup_id (ids, a->valuestring, file, pa, &va, error)
          || !lookup_id (ids, b->valuestring, file, pb, &vb, error))
        return NULL;
      if (!link_values_ok (bw, lat, file, path, error))
        return NULL;
      if (va == vb)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: %s: a link from '%s' to itself",
                       file, path, a->valuestring);
          return NULL;
        }
      add_link (c, va, vb, bw, lat);
    }
  build_adjacency (c);
  if (!check_routes (c, file, error))
    return NULL;
  return g_steal_pointer (&c);
}

AfdCluster *
afd_cluster_load (const char *name_or_file, GError **error)
{
  g_autofree char *path = afd_data_resolve ("topologies/clusters", "cluster", name_or_file, error);
  if (path == NULL)
    return NULL;
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_TOPOLOGY, error);
  if (root == NULL)
    return NULL;
  const AfdJsonWhere w = { path, "", AFD_ERROR_TOPOLOGY };
  static const char *const allowed[] = { "name",     "description", "source", "generator", "gpu",
                                         "nodes",    "switches",    "nics",   "links",     "nvls",
                                         NULL };
  g_autofree char *name = NULL;
  const cJSON *gen = NULL;
  if (!afd_json_check_object (root, &w, allowed, error)
      || !afd_json_get_string (root, &w, "name", AFD_JSON_REQUIRED, &name, error)
      || !afd_json_get_child (root, &w, "generator", 0, cJSON_Object, &gen, error))
    return NULL;
  {
    g_autofree char *d = NULL, *s = NULL;
    if (!afd_json_get_string (root, &w, "description", 0, &d, error)
        || !afd_json_get_string (root, &w, "source", 0, &s, error))
      return NULL;
  }
  if (gen == NULL)
    return read_explicit (root, path, name, error);
  static const char *const explicit_keys[] = { "gpu", "nodes", "switches", "nics", "links",
                                               "nvls" };
  for (guint i = 0; i < G_N_ELEMENTS (explicit_keys); i++)
    if (cJSON_GetObjectItemCaseSensitive (root, explicit_keys[i]) != NULL)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY,
                     "%s: %s: not allowed next to 'generator' (use one form or the other)", path,
                     explicit_keys[i]);
        return NULL;
      }
  AfdClusterGenerator g;
  afd_cluster_generator_init (&g);
  g.name = name;
  if (!read_generator (gen, path, &g, error))
    return NULL;
  {
    /* Checked here first so that an unknown GPU names the file and key. */
    g_autoptr (GError) local = NULL;
    g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (g.gpu, &local);
    if (spec == NULL)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY, "%s: generator.gpu: %s", path,
                     local->message);
        return NULL;
      }
  }
  AfdCluster *c = afd_cluster_generate (&g, error);
  if (c == NULL)
    g_prefix_error (error, "%s: ", path);
  return c;
}

const char *
afd_cluster_name (const AfdCluster *self)
{
  return self->name;
}

const AfdGpuSpec *
afd_cluster_gpu_spec (const AfdCluster *self)
{
  return self->gpu;
}

guint
afd_cluster_gpu_count (const AfdCluster *self)
{
  return self->gpu_count;
}

guint
afd_cluster_node_count (const AfdCluster *self)
{
  return self->node_count;
}

guint
afd_cluster_gpu_node (const AfdCluster *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->gpu_count, 0);
  return self->gpu_node[gpu];
}

guint
afd_cluster_gpu_local_rank (const AfdCluster *self, guint gpu)
{
  g_return_val_if_fail (gpu < self->gpu_count, 0);
  return self->gpu_local[gpu];
}

guint
afd_cluster_gpus_per_node (const AfdCluster *self)
{
  return self->max_gpus_per_node;
}

guint
afd_cluster_node_gpu_count (const AfdCluster *self, guint node)
{
  g_return_val_if_fail (node < self->node_count, 0);
  return self->node_gpus[node];
}

guint
afd_cluster_node_first_gpu (const AfdCluster *self, guint node)
{
  g_return_val_if_fail (node < self->node_count, 0);
  return self->node_first[node];
}

gboolean
afd_cluster_nvls (const AfdCluster *self)
{
  return self->nvls;
}

gboolean
afd_cluster_links_scaled (const AfdCluster *self)
{
  return self->links_scaled;
}

guint
afd_cluster_vertex_count (const AfdCluster *self)
{
  return self->vertices->len;
}

AfdVertexKind
afd_cluster_vertex_kind (const AfdCluster *self, guint vertex)
{
  g_return_val_if_fail (vertex < self->vertices->len, AFD_VERTEX_GPU);
  return g_array_index (self->vertices, Vertex, vertex).kind;
}

const char *
afd_cluster_vertex_name (const AfdCluster *self, guint vertex)
{
  g_return_val_if_fail (vertex < self->vertices->len, NULL);
  return g_array_index (self->vertices, Vertex, vertex).name;
}

guint
afd_cluster_link_count (const AfdCluster *self)
{
  return self->links->len;
}

const AfdLink *
afd_cluster_link (const AfdCluster *self, guint link)
{
  g_return_val_if_fail (link < self->links->len, NULL);
  return &g_array_index (self->links, AfdLink, link);
}

const guint *
afd_cluster_out_links (const AfdCluster *self, guint vertex, guint *out_count)
{
  g_return_val_if_fail (vertex < self->vertices->len, NULL);
  *out_count = self->adj_start[vertex + 1] - self->adj_start[vertex];
  return self->adj + self->adj_start[vertex];
}

double
afd_cluster_gpu_nic_bandwidth (const AfdCluster *self, guint gpu, guint *out_nic)
{
  g_return_val_if_fail (gpu < self->gpu_count, 0.0);
  for (guint k = self->adj_start[gpu]; k < self->adj_start[gpu + 1]; k++)
    {
      const AfdLink *l = &g_array_index (self->links, AfdLink, self->adj[k]);
      if (afd_cluster_vertex_kind (self, l->dst) != AFD_VERTEX_NIC)
        continue;
      double up = 0;
      for (guint j = self->adj_start[l->dst]; j < self->adj_start[l->dst + 1]; j++)
        {
          const AfdLink *u = &g_array_index (self->links, AfdLink, self->adj[j]);
          if (afd_cluster_vertex_kind (self, u->dst) != AFD_VERTEX_GPU)
            up += u->bandwidth_bytes_per_s;
        }
      if (out_nic != NULL)
        *out_nic = l->dst;
      return MIN (up, l->bandwidth_bytes_per_s);
    }
  if (out_nic != NULL)
    *out_nic = G_MAXUINT;
  return 0.0;
}

AfdCluster *
afd_cluster_copy_with_link_scale (const AfdCluster *self, const double *scale, GError **error)
{
  return afd_cluster_copy_with_link_scale_full (self, scale, NULL, error);
}

AfdCluster *
afd_cluster_copy_with_link_scale_full (const AfdCluster *self, const double *scale,
                                       const guint8 *exempt, GError **error)
{
  g_autofree guint *sizes = g_memdup2 (self->node_gpus, sizeof (guint) * self->node_count);
  g_autoptr (AfdCluster) c = cluster_new (self->name, self->node_count, sizes);
  c->gpu = afd_gpu_spec_copy (self->gpu);
  c->nvls = self->nvls;
  c->links_scaled = self->links_scaled;
  for (guint v = 0; v < self->vertices->len; v++)
    {
      const Vertex *x = &g_array_index (self->vertices, Vertex, v);
      add_vertex (c, g_strdup (x->name), x->kind, x->network);
    }
  for (guint l = 0; l < self->links->len; l++)
    {
      AfdLink k = g_array_index (self->links, AfdLink, l);
      double f = scale != NULL ? scale[l] : 1.0;
      if (f != 1.0)
        c->links_scaled = TRUE;
      if (!(f > 0))
        continue;
      k.bandwidth_bytes_per_s *= f;
      g_array_append_val (c->links, k);
    }
  build_adjacency (c);
  if (!check_routes_ex (c, self->name, TRUE, exempt, error))
    return NULL;
  return g_steal_pointer (&c);
}
