/* SPDX-License-Identifier: MIT */
/* test-fault-time.c - faults at a simulated time, @t=TIME and "time_s" (issue #8;
 * docs/models/faults.md "Faults at a simulated time"): parsing, the iteration a fault strikes
 * in, the lost work of a failure, the fluid approximation of a slowdown, the equivalence with
 * @iterN at an iteration boundary, the iteration count, the summary key and the trace marker.
 *
 * The expectations are the formulas of the page, fed with T₀ (the healthy iteration) and the
 * faulted configurations' times T_new, T_c that the same run reports for the iterations after
 * the fault (they are whole replays of one configuration, the inputs of the formula); the
 * hand-worked numbers (1.5·T₀, t + detection, 2.5·T₀) are checked as well, to the slack of
 * 1 ns per op that the rounding of each op's end allows. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backends/registry.h"
#include "models/registry.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/json.h"
#include "tests/fault-test-helpers.h"
#include "tests/test-helpers.h"

/* The straggler case of docs/models/faults.md worked example 2: h200-1x4, TP1×PP1×DP4, four
 * replicas that share nothing (no collective), so a straggler ×2 on GPU 0 doubles the
 * iteration up to the 1 ns rounding of each op. */
#define DP4_CLUSTER "h200-1x4"
#define DP4_OPTIONS "{\"tp\": 1, \"pp\": 1, \"dp\": 4}"

/* The failover case of worked example 3: MA Separation 12:4 with attention_redundancy 2 on
 * a100-4x4-hdr, where the recovered iteration costs exactly T₀. */
#define MASEP_CLUSTER "a100-4x4-hdr"
#define MASEP_OPTIONS "{\"attention_redundancy\": 2}"

/* Relative slack for comparing a straggler's time with X·T₀: 1 ns per op on the critical path,
 * far below 1e-6·T₀ for these ~10 ms iterations (the bound fault::straggler_doubles_
 * independent_replica uses). */
#define ROUNDING_REL 1e-6

/* Builds a one-run experiment with 1 ms detection and the NULL-terminated @faults. */
static AfdExperiment *
experiment (const char *cluster, const char *strategy, const char *options,
            const char *const *faults)
{
  AfdExperiment *e = afd_experiment_new ();
  g_free (e->cluster);
  e->cluster = g_strdup (cluster);
  e->fault_detection_s = 1e-3;
  afd_experiment_add_run (e, NULL, strategy, cJSON_Parse (options));
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      AfdFault *f = afd_fault_parse (faults[i], AFD_ERROR_USAGE, &error);
      afd_assert_no_error (error);
      g_ptr_array_add (e->faults, f);
    }
  return e;
}

/* Runs @cluster/@strategy with @faults; fails the test on an error. */
static cJSON *
run (const char *cluster, const char *strategy, const char *options, const char *const *faults)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = experiment (cluster, strategy, options, faults);
  cJSON *s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_not_null (s);
  return s;
}

/* The healthy iteration time T₀ of the configuration, in ns (a replay's makespan). */
static AfdTime
healthy_ns (const char *cluster, const char *strategy, const char *options)
{
  g_autoptr (cJSON) s = run (cluster, strategy, options, NULL);
  const cJSON *r = cJSON_GetArrayItem (cJSON_GetObjectItem (s, "runs"), 0);
  return afd_time_from_seconds (cJSON_GetObjectItem (r, "iteration_time_s")->valuedouble);
}

static const cJSON *
iterations (const cJSON *summary)
{
  const cJSON *r = cJSON_GetArrayItem (cJSON_GetObjectItem (summary, "runs"), 0);
  return cJSON_GetObjectItem (r, "iterations");
}

/* The iteration's fault_time_s, or -1 when it has none. */
static double
iter_fault_time (const cJSON *summary, int i)
{
  const cJSON *t = cJSON_GetObjectItem (iteration (summary, i), "fault_time_s");
  return cJSON_IsNumber (t) ? t->valuedouble : -1;
}

/* Every unit gives the documented time in ns; the @iter fields stay at their defaults. */
Test (fault_time, parse_time)
{
  static const struct {
    const char *spec;
    AfdFaultKind kind;
    AfdTime ns;
  } cases[] = {
    { "gpu:2@t=12.5ms", AFD_FAULT_GPU, 12500000 },
    { "straggler:0:2@t=1.5s", AFD_FAULT_STRAGGLER, 1500000000 },
    { "link:n0.nic1:0.5@t=250us", AFD_FAULT_LINK, 250000 },
    { "link:n0.gpu0/n0.nvswitch@t=7ns", AFD_FAULT_LINK, 7 },
    { "gpu:1@t=0s", AFD_FAULT_GPU, 0 },
    { "gpu:1@t=1e-3s", AFD_FAULT_GPU, 1000000 },
    { "gpu:1@t=0.4ns", AFD_FAULT_GPU, 0 }, /* rounded to the nearest ns */
    { "gpu:1@t=1e6s", AFD_FAULT_GPU, G_GINT64_CONSTANT (1000000000000000) },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdFault) f = afd_fault_parse (cases[i].spec, AFD_ERROR_USAGE, &error);
      afd_assert_no_error (error);
      cr_assert (f->at_time && f->kind == cases[i].kind && f->iteration == 0, "%s",
                 cases[i].spec);
      cr_assert_eq (f->time_ns, cases[i].ns, "%s: %" G_GINT64_FORMAT " ns", cases[i].spec,
                    f->time_ns);
      cr_assert_str_eq (f->spec, cases[i].spec);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdFault) it = afd_fault_parse ("gpu:1@iter2", AFD_ERROR_USAGE, &error);
  cr_assert (!it->at_time && it->iteration == 2);
}

/* Each bad TIME is refused with the caller's code and one exact message quoting the spec. */
Test (fault_time, parse_time_rejects)
{
  static const char *const cases[][2] = {
    { "gpu:1@t=", "fault 'gpu:1@t=': @t= needs a TIME with a unit (s, ms, us or ns), e.g. "
                  "@t=12.5ms" },
    { "gpu:1@t=5", "fault 'gpu:1@t=5': TIME '5' has no unit (s, ms, us or ns), e.g. 5ms" },
    { "gpu:1@t=5min",
      "fault 'gpu:1@t=5min': TIME '5min' has an unknown unit 'min' (s, ms, us or ns)" },
    { "gpu:1@t=-1ms", "fault 'gpu:1@t=-1ms': TIME '-1ms' is negative (a duration is >= 0)" },
    { "gpu:1@t=nan", "fault 'gpu:1@t=nan': TIME 'nan' is not a finite number" },
    { "gpu:1@t=NaNs", "fault 'gpu:1@t=NaNs': TIME 'NaNs' is not a finite number" },
    { "gpu:1@t=-infms", "fault 'gpu:1@t=-infms': TIME '-infms' is not a finite number" },
    { "gpu:1@t=2e6s", "fault 'gpu:1@t=2e6s': TIME '2e6s' is too large (at most 1e+06 s)" },
    { "gpu:1@t=1000001000ms",
      "fault 'gpu:1@t=1000001000ms': TIME '1000001000ms' is too large (at most 1e+06 s)" },
    { "gpu:1@t=1e400s", "fault 'gpu:1@t=1e400s': TIME '1e400s': '1e400' is out of range" },
    { "gpu:1@t=x5ms", "fault 'gpu:1@t=x5ms': TIME 'x5ms': 'x5' is not a number" },
    { "gpu:1@t=0x10s", "fault 'gpu:1@t=0x10s': TIME '0x10s': '0x10' is not a number" },
    { "gpu:1@t= 5ms", "fault 'gpu:1@t= 5ms': TIME ' 5ms': ' 5' is not a number" },
    { "gpu:1@t=ms", "fault 'gpu:1@t=ms': TIME 'ms' has no number before its unit" },
    { "gpu:1@t=5ms@iter2", "fault 'gpu:1@t=5ms@iter2': give one @iterN or @t=TIME, not "
                           "several" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (AfdFault) f = afd_fault_parse (cases[i][0], AFD_ERROR_CONFIG, &error);
      cr_assert_null (f, "'%s' accepted", cases[i][0]);
      afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
      cr_assert_str_eq (error->message, cases[i][1]);
    }
}

/* JSON objects take "time_s" (seconds) instead of "iteration", written back as the shortest
 * @t= spec; both keys, a negative or a too large time are refused naming file and key. */
Test (fault_time, from_json_time_s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (cJSON) o = cJSON_Parse ("{\"kind\": \"gpu\", \"gpu\": 2, \"time_s\": 0.0125}");
  g_autoptr (AfdFault) f = afd_fault_from_json (o, "e.json", "faults[0]", &error);
  afd_assert_no_error (error);
  cr_assert (f->kind == AFD_FAULT_GPU && f->gpu == 2 && f->at_time);
  cr_assert_eq (f->time_ns, 12500000);
  cr_assert_str_eq (f->spec, "gpu:2@t=0.0125s");
  g_autoptr (cJSON) z = cJSON_Parse ("{\"kind\": \"straggler\", \"gpu\": 1, \"factor\": 2, "
                                     "\"time_s\": 0}");
  g_autoptr (AfdFault) g = afd_fault_from_json (z, "e.json", "faults[1]", &error);
  afd_assert_no_error (error);
  cr_assert (g->at_time && g->time_ns == 0);
  cr_assert_str_eq (g->spec, "straggler:1:2@t=0s");
  static const char *const bad[][2] = {
    { "{\"kind\": \"gpu\", \"gpu\": 1, \"time_s\": 0.01, \"iteration\": 1}",
      "e.json: faults[0]: give \"iteration\" or \"time_s\", not both" },
    { "{\"kind\": \"gpu\", \"gpu\": 1, \"time_s\": -1}",
      "e.json: faults[0].time_s: must be >= 0 (got -1)" },
    { "{\"kind\": \"gpu\", \"gpu\": 1, \"time_s\": 2e6}",
      "e.json: faults[0].time_s: must be at most 1e+06 seconds (got 2e+06)" },
    { "{\"kind\": \"gpu\", \"gpu\": 1, \"time_s\": \"5ms\"}", "e.json: faults[0].time_s: " },
    { "\"gpu:1@t=5\"", "e.json: faults[0]: fault 'gpu:1@t=5': TIME '5' has no unit" },
  };
  assert_faults_json_refused (bad, G_N_ELEMENTS (bad), TRUE);
}

/* Worked example (docs/models/faults.md "Faults at a simulated time", 1): a straggler ×2 at
 * t = T₀/2 inside iteration 0 leaves half the work to run at the degraded rate:
 * T = t + (1 − t/T₀)·T_new = T₀/2 + ½·2·T₀ = 1.5·T₀; iteration 1 runs the degraded
 * configuration whole (T_new ≈ 2·T₀). */
Test (fault_time, straggler_mid_iteration)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  g_autofree char *spec = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", t0_ns / 2);
  const char *faults[] = { spec, NULL };
  g_autoptr (cJSON) s = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, faults);
  double t0 = afd_time_to_seconds (t0_ns), t = afd_time_to_seconds (t0_ns / 2);
  double t_new = iter_time (s, 1);
  cr_assert_str_eq (iter_str (s, 0, "state"), "degraded");
  cr_assert_str_eq (iter_str (s, 1, "state"), "degraded");
  cr_assert (fabs (t_new - 2 * t0) <= ROUNDING_REL * t0, "T0 %g s, T_new %g s", t0, t_new);
  /* The formula, exactly, with the run's own T₀ and T_new. */
  cr_assert_float_eq (iter_time (s, 0), t + (1 - t / t0) * t_new, 1e-15);
  /* The hand-worked number. */
  cr_assert (fabs (iter_time (s, 0) - 1.5 * t0) <= ROUNDING_REL * t0, "iteration 0: %g s, "
             "1.5·T0 = %g s", iter_time (s, 0), 1.5 * t0);
  cr_assert_float_eq (iter_fault_time (s, 0), t, 1e-18);
  cr_assert_eq (iter_fault_time (s, 1), -1, "fault_time_s only where the fault struck");
  g_autofree char *want = g_strdup_printf ("%s: struck at %g s, %g s into the iteration: the "
                                           "remaining 50.0%% of the iteration's work runs at the "
                                           "degraded rate (fluid approximation)",
                                           spec, t, t);
  cr_assert_str_eq (iter_str (s, 0, "note"), want);
  cr_assert_eq (cJSON_GetArraySize (iterations (s)), 3, "default: strike iteration 0 + 3");
}

/* Worked example 2: GPU 2 of MA Separation with attention redundancy fails at t = 40 ms,
 * inside iteration 1 (T₀ ≤ 40 ms < 2·T₀): the (t − T₀) of iteration 1 done so far is lost,
 * then detection and the recovered iteration T_c = T₀: (t − T₀) + 1 ms + T₀ = t + 1 ms =
 * 41 ms, whatever T₀ is; iteration 2 costs T₀ (recovered). */
Test (fault_time, failure_mid_iteration_with_replica)
{
  const char *faults[] = { "gpu:2@t=40ms", NULL };
  g_autoptr (cJSON) s = run (MASEP_CLUSTER, "masep", MASEP_OPTIONS, faults);
  double t0 = iter_time (s, 0);
  cr_assert (t0 <= 0.040 && 0.040 < 2 * t0, "T0 = %g s: 40 ms is not in iteration 1", t0);
  cr_assert_str_eq (iter_str (s, 0, "state"), "healthy");
  cr_assert_str_eq (iter_str (s, 1, "state"), "fault");
  cr_assert_str_eq (iter_str (s, 2, "state"), "recovered");
  cr_assert_float_eq (iter_time (s, 2), t0, 1e-15, "T_c = T0");
  cr_assert_float_eq (iter_time (s, 1), (0.040 - t0) + 1e-3 + iter_time (s, 2), 1e-15);
  cr_assert_float_eq (iter_time (s, 1), 0.041, 1e-12);
  cr_assert_float_eq (iter_fault_time (s, 1), 0.040, 1e-15);
  g_autofree char *want = g_strdup_printf (
      "gpu:2@t=40ms: struck at 0.04 s, %g s into the iteration, whose %g s of work are lost: "
      "detection 0.001 s + the iteration on the recovered configuration",
      0.040 - t0, 0.040 - t0);
  cr_assert_str_eq (iter_str (s, 1, "note"), want);
  cr_assert_eq (cJSON_GetArraySize (iterations (s)), 4, "default: strike iteration 1 + 3");
}

/* Two slowdowns in one iteration compose: at t₁ = T₀/4 the remaining 3/4 go to T₁ ≈ 2·T₀ (the
 * iteration would end at 1.75·T₀, so t₂ = T₀ is inside it); at t₂ the 0.75·T₀ worked since t₁
 * did 3/8 of the work, and the last 3/8 run at T₂ ≈ 4·T₀ (the same GPU twice: ×4): T =
 * t₂ + 3/8·4·T₀ = 2.5·T₀. */
Test (fault_time, two_slowdowns_in_one_iteration)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  g_autofree char *first = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", t0_ns / 4);
  g_autofree char *second = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", t0_ns);
  const char *one[] = { first, NULL }, *both[] = { second, first, NULL };
  g_autoptr (cJSON) s1 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, one);
  g_autoptr (cJSON) s = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, both);
  double t0 = afd_time_to_seconds (t0_ns), t1 = afd_time_to_seconds (t0_ns / 4), t2 = t0;
  double T1 = iter_time (s1, 1), T2 = iter_time (s, 1);
  double remaining = (1 - t1 / t0) - (t2 - t1) / T1;
  cr_assert_float_eq (iter_time (s, 0), t2 + remaining * T2, 1e-15);
  cr_assert (fabs (iter_time (s, 0) - 2.5 * t0) <= 4 * ROUNDING_REL * t0, "iteration 0: %g s, "
             "2.5·T0 = %g s", iter_time (s, 0), 2.5 * t0);
  cr_assert (fabs (T2 - 4 * t0) <= 4 * ROUNDING_REL * t0);
  cr_assert_float_eq (iter_fault_time (s, 0), t1, 1e-18, "the first fault's time");
  const char *note = iter_str (s, 0, "note");
  cr_assert (strstr (note, first) < strstr (note, second) && strstr (note, first) != NULL,
             "note in time order: %s", note);
  cr_assert (strstr (note, "the remaining 37.5% of the iteration's work") != NULL, "%s", note);
}

/* Compares every iteration's state and time of two summaries. */
static void
assert_same_iterations (const cJSON *a, const cJSON *b, const char *what)
{
  cr_assert_eq (cJSON_GetArraySize (iterations (a)), cJSON_GetArraySize (iterations (b)), "%s",
                what);
  for (int i = 0; i < cJSON_GetArraySize (iterations (a)); i++)
    {
      cr_assert_str_eq (iter_str (a, i, "state"), iter_str (b, i, "state"), "%s: iteration %d",
                        what, i);
      cr_assert (iter_time (a, i) == iter_time (b, i), "%s: iteration %d: %.17g s vs %.17g s",
                 what, i, iter_time (a, i), iter_time (b, i));
    }
}

/* A fault at an iteration boundary s_k is @iter k exactly: t = 0, t = s_1 = T₀ (a straggler and
 * a failure), and t = s_2 = T₀ + T₁ after a slowdown in iteration 1 (s_k sums the reported
 * iteration times, kept in ns). */
Test (fault_time, boundary_equals_iter)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  g_autofree char *at0 = g_strdup ("straggler:0:2@t=0ns");
  g_autofree char *at1 = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", t0_ns);
  const char *f0[] = { at0, NULL }, *i0[] = { "straggler:0:2@iter0", NULL };
  const char *f1[] = { at1, NULL }, *i1[] = { "straggler:0:2@iter1", NULL };
  g_autoptr (cJSON) a0 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, f0);
  g_autoptr (cJSON) b0 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, i0);
  assert_same_iterations (a0, b0, "t = 0");
  g_autoptr (cJSON) a1 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, f1);
  g_autoptr (cJSON) b1 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, i1);
  assert_same_iterations (a1, b1, "t = s_1");
  cr_assert_eq (iter_fault_time (a1, 1), afd_time_to_seconds (t0_ns));
  cr_assert_eq (iter_fault_time (a1, 0), -1);

  /* s_2 after straggler:1:2@iter1: T₀ + T₁, T₁ the degraded iteration. */
  const char *pre[] = { "straggler:1:2@iter1", NULL };
  g_autoptr (cJSON) p = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, pre);
  AfdTime s2_ns = t0_ns + afd_time_from_seconds (iter_time (p, 1));
  g_autofree char *at2 = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", s2_ns);
  const char *f2[] = { "straggler:1:2@iter1", at2, NULL };
  const char *i2[] = { "straggler:1:2@iter1", "straggler:0:2@iter2", NULL };
  g_autoptr (cJSON) a2 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, f2);
  g_autoptr (cJSON) b2 = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, i2);
  assert_same_iterations (a2, b2, "t = s_2");
  cr_assert (iter_fault_time (a2, 2) >= 0, "the @t fault struck in iteration 2");

  /* A failure at s_1: detection + T_c, as gpu:2@iter1. */
  AfdTime m0_ns = healthy_ns (MASEP_CLUSTER, "masep", MASEP_OPTIONS);
  g_autofree char *g1 = g_strdup_printf ("gpu:2@t=%" G_GINT64_FORMAT "ns", m0_ns);
  const char *gf[] = { g1, NULL }, *gi[] = { "gpu:2@iter1", NULL };
  g_autoptr (cJSON) ga = run (MASEP_CLUSTER, "masep", MASEP_OPTIONS, gf);
  g_autoptr (cJSON) gb = run (MASEP_CLUSTER, "masep", MASEP_OPTIONS, gi);
  assert_same_iterations (ga, gb, "failure at t = s_1");
  cr_assert_str_eq (iter_str (ga, 1, "state"), "fault");
}

/* Without "iterations", the run goes on until every @t fault has struck, then 3 iterations
 * from the last fault's on (as with @iterN): a straggler at 5.5·T₀ strikes in iteration 5 of
 * 8; iterations 0..4 are healthy. */
Test (fault_time, default_iterations_cover_fault)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  g_autofree char *spec = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns",
                                           5 * t0_ns + t0_ns / 2);
  const char *faults[] = { spec, NULL };
  g_autoptr (cJSON) s = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, faults);
  cr_assert_eq (cJSON_GetArraySize (iterations (s)), 8);
  for (int i = 0; i < 5; i++)
    {
      cr_assert_str_eq (iter_str (s, i, "state"), "healthy", "iteration %d", i);
      cr_assert_eq (iter_time (s, i), afd_time_to_seconds (t0_ns));
    }
  cr_assert_str_eq (iter_str (s, 5, "state"), "degraded");
  cr_assert_float_eq (iter_fault_time (s, 5), afd_time_to_seconds (5 * t0_ns + t0_ns / 2), 1e-15);
  cr_assert_str_eq (iter_str (s, 7, "state"), "degraded");
  /* A @iterN fault later than the @t one keeps its own + 3. */
  const char *later[] = { spec, "gpu:3@iter9", NULL };
  g_autoptr (cJSON) l = run (DP4_CLUSTER, "tppp", DP4_OPTIONS, later);
  cr_assert_eq (cJSON_GetArraySize (iterations (l)), 12);
}

/* An explicit iteration count that ends before a @t fault strikes is refused, naming the fault
 * and the run's end (two healthy iterations: 2·T₀); a time beyond the most iterations a run
 * may have is refused too. */
Test (fault_time, iterations_too_few)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  g_autofree char *spec = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", 3 * t0_ns);
  const char *faults[] = { spec, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = experiment (DP4_CLUSTER, "tppp", DP4_OPTIONS, faults);
  e->iterations = 2;
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  cr_assert_null (s);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_CONFIG);
  g_autofree char *want = g_strdup_printf (
      "run tppp: --fault: fault '%s' strikes at %g s but the run ends at %g s (after 2 "
      "iterations); raise --iterations or leave it out (the default covers every fault)",
      spec, afd_time_to_seconds (3 * t0_ns), afd_time_to_seconds (2 * t0_ns));
  cr_assert_str_eq (error->message, want);
  /* t = 3·T₀ = s_3: three iterations end exactly when it would strike (refused), four take it
   * at the start of iteration 3. */
  g_clear_error (&error);
  e->iterations = 3;
  g_autoptr (cJSON) s3 = afd_experiment_run (e, &plugins, NULL, &error);
  cr_assert_null (s3, "t = s_3 is not inside iterations 0..2");
  g_clear_error (&error);
  e->iterations = 4;
  g_autoptr (cJSON) s4 = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_str (s4, 3, "state"), "degraded");

  const char *far[] = { "straggler:0:2@t=1e6s", NULL };
  g_autoptr (GError) err = NULL;
  g_autoptr (AfdExperiment) x = experiment (DP4_CLUSTER, "tppp", DP4_OPTIONS, far);
  g_autoptr (cJSON) none = afd_experiment_run (x, &plugins, NULL, &err);
  cr_assert_null (none);
  afd_assert_error (err, AFD_ERROR, AFD_ERROR_CONFIG);
  g_autofree char *far_msg = g_strdup_printf (
      "run tppp: --fault: fault 'straggler:0:2@t=1e6s' strikes at 1e+06 s, after the 10000 "
      "iterations a run may have (they end at %g s)",
      afd_time_to_seconds (10000 * t0_ns));
  cr_assert_str_eq (err->message, far_msg);
}

/* A failure at t with no replica makes its iteration failed (the note says when it struck);
 * a later @t fault then never strikes, and an explicit count does not wait for it. */
Test (fault_time, failure_without_replica)
{
  const char *tp4 = "{\"tp\": 4, \"pp\": 1}";
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", tp4);
  g_autofree char *spec = g_strdup_printf ("gpu:0@t=%" G_GINT64_FORMAT "ns", t0_ns + t0_ns / 2);
  const char *faults[] = { spec, "straggler:1:2@t=1s", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = experiment (DP4_CLUSTER, "tppp", tp4, faults);
  e->iterations = 3;
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_str (s, 0, "state"), "healthy");
  cr_assert_str_eq (iter_str (s, 1, "state"), "failed");
  cr_assert (cJSON_IsNull (cJSON_GetObjectItem (iteration (s, 1), "iteration_time_s")));
  cr_assert_float_eq (iter_fault_time (s, 1), afd_time_to_seconds (t0_ns + t0_ns / 2), 1e-15);
  g_autofree char *head = g_strdup_printf ("%s: struck at %g s, %g s into the iteration, whose "
                                           "%g s of work are lost; GPU 0 (",
                                           spec, afd_time_to_seconds (t0_ns + t0_ns / 2),
                                           afd_time_to_seconds (t0_ns / 2),
                                           afd_time_to_seconds (t0_ns / 2));
  cr_assert (g_str_has_prefix (iter_str (s, 1, "note"), head), "note: %s",
             iter_str (s, 1, "note"));
  cr_assert_str_eq (iter_str (s, 2, "note"), "failed since iteration 1");
}

/* The trace holds the first faulted configuration's replay; a @t fault's instant marker sits
 * at its offset in the iteration it struck in (t − s_k), with the absolute time in its args:
 * t = 1.5·T₀ strikes in iteration 1 at 0.5·T₀. */
Test (fault_time, trace_marker_at_offset)
{
  AfdTime t0_ns = healthy_ns (DP4_CLUSTER, "tppp", DP4_OPTIONS);
  AfdTime t_ns = t0_ns + t0_ns / 2;
  g_autofree char *spec = g_strdup_printf ("straggler:0:2@t=%" G_GINT64_FORMAT "ns", t_ns);
  const char *faults[] = { spec, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("afd-fault-time-XXXXXX", &error);
  afd_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "trace.json", NULL);
  g_autoptr (AfdExperiment) e = experiment (DP4_CLUSTER, "tppp", DP4_OPTIONS, faults);
  e->trace = g_strdup (path);
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) trace = afd_json_parse_file (path, AFD_ERROR_CONFIG, &error);
  afd_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
  g_autofree char *name = g_strdup_printf ("fault %s", spec);
  const cJSON *ev, *marker = NULL;
  cJSON_ArrayForEach (ev, cJSON_GetObjectItem (trace, "traceEvents"))
    {
      const cJSON *n = cJSON_GetObjectItem (ev, "name");
      if (cJSON_IsString (n) && strcmp (n->valuestring, name) == 0)
        marker = ev;
    }
  cr_assert_not_null (marker, "no marker '%s'", name);
  cr_assert_str_eq (cJSON_GetObjectItem (marker, "ph")->valuestring, "i");
  cr_assert_eq (cJSON_GetObjectItem (marker, "pid")->valuedouble, 0, "on the straggler's GPU");
  cr_assert_float_eq (cJSON_GetObjectItem (marker, "ts")->valuedouble,
                      (double) (t_ns - t0_ns) / 1000.0, 1e-9, "ts in µs");
  const cJSON *args = cJSON_GetObjectItem (marker, "args");
  cr_assert_float_eq (cJSON_GetObjectItem (args, "time_s")->valuedouble,
                      afd_time_to_seconds (t_ns), 1e-18);
  cr_assert_eq (cJSON_GetObjectItem (args, "iteration")->valuedouble, 1);
  cr_assert_float_eq (cJSON_GetObjectItem (args, "offset_s")->valuedouble,
                      afd_time_to_seconds (t_ns - t0_ns), 1e-18);
}

/* An experiment file's faults take "time_s" objects and @t= strings (tests/data/fault-time.json:
 * both at 2 ms, inside iteration 0 of the DP4 case). */
Test (fault_time, experiment_file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) e = afd_experiment_load (TEST_DATA "/fault-time.json", &error);
  afd_assert_no_error (error);
  cr_assert_eq (e->faults->len, 2u);
  const AfdFault *a = e->faults->pdata[0], *b = e->faults->pdata[1];
  cr_assert (a->at_time && a->time_ns == 2000000 && b->at_time && b->time_ns == 2000000);
  cr_assert_str_eq (a->spec, "straggler:0:2@t=0.002s");
  g_autoptr (cJSON) s = afd_experiment_run (e, &plugins, NULL, &error);
  afd_assert_no_error (error);
  cr_assert_str_eq (iter_str (s, 0, "state"), "degraded");
  cr_assert_float_eq (iter_fault_time (s, 0), 0.002, 1e-18);
  cr_assert_eq (cJSON_GetArraySize (iterations (s)), 3);
}
