/* SPDX-License-Identifier: MIT */
/* Contract test (docs/internals/style.md, STYLE §2.5): walks every cost-backend registry
 * entry, and checks the sim/cost-model.c wrappers against misbehaving fake backends. */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "sim/cost-model.h"
#include "sim/json.h"
#include "tests/test-helpers.h"

/* Returns TRUE when @name matches [a-z0-9-]+. */
static gboolean
valid_name (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
      return FALSE;
  return TRUE;
}

/* Every backend: unique [a-z0-9-]+ name, non-empty summary, required members set; create on
 * {} succeeds or fails with AFD_ERROR_CONFIG; create on {"no_such_key": 1} fails. A backend
 * whose probe fails here (no GPU) must say AFD_ERROR_BACKEND_UNAVAILABLE. */
Test (registries, cost_models_honour_the_contract)
{
  const AfdCostModelClass *const *list = afd_cost_model_list ();
  cr_assert_not_null (list[0], "the registry is empty");
  for (guint i = 0; list[i] != NULL; i++)
    {
      const AfdCostModelClass *k = list[i];
      cr_assert (valid_name (k->name), "bad name '%s'", k->name ? k->name : "(null)");
      cr_assert (k->summary != NULL && k->summary[0] != '\0', "%s: empty summary", k->name);
      cr_assert (k->create != NULL && k->destroy != NULL && k->op_time != NULL,
                 "%s: required member missing", k->name);
      for (guint j = 0; j < i; j++)
        cr_assert (strcmp (list[j]->name, k->name) != 0, "duplicate name %s", k->name);
      g_autoptr (GError) error = NULL;
      const AfdCostModelClass *found = afd_cost_model_lookup (k->name, &error);
      cr_assert_eq (found, k);

      if (!afd_cost_model_probe (k, &error))
        {
          afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
          continue;
        }
      g_autoptr (cJSON) empty = cJSON_CreateObject ();
      g_autoptr (AfdCostModel) m = afd_cost_model_new (k, empty, &error);
      if (m == NULL)
        afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      g_clear_error (&error);
      g_autoptr (cJSON) bad = cJSON_Parse ("{\"no_such_key\": 1}");
      g_autoptr (AfdCostModel) m2 = afd_cost_model_new (k, bad, &error);
      cr_assert_null (m2, "%s accepted an unknown key", k->name);
      cr_assert_not_null (error);
    }
}

/* An unknown name is AFD_ERROR_UNKNOWN_PLUGIN listing the known ones. */
Test (registries, lookup_unknown_lists_names)
{
  g_autoptr (GError) error = NULL;
  cr_assert_null (afd_cost_model_lookup ("roofline-v9", &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_UNKNOWN_PLUGIN);
  afd_assert_error_contains (error, "analytic");
}

/* --- fake backends for the wrapper checks ------------------------------------------------ */

static gpointer
fake_create (const cJSON *params, GError **error)
{
  return g_new0 (double, 1);
}

static gboolean
fake_nan (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out, GError **e)
{
  *out = NAN;
  return TRUE;
}

static gboolean
fake_negative (gpointer state, const AfdOp *op, const AfdPlacement *where, double *out, GError **e)
{
  *out = -1e-6;
  return TRUE;
}

static gboolean
fake_unavailable (GError **error)
{
  g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE, "no GPU here");
  return FALSE;
}

static const AfdCostModelClass fake_nan_class
    = { "fake-nan", "returns NaN", NULL, fake_create, g_free, fake_nan, NULL, NULL };
static const AfdCostModelClass fake_neg_class
    = { "fake-neg", "returns < 0", NULL, fake_create, g_free, fake_negative, NULL, NULL };
static const AfdCostModelClass fake_off_class
    = { "fake-off", "unavailable", fake_unavailable, fake_create, g_free, fake_nan, NULL, NULL };

/* The wrapper turns a NaN or negative duration into AFD_ERROR_BACKEND_FAILED naming the
 * backend and the op, and leaves the output untouched. */
Test (registries, wrapper_rejects_bad_durations)
{
  const AfdCostModelClass *classes[] = { &fake_nan_class, &fake_neg_class };
  AfdGpuSpec gpu = { 0 };
  AfdPlacement where = { &gpu, 7 };
  g_autoptr (AfdOp) op = afd_op_new (AFD_OP_NORM, "layer1.norm");
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdCostModel) m = afd_cost_model_new (classes[i], NULL, &error);
      afd_assert_no_error (error);
      double s = 42.0;
      cr_assert_not (afd_cost_model_op_time (m, op, &where, &s, &error));
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED);
      afd_assert_error_contains (error, classes[i]->name);
      afd_assert_error_contains (error, "layer1.norm");
      cr_assert_float_eq (s, 42.0, 0);
    }
}

/* A failing probe stops creation with its own error, prefixed with the backend name. */
Test (registries, wrapper_probes_first)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdCostModel) m = afd_cost_model_new (&fake_off_class, NULL, &error);
  cr_assert_null (m);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_BACKEND_UNAVAILABLE);
  afd_assert_error_contains (error, "cost model fake-off: no GPU here");
}
