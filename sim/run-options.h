/* SPDX-License-Identifier: MIT */
/*
 * run-options.h - the flags `afdsim run`, `compare` and `validate` share (cli/cmd-run.c,
 * cli/cmd-validate.c): --cluster, --model, one flag per distinct flag of the strategies'
 * parameter tables (sim/strategy.h), --set, and the workload flags. A flag becomes a typed
 * strategy option (afd_run_options_strategy) or an experiment field (afd_run_options_apply);
 * a strategy flag that no chosen strategy declares is an error (afd_run_options_check_applies).
 */
#ifndef AFD_SIM_RUN_OPTIONS_H
#define AFD_SIM_RUN_OPTIONS_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/experiment.h"
#include "sim/strategy.h"

G_BEGIN_DECLS

/* One strategy flag of run, compare and validate: generated from the strategies' parameter
 * tables (sim/strategy.h), one per distinct flag name. */
typedef struct {
  const AfdStrategyParam *param; /* the first class's declaration (key, flag, type) */
  char *help;                    /* the classes that declare it and their ranges */
  char *declared_by;             /* the names of the classes that declare it ("tppp, ep") */
  char *text;                    /* the flag's text, %NULL when absent */
} AfdRunStrategyFlag;

/* The command-line flags that describe one experiment's strategy run and workload, shared by
 * `afdsim run`, `compare` and `validate` (each adds its own flags around them). Every value
 * is the flag's text (GOption STRING) until afd_run_options_* parse it; %NULL when absent. */
typedef struct {
  char *cluster, *model;
  AfdRunStrategyFlag *strategy_flags; /* n_strategy_flags, from the classes' tables */
  guint n_strategy_flags;
  char **sets; /* --set KEY=VALUE, repeated */
  char *batch, *context, *phase, *routing, *seed;
  char *network; /* its entry is the command's own (help texts differ) */
  char *mtp, *accept; /* MTP draft tokens per step and mean accepted tokens (docs/models/mtp.md) */
  char **prices;      /* --price GPU=USD_PER_HOUR, repeated (docs/models/cost.md) */
} AfdRunOptions;

/* Frees every flag of @self and sets it to %NULL. */
void afd_run_options_clear (AfdRunOptions *self);

/**
 * afd_run_options_entries:
 * @classes: (array zero-terminated=1): every strategy class (AfdPlugins.strategy_list)
 * @strategy: the command's --strategy entry (placed after --model)
 * @set_help: the help text of --set
 * @tail: (array zero-terminated=1): the command's own entries, placed after --seed
 *
 * Returns: (transfer full): the command's option table: --cluster, --model, @strategy, one
 *   flag for every distinct flag of the classes' parameter tables (class order, then table
 *   order), --set, the workload flags (--batch, --context, --phase, --routing, --seed,
 *   --mtp, --accept, --price), then @tail; NULL-terminated, g_free() it
 */
GOptionEntry *afd_run_options_entries (AfdRunOptions *self,
                                       const AfdStrategyClass *const *classes,
                                       const GOptionEntry *strategy, const char *set_help,
                                       const GOptionEntry *tail);

/* Returns: TRUE when any strategy flag or --set was given. */
gboolean afd_run_options_has_strategy_flags (const AfdRunOptions *self);

/* Returns: (transfer none) (nullable): the first strategy flag given ("--attn-gpus", or
 * "--set" for a --set), or %NULL. */
const char *afd_run_options_first_strategy_flag (const AfdRunOptions *self);

/**
 * afd_run_options_check_applies:
 * @chosen: (array length=n_chosen): the classes the flags are for
 *
 * Every strategy flag and every --set KEY given must be declared by at least one of @chosen
 * (in a compare or sweep over several strategies, an option applies to those that declare it).
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming the flag (or --set KEY), the strategies it was
 *   given for and those that declare it
 */
gboolean afd_run_options_check_applies (const AfdRunOptions *self,
                                        const AfdStrategyClass *const *chosen, guint n_chosen,
                                        GError **error);

/**
 * afd_run_options_strategy:
 * @klass: the class the options are for
 * @set_hint: appended to the message of a --set that is not KEY=VALUE ("" for none)
 *
 * The options of @klass the flags give: each strategy flag @klass declares, parsed by its
 * type and range (sim/strategy.h), then every --set KEY=VALUE whose KEY @klass declares
 * (VALUE read as JSON when it is a number or a boolean, else as a string; a later one
 * replaces an earlier one). Flags and keys @klass does not declare are left out: check them
 * with afd_run_options_check_applies().
 *
 * Returns: (transfer full) (nullable): the options object, or %NULL with AFD_ERROR_USAGE
 */
cJSON *afd_run_options_strategy (const AfdRunOptions *self, const AfdStrategyClass *klass,
                                 const char *set_hint, GError **error);

/**
 * afd_run_options_add_runs:
 * @names: (array zero-terminated=1): the strategies to run, one run each
 *
 * Adds one run per name to @exp with the options the flags give it
 * (afd_run_options_strategy()), after checking that every flag applies to at least one of
 * the named strategies (afd_run_options_check_applies()). A name the registry does not know
 * gets an empty options object: the run reports it.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE
 */
gboolean afd_run_options_add_runs (const AfdRunOptions *self, AfdExperiment *exp,
                                   const AfdPlugins *plugins, const char *const *names,
                                   const char *set_hint, GError **error);

/**
 * afd_run_options_refuse_with_file:
 * @cmd: the command ("run")
 * @path: the experiment file or name the runs come from
 *
 * An experiment's runs carry their own placements: a strategy flag or --set beside one would
 * change nothing, so it is refused (the workload flags override every run, see
 * afd_run_options_apply()).
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming the first strategy flag given
 */
gboolean afd_run_options_refuse_with_file (const AfdRunOptions *self, const char *cmd,
                                           const char *path, GError **error);

/**
 * afd_run_options_apply:
 *
 * Sets @exp's cluster, model, routing, network (checked: analytic or flow), phase, batch,
 * context, seed, MTP (--mtp, --accept) and price overrides (--price) from the flags given; the
 * others keep their values.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming the flag when one is invalid
 */
gboolean afd_run_options_apply (const AfdRunOptions *self, AfdExperiment *exp, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AfdRunOptions, afd_run_options_clear)

G_END_DECLS

#endif /* AFD_SIM_RUN_OPTIONS_H */
