/* SPDX-License-Identifier: MIT */
/* strategy.c - the wrappers around AfdStrategyClass and the generic reading of its parameter
 * table (see sim/strategy.h): validation, command-line values, help text and search values.
 * Nothing here names a strategy or one of its keys. */
#include "config.h"

#include <string.h>

#include "sim/cli.h"

#include "sim/error.h"
#include "sim/json.h"
#include "sim/strategy.h"

struct _AfdStrategy {
  const AfdStrategyClass *klass;
  gpointer state;
};

AfdStrategy *
afd_strategy_new (const AfdStrategyClass *klass, const cJSON *params, GError **error)
{
  g_return_val_if_fail (klass != NULL && klass->create != NULL && klass->build != NULL, NULL);
  g_autoptr (cJSON) empty = NULL;
  if (params == NULL)
    params = empty = cJSON_CreateObject ();
  gpointer state = NULL;
  if (afd_strategy_params_check (klass, params, error))
    state = klass->create (params, error);
  if (state == NULL)
    {
      g_prefix_error (error, "strategy %s: ", klass->name);
      return NULL;
    }
  AfdStrategy *self = g_new0 (AfdStrategy, 1);
  self->klass = klass;
  self->state = state;
  return self;
}

AfdOpGraph *
afd_strategy_build (AfdStrategy *self, const AfdStrategyInput *in, GError **error)
{
  g_return_val_if_fail (self != NULL && in != NULL && in->llm != NULL && in->gpu != NULL, NULL);
  if (in->n_gpus == 0 || in->gpus_per_node == 0 || in->batch == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "strategy %s: the cluster needs GPUs and the batch sequences", self->klass->name);
      return NULL;
    }
  g_autoptr (AfdOpGraph) graph = afd_opgraph_new (in->n_gpus);
  for (guint g = 0; g < in->n_gpus; g++)
    afd_opgraph_set_gpu (graph, g, g / in->gpus_per_node, "idle", 0);
  if (!self->klass->build (self->state, in, graph, error))
    {
      g_prefix_error (error, "strategy %s: ", self->klass->name);
      return NULL;
    }
  afd_opgraph_finish (graph);
  return g_steal_pointer (&graph);
}

void
afd_strategy_describe (AfdStrategy *self, GString *out)
{
  g_string_append (out, self->klass->name);
  if (self->klass->describe != NULL)
    {
      g_string_append (out, ": ");
      self->klass->describe (self->state, out);
    }
}

guint
afd_strategy_replica_of (AfdStrategy *self, const AfdStrategyInput *in, guint gpu)
{
  if (self->klass->replica_of == NULL)
    return G_MAXUINT;
  return self->klass->replica_of (self->state, in, gpu);
}

gboolean
afd_strategy_lost_sequences (AfdStrategy *self, const AfdStrategyInput *in, guint64 *out_lost)
{
  *out_lost = 0;
  if (self->klass->lost_sequences == NULL)
    return FALSE;
  *out_lost = self->klass->lost_sequences (self->state, in);
  return TRUE;
}

const char *
afd_strategy_get_name (AfdStrategy *self)
{
  return self->klass->name;
}

void
afd_strategy_free (AfdStrategy *self)
{
  if (self == NULL)
    return;
  if (self->klass->destroy != NULL)
    self->klass->destroy (self->state);
  g_free (self);
}

const AfdStrategyParam *
afd_strategy_param_find (const AfdStrategyClass *klass, const char *key)
{
  for (const AfdStrategyParam *p = klass->params; p != NULL && p->key != NULL; p++)
    if (strcmp (p->key, key) == 0)
      return p;
  return NULL;
}

/* Appends 'a', 'b' or 'c' to @out. */
static void
append_choices (GString *out, const char *const *choices, const char *quote)
{
  guint n = g_strv_length ((char **) choices);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%s%s%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", quote,
                            choices[i], quote);
}

gboolean
afd_strategy_params_check (const AfdStrategyClass *klass, const cJSON *params, GError **error)
{
  AfdJsonWhere where = { "strategy options", "", AFD_ERROR_CONFIG };
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  for (const AfdStrategyParam *p = klass->params; p != NULL && p->key != NULL; p++)
    g_ptr_array_add (keys, (gpointer) p->key);
  g_ptr_array_add (keys, NULL);
  if (!afd_json_check_object (params, &where, (const char *const *) keys->pdata, error))
    return FALSE;
  for (const AfdStrategyParam *p = klass->params; p != NULL && p->key != NULL; p++)
    {
      gint64 iv = 0;
      double dv = 0;
      gboolean bv = FALSE;
      g_autofree char *sv = NULL;
      switch (p->type)
        {
        case AFD_STRATEGY_PARAM_INT:
          if (!afd_json_get_int (params, &where, p->key, AFD_JSON_OPTIONAL, p->min, p->max, &iv,
                                 error))
            return FALSE;
          break;
        case AFD_STRATEGY_PARAM_NUMBER:
          if (!afd_json_get_number (params, &where, p->key, p->number_flags, &dv, error))
            return FALSE;
          break;
        case AFD_STRATEGY_PARAM_BOOL:
          if (!afd_json_get_bool (params, &where, p->key, AFD_JSON_OPTIONAL, &bv, error))
            return FALSE;
          break;
        case AFD_STRATEGY_PARAM_CHOICE:
          if (!afd_json_get_string (params, &where, p->key, AFD_JSON_OPTIONAL, &sv, error))
            return FALSE;
          if (sv != NULL && !g_strv_contains (p->choices, sv))
            {
              g_autoptr (GString) list = g_string_new (NULL);
              append_choices (list, p->choices, "'");
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "strategy options: %s: '%s' is not %s", p->key, sv, list->str);
              return FALSE;
            }
          break;
        }
    }
  return TRUE;
}

/* The value of @key in checked @params, or its parsed default (NULL when derived). */
static const cJSON *
param_value (const AfdStrategyClass *klass, const cJSON *params, const char *key,
             AfdStrategyParamType type, cJSON **out_default)
{
  const AfdStrategyParam *p = afd_strategy_param_find (klass, key);
  g_return_val_if_fail (p != NULL && p->type == type, NULL);
  const cJSON *v = params != NULL ? cJSON_GetObjectItemCaseSensitive (params, key) : NULL;
  if (v != NULL)
    return v;
  *out_default = p->default_value != NULL ? cJSON_Parse (p->default_value) : NULL;
  return *out_default;
}

gint64
afd_strategy_param_int (const AfdStrategyClass *klass, const cJSON *params, const char *key)
{
  g_autoptr (cJSON) d = NULL;
  const cJSON *v = param_value (klass, params, key, AFD_STRATEGY_PARAM_INT, &d);
  return cJSON_IsNumber (v) ? (gint64) v->valuedouble : 0;
}

gboolean
afd_strategy_param_bool (const AfdStrategyClass *klass, const cJSON *params, const char *key)
{
  g_autoptr (cJSON) d = NULL;
  return cJSON_IsTrue (param_value (klass, params, key, AFD_STRATEGY_PARAM_BOOL, &d));
}

double
afd_strategy_param_number (const AfdStrategyClass *klass, const cJSON *params, const char *key)
{
  g_autoptr (cJSON) d = NULL;
  const cJSON *v = param_value (klass, params, key, AFD_STRATEGY_PARAM_NUMBER, &d);
  return cJSON_IsNumber (v) ? v->valuedouble : 0;
}

const char *
afd_strategy_param_choice (const AfdStrategyClass *klass, const cJSON *params, const char *key)
{
  const AfdStrategyParam *p = afd_strategy_param_find (klass, key);
  g_return_val_if_fail (p != NULL && p->type == AFD_STRATEGY_PARAM_CHOICE, NULL);
  const cJSON *v = params != NULL ? cJSON_GetObjectItemCaseSensitive (params, key) : NULL;
  if (cJSON_IsString (v))
    {
      /* The table's own string, so the result outlives @params. */
      for (guint i = 0; p->choices[i] != NULL; i++)
        if (strcmp (p->choices[i], v->valuestring) == 0)
          return p->choices[i];
      return NULL;
    }
  for (guint i = 0; p->default_value != NULL && p->choices[i] != NULL; i++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", p->choices[i]);
      if (strcmp (quoted, p->default_value) == 0)
        return p->choices[i];
    }
  return NULL;
}

cJSON *
afd_strategy_param_parse (const AfdStrategyParam *param, const char *text, const char *what,
                          GError **error)
{
  switch (param->type)
    {
    case AFD_STRATEGY_PARAM_INT:
      {
        gint64 v;
        if (!afd_cli_parse_int (what, text, param->min, param->max, &v, error))
          return NULL;
        return cJSON_CreateNumber ((double) v);
      }
    case AFD_STRATEGY_PARAM_NUMBER:
      {
        double v;
        if (!afd_cli_parse_double (what, text, -G_MAXDOUBLE, G_MAXDOUBLE, &v, error))
          return NULL;
        return cJSON_CreateNumber (v);
      }
    case AFD_STRATEGY_PARAM_BOOL:
      if (strcmp (text, "true") == 0 || strcmp (text, "false") == 0)
        return cJSON_CreateBool (strcmp (text, "true") == 0);
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not true or false", what,
                   text);
      return NULL;
    case AFD_STRATEGY_PARAM_CHOICE:
      if (g_strv_contains (param->choices, text))
        return cJSON_CreateString (text);
      {
        g_autoptr (GString) list = g_string_new (NULL);
        append_choices (list, param->choices, "");
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not %s", what, text,
                     list->str);
      }
      return NULL;
    }
  g_return_val_if_reached (NULL);
}

void
afd_strategy_param_describe (const AfdStrategyParam *param, GString *out)
{
  switch (param->type)
    {
    case AFD_STRATEGY_PARAM_INT:
      g_string_append_printf (out, "integer %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, param->min,
                              param->max);
      break;
    case AFD_STRATEGY_PARAM_NUMBER:
      g_string_append (out, (param->number_flags & AFD_JSON_FRACTION) ? "number in (0, 1]"
                            : (param->number_flags & AFD_JSON_POSITIVE) ? "number > 0"
                                                                        : "number");
      break;
    case AFD_STRATEGY_PARAM_BOOL:
      g_string_append (out, "true|false");
      break;
    case AFD_STRATEGY_PARAM_CHOICE:
      for (guint i = 0; param->choices[i] != NULL; i++)
        g_string_append_printf (out, "%s%s", i ? "|" : "", param->choices[i]);
      break;
    }
  if (param->unit != NULL && param->unit[0] != '\0')
    g_string_append_printf (out, " %s", param->unit);
  if (param->default_value != NULL)
    {
      const char *d = param->default_value;
      gsize n = strlen (d);
      if (n >= 2 && d[0] == '"')
        g_string_append_printf (out, ", default %.*s", (int) (n - 2), d + 1);
      else
        g_string_append_printf (out, ", default %s", d);
    }
  else
    g_string_append_printf (out, ", default derived from the cluster (%s)",
                            param->default_help != NULL ? param->default_help : "see the docs");
}

GPtrArray *
afd_strategy_search_values (const AfdStrategyParam *p, guint n_gpus, guint gpus_per_node)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  guint nodes = gpus_per_node > 0 ? n_gpus / gpus_per_node : 0;
  switch (p->search)
    {
    case AFD_STRATEGY_SEARCH_DEFAULT:
      if (p->default_value != NULL)
        g_ptr_array_add (out, cJSON_Parse (p->default_value));
      break;
    case AFD_STRATEGY_SEARCH_RANGE:
      for (gint64 v = MAX (p->search_min, p->min); v <= MIN (p->search_max, p->max); v++)
        g_ptr_array_add (out, cJSON_CreateNumber ((double) v));
      break;
    case AFD_STRATEGY_SEARCH_CHOICES:
      if (p->type == AFD_STRATEGY_PARAM_BOOL)
        {
          g_ptr_array_add (out, cJSON_CreateFalse ());
          g_ptr_array_add (out, cJSON_CreateTrue ());
        }
      for (guint i = 0; p->type == AFD_STRATEGY_PARAM_CHOICE && p->choices[i] != NULL; i++)
        g_ptr_array_add (out, cJSON_CreateString (p->choices[i]));
      break;
    case AFD_STRATEGY_SEARCH_GPU_DIVISORS:
      {
        gint64 hi = p->search_max == 0                              ? (gint64) n_gpus
                    : p->search_max == AFD_STRATEGY_SEARCH_NODE_MAX ? (gint64) gpus_per_node
                                                                    : p->search_max;
        for (gint64 d = MAX (p->search_min, p->min); d <= MIN (hi, p->max); d++)
          if (n_gpus % d == 0
              && (p->search_max != AFD_STRATEGY_SEARCH_NODE_MAX || gpus_per_node % d == 0))
            g_ptr_array_add (out, cJSON_CreateNumber ((double) d));
        break;
      }
    case AFD_STRATEGY_SEARCH_GPU_SPLIT:
    case AFD_STRATEGY_SEARCH_NODE_SPLIT:
      {
        guint n = p->search == AFD_STRATEGY_SEARCH_GPU_SPLIT ? n_gpus : nodes;
        for (gint64 k = MAX (1, p->min); k + 1 <= (gint64) n && k <= p->max; k++)
          g_ptr_array_add (out, cJSON_CreateNumber ((double) k));
        break;
      }
    }
  return out;
}

GPtrArray *
afd_strategy_search_space (const AfdStrategyClass *klass, guint n_gpus, guint gpus_per_node)
{
  GPtrArray *points = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  g_ptr_array_add (points, cJSON_CreateObject ());
  guint nodes = gpus_per_node > 0 ? n_gpus / gpus_per_node : 0;
  for (const AfdStrategyParam *p = klass->params; p != NULL && p->key != NULL; p++)
    {
      if (p->search == AFD_STRATEGY_SEARCH_DEFAULT)
        continue;
      g_autoptr (GPtrArray) values = afd_strategy_search_values (p, n_gpus, gpus_per_node);
      GPtrArray *next = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
      for (guint i = 0; i < points->len; i++)
        for (guint j = 0; j < values->len; j++)
          {
            cJSON *o = cJSON_Duplicate (points->pdata[i], TRUE);
            const cJSON *v = values->pdata[j];
            cJSON_AddItemToObject (o, p->key, cJSON_Duplicate (v, TRUE));
            if (p->partner != NULL)
              {
                guint whole = p->search == AFD_STRATEGY_SEARCH_GPU_SPLIT ? n_gpus : nodes;
                afd_json_add_number (o, p->partner, whole - v->valuedouble);
              }
            g_ptr_array_add (next, o);
          }
      g_ptr_array_unref (points);
      points = next;
    }
  return points;
}

/* Appends how a search enumerates @p ("every divisor of the cluster's GPUs"). */
static void
append_search (GString *out, const AfdStrategyParam *p)
{
  switch (p->search)
    {
    case AFD_STRATEGY_SEARCH_DEFAULT:
      g_string_append (out, "not searched (the default)");
      break;
    case AFD_STRATEGY_SEARCH_RANGE:
      g_string_append_printf (out, "%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                              MAX (p->search_min, p->min), MIN (p->search_max, p->max));
      break;
    case AFD_STRATEGY_SEARCH_CHOICES:
      g_string_append (out, p->type == AFD_STRATEGY_PARAM_BOOL ? "false, true" : "every choice");
      break;
    case AFD_STRATEGY_SEARCH_GPU_DIVISORS:
      g_string_append (out, "every divisor of the cluster's GPUs");
      if (p->search_max == AFD_STRATEGY_SEARCH_NODE_MAX)
        g_string_append (out, " that also divides a node's");
      break;
    case AFD_STRATEGY_SEARCH_GPU_SPLIT:
      g_string_append_printf (out, "every split of the cluster's GPUs, %s taking the rest",
                              p->partner);
      break;
    case AFD_STRATEGY_SEARCH_NODE_SPLIT:
      g_string_append_printf (out, "every split of the cluster's nodes, %s taking the rest",
                              p->partner);
      break;
    }
}

void
afd_strategy_class_describe_params (const AfdStrategyClass *klass, GString *out)
{
  for (const AfdStrategyParam *p = klass->params; p != NULL && p->key != NULL; p++)
    {
      g_string_append_printf (out, "  %s", p->key);
      if (p->flag != NULL)
        g_string_append_printf (out, " (--%s)", p->flag);
      g_string_append (out, ": ");
      afd_strategy_param_describe (p, out);
      g_string_append_printf (out, "\n      %s; search: ", p->help);
      const AfdStrategyParam *whole = NULL;
      for (const AfdStrategyParam *q = klass->params; q->key != NULL; q++)
        if (q->partner != NULL && strcmp (q->partner, p->key) == 0)
          whole = q;
      if (whole != NULL)
        g_string_append_printf (out, "the rest of %s's split", whole->key);
      else
        append_search (out, p);
      g_string_append_c (out, '\n');
    }
}
