/* SPDX-License-Identifier: MIT */
/*
 * serve.h - request-level serving simulation: arrivals, continuous batching, KV capacity,
 * chunked prefill, prefill/decode disaggregation, SLOs (docs/user/serve.md,
 * docs/models/serving.md).
 *
 * The serving events (arrivals, step completions, KV-cache transfers) run on the engine's
 * event queue (sim/engine.h), ordered by (time_ns, sequence) like every other event. Step
 * times come from each pool's step-time cache (sim/serve-steps.h), i.e. from the iteration
 * simulator. The scheduler, per pool:
 *   admission   first come, first served from the pool's queue while the running set is below
 *               max_batch and the pool's KV cache can reserve the request's prompt + output
 *               tokens (a request that does not fit waits, and so does everything behind it);
 *               reserved KV is never taken back, so nothing is ever preempted
 *   co-located  with chunked prefill (Sarathi-Serve): every step decodes one token of each
 *               running request that has its first token, and fills the rest of the
 *               max_tokens budget with prompt chunks, oldest admission first; without it
 *               (vLLM's default scheduler): a step is either a prefill of whole prompts (as many
 *               as fit max_tokens, at least one) when some admitted request still needs one, or
 *               a decode of every running request
 *   prefill     (disaggregated) prefill steps of whole prompts as above; the KV cache then moves
 *               to the decode pool over the KV link (one transfer at a time, first come first
 *               served), timed by the network model as a send/recv of prompt·kv_bytes_per_token
 *               / kv_streams bytes between the two pools' first GPUs on the KV cluster
 *   decode      (disaggregated) decode steps of every running request
 * A step that mixes prompt chunks and decodes costs T_prefill(n_p, ⌈chunk tokens/n_p⌉) +
 * T_decode(n_d, ⌈mean context⌉) (the two parts' weight reads are not fused: an upper bound).
 * Nothing here prints; progress goes through a callback.
 */
#ifndef AFD_SIM_SERVE_H
#define AFD_SIM_SERVE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/serve-steps.h"
#include "sim/serve-workload.h"

G_BEGIN_DECLS

/* Called every few thousand finished requests and at the end. */
typedef void (*AfdServeProgressFunc) (guint64 done, guint64 total, gpointer user_data);

typedef struct {
  AfdServeSteps *colocated; /* (transfer none) (nullable): the one pool, or NULL with the two */
  AfdServeSteps *prefill;   /* (transfer none) (nullable): disaggregated prefill pool */
  AfdServeSteps *decode;    /* (transfer none) (nullable): disaggregated decode pool */
  const char *kv_cluster;   /* (nullable) disaggregated: the cluster whose network carries the
                               KV cache between the pools (its GPU 0 and its first GPU of the
                               last node); NULL: the decode pool's cluster */
  guint kv_streams;         /* disaggregated: parallel streams a transfer is split over, >= 1 */
  guint64 max_batch;        /* running requests per pool, >= 1 */
  guint64 max_tokens;       /* new tokens per step (prompt chunks + decodes), >= 1 */
  gboolean chunked_prefill; /* co-located only */
  guint64 kv_limit_tokens;  /* caps every pool's KV capacity (tokens); 0: the memory model's */
  double ttft_slo_s, tpot_slo_s; /* > 0 */
  double sample_interval_s; /* series sampling, > 0; 0: the last arrival / 200 */
  const char *trace_path;   /* (nullable) Chrome trace of the first trace_requests requests */
  guint trace_requests;
  AfdServeProgressFunc progress;
  gpointer progress_data;
} AfdServeConfig;

typedef struct _AfdServeResult AfdServeResult;

/**
 * afd_serve_run:
 * @requests: (element-type AfdServeRequest): in arrival order
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with AFD_ERROR_CONFIG (a request
 *   that can never fit a pool's KV cache, bad limits), a step-time error, or AFD_ERROR_IO (the
 *   trace)
 */
AfdServeResult *afd_serve_run (const AfdServeConfig *config, const GArray *requests,
                               GError **error);

void afd_serve_result_free (AfdServeResult *self);

/* Returns: (transfer none): {"config": …, "results": …, "series": …} (docs/user/serve.md). */
cJSON *afd_serve_result_json (AfdServeResult *self);

/**
 * afd_serve_result_write_csv:
 *
 * Writes one row per request (docs/user/serve.md, "Per-request CSV"), atomically.
 *
 * Returns: %FALSE with AFD_ERROR_IO
 */
gboolean afd_serve_result_write_csv (const AfdServeResult *self, const char *path,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdServeResult, afd_serve_result_free)

G_END_DECLS

#endif /* AFD_SIM_SERVE_H */
