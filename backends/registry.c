/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the table of compute cost backends and the lookup by name.
 *
 * An explicit const table, not constructor registration: the library is a static archive,
 * which would silently drop unreferenced backends. tests/test-registries.c walks it.
 */
#include "config.h"

#include <string.h>

#include "backends/cuda/cuda-calibrate.h"
#include "backends/profile.h"
#include "backends/registry.h"
#include "sim/error.h"

/* Every cost backend, in the order `afdsim list` shows them. */
static const AfdCostModelClass *const cost_models[] = {
  &afd_cost_model_analytic_class,
  &afd_cost_model_profile_class,
  &afd_cost_model_cuda_class,
  NULL,
};

const AfdCostModelClass *const *
afd_cost_model_list (void)
{
  return cost_models;
}

const AfdCostModelClass *
afd_cost_model_lookup (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; cost_models[i] != NULL; i++)
    if (strcmp (cost_models[i]->name, name) == 0)
      return cost_models[i];
  g_autoptr (GString) names = g_string_new (NULL);
  for (guint i = 0; cost_models[i] != NULL; i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", cost_models[i]->name);
  g_set_error (error, AFD_ERROR, AFD_ERROR_UNKNOWN_PLUGIN, "unknown cost backend '%s' (known: %s)",
               name, names->str);
  return NULL;
}
