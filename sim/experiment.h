/* SPDX-License-Identifier: MIT */
/*
 * experiment.h - one experiment: a cluster, a model, a workload and one or more strategy runs,
 * read strictly from experiment.json (docs/user/experiment-format.md) or built from `run`
 * flags (the same keys), executed by replaying each run's operator graph.
 *
 * The result is a summary cJSON: a provenance block (version, git revision, features, seed,
 * inputs with SHA-256, strategy and cost-model descriptions), the workload, and per run the
 * metrics of sim/metrics.h. Input paths under the data folder are written relative to it so
 * summaries do not depend on where afdsim is installed. Nothing here prints.
 */
#ifndef AFD_SIM_EXPERIMENT_H
#define AFD_SIM_EXPERIMENT_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cluster.h"
#include "sim/metrics.h"
#include "sim/network.h"
#include "sim/strategy.h"

G_BEGIN_DECLS

/* One strategy run inside an experiment. */
typedef struct {
  char *label;       /* shown in tables and trace names; defaults to the strategy name */
  char *strategy;    /* registry name */
  cJSON *options;    /* (owned) the strategy's options object */
  double claim_tpot_s;        /* a paper's claimed TPOT, < 0 when none */
  double claim_tokens_per_s;  /* claimed tokens/s, < 0 when none */
  double claim_utilisation;   /* claimed GPU utilisation (0..1), < 0 when none */
  char *claim_source;         /* (nullable) where the claims come from: the paper, section */
} AfdExperimentRun;

typedef struct {
  char *path;     /* (nullable) the experiment file */
  char *cluster;  /* name or file */
  char *model;    /* name or file */
  guint64 batch;
  guint64 context_tokens;
  gboolean prefill;
  char *routing;
  guint64 seed;
  AfdNetworkFidelity network; /* AFD_NETWORK_ANALYTIC (default) or AFD_NETWORK_FLOW */
  char *costs;    /* cost model spec: "analytic", "profile:FILE" */
  char *json;     /* (nullable) where to write the summary */
  char *trace;    /* (nullable) trace file; with several runs, "-LABEL" goes before ".json" */
  GPtrArray *runs; /* AfdExperimentRun */
  GPtrArray *faults;        /* AfdFault (sim/fault.h), in the order given; empty: none */
  guint iterations;         /* iterations to simulate with faults; 0: the last fault's + 3 */
  double fault_detection_s; /* time to detect a failure before re-issuing, seconds */
  double sim_memory_limit_bytes; /* refuse runs whose estimated simulator memory exceeds it
                                    (sim/limits.h) */
  /* MTP / speculative decoding and prices (docs/models/mtp.md, docs/models/cost.md): */
  guint mtp_draft_tokens;   /* draft tokens per decode step N (0: off) */
  double accept_tokens;     /* mean accepted tokens per step L, 1 <= L <= N + 1 (default 1) */
  GPtrArray *prices;        /* AfdGpuPrice: --price overrides of GPU files' prices */
} AfdExperiment;

/* A price override: GPU spec name (as in its file's "name") -> US dollars per GPU-hour. */
typedef struct {
  char *gpu;
  double usd_per_gpu_hour;
} AfdGpuPrice;

/* Most MTP draft tokens per step accepted by --mtp and "mtp". */
#define AFD_MTP_MAX_DRAFT_TOKENS 16

/**
 * afd_experiment_add_price:
 * @spec: "GPU=USD_PER_HOUR": GPU a shipped GPU name or a GPU file (resolved and matched by its
 *   "name", as clusters name their GPU), USD finite and > 0
 * @what: the flag or key for messages ("--price")
 *
 * Adds (or replaces) the override of that GPU's price.
 *
 * Returns: %FALSE with @code naming @what when @spec is malformed or the GPU unknown
 */
gboolean afd_experiment_add_price (AfdExperiment *self, const char *spec, const char *what,
                                   int code, GError **error);

/**
 * afd_experiment_check_mtp:
 * @what_mtp, @what_accept: the flag or key names for messages
 *
 * Checks mtp_draft_tokens and accept_tokens: N in [0, AFD_MTP_MAX_DRAFT_TOKENS], L in
 * [1, N + 1], L = 1 without N.
 *
 * Returns: %FALSE with @code naming the flag or key
 */
gboolean afd_experiment_check_mtp (const AfdExperiment *self, const char *what_mtp,
                                   const char *what_accept, int code, GError **error);

/* Default fault_detection_s: 1 ms [EST] (docs/models/faults.md). */
#define AFD_FAULT_DETECTION_DEFAULT_S 1e-3

/* Returns: (transfer full): an experiment with the defaults (docs/user/experiment-format.md). */
AfdExperiment *afd_experiment_new (void);

void afd_experiment_free (AfdExperiment *self);

/**
 * afd_experiment_load:
 * @path: an experiment.json, or the name of a shipped experiment (experiments/NAME)
 *
 * Returns: (transfer full) (nullable): the experiment, or %NULL with AFD_ERROR_CONFIG naming
 *   the file, the key and the problem
 */
AfdExperiment *afd_experiment_load (const char *path, GError **error);

/**
 * afd_experiment_add_run:
 * @options: (transfer full) (nullable): the strategy's options ({} when %NULL)
 *
 * Returns: (transfer none): the new run
 */
AfdExperimentRun *afd_experiment_add_run (AfdExperiment *self, const char *label,
                                          const char *strategy, cJSON *options);

/**
 * afd_experiment_add_provenance:
 * @command: the command that writes the result ("run", "validate", …)
 *
 * Adds the one provenance block (sim/provenance.h) to @root, with the experiment file (when
 * loaded from one), the cluster and the model file as inputs, then "seed".
 *
 * Returns: (transfer none) (nullable): the block, or %NULL with AFD_ERROR_IO when an input
 *   cannot be read or resolved
 */
cJSON *afd_experiment_add_provenance (const AfdExperiment *self, cJSON *root,
                                      const char *command, GError **error);

/**
 * afd_experiment_check_files:
 *
 * Checks, before any work, that the summary (@self->json) and every run's trace (@self->trace)
 * are distinct files and that none of them is an input (the experiment file, the cluster, the
 * model, a routing file:, a profile:) — by device and inode after following links
 * (sim/files.h). afd_experiment_run() calls it; commands that write their own outputs from an
 * experiment (validate) set json and trace and call it first.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming both flags
 */
gboolean afd_experiment_check_files (const AfdExperiment *self, GError **error);

/**
 * afd_experiment_run:
 * @plugins: (transfer none): registry lookups from the composition root
 * @out_trace_paths: (out) (transfer full) (element-type utf8) (optional): traces written
 *
 * Runs every run in order.
 *
 * Returns: (transfer full) (nullable): the summary, or %NULL with the first error (prefixed
 *   with the run's label)
 */
cJSON *afd_experiment_run (const AfdExperiment *self, const AfdPlugins *plugins,
                           GPtrArray **out_trace_paths, GError **error);

/**
 * afd_experiment_run_typed:
 * @out_metrics: (out) (transfer full) (element-type AfdMetrics) (optional): one AfdMetrics
 *   per run, in run order: the typed values the summary's runs were written from
 *
 * afd_experiment_run() with the typed results beside the summary, for callers that compute
 * with the numbers (sweep points) instead of reading them back from the JSON.
 */
cJSON *afd_experiment_run_typed (const AfdExperiment *self, const AfdPlugins *plugins,
                                 GPtrArray **out_trace_paths, GArray **out_metrics,
                                 GError **error);

/**
 * afd_experiment_run_strategy:
 * @plugins: (transfer none): registry lookups from the composition root
 * @costs: (nullable): the cost model the strategy may consult (AfdStrategyInput.costs)
 * @out_input: (out): the strategy's input: @cluster's GPUs, @llm and @self's workload
 *   (batch, context, phase, routing, seed); no GPU excluded
 *
 * Returns: (transfer full) (nullable): @run's strategy made with its options, or %NULL with
 *   the registry's or the strategy's error
 */
AfdStrategy *afd_experiment_run_strategy (const AfdExperiment *self, const AfdExperimentRun *run,
                                      const AfdPlugins *plugins, const AfdCluster *cluster,
                                      const AfdLlm *llm, AfdCostModel *costs,
                                      AfdStrategyInput *out_input, GError **error);

/**
 * afd_experiment_step_llm:
 * @llm: (transfer none): the experiment's model
 * @out_step: (out) (transfer full) (nullable): with MTP (mtp_draft_tokens > 0), the model
 *   every decode step runs (afd_llm_with_draft, docs/models/mtp.md), to hand to
 *   afd_experiment_run_strategy(); %NULL without MTP (use @llm)
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming --mtp (or "mtp" with a file) when the model has
 *   no draft module (mtp_layers 0) or the phase is prefill
 */
gboolean afd_experiment_step_llm (const AfdExperiment *self, const AfdLlm *llm,
                                  AfdLlm **out_step, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdExperiment, afd_experiment_free)


G_END_DECLS

#endif /* AFD_SIM_EXPERIMENT_H */
