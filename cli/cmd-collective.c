/* SPDX-License-Identifier: MIT */
/*
 * cmd-collective.c - `afdsim collective`: an nccl-tests-style sweep of one collective.
 *
 * For each size, the collective runs among the first N GPUs of the cluster (node-major) in
 * the chosen fidelity and one row is printed: size, count (float elements), time, algbw =
 * size / time and busbw = algbw × bus factor, the definitions of nccl-tests'
 * doc/PERFORMANCE.md (all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n;
 * broadcast, reduce, send/recv 1). send-recv runs like sendrecv_perf: every rank sends
 * SIZE bytes to the next one, all at once. --json writes the rows as a JSON array.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/data-dir.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/network.h"

#define MAX_SIZES 4096

/* Parses "LIST" (a,b,c) or "MIN:MAX[:FACTOR]" into byte sizes. */
static GArray *
parse_sizes (const char *text, GError **error)
{
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint64));
  const guint64 max_bytes = G_GUINT64_CONSTANT (1) << 50;
  if (text[0] == '\0')
    {
      /* An empty list gave an empty table and exit 0 (issue #14). */
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--bytes: empty; give sizes (1M,4M), a range MIN:MAX[:FACTOR] or leave it out");
      return NULL;
    }
  if (strchr (text, ':') != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (text, ":", -1);
      guint np = g_strv_length (parts);
      guint64 lo, hi;
      gint64 factor = 2;
      if (np < 2 || np > 3)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--bytes: expected MIN:MAX or MIN:MAX:FACTOR, got '%s'", text);
          return NULL;
        }
      if (!afd_cli_parse_bytes ("--bytes", parts[0], 0, max_bytes, &lo, error)
          || !afd_cli_parse_bytes ("--bytes", parts[1], 0, max_bytes, &hi, error)
          || (np == 3 && !afd_cli_parse_int ("--bytes factor", parts[2], 2, 1 << 20, &factor,
                                             error)))
        return NULL;
      if (hi < lo)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--bytes: MAX is below MIN in '%s'",
                       text);
          return NULL;
        }
      for (guint64 s = lo;; s *= (guint64) factor)
        {
          g_array_append_val (sizes, s);
          if (s == 0 || s > hi / (guint64) factor || sizes->len >= MAX_SIZES)
            break;
        }
    }
  else
    {
      g_auto (GStrv) parts = g_strsplit (text, ",", -1);
      for (guint i = 0; parts[i] != NULL && sizes->len < MAX_SIZES; i++)
        {
          guint64 s;
          if (!afd_cli_parse_bytes ("--bytes", parts[i], 0, max_bytes, &s, error))
            return NULL;
          g_array_append_val (sizes, s);
        }
    }
  return g_steal_pointer (&sizes);
}

static void
on_done (AfdNetsim *sim, gpointer user_data)
{
  guint *left = user_data;
  (*left)--;
}

/* Times one size; fills the tuner's choice. */
static gboolean
time_one (AfdNetwork *net, AfdNetworkFidelity fidelity, const AfdCollective *coll,
          double *out_s, AfdCollectiveChoice *out_choice, GError **error)
{
  guint n = coll->group_size;
  if (coll->op == AFD_COLL_SEND_RECV)
    {
      /* Every rank sends to the next one at once (sendrecv_perf). */
      double worst = 0;
      g_autoptr (AfdEngine) engine = afd_engine_new (1);
      g_autoptr (AfdNetsim) sim = fidelity == AFD_NETWORK_FLOW ? afd_netsim_new (net, engine)
                                                               : NULL;
      guint left = n;
      for (guint i = 0; i < n; i++)
        {
          guint pair[2] = { coll->group[i], coll->group[(i + 1) % n] };
          AfdCollective one = *coll;
          one.group = pair;
          one.group_size = 2;
          double t;
          if (!afd_collective_time_analytic (net, &one, NULL, out_choice, &t, error))
            return FALSE;
          worst = MAX (worst, t);
          if (sim != NULL && !afd_netsim_start_collective (sim, &one, NULL, on_done, &left, error))
            return FALSE;
        }
      if (sim != NULL)
        {
          afd_engine_run (engine, AFD_TIME_MAX, 0);
          if (!afd_netsim_check_horizon (sim, error))
            return FALSE;
          g_assert (left == 0);
          worst = afd_time_to_seconds (afd_engine_now (engine));
        }
      *out_s = worst;
      return TRUE;
    }
  if (!afd_collective_time_analytic (net, coll, NULL, out_choice, out_s, error))
    return FALSE;
  if (fidelity == AFD_NETWORK_FLOW)
    {
      g_autoptr (AfdEngine) engine = afd_engine_new (1);
      g_autoptr (AfdNetsim) sim = afd_netsim_new (net, engine);
      guint left = 1;
      if (!afd_netsim_start_collective (sim, coll, NULL, on_done, &left, error))
        return FALSE;
      afd_engine_run (engine, AFD_TIME_MAX, 0);
      if (!afd_netsim_check_horizon (sim, error))
        return FALSE;
      g_assert (left == 0);
      *out_s = afd_time_to_seconds (afd_engine_now (engine));
    }
  return TRUE;
}

/* Runs `afdsim collective`. */
static int
cmd_collective (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                GError **error)
{
  g_autofree char *cluster_name = NULL, *op_text = NULL, *ranks_text = NULL;
  g_autofree char *bytes_text = NULL, *algo_text = NULL, *proto_text = NULL;
  g_autofree char *network_text = NULL, *json_path = NULL;
  GOptionEntry entries[] = {
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &cluster_name,
      "shipped cluster name or JSON file (default dgx-a100-x2)", "NAME|FILE" },
    { "op", 0, 0, G_OPTION_ARG_STRING, &op_text,
      "all-reduce|all-gather|reduce-scatter|broadcast|reduce|all-to-all|send-recv "
      "(default all-reduce)",
      "OP" },
    { "ranks", 0, 0, G_OPTION_ARG_STRING, &ranks_text,
      "GPUs taking part: the first N of the cluster (default all)", "N" },
    { "bytes", 0, 0, G_OPTION_ARG_STRING, &bytes_text,
      "sizes: a list (1K,4M) or a range MIN:MAX[:FACTOR] (default 1K:1G)", "LIST|RANGE" },
    { "algo", 0, 0, G_OPTION_ARG_STRING, &algo_text,
      "auto|ring|tree|hierarchical|nvls|nvls-tree|direct|two-stage (default auto)", "A" },
    { "proto", 0, 0, G_OPTION_ARG_STRING, &proto_text, "auto|ll|ll128|simple (default auto)",
      "P" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &network_text,
      "analytic|flow (default analytic)", "FIDELITY" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &json_path, "also write the rows to FILE as JSON",
      "FILE" },
    { NULL },
  };
  static const char summary[]
      = "Times one collective over a range of sizes, like nccl-tests (*_perf): size, count,\n"
        "time, algbw = size/time, busbw = algbw x bus factor (docs/models/collectives.md).";
  if (!afd_cli_parse_command (&afd_command_collective, summary, entries, &argc, &argv, error))
    return 2;

  {
    /* --json must not be the cluster file (issue #14); a name that does not resolve fails
     * in the loader below. */
    g_autofree char *cpath = afd_data_resolve ("topologies/clusters", "cluster",
                                               cluster_name ? cluster_name : "dgx-a100-x2", NULL);
    const AfdFileUse out_use[] = { { "--json", json_path } };
    const AfdFileUse in_use[] = { { "--cluster", cpath } };
    if (!afd_files_check_distinct (out_use, 1, in_use, 1, error))
      return 2;
  }
  AfdCollective coll = { AFD_COLL_ALL_REDUCE, AFD_ALGO_AUTO, AFD_PROTO_AUTO, NULL, 0, 0, NULL };
  AfdNetworkFidelity fidelity = AFD_NETWORK_ANALYTIC;
  if (op_text != NULL && !afd_collective_op_from_name (op_text, &coll.op))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--op: unknown collective '%s' (all-reduce, all-gather, reduce-scatter, "
                   "broadcast, reduce, all-to-all, send-recv)",
                   op_text);
      return 2;
    }
  if (coll.op == AFD_COLL_ALL_TO_ALL_V)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--op: all-to-all-v needs a byte matrix; it is available through the library "
                   "(afd_collective_time_analytic), use all-to-all here");
      return 2;
    }
  if (algo_text != NULL && !afd_collective_algo_from_name (algo_text, &coll.algo))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--algo: unknown algorithm '%s' (auto, ring, tree, hierarchical, nvls, "
                   "nvls-tree, direct, two-stage)",
                   algo_text);
      return 2;
    }
  if (proto_text != NULL && !afd_protocol_from_name (proto_text, &coll.proto))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--proto: unknown protocol '%s' (auto, ll, ll128, simple)", proto_text);
      return 2;
    }
  if (network_text != NULL && !afd_network_fidelity_from_name (network_text, &fidelity))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--network: unknown fidelity '%s' (analytic, flow)", network_text);
      return 2;
    }
  g_autoptr (GArray) sizes = parse_sizes (bytes_text ? bytes_text : "1K:1G", error);
  if (sizes == NULL)
    return 2;
  g_autoptr (AfdCluster) cluster = afd_cluster_load (cluster_name ? cluster_name : "dgx-a100-x2",
                                                     error);
  if (cluster == NULL)
    return 1;
  gint64 ranks = afd_cluster_gpu_count (cluster);
  if (!afd_cli_parse_int ("--ranks", ranks_text, 2, afd_cluster_gpu_count (cluster), &ranks,
                          error))
    return 2;
  g_autofree guint *group = g_new (guint, ranks);
  for (gint64 i = 0; i < ranks; i++)
    group[i] = (guint) i;
  coll.group = group;
  coll.group_size = (guint) ranks;
  g_autoptr (AfdNetwork) net = afd_network_new (cluster);
  {
    /* Reject an inapplicable algorithm before printing anything. */
    double t;
    coll.bytes = 0;
    AfdCollective check = coll;
    if (check.op == AFD_COLL_SEND_RECV)
      check.group_size = 2;
    if (!afd_collective_time_analytic (net, &check, NULL, NULL, &t, error))
      return 1;
  }

  guint n_nodes = afd_cluster_node_count (cluster), n_gpus = afd_cluster_gpu_count (cluster);
  printf ("# afdsim collective: %s on %" G_GINT64_FORMAT " of %u GPU%s of %s (%u node%s), "
          "network %s\n",
          afd_collective_op_name (coll.op), ranks, n_gpus, n_gpus == 1 ? "" : "s",
          afd_cluster_name (cluster), n_nodes, n_nodes == 1 ? "" : "s",
          afd_network_fidelity_name (fidelity));
  printf ("#%12s %13s %6s %13s %7s %10s %8s %8s\n", "size", "count", "type", "algo", "proto",
          "time", "algbw", "busbw");
  printf ("#%12s %13s %6s %13s %7s %10s %8s %8s\n", "(B)", "(elements)", "", "", "", "(us)",
          "(GB/s)", "(GB/s)");
  g_autoptr (cJSON) rows = cJSON_CreateArray ();
  double factor = afd_collective_bus_factor (coll.op, coll.group_size);
  for (guint i = 0; i < sizes->len; i++)
    {
      guint64 size = g_array_index (sizes, guint64, i);
      coll.bytes = (double) size;
      double t;
      AfdCollectiveChoice choice;
      if (!time_one (net, fidelity, &coll, &t, &choice, error))
        return 1;
      double algbw = t > 0 ? (double) size / t : 0;
      double busbw = algbw * factor;
      printf (" %12" G_GUINT64_FORMAT " %13" G_GUINT64_FORMAT " %6s %13s %7s %10.2f %8.2f %8.2f\n",
              size, size / 4, "float", afd_collective_algo_name (choice.algo),
              afd_protocol_name (choice.proto), t * 1e6, algbw / 1e9, busbw / 1e9);
      cJSON *row = cJSON_CreateObject ();
      cJSON_AddStringToObject (row, "op", afd_collective_op_name (coll.op));
      cJSON_AddNumberToObject (row, "ranks", (double) ranks);
      cJSON_AddNumberToObject (row, "bytes", (double) size);
      afd_json_add_number (row, "time_s", t);
      afd_json_add_number (row, "algbw_bytes_per_s", algbw);
      afd_json_add_number (row, "busbw_bytes_per_s", busbw);
      cJSON_AddStringToObject (row, "algo", afd_collective_algo_name (choice.algo));
      cJSON_AddStringToObject (row, "proto", afd_protocol_name (choice.proto));
      cJSON_AddStringToObject (row, "network", afd_network_fidelity_name (fidelity));
      cJSON_AddStringToObject (row, "cluster", afd_cluster_name (cluster));
      cJSON_AddItemToArray (rows, row);
    }
  if (json_path != NULL && !afd_json_write_file (json_path, rows, error))
    return 1;
  return 0;
}

const AfdCommand afd_command_collective = {
  "collective", "time one collective over a range of sizes, nccl-tests style", cmd_collective,
  NULL, 0
};
