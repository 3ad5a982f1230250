/* SPDX-License-Identifier: MIT */
/*
 * roofline.h - the communication-level roofline of Attention-FFN disaggregation (AFD).
 *
 * A reconstruction of seed 004 (arXiv 2602.09721) as written up in
 * /work/shared/reference/afd-roofline.md and docs/models/afd-roofline.md:
 *
 *   t_B       = (SLO·L_accept − t_g) / (N_layers·N_BO)                      per-layer budget, s
 *   B_ScaleUp = BW_su·t_B / ((d + c)·H),  B_ScaleOut = BW_so·t_B / ((d + c)·H)
 *   B_rank    = min(B_ScaleOut·max(1, TopK/N_F), B_ScaleUp)   token-expert pairs per FFN GPU
 *   experts   = ceil(E / (N_F·g)),   I = 2·B_rank / (experts·w)              FLOP per weight byte
 *   HFU_comm  = 6·H·M·B_rank / (t_B·FLOPS) = 6·M·min(BW_su, BW_so·max(1, TopK/N_F)) / ((d+c)·FLOPS)
 *   HFU bound = min(HFU_comm, OFU(I)),  OFU(I) = min(1, I·HBM_BW/FLOPS)
 *
 * with d, c the dispatch and combine bytes per element (FP8 1, BF16 2) and w the expert
 * weight bytes per parameter. It also holds the related closed forms the reference lists:
 * MegaScale-Infer's ping-pong rule, DeepSeek's EP communication limit and the EP-vs-AFD
 * imbalance factors. Every function is pure: no I/O, no allocation, no global state; every
 * constant is an argument. Loading models and GPUs is the command's job (cli/cmd-roofline.c).
 */
#ifndef AFD_MODELS_ROOFLINE_H
#define AFD_MODELS_ROOFLINE_H

#include <glib.h>

G_BEGIN_DECLS

/* Defaults of the reference (§2.1, [S] from the paper's hardware × model table). */
#define AFD_ROOFLINE_DEFAULT_SLO_S 0.050      /* TPOT target, seconds (unknown in the paper) */
#define AFD_ROOFLINE_DEFAULT_ACCEPT_LENGTH 1.7 /* mean MTP acceptance length, tokens/step */
#define AFD_ROOFLINE_DEFAULT_GAP_S 0.015      /* inter-batch gap t_g, seconds */
#define AFD_ROOFLINE_DEFAULT_N_BO 3           /* micro-batches overlapped (3BO) */

/* The latency budget of one decode iteration (reference §2.1). */
typedef struct {
  double slo_s;         /* TPOT target, seconds, > 0 */
  double accept_length; /* mean accepted tokens per step L_accept, >= 1 */
  double gap_s;         /* inter-batch gap t_g, seconds, >= 0 */
  guint n_layers;       /* transformer blocks in one iteration, > 0 */
  guint n_bo;           /* micro-batches overlapped N_BO, > 0 */
} AfdRooflineBudget;

/* What the roofline needs of a model, per MoE layer. */
typedef struct {
  double hidden;              /* H, model width, elements */
  double expert_hidden;       /* M, routed expert intermediate size, elements */
  guint n_experts;            /* E, routed experts per MoE layer */
  guint top_k;                /* routed experts per token */
  guint n_shared;             /* shared experts per MoE layer (reported, not in the bound) */
  guint n_moe_layers;         /* MoE blocks: weights held on each FFN GPU */
  double weight_bytes;        /* w, bytes per expert weight parameter (FP8 1, BF16 2) */
  double dispatch_bytes;      /* d, bytes per element sent attention -> FFN (FP8 1) */
  double combine_bytes;       /* c, bytes per element sent FFN -> attention (BF16 2) */
} AfdRooflineModel;

/* What the roofline needs of one FFN GPU and its node. */
typedef struct {
  double peak_flop_per_s;           /* dense peak of the expert GEMM dtype, FLOP/s */
  double hbm_bandwidth_bytes_per_s; /* HBM bandwidth, bytes/s */
  double hbm_bytes;                 /* HBM capacity, bytes */
  double scale_up_bytes_per_s;      /* effective NVLink bandwidth per GPU, one direction */
  double scale_out_bytes_per_s;     /* effective NIC bandwidth per GPU, one direction */
  guint gpus_per_node;              /* g, GPUs per FFN node (scale-up island) */
} AfdRooflineHardware;

/* The four regions of the intensity-vs-N_F figure (reference §2.6). */
typedef enum {
  AFD_ROOFLINE_REGION_SCALE_UP_BOUND = 1,    /* B_rank = B_ScaleUp; HFU at its peak */
  AFD_ROOFLINE_REGION_STABLE_INTENSITY = 2,  /* B_rank ∝ 1/N_F, experts ∝ 1/N_F; HFU falls */
  AFD_ROOFLINE_REGION_DEAD_ZONE = 3,         /* B_rank = B_ScaleOut; HFU flat, I rises */
  AFD_ROOFLINE_REGION_MAX_INTENSITY = 4,     /* one expert per GPU; I = 2·B_ScaleOut/w */
} AfdRooflineRegion;

/* One N_F of the sweep; every field follows from the model, the hardware and t_B. */
typedef struct {
  guint n_f;                      /* FFN nodes */
  AfdRooflineRegion region;
  double b_scale_up;              /* token-expert pairs per GPU within t_B over scale-up */
  double b_scale_out;             /* tokens per GPU within t_B over scale-out (no fan-out) */
  double fan_out;                 /* max(1, TopK/N_F): experts a token hits per node */
  double b_rank;                  /* token-expert pairs per FFN GPU within t_B */
  guint experts_per_gpu;          /* ceil(E/(N_F·g)) */
  double tokens_per_expert;       /* b_rank / experts_per_gpu */
  double intensity_flop_per_byte; /* I = 2·tokens_per_expert / w */
  double hfu_comm_bound;          /* communication roofline, fraction of peak */
  double ofu_bound;               /* HBM roofline min(1, I·HBM_BW/FLOPS) */
  double hfu_bound;               /* min(hfu_comm_bound, ofu_bound) */
  double compute_s;               /* FFN compute time at the comm bound, 6HM·B_rank/FLOPS */
  double weight_load_s;           /* experts_per_gpu·3HM·w / HBM_BW, one layer */
  double weight_bytes_per_gpu;    /* routed-expert weights of all MoE layers on one GPU */
  gboolean hbm_bandwidth_ok;      /* weight_load_s <= t_B */
  gboolean hbm_capacity_ok;       /* weight_bytes_per_gpu <= hbm_bytes */
} AfdRooflinePoint;

/**
 * afd_roofline_budget_s:
 * @budget: SLO, acceptance length, gap, layers and N_BO
 * @out_t_b_s: (out): t_B = (SLO·L_accept − t_g)/(N_layers·N_BO), seconds
 *
 * Reference §2.1; DSV3 (61 layers), 50 ms, 1.7, 15 ms, 3BO gives 382.5 µs.
 *
 * Returns: %FALSE with AFD_ERROR_INFEASIBLE when SLO·L_accept <= t_g (no time left)
 */
gboolean afd_roofline_budget_s (const AfdRooflineBudget *budget, double *out_t_b_s,
                                GError **error);

/**
 * afd_roofline_check:
 *
 * Validates the parameters (positive sizes, top_k <= n_experts, bytes > 0, bandwidths > 0).
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming the first bad field
 */
gboolean afd_roofline_check (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                             GError **error);

/**
 * afd_roofline_point:
 * @t_b_s: per-layer budget, seconds (> 0)
 * @n_f: FFN nodes (>= 1)
 * @out: (out caller-allocates): the point
 *
 * Evaluates every quantity of one N_F (reference §2.5-2.6). Parameters must have passed
 * afd_roofline_check().
 */
void afd_roofline_point (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                         double t_b_s, guint n_f, AfdRooflinePoint *out);

/**
 * afd_roofline_hfu_comm:
 *
 * Returns: the closed form 6·M·min(BW_su, BW_so·max(1, TopK/N_F)) / ((d+c)·FLOPS), a
 *   fraction of peak independent of t_B and H (H800/DSV3: 0.3312 for N_F <= 2)
 */
double afd_roofline_hfu_comm (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                              guint n_f);

/**
 * afd_roofline_dead_zone_hfu:
 *
 * Returns: the HFU floor once N_F >= TopK, 6·M·BW_so/((d+c)·FLOPS) (H800/DSV3: 0.1035)
 */
double afd_roofline_dead_zone_hfu (const AfdRooflineModel *model,
                                   const AfdRooflineHardware *hw);

/**
 * afd_roofline_scale_up_limit_n_f:
 *
 * Returns: TopK·BW_so/BW_su, the largest N_F (real) still in the scale-up-bound region
 *   (H800/DSV3: 2.5)
 */
double afd_roofline_scale_up_limit_n_f (const AfdRooflineModel *model,
                                        const AfdRooflineHardware *hw);

/**
 * afd_roofline_max_intensity_n_f:
 *
 * Returns: ceil(E/g), the smallest N_F with one expert per GPU (H800/DSV3: 32)
 */
guint afd_roofline_max_intensity_n_f (const AfdRooflineModel *model,
                                      const AfdRooflineHardware *hw);

/**
 * afd_roofline_region_name:
 * Returns: (transfer none): "scale-up-bound", "stable-intensity", "dead-zone" or
 *   "max-intensity"; %NULL for an invalid value
 */
const char *afd_roofline_region_name (AfdRooflineRegion region);

/**
 * afd_roofline_ceiling:
 * @n_f_min: first N_F tried (>= 1)
 * @n_f_max: last N_F tried (>= @n_f_min)
 * @out_best: (out caller-allocates): the feasible point with the highest hfu_bound (the
 *   smallest N_F on ties)
 *
 * The HFU ceiling of a model on a GPU: the best bound over N_F among points whose weights fit
 * HBM capacity and stream within t_B.
 *
 * Returns: %FALSE (no error, @out_best untouched) when no N_F in the range is feasible
 */
gboolean afd_roofline_ceiling (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                               double t_b_s, guint n_f_min, guint n_f_max,
                               AfdRooflinePoint *out_best);

/**
 * afd_roofline_pingpong_min_microbatches:
 * @comm_s: one-way A<->F communication time T_c per micro-batch, seconds
 * @attn_s: attention time T_a per micro-batch, seconds
 * @expert_s: expert time T_e per micro-batch, seconds
 *
 * MegaScale-Infer (arXiv 2504.02263): with T_f = max(T_a, T_e), no bubbles need
 * m·T_f >= 2(T_f + T_c), i.e. m >= 2(1 + T_c/T_f).
 *
 * Returns: the real lower bound 2(1 + T_c/T_f)
 */
double afd_roofline_pingpong_min_microbatches (double attn_s, double expert_s, double comm_s);

/**
 * afd_roofline_pingpong_bubble_free:
 * @n_microbatches: m
 *
 * Returns: %TRUE when T_c < T_f and m >= 2(1 + T_c/T_f)
 */
gboolean afd_roofline_pingpong_bubble_free (double attn_s, double expert_s, double comm_s,
                                            guint n_microbatches);

/**
 * afd_roofline_pingpong_iteration_s:
 * @n_layers: L
 *
 * Returns: T_total = (T_a + T_e + 2·T_c) + T_f·(m·L − 1), seconds, T_f = max(T_a, T_e)
 */
double afd_roofline_pingpong_iteration_s (double attn_s, double expert_s, double comm_s,
                                          guint n_microbatches, guint n_layers);

/**
 * afd_roofline_ep_comm_s:
 * @tokens: tokens per micro-batch per GPU
 * @experts_per_token: destinations per token (top-k + shared)
 * @hidden: H, elements
 * @dispatch_bytes: bytes per element dispatched (FP8 1)
 * @combine_bytes: bytes per element combined (BF16 2)
 * @bandwidth_bytes_per_s: the bottleneck link per GPU
 *
 * DeepSeek's theoretical EP limit (arXiv 2505.09343 §4):
 * (d + c)·tokens·experts_per_token·H / BW; (1+2)·32·9·7000/50e9 = 120.96 µs.
 *
 * Returns: communication time of one layer and micro-batch, seconds
 */
double afd_roofline_ep_comm_s (double tokens, double experts_per_token, double hidden,
                               double dispatch_bytes, double combine_bytes,
                               double bandwidth_bytes_per_s);

/* Reference §2.8, self-consistent set. All return throughput per GPU relative to balance. */

/**
 * afd_roofline_alpha_ep:
 * @lambda: t_a/t_f of colocated EP (2-4 typical)
 * @sigma: effective fraction of the FFN pool under imbalance, (0, 1]
 *
 * Returns: (λ + 1)/(λ + 1/σ)
 */
double afd_roofline_alpha_ep (double lambda, double sigma);

/**
 * afd_roofline_alpha_afd_continuous:
 * @n_a: attention instances
 * @n_f: FFN instances
 *
 * Returns: (N_A + N_F)/(N_A + N_F/σ), attention scaled continuously to σ·N_A
 */
double afd_roofline_alpha_afd_continuous (guint n_a, guint n_f, double sigma);

/**
 * afd_roofline_alpha_afd_floor:
 *
 * Returns: (N_A + N_F)·⌊σN_A⌋ / (N_A·(⌊σN_A⌋ + N_F)), ⌊σN_A⌋ full-batch instances kept
 */
double afd_roofline_alpha_afd_floor (guint n_a, guint n_f, double sigma);

/**
 * afd_roofline_alpha_afd_ceil:
 *
 * Returns: σ·(N_A + N_F)/(⌈σN_A⌉ + N_F), ⌈σN_A⌉ instances with a shrunk batch
 */
double afd_roofline_alpha_afd_ceil (guint n_a, guint n_f, double sigma);

/**
 * afd_roofline_alpha_afd:
 *
 * Returns: max(α_floor, α_ceil), what discrete AFD achieves
 */
double afd_roofline_alpha_afd (guint n_a, guint n_f, double sigma);

G_END_DECLS

#endif /* AFD_MODELS_ROOFLINE_H */
