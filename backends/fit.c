/* SPDX-License-Identifier: MIT */
/* fit.c - least-squares fit of the analytic efficiency parameters (method in fit.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "backends/fit.h"
#include "backends/registry.h"
#include "sim/cost-model.h"
#include "sim/error.h"

static const char *const family_names[AFD_FIT_N_FAMILIES]
    = { "gemm_bf16", "gemm_fp8", "attention_decode", "attention_prefill", "memory_copy",
        "grouped_gemm" };

const char *
afd_fit_family_name (AfdFitFamily family)
{
  return (int) family >= 0 && family < AFD_FIT_N_FAMILIES ? family_names[family] : NULL;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Prices every sample on @gpu into @out_s. */
static gboolean
price_all (AfdCostModel *analytic, const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
           double *out_s, GError **error)
{
  AfdPlacement where = { gpu, 0 };
  for (guint i = 0; i < n; i++)
    if (!afd_cost_model_op_time (analytic, samples[i].op, &where, &out_s[i], error))
      return FALSE;
  return TRUE;
}

gboolean
afd_fit_price (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n, double *out_s,
               GError **error)
{
  g_autoptr (AfdCostModel) analytic = afd_cost_model_new (&afd_cost_model_analytic_class, NULL,
                                                          error);
  return analytic != NULL && price_all (analytic, gpu, samples, n, out_s, error);
}

gboolean
afd_fit_errors (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                AfdFitFamilyError *out, GError **error)
{
  g_autoptr (AfdCostModel) analytic = afd_cost_model_new (&afd_cost_model_analytic_class, NULL,
                                                          error);
  if (analytic == NULL)
    return FALSE;
  g_autofree double *t = g_new (double, MAX (n, 1u));
  if (!price_all (analytic, gpu, samples, n, t, error))
    return FALSE;
  g_autofree double *abs_err = g_new (double, MAX (n, 1u));
  g_autofree double *err = g_new (double, MAX (n, 1u));
  for (int f = 0; f < AFD_FIT_N_FAMILIES; f++)
    {
      guint k = 0;
      for (guint i = 0; i < n; i++)
        if (samples[i].family == (AfdFitFamily) f && samples[i].measured_s > 0)
          {
            err[k] = (t[i] - samples[i].measured_s) / samples[i].measured_s;
            abs_err[k] = fabs (err[k]);
            k++;
          }
      out[f] = (AfdFitFamilyError) { k, 0, 0, 0 };
      if (k == 0)
        continue;
      qsort (abs_err, k, sizeof (double), cmp_double);
      qsort (err, k, sizeof (double), cmp_double);
      out[f].median_abs_error_rel
          = k % 2 ? abs_err[k / 2] : 0.5 * (abs_err[k / 2 - 1] + abs_err[k / 2]);
      out[f].median_error_rel = k % 2 ? err[k / 2] : 0.5 * (err[k / 2 - 1] + err[k / 2]);
      guint rank = (guint) ceil (0.9 * k);
      out[f].p90_abs_error_rel = abs_err[MAX (rank, 1u) - 1];
    }
  return TRUE;
}

/* J(θ): the mean over families of the family's mean squared log error (fit.h). */
static gboolean
objective (AfdCostModel *analytic, const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
           gboolean fit_grouped, double *scratch, double *out_j, GError **error)
{
  if (!price_all (analytic, gpu, samples, n, scratch, error))
    return FALSE;
  double sum[AFD_FIT_N_FAMILIES] = { 0 };
  guint count[AFD_FIT_N_FAMILIES] = { 0 };
  for (guint i = 0; i < n; i++)
    {
      AfdFitFamily f = samples[i].family;
      if ((f == AFD_FIT_GROUPED && !fit_grouped) || samples[i].measured_s <= 0
          || scratch[i] <= 0)
        continue;
      double l = log (scratch[i] / samples[i].measured_s);
      sum[f] += l * l;
      count[f]++;
    }
  double j = 0;
  for (int f = 0; f < AFD_FIT_N_FAMILIES; f++)
    if (count[f] > 0)
      j += sum[f] / count[f];
  *out_j = j;
  return TRUE;
}

/* The grid one parameter searches (fit.h). */
typedef struct {
  double *value; /* the parameter inside the working spec */
  double lo, hi, step;
  gboolean log_scale; /* step is a factor */
} Coordinate;

AfdFitParams
afd_fit_params_of (const AfdGpuSpec *gpu)
{
  AfdFitParams p = { gpu->efficiency, { 0 }, 0 };
  if (p.efficiency.gemm_max_fraction_fp8 <= 0)
    p.efficiency.gemm_max_fraction_fp8 = p.efficiency.gemm_max_fraction;
  for (int c = 0; c < 3; c++)
    p.launch_overhead_s[c] = afd_gpu_spec_launch_overhead_s (gpu, (AfdKernelClass) c);
  return p;
}

void
afd_fit_params_apply (const AfdFitParams *params, AfdGpuSpec *gpu)
{
  gpu->efficiency = params->efficiency;
  gpu->launch_overhead_gemm_s = params->launch_overhead_s[AFD_KERNEL_CLASS_GEMM];
  gpu->launch_overhead_attention_s = params->launch_overhead_s[AFD_KERNEL_CLASS_ATTENTION];
  gpu->launch_overhead_memory_s = params->launch_overhead_s[AFD_KERNEL_CLASS_MEMORY];
}

void
afd_fit_split (const AfdFitSample *samples, guint n, guint32 seed, GArray *fit_half,
               GArray *held_out)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree gboolean *in_fit = g_new0 (gboolean, MAX (n, 1u));
  g_autofree guint *idx = g_new (guint, MAX (n, 1u));
  for (int f = 0; f < AFD_FIT_N_FAMILIES; f++)
    {
      guint k = 0;
      for (guint i = 0; i < n; i++)
        if (samples[i].family == (AfdFitFamily) f)
          idx[k++] = i;
      for (guint i = k; i > 1; i--) /* Fisher–Yates */
        {
          guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
          guint t = idx[i - 1];
          idx[i - 1] = idx[j];
          idx[j] = t;
        }
      for (guint i = 0; i < (k + 1) / 2; i++)
        in_fit[idx[i]] = TRUE;
    }
  for (guint i = 0; i < n; i++)
    g_array_append_val (in_fit[i] ? fit_half : held_out, samples[i]);
}

gboolean
afd_fit_efficiency (const AfdGpuSpec *gpu, const AfdFitSample *samples, guint n,
                    gboolean fit_grouped, gboolean hold_half_m, AfdFitParams *out,
                    GError **error)
{
  g_return_val_if_fail (gpu != NULL && out != NULL, FALSE);
  guint used = 0, fp8 = 0;
  for (guint i = 0; i < n; i++)
    {
      used += samples[i].family != AFD_FIT_GROUPED || fit_grouped;
      fp8 += samples[i].family == AFD_FIT_GEMM_FP8;
    }
  if (used == 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "fit: no measured op to fit to");
      return FALSE;
    }
  g_autoptr (AfdCostModel) analytic = afd_cost_model_new (&afd_cost_model_analytic_class, NULL,
                                                          error);
  if (analytic == NULL)
    return FALSE;
  AfdGpuSpec work = *gpu; /* shallow: only numbers change, the strings stay the caller's */
  AfdFitParams start = afd_fit_params_of (gpu);
  afd_fit_params_apply (&start, &work);
  work.launch_overhead_s = 0; /* a class overhead searched down to 0 then means 0 */
  Coordinate coords[] = {
    { &work.efficiency.gemm_max_fraction, 0.05, 1.0, 0.0025, FALSE },
    { &work.efficiency.gemm_max_fraction_fp8, 0.05, 1.0, 0.0025, FALSE },
    { &work.efficiency.gemm_half_m, 1.0, 4096.0, pow (2.0, 1.0 / 8.0), TRUE },
    { &work.efficiency.memory_fraction, 0.05, 1.0, 0.0025, FALSE },
    { &work.efficiency.attention_max_fraction, 0.05, 1.0, 0.0025, FALSE },
    { &work.launch_overhead_gemm_s, 0.0, 20e-6, 0.1e-6, FALSE },
    { &work.launch_overhead_attention_s, 0.0, 20e-6, 0.1e-6, FALSE },
    { &work.launch_overhead_memory_s, 0.0, 20e-6, 0.1e-6, FALSE },
  };
  g_autofree double *scratch = g_new (double, MAX (n, 1u));
  double best_j;
  if (!objective (analytic, &work, samples, n, fit_grouped, scratch, &best_j, error))
    return FALSE;
  for (int cycle = 0; cycle < 30; cycle++)
    {
      gboolean changed = FALSE;
      for (guint c = 0; c < G_N_ELEMENTS (coords); c++)
        {
          Coordinate *co = &coords[c];
          if (hold_half_m && co->value == &work.efficiency.gemm_half_m)
            continue;
          double keep = *co->value, best_v = keep;
          for (int i = 0;; i++)
            {
              double v = co->log_scale ? co->lo * pow (co->step, i) : co->lo + co->step * i;
              if (v > co->hi * (1 + 1e-12))
                break;
              *co->value = v;
              double j;
              if (!objective (analytic, &work, samples, n, fit_grouped, scratch, &j, error))
                return FALSE;
              if (j < best_j - 1e-12)
                {
                  best_j = j;
                  best_v = v;
                }
            }
          *co->value = best_v;
          changed |= best_v != keep;
        }
      if (!changed)
        break;
    }
  *out = afd_fit_params_of (&work);
  out->objective = best_j;
  if (fp8 == 0) /* nothing measured it: not given (the bf16 ceiling serves) */
    out->efficiency.gemm_max_fraction_fp8 = 0;
  return TRUE;
}
