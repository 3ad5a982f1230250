/* SPDX-License-Identifier: MIT */
/*
 * fuzz-routing.c - libFuzzer target for models/routing.c: afd_routing_new on arbitrary routing
 * specs ("zipf:S", "hot:K:F", ...) and on arbitrary "file:PATH" expert-count files.
 *
 * The first byte picks the mode and the expert count E (1..32) and top_k (1..E); the rest is
 * the spec text (even first byte) or the file content (odd). Rules checked: a refused spec is
 * AFD_ERROR_CONFIG or _IO with one valid UTF-8 line (naming the file in file mode); an
 * accepted one has probabilities that are finite, >= 0 and sum to 1, and sampling 64 tokens
 * gives exactly 64 * top_k token-expert pairs, as many over the physical slots. In file mode
 * the probabilities are the counts normalised without overflow (issue #14: 16 x 1e308 summed
 * to inf and gave a one-hot routing): p[e] / p[max] = count[e] / count[max].
 */
#include <math.h>

#include "models/routing.h"
#include "sim/json.h"
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
  if (size < 1)
    return 0;
  guint n_experts = 1 + (data[0] >> 1) % 32;
  guint top_k = 1 + (data[0] >> 6) % n_experts;
  gboolean file_mode = data[0] & 1;
  g_autofree char *spec = NULL;
  const char *path = NULL;
  if (file_mode)
    {
      path = fuzz_write_file ("routing.json", data + 1, size - 1);
      spec = g_strconcat ("file:", path, NULL);
    }
  else
    spec = fuzz_text (data + 1, size - 1);

  g_autoptr (GError) error = NULL;
  g_autoptr (AfdRouting) routing = afd_routing_new (spec, n_experts, top_k, &error);
  if (routing == NULL)
    {
      if (file_mode || fuzz_is_one_line (spec))
        fuzz_check_error (error, path, codes);
      return 0;
    }
  g_autofree double *p = g_new0 (double, n_experts);
  afd_routing_probabilities (routing, p);
  double sum = 0;
  for (guint e = 0; e < n_experts; e++)
    {
      fuzz_assert (isfinite (p[e]) && p[e] >= 0, "p[%u] = %g", e, p[e]);
      sum += p[e];
    }
  fuzz_assert (fabs (sum - 1.0) < 1e-9, "probabilities sum to %.17g", sum);
  if (file_mode)
    {
      /* The file was accepted: it holds {"expert_tokens": [E finite counts >= 0]}. */
      g_autofree char *text = g_strndup ((const char *) data + 1, size - 1);
      g_autoptr (cJSON) root = cJSON_Parse (text);
      const cJSON *arr = cJSON_GetObjectItemCaseSensitive (root, "expert_tokens");
      fuzz_assert (cJSON_GetArraySize (arr) == (int) n_experts, "accepted file has no counts");
      double max_count = 0, max_p = 0;
      for (guint e = 0; e < n_experts; e++)
        {
          max_count = MAX (max_count, cJSON_GetArrayItem (arr, (int) e)->valuedouble);
          max_p = MAX (max_p, p[e]);
        }
      for (guint e = 0; e < n_experts; e++)
        {
          double want = cJSON_GetArrayItem (arr, (int) e)->valuedouble / max_count;
          fuzz_assert (fabs (p[e] / max_p - want) <= 1e-9 * MAX (want, 1e-300) + 1e-300,
                       "expert %u: p / p_max = %.17g, count / count_max = %.17g", e,
                       p[e] / max_p, want);
        }
    }

  afd_routing_set_redundant (routing, data[0] % 3);
  g_autoptr (GRand) rng = g_rand_new_with_seed (42);
  AfdRoutingResult *r = afd_routing_sample (routing, rng, 64);
  fuzz_assert (r != NULL, "no sample");
  guint64 pairs = 0, slot_pairs = 0;
  for (guint e = 0; e < r->n_experts; e++)
    pairs += r->expert_tokens[e];
  for (guint s = 0; s < r->n_slots; s++)
    slot_pairs += r->slot_tokens[s];
  fuzz_assert (pairs == 64 * (guint64) top_k && slot_pairs == pairs,
               "%" G_GUINT64_FORMAT " pairs, %" G_GUINT64_FORMAT " over slots, expected %u",
               pairs, slot_pairs, 64 * top_k);
  afd_routing_result_free (r);
  return 0;
}
