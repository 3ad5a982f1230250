/* SPDX-License-Identifier: MIT */
/*
 * commands.h - every afdsim subcommand, each defined in its own cli/cmd-*.c file; cli/main.c
 * puts them in the command table and runs them with an AfdCommandContext (cli/cli.h).
 */
#ifndef AFD_CLI_COMMANDS_H
#define AFD_CLI_COMMANDS_H

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "sim/llm.h"

G_BEGIN_DECLS

/* `afdsim bench engine` (cli/cmd-bench-engine.c): PHOLD benchmark of the event engine. */
extern const AfdCommand afd_command_bench_engine;
/* `afdsim demo` (cli/cmd-demo.c): synthetic two-GPU timeline. */
extern const AfdCommand afd_command_demo;
/* `afdsim run` and `afdsim compare` (cli/cmd-run.c): replay strategies, print metrics. */
extern const AfdCommand afd_command_run;
extern const AfdCommand afd_command_compare;
/* `afdsim bench strategies` (cli/cmd-bench-strategies.c): strategy replay benchmarks. */
extern const AfdCommand afd_command_bench_strategies;
/* `afdsim sweep` (cli/cmd-sweep.c): a grid of runs, JSONL/CSV, threads, MPI, resumable. */
extern const AfdCommand afd_command_sweep;
/* `afdsim serve` (cli/cmd-serve.c): request-level serving, TTFT/TPOT percentiles, goodput. */
extern const AfdCommand afd_command_serve;

/* `afdsim collective` (cli/cmd-collective.c): nccl-tests-style sweep of one collective. */
extern const AfdCommand afd_command_collective;
/* `afdsim bench network` (cli/cmd-bench-network.c): flow and analytic all-to-all benchmark. */
extern const AfdCommand afd_command_bench_network;
/* `afdsim gen-cluster` (cli/cmd-gen-cluster.c): writes a generated cluster description. */
extern const AfdCommand afd_command_gen_cluster;

/* `afdsim show model` (cli/cmd-show-model.c). */
extern const AfdCommand afd_command_show_model;
/* `afdsim cost` (cli/cmd-cost.c): price one operator with a cost model. */
extern const AfdCommand afd_command_cost;
/* `afdsim roofline` (cli/cmd-roofline.c). */
extern const AfdCommand afd_command_roofline;

/* `afdsim calibrate` (cli/cmd-calibrate.c). */
extern const AfdCommand afd_command_calibrate;
/* `afdsim fit` (cli/cmd-fit.c). */
extern const AfdCommand afd_command_fit;
/* `afdsim validate` and `afdsim run` with --backend (cli/cmd-validate.c); the latter hands
 * plain runs to afd_command_run. */
extern const AfdCommand afd_command_validate;
extern const AfdCommand afd_command_run_backend;

/**
 * afd_show_model_json:
 * @context_tokens: L for flops_per_token (0: the model's context_tokens)
 *
 * Returns: (transfer full): the object `show model --json` prints: params_total,
 *   params_active, params_mtp, flops_per_token, kv_bytes_per_token, context_tokens, the
 *   per-token breakdown and the architecture
 */
cJSON *afd_show_model_json (const AfdLlm *llm, guint64 context_tokens);

G_END_DECLS

#endif /* AFD_CLI_COMMANDS_H */
