/* SPDX-License-Identifier: MIT */
/*
 * cmd-gen-cluster.c - `afdsim gen-cluster`: writes a cluster file in the compact generator
 * form (docs/user/topology-format.md) from flags, after checking that it expands.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/cluster.h"
#include "sim/error.h"
#include "sim/json.h"

/* Runs `afdsim gen-cluster`. */
static int
cmd_gen_cluster (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                 GError **error)
{
  g_autofree char *name = NULL, *gpu = NULL, *nodes_t = NULL, *gpn_t = NULL, *up_kind = NULL;
  g_autofree char *up_bw_t = NULL, *up_lat_t = NULL, *nvls_t = NULL, *nics_t = NULL;
  g_autofree char *nic_bw_t = NULL, *out_lat_t = NULL, *topo = NULL, *over_t = NULL;
  g_autofree char *leaf_t = NULL, *spines_t = NULL, *output = NULL;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "cluster name (default generated)", "NAME" },
    { "gpu", 0, 0, G_OPTION_ARG_STRING, &gpu, "GPU spec name (default H100-SXM)", "GPU" },
    { "nodes", 0, 0, G_OPTION_ARG_STRING, &nodes_t, "nodes (default 2)", "N" },
    { "gpus-per-node", 0, 0, G_OPTION_ARG_STRING, &gpn_t, "GPUs per node (default 8)", "G" },
    { "scale-up", 0, 0, G_OPTION_ARG_STRING, &up_kind, "nvswitch|mesh (default nvswitch)", "K" },
    { "scale-up-bandwidth", 0, 0, G_OPTION_ARG_STRING, &up_bw_t,
      "NVLink bytes/s per GPU per direction (default: the GPU spec's)", "B" },
    { "scale-up-latency", 0, 0, G_OPTION_ARG_STRING, &up_lat_t,
      "seconds per NVLink hop (default 1e-7)", "S" },
    { "nvls", 0, 0, G_OPTION_ARG_STRING, &nvls_t, "in-switch reduction: yes|no (default no)",
      "yes|no" },
    { "nics-per-node", 0, 0, G_OPTION_ARG_STRING, &nics_t, "NICs per node (default G)", "K" },
    { "nic-bandwidth", 0, 0, G_OPTION_ARG_STRING, &nic_bw_t,
      "bytes/s per NIC per direction (default 5e10)", "B" },
    { "scale-out-latency", 0, 0, G_OPTION_ARG_STRING, &out_lat_t,
      "seconds per network hop (default 5e-7)", "S" },
    { "topology", 0, 0, G_OPTION_ARG_STRING, &topo,
      "single-switch|fat-tree|rail (default fat-tree)", "T" },
    { "oversubscription", 0, 0, G_OPTION_ARG_STRING, &over_t, "leaf down/up ratio (default 1)",
      "X" },
    { "leaf-ports", 0, 0, G_OPTION_ARG_STRING, &leaf_t, "NICs per leaf (default 32)", "P" },
    { "spines", 0, 0, G_OPTION_ARG_STRING, &spines_t, "spine switches (default 1)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "write to FILE (default stdout)", "FILE" },
    { NULL },
  };
  static const char summary[]
      = "Writes a cluster description (generator form) for N nodes "
        "x G GPUs; see docs/user/topology-format.md.";
  if (!afd_cli_parse_command (&afd_command_gen_cluster, summary, entries, &argc, &argv, error))
    return 2;
  AfdClusterGenerator g;
  afd_cluster_generator_init (&g);
  g.name = name ? name : "generated";
  g.gpu = gpu ? gpu : "H100-SXM";
  gint64 nodes = 2, gpn = 8, nics = -1, leaf = 32, spines = 1;
  double up_lat = 1e-7, nic_bw = 50e9, out_lat = 5e-7, over = 1, up_bw = -1;
  if (!afd_cli_parse_int ("--nodes", nodes_t, 1, 1 << 20, &nodes, error)
      || !afd_cli_parse_int ("--gpus-per-node", gpn_t, 1, 4096, &gpn, error)
      || !afd_cli_parse_int ("--nics-per-node", nics_t, 0, 4096, &nics, error)
      || !afd_cli_parse_int ("--leaf-ports", leaf_t, 1, 1 << 20, &leaf, error)
      || !afd_cli_parse_int ("--spines", spines_t, 1, 4096, &spines, error)
      || !afd_cli_parse_double ("--scale-up-bandwidth", up_bw_t, 1, 1e18, &up_bw, error)
      || !afd_cli_parse_double ("--scale-up-latency", up_lat_t, 0, 1, &up_lat, error)
      || !afd_cli_parse_double ("--nic-bandwidth", nic_bw_t, 1, 1e18, &nic_bw, error)
      || !afd_cli_parse_double ("--scale-out-latency", out_lat_t, 0, 1, &out_lat, error)
      || !afd_cli_parse_double ("--oversubscription", over_t, 1, 1e6, &over, error))
    return 2;
  static const char *const up_kinds[] = { "nvswitch", "mesh" };
  static const char *const topos[] = { "single-switch", "fat-tree", "rail" };
  guint up_i = 0, topo_i = 1;
  if (up_kind != NULL && strcmp (up_kind, "mesh") == 0)
    up_i = 1;
  else if (up_kind != NULL && strcmp (up_kind, "nvswitch") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--scale-up: expected nvswitch or mesh, "
                   "got '%s'", up_kind);
      return 2;
    }
  if (topo != NULL)
    {
      topo_i = G_N_ELEMENTS (topos);
      for (guint i = 0; i < G_N_ELEMENTS (topos); i++)
        if (strcmp (topo, topos[i]) == 0)
          topo_i = i;
      if (topo_i == G_N_ELEMENTS (topos))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--topology: expected single-switch, fat-tree or rail, got '%s'", topo);
          return 2;
        }
    }
  if (nvls_t != NULL && strcmp (nvls_t, "yes") != 0 && strcmp (nvls_t, "no") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--nvls: expected yes or no, got '%s'",
                   nvls_t);
      return 2;
    }
  g_autoptr (AfdGpuSpec) spec = afd_gpu_spec_load (g.gpu, error);
  if (spec == NULL)
    return 1;
  g.nodes = (guint) nodes;
  g.gpus_per_node = (guint) gpn;
  g.scale_up_kind = up_i;
  g.scale_up_bandwidth_bytes_per_s = up_bw > 0 ? up_bw : spec->nvlink_bandwidth_bytes_per_s;
  g.scale_up_latency_s = up_lat;
  g.scale_up_nvls = nvls_t != NULL && strcmp (nvls_t, "yes") == 0;
  g.nics_per_node = (guint) (nics >= 0 ? nics : gpn);
  g.nic_bandwidth_bytes_per_s = nic_bw;
  g.scale_out_latency_s = out_lat;
  g.scale_out_topology = topo_i;
  g.oversubscription = over;
  g.leaf_ports = (guint) leaf;
  g.spines = (guint) spines;
  g_autoptr (AfdCluster) check = afd_cluster_generate (&g, error);
  if (check == NULL)
    return 1;

  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "name", g.name);
  cJSON_AddStringToObject (root, "description", "written by afdsim gen-cluster");
  cJSON *gen = cJSON_AddObjectToObject (root, "generator");
  cJSON_AddNumberToObject (gen, "nodes", g.nodes);
  cJSON_AddNumberToObject (gen, "gpus_per_node", g.gpus_per_node);
  cJSON_AddStringToObject (gen, "gpu", g.gpu);
  if (g.gpus_per_node > 1)
    {
      cJSON *up = cJSON_AddObjectToObject (gen, "scale_up");
      cJSON_AddStringToObject (up, "kind", up_kinds[up_i]);
      cJSON_AddNumberToObject (up, "bandwidth_bytes_per_s", g.scale_up_bandwidth_bytes_per_s);
      cJSON_AddNumberToObject (up, "latency_s", g.scale_up_latency_s);
      cJSON_AddBoolToObject (up, "nvls", g.scale_up_nvls);
    }
  if (g.nics_per_node > 0)
    {
      cJSON *out = cJSON_AddObjectToObject (gen, "scale_out");
      cJSON_AddNumberToObject (out, "nics_per_node", g.nics_per_node);
      cJSON_AddNumberToObject (out, "nic_bandwidth_bytes_per_s", g.nic_bandwidth_bytes_per_s);
      cJSON_AddNumberToObject (out, "latency_s", g.scale_out_latency_s);
      cJSON_AddStringToObject (out, "topology", topos[topo_i]);
      cJSON_AddNumberToObject (out, "oversubscription", g.oversubscription);
      cJSON_AddNumberToObject (out, "leaf_ports", g.leaf_ports);
      cJSON_AddNumberToObject (out, "spines", g.spines);
    }
  if (output != NULL)
    return afd_json_write_file (output, root, error) ? 0 : 1;
  char *text = cJSON_Print (root);
  printf ("%s\n", text);
  cJSON_free (text);
  return 0;
}

const AfdCommand afd_command_gen_cluster = {
  "gen-cluster", "write a cluster description (N nodes x G GPUs) in the generator form",
  cmd_gen_cluster, NULL, 0
};
