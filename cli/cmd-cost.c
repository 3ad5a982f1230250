/* SPDX-License-Identifier: MIT */
/*
 * cmd-cost.c - `afdsim cost OP`: price one operator with any cost model, the way
 * `afdsim collective` prices one collective.
 *
 * OP is gemm, grouped-gemm, attention or copy. The command builds one AfdOp (FLOPs, HBM bytes
 * and shape; formulas below and in docs/user/cost.md), prices it with the cost model of
 * --costs on the GPU of --gpu, and prints the time, the achieved FLOP/s and bytes/s, their
 * fractions of the GPU's peaks and what bounds the op:
 *   roofline_compute_s = FLOPs / peak(dtype)       roofline_memory_s = bytes / HBM bandwidth
 *   compute_fraction = FLOPs / time / peak(dtype)  memory_fraction = bytes / time / HBM bw
 *   bound = the resource with the larger fraction ("compute" or "memory"), or "latency" when
 *           both are below 10 % (launch, fixed kernel cost or tiny tiles dominate).
 * Op formulas (models/cost-ops.h; e = bytes per element, outputs of fp8/fp4 math are bf16):
 *   gemm          FLOPs 2·m·n·k·count; bytes count·(m·k·e + k·n·e + m·n·e_out)
 *   grouped-gemm  per expert e with mₑ > 0 tokens, count GEMMs mₑ×n×k: FLOPs 2·Σmₑ·n·k·count;
 *                 bytes count·(used·n·k·e + Σmₑ·k·e + Σmₑ·n·e_out). --gate-up fused prices the
 *                 gate and up projections as one GEMM of width 2n (count 1), split as two of
 *                 width n (count 2). A distribution (zipf:S, hot:K, ...) with --total T gives
 *                 expert e round(T·pₑ) tokens (largest remainder, so the sum is T).
 *   attention     the attention core of models/ops.c (afd_ops_attention_block), from a model
 *                 file (--model) or from an explicit shape (--attention mha|gqa|mla ...)
 *   copy          FLOPs 0; bytes read B + written B (an elementwise copy of B bytes)
 * Out-of-grid profile lookups are printed once per shape as "warning:" lines on stderr
 * (afd_cost_model_take_warnings). --json writes one object, atomically, units in its keys.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "models/cost-ops.h"
#include "models/ops.h"
#include "models/routing.h"
#include "sim/cost-model.h"
#include "sim/data-dir.h"
#include "sim/error.h"
#include "sim/files.h"
#include "sim/json.h"
#include "sim/llm.h"

#define MAX_DIM G_GINT64_CONSTANT (1 << 24)
#define MAX_EXPERTS 65536
#define MAX_TOKENS (G_GINT64_CONSTANT (1) << 32)
/* Below this fraction of both peaks an op is called latency-bound. */
#define LATENCY_FRACTION 0.1

typedef enum { OP_GEMM, OP_GROUPED, OP_ATTENTION, OP_COPY, OP_COUNT } CostOp;
static const char *const op_names[] = { "gemm", "grouped-gemm", "attention", "copy" };

/* The command's flags as text; parsed per op so each bad value gets one message. */
typedef struct {
  char *gpu, *costs, *json, *dtype;
  char *m, *n, *k, *count;
  char *experts, *tokens, *total, *gate_up;
  char *model, *phase, *attention, *heads, *kv_heads, *head_dim, *v_head_dim, *kv_lora_rank,
      *rope_dim, *nope_dim, *batch, *context, *cached;
  char *bytes;
} Flags;

static void
flags_clear (Flags *f)
{
  char **fields[] = { &f->gpu,       &f->costs,      &f->json,         &f->dtype,
                      &f->m,         &f->n,          &f->k,            &f->count,
                      &f->experts,   &f->tokens,     &f->total,        &f->gate_up,
                      &f->model,     &f->phase,      &f->attention,    &f->heads,
                      &f->kv_heads,  &f->head_dim,   &f->v_head_dim,   &f->kv_lora_rank,
                      &f->rope_dim,  &f->nope_dim,   &f->batch,        &f->context,
                      &f->cached,    &f->bytes };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_clear_pointer (fields[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Flags, flags_clear)

/* A flag that only some ops take; @ops is a bit mask of CostOp. */
typedef struct {
  const char *name;
  char *const *value;
  guint ops;
} OpFlag;

#define ON(op) (1u << (op))

/* Rejects a flag given for an op that does not use it. */
static gboolean
check_applicable (const Flags *f, CostOp op, GError **error)
{
  const OpFlag table[] = {
    { "--m", &f->m, ON (OP_GEMM) },
    { "--n", &f->n, ON (OP_GEMM) | ON (OP_GROUPED) },
    { "--k", &f->k, ON (OP_GEMM) | ON (OP_GROUPED) },
    { "--count", &f->count, ON (OP_GEMM) },
    { "--dtype", &f->dtype, ON (OP_GEMM) | ON (OP_GROUPED) },
    { "--experts", &f->experts, ON (OP_GROUPED) },
    { "--tokens", &f->tokens, ON (OP_GROUPED) },
    { "--total", &f->total, ON (OP_GROUPED) },
    { "--gate-up", &f->gate_up, ON (OP_GROUPED) },
    { "--model", &f->model, ON (OP_ATTENTION) },
    { "--phase", &f->phase, ON (OP_ATTENTION) },
    { "--attention", &f->attention, ON (OP_ATTENTION) },
    { "--heads", &f->heads, ON (OP_ATTENTION) },
    { "--kv-heads", &f->kv_heads, ON (OP_ATTENTION) },
    { "--head-dim", &f->head_dim, ON (OP_ATTENTION) },
    { "--v-head-dim", &f->v_head_dim, ON (OP_ATTENTION) },
    { "--kv-lora-rank", &f->kv_lora_rank, ON (OP_ATTENTION) },
    { "--rope-dim", &f->rope_dim, ON (OP_ATTENTION) },
    { "--nope-dim", &f->nope_dim, ON (OP_ATTENTION) },
    { "--batch", &f->batch, ON (OP_ATTENTION) },
    { "--context", &f->context, ON (OP_ATTENTION) },
    { "--cached", &f->cached, ON (OP_ATTENTION) },
    { "--bytes", &f->bytes, ON (OP_COPY) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (*table[i].value != NULL && (table[i].ops & ON (op)) == 0)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: not an option of 'cost %s'",
                     table[i].name, op_names[op]);
        return FALSE;
      }
  return TRUE;
}

/* Requires a flag; parses it as an integer in [min, max]. */
static gboolean
need_int (const char *flag, const char *text, gint64 min, gint64 max, gint64 *out,
          const char *op, GError **error)
{
  if (text == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "cost %s: %s is required", op, flag);
      return FALSE;
    }
  return afd_cli_parse_int (flag, text, min, max, out, error);
}

static gboolean
parse_dtype (const char *text, AfdDtype *out, GError **error)
{
  if (text != NULL && !afd_dtype_from_name (text, out))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--dtype: unknown dtype '%s' (fp32, tf32, bf16, fp16, fp8, fp4)", text);
      return FALSE;
    }
  return TRUE;
}

static AfdOp *
build_gemm (const Flags *f, GString *shape, GError **error)
{
  gint64 m, n, k, count = 1;
  AfdDtype dtype = AFD_DTYPE_BF16;
  if (!need_int ("--m", f->m, 1, MAX_TOKENS, &m, "gemm", error)
      || !need_int ("--n", f->n, 1, MAX_DIM, &n, "gemm", error)
      || !need_int ("--k", f->k, 1, MAX_DIM, &k, "gemm", error)
      || !afd_cli_parse_int ("--count", f->count, 1, 1 << 20, &count, error)
      || !parse_dtype (f->dtype, &dtype, error))
    return NULL;
  AfdOp *op = afd_cost_ops_gemm ((guint64) m, (guint64) n, (guint64) k, (guint64) count, dtype);
  g_string_printf (shape, "%s m=%" G_GINT64_FORMAT " n=%" G_GINT64_FORMAT " k=%" G_GINT64_FORMAT,
                   afd_dtype_name (dtype), m, n, k);
  if (count > 1)
    g_string_append_printf (shape, " count=%" G_GINT64_FORMAT, count);
  return op;
}

/* Parses --tokens: a number (every expert), a comma list (one per expert) or a routing
 * distribution with --total. Fills @out_tokens (length *@inout_experts). */
static guint64 *
parse_tokens (const Flags *f, gint64 *inout_experts, GString *how, GError **error)
{
  const char *text = f->tokens;
  if (text == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost grouped-gemm: --tokens is required (a number per expert, a list "
                   "a,b,c, or a distribution such as zipf:1.2 with --total)");
      return NULL;
    }
  gboolean numeric = g_ascii_isdigit (text[0]);
  if (numeric && f->total != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--total: only with a distribution in --tokens (got counts '%s')", text);
      return NULL;
    }
  if (numeric && strchr (text, ',') != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (text, ",", -1);
      guint np = g_strv_length (parts);
      if (*inout_experts > 0 && (guint) *inout_experts != np)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--tokens: %u counts given but --experts is %" G_GINT64_FORMAT, np,
                       *inout_experts);
          return NULL;
        }
      if (np > MAX_EXPERTS)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                       "--tokens: %u counts, at most %d experts", np, MAX_EXPERTS);
          return NULL;
        }
      g_autofree guint64 *tokens = g_new0 (guint64, np);
      for (guint i = 0; i < np; i++)
        {
          gint64 v;
          g_autofree char *flag = g_strdup_printf ("--tokens (expert %u)", i);
          if (!afd_cli_parse_int (flag, parts[i], 0, MAX_TOKENS, &v, error))
            return NULL;
          tokens[i] = (guint64) v;
        }
      *inout_experts = np;
      g_string_assign (how, "list");
      return g_steal_pointer (&tokens);
    }
  if (*inout_experts <= 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost grouped-gemm: --experts is required unless --tokens lists the counts");
      return NULL;
    }
  guint n = (guint) *inout_experts;
  g_autofree guint64 *tokens = g_new0 (guint64, n);
  if (numeric)
    {
      gint64 v;
      if (!afd_cli_parse_int ("--tokens", text, 0, MAX_TOKENS, &v, error))
        return NULL;
      for (guint e = 0; e < n; e++)
        tokens[e] = (guint64) v;
      g_string_assign (how, "balanced");
      return g_steal_pointer (&tokens);
    }
  gint64 total;
  if (f->total == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--tokens: the distribution '%s' needs --total (tokens over all experts)",
                   text);
      return NULL;
    }
  if (!afd_cli_parse_int ("--total", f->total, 0, MAX_TOKENS, &total, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (AfdRouting) routing = afd_routing_new (text, n, 1, &local);
  if (routing == NULL)
    {
      /* A bad distribution is a bad flag value (exit 2), an unreadable file an I/O error. */
      g_set_error (error, AFD_ERROR, local->code == AFD_ERROR_IO ? AFD_ERROR_IO : AFD_ERROR_USAGE,
                   "--tokens: %s", local->message);
      return NULL;
    }
  g_autofree double *p = g_new (double, n);
  afd_routing_probabilities (routing, p);
  afd_cost_ops_apportion (p, n, (guint64) total, tokens);
  g_string_assign (how, text);
  return g_steal_pointer (&tokens);
}

static AfdOp *
build_grouped (const Flags *f, GString *shape, GError **error)
{
  gint64 experts = 0, n, k;
  AfdDtype dtype = AFD_DTYPE_BF16;
  if (!afd_cli_parse_int ("--experts", f->experts, 1, MAX_EXPERTS, &experts, error)
      || !need_int ("--n", f->n, 1, MAX_DIM, &n, "grouped-gemm", error)
      || !need_int ("--k", f->k, 1, MAX_DIM, &k, "grouped-gemm", error)
      || !parse_dtype (f->dtype, &dtype, error))
    return NULL;
  double count = 1, width = (double) n;
  if (f->gate_up != NULL && strcmp (f->gate_up, "fused") == 0)
    width = 2.0 * (double) n;
  else if (f->gate_up != NULL && strcmp (f->gate_up, "split") == 0)
    count = 2;
  else if (f->gate_up != NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--gate-up: '%s' is not fused or split",
                   f->gate_up);
      return NULL;
    }
  g_autoptr (GString) how = g_string_new (NULL);
  g_autofree guint64 *tokens = parse_tokens (f, &experts, how, error);
  if (tokens == NULL)
    return NULL;
  double total = 0;
  guint64 lo = G_MAXUINT64, hi = 0;
  for (gint64 e = 0; e < experts; e++)
    {
      total += (double) tokens[e];
      lo = MIN (lo, tokens[e]);
      hi = MAX (hi, tokens[e]);
    }
  AfdOp *op = afd_cost_ops_grouped_gemm (tokens, (guint) experts, (guint64) width, (guint64) k,
                                         (guint64) count, dtype);
  g_string_printf (shape,
                   "%s experts=%" G_GINT64_FORMAT " tokens=%.0f (%s, per expert %" G_GUINT64_FORMAT
                   "..%" G_GUINT64_FORMAT ") n=%" G_GINT64_FORMAT " k=%" G_GINT64_FORMAT,
                   afd_dtype_name (dtype), experts, total, how->str, lo, hi, n, k);
  if (f->gate_up != NULL)
    g_string_append_printf (shape, " gate+up %s", f->gate_up);
  return op;
}

/* Fills a one-layer model holding only an attention shape from the explicit flags. */
static gboolean
explicit_attention (const Flags *f, AfdLlm *llm, GError **error)
{
  static const char *const kinds[] = { "mha", "gqa", "mla" };
  int kind = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp (f->attention, kinds[i]) == 0)
      kind = i;
  if (kind < 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--attention: '%s' is not mha, gqa or mla", f->attention);
      return FALSE;
    }
  gint64 heads, kv_heads = 0, head_dim = 128, v_dim = 0, lora = 512, rope = 64, nope = 128;
  if (!need_int ("--heads", f->heads, 1, 1 << 16, &heads, "attention", error)
      || !afd_cli_parse_int ("--kv-heads", f->kv_heads, 1, 1 << 16, &kv_heads, error)
      || !afd_cli_parse_int ("--head-dim", f->head_dim, 1, 1 << 16, &head_dim, error)
      || !afd_cli_parse_int ("--v-head-dim", f->v_head_dim, 1, 1 << 16, &v_dim, error)
      || !afd_cli_parse_int ("--kv-lora-rank", f->kv_lora_rank, 1, 1 << 16, &lora, error)
      || !afd_cli_parse_int ("--rope-dim", f->rope_dim, 1, 1 << 16, &rope, error)
      || !afd_cli_parse_int ("--nope-dim", f->nope_dim, 1, 1 << 16, &nope, error))
    return FALSE;
  const char *mla_only[][2] = { { "--kv-lora-rank", f->kv_lora_rank },
                                { "--rope-dim", f->rope_dim },
                                { "--nope-dim", f->nope_dim } };
  for (guint i = 0; i < G_N_ELEMENTS (mla_only); i++)
    if (kind != AFD_ATTENTION_MLA && mla_only[i][1] != NULL)
      {
        g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "%s: only with --attention mla",
                     mla_only[i][0]);
        return FALSE;
      }
  if (kind == AFD_ATTENTION_MLA && (f->kv_heads != NULL || f->head_dim != NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "%s: not used by --attention mla (the cache is one latent of --kv-lora-rank "
                   "+ --rope-dim)",
                   f->kv_heads != NULL ? "--kv-heads" : "--head-dim");
      return FALSE;
    }
  if (kind == AFD_ATTENTION_GQA && f->kv_heads == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost attention: --kv-heads is required with --attention gqa");
      return FALSE;
    }
  if (kind == AFD_ATTENTION_MHA && f->kv_heads != NULL && kv_heads != heads)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--kv-heads: MHA has one K/V head per query head (%" G_GINT64_FORMAT
                   "); use --attention gqa for %" G_GINT64_FORMAT,
                   heads, kv_heads);
      return FALSE;
    }
  if (kind == AFD_ATTENTION_GQA && (kv_heads > heads || heads % kv_heads != 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--kv-heads: %" G_GINT64_FORMAT " does not divide --heads %" G_GINT64_FORMAT,
                   kv_heads, heads);
      return FALSE;
    }
  llm->name = (char *) "explicit";
  llm->attention = (AfdAttentionKind) kind;
  llm->n_layers = 1;
  llm->n_heads = (guint) heads;
  llm->n_kv_heads = kind == AFD_ATTENTION_GQA ? (guint) kv_heads : (guint) heads;
  if (kind == AFD_ATTENTION_MLA)
    {
      llm->kv_lora_rank = (guint) lora;
      llm->qk_rope_head_dim = (guint) rope;
      llm->qk_nope_head_dim = (guint) nope;
      llm->head_dim = (guint) (nope + rope);
      llm->v_head_dim = v_dim > 0 ? (guint) v_dim : (guint) nope;
    }
  else
    {
      llm->head_dim = (guint) head_dim;
      llm->v_head_dim = v_dim > 0 ? (guint) v_dim : (guint) head_dim;
    }
  llm->hidden_size = llm->n_heads * llm->head_dim;
  AfdLlmDtypes d = { AFD_DTYPE_BF16, AFD_DTYPE_BF16, AFD_DTYPE_BF16, AFD_DTYPE_BF16,
                     AFD_DTYPE_BF16, AFD_DTYPE_BF16, AFD_DTYPE_BF16, AFD_DTYPE_BF16 };
  llm->dtypes = d;
  return TRUE;
}

static AfdOp *
build_attention (const Flags *f, GString *shape, GError **error)
{
  if ((f->model == NULL) == (f->attention == NULL))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost attention: give either --model NAME or an explicit shape "
                   "(--attention mha|gqa|mla --heads H ...), %s",
                   f->model == NULL ? "neither was given" : "not both");
      return NULL;
    }
  AfdOpsParams params;
  afd_ops_params_init (&params, AFD_PHASE_DECODE);
  if (f->phase != NULL && strcmp (f->phase, "prefill") == 0)
    params.phase = AFD_PHASE_PREFILL;
  else if (f->phase != NULL && strcmp (f->phase, "decode") != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "--phase: '%s' is not decode or prefill",
                   f->phase);
      return NULL;
    }
  gint64 batch, context, cached = 0;
  if (!need_int ("--batch", f->batch, 1, MAX_TOKENS, &batch, "attention", error)
      || !need_int ("--context", f->context, 1, MAX_TOKENS, &context, "attention", error)
      || !afd_cli_parse_int ("--cached", f->cached, 0, MAX_TOKENS, &cached, error))
    return NULL;
  if (f->cached != NULL && params.phase != AFD_PHASE_PREFILL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--cached: only with --phase prefill (decode attends to --context tokens)");
      return NULL;
    }
  AfdLlm local = { 0 };
  g_autoptr (AfdLlm) loaded = NULL;
  const AfdLlm *llm = &local;
  if (f->model != NULL)
    {
      loaded = afd_llm_load (f->model, error);
      if (loaded == NULL)
        return NULL;
      llm = loaded;
      gint64 heads = llm->n_heads;
      if (!afd_cli_parse_int ("--heads", f->heads, 1, llm->n_heads, &heads, error))
        return NULL;
      params.head_count = (guint) heads;
      const char *explicit_only[] = { f->kv_heads,     f->head_dim, f->v_head_dim,
                                      f->kv_lora_rank, f->rope_dim, f->nope_dim };
      const char *explicit_names[] = { "--kv-heads",     "--head-dim", "--v-head-dim",
                                       "--kv-lora-rank", "--rope-dim", "--nope-dim" };
      for (guint i = 0; i < G_N_ELEMENTS (explicit_only); i++)
        if (explicit_only[i] != NULL)
          {
            g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                         "%s: the shape comes from --model %s; give it only with --attention",
                         explicit_names[i], f->model);
            return NULL;
          }
    }
  else if (!explicit_attention (f, &local, error))
    return NULL;
  params.n_sequences = (guint64) batch;
  if (params.phase == AFD_PHASE_DECODE)
    {
      params.new_tokens = 1;
      params.context_tokens = (guint64) context;
    }
  else
    {
      params.new_tokens = (guint64) context;
      params.context_tokens = (guint64) cached;
    }
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) afd_op_free);
  if (!afd_ops_attention_block (llm, &params, ops, error))
    return NULL;
  AfdOp *core = NULL;
  for (guint i = 0; i < ops->len; i++)
    {
      AfdOp *op = ops->pdata[i];
      if (op->kind == AFD_OP_ATTENTION_DECODE || op->kind == AFD_OP_ATTENTION_PREFILL)
        core = g_ptr_array_steal_index (ops, i);
      if (core != NULL)
        break;
    }
  g_assert (core != NULL);
  static const char *const kind_names[] = { "MHA", "GQA", "MLA", "MFA" };
  const AfdAttentionShape *a = &core->attention;
  g_string_printf (shape,
                   "%s %s %s heads=%u kv_heads=%u d_qk=%u d_v=%u batch=%" G_GINT64_FORMAT,
                   afd_phase_name (params.phase), llm->name, kind_names[llm->attention],
                   a->n_heads, a->n_kv_heads, a->head_dim_qk, a->head_dim_v, batch);
  if (params.phase == AFD_PHASE_DECODE)
    g_string_append_printf (shape, " context=%" G_GINT64_FORMAT, context);
  else
    g_string_append_printf (shape, " prompt=%" G_GINT64_FORMAT " cached=%" G_GINT64_FORMAT,
                            context, cached);
  return core;
}

static AfdOp *
build_copy (const Flags *f, GString *shape, GError **error)
{
  guint64 bytes;
  if (f->bytes == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE, "cost copy: --bytes is required");
      return NULL;
    }
  if (!afd_cli_parse_bytes ("--bytes", f->bytes, 1, G_GUINT64_CONSTANT (1) << 50, &bytes,
                            error))
    return NULL;
  AfdOp *op = afd_cost_ops_copy (bytes);
  g_string_printf (shape, "%" G_GUINT64_FORMAT " bytes", bytes);
  return op;
}

/* Peak FLOP/s of the op's math: bf16 where the GPU has no path for the dtype (as the
 * analytic backend does). */
static double
peak_of (const AfdGpuSpec *gpu, AfdDtype dtype)
{
  double p = gpu->peak_flop_per_s[dtype];
  return p > 0 ? p : gpu->peak_flop_per_s[AFD_DTYPE_BF16];
}

/* Runs `afdsim cost OP`. */
static int
cmd_cost (const AfdCommandContext *cmd_ctx, int argc, char **argv, GError **error)
{
  g_auto (Flags) f = { 0 };
  GOptionEntry entries[] = {
    { "gpu", 0, 0, G_OPTION_ARG_STRING, &f.gpu, "shipped GPU name or JSON file (default H200)",
      "G" },
    { "costs", 0, 0, G_OPTION_ARG_STRING, &f.costs,
      "cost model as run takes it: analytic, profile:NAME|FILE (default analytic)", "SPEC" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &f.json, "also write the result to FILE as JSON",
      "FILE" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &f.dtype,
      "gemm, grouped-gemm: math dtype bf16|fp16|fp8|tf32|fp32|fp4 (default bf16)", "T" },
    { "m", 0, 0, G_OPTION_ARG_STRING, &f.m, "gemm: rows (tokens)", "M" },
    { "n", 0, 0, G_OPTION_ARG_STRING, &f.n, "gemm, grouped-gemm: output columns", "N" },
    { "k", 0, 0, G_OPTION_ARG_STRING, &f.k, "gemm, grouped-gemm: reduction dimension", "K" },
    { "count", 0, 0, G_OPTION_ARG_STRING, &f.count, "gemm: GEMMs of this shape (default 1)",
      "C" },
    { "experts", 0, 0, G_OPTION_ARG_STRING, &f.experts,
      "grouped-gemm: experts in the grouped kernel", "E" },
    { "tokens", 0, 0, G_OPTION_ARG_STRING, &f.tokens,
      "grouped-gemm: tokens per expert: a number, a list a,b,c, or a distribution "
      "(uniform, zipf:S, hot:K[:F], file:PATH) with --total",
      "T|LIST|DIST" },
    { "total", 0, 0, G_OPTION_ARG_STRING, &f.total,
      "grouped-gemm: tokens over all experts for a distribution", "T" },
    { "gate-up", 0, 0, G_OPTION_ARG_STRING, &f.gate_up,
      "grouped-gemm: price the gate+up projections, fused (one GEMM of width 2N) or split "
      "(two of width N)",
      "fused|split" },
    { "model", 0, 0, G_OPTION_ARG_STRING, &f.model,
      "attention: read the attention shape from a shipped model or model file", "NAME|FILE" },
    { "phase", 0, 0, G_OPTION_ARG_STRING, &f.phase, "attention: decode|prefill (default decode)",
      "P" },
    { "attention", 0, 0, G_OPTION_ARG_STRING, &f.attention,
      "attention: explicit shape kind mha|gqa|mla (instead of --model)", "KIND" },
    { "heads", 0, 0, G_OPTION_ARG_STRING, &f.heads,
      "attention: query heads (with --model: heads on this GPU, default all)", "H" },
    { "kv-heads", 0, 0, G_OPTION_ARG_STRING, &f.kv_heads, "attention: K/V heads (gqa)", "H" },
    { "head-dim", 0, 0, G_OPTION_ARG_STRING, &f.head_dim,
      "attention: head dimension (mha, gqa; default 128)", "D" },
    { "v-head-dim", 0, 0, G_OPTION_ARG_STRING, &f.v_head_dim,
      "attention: value head dimension (default: head dim; mla: nope dim)", "D" },
    { "kv-lora-rank", 0, 0, G_OPTION_ARG_STRING, &f.kv_lora_rank,
      "attention: mla latent dimension (default 512)", "D" },
    { "rope-dim", 0, 0, G_OPTION_ARG_STRING, &f.rope_dim,
      "attention: mla rotary dimension (default 64)", "D" },
    { "nope-dim", 0, 0, G_OPTION_ARG_STRING, &f.nope_dim,
      "attention: mla non-rotary head dimension (default 128)", "D" },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &f.batch, "attention: sequences", "B" },
    { "context", 0, 0, G_OPTION_ARG_STRING, &f.context,
      "attention: decode: cached tokens attended; prefill: prompt tokens", "L" },
    { "cached", 0, 0, G_OPTION_ARG_STRING, &f.cached,
      "attention: prefill: cached prefix tokens before the prompt (default 0)", "C" },
    { "bytes", 0, 0, G_OPTION_ARG_STRING, &f.bytes, "copy: bytes copied (suffixes K, M, G)",
      "B" },
    { NULL },
  };
  static const char summary[]
      = "Prices one operator with a cost model and prints its time, achieved FLOP/s and\n"
        "bytes/s and what bounds it (docs/user/cost.md). OP: gemm, grouped-gemm, attention,\n"
        "copy.";
  if (!afd_cli_parse_command (&afd_command_cost, summary, entries, &argc, &argv, error))
    return 2;
  if (argc < 2)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost: which operator? (gemm, grouped-gemm, attention, copy)");
      return 2;
    }
  CostOp which = OP_COUNT;
  for (int i = 0; i < OP_COUNT; i++)
    if (strcmp (argv[1], op_names[i]) == 0)
      which = (CostOp) i;
  if (which == OP_COUNT)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "cost: unknown operator '%s' (gemm, grouped-gemm, attention, copy)", argv[1]);
      return 2;
    }
  if (!check_applicable (&f, which, error))
    return 2;
  g_autoptr (GString) shape = g_string_new (NULL);
  g_autoptr (AfdOp) op = NULL;
  switch (which)
    {
    case OP_GEMM:
      op = build_gemm (&f, shape, error);
      break;
    case OP_GROUPED:
      op = build_grouped (&f, shape, error);
      break;
    case OP_ATTENTION:
      op = build_attention (&f, shape, error);
      break;
    default:
      op = build_copy (&f, shape, error);
      break;
    }
  if (op == NULL)
    return (*error)->code == AFD_ERROR_USAGE ? 2 : 1;

  {
    /* --json must not be an input (issue #14); names that do not resolve fail later. */
    g_autofree char *gp = afd_data_resolve ("topologies/gpus", "GPU", f.gpu ? f.gpu : "H200", NULL);
    g_autofree char *mp = f.model ? afd_data_resolve ("models/llm", "model", f.model, NULL) : NULL;
    const char *pp = f.costs != NULL && g_str_has_prefix (f.costs, "profile:") ? f.costs + 8 : NULL;
    const AfdFileUse out_use[] = { { "--json", f.json } };
    const AfdFileUse in_use[] = { { "--gpu", gp }, { "--model", mp }, { "--costs", pp } };
    if (!afd_files_check_distinct (out_use, 1, in_use, G_N_ELEMENTS (in_use), error))
      return 2;
  }
  const AfdPlugins *plugins = cmd_ctx->plugins;
  g_return_val_if_fail (plugins != NULL && plugins->cost_model_new != NULL, 1);
  g_autoptr (AfdGpuSpec) gpu = afd_gpu_spec_load (f.gpu != NULL ? f.gpu : "H200", error);
  if (gpu == NULL)
    return 1;
  g_autoptr (AfdCostModel) costs
      = plugins->cost_model_new (f.costs != NULL ? f.costs : "analytic", error);
  if (costs == NULL)
    {
      g_prefix_error (error, "--costs: ");
      return 1;
    }
  AfdPlacement where = { gpu, 0 };
  double t;
  if (!afd_cost_model_op_time (costs, op, &where, &t, error))
    return 1;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  afd_cost_model_take_warnings (costs, warnings);

  const double flop = op->flops, bytes = op->bytes_read + op->bytes_written;
  const double peak = peak_of (gpu, op->dtype), bw = gpu->hbm_bandwidth_bytes_per_s;
  const double t_c = flop / peak, t_m = bytes / bw;
  const double achieved_flop = t > 0 ? flop / t : 0, achieved_bytes = t > 0 ? bytes / t : 0;
  const double f_c = achieved_flop / peak, f_m = achieved_bytes / bw;
  const char *bound = MAX (f_c, f_m) < LATENCY_FRACTION ? "latency"
                      : f_c >= f_m                      ? "compute"
                                                        : "memory";
  g_autoptr (GString) cdesc = g_string_new (NULL);
  afd_cost_model_describe (costs, cdesc);

  printf ("# afdsim cost %s on %s, costs %s\n", op_names[which], gpu->name, cdesc->str);
  printf ("op          %s\n", shape->str);
  printf ("time        %.3f us\n", t * 1e6);
  printf ("work        %.4g FLOP, %.4g bytes (%.4g FLOP/byte; the GPU's ridge %.4g)\n", flop,
          bytes, bytes > 0 ? flop / bytes : 0, peak / bw);
  printf ("achieved    %.2f TFLOP/s (%.1f %% of the %s peak), %.2f TB/s (%.1f %% of HBM)\n",
          achieved_flop / 1e12, 100.0 * f_c,
          afd_dtype_name (gpu->peak_flop_per_s[op->dtype] > 0 ? op->dtype : AFD_DTYPE_BF16),
          achieved_bytes / 1e12, 100.0 * f_m);
  printf ("roofline    compute %.3f us, memory %.3f us\n", t_c * 1e6, t_m * 1e6);
  printf ("bound       %s\n", bound);
  for (guint i = 0; i < warnings->len; i++)
    fprintf (stderr, "afdsim: warning: %s\n", (char *) warnings->pdata[i]);

  if (f.json != NULL)
    {
      g_autoptr (cJSON) root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "op", op_names[which]);
      cJSON_AddStringToObject (root, "shape", shape->str);
      cJSON_AddStringToObject (root, "dtype", afd_dtype_name (op->dtype));
      cJSON_AddStringToObject (root, "gpu", gpu->name);
      cJSON_AddStringToObject (root, "cost_model", cdesc->str);
      afd_json_add_number (root, "time_s", t);
      afd_json_add_number (root, "flop", flop);
      afd_json_add_number (root, "bytes", bytes);
      afd_json_add_number (root, "achieved_flop_per_s", achieved_flop);
      afd_json_add_number (root, "achieved_bytes_per_s", achieved_bytes);
      afd_json_add_number (root, "peak_flop_per_s", peak);
      afd_json_add_number (root, "hbm_bandwidth_bytes_per_s", bw);
      afd_json_add_number (root, "roofline_compute_s", t_c);
      afd_json_add_number (root, "roofline_memory_s", t_m);
      afd_json_add_number (root, "compute_fraction", f_c);
      afd_json_add_number (root, "memory_fraction", f_m);
      cJSON_AddStringToObject (root, "bound", bound);
      if (op->n_experts > 0)
        {
          cJSON *tok = cJSON_AddArrayToObject (root, "expert_tokens");
          for (guint e = 0; e < op->n_experts; e++)
            cJSON_AddItemToArray (tok, cJSON_CreateNumber ((double) op->expert_tokens[e]));
        }
      cJSON *w = cJSON_AddArrayToObject (root, "warnings");
      for (guint i = 0; i < warnings->len; i++)
        cJSON_AddItemToArray (w, cJSON_CreateString (warnings->pdata[i]));
      if (!afd_json_write_file (f.json, root, error))
        return 1;
    }
  return 0;
}

const AfdCommand afd_command_cost = {
  "cost", "price one operator (gemm, grouped-gemm, attention, copy) with a cost model", cmd_cost,
  "OP", 1
};
