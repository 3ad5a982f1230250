/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cluster.c - libFuzzer target for sim/cluster.c: afd_cluster_load on arbitrary bytes
 * written to a scratch file (both the "generator" form and the explicit form).
 *
 * Rules checked: a refused file gives AFD_ERROR_TOPOLOGY, _CONFIG or _IO with one line naming
 * the file; a loaded cluster is internally consistent (GPUs are vertices 0..n-1 in node
 * order, every directed link joins two existing vertices with a positive finite bandwidth
 * and a non-negative latency, the adjacency lists name only links leaving their vertex).
 *
 * Generator blocks asking for more than FUZZ_MAX_GPUS GPUs (or many NICs/spines) are skipped
 * before loading: they are valid files whose cost grows with the numbers they hold (up to the
 * loader's caps, beyond which they are refused up front with an estimate:
 * docs/reliability.md), a resource question, not a parsing one.
 */
#include <math.h>

#include "sim/cluster.h"
#include "sim/json.h"
#include "tests/fuzz/fuzz-common.h"

#define FUZZ_MAX_GPUS 256
#define FUZZ_MAX_FANOUT 64

static const int codes[] = { AFD_ERROR_TOPOLOGY, AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* The number under @key of @obj, or 1 when absent or not a number. */
static double
number_or_one (const cJSON *obj, const char *key)
{
  const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive (obj, key) : NULL;
  return cJSON_IsNumber (item) ? item->valuedouble : 1.0;
}

/* TRUE when @data is a generator file whose size would make loading slow (see above). */
static gboolean
too_big (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr (cJSON) root = cJSON_Parse (text);
  const cJSON *gen = root ? cJSON_GetObjectItemCaseSensitive (root, "generator") : NULL;
  if (!cJSON_IsObject (gen))
    return FALSE;
  const cJSON *out = cJSON_GetObjectItemCaseSensitive (gen, "scale_out");
  double gpus = number_or_one (gen, "nodes") * number_or_one (gen, "gpus_per_node");
  return !(gpus <= FUZZ_MAX_GPUS) || !(number_or_one (out, "nics_per_node") <= FUZZ_MAX_FANOUT)
         || !(number_or_one (out, "spines") <= FUZZ_MAX_FANOUT);
}

/* Checks the invariants of a loaded cluster. */
static void
check_cluster (const AfdCluster *c)
{
  guint gpus = afd_cluster_gpu_count (c), nv = afd_cluster_vertex_count (c);
  fuzz_assert (gpus >= 1 && gpus <= nv, "GPU count %u of %u vertices", gpus, nv);
  fuzz_assert (afd_cluster_gpu_spec (c) != NULL, "no GPU spec");
  const char *name = afd_cluster_name (c);
  fuzz_assert (name != NULL && g_utf8_validate (name, -1, NULL), "bad cluster name");
  guint nodes = afd_cluster_node_count (c), seen = 0;
  for (guint n = 0; n < nodes; n++)
    {
      fuzz_assert (afd_cluster_node_first_gpu (c, n) == seen, "nodes not in GPU order");
      seen += afd_cluster_node_gpu_count (c, n);
    }
  fuzz_assert (seen == gpus, "node sizes add to %u, not %u", seen, gpus);
  for (guint g = 0; g < gpus; g++)
    {
      fuzz_assert (afd_cluster_vertex_kind (c, g) == AFD_VERTEX_GPU, "vertex %u not a GPU", g);
      fuzz_assert (afd_cluster_gpu_node (c, g) < nodes, "GPU %u in no node", g);
    }
  guint links = afd_cluster_link_count (c);
  for (guint l = 0; l < links; l++)
    {
      const AfdLink *k = afd_cluster_link (c, l);
      fuzz_assert (k->src < nv && k->dst < nv && k->src != k->dst, "link %u joins %u-%u", l,
                   k->src, k->dst);
      fuzz_assert (isfinite (k->bandwidth_bytes_per_s) && k->bandwidth_bytes_per_s > 0,
                   "link %u bandwidth %g", l, k->bandwidth_bytes_per_s);
      fuzz_assert (isfinite (k->latency_s) && k->latency_s >= 0, "link %u latency", l);
    }
  for (guint v = 0; v < nv; v++)
    {
      guint n = 0;
      const guint *out = afd_cluster_out_links (c, v, &n);
      const char *vname = afd_cluster_vertex_name (c, v);
      fuzz_assert (vname != NULL, "vertex %u has no name", v);
      for (guint i = 0; i < n; i++)
        fuzz_assert (out[i] < links && afd_cluster_link (c, out[i])->src == v,
                     "adjacency of vertex %u lists a foreign link", v);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (too_big (data, size))
    return 0;
  const char *path = fuzz_write_file ("cluster.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) cluster = afd_cluster_load (path, &error);
  if (cluster == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (error == NULL, "success with an error set");
  check_cluster (cluster);
  return 0;
}
