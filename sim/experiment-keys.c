/* SPDX-License-Identifier: MIT */
/* experiment-keys.c - the one table of experiment keys (see sim/experiment-keys.h). */
#include "config.h"

#include <string.h>

#include "sim/experiment-keys.h"

#define T AFD_EXPERIMENT_KEY_TOP
#define R AFD_EXPERIMENT_KEY_RUN
#define S AFD_EXPERIMENT_KEY_SWEEP
#define P AFD_EXPERIMENT_KEY_POINT

/* docs/user/experiment-format.md (experiments), docs/user/sweep.md (sweeps and points). */
static const AfdExperimentKey keys[] = {
  { "description", AFD_EXPERIMENT_KEY_STRING, T | S },
  { "cluster", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "model", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "strategy", AFD_EXPERIMENT_KEY_STRING, T | R | S | P },
  { "label", AFD_EXPERIMENT_KEY_STRING, R | P },
  { "batch", AFD_EXPERIMENT_KEY_INTEGER, T | S | P },
  { "context", AFD_EXPERIMENT_KEY_INTEGER, T | S | P },
  { "phase", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "routing", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "seed", AFD_EXPERIMENT_KEY_INTEGER, T | S | P },
  { "network", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "costs", AFD_EXPERIMENT_KEY_STRING, T | S | P },
  { "total_gpus", AFD_EXPERIMENT_KEY_INTEGER, P }, /* sweep: GPUs a ratio splits */
  { "ratio", AFD_EXPERIMENT_KEY_STRING, P },       /* sweep: "A:B" split of total_gpus */
  { "mtp", AFD_EXPERIMENT_KEY_INTEGER, T | S | P },   /* draft tokens per step (mtp.md) */
  { "accept", AFD_EXPERIMENT_KEY_NUMBER, T | S | P }, /* accepted tokens per step */
  { "price", AFD_EXPERIMENT_KEY_STRING, P },          /* sweep: GPU=USD_PER_HOUR (cost.md) */
  { "prices", AFD_EXPERIMENT_KEY_OBJECT, T },         /* GPU name -> USD per GPU-hour */
  { "json", AFD_EXPERIMENT_KEY_STRING, T },
  { "trace", AFD_EXPERIMENT_KEY_STRING, T },
  { "runs", AFD_EXPERIMENT_KEY_ARRAY, T | S },
  { "claims", AFD_EXPERIMENT_KEY_OBJECT, R },
  { "faults", AFD_EXPERIMENT_KEY_ARRAY, T },
  { "iterations", AFD_EXPERIMENT_KEY_INTEGER, T },
  { "fault_detection_s", AFD_EXPERIMENT_KEY_NUMBER, T },
  { "sim_memory_limit_bytes", AFD_EXPERIMENT_KEY_NUMBER, T },
  { "sweep", AFD_EXPERIMENT_KEY_OBJECT, S },
  { NULL, 0, 0 },
};

const AfdExperimentKey *
afd_experiment_keys (void)
{
  return keys;
}

const AfdExperimentKey *
afd_experiment_key_lookup (const char *name, guint where)
{
  g_return_val_if_fail (name != NULL, NULL);
  for (const AfdExperimentKey *k = keys; k->name != NULL; k++)
    if ((k->where & where) != 0 && strcmp (k->name, name) == 0)
      return k;
  return NULL;
}
