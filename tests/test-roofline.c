/* SPDX-License-Identifier: MIT */
/*
 * Tests for models/roofline.c: the AFD communication roofline reconstructed from seed 004.
 * Each expected value is worked out by hand in a comment, as docs/models/afd-roofline.md
 * works it; the cases are the reference's §6 cases 1-5 and 7-9 and the §2.6 sweep table.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "models/roofline.h"
#include "tests/test-helpers.h"

/* DeepSeek-V3: H 7168, M 2048, 256 routed experts, top-8, 1 shared, 58 MoE of 61 layers;
 * FP8 expert weights and dispatch, BF16 combine. */
static const AfdRooflineModel dsv3 = {
  .hidden = 7168,
  .expert_hidden = 2048,
  .n_experts = 256,
  .top_k = 8,
  .n_shared = 1,
  .n_moe_layers = 58,
  .weight_bytes = 1,
  .dispatch_bytes = 1,
  .combine_bytes = 2,
};

/* H800: 1979 TFLOP/s FP8, 3.35 TB/s, 80 GB; 160 GB/s achievable NVLink, 400G IB = 50 GB/s. */
static const AfdRooflineHardware h800 = {
  .peak_flop_per_s = 1.979e15,
  .hbm_bandwidth_bytes_per_s = 3.35e12,
  .hbm_bytes = 80e9,
  .scale_up_bytes_per_s = 160e9,
  .scale_out_bytes_per_s = 50e9,
  .gpus_per_node = 8,
};

/* The reference's budget: SLO 50 ms, L_accept 1.7, t_g 15 ms, 61 layers, 3BO. */
static const AfdRooflineBudget budget_50ms = {
  .slo_s = 0.050, .accept_length = 1.7, .gap_s = 0.015, .n_layers = 61, .n_bo = 3
};

/* Returns t_B for @b, failing the test on error. */
static double
budget_of (const AfdRooflineBudget *b)
{
  g_autoptr (GError) error = NULL;
  double t_b = 0;
  cr_assert (afd_roofline_budget_s (b, &t_b, &error));
  afd_assert_no_error (error);
  return t_b;
}

TestSuite (roofline);

/* Case 5: t_B = (0.05·1.7 − 0.015)/(61·3) = 0.07/183 s = 382.51 µs (SLO 100 ms: 847.0 µs). */
Test (roofline, budget_matches_reference_case_5)
{
  /* 0.005 µs: the reference prints one decimal. */
  cr_assert_float_eq (budget_of (&budget_50ms) * 1e6, 382.514, 0.005);
  AfdRooflineBudget b100 = budget_50ms;
  b100.slo_s = 0.100;
  cr_assert_float_eq (budget_of (&b100) * 1e6, 846.995, 0.005);
  /* Step-3's special case: no MTP, no gap: 50 ms/(61·3) = 273.2 µs. */
  AfdRooflineBudget step3 = { .slo_s = 0.050, .accept_length = 1, .gap_s = 0, .n_layers = 61,
                              .n_bo = 3 };
  cr_assert_float_eq (budget_of (&step3) * 1e6, 273.224, 0.005);
}

/* A gap that eats the whole iteration is an input error, not a negative budget. */
Test (roofline, budget_rejects_gap_beyond_iteration)
{
  g_autoptr (GError) error = NULL;
  AfdRooflineBudget b = budget_50ms;
  b.gap_s = 0.085; /* = 0.05 · 1.7 exactly: nothing left */
  double t_b = -1;
  cr_assert_not (afd_roofline_budget_s (&b, &t_b, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_INFEASIBLE);
  afd_assert_error_contains (error, "t_g");
  cr_assert_eq (t_b, -1, "output must be untouched");
}

/* Case 1: 2·160e9·2048/1.979e15 = 0.33116 (paper 33.1 %) for every N_F <= 2.5. */
Test (roofline, hfu_h800_dsv3_is_33_1_percent)
{
  /* 5e-6: the hand value is rounded to 5 digits. */
  cr_assert_float_eq (afd_roofline_hfu_comm (&dsv3, &h800, 1), 0.33116, 5e-6);
  cr_assert_float_eq (afd_roofline_hfu_comm (&dsv3, &h800, 2), 0.33116, 5e-6);
  AfdRooflinePoint p;
  afd_roofline_point (&dsv3, &h800, budget_of (&budget_50ms), 2, &p);
  /* The B_rank route and the closed form are the same number (t_B and H cancel). */
  cr_assert_float_eq (p.hfu_comm_bound, afd_roofline_hfu_comm (&dsv3, &h800, 2), 1e-12);
  cr_assert_float_eq (p.hfu_bound, 0.33116, 5e-6);
}

/* Case 2: GB200 with 720 GB/s scale-up and 4.5 PF: 2·720e9·2048/4.5e15 = 0.65536. */
Test (roofline, hfu_gb200_dsv3_is_65_5_percent)
{
  AfdRooflineHardware gb200 = { .peak_flop_per_s = 4.5e15,
                                .hbm_bandwidth_bytes_per_s = 8e12,
                                .hbm_bytes = 186e9,
                                .scale_up_bytes_per_s = 720e9,
                                .scale_out_bytes_per_s = 720e9,
                                .gpus_per_node = 4 };
  /* 1e-9: exact arithmetic on exactly representable inputs. */
  for (guint n_f = 1; n_f <= 64; n_f *= 2)
    cr_assert_float_eq (afd_roofline_hfu_comm (&dsv3, &gb200, n_f), 0.65536, 1e-9);
  AfdRooflinePoint best;
  cr_assert (afd_roofline_ceiling (&dsv3, &gb200, budget_of (&budget_50ms), 1, 64, &best));
  cr_assert_float_eq (best.hfu_bound, 0.65536, 1e-9);
  cr_assert_eq (best.region, AFD_ROOFLINE_REGION_SCALE_UP_BOUND);
}

/* Case 3: B200 (8 GPUs, 50 GB/s NIC, 4.5 PF), N_F = 1 is scale-out bound: 2·50e9·2048·8/4.5e15
 * = 0.36409. */
Test (roofline, hfu_b200_dsv3_is_36_4_percent)
{
  AfdRooflineHardware b200 = { .peak_flop_per_s = 4.5e15,
                               .hbm_bandwidth_bytes_per_s = 8e12,
                               .hbm_bytes = 180e9,
                               .scale_up_bytes_per_s = 720e9,
                               .scale_out_bytes_per_s = 50e9,
                               .gpus_per_node = 8 };
  /* 5e-6: hand value rounded to 5 digits. */
  cr_assert_float_eq (afd_roofline_hfu_comm (&dsv3, &b200, 1), 0.36409, 5e-6);
  AfdRooflinePoint best;
  cr_assert (afd_roofline_ceiling (&dsv3, &b200, budget_of (&budget_50ms), 1, 64, &best));
  cr_assert_eq (best.n_f, 1);
  cr_assert_float_eq (best.hfu_bound, 0.36409, 5e-6);
  cr_assert_eq (best.region, AFD_ROOFLINE_REGION_STABLE_INTENSITY,
                "400 < 720 GB/s: the scale-out side binds already at N_F = 1");
}

/* Case 4: the dead-zone floor 2·50e9·2048/1.979e15 = 0.10349, reached for every N_F >= TopK. */
Test (roofline, dead_zone_floor_is_10_35_percent)
{
  cr_assert_float_eq (afd_roofline_dead_zone_hfu (&dsv3, &h800), 0.10349, 5e-6);
  for (guint n_f = 8; n_f <= 64; n_f++)
    cr_assert_float_eq (afd_roofline_hfu_comm (&dsv3, &h800, n_f), 0.10349, 5e-6, "N_F %u", n_f);
  /* DeepEP's 40 GB/s effective IB gives 8.3 %: 2·40e9·2048/1.979e15 = 0.08279. */
  AfdRooflineHardware ib40 = h800;
  ib40.scale_out_bytes_per_s = 40e9;
  cr_assert_float_eq (afd_roofline_dead_zone_hfu (&dsv3, &ib40), 0.08279, 5e-6);
}

/* The §2.6 sweep: B_rank, experts/GPU, tokens/expert, I, HFU, t_comp, t_weight and region per
 * N_F match the reference's table to its printed precision. */
Test (roofline, sweep_matches_reference_table)
{
  static const struct
  {
    guint n_f;
    double b_rank, tok_per_expert, intensity, hfu_percent, t_comp_us, t_weight_us;
    guint experts;
    AfdRooflineRegion region;
  } rows[] = {
    { 1, 2846, 88.9, 178, 33.1, 126.7, 420.7, 32, AFD_ROOFLINE_REGION_SCALE_UP_BOUND },
    { 2, 2846, 177.9, 356, 33.1, 126.7, 210.3, 16, AFD_ROOFLINE_REGION_SCALE_UP_BOUND },
    { 3, 2372, 215.6, 431, 27.6, 105.6, 144.6, 11, AFD_ROOFLINE_REGION_STABLE_INTENSITY },
    { 4, 1779, 222.4, 445, 20.7, 79.2, 105.2, 8, AFD_ROOFLINE_REGION_STABLE_INTENSITY },
    { 8, 889, 222.4, 445, 10.35, 39.6, 52.6, 4, AFD_ROOFLINE_REGION_STABLE_INTENSITY },
    { 16, 889, 444.7, 889, 10.35, 39.6, 26.3, 2, AFD_ROOFLINE_REGION_DEAD_ZONE },
    { 32, 889, 889.4, 1779, 10.35, 39.6, 13.1, 1, AFD_ROOFLINE_REGION_MAX_INTENSITY },
    { 64, 889, 889.4, 1779, 10.35, 39.6, 13.1, 1, AFD_ROOFLINE_REGION_MAX_INTENSITY },
  };
  double t_b = budget_of (&budget_50ms);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      AfdRooflinePoint p;
      afd_roofline_point (&dsv3, &h800, t_b, rows[i].n_f, &p);
      guint n = rows[i].n_f;
      /* Tolerances are half a unit of the reference's last printed digit (+ float slack). */
      cr_assert_float_eq (p.b_rank, rows[i].b_rank, 0.5 + 1e-9, "N_F %u b_rank %g", n, p.b_rank);
      cr_assert_eq (p.experts_per_gpu, rows[i].experts, "N_F %u", n);
      cr_assert_float_eq (p.tokens_per_expert, rows[i].tok_per_expert, 0.05 + 1e-9, "N_F %u", n);
      cr_assert_float_eq (p.intensity_flop_per_byte, rows[i].intensity, 0.5 + 1e-9, "N_F %u", n);
      double hfu_tol = rows[i].hfu_percent == 10.35 ? 0.005 : 0.05;
      cr_assert_float_eq (p.hfu_comm_bound * 100, rows[i].hfu_percent, hfu_tol, "N_F %u", n);
      cr_assert_float_eq (p.compute_s * 1e6, rows[i].t_comp_us, 0.05 + 1e-9, "N_F %u", n);
      cr_assert_float_eq (p.weight_load_s * 1e6, rows[i].t_weight_us, 0.05 + 1e-9, "N_F %u", n);
      cr_assert_eq (p.region, rows[i].region, "N_F %u region %d", n, (int) p.region);
      /* Only N_F = 1 streams its 32 experts (420.7 µs) slower than t_B = 382.5 µs, and that
       * is exactly when the HBM roofline OFU(I) cuts below the comm bound. */
      cr_assert_eq (p.hbm_bandwidth_ok, n != 1, "N_F %u", n);
      cr_assert_eq (p.ofu_bound < p.hfu_comm_bound, n == 1, "N_F %u", n);
    }
  /* B_ScaleUp = 160e9·382.514e-6/21504 = 2846.08, B_ScaleOut = 50e9·382.514e-6/21504 = 889.40. */
  AfdRooflinePoint p;
  afd_roofline_point (&dsv3, &h800, t_b, 1, &p);
  cr_assert_float_eq (p.b_scale_up, 2846.08, 0.005);
  cr_assert_float_eq (p.b_scale_out, 889.40, 0.005);
  /* HBM capacity: 32 experts · 58 layers · 44.04 MB = 81.7 GB > 80 GB at N_F = 1 only. */
  cr_assert_not (p.hbm_capacity_ok);
  /* At N_F = 1 the bound is the HBM roofline: I·HBM_BW/FLOPS = 177.88·3.35e12/1.979e15
   * = 0.30111 (= t_B/t_weight · HFU_comm). */
  cr_assert_float_eq (p.hfu_bound, 0.30111, 5e-6);
  cr_assert_float_eq (p.weight_bytes_per_gpu, 32.0 * 58 * 3 * 7168 * 2048, 1);
  afd_roofline_point (&dsv3, &h800, t_b, 2, &p);
  cr_assert (p.hbm_capacity_ok);
}

/* Region boundaries: N_F <= TopK·BW_so/BW_su = 2.5 is scale-up bound; ceil(E/g) = 32 starts
 * the one-expert-per-GPU region. */
Test (roofline, region_boundaries)
{
  cr_assert_float_eq (afd_roofline_scale_up_limit_n_f (&dsv3, &h800), 2.5, 1e-12);
  cr_assert_eq (afd_roofline_max_intensity_n_f (&dsv3, &h800), 32);
  cr_assert_str_eq (afd_roofline_region_name (AFD_ROOFLINE_REGION_DEAD_ZONE), "dead-zone");
  cr_assert_str_eq (afd_roofline_region_name (AFD_ROOFLINE_REGION_SCALE_UP_BOUND),
                    "scale-up-bound");
  cr_assert_null (afd_roofline_region_name ((AfdRooflineRegion) 0));
}

/* HFU does not depend on the SLO: doubling it scales tokens by 2.21× and leaves HFU alone. */
Test (roofline, hfu_independent_of_slo)
{
  AfdRooflineBudget b100 = budget_50ms;
  b100.slo_s = 0.100;
  double t50 = budget_of (&budget_50ms), t100 = budget_of (&b100);
  for (guint n_f = 1; n_f <= 64; n_f++)
    {
      AfdRooflinePoint a, b;
      afd_roofline_point (&dsv3, &h800, t50, n_f, &a);
      afd_roofline_point (&dsv3, &h800, t100, n_f, &b);
      /* 1e-12: same formula, rounding only. */
      cr_assert_float_eq (a.hfu_comm_bound, b.hfu_comm_bound, 1e-12);
      /* 847.0/382.5 = 2.2143 */
      cr_assert_float_eq (b.b_rank / a.b_rank, 2.2143, 5e-5);
    }
}

/* The HFU bound never exceeds the HBM roofline OFU(I) = min(1, I·HBM_BW/FLOPS); on H20
 * (296 TF, 4 TB/s) the comm bound is above 100 % and the HBM side binds. */
Test (roofline, hfu_capped_by_hbm_roofline)
{
  AfdRooflineHardware h20 = { .peak_flop_per_s = 2.96e14,
                              .hbm_bandwidth_bytes_per_s = 4e12,
                              .hbm_bytes = 96e9,
                              .scale_up_bytes_per_s = 370e9,
                              .scale_out_bytes_per_s = 50e9,
                              .gpus_per_node = 8 };
  double t_b = budget_of (&budget_50ms);
  for (guint n_f = 1; n_f <= 64; n_f++)
    {
      AfdRooflinePoint p;
      afd_roofline_point (&dsv3, &h20, t_b, n_f, &p);
      cr_assert (p.hfu_bound <= p.ofu_bound && p.hfu_bound <= p.hfu_comm_bound);
      cr_assert (p.ofu_bound <= 1.0);
    }
  AfdRooflinePoint p;
  afd_roofline_point (&dsv3, &h20, t_b, 2, &p);
  /* 2·370e9·2048/2.96e14 = 5.12 > 1: communication is not the limit on H20. */
  cr_assert_gt (p.hfu_comm_bound, 1.0);
  cr_assert_float_eq (p.hfu_bound, p.ofu_bound, 1e-12);
}

/* BF16 everywhere (A100 has no FP8): 4 bytes per pair element and 2-byte weights give
 * HFU = 6·M·BW/(4·FLOPS) and I = tokens/expert. */
Test (roofline, bf16_bytes_are_parameters)
{
  AfdRooflineModel bf16 = dsv3;
  bf16.weight_bytes = 2;
  bf16.dispatch_bytes = 2;
  AfdRooflineHardware a100 = { .peak_flop_per_s = 3.12e14,
                               .hbm_bandwidth_bytes_per_s = 2.039e12,
                               .hbm_bytes = 80e9,
                               .scale_up_bytes_per_s = 240e9,
                               .scale_out_bytes_per_s = 25e9,
                               .gpus_per_node = 8 };
  /* N_F = 64: 6·2048·25e9/(4·3.12e14) = 0.24615 */
  cr_assert_float_eq (afd_roofline_hfu_comm (&bf16, &a100, 64), 0.24615, 5e-6);
  AfdRooflinePoint p;
  afd_roofline_point (&bf16, &a100, budget_of (&budget_50ms), 64, &p);
  cr_assert_float_eq (p.intensity_flop_per_byte, p.tokens_per_expert, 1e-9);
}

/* Bad parameters are CONFIG errors naming the field, never NaN output. */
Test (roofline, check_rejects_bad_parameters)
{
  cr_assert (afd_roofline_check (&dsv3, &h800, NULL));
  AfdRooflineModel m = dsv3;
  m.top_k = 300;
  g_autoptr (GError) error = NULL;
  cr_assert_not (afd_roofline_check (&m, &h800, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  afd_assert_error_contains (error, "top_k");
  g_clear_error (&error);
  AfdRooflineHardware h = h800;
  h.scale_out_bytes_per_s = 0;
  cr_assert_not (afd_roofline_check (&dsv3, &h, &error));
  afd_assert_error_contains (error, "scale_out_bytes_per_s");
  g_clear_error (&error);
  m = dsv3;
  m.n_experts = 0;
  cr_assert_not (afd_roofline_check (&m, &h800, &error));
  afd_assert_error_contains (error, "experts");
}

/* Case 7: DeepSeek's EP limit (1 B + 2 B)·32·9·7K/50 GB/s = 120.96 µs uses 7K = 7000, not
 * 7168 (which gives 123.86 µs); TPOT = 61·2·120.96 µs = 14.757 ms; at 900 GB/s 6.72 µs. */
Test (roofline, deepseek_ep_limit)
{
  double per_layer = afd_roofline_ep_comm_s (32, 9, 7000, 1, 2, 50e9);
  /* 1e-9 µs: exact decimal arithmetic. */
  cr_assert_float_eq (per_layer * 1e6, 120.96, 1e-9);
  cr_assert_float_eq (61 * 2 * per_layer * 1e3, 14.75712, 1e-9);
  cr_assert_float_eq (afd_roofline_ep_comm_s (32, 9, 7000, 1, 2, 900e9) * 1e6, 6.72, 1e-9);
  /* 3·32·9·7168/50e9 = 123.863 µs */
  cr_assert_float_eq (afd_roofline_ep_comm_s (32, 9, 7168, 1, 2, 50e9) * 1e6, 123.863, 5e-4);
}

/* Case 8: MegaScale-Infer ping-pong: m >= 2(1 + T_c/T_f); with T_a = T_e = 100 µs and
 * T_c = 50 µs, m >= 3; T_total(m=3, L=61) = (100+100+100) + 100·(183−1) = 18500 µs. */
Test (roofline, pingpong_rule)
{
  cr_assert_float_eq (afd_roofline_pingpong_min_microbatches (100e-6, 100e-6, 50e-6), 3.0, 1e-12);
  cr_assert (afd_roofline_pingpong_bubble_free (100e-6, 100e-6, 50e-6, 3));
  cr_assert_not (afd_roofline_pingpong_bubble_free (100e-6, 100e-6, 50e-6, 2));
  /* T_c >= T_f can never be hidden, whatever m. */
  cr_assert_not (afd_roofline_pingpong_bubble_free (100e-6, 80e-6, 100e-6, 100));
  /* T_f = max(T_a, T_e) = 120 µs: m >= 2(1 + 30/120) = 2.5. */
  cr_assert_float_eq (afd_roofline_pingpong_min_microbatches (120e-6, 90e-6, 30e-6), 2.5, 1e-12);
  /* 1e-9 µs: sums of exact-ish decimals. */
  cr_assert_float_eq (afd_roofline_pingpong_iteration_s (100e-6, 100e-6, 50e-6, 3, 61) * 1e6,
                      18500, 1e-6);
  /* Unequal: (120 + 90 + 60) + 120·(2·4 − 1) = 270 + 840 = 1110 µs */
  cr_assert_float_eq (afd_roofline_pingpong_iteration_s (120e-6, 90e-6, 30e-6, 2, 4) * 1e6,
                      1110, 1e-6);
}

/* Case 9: the §2.8 imbalance table, all 25 values within ±0.001. */
Test (roofline, imbalance_table)
{
  static const double sigma[5] = { 0.95, 0.9, 0.85, 0.8, 0.7 };
  static const double ep2[5] = { 0.983, 0.964, 0.944, 0.923, 0.875 };
  static const double ep4[5] = { 0.990, 0.978, 0.966, 0.952, 0.921 };
  static const double afd51[5] = { 0.960, 0.960, 0.960, 0.960, 0.900 };
  static const double afd42[5] = { 0.950, 0.900, 0.900, 0.900, 0.840 };
  static const double afd82[5] = { 0.972, 0.972, 0.944, 0.938, 0.893 };
  for (guint i = 0; i < 5; i++)
    {
      double s = sigma[i];
      /* 0.001: the table prints three decimals (±0.0005) plus slack. */
      cr_assert_float_eq (afd_roofline_alpha_ep (2, s), ep2[i], 0.001, "sigma %g", s);
      cr_assert_float_eq (afd_roofline_alpha_ep (4, s), ep4[i], 0.001, "sigma %g", s);
      cr_assert_float_eq (afd_roofline_alpha_afd (5, 1, s), afd51[i], 0.001, "sigma %g", s);
      cr_assert_float_eq (afd_roofline_alpha_afd (4, 2, s), afd42[i], 0.001, "sigma %g", s);
      cr_assert_float_eq (afd_roofline_alpha_afd (8, 2, s), afd82[i], 0.001, "sigma %g", s);
      /* Continuous AFD equals EP at λ = N_A/N_F. */
      cr_assert_float_eq (afd_roofline_alpha_afd_continuous (4, 2, s),
                          afd_roofline_alpha_ep (2, s), 1e-12);
      cr_assert_float_eq (afd_roofline_alpha_afd_continuous (8, 2, s),
                          afd_roofline_alpha_ep (4, s), 1e-12);
    }
  /* At σ = 1 every factor is exactly 1 (the consistency fix of §2.8). */
  cr_assert_float_eq (afd_roofline_alpha_afd_floor (5, 1, 1.0), 1.0, 1e-12);
  cr_assert_float_eq (afd_roofline_alpha_afd_ceil (5, 1, 1.0), 1.0, 1e-12);
  cr_assert_float_eq (afd_roofline_alpha_ep (3, 1.0), 1.0, 1e-12);
}

/* "With λ = 5, AFD catches up with EP (λ <= 4) only at σ = 0.8" among the table's σ values. */
Test (roofline, afd_matches_ep_only_at_sigma_0_8)
{
  static const double sigma[5] = { 0.95, 0.9, 0.85, 0.8, 0.7 };
  for (guint i = 0; i < 5; i++)
    {
      gboolean catches_up = afd_roofline_alpha_afd (5, 1, sigma[i]) >=
                            afd_roofline_alpha_ep (4, sigma[i]);
      cr_assert_eq (catches_up, sigma[i] == 0.8, "sigma %g", sigma[i]);
    }
}
