/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sweep.c - libFuzzer target for sim/sweep.c: sweep files (afd_sweep_load), axis values
 * typed on the command line (afd_sweep_add_axis) and resumed JSONL outputs (afd_sweep_resume).
 *
 * The first byte picks the mode; the rest is the input:
 *   0: an experiment file with a "sweep" block, through a scratch file;
 *   1: the value list of an axis ("1..64/8", "zipf:1.2,uniform") over one of a few keys;
 *   2: the JSONL output of a 6-point sweep (batch 1,2,3 x network analytic,flow), resumed.
 * Rules checked: refusals are AFD_ERROR_CONFIG/_IO (files, naming the file) or
 * AFD_ERROR_USAGE (axis text, naming the flag) with one valid UTF-8 line; a loaded sweep has
 * 1..AFD_SWEEP_MAX_POINTS points whose configurations are objects with 16-hex-digit ids; a
 * resume reports at most as many points done as the sweep has and leaves the file as that
 * many complete lines. Inputs with ranges of a million values or more are skipped (below).
 */
#include <glib/gstdio.h>

#include "models/registry.h"
#include "sim/json.h"
#include "sim/sweep.h"
#include "tests/fuzz/fuzz-common.h"

static const int file_codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };
static const int usage_codes[] = { AFD_ERROR_USAGE, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* Checks the point count and a few points' configurations and ids. */
static void
check_points (const AfdSweep *sweep)
{
  guint64 n = afd_sweep_point_count (sweep);
  fuzz_assert (n >= 1 && n <= AFD_SWEEP_MAX_POINTS, "%" G_GUINT64_FORMAT " points", n);
  guint64 picks[] = { 0, n / 2, n - 1 };
  for (guint i = 0; i < G_N_ELEMENTS (picks); i++)
    {
      g_autoptr (cJSON) config = afd_sweep_point_config (sweep, picks[i]);
      fuzz_assert (cJSON_IsObject (config), "point %" G_GUINT64_FORMAT ": no object", picks[i]);
      g_autofree char *id = afd_sweep_config_id (config);
      fuzz_assert (id != NULL && strlen (id) == 16 && strspn (id, "0123456789abcdef") == 16,
                   "bad id");
    }
}

/* TRUE when a number token of 6 or more characters, or in e-notation, touches ".." in @text. */
static gboolean
has_big_range (const char *text)
{
  for (const char *dots = strstr (text, ".."); dots != NULL; dots = strstr (dots + 2, ".."))
    {
      const char *a = dots, *b = dots + 2;
      while (a > text && (g_ascii_isalnum (a[-1]) || a[-1] == '+' || a[-1] == '-'))
        a--;
      while (g_ascii_isalnum (*b) || *b == '+' || *b == '-')
        b++;
      if (dots - a >= 6 || b - (dots + 2) >= 6 || memchr (a, 'e', (gsize) (b - a)) != NULL
          || memchr (a, 'E', (gsize) (b - a)) != NULL)
        return TRUE;
    }
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  /* Ranges such as "1..9000000" are valid (up to AFD_SWEEP_MAX_POINTS, beyond which they are
   * refused up front with an estimate: docs/reliability.md) and cost memory in proportion:
   * a resource question, not a parsing one, so big ranges are skipped here. */
  {
    g_autofree char *all = fuzz_text (data + 1, size - 1);
    if (has_big_range (all))
      return 0;
  }
  guint mode = data[0] % 3;
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdSweep) sweep = afd_sweep_new (afd_strategy_list ());
  if (mode == 0)
    {
      const char *path = fuzz_write_file ("sweep.json", data + 1, size - 1);
      if (!afd_sweep_load (sweep, path, &error))
        fuzz_check_error (error, path, file_codes);
      else
        check_points (sweep);
    }
  else if (mode == 1)
    {
      static const char *const keys[] = { "batch", "routing", "total_gpus", "ratio", "seed",
                                          "attn_gpus", "gpu.peak_flop_per_s.bf16" };
      const char *key = keys[(data[0] / 3) % G_N_ELEMENTS (keys)];
      g_autofree char *text = fuzz_text (data + 1, size - 1);
      if (!afd_sweep_add_axis (sweep, "--fuzz", key, text, &error))
        {
          if (fuzz_is_one_line (text))
            fuzz_check_error (error, "--fuzz", usage_codes);
        }
      else
        check_points (sweep);
    }
  else
    {
      g_assert (afd_sweep_add_axis (sweep, "--batch", "batch", "1,2,3", NULL));
      g_assert (afd_sweep_add_axis (sweep, "--network", "network", "analytic,flow", NULL));
      const char *path = fuzz_write_file ("sweep.jsonl", data + 1, size - 1);
      guint64 done = G_MAXUINT64;
      if (!afd_sweep_resume (sweep, path, &done, &error))
        fuzz_check_error (error, path, file_codes);
      else
        {
          fuzz_assert (done <= afd_sweep_point_count (sweep), "%" G_GUINT64_FORMAT " done", done);
          g_autofree char *left = NULL;
          gsize len = 0;
          fuzz_assert (g_file_get_contents (path, &left, &len, NULL), "output gone");
          guint64 lines = 0;
          for (gsize i = 0; i < len; i++)
            lines += left[i] == '\n';
          fuzz_assert (lines == done && (len == 0 || left[len - 1] == '\n'),
                       "%" G_GUINT64_FORMAT " lines left for %" G_GUINT64_FORMAT " done", lines,
                       done);
        }
    }
  return 0;
}
