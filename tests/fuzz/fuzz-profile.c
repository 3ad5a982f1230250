/* SPDX-License-Identifier: MIT */
/*
 * fuzz-profile.c - libFuzzer target for backends/profile.c: afd_profile_load on arbitrary
 * bytes written to a scratch file, then every lookup of a loaded profile.
 *
 * Rules checked: a refused file gives AFD_ERROR_CONFIG or _IO with one line naming the file;
 * every lookup on a loaded profile (GEMM, decode and prefill attention, memory copy, each
 * collective, at small, typical and huge sizes) either gives a finite time >= 0 or refuses
 * with AFD_ERROR_CONFIG - the interpolation never divides by zero into NaN or reads out of
 * its tables (ASan).
 */
#include <math.h>

#include "backends/profile.h"
#include "tests/fuzz/fuzz-common.h"

static const int codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };
static const int lookup_codes[] = { AFD_ERROR_CONFIG, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* Checks one lookup's outcome. */
static void
check_lookup (gboolean ok, double seconds, GError *error, const char *what)
{
  if (ok)
    fuzz_assert (isfinite (seconds) && seconds >= 0, "%s: time %g", what, seconds);
  else
    fuzz_check_error (error, NULL, lookup_codes);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("profile.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdProfile) prof = afd_profile_load (path, &error);
  if (prof == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (afd_profile_get_device_name (prof) != NULL, "no device name");
  static const double sizes[] = { 1.0, 4096.0, 1e6, 1e15 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      double x = sizes[i], s = -1;
      for (int d = 0; d < AFD_DTYPE_COUNT; d++)
        {
          g_autoptr (GError) e = NULL;
          s = -1;
          check_lookup (afd_profile_gemm_time (prof, (AfdDtype) d, x, 4096, 7168, &s, &e), s, e,
                        "gemm");
        }
      {
        g_autoptr (GError) e = NULL;
        s = -1;
        check_lookup (afd_profile_decode_attention_time (prof, 128, 1, 576, 512, x, 4096, 1, &s,
                                                         &e),
                      s, e, "decode attention (MLA)");
      }
      {
        g_autoptr (GError) e = NULL;
        s = -1;
        check_lookup (afd_profile_decode_attention_time (prof, 32, 8, 128, 128, 16, x, 2, &s, &e),
                      s, e, "decode attention (GQA)");
      }
      {
        g_autoptr (GError) e = NULL;
        s = -1;
        check_lookup (afd_profile_prefill_attention_time (prof, x * 1e6, &s, &e), s, e,
                      "prefill attention");
      }
      {
        g_autoptr (GError) e = NULL;
        s = -1;
        check_lookup (afd_profile_memory_time (prof, x, &s, &e), s, e, "memory");
      }
      static const char *const ops[] = { "all_reduce",  "all_gather", "reduce_scatter",
                                         "all_to_all", "broadcast",  "send_recv" };
      static const guint gpus[] = { 2, 8, 1000 };
      for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
        for (guint g = 0; g < G_N_ELEMENTS (gpus); g++)
          {
            g_autoptr (GError) e = NULL;
            s = -1;
            check_lookup (afd_profile_collective_time (prof, ops[o], gpus[g], x, &s, &e), s, e,
                          ops[o]);
          }
    }
  return 0;
}
