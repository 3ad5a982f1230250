/* SPDX-License-Identifier: MIT */
/*
 * registry.h - the deployment strategies shipped in models/: the class objects and the one
 * explicit table that lists them (STYLE §2.5). Only cli/main.c and tests include this header.
 */
#ifndef AFD_MODELS_REGISTRY_H
#define AFD_MODELS_REGISTRY_H

#include <glib.h>

#include "sim/strategy.h"

G_BEGIN_DECLS

/* TP x PP (x DP), Megatron-style (models/strategy-tppp.c). */
extern const AfdStrategyClass afd_strategy_tppp_class;
/* Wide expert parallelism, DeepSeek-style (models/strategy-ep.c). */
extern const AfdStrategyClass afd_strategy_ep_class;
/* MA Separation (models/strategy-masep.c). */
extern const AfdStrategyClass afd_strategy_masep_class;
/* Attention-FFN disaggregation with micro-batch ping-pong (models/strategy-afd.c). */
extern const AfdStrategyClass afd_strategy_afd_class;

/**
 * afd_strategy_lookup:
 *
 * Returns: (transfer none) (nullable): the class named @name, or %NULL with
 *   AFD_ERROR_UNKNOWN_PLUGIN listing the known names
 */
const AfdStrategyClass *afd_strategy_lookup (const char *name, GError **error);

/* Returns: (transfer none): the %NULL-terminated table of every strategy, in table order. */
const AfdStrategyClass *const *afd_strategy_list (void);

G_END_DECLS

#endif /* AFD_MODELS_REGISTRY_H */
