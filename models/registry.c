/* SPDX-License-Identifier: MIT */
/* registry.c - the explicit table of deployment strategies (see models/registry.h). */
#include "config.h"

#include <string.h>

#include "models/registry.h"
#include "sim/data-dir.h"
#include "sim/error.h"

static const AfdStrategyClass *const strategies[] = {
  &afd_strategy_masep_class,
  &afd_strategy_tppp_class,
  &afd_strategy_ep_class,
  &afd_strategy_afd_class,
  NULL,
};

const AfdStrategyClass *const *
afd_strategy_list (void)
{
  return strategies;
}

const AfdStrategyClass *
afd_strategy_lookup (const char *name, GError **error)
{
  /* Names a user types match case-insensitively ("MASEP" is masep). */
  for (guint i = 0; strategies[i] != NULL; i++)
    if (name != NULL && g_ascii_strcasecmp (strategies[i]->name, name) == 0)
      return strategies[i];
  g_autoptr (GString) names = g_string_new (NULL);
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  for (guint i = 0; strategies[i] != NULL; i++)
    {
      g_string_append_printf (names, "%s%s", i ? ", " : "", strategies[i]->name);
      g_ptr_array_add (list, (gpointer) strategies[i]->name);
    }
  g_ptr_array_add (list, NULL);
  g_autofree char *hint
      = name != NULL ? afd_data_did_you_mean ((const char *const *) list->pdata, name) : NULL;
  g_set_error (error, AFD_ERROR, AFD_ERROR_UNKNOWN_PLUGIN, "unknown strategy '%s'%s%s (known: %s)",
               name != NULL ? name : "(none)", hint != NULL ? ": " : "", hint != NULL ? hint : "",
               names->str);
  return NULL;
}
