/* SPDX-License-Identifier: MIT */
/*
 * cmd-bench-network.c - `afdsim bench network`: speed of the two network fidelities.
 *
 * Flow: an all-to-all of 64 MiB per GPU among 1024 GPUs (128 nodes x 8 H100, NVSwitch,
 * 8 x 400 Gb/s NICs per node, fat-tree) run as flows with max-min sharing (goal: <= 2 s).
 * Analytic: the same all-to-all on 8192 GPUs (1024 nodes), cluster generation included
 * (goal: <= 1 s). Prints flows, flows/s, wall time and peak RSS (docs/performance.md);
 * wall-clock figures are printed, never asserted.
 * --scaling: the flow all-to-all alone at 128, 256, … GPUs (doubling) up to --max-gpus, each
 * point in a child process (fork) so that its peak RSS is its own; a point is skipped once
 * the previous wall time × 4.5 (flows grow 4× per doubling) would pass --max-wall.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* One flow-mode all-to-all: its figures. */
typedef struct {
  double flows, wall_s, cpu_s, simulated_s, rate_updates, max_active, route_bytes;
} FlowPoint;

/* CPU seconds (user + system) of this process so far. */
static double
cpu_now_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double) ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec * 1e-6;
}

/* Runs the flow-mode all-to-all of @bytes per GPU among @gpus GPUs (cluster generation and
 * routing included in the wall time). */
static gboolean
flow_point (guint gpus, guint64 bytes, AfdNetworkRouteMode mode, FlowPoint *out,
            AfdCluster **out_cluster, AfdNetwork **out_network, GError **error)
{
  double t0 = wall_now_s (), c0 = cpu_now_s ();
  g_autoptr (AfdCluster) fc = bench_cluster (gpus / 8, error);
  if (fc == NULL)
    return FALSE;
  g_autoptr (AfdNetwork) fnet = afd_network_new_with_mode (fc, mode);
  g_autoptr (AfdEngine) engine = afd_engine_new (1);
  g_autoptr (AfdNetsim) sim = afd_netsim_new (fnet, engine);
  g_autofree guint *group = g_new (guint, gpus);
  for (guint i = 0; i < gpus; i++)
    group[i] = i;
  AfdCollective a2a = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, group, gpus,
                        (double) bytes, NULL };
  gboolean done = FALSE;
  if (!afd_netsim_start_collective (sim, &a2a, NULL, on_done, &done, error))
    return FALSE;
  afd_engine_run (engine, AFD_TIME_MAX, 0);
  g_assert (done);
  out->wall_s = wall_now_s () - t0;
  out->cpu_s = cpu_now_s () - c0;
  out->route_bytes = (double) afd_network_route_bytes (fnet);
  out->simulated_s = afd_time_to_seconds (afd_engine_now (engine));
  AfdNetsimStats st;
  afd_netsim_stats (sim, &st);
  out->flows = (double) st.flows_started;
  out->rate_updates = (double) st.rate_updates;
  out->max_active = (double) st.max_active;
  g_clear_pointer (&sim, afd_netsim_free);
  if (out_cluster != NULL)
    {
      *out_network = g_steal_pointer (&fnet);
      *out_cluster = g_steal_pointer (&fc);
    }
  return TRUE;
}

/* The scaling curve: one child process per point. */
static int
run_scaling (gint64 max_gpus, double max_wall_s, guint64 bytes, AfdNetworkRouteMode mode,
             gboolean json, GError **error)
{
  g_autoptr (cJSON) arr = cJSON_CreateArray ();
  if (!json)
    printf ("flow all-to-all, %" G_GUINT64_FORMAT " bytes per GPU, 8 x H100 per node, "
            "8 x 50 GB/s NICs, fat-tree (each point in its own process)\n"
            "%6s %10s %9s %9s %10s %12s %10s %10s\n",
            bytes, "GPUs", "flows", "wall_s", "cpu_s", "flows/s", "cpu_ns/flow", "RSS_MiB",
            "routes_MiB");
  double last_wall = 0;
  for (gint64 gpus = 128; gpus <= max_gpus; gpus *= 2)
    {
      if (last_wall > 0 && last_wall * 4.5 > max_wall_s)
        {
          if (!json)
            printf ("%6" G_GINT64_FORMAT "  skipped: about %.0f s expected, over --max-wall "
                    "%.0f s\n", gpus, last_wall * 4.5, max_wall_s);
          continue;
        }
      fflush (stdout);
      int fd[2];
      if (pipe (fd) != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "bench network: pipe: %s",
                       g_strerror (errno));
          return 1;
        }
      pid_t pid = fork ();
      if (pid < 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "bench network: fork: %s",
                       g_strerror (errno));
          close (fd[0]);
          close (fd[1]);
          return 1;
        }
      if (pid == 0)
        {
          close (fd[0]);
          FlowPoint pt;
          g_autoptr (GError) cerr = NULL;
          int rc = flow_point ((guint) gpus, bytes, mode, &pt, NULL, NULL, &cerr) ? 0 : 1;
          if (rc == 0 && write (fd[1], &pt, sizeof pt) != (ssize_t) sizeof pt)
            rc = 1;
          _exit (rc);
        }
      close (fd[1]);
      FlowPoint pt;
      ssize_t got = read (fd[0], &pt, sizeof pt);
      close (fd[0]);
      int status = 0;
      struct rusage ru;
      memset (&ru, 0, sizeof ru);
      while (wait4 (pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
      if (got != (ssize_t) sizeof pt || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                       "bench network: the %" G_GINT64_FORMAT "-GPU point failed", gpus);
          return 1;
        }
      double rss_bytes = (double) ru.ru_maxrss * 1024.0;
      last_wall = pt.wall_s;
      if (json)
        {
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddNumberToObject (o, "gpus", (double) gpus);
          cJSON_AddNumberToObject (o, "flows", pt.flows);
          cJSON_AddNumberToObject (o, "wall_s", pt.wall_s);
          cJSON_AddNumberToObject (o, "cpu_s", pt.cpu_s);
          cJSON_AddNumberToObject (o, "flows_per_s", pt.flows / pt.wall_s);
          cJSON_AddNumberToObject (o, "route_bytes", pt.route_bytes);
          cJSON_AddNumberToObject (o, "simulated_s", pt.simulated_s);
          cJSON_AddNumberToObject (o, "peak_rss_bytes", rss_bytes);
          cJSON_AddItemToArray (arr, o);
        }
      else
        printf ("%6" G_GINT64_FORMAT " %10.0f %9.3f %9.3f %10.3g %12.0f %10.1f %10.2f\n", gpus,
                pt.flows, pt.wall_s, pt.cpu_s, pt.flows / pt.wall_s, pt.cpu_s / pt.flows * 1e9,
                rss_bytes / 1048576.0, pt.route_bytes / 1048576.0);
    }
  if (json)
    {
      g_autoptr (cJSON) o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "bytes_per_gpu", (double) bytes);
      cJSON_AddItemToObject (o, "points", g_steal_pointer (&arr));
      char *text = cJSON_Print (o);
      printf ("%s\n", text);
      cJSON_free (text);
    }
  return 0;
}

/* Runs `afdsim bench network`. */
static int
cmd_bench_network (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv,
                   GError **error)
{
  g_autofree char *flow_text = NULL, *analytic_text = NULL, *bytes_text = NULL;
  g_autofree char *routes_text = NULL, *max_gpus_text = NULL, *max_wall_text = NULL;
  gboolean json = FALSE, scaling = FALSE;
  GOptionEntry entries[] = {
    { "flow-gpus", 0, 0, G_OPTION_ARG_STRING, &flow_text,
      "GPUs of the flow-mode all-to-all, a multiple of 8 (default 1024)", "N" },
    { "analytic-gpus", 0, 0, G_OPTION_ARG_STRING, &analytic_text,
      "GPUs of the analytic all-to-all, a multiple of 8 (default 8192)", "N" },
    { "bytes", 0, 0, G_OPTION_ARG_STRING, &bytes_text, "bytes per GPU (default 64M)", "SIZE" },
    { "scaling", 0, 0, G_OPTION_ARG_NONE, &scaling,
      "the flow all-to-all at 128, 256, ... GPUs up to --max-gpus: GPUs, flows, wall and CPU "
      "time, flows/s, peak RSS, route storage per point", NULL },
    { "max-gpus", 0, 0, G_OPTION_ARG_STRING, &max_gpus_text,
      "largest --scaling point (default 8192)", "N" },
    { "max-wall", 0, 0, G_OPTION_ARG_STRING, &max_wall_text,
      "--scaling skips a point expected to take longer, seconds (default 120)", "S" },
    { "routes", 0, 0, G_OPTION_ARG_STRING, &routes_text,
      "route storage of the flow runs: auto, dense or compressed (default auto)", "MODE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print one JSON object", NULL },
    { NULL },
  };
  static const char summary[]
      = "All-to-all of 64 MiB per GPU among 1024 GPUs in flow mode (max-min sharing) and\n"
        "among 8192 GPUs in analytic mode; prints flows, flows/s, wall time, peak RSS.\n"
        "--scaling prints the flow-mode curve from 128 GPUs up to --max-gpus instead.";
  if (!afd_cli_parse_command (&afd_command_bench_network, summary, entries, &argc, &argv, error))
    return 2;
  gint64 flow_gpus = 1024, analytic_gpus = 8192, max_gpus = 8192;
  double max_wall_s = 120;
  guint64 bytes = 64 << 20;
  if (!afd_cli_parse_int ("--flow-gpus", flow_text, 16, 1 << 16, &flow_gpus, error)
      || !afd_cli_parse_int ("--analytic-gpus", analytic_text, 16, 1 << 20, &analytic_gpus,
                             error)
      || !afd_cli_parse_int ("--max-gpus", max_gpus_text, 128, 1 << 16, &max_gpus, error)
      || !afd_cli_parse_double ("--max-wall", max_wall_text, 0, 1e6, &max_wall_s, error)
      || !afd_cli_parse_bytes ("--bytes", bytes_text, 1, G_GUINT64_CONSTANT (1) << 40, &bytes,
                               error))
    return 2;
  AfdNetworkRouteMode mode = AFD_NETWORK_ROUTES_AUTO;
  if (routes_text != NULL)
    {
      if (g_strcmp0 (routes_text, "dense") == 0)
        mode = AFD_NETWORK_ROUTES_DENSE;
      else if (g_strcmp0 (routes_text, "compressed") == 0)
        mode = AFD_NETWORK_ROUTES_COMPRESSED;
      else if (g_strcmp0 (routes_text, "auto") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--routes: '%s' is not auto, dense or compressed", routes_text);
          return 2;
        }
    }
  if (flow_gpus % 8 != 0 || analytic_gpus % 8 != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--flow-gpus and --analytic-gpus must be multiples of 8 (8 GPUs per node)");
      return 2;
    }
  if (scaling)
    return run_scaling (max_gpus, max_wall_s, bytes, mode, json, error);

  /* Flow mode. */
  FlowPoint fp;
  g_autoptr (AfdCluster) fc = NULL;
  g_autoptr (AfdNetwork) fnet = NULL;
  if (!flow_point ((guint) flow_gpus, bytes, mode, &fp, &fc, &fnet, error))
    return 1;
  double flow_wall = fp.wall_s, flow_sim = fp.simulated_s;
  g_autofree guint *group = g_new (guint, flow_gpus);
  for (gint64 i = 0; i < flow_gpus; i++)
    group[i] = (guint) i;
  AfdCollective a2a = { AFD_COLL_ALL_TO_ALL, AFD_ALGO_DIRECT, AFD_PROTO_SIMPLE, group,
                        (guint) flow_gpus, (double) bytes, NULL };
  double flow_analytic;
  if (!afd_collective_time_analytic (fnet, &a2a, NULL, NULL, &flow_analytic, error))
    return 1;

  /* Analytic mode. */
  double t0 = wall_now_s ();
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
  double flows = fp.flows;
  if (json)
    {
      g_autoptr (cJSON) o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "bytes_per_gpu", (double) bytes);
      cJSON_AddNumberToObject (o, "flow_gpus", (double) flow_gpus);
      cJSON_AddNumberToObject (o, "flow_flows", flows);
      cJSON_AddNumberToObject (o, "flow_wall_s", flow_wall);
      cJSON_AddNumberToObject (o, "flow_flows_per_s", flows / flow_wall);
      cJSON_AddNumberToObject (o, "flow_cpu_s", fp.cpu_s);
      cJSON_AddNumberToObject (o, "flow_route_bytes", fp.route_bytes);
      cJSON_AddNumberToObject (o, "flow_rate_updates", fp.rate_updates);
      cJSON_AddNumberToObject (o, "flow_max_active", fp.max_active);
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
          flow_gpus, flows, flow_wall, flows / flow_wall / 1e6, (guint64) fp.rate_updates,
          (guint64) fp.max_active);
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
  cmd_bench_network, NULL, 0
};
