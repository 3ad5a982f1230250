/* SPDX-License-Identifier: MIT */
/*
 * cmd-demo.c - `afdsim demo`: a small synthetic timeline that exercises the engine end to end.
 *
 * Two GPUs, each with a compute and a communication stream, run a few transformer-like
 * layers: attention (compute), an all-reduce that needs both GPUs' attention to finish (a
 * cross-GPU wait on the comm stream), then the MLP (compute) after the all-reduce. gpu1's
 * attention is longer (longer sequences), so gpu0 waits at every all-reduce. All durations
 * are the named constants below, jittered by at most ±5 % from the seeded "demo" stream; no
 * hardware model is involved. The command prints per-GPU busy and idle time and the makespan,
 * and with --trace writes a Chrome trace. (The default command is `run`, cli/main.c.)
 */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/gpu-set.h"
#include "sim/trace.h"

#define DEMO_N_GPUS 2
#define DEMO_DEFAULT_LAYERS 4
#define DEMO_MAX_LAYERS 10000
#define ATTENTION_NS_GPU0 (150 * AFD_TIME_NS_PER_US) /* shorter sequences */
#define ATTENTION_NS_GPU1 (180 * AFD_TIME_NS_PER_US) /* longer sequences */
#define ALLREDUCE_NS (40 * AFD_TIME_NS_PER_US)
#define MLP_NS (200 * AFD_TIME_NS_PER_US)
#define JITTER_FRACTION 0.05 /* each duration is scaled by 1 ± up to 5 % */
#define FLOPS_ATTENTION 3.0e11 /* trace args only */
#define FLOPS_MLP 4.0e11
#define ALLREDUCE_BYTES (16.0 * 1024 * 1024)

enum { STREAM_COMPUTE, STREAM_COMM };

/* @nominal_ns scaled by a uniform factor in [1 - JITTER_FRACTION, 1 + JITTER_FRACTION). */
static AfdTime
jitter (GRand *rng, AfdTime nominal_ns)
{
  double f = 1.0 + JITTER_FRACTION * (2.0 * g_rand_double (rng) - 1.0);
  return afd_time_from_seconds (afd_time_to_seconds (nominal_ns) * f);
}

/* Enqueues @n_layers layers on the two GPUs of @set. */
static void
build_layers (AfdGpuSet *set, GRand *rng, guint n_layers)
{
  const AfdTime attention_ns[DEMO_N_GPUS] = { ATTENTION_NS_GPU0, ATTENTION_NS_GPU1 };
  for (guint layer = 0; layer < n_layers; layer++)
    {
      guint attn[DEMO_N_GPUS];
      for (guint g = 0; g < DEMO_N_GPUS; g++)
        {
          AfdOpSpec spec = { .gpu = g, .stream = STREAM_COMPUTE,
                             .duration_ns = jitter (rng, attention_ns[g]), .name = "attention",
                             .category = "compute", .flops = FLOPS_ATTENTION };
          attn[g] = afd_gpu_set_enqueue (set, &spec, NULL, 0);
        }
      for (guint g = 0; g < DEMO_N_GPUS; g++)
        {
          AfdOpSpec ar = { .gpu = g, .stream = STREAM_COMM, .duration_ns = jitter (rng, ALLREDUCE_NS),
                           .name = "all_reduce", .category = "comm", .bytes = ALLREDUCE_BYTES };
          /* A collective starts when every member has its input ready. */
          guint ar_op = afd_gpu_set_enqueue (set, &ar, attn, DEMO_N_GPUS);
          AfdOpSpec mlp = { .gpu = g, .stream = STREAM_COMPUTE,
                            .duration_ns = jitter (rng, MLP_NS), .name = "mlp",
                            .category = "compute", .flops = FLOPS_MLP };
          afd_gpu_set_enqueue (set, &mlp, &ar_op, 1);
        }
    }
}

/* Runs `afdsim demo`. */
static int
cmd_demo (G_GNUC_UNUSED const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_autofree char *trace_path = NULL;
  g_autofree char *seed_text = NULL;
  g_autofree char *layers_text = NULL;
  GOptionEntry entries[] = {
    { "trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
      "write a Chrome trace (Perfetto, chrome://tracing) to FILE", "FILE" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "run seed for the duration jitter (default 1)",
      "S" },
    { "layers", 0, 0, G_OPTION_ARG_STRING, &layers_text, "layers to run (default 4)", "N" },
    { NULL },
  };
  static const char summary[]
      = "A synthetic timeline demo of the engine, not a model of real hardware: 2 GPUs with\n"
        "compute and comm streams run attention, a cross-GPU all-reduce and an MLP per layer,\n"
        "with fixed durations (150/180 us, 40 us, 200 us, +-5 % seeded jitter).";
  if (!afd_cli_parse_command (&afd_command_demo, summary, entries, &argc, &argv, error))
    return 2;
  gint64 seed = 1, layers = DEMO_DEFAULT_LAYERS;
  if (!afd_cli_parse_int ("--seed", seed_text, 0, G_MAXINT64, &seed, error)
      || !afd_cli_parse_int ("--layers", layers_text, 1, DEMO_MAX_LAYERS, &layers, error))
    return 2;

  g_autoptr (AfdTraceWriter) trace = NULL;
  if (trace_path != NULL)
    {
      trace = afd_trace_writer_open (trace_path, error);
      if (trace == NULL)
        return 1;
    }
  g_autoptr (AfdEngine) engine = afd_engine_new ((guint64) seed);
  g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, trace);
  for (guint g = 0; g < DEMO_N_GPUS; g++)
    {
      g_autofree char *name = g_strdup_printf ("gpu%u", g);
      afd_gpu_set_add_gpu (set, name);
      afd_gpu_set_add_stream (set, g, "compute");
      afd_gpu_set_add_stream (set, g, "comm");
    }
  build_layers (set, afd_engine_rng (engine, "demo"), (guint) layers);
  guint64 n_events = afd_engine_run (engine, AFD_TIME_MAX, 0);
  g_assert (afd_gpu_set_n_unfinished (set) == 0);
  AfdTime makespan_ns = afd_engine_now (engine);

  printf ("afdsim demo: synthetic timeline, %d GPUs x {compute, comm}, %" G_GINT64_FORMAT
          " layer%s, seed %" G_GINT64_FORMAT "\n",
          DEMO_N_GPUS, layers, layers == 1 ? "" : "s", seed);
  printf ("%-6s %16s %16s %16s %12s\n", "gpu", "compute_busy_us", "comm_busy_us",
          "compute_idle_us", "compute_util");
  for (guint g = 0; g < DEMO_N_GPUS; g++)
    {
      AfdTime busy = afd_gpu_set_stream_busy (set, g, STREAM_COMPUTE);
      AfdTime comm = afd_gpu_set_stream_busy (set, g, STREAM_COMM);
      printf ("gpu%-3u %16.3f %16.3f %16.3f %11.1f%%\n", g, busy / 1e3, comm / 1e3,
              (makespan_ns - busy) / 1e3, 100.0 * (double) busy / (double) makespan_ns);
    }
  printf ("makespan: %.3f us (%u ops, %" G_GUINT64_FORMAT " events)\n", makespan_ns / 1e3,
          afd_gpu_set_n_ops (set), n_events);
  g_clear_pointer (&set, afd_gpu_set_free);
  if (trace != NULL)
    {
      if (!afd_trace_writer_close (g_steal_pointer (&trace), error))
        return 1;
      printf ("trace written to %s (open it in Perfetto or chrome://tracing)\n", trace_path);
    }
  return 0;
}

const AfdCommand afd_command_demo = {
  "demo", "synthetic two-GPU timeline demo of the engine", cmd_demo, NULL, 0
};
