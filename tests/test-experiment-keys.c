/* SPDX-License-Identifier: MIT */
/* Tests for sim/experiment-keys.c, the one table of experiment keys. */
#include <criterion/criterion.h>
#include <glib.h>

#include "sim/experiment-keys.h"

/* Where each key is accepted: faults only in an experiment, label only in a run or a point,
 * sweep only in a sweep's file, ratio only in a point. */
Test (experiment_keys, where_each_key_is_accepted)
{
  cr_assert_not_null (afd_experiment_key_lookup ("faults", AFD_EXPERIMENT_KEY_TOP));
  cr_assert_null (afd_experiment_key_lookup ("faults", AFD_EXPERIMENT_KEY_SWEEP));
  cr_assert_null (afd_experiment_key_lookup ("label", AFD_EXPERIMENT_KEY_TOP));
  cr_assert_not_null (afd_experiment_key_lookup ("label", AFD_EXPERIMENT_KEY_RUN));
  cr_assert_not_null (afd_experiment_key_lookup ("sweep", AFD_EXPERIMENT_KEY_SWEEP));
  cr_assert_null (afd_experiment_key_lookup ("sweep", AFD_EXPERIMENT_KEY_TOP));
  cr_assert_null (afd_experiment_key_lookup ("ratio", AFD_EXPERIMENT_KEY_TOP));
  cr_assert_eq (afd_experiment_key_lookup ("seed", AFD_EXPERIMENT_KEY_POINT)->type,
                AFD_EXPERIMENT_KEY_INTEGER);
  cr_assert_eq (afd_experiment_key_lookup ("network", AFD_EXPERIMENT_KEY_POINT)->type,
                AFD_EXPERIMENT_KEY_STRING);
  /* Strategy options are not in the table: they are the strategy's to validate. */
  static const char *const options[] = { "attn_gpus", "moe_gpus", "tp", "pp", "ep",
                                          "micro_batches", "dispatch", "handoff" };
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    cr_assert_null (afd_experiment_key_lookup (options[i], ~0u), "%s", options[i]);
  cr_assert_null (afd_experiment_key_lookup ("faults", 0));
}

/* A sweep point's configuration (JSONL "config", CSV columns) follows the table's order. */
Test (experiment_keys, point_order)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (const AfdExperimentKey *k = afd_experiment_keys (); k->name != NULL; k++)
    if (k->where & AFD_EXPERIMENT_KEY_POINT)
      g_string_append_printf (s, "%s%s", s->len ? " " : "", k->name);
  cr_assert_str_eq (s->str, "cluster model strategy label batch context phase routing seed "
                            "network costs total_gpus ratio mtp accept price");
}
