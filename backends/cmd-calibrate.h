/* SPDX-License-Identifier: MIT */
/*
 * cmd-calibrate.h - the `afdsim calibrate` command (backends/cmd-calibrate.c).
 *
 * Declared here, not in sim/commands.h, because the command lives in backends/; only
 * sim/main.c (the composition root) includes this header.
 */
#ifndef AFD_BACKENDS_CMD_CALIBRATE_H
#define AFD_BACKENDS_CMD_CALIBRATE_H

#include "sim/cli.h"

G_BEGIN_DECLS

/* `afdsim calibrate [--gpus N] [--out FILE] [--quick] [--repetitions N] [--warmup N]
 * [--timeout S]`: measures this machine's GPUs into a profile JSON (written atomically). */
extern const AfdCommand afd_command_calibrate;

G_END_DECLS

#endif /* AFD_BACKENDS_CMD_CALIBRATE_H */
