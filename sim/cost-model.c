/* SPDX-License-Identifier: MIT */
/*
 * cost-model.c - the wrappers around AfdCostModelClass (sim/cost-model.h).
 *
 * The one place that checks a backend's arguments and results: a missing op or GPU is a
 * programmer error (g_return_val_if_fail); a NaN, infinite or negative duration from a
 * backend is AFD_ERROR_BACKEND_FAILED naming the backend and the op. Knows no backend.
 */
#include "config.h"

#include <math.h>

#include "sim/cost-model.h"
#include "sim/error.h"
#include "sim/json.h"

struct _AfdCostModel
{
  const AfdCostModelClass *klass;
  gpointer state;
};

gboolean
afd_cost_model_probe (const AfdCostModelClass *klass, GError **error)
{
  g_return_val_if_fail (klass != NULL, FALSE);
  if (klass->probe == NULL)
    return TRUE;
  return klass->probe (error);
}

AfdCostModel *
afd_cost_model_new (const AfdCostModelClass *klass, const cJSON *params, GError **error)
{
  g_return_val_if_fail (klass != NULL && klass->create != NULL && klass->destroy != NULL
                            && klass->op_time != NULL,
                        NULL);
  g_autoptr (cJSON) empty = NULL;
  if (params == NULL)
    params = empty = cJSON_CreateObject ();
  if (!afd_cost_model_probe (klass, error))
    {
      g_prefix_error (error, "cost model %s: ", klass->name);
      return NULL;
    }
  gpointer state = klass->create (params, error);
  if (state == NULL)
    {
      g_prefix_error (error, "cost model %s: ", klass->name);
      return NULL;
    }
  AfdCostModel *self = g_new0 (AfdCostModel, 1);
  self->klass = klass;
  self->state = state;
  return self;
}

gboolean
afd_cost_model_op_time (AfdCostModel *self, const AfdOp *op, const AfdPlacement *where,
                        double *out_seconds, GError **error)
{
  g_return_val_if_fail (self != NULL && op != NULL && where != NULL && where->gpu != NULL
                            && out_seconds != NULL,
                        FALSE);
  double seconds = NAN;
  if (!self->klass->op_time (self->state, op, where, &seconds, error))
    return FALSE;
  if (!isfinite (seconds) || seconds < 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                   "cost model %s: op %s on GPU %u: duration %g s is not finite and >= 0",
                   self->klass->name, op->name, where->gpu_index, seconds);
      return FALSE;
    }
  *out_seconds = seconds;
  return TRUE;
}

void
afd_cost_model_describe (AfdCostModel *self, GString *out)
{
  g_return_if_fail (self != NULL && out != NULL);
  g_string_append (out, self->klass->name);
  if (self->klass->describe != NULL)
    {
      g_string_append (out, ": ");
      self->klass->describe (self->state, out);
    }
}

guint
afd_cost_model_take_warnings (AfdCostModel *self, GPtrArray *out)
{
  g_return_val_if_fail (self != NULL && out != NULL, 0);
  if (self->klass->take_warnings == NULL)
    return 0;
  return self->klass->take_warnings (self->state, out);
}

const AfdCostModelClass *
afd_cost_model_get_class (AfdCostModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->klass;
}

const char *
afd_cost_model_get_name (AfdCostModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->klass->name;
}

void
afd_cost_model_free (AfdCostModel *self)
{
  if (self == NULL)
    return;
  self->klass->destroy (self->state);
  g_free (self);
}
