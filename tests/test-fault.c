/* SPDX-License-Identifier: MIT */
/* test-fault.c - fault specs, derived clusters and fault runs (sim/fault.h), and the
 * simulator's resource budget (sim/limits.h); issue #8. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/json.h"
#include "sim/limits.h"
#include "sim/network.h"
#include "tests/fault-test-helpers.h"
#include "tests/test-helpers.h"

/* Every spec kind parses into the documented fields; the iteration defaults to 0. */
Test (fault, parse_kinds)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdFault) g = afd_fault_parse ("gpu:12@iter3", AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  cr_assert (g->kind == AFD_FAULT_GPU && g->gpu == 12 && g->iteration == 3);
  cr_assert (afd_fault_is_failure (g));
  g_autoptr (AfdFault) l = afd_fault_parse ("link:n0.nic1:0.5", AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  cr_assert (l->kind == AFD_FAULT_LINK && l->fraction == 0.5 && l->iteration == 0);
  cr_assert_str_eq (l->vertex_a, "n0.nic1");
  cr_assert_null (l->vertex_b);
  cr_assert (!afd_fault_is_failure (l));
  g_autoptr (AfdFault) p = afd_fault_parse ("link:n0.gpu0/n0.nvswitch@iter2", AFD_ERROR_USAGE,
                                            &error);
  afd_assert_no_error (error);
  cr_assert (p->fraction == 0 && afd_fault_is_failure (p) && p->iteration == 2);
  cr_assert_str_eq (p->vertex_b, "n0.nvswitch");
  g_autoptr (AfdFault) s = afd_fault_parse ("straggler:5:2.0@iter1", AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  cr_assert (s->kind == AFD_FAULT_STRAGGLER && s->gpu == 5 && s->factor == 2.0);
}

/* Bad specs are refused with the given code and a message quoting the spec. */
Test (fault, parse_rejects)
{
  static const char *const bad[] = { "", "gpu", "gpu:", "gpu:-1", "gpu:0x3", "gpu:1:2",
                                     "gpu:1@iter", "gpu:1@iter-1", "gpu:1@it3", "gpu:1@t=1",
                                     "straggler:1", "straggler:1:0.5", "straggler:1:inf",
                                     "straggler:1:nan", "link:", "link:a/b/c", "link:a:0",
                                     "link:a:1.5", "link:a:1", "straggler:1:1", "link:a:x",
                                     "link:a:0.5:1", "disk:1",
                                     "gpu:1@iter10000", "gpu:1\n", "link:a\tb" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdFault) f = afd_fault_parse (bad[i], AFD_ERROR_CONFIG, &error);
      cr_assert_null (f, "'%s' accepted", bad[i]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      g_autofree char *quoted = g_strdup_printf ("'%s'", bad[i]);
      gboolean control = strpbrk (bad[i], "\n\t") != NULL;
      cr_assert (!strpbrk (error->message, "\n\t"), "control character in '%s'", error->message);
      cr_assert (bad[i][0] == '\0' || control || strstr (error->message, quoted) != NULL,
                 "message '%s' does not quote the spec", error->message);
    }
}

/* JSON faults: strings and objects give the same fault; bad objects name file and key. */
Test (fault, from_json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) o = cJSON_Parse ("{\"kind\": \"straggler\", \"gpu\": 5, \"factor\": 2, "
                                     "\"iteration\": 1}");
  g_autoptr (AfdFault) f = afd_fault_from_json (o, "e.json", "faults[0]", &error);
  afd_assert_no_error (error);
  cr_assert (f->kind == AFD_FAULT_STRAGGLER && f->gpu == 5 && f->factor == 2 && f->iteration == 1);
  static const char *const bad[][2] = {
    { "{\"kind\": \"gpu\"}", "faults[0].gpu: missing" },
    { "{\"kind\": \"gpu\", \"gpu\": 1, \"factor\": 2}", "faults[0].factor: not allowed" },
    { "{\"kind\": \"disk\"}", "faults[0].kind: 'disk'" },
    { "{\"kind\": \"link\", \"link\": \"a\", \"colour\": 1}", "colour" },
    { "{\"kind\": \"link\", \"link\": \"a\", \"fraction\": 2}", "faults[0]: fault 'link:a:2" },
    { "\"gpu:x\"", "e.json: faults[0]: fault 'gpu:x'" },
    { "3", "faults[0]: must be a fault spec string or an object" },
  };
  assert_faults_json_refused (bad, G_N_ELEMENTS (bad), FALSE);
}

/* Unknown GPUs, vertices and links of the cluster are refused by name. */
Test (fault, check_against_cluster)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  afd_assert_no_error (error);
  static const char *const bad[][2] = { { "gpu:16", "GPU 16 does not exist" },
                                        { "link:n9.nic0", "no vertex 'n9.nic0'" },
                                        { "link:n0.gpu0/n1.gpu0", "no link between" } };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (AfdFault) f = afd_fault_parse (bad[i][0], AFD_ERROR_USAGE, &e);
      afd_assert_no_error (e);
      cr_assert (!afd_fault_check (f, c, &e));
      afd_assert_error_contains (e, bad[i][1]);
    }
}

/* A NIC degraded to 0.5 halves the bottleneck of routes through it, and only those: on
 * a100-4x4-hdr the HDR NIC (25 GB/s) is the bottleneck of every cross-node route. */
Test (fault, degraded_nic_halves_route_bandwidth)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.nic1:0.5", AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  g_autoptr (AfdCluster) d = afd_fault_derive_cluster (c, &f, 1, &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_link_count (d), afd_cluster_link_count (c));
  g_autoptr (AfdNetwork) n0 = afd_network_new (c);
  g_autoptr (AfdNetwork) n1 = afd_network_new (d);
  double before, after, other;
  afd_network_path (n0, 1, 5, &before, NULL);
  afd_network_path (n1, 1, 5, &after, NULL);
  afd_network_path (n1, 2, 6, &other, NULL);
  cr_assert_float_eq (before, 2.5e10, 1);
  cr_assert_float_eq (after, 1.25e10, 1, "bottleneck %g", after);
  cr_assert_float_eq (other, 2.5e10, 1, "an unaffected route changed: %g", other);
  cr_assert_float_eq (afd_cluster_gpu_nic_bandwidth (d, 1, NULL), 1.25e10, 1);
}

/* Worked example (docs/models/faults.md): a 100 MB send from GPU 1 (n0) to GPU 5 (n1) crosses
 * n0.nic1; degrading it to 0.5 doubles the bandwidth term (bytes / bus bandwidth) of the
 * analytic send/recv and leaves the latency term unchanged. */
Test (fault, degraded_nic_doubles_bandwidth_term)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.nic1:0.5", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) d = afd_fault_derive_cluster (c, &f, 1, &error);
  afd_assert_no_error (error);
  const guint group[2] = { 1, 5 };
  AfdCollective coll = { .op = AFD_COLL_SEND_RECV, .algo = AFD_ALGO_AUTO,
                         .proto = AFD_PROTO_AUTO, .group = group, .group_size = 2,
                         .bytes = 1e8 };
  g_autoptr (AfdNetwork) n0 = afd_network_new (c);
  g_autoptr (AfdNetwork) n1 = afd_network_new (d);
  AfdCollectiveChoice c0, c1;
  double t0, t1;
  cr_assert (afd_collective_time_analytic (n0, &coll, NULL, &c0, &t0, &error));
  cr_assert (afd_collective_time_analytic (n1, &coll, NULL, &c1, &t1, &error));
  afd_assert_no_error (error);
  cr_assert_float_eq (c1.latency_s, c0.latency_s, 1e-15);
  cr_assert_float_eq (c1.bus_bandwidth_bytes_per_s, c0.bus_bandwidth_bytes_per_s / 2, 1);
  cr_assert_float_eq (t1 - c1.latency_s, 2 * (t0 - c0.latency_s), 1e-12,
                      "bandwidth terms %g s and %g s", t0 - c0.latency_s, t1 - c1.latency_s);
}

/* A failed NVLink is routed around (over the NICs), and a failed NIC that was a GPU's only way
 * out disconnects the cluster (AFD_ERROR_TOPOLOGY). */
Test (fault, failed_links_reroute_or_disconnect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.gpu0/n0.nvswitch", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) d = afd_fault_derive_cluster (c, &f, 1, &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_link_count (d), afd_cluster_link_count (c) - 2);
  g_autoptr (AfdNetwork) n = afd_network_new (d);
  double bw;
  cr_assert (afd_network_path (n, 0, 1, &bw, NULL), "gpu0 -> gpu1 should cross the network");
  cr_assert_float_eq (bw, 2.5e10, 1);
  guint links[AFD_NETWORK_MAX_HOPS];
  cr_assert_eq (afd_network_route (n, 0, 1, links), 4u); /* gpu0-nic0-switch-nic1-gpu1 */
  g_autoptr (AfdFault) nic = afd_fault_parse ("link:n1.nic0", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) x = afd_fault_derive_cluster (c, &nic, 1, &error);
  cr_assert_null (x);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
  afd_assert_error_contains (error, "no route");
}

/* Stragglers multiply: two on one GPU give the product; other GPUs stay at 1. */
Test (fault, compute_scale)
{
  g_autoptr (GError) error = NULL;
  AfdFault *f[2] = { afd_fault_parse ("straggler:1:2", AFD_ERROR_USAGE, &error),
                     afd_fault_parse ("straggler:1:1.5", AFD_ERROR_USAGE, &error) };
  afd_assert_no_error (error);
  double scale[3];
  afd_fault_compute_scale (f, 2, 3, scale);
  cr_assert (scale[0] == 1 && scale[1] == 3 && scale[2] == 1);
  afd_fault_free (f[0]);
  afd_fault_free (f[1]);
}

/* Builds a one-run experiment on @cluster. */
static AfdExperiment *
experiment (const char *cluster, const char *strategy, const char *options_json)
{
  AfdExperiment *e = afd_experiment_new ();
  g_free (e->cluster);
  e->cluster = g_strdup (cluster);
  afd_experiment_add_run (e, NULL, strategy, cJSON_Parse (options_json));
  return e;
}

static void
add_fault (AfdExperiment *e, const char *spec)
{
  g_autoptr (GError) error = NULL;
  AfdFault *f = afd_fault_parse (spec, AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  g_ptr_array_add (e->faults, f);
}

/* Straggler x2 on a bottleneck GPU: TP1/PP1/DP4 replicas share nothing, so the iteration is
 * the slowest replica's compute, and doubling GPU 0's compute doubles it (up to the 1 ns
 * rounding of each op's end). */
Test (fault, straggler_doubles_independent_replica)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e
      = experiment ("h200-1x4", "tppp", "{\"tp\": 1, \"pp\": 1, \"dp\": 4}");
  add_fault (e, "straggler:0:2@iter1");
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_state (s, 0), "healthy");
  cr_assert_str_eq (iter_state (s, 1), "degraded");
  double t0 = iter_time (s, 0), t1 = iter_time (s, 1);
  cr_assert (fabs (t1 - 2 * t0) < 1e-6 * t0, "healthy %g s, straggler %g s", t0, t1);
  cr_assert_eq (cJSON_GetArraySize (cJSON_GetObjectItem (
                    cJSON_GetArrayItem (cJSON_GetObjectItem (s, "runs"), 0), "iterations")),
                4, "default iterations = last fault's + 3");
}

/* MA Separation with attention_redundancy 2 fails over: the fault iteration costs the
 * healthy time plus fault_detection_s, later ones the healthy time (the replica already
 * computes the failed GPU's heads). */
Test (fault, masep_redundancy_fails_over)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e
      = experiment ("a100-4x4-hdr", "masep", "{\"attention_redundancy\": 2}");
  e->fault_detection_s = 0.5e-3;
  add_fault (e, "gpu:2@iter1");
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_state (s, 0), "healthy");
  cr_assert_str_eq (iter_state (s, 1), "fault");
  cr_assert_str_eq (iter_state (s, 2), "recovered");
  cr_assert_float_eq (iter_time (s, 1), iter_time (s, 0) + 0.5e-3, 1e-12);
  cr_assert_float_eq (iter_time (s, 2), iter_time (s, 0), 1e-12);
}

/* Without redundancy, MA Separation, EP and TP×PP report the failure and the lost capacity, with no
 * times for the failed iterations; a failed idle GPU changes nothing. */
Test (fault, failure_without_replica)
{
  static const char *const cases[][3] = { { "masep", "{}", "lost 1 of 12 attention GPUs" },
                                          { "masep", "{\"attention_redundancy\": 2}",
                                            "lost 1 of 4 moe GPUs" },
                                          { "ep", "{}", "lost 1 of 16" },
                                          { "tppp", "{\"tp\": 4, \"pp\": 4}",
                                            "its shard exists nowhere else: lost 1 of 16 working" } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdExperiment) e = experiment ("a100-4x4-hdr", cases[i][0], cases[i][1]);
      add_fault (e, i == 1 ? "gpu:13@iter1" : "gpu:2@iter1");
      g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
      afd_assert_no_error (error);
      cr_assert_str_eq (iter_state (s, 1), "failed");
      cr_assert_str_eq (iter_state (s, 3), "failed");
      cr_assert (cJSON_IsNull (cJSON_GetObjectItem (iteration (s, 1), "iteration_time_s")));
      const char *note = cJSON_GetObjectItem (iteration (s, 1), "note")->valuestring;
      cr_assert (strstr (note, cases[i][2]) != NULL, "note: %s", note);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = experiment ("a100-4x4-hdr", "ep", "{\"ep\": 8}");
  add_fault (e, "gpu:15@iter1");
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_state (s, 2), "recovered");
  cr_assert_float_eq (iter_time (s, 2), iter_time (s, 0), 1e-12);
}

/* A network degraded to 1% slows every strategy on both network fidelities (iteration 1,
 * before any fault, is the healthy time); a disconnecting link failure reports "failed" (not an
 * error). Fraction 1 would change nothing and is refused (fault/parse_rejects). */
Test (fault, links_on_each_strategy)
{
  static const char *const strategies[][2] = { { "masep", "{}" },
                                               { "ep", "{}" },
                                               { "tppp", "{\"tp\": 4, \"pp\": 4}" } };
  static const char *const networks[] = { "analytic", "flow" };
  for (guint i = 0; i < G_N_ELEMENTS (strategies); i++)
    for (guint k = 0; k < G_N_ELEMENTS (networks); k++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (AfdExperiment) e
            = experiment ("a100-4x4-hdr", strategies[i][0], strategies[i][1]);
        e->batch = 256;
        cr_assert (afd_network_fidelity_from_name (networks[k], &e->network));
        e->iterations = 4;
        add_fault (e, "link:net.switch:0.01@iter2");
        add_fault (e, "link:n1.nic0@iter3");
        g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
        afd_assert_no_error (error);
        cr_assert_float_eq (iter_time (s, 1), iter_time (s, 0), 1e-12, "%s/%s", strategies[i][0],
                            networks[k]);
        cr_assert (iter_time (s, 2) > iter_time (s, 0), "%s/%s: 1% network bandwidth not "
                   "slower", strategies[i][0], networks[k]);
        cr_assert_str_eq (iter_state (s, 2), "degraded");
        cr_assert_str_eq (iter_state (s, 3), "failed");
      }
}

/* Experiment files: faults (strings and objects), iterations and fault_detection_s load; bad
 * entries name the file and key. */
Test (fault, experiment_json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = afd_experiment_load (TEST_DATA "/fault-ok.json", &error);
  afd_assert_no_error (error);
  cr_assert_eq (e->faults->len, 2u);
  cr_assert_eq (e->iterations, 5u);
  cr_assert_float_eq (e->fault_detection_s, 2e-3, 1e-15);
  static const char *const bad[][2] = {
    { "fault-bad-spec.json", "fault-bad-spec.json: faults[1]: fault 'gpu:x'" },
    { "fault-bad-object.json", "fault-bad-object.json: faults[0].factor: missing" },
    { "fault-bad-detection.json", "fault_detection_s" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) err = NULL;
      g_autofree char *path = g_build_filename (TEST_DATA, bad[i][0], NULL);
      g_autoptr (AfdExperiment) x = afd_experiment_load (path, &err);
      cr_assert_null (x);
      afd_assert_error (err, AFD_ERROR, AFD_ERROR_CONFIG);
      afd_assert_error_contains (err, bad[i][1]);
    }
}

/* The budget estimate follows its documented formula: DeepSeek-V3 (61 layers, 58 MoE) on 320
 * GPUs with 2 micro-batches on the flow network. */
Test (limits, estimate_formula)
{
  AfdLimitsEstimate e;
  afd_limits_estimate (320, 61, 58, 2, TRUE, &e);
  cr_assert_float_eq (e.ops, 16.0 * 320 * 61 * 2, 1e-6);               /* 624 640 */
  cr_assert_float_eq (e.graph_bytes, 624640.0 * 400, 1e-3);             /* 249.9 MB */
  cr_assert_float_eq (e.pairs_bytes, 2.0 * 58 * 2 * 320 * 320 * 8, 1e-3); /* 190.1 MB */
  cr_assert_float_eq (e.flows_bytes, 2.0 * 320 * 320 * 256, 1e-3);      /* 52.4 MB */
  cr_assert_float_eq (e.total_bytes, e.graph_bytes + e.pairs_bytes + e.flows_bytes, 1e-3);
  afd_limits_estimate (320, 61, 58, 0, FALSE, &e);
  cr_assert_float_eq (e.ops, 16.0 * 320 * 61 * 4, 1e-6, "absent micro-batches count as 4");
  cr_assert (e.flows_bytes == 0);
}

/* A run beyond the budget is refused before its graph is built, with AFD_ERROR_LIMIT and the
 * estimate; the same run passes under the default budget. */
Test (limits, refused_up_front)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = experiment ("a100-4x4-hdr", "ep", "{}");
  e->sim_memory_limit_bytes = 1e6;
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  cr_assert_null (s);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_LIMIT);
  afd_assert_error_contains (error, "would need about");
  afd_assert_error_contains (error, "--max-memory");
  g_clear_error (&error);
  e->sim_memory_limit_bytes = AFD_LIMITS_DEFAULT_MEMORY_BYTES;
  g_autoptr (cJSON) ok = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
}

/* ------------------------------------------------------------------------------------------
 * GPUs cut off by failed links (afd_fault_cut_off_gpus, afd_fault_derive_cluster_full;
 * docs/models/faults.md "How an iteration with faults is simulated").
 * ---------------------------------------------------------------------------------------- */

/* The cut-off set of the single fault @spec on @cluster, as a string of 0/1 per GPU. */
static char *
cut_of (const AfdCluster *cluster, const char *spec, guint *out_count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdFault) f = afd_fault_parse (spec, AFD_ERROR_USAGE, &error);
  afd_assert_no_error (error);
  guint n = afd_cluster_gpu_count (cluster);
  g_autofree guint8 *cut = g_new (guint8, n);
  memset (cut, 7, n); /* every entry must be written */
  *out_count = afd_fault_cut_off_gpus (cluster, &f, 1, cut);
  GString *s = g_string_new (NULL);
  for (guint g = 0; g < n; g++)
    {
      cr_assert (cut[g] <= 1, "%s: GPU %u not written", spec, g);
      g_string_append_c (s, cut[g] ? '1' : '0');
    }
  return g_string_free (s, FALSE);
}

/* Two halves of equal GPUs: on h200-2x2-loopback (2 nodes × 2 GPUs, one NIC per node on the
 * fat-tree leaf) failing node 0's NIC leaves {GPU 0, 1, n0.nvswitch} and {GPU 2, 3,
 * n1.nvswitch, n1.nic0, leaf, spine} (and the lone n0.nic0), 2 GPUs each: the tie goes to the
 * component holding the lowest GPU index, so GPUs 2 and 3 are cut off, even though the
 * network is on their side; failing node 1's NIC gives the same set. The strict derivation
 * refuses the cut (AFD_ERROR_TOPOLOGY); with the cut-off GPUs exempt it succeeds and routes
 * GPU 0 ↔ 1 over the NVSwitch as before (450 GB/s, 2 hops); the rejoined copy keeps the
 * failed NIC's links (link count and the 0 → 2 route as healthy: 2.73 GB/s). */
Test (fault, cut_off_halves_keeps_gpu_0_side)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("h200-2x2-loopback", &error);
  afd_assert_no_error (error);
  guint n;
  g_autofree char *a = cut_of (c, "link:n0.nic0", &n);
  cr_assert_str_eq (a, "0011");
  cr_assert_eq (n, 2u);
  g_autofree char *b = cut_of (c, "link:n1.nic0", &n);
  cr_assert_str_eq (b, "0011");
  cr_assert_eq (n, 2u);
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.nic0", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) strict = afd_fault_derive_cluster (c, &f, 1, &error);
  cr_assert_null (strict);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
  g_clear_error (&error);
  g_autoptr (AfdCluster) d
      = afd_fault_derive_cluster_full (c, &f, 1, AFD_FAULT_CUT_EXEMPT, &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_gpu_count (d), 4u);
  g_autoptr (AfdNetwork) nd = afd_network_new (d);
  guint links[AFD_NETWORK_MAX_HOPS];
  cr_assert_eq (afd_network_route (nd, 0, 1, links), 2u);
  double bw;
  cr_assert_not (afd_network_path (nd, 1, 0, &bw, NULL));
  cr_assert_float_eq (bw, 4.5e11, 1);
  g_autoptr (AfdCluster) r
      = afd_fault_derive_cluster_full (c, &f, 1, AFD_FAULT_CUT_REJOIN, &error);
  afd_assert_no_error (error);
  cr_assert_eq (afd_cluster_link_count (r), afd_cluster_link_count (c));
  g_autoptr (AfdNetwork) nr = afd_network_new (r);
  cr_assert (afd_network_path (nr, 0, 2, &bw, NULL));
  cr_assert_float_eq (bw, 2.73e9, 1);
}

/* The component with the most GPUs stays, whichever GPUs it holds: on h200-1x4 (no NICs)
 * GPU 0 without its NVSwitch link is alone (1 GPU) against {1, 2, 3} (3 GPUs), so GPU 0 is
 * the one cut off and 1 ↔ 3 still routes; failing every link of the NVSwitch leaves four
 * lone GPUs, the tie keeps GPU 0 and cuts off 1, 2, 3 (one GPU left: nothing to route). */
Test (fault, cut_off_most_gpus_stay)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("h200-1x4", &error);
  afd_assert_no_error (error);
  guint n;
  g_autofree char *a = cut_of (c, "link:n0.gpu0/n0.nvswitch", &n);
  cr_assert_str_eq (a, "1000");
  cr_assert_eq (n, 1u);
  g_autofree char *b = cut_of (c, "link:n0.nvswitch", &n);
  cr_assert_str_eq (b, "0111");
  cr_assert_eq (n, 3u);
  static const char *const specs[] = { "link:n0.gpu0/n0.nvswitch", "link:n0.nvswitch" };
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr (AfdFault) f = afd_fault_parse (specs[i], AFD_ERROR_USAGE, &error);
      g_autoptr (AfdCluster) d
          = afd_fault_derive_cluster_full (c, &f, 1, AFD_FAULT_CUT_EXEMPT, &error);
      afd_assert_no_error (error);
      cr_assert_eq (afd_cluster_link_count (d), i == 0 ? 6u : 0u, "%s", specs[i]);
      if (i == 0)
        {
          g_autoptr (AfdNetwork) nd = afd_network_new (d);
          guint links[AFD_NETWORK_MAX_HOPS];
          cr_assert_eq (afd_network_route (nd, 1, 3, links), 2u);
        }
    }
}

/* Nothing is cut off by a degraded link, a straggler, a failed GPU, or a failed link that
 * is routed around (a100-4x4-hdr: GPU 0 keeps its NIC); a fault naming a vertex the cluster
 * does not have is ignored. */
Test (fault, cut_off_none)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load ("a100-4x4-hdr", &error);
  afd_assert_no_error (error);
  static const char *const specs[] = { "link:n0.gpu0/n0.nvswitch:0.5", "straggler:0:2",
                                       "gpu:0", "link:n0.gpu0/n0.nvswitch", "link:n9.nic0" };
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      guint n = 99;
      g_autofree char *s = cut_of (c, specs[i], &n);
      cr_assert_str_eq (s, "0000000000000000", "%s", specs[i]);
      cr_assert_eq (n, 0u, "%s", specs[i]);
    }
}

/* When the GPUs of the main component cannot route among themselves, the exempt derivation
 * still fails: on a 1×4 NVLink mesh (no switch, no NIC) the failed link GPU 0 ↔ 1 cuts
 * nothing off (the four GPUs stay connected through GPUs 2 and 3), but routes never pass
 * through a GPU, so 0 → 1 has no route left. */
Test (fault, main_component_without_route_fails)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCluster) c = afd_cluster_load (TEST_DATA "/fault-1x4-mesh.json", &error);
  afd_assert_no_error (error);
  guint n;
  g_autofree char *a = cut_of (c, "link:n0.gpu0/n0.gpu1", &n);
  cr_assert_str_eq (a, "0000");
  g_autoptr (AfdFault) f = afd_fault_parse ("link:n0.gpu0/n0.gpu1", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) d
      = afd_fault_derive_cluster_full (c, &f, 1, AFD_FAULT_CUT_EXEMPT, &error);
  cr_assert_null (d);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_TOPOLOGY);
  afd_assert_error_contains (error, "no route from GPU 'n0.gpu0' to GPU 'n0.gpu1'");
  /* A GPU that loses all its mesh links is cut off, and the other three still route. */
  g_clear_error (&error);
  g_autofree char *b = cut_of (c, "link:n0.gpu3", &n);
  cr_assert_str_eq (b, "0001");
  g_autoptr (AfdFault) g3 = afd_fault_parse ("link:n0.gpu3", AFD_ERROR_USAGE, &error);
  g_autoptr (AfdCluster) e
      = afd_fault_derive_cluster_full (c, &g3, 1, AFD_FAULT_CUT_EXEMPT, &error);
  afd_assert_no_error (error);
}
