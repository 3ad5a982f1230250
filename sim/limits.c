/* SPDX-License-Identifier: MIT */
/* limits.c - the simulator's resource budget (see sim/limits.h). */
#include "config.h"

#include "sim/error.h"
#include "sim/limits.h"

void
afd_limits_estimate (guint n_gpus, guint n_layers, guint n_moe_layers, guint micro_batches,
                     gboolean flow, AfdLimitsEstimate *out)
{
  double g = n_gpus, m = micro_batches > 0 ? micro_batches : 4;
  out->ops = 16.0 * g * n_layers * m;
  out->graph_bytes = out->ops * 400.0;
  out->pairs_bytes = 2.0 * n_moe_layers * m * g * g * 8.0;
  out->flows_bytes = flow ? m * g * g * 256.0 : 0.0;
  out->routing_draws = 0;
  out->routing_bytes = 0;
  out->total_bytes = out->graph_bytes + out->pairs_bytes + out->flows_bytes;
}

void
afd_limits_add_routing (AfdLimitsEstimate *e, double tokens, guint top_k, guint n_moe_layers)
{
  e->routing_draws = tokens * top_k * n_moe_layers;
  e->routing_bytes = e->routing_draws * AFD_LIMITS_ROUTING_DRAW_BYTES;
  e->total_bytes = e->graph_bytes + e->pairs_bytes + e->flows_bytes + e->routing_bytes;
}

gboolean
afd_limits_check (const AfdLimitsEstimate *e, double max_bytes, GError **error)
{
  if (e->total_bytes <= max_bytes)
    return TRUE;
  g_autoptr (GString) parts = g_string_new (NULL);
  g_string_append_printf (parts, "%.3g ops in the graph: %.3g GB; all-to-all pair matrices: "
                          "%.3g GB", e->ops, e->graph_bytes / 1e9, e->pairs_bytes / 1e9);
  if (e->flows_bytes > 0)
    g_string_append_printf (parts, "; flows in flight: %.3g GB", e->flows_bytes / 1e9);
  if (e->routing_bytes > 0)
    g_string_append_printf (parts, "; routing: %.3g draws, %.3g GB at %.0f B a draw",
                            e->routing_draws, e->routing_bytes / 1e9,
                            AFD_LIMITS_ROUTING_DRAW_BYTES);
  g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
               "the simulation would need about %.3g GB of memory (%s), more than the limit of "
               "%.3g GB; raise it with --max-memory or sim_memory_limit_bytes",
               e->total_bytes / 1e9, parts->str, max_bytes / 1e9);
  return FALSE;
}
