/* SPDX-License-Identifier: MIT */
/*
 * experiment-private.h - what sim/experiment.c (the experiment: loading, all runs, the
 * summary), sim/experiment-run.c (one run) and sim/experiment-faults.c (the fault campaign
 * over a run's iterations) share; not for use outside these three files. experiment.c calls
 * the other two, the fault campaign calls experiment-run.c, which calls neither.
 */
#ifndef AFD_SIM_EXPERIMENT_PRIVATE_H
#define AFD_SIM_EXPERIMENT_PRIVATE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/metrics.h"

G_BEGIN_DECLS

/* A fault's instant marker in a trace: where it struck on the traced iteration's time axis. */
typedef struct {
  const AfdFault *fault;
  AfdTime offset_ns; /* since the start of the iteration it struck in (0 for @iterN) */
  guint iteration;   /* that iteration */
} FaultMarker;

/* One faulted configuration of afd_experiment_run_one() (sim/fault.h); NULL for the plain run. */
typedef struct {
  const double *gpu_scale; /* (nullable) per GPU compute-time factor */
  const guint8 *failed;    /* (nullable) per GPU: failed */
  gboolean trace;          /* write the trace of this configuration */
  GArray *markers;         /* (nullable) FaultMarker: instant markers in the trace */
  char *failure;           /* (out) set when a failed GPU's work has no replica: the note */
  guint64 lost_sequences;  /* (out) sequences dropped with the failed GPUs' state (EP) */
  /* GPUs cut off by failed links (afd_fault_cut_off_gpus; also set in failed): the cluster
   * given to afd_experiment_run_one() has no route to or from them (AFD_FAULT_CUT_EXEMPT) */
  const guint8 *cut;       /* (nullable) per GPU: cut off */
  const AfdCluster *base;  /* with cut: the run's own cluster */
  AfdFault *const *faults; /* with cut: the active faults */
  guint n_faults;
} FaultHooks;

/**
 * afd_experiment_run_one:
 * @fx: (nullable): the faulted configuration; %NULL for the plain run
 * @out_metrics: (out) (optional): the typed metrics the returned object was written from
 *
 * Builds, replays and measures one run of @self.
 *
 * Returns: (transfer full) (nullable): the run's metrics object (the JSON writer's form), or
 *   %NULL with @error (or, with @fx, %NULL and fx->failure set when a failed GPU's work has
 *   no replica)
 */
cJSON *afd_experiment_run_one (const AfdExperiment *self, const AfdExperimentRun *run,
                               const AfdPlugins *plugins, const AfdCluster *cluster,
                               const AfdLlm *llm, AfdCostModel *costs, GPtrArray *traces,
                               FaultHooks *fx, AfdMetrics *out_metrics, GError **error);

/* Returns: (transfer full): the trace file of run @label: the experiment's trace path, with
 * "-LABEL" before ".json" when there are several runs. */
char *afd_experiment_run_trace_path (const AfdExperiment *self, const char *label);

/* Returns: the price per GPU-hour of @gpu: its --price / "prices" override, else its file's
 * (0: none). */
double afd_experiment_run_gpu_price (const AfdExperiment *self, const AfdGpuSpec *gpu);

/**
 * afd_experiment_faults_run:
 * @healthy: the typed metrics of the run's healthy iteration
 * @out: the run's metrics object: "faults", "fault_detection_s" and "iterations" are added
 *
 * Fault injection over the run's iterations (docs/models/faults.md).
 *
 * Returns: %FALSE with @error
 */
gboolean afd_experiment_faults_run (const AfdExperiment *self, const AfdExperimentRun *run,
                                    const AfdPlugins *plugins, const AfdCluster *cluster,
                                    const AfdLlm *llm, AfdCostModel *costs, GPtrArray *traces,
                                    const AfdMetrics *healthy, cJSON *out, GError **error);

G_END_DECLS

#endif /* AFD_SIM_EXPERIMENT_PRIVATE_H */
