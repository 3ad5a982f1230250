/* SPDX-License-Identifier: MIT */
/*
 * strategy.h - the interface every deployment strategy implements (TP×PP, EP, MA Separation,
 * AFD): given a model, a cluster shape and a workload, place every operator of one iteration
 * on GPUs as an operator graph (sim/opgraph.h).
 *
 * A strategy is a class struct (name, summary, create, destroy, build, optional describe);
 * an instance pairs the class with the state create() returned from its JSON parameters.
 * Callers use the afd_strategy_*() wrappers only. build() is pure: the same input gives the
 * same graph (routing comes from the input's seed). The list of strategies lives only in
 * models/registry.c. Nothing here prices or times an op.
 */
#ifndef AFD_SIM_STRATEGY_H
#define AFD_SIM_STRATEGY_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/cost-model.h"
#include "sim/gpu-spec.h"
#include "sim/json.h"
#include "sim/llm.h"
#include "sim/opgraph.h"

G_BEGIN_DECLS

/* What one iteration is run on: the model, the cluster's shape and the workload. */
typedef struct {
  const AfdLlm *llm;        /* (transfer none) */
  const AfdGpuSpec *gpu;    /* (transfer none): every GPU's spec (homogeneous clusters) */
  guint n_gpus;             /* GPUs in the cluster */
  guint gpus_per_node;      /* GPUs per node; GPU g sits in node g / gpus_per_node */
  guint64 batch;            /* sequences in the iteration */
  guint64 context_tokens;   /* cached tokens per sequence before this step (decode), or the
                               prompt length (prefill) */
  gboolean prefill;         /* FALSE: one decode step (1 new token per sequence) */
  const char *routing;      /* routing spec ("uniform", "zipf:1.2", …; models/routing.h) */
  guint64 seed;             /* the run's seed; routing draws from stream "routing" */
  AfdCostModel *costs;      /* (transfer none) (nullable): the run's cost model, for strategies
                               that predict op times (MA Separation rebalancing) */
  const guint8 *excluded;   /* (nullable) (array length=n_gpus): nonzero for GPUs that must get
                               no op (failed GPUs, sim/fault.h); only classes with
                               lost_sequences honour it, NULL means none */
  guint draft_tokens;       /* MTP / speculative decoding (docs/models/mtp.md): draft tokens
                               per decode step N; each step then verifies N + 1 new tokens per
                               sequence and llm is afd_llm_with_draft()'s copy; 0: off */
  double accepted_tokens;   /* mean tokens accepted per sequence and step L, 1 <= L <= N + 1
                               (0 is read as 1) */
} AfdStrategyInput;

typedef struct _AfdStrategy AfdStrategy;

/* The type of one strategy parameter (its JSON value and its flag's text). */
typedef enum {
  AFD_STRATEGY_PARAM_INT,    /* integer in [min, max] */
  AFD_STRATEGY_PARAM_NUMBER, /* number, checked with number_flags (sim/json.h) */
  AFD_STRATEGY_PARAM_BOOL,   /* true or false */
  AFD_STRATEGY_PARAM_CHOICE, /* one of choices */
} AfdStrategyParamType;

/* The values a search over a class's parameters tries (afd_strategy_search_values(), the
 * planner): every rule is evaluated against one cluster's G GPUs in N nodes. */
typedef enum {
  AFD_STRATEGY_SEARCH_DEFAULT,      /* only the default (the parameter is not searched) */
  AFD_STRATEGY_SEARCH_RANGE,        /* every integer of [search_min, search_max] */
  AFD_STRATEGY_SEARCH_CHOICES,      /* every choice; a boolean: false and true */
  AFD_STRATEGY_SEARCH_GPU_DIVISORS, /* every divisor d of G with search_min <= d <= search_max
                                       (search_max 0: G; AFD_STRATEGY_SEARCH_NODE_MAX: d
                                       must also divide the GPUs of one node) */
  AFD_STRATEGY_SEARCH_GPU_SPLIT,    /* every k in [1, G - 1]; partner gets G - k */
  AFD_STRATEGY_SEARCH_NODE_SPLIT,   /* every k in [1, N - 1]; partner gets N - k */
} AfdStrategySearch;

#define AFD_STRATEGY_SEARCH_NODE_MAX (-1)

/* Roles a parameter may play for the generic layers (bit flags). */
typedef enum {
  AFD_STRATEGY_PARAM_PLAIN = 0,
  AFD_STRATEGY_PARAM_MICRO_BATCHES = 1 << 0, /* the micro-batches of an iteration: the
                                                simulator's memory estimate reads it
                                                (sim/limits.h) */
} AfdStrategyParamRole;

/* One parameter of a strategy class: the one declaration its JSON validation, its command-line
 * flag, its sweep axis, its help and listing, and a search's values come from. */
typedef struct {
  const char *key;  /* experiment JSON key: [a-z_]+ */
  const char *flag; /* long flag of run, compare, validate and sweep (without "--"), or NULL:
                       given with --set KEY=VALUE only; one flag means one key in every class */
  AfdStrategyParamType type;
  const char *unit; /* "GPUs", "nodes", "micro-batches", … ("" for none) */
  gint64 min, max;  /* AFD_STRATEGY_PARAM_INT: the accepted range */
  AfdJsonFlags number_flags;    /* AFD_STRATEGY_PARAM_NUMBER: the check (e.g. FRACTION) */
  const char *const *choices;   /* AFD_STRATEGY_PARAM_CHOICE: NULL-terminated */
  const char *default_value;    /* the default as JSON text ("2", "true", "\"flat\""), or NULL
                                   when derived from the cluster (default_help says how) */
  const char *default_help;     /* how a derived default is chosen (NULL for a value) */
  const char *help;             /* one line: what it is */
  AfdStrategySearch search;
  gint64 search_min, search_max; /* RANGE and GPU_DIVISORS bounds */
  const char *partner;           /* GPU_SPLIT and NODE_SPLIT: the key that takes the rest */
  AfdStrategyParamRole roles;
} AfdStrategyParam;

typedef struct {
  const char *name;    /* key used in experiment JSON and --strategy: [a-z0-9-]+, unique */
  const char *summary; /* one line for `afdsim list strategies` */
  /* Required: the parameters, terminated by an entry with key NULL. afd_strategy_new() checks
   * the options object against it (unknown keys, types, ranges, choices) before create(). */
  const AfdStrategyParam *params;
  gboolean compare_by_default; /* one of `afdsim compare`'s strategies without --strategy */

  /* Required. @params: the strategy's options object (borrowed for the call), already checked
   * against the class's params table: read it with afd_strategy_param_*() and check what the
   * table cannot say (AFD_ERROR_CONFIG). */
  gpointer (*create) (const cJSON *params, GError **error);
  void (*destroy) (gpointer state);

  /* Required. Adds every op of one iteration to @out (created with in->n_gpus GPUs) and sets
   * each GPU's node, role and memory. Fails with AFD_ERROR_INFEASIBLE for placements that
   * cannot run (memory, heads < attention GPUs, divisibility), naming the constraint. */
  gboolean (*build) (gpointer state, const AfdStrategyInput *in, AfdOpGraph *out,
                     GError **error);

  /* Optional: the resolved parameters, as text for the provenance block. */
  void (*describe) (gpointer state, GString *out);

  /* Optional (fault injection, sim/fault.h): the GPU that already holds a full copy of
   * @gpu's work in the graph build() makes for @in (MA Separation's attention replica set),
   * or G_MAXUINT when none; a failed GPU without one makes the iteration fail. */
  guint (*replica_of) (gpointer state, const AfdStrategyInput *in, guint gpu);

  /* Optional (fault injection): a class that sets it honours in->excluded in build() (places
   * no op there and re-routes the work redundant copies can take over, or fails with
   * AFD_ERROR_INFEASIBLE naming what has no surviving copy) and returns here the sequences of
   * in->batch whose state (KV cache) lived only on excluded GPUs: the rebuilt graph drops them
   * (EP's data-parallel attention share). */
  guint64 (*lost_sequences) (gpointer state, const AfdStrategyInput *in);
} AfdStrategyClass;

/**
 * afd_strategy_new:
 * @klass: (transfer none): a registered class (static lifetime)
 * @params: (nullable): options object; %NULL means {}
 *
 * Returns: (transfer full) (nullable): the instance, or %NULL with create's error prefixed by
 *   "strategy NAME: "
 */
AfdStrategy *afd_strategy_new (const AfdStrategyClass *klass, const cJSON *params,
                               GError **error);

/**
 * afd_strategy_build:
 * @in: (transfer none): the workload; in->n_gpus > 0, batch > 0
 *
 * Returns: (transfer full) (nullable): the finished graph (afd_opgraph_finish() done), or
 *   %NULL with the strategy's error prefixed by "strategy NAME: "
 */
AfdOpGraph *afd_strategy_build (AfdStrategy *self, const AfdStrategyInput *in, GError **error);

/* Appends "name" and, when provided, the described parameters to @out. */
void afd_strategy_describe (AfdStrategy *self, GString *out);

/* Returns: the GPU holding a full copy of @gpu's work (the class's replica_of), or G_MAXUINT
 * when the class has no replicas or @gpu has none. */
guint afd_strategy_replica_of (AfdStrategy *self, const AfdStrategyInput *in, guint gpu);

/**
 * afd_strategy_lost_sequences:
 * @in: (transfer none): the workload, with in->excluded set
 * @out_lost: (out): sequences of in->batch dropped because their state was on excluded GPUs
 *
 * Returns: %FALSE when the class does not honour in->excluded (no lost_sequences member)
 */
gboolean afd_strategy_lost_sequences (AfdStrategy *self, const AfdStrategyInput *in,
                                      guint64 *out_lost);

/* Returns: (transfer none) (nullable): the parameter @key of @klass, or %NULL. */
const AfdStrategyParam *afd_strategy_param_find (const AfdStrategyClass *klass, const char *key);

/**
 * afd_strategy_params_check:
 * @params: the options object
 *
 * Checks @params against @klass's table: an object, no key the table does not declare, every
 * value of its type and in its range or choices.
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG "strategy options: KEY: problem"
 */
gboolean afd_strategy_params_check (const AfdStrategyClass *klass, const cJSON *params,
                                    GError **error);

/* Values of a checked options object, or the table's default when absent (0, FALSE, 0.0, NULL
 * for a default derived from the cluster). @key must be declared with that type. */
gint64 afd_strategy_param_int (const AfdStrategyClass *klass, const cJSON *params,
                               const char *key);
gboolean afd_strategy_param_bool (const AfdStrategyClass *klass, const cJSON *params,
                                  const char *key);
double afd_strategy_param_number (const AfdStrategyClass *klass, const cJSON *params,
                                  const char *key);
const char *afd_strategy_param_choice (const AfdStrategyClass *klass, const cJSON *params,
                                       const char *key);

/**
 * afd_strategy_param_parse:
 * @text: a command-line value (a flag's, or VALUE of --set KEY=VALUE)
 * @what: how the value is named in a message ("--attn-gpus", "--set attn_gpus")
 *
 * Returns: (transfer full) (nullable): the JSON value of @text for @param (an integer, number,
 *   boolean or choice, checked), or %NULL with AFD_ERROR_USAGE naming @what
 */
cJSON *afd_strategy_param_parse (const AfdStrategyParam *param, const char *text,
                                 const char *what, GError **error);

/* Appends "TYPE RANGE" ("integer 1..2", "flat|two-stage", "boolean", "number (0, 1]") and
 * "default V" or "default: derived from the cluster (HOW)" to @out. */
void afd_strategy_param_describe (const AfdStrategyParam *param, GString *out);

/**
 * afd_strategy_search_values:
 * @n_gpus: the cluster's GPUs G
 * @gpus_per_node: GPUs per node (N = G / gpus_per_node)
 *
 * Returns: (transfer full) (element-type cJSON): the values a search tries for @param on that
 *   cluster (AfdStrategySearch), in increasing order; the default alone when it is not
 *   searched (an empty array for a default derived from the cluster); free with
 *   g_ptr_array_unref
 */
GPtrArray *afd_strategy_search_values (const AfdStrategyParam *param, guint n_gpus,
                                       guint gpus_per_node);

/**
 * afd_strategy_search_space:
 *
 * Returns: (transfer full) (element-type cJSON): every options object a search over @klass
 *   tries on a cluster of @n_gpus GPUs: the Cartesian product of the searched parameters'
 *   values (in table order, the first varying slowest); a split sets its partner to the
 *   rest. Parameters not searched are left out (their defaults apply). Free with
 *   g_ptr_array_unref.
 */
GPtrArray *afd_strategy_search_space (const AfdStrategyClass *klass, guint n_gpus,
                                      guint gpus_per_node);

/* Appends one entry per parameter of @klass to @out (`afdsim list strategies --params`): key,
 * flag, type and range, default, help, and the values a search tries. */
void afd_strategy_class_describe_params (const AfdStrategyClass *klass, GString *out);

/* Returns: (transfer none): the class name. */
const char *afd_strategy_get_name (AfdStrategy *self);

void afd_strategy_free (AfdStrategy *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdStrategy, afd_strategy_free)

/* Lookup functions the composition root (cli/main.c) hands to commands in sim/, which may
 * not include models/ or backends/ (docs/internals/architecture.md). */
typedef struct {
  /* Returns the class named @name, or NULL with AFD_ERROR_UNKNOWN_PLUGIN listing the names. */
  const AfdStrategyClass *(*strategy_lookup) (const char *name, GError **error);
  /* NULL-terminated list of every strategy class. */
  const AfdStrategyClass *const *(*strategy_list) (void);
  /* Creates the cost model named by @spec ("analytic", "profile:FILE", …), or NULL with an
   * error. */
  AfdCostModel *(*cost_model_new) (const char *spec, GError **error);
} AfdPlugins;

G_END_DECLS

#endif /* AFD_SIM_STRATEGY_H */
