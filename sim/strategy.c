/* SPDX-License-Identifier: MIT */
/* strategy.c - the wrappers around AfdStrategyClass (see sim/strategy.h). */
#include "config.h"

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
  gpointer state = klass->create (params, error);
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
