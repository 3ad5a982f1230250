/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - axes, points, point identity, running points and the resumable JSONL output
 * (see sim/sweep.h and docs/user/sweep.md).
 *
 * Every point runs through the experiment API (sim/experiment.h), one single-run experiment
 * per point. What-if overrides of input files are applied to a copy of the file's JSON, which
 * is written once per distinct content into a private temporary folder and handed to the
 * loaders by path, so the strict loaders validate overridden files exactly as shipped ones.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/cluster.h"
#include "sim/data-dir.h"
#include "sim/experiment-keys.h"
#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/sweep.h"


/* One axis: a name and its values, each an object of assignments. */
typedef struct {
  char *name;
  GPtrArray *values; /* cJSON* objects */
} Axis;

struct _AfdSweep {
  const AfdStrategyClass *const *classes; /* (nullable): the strategies' parameter tables */
  cJSON *base;       /* assignments shared by every point */
  GPtrArray *axes;   /* Axis */
  GMutex lock;       /* guards tmpdir and materialised */
  char *tmpdir;      /* (nullable) where overridden input files are written */
  GHashTable *materialised; /* content SHA-256 -> path */
  GHashTable *shown;        /* materialised path -> what messages call it (the user's file) */
};

/* The workload keys of a point (their type and canonical order) are the POINT keys of the
 * one key table, sim/experiment-keys.c; a strategy's options are typed by its parameter table
 * (sim/strategy.h). */
/* Keys ending in a unit (docs/internals/style.md: units in every name) hold numbers. */
static const char *const unit_suffixes[] = { "_s", "_bytes", "_bytes_per_s", "_flop_per_s",
                                             "_fraction", NULL };
static const char *const override_prefixes[] = { "cluster.", "gpu.", "model.", NULL };

static void
axis_free (gpointer p)
{
  Axis *a = p;
  g_free (a->name);
  g_ptr_array_unref (a->values);
  g_free (a);
}

/* Returns: TRUE for a point's workload key of type string (the key table). */
static gboolean
string_key (const char *key)
{
  const AfdExperimentKey *k = afd_experiment_key_lookup (key, AFD_EXPERIMENT_KEY_POINT);
  return k != NULL && k->type == AFD_EXPERIMENT_KEY_STRING;
}

/* Returns: TRUE for a point's integer workload key or an integer option of a strategy. */
static gboolean
int_key (const AfdSweep *self, const char *key)
{
  const AfdExperimentKey *k = afd_experiment_key_lookup (key, AFD_EXPERIMENT_KEY_POINT);
  if (k != NULL && k->type == AFD_EXPERIMENT_KEY_INTEGER)
    return TRUE;
  for (guint c = 0; self->classes != NULL && self->classes[c] != NULL; c++)
    {
      const AfdStrategyParam *p = afd_strategy_param_find (self->classes[c], key);
      if (p != NULL && p->type == AFD_STRATEGY_PARAM_INT)
        return TRUE;
    }
  return FALSE;
}

/* Returns the override prefix @key starts with, or NULL. */
static const char *
override_prefix (const char *key)
{
  for (guint i = 0; override_prefixes[i] != NULL; i++)
    if (g_str_has_prefix (key, override_prefixes[i]))
      return override_prefixes[i];
  return NULL;
}

AfdSweep *
afd_sweep_new (const AfdStrategyClass *const *classes)
{
  g_return_val_if_fail (classes != NULL && classes[0] != NULL, NULL);
  AfdSweep *self = g_new0 (AfdSweep, 1);
  self->classes = classes;
  g_autoptr (AfdExperiment) d = afd_experiment_new ();
  self->base = cJSON_CreateObject ();
  cJSON_AddStringToObject (self->base, "cluster", d->cluster);
  cJSON_AddStringToObject (self->base, "model", d->model);
  /* The default strategy: the first registered class. */
  cJSON_AddStringToObject (self->base, "strategy", classes[0]->name);
  afd_json_add_number (self->base, "batch", (double) d->batch);
  afd_json_add_number (self->base, "context", (double) d->context_tokens);
  cJSON_AddStringToObject (self->base, "phase", d->prefill ? "prefill" : "decode");
  cJSON_AddStringToObject (self->base, "routing", d->routing);
  afd_json_add_number (self->base, "seed", (double) d->seed);
  cJSON_AddStringToObject (self->base, "network", afd_network_fidelity_name (d->network));
  cJSON_AddStringToObject (self->base, "costs", d->costs);
  self->axes = g_ptr_array_new_with_free_func (axis_free);
  g_mutex_init (&self->lock);
  self->materialised = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
afd_sweep_free (AfdSweep *self)
{
  if (self == NULL)
    return;
  cJSON_Delete (self->base);
  g_ptr_array_unref (self->axes);
  if (self->tmpdir != NULL)
    {
      GHashTableIter it;
      gpointer path;
      g_hash_table_iter_init (&it, self->materialised);
      while (g_hash_table_iter_next (&it, NULL, &path))
        g_unlink (path);
      g_rmdir (self->tmpdir);
      afd_files_unregister_temp (self->tmpdir);
      g_free (self->tmpdir);
    }
  g_hash_table_unref (self->materialised);
  g_hash_table_unref (self->shown);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* Checks that @key is an assignment key: a workload key, an override path or an option name. */
static gboolean
check_key (const char *flag, const char *key, GError **error)
{
  const char *prefix = override_prefix (key);
  const char *name = prefix != NULL ? key + strlen (prefix) : key;
  gboolean ok = name[0] != '\0' && g_ascii_isalpha (name[0]);
  for (const char *c = name; ok && *c != '\0'; c++)
    ok = g_ascii_isalnum (*c) || *c == '_' || (prefix != NULL && *c == '.' && c[1] != '.'
                                               && c[1] != '\0');
  if (!ok)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "%s: '%s' is not a key (an experiment key, a strategy option, or "
                   "cluster.PATH, gpu.PATH, model.PATH)", flag, key);
      return FALSE;
    }
  if (prefix == NULL && (strcmp (key, "json") == 0 || strcmp (key, "trace") == 0
                         || strcmp (key, "runs") == 0 || strcmp (key, "description") == 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' cannot vary in a sweep", flag,
                   key);
      return FALSE;
    }
  return TRUE;
}

/* Checks an "A:B" ratio of positive integers. */
static gboolean
parse_ratio (const char *text, gint64 *out_a, gint64 *out_b)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  if (g_strv_length (parts) != 2)
    return FALSE;
  gint64 a = 0, b = 0;
  if (!afd_cli_parse_int ("ratio", parts[0], 1, 1 << 20, &a, NULL)
      || !afd_cli_parse_int ("ratio", parts[1], 1, 1 << 20, &b, NULL))
    return FALSE;
  *out_a = a;
  *out_b = b;
  return TRUE;
}

/* Sets the refusal of a sweep of @n points (more than AFD_SWEEP_MAX_POINTS), with the
 * estimate of its records' memory; AFD_ERROR_USAGE like every other bad axis (exit 2). */
static void
set_too_many_points (const char *flag, const char *what, double n, GError **error)
{
  g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
               "%s: %s: a sweep of %.0f points would need about %.3g GB of point records "
               "(%.0f B a point); the limit is %d points (%.3g GB); split the sweep",
               flag, what, n, n * AFD_SWEEP_POINT_BYTES / 1e9, AFD_SWEEP_POINT_BYTES,
               AFD_SWEEP_MAX_POINTS, AFD_SWEEP_MAX_POINTS * AFD_SWEEP_POINT_BYTES / 1e9);
}

/* The smallest value of an integer key: batch, context and total_gpus are at least 1. */
static gint64
int_min (const char *key)
{
  return strcmp (key, "batch") == 0 || strcmp (key, "total_gpus") == 0
         || strcmp (key, "context") == 0;
}

/* Parses one item for @key into JSON values appended to @out (a range gives several). */
static gboolean
parse_item (const AfdSweep *self, const char *flag, const char *key, const char *item,
            GPtrArray *out, GError **error)
{
  if (item[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: empty value in the list", flag);
      return FALSE;
    }
  gboolean is_int = int_key (self, key);
  gboolean is_string = string_key (key);
  const char *dots = strstr (item, "..");
  if (dots != NULL && !is_string)
    {
      /* A..B or A..B/STEP: inclusive integer range. */
      g_autofree char *lo_text = g_strndup (item, (gsize) (dots - item));
      g_autofree char *hi_text = g_strdup (dots + 2);
      char *slash = strchr (hi_text, '/');
      const char *step_text = "1";
      if (slash != NULL)
        *slash = '\0', step_text = slash + 1;
      gint64 lo, hi, step;
      if (!afd_cli_parse_int (flag, lo_text, G_MININT32, G_MAXINT32, &lo, error)
          || !afd_cli_parse_int (flag, hi_text, G_MININT32, G_MAXINT32, &hi, error)
          || !afd_cli_parse_int (flag, step_text, 1, G_MAXINT32, &step, error))
        return FALSE;
      if (hi < lo)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: range '%s' is empty (%" G_GINT64_FORMAT
                       " > %" G_GINT64_FORMAT ")", flag, item, lo, hi);
          return FALSE;
        }
      if ((hi - lo) / step >= AFD_SWEEP_MAX_POINTS)
        {
          g_autofree char *what = g_strdup_printf ("range '%s'", item);
          set_too_many_points (flag, what, (double) ((hi - lo) / step + 1), error);
          return FALSE;
        }
      for (gint64 v = lo; v <= hi; v += step)
        {
          if (is_int && v < int_min (key))
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: %" G_GINT64_FORMAT
                           " is out of range", flag, v);
              return FALSE;
            }
          g_ptr_array_add (out, cJSON_CreateNumber ((double) v));
        }
      return TRUE;
    }
  if (is_int)
    {
      gint64 v;
      gint64 min = int_min (key);
      gint64 max = strcmp (key, "seed") == 0 ? ((gint64) 1 << 53) : G_MAXINT32;
      if (!afd_cli_parse_int (flag, item, min, max, &v, error))
        return FALSE;
      g_ptr_array_add (out, cJSON_CreateNumber ((double) v));
      return TRUE;
    }
  if (strcmp (key, "ratio") == 0)
    {
      gint64 a, b;
      if (!parse_ratio (item, &a, &b))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "%s: '%s' is not a ratio A:B of positive integers", flag, item);
          return FALSE;
        }
      g_autofree char *canon = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, a, b);
      g_ptr_array_add (out, cJSON_CreateString (canon));
      return TRUE;
    }
  if (strcmp (key, "phase") == 0 && strcmp (item, "decode") != 0 && strcmp (item, "prefill") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not decode or prefill", flag,
                   item);
      return FALSE;
    }
  AfdNetworkFidelity fidelity;
  if (strcmp (key, "network") == 0 && !afd_network_fidelity_from_name (item, &fidelity))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: '%s' is not analytic or flow", flag,
                   item);
      return FALSE;
    }
  if (is_string)
    {
      g_ptr_array_add (out, cJSON_CreateString (item));
      return TRUE;
    }
  /* Options and overrides: an integer, a number, a boolean, or else a string; a key named
   * with a unit takes numbers only. */
  gint64 iv;
  double dv;
  for (guint i = 0; unit_suffixes[i] != NULL; i++)
    if (g_str_has_suffix (key, unit_suffixes[i]))
      {
        if (!afd_cli_parse_double (flag, item, -G_MAXDOUBLE, G_MAXDOUBLE, &dv, error))
          return FALSE;
        g_ptr_array_add (out, cJSON_CreateNumber (dv));
        return TRUE;
      }
  if (afd_cli_parse_int (flag, item, G_MININT32, G_MAXINT32, &iv, NULL))
    g_ptr_array_add (out, cJSON_CreateNumber ((double) iv));
  else if (afd_cli_parse_double (flag, item, -G_MAXDOUBLE, G_MAXDOUBLE, &dv, NULL))
    g_ptr_array_add (out, cJSON_CreateNumber (dv));
  else if (strcmp (item, "true") == 0 || strcmp (item, "false") == 0)
    g_ptr_array_add (out, cJSON_CreateBool (strcmp (item, "true") == 0));
  else if (item[0] == '-' || g_ascii_isdigit (item[0]))
    {
      /* Looks like a number but is not one: refuse rather than pass a string on. */
      return afd_cli_parse_double (flag, item, -G_MAXDOUBLE, G_MAXDOUBLE, &dv, error);
    }
  else
    g_ptr_array_add (out, cJSON_CreateString (item));
  return TRUE;
}

/* Parses comma-separated values for @key. */
static GPtrArray *
parse_values (const AfdSweep *self, const char *flag, const char *key, const char *text,
              GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  if (!check_key (flag, key, error))
    return NULL;
  g_auto (GStrv) items = g_strsplit (text, ",", -1);
  /* No stripping: ' 5' is refused as `run` refuses it (issue #14). */
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (!parse_item (self, flag, key, items[i], values, error))
        return NULL;
    }
  if (values->len == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: no values", flag);
      return NULL;
    }
  return g_steal_pointer (&values);
}

/* Replaces or adds @key in @obj. */
static void
assign (cJSON *obj, const char *key, cJSON *value)
{
  if (cJSON_GetObjectItemCaseSensitive (obj, key) != NULL)
    cJSON_ReplaceItemInObjectCaseSensitive (obj, key, value);
  else
    cJSON_AddItemToObject (obj, key, value);
}

gboolean
afd_sweep_set (AfdSweep *self, const char *flag, const char *key, const char *text,
               GError **error)
{
  g_autoptr (GPtrArray) values = parse_values (self, flag, key, text, error);
  if (values == NULL)
    return FALSE;
  if (values->len != 1)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: takes one value, not %u", flag,
                   values->len);
      return FALSE;
    }
  assign (self->base, key, g_ptr_array_steal_index (values, 0));
  return TRUE;
}

/* Appends an axis, checking that the product stays within AFD_SWEEP_MAX_POINTS. */
static gboolean
add_axis (AfdSweep *self, const char *name, GPtrArray *values, GError **error)
{
  guint64 n = afd_sweep_point_count (self);
  if (n * values->len > AFD_SWEEP_MAX_POINTS)
    {
      set_too_many_points (name, "with this axis", (double) n * values->len, error);
      return FALSE;
    }
  Axis *a = g_new0 (Axis, 1);
  a->name = g_strdup (name);
  a->values = g_ptr_array_ref (values);
  g_ptr_array_add (self->axes, a);
  return TRUE;
}

gboolean
afd_sweep_add_axis (AfdSweep *self, const char *flag, const char *key, const char *text,
                    GError **error)
{
  g_autoptr (GPtrArray) raw = parse_values (self, flag, key, text, error);
  if (raw == NULL)
    return FALSE;
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  for (guint i = 0; i < raw->len; i++)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddItemToObject (o, key, cJSON_Duplicate (raw->pdata[i], TRUE));
      g_ptr_array_add (values, o);
    }
  return add_axis (self, key, values, error);
}

/* Checks one JSON assignment value for @key and returns a copy (strings re-parsed as text). */
static cJSON *
check_json_value (const AfdSweep *self, const char *where, const char *key, const cJSON *v,
                  GError **error)
{
  if (!check_key (where, key, error))
    return NULL;
  if (cJSON_IsString (v))
    {
      g_autoptr (GPtrArray) vals = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
      if (string_key (key))
        {
          if (!parse_item (self, where, key, v->valuestring, vals, error))
            return NULL;
          return g_ptr_array_steal_index (vals, 0);
        }
      if (int_key (self, key))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: expected an integer", where,
                       key);
          return NULL;
        }
      return cJSON_Duplicate (v, TRUE);
    }
  if (cJSON_IsNumber (v))
    {
      if (string_key (key))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: expected a string", where,
                       key);
          return NULL;
        }
      if (int_key (self, key))
        {
          g_autofree char *text = g_strdup_printf ("%.17g", v->valuedouble);
          g_autoptr (GPtrArray) vals =
              g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
          if (!parse_item (self, where, key, text, vals, error))
            {
              (*error)->code = AFD_ERROR_CONFIG;
              return NULL;
            }
          return g_ptr_array_steal_index (vals, 0);
        }
      return cJSON_Duplicate (v, TRUE);
    }
  if (cJSON_IsBool (v) && !string_key (key) && !int_key (self, key))
    return cJSON_Duplicate (v, TRUE);
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: expected a %s", where, key,
               string_key (key) ? "string"
               : int_key (self, key)  ? "integer"
                                          : "number, string or boolean");
  return NULL;
}

/* Copies one object of assignments, checking every key and value. */
static cJSON *
check_assignments (const AfdSweep *self, const char *where, const cJSON *obj, GError **error)
{
  if (!cJSON_IsObject (obj))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: expected an object", where);
      return NULL;
    }
  g_autoptr (cJSON) out = cJSON_CreateObject ();
  /* A hash set: an object may hold any number of keys (issue #14). */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const cJSON *v;
  cJSON_ArrayForEach (v, obj)
    {
      if (!g_hash_table_add (seen, v->string))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s: duplicate key", where,
                       v->string);
          return NULL;
        }
      cJSON *c = check_json_value (self, where, v->string, v, error);
      if (c == NULL)
        {
          if (*error != NULL && (*error)->code == AFD_ERROR_USAGE)
            (*error)->code = AFD_ERROR_CONFIG;
          return NULL;
        }
      cJSON_AddItemToObject (out, v->string, c);
    }
  return g_steal_pointer (&out);
}

gboolean
afd_sweep_add_axis_assignments (AfdSweep *self, const char *name, const cJSON *values,
                                const char *where, GError **error)
{
  if (!cJSON_IsArray (values) || cJSON_GetArraySize (values) == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: expected a non-empty array", where);
      return FALSE;
    }
  g_autoptr (GPtrArray) objs = g_ptr_array_new_with_free_func ((GDestroyNotify) cJSON_Delete);
  guint i = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, values)
    {
      g_autofree char *w = g_strdup_printf ("%s[%u]", where, i++);
      cJSON *o = check_assignments (self, w, v, error);
      if (o == NULL)
        return FALSE;
      g_ptr_array_add (objs, o);
    }
  if (!add_axis (self, name, objs, error))
    {
      (*error)->code = AFD_ERROR_CONFIG;
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_sweep_load (AfdSweep *self, const char *path_or_name, GError **error)
{
  g_autofree char *path = afd_data_resolve ("experiments", "experiment", path_or_name, error);
  if (path == NULL)
    return FALSE;
  g_autoptr (cJSON) root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root == NULL)
    return FALSE;
  if (!cJSON_IsObject (root))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: expected an object", path);
      return FALSE;
    }
  const cJSON *sweep = NULL, *runs = NULL;
  const cJSON *v;
  /* The base: every top-level key but description, runs and sweep is an assignment. */
  cJSON_ArrayForEach (v, root)
    {
      if (strcmp (v->string, "sweep") == 0)
        sweep = v;
      else if (strcmp (v->string, "runs") == 0)
        runs = v;
      else if (strcmp (v->string, "description") == 0)
        continue;
      else
        {
          if (strcmp (v->string, "json") == 0 || strcmp (v->string, "trace") == 0)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "%s: %s: not used by a sweep (give --output)", path, v->string);
              return FALSE;
            }
          if (afd_experiment_key_lookup (v->string, AFD_EXPERIMENT_KEY_SWEEP) == NULL
              && override_prefix (v->string) != NULL)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "%s: %s: overrides belong in sweep.axes or sweep.set", path,
                           v->string);
              return FALSE;
            }
          cJSON *c = check_json_value (self, path, v->string, v, error);
          if (c == NULL)
            {
              if ((*error)->code == AFD_ERROR_USAGE)
                (*error)->code = AFD_ERROR_CONFIG;
              return FALSE;
            }
          assign (self->base, v->string, c);
        }
    }
  if (runs != NULL)
    {
      g_autofree char *w = g_strdup_printf ("%s: runs", path);
      /* A run's claims are not part of a sweep point. */
      g_autoptr (cJSON) copy = cJSON_Duplicate (runs, TRUE);
      cJSON *r;
      cJSON_ArrayForEach (r, copy)
        if (cJSON_IsObject (r))
          cJSON_DeleteItemFromObjectCaseSensitive (r, "claims");
      if (!afd_sweep_add_axis_assignments (self, "runs", copy, w, error))
        return FALSE;
    }
  if (sweep == NULL)
    return TRUE;
  AfdJsonWhere where = { path, "sweep", AFD_ERROR_CONFIG };
  static const char *const sweep_keys[] = { "axes", "points", "set", "total_gpus", NULL };
  if (!afd_json_check_object (sweep, &where, sweep_keys, error))
    return FALSE;
  const cJSON *total = cJSON_GetObjectItemCaseSensitive (sweep, "total_gpus");
  if (total != NULL)
    {
      g_autofree char *w = g_strdup_printf ("%s: sweep", path);
      cJSON *c = check_json_value (self, w, "total_gpus", total, error);
      if (c == NULL)
        return FALSE;
      assign (self->base, "total_gpus", c);
    }
  const cJSON *set = cJSON_GetObjectItemCaseSensitive (sweep, "set");
  if (set != NULL)
    {
      g_autofree char *w = g_strdup_printf ("%s: sweep.set", path);
      g_autoptr (cJSON) c = check_assignments (self, w, set, error);
      if (c == NULL)
        return FALSE;
      cJSON *item;
      while ((item = c->child) != NULL)
        assign (self->base, item->string, cJSON_DetachItemViaPointer (c, item));
    }
  const cJSON *axes = cJSON_GetObjectItemCaseSensitive (sweep, "axes");
  if (axes != NULL && !cJSON_IsObject (axes))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: sweep.axes: expected an object", path);
      return FALSE;
    }
  cJSON_ArrayForEach (v, axes)
    {
      g_autofree char *w = g_strdup_printf ("%s: sweep.axes.%s", path, v->string);
      if (cJSON_IsString (v))
        {
          if (!afd_sweep_add_axis (self, w, v->string, v->valuestring, error))
            {
              (*error)->code = AFD_ERROR_CONFIG;
              return FALSE;
            }
          continue;
        }
      if (!cJSON_IsArray (v) || cJSON_GetArraySize (v) == 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: expected a non-empty array or a string \"a,b\" / \"A..B\"", w);
          return FALSE;
        }
      g_autoptr (cJSON) objs = cJSON_CreateArray ();
      const cJSON *item;
      guint i = 0;
      cJSON_ArrayForEach (item, v)
        {
          g_autofree char *wi = g_strdup_printf ("%s[%u]", w, i++);
          cJSON *c = check_json_value (self, wi, v->string, item, error);
          if (c == NULL)
            {
              if ((*error)->code == AFD_ERROR_USAGE)
                (*error)->code = AFD_ERROR_CONFIG;
              return FALSE;
            }
          cJSON *o = cJSON_CreateObject ();
          cJSON_AddItemToObject (o, v->string, c);
          cJSON_AddItemToArray (objs, o);
        }
      if (!afd_sweep_add_axis_assignments (self, v->string, objs, w, error))
        return FALSE;
    }
  const cJSON *points = cJSON_GetObjectItemCaseSensitive (sweep, "points");
  if (points != NULL)
    {
      g_autofree char *w = g_strdup_printf ("%s: sweep.points", path);
      if (!afd_sweep_add_axis_assignments (self, "points", points, w, error))
        return FALSE;
    }
  return TRUE;
}

guint64
afd_sweep_point_count (const AfdSweep *self)
{
  guint64 n = 1;
  for (guint i = 0; i < self->axes->len; i++)
    n *= ((Axis *) self->axes->pdata[i])->values->len;
  return n;
}

guint
afd_sweep_axis_count (const AfdSweep *self)
{
  return self->axes->len;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Builds the canonical configuration from a flat assignment object. */
static cJSON *
canonical (const cJSON *flat)
{
  cJSON *out = cJSON_CreateObject ();
  for (const AfdExperimentKey *k = afd_experiment_keys (); k->name != NULL; k++)
    {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive (flat, k->name);
      if ((k->where & AFD_EXPERIMENT_KEY_POINT) != 0 && v != NULL)
        cJSON_AddItemToObject (out, k->name, cJSON_Duplicate (v, TRUE));
    }
  g_autoptr (GPtrArray) opts = g_ptr_array_new ();
  g_autoptr (GPtrArray) sets = g_ptr_array_new ();
  const cJSON *v;
  cJSON_ArrayForEach (v, flat)
    {
      if (afd_experiment_key_lookup (v->string, AFD_EXPERIMENT_KEY_POINT) != NULL)
        continue;
      g_ptr_array_add (override_prefix (v->string) != NULL ? sets : opts, v->string);
    }
  g_ptr_array_sort (opts, compare_keys);
  g_ptr_array_sort (sets, compare_keys);
  cJSON *o = cJSON_AddObjectToObject (out, "options");
  for (guint i = 0; i < opts->len; i++)
    cJSON_AddItemToObject (o, opts->pdata[i],
                           cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (flat, opts->pdata[i]),
                                            TRUE));
  cJSON *s = cJSON_AddObjectToObject (out, "set");
  for (guint i = 0; i < sets->len; i++)
    cJSON_AddItemToObject (s, sets->pdata[i],
                           cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (flat, sets->pdata[i]),
                                            TRUE));
  return out;
}

cJSON *
afd_sweep_point_config (const AfdSweep *self, guint64 index)
{
  g_return_val_if_fail (index < afd_sweep_point_count (self), NULL);
  g_autoptr (cJSON) flat = cJSON_Duplicate (self->base, TRUE);
  /* Mixed radix, last axis fastest. */
  guint64 rest = index;
  g_autofree guint64 *pick = g_new0 (guint64, self->axes->len + 1);
  for (guint i = self->axes->len; i-- > 0;)
    {
      const Axis *a = self->axes->pdata[i];
      pick[i] = rest % a->values->len;
      rest /= a->values->len;
    }
  for (guint i = 0; i < self->axes->len; i++)
    {
      const Axis *a = self->axes->pdata[i];
      const cJSON *assignments = a->values->pdata[pick[i]];
      const cJSON *v;
      cJSON_ArrayForEach (v, assignments)
        assign (flat, v->string, cJSON_Duplicate (v, TRUE));
    }
  return canonical (flat);
}

char *
afd_sweep_config_id (const cJSON *config)
{
  g_autofree char *text = cJSON_PrintUnformatted (config);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return g_strndup (sum, 16);
}

/* Applies a dotted-path override to a copy of an input file's JSON. */
static gboolean
apply_override (cJSON *root, const char *key, const char *path, const cJSON *value,
                const char *file, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  cJSON *node = root;
  guint n = g_strv_length (parts);
  for (guint i = 0; i + 1 < n; i++)
    {
      cJSON *child = cJSON_GetObjectItemCaseSensitive (node, parts[i]);
      if (!cJSON_IsObject (child))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: %s has no object '%s'", key,
                       file, parts[i]);
          return FALSE;
        }
      node = child;
    }
  const cJSON *old = cJSON_GetObjectItemCaseSensitive (node, parts[n - 1]);
  if (old != NULL && cJSON_IsObject (old))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: '%s' in %s is an object; set one of its keys", key, parts[n - 1], file);
      return FALSE;
    }
  assign (node, parts[n - 1], cJSON_Duplicate (value, TRUE));
  return TRUE;
}

/* Writes @root to the sweep's temporary folder once per distinct content; returns the path. */
static char *
materialise (AfdSweep *self, const char *what, const char *source, const cJSON *root,
             GError **error)
{
  g_autofree char *text = cJSON_Print (root);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  g_mutex_lock (&self->lock);
  const char *known = g_hash_table_lookup (self->materialised, sum);
  if (known != NULL)
    {
      char *p = g_strdup (known);
      g_mutex_unlock (&self->lock);
      return p;
    }
  if (self->tmpdir == NULL)
    {
      self->tmpdir = g_dir_make_tmp ("afdsim-sweep-XXXXXX", error);
      if (self->tmpdir == NULL)
        {
          g_mutex_unlock (&self->lock);
          g_prefix_error (error, "what-if overrides: ");
          (*error)->domain = AFD_ERROR, (*error)->code = AFD_ERROR_IO;
          return NULL;
        }
      /* A signal must not leave the folder behind (sim/files.h). */
      afd_files_register_temp (self->tmpdir);
    }
  g_autofree char *name = g_strdup_printf ("%s-%.16s.json", what, sum);
  char *path = g_build_filename (self->tmpdir, name, NULL);
  gboolean ok = afd_file_write_atomic (path, text, strlen (text), error);
  if (ok)
    {
      g_hash_table_insert (self->materialised, g_strdup (sum), g_strdup (path));
      /* Messages name the user's file, never the private copy (issue #14). */
      g_hash_table_insert (self->shown, g_strdup (path),
                           g_strdup_printf ("%s (with the point's --set %s.* values)", source,
                                            what));
    }
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_clear_pointer (&path, g_free);
  return path;
}

/* Reads a shipped or given input file as JSON. */
static cJSON *
read_input (const char *kind, const char *what, const char *name, char **out_path,
            GError **error)
{
  g_autofree char *path = afd_data_resolve (kind, what, name, error);
  if (path == NULL)
    return NULL;
  cJSON *root = afd_json_parse_file (path, AFD_ERROR_CONFIG, error);
  if (root != NULL && out_path != NULL)
    *out_path = g_steal_pointer (&path);
  return root;
}

/* Applies every override of @prefix in @set to @root. */
static gboolean
apply_overrides (cJSON *root, const cJSON *set, const char *prefix, const char *file,
                 GError **error)
{
  const cJSON *v;
  cJSON_ArrayForEach (v, set)
    if (g_str_has_prefix (v->string, prefix)
        && !apply_override (root, v->string, v->string + strlen (prefix), v, file, error))
      return FALSE;
  return TRUE;
}

static gboolean
has_prefix_key (const cJSON *set, const char *prefix)
{
  const cJSON *v;
  cJSON_ArrayForEach (v, set)
    if (g_str_has_prefix (v->string, prefix))
      return TRUE;
  return FALSE;
}

/* Resolves the cluster and model of a point, materialising overridden copies. */
static gboolean
resolve_inputs (AfdSweep *self, const cJSON *config, char **out_cluster, char **out_model,
                GError **error)
{
  const cJSON *set = cJSON_GetObjectItemCaseSensitive (config, "set");
  const char *cluster = cJSON_GetObjectItemCaseSensitive (config, "cluster")->valuestring;
  const char *model = cJSON_GetObjectItemCaseSensitive (config, "model")->valuestring;
  g_autofree char *cluster_out = g_strdup (cluster), *model_out = g_strdup (model);
  if (has_prefix_key (set, "cluster.") || has_prefix_key (set, "gpu."))
    {
      g_autofree char *cpath = NULL;
      g_autoptr (cJSON) c = read_input ("topologies/clusters", "cluster", cluster, &cpath, error);
      if (c == NULL)
        return FALSE;
      if (has_prefix_key (set, "gpu."))
        {
          /* The GPU is named in generator.gpu (generated clusters) or gpu (explicit ones). */
          cJSON *holder = cJSON_GetObjectItemCaseSensitive (c, "generator");
          if (!cJSON_IsObject (holder))
            holder = c;
          const cJSON *gname = cJSON_GetObjectItemCaseSensitive (holder, "gpu");
          if (!cJSON_IsString (gname))
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "gpu.*: %s names no gpu", cpath);
              return FALSE;
            }
          g_autofree char *gpath = NULL;
          g_autoptr (cJSON) g = read_input ("topologies/gpus", "gpu", gname->valuestring, &gpath,
                                            error);
          if (g == NULL || !apply_overrides (g, set, "gpu.", gpath, error))
            return FALSE;
          g_autofree char *gout = materialise (self, "gpu", gpath, g, error);
          if (gout == NULL)
            return FALSE;
          assign (holder, "gpu", cJSON_CreateString (gout));
        }
      if (!apply_overrides (c, set, "cluster.", cpath, error))
        return FALSE;
      g_free (cluster_out);
      cluster_out = materialise (self, "cluster", cpath, c, error);
      if (cluster_out == NULL)
        return FALSE;
    }
  if (has_prefix_key (set, "model."))
    {
      g_autofree char *mpath = NULL;
      g_autoptr (cJSON) m = read_input ("models/llm", "model", model, &mpath, error);
      if (m == NULL || !apply_overrides (m, set, "model.", mpath, error))
        return FALSE;
      g_free (model_out);
      model_out = materialise (self, "model", mpath, m, error);
      if (model_out == NULL)
        return FALSE;
    }
  *out_cluster = g_steal_pointer (&cluster_out);
  *out_model = g_steal_pointer (&model_out);
  return TRUE;
}

/* Adds the files behind the input keys of @obj (an assignments object) to @out. */
static void
collect_inputs (const cJSON *obj, GPtrArray *flags, GPtrArray *paths)
{
  static const char *const keys[][4] = {
    { "cluster", "topologies/clusters", "cluster", "" },
    { "model", "models/llm", "model", "" },
    { "routing", NULL, NULL, "file:" },
    { "costs", NULL, NULL, "profile:" },
  };
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive (obj, keys[k][0]);
      if (!cJSON_IsString (v) || !g_str_has_prefix (v->valuestring, keys[k][3]))
        continue;
      char *path = keys[k][1] != NULL
                       ? afd_data_resolve (keys[k][1], keys[k][2], v->valuestring, NULL)
                       : g_strdup (v->valuestring + strlen (keys[k][3]));
      if (path == NULL)
        continue;
      g_ptr_array_add (flags, g_strdup_printf ("the sweep's %s", keys[k][0]));
      g_ptr_array_add (paths, path);
    }
}

gboolean
afd_sweep_check_files (const AfdSweep *self, const char *sweep_file,
                       const AfdSweepRunOptions *opts, GError **error)
{
  g_autoptr (GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  collect_inputs (self->base, flags, paths);
  for (guint a = 0; a < self->axes->len; a++)
    {
      const Axis *axis = self->axes->pdata[a];
      for (guint v = 0; v < axis->values->len; v++)
        collect_inputs (axis->values->pdata[v], flags, paths);
    }
  g_autoptr (GArray) inputs = g_array_new (FALSE, TRUE, sizeof (AfdFileUse));
  AfdFileUse file = { "the sweep file", sweep_file };
  g_array_append_val (inputs, file);
  for (guint i = 0; i < paths->len; i++)
    {
      AfdFileUse u = { flags->pdata[i], paths->pdata[i] };
      g_array_append_val (inputs, u);
    }
  AfdFileUse outputs[] = { { "--output", opts->output }, { "--csv", opts->csv } };
  return afd_files_check_distinct (outputs, G_N_ELEMENTS (outputs),
                                   (const AfdFileUse *) inputs->data, inputs->len, error);
}

/* Turns total_gpus and ratio into the options of the strategy's GPU split (the parameter
 * searched as AFD_STRATEGY_SEARCH_GPU_SPLIT, sim/strategy.h, and its partner): ratio A:B of
 * T GPUs gives T A / (A + B) and the rest; total_gpus with the split's key alone gives the
 * partner the rest. */
static gboolean
resolve_split (const cJSON *config, const AfdStrategyClass *klass, const char *cluster,
               cJSON *options, GError **error)
{
  const cJSON *total = cJSON_GetObjectItemCaseSensitive (config, "total_gpus");
  const cJSON *ratio = cJSON_GetObjectItemCaseSensitive (config, "ratio");
  const AfdStrategyParam *split = NULL;
  for (const AfdStrategyParam *p = klass != NULL ? klass->params : NULL; p != NULL && p->key;
       p++)
    if (p->search == AFD_STRATEGY_SEARCH_GPU_SPLIT && p->partner != NULL)
      split = p;
  if (split == NULL)
    {
      if (ratio == NULL || klass == NULL)
        return TRUE;
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "ratio: strategy %s has no split of the GPUs to set", klass->name);
      return FALSE;
    }
  const cJSON *attn = cJSON_GetObjectItemCaseSensitive (options, split->key);
  const cJSON *moe = cJSON_GetObjectItemCaseSensitive (options, split->partner);
  if (ratio == NULL && (total == NULL || attn == NULL || moe != NULL))
    return TRUE;
  gint64 t;
  if (total != NULL)
    t = (gint64) total->valuedouble;
  else
    {
      g_autoptr (AfdCluster) c = afd_cluster_load (cluster, error);
      if (c == NULL)
        return FALSE;
      t = afd_cluster_gpu_count (c);
    }
  if (ratio != NULL)
    {
      if (attn != NULL || moe != NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "ratio and %s/%s are both given; use one", split->key, split->partner);
          return FALSE;
        }
      gint64 a, b;
      if (!parse_ratio (ratio->valuestring, &a, &b))
        g_assert_not_reached (); /* checked when the axis was parsed */
      if ((t * a) % (a + b) != 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                       "ratio %s does not split %" G_GINT64_FORMAT " GPUs into whole numbers",
                       ratio->valuestring, t);
          return FALSE;
        }
      afd_json_add_number (options, split->key, (double) (t * a / (a + b)));
      afd_json_add_number (options, split->partner, (double) (t - t * a / (a + b)));
      return TRUE;
    }
  gint64 k = (gint64) attn->valuedouble;
  if (k >= t)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "%s %" G_GINT64_FORMAT " leaves no GPU of %" G_GINT64_FORMAT " for %s",
                   split->key, k, t, split->partner);
      return FALSE;
    }
  afd_json_add_number (options, split->partner, (double) (t - k));
  return TRUE;
}

/* Drops from @options the keys @klass does not declare but another class does: in a sweep
 * over several strategies an option applies to the strategies that declare it. A key no class
 * declares stays, for the strategy to refuse. */
static void
keep_declared (const AfdSweep *self, const AfdStrategyClass *klass, cJSON *options)
{
  cJSON *o = options->child;
  while (o != NULL)
    {
      cJSON *next = o->next;
      gboolean elsewhere = FALSE;
      for (guint c = 0; self->classes[c] != NULL && !elsewhere; c++)
        elsewhere = afd_strategy_param_find (self->classes[c], o->string) != NULL;
      if (elsewhere && afd_strategy_param_find (klass, o->string) == NULL)
        cJSON_Delete (cJSON_DetachItemViaPointer (options, o));
      o = next;
    }
}

/* Reads a number from a run object. */
static double
num (const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive (o, key);
  return cJSON_IsNumber (v) ? v->valuedouble : 0;
}

/* A metric as the summary carries it: non-finite values are written there as null, a 0 here. */
static double
finite_or_zero (double v)
{
  return isfinite (v) ? v : 0;
}

/* Writes the headline metrics @m of the point's run into @line, and from @run (the summary's
 * runs[0]) its GPUs' roles. */
static void
add_metrics (cJSON *line, const AfdMetrics *m, const cJSON *run)
{
  const struct {
    const char *key;
    double value;
  } headline[] = {
    { "iteration_time_s", m->iteration_time_s },
    { "tpot_s", m->tpot_s },
    { "tokens_per_s", m->tokens_per_s },
    { "tokens_per_s_per_gpu", m->tokens_per_s_per_gpu },
    { "hfu", m->hfu },
    { "mfu", m->mfu },
    { "utilisation", m->utilisation },
    { "comm_fraction", m->comm_fraction },
    { "total_flops", m->total_flops },
    { "peak_flop_per_s", m->peak_flop_per_s },
    { "max_memory_bytes", m->max_memory_bytes },
    { "gpus_used", m->gpus_used },
  };
  for (guint i = 0; i < G_N_ELEMENTS (headline); i++)
    afd_json_add_number (line, headline[i].key, finite_or_zero (headline[i].value));
  const cJSON *gpus = cJSON_GetObjectItemCaseSensitive (run, "gpus");
  afd_json_add_number (line, "gpus", cJSON_GetArraySize (gpus));
  /* Roles in order of first appearance (GPU order), with their GPU counts and HFU. */
  cJSON *roles = cJSON_AddObjectToObject (line, "roles");
  g_autoptr (cJSON) flops = cJSON_CreateObject ();
  const cJSON *g;
  cJSON_ArrayForEach (g, gpus)
    {
      const cJSON *role = cJSON_GetObjectItemCaseSensitive (g, "role");
      const char *r = cJSON_IsString (role) ? role->valuestring : "none";
      cJSON *count = cJSON_GetObjectItemCaseSensitive (roles, r);
      if (count == NULL)
        {
          afd_json_add_number (roles, r, 1);
          afd_json_add_number (flops, r, num (g, "flops"));
        }
      else
        {
          cJSON_SetNumberValue (count, count->valuedouble + 1);
          cJSON *f = cJSON_GetObjectItemCaseSensitive (flops, r);
          cJSON_SetNumberValue (f, f->valuedouble + num (g, "flops"));
        }
    }
  cJSON *by_role = cJSON_AddObjectToObject (line, "hfu_by_role");
  double denom = num (run, "iteration_time_s") * num (run, "peak_flop_per_s");
  const cJSON *r;
  cJSON_ArrayForEach (r, roles)
    {
      double f = num (flops, r->string);
      afd_json_add_number (by_role, r->string, denom > 0 ? f / (denom * r->valuedouble) : 0);
    }
  const cJSON *cp = cJSON_GetObjectItemCaseSensitive (run, "critical_path");
  const cJSON *bound = cJSON_GetObjectItemCaseSensitive (cp, "bound_by");
  if (cJSON_IsString (bound))
    cJSON_AddStringToObject (line, "bound_by", bound->valuestring);
}

/* Sets @exp's MTP ("mtp", "accept") and price override ("price": GPU=USD) from @config when
 * they are given (docs/models/mtp.md, docs/models/cost.md). */
static gboolean
apply_mtp_price (AfdExperiment *exp, const cJSON *config, GError **error)
{
  const cJSON *mtp = cJSON_GetObjectItemCaseSensitive (config, "mtp");
  const cJSON *accept = cJSON_GetObjectItemCaseSensitive (config, "accept");
  const cJSON *price = cJSON_GetObjectItemCaseSensitive (config, "price");
  if (accept != NULL && !cJSON_IsNumber (accept))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "accept: expected a number");
      return FALSE;
    }
  if (mtp != NULL)
    exp->mtp_draft_tokens = (guint) MIN (mtp->valuedouble, (double) G_MAXUINT);
  if (accept != NULL)
    exp->accept_tokens = accept->valuedouble;
  if ((mtp != NULL || accept != NULL)
      && !afd_experiment_check_mtp (exp, "mtp", "accept", AFD_ERROR_CONFIG, error))
    return FALSE;
  return price == NULL
         || afd_experiment_add_price (exp, price->valuestring, "price", AFD_ERROR_CONFIG, error);
}

/* Copies the run's cost and energy per token (its "economics", sim/economics.h) into @line:
 * numbers, or null where the GPU file gives no price or power. */
static void
add_economics (cJSON *line, const cJSON *run)
{
  static const char *const keys[] = { "usd_per_million_tokens", "joules_per_token", NULL };
  const cJSON *e = cJSON_GetObjectItemCaseSensitive (run, "economics");
  for (guint i = 0; keys[i] != NULL; i++)
    {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive (e, keys[i]);
      if (cJSON_IsNumber (v))
        afd_json_add_number (line, keys[i], v->valuedouble);
      else
        cJSON_AddNullToObject (line, keys[i]);
    }
}

/* Runs one canonical configuration; returns the summary's first run and its typed metrics
 * in @out_metrics, or NULL with @error; @out_of_grid: the summary's
 * provenance.out_of_grid_lookups (0 when absent). */
static cJSON *
run_config (AfdSweep *self, const cJSON *config, const AfdPlugins *plugins,
            AfdMetrics *out_metrics, guint *out_of_grid, GError **error)
{
  g_autofree char *cluster = NULL, *model = NULL;
  if (!resolve_inputs (self, config, &cluster, &model, error))
    return NULL;
  g_autoptr (cJSON) options =
      cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (config, "options"), TRUE);
  const char *name = cJSON_GetObjectItemCaseSensitive (config, "strategy")->valuestring;
  const AfdStrategyClass *klass = plugins->strategy_lookup (name, NULL);
  if (!resolve_split (config, klass, cluster, options, error))
    return NULL;
  if (klass != NULL)
    keep_declared (self, klass, options);
  g_autoptr (AfdExperiment) exp = afd_experiment_new ();
  g_free (exp->cluster), exp->cluster = g_steal_pointer (&cluster);
  g_free (exp->model), exp->model = g_steal_pointer (&model);
  exp->batch = (guint64) num (config, "batch");
  exp->context_tokens = (guint64) num (config, "context");
  exp->seed = (guint64) num (config, "seed");
  const char *phase = cJSON_GetObjectItemCaseSensitive (config, "phase")->valuestring;
  exp->prefill = strcmp (phase, "prefill") == 0;
  g_free (exp->routing);
  exp->routing = g_strdup (cJSON_GetObjectItemCaseSensitive (config, "routing")->valuestring);
  const char *network = cJSON_GetObjectItemCaseSensitive (config, "network")->valuestring;
  if (!afd_network_fidelity_from_name (network, &exp->network))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "network: '%s' is not analytic or flow",
                   network);
      return NULL;
    }
  g_free (exp->costs);
  exp->costs = g_strdup (cJSON_GetObjectItemCaseSensitive (config, "costs")->valuestring);
  if (!apply_mtp_price (exp, config, error))
    return NULL;
  const cJSON *label = cJSON_GetObjectItemCaseSensitive (config, "label");
  afd_experiment_add_run (exp, cJSON_IsString (label) ? label->valuestring : NULL,
                          cJSON_GetObjectItemCaseSensitive (config, "strategy")->valuestring,
                          g_steal_pointer (&options));
  g_autoptr (GArray) metrics = NULL;
  g_autoptr (cJSON) summary = afd_experiment_run_typed (exp, plugins, NULL, &metrics, error);
  if (summary == NULL)
    return NULL;
  *out_metrics = g_array_index (metrics, AfdMetrics, 0);
  *out_of_grid = (guint) num (cJSON_GetObjectItemCaseSensitive (summary, "provenance"),
                              "out_of_grid_lookups");
  cJSON *runs = cJSON_GetObjectItemCaseSensitive (summary, "runs");
  return cJSON_DetachItemFromArray (runs, 0);
}

cJSON *
afd_sweep_run_point (AfdSweep *self, guint64 index, const AfdPlugins *plugins)
{
  g_autoptr (cJSON) config = afd_sweep_point_config (self, index);
  g_autofree char *id = afd_sweep_config_id (config);
  cJSON *line = cJSON_CreateObject ();
  afd_json_add_number (line, "index", (double) index);
  cJSON_AddStringToObject (line, "id", id);
  g_autoptr (GError) local_error = NULL;
  AfdMetrics metrics = { 0 };
  guint out_of_grid = 0;
  g_autoptr (cJSON) run
      = run_config (self, config, plugins, &metrics, &out_of_grid, &local_error);
  if (run == NULL)
    {
      cJSON_AddStringToObject (line, "status",
                               g_error_matches (local_error, AFD_ERROR, AFD_ERROR_INFEASIBLE)
                                   ? "infeasible"
                                   : "error");
      g_autoptr (GString) msg = g_string_new (local_error->message);
      g_mutex_lock (&self->lock);
      if (self->tmpdir != NULL && strstr (msg->str, self->tmpdir) != NULL)
        {
          GHashTableIter it;
          gpointer path, shown;
          g_hash_table_iter_init (&it, self->shown);
          while (g_hash_table_iter_next (&it, &path, &shown))
            g_string_replace (msg, path, shown, 0);
        }
      g_mutex_unlock (&self->lock);
      cJSON_AddStringToObject (line, "message", msg->str);
      cJSON_AddItemToObject (line, "config", g_steal_pointer (&config));
      return line;
    }
  cJSON_AddStringToObject (line, "status", "ok");
  cJSON_AddItemToObject (line, "config", g_steal_pointer (&config));
  add_metrics (line, &metrics, run);
  add_economics (line, run);
  afd_json_add_number (line, "out_of_grid_lookups", out_of_grid);
  return line;
}

gboolean
afd_sweep_resume (const AfdSweep *self, const char *path, guint64 *out_done, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      *out_done = 0;
      return TRUE;
    }
  /* A regular file only (a FIFO would block); the sweep's own output has no size limit. */
  if (!afd_file_read (path, G_MAXSIZE - 1, &data, &len, error))
    return FALSE;
  guint64 total = afd_sweep_point_count (self);
  guint64 done = 0;
  gsize at = 0;
  while (at < len)
    {
      const char *nl = memchr (data + at, '\n', len - at);
      if (nl == NULL)
        break; /* a partial last line: truncated below */
      gsize end = (gsize) (nl - data);
      g_autofree char *text = g_strndup (data + at, end - at);
      guint64 lineno = done + 1;
      if (done >= total)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: line %" G_GUINT64_FORMAT ": the file has more lines than this sweep "
                       "has points (%" G_GUINT64_FORMAT "); it belongs to another sweep: give "
                       "another --output or remove it", path, lineno, total);
          return FALSE;
        }
      g_autoptr (cJSON) obj = cJSON_Parse (text);
      const cJSON *index = cJSON_GetObjectItemCaseSensitive (obj, "index");
      const cJSON *id = cJSON_GetObjectItemCaseSensitive (obj, "id");
      if (!cJSON_IsObject (obj) || !cJSON_IsNumber (index) || !cJSON_IsString (id))
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: line %" G_GUINT64_FORMAT ": not a sweep result line (no JSON object "
                       "with index and id); remove the file or give another --output", path,
                       lineno);
          return FALSE;
        }
      g_autoptr (cJSON) config = afd_sweep_point_config (self, done);
      g_autofree char *want = afd_sweep_config_id (config);
      if (index->valuedouble != (double) done || strcmp (id->valuestring, want) != 0)
        {
          /* The line may hold any bytes: escape them for a one-line message (fuzz finding). */
          g_autofree char *shown_id = g_strescape (id->valuestring, NULL);
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: line %" G_GUINT64_FORMAT ": holds point %g with id %s, but point %"
                       G_GUINT64_FORMAT " of this sweep has id %s: the file was written by a "
                       "different sweep (other axes or values); give another --output or remove "
                       "it to start over", path, lineno, index->valuedouble, shown_id, done,
                       want);
          return FALSE;
        }
      /* A point that failed is retried (infeasible points are results; errors are not):
       * the file is cut before its line and the points from there on run again. */
      const cJSON *status = cJSON_GetObjectItemCaseSensitive (obj, "status");
      if (cJSON_IsString (status) && strcmp (status->valuestring, "error") == 0)
        break;
      done++;
      at = end + 1;
    }
  if (at < len && truncate (path, (off_t) at) != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                   "%s: cannot drop the partial last line or the failed points: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  *out_done = done;
  return TRUE;
}

void
afd_sweep_stats_clear (AfdSweepStats *stats)
{
  g_clear_pointer (&stats->first_error, g_free);
}

/* A finished point on its way from a worker thread to the main thread. */
typedef struct {
  guint64 index;
  char *line; /* with its newline */
  char status; /* 'o'k, 'i'nfeasible, 'e'rror */
  char *message;
} Result;

static void
result_free (gpointer p)
{
  Result *r = p;
  g_free (r->line);
  g_free (r->message);
  g_free (r);
}

/* What the worker threads share. */
typedef struct {
  AfdSweep *sweep;
  const AfdPlugins *plugins;
  GAsyncQueue *results; /* Result */
} Work;

/* GThreadPool function: runs one point and queues its line. */
static void
work_one (gpointer data, gpointer user_data)
{
  Work *w = user_data;
  guint64 index = GPOINTER_TO_SIZE (data) - 1;
  g_autoptr (cJSON) line = afd_sweep_run_point (w->sweep, index, w->plugins);
  Result *r = g_new0 (Result, 1);
  r->index = index;
  g_autofree char *text = cJSON_PrintUnformatted (line);
  r->line = g_strconcat (text, "\n", NULL);
  const char *status = cJSON_GetObjectItemCaseSensitive (line, "status")->valuestring;
  r->status = status[0];
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive (line, "message");
  r->message = cJSON_IsString (msg) ? g_strdup (msg->valuestring) : NULL;
  g_async_queue_push (w->results, r);
}

/* Writes all of @text with as few write(2) calls as the kernel allows (one for a regular file). */
static gboolean
write_all (int fd, const char *text, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, text, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      text += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Formats seconds as "1h02m", "3m05s" or "12s". */
static void
format_eta (double s, char *buf, gsize size)
{
  if (s < 0 || s > 1e7)
    g_strlcpy (buf, "?", size);
  else if (s >= 3600)
    g_snprintf (buf, size, "%dh%02dm", (int) (s / 3600), ((int) s % 3600) / 60);
  else if (s >= 60)
    g_snprintf (buf, size, "%dm%02ds", (int) (s / 60), (int) s % 60);
  else
    g_snprintf (buf, size, "%ds", (int) (s + 0.5));
}

/* Draws the progress line on stderr. */
static void
draw_progress (guint64 done, guint64 total, guint64 computed, double elapsed_s)
{
  double rate = elapsed_s > 0 ? computed / elapsed_s : 0;
  char eta[32];
  format_eta (rate > 0 ? (double) (total - done) / rate : -1, eta, sizeof eta);
  fprintf (stderr, "\r%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "  %.1f pts/s  ETA %s   ", done,
           total, rate, eta);
  fflush (stderr);
}

/*
 * Returns the PID that holds a flock(2) on the file of @fd, from /proc/locks (Linux: "1: FLOCK
 * ADVISORY WRITE PID MAJ:MIN:INODE START END"), or 0 when it cannot be told.
 */
static long
lock_holder (int fd)
{
  struct stat st;
  g_autofree char *text = NULL;
  if (fstat (fd, &st) != 0 || !g_file_get_contents ("/proc/locks", &text, NULL, NULL))
    return 0;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char kind[16], mode[16], access[16];
      long pid;
      unsigned int maj, min;
      unsigned long long ino;
      const char *p = strchr (lines[i], ':');
      if (p == NULL || strstr (lines[i], "->") != NULL) /* "->": a waiter, not the holder */
        continue;
      if (sscanf (p + 1, " %15s %15s %15s %ld %x:%x:%llu", kind, mode, access, &pid, &maj, &min,
                  &ino) == 7
          && strcmp (kind, "FLOCK") == 0 && ino == (unsigned long long) st.st_ino
          && maj == major (st.st_dev) && min == minor (st.st_dev))
        return pid;
    }
  return 0;
}

/*
 * Opens the JSONL output for appending. A regular file (or a new one) is locked with an
 * exclusive flock(2) for the sweep's whole life: it dies with the process, so a SIGKILLed
 * sweep resumes, and a second sweep on the same output is refused at once, naming the
 * holder's PID (read from /proc/locks; no lock file is left beside the output). An existing
 * FIFO, device or /dev/stdout is written directly, with no resume and no lock.
 */
static int
open_output (const AfdSweepRunOptions *opts, gboolean *out_direct, GError **error)
{
  const char *path = opts->output;
  struct stat st;
  *out_direct = stat (path, &st) == 0 && !S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode);
  if (*out_direct && opts->csv != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--csv: converting needs --output to be a regular file (%s is not)", path);
      return -1;
    }
  int fd = g_open (path, (*out_direct ? O_WRONLY : O_RDWR | O_APPEND | O_CREAT) | O_NOCTTY
                             | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return -1;
    }
  if (*out_direct)
    return fd;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: not a regular file", path);
      close (fd);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;
      long pid = saved == EWOULDBLOCK ? lock_holder (fd) : 0;
      if (saved != EWOULDBLOCK)
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: cannot lock: %s", path,
                     g_strerror (saved));
      else if (pid > 0)
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                     "%s: another sweep (PID %ld) is writing this output; wait for it to end "
                     "or give another --output", path, pid);
      else
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                     "%s: another sweep is writing this output; wait for it to end or give "
                     "another --output", path);
      close (fd);
      return -1;
    }
  return fd;
}

gboolean
afd_sweep_run (AfdSweep *self, const AfdPlugins *plugins, const AfdSweepRunOptions *opts,
               AfdSweepStats *out_stats, GError **error)
{
  g_return_val_if_fail (opts->jobs >= 1 && opts->size >= 1 && opts->rank < opts->size, FALSE);
  gint64 t0 = g_get_monotonic_time ();
  guint64 total = afd_sweep_point_count (self);
  gboolean writer = opts->rank == 0;
  /* Resolve the data folder once, before any thread does (its cache is not locked). */
  afd_data_dir (NULL);

  guint64 done = 0;
  int fd = -1;
  gboolean direct = FALSE;
  if (writer && (fd = open_output (opts, &direct, error)) < 0)
    done = G_MAXUINT64;
  else if (writer && !direct && !afd_sweep_resume (self, opts->output, &done, error))
    done = G_MAXUINT64;
  afd_sweep_mpi_bcast_u64 (&done);
  if (done == G_MAXUINT64)
    {
      if (!writer)
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "rank %u: rank 0 could not open the output",
                     opts->rank);
      return FALSE;
    }

  AfdSweepStats stats = { .total = total, .resumed = done };
  Work work = { self, plugins, g_async_queue_new_full (result_free) };
  GThreadPool *pool = g_thread_pool_new (work_one, &work, (gint) opts->jobs, TRUE, NULL);
  /* This rank's points: done + rank, done + rank + size, ...; at most 4 per thread queued. */
  guint64 next_submit = done + opts->rank, mine_left = 0, in_flight = 0;
  for (guint64 i = next_submit; i < total; i += opts->size)
    mine_left++;
  guint64 window = 4 * (guint64) opts->jobs;
  GHashTable *pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, result_free);
  guint64 next_write = done, remote_left = total - done - mine_left;
  gint64 last_sync = t0, last_draw = 0;
  gboolean ok = TRUE;

  while (ok && (mine_left > 0 || (writer && (next_write < total))))
    {
      while (next_submit < total && in_flight < window)
        {
          g_thread_pool_push (pool, GSIZE_TO_POINTER ((gsize) next_submit + 1), NULL);
          next_submit += opts->size;
          in_flight++;
        }
      Result *r = NULL;
      if (mine_left > 0)
        r = opts->size > 1 && writer ? g_async_queue_timeout_pop (work.results, 1000)
                                     : g_async_queue_pop (work.results);
      else if (writer)
        g_usleep (1000); /* waiting only for other ranks */
      if (r != NULL)
        {
          mine_left--;
          in_flight--;
          stats.computed++;
          if (r->status == 'o')
            stats.ok++;
          else if (r->status == 'i')
            stats.infeasible++;
          else
            {
              stats.failed++;
              if (stats.first_error == NULL)
                stats.first_error = g_strdup (r->message);
            }
          if (!writer)
            {
              afd_sweep_mpi_send_line (r->index, r->line);
              result_free (r);
              continue;
            }
          gint64 *key = g_new (gint64, 1);
          *key = (gint64) r->index;
          g_hash_table_insert (pending, key, r);
        }
      if (!writer)
        continue;
      guint64 idx;
      char *text;
      while (remote_left > 0 && afd_sweep_mpi_poll_line (&idx, &text))
        {
          Result *rr = g_new0 (Result, 1);
          rr->index = idx;
          rr->line = text;
          gint64 *key = g_new (gint64, 1);
          *key = (gint64) idx;
          g_hash_table_insert (pending, key, rr);
          remote_left--;
          stats.computed++;
          /* Count the remote point's status from its line. */
          g_autoptr (cJSON) obj = cJSON_Parse (text);
          const cJSON *st = cJSON_GetObjectItemCaseSensitive (obj, "status");
          const char *s = cJSON_IsString (st) ? st->valuestring : "error";
          if (s[0] == 'o')
            stats.ok++;
          else if (s[0] == 'i')
            stats.infeasible++;
          else
            {
              stats.failed++;
              const cJSON *m = cJSON_GetObjectItemCaseSensitive (obj, "message");
              if (stats.first_error == NULL && cJSON_IsString (m))
                stats.first_error = g_strdup (m->valuestring);
            }
        }
      /* Write every line that is next in point order. */
      for (;;)
        {
          gint64 key = (gint64) next_write;
          Result *w = g_hash_table_lookup (pending, &key);
          if (w == NULL)
            break;
          off_t line_start = lseek (fd, 0, SEEK_END);
          if (!write_all (fd, w->line, strlen (w->line)))
            {
              int saved = errno;
              /* A full disk may have taken part of the line: drop it, so the file ends with a
               * complete line (issue #8; a resume would drop it too). */
              if (line_start >= 0 && ftruncate (fd, line_start) != 0)
                saved = saved != 0 ? saved : errno;
              g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: write failed: %s", opts->output,
                           g_strerror (saved != 0 ? saved : ENOSPC));
              ok = FALSE;
              break;
            }
          g_hash_table_remove (pending, &key);
          next_write++;
        }
      gint64 now = g_get_monotonic_time ();
      if (ok && !direct && now - last_sync >= G_USEC_PER_SEC)
        {
          fdatasync (fd);
          last_sync = now;
        }
      if (opts->progress && (now - last_draw >= G_USEC_PER_SEC / 10 || next_write == total))
        {
          draw_progress (next_write, total, stats.computed, (now - t0) / 1e6);
          last_draw = now;
        }
    }
  g_thread_pool_free (pool, !ok, TRUE);
  g_hash_table_unref (pending);
  g_async_queue_unref (work.results);
  if (writer)
    {
      if (ok && !direct && fdatasync (fd) != 0 && errno != EINVAL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: %s", opts->output, g_strerror (errno));
          ok = FALSE;
        }
      close (fd);
      if (opts->progress)
        fputc ('\n', stderr);
    }
  if (!ok)
    {
      afd_sweep_stats_clear (&stats);
      if (opts->size > 1)
        afd_sweep_mpi_abort ();
      return FALSE;
    }
  if (writer && opts->csv != NULL && !afd_sweep_csv_write (opts->output, opts->csv, error))
    {
      afd_sweep_stats_clear (&stats);
      return FALSE;
    }
  stats.wall_s = (g_get_monotonic_time () - t0) / 1e6;
  if (out_stats != NULL)
    *out_stats = stats;
  else
    afd_sweep_stats_clear (&stats);
  return TRUE;
}
