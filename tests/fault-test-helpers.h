/* SPDX-License-Identifier: MIT */
/* fault-test-helpers.h - what the fault tests share: the composition root's plugins (the
 * registries of strategies and the "analytic" cost model) for afd_experiment_run(), and
 * readers of a summary's per-iteration entries (runs[0].iterations[i]). */
#ifndef AFD_TESTS_FAULT_TEST_HELPERS_H
#define AFD_TESTS_FAULT_TEST_HELPERS_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "tests/test-helpers.h"

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

/* Asserts that each JSON text bad[i][0], read as "faults[0]" of e.json, is refused with
 * AFD_ERROR_CONFIG and a message containing bad[i][1] (at its start when @prefix). */
static inline void
assert_faults_json_refused (const char *const (*bad)[2], gsize n, gboolean prefix)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (cJSON) j = cJSON_Parse (bad[i][0]);
      g_autoptr (AfdFault) x = afd_fault_from_json (j, "e.json", "faults[0]", &e);
      cr_assert_null (x, "%s accepted", bad[i][0]);
      afd_assert_error (e, AFD_ERROR, AFD_ERROR_CONFIG);
      if (prefix)
        cr_assert (g_str_has_prefix (e->message, bad[i][1]), "message '%s', expected '%s…'",
                   e->message, bad[i][1]);
      else
        afd_assert_error_contains (e, bad[i][1]);
    }
}

#endif /* AFD_TESTS_FAULT_TEST_HELPERS_H */
