/* SPDX-License-Identifier: MIT */
/*
 * roofline.c - the AFD communication-level roofline and its companion closed forms.
 *
 * Formulas, sources and worked examples: docs/models/afd-roofline.md (a reconstruction of
 * arXiv 2602.09721 from secondary notes, /work/shared/reference/afd-roofline.md §2).
 * Checked by tests/test-roofline.c. Pure arithmetic: no I/O, no allocation, no globals.
 */
#include "config.h"

#include <math.h>

#include "models/roofline.h"
#include "sim/error.h"

/* σ·N_A within this of an integer counts as that integer (0.8·5 must be exactly 4). */
#define INTEGER_SLACK 1e-9

gboolean
afd_roofline_budget_s (const AfdRooflineBudget *budget, double *out_t_b_s, GError **error)
{
  g_return_val_if_fail (budget != NULL && out_t_b_s != NULL, FALSE);
  g_return_val_if_fail (budget->n_layers > 0 && budget->n_bo > 0, FALSE);
  double iteration_s = budget->slo_s * budget->accept_length;
  double left_s = iteration_s - budget->gap_s;
  if (!(left_s > 0))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE,
                   "roofline: SLO × L_accept = %g s leaves nothing after the gap t_g = %g s",
                   iteration_s, budget->gap_s);
      return FALSE;
    }
  *out_t_b_s = left_s / ((double) budget->n_layers * (double) budget->n_bo);
  return TRUE;
}

/* Sets a "field must be > 0" error; returns FALSE for chaining. */
static gboolean
bad_field (GError **error, const char *field, const char *problem)
{
  g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "roofline: %s %s", field, problem);
  return FALSE;
}

gboolean
afd_roofline_check (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                    GError **error)
{
  g_return_val_if_fail (model != NULL && hw != NULL, FALSE);
  if (!(model->hidden > 0))
    return bad_field (error, "hidden size H", "must be > 0");
  if (!(model->expert_hidden > 0))
    return bad_field (error, "expert intermediate size M", "must be > 0 (dense model?)");
  if (model->n_experts == 0)
    return bad_field (error, "routed experts E", "must be > 0 (dense model?)");
  if (model->top_k == 0 || model->top_k > model->n_experts)
    return bad_field (error, "top_k", "must be in 1..E");
  if (model->n_moe_layers == 0)
    return bad_field (error, "MoE layers", "must be > 0");
  if (!(model->weight_bytes > 0) || !(model->dispatch_bytes > 0) || !(model->combine_bytes > 0))
    return bad_field (error, "weight/dispatch/combine bytes per element", "must be > 0");
  if (!(hw->peak_flop_per_s > 0))
    return bad_field (error, "peak_flop_per_s", "must be > 0");
  if (!(hw->hbm_bandwidth_bytes_per_s > 0))
    return bad_field (error, "hbm_bandwidth_bytes_per_s", "must be > 0");
  if (!(hw->hbm_bytes > 0))
    return bad_field (error, "hbm_bytes", "must be > 0");
  if (!(hw->scale_up_bytes_per_s > 0))
    return bad_field (error, "scale_up_bytes_per_s", "must be > 0");
  if (!(hw->scale_out_bytes_per_s > 0))
    return bad_field (error, "scale_out_bytes_per_s", "must be > 0");
  if (hw->gpus_per_node == 0)
    return bad_field (error, "gpus_per_node", "must be > 0");
  return TRUE;
}

/* Returns: bytes moved per token-destination, dispatch plus combine, (d + c)·H. */
static double
pair_bytes (const AfdRooflineModel *model)
{
  return (model->dispatch_bytes + model->combine_bytes) * model->hidden;
}

/* Returns: max(1, TopK/N_F), the experts one scale-out token reaches inside a node. */
static double
fan_out (const AfdRooflineModel *model, guint n_f)
{
  return MAX (1.0, (double) model->top_k / (double) n_f);
}

/* Returns: ceil(E/(N_F·g)) in integers. */
static guint
experts_per_gpu (const AfdRooflineModel *model, const AfdRooflineHardware *hw, guint n_f)
{
  guint64 gpus = (guint64) n_f * hw->gpus_per_node;
  return (guint) (((guint64) model->n_experts + gpus - 1) / gpus);
}

void
afd_roofline_point (const AfdRooflineModel *model, const AfdRooflineHardware *hw, double t_b_s,
                    guint n_f, AfdRooflinePoint *out)
{
  g_return_if_fail (model != NULL && hw != NULL && out != NULL);
  g_return_if_fail (t_b_s > 0 && n_f >= 1);
  double bytes = pair_bytes (model);
  double expert_weight_bytes = 3.0 * model->hidden * model->expert_hidden * model->weight_bytes;
  double flop_per_pair = 6.0 * model->hidden * model->expert_hidden;

  AfdRooflinePoint p = { .n_f = n_f };
  p.b_scale_up = hw->scale_up_bytes_per_s * t_b_s / bytes;
  p.b_scale_out = hw->scale_out_bytes_per_s * t_b_s / bytes;
  p.fan_out = fan_out (model, n_f);
  double out_side = p.b_scale_out * p.fan_out;
  p.b_rank = MIN (out_side, p.b_scale_up);
  p.experts_per_gpu = experts_per_gpu (model, hw, n_f);
  p.tokens_per_expert = p.b_rank / p.experts_per_gpu;
  /* FLOPs per weight byte: 6HM·pairs over experts·3HM·w bytes. */
  p.intensity_flop_per_byte = 2.0 * p.tokens_per_expert / model->weight_bytes;
  p.compute_s = flop_per_pair * p.b_rank / hw->peak_flop_per_s;
  p.hfu_comm_bound = p.compute_s / t_b_s;
  p.ofu_bound =
      MIN (1.0, p.intensity_flop_per_byte * hw->hbm_bandwidth_bytes_per_s / hw->peak_flop_per_s);
  p.hfu_bound = MIN (p.hfu_comm_bound, p.ofu_bound);
  p.weight_load_s = p.experts_per_gpu * expert_weight_bytes / hw->hbm_bandwidth_bytes_per_s;
  p.weight_bytes_per_gpu =
      (double) p.experts_per_gpu * expert_weight_bytes * (double) model->n_moe_layers;
  p.hbm_bandwidth_ok = p.weight_load_s <= t_b_s;
  p.hbm_capacity_ok = p.weight_bytes_per_gpu <= hw->hbm_bytes;

  /* Regions in the reference's order of precedence: the scale-up term binds first; one
   * expert per GPU caps intensity; between them fan-out (N_F <= TopK) keeps I stable. */
  if (out_side >= p.b_scale_up)
    p.region = AFD_ROOFLINE_REGION_SCALE_UP_BOUND;
  else if (p.experts_per_gpu == 1)
    p.region = AFD_ROOFLINE_REGION_MAX_INTENSITY;
  else if (n_f <= model->top_k)
    p.region = AFD_ROOFLINE_REGION_STABLE_INTENSITY;
  else
    p.region = AFD_ROOFLINE_REGION_DEAD_ZONE;
  *out = p;
}

double
afd_roofline_hfu_comm (const AfdRooflineModel *model, const AfdRooflineHardware *hw, guint n_f)
{
  g_return_val_if_fail (model != NULL && hw != NULL && n_f >= 1, 0);
  double bw = MIN (hw->scale_up_bytes_per_s, hw->scale_out_bytes_per_s * fan_out (model, n_f));
  return 6.0 * model->expert_hidden * bw /
         ((model->dispatch_bytes + model->combine_bytes) * hw->peak_flop_per_s);
}

double
afd_roofline_dead_zone_hfu (const AfdRooflineModel *model, const AfdRooflineHardware *hw)
{
  g_return_val_if_fail (model != NULL && hw != NULL, 0);
  double bw = MIN (hw->scale_up_bytes_per_s, hw->scale_out_bytes_per_s);
  return 6.0 * model->expert_hidden * bw /
         ((model->dispatch_bytes + model->combine_bytes) * hw->peak_flop_per_s);
}

double
afd_roofline_scale_up_limit_n_f (const AfdRooflineModel *model, const AfdRooflineHardware *hw)
{
  g_return_val_if_fail (model != NULL && hw != NULL, 0);
  return (double) model->top_k * hw->scale_out_bytes_per_s / hw->scale_up_bytes_per_s;
}

guint
afd_roofline_max_intensity_n_f (const AfdRooflineModel *model, const AfdRooflineHardware *hw)
{
  g_return_val_if_fail (model != NULL && hw != NULL && hw->gpus_per_node > 0, 0);
  return (model->n_experts + hw->gpus_per_node - 1) / hw->gpus_per_node;
}

const char *
afd_roofline_region_name (AfdRooflineRegion region)
{
  switch (region)
    {
    case AFD_ROOFLINE_REGION_SCALE_UP_BOUND:
      return "scale-up-bound";
    case AFD_ROOFLINE_REGION_STABLE_INTENSITY:
      return "stable-intensity";
    case AFD_ROOFLINE_REGION_DEAD_ZONE:
      return "dead-zone";
    case AFD_ROOFLINE_REGION_MAX_INTENSITY:
      return "max-intensity";
    }
  return NULL;
}

gboolean
afd_roofline_ceiling (const AfdRooflineModel *model, const AfdRooflineHardware *hw,
                      double t_b_s, guint n_f_min, guint n_f_max, AfdRooflinePoint *out_best)
{
  g_return_val_if_fail (n_f_min >= 1 && n_f_max >= n_f_min && out_best != NULL, FALSE);
  gboolean found = FALSE;
  AfdRooflinePoint best = { 0 };
  for (guint64 n_f = n_f_min; n_f <= n_f_max; n_f++)
    {
      AfdRooflinePoint p;
      afd_roofline_point (model, hw, t_b_s, (guint) n_f, &p);
      if (!p.hbm_bandwidth_ok || !p.hbm_capacity_ok)
        continue;
      if (!found || p.hfu_bound > best.hfu_bound)
        best = p;
      found = TRUE;
    }
  if (found)
    *out_best = best;
  return found;
}

double
afd_roofline_pingpong_min_microbatches (double attn_s, double expert_s, double comm_s)
{
  double t_f = MAX (attn_s, expert_s);
  g_return_val_if_fail (t_f > 0 && comm_s >= 0, 0);
  return 2.0 * (1.0 + comm_s / t_f);
}

gboolean
afd_roofline_pingpong_bubble_free (double attn_s, double expert_s, double comm_s,
                                   guint n_microbatches)
{
  double t_f = MAX (attn_s, expert_s);
  g_return_val_if_fail (t_f > 0 && comm_s >= 0, FALSE);
  /* m·T_f >= 2(T_f + T_c) is the multiplied-out form; it avoids dividing by T_f. */
  return comm_s < t_f && (double) n_microbatches * t_f >= 2.0 * (t_f + comm_s);
}

double
afd_roofline_pingpong_iteration_s (double attn_s, double expert_s, double comm_s,
                                   guint n_microbatches, guint n_layers)
{
  g_return_val_if_fail (n_microbatches >= 1 && n_layers >= 1, 0);
  double t_f = MAX (attn_s, expert_s);
  return (attn_s + expert_s + 2.0 * comm_s) +
         t_f * ((double) n_microbatches * (double) n_layers - 1.0);
}

double
afd_roofline_ep_comm_s (double tokens, double experts_per_token, double hidden,
                        double dispatch_bytes, double combine_bytes,
                        double bandwidth_bytes_per_s)
{
  g_return_val_if_fail (bandwidth_bytes_per_s > 0, 0);
  return (dispatch_bytes + combine_bytes) * tokens * experts_per_token * hidden /
         bandwidth_bytes_per_s;
}

double
afd_roofline_alpha_ep (double lambda, double sigma)
{
  g_return_val_if_fail (sigma > 0 && sigma <= 1 && lambda >= 0, 0);
  return (lambda + 1.0) / (lambda + 1.0 / sigma);
}

double
afd_roofline_alpha_afd_continuous (guint n_a, guint n_f, double sigma)
{
  g_return_val_if_fail (sigma > 0 && sigma <= 1 && n_a > 0 && n_f > 0, 0);
  return ((double) n_a + n_f) / ((double) n_a + n_f / sigma);
}

double
afd_roofline_alpha_afd_floor (guint n_a, guint n_f, double sigma)
{
  g_return_val_if_fail (sigma > 0 && sigma <= 1 && n_a > 0 && n_f > 0, 0);
  double k = floor (sigma * n_a + INTEGER_SLACK);
  return ((double) n_a + n_f) * k / ((double) n_a * (k + n_f));
}

double
afd_roofline_alpha_afd_ceil (guint n_a, guint n_f, double sigma)
{
  g_return_val_if_fail (sigma > 0 && sigma <= 1 && n_a > 0 && n_f > 0, 0);
  double k = ceil (sigma * n_a - INTEGER_SLACK);
  return sigma * ((double) n_a + n_f) / (k + n_f);
}

double
afd_roofline_alpha_afd (guint n_a, guint n_f, double sigma)
{
  return MAX (afd_roofline_alpha_afd_floor (n_a, n_f, sigma),
              afd_roofline_alpha_afd_ceil (n_a, n_f, sigma));
}
