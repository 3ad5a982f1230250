/* SPDX-License-Identifier: MIT */
/*
 * cost-model.h - the interface every compute cost backend implements (analytic roofline,
 * measured profile, real CUDA execution).
 *
 * A backend is a class struct (name, summary, optional probe, create, destroy, op_time,
 * optional describe and take_warnings); an instance pairs a class with the state its create()
 * returned. Callers never call through the class: the afd_cost_model_*() wrappers check arguments, handle the
 * optional members and check that every duration is finite and >= 0. Backends are pure: the
 * same op on the same GPU gives the same time; they keep no clock and touch no queue. The list
 * of backends lives only in backends/registry.c. Communication ops are priced by the network
 * model, not here (a backend may reject them with AFD_ERROR_CONFIG).
 */
#ifndef AFD_SIM_COST_MODEL_H
#define AFD_SIM_COST_MODEL_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/gpu-spec.h"
#include "sim/op.h"

G_BEGIN_DECLS

/* Where an op runs. */
typedef struct {
  const AfdGpuSpec *gpu; /* (transfer none): the GPU's limits; never NULL */
  guint gpu_index;       /* global GPU index in the cluster, for messages and profiles */
} AfdPlacement;

typedef struct _AfdCostModel AfdCostModel;

typedef struct {
  const char *name;    /* key used in experiment JSON: [a-z0-9-]+, unique */
  const char *summary; /* one line for `afdsim list`; names the formula */

  /* Optional (NULL = always available): can this backend work here (driver, GPU, build)?
   * Fails with AFD_ERROR_BACKEND_UNAVAILABLE saying why. */
  gboolean (*probe) (GError **error);

  /* Required. @params is the backend's JSON object, borrowed for the call only: validate it,
   * copy what you need, reject unknown keys (AFD_ERROR_CONFIG). */
  gpointer (*create) (const cJSON *params, GError **error);
  void (*destroy) (gpointer state);

  /* Required. Pure: same inputs -> same output; no clock, no queue, no globals. */
  gboolean (*op_time) (gpointer state, const AfdOp *op, const AfdPlacement *where,
                       double *out_seconds, GError **error);

  /* Optional (NULL = not provided): parameters for the result provenance block, as text. */
  void (*describe) (gpointer state, GString *out);

  /* Optional (NULL = never warns): moves the warnings gathered since the last call (e.g. a
   * profile lookup outside the measured grid, one per op shape) to @out as strings, in the
   * order they arose, and returns how many shapes were affected in total since creation.
   * The only state a backend may change in op_time; it never changes a price. */
  guint (*take_warnings) (gpointer state, GPtrArray *out);
} AfdCostModelClass;

/**
 * afd_cost_model_probe:
 *
 * Returns: %TRUE when @klass has no probe or its probe succeeds; otherwise %FALSE with
 *   AFD_ERROR_BACKEND_UNAVAILABLE
 */
gboolean afd_cost_model_probe (const AfdCostModelClass *klass, GError **error);

/**
 * afd_cost_model_new:
 * @klass: (transfer none): a registered class (static lifetime)
 * @params: (nullable): the backend's JSON parameters; %NULL means {}
 *
 * Probes, then creates.
 *
 * Returns: (transfer full) (nullable): the instance, or %NULL with the probe's or create's
 *   error (prefixed with "cost model NAME: ")
 */
AfdCostModel *afd_cost_model_new (const AfdCostModelClass *klass, const cJSON *params,
                                  GError **error);

/**
 * afd_cost_model_op_time:
 * @op: (transfer none): the op to price
 * @where: (transfer none): the GPU it runs on
 * @out_seconds: (out): duration in seconds, written only on success
 *
 * Returns: %FALSE with the backend's error, or AFD_ERROR_BACKEND_FAILED when the backend
 *   returned a NaN, infinite or negative duration
 */
gboolean afd_cost_model_op_time (AfdCostModel *self, const AfdOp *op, const AfdPlacement *where,
                                 double *out_seconds, GError **error);

/* Appends "name: parameters" to @out (just the name when the class has no describe). */
void afd_cost_model_describe (AfdCostModel *self, GString *out);

/**
 * afd_cost_model_take_warnings:
 * @out: (element-type utf8): receives the new warnings (g_free them), each once
 *
 * Returns: the number of distinct warned-about op shapes since the instance was created
 *   (0 for a class without take_warnings)
 */
guint afd_cost_model_take_warnings (AfdCostModel *self, GPtrArray *out);

/* Returns: (transfer none): the instance's class. */
const AfdCostModelClass *afd_cost_model_get_class (AfdCostModel *self);

/* Returns: (transfer none): the class name. */
const char *afd_cost_model_get_name (AfdCostModel *self);

void afd_cost_model_free (AfdCostModel *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdCostModel, afd_cost_model_free)

G_END_DECLS

#endif /* AFD_SIM_COST_MODEL_H */
