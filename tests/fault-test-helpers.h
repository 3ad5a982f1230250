/* SPDX-License-Identifier: MIT */
/* fault-test-helpers.h - what the fault tests share: the composition root's plugins (the
 * registries of strategies and the "analytic" cost model) for afd_experiment_run(), and
 * readers of a summary's per-iteration entries (runs[0].iterations[i]). */
#ifndef AFD_TESTS_FAULT_TEST_HELPERS_H
#define AFD_TESTS_FAULT_TEST_HELPERS_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <glib.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/experiment.h"

/* The composition root's cost-model lookup ("analytic" only here). */
static inline AfdCostModel *
costs_new (const char *spec, GError **error)
{
  const AfdCostModelClass *klass = afd_cost_model_lookup (spec, error);
  return klass != NULL ? afd_cost_model_new (klass, NULL, error) : NULL;
}

static const AfdPlugins plugins G_GNUC_UNUSED = {
  .strategy_lookup = afd_strategy_lookup,
  .strategy_list = afd_strategy_list,
  .cost_model_new = costs_new,
};

/* The summary's "iterations" entry @i of the only run (asserted to exist). */
static inline const cJSON *
iteration (const cJSON *summary, int i)
{
  const cJSON *run = cJSON_GetArrayItem (cJSON_GetObjectItem (summary, "runs"), 0);
  const cJSON *it = cJSON_GetArrayItem (cJSON_GetObjectItem (run, "iterations"), i);
  cr_assert_not_null (it, "no iteration %d", i);
  return it;
}

/* Its iteration_time_s, seconds (asserted to be a number). */
static inline double
iter_time (const cJSON *summary, int i)
{
  const cJSON *t = cJSON_GetObjectItem (iteration (summary, i), "iteration_time_s");
  cr_assert (cJSON_IsNumber (t), "iteration %d has no time", i);
  return t->valuedouble;
}

/* Its string member @key ("state", "note"), or %NULL. */
static inline const char *
iter_str (const cJSON *summary, int i, const char *key)
{
  return cJSON_GetStringValue (cJSON_GetObjectItem (iteration (summary, i), key));
}

static inline const char *
iter_state (const cJSON *summary, int i)
{
  return iter_str (summary, i, "state");
}

static inline const char *
iter_note (const cJSON *summary, int i)
{
  return iter_str (summary, i, "note");
}

#endif /* AFD_TESTS_FAULT_TEST_HELPERS_H */
