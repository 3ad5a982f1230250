/* SPDX-License-Identifier: MIT */
/*
 * experiment-faults.c - the fault campaign of an experiment run (docs/models/faults.md): the
 * iterations of one run, each on the configuration its active faults derive, replayed through
 * afd_experiment_run_one() (sim/experiment-private.h). Called by afd_experiment_run().
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/cluster.h"
#include "sim/error.h"
#include "sim/experiment-private.h"
#include "sim/experiment.h"
#include "sim/fault.h"
#include "sim/json.h"
#include "sim/types.h"

/* A metric as its JSON form carries it: a non-finite value is written as null, read as 0. */
static double
finite_or_zero (double v)
{
  return isfinite (v) ? v : 0;
}

/* The state of afd_experiment_faults_run() carried from one configuration to the next. */
typedef struct {
  const AfdExperiment *self;
  const AfdExperimentRun *run;
  const AfdPlugins *plugins;
  const AfdCluster *cluster;
  const AfdLlm *llm;
  AfdCostModel *costs;
  GPtrArray *traces;
  double *scale;       /* per GPU: the active stragglers' compute factor */
  guint8 *failed;      /* per GPU: failed */
  GPtrArray *active;   /* AfdFault (borrowed): the faults that have struck */
  char *failure;       /* set once a configuration cannot complete: the note */
  guint failed_at;     /* the iteration it failed in */
  double config_s;     /* the iteration time of the current configuration, s */
  guint64 config_lost; /* sequences the configuration dropped (EP after a failure) */
  gboolean lost_note;  /* the next entry notes the lost sequences */
  gboolean traced;     /* a faulted configuration's trace was written */
  GString *cut_note;   /* (nullable) GPUs the failed links just cut off, for the next entry */
} FaultRun;

static void
fault_run_clear (FaultRun *fr)
{
  g_clear_pointer (&fr->failure, g_free);
  if (fr->cut_note != NULL)
    g_string_free (g_steal_pointer (&fr->cut_note), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FaultRun, fault_run_clear)

/* Adds to fr->cut_note the GPUs of @cut (per GPU) not yet failed: "GPU 3 ('n0.gpu3') is cut off
 * from the other GPUs by the failed links and counts as failed" (at most 8 named). */
static void
add_cut_note (FaultRun *fr, const guint8 *cut)
{
  guint n_gpus = afd_cluster_gpu_count (fr->cluster), n = 0;
  g_autoptr (GString) ids = g_string_new (NULL), names = g_string_new (NULL);
  for (guint g = 0; g < n_gpus; g++)
    {
      if (!cut[g] || fr->failed[g])
        continue;
      if (n < 8)
        {
          g_string_append_printf (ids, "%s%u", n ? ", " : "", g);
          g_string_append_printf (names, "%s'%s'", n ? ", " : "",
                                  afd_cluster_vertex_name (fr->cluster, g));
        }
      n++;
    }
  if (n == 0)
    return;
  if (fr->cut_note == NULL)
    fr->cut_note = g_string_new (NULL);
  else
    g_string_append (fr->cut_note, "; ");
  if (n > 8)
    {
      g_string_append_printf (ids, " and %u more", n - 8);
      g_string_append (names, ", ...");
    }
  g_string_append_printf (fr->cut_note,
                          "%s %s (%s) %s cut off from the other GPUs by the failed links and "
                          "%s as failed",
                          n == 1 ? "GPU" : "GPUs", ids->str, names->str, n == 1 ? "is" : "are",
                          n == 1 ? "counts" : "count");
}

/* Sets fr->failure to @why (transfer full), after the GPUs the links just cut off. */
static void
set_failure (FaultRun *fr, char *why)
{
  if (fr->cut_note == NULL)
    {
      fr->failure = why;
      return;
    }
  fr->failure = g_strdup_printf ("%s; %s", fr->cut_note->str, why);
  g_free (why);
  g_string_free (g_steal_pointer (&fr->cut_note), TRUE);
}

/* Derives the configuration of the active faults (the faults of @markers just joined them)
 * and simulates one iteration on it: sets config_s, or failure when it cannot complete. */
static gboolean
reconfigure (FaultRun *fr, GArray *markers, guint it, GError **error)
{
  guint n_gpus = afd_cluster_gpu_count (fr->cluster);
  afd_fault_compute_scale ((AfdFault **) fr->active->pdata, fr->active->len, n_gpus, fr->scale);
  for (guint i = 0; i < fr->active->len; i++)
    {
      const AfdFault *f = fr->active->pdata[i];
      if (f->kind == AFD_FAULT_GPU)
        fr->failed[f->gpu] = 1;
    }
  /* A GPU that the failed links cut off from the main component is lost to the job like a
   * failed GPU: it counts as failed, and the derived cluster need not route it. */
  AfdFault *const *faults = (AfdFault *const *) fr->active->pdata;
  g_autofree guint8 *cut = g_new0 (guint8, n_gpus);
  guint n_cut = afd_fault_cut_off_gpus (fr->cluster, faults, fr->active->len, cut);
  add_cut_note (fr, cut);
  for (guint g = 0; g < n_gpus; g++)
    fr->failed[g] = fr->failed[g] || cut[g];
  g_autoptr (GError) local = NULL;
  g_autoptr (AfdCluster) derived = afd_fault_derive_cluster_full (
      fr->cluster, faults, fr->active->len, AFD_FAULT_CUT_EXEMPT, &local);
  if (derived == NULL && local->code == AFD_ERROR_TOPOLOGY)
    {
      set_failure (fr, g_strdup_printf ("the failed links disconnect the cluster (%s); the "
                                        "iteration cannot complete", local->message));
      fr->failed_at = it;
      return TRUE;
    }
  if (derived == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  FaultHooks fx = { fr->scale, fr->failed, !fr->traced, markers, NULL, 0,
                    .cut = n_cut > 0 ? cut : NULL, .base = fr->cluster, .faults = faults,
                    .n_faults = fr->active->len };
  AfdMetrics m = { 0 };
  cJSON *r = afd_experiment_run_one (fr->self, fr->run, fr->plugins, derived, fr->llm, fr->costs, fr->traces,
                      &fx, &m, error);
  if (r == NULL && fx.failure == NULL)
    return FALSE;
  fr->traced = fr->traced || r != NULL;
  if (fx.failure != NULL)
    set_failure (fr, fx.failure);
  fr->failed_at = it;
  fr->config_s = finite_or_zero (m.iteration_time_s);
  fr->config_lost = fx.lost_sequences;
  fr->lost_note = fr->config_lost > 0;
  cJSON_Delete (r);
  return TRUE;
}

/* Orders indices of faults (@data: the experiment's faults) by their @t time; g_array_sort's
 * sort is stable, so equal times keep the order they were given in. */
static gint
compare_fault_time (gconstpointer a, gconstpointer b, gpointer data)
{
  GPtrArray *faults = data;
  const AfdFault *fa = faults->pdata[*(const guint *) a], *fb = faults->pdata[*(const guint *) b];
  return fa->time_ns < fb->time_ns ? -1 : fa->time_ns > fb->time_ns ? 1 : 0;
}

/* Fault injection (docs/models/faults.md): simulates the run's iterations, each on the
 * configuration its active faults derive (cluster with links scaled or removed, stragglers'
 * compute factors, failed GPUs served by their replicas), and adds "faults" and "iterations"
 * to @out. A failure's first iteration costs fault_detection_s + the iteration on the
 * recovered configuration; a failure without a replica or a disconnected cluster makes it and
 * every later iteration "failed". Iterations run back to back from time 0 (iteration i spans
 * [s_i, s_i + T_i)); a fault at @t=TIME strikes in the iteration holding TIME: a failure
 * loses the work done so far and costs (t − s_k) + detection + T_c, a slowdown runs the
 * iteration's remaining fraction at the degraded rate (fluid approximation). */
gboolean
afd_experiment_faults_run (const AfdExperiment *self, const AfdExperimentRun *run, const AfdPlugins *plugins,
            const AfdCluster *cluster, const AfdLlm *llm, AfdCostModel *costs,
            GPtrArray *traces, const AfdMetrics *healthy, cJSON *out, GError **error)
{
  guint n_gpus = afd_cluster_gpu_count (cluster), last = 0;
  /* The @t faults, as indices into self->faults, in time order. */
  g_autoptr (GArray) timed = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < self->faults->len; i++)
    {
      const AfdFault *f = self->faults->pdata[i];
      if (f->at_time)
        g_array_append_val (timed, i);
      else
        last = MAX (last, f->iteration);
    }
  g_array_sort_with_data (timed, compare_fault_time, self->faults);
  guint n_iter = self->iterations > 0 ? self->iterations : last + 3;
  double healthy_s = finite_or_zero (healthy->iteration_time_s);
  double tpot_per_s = healthy_s > 0 ? finite_or_zero (healthy->tpot_s) / healthy_s : 0;
  double tokens = finite_or_zero (healthy->tokens_per_s) * healthy_s;
  cJSON *list = cJSON_AddArrayToObject (out, "faults");
  for (guint i = 0; i < self->faults->len; i++)
    cJSON_AddItemToArray (list, cJSON_CreateString (((AfdFault *) self->faults->pdata[i])->spec));
  afd_json_add_number (out, "fault_detection_s", self->fault_detection_s);
  cJSON *iters = cJSON_AddArrayToObject (out, "iterations");
  g_autofree double *scale = g_new (double, n_gpus);
  g_autofree guint8 *failed = g_new0 (guint8, n_gpus);
  g_autoptr (GPtrArray) active = g_ptr_array_new ();
  /* Where each fault struck (its marker); @t faults that never struck stay unset. */
  g_autofree FaultMarker *struck = g_new0 (FaultMarker, MAX (self->faults->len, 1u));
  g_auto (FaultRun) fr = { .self = self, .run = run, .plugins = plugins, .cluster = cluster,
                           .llm = llm, .costs = costs, .traces = traces, .scale = scale,
                           .failed = failed, .active = active, .config_s = healthy_s };
  gboolean any_failure = FALSE;
  AfdTime start_ns = 0; /* s_it: the start of iteration it since the run's start */
  guint next = 0;       /* the first @t fault (in timed) that has not struck */
  for (guint it = 0;; it++)
    {
      gboolean pending = next < timed->len && fr.failure == NULL;
      if (it >= n_iter && !(pending && self->iterations == 0))
        break;
      if (it >= AFD_FAULT_MAX_ITERATIONS)
        {
          guint i = g_array_index (timed, guint, next);
          const AfdFault *f = self->faults->pdata[i];
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "fault '%s' strikes at %g s, after the %d iterations a run may have "
                       "(they end at %g s)",
                       f->spec, afd_time_to_seconds (f->time_ns), AFD_FAULT_MAX_ITERATIONS,
                       afd_time_to_seconds (start_ns));
          if (self->path != NULL)
            g_prefix_error (error, "faults[%u]: ", i);
          else
            g_prefix_error (error, "--fault: ");
          return FALSE;
        }
      g_autoptr (GArray) starting = g_array_new (FALSE, FALSE, sizeof (FaultMarker));
      gboolean failure_starts = FALSE;
      for (guint i = 0; i < self->faults->len; i++)
        {
          AfdFault *f = self->faults->pdata[i];
          if (f->at_time || f->iteration != it)
            continue;
          struck[i] = (FaultMarker) { f, 0, it };
          g_array_append_val (starting, struck[i]);
          g_ptr_array_add (active, f);
          failure_starts = failure_starts || afd_fault_is_failure (f);
        }
      any_failure = any_failure || failure_starts;
      if (starting->len > 0 && fr.failure == NULL && !reconfigure (&fr, starting, it, error))
        return FALSE;
      /* The iteration as a fluid timeline, in seconds since s_it: from pos_s, lead_s of
       * detection, then the fraction `remaining` of the iteration's work at config_s a whole
       * iteration. Each @t fault inside it changes the timeline where it strikes. */
      double pos_s = 0, lead_s = failure_starts ? self->fault_detection_s : 0, remaining = 1;
      double fault_time_s = -1;
      gboolean timed_failure = FALSE;
      g_autoptr (GString) timed_note = g_string_new (NULL);
      while (fr.failure == NULL && next < timed->len)
        {
          guint i = g_array_index (timed, guint, next);
          AfdFault *f = self->faults->pdata[i];
          double end_s = pos_s + lead_s + remaining * fr.config_s;
          if (f->time_ns >= start_ns + afd_time_from_seconds (end_s))
            break;
          next++;
          double off_s = afd_time_to_seconds (f->time_ns - start_ns);
          double old_s = fr.config_s;
          struck[i] = (FaultMarker) { f, f->time_ns - start_ns, it };
          if (fault_time_s < 0)
            fault_time_s = afd_time_to_seconds (f->time_ns);
          g_ptr_array_add (active, f);
          g_autoptr (GArray) one = g_array_new (FALSE, FALSE, sizeof (FaultMarker));
          g_array_append_val (one, struck[i]);
          if (!reconfigure (&fr, one, it, error))
            return FALSE;
          g_string_append_printf (timed_note, "%s%s: struck at %g s, %g s into the iteration",
                                  timed_note->len ? "; " : "", f->spec,
                                  afd_time_to_seconds (f->time_ns), off_s);
          if (afd_fault_is_failure (f))
            {
              /* The work done so far is lost; detection, then the whole iteration again. */
              any_failure = TRUE;
              timed_failure = TRUE;
              g_string_append_printf (timed_note, ", whose %g s of work are lost", off_s);
              if (fr.failure == NULL)
                g_string_append_printf (timed_note, ": detection %g s + the iteration on the "
                                        "recovered configuration", self->fault_detection_s);
              pos_s = off_s;
              lead_s = self->fault_detection_s;
              remaining = 1;
            }
          else
            {
              /* Work done since pos_s (after any detection left) at the old rate; the rest
               * runs at the new one. */
              double worked_s = MAX (0.0, off_s - pos_s - lead_s);
              lead_s = MAX (0.0, pos_s + lead_s - off_s);
              remaining = MAX (0.0, remaining - (old_s > 0 ? worked_s / old_s : 1.0));
              pos_s = off_s;
              g_string_append_printf (timed_note, ": the remaining %.1f%% of the iteration's work "
                                      "runs at the degraded rate (fluid approximation)",
                                      100.0 * remaining);
            }
        }
      if (fault_time_s >= 0 && self->iterations == 0)
        n_iter = MAX (n_iter, MIN (it + 3, (guint) AFD_FAULT_MAX_ITERATIONS));
      cJSON *o = cJSON_CreateObject ();
      afd_json_add_number (o, "index", it);
      g_autoptr (GString) note = g_string_new (NULL);
      for (guint i = 0; i < starting->len; i++)
        g_string_append_printf (note, "%s%s", i ? ", " : "",
                                g_array_index (starting, FaultMarker, i).fault->spec);
      const char *state;
      double t = pos_s + lead_s + remaining * fr.config_s;
      if (fr.failure != NULL)
        {
          state = "failed";
          if (timed_note->len > 0)
            g_string_append_printf (note, "%s%s", note->len ? "; " : "", timed_note->str);
          if (note->len > 0)
            g_string_append (note, "; ");
          if (it == fr.failed_at)
            g_string_append (note, fr.failure);
          else
            g_string_append_printf (note, "failed since iteration %u", fr.failed_at);
        }
      else
        {
          if (active->len == 0)
            state = "healthy";
          else if (failure_starts || timed_failure)
            state = "fault";
          else
            {
              gboolean degraded = FALSE;
              for (guint i = 0; i < active->len; i++)
                degraded = degraded || !afd_fault_is_failure (active->pdata[i]);
              state = degraded ? "degraded" : any_failure ? "recovered" : "healthy";
            }
          if (failure_starts)
            g_string_append_printf (note, ": detection %g s + the iteration on the recovered "
                                    "configuration", self->fault_detection_s);
          if (timed_note->len > 0)
            g_string_append_printf (note, "%s%s", note->len ? "; " : "", timed_note->str);
          if (fr.cut_note != NULL)
            {
              g_string_append_printf (note, "%s%s", note->len ? "; " : "", fr.cut_note->str);
              g_string_free (g_steal_pointer (&fr.cut_note), TRUE);
            }
        }
      if (fr.failure == NULL && fr.lost_note)
        g_string_append_printf (
            note, "; lost %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " sequences (%.1f%%): "
            "their KV cache was only on the failed GPUs, they must be re-prefilled elsewhere "
            "(not simulated)",
            fr.config_lost, self->batch, 100.0 * (double) fr.config_lost / (double) self->batch);
      fr.lost_note = FALSE;
      cJSON_AddStringToObject (o, "state", state);
      if (fr.failure != NULL)
        {
          cJSON_AddNullToObject (o, "iteration_time_s");
          cJSON_AddNullToObject (o, "tpot_s");
          afd_json_add_number (o, "tokens_per_s", 0);
        }
      else
        {
          afd_json_add_number (o, "iteration_time_s", t);
          afd_json_add_number (o, "tpot_s", t * tpot_per_s);
          /* The batch shrinks by the lost sequences: tokens per iteration with it. */
          double served = fr.config_lost > 0 ? tokens * (double) (self->batch - fr.config_lost)
                                                   / (double) self->batch
                                             : tokens;
          afd_json_add_number (o, "tokens_per_s", t > 0 ? served / t : 0);
          if (fr.config_lost > 0)
            afd_json_add_number (o, "lost_sequences", (double) fr.config_lost);
          /* t is one iteration (within the horizon); the run's clock must stay within it. */
          if (!afd_time_within_horizon (t)
              || afd_time_from_seconds (t) > AFD_TIME_HORIZON_NS - start_ns)
            {
              g_set_error (error, AFD_ERROR, AFD_ERROR_LIMIT,
                           "iteration %u (%g s) ends at %g s, beyond the simulated-time horizon ("
                           AFD_TIME_HORIZON_TEXT ")",
                           it, t, afd_time_to_seconds (start_ns) + t);
              cJSON_Delete (o);
              return FALSE;
            }
          start_ns += afd_time_from_seconds (t);
        }
      if (fault_time_s >= 0)
        afd_json_add_number (o, "fault_time_s", fault_time_s);
      cJSON_AddStringToObject (o, "note", note->str);
      cJSON_AddItemToArray (iters, o);
    }
  if (fr.failure == NULL && next < timed->len)
    {
      /* An explicit iteration count that ends before a @t fault strikes. */
      guint i = g_array_index (timed, guint, next);
      const AfdFault *f = self->faults->pdata[i];
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "fault '%s' strikes at %g s but the run ends at %g s (after %u iterations); "
                   "raise %s or leave it out (the default covers every fault)",
                   f->spec, afd_time_to_seconds (f->time_ns), afd_time_to_seconds (start_ns),
                   n_iter, self->path != NULL ? "iterations" : "--iterations");
      if (self->path != NULL)
        g_prefix_error (error, "faults[%u]: ", i);
      else
        g_prefix_error (error, "--fault: ");
      return FALSE;
    }
  if (!fr.traced && self->trace != NULL)
    {
      /* No faulted iteration completed: trace the healthy one, with every fault's marker. */
      g_autoptr (GArray) markers = g_array_new (FALSE, FALSE, sizeof (FaultMarker));
      for (guint i = 0; i < self->faults->len; i++)
        {
          const AfdFault *f = self->faults->pdata[i];
          if (!f->at_time)
            struck[i] = (FaultMarker) { f, 0, f->iteration };
          if (struck[i].fault != NULL)
            g_array_append_val (markers, struck[i]);
        }
      FaultHooks fx = { .trace = TRUE, .markers = markers };
      cJSON *r = afd_experiment_run_one (self, run, plugins, cluster, llm, costs, traces, &fx, NULL, error);
      if (r == NULL)
        return FALSE;
      cJSON_Delete (r);
    }
  return TRUE;
}
