/* SPDX-License-Identifier: MIT */
/*
 * fuzz-experiment.c - libFuzzer target for sim/experiment.c: afd_experiment_load on arbitrary
 * bytes written to a scratch file (loading only; running is the simulator's job).
 *
 * Rules checked: a refused file gives AFD_ERROR_CONFIG or _IO with one line naming the file;
 * a loaded experiment has at least one run, each with a non-empty UTF-8 strategy name and an
 * options object, a positive batch, a network of "analytic" or "flow", and frees cleanly.
 */
#include "sim/experiment.h"
#include "tests/fuzz/fuzz-common.h"

static const int codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("experiment.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) exp = afd_experiment_load (path, &error);
  if (exp == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (exp->runs != NULL && exp->runs->len >= 1, "no runs");
  fuzz_assert (exp->batch >= 1, "batch %" G_GUINT64_FORMAT, exp->batch);
  fuzz_assert (exp->network == AFD_NETWORK_ANALYTIC || exp->network == AFD_NETWORK_FLOW,
               "network %d", (int) exp->network);
  for (guint i = 0; i < exp->runs->len; i++)
    {
      const AfdExperimentRun *r = exp->runs->pdata[i];
      fuzz_assert (r->strategy && r->strategy[0] && g_utf8_validate (r->strategy, -1, NULL),
                   "run %u: bad strategy name", i);
      fuzz_assert (r->label != NULL && cJSON_IsObject (r->options), "run %u: no label/options", i);
    }
  return 0;
}
