/* SPDX-License-Identifier: MIT */
/*
 * op.h - one operator instance (AfdOp): what a cost backend prices and what a GPU stream runs.
 *
 * An op is a plain value: its kind, a name for traces, the math dtype, its FLOPs and HBM bytes
 * read and written, and, depending on the kind, a GEMM shape, an attention shape, per-expert
 * token counts (grouped GEMM) or the bytes of a communication op. The numbers are filled by the
 * operator builders in models/ops.h (formulas in docs/models/operators.md) or by strategies;
 * this module only stores, copies and names them. It computes nothing and keeps no pointer to
 * the model it came from.
 */
#ifndef AFD_SIM_OP_H
#define AFD_SIM_OP_H

#include <glib.h>

#include "sim/gpu-spec.h"

G_BEGIN_DECLS

/* What an op does. Compute kinds come first; comm kinds start at AFD_OP_COMM_FIRST. */
typedef enum {
  AFD_OP_NORM = 0,             /* RMSNorm/LayerNorm over the hidden states (memory-bound) */
  AFD_OP_QKV_PROJ,             /* fused Q, K, V projection GEMM (MHA/GQA; MFA's K and V) */
  AFD_OP_MLA_Q_DOWN,           /* MLA/MFA query down-projection H -> q_lora_rank */
  AFD_OP_MLA_Q_UP,             /* MLA/MFA query up-projection q_lora_rank -> heads·dim */
  AFD_OP_MLA_KV_DOWN,          /* MLA KV down-projection H -> kv_lora_rank + rope */
  AFD_OP_MLA_KV_UP,            /* MLA W_UK/W_UV: K/V materialised (prefill) or absorbed (decode) */
  AFD_OP_ATTENTION_PREFILL,    /* causal attention core over new tokens + cached context */
  AFD_OP_ATTENTION_DECODE,     /* attention core of one new token per sequence over its KV */
  AFD_OP_OUT_PROJ,             /* attention output projection heads·v_dim -> H */
  AFD_OP_ROUTER,               /* MoE gate GEMM H -> E, softmax/sigmoid and top-k */
  AFD_OP_EXPERT_GROUPED_GEMM,  /* routed experts of one GPU as one grouped GEMM */
  AFD_OP_SHARED_EXPERT,        /* always-active expert FFN */
  AFD_OP_DENSE_FFN,            /* dense FFN block */
  AFD_OP_LM_HEAD,              /* final norm + H -> vocab projection */
  AFD_OP_ELEMENTWISE,          /* residual add, activation, (de)quantisation, permutation */
  AFD_OP_COMM_FIRST,
  AFD_OP_COMM_SEND = AFD_OP_COMM_FIRST, /* point-to-point send of comm_bytes */
  AFD_OP_COMM_RECV,            /* point-to-point receive of comm_bytes */
  AFD_OP_COMM_ALL_REDUCE,      /* collective over a group; comm_bytes = buffer size */
  AFD_OP_COMM_ALL_GATHER,      /* comm_bytes = output buffer size */
  AFD_OP_COMM_REDUCE_SCATTER,  /* comm_bytes = input buffer size */
  AFD_OP_COMM_ALL_TO_ALL,      /* comm_bytes = bytes this rank sends in total */
  AFD_OP_COMM_DISPATCH,        /* MoE dispatch (tokens to experts); comm_bytes sent */
  AFD_OP_COMM_COMBINE,         /* MoE combine (expert outputs back); comm_bytes sent */
  AFD_OP_KIND_COUNT
} AfdOpKind;

/* A GEMM C[m×n] = A[m×k]·B[k×n], repeated @count times with the same shape (e.g. 3 for a
 * SwiGLU FFN's gate, up and down matrices counted as H×M each, or heads of a batched GEMM). */
typedef struct {
  guint64 m;     /* rows: tokens */
  guint64 n;     /* output columns */
  guint64 k;     /* reduction dimension */
  guint64 count; /* how many GEMMs of this shape (>= 1 when the op has a GEMM) */
} AfdGemmShape;

/* Attention core shape on this GPU. */
typedef struct {
  guint n_heads;          /* query heads on this GPU */
  guint n_kv_heads;       /* K/V heads on this GPU (MLA: 1 latent) */
  guint head_dim_qk;      /* dimension of one Q·K dot product */
  guint head_dim_v;       /* dimension of one V row */
  guint64 n_sequences;    /* sequences in the batch */
  guint64 query_tokens;   /* new tokens per sequence (decode: 1) */
  guint64 context_tokens; /* cached tokens per sequence before this step */
} AfdAttentionShape;

/* One operator. Plain value; owns @name and @expert_tokens. */
typedef struct {
  AfdOpKind kind;
  char *name;            /* "layer3.qkv_proj", for traces; never NULL */
  AfdDtype dtype;        /* math dtype: selects the peak FLOP/s */
  guint layer;           /* transformer block index (G_MAXUINT: none, e.g. LM head) */
  double flops;          /* floating-point operations (multiply-add = 2) */
  double bytes_read;     /* HBM bytes read: weights, activations, KV */
  double bytes_written;  /* HBM bytes written */
  gboolean has_gemm;     /* @gemm is meaningful */
  AfdGemmShape gemm;     /* grouped GEMM: shape of one expert with m = mean tokens */
  gboolean has_attention;
  AfdAttentionShape attention;
  guint n_experts;       /* grouped GEMM: experts on this GPU (length of @expert_tokens) */
  guint64 *expert_tokens; /* (nullable): tokens routed to each local expert */
  double comm_bytes;     /* comm kinds: bytes as defined per kind above */
  guint comm_group_size; /* comm kinds: ranks in the group (0 = not set) */
} AfdOp;

/**
 * afd_op_new:
 * @name: copied
 *
 * Returns: (transfer full): a zeroed op of @kind (layer G_MAXUINT, dtype bf16); free with
 *   afd_op_free()
 */
AfdOp *afd_op_new (AfdOpKind kind, const char *name);

/* Returns: (transfer full): a deep copy of @op. */
AfdOp *afd_op_copy (const AfdOp *op);

void afd_op_free (AfdOp *op);

/**
 * afd_op_set_expert_tokens:
 * @tokens: (array length=n_experts): copied
 *
 * Replaces the per-expert token counts.
 */
void afd_op_set_expert_tokens (AfdOp *op, const guint64 *tokens, guint n_experts);

/* Returns: the snake_case name ("expert_grouped_gemm"), or NULL for an invalid kind. */
const char *afd_op_kind_name (AfdOpKind kind);

/* Parses a kind name; returns FALSE (no error set) when unknown. */
gboolean afd_op_kind_from_name (const char *name, AfdOpKind *out_kind);

/* Returns: %TRUE for the communication kinds (priced by the network, not a cost model). */
gboolean afd_op_kind_is_comm (AfdOpKind kind);

/* Returns: FLOPs per HBM byte (flops / (bytes_read + bytes_written)); 0 with no bytes. */
double afd_op_arithmetic_intensity (const AfdOp *op);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdOp, afd_op_free)

G_END_DECLS

#endif /* AFD_SIM_OP_H */
