/* SPDX-License-Identifier: MIT */
/*
 * run-options.c - the command-line flags of one experiment's runs (see sim/run-options.h): the
 * strategy flags generated from the strategies' parameter tables, --set, and the workload
 * flags, turned into typed strategy options and experiment fields.
 */
#include "config.h"

#include <string.h>

#include "sim/cli.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/run-options.h"

void
afd_run_options_clear (AfdRunOptions *self)
{
  char **all[] = { &self->cluster, &self->model,   &self->batch,   &self->context,
                   &self->phase,   &self->routing, &self->seed,    &self->network,
                   &self->mtp,     &self->accept };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_free);
  for (guint i = 0; i < self->n_strategy_flags; i++)
    {
      g_free (self->strategy_flags[i].help);
      g_free (self->strategy_flags[i].declared_by);
      g_free (self->strategy_flags[i].text);
    }
  g_clear_pointer (&self->strategy_flags, g_free);
  self->n_strategy_flags = 0;
  g_clear_pointer (&self->sets, g_strfreev);
  g_clear_pointer (&self->prices, g_strfreev);
}

/* Appends a parameter's short range and default: "1..2, default 2", "default: pp". */
static void
append_short_default (GString *out, const AfdStrategyParam *p)
{
  if (p->type == AFD_STRATEGY_PARAM_INT && p->max <= 64)
    g_string_append_printf (out, "%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ", ", p->min, p->max);
  if (p->default_value != NULL)
    g_string_append_printf (out, "default %s", p->default_value);
  else
    g_string_append_printf (out, "default: %s", p->default_help);
}

/* The help of a strategy flag: "masep: attention GPUs k (default: 3/4 of the cluster)", or
 * for a flag several classes declare "tppp, ep, afd: micro-batches (tppp default: pp; ep
 * 1..2, default 2; afd 2..4, default 3)". */
static char *
strategy_flag_help (const char *flag, const AfdStrategyClass *const *classes,
                    char **out_declared_by)
{
  g_autoptr (GString) names = g_string_new (NULL);
  g_autoptr (GString) ranges = g_string_new (NULL);
  const AfdStrategyParam *first = NULL;
  guint n = 0;
  for (guint c = 0; classes[c] != NULL; c++)
    for (const AfdStrategyParam *p = classes[c]->params; p != NULL && p->key != NULL; p++)
      if (p->flag != NULL && strcmp (p->flag, flag) == 0)
        {
          g_string_append_printf (names, "%s%s", n ? ", " : "", classes[c]->name);
          g_string_append_printf (ranges, "%s%s ", n ? "; " : "", classes[c]->name);
          append_short_default (ranges, p);
          first = first != NULL ? first : p;
          n++;
        }
  if (n == 1)
    {
      g_string_truncate (ranges, 0);
      append_short_default (ranges, first);
    }
  *out_declared_by = g_strdup (names->str);
  return g_strdup_printf ("%s: %s (%s)", names->str, first->help, ranges->str);
}

GOptionEntry *
afd_run_options_entries (AfdRunOptions *self, const AfdStrategyClass *const *classes,
                         const GOptionEntry *strategy, const char *set_help,
                         const GOptionEntry *tail)
{
  AfdRunOptions *f = self;
  /* One flag per distinct name, in class then table order. */
  g_autoptr (GPtrArray) params = g_ptr_array_new ();
  for (guint c = 0; classes != NULL && classes[c] != NULL; c++)
    for (const AfdStrategyParam *p = classes[c]->params; p != NULL && p->key != NULL; p++)
      {
        gboolean seen = FALSE;
        for (guint i = 0; i < params->len && !seen; i++)
          seen = strcmp (((const AfdStrategyParam *) params->pdata[i])->flag, p->flag ? p->flag
                                                                                      : "") == 0;
        if (p->flag != NULL && !seen)
          g_ptr_array_add (params, (gpointer) p);
      }
  f->n_strategy_flags = params->len;
  f->strategy_flags = g_new0 (AfdRunStrategyFlag, params->len);
  for (guint i = 0; i < params->len; i++)
    {
      f->strategy_flags[i].param = params->pdata[i];
      f->strategy_flags[i].help = strategy_flag_help (f->strategy_flags[i].param->flag, classes,
                                                      &f->strategy_flags[i].declared_by);
    }
  const GOptionEntry head[] = {
    { "cluster", 0, 0, G_OPTION_ARG_STRING, &f->cluster, "cluster name or file", "C" },
    { "model", 0, 0, G_OPTION_ARG_STRING, &f->model, "model name or file", "M" },
    *strategy,
  };
  const GOptionEntry workload[] = {
    { "set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->sets, set_help, "KEY=VALUE" },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &f->batch, "sequences (default 1024)", "B" },
    { "context", 0, 0, G_OPTION_ARG_STRING, &f->context, "context tokens (default 2048)", "L" },
    { "phase", 0, 0, G_OPTION_ARG_STRING, &f->phase, "decode (default) or prefill", "P" },
    { "routing", 0, 0, G_OPTION_ARG_STRING, &f->routing, "uniform (default), zipf:S, …", "R" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &f->seed, "seed (default 1)", "N" },
    { "mtp", 0, 0, G_OPTION_ARG_STRING, &f->mtp,
      "MTP draft tokens per decode step (default 0: off)", "N" },
    { "accept", 0, 0, G_OPTION_ARG_STRING, &f->accept,
      "mean accepted tokens per step, 1 <= L <= N+1 (default 1)", "L" },
    { "price", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->prices,
      "price of a GPU, US dollars per GPU-hour (repeat)", "GPU=USD" },
  };
  guint n_tail = 0;
  while (tail[n_tail].long_name != NULL)
    n_tail++;
  guint n = G_N_ELEMENTS (head) + f->n_strategy_flags + G_N_ELEMENTS (workload) + n_tail;
  GOptionEntry *e = g_new0 (GOptionEntry, n + 1);
  GOptionEntry *at = e;
  memcpy (at, head, sizeof head);
  at += G_N_ELEMENTS (head);
  for (guint i = 0; i < f->n_strategy_flags; i++, at++)
    {
      const AfdStrategyParam *p = f->strategy_flags[i].param;
      *at = (GOptionEntry){ p->flag, 0, 0, G_OPTION_ARG_STRING, &f->strategy_flags[i].text,
                            f->strategy_flags[i].help,
                            p->type == AFD_STRATEGY_PARAM_INT ? "N" : "V" };
    }
  memcpy (at, workload, sizeof workload);
  at += G_N_ELEMENTS (workload);
  memcpy (at, tail, n_tail * sizeof *tail);
  return e;
}

gboolean
afd_run_options_has_strategy_flags (const AfdRunOptions *self)
{
  return afd_run_options_first_strategy_flag (self) != NULL;
}

const char *
afd_run_options_first_strategy_flag (const AfdRunOptions *self)
{
  for (guint i = 0; i < self->n_strategy_flags; i++)
    if (self->strategy_flags[i].text != NULL)
      return self->strategy_flags[i].param->flag;
  return self->sets != NULL && self->sets[0] != NULL ? "set" : NULL;
}

/* Appends the names of @chosen ("ep", "tppp, ep") to @out. */
static void
append_class_names (GString *out, const AfdStrategyClass *const *chosen, guint n_chosen)
{
  for (guint i = 0; i < n_chosen; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", chosen[i]->name);
}

/* Returns: TRUE when one of @chosen declares @key. */
static gboolean
declared (const AfdStrategyClass *const *chosen, guint n_chosen, const char *key)
{
  for (guint i = 0; i < n_chosen; i++)
    if (afd_strategy_param_find (chosen[i], key) != NULL)
      return TRUE;
  return FALSE;
}

gboolean
afd_run_options_check_applies (const AfdRunOptions *self, const AfdStrategyClass *const *chosen,
                               guint n_chosen, GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);
  append_class_names (names, chosen, n_chosen);
  for (guint i = 0; i < self->n_strategy_flags; i++)
    {
      const AfdRunStrategyFlag *f = &self->strategy_flags[i];
      if (f->text == NULL || declared (chosen, n_chosen, f->param->key))
        continue;
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--%s does not apply to strategy %s (it is an option of %s)", f->param->flag,
                   names->str, f->declared_by);
      return FALSE;
    }
  for (guint i = 0; self->sets != NULL && self->sets[i] != NULL; i++)
    {
      const char *eq = strchr (self->sets[i], '=');
      if (eq == NULL || eq == self->sets[i])
        continue; /* afd_run_options_strategy() says it is not KEY=VALUE */
      g_autofree char *key = g_strndup (self->sets[i], (gsize) (eq - self->sets[i]));
      if (declared (chosen, n_chosen, key))
        continue;
      g_autoptr (GString) keys = g_string_new (NULL);
      for (guint c = 0; c < n_chosen; c++)
        for (const AfdStrategyParam *p = chosen[c]->params; p != NULL && p->key != NULL; p++)
          if (!strstr (keys->str, p->key))
            g_string_append_printf (keys, "%s%s", keys->len ? ", " : "", p->key);
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--set %s: strategy %s has no option '%s' (its options: %s)", self->sets[i],
                   names->str, key, keys->str);
      return FALSE;
    }
  return TRUE;
}

cJSON *
afd_run_options_strategy (const AfdRunOptions *self, const AfdStrategyClass *klass,
                          const char *set_hint, GError **error)
{
  const AfdRunOptions *f = self;
  g_autoptr (cJSON) o = cJSON_CreateObject ();
  for (guint i = 0; i < f->n_strategy_flags; i++)
    {
      const AfdRunStrategyFlag *flag = &f->strategy_flags[i];
      const AfdStrategyParam *p = afd_strategy_param_find (klass, flag->param->key);
      if (flag->text == NULL || p == NULL)
        continue;
      g_autofree char *what = g_strdup_printf ("--%s", p->flag);
      cJSON *v = afd_strategy_param_parse (p, flag->text, what, error);
      if (v == NULL)
        {
          g_prefix_error (error, "strategy %s: ", klass->name);
          return NULL;
        }
      cJSON_AddItemToObject (o, p->key, v);
    }
  /* --set KEY=VALUE: VALUE is read as JSON when it parses (numbers, true, false), else as a
   * string; the strategy validates it like any option. */
  for (guint i = 0; f->sets != NULL && f->sets[i] != NULL; i++)
    {
      const char *eq = strchr (f->sets[i], '=');
      if (eq == NULL || eq == f->sets[i])
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--set: '%s' is not KEY=VALUE%s",
                       f->sets[i], set_hint);
          return NULL;
        }
      g_autofree char *key = g_strndup (f->sets[i], (gsize) (eq - f->sets[i]));
      if (afd_strategy_param_find (klass, key) == NULL)
        continue;
      cJSON *v = cJSON_Parse (eq + 1);
      if (v == NULL || cJSON_IsObject (v) || cJSON_IsArray (v) || cJSON_IsNull (v))
        {
          cJSON_Delete (v);
          v = cJSON_CreateString (eq + 1);
        }
      if (cJSON_GetObjectItemCaseSensitive (o, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive (o, key, v);
      else
        cJSON_AddItemToObject (o, key, v);
    }
  return g_steal_pointer (&o);
}

gboolean
afd_run_options_add_runs (const AfdRunOptions *self, AfdExperiment *exp,
                          const AfdPlugins *plugins, const char *const *names,
                          const char *set_hint, GError **error)
{
  g_autoptr (GPtrArray) known = g_ptr_array_new ();
  guint n = 0;
  for (; names[n] != NULL; n++)
    {
      const AfdStrategyClass *k = plugins->strategy_lookup (names[n], NULL);
      if (k != NULL)
        g_ptr_array_add (known, (gpointer) k);
    }
  /* An unknown name is reported by the run itself; the flags are checked against the rest. */
  if (known->len > 0
      && !afd_run_options_check_applies (self, (const AfdStrategyClass *const *) known->pdata,
                                         known->len, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      const AfdStrategyClass *k = plugins->strategy_lookup (names[i], NULL);
      cJSON *o = k != NULL ? afd_run_options_strategy (self, k, set_hint, error)
                           : cJSON_CreateObject ();
      if (o == NULL)
        return FALSE;
      afd_experiment_add_run (exp, NULL, names[i], o);
    }
  return TRUE;
}

gboolean
afd_run_options_refuse_with_file (const AfdRunOptions *self, const char *cmd,
                                  const char *path, GError **error)
{
  const char *flag = afd_run_options_first_strategy_flag (self);
  if (flag == NULL)
    return TRUE;
  g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
               "%s: --%s applies to a --strategy run; %s has its placements in its runs", cmd,
               flag, path);
  return FALSE;
}

gboolean
afd_run_options_apply (const AfdRunOptions *self, AfdExperiment *exp, GError **error)
{
  const AfdRunOptions *f = self;
  gint64 v;
  if (f->cluster != NULL)
    g_free (exp->cluster), exp->cluster = g_strdup (f->cluster);
  if (f->model != NULL)
    g_free (exp->model), exp->model = g_strdup (f->model);
  if (f->routing != NULL)
    g_free (exp->routing), exp->routing = g_strdup (f->routing);
  if (f->network != NULL)
    {
      if (!afd_network_fidelity_from_name (f->network, &exp->network))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--network: '%s' is not analytic or flow", f->network);
          return FALSE;
        }
    }
  if (f->phase != NULL)
    {
      if (strcmp (f->phase, "decode") != 0 && strcmp (f->phase, "prefill") != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--phase: '%s' is not decode or prefill", f->phase);
          return FALSE;
        }
      exp->prefill = strcmp (f->phase, "prefill") == 0;
    }
  if (f->batch != NULL)
    {
      if (!afd_cli_parse_int ("--batch", f->batch, 1, G_MAXINT32, &v, error))
        return FALSE;
      exp->batch = (guint64) v;
    }
  if (f->context != NULL)
    {
      if (!afd_cli_parse_int ("--context", f->context, 1, G_MAXINT32, &v, error))
        return FALSE;
      exp->context_tokens = (guint64) v;
    }
  if (f->seed != NULL)
    {
      if (!afd_cli_parse_int ("--seed", f->seed, 0, G_MAXINT64, &v, error))
        return FALSE;
      exp->seed = (guint64) v;
    }
  if (f->mtp != NULL)
    {
      if (!afd_cli_parse_int ("--mtp", f->mtp, 0, AFD_MTP_MAX_DRAFT_TOKENS, &v, error))
        return FALSE;
      exp->mtp_draft_tokens = (guint) v;
    }
  if (f->accept != NULL
      && !afd_cli_parse_double ("--accept", f->accept, 1, AFD_MTP_MAX_DRAFT_TOKENS + 1,
                                &exp->accept_tokens, error))
    return FALSE;
  if ((f->mtp != NULL || f->accept != NULL)
      && !afd_experiment_check_mtp (exp, "--mtp", "--accept", AFD_ERROR_USAGE, error))
    return FALSE;
  for (guint i = 0; f->prices != NULL && f->prices[i] != NULL; i++)
    if (!afd_experiment_add_price (exp, f->prices[i], "--price", AFD_ERROR_USAGE, error))
      return FALSE;
  return TRUE;
}
