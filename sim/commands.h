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
#include "sim/strategy.h"

G_BEGIN_DECLS

/* `afdsim bench engine` (sim/cmd-bench-engine.c): PHOLD benchmark of the event engine. */
extern const AfdCommand afd_command_bench_engine;
/* `afdsim demo` (sim/cmd-demo.c): synthetic two-GPU timeline; the default command. */
extern const AfdCommand afd_command_demo;
/* `afdsim run` and `afdsim compare` (sim/cmd-run.c): replay strategies, print metrics. */
extern const AfdCommand afd_command_run;
extern const AfdCommand afd_command_compare;

/* `afdsim collective` (sim/cmd-collective.c): nccl-tests-style sweep of one collective. */
extern const AfdCommand afd_command_collective;
/* `afdsim bench network` (sim/cmd-bench-network.c): flow and analytic all-to-all benchmark. */
extern const AfdCommand afd_command_bench_network;
/* `afdsim gen-cluster` (sim/cmd-gen-cluster.c): writes a generated cluster description. */
extern const AfdCommand afd_command_gen_cluster;

/* Registers the registry lookups run/compare use (sim/main.c calls it before any command). */
void afd_cmd_run_set_plugins (const AfdPlugins *plugins);
/* Returns: (transfer none) (nullable): the lookups registered with afd_cmd_run_set_plugins. */
const AfdPlugins *afd_cmd_run_plugins (void);
/* `afdsim bench strategies` (sim/cmd-bench-strategies.c): strategy replay benchmarks. */
extern const AfdCommand afd_command_bench_strategies;
/* `afdsim sweep` (sim/cmd-sweep.c): a grid of runs, JSONL/CSV, threads, MPI, resumable. */
extern const AfdCommand afd_command_sweep;
/* `afdsim serve` (sim/cmd-serve.c): request-level serving, TTFT/TPOT percentiles, goodput. */
extern const AfdCommand afd_command_serve;
/* Registers the registry lookups sweep uses (sim/main.c calls it before any command). */
void afd_cmd_sweep_set_plugins (const AfdPlugins *plugins);

G_END_DECLS

#endif /* AFD_SIM_COMMANDS_H */
