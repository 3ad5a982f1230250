/* SPDX-License-Identifier: MIT */
/*
 * cmd-validate.h - `afdsim validate` and `afdsim run --backend cuda` (backends/cmd-validate.c).
 *
 * Declared here, not in sim/commands.h, because the commands live in backends/; only
 * sim/main.c (the composition root) includes this header.
 */
#ifndef AFD_BACKENDS_CMD_VALIDATE_H
#define AFD_BACKENDS_CMD_VALIDATE_H

#include "sim/cli.h"

G_BEGIN_DECLS

/* `afdsim validate [flags of run] [--costs SPEC] [--warmup N] [--iterations N] [--timeout S]
 * [--json FILE] [--trace FILE] [EXPERIMENT.json]`: runs each strategy run on this host's GPUs
 * and in simulation (analytic costs and SPEC, default profile:H200) and prints per-op and
 * end-to-end error. */
extern const AfdCommand afd_command_validate;

/* `afdsim run`: the simulator's run command (sim/cmd-run.c), or, with `--backend cuda`, the
 * strategy's operator graph executed on this host's GPUs (`--backend sim` is the default). */
extern const AfdCommand afd_command_run_backend;

G_END_DECLS

#endif /* AFD_BACKENDS_CMD_VALIDATE_H */
