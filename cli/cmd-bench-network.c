/* SPDX-License-Identifier: MIT */
/*
 * cmd-bench-network.c - `afdsim bench network`: speed of the two network fidelities.
 *
 * Flow: an all-to-all of 64 MiB per GPU among 1024 GPUs (128 nodes x 8 H100, NVSwitch,
 * 8 x 400 Gb/s NICs per node, fat-tree) run as flows with max-min sharing (goal: <= 2 s).
 * Analytic: the same all-to-all on 8192 GPUs (1024 nodes), cluster generation included
 * (goal: <= 1 s). Prints flows, flows/s, wall time and peak RSS (docs/performance.md);
 * wall-clock figures are printed, never asserted.
 */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/network.h"

/* Seconds of a monotonic clock. */
static double
wall_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* The benchmark cluster: @nodes x 8 H100 with 8 NDR NICs per node on a fat-tree. */
static AfdCluster *
bench_cluster (guint nodes, GError **error)
{
  AfdClusterGenerator g;
  afd_cluster_generator_init (&g);
  g.name = "bench";
  g.gpu = "H100-SXM";
  g.nodes = nodes;
  g.gpus_per_node = 8;
  g.scale_up_bandwidth_bytes_per_s = 450e9;
  g.scale_up_latency_s = 1e-7;
  g.nics_per_node = 8;
  g.nic_bandwidth_bytes_per_s = 50e9;
  g.scale_out_latency_s = 5e-7;
  g.scale_out_topology = AFD_SCALE_OUT_FAT_TREE;
  g.leaf_ports = 32;
  return afd_cluster_generate (&g, error);
}

static void
on_done (AfdNetsim *sim, gpointer user_data)
{
  gboolean *done = user_data;
  *done = TRUE;
}

/* Runs `afdsim bench network`. */
static int
cmd_bench_network (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                   GError **error)
{
  g_autofree char *flow_text = NULL, *analytic_text = NULL, *bytes_text = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "flow-gpus", 0, 0, G_OPTION_ARG_STRING, &flow_text,
      "GPUs of the flow-mode all-to-all, a multiple of 8 (default 1024)", "N" },
    { "analytic-gpus", 0, 0, G_OPTION_ARG_STRING, &analytic_text,
      "GPUs of the analytic all-to-all, a multiple of 8 (default 8192)", "N" },
    { "bytes", 0, 0, G_OPTION_ARG_STRING, &bytes_text, "bytes per GPU (default 64M)", "SIZE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print one JSON object", NULL },
    { NULL },
  };
  static const char summary[]
      = "All-to-all of 64 MiB per GPU among 1024 GPUs in flow mode (max-min sharing) and\n"
        "among 8192 GPUs in analytic mode; prints flows, flows/s, wall time, peak RSS.";
  if (!afd_cli_parse_command (argv[0], NULL, summary, entries, &argc, &argv, 0, error))
    return 2;
  gint64 flow_gpus = 1024, analytic_gpus = 8192;
  guint64 bytes = 64 << 20;
  if (!afd_cli_parse_int ("--flow-gpus", flow_text, 16, 1 << 16, &flow_gpus, error)
      || !afd_cli_parse_int ("--analytic-gpus", analytic_text, 16, 1 << 20, &analytic_gpus,
                             error)
      || !afd_cli_parse_bytes ("--bytes", bytes_text, 1, G_GUINT64_CONSTANT (1) << 40, &bytes,
                               error))
    return 2;
  if (flow_gpus % 8 != 0 || analytic_gpus % 8 != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--flow-gpus and --analytic-gpus must be multiples of 8 (8 GPUs per node)");
      return 2;
    }

  /* Flow mode. */
  double t0 = wall_now_s ();
  g_autoptr (AfdCluster) fc = bench_cluster ((guint) flow_gpus / 8, error);
  if (fc == NULL)
    return 1;
  g_autoptr (AfdNetwork) fnet = afd_network_new (fc);
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdNetsim) sim = afd_netsim_new (fnet, engine);
  g_autofree guint *group = g_new (guint, flow_gpus);
  for (gint64 i = 0; i < flow_gpus; i++)
    group[i] = (guint) i;
  AfdCollective a2a = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, group,
                        (guint) flow_gpus, (double) bytes, NULL };
  gboolean done = FALSE;
  if (!afd_netsim_start_collective (sim, &a2a, NULL, on_done, &done, error))
    return 1;
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  g_assert (done);
  double flow_wall = wall_now_s () - t0;
  double flow_sim = afd_time_to_seconds (afd_engine_now (engine));
  AfdNetsimStats st;
  afd_netsim_stats (sim, &st);
  double flow_analytic;
  if (!afd_collective_time_analytic (fnet, &a2a, NULL, NULL, &flow_analytic, error))
    return 1;

  /* Analytic mode. */
  t0 = wall_now_s ();
  g_autoptr (AfdCluster) ac = bench_cluster ((guint) analytic_gpus / 8, error);
  if (ac == NULL)
    return 1;
  g_autoptr (AfdNetwork) anet = afd_network_new (ac);
  g_autofree guint *agroup = g_new (guint, analytic_gpus);
  for (gint64 i = 0; i < analytic_gpus; i++)
    agroup[i] = (guint) i;
  AfdCollective big = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, agroup,
                        (guint) analytic_gpus, (double) bytes, NULL };
  double analytic_sim;
  if (!afd_collective_time_analytic (anet, &big, NULL, NULL, &analytic_sim, error))
    return 1;
  double analytic_wall = wall_now_s () - t0;
  double pairs = (double) analytic_gpus * (double) (analytic_gpus - 1);

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double peak_rss_bytes = (double) ru.ru_maxrss * 1024.0;
  double flows = (double) st.flows_started;
  if (json)
    {
      g_autoptr (cJSON) o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "bytes_per_gpu", (double) bytes);
      cJSON_AddNumberToObject (o, "flow_gpus", (double) flow_gpus);
      cJSON_AddNumberToObject (o, "flow_flows", flows);
      cJSON_AddNumberToObject (o, "flow_wall_s", flow_wall);
      cJSON_AddNumberToObject (o, "flow_flows_per_s", flows / flow_wall);
      cJSON_AddNumberToObject (o, "flow_rate_updates", (double) st.rate_updates);
      cJSON_AddNumberToObject (o, "flow_max_active", (double) st.max_active);
      cJSON_AddNumberToObject (o, "flow_simulated_s", flow_sim);
      cJSON_AddNumberToObject (o, "flow_analytic_s", flow_analytic);
      cJSON_AddNumberToObject (o, "analytic_gpus", (double) analytic_gpus);
      cJSON_AddNumberToObject (o, "analytic_pairs", pairs);
      cJSON_AddNumberToObject (o, "analytic_wall_s", analytic_wall);
      cJSON_AddNumberToObject (o, "analytic_simulated_s", analytic_sim);
      cJSON_AddNumberToObject (o, "peak_rss_bytes", peak_rss_bytes);
      char *text = cJSON_Print (o);
      printf ("%s\n", text);
      cJSON_free (text);
      return 0;
    }
  printf ("all-to-all, %" G_GUINT64_FORMAT " bytes per GPU, 8 x H100 per node, 8 x 50 GB/s NICs, "
          "fat-tree\n",
          bytes);
  printf ("  flow      %5" G_GINT64_FORMAT " GPUs: %.0f flows in %.3f s wall (goal <= 2 s), "
          "%.2f M flows/s, %" G_GUINT64_FORMAT " rate updates, max %" G_GUINT64_FORMAT
          " flows in flight\n",
          flow_gpus, flows, flow_wall, flows / flow_wall / 1e6, st.rate_updates, st.max_active);
  printf ("            simulated %.3f ms (analytic model: %.3f ms)\n", flow_sim * 1e3,
          flow_analytic * 1e3);
  printf ("  analytic  %5" G_GINT64_FORMAT " GPUs: %.3g GPU pairs in %.3f s wall (goal <= 1 s), "
          "simulated %.3f ms\n",
          analytic_gpus, pairs, analytic_wall, analytic_sim * 1e3);
  printf ("  peak RSS %.1f MiB\n", peak_rss_bytes / 1048576.0);
  return 0;
}

const AfdCommand afd_command_bench_network = {
  "bench network", "all-to-all benchmark of the flow-level and analytic network models",
  cmd_bench_network
};
