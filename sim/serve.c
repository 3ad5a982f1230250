/* SPDX-License-Identifier: MIT */
/*
 * serve.c - the serving simulation of serve.h (docs/models/serving.md).
 *
 * Metrics, per request i (arrival aᵢ, first token fᵢ, last token dᵢ, output Oᵢ tokens):
 *   TTFT = fᵢ − aᵢ,  TPOT = (dᵢ − fᵢ)/(Oᵢ − 1) (Oᵢ > 1),  E2E = dᵢ − aᵢ,
 *   ITL  = every gap between two consecutive tokens of one request (all requests pooled)
 * (the definitions of vLLM's benchmark_serving and DistServe, Zhong et al., OSDI 2024).
 * Percentiles are nearest-rank: the ⌈p·n⌉-th smallest. ITL percentiles come from a histogram
 * of log-spaced bins of ratio 1.001 (each reported as its bin's geometric centre: within
 * 0.05 %), so a long run keeps no per-token array. Throughput = requests / makespan (the last
 * completion); goodput = requests meeting both TTFT ≤ ttft_slo and TPOT ≤ tpot_slo /
 * makespan (DistServe's definition); per GPU over the GPUs the pools use. The mean number of
 * requests in the system L = ∫N(t)dt / makespan is integrated over the event timeline, apart
 * from the per-request records, so Little's law L = λW is a real check (tests/test-serve.c).
 */
#include "config.h"

#include "sim/serve.h"

#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/collective.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/json.h"
#include "sim/network.h"
#include "sim/trace.h"

#define ITL_RATIO 1.001
#define ITL_BINS 30000
#define MAX_SAMPLES 100000 /* series samples kept (docs/user/serve.md) */

typedef enum { POOL_COLOCATED = 0, POOL_PREFILL, POOL_DECODE } PoolRole;

typedef struct {
  AfdTime arrival_ns, admitted_ns, first_ns, last_ns, done_ns, kv_start_ns, kv_done_ns;
  AfdTime decode_admit_ns;
  guint32 prompt, output, prefilled, generated;
} Req;

typedef struct {
  guint32 req;
  guint32 tokens;   /* prompt tokens this step (prefill), or 0 for one decode token */
} Item;

typedef struct {
  PoolRole role;
  const char *name;
  AfdServeSteps *steps;
  guint64 kv_capacity, kv_used;
  GQueue waiting;     /* request indices (GUINT_TO_POINTER) */
  GArray *running;    /* guint32 */
  GArray *step;       /* Item: the step in flight */
  gboolean busy;
  AfdTime step_start_ns;
  guint64 n_steps;
  guint trace_pid;
} Pool;

struct _AfdServeResult {
  cJSON *json;
  Req *reqs;
  guint n;
};

typedef struct {
  const AfdServeConfig *cfg;
  AfdEngine *engine;
  guint32 h_arrival, h_step, h_kv;
  Req *reqs;
  guint n;
  Pool pools[2];
  guint n_pools;
  Pool *first, *last; /* where requests enter, where they decode */
  double kv_transfer_s_per_token; /* send/recv time per prompt token (analytic, linear fit) */
  double kv_latency_s;
  AfdTime kv_link_free_ns;
  guint64 finished, in_system, in_transfer;
  AfdTime last_event_ns;
  double area_in_system_ns; /* ∫N(t)dt */
  double area_queue_ns;
  double area_kv_ns;
  guint64 *itl_hist;
  guint64 itl_count;
  AfdTime sample_ns, next_sample_ns;
  GArray *s_time, *s_queue, *s_running, *s_kv;
  AfdTraceWriter *trace;
  guint traced_done;
  GError *error;
} Sim;

static guint64
queued (const Sim *s)
{
  guint64 q = s->in_transfer;
  for (guint p = 0; p < s->n_pools; p++)
    q += s->pools[p].waiting.length;
  return q;
}

static guint64
running (const Sim *s)
{
  guint64 r = 0;
  for (guint p = 0; p < s->n_pools; p++)
    r += s->pools[p].running->len;
  return r;
}

static double
kv_occupancy (const Sim *s)
{
  const Pool *p = s->last;
  return p->kv_capacity == G_MAXUINT64 ? 0 : (double) p->kv_used / (double) p->kv_capacity;
}

/* Accounts the time since the last event (state constant in between) and takes samples. */
static void
advance (Sim *s, AfdTime now)
{
  double dt = (double) (now - s->last_event_ns);
  s->area_in_system_ns += dt * (double) s->in_system;
  s->area_queue_ns += dt * (double) queued (s);
  s->area_kv_ns += dt * kv_occupancy (s);
  while (s->next_sample_ns <= now && s->s_time->len < MAX_SAMPLES)
    {
      double t = afd_time_to_seconds (s->next_sample_ns), q = (double) queued (s);
      double r = (double) running (s), k = kv_occupancy (s);
      g_array_append_val (s->s_time, t);
      g_array_append_val (s->s_queue, q);
      g_array_append_val (s->s_running, r);
      g_array_append_val (s->s_kv, k);
      s->next_sample_ns += s->sample_ns;
    }
  s->last_event_ns = now;
}

static void
itl_add (Sim *s, AfdTime gap_ns)
{
  guint bin = gap_ns <= 1 ? 0 : (guint) MIN (floor (log ((double) gap_ns) / log (ITL_RATIO)),
                                             (double) (ITL_BINS - 1));
  s->itl_hist[bin]++;
  s->itl_count++;
}

static double
itl_percentile (const Sim *s, double p)
{
  if (s->itl_count == 0)
    return 0;
  guint64 rank = (guint64) ceil (p * (double) s->itl_count), seen = 0;
  rank = MAX (rank, 1);
  for (guint b = 0; b < ITL_BINS; b++)
    {
      seen += s->itl_hist[b];
      if (seen >= rank)
        return pow (ITL_RATIO, b + 0.5) * 1e-9;
    }
  return 0;
}

static void
trace_request (Sim *s, guint i)
{
  const Req *r = &s->reqs[i];
  if (s->trace == NULL || i >= s->cfg->trace_requests)
    return;
  g_autofree char *tn = g_strdup_printf ("request %u (%u+%u tokens)", i, r->prompt, r->output);
  afd_trace_writer_thread_name (s->trace, 0, i, tn);
  afd_trace_writer_complete (s->trace, 0, i, "queued", "serve", r->arrival_ns,
                             r->admitted_ns - r->arrival_ns, NULL);
  afd_trace_writer_complete (s->trace, 0, i, "prefill", "serve", r->admitted_ns,
                             r->first_ns - r->admitted_ns, NULL);
  AfdTime dstart = r->first_ns;
  if (r->kv_done_ns > 0)
    {
      afd_trace_writer_complete (s->trace, 0, i, "kv transfer", "serve", r->kv_start_ns,
                                 r->kv_done_ns - r->kv_start_ns, NULL);
      if (r->decode_admit_ns > r->kv_done_ns)
        afd_trace_writer_complete (s->trace, 0, i, "decode queue", "serve", r->kv_done_ns,
                                   r->decode_admit_ns - r->kv_done_ns, NULL);
      dstart = r->decode_admit_ns;
    }
  if (r->done_ns > dstart)
    afd_trace_writer_complete (s->trace, 0, i, "decode", "serve", dstart, r->done_ns - dstart,
                               NULL);
  s->traced_done++;
}

static void
finish (Sim *s, guint i, AfdTime now)
{
  Req *r = &s->reqs[i];
  r->done_ns = now;
  s->finished++;
  s->in_system--;
  trace_request (s, i);
  if (s->cfg->progress != NULL && (s->finished % 4096 == 0 || s->finished == s->n))
    s->cfg->progress (s->finished, s->n, s->cfg->progress_data);
}

static void try_start (Sim *s, Pool *p);

/* Admits from @p's queue (FIFO, KV reserved for prompt + output, or prompt alone in a prefill
 * pool, which frees it when the transfer ends). */
static void
admit (Sim *s, Pool *p, AfdTime now)
{
  while (p->waiting.length > 0 && p->running->len < s->cfg->max_batch)
    {
      guint32 i = GPOINTER_TO_UINT (g_queue_peek_head (&p->waiting));
      Req *r = &s->reqs[i];
      guint64 need = p->role == POOL_PREFILL ? r->prompt : (guint64) r->prompt + r->output;
      if (p->kv_capacity != G_MAXUINT64 && p->kv_used + need > p->kv_capacity)
        break;
      g_queue_pop_head (&p->waiting);
      p->kv_used += need;
      if (p->role == POOL_DECODE)
        r->decode_admit_ns = now;
      else
        r->admitted_ns = now;
      g_array_append_val (p->running, i);
    }
}

/* Forms and starts @p's next step, if it is idle and has work. */
static void
try_start (Sim *s, Pool *p)
{
  if (p->busy || s->error != NULL)
    return;
  AfdTime now = afd_engine_now (s->engine);
  admit (s, p, now);
  g_array_set_size (p->step, 0);
  guint64 budget = s->cfg->max_tokens, n_d = 0, ctx_sum = 0, n_p = 0, pre_tokens = 0;
  gboolean any_prefill = FALSE;
  for (guint k = 0; k < p->running->len; k++)
    {
      const Req *r = &s->reqs[g_array_index (p->running, guint32, k)];
      any_prefill = any_prefill || (p->role != POOL_DECODE && r->prefilled < r->prompt);
    }
  gboolean chunked = p->role == POOL_COLOCATED && s->cfg->chunked_prefill;
  gboolean prefill_step = p->role == POOL_PREFILL || (!chunked && any_prefill);
  if (!prefill_step)
    for (guint k = 0; k < p->running->len && budget > 0; k++)
      {
        guint32 i = g_array_index (p->running, guint32, k);
        const Req *r = &s->reqs[i];
        if (r->prefilled < r->prompt || r->generated == 0)
          continue;
        Item it = { i, 0 };
        g_array_append_val (p->step, it);
        budget--;
        n_d++;
        ctx_sum += (guint64) r->prompt + r->generated;
      }
  if (prefill_step || chunked)
    for (guint k = 0; k < p->running->len && budget > 0; k++)
      {
        guint32 i = g_array_index (p->running, guint32, k);
        const Req *r = &s->reqs[i];
        if (r->prefilled >= r->prompt)
          continue;
        guint64 left = r->prompt - r->prefilled, take;
        if (chunked)
          take = MIN (left, budget);
        else if (left <= budget || n_p == 0)
          take = left; /* a whole prompt; the first one even beyond the budget */
        else
          break;
        Item it = { i, (guint32) take };
        g_array_append_val (p->step, it);
        budget -= MIN (take, budget);
        n_p++;
        pre_tokens += take;
      }
  if (p->step->len == 0)
    return;
  AfdTime t_ns = 0, part;
  if (n_d > 0)
    {
      if (!afd_serve_steps_time (p->steps, FALSE, n_d, (ctx_sum + n_d - 1) / n_d, &part,
                                 &s->error))
        {
          afd_engine_stop (s->engine);
          return;
        }
      t_ns += part;
    }
  if (n_p > 0)
    {
      if (!afd_serve_steps_time (p->steps, TRUE, n_p, (pre_tokens + n_p - 1) / n_p, &part,
                                 &s->error))
        {
          afd_engine_stop (s->engine);
          return;
        }
      t_ns += part;
    }
  if (t_ns > AFD_TIME_HORIZON_NS - now)
    {
      g_set_error (&s->error, AFD_ERROR, AFD_ERROR_LIMIT, "pool %s: a step would end after the "
                   "simulated-time horizon (%s)", p->name, AFD_TIME_HORIZON_TEXT);
      afd_engine_stop (s->engine);
      return;
    }
  p->busy = TRUE;
  p->step_start_ns = now;
  p->n_steps++;
  AfdEvent ev = { s->h_step, (guint32) (p - s->pools), 0 };
  afd_engine_schedule (s->engine, MAX (t_ns, (AfdTime) 1), &ev);
  if (s->trace != NULL && s->traced_done < MIN (s->cfg->trace_requests, s->n))
    {
      cJSON *args = cJSON_CreateObject ();
      afd_json_add_number (args, "decode_sequences", (double) n_d);
      afd_json_add_number (args, "prefill_sequences", (double) n_p);
      afd_json_add_number (args, "prefill_tokens", (double) pre_tokens);
      afd_trace_writer_complete (s->trace, p->trace_pid, 0,
                                 n_p > 0 && n_d > 0 ? "mixed step" : n_p > 0 ? "prefill step"
                                                                           : "decode step",
                                 "step", now, MAX (t_ns, (AfdTime) 1), args);
    }
}

static void
remove_running (Pool *p, guint32 i)
{
  for (guint k = 0; k < p->running->len; k++)
    if (g_array_index (p->running, guint32, k) == i)
      {
        g_array_remove_index (p->running, k);
        return;
      }
  g_assert_not_reached ();
}

static void
on_arrival (AfdEngine *engine, const AfdEvent *ev, gpointer data)
{
  Sim *s = data;
  advance (s, afd_engine_now (engine));
  s->in_system++;
  g_queue_push_tail (&s->first->waiting, GUINT_TO_POINTER (ev->target));
  try_start (s, s->first);
}

static void
on_kv_done (AfdEngine *engine, const AfdEvent *ev, gpointer data)
{
  Sim *s = data;
  AfdTime now = afd_engine_now (engine);
  advance (s, now);
  Req *r = &s->reqs[ev->target];
  r->kv_done_ns = now;
  s->in_transfer--;
  Pool *pre = &s->pools[0];
  pre->kv_used -= r->prompt;
  g_queue_push_tail (&s->last->waiting, GUINT_TO_POINTER (ev->target));
  try_start (s, s->last);
  try_start (s, pre);
}

static void
on_step (AfdEngine *engine, const AfdEvent *ev, gpointer data)
{
  Sim *s = data;
  AfdTime now = afd_engine_now (engine);
  advance (s, now);
  Pool *p = &s->pools[ev->target];
  p->busy = FALSE;
  for (guint k = 0; k < p->step->len; k++)
    {
      Item it = g_array_index (p->step, Item, k);
      Req *r = &s->reqs[it.req];
      if (it.tokens > 0)
        {
          r->prefilled += it.tokens;
          if (r->prefilled < r->prompt)
            continue;
          r->generated = 1;
          r->first_ns = r->last_ns = now;
          if (r->output == 1)
            {
              p->kv_used -= p->role == POOL_PREFILL ? r->prompt : (guint64) r->prompt + r->output;
              remove_running (p, it.req);
              finish (s, it.req, now);
            }
          else if (p->role == POOL_PREFILL)
            {
              /* The KV cache moves to the decode pool, one transfer at a time. */
              remove_running (p, it.req);
              AfdTime start = MAX (now, s->kv_link_free_ns);
              AfdTime dur = afd_time_from_seconds (s->kv_latency_s + s->kv_transfer_s_per_token
                                                                         * r->prompt);
              r->kv_start_ns = start;
              s->kv_link_free_ns = start + dur;
              s->in_transfer++;
              AfdEvent kv = { s->h_kv, it.req, 0 };
              afd_engine_schedule_at (s->engine, start + dur, &kv);
            }
          continue;
        }
      itl_add (s, now - r->last_ns);
      r->last_ns = now;
      r->generated++;
      if (r->generated == r->output)
        {
          p->kv_used -= (guint64) r->prompt + r->output;
          remove_running (p, it.req);
          finish (s, it.req, now);
        }
    }
  try_start (s, p);
  if (p->role == POOL_PREFILL)
    try_start (s, s->last);
}

void
afd_serve_result_free (AfdServeResult *self)
{
  if (self == NULL)
    return;
  cJSON_Delete (self->json);
  g_free (self->reqs);
  g_free (self);
}

cJSON *
afd_serve_result_json (AfdServeResult *self)
{
  return self->json;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* {"mean", "p50", "p90", "p99"} of @v (sorted here), seconds. */
static void
add_stats (cJSON *obj, const char *key, double *v, guint n)
{
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  if (n == 0)
    {
      cJSON_AddNullToObject (o, "mean");
      cJSON_AddNullToObject (o, "p50");
      cJSON_AddNullToObject (o, "p90");
      cJSON_AddNullToObject (o, "p99");
      return;
    }
  qsort (v, n, sizeof (double), cmp_double);
  double sum = 0;
  for (guint i = 0; i < n; i++)
    sum += v[i];
  afd_json_add_number (o, "mean", sum / n);
  static const double ps[] = { 0.50, 0.90, 0.99 };
  static const char *const names[] = { "p50", "p90", "p99" };
  for (guint k = 0; k < 3; k++)
    {
      guint rank = (guint) ceil (ps[k] * n);
      afd_json_add_number (o, names[k], v[MAX (rank, 1u) - 1]);
    }
}

static cJSON *
number_array (GArray *a)
{
  cJSON *arr = cJSON_CreateArray ();
  for (guint i = 0; i < a->len; i++)
    cJSON_AddItemToArray (arr, cJSON_CreateNumber (g_array_index (a, double, i)));
  return arr;
}

static void
pool_json (cJSON *pools, const Pool *p)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "role", p->name);
  cJSON_AddStringToObject (o, "cluster", afd_serve_steps_cluster (p->steps));
  cJSON_AddStringToObject (o, "strategy_description", afd_serve_steps_description (p->steps));
  afd_json_add_number (o, "gpus", afd_serve_steps_gpus (p->steps));
  if (p->kv_capacity == G_MAXUINT64)
    cJSON_AddNullToObject (o, "kv_capacity_tokens");
  else
    afd_json_add_number (o, "kv_capacity_tokens", (double) p->kv_capacity);
  afd_json_add_number (o, "min_batch_decode", (double) afd_serve_steps_min_batch (p->steps, FALSE));
  afd_json_add_number (o, "min_batch_prefill", (double) afd_serve_steps_min_batch (p->steps, TRUE));
  afd_json_add_number (o, "steps", (double) p->n_steps);
  afd_json_add_number (o, "step_simulations", afd_serve_steps_evaluations (p->steps));
  cJSON_AddItemToArray (pools, o);
}

/* Sets the KV link model: time(bytes) = latency + bytes/bandwidth fitted from two analytic
 * send/recv times (the model is affine in bytes for a point-to-point transfer). */
static gboolean
setup_kv_link (Sim *s, GError **error)
{
  const AfdServeConfig *cfg = s->cfg;
  g_autoptr (AfdCluster) cluster = afd_cluster_load (cfg->kv_cluster, error);
  if (cluster == NULL)
    return FALSE;
  guint n = afd_cluster_gpu_count (cluster);
  guint nodes = afd_cluster_node_count (cluster);
  if (n < 2)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "KV cluster %s has one GPU: no link to "
                   "carry the KV cache", afd_cluster_name (cluster));
      return FALSE;
    }
  guint group[2] = { 0, nodes > 1 ? afd_cluster_node_first_gpu (cluster, nodes - 1) : n - 1 };
  g_autoptr (AfdNetwork) net = afd_network_new (cluster);
  double per_token = afd_serve_steps_kv_bytes_per_token (s->last->steps) / cfg->kv_streams;
  double t[2];
  double tokens[2] = { 1024, 2048 };
  for (guint k = 0; k < 2; k++)
    {
      AfdCollective c = { .op = AFD_COLL_SEND_RECV, .group = group, .group_size = 2,
                          .bytes = per_token * tokens[k] };
      if (!afd_collective_time_analytic (net, &c, NULL, NULL, &t[k], error))
        {
          g_prefix_error (error, "KV transfer on %s: ", afd_cluster_name (cluster));
          return FALSE;
        }
    }
  s->kv_transfer_s_per_token = (t[1] - t[0]) / (tokens[1] - tokens[0]);
  s->kv_latency_s = MAX (0.0, t[0] - s->kv_transfer_s_per_token * tokens[0]);
  return TRUE;
}

static void
sim_clear (Sim *s)
{
  for (guint p = 0; p < s->n_pools; p++)
    {
      g_queue_clear (&s->pools[p].waiting);
      g_clear_pointer (&s->pools[p].running, g_array_unref);
      g_clear_pointer (&s->pools[p].step, g_array_unref);
    }
  g_clear_pointer (&s->engine, afd_engine_free);
  g_clear_pointer (&s->itl_hist, g_free);
  g_clear_pointer (&s->s_time, g_array_unref);
  g_clear_pointer (&s->s_queue, g_array_unref);
  g_clear_pointer (&s->s_running, g_array_unref);
  g_clear_pointer (&s->s_kv, g_array_unref);
  g_clear_pointer (&s->trace, afd_trace_writer_abort);
  g_clear_pointer (&s->reqs, g_free);
  g_clear_error (&s->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sim, sim_clear)

AfdServeResult *
afd_serve_run (const AfdServeConfig *cfg, const GArray *requests, GError **error)
{
  g_return_val_if_fail ((cfg->colocated != NULL) != (cfg->prefill != NULL && cfg->decode != NULL),
                        NULL);
  if (cfg->max_batch < 1 || cfg->max_tokens < 1)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "max batch and max tokens must be >= 1");
      return NULL;
    }
  if (cfg->colocated != NULL && cfg->chunked_prefill && cfg->max_tokens <= cfg->max_batch)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "chunked prefill needs max tokens (%" G_GUINT64_FORMAT ") > max batch (%"
                   G_GUINT64_FORMAT "): a full batch of decodes would leave no room for prompts",
                   cfg->max_tokens, cfg->max_batch);
      return NULL;
    }
  g_auto (Sim) s = { .cfg = cfg, .n = requests->len };
  s.reqs = g_new0 (Req, MAX (s.n, 1u));
  if (cfg->colocated != NULL)
    {
      s.pools[0] = (Pool) { .role = POOL_COLOCATED, .name = "colocated", .steps = cfg->colocated };
      s.n_pools = 1;
    }
  else
    {
      s.pools[0] = (Pool) { .role = POOL_PREFILL, .name = "prefill", .steps = cfg->prefill };
      s.pools[1] = (Pool) { .role = POOL_DECODE, .name = "decode", .steps = cfg->decode };
      s.n_pools = 2;
    }
  for (guint p = 0; p < s.n_pools; p++)
    {
      s.pools[p].kv_capacity = afd_serve_steps_kv_tokens (s.pools[p].steps);
      if (cfg->kv_limit_tokens > 0)
        s.pools[p].kv_capacity = MIN (s.pools[p].kv_capacity, cfg->kv_limit_tokens);
      s.pools[p].running = g_array_new (FALSE, FALSE, sizeof (guint32));
      s.pools[p].step = g_array_new (FALSE, FALSE, sizeof (Item));
      g_queue_init (&s.pools[p].waiting);
      s.pools[p].trace_pid = p + 1;
    }
  s.first = &s.pools[0];
  s.last = &s.pools[s.n_pools - 1];
  for (guint i = 0; i < s.n; i++)
    {
      const AfdServeRequest *q = &g_array_index (requests, AfdServeRequest, i);
      s.reqs[i] = (Req) { .arrival_ns = q->arrival_ns, .prompt = q->prompt_tokens,
                          .output = q->output_tokens };
      for (guint p = 0; p < s.n_pools; p++)
        {
          const Pool *pl = &s.pools[p];
          guint64 need = pl->role == POOL_PREFILL ? q->prompt_tokens
                                                  : (guint64) q->prompt_tokens + q->output_tokens;
          if (pl->kv_capacity != G_MAXUINT64 && need > pl->kv_capacity)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                           "request %u needs %" G_GUINT64_FORMAT " KV tokens (%u prompt + %u "
                           "output) but the %s pool holds %" G_GUINT64_FORMAT, i, need,
                           q->prompt_tokens, q->output_tokens, pl->name, pl->kv_capacity);
              return NULL;
            }
        }
    }
  if (cfg->prefill != NULL)
    {
      if (cfg->kv_cluster == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "disaggregated serving needs the KV "
                       "cluster");
          return NULL;
        }
      if (!setup_kv_link (&s, error))
        return NULL;
    }
  s.engine = afd_engine_new (0);
  s.h_arrival = afd_engine_register (s.engine, on_arrival, &s);
  s.h_step = afd_engine_register (s.engine, on_step, &s);
  s.h_kv = afd_engine_register (s.engine, on_kv_done, &s);
  s.itl_hist = g_new0 (guint64, ITL_BINS);
  s.s_time = g_array_new (FALSE, FALSE, sizeof (double));
  s.s_queue = g_array_new (FALSE, FALSE, sizeof (double));
  s.s_running = g_array_new (FALSE, FALSE, sizeof (double));
  s.s_kv = g_array_new (FALSE, FALSE, sizeof (double));
  AfdTime last_arrival = s.n > 0 ? s.reqs[s.n - 1].arrival_ns : 0;
  s.sample_ns = cfg->sample_interval_s > 0 ? afd_time_from_seconds (cfg->sample_interval_s)
                                           : MAX (last_arrival / 200, AFD_TIME_NS_PER_MS);
  s.next_sample_ns = 0;
  if (cfg->trace_path != NULL)
    {
      s.trace = afd_trace_writer_open (cfg->trace_path, error);
      if (s.trace == NULL)
        return NULL;
      afd_trace_writer_process_name (s.trace, 0, "requests");
      for (guint p = 0; p < s.n_pools; p++)
        {
          g_autofree char *nm = g_strdup_printf ("%s pool", s.pools[p].name);
          afd_trace_writer_process_name (s.trace, s.pools[p].trace_pid, nm);
        }
    }
  /* Every arrival is scheduled up front: the event queue orders them with the steps. */
  for (guint i = 0; i < s.n; i++)
    {
      AfdEvent ev = { s.h_arrival, i, 0 };
      afd_engine_schedule_at (s.engine, s.reqs[i].arrival_ns, &ev);
    }
  afd_engine_run (s.engine, G_MAXINT64, G_MAXUINT64);
  if (s.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&s.error));
      return NULL;
    }
  g_assert (s.finished == s.n);
  AfdTime end_ns = s.last_event_ns;
  double makespan_s = afd_time_to_seconds (end_ns);

  /* Results. */
  g_autofree double *ttft = g_new (double, MAX (s.n, 1u));
  g_autofree double *tpot = g_new (double, MAX (s.n, 1u));
  g_autofree double *e2e = g_new (double, MAX (s.n, 1u));
  guint n_tpot = 0, good = 0;
  double out_tokens = 0, sum_e2e = 0, sum_kv = 0;
  guint n_kv = 0;
  for (guint i = 0; i < s.n; i++)
    {
      const Req *r = &s.reqs[i];
      ttft[i] = afd_time_to_seconds (r->first_ns - r->arrival_ns);
      e2e[i] = afd_time_to_seconds (r->done_ns - r->arrival_ns);
      sum_e2e += e2e[i];
      out_tokens += r->output;
      double tp = r->output > 1 ? afd_time_to_seconds (r->done_ns - r->first_ns) / (r->output - 1)
                                : 0;
      if (r->output > 1)
        tpot[n_tpot++] = tp;
      if (ttft[i] <= cfg->ttft_slo_s && tp <= cfg->tpot_slo_s)
        good++;
      if (r->kv_done_ns > 0)
        {
          sum_kv += afd_time_to_seconds (r->kv_done_ns - r->kv_start_ns);
          n_kv++;
        }
    }
  guint gpus = 0;
  for (guint p = 0; p < s.n_pools; p++)
    gpus += afd_serve_steps_gpus (s.pools[p].steps);
  g_autoptr (AfdServeResult) res = g_new0 (AfdServeResult, 1);
  cJSON *root = res->json = cJSON_CreateObject ();
  cJSON *c = cJSON_AddObjectToObject (root, "config");
  cJSON_AddStringToObject (c, "mode", cfg->colocated != NULL ? "colocated" : "disaggregated");
  afd_json_add_number (c, "max_batch", (double) cfg->max_batch);
  afd_json_add_number (c, "max_tokens", (double) cfg->max_tokens);
  cJSON_AddBoolToObject (c, "chunked_prefill", cfg->colocated != NULL && cfg->chunked_prefill);
  afd_json_add_number (c, "ttft_slo_s", cfg->ttft_slo_s);
  afd_json_add_number (c, "tpot_slo_s", cfg->tpot_slo_s);
  cJSON_AddStringToObject (c, "preemption", "none (KV reserved for prompt + output at admission)");
  if (cfg->prefill != NULL)
    {
      afd_json_add_number (c, "kv_streams", cfg->kv_streams);
      afd_json_add_number (c, "kv_transfer_s_per_token", s.kv_transfer_s_per_token);
      afd_json_add_number (c, "kv_transfer_latency_s", s.kv_latency_s);
    }
  cJSON *pools = cJSON_AddArrayToObject (c, "pools");
  for (guint p = 0; p < s.n_pools; p++)
    pool_json (pools, &s.pools[p]);
  afd_json_add_number (c, "gpus", gpus);

  cJSON *o = cJSON_AddObjectToObject (root, "results");
  afd_json_add_number (o, "requests", s.n);
  afd_json_add_number (o, "makespan_s", makespan_s);
  afd_json_add_number (o, "offered_rate_per_s",
                       last_arrival > 0 ? s.n / afd_time_to_seconds (last_arrival) : 0);
  afd_json_add_number (o, "throughput_requests_per_s", makespan_s > 0 ? s.n / makespan_s : 0);
  afd_json_add_number (o, "output_tokens_per_s", makespan_s > 0 ? out_tokens / makespan_s : 0);
  afd_json_add_number (o, "goodput_requests_per_s", makespan_s > 0 ? good / makespan_s : 0);
  afd_json_add_number (o, "goodput_requests_per_s_per_gpu",
                       makespan_s > 0 && gpus > 0 ? good / makespan_s / gpus : 0);
  afd_json_add_number (o, "slo_attainment", s.n > 0 ? (double) good / s.n : 0);
  add_stats (o, "ttft_s", ttft, s.n);
  add_stats (o, "tpot_s", tpot, n_tpot);
  cJSON *itl = cJSON_AddObjectToObject (o, "itl_s");
  afd_json_add_number (itl, "samples", (double) s.itl_count);
  afd_json_add_number (itl, "p50", itl_percentile (&s, 0.50));
  afd_json_add_number (itl, "p90", itl_percentile (&s, 0.90));
  afd_json_add_number (itl, "p99", itl_percentile (&s, 0.99));
  add_stats (o, "e2e_s", e2e, s.n);
  afd_json_add_number (o, "mean_e2e_s", s.n > 0 ? sum_e2e / s.n : 0);
  afd_json_add_number (o, "mean_requests_in_system",
                       end_ns > 0 ? s.area_in_system_ns / (double) end_ns : 0);
  afd_json_add_number (o, "mean_queued_requests", end_ns > 0 ? s.area_queue_ns / (double) end_ns : 0);
  afd_json_add_number (o, "mean_kv_occupancy", end_ns > 0 ? s.area_kv_ns / (double) end_ns : 0);
  if (cfg->prefill != NULL)
    afd_json_add_number (o, "mean_kv_transfer_s", n_kv > 0 ? sum_kv / n_kv : 0);
  afd_json_add_number (o, "preemptions", 0);

  cJSON *ser = cJSON_AddObjectToObject (root, "series");
  afd_json_add_number (ser, "interval_s", afd_time_to_seconds (s.sample_ns));
  cJSON_AddItemToObject (ser, "time_s", number_array (s.s_time));
  cJSON_AddItemToObject (ser, "queued_requests", number_array (s.s_queue));
  cJSON_AddItemToObject (ser, "running_requests", number_array (s.s_running));
  cJSON_AddItemToObject (ser, "kv_occupancy", number_array (s.s_kv));

  if (s.trace != NULL && !afd_trace_writer_close (g_steal_pointer (&s.trace), error))
    return NULL;
  res->reqs = g_steal_pointer (&s.reqs);
  res->n = s.n;
  return g_steal_pointer (&res);
}

gboolean
afd_serve_result_write_csv (const AfdServeResult *self, const char *path, GError **error)
{
  g_autoptr (GString) out = g_string_new ("request,arrival_s,prompt_tokens,output_tokens,"
                                          "ttft_s,tpot_s,e2e_s,kv_transfer_s\n");
  for (guint i = 0; i < self->n; i++)
    {
      const Req *r = &self->reqs[i];
      double tpot = r->output > 1
                        ? afd_time_to_seconds (r->done_ns - r->first_ns) / (r->output - 1) : 0;
      double kv = r->kv_done_ns > 0 ? afd_time_to_seconds (r->kv_done_ns - r->kv_start_ns) : 0;
      char b[6][G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append_printf (out, "%u,%s,%u,%u,%s,%s,%s,%s\n", i,
                              g_ascii_formatd (b[0], sizeof b[0], "%.9f",
                                               afd_time_to_seconds (r->arrival_ns)),
                              r->prompt, r->output,
                              g_ascii_formatd (b[1], sizeof b[1], "%.9f",
                                               afd_time_to_seconds (r->first_ns - r->arrival_ns)),
                              g_ascii_formatd (b[2], sizeof b[2], "%.9f", tpot),
                              g_ascii_formatd (b[3], sizeof b[3], "%.9f",
                                               afd_time_to_seconds (r->done_ns - r->arrival_ns)),
                              g_ascii_formatd (b[4], sizeof b[4], "%.9f", kv));
    }
  return afd_file_write_atomic (path, out->str, out->len, error);
}
