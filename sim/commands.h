/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the subcommands implemented in sim/ (engine, network, tracing).
 *
 * Each is defined in its own sim/cmd-*.c file; sim/main.c puts them in the command table.
 * Commands implemented in models/ and backends/ are declared in those folders' registry.h.
 */
#ifndef AFD_SIM_COMMANDS_H
#define AFD_SIM_COMMANDS_H

#include "sim/cli.h"

G_BEGIN_DECLS


G_END_DECLS

#endif /* AFD_SIM_COMMANDS_H */
