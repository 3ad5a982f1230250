/* SPDX-License-Identifier: MIT */
/*
 * cmd-cost.h - the `afdsim cost OP` command (models/cmd-cost.c): one operator priced by a
 * cost model. Declared here because sim/ may not know models/; sim/main.c puts it in the
 * command table.
 */
#ifndef AFD_MODELS_CMD_COST_H
#define AFD_MODELS_CMD_COST_H

#include "sim/cli.h"

G_BEGIN_DECLS

/* `afdsim cost gemm|grouped-gemm|attention|copy [OPTIONS]` (docs/user/cost.md). */
extern const AfdCommand afd_command_cost;

G_END_DECLS

#endif /* AFD_MODELS_CMD_COST_H */
