/* SPDX-License-Identifier: MIT */
/*
 * fuzz-roofline-hardware.c - libFuzzer target for the roofline hardware file reader
 * (load_hardware in cli/cmd-roofline.c, `afdsim roofline --hardware FILE`).
 *
 * The reader is static, so this file includes cli/cmd-roofline.c (tests may include
 * everything). Rules checked: a refused file gives AFD_ERROR_TOPOLOGY, _CONFIG or _IO with one
 * line naming the file; an accepted one has at least one entry, each with a GPU name, positive
 * finite bandwidths, a non-negative peak and 1..100000 GPUs per node, and no GPU twice.
 */
#include "cli/cmd-roofline.c"

#include <math.h>

#include "tests/fuzz/fuzz-common.h"

static const int codes[] = { AFD_ERROR_TOPOLOGY, AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

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
  const char *path = fuzz_write_file ("roofline-hardware.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = load_hardware (path, &error);
  if (entries == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (entries->len >= 1, "empty list accepted");
  for (guint i = 0; i < entries->len; i++)
    {
      const HwEntry *e = entries->pdata[i];
      fuzz_assert (e->gpu && e->gpu[0] && g_utf8_validate (e->gpu, -1, NULL), "bad gpu name");
      fuzz_assert (isfinite (e->scale_up_bytes_per_s) && e->scale_up_bytes_per_s > 0
                     && isfinite (e->scale_out_bytes_per_s) && e->scale_out_bytes_per_s > 0,
                   "bandwidth not positive");
      fuzz_assert (isfinite (e->peak_flop_per_s) && e->peak_flop_per_s >= 0, "negative peak");
      fuzz_assert (e->gpus_per_node >= 1 && e->gpus_per_node <= 100000, "gpus_per_node");
      fuzz_assert (find_hardware (entries, e->gpu) == e, "GPU %s listed twice", e->gpu);
    }
  return 0;
}
