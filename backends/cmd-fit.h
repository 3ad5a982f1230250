/* SPDX-License-Identifier: MIT */
/*
 * cmd-fit.h - the `afdsim fit` command (backends/cmd-fit.c). Declared here because sim/ may
 * not know backends/; sim/main.c puts it in the command table.
 */
#ifndef AFD_BACKENDS_CMD_FIT_H
#define AFD_BACKENDS_CMD_FIT_H

#include "sim/cli.h"

G_BEGIN_DECLS

/* `afdsim fit --profile NAME|FILE [--gpu G] [--fit-grouped] [--json FILE] [--write FILE]`. */
extern const AfdCommand afd_command_fit;

G_END_DECLS

#endif /* AFD_BACKENDS_CMD_FIT_H */
