/* SPDX-License-Identifier: MIT */
/*
 * experiment-keys.h - the one table of the keys of an experiment file that are not strategy
 * options: their JSON type and where they are accepted (an experiment's top level, a run
 * object, a sweep's experiment file, a sweep point's configuration).
 *
 * sim/experiment.c hands every key this table does not reserve to the strategy, which
 * validates its options strictly; sim/sweep.c types its axes and orders a point's
 * configuration (JSONL "config", CSV columns) by it. The table names no strategy option.
 */
#ifndef AFD_SIM_EXPERIMENT_KEYS_H
#define AFD_SIM_EXPERIMENT_KEYS_H

#include <glib.h>

G_BEGIN_DECLS

/* The JSON type of a key's value. */
typedef enum {
  AFD_EXPERIMENT_KEY_STRING = 0,
  AFD_EXPERIMENT_KEY_INTEGER,
  AFD_EXPERIMENT_KEY_NUMBER,
  AFD_EXPERIMENT_KEY_OBJECT,
  AFD_EXPERIMENT_KEY_ARRAY,
} AfdExperimentKeyType;

/* Where a key is accepted (flags). */
typedef enum {
  AFD_EXPERIMENT_KEY_TOP = 1 << 0,   /* the top level of an experiment file */
  AFD_EXPERIMENT_KEY_RUN = 1 << 1,   /* one entry of "runs" */
  AFD_EXPERIMENT_KEY_SWEEP = 1 << 2, /* the top level of a sweep's experiment file */
  AFD_EXPERIMENT_KEY_POINT = 1 << 3, /* a sweep point's configuration, in table order */
} AfdExperimentKeyWhere;

typedef struct {
  const char *name;
  AfdExperimentKeyType type;
  guint where; /* AfdExperimentKeyWhere flags */
} AfdExperimentKey;

/* Returns: (transfer none): the table, ended by an entry whose name is %NULL; the keys with
 *   AFD_EXPERIMENT_KEY_POINT come in the canonical order of a sweep point. */
const AfdExperimentKey *afd_experiment_keys (void);

/* Returns: (transfer none) (nullable): the entry of @name if it is accepted in any of
 *   @where, else %NULL. */
const AfdExperimentKey *afd_experiment_key_lookup (const char *name, guint where);

G_END_DECLS

#endif /* AFD_SIM_EXPERIMENT_KEYS_H */
