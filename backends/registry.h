/* SPDX-License-Identifier: MIT */
/*
 * registry.h - the list of compute cost backends (sim/cost-model.h) and their lookup.
 *
 * The one place that names every backend class: backends/registry.c holds a NULL-terminated
 * const table. Only cli/main.c (the composition root) and tests include this header.
 */
#ifndef AFD_BACKENDS_REGISTRY_H
#define AFD_BACKENDS_REGISTRY_H

#include <glib.h>

#include "sim/cost-model.h"

G_BEGIN_DECLS

/* The analytic roofline backend (backends/analytic.c, docs/models/roofline.md). */
extern const AfdCostModelClass afd_cost_model_analytic_class;

/**
 * afd_cost_model_lookup:
 * @name: a backend name ("analytic")
 *
 * Returns: (transfer none) (nullable): the class, or %NULL with AFD_ERROR_UNKNOWN_PLUGIN
 *   listing the known names
 */
const AfdCostModelClass *afd_cost_model_lookup (const char *name, GError **error);

/**
 * afd_cost_model_list:
 *
 * Returns: (transfer none) (array zero-terminated=1): every registered class, in table order
 */
const AfdCostModelClass *const *afd_cost_model_list (void);

G_END_DECLS

#endif /* AFD_BACKENDS_REGISTRY_H */
