/* SPDX-License-Identifier: MIT */
/*
 * show-model.h - the `afdsim show model` command (models/cmd-show-model.c).
 *
 * Declared here because sim/ may not know models/; sim/main.c puts it in the command table.
 */
#ifndef AFD_MODELS_SHOW_MODEL_H
#define AFD_MODELS_SHOW_MODEL_H

#include <cjson/cJSON.h>

#include "sim/cli.h"
#include "sim/llm.h"

G_BEGIN_DECLS

/* `afdsim show model NAME|FILE [--context L] [--json]`. */
extern const AfdCommand afd_command_show_model;

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

#endif /* AFD_MODELS_SHOW_MODEL_H */
