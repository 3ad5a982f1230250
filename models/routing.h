/* SPDX-License-Identifier: MIT */
/*
 * routing.h - token -> expert routing per iteration, and its imbalance.
 *
 * A routing distribution gives every expert a probability (uniform, Zipf, hot-K, Dirichlet
 * drawn per iteration, or weights from a file of per-expert counts). Each token picks top_k
 * distinct experts from it (sampling without replacement), using only the GRand stream the
 * caller passes, so one seed gives one answer. Optional redundant experts replicate the
 * hottest experts EPLB-style and split their tokens evenly between replicas. Imbalance is
 * reported two ways: max/mean load (>= 1, 1 = balanced) and its inverse mean/max (the
 * roofline's σ <= 1), plus the coefficient of variation. docs/models/routing.md has the
 * definitions and tests/test-routing.c the checks.
 */
#ifndef AFD_MODELS_ROUTING_H
#define AFD_MODELS_ROUTING_H

#include <glib.h>

G_BEGIN_DECLS

/* The shape of the expert popularity. */
typedef enum {
  AFD_ROUTING_UNIFORM = 0, /* p_e = 1/E */
  AFD_ROUTING_ZIPF,        /* p_e ∝ (e+1)^-s: expert 0 is the hottest */
  AFD_ROUTING_HOT,         /* experts 0..K-1 share FRACTION of the mass, the rest the remainder */
  AFD_ROUTING_DIRICHLET,   /* p ~ Dirichlet(α,…,α), drawn afresh each iteration */
  AFD_ROUTING_FILE,        /* p_e ∝ counts read from a JSON file */
} AfdRoutingKind;

typedef struct _AfdRouting AfdRouting;

/* Load statistics of a set of bins (experts, replicas or GPUs). */
typedef struct {
  double mean;          /* mean load, tokens */
  double max;           /* largest load, tokens */
  double max_over_mean; /* max/mean >= 1; 1 = perfectly balanced (0 when all loads are 0) */
  double sigma;         /* mean/max in (0, 1]: the roofline's σ (1 when all loads are 0) */
  double cv;            /* standard deviation / mean (population), 0 = balanced */
} AfdImbalance;

/* One iteration's routing. */
typedef struct {
  guint n_experts;         /* logical experts E */
  guint64 *expert_tokens;  /* [n_experts] token-expert pairs per logical expert */
  guint n_slots;           /* physical experts: E + redundant */
  guint *slot_expert;      /* [n_slots] logical expert each slot serves (slot e < E is e) */
  guint64 *slot_tokens;    /* [n_slots] tokens each physical expert processes */
  AfdImbalance experts;    /* over expert_tokens */
  AfdImbalance slots;      /* over slot_tokens */
} AfdRoutingResult;

/**
 * afd_routing_new:
 * @spec: "uniform", "zipf:S" (S > 0), "hot:K" or "hot:K:FRACTION" (1 <= K < E,
 *   0 < FRACTION < 1, default 0.5), "dirichlet:ALPHA" (ALPHA > 0) or "file:PATH" (a JSON
 *   object {"expert_tokens": [n, …]} with E non-negative numbers, not all 0)
 * @n_experts: E >= 1
 * @top_k: 1 <= top_k <= E
 *
 * Returns: (transfer full) (nullable): the distribution, or %NULL with AFD_ERROR_CONFIG naming
 *   the spec and the problem (AFD_ERROR_IO for an unreadable file)
 */
AfdRouting *afd_routing_new (const char *spec, guint n_experts, guint top_k, GError **error);

void afd_routing_free (AfdRouting *self);

/**
 * afd_routing_set_redundant:
 * @n_redundant: extra physical expert slots (EPLB-style replicas of the hottest), 0 = none
 */
void afd_routing_set_redundant (AfdRouting *self, guint n_redundant);

/* Returns: the kind parsed from the spec. */
AfdRoutingKind afd_routing_get_kind (const AfdRouting *self);

/**
 * afd_routing_probabilities:
 * @out_p: (array length=n_experts): the static probabilities (Dirichlet: the mean, 1/E)
 */
void afd_routing_probabilities (const AfdRouting *self, double *out_p);

/**
 * afd_routing_sample:
 * @rng: (transfer none): the caller's seeded stream (afd_rng_seed_for / afd_engine_rng)
 * @n_tokens: tokens routed this iteration
 *
 * Returns: (transfer full): this iteration's routing; free with afd_routing_result_free()
 */
AfdRoutingResult *afd_routing_sample (AfdRouting *self, GRand *rng, guint64 n_tokens);

/**
 * afd_routing_replicate:
 * @expert_tokens: (array length=n_experts): loads per logical expert
 * @n_redundant: replicas to add
 *
 * Greedy EPLB: each extra replica goes to the expert whose tokens per replica are currently
 * the largest (ties: lowest index); an expert's tokens are split evenly between its replicas,
 * the remainder going to its first replicas.
 *
 * Returns: (transfer full): a result with these loads (experts copied, slots filled)
 */
AfdRoutingResult *afd_routing_replicate (const guint64 *expert_tokens, guint n_experts,
                                         guint n_redundant);

/* Fills @out with the statistics of @loads (n >= 1). */
void afd_imbalance_compute (const guint64 *loads, guint n, AfdImbalance *out);

void afd_routing_result_free (AfdRoutingResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdRouting, afd_routing_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdRoutingResult, afd_routing_result_free)

G_END_DECLS

#endif /* AFD_MODELS_ROUTING_H */
